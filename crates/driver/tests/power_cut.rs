//! Power cuts at each named point of a receipt (on FF45, FF46 and 8D), a cash in and a shift
//! opening: `reconcile` reaches the right verdict every time and the FN archive holds no
//! duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::{Intent, LinkLayerChoice, Readiness, Register, RegisterError, Verdict};
use emulator::{CutPoint, Emulator, LinkChoice, PowerCut};
use fiscal_model::{CashMovement, CashMovementKind, Completion, Kopecks, TaxGroupMap};

use common::{archived_receipts, cashier, connect, emulator, receipt};

const POINTS: [CutPoint; 3] = [
    CutPoint::BeforeExecution,
    CutPoint::AfterCommit,
    CutPoint::MidAnswer,
];

async fn ready_register(link: LinkLayerChoice, device: LinkChoice) -> (Emulator, Register) {
    let emu = emulator(device);
    let mut r = connect(&emu, link).await;
    r.open_shift(&cashier()).await.unwrap();
    (emu, r)
}

/// Cuts the power on `code` at `point` during a receipt; checks the verdict and redoes the
/// receipt on NotDone exactly as the worker does.
async fn receipt_cut(code: u16, point: CutPoint, link: LinkLayerChoice, device: LinkChoice) {
    let (emu, mut r) = ready_register(link, device).await;
    let receipt = receipt(11);
    let snapshot = r.snapshot().await.unwrap();
    emu.arm_power_cut(PowerCut::on(point, code));
    let result = r.fiscalize(&receipt, &TaxGroupMap::default(), None).await;
    assert!(
        emu.armed_power_cut().is_none(),
        "the cut on {code:X} did not strike"
    );
    let unknown = match result {
        Err(RegisterError::Unknown(u)) => u,
        other => panic!("{code:X} {point:?}: expected an unknown outcome, got {other:?}"),
    };
    let intent = Intent::Receipt {
        receipt_type: receipt.receipt_type,
        total: receipt.total,
    };
    let verdict = r.reconcile(&snapshot, &intent).await.unwrap();
    let committed = code == 0xFF45 && point != CutPoint::BeforeExecution;
    match (&verdict, committed) {
        (Verdict::Done(Completion::Receipt(fiscal)), true) => {
            let receipts = archived_receipts(&emu);
            assert_eq!(receipts.len(), 1);
            assert_eq!(fiscal.fd_number, snapshot.fn_last_fd + 1);
            assert_eq!(fiscal.fiscal_sign, receipts[0].fiscal_sign);
            assert_eq!(fiscal.shift_number, 1);
            assert_eq!(fiscal.receipt_number_in_shift, 1);
        }
        (Verdict::NotDone, false) => {
            assert!(
                archived_receipts(&emu).is_empty(),
                "{code:X} {point:?} ({unknown})"
            );
            assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
            let fiscal = r
                .fiscalize(&receipt, &TaxGroupMap::default(), None)
                .await
                .unwrap();
            assert_eq!(fiscal.fd_number, snapshot.fn_last_fd + 1);
        }
        other => panic!("{code:X} {point:?}: wrong verdict {other:?}"),
    }
    let receipts = archived_receipts(&emu);
    assert_eq!(receipts.len(), 1, "{code:X} {point:?}: exactly one receipt");
    assert_eq!(receipts[0].total, receipt.total.0);
}

#[tokio::test]
async fn receipt_power_cut_on_close() {
    for point in POINTS {
        receipt_cut(
            0xFF45,
            point,
            LinkLayerChoice::Standard,
            LinkChoice::Standard,
        )
        .await;
    }
}

#[tokio::test]
async fn receipt_power_cut_on_item() {
    for point in POINTS {
        receipt_cut(
            0xFF46,
            point,
            LinkLayerChoice::Standard,
            LinkChoice::Standard,
        )
        .await;
    }
}

#[tokio::test]
async fn receipt_power_cut_on_open() {
    for point in POINTS {
        receipt_cut(0x8D, point, LinkLayerChoice::Standard, LinkChoice::Standard).await;
    }
}

#[tokio::test]
async fn receipt_power_cut_over_protocol_v2() {
    for point in POINTS {
        receipt_cut(0xFF45, point, LinkLayerChoice::V2, LinkChoice::Auto).await;
    }
}

