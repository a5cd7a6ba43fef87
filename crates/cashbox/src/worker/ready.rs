//! Making the register ready for a document: a shift opened on demand, a Z report before the
//! FN's 24 hours (or at the daily time), printing resumed after paper was loaded.

use driver::{NotReadyReason, Readiness, Register, RegisterError, ShiftReport};
use fiscal_model::Completion;
use queue::OpState;

use super::{Step, Worker};
use crate::condition::RegisterState;

impl Worker {
    /// Brings the register to "ready for a document"; `Some(reason)` when it cannot be.
    /// Without `needs_shift` (a Z or X report, a print) the shift is left as it is.
    pub(super) async fn make_ready(
        &mut self,
        r: &mut Register,
        needs_shift: bool,
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
                NotReadyReason::ShiftClosed | NotReadyReason::ShiftExpired if !needs_shift => {
                    self.set_state(RegisterState::Ready);
                    return Ok(None);
                }
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
        self.shift_opened(&report);
        Ok(())
    }

    /// Records a shift opened by this worker.
    pub(super) fn shift_opened(&mut self, report: &ShiftReport) {
        tracing::info!(register = %self.settings.id, shift = report.shift_number, fd = report.fd_number, "shift opened");
        let now = self.register_now();
        self.shift.opened(now);
        let utc = self.clock.now();
        let mut h = self.health.lock();
        h.shift_opened_at = Some(now);
        h.shift_opened_at_utc = Some(utc);
        h.shift_number = Some(report.shift_number);
        h.shift_open = Some(true);
        h.shift_receipts = Some(0);
    }

    async fn close_shift(&mut self, r: &mut Register) -> Result<(), RegisterError> {
        let report = r.z_report(&self.cashier()).await?;
        self.shift_closed(&report);
        Ok(())
    }

    /// Records a shift closed by this worker.
    pub(super) fn shift_closed(&mut self, report: &ShiftReport) {
        tracing::info!(register = %self.settings.id, shift = report.shift_number, fd = report.fd_number, "shift closed (Z report)");
        self.shift.closed(self.register_now());
        self.shift_search_failed = false;
        let mut h = self.health.lock();
        h.shift_opened_at = None;
        h.shift_opened_at_utc = None;
        h.shift_open = Some(false);
    }

    /// A Z report when the policy says one is due (before 24 hours, or the daily time).
    pub(super) async fn shift_policy(&mut self, r: &mut Register) -> Option<Step> {
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

    /// Receipts the FN closed while the paper was out are printed to the end once it is back.
    pub(super) async fn resume_printing(&mut self, r: &mut Register) -> Option<Step> {
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
            } = op.state
            {
                fiscal.not_printed = false;
                let printed = OpState::Done {
                    completion: Completion::Receipt(fiscal),
                };
                if let Err(e) = self
                    .store
                    .transition(&op.id, printed, "printing finished")
                    .await
                {
                    return Some(self.store_trouble(e));
                }
                tracing::info!(operation = %op.id, register = %self.settings.id, "receipt printed after paper was loaded");
            }
        }
        None
    }
}
