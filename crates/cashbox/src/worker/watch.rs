//! The idle watch: at connecting and then every `watch_interval` the worker reads what the
//! status page, the metrics and the shift policy need, so an idle register's cover, paper,
//! link, shift and OFD backlog stay current, and a shift opened before this process started is
//! known (and closed before 24 h like any other).

use driver::{NotReadyReason, Readiness, Register, RegisterError};

use super::{Step, Worker};
use crate::condition::{Condition, RegisterState};
use crate::shift::SHIFT_OPENING_SEARCH;

/// Unsent OFD documents older than this many days are logged as a warning at every look.
const OFD_WARN_DAYS: i64 = 3;

impl Worker {
    /// Looks at the register when the last look is older than the watch interval.
    pub(super) async fn watch(&mut self, r: &mut Register) -> Option<Step> {
        if self
            .watched
            .is_some_and(|t| t.elapsed() < self.settings.watch_interval)
        {
            return None;
        }
        self.watched = Some(tokio::time::Instant::now());
        self.look(r).await.err()
    }

    /// One look; `Err` is the step a lost link calls for.
    async fn look(&mut self, r: &mut Register) -> Result<(), Step> {
        let status = r.status().await.map_err(|e| self.driver_trouble(e))?;
        let policy = &self.settings.shift;
        let state = match status.readiness {
            // What the worker itself resolves before the next operation is not a problem.
            Readiness::NotReady(NotReadyReason::ShiftClosed) if policy.open_on_demand => {
                RegisterState::Ready
            }
            Readiness::NotReady(NotReadyReason::ShiftExpired) if policy.close_before_24h => {
                RegisterState::Ready
            }
            Readiness::NotReady(
                NotReadyReason::Printing | NotReadyReason::WaitingContinuePrint,
            )
            | Readiness::Ready => RegisterState::Ready,
            Readiness::NotReady(reason) => Condition::from(reason).into(),
        };
        self.set_state(state);
        if let Some(clock) = self.unless_refused(r.clock_now().await)? {
            self.clock_skew = clock - self.pc_now();
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
        self.read_facts(r).await?;
        let backlog = self.unless_refused(r.ofd_backlog().await)?;
        let offset = self.settings.utc_offset;
        let register_now = self.register_now();
        let mut h = self.health.lock();
        h.shift_opened_at = opened;
        h.shift_opened_at_utc = opened
            .and_then(|t| t.and_local_timezone(offset).single())
            .map(|t| t.with_timezone(&chrono::Utc) - self.clock_skew);
        if let Some(b) = backlog {
            h.ofd_unsent = Some(b.unsent);
            h.ofd_oldest = b.oldest;
            if let Some(oldest) = b.oldest.filter(|_| b.unsent > 0) {
                let days = (register_now - oldest).num_days();
                if days >= OFD_WARN_DAYS {
                    tracing::warn!(register = %self.settings.id, unsent = b.unsent, %oldest, days, "documents not sent to the OFD for days; the FN blocks at 30");
                }
            }
        }
        Ok(())
    }

    /// Reads the day's facts (shift, receipts in it, cash in the drawer) into the shared view.
    pub(super) async fn read_facts(&mut self, r: &mut Register) -> Result<(), Step> {
        let facts = self.unless_refused(r.day_facts().await)?;
        let now = self.clock.now();
        let mut h = self.health.lock();
        if let Some(f) = facts {
            h.shift_open = Some(f.shift_open);
            h.shift_number = Some(f.shift_number);
            h.shift_receipts = Some(f.receipts_in_shift);
            h.cash_in_drawer = Some(f.cash_in_drawer);
            h.observed_at = Some(now);
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
}
