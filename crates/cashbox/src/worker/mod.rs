//! The cashbox worker: one per configured register. It takes operations from the queue in
//! FIFO order and moves them through the driver, keeping the two promises:
//!
//! * before the first non-idempotent command it durably records the snapshot that
//!   `reconcile` needs, so an unknown outcome can always be settled from the register's state;
//! * an unknown outcome is never retried: the operation goes to `Reconciling` and the driver
//!   decides from the FN whether it was done (its FD is recorded), not done (it is queued
//!   again), or needs an operator (this register's queue stops and says why).
//!
//! The worker never abandons a command on the wire: shutdown is checked only between driver
//! calls, and every driver call finishes its exchange. What to do next is decided in
//! [`crate::decide`]; this module reads the facts and does it:
//!
//! * `mod.rs` — the run loop and its [`Step`];
//! * `operation.rs` — processing and settling one operation, and its one `finish`;
//! * `waiting.rs` — waiting episodes and deadlines;
//! * `ready.rs` — making the register ready: shift opening, Z, resumed printing;
//! * `settle.rs` — requests from outside: archive reads and an operator's settlement;
//! * `watch.rs` — the idle watch.

mod operation;
mod ready;
mod settle;
mod waiting;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use driver::{Cashier, Register, RegisterError};
use queue::{RegisterId, Store};
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::condition::{Condition, RegisterState};
use crate::connect::Connector;
use crate::control::{Request, Requests};
use crate::decide::{self, Ledger, POLL_FIRST, POLL_MAX};
use crate::health::Health;
use crate::settings::{OperationPolicy, RegisterSettings};
use crate::shift::ShiftClock;

/// Why the loop stepped back.
#[derive(Debug)]
enum Step {
    /// Go round again at once.
    Again,
    /// The link is gone: drop the register and reconnect.
    Reconnect(String),
    /// Wait (back-off) before going round again.
    Backoff,
    /// An operator is needed: hold this register's queue.
    Halt(String),
}

/// One register's worker.
pub struct Worker {
    settings: RegisterSettings,
    register_id: RegisterId,
    store: Arc<Store>,
    connector: Connector,
    health: Health,
    shutdown: CancellationToken,
    clock: SharedClock,
    shift: ShiftClock,
    /// The register's clock minus this PC's (in the register's zone): the FN judges a shift's
    /// 24 hours by the register's clock, so the shift policy does too.
    clock_skew: chrono::Duration,
    /// When the register was last looked at while idle.
    watched: Option<tokio::time::Instant>,
    /// The opening of the current shift was searched for in the FN archive and not found.
    shift_search_failed: bool,
    /// Wait episodes, progress and repeated refusals.
    ledger: Ledger,
    /// Reconnections since the last finished operation: the next one waits longer.
    reconnects: u32,
    /// A Z report the policy asked for was refused (paper, cover …): not again before this.
    z_retry_after: Option<tokio::time::Instant>,
    /// Requests from outside (archive reads, settlements); none: nobody asks.
    requests: Option<Requests>,
    /// The operation this register is halted on, when it is.
    held: Option<queue::OperationId>,
    /// An operation finished since the register was last looked at: the day's facts (cash in
    /// the drawer, receipts in the shift) are read again once the queue is empty.
    facts_stale: bool,
}

impl Worker {
    /// A worker for `settings`, not yet running, on the system clock.
    pub fn new(
        settings: RegisterSettings,
        store: Arc<Store>,
        connector: Connector,
        policy: OperationPolicy,
        health: Health,
        shutdown: CancellationToken,
    ) -> Worker {
        let register_id = RegisterId::new(settings.id.clone());
        let shift = ShiftClock::new(settings.shift.clone());
        Worker {
            settings,
            register_id,
            store,
            connector,
            health,
            shutdown,
            clock: crate::clock::system(),
            shift,
            clock_skew: chrono::Duration::zero(),
            watched: None,
            shift_search_failed: false,
            ledger: Ledger::new(policy),
            reconnects: 0,
            z_retry_after: None,
            requests: None,
            held: None,
            facts_stale: false,
        }
    }

    /// The same worker answering `requests` (see [`crate::control`]).
    pub fn with_requests(mut self, requests: Requests) -> Worker {
        self.requests = Some(requests);
        self
    }

