//! Our driver beside pyshtrih 2.0.6 (a third-party Python client of the same protocol), both
//! making the three-item receipt of `driver::bench::sample_receipt` on the same virtual
//! register: `fiscal-gateway emulator --pty` as its own process, standard link layer, no
//! device delay, state in memory (no state file, so the fsync of each state-changing command
//! does not blur the clients' figures with the disk's).
//!
//! Wall time per receipt is measured by each client; bytes on the wire and round trips (ENQs
//! and frames the host sent, each waiting for a reply) come from the register's own counters,
//! read over its control socket before and after the timed receipts, so neither client is
//! trusted to count. pyshtrih runs twice: as shipped (it pauses 10 ms before each printer
//! poll) and with that pause set to zero.
//!
//! Needs the virtualenv of `scripts/install-test-deps` (`target/test-venv`), or
//! `PYSHTRIH_PYTHON` naming a Python with pyshtrih; without one it says so and stops.
//! `cargo bench -p fiscal-gateway --bench pyshtrih`; `BENCH_RECEIPTS` (default 200).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use driver::{Baud, LinkLayerChoice, Readiness, Register, RegisterOptions, Transport, WireStats};
use serde_json::Value;

/// The virtual register as its own process, stopped when dropped.
struct Emulator {
    child: Child,
    tty: PathBuf,
    control: PathBuf,
}

impl Emulator {
    fn start(dir: &Path) -> Emulator {
        let tty = dir.join("tty");
        let control = dir.join("control.sock");
        let log = std::fs::File::create(dir.join("emulator.log")).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fiscal-gateway"))
            .arg("emulator")
            .arg("--pty")
            .arg("--link")
            .arg(&tty)
            .arg("--control")
            .arg(&control)
            .arg("--link-layer")
            .arg("standard")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn fiscal-gateway emulator");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("the emulator announces its pty");
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Emulator {
            child,
            tty,
            control,
        }
    }

    /// The register's counters since its start (`status` on the control socket).
    fn counters(&self) -> Counters {
        let mut s = UnixStream::connect(&self.control).expect("control socket");
        s.write_all(b"status\n").expect("control write");
        s.shutdown(std::net::Shutdown::Write)
            .expect("control shutdown");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("control read");
        let status: Value = serde_json::from_str(out.trim()).expect("status JSON");
        Counters::from_json(&status["counters"])
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        common::stop(&mut self.child);
    }
}

/// What the register counted, or the difference of two readings.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    bytes_in: u64,
    bytes_out: u64,
    frames_received: u64,
    enqs_received: u64,
    frames_executed: u64,
}

impl Counters {
    fn from_json(v: &Value) -> Counters {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        Counters {
            bytes_in: n("bytes_in"),
            bytes_out: n("bytes_out"),
            frames_received: n("frames_received"),
            enqs_received: n("enqs_received"),
            frames_executed: n("frames_executed"),
        }
    }

    fn since(self, before: Counters) -> Counters {
        Counters {
            bytes_in: self.bytes_in - before.bytes_in,
            bytes_out: self.bytes_out - before.bytes_out,
            frames_received: self.frames_received - before.frames_received,
            enqs_received: self.enqs_received - before.enqs_received,
            frames_executed: self.frames_executed - before.frames_executed,
        }
    }
}

/// One client's figures per receipt.
struct Row {
    name: String,
    median: Duration,
    mean: Duration,
    bytes: f64,
    round_trips: f64,
    commands: f64,
}

impl Row {
    fn new(name: &str, median: Duration, total: Duration, c: Counters, receipts: u64) -> Row {
        let n = receipts.max(1) as f64;
        Row {
            name: name.to_string(),
            median,
            mean: total.div_f64(n),
            bytes: (c.bytes_in + c.bytes_out) as f64 / n,
            round_trips: (c.frames_received + c.enqs_received) as f64 / n,
            commands: c.frames_executed as f64 / n,
        }
    }

    fn print(&self) {
        println!(
            "{:<34} {:>9.2} {:>9.2} {:>8.0} {:>8.1} {:>8.1}",
            self.name,
            self.median.as_secs_f64() * 1e3,
            self.mean.as_secs_f64() * 1e3,
            self.bytes,
            self.round_trips,
            self.commands
        );
    }

    fn ratio(&self, ours: &Row) {
        println!(
            "{:<34} {:>9.2} {:>9.2} {:>8.2} {:>8.2} {:>8.2}",
            format!("  ours / {}", self.name),
            ours.median.as_secs_f64() / self.median.as_secs_f64(),
            ours.mean.as_secs_f64() / self.mean.as_secs_f64(),
            ours.bytes / self.bytes,
            ours.round_trips / self.round_trips,
            ours.commands / self.commands
        );
    }
}

