//! The worker against a real store in a temporary directory and the virtual register in
//! memory, on tokio's paused clock: deadlines, waiting episodes, halts, the shift's 24 hours
//! and settling an unknown outcome pass in virtual time, without the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use cashbox::condition::code;
use cashbox::{
    new_health, Connector, Health, LinkLayerSetting, OperationPolicy, RegisterSettings,
    ShiftPolicy, TokioClock, TransportSettings, Worker,
};
use chrono::Utc;
use emulator::{CutPoint, Emulator, EmulatorConfig, PowerCut};
use fiscal_model::{
    CashMovement, CashMovementKind, Completion, Kopecks, OperationBody, OperationRequest, Routing,
    TaxGroupMap,
};
use queue::{NewOperation, OpState, Operation, OperationId, RegisterId, Store, StoreConfig};
use tokio_util::sync::CancellationToken;

const REGISTER: &str = "00000000-0000-4000-8000-000000000001";
/// The command code of a cash in (§5, 0x50).
const CASH_IN: u16 = 0x50;
/// How long an operation that cannot go through is held in these tests.
const DEADLINE: Duration = Duration::from_secs(120);

/// One register's worker, its store and its virtual register.
struct Rig {
    store: Arc<Store>,
    emulator: Emulator,
    health: Health,
    shutdown: CancellationToken,
    worker: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn start() -> Rig {
        Rig::with_shift(ShiftPolicy::default())
    }

    fn with_shift(shift: ShiftPolicy) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("ops"), StoreConfig::default()).unwrap());
        let emulator = Emulator::new(EmulatorConfig::default()).unwrap();
        let settings = RegisterSettings {
            id: REGISTER.into(),
            group_id: None,
            juridical_person_id: None,
            default: true,
            transport: TransportSettings::Emulator {
                state_file: dir.path().join("register.json"),
            },
            link_layer: LinkLayerSetting::Auto,
            operator_password: 1,
            admin_password: 30,
            utc_offset: *chrono::Local::now().offset(),
            taxes: TaxGroupMap::default(),
            cashier_name: "Кассир".into(),
            cashier_inn: None,
            answer_timeout: Duration::from_secs(2),
            watch_interval: Duration::from_secs(5),
            shift,
            marking_policy: Default::default(),
        };
        let health = new_health(REGISTER);
        let shutdown = CancellationToken::new();
        let worker = Worker::new(
            settings.clone(),
            store.clone(),
            Connector::new(&settings, Some(emulator.clone())),
            OperationPolicy {
                deadline: DEADLINE,
                max_repeats: 3,
            },
            health.clone(),
            shutdown.clone(),
        )
        .with_clock(Arc::new(TokioClock::starting_at(Utc::now())));
        Rig {
            store,
            emulator,
            health,
            shutdown,
            worker: tokio::spawn(worker.run()),
            _dir: dir,
        }
    }

    async fn cash_in(&self, id: &str, kopecks: u64) -> OperationId {
        let id = OperationId::new(id).unwrap();
        let request = OperationRequest {
            body: OperationBody::Cash(CashMovement {
                kind: CashMovementKind::In,
                amount: Kopecks(kopecks),
            }),
            routing: Routing::default(),
        };
        self.store
            .submit(NewOperation {
                id: id.clone(),
                register: RegisterId::new(REGISTER),
                request,
            })
            .await
            .unwrap();
        id
    }

    /// The operation once `done` holds of it; panics after a virtual hour.
    async fn until(
        &self,
        id: &OperationId,
        what: &str,
        done: impl Fn(&Operation) -> bool,
    ) -> Operation {
        let give_up = tokio::time::Instant::now() + Duration::from_secs(3600);
        loop {
            let op = self.store.get(id).unwrap().expect("stored");
            if done(&op) {
                return op;
            }
            assert!(
                tokio::time::Instant::now() < give_up,
                "{id} never became {what}: {:?}",
                op.state
            );
            self.store
                .wait_change(id, Duration::from_secs(1))
                .await
                .unwrap();
        }
    }

    /// Waits (in virtual time, a second at a go) until `done` holds of the register.
    async fn until_register(&self, what: &str, done: impl Fn(&Emulator) -> bool) {
        let give_up = tokio::time::Instant::now() + Duration::from_secs(3 * 3600);
        while !done(&self.emulator) {
            assert!(
                tokio::time::Instant::now() < give_up,
                "the register never: {what}"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.worker.await.unwrap();
    }
}

fn done(op: &Operation) -> bool {
    matches!(op.state, OpState::Done { .. })
}

fn failed_with(op: &Operation) -> Option<&str> {
    match &op.state {
        OpState::Failed { reason } => Some(&reason.code),
        _ => None,
    }
}

fn receipts_of(emulator: &Emulator, doc_type: u8) -> usize {
    emulator
        .archive()
        .iter()
        .filter(|d| d.doc_type == doc_type)
        .count()
}

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
