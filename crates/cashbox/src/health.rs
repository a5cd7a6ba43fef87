//! What each register is doing right now, shared by its worker with the status page, the
//! metrics and the logs. Written only by the worker; everyone else reads snapshots.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use parking_lot::Mutex;

use crate::condition::{Condition, RegisterState};

/// How many recent operations the status page shows per register.
const RECENT: usize = 20;

/// A line of the recent-operations list.
#[derive(Debug, Clone)]
pub struct RecentOperation {
    /// operationId.
    pub id: String,
    /// receipt / cash_in / cash_out.
    pub kind: String,
    /// done / failed.
    pub outcome: String,
    /// FD number or the register's document number, or the error.
    pub detail: String,
    /// When it finished.
    pub at: DateTime<Utc>,
}

/// Everything the status page and metrics show about one register.
#[derive(Debug, Clone)]
pub struct RegisterHealth {
    /// Cashbox id.
    pub id: String,
    /// Current state.
    pub state: RegisterState,
    /// Model and serial as the register reports them.
    pub model: Option<String>,
    /// KKT serial number.
    pub kkt_serial: Option<String>,
    /// FN number.
    pub fn_number: Option<String>,
    /// Registration number.
    pub rnm: Option<String>,
    /// FN expiry date.
    pub fn_expiry: Option<chrono::NaiveDate>,
    /// When the current shift was opened (register local time), if a shift is open and known.
    pub shift_opened_at: Option<NaiveDateTime>,
    /// The same moment in UTC (for the shift-age metric and the status page).
    pub shift_opened_at_utc: Option<DateTime<Utc>>,
    /// Shift number, if known.
    pub shift_number: Option<u32>,
    /// Documents the FN has not yet sent to the OFD, and the oldest one's time (the FN blocks
    /// after 30 days).
    pub ofd_unsent: Option<u32>,
    /// Time of the oldest unsent document.
    pub ofd_oldest: Option<NaiveDateTime>,
    /// Last error seen (device refusal, link failure), with its time.
    pub last_error: Option<(DateTime<Utc>, String)>,
    /// Recent finished operations, newest first.
    pub recent: VecDeque<RecentOperation>,
    /// Taxpayer INN.
    pub inn: Option<String>,
    /// FFD version ("1.2").
    pub ffd_version: Option<String>,
    /// The FN's shift flag, as last read.
    pub shift_open: Option<bool>,
    /// Receipts in the current shift.
    pub shift_receipts: Option<u32>,
    /// Cash in the drawer, kopecks (money register 241).
    pub cash_in_drawer: Option<u64>,
    /// Characters per line of the receipt tape, when known from the model.
    pub print_width: Option<u16>,
    /// When the register was last read (its facts above).
    pub observed_at: Option<DateTime<Utc>>,
    /// The operation a halted register holds for a person, and why.
    pub halted: Option<Halt>,
}

/// What a halted register holds: the operation reconcile could not settle, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halt {
    /// operationId.
    pub operation_id: String,
    /// What reconcile saw (Russian).
    pub reason: String,
}

/// Shared handle.
pub type Health = Arc<Mutex<RegisterHealth>>;

/// A fresh handle for register `id`.
pub fn new_health(id: &str) -> Health {
    Arc::new(Mutex::new(RegisterHealth {
        id: id.to_string(),
        state: Condition::Connecting.into(),
        model: None,
        kkt_serial: None,
        fn_number: None,
        rnm: None,
        fn_expiry: None,
        shift_opened_at: None,
        shift_opened_at_utc: None,
        shift_number: None,
        ofd_unsent: None,
        ofd_oldest: None,
        last_error: None,
        recent: VecDeque::new(),
        inn: None,
        ffd_version: None,
        shift_open: None,
        shift_receipts: None,
        cash_in_drawer: None,
        print_width: None,
        observed_at: None,
        halted: None,
    }))
}

/// When the oldest operation of `register` not yet finished (queued, waiting, sending or
/// settling) was stored: a queue that does not move shows as an age that grows.
pub fn oldest_pending(store: &queue::Store, register: &str) -> Option<DateTime<Utc>> {
    let id = queue::RegisterId::new(register.to_string());
    let pending = store.pending(&id).ok()?;
    let unsettled = store.unsettled(&id).ok()?;
    pending
        .iter()
        .chain(unsettled.iter())
        .map(|op| {
            // A re-posted operation counts from its re-post (bounded by its last failure).
            let failed = op
                .attempts
                .iter()
                .filter(|a| a.state == "failed")
                .map(|a| a.at)
                .max();
            failed.map_or(op.created_at, |f| f.max(op.created_at))
        })
        .min()
}

impl RegisterHealth {
    /// Records a finished operation.
    pub fn finished(&mut self, op: RecentOperation) {
        self.recent.push_front(op);
        self.recent.truncate(RECENT);
    }

    /// Records an error seen at `at`.
    pub fn error(&mut self, at: DateTime<Utc>, message: impl Into<String>) {
        self.last_error = Some((at, message.into()));
    }
}