fn python() -> Option<PathBuf> {
    let python = std::env::var_os("PYSHTRIH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python")
        });
    let ok = Command::new(&python)
        .args(["-c", "import pyshtrih"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

/// Our driver: `receipts` receipts over the pty, after one warm-up receipt.
async fn ours(emu: &Emulator, receipts: u64) -> (Row, WireStats) {
    let options = RegisterOptions {
        link: LinkLayerChoice::Standard,
        ..RegisterOptions::default()
    };
    let transport = Transport::Serial {
        path: emu.tty.clone(),
        baud: Baud::Fixed(115_200),
    };
    let mut r = Register::connect(transport, options)
        .await
        .expect("connect");
    let (receipt, taxes, cashier) = common::sample();
    if !matches!(
        r.status().await.expect("status").readiness,
        Readiness::Ready
    ) {
        r.open_shift(&cashier).await.expect("open shift");
    }
    r.fiscalize(&receipt, &taxes, Some(&cashier))
        .await
        .expect("warm-up receipt");
    let before = emu.counters();
    let wire_before = r.wire_stats();
    let mut times = Vec::with_capacity(receipts as usize);
    let started = Instant::now();
    for _ in 0..receipts {
        let t = Instant::now();
        r.fiscalize(&receipt, &taxes, Some(&cashier))
            .await
            .expect("fiscalize");
        times.push(t.elapsed());
    }
    let total = started.elapsed();
    let counted = emu.counters().since(before);
    let wire_after = r.wire_stats();
    times.sort();
    let median = times[times.len() / 2];
    let wire = WireStats {
        bytes_out: wire_after.bytes_out - wire_before.bytes_out,
        bytes_in: wire_after.bytes_in - wire_before.bytes_in,
        round_trips: wire_after.round_trips - wire_before.round_trips,
        commands: wire_after.commands - wire_before.commands,
    };
    (
        Row::new("ours (driver, fiscalize)", median, total, counted, receipts),
        wire,
    )
}

/// pyshtrih through `scripts/bench-pyshtrih.py`; `wait_time` replaces its printer-poll pause.
fn theirs(python: &Path, emu: &Emulator, receipts: u64, wait_time: Option<&str>) -> Row {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench-pyshtrih.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .arg(&emu.tty)
        .arg(&emu.control)
        .arg(receipts.to_string());
    if let Some(w) = wait_time {
        cmd.arg(w);
    }
    let out = cmd.output().expect("run bench-pyshtrih.py");
    assert!(
        out.status.success(),
        "bench-pyshtrih.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("script JSON");
    let secs = |k: &str| Duration::from_secs_f64(v[k].as_f64().unwrap_or(0.0));
    let pause = v["wait_time"].as_f64().unwrap_or(0.0) * 1e3;
    Row::new(
        &format!("pyshtrih 2.0.6, pause {pause} ms"),
        secs("median_seconds"),
        secs("seconds"),
        Counters::from_json(&v["counters"]),
        receipts,
    )
}

#[tokio::main]
async fn main() {
    let receipts: u64 = std::env::var("BENCH_RECEIPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let Some(python) = python() else {
        println!(
            "pyshtrih comparison skipped: no Python with pyshtrih (run scripts/install-test-deps \
             or set PYSHTRIH_PYTHON)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let emu = Emulator::start(dir.path());
    let (ours, wire) = ours(&emu, receipts).await;
    let shipped = theirs(&python, &emu, receipts, None);
    let no_pause = theirs(&python, &emu, receipts, Some("0"));

    println!(
        "three-item receipt on `fiscal-gateway emulator --pty` (standard link, 115200, no device delay), \
         {receipts} receipts each, {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:<34} {:>9} {:>9} {:>8} {:>8} {:>8}",
        "per receipt", "median ms", "mean ms", "bytes", "rtrips", "commands"
    );
    ours.print();
    shipped.print();
    no_pause.print();
    shipped.ratio(&ours);
    no_pause.ratio(&ours);
    let n = receipts.max(1) as f64;
    println!(
        "driver's own count: {:.0} bytes, {:.1} round trips, {:.1} commands per receipt",
        (wire.bytes_in + wire.bytes_out) as f64 / n,
        wire.round_trips as f64 / n,
        wire.commands as f64 / n
    );
}
