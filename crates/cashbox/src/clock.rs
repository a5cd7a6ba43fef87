//! Where the worker's wall time comes from. It is read in one place, so a test can run the
//! worker on tokio's paused clock: deadlines, wait episodes and the shift's 24 hours then pass
//! in no time and exactly as far as the test advances them.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// The time now, in UTC.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock: what the service uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall time that moves with tokio's clock from the moment it was made: paused and advanced by
/// a test, it moves only when the test advances it.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: DateTime<Utc>,
    at: tokio::time::Instant,
}

impl TokioClock {
    /// Reads `start` at tokio's current instant.
    pub fn starting_at(start: DateTime<Utc>) -> TokioClock {
        TokioClock {
            start,
            at: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().duration_since(self.at);
        chrono::Duration::from_std(elapsed)
            .ok()
            .and_then(|d| self.start.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}
