//! The shop day's operations through the worker, against the virtual register in memory on
//! tokio's paused clock: shift reports make one document each (none when the shift already is
//! as asked), prints make none, a lost answer of a shift report is settled from the FN, and an
//! operation the register cannot settle waits for an operator whose word is checked against
//! the FN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rig;

use std::time::Duration;

use cashbox::{Claim, ClaimOutcome, ControlError};
use emulator::{CutPoint, PowerCut};
use fiscal_model::{Completion, OperationBody, ShiftRequest, ShiftResult, TextSlip};
use queue::{OpState, Operation, OperationId};
use rig::*;

/// FFD form codes (§8.2).
const OPEN_SHIFT: u8 = 2;
const RECEIPT: u8 = 3;
const CLOSE_SHIFT: u8 = 5;
/// Command codes (§5).
const OPEN_SHIFT_CMD: u16 = 0xE0;
const Z_REPORT_CMD: u16 = 0x41;
const CLOSE_RECEIPT_CMD: u16 = 0xFF45;
/// How long a settlement may wait for the worker in these tests.
const ASK: Duration = Duration::from_secs(60);

fn shift_of(op: &Operation) -> ShiftResult {
    match &op.state {
        OpState::Done {
            completion: Completion::Shift(s),
        } => s.clone(),
        other => panic!("not a finished shift report: {other:?}"),
    }
}

fn fiscal_fd(op: &Operation) -> u32 {
    match &op.state {
        OpState::Done {
            completion: Completion::Receipt(f),
        } => f.fd_number,
        other => panic!("not a finished receipt: {other:?}"),
    }
}

/// A finished receipt's (shift number, receipt number in the shift).
fn numbers_of(op: &Operation) -> (u32, u32) {
    match &op.state {
        OpState::Done {
            completion: Completion::Receipt(f),
        } => (f.shift_number, f.receipt_number_in_shift),
        other => panic!("not a finished receipt: {other:?}"),
    }
}

fn receipt() -> OperationBody {
    OperationBody::Receipt(driver::bench::sample_receipt().expect("a sample receipt"))
}

