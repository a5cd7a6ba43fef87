//! Shift policy clock: decides when a Z report is due. Pure: time comes in as arguments.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::settings::ShiftPolicy;

/// How many documents back the opening of a shift is looked for in the FN archive (the worker
/// for a shift it did not open, the selftest for the hours left).
pub const SHIFT_OPENING_SEARCH: u32 = 500;

/// The FN refuses documents in a shift older than this (protocol notes §6.4, error 0x16).
pub const SHIFT_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// What the worker knows about the current shift.
#[derive(Debug, Clone)]
pub struct ShiftClock {
    policy: ShiftPolicy,
    opened_at: Option<NaiveDateTime>,
}

impl ShiftClock {
    /// A clock that knows of no open shift.
    pub fn new(policy: ShiftPolicy) -> ShiftClock {
        ShiftClock {
            policy,
            opened_at: None,
        }
    }

    /// A shift was opened (or found open, with its opening time) at `at`.
    pub fn opened(&mut self, at: NaiveDateTime) {
        self.opened_at = Some(at);
    }

    /// When the shift this clock knows of was opened.
    pub fn opened_at(&self) -> Option<NaiveDateTime> {
        self.opened_at
    }

    /// The shift was closed.
    pub fn closed(&mut self, _at: NaiveDateTime) {
        self.opened_at = None;
    }

    /// Is a Z report due now? Before the 24-hour limit (minus the margin) when configured, and
    /// at the daily time when the shift was opened before it.
    pub fn close_due(&self, now: NaiveDateTime) -> bool {
        let Some(opened) = self.opened_at else {
            return false;
        };
        let age = (now - opened).to_std().unwrap_or_default();
        if self.policy.close_before_24h && age + self.policy.close_margin >= SHIFT_LIMIT {
            return true;
        }
        if let Some(at) = self.policy.daily_z_at {
            let today = now.date().and_time(at);
            if now >= today && opened < today {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    fn t(day: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn z_is_due_before_the_24_hour_limit() {
        let mut c = ShiftClock::new(ShiftPolicy::default());
        assert!(!c.close_due(t(2, 9, 0)), "no known shift, nothing due");
        c.opened(t(1, 9, 0));
        assert!(!c.close_due(t(2, 8, 49)));
        assert!(c.close_due(t(2, 8, 50)), "10 minutes before the limit");
        c.closed(t(2, 8, 50));
        assert!(!c.close_due(t(3, 9, 0)));
    }

    #[test]
    fn daily_z_at_a_set_time() {
        let policy = ShiftPolicy {
            close_before_24h: false,
            daily_z_at: NaiveTime::from_hms_opt(23, 55, 0),
            ..ShiftPolicy::default()
        };
        let mut c = ShiftClock::new(policy);
        c.opened(t(1, 9, 0));
        assert!(!c.close_due(t(1, 23, 54)));
        assert!(c.close_due(t(1, 23, 55)));
        c.opened(t(1, 23, 58));
        assert!(!c.close_due(t(2, 10, 0)), "opened after today's Z time");
        assert!(!c.close_due(t(2, 9, 0)));
    }

    #[test]
    fn without_auto_z_nothing_is_due() {
        let policy = ShiftPolicy {
            close_before_24h: false,
            ..ShiftPolicy::default()
        };
        let mut c = ShiftClock::new(policy);
        c.opened(t(1, 9, 0));
        assert!(!c.close_due(t(3, 9, 0)));
    }
}
