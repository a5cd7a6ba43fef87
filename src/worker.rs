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
//! calls, and every driver call finishes its exchange.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use driver::{
    Cashier, DeviceError, Intent, NotReadyReason, Readiness, Register, RegisterError, Rejection,
    Verdict,
};
use fiscal_model::{CashMovementKind, Completion, OperationBody};
use queue::{OpState, Operation, OperationId, Reason, RegisterId, Store};
use tokio_util::sync::CancellationToken;

use crate::config::RegisterSettings;
use crate::connect::Connector;
use crate::health::{Health, RecentOperation, RegisterState};
use crate::observe::names;
use crate::shift::{ShiftClock, SHIFT_OPENING_SEARCH};

/// Back-off while the register is not ready or unreachable: first poll, and the ceiling.
const POLL_FIRST: Duration = Duration::from_millis(200);
const POLL_MAX: Duration = Duration::from_secs(5);
/// How often an idle worker looks at the shift clock and at documents left unprinted.
/// Unsent OFD documents older than this many days are logged as a warning at every look.
const OFD_WARN_DAYS: i64 = 3;

/// Reason codes ([`NotReadyReason::code`]) that are the register's passing state, not the
/// operation's fault: an operation meeting one waits (until the deadline) however often.
const WAITING_CONDITIONS: [&str; 9] = [
    "NO_LINK",
    "COVER_OPEN",
    "NO_PAPER",
    "WAIT_CONTINUE_PRINT",
    "PRINTING",
    "SHIFT_OVER_24H",
    "SHIFT_CLOSED",
    "DATE_CONFIRMATION",
    "NEEDS_OPERATOR",
];

/// How the worker bounds an operation that cannot go through.
#[derive(Debug, Clone, Copy)]
pub struct OperationPolicy {
    /// A register that cannot work holds an operation this long (from the start of the wait
    /// episode) before it fails with the reason.
    pub deadline: Duration,
    /// An operation refused this many times for the same reason that is not a waiting
    /// condition fails with it.
    pub max_repeats: u32,
}

/// Why the loop stepped back.
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
    policy: OperationPolicy,
    health: Health,
    shutdown: CancellationToken,
    shift: ShiftClock,
    /// The register's clock minus this PC's (in the register's zone): the FN judges a shift's
    /// 24 hours by the register's clock, so the shift policy does too.
    clock_skew: chrono::Duration,
    /// When the register was last looked at while idle.
    watched: Option<tokio::time::Instant>,
    /// The opening of the current shift was searched for in the FN archive and not found.
    shift_search_failed: bool,
    /// When the register last finished an operation (done, or refused for a reason of its
    /// own): a wait that began before it belongs to an episode that ended. Only progress ends
    /// an episode: a register that looks ready but fails every attempt keeps it running, so its
    /// deadline fires.
    last_progress: Option<DateTime<Utc>>,
    /// The start of each pending operation's current wait episode, also while it is being
    /// retried (its stored state is then not `Waiting`).
    episodes: HashMap<OperationId, DateTime<Utc>>,
    /// The last refusal that is not a waiting condition, per operation, and how often it came.
    repeats: Repeats,
    /// Reconnections since the last finished operation: the next one waits longer.
    reconnects: u32,
    /// A Z report the policy asked for was refused (paper, cover …): not again before this.
    z_retry_after: Option<tokio::time::Instant>,
}