fn claim(outcome: ClaimOutcome) -> Claim {
    Claim {
        outcome,
        force: false,
        reason: None,
        by: "technician".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn shift_reports_make_one_document_each_and_none_when_the_shift_already_is_as_asked() {
    let rig = Rig::start();
    let open = rig
        .submit("open-1", OperationBody::OpenShift(ShiftRequest::default()))
        .await;
    let opened = shift_of(&rig.until(&open, "done", done).await);
    let archive = rig.emulator.archive();
    let report = archive.last().unwrap();
    assert_eq!(report.doc_type, OPEN_SHIFT);
    assert!(opened.made);
    assert_eq!(opened.fd_number, Some(report.fd));
    assert_eq!(opened.fiscal_sign, Some(report.fiscal_sign));
    assert_eq!(opened.shift_number, u32::from(report.shift_number));

    let again = rig
        .submit("open-2", OperationBody::OpenShift(ShiftRequest::default()))
        .await;
    let again = shift_of(&rig.until(&again, "done", done).await);
    assert!(!again.made, "an open shift is not opened again");
    assert_eq!(again.shift_number, opened.shift_number);
    assert_eq!(receipts_of(&rig.emulator, OPEN_SHIFT), 1);

    let close = rig
        .submit(
            "close-1",
            OperationBody::CloseShift(ShiftRequest::default()),
        )
        .await;
    let closed = shift_of(&rig.until(&close, "done", done).await);
    let z = rig.emulator.archive().last().cloned().unwrap();
    assert_eq!(z.doc_type, CLOSE_SHIFT);
    assert_eq!(closed.fd_number, Some(z.fd));
    assert_eq!(closed.shift_number, opened.shift_number);

    let close_again = rig
        .submit(
            "close-2",
            OperationBody::CloseShift(ShiftRequest::default()),
        )
        .await;
    assert!(!shift_of(&rig.until(&close_again, "done", done).await).made);
    assert_eq!(receipts_of(&rig.emulator, CLOSE_SHIFT), 1);
    assert_eq!(
        rig.emulator.archive().len(),
        z.fd as usize,
        "nothing after the Z"
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_x_report_and_text_are_printed_without_a_fiscal_document() {
    let rig = Rig::start();
    let warm = rig.cash_in("x-warm", 100).await;
    rig.until(&warm, "done", done).await;
    let documents = rig.emulator.archive().len();

    let x = rig.submit("x-1", OperationBody::XReport).await;
    let x = rig.until(&x, "done", done).await;
    assert!(matches!(
        x.state,
        OpState::Done {
            completion: Completion::Printed(_)
        }
    ));
    let text = rig
        .submit(
            "text-1",
            OperationBody::PrintText(TextSlip {
                lines: vec!["Скидка 10% на молоко".into(), "до воскресенья".into()],
                cut: true,
            }),
        )
        .await;
    rig.until(&text, "done", done).await;
    assert_eq!(rig.emulator.archive().len(), documents, "no FD");
    let tape = rig.emulator.tape();
    assert!(tape.contains("Скидка 10% на молоко"), "{tape}");
    assert!(tape.contains("до воскресенья"), "{tape}");
    rig.stop().await;
}

/// A shift report whose answer a power cut took is settled from the FN: done, with the
/// report's FD, and made once.
async fn shift_report_cut_after_commit(command: u16, body: OperationBody, form: u8) {
    let rig = Rig::start();
    if form == CLOSE_SHIFT {
        let warm = rig.cash_in("cut-warm", 100).await;
        rig.until(&warm, "done", done).await;
    }
    rig.emulator
        .arm_power_cut(PowerCut::on(CutPoint::AfterCommit, command));
    let id = rig.submit("cut-report", body).await;
    let report = rig.until(&id, "done", done).await;
    assert!(rig.emulator.armed_power_cut().is_none(), "the cut struck");
    assert!(
        report.attempts.iter().any(|a| a.state == "reconciling"),
        "{:?}",
        report.attempts
    );
    let made = shift_of(&report);
    let last = rig.emulator.archive().last().cloned().unwrap();
    assert_eq!(last.doc_type, form);
    assert_eq!(made.fd_number, Some(last.fd));
    assert!(made.made);
    assert_eq!(receipts_of(&rig.emulator, form), 1, "one report");
    assert_eq!(rig.emulator.executions(command), 1);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_shift_opening_cut_after_its_commit_is_settled_from_the_fn() {
    shift_report_cut_after_commit(
        OPEN_SHIFT_CMD,
        OperationBody::OpenShift(ShiftRequest::default()),
        OPEN_SHIFT,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_z_report_cut_after_its_commit_is_settled_from_the_fn() {
    shift_report_cut_after_commit(
        Z_REPORT_CMD,
        OperationBody::CloseShift(ShiftRequest::default()),
        CLOSE_SHIFT,
    )
    .await;
}

/// Halts the register on a receipt: `executed` decides whether the cut receipt reached the FN;
/// then a Z report is made at the register's keyboard, so the FN's new documents fit no
/// verdict. Returns the held receipt and an operation queued behind it.
async fn halt_on_a_receipt(rig: &Rig, executed: bool) -> (OperationId, OperationId) {
    let warm = rig.cash_in("h-warm", 100).await;
    rig.until(&warm, "done", done).await;
    let point = if executed {
        CutPoint::AfterCommit
    } else {
        CutPoint::BeforeExecution
    };
    rig.emulator.arm_power_cut(PowerCut {
        stay_off: true,
        ..PowerCut::on(point, CLOSE_RECEIPT_CMD)
    });
    let held = rig.submit("h-receipt", receipt()).await;
    rig.until(&held, "reconciling", |op| {
        matches!(op.state, OpState::Reconciling { .. })
    })
    .await;
    if !executed {
        // The cashier cancels the receipt left open at the register.
        assert_eq!(rig.emulator.keyboard_cancel_receipt(), Ok(()));
    }
    assert_eq!(rig.emulator.keyboard_z_report(), Ok(()));
    rig.emulator.set_power(true);
    rig.until_register("halted", |_| rig.health.lock().halted.is_some())
        .await;
    let halt = rig.health.lock().halted.clone().unwrap();
    assert_eq!(halt.operation_id, held.as_str());
    let behind = rig.cash_in("h-behind", 700).await;
    (held, behind)
}

// Real time: a request's wait must not race the clock jumping while the worker awaits disk.
#[tokio::test]
async fn a_halted_receipt_is_settled_done_only_with_the_fd_the_fn_holds_for_it() {
    let rig = Rig::start();
    let (held, behind) = halt_on_a_receipt(&rig, true).await;
    let archive = rig.emulator.archive();
    let z = archive.last().unwrap();
    let made = &archive[archive.len() - 2];
    assert_eq!((made.doc_type, z.doc_type), (RECEIPT, CLOSE_SHIFT));

    let wrong = rig
        .control
        .settle(
            held.clone(),
            claim(ClaimOutcome::Done { fd: Some(z.fd) }),
            ASK,
        )
        .await;
    let Err(ControlError::Refused(why)) = wrong else {
        panic!("the Z report's FD was accepted: {wrong:?}");
    };
    assert!(why.contains("отчёт о закрытии смены"), "{why}");
    assert!(matches!(
        rig.store.get(&held).unwrap().unwrap().state,
        OpState::Reconciling { .. }
    ));

    rig.control
        .settle(
            held.clone(),
            claim(ClaimOutcome::Done { fd: Some(made.fd) }),
            ASK,
        )
        .await
        .unwrap();
    let settled = rig.until(&held, "done", done).await;
    assert_eq!(fiscal_fd(&settled), made.fd);
    // The Z report moved the FN on: the receipt's numbers are its own, read from the FN.
    assert_eq!(
        numbers_of(&settled),
        (
            u32::from(made.shift_number),
            u32::from(made.receipt_number_in_shift)
        )
    );
    assert_eq!(numbers_of(&settled), (1, 1));
    assert!(settled
        .attempts
        .iter()
        .any(|a| a.note.contains("settled by technician")));
    rig.until(&behind, "done", done).await;
    assert_eq!(receipts_of(&rig.emulator, RECEIPT), 1, "one receipt");
    assert!(rig.health.lock().halted.is_none());
    rig.stop().await;
}

// Real time: a request's wait must not race the clock jumping while the worker awaits disk.
#[tokio::test]
async fn a_receipt_settled_done_on_a_register_that_cannot_read_documents_back_keeps_its_counters() {
    let rig = Rig::start();
    let (held, behind) = halt_on_a_receipt(&rig, true).await;
    rig.emulator
        .with_device_faults(|f| f.document_read_unsupported = true);
    let archive = rig.emulator.archive();
    let made = &archive[archive.len() - 2];
    assert_eq!(made.doc_type, RECEIPT);

    rig.control
        .settle(
            held.clone(),
            claim(ClaimOutcome::Done { fd: Some(made.fd) }),
            ASK,
        )
        .await
        .unwrap();
    let settled = rig.until(&held, "done", done).await;
    assert_eq!(fiscal_fd(&settled), made.fd);
    // FF3A refused (0x37): the shift is the register's last, and the receipt's number in it
    // is unknown once a later document followed it.
    assert_eq!(numbers_of(&settled), (1, 0));
    rig.until(&behind, "done", done).await;
    rig.stop().await;
}

// Real time: a request's wait must not race the clock jumping while the worker awaits disk.
#[tokio::test]
async fn a_halted_receipt_settled_not_done_is_made_once() {
    let rig = Rig::start();
    let (held, behind) = halt_on_a_receipt(&rig, false).await;
    assert_eq!(receipts_of(&rig.emulator, RECEIPT), 0);

    // A claim of "done" with a document that is not it is refused.
    let last = rig.emulator.archive().last().unwrap().fd;
    let wrong = rig
        .control
        .settle(
            held.clone(),
            claim(ClaimOutcome::Done { fd: Some(last) }),
            ASK,
        )
        .await;
    assert!(matches!(wrong, Err(ControlError::Refused(_))), "{wrong:?}");

    rig.control
        .settle(held.clone(), claim(ClaimOutcome::NotDone), ASK)
        .await
        .unwrap();
    let made = rig.until(&held, "done", done).await;
    rig.until(&behind, "done", done).await;
    assert_eq!(receipts_of(&rig.emulator, RECEIPT), 1, "made once");
    assert_eq!(
        fiscal_fd(&made),
        rig.emulator
            .archive()
            .iter()
            .find(|d| d.doc_type == RECEIPT)
            .unwrap()
            .fd
    );
    rig.stop().await;
}

// Real time: a request's wait must not race the clock jumping while the worker awaits disk.
#[tokio::test]
async fn a_settlement_is_refused_for_an_operation_the_register_does_not_hold() {
    let rig = Rig::start();
    let id = rig.cash_in("s-done", 100).await;
    rig.until(&id, "done", done).await;
    let answer = rig
        .control
        .settle(id, claim(ClaimOutcome::NotDone), ASK)
        .await;
    let Err(ControlError::Refused(why)) = answer else {
        panic!("{answer:?}");
    };
    assert!(why.contains("не ждёт решения"), "{why}");
    let unknown = rig
        .control
        .settle(
            OperationId::new("nobody").unwrap(),
            claim(ClaimOutcome::NotDone),
            ASK,
        )
        .await;
    assert!(
        matches!(unknown, Err(ControlError::NotFound(_))),
        "{unknown:?}"
    );
    rig.stop().await;
}

// Real time: a request's wait must not race the clock jumping while the worker awaits disk.
#[tokio::test]
async fn an_archive_document_is_read_between_operations() {
    let rig = Rig::start();
    let id = rig.cash_in("d-1", 100).await;
    rig.until(&id, "done", done).await;
    let opening = rig.emulator.archive().last().cloned().unwrap();
    let doc = rig.control.document(opening.fd, ASK).await.unwrap();
    assert_eq!(doc.doc_type, OPEN_SHIFT);
    assert_eq!(doc.fiscal_sign, opening.fiscal_sign);
    let missing = rig.control.document(opening.fd + 100, ASK).await;
    assert!(
        matches!(missing, Err(ControlError::NotFound(_))),
        "{missing:?}"
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_z_report_waits_for_the_receipts_queued_before_it() {
    let rig = Rig::start();
    let first = rig.submit("q-1", receipt()).await;
    let second = rig.submit("q-2", receipt()).await;
    let close = rig
        .submit(
            "q-close",
            OperationBody::CloseShift(ShiftRequest::default()),
        )
        .await;
    let closed = shift_of(&rig.until(&close, "done", done).await);
    let first = fiscal_fd(&rig.store.get(&first).unwrap().unwrap());
    let second = fiscal_fd(&rig.store.get(&second).unwrap().unwrap());
    let z = closed.fd_number.unwrap();
    assert!(
        first < second && second < z,
        "receipts {first}, {second} before the Z {z}"
    );
    let archive = rig.emulator.archive();
    let z_doc = archive.iter().find(|d| d.fd == z).unwrap();
    assert_eq!(z_doc.doc_type, CLOSE_SHIFT);
    assert_eq!(
        archive
            .iter()
            .filter(|d| d.doc_type == RECEIPT && d.shift_number == z_doc.shift_number)
            .count(),
        2,
        "both receipts in the shift the Z closed"
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_x_report_with_the_shift_closed_fails_at_once_and_opens_no_shift() {
    let rig = Rig::start();
    let x = rig.submit("x-closed", OperationBody::XReport).await;
    let failed = rig
        .until(&x, "failed", |op| failed_with(op).is_some())
        .await;
    let OpState::Failed { reason } = &failed.state else {
        unreachable!()
    };
    assert_eq!(reason.code, "SHIFT_CLOSED", "{reason:?}");
    assert!(reason.message.contains("X-отчёт"), "{reason:?}");
    assert_eq!(
        receipts_of(&rig.emulator, OPEN_SHIFT),
        0,
        "no shift opened for it"
    );
    rig.stop().await;
}
