//! Waiting: an operation the register cannot take now waits with the reason, with everything
//! queued behind it, each from the start of its own episode, and fails at the deadline.

use queue::{OpState, Operation, Reason};

use super::{Step, Worker};
use crate::condition::Condition;

impl Worker {
    /// The register is connected but cannot work: it shows `condition`, and `op` with
    /// everything queued behind it waits. A condition that is a passing state of the register
    /// (cover, paper, link, shift) waits until the deadline however often it comes; any other
    /// met `max_repeats` times in a row fails the operation with it.
    pub(super) async fn blocked(&mut self, op: &Operation, condition: Condition) -> Step {
        self.set_state(condition.clone());
        let reason = condition.reason();
        if self.ledger.refused(&op.id, &condition) {
            tracing::warn!(operation = %op.id, register = %self.settings.id, reason = %reason.message, "the same refusal again; failing the operation");
            return self.give_up(op, reason).await;
        }
        self.wait_with(op, reason).await
    }

    /// `op` cannot go on now: it and everything queued behind it wait with `reason`, whatever
    /// is past the deadline fails, and the worker backs off.
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

    /// `op`, as last stored, waits with `reason`: written only when the reason changes or a new
    /// episode begins, and failed once it waited past the deadline.
    pub(super) async fn wait_one(&mut self, op: &Operation, reason: Reason) -> Step {
        let now = self.clock.now();
        let wait = self.ledger.wait(&op.id, &op.state, &reason, now);
        let mut current = None;
        if let Some(since) = wait.record {
            tracing::info!(operation = %op.id, register = %self.settings.id, reason = %reason.message, "waiting");
            let waiting = OpState::Waiting {
                reason: reason.clone(),
                since,
            };
            match self
                .store
                .transition(&op.id, waiting, "register not ready")
                .await
            {
                Ok(stored) => current = Some(stored),
                Err(e) => return self.store_trouble(e),
            }
        }
        if wait.fail {
            return self.give_up(current.as_ref().unwrap_or(op), reason).await;
        }
        Step::Backoff
    }

    /// While there is no link or the register is halted, the queue shows why it waits, and
    /// fails after the deadline; the register's state stays what the caller set.
    pub(super) async fn hold_waiting(&mut self, condition: Condition) {
        let Ok(Some(op)) = self.store.next_for(&self.register_id) else {
            return;
        };
        let _ = self.wait_with(&op, condition.reason()).await;
    }
}