impl Worker {
    /// A worker for `settings`, not yet running.
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
            policy,
            health,
            shutdown,
            shift,
            clock_skew: chrono::Duration::zero(),
            watched: None,
            shift_search_failed: false,
            last_progress: None,
            episodes: HashMap::new(),
            repeats: Repeats::default(),
            reconnects: 0,
            z_retry_after: None,
        }
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
                        self.set_state(RegisterState::NoLink {
                            message: message.clone(),
                        });
                        self.hold_waiting("NO_LINK", "Нет связи с ККТ.", None).await;
                        Step::Backoff
                    }
                },
                Some(r) => self.step(r).await,
            };
            match step {
                Step::Again => backoff = POLL_FIRST,
                Step::Backoff => {
                    self.pause(backoff).await;
                    backoff = (backoff * 2).min(POLL_MAX);
                }
                Step::Reconnect(message) => {
                    tracing::warn!(register = %self.settings.id, %message, "link to the register lost; reconnecting");
                    self.health.lock().error(message.clone());
                    self.set_state(RegisterState::NoLink { message });
                    register = None;
                    // A link that keeps failing is reopened less and less often, until an
                    // operation goes through again.
                    if self.reconnects > 0 {
                        let exp = self.reconnects.min(6);
                        self.pause((POLL_FIRST * 2u32.pow(exp)).min(POLL_MAX)).await;
                    }
                    self.reconnects = self.reconnects.saturating_add(1);
                }
                Step::Halt(message) => {
                    tracing::error!(register = %self.settings.id, %message, "register needs an operator; its queue is held");
                    self.health.lock().error(message.clone());
                    // The unsettled operation stays as it is, for a person. What queues behind
                    // it waits with the reason and fails at its deadline, so the POS learns.
                    let reason = format!("ККТ остановлена, нужен оператор: {message}");
                    while !self.shutdown.is_cancelled() {
                        self.hold_waiting("NEEDS_OPERATOR", &reason, None).await;
                        self.set_state(RegisterState::Halted {
                            message: message.clone(),
                        });
                        self.pause(POLL_MAX).await;
                    }
                }
            }
        }
        tracing::info!(register = %self.settings.id, "worker stopped");
    }

    async fn connect(&mut self) -> Result<Register, String> {
        self.set_state(RegisterState::Connecting);
        let mut register = self.connector.connect().await.map_err(|e| e.to_string())?;
        match register.identity().await {
            Ok(id) => {
                tracing::info!(register = %self.settings.id, model = %id.model, fn_number = %id.fn_number, rnm = %id.rnm, "register connected");
                let mut h = self.health.lock();
                h.model = Some(id.model.clone());
                h.kkt_serial = Some(id.kkt_serial.clone());
                h.fn_number = Some(id.fn_number.clone());
                h.rnm = Some(id.rnm.clone());
                h.fn_expiry = id.fn_expiry;
            }
            Err(e) => return Err(e.to_string()),
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
                    match self.settle(r, &op).await {
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
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(self.settings.watch_interval) => {}
                _ = self.shutdown.cancelled() => {}
            }
            return Step::Again;
        };
        self.process(r, op).await
    }

    async fn process(&mut self, r: &mut Register, op: Operation) -> Step {
        // No deadline check here: a register that is ready now takes the operation, however
        // long it waited. The deadline applies while the register cannot work (`wait_with`).
        // Make the register ready: open a shift on demand, Z when expired, finish printing.
        match self.make_ready(r).await {
            Ok(None) => {}
            Ok(Some(reason)) => return self.wait_for(&op, reason).await,
            Err(e) => return self.driver_trouble(e),
        }
        let snapshot = match r.snapshot().await {
            Ok(s) => s,
            Err(e) => return self.driver_trouble(e),
        };
        let snapshot_json = match recorded(&snapshot) {
            Ok(v) => v,
            Err(step) => return step,
        };
        // Durable before the first non-idempotent command (invariant 2).
        if let Err(e) = self
            .store
            .transition(
                &op.id,
                OpState::Sending {
                    snapshot: snapshot_json.clone(),
                },
                "sending",
            )
            .await
        {
            return self.store_trouble(e);
        }
        tracing::info!(operation = %op.id, register = %self.settings.id, "sent to the register");
        let started = std::time::Instant::now();
        let result = match &op.request.body {
            OperationBody::Receipt(receipt) => r
                .fiscalize(receipt, &self.settings.taxes, Some(&self.cashier()))
                .await
                .map(Completion::Receipt),
            OperationBody::Cash(movement) => r.cash(*movement).await.map(Completion::Cash),
        };
        metrics::histogram!(names::FISCALIZATION_SECONDS, "register" => self.settings.id.clone())
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(completion) => self.complete(&op, completion).await,
            Err(RegisterError::Unknown(unknown)) => {
                tracing::warn!(operation = %op.id, register = %self.settings.id, detail = %unknown, "outcome unknown; settling from the register's state");
                let snapshot = match recorded(&snapshot.lost_at(unknown.command)) {
                    Ok(v) => v,
                    Err(step) => return step,
                };
                let note = format!("unknown outcome: {unknown}");
                if let Err(step) = self.reconciling(&op, snapshot, &note).await {
                    return step;
                }
                // Settled at the start of the next round, on this link while it still answers;
                // a link that does not answer fails the reads and leads to a reconnect.
                Step::Again
            }
            Err(RegisterError::Link(e)) => {
                // Proven not executed (§2.7): the operation waits for the link, in the same
                // wait episode as before (its deadline keeps running across retries).
                let reason = Reason {
                    code: "NO_LINK".into(),
                    message: "Нет связи с ККТ.".into(),
                    device_error: None,
                };
                // The link itself may be fine (a frame refused on a noisy line): the next
                // round's reads tell, and only a link that does not answer them is reopened.
                tracing::info!(operation = %op.id, register = %self.settings.id, error = %e, "not executed; trying again");
                self.wait_one(&op, reason).await
            }
            Err(RegisterError::NotReady(reason)) => self.wait_for(&op, reason).await,
            Err(RegisterError::Rejected(rejection)) => self.reject(&op, rejection).await,
            Err(RegisterError::Refused(refusal)) => {
                self.settle_refusal(r, &op, snapshot_json, refusal).await
            }
        }
    }

    /// The operation cannot be made as asked and nothing fiscal was made: it fails at once.
    async fn reject(&mut self, op: &Operation, rejection: Rejection) -> Step {
        tracing::warn!(operation = %op.id, register = %self.settings.id, reason = %rejection, "operation rejected");
        let reason = Reason {
            code: rejection.code.into(),
            message: rejection.message,
            device_error: None,
        };
        self.fail_progress(op, reason).await
    }

    /// The register refused a command of the operation. A refusal may come after a command
    /// that made a document (0x55 "no receipt open" after a close that did execute), so it is
    /// never taken at its word: the register's own state settles it first, and only a
    /// register that proves it made nothing lets the operation fail or wait.
    async fn settle_refusal(
        &mut self,
        r: &mut Register,
        op: &Operation,
        snapshot_json: serde_json::Value,
        refusal: DeviceError,
    ) -> Step {
        let code = refusal.code;
        let info = code.info();
        metrics::counter!(names::DEVICE_ERRORS, "register" => self.settings.id.clone(), "code" => info.code).increment(1);
        self.health.lock().error(format!(
            "{}: {} ({:#04x})",
            refusal.command, info.russian, code.0
        ));
        let note = format!("refused: {refusal}; settling from the register's state");
        if let Err(step) = self.reconciling(op, snapshot_json.clone(), &note).await {
            return step;
        }
        let verdict = match self.verdict(r, op, snapshot_json).await {
            Ok(verdict) => verdict,
            // Still Reconciling: the next round settles it like any unknown outcome.
            Err(step) => return step,
        };
        let reason = Reason {
            code: info.code.to_string(),
            message: info.russian.to_string(),
            device_error: Some(code.0),
        };
        match verdict {
            Verdict::NotDone if refusal.is_transient() => {
                tracing::info!(operation = %op.id, register = %self.settings.id, error = %info.russian, "refused, nothing made; waiting");
                self.not_ready(op, reason, passing_refusal(&refusal)).await
            }
            Verdict::NotDone => {
                tracing::warn!(operation = %op.id, register = %self.settings.id, error = %info.russian, "register refused the operation; it made nothing");
                self.fail_progress(op, reason).await
            }
            other => self.apply_verdict(op, other).await,
        }
    }

    /// Records that `op`'s outcome is being settled from the register's state, with the
    /// snapshot (and the lost command) reconcile compares against.
    async fn reconciling(
        &mut self,
        op: &Operation,
        snapshot: serde_json::Value,
        note: &str,
    ) -> Result<(), Step> {
        match self
            .store
            .transition(&op.id, OpState::Reconciling { snapshot }, note)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(self.store_trouble(e)),
        }
    }

    /// Settles an operation left in Sending or Reconciling.
    async fn settle(&mut self, r: &mut Register, op: &Operation) -> Step {
        let snapshot_json = match &op.state {
            OpState::Sending { snapshot } | OpState::Reconciling { snapshot } => snapshot.clone(),
            _ => return Step::Again,
        };
        if matches!(op.state, OpState::Sending { .. }) {
            let note = "settling after restart";
            if let Err(step) = self.reconciling(op, snapshot_json.clone(), note).await {
                return step;
            }
        }
        if let Some(step) = self.resume(r, op, &snapshot_json).await {
            return step;
        }
        match self.verdict(r, op, snapshot_json).await {
            Ok(verdict) => self.apply_verdict(op, verdict).await,
            Err(step) => step,
        }
    }

    /// A receipt whose lost command left it open with the items that landed is finished
    /// rather than cancelled and made again (§10.3 step 4); `None` when the register's state
    /// does not show that, and `reconcile` settles it.
    async fn resume(
        &mut self,
        r: &mut Register,
        op: &Operation,
        snapshot_json: &serde_json::Value,
    ) -> Option<Step> {
        let OperationBody::Receipt(receipt) = &op.request.body else {
            return None;
        };
        let snapshot: driver::Snapshot = serde_json::from_value(snapshot_json.clone()).ok()?;
        snapshot.lost_command.as_ref()?;
        let cashier = self.cashier();
        match r
            .resume_receipt(&snapshot, receipt, &self.settings.taxes, Some(&cashier))
            .await
        {
            Ok(Some(fiscal)) => {
                tracing::info!(operation = %op.id, register = %self.settings.id, "settled: the receipt left open was finished");
                Some(self.complete(op, Completion::Receipt(fiscal)).await)
            }
            Ok(None) => None,
            Err(RegisterError::Unknown(unknown)) => {
                // Lost again while finishing: what was sent whole is now up to this command.
                let snapshot = match recorded(&snapshot.lost_at(unknown.command)) {
                    Ok(v) => v,
                    Err(step) => return Some(step),
                };
                let note = format!("unknown outcome while finishing: {unknown}");
                Some(match self.reconciling(op, snapshot, &note).await {
                    Ok(()) => Step::Again,
                    Err(step) => step,
                })
            }
            Err(RegisterError::Rejected(rejection)) => Some(self.reject(op, rejection).await),
            // A refusal cancelled the receipt; reconcile now finds nothing made.
            Err(RegisterError::Refused(_)) => None,
            Err(e) => Some(self.driver_trouble(e)),
        }
    }

    /// What the register's own state says became of `op` since `snapshot_json` was taken.
    async fn verdict(
        &mut self,
        r: &mut Register,
        op: &Operation,
        snapshot_json: serde_json::Value,
    ) -> Result<Verdict, Step> {
        let snapshot = match serde_json::from_value(snapshot_json) {
            Ok(s) => s,
            Err(e) => {
                return Err(Step::Halt(format!(
                    "operation {}: stored snapshot unreadable: {e}",
                    op.id
                )))
            }
        };
        let intent = match &op.request.body {
            OperationBody::Receipt(receipt) => Intent::Receipt {
                receipt_type: receipt.receipt_type,
                total: receipt.total,
            },
            OperationBody::Cash(movement) => Intent::Cash(*movement),
        };
        r.reconcile(&snapshot, &intent)
            .await
            .map_err(|e| self.driver_trouble(e))
    }

    /// Records a settled verdict: done, queued again, or the register halted for a person.
    async fn apply_verdict(&mut self, op: &Operation, verdict: Verdict) -> Step {
        match verdict {
            Verdict::Done(completion) => {
                tracing::info!(operation = %op.id, register = %self.settings.id, "settled: the register had done it");
                self.complete(op, completion).await
            }
            Verdict::NotDone => {
                tracing::info!(operation = %op.id, register = %self.settings.id, "settled: not done; queued again");
                match self
                    .store
                    .transition(&op.id, OpState::Queued, "settled: not done, queued again")
                    .await
                {
                    Ok(_) => Step::Again,
                    Err(e) => self.store_trouble(e),
                }
            }
            Verdict::NeedsOperator(reason) => Step::Halt(format!("operation {}: {reason}", op.id)),
            // Only asked for receipts and cash movements, which never settle as a shift report.
            Verdict::ShiftDone(_) => Step::Halt(format!(
                "operation {}: the register reported a shift report for a receipt",
                op.id
            )),
        }
    }

    async fn complete(&mut self, op: &Operation, completion: Completion) -> Step {
        let detail = match &completion {
            Completion::Receipt(f) => format!(
                "FD {} ФПД {}{}",
                f.fd_number,
                f.fiscal_sign,
                if f.not_printed {
                    " (не допечатан)"
                } else {
                    ""
                }
            ),
            Completion::Cash(c) => format!("документ {}", c.document_number),
        };
        if let Err(e) = self
            .store
            .transition(&op.id, OpState::Done { completion }, &detail)
            .await
        {
            return self.store_trouble(e);
        }
        tracing::info!(operation = %op.id, register = %self.settings.id, %detail, "done");
        self.progressed(&op.id);
        metrics::counter!(names::OPERATIONS, "register" => self.settings.id.clone(), "kind" => kind_name(&op.request.body), "result" => "done").increment(1);
        self.health.lock().finished(RecentOperation {
            id: op.id.to_string(),
            kind: kind_name(&op.request.body).into(),
            outcome: "done".into(),
            detail,
            at: Utc::now(),
        });
        Step::Again
    }

    /// The register worked (it made the document, or refused it for a reason of its own):
    /// every wait episode so far is over.
    fn progressed(&mut self, id: &OperationId) {
        self.last_progress = Some(Utc::now());
        self.reconnects = 0;
        self.episodes.clear();
        self.repeats.forget(id);
    }

    /// Fails `op` for a reason the register gave about this very operation: progress.
    async fn fail_progress(&mut self, op: &Operation, reason: Reason) -> Step {
        self.progressed(&op.id);
        self.fail(op, reason).await
    }

    async fn fail(&mut self, op: &Operation, reason: Reason) -> Step {
        self.episodes.remove(&op.id);
        self.repeats.forget(&op.id);
        let detail = format!("{} ({})", reason.message, reason.code);
        if let Err(e) = self
            .store
            .transition(&op.id, OpState::Failed { reason }, &detail)
            .await
        {
            return self.store_trouble(e);
        }
        tracing::warn!(operation = %op.id, register = %self.settings.id, %detail, "failed");
        metrics::counter!(names::OPERATIONS, "register" => self.settings.id.clone(), "kind" => kind_name(&op.request.body), "result" => "failed").increment(1);
        self.health.lock().finished(RecentOperation {
            id: op.id.to_string(),
            kind: kind_name(&op.request.body).into(),
            outcome: "failed".into(),
            detail,
            at: Utc::now(),
        });
        Step::Again
    }

    async fn wait_for(&mut self, op: &Operation, reason: NotReadyReason) -> Step {
        let passing = WAITING_CONDITIONS.contains(&reason.code());
        let reason = Reason {
            code: reason.code().to_string(),
            message: reason.russian().to_string(),
            device_error: None,
        };
        self.not_ready(op, reason, passing).await
    }

    /// The register is connected but cannot work: it shows the reason, and `op` with everything
    /// queued behind it waits.
    /// `passing`: the reason is a passing state of the register (cover, paper, link, shift),
    /// which waits until the deadline however often it comes; any other reason met
    /// `max_repeats` times fails the operation with it.
    async fn not_ready(&mut self, op: &Operation, reason: Reason, passing: bool) -> Step {
        self.set_state(RegisterState::NotReady {
            code: reason.code.clone(),
            message: reason.message.clone(),
        });
        if !passing {
            // The same answer again and again means this operation will not go through, so it
            // fails instead of looping until the deadline.
            let times = self.repeats.record(&op.id, &reason.code);
            if times >= self.policy.max_repeats {
                tracing::warn!(operation = %op.id, register = %self.settings.id, reason = %reason.message, times, "the same refusal again; failing the operation");
                return self.fail(op, reason).await;
            }
        }
        self.wait_with(op, reason).await
    }

    /// `op` cannot go on now: it and everything queued behind it wait with `reason` (written
    /// only when the reason changes; each from the start of its own episode), whatever is past
    /// the deadline fails, and the worker backs off.
    async fn wait_with(&mut self, op: &Operation, reason: Reason) -> Step {
        let mut step = self.wait_one(op, reason.clone()).await;
        let behind = match self.store.pending(&self.register_id) {
            Ok(ops) => ops,
            Err(e) => return self.store_trouble(e),
        };
        for other in behind.iter().filter(|o| o.id != op.id) {
            match self.wait_one(other, reason.clone()).await {
                Step::Backoff => {}
                Step::Again => step = Step::Again,
                trouble => return trouble,
            }
        }
        step
    }

    async fn wait_one(&mut self, op: &Operation, reason: Reason) -> Step {
        let current = self.store.get(&op.id).ok().flatten().map(|o| o.state);
        // A wait from before the register last made progress belongs to an episode that ended.
        let (same, since) = match &current {
            Some(OpState::Waiting { reason: r, since }) if !self.episode_ended(*since) => {
                (r.code == reason.code, *since)
            }
            _ => (false, self.episode_start(&op.id)),
        };
        self.episodes.insert(op.id.clone(), since);
        if !same {
            tracing::info!(operation = %op.id, register = %self.settings.id, reason = %reason.message, "waiting");
            // The deadline runs from the first wait of this episode, whatever the reason now.
            if let Err(e) = self
                .store
                .transition(
                    &op.id,
                    OpState::Waiting { reason, since },
                    "register not ready",
                )
                .await
            {
                return self.store_trouble(e);
            }
        }
        if let Some(step) = self.fail_if_past_deadline(op).await {
            return step;
        }
        Step::Backoff
    }

    /// While there is no link or the register is halted, the queue shows why it waits, and fails
    /// after the deadline; the register's state stays what the caller set.
    async fn hold_waiting(&mut self, code: &str, message: &str, device_error: Option<u8>) {
        let Ok(Some(op)) = self.store.next_for(&self.register_id) else {
            return;
        };
        let reason = Reason {
            code: code.into(),
            message: message.into(),
            device_error,
        };
        let _ = self.wait_with(&op, reason).await;
    }

    /// Fails `op` with its waiting reason once it has waited longer than the deadline. The
    /// clock starts when the operation first had to wait in this episode (a re-posted failed
    /// operation starts afresh), not when it was created.
    /// The register has made progress since `since`: a wait that began then is over.
    fn episode_ended(&self, since: DateTime<Utc>) -> bool {
        self.last_progress.is_some_and(|at| at > since)
    }

    /// When `op`'s current wait episode began: kept while it is retried (then its stored
    /// state is Queued or Sending, not Waiting), now if it has none.
    fn episode_start(&self, id: &OperationId) -> DateTime<Utc> {
        self.episodes
            .get(id)
            .copied()
            .filter(|since| !self.episode_ended(*since))
            .unwrap_or_else(Utc::now)
    }

    async fn fail_if_past_deadline(&mut self, op: &Operation) -> Option<Step> {
        let fresh = self.store.get(&op.id).ok().flatten()?;
        let OpState::Waiting { reason, since } = &fresh.state else {
            return None;
        };
        if self.episode_ended(*since) {
            return None;
        }
        let waited = (Utc::now() - *since).to_std().unwrap_or_default();
        if waited < self.policy.deadline {
            return None;
        }
        let reason = reason.clone();
        Some(self.fail(&fresh, reason).await)
    }

    /// Brings the register to "ready for a document"; `Some(reason)` when it cannot be.
    async fn make_ready(
        &mut self,
        r: &mut Register,
    ) -> Result<Option<NotReadyReason>, RegisterError> {
        for _ in 0..4 {
            let status = r.status().await?;
            let reason = match status.readiness {
                Readiness::Ready => {
                    self.set_state(RegisterState::Ready);
                    return Ok(None);
                }
                Readiness::NotReady(reason) => reason,
            };
            match reason {
                NotReadyReason::ShiftClosed if self.settings.shift.open_on_demand => {
                    self.open_shift(r).await?
                }
                NotReadyReason::ShiftExpired if self.settings.shift.close_before_24h => {
                    self.close_shift(r).await?;
                    if self.settings.shift.open_on_demand {
                        self.open_shift(r).await?;
                    }
                }
                // No unsettled operation owns it (they were settled first): a leftover.
                NotReadyReason::ReceiptOpen => {
                    tracing::warn!(register = %self.settings.id, "a receipt was left open on the register; cancelling it");
                    r.cancel_receipt().await?;
                }
                NotReadyReason::WaitingContinuePrint => r.continue_printing().await?,
                NotReadyReason::Printing => r.wait_printed().await.map(|_| ())?,
                other => return Ok(Some(other)),
            }
        }
        Ok(Some(NotReadyReason::Other("ККТ не готова.".into())))
    }

    async fn open_shift(&mut self, r: &mut Register) -> Result<(), RegisterError> {
        let report = r.open_shift(&self.cashier()).await?;
        tracing::info!(register = %self.settings.id, shift = report.shift_number, fd = report.fd_number, "shift opened");
        let now = self.register_now();
        self.shift.opened(now);
        let mut h = self.health.lock();
        h.shift_opened_at = Some(now);
        h.shift_opened_at_utc = Some(Utc::now());
        h.shift_number = Some(report.shift_number);
        Ok(())
    }

    async fn close_shift(&mut self, r: &mut Register) -> Result<(), RegisterError> {
        let report = r.z_report(&self.cashier()).await?;
        tracing::info!(register = %self.settings.id, shift = report.shift_number, fd = report.fd_number, "shift closed (Z report)");
        self.shift.closed(self.register_now());
        self.shift_search_failed = false;
        let mut h = self.health.lock();
        h.shift_opened_at = None;
        h.shift_opened_at_utc = None;
        Ok(())
    }

    async fn shift_policy(&mut self, r: &mut Register) -> Option<Step> {
        if !self.shift.close_due(self.register_now()) {
            return None;
        }
        if self
            .z_retry_after
            .is_some_and(|t| tokio::time::Instant::now() < t)
        {
            return None;
        }
        match self.close_shift(r).await {
            Ok(()) => None,
            // Paper, cover, or the shift already closed by hand: try again after the next look
            // at the register (which also learns whether the shift is still open).
            Err(RegisterError::Refused(_)) | Err(RegisterError::NotReady(_)) => {
                self.z_retry_after =
                    Some(tokio::time::Instant::now() + self.settings.watch_interval);
                self.watched = None;
                None
            }
            Err(e) => Some(self.driver_trouble(e)),
        }
    }

    async fn resume_printing(&mut self, r: &mut Register) -> Option<Step> {
        let ops = match self.store.not_printed(&self.register_id) {
            Ok(ops) if !ops.is_empty() => ops,
            Ok(_) => return None,
            Err(e) => return Some(self.store_trouble(e)),
        };
        let status = match r.status().await {
            Ok(s) => s,
            Err(e) => return Some(self.driver_trouble(e)),
        };
        match status.readiness {
            Readiness::NotReady(NotReadyReason::WaitingContinuePrint) => {
                if let Err(e) = r.continue_printing().await {
                    return Some(self.driver_trouble(e));
                }
                match r.wait_printed().await {
                    // Interrupted again (paper or cover): still not printed.
                    Ok(after) if matches!(after.submode, 1..=3) => return None,
                    Ok(_) => {}
                    Err(e) => return Some(self.driver_trouble(e)),
                }
            }
            Readiness::Ready => {}
            // Paper still out: the next operation will wait with the reason.
            Readiness::NotReady(_) => return None,
        }
        for op in ops {
            if let OpState::Done {
                completion: Completion::Receipt(mut fiscal),
            } = op.state.clone()
            {
                fiscal.not_printed = false;
                if let Err(e) = self
                    .store
                    .transition(
                        &op.id,
                        OpState::Done {
                            completion: Completion::Receipt(fiscal),
                        },
                        "printing finished",
                    )
                    .await
                {
                    return Some(self.store_trouble(e));
                }
                tracing::info!(operation = %op.id, register = %self.settings.id, "receipt printed after paper was loaded");
            }
        }
        None
    }

    fn driver_trouble(&mut self, e: RegisterError) -> Step {
        match e {
            RegisterError::Link(e) => Step::Reconnect(e.to_string()),
            RegisterError::Unknown(u) => Step::Reconnect(u.to_string()),
            RegisterError::NotReady(reason) => {
                self.set_state(RegisterState::NotReady {
                    code: reason.code().to_string(),
                    message: reason.russian().to_string(),
                });
                Step::Backoff
            }
            RegisterError::Refused(refusal) => {
                let info = refusal.code.info();
                self.health
                    .lock()
                    .error(format!("{}: {}", refusal.command, info.russian));
                Step::Backoff
            }
            RegisterError::Rejected(rejection) => {
                self.health.lock().error(rejection.to_string());
                Step::Backoff
            }
        }
    }

    fn store_trouble(&mut self, e: queue::StoreError) -> Step {
        tracing::error!(register = %self.settings.id, error = %e, "operation store error");
        self.health.lock().error(format!("store: {e}"));
        Step::Backoff
    }

    fn set_state(&self, state: RegisterState) {
        let mut h = self.health.lock();
        if h.state != state {
            h.state = state;
        }
    }

    fn register_now(&self) -> NaiveDateTime {
        Utc::now()
            .with_timezone(&self.settings.utc_offset)
            .naive_local()
            + self.clock_skew
    }

    /// At connecting and then every `watch_seconds`: reads what the status page, the metrics
    /// and the shift policy need, so an idle register's cover, paper, link, shift and OFD
    /// backlog stay current, and a shift opened before this process started is known (and
    /// closed before 24 h like any other).
    async fn watch(&mut self, r: &mut Register) -> Option<Step> {
        if self
            .watched
            .is_some_and(|t| t.elapsed() < self.settings.watch_interval)
        {
            return None;
        }
        self.watched = Some(tokio::time::Instant::now());
        self.look(r).await.err()
    }

    /// One look for [`Worker::watch`]; `Err` is the step a lost link calls for.
    async fn look(&mut self, r: &mut Register) -> Result<(), Step> {
        let status = r.status().await.map_err(|e| self.driver_trouble(e))?;
        let policy = &self.settings.shift;
        match status.readiness {
            Readiness::NotReady(NotReadyReason::ShiftClosed) if policy.open_on_demand => {
                self.set_state(RegisterState::Ready)
            }
            Readiness::NotReady(NotReadyReason::ShiftExpired) if policy.close_before_24h => {
                self.set_state(RegisterState::Ready)
            }
            Readiness::NotReady(
                NotReadyReason::Printing | NotReadyReason::WaitingContinuePrint,
            )
            | Readiness::Ready => self.set_state(RegisterState::Ready),
            Readiness::NotReady(reason) => self.set_state(RegisterState::NotReady {
                code: reason.code().to_string(),
                message: reason.russian().to_string(),
            }),
        }
        if let Some(clock) = self.unless_refused(r.clock_now().await)? {
            let pc = Utc::now()
                .with_timezone(&self.settings.utc_offset)
                .naive_local();
            self.clock_skew = clock - pc;
        }
        // The archive is searched once per shift this worker did not open itself, and not
        // again when the opening lies further back than the search goes.
        let fn_shift_open = self
            .unless_refused(r.fn_status().await)?
            .map(|f| f.shift_open);
        let opened = match (fn_shift_open, self.shift.opened_at()) {
            (Some(false), _) => {
                self.shift_search_failed = false;
                self.shift.closed(self.register_now());
                None
            }
            (Some(true), Some(at)) | (None, Some(at)) => Some(at),
            (Some(true), None) if self.shift_search_failed => None,
            (Some(true), None) => {
                match self.unless_refused(r.shift_opened_at(SHIFT_OPENING_SEARCH).await)? {
                    Some(Some(at)) => {
                        self.shift.opened(at);
                        Some(at)
                    }
                    Some(None) => {
                        tracing::warn!(register = %self.settings.id, "the open shift began more than {SHIFT_OPENING_SEARCH} documents ago; only the register's own 24-hour refusal will close it");
                        self.shift_search_failed = true;
                        None
                    }
                    None => None,
                }
            }
            (None, None) => None,
        };
        let backlog = self.unless_refused(r.ofd_backlog().await)?;
        let offset = self.settings.utc_offset;
        let mut h = self.health.lock();
        h.shift_opened_at = opened;
        h.shift_opened_at_utc = opened
            .and_then(|t| t.and_local_timezone(offset).single())
            .map(|t| t.with_timezone(&Utc) - self.clock_skew);
        if let Some(b) = backlog {
            h.ofd_unsent = Some(b.unsent);
            h.ofd_oldest = b.oldest;
            if let Some(oldest) = b.oldest.filter(|_| b.unsent > 0) {
                let days = (self.register_now() - oldest).num_days();
                if days >= OFD_WARN_DAYS {
                    tracing::warn!(register = %self.settings.id, unsent = b.unsent, %oldest, days, "documents not sent to the OFD for days; the FN blocks at 30");
                }
            }
        }
        Ok(())
    }

    /// A read the register may refuse (then its answer is simply not known), while a lost
    /// link or an unknown outcome is the step to take.
    fn unless_refused<T>(&mut self, result: Result<T, RegisterError>) -> Result<Option<T>, Step> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e @ (RegisterError::Link(_) | RegisterError::Unknown(_))) => {
                Err(self.driver_trouble(e))
            }
            Err(_) => Ok(None),
        }
    }

    async fn pause(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.shutdown.cancelled() => {}
        }
    }
}

