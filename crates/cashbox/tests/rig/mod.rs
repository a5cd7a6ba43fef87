//! The rig the worker tests share: one register's worker on a real store in a temporary
//! directory and the virtual register in memory, on tokio's paused clock.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use cashbox::{
    new_health, Connector, Control, Health, LinkLayerSetting, OperationPolicy, RegisterSettings,
    ShiftPolicy, TokioClock, TransportSettings, Worker,
};
use chrono::Utc;
use emulator::{Emulator, EmulatorConfig};
use fiscal_model::{
    CashMovement, CashMovementKind, Kopecks, OperationBody, OperationRequest, Routing, TaxGroupMap,
};
use queue::{NewOperation, OpState, Operation, OperationId, RegisterId, Store, StoreConfig};
use tokio_util::sync::CancellationToken;

pub const REGISTER: &str = "00000000-0000-4000-8000-000000000001";
/// The command code of a cash in (§5, 0x50).
pub const CASH_IN: u16 = 0x50;
/// How long an operation that cannot go through is held in these tests.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// One register's worker, its store and its virtual register.
pub struct Rig {
    pub store: Arc<Store>,
    pub emulator: Emulator,
    pub health: Health,
    pub control: Control,
    shutdown: CancellationToken,
    worker: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub fn start() -> Rig {
        Rig::with_shift(ShiftPolicy::default())
    }

    pub fn with_shift(shift: ShiftPolicy) -> Rig {
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
        let (control, requests) = cashbox::control::channel();
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
        .with_clock(Arc::new(TokioClock::starting_at(Utc::now())))
        .with_requests(requests);
        Rig {
            store,
            emulator,
            health,
            control,
            shutdown,
            worker: tokio::spawn(worker.run()),
            _dir: dir,
        }
    }

    pub async fn cash_in(&self, id: &str, kopecks: u64) -> OperationId {
        let body = OperationBody::Cash(CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(kopecks),
        });
        self.submit(id, body).await
    }

    /// Stores an operation for the register, as the API would.
    pub async fn submit(&self, id: &str, body: OperationBody) -> OperationId {
        let id = OperationId::new(id).unwrap();
        let request = OperationRequest {
            body,
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
    pub async fn until(
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
                "{id} never became {what}: {:?}; register: {:?}, last error {:?}",
                op.state,
                self.health.lock().state,
                self.health.lock().last_error
            );
            self.store
                .wait_change(id, Duration::from_secs(1))
                .await
                .unwrap();
        }
    }

    /// Waits (in virtual time, a second at a go) until `done` holds of the register.
    pub async fn until_register(&self, what: &str, done: impl Fn(&Emulator) -> bool) {
        let give_up = tokio::time::Instant::now() + Duration::from_secs(3 * 3600);
        while !done(&self.emulator) {
            assert!(
                tokio::time::Instant::now() < give_up,
                "the register never: {what}"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.worker.await.unwrap();
    }
}

pub fn done(op: &Operation) -> bool {
    matches!(op.state, OpState::Done { .. })
}

pub fn failed_with(op: &Operation) -> Option<&str> {
    match &op.state {
        OpState::Failed { reason } => Some(&reason.code),
        _ => None,
    }
}

pub fn receipts_of(emulator: &Emulator, doc_type: u8) -> usize {
    emulator
        .archive()
        .iter()
        .filter(|d| d.doc_type == doc_type)
        .count()
}
