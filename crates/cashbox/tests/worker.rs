//! The worker against a real store in a temporary directory and the virtual register in
//! memory, on tokio's paused clock: deadlines, waiting episodes, halts, the shift's 24 hours
//! and settling an unknown outcome pass in virtual time, without the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use cashbox::condition::code;
use cashbox::ShiftPolicy;
use emulator::{CutPoint, PowerCut};
use fiscal_model::Completion;
use queue::OpState;

mod rig;

use rig::*;

#[tokio::test(start_paused = true)]
async fn a_cash_in_is_done_once_and_opens_the_shift_it_needs() {
    let rig = Rig::start();
    let id = rig.cash_in("c-1", 500).await;
    let op = rig.until(&id, "done", done).await;
    assert!(
        matches!(
            &op.state,
            OpState::Done {
                completion: Completion::Cash(_)
            }
        ),
        "{:?}",
        op.state
    );
    assert_eq!(rig.emulator.executions(CASH_IN), 1);
    assert_eq!(receipts_of(&rig.emulator, 2), 1, "one shift opened");
    assert!(rig.health.lock().state.condition().is_none());
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_open_cover_holds_the_operation_and_fails_it_at_the_deadline() {
    let rig = Rig::start();
    rig.emulator.set_cover_open(true);
    let id = rig.cash_in("c-cover", 500).await;

    let waiting = rig
        .until(&id, "waiting", |op| {
            matches!(op.state, OpState::Waiting { .. })
        })
        .await;
    let OpState::Waiting { reason, .. } = &waiting.state else {
        unreachable!()
    };
    assert_eq!(reason.code, "COVER_OPEN", "{reason:?}");
    let started = tokio::time::Instant::now();

    let failed = rig
        .until(&id, "failed", |op| failed_with(op).is_some())
        .await;
    assert_eq!(failed_with(&failed), Some("COVER_OPEN"));
    assert!(
        tokio::time::Instant::now() - started <= DEADLINE + Duration::from_secs(60),
        "failed long after the deadline"
    );
    assert_eq!(rig.emulator.executions(CASH_IN), 0, "nothing was deposited");

    // Closing the cover lets the next operation through at once.
    rig.emulator.set_cover_open(false);
    let next = rig.cash_in("c-after", 700).await;
    rig.until(&next, "done", done).await;
    assert_eq!(rig.emulator.executions(CASH_IN), 1);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_answer_lost_to_a_power_cut_is_settled_from_the_register_not_resent() {
    let rig = Rig::start();
    let first = rig.cash_in("c-warm", 100).await;
    rig.until(&first, "done", done).await;

    rig.emulator
        .arm_power_cut(PowerCut::on(CutPoint::AfterCommit, CASH_IN));
    let id = rig.cash_in("c-cut", 500).await;
    let op = rig.until(&id, "done", done).await;

    assert_eq!(
        rig.emulator.executions(CASH_IN),
        2,
        "the cut cash in ran once"
    );
    assert!(rig.emulator.armed_power_cut().is_none(), "the cut struck");
    assert!(
        op.attempts.iter().any(|a| a.state == "reconciling"),
        "settled by reconciling: {:?}",
        op.attempts
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_outcome_the_register_cannot_settle_halts_its_queue_for_an_operator() {
    let rig = Rig::start();
    let first = rig.cash_in("h-warm", 100).await;
    rig.until(&first, "done", done).await;

    // The cash in executes, the power goes before its answer and stays off; meanwhile the
    // shift is closed at the register's keyboard, so its counters can no longer tell.
    rig.emulator.arm_power_cut(PowerCut {
        stay_off: true,
        ..PowerCut::on(CutPoint::AfterCommit, CASH_IN)
    });
    let cut = rig.cash_in("h-cash", 500).await;
    rig.until(&cut, "reconciling", |op| {
        matches!(op.state, OpState::Reconciling { .. })
    })
    .await;
    assert_eq!(rig.emulator.executions(CASH_IN), 2);
    assert_eq!(rig.emulator.keyboard_z_report(), Ok(()));
    rig.emulator.set_power(true);

    let behind = rig.cash_in("h-behind", 700).await;
    let failed = rig
        .until(&behind, "failed", |op| failed_with(op).is_some())
        .await;
    assert_eq!(failed_with(&failed), Some(code::NEEDS_OPERATOR));
    assert_eq!(
        rig.emulator.executions(CASH_IN),
        2,
        "nothing deposited again"
    );
    let cut = rig.store.get(&cut).unwrap().unwrap();
    assert!(
        matches!(cut.state, OpState::Reconciling { .. }),
        "the unsettled cash in stays for the operator: {:?}",
        cut.state
    );
    let state = rig.health.lock().state.clone();
    assert_eq!(
        state.condition().map(|c| c.code()),
        Some(code::NEEDS_OPERATOR),
        "{state:?}"
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_shift_is_closed_before_its_24_hours_run_out() {
    let rig = Rig::start();
    let id = rig.cash_in("z-1", 100).await;
    rig.until(&id, "done", done).await;
    assert_eq!(receipts_of(&rig.emulator, 5), 0);

    // 23 h 55 min later by the register's clock: inside the default 10-minute margin.
    rig.emulator
        .set_clock_offset(chrono::Duration::minutes(23 * 60 + 55));
    rig.until_register("closed the shift", |e| receipts_of(e, 5) == 1)
        .await;

    // The next operation opens a new shift instead of running into the limit.
    let next = rig.cash_in("z-2", 100).await;
    rig.until(&next, "done", done).await;
    assert_eq!(receipts_of(&rig.emulator, 2), 2, "a second shift opened");
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn without_automatic_z_a_shift_past_24_hours_holds_operations_until_the_deadline() {
    let rig = Rig::with_shift(ShiftPolicy {
        close_before_24h: false,
        ..ShiftPolicy::default()
    });
    let id = rig.cash_in("x-1", 100).await;
    rig.until(&id, "done", done).await;

    rig.emulator
        .set_clock_offset(chrono::Duration::minutes(25 * 60));
    let late = rig.cash_in("x-2", 100).await;
    let failed = rig
        .until(&late, "failed", |op| failed_with(op).is_some())
        .await;
    let failed_code = failed_with(&failed).unwrap_or_default().to_string();
    assert_ne!(failed_code, code::NEEDS_OPERATOR, "{failed:?}");
    assert_eq!(
        receipts_of(&rig.emulator, 5),
        0,
        "the shop closes its own shift"
    );
    assert_eq!(rig.emulator.executions(CASH_IN), 1);
    rig.stop().await;
}

/// The command codes of the shift reports (§5: 0xE0 open shift, 0x41 Z report).
const OPEN_SHIFT: u16 = 0xE0;
const Z_REPORT: u16 = 0x41;

#[tokio::test(start_paused = true)]
async fn a_shift_opening_whose_answer_was_lost_is_settled_by_the_shift_state_not_repeated() {
    let rig = Rig::start();
    rig.emulator
        .arm_power_cut(PowerCut::on(CutPoint::AfterCommit, OPEN_SHIFT));
    let id = rig.cash_in("s-1", 100).await;
    rig.until(&id, "done", done).await;
    assert!(rig.emulator.armed_power_cut().is_none(), "the cut struck");
    assert_eq!(rig.emulator.executions(OPEN_SHIFT), 1);
    assert_eq!(
        receipts_of(&rig.emulator, 2),
        1,
        "one shift opening in the FN"
    );
    assert_eq!(rig.emulator.executions(CASH_IN), 1);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_z_report_whose_answer_was_lost_is_settled_by_the_shift_state_not_repeated() {
    let rig = Rig::start();
    let id = rig.cash_in("s-z1", 100).await;
    rig.until(&id, "done", done).await;

    rig.emulator
        .arm_power_cut(PowerCut::on(CutPoint::AfterCommit, Z_REPORT));
    rig.emulator
        .set_clock_offset(chrono::Duration::minutes(23 * 60 + 55));
    rig.until_register("closed the shift", |e| {
        e.armed_power_cut().is_none() && receipts_of(e, 5) == 1
    })
    .await;
    let next = rig.cash_in("s-z2", 100).await;
    rig.until(&next, "done", done).await;
    assert_eq!(rig.emulator.executions(Z_REPORT), 1);
    assert_eq!(receipts_of(&rig.emulator, 5), 1, "one Z report in the FN");
    assert_eq!(
        receipts_of(&rig.emulator, 2),
        2,
        "the next shift opened once"
    );
    rig.stop().await;
}
