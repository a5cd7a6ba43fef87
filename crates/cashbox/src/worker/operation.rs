//! Processing one operation, settling one whose outcome is unknown, and the one `finish` that
//! records it done or failed.

use driver::{
    Cashier, DeviceError, Intent, NotReadyReason, Register, RegisterError, ShiftReport, Snapshot,
    Verdict,
};
use fiscal_model::{
    CashMovementKind, Completion, OperationBody, PrintResult, ShiftRequest, ShiftResult,
};
use queue::{OpState, Operation, Reason};

use super::{Step, Worker};
use crate::condition::{print_outcome_unknown, Condition};
use crate::decide::{after_attempt, after_verdict, Next};
use crate::health::RecentOperation;
use crate::metrics::names;

/// How an operation ends.
enum End {
    Done(Completion),
    Failed(Reason),
}

/// Whether the register worked: it made the document or answered about this very operation,
/// which ends every wait episode; or the operation ran out of time or repeats on its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Progress {
    Made,
    None,
}

impl Worker {
    pub(super) async fn process(&mut self, r: &mut Register, op: Operation) -> Step {
        // No deadline check here: a register that is ready now takes the operation, however
        // long it waited. The deadline applies while the register cannot work (`wait_with`).
        // Make the register ready: open a shift on demand, Z when expired, finish printing.
        match self.make_ready(r, op.request.body.needs_open_shift()).await {
            Ok(None) => {}
            Ok(Some(reason)) => return self.blocked(&op, reason.into()).await,
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
        let op = match self
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
            Ok(op) => op,
            Err(e) => return self.store_trouble(e),
        };
        tracing::info!(operation = %op.id, register = %self.settings.id, "sent to the register");
        // A shift already as asked makes no document: the answer is that shift's facts (read
        // after the snapshot is recorded, so that only a finished operation can be done).
        match self.shift_as_asked(r, &op.request.body).await {
            Ok(Some(end)) => return self.finish(&op, end, Progress::Made).await,
            Ok(None) => {}
            Err(e) => return self.driver_trouble(e),
        }

        let started = tokio::time::Instant::now();
        let result = self.attempt(r, &op.request.body).await;
        metrics::histogram!(names::FISCALIZATION_SECONDS, "register" => self.settings.id.clone())
            .record(started.elapsed().as_secs_f64());
        let print = is_print(&op.request.body);
        match after_attempt(result) {
            // A print makes nothing the register can be asked about: it is not printed again
            // on a guess, and the person who asked for it looks at the tape.
            Next::Reconcile(unknown) if print => {
                tracing::warn!(operation = %op.id, register = %self.settings.id, detail = %unknown, "print outcome unknown; not printed again");
                let reason = print_outcome_unknown(&unknown.to_string());
                self.finish(&op, End::Failed(reason), Progress::Made).await
            }
            Next::SettleRefusal(refusal) if print => {
                let reason = Condition::Refused { refusal }.reason();
                self.finish(&op, End::Failed(reason), Progress::Made).await
            }
            Next::Reconcile(unknown) => {
                tracing::warn!(operation = %op.id, register = %self.settings.id, detail = %unknown, "outcome unknown; settling from the register's state");
                let snapshot = match recorded(&snapshot.lost_at(unknown.command)) {
                    Ok(v) => v,
                    Err(step) => return step,
                };
                let note = format!("unknown outcome: {unknown}");
                // Settled at the start of the next round, on this link while it still answers;
                // a link that does not answer fails the reads and leads to a reconnect.
                match self.reconciling(&op, snapshot, &note).await {
                    Ok(_) => Step::Again,
                    Err(step) => step,
                }
            }
            Next::SettleRefusal(refusal) => {
                self.settle_refusal(r, &op, snapshot_json, refusal).await
            }
            Next::Retry(reason) => {
                // Proven not executed (§2.7): the link itself may be fine (a frame refused on
                // a noisy line); the next round's reads tell, and only a link that does not
                // answer them is reopened. The deadline keeps running across retries.
                tracing::info!(operation = %op.id, register = %self.settings.id, "not executed; trying again");
                self.wait_one(&op, reason).await
            }
            next => self.follow(&op, next).await,
        }
    }

