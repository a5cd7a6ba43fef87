//! The register on a pty, opened from the test as a serial port (blocking `serialport`,
//! on a blocking thread), including closing and reopening the path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use emulator::link::standard::{frame, ACK, ENQ, NAK};
use emulator::{Emulator, EmulatorConfig};

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];

fn open(path: &Path) -> Box<dyn serialport::SerialPort> {
    serialport::new(path.to_string_lossy(), 115_200)
        .timeout(Duration::from_secs(10))
        .open()
        .unwrap()
}

fn read_n(port: &mut dyn serialport::SerialPort, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    port.read_exact(&mut buf).unwrap();
    buf
}

/// ENQ/NAK, then a short status; returns the answer message.
fn status(path: PathBuf) -> Vec<u8> {
    let mut port = open(&path);
    port.write_all(&[ENQ]).unwrap();
    assert_eq!(read_n(port.as_mut(), 1), [NAK]);
    port.write_all(&frame(&STATUS)).unwrap();
    assert_eq!(read_n(port.as_mut(), 1), [ACK]);
    let head = read_n(port.as_mut(), 2);
    assert_eq!(head[0], 0x02);
    let rest = read_n(port.as_mut(), usize::from(head[1]) + 1);
    port.write_all(&[ACK]).unwrap();
    let wire = [head, rest].concat();
    let msg = wire[2..wire.len() - 1].to_vec();
    assert_eq!(frame(&msg), wire, "LRC");
    msg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_over_the_pty_through_a_stable_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("tty-register");
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let pty = emu.serve_pty(Some(&link)).unwrap();
    assert!(
        pty.slave_path.starts_with("/dev/"),
        "{}",
        pty.slave_path.display()
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path);
    assert_eq!(pty.path(), link);

    let answer = tokio::task::spawn_blocking(move || status(link))
        .await
        .unwrap();
    assert_eq!(&answer[..2], [0x10, 0x00]);
    assert_eq!(emu.counters().frames_executed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_path_can_be_opened_and_closed_again_and_again() {
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let pty = emu.serve_pty(None).unwrap();
    let path = pty.slave_path.clone();
    for round in 1..=3 {
        let p = path.clone();
        let answer = tokio::task::spawn_blocking(move || status(p))
            .await
            .unwrap();
        assert_eq!(answer[0], 0x10, "round {round}");
        assert_eq!(emu.counters().frames_executed, round);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_removes_the_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("tty");
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let pty = emu.serve_pty(Some(&link)).unwrap();
    assert!(link.exists());
    drop(pty);
    assert!(std::fs::symlink_metadata(&link).is_err());
}
