//! A noisy line: 1 % of the bytes corrupted and 1 % dropped in each direction (seeded).
//! 500 receipts, driven exactly as the worker drives them (reconcile after an unknown
//! outcome, redo only on NotDone), give exactly 500 receipts in the FN with the right totals
//! and no duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use driver::{
    Intent, LinkLayerChoice, NotReadyReason, Readiness, Register, RegisterError, Verdict,
};
use emulator::{Emulator, EmulatorConfig, LineFaults, LinkChoice, LinkTiming};
use fiscal_model::{Completion, FiscalResult, Receipt, TaxGroupMap};

use common::{archived_receipts, cashier, fast_options, receipt};

/// Outcomes seen on the way, for the assertion messages.
#[derive(Debug, Default)]
struct Seen {
    unknown: u32,
    redone: u32,
    link_errors: u32,
    refused: u32,
}

/// One receipt, the worker's way: ready, snapshot, fiscalize; settle an unknown outcome.
async fn fiscalize_once(r: &mut Register, receipt: &Receipt, seen: &mut Seen) -> FiscalResult {
    let intent = Intent::Receipt {
        receipt_type: receipt.receipt_type,
        total: receipt.total,
    };
    for _ in 0..200 {
        match r.status().await {
            Ok(s) => match s.readiness {
                Readiness::Ready => {}
                Readiness::NotReady(NotReadyReason::ReceiptOpen) => {
                    let _ = r.cancel_receipt().await;
                    continue;
                }
                Readiness::NotReady(NotReadyReason::Printing) => {
                    let _ = r.wait_printed().await;
                    continue;
                }
                Readiness::NotReady(other) => panic!("register not ready: {other:?}"),
            },
            Err(_) => {
                seen.link_errors += 1;
                continue;
            }
        }
        let Ok(snapshot) = r.snapshot().await else {
            seen.link_errors += 1;
            continue;
        };
        match r.fiscalize(receipt, &TaxGroupMap::default(), None).await {
            Ok(fiscal) => return fiscal,
            // A refusal is settled like an unknown outcome, as the worker does: it may come
            // after a command that made a document (and a frame damaged so that its LRC still
            // matched, §2.2, can be refused).
            Err(e @ (RegisterError::Unknown(_) | RegisterError::Refused(_))) => {
                if std::env::var_os("LOSSY_PROGRESS").is_some() {
                    eprintln!("unknown or refused: {e}");
                }
                match e {
                    RegisterError::Refused(_) => seen.refused += 1,
                    _ => seen.unknown += 1,
                }
                loop {
                    match r.reconcile(&snapshot, &intent).await {
                        Ok(Verdict::Done(Completion::Receipt(fiscal))) => return fiscal,
                        Ok(Verdict::NotDone) => {
                            seen.redone += 1;
                            break;
                        }
                        Ok(other) => panic!("reconcile: {other:?}"),
                        // Reconcile only reads (and cancels): asking again is safe.
                        Err(_) => seen.link_errors += 1,
                    }
                }
            }
            Err(e @ (RegisterError::Link(_) | RegisterError::NotReady(_))) => {
                if std::env::var_os("LOSSY_PROGRESS").is_some() {
                    eprintln!("link: {e}");
                }
                seen.link_errors += 1
            }
            // The register counted another subtotal (an item damaged so that its LRC still
            // matched): nothing was fiscalized, the receipt was cancelled.
            Err(RegisterError::Rejected(why)) => {
                if std::env::var_os("LOSSY_PROGRESS").is_some() {
                    eprintln!("rejected: {why}");
                }
                seen.refused += 1
            }
        }
    }
    panic!("receipt {} never got through: {seen:?}", receipt.total);
}

async fn lossy(link: LinkLayerChoice, device: LinkChoice, receipts: u64) {
    let emu = Emulator::new(EmulatorConfig {
        link: device,
        timing: LinkTiming {
            t_byte: Duration::from_millis(10),
            ack_wait: Duration::from_millis(60),
        },
        seed: 20261123,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let mut options = fast_options(link);
    options.link_config.t_ctrl = Duration::from_millis(15);
    options.link_config.t_byte = Duration::from_millis(10);
    options.answer_timeout_cap = Some(Duration::from_millis(60));
    options.link_config.n_send = 100;
    options.link_config.n_enq = 100;
    options.link_config.n_reread = 100;
    options.link_config.recover_window = Duration::from_secs(2);
    let mut r = Register::connect(
        driver::Transport::Stream(Box::new(emu.in_memory())),
        options,
    )
    .await
    .unwrap();
    r.open_shift(&cashier()).await.unwrap();
    emu.set_line_faults(LineFaults::with_noise(0.01, 0.01));

    let mut seen = Seen::default();
    let started = std::time::Instant::now();
    let mut fds = Vec::new();
    for i in 0..receipts {
        let fiscal = fiscalize_once(&mut r, &receipt(i), &mut seen).await;
        fds.push(fiscal.fd_number);
        if std::env::var_os("LOSSY_PROGRESS").is_some() && i % 10 == 0 {
            eprintln!("{i} {:?} {seen:?}", started.elapsed());
        }
    }
    emu.set_line_faults(LineFaults::default());

    let archived = archived_receipts(&emu);
    assert_eq!(archived.len() as u64, receipts, "{seen:?}");
    for (i, doc) in archived.iter().enumerate() {
        assert_eq!(
            doc.total,
            receipt(i as u64).total.0,
            "receipt {i}: {seen:?}"
        );
    }
    let mut unique = fds.clone();
    unique.dedup();
    assert_eq!(unique.len(), fds.len(), "an FD was reported twice");
    assert_eq!(
        fds,
        archived.iter().map(|d| d.fd).collect::<Vec<_>>(),
        "reported FDs are the archive's"
    );
    eprintln!("{receipts} receipts over a lossy line: {seen:?}");
}

#[tokio::test]
async fn five_hundred_receipts_over_a_lossy_standard_line() {
    lossy(
        LinkLayerChoice::Standard,
        LinkChoice::Standard,
        receipts_from_env(500),
    )
    .await;
}

#[tokio::test]
async fn receipts_over_a_lossy_protocol_v2_line() {
    lossy(
        LinkLayerChoice::V2,
        LinkChoice::Auto,
        receipts_from_env(100),
    )
    .await;
}

/// `LOSSY_RECEIPTS` overrides the count (for a quick look); the default is the contract's.
fn receipts_from_env(default: u64) -> u64 {
    std::env::var("LOSSY_RECEIPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
