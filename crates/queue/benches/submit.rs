//! Durable submit throughput and latency at 1, 16 and 64 concurrent submitters beside raw
//! sled insert + flush + fdatasync, then start-up time and memory of a store holding many
//! operations (measured in a fresh child process).
//!
//! Environment: `QUEUE_BENCH_SUBMITS` (default 2000 per level), `QUEUE_BENCH_STORED`
//! (default 1000000), `QUEUE_BENCH_DIR` (default: a temporary directory).

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    // Child mode: only open the populated store and report.
    if let Ok(dir) = std::env::var("QUEUE_BENCH_STARTUP_CHILD") {
        return match queue::bench::measure_startup(&PathBuf::from(dir)) {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("start-up measurement failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let temp;
    let dir = match std::env::var("QUEUE_BENCH_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => match tempfile::tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("no temporary directory: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let submits = env_u64("QUEUE_BENCH_SUBMITS", 2000) as usize;
    let stored = env_u64("QUEUE_BENCH_STORED", 1_000_000);
    println!("queue benchmark in {}", dir.display());
    match runtime.block_on(queue::bench::bench_report(
        &dir.join("submit"),
        &[1, 16, 64],
        submits,
    )) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("submit benchmark failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let store_dir = dir.join("stored");
    let t = Instant::now();
    if let Err(e) = runtime.block_on(queue::bench::populate(&store_dir, stored)) {
        eprintln!("populating {stored} operations failed: {e}");
        return ExitCode::FAILURE;
    }
    println!("populated {stored} operations in {:.1?}", t.elapsed());
    let du = Command::new("du").arg("-sh").arg(&store_dir).output();
    if let Ok(out) = du {
        print!("store size: {}", String::from_utf8_lossy(&out.stdout));
    }
    let child = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .env("QUEUE_BENCH_STARTUP_CHILD", &store_dir)
            .output()
    });
    match child {
        Ok(out) if out.status.success() => {
            print!(
                "start-up with {stored} stored: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            ExitCode::SUCCESS
        }
        Ok(out) => {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot run the start-up child: {e}");
            ExitCode::FAILURE
        }
    }
}