/// A device refusal that is a passing state of the register (paper, cover, shift, link, still
/// printing), not an answer about the operation (wrong mode …): the former waits, the latter is
/// counted.
fn passing_refusal(refusal: &DeviceError) -> bool {
    use shtrih_proto::error::ErrorClass;
    matches!(
        refusal.code.info().class,
        ErrorClass::Paper
            | ErrorClass::Cover
            | ErrorClass::Shift
            | ErrorClass::Link
            | ErrorClass::Busy
    )
}

/// How often each operation met the same refusal that is not a passing state.
#[derive(Debug, Default)]
struct Repeats(HashMap<OperationId, (String, u32)>);

impl Repeats {
    /// Counts `code` for `id` and returns how often it came in a row (another code starts the
    /// count again).
    fn record(&mut self, id: &OperationId, code: &str) -> u32 {
        let entry = self
            .0
            .entry(id.clone())
            .or_insert_with(|| (code.to_string(), 0));
        if entry.0 != code {
            *entry = (code.to_string(), 0);
        }
        entry.1 += 1;
        entry.1
    }

    /// The operation finished: its count goes.
    fn forget(&mut self, id: &OperationId) {
        self.0.remove(id);
    }
}

/// A snapshot as the store records it.
fn recorded(snapshot: &driver::Snapshot) -> Result<serde_json::Value, Step> {
    serde_json::to_value(snapshot).map_err(|e| Step::Halt(format!("cannot record snapshot: {e}")))
}

