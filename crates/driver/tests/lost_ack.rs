//! A lost acknowledgement on every command that makes a document or moves money (FF45, FF46,
//! 0x50, 0x51, 0xE0, 0x41), on both link layers: the register executes the command but the ACK
//! it sends for the frame is lost on the line (protocol 2.0: its answer packet), alone or
//! followed by a power cut after the commit that takes the retained answer too.
//!
//! Alone, the answer still reaches the host (it follows the lost ACK, or a 2.0 ping brings it
//! back). With the power cut the host saw nothing at all after its frame, then an idle device:
//! what §2.7 row 3 calls "not executed". The driver must answer `Unknown`, never send the
//! command again (never `Refused`, never a second document), and `reconcile` must read the
//! truth from the register. The emulator counts executions per command code, so a resent copy
//! shows even when the device refused it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Debug;

use driver::{Intent, LinkLayerChoice, Readiness, Register, RegisterError, Verdict};
use emulator::{CutPoint, Emulator, LinkChoice, PowerCut};
use fiscal_model::{CashMovement, CashMovementKind, Completion, Kopecks, TaxGroupMap};

use common::{archived_receipts, cashier, connect, emulator, receipt};

/// The faults armed on the command under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `drop-next-ack CODE`.
    AckLost,
    /// `drop-next-ack CODE` and `power-cut after-commit CODE`.
    AckLostThenPowerCut,
}

const FAULTS: [Fault; 2] = [Fault::AckLost, Fault::AckLostThenPowerCut];

/// The host's link layer and the emulator's.
const LINKS: [(LinkLayerChoice, LinkChoice); 2] = [
    (LinkLayerChoice::Standard, LinkChoice::Standard),
    (LinkLayerChoice::V2, LinkChoice::Auto),
];

/// FN form codes (§8.2).
const DOC_OPEN_SHIFT: u8 = 2;
const DOC_CLOSE_SHIFT: u8 = 5;

/// Receipt items of `common::receipt`: one FF46 each.
const ITEMS: u64 = 3;

fn arm(emu: &Emulator, code: u16, fault: Fault) {
    emu.arm_drop_next_ack(code);
    if fault == Fault::AckLostThenPowerCut {
        emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, code));
    }
}

/// The faults struck, and the call ended as it must: with the answer when only the ACK was
/// lost, `Unknown` when the answer died with the power.
fn check_outcome<T: Debug>(
    emu: &Emulator,
    case: &str,
    fault: Fault,
    result: &Result<T, RegisterError>,
) {
    assert_eq!(
        emu.armed_drop_ack(),
        None,
        "{case}: the lost ACK did not strike"
    );
    assert_eq!(
        emu.armed_power_cut(),
        None,
        "{case}: the cut did not strike"
    );
    match fault {
        Fault::AckLost => assert!(result.is_ok(), "{case}: {result:?}"),
        Fault::AckLostThenPowerCut => assert!(
            matches!(result, Err(RegisterError::Unknown(_))),
            "{case}: expected an unknown outcome, got {result:?}"
        ),
    }
}

async fn register(
    device: LinkChoice,
    link: LinkLayerChoice,
    shift_open: bool,
) -> (Emulator, Register) {
    let emu = emulator(device);
    let mut r = connect(&emu, link).await;
    if shift_open {
        r.open_shift(&cashier()).await.unwrap();
    }
    (emu, r)
}

/// A receipt with the faults on `code` (FF45, or FF46: the first item).
async fn receipt_case(code: u16, link: LinkLayerChoice, device: LinkChoice, fault: Fault) {
    let case = format!("{code:X} {link:?} {fault:?}");
    let (emu, mut r) = register(device, link, true).await;
    let receipt = receipt(23);
    let intent = Intent::Receipt {
        receipt_type: receipt.receipt_type,
        total: receipt.total,
    };
    let snapshot = r.snapshot().await.unwrap();
    let before = emu.executions(code);
    arm(&emu, code, fault);
    let result = r.fiscalize(&receipt, &TaxGroupMap::default(), None).await;
    check_outcome(&emu, &case, fault, &result);
    let sent = emu.executions(code) - before;
    let verdict = r.reconcile(&snapshot, &intent).await.unwrap();
    match (fault, code) {
        (Fault::AckLost, _) => {
            let expected = if code == 0xFF46 { ITEMS } else { 1 };
            assert_eq!(sent, expected, "{case}: executions of {code:X}");
            let fiscal = result.unwrap();
            assert_eq!(fiscal.fd_number, snapshot.fn_last_fd + 1, "{case}");
            assert_eq!(
                verdict,
                Verdict::Done(Completion::Receipt(fiscal)),
                "{case}"
            );
        }
        (Fault::AckLostThenPowerCut, 0xFF45) => {
            assert_eq!(sent, 1, "{case}: the close was sent again");
            let Verdict::Done(Completion::Receipt(fiscal)) = verdict else {
                panic!("{case}: wrong verdict {verdict:?}");
            };
            let receipts = archived_receipts(&emu);
            assert_eq!(receipts.len(), 1, "{case}");
            assert_eq!(fiscal.fd_number, snapshot.fn_last_fd + 1, "{case}");
            assert_eq!(fiscal.fiscal_sign, receipts[0].fiscal_sign, "{case}");
        }
        (Fault::AckLostThenPowerCut, _) => {
            // The first item ran and the receipt stayed open: reconcile cancelled it.
            assert_eq!(sent, 1, "{case}: the item was sent again");
            assert_eq!(verdict, Verdict::NotDone, "{case}");
            assert!(archived_receipts(&emu).is_empty(), "{case}");
            assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
            let fiscal = r
                .fiscalize(&receipt, &TaxGroupMap::default(), None)
                .await
                .unwrap();
            assert_eq!(fiscal.fd_number, snapshot.fn_last_fd + 1, "{case}");
        }
    }
    let receipts = archived_receipts(&emu);
    assert_eq!(receipts.len(), 1, "{case}: exactly one receipt");
    assert_eq!(receipts[0].total, receipt.total.0, "{case}");
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
}