#[tokio::test]
async fn cash_in_power_cut() {
    for point in POINTS {
        let (emu, mut r) = ready_register(LinkLayerChoice::Standard, LinkChoice::Standard).await;
        let movement = CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(12_345),
        };
        let snapshot = r.snapshot().await.unwrap();
        emu.arm_power_cut(PowerCut::on(point, 0x50));
        let result = r.cash(movement).await;
        assert!(
            matches!(result, Err(RegisterError::Unknown(_))),
            "{point:?}: {result:?}"
        );
        let verdict = r
            .reconcile(&snapshot, &Intent::Cash(movement))
            .await
            .unwrap();
        let after = r.snapshot().await.unwrap();
        match (verdict, point) {
            (Verdict::NotDone, CutPoint::BeforeExecution) => {
                assert_eq!(after.cash_in_count, snapshot.cash_in_count);
                let done = r.cash(movement).await.unwrap();
                assert!(done.document_number > 0);
                let after = r.snapshot().await.unwrap();
                assert_eq!(after.cash_in_count, snapshot.cash_in_count + 1);
            }
            (
                Verdict::Done(Completion::Cash(cash)),
                CutPoint::AfterCommit | CutPoint::MidAnswer,
            ) => {
                assert_eq!(after.cash_in_count, snapshot.cash_in_count + 1);
                assert_eq!(after.cash_in_total, snapshot.cash_in_total + 12_345);
                assert_eq!(cash.document_number, after.through_number);
                assert_eq!(cash.shift_number, 1);
            }
            (other, point) => panic!("{point:?}: wrong verdict {other:?}"),
        }
        assert_eq!(emu.archive().len(), 2, "no FD from a cash movement");
    }
}

/// A cash in whose answer was lost, then the shift closed and opened again by hand while the
/// gateway was away: the shift counters are back at zero, as if it never ran, so the verdict
/// is "a person must look", never "not done" (which would send the cash in again).
#[tokio::test]
async fn cash_in_unknown_across_a_shift_change_needs_an_operator() {
    let (emu, mut r) = ready_register(LinkLayerChoice::Standard, LinkChoice::Standard).await;
    let movement = CashMovement {
        kind: CashMovementKind::In,
        amount: Kopecks(500),
    };
    let snapshot = r.snapshot().await.unwrap();
    assert_eq!(snapshot.cash_in_count, 0);
    // It runs; only the answer is lost.
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0x50));
    let result = r.cash(movement).await;
    assert!(
        matches!(result, Err(RegisterError::Unknown(_))),
        "{result:?}"
    );
    r.z_report(&cashier()).await.unwrap();
    r.open_shift(&cashier()).await.unwrap();
    let verdict = r
        .reconcile(&snapshot, &Intent::Cash(movement))
        .await
        .unwrap();
    assert!(matches!(verdict, Verdict::NeedsOperator(_)), "{verdict:?}");
}

#[tokio::test]
async fn shift_opening_power_cut() {
    for point in POINTS {
        let emu = emulator(LinkChoice::Standard);
        let mut r = connect(&emu, LinkLayerChoice::Standard).await;
        let snapshot = r.snapshot().await.unwrap();
        emu.arm_power_cut(PowerCut::on(point, 0xE0));
        let result = r.open_shift(&cashier()).await;
        assert!(
            matches!(result, Err(RegisterError::Unknown(_))),
            "{point:?}: {result:?}"
        );
        let verdict = r.reconcile(&snapshot, &Intent::OpenShift).await.unwrap();
        match (verdict, point) {
            (Verdict::NotDone, CutPoint::BeforeExecution) => {
                let report = r.open_shift(&cashier()).await.unwrap();
                assert_eq!(report.shift_number, 1);
            }
            (Verdict::ShiftDone(report), CutPoint::AfterCommit | CutPoint::MidAnswer) => {
                assert_eq!(report.shift_number, 1);
                assert_eq!(report.fd_number, snapshot.fn_last_fd + 1);
            }
            (other, point) => panic!("{point:?}: wrong verdict {other:?}"),
        }
        let opened = emu.archive().iter().filter(|d| d.doc_type == 2).count();
        assert_eq!(opened, 1, "{point:?}: exactly one open-shift report");
        assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
    }
}
