//! The emulator as the command line runs it: pty with a stable symlink, control socket,
//! state file, and a clean stop that removes what it created.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use emulator::cli::{serve, EmulatorArgs};
use emulator::link::standard::{frame, ACK, ENQ, NAK};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
}

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];
const LIMIT: Duration = Duration::from_secs(30);

fn exchange(tty: PathBuf) -> Vec<u8> {
    let mut port = serialport::new(tty.to_string_lossy(), 115_200)
        .timeout(LIMIT)
        .open()
        .unwrap();
    port.write_all(&[ENQ]).unwrap();
    let mut one = [0u8; 1];
    port.read_exact(&mut one).unwrap();
    assert_eq!(one, [NAK]);
    port.write_all(&frame(&STATUS)).unwrap();
    port.read_exact(&mut one).unwrap();
    assert_eq!(one, [ACK]);
    let mut head = [0u8; 2];
    port.read_exact(&mut head).unwrap();
    let mut rest = vec![0; usize::from(head[1]) + 1];
    port.read_exact(&mut rest).unwrap();
    port.write_all(&[ACK]).unwrap();
    rest[..rest.len() - 1].to_vec()
}

fn control(path: &std::path::Path, line: &str) -> String {
    let mut s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pty_control_and_state_then_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let tty = dir.path().join("tty-register");
    let sock = dir.path().join("register.sock");
    let state = dir.path().join("state.json");
    let cli = Cli::try_parse_from([
        "emulator".as_ref(),
        "--pty".as_ref(),
        "--link".as_ref(),
        tty.as_os_str(),
        "--control".as_ref(),
        sock.as_os_str(),
        "--state".as_ref(),
        state.as_os_str(),
        "--tcp".as_ref(),
        "127.0.0.1:0".as_ref(),
    ])
    .unwrap();
    let (announced_tx, announced) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(serve(
        cli.args,
        move |lines: &[String]| {
            let _ = announced_tx.send(lines.to_vec());
            Ok(())
        },
        async move {
            let _ = stopped.await;
        },
    ));
    let lines = tokio::time::timeout(LIMIT, announced)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        tty.display().to_string(),
        "the pty comes first, by its stable name"
    );
    assert!(
        lines[1].starts_with("127.0.0.1:") && !lines[1].ends_with(":0"),
        "{}",
        lines[1]
    );

    let answer = tokio::task::spawn_blocking({
        let tty = tty.clone();
        move || exchange(tty)
    })
    .await
    .unwrap();
    assert_eq!(&answer[..2], [0x10, 0x00]);

    let status = tokio::task::spawn_blocking({
        let sock = sock.clone();
        move || control(&sock, "status")
    })
    .await
    .unwrap();
    let status: serde_json::Value = serde_json::from_str(status.trim()).unwrap();
    assert_eq!(status["counters"]["frames_executed"], 1);
    assert_eq!(status["link_layer"], "standard");

    stop.send(()).unwrap();
    tokio::time::timeout(LIMIT, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(std::fs::symlink_metadata(&tty).is_err(), "symlink removed");
    assert!(!sock.exists(), "control socket removed");
    assert!(state.exists(), "the device state stays on disk");
}