/// A cash movement with the faults on its command. A cash movement makes no FN document
/// (§7.7): "exactly one" is read from the shift's counters, and the archive must not change.
async fn cash_case(
    kind: CashMovementKind,
    link: LinkLayerChoice,
    device: LinkChoice,
    fault: Fault,
) {
    let code = match kind {
        CashMovementKind::In => 0x50,
        CashMovementKind::Out => 0x51,
    };
    let case = format!("{code:X} {link:?} {fault:?}");
    let (emu, mut r) = register(device, link, true).await;
    if kind == CashMovementKind::Out {
        let float = CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(50_000),
        };
        r.cash(float).await.unwrap();
    }
    let movement = CashMovement {
        kind,
        amount: Kopecks(12_345),
    };
    let documents = emu.archive().len();
    let snapshot = r.snapshot().await.unwrap();
    let before = emu.executions(code);
    arm(&emu, code, fault);
    let result = r.cash(movement).await;
    check_outcome(&emu, &case, fault, &result);
    assert_eq!(emu.executions(code) - before, 1, "{case}: sent again");
    let verdict = r
        .reconcile(&snapshot, &Intent::Cash(movement))
        .await
        .unwrap();
    let Verdict::Done(Completion::Cash(cash)) = verdict else {
        panic!("{case}: wrong verdict {verdict:?}");
    };
    let after = r.snapshot().await.unwrap();
    let (count, total) = match kind {
        CashMovementKind::In => (
            (snapshot.cash_in_count, after.cash_in_count),
            (snapshot.cash_in_total, after.cash_in_total),
        ),
        CashMovementKind::Out => (
            (snapshot.cash_out_count, after.cash_out_count),
            (snapshot.cash_out_total, after.cash_out_total),
        ),
    };
    assert_eq!(count.1, count.0 + 1, "{case}: exactly one movement");
    assert_eq!(total.1, total.0 + 12_345, "{case}");
    assert_eq!(cash.shift_number, 1, "{case}");
    if let Ok(done) = result {
        assert_eq!(cash.document_number, done.document_number, "{case}");
    }
    assert_eq!(
        emu.archive().len(),
        documents,
        "{case}: no FD from a cash movement"
    );
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
}

/// A shift report with the faults on its final command (0xE0 opens, 0x41 closes).
async fn shift_case(code: u16, link: LinkLayerChoice, device: LinkChoice, fault: Fault) {
    let case = format!("{code:X} {link:?} {fault:?}");
    let opening = code == 0xE0;
    let (emu, mut r) = register(device, link, !opening).await;
    let (intent, doc_type) = if opening {
        (Intent::OpenShift, DOC_OPEN_SHIFT)
    } else {
        (Intent::CloseShift, DOC_CLOSE_SHIFT)
    };
    let snapshot = r.snapshot().await.unwrap();
    let before = emu.executions(code);
    arm(&emu, code, fault);
    let result = if opening {
        r.open_shift(&cashier()).await
    } else {
        r.z_report(&cashier()).await
    };
    check_outcome(&emu, &case, fault, &result);
    assert_eq!(emu.executions(code) - before, 1, "{case}: sent again");
    let verdict = r.reconcile(&snapshot, &intent).await.unwrap();
    let Verdict::ShiftDone(report) = verdict else {
        panic!("{case}: wrong verdict {verdict:?}");
    };
    assert_eq!(report.shift_number, 1, "{case}");
    assert_eq!(report.fd_number, snapshot.fn_last_fd + 1, "{case}");
    if let Ok(done) = result {
        assert_eq!(report, done, "{case}");
    }
    let reports = emu
        .archive()
        .iter()
        .filter(|d| d.doc_type == doc_type)
        .count();
    assert_eq!(reports, 1, "{case}: exactly one report");
    if opening {
        let status = r.status().await.unwrap();
        assert_eq!(status.readiness, Readiness::Ready, "{case}");
    }
}

#[tokio::test]
async fn close_receipt_with_a_lost_ack() {
    for (link, device) in LINKS {
        for fault in FAULTS {
            receipt_case(0xFF45, link, device, fault).await;
        }
    }
}

#[tokio::test]
async fn receipt_item_with_a_lost_ack() {
    for (link, device) in LINKS {
        for fault in FAULTS {
            receipt_case(0xFF46, link, device, fault).await;
        }
    }
}

#[tokio::test]
async fn cash_in_with_a_lost_ack() {
    for (link, device) in LINKS {
        for fault in FAULTS {
            cash_case(CashMovementKind::In, link, device, fault).await;
        }
    }
}

#[tokio::test]
async fn cash_out_with_a_lost_ack() {
    for (link, device) in LINKS {
        for fault in FAULTS {
            cash_case(CashMovementKind::Out, link, device, fault).await;
        }
    }
}

#[tokio::test]
async fn shift_opening_with_a_lost_ack() {
    for (link, device) in LINKS {
        for fault in FAULTS {
            shift_case(0xE0, link, device, fault).await;
        }
    }
}

#[tokio::test]
async fn z_report_with_a_lost_ack() {
    for (link, device) in LINKS {
        for fault in FAULTS {
            shift_case(0x41, link, device, fault).await;
        }
    }
}
