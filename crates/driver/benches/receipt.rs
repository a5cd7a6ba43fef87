//! Receipts per second, bytes and round trips per three-item receipt: the driver against the
//! emulator with no device delay, in memory and over a pty. `cargo bench -p driver`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use driver::bench::{bench, BenchPlan};
use driver::{Baud, LinkLayerChoice, Register, RegisterOptions, Transport};
use emulator::{Emulator, EmulatorConfig, LinkChoice};

fn options(link: LinkLayerChoice) -> RegisterOptions {
    RegisterOptions {
        link,
        print_poll_first: Duration::from_millis(1),
        ..RegisterOptions::default()
    }
}

async fn run(name: &str, transport: Transport, link: LinkLayerChoice, receipts: u64) {
    let mut r = Register::connect(transport, options(link))
        .await
        .expect("connect");
    for worker_steps in [false, true] {
        let report = bench(
            &mut r,
            BenchPlan {
                receipts,
                worker_steps,
            },
        )
        .await
        .expect("bench");
        let label = if worker_steps {
            "with status+snapshot"
        } else {
            "fiscalize only"
        };
        println!("{name:<22} {label:<21} {report}");
    }
}

#[tokio::main]
async fn main() {
    let receipts: u64 = std::env::var("BENCH_RECEIPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for (link, device, label) in [
        (LinkLayerChoice::Standard, LinkChoice::Standard, "standard"),
        (LinkLayerChoice::V2, LinkChoice::Auto, "protocol 2.0"),
    ] {
        let emu = Emulator::new(EmulatorConfig {
            link: device,
            ..EmulatorConfig::default()
        })
        .expect("emulator");
        run(
            &format!("in-memory {label}"),
            Transport::Stream(Box::new(emu.in_memory())),
            link,
            receipts,
        )
        .await;
        let emu = Emulator::new(EmulatorConfig {
            link: device,
            ..EmulatorConfig::default()
        })
        .expect("emulator");
        let pty = emu.serve_pty(None).expect("pty");
        let transport = Transport::Serial {
            path: pty.path().to_path_buf(),
            baud: Baud::Fixed(115_200),
        };
        run(&format!("pty {label}"), transport, link, receipts).await;
    }
}
