//! The control channel: line commands over a unix socket change faults and report state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use emulator::device::PaperState;
use emulator::{ControlCommand, CutPoint, Emulator, EmulatorConfig, PowerCut};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

#[test]
fn lines_parse_into_commands() {
    let p = |s: &str| s.parse::<ControlCommand>();
    assert_eq!(p("cover open"), Ok(ControlCommand::Cover(true)));
    assert_eq!(
        p("paper out-after 3"),
        Ok(ControlCommand::Paper(PaperState::OutAfterLines(3)))
    );
    assert_eq!(
        p("power-cut mid-answer FF46"),
        Ok(ControlCommand::PowerCut(PowerCut::on(
            CutPoint::MidAnswer,
            0xFF46
        )))
    );
    assert_eq!(
        p("power-cut after-commit"),
        Ok(ControlCommand::PowerCut(PowerCut::next_command(
            CutPoint::AfterCommit
        )))
    );
    assert_eq!(
        p("delay 250"),
        Ok(ControlCommand::Delay(Duration::from_millis(250)))
    );
    assert_eq!(p("clock-offset -90"), Ok(ControlCommand::ClockOffset(-90)));
    assert_eq!(
        p("power-cut after-commit 50 stay-off"),
        Ok(ControlCommand::PowerCut(PowerCut {
            stay_off: true,
            ..PowerCut::on(CutPoint::AfterCommit, 0x50)
        }))
    );
    assert_eq!(p("power off"), Ok(ControlCommand::Power(false)));
    assert_eq!(p("keyboard z-report"), Ok(ControlCommand::KeyboardZReport));
    assert_eq!(
        p("drop-next-ack FF45"),
        Ok(ControlCommand::DropNextAck(0xFF45))
    );
    assert_eq!(p("drop-next-ack 50"), Ok(ControlCommand::DropNextAck(0x50)));
    assert!(p("drop-next-ack").is_err());
    assert!(p("drop-next-ack 50 51").is_err());
    assert!(p("drop-next-ack XYZ").is_err());
    assert!(p("power-cut after-commit 50 later").is_err());
    assert!(p("power sideways").is_err());
    assert!(p("power-cut sometime").is_err());
    assert!(p("power-cut before-execution XYZ").is_err());
    assert!(p("noise 2 0").is_err());
    assert!(p("launch rockets").is_err());
}

#[tokio::test]
async fn commands_over_the_socket_change_the_register() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.sock");
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let _control = emu.serve_control(&path).unwrap();

    let stream = UnixStream::connect(&path).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut replies = BufReader::new(rd).lines();
    let mut ask = async |line: &str| {
        wr.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), replies.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    assert_eq!(ask("cover open").await, "ok");
    assert_eq!(ask("power-cut before-execution 50").await, "ok");
    assert_eq!(ask("noise 0.01 0.02").await, "ok");
    assert_eq!(ask("drop-next-ack FF45").await, "ok");
    assert!(ask("bogus").await.starts_with("error: "));
    let status: serde_json::Value = serde_json::from_str(&ask("status").await).unwrap();
    assert_eq!(status["armed_power_cut"]["point"], "before-execution");
    assert_eq!(status["armed_power_cut"]["command"], 0x50);
    assert_eq!(status["line_faults"]["to_device"]["drop"], 0.02);
    assert_eq!(status["armed_drop_ack"], 0xFF45);
    assert_eq!(status["cash_in_count"], 0);
    assert_eq!(
        status["flags"].as_u64().unwrap() & (1 << 10),
        1 << 10,
        "cover flag (§6.3)"
    );
    assert!(emu.with_device(|d| d.faults().cover_open));
    assert_eq!(
        emu.armed_power_cut(),
        Some(PowerCut::on(CutPoint::BeforeExecution, 0x50))
    );
    assert_eq!(emu.armed_drop_ack(), Some(0xFF45));
}

#[tokio::test]
async fn archive_lists_fn_documents_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.sock");
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let _control = emu.serve_control(&path).unwrap();
    let mut stream = UnixStream::connect(&path).await.unwrap();
    stream.write_all(b"archive\n").await.unwrap();
    stream.shutdown().await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    let mut docs = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with('{') {
            docs.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
        }
    }
    assert_eq!(docs.len(), emu.archive().len());
    assert!(
        !docs.is_empty(),
        "a registered FN holds at least its registration report"
    );
    assert_eq!(docs[0]["doc_type"], 1);
    assert_eq!(docs[0]["fd"], 1);
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: emulator::cli::EmulatorArgs,
}

#[test]
fn the_command_line_parses_as_the_end_to_end_tests_use_it() {
    use clap::Parser;
    let cli = Cli::try_parse_from([
        "emulator",
        "--pty",
        "--link",
        "/tmp/tty",
        "--state",
        "/tmp/s.json",
        "--control",
        "/tmp/c.sock",
        "--link-layer",
        "v2",
        "--noise-drop",
        "0.1",
    ])
    .unwrap();
    assert!(cli.args.pty);
    assert_eq!(
        cli.args.link_path.as_deref(),
        Some(std::path::Path::new("/tmp/tty"))
    );
    assert_eq!(cli.args.link_layer, emulator::LinkChoice::V2);
    assert_eq!(cli.args.noise_drop, 0.1);
    assert!(Cli::try_parse_from(["emulator", "--link-layer", "carrier-pigeon"]).is_err());
}

#[test]
fn device_faults_and_line_faults_follow_control_lines() {
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    assert_eq!(emu.control_line("paper out-after 3"), "ok");
    assert_eq!(emu.control_line("clock-offset 1500"), "ok");
    assert_eq!(emu.control_line("print-time 5"), "ok");
    assert_eq!(emu.control_line("delay 40"), "ok");
    assert_eq!(emu.control_line("ff-after-ack on"), "ok");
    emu.with_device(|d| {
        let f = d.faults();
        assert_eq!(f.paper, PaperState::OutAfterLines(3));
        assert_eq!(f.clock_offset, chrono::Duration::minutes(1500));
        assert_eq!(f.print_time_per_line, chrono::Duration::milliseconds(5));
    });
    let line = emu.line_faults();
    assert_eq!(line.answer_delay, Duration::from_millis(40));
    assert!(line.ff_after_ack);
    assert_eq!(emu.control_line("power-cycle"), "ok");
    assert_eq!(emu.counters().power_cycles, 1);
    assert!(emu
        .control_line("paper sideways")
        .starts_with("error: usage"));
}

#[test]
fn the_handle_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Emulator>();
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let other = emu.clone();
    std::thread::spawn(move || other.set_cover_open(true))
        .join()
        .unwrap();
    assert!(
        emu.with_device(|d| d.faults().cover_open),
        "clones are the same register"
    );
}