    /// Does `body` on the register.
    async fn attempt(
        &mut self,
        r: &mut Register,
        body: &OperationBody,
    ) -> Result<Completion, RegisterError> {
        match body {
            OperationBody::Receipt(receipt) => r
                .fiscalize(receipt, &self.settings.taxes, Some(&self.cashier()))
                .await
                .map(Completion::Receipt),
            OperationBody::Cash(movement) => r.cash(*movement).await.map(Completion::Cash),
            OperationBody::OpenShift(request) => {
                let report = r.open_shift(&self.cashier_of(request)).await?;
                self.shift_opened(&report);
                Ok(self.shift_completion(r, report).await)
            }
            OperationBody::CloseShift(request) => {
                let report = r.z_report(&self.cashier_of(request)).await?;
                self.shift_closed(&report);
                Ok(self.shift_completion(r, report).await)
            }
            OperationBody::XReport => {
                r.x_report().await?;
                Ok(self.printed(None))
            }
            OperationBody::Correction(correction) => r
                .fiscalize_correction(correction, &self.settings.taxes, Some(&self.cashier()))
                .await
                .map(Completion::Receipt),
            OperationBody::PrintCopy(copy) => {
                let copied = r.print_copy(copy.fd_number).await?;
                Ok(self.printed(Some(copied)))
            }
            OperationBody::PrintText(slip) => {
                let lines: Vec<&str> = slip.lines.iter().map(String::as_str).collect();
                r.print_text(&lines, slip.cut).await?;
                Ok(self.printed(None))
            }
        }
    }

    /// A shift opening asked while a shift is open, or a Z report while it is closed: that
    /// shift's facts, no document. An X report with the shift closed fails with that reason
    /// (the register prints it only in an open shift, and opening one for it would make a
    /// fiscal document nobody asked for).
    async fn shift_as_asked(
        &mut self,
        r: &mut Register,
        body: &OperationBody,
    ) -> Result<Option<End>, RegisterError> {
        let want_open = match body {
            OperationBody::OpenShift(_) => true,
            OperationBody::CloseShift(_) => false,
            OperationBody::XReport => {
                if r.day_facts().await?.shift_open {
                    return Ok(None);
                }
                let mut reason = Condition::from(NotReadyReason::ShiftClosed).reason();
                reason.message = format!("{} X-отчёт печатается в открытой смене.", reason.message);
                return Ok(Some(End::Failed(reason)));
            }
            _ => return Ok(None),
        };
        let day = r.day_facts().await?;
        if day.shift_open != want_open {
            return Ok(None);
        }
        let identity = r.identity().await?;
        Ok(Some(End::Done(Completion::Shift(ShiftResult {
            shift_number: day.shift_number,
            fd_number: None,
            fiscal_sign: None,
            fn_number: identity.fn_number,
            rnm: identity.rnm,
            date_time: if want_open {
                self.shift.opened_at()
            } else {
                None
            },
            made: false,
        }))))
    }

    /// The completion of a shift report this operation made.
    async fn shift_completion(&mut self, r: &mut Register, report: ShiftReport) -> Completion {
        let (fn_number, rnm) = match r.identity().await {
            Ok(id) => (id.fn_number, id.rnm),
            Err(_) => Default::default(),
        };
        Completion::Shift(ShiftResult {
            shift_number: report.shift_number,
            fd_number: Some(report.fd_number),
            fiscal_sign: Some(report.fiscal_sign),
            fn_number,
            rnm,
            date_time: Some(report.date_time),
            made: true,
        })
    }

    fn printed(&self, copied: Option<fiscal_model::CopiedDocument>) -> Completion {
        Completion::Printed(PrintResult {
            copied,
            date_time: Some(self.register_now()),
        })
    }

    fn cashier_of(&self, request: &ShiftRequest) -> Cashier {
        match &request.cashier {
            Some(c) => Cashier {
                name: c.name.clone(),
                inn: c.inn.clone(),
            },
            None => self.cashier(),
        }
    }

