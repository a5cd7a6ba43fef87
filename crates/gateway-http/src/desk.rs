//! What the API asks of the registers beyond the queue: their current facts (read from each
//! worker's view, never from the register), a document of an FN archive, and an operator's
//! settlement of an operation whose outcome the register could not prove. The binary
//! implements [`Desk`] over its workers; this crate only calls it.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A boxed future, as [`Desk`]'s methods return.
pub type DeskFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The registers' side of the API.
pub trait Desk: Send + Sync {
    /// Every configured register as its worker sees it now. Never waits for a register.
    fn cashboxes(&self) -> Vec<CashboxFacts>;

    /// Document `fd` of register `cashbox`'s FN archive, read by its worker between
    /// operations.
    fn document(
        &self,
        cashbox: &str,
        fd: u32,
    ) -> DeskFuture<'_, Result<ArchivedDocument, DeskError>>;

    /// Settles operation `operation` (held unsettled by its halted register) as `claim` says,
    /// once the register's FN agrees (or `claim.force`). On success the register resumes and
    /// the operation is done or queued again.
    fn settle(&self, operation: &str, claim: SettleClaim) -> DeskFuture<'_, Result<(), DeskError>>;
}

/// Why a [`Desk`] call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    /// No such register, operation or document (Russian message).
    #[error("{0}")]
    NotFound(String),
    /// The register did not take the request in time (busy with an operation, no link).
    #[error("{0}")]
    Unavailable(String),
    /// The FN contradicts the claim, or the operation is not waiting for one (Russian reason).
    #[error("{0}")]
    Refused(String),
}

/// A person's word on how a halted operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleClaim {
    /// What they say happened.
    pub outcome: ClaimedOutcome,
    /// Accept it even where the FN cannot prove it.
    pub force: bool,
    /// Why (required with `force`).
    pub reason: Option<String>,
    /// Who (the admin token's `sub`).
    pub by: String,
}

/// The outcome a person claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimedOutcome {
    /// The register made the document `fd` (required unless forced for a cash movement,
    /// which has no FD).
    Done {
        /// FD number.
        fd: Option<u32>,
    },
    /// The register made nothing: the operation is queued again.
    NotDone,
}

/// One register's facts (`GET /v1.0/cashboxes`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CashboxFacts {
    /// cashboxId.
    pub cashbox_id: String,
    /// Model name.
    pub model: Option<String>,
    /// KKT serial number.
    pub kkt_serial: Option<String>,
    /// FN serial number.
    pub fn_number: Option<String>,
    /// Registration number.
    pub rnm: Option<String>,
    /// Taxpayer INN.
    pub inn: Option<String>,
    /// FFD version ("1.2").
    pub ffd_version: Option<String>,
    /// FN end of life.
    pub fn_expiry: Option<NaiveDate>,
    /// Days from today (register's date) to `fn_expiry`.
    pub fn_days_left: Option<i64>,
    /// The shift, when known.
    pub shift: Option<ShiftFacts>,
    /// Cash in the drawer, kopecks (money register 241).
    pub cash_in_drawer: Option<u64>,
    /// Documents the FN has not passed to the OFD.
    pub ofd_unsent: Option<u32>,
    /// The oldest one's time, UTC.
    pub ofd_oldest: Option<DateTime<Utc>>,
    /// Can make a document now.
    pub ready: bool,
    /// Why not (`COVER_OPEN`, `NEEDS_OPERATOR` …).
    pub error_code: Option<String>,
    /// The same in Russian.
    pub error_message: Option<String>,
    /// The operation a halted register holds, and why reconcile could not decide.
    pub halted: Option<HaltFacts>,
    /// Characters per line of the receipt tape, when known.
    pub print_width: Option<u16>,
    /// When these facts were last read from the register.
    pub observed_at: Option<DateTime<Utc>>,
}

/// The shift as the register last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShiftFacts {
    /// Open.
    pub open: bool,
    /// Number (of the open shift, or of the last closed one).
    pub number: Option<u32>,
    /// When the open shift was opened, UTC.
    pub opened_at: Option<DateTime<Utc>>,
    /// Whole hours left before its 24 hours run out.
    pub hours_left: Option<i64>,
    /// Receipts made in it.
    pub receipts: Option<u32>,
}

/// What a halted register holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaltFacts {
    /// The unsettled operation.
    pub operation_id: String,
    /// Why reconcile could not decide (Russian).
    pub reason: String,
}

/// One document of an FN archive (FF0A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedDocument {
    /// FD number (tag 1040).
    pub fd_number: u32,
    /// FFD form code (1 registration, 2 shift opening, 3 receipt, 5 Z report, 31 correction …).
    pub doc_type: u8,
    /// Register local time.
    pub date_time: NaiveDateTime,
    /// Fiscal sign (tag 1077).
    pub fiscal_sign: u32,
    /// Receipts: operation type (tag 1054, 1..4).
    pub operation: Option<u8>,
    /// Receipts: total, kopecks.
    pub total: Option<u64>,
    /// Shift reports: the shift number.
    pub shift_number: Option<u32>,
}