    /// The same worker reading its wall time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Worker {
        self.clock = clock;
        self
    }

    fn cashier(&self) -> Cashier {
        Cashier {
            name: self.settings.cashier_name.clone(),
            inn: self.settings.cashier_inn.clone(),
        }
    }

    /// Runs until shutdown.
    pub async fn run(mut self) {
        let mut register: Option<Register> = None;
        let mut backoff = POLL_FIRST;
        while !self.shutdown.is_cancelled() {
            let step = match register.as_mut() {
                None => match self.connect().await {
                    Ok(r) => {
                        register = Some(r);
                        backoff = POLL_FIRST;
                        Step::Again
                    }
                    Err(message) => {
                        self.set_state(Condition::no_link(message));
                        self.hold_waiting(Condition::no_link("")).await;
                        Step::Backoff
                    }
                },
                Some(r) => self.step(r).await,
            };
            match step {
                Step::Again => backoff = POLL_FIRST,
                Step::Backoff => {
                    self.pause(backoff).await;
                    backoff = decide::next_backoff(backoff);
                }
                Step::Reconnect(message) => {
                    tracing::warn!(register = %self.settings.id, %message, "link to the register lost; reconnecting");
                    self.error(message.clone());
                    self.set_state(Condition::no_link(message));
                    register = None;
                    // A link that keeps failing is reopened less and less often, until an
                    // operation goes through again.
                    self.pause(decide::reconnect_delay(self.reconnects)).await;
                    self.reconnects = self.reconnects.saturating_add(1);
                }
                Step::Halt(message) => {
                    tracing::error!(register = %self.settings.id, %message, "register needs an operator; its queue is held");
                    self.error(message.clone());
                    // The unsettled operation stays as it is, for a person. What queues behind
                    // it waits with the reason and fails at its deadline, so the POS learns;
                    // an operator's settlement (checked against the FN) lets it go on.
                    self.halted(&mut register, message).await;
                }
            }
        }
        tracing::info!(register = %self.settings.id, "worker stopped");
    }

    async fn connect(&mut self) -> Result<Register, String> {
        self.set_state(Condition::Connecting);
        let mut register = self.connector.connect().await.map_err(|e| e.to_string())?;
        let id = register.identity().await.map_err(|e| e.to_string())?;
        // The tape's width bounds what a text print may hold; a register that does not say
        // keeps the default.
        let width = register.print_width().await.ok();
        tracing::info!(register = %self.settings.id, model = %id.model, fn_number = %id.fn_number, rnm = %id.rnm, "register connected");
        {
            let mut h = self.health.lock();
            h.model = Some(id.model.clone());
            h.kkt_serial = Some(id.kkt_serial.clone());
            h.fn_number = Some(id.fn_number.clone());
            h.rnm = Some(id.rnm.clone());
            h.fn_expiry = id.fn_expiry;
            h.inn = Some(id.inn.clone());
            h.ffd_version = Some(id.ffd_version.clone());
            h.print_width = width.and_then(|w| u16::try_from(w).ok());
        }
        self.set_state(RegisterState::Ready);
        Ok(register)
    }

    /// One round: settle what is unsettled, keep the shift and the printer healthy, do the next
    /// operation.
    async fn step(&mut self, r: &mut Register) -> Step {
        // 1. Unknown outcomes first: nothing new is sent while one is unsettled.
        match self.store.unsettled(&self.register_id) {
            Ok(ops) if !ops.is_empty() => {
                for op in ops {
                    match self.settle(r, op).await {
                        Step::Again => {}
                        other => return other,
                    }
                }
                // Settling may itself lose a command (finishing a receipt left open): round
                // again, so nothing new is sent before every outcome is known.
                return Step::Again;
            }
            Ok(_) => {}
            Err(e) => return self.store_trouble(e),
        }
        // 2. Documents the FN closed but the printer did not finish.
        if let Some(step) = self.resume_printing(r).await {
            return step;
        }
        // 3. Look at the register now and then, also when idle.
        if let Some(step) = self.watch(r).await {
            return step;
        }
        // 4. Shift policy (Z before 24 h, daily Z).
        if let Some(step) = self.shift_policy(r).await {
            return step;
        }
        // 5. The next operation, or sleep until one arrives.
        let signal = self.store.work_signal(&self.register_id);
        let notified = signal.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let op = match self.store.next_for(&self.register_id) {
            Ok(op) => op,
            Err(e) => return self.store_trouble(e),
        };
        let Some(op) = op else {
            if self.facts_stale {
                self.facts_stale = false;
                if let Err(step) = self.read_facts(r).await {
                    return step;
                }
            }
            let request = tokio::select! {
                _ = &mut notified => None,
                _ = tokio::time::sleep(self.settings.watch_interval) => None,
                _ = self.shutdown.cancelled() => None,
                request = next_request(&mut self.requests) => request,
            };
            if let Some(request) = request {
                return self.answer(Some(r), request).await.unwrap_or(Step::Again);
            }
            return Step::Again;
        };
        self.process(r, op).await
    }

    /// What a failed driver call means for the loop.
    fn driver_trouble(&mut self, e: RegisterError) -> Step {
        match e {
            RegisterError::Link(e) => Step::Reconnect(e.to_string()),
            RegisterError::Unknown(u) => Step::Reconnect(u.to_string()),
            RegisterError::NotReady(reason) => {
                self.set_state(Condition::from(reason));
                Step::Backoff
            }
            RegisterError::Refused(refusal) => {
                let info = refusal.code.info();
                self.error(format!("{}: {}", refusal.command, info.russian));
                Step::Backoff
            }
            RegisterError::Rejected(rejection) => {
                self.error(rejection.to_string());
                Step::Backoff
            }
        }
    }

    fn store_trouble(&mut self, e: queue::StoreError) -> Step {
        tracing::error!(register = %self.settings.id, error = %e, "operation store error");
        self.error(format!("store: {e}"));
        Step::Backoff
    }

    /// Records an error for the status page.
    fn error(&self, message: String) {
        let now = self.clock.now();
        self.health.lock().error(now, message);
    }

    fn set_state(&self, state: impl Into<RegisterState>) {
        let state = state.into();
        let mut h = self.health.lock();
        if h.state != state {
            h.state = state;
        }
    }

    /// The register's local time: this PC's clock in its zone, plus its measured skew.
    fn register_now(&self) -> NaiveDateTime {
        self.pc_now() + self.clock_skew
    }

    /// This PC's clock in the register's zone.
    fn pc_now(&self) -> NaiveDateTime {
        self.clock
            .now()
            .with_timezone(&self.settings.utc_offset)
            .naive_local()
    }

    /// Holds the queue for a person until an accepted settlement or shutdown; answers
    /// requests meanwhile (reconnecting for them when the link was lost).
    async fn halted(&mut self, register: &mut Option<Register>, message: String) {
        let halted = Condition::halted(message.clone());
        let held = self
            .store
            .unsettled(&self.register_id)
            .ok()
            .and_then(|ops| ops.into_iter().next());
        self.held = held.as_ref().map(|op| op.id.clone());
        self.health.lock().halted = held.map(|op| crate::health::Halt {
            operation_id: op.id.to_string(),
            reason: message,
        });
        while !self.shutdown.is_cancelled() {
            self.hold_waiting(halted.clone()).await;
            self.set_state(halted.clone());
            let request = tokio::select! {
                _ = tokio::time::sleep(POLL_MAX) => None,
                _ = self.shutdown.cancelled() => None,
                request = next_request(&mut self.requests) => request,
            };
            let Some(request) = request else { continue };
            if register.is_none() {
                *register = self.connect().await.ok();
                self.set_state(halted.clone());
            }
            match self.answer(register.as_mut(), request).await {
                Some(Step::Again) => break,
                Some(Step::Reconnect(message)) => {
                    tracing::warn!(register = %self.settings.id, %message, "link lost while halted");
                    *register = None;
                }
                _ => {}
            }
        }
        self.held = None;
        self.health.lock().halted = None;
    }

    async fn pause(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.shutdown.cancelled() => {}
        }
    }
}

/// The next request, or never when nobody can ask.
async fn next_request(requests: &mut Option<Requests>) -> Option<Request> {
    match requests {
        Some(r) => match r.rx.recv().await {
            Some(request) => Some(request),
            // Every sender is gone: nobody will ask again.
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}