    /// Does what a decision says for `op` (its value as last stored).
    async fn follow(&mut self, op: &Operation, next: Next) -> Step {
        match next {
            Next::Done(completion) => self.finish(op, End::Done(completion), Progress::Made).await,
            Next::Fail(reason) => self.finish(op, End::Failed(reason), Progress::Made).await,
            Next::Blocked(condition) => self.blocked(op, condition).await,
            Next::Retry(reason) => self.wait_one(op, reason).await,
            Next::Requeue => {
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
            Next::Halt(reason) => Step::Halt(format!("operation {}: {reason}", op.id)),
            // Settled where they arise (they need the register and the snapshot); reaching
            // here would leave an outcome unknown, so a person is asked rather than a guess.
            Next::Reconcile(unknown) => Step::Halt(format!("operation {}: {unknown}", op.id)),
            Next::SettleRefusal(refusal) => {
                Step::Halt(format!("operation {}: unsettled refusal {refusal}", op.id))
            }
        }
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
        let info = refusal.code.info();
        metrics::counter!(names::DEVICE_ERRORS, "register" => self.settings.id.clone(), "code" => info.code).increment(1);
        self.error(format!(
            "{}: {} ({:#04x})",
            refusal.command, info.russian, refusal.code.0
        ));
        let note = format!("refused: {refusal}; settling from the register's state");
        let op = match self.reconciling(op, snapshot_json.clone(), &note).await {
            Ok(op) => op,
            Err(step) => return step,
        };
        match self.verdict(r, &op, snapshot_json).await {
            Ok(verdict) => {
                let next = after_verdict(verdict, Some(refusal));
                if let Next::Fail(reason) = &next {
                    tracing::warn!(operation = %op.id, register = %self.settings.id, error = %reason.message, "register refused the operation; it made nothing");
                }
                self.follow(&op, next).await
            }
            // Still Reconciling: the next round settles it like any unknown outcome.
            Err(step) => step,
        }
    }

    /// Records that `op`'s outcome is being settled from the register's state, with the
    /// snapshot (and the lost command) reconcile compares against.
    async fn reconciling(
        &mut self,
        op: &Operation,
        snapshot: serde_json::Value,
        note: &str,
    ) -> Result<Operation, Step> {
        self.store
            .transition(&op.id, OpState::Reconciling { snapshot }, note)
            .await
            .map_err(|e| self.store_trouble(e))
    }

    /// Settles an operation left in Sending or Reconciling.
    pub(super) async fn settle(&mut self, r: &mut Register, op: Operation) -> Step {
        let snapshot_json = match &op.state {
            OpState::Sending { snapshot } | OpState::Reconciling { snapshot } => snapshot.clone(),
            _ => return Step::Again,
        };
        if is_print(&op.request.body) {
            let reason = print_outcome_unknown("обработка прервалась во время печати");
            return self.finish(&op, End::Failed(reason), Progress::None).await;
        }
        let op = if matches!(op.state, OpState::Sending { .. }) {
            match self
                .reconciling(&op, snapshot_json.clone(), "settling after restart")
                .await
            {
                Ok(op) => op,
                Err(step) => return step,
            }
        } else {
            op
        };
        if let Some(step) = self.resume(r, &op, &snapshot_json).await {
            return step;
        }
        match self.verdict(r, &op, snapshot_json).await {
            Ok(verdict) => {
                let next = after_verdict(verdict, None);
                if matches!(next, Next::Done(_)) {
                    tracing::info!(operation = %op.id, register = %self.settings.id, "settled: the register had done it");
                }
                self.follow(&op, next).await
            }
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
        let snapshot: Snapshot = serde_json::from_value(snapshot_json.clone()).ok()?;
        snapshot.lost_command.as_ref()?;
        let cashier = self.cashier();
        match r
            .resume_receipt(&snapshot, receipt, &self.settings.taxes, Some(&cashier))
            .await
        {
            Ok(Some(fiscal)) => {
                tracing::info!(operation = %op.id, register = %self.settings.id, "settled: the receipt left open was finished");
                Some(
                    self.follow(op, Next::Done(Completion::Receipt(fiscal)))
                        .await,
                )
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
                    Ok(_) => Step::Again,
                    Err(step) => step,
                })
            }
            Err(RegisterError::Rejected(rejection)) => {
                tracing::warn!(operation = %op.id, register = %self.settings.id, reason = %rejection, "operation rejected");
                let next = after_attempt(Err(RegisterError::Rejected(rejection)));
                Some(self.follow(op, next).await)
            }
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
    ) -> Result<driver::Verdict, Step> {
        let snapshot = serde_json::from_value(snapshot_json).map_err(|e| {
            Step::Halt(format!(
                "operation {}: stored snapshot unreadable: {e}",
                op.id
            ))
        })?;
        let intent = match &op.request.body {
            OperationBody::Receipt(receipt) => Intent::Receipt {
                receipt_type: receipt.receipt_type,
                total: receipt.total,
            },
            OperationBody::Correction(c) => Intent::Correction {
                receipt_type: c.receipt.receipt_type,
                total: c.receipt.total,
            },
            OperationBody::Cash(movement) => Intent::Cash(*movement),
            OperationBody::OpenShift(_) => Intent::OpenShift,
            OperationBody::CloseShift(_) => Intent::CloseShift,
            OperationBody::XReport | OperationBody::PrintCopy(_) | OperationBody::PrintText(_) => {
                return Err(Step::Halt(format!(
                    "operation {}: a print has nothing to settle",
                    op.id
                )))
            }
        };
        let verdict = r
            .reconcile(&snapshot, &intent)
            .await
            .map_err(|e| self.driver_trouble(e))?;
        Ok(match verdict {
            // A shift report found in the FN: this operation's document.
            Verdict::ShiftDone(report) => Verdict::Done(self.shift_completion(r, report).await),
            other => other,
        })
    }

    /// Fails `op` with `reason` because it waited past its deadline or met the same refusal
    /// too often: the register made no progress.
    pub(super) async fn give_up(&mut self, op: &Operation, reason: Reason) -> Step {
        self.finish(op, End::Failed(reason), Progress::None).await
    }

    /// Records `op` done or failed: one transition, one log line, one metric, one line on the
    /// status page.
    async fn finish(&mut self, op: &Operation, end: End, progress: Progress) -> Step {
        let (state, detail, outcome) = match end {
            End::Done(completion) => {
                let detail = done_detail(&completion);
                (OpState::Done { completion }, detail, "done")
            }
            End::Failed(reason) => {
                let detail = format!("{} ({})", reason.message, reason.code);
                (OpState::Failed { reason }, detail, "failed")
            }
        };
        if let Err(e) = self.store.transition(&op.id, state, &detail).await {
            return self.store_trouble(e);
        }
        let now = self.clock.now();
        // Cash in the drawer and the shift's receipts changed: read once the queue is empty.
        self.facts_stale = true;
        if progress == Progress::Made {
            self.ledger.progressed(&op.id, now);
            self.reconnects = 0;
        } else {
            self.ledger.finished(&op.id);
        }
        if outcome == "done" {
            tracing::info!(operation = %op.id, register = %self.settings.id, %detail, "done");
        } else {
            tracing::warn!(operation = %op.id, register = %self.settings.id, %detail, "failed");
        }
        let kind = kind_name(&op.request.body);
        metrics::counter!(names::OPERATIONS, "register" => self.settings.id.clone(), "kind" => kind, "result" => outcome).increment(1);
        self.health.lock().finished(RecentOperation {
            id: op.id.to_string(),
            kind: kind.into(),
            outcome: outcome.into(),
            detail,
            at: now,
        });
        Step::Again
    }
}

/// What the status page and the history say of a done operation.
fn done_detail(completion: &Completion) -> String {
    match completion {
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
        Completion::Shift(s) => match (s.made, s.fd_number) {
            (true, Some(fd)) => format!("смена {}, FD {fd}", s.shift_number),
            _ => format!("смена {} уже была в нужном состоянии", s.shift_number),
        },
        Completion::Printed(p) => match p.copied {
            Some(c) => format!("копия FD {}", c.fd_number),
            None => "напечатано".into(),
        },
    }
}

/// A snapshot as the store records it.
fn recorded(snapshot: &Snapshot) -> Result<serde_json::Value, Step> {
    serde_json::to_value(snapshot).map_err(|e| Step::Halt(format!("cannot record snapshot: {e}")))
}

fn kind_name(body: &OperationBody) -> &'static str {
    match body {
        OperationBody::Receipt(_) => "receipt",
        OperationBody::Cash(m) if m.kind == CashMovementKind::In => "cash_in",
        OperationBody::Cash(_) => "cash_out",
        OperationBody::OpenShift(_) => "open_shift",
        OperationBody::CloseShift(_) => "close_shift",
        OperationBody::XReport => "x_report",
        OperationBody::Correction(_) => "correction",
        OperationBody::PrintCopy(_) => "print_copy",
        OperationBody::PrintText(_) => "print_text",
    }
}

/// A non-fiscal print: nothing in the FN tells whether it happened.
fn is_print(body: &OperationBody) -> bool {
    matches!(
        body,
        OperationBody::XReport | OperationBody::PrintCopy(_) | OperationBody::PrintText(_)
    )
}