fn kind_name(body: &OperationBody) -> &'static str {
    match body {
        OperationBody::Receipt(_) => "receipt",
        OperationBody::Cash(m) if m.kind == CashMovementKind::In => "cash_in",
        OperationBody::Cash(_) => "cash_out",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shtrih_proto::error::ErrorCode;

    fn id(s: &str) -> OperationId {
        OperationId::new(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn the_same_refusal_is_counted_in_a_row_per_operation() {
        let mut r = Repeats::default();
        let (a, b) = (id("a"), id("b"));
        assert_eq!(r.record(&a, "PRINTING"), 1);
        assert_eq!(r.record(&a, "PRINTING"), 2);
        assert_eq!(r.record(&b, "PRINTING"), 1, "per operation");
        assert_eq!(
            r.record(&a, "WRONG_MODE"),
            1,
            "another refusal starts again"
        );
        assert_eq!(r.record(&a, "WRONG_MODE"), 2);
        r.forget(&a);
        assert_eq!(r.record(&a, "WRONG_MODE"), 1, "forgotten when it finished");
    }

    #[test]
    fn paper_cover_shift_link_and_printing_wait_a_wrong_mode_is_counted() {
        let refusal = |code: u8| DeviceError::new("FF46 operation", ErrorCode(code));
        // 0x6B no paper, 0x4E shift over 24 h, 0x50 still printing: passing states.
        assert!(passing_refusal(&refusal(0x6B)));
        assert!(passing_refusal(&refusal(0x4E)));
        assert!(passing_refusal(&refusal(0x50)));
        // 0x73 wrong mode: an answer about this command.
        assert!(!passing_refusal(&refusal(0x73)));
        for code in [
            "COVER_OPEN",
            "NO_PAPER",
            "NO_LINK",
            "SHIFT_CLOSED",
            "SHIFT_OVER_24H",
        ] {
            assert!(WAITING_CONDITIONS.contains(&code), "{code}");
        }
        assert!(!WAITING_CONDITIONS.contains(&NotReadyReason::Other(String::new()).code()));
    }
}
