//! The operation record and its state machine: which moves a worker may make.
//!
//! This module holds values only; storing them is `store`'s job.

use std::fmt;

use chrono::{DateTime, Utc};
use fiscal_model::{CashMovementKind, Completion, OperationBody, OperationRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// Longest operation id accepted (characters).
pub const MAX_ID_CHARS: usize = 128;

/// History entries kept besides the first one ("accepted"): the most recent ones. A worker
/// that loops (a register waiting for paper all day) replaces old entries instead of growing
/// the record; [`Operation::attempts_dropped`] counts what was let go.
pub const MAX_RECENT_ATTEMPTS: usize = 32;

/// Longest note kept in one history entry, in bytes of UTF-8 (cut at a character boundary,
/// marked with "…"; control characters become spaces, so JSON escaping at most doubles it).
pub const MAX_NOTE_BYTES: usize = 256;

/// The client's `operationId`: 1..=128 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OperationId(String);

impl OperationId {
    /// Checks the id's shape.
    pub fn new(s: impl Into<String>) -> Result<OperationId, StoreError> {
        let s = s.into();
        let chars = s.chars().count();
        if chars == 0 {
            return Err(StoreError::InvalidId("must not be empty".into()));
        }
        if chars > MAX_ID_CHARS {
            return Err(StoreError::InvalidId(format!(
                "is {chars} characters long; at most {MAX_ID_CHARS} allowed"
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(StoreError::InvalidId(
                "must not contain control characters".into(),
            ));
        }
        Ok(OperationId(s))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The configured id of a register (its cashbox GUID).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegisterId(String);

impl RegisterId {
    /// Wraps a configured register id.
    pub fn new(s: impl Into<String>) -> RegisterId {
        RegisterId(s.into())
    }

    /// The id as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegisterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of document an operation makes, derived from its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperationKind {
    /// A fiscal receipt.
    Receipt,
    /// Cash in (0x50).
    CashIn,
    /// Cash out (0x51).
    CashOut,
    /// A shift opening report.
    OpenShift,
    /// A Z report.
    CloseShift,
    /// An X report.
    XReport,
    /// A correction receipt.
    Correction,
    /// A copy of a document.
    PrintCopy,
    /// Non-fiscal text.
    PrintText,
}

impl OperationKind {
    /// The kind of `request`.
    pub fn of(request: &OperationRequest) -> OperationKind {
        match &request.body {
            OperationBody::Receipt(_) => OperationKind::Receipt,
            OperationBody::Cash(m) => match m.kind {
                CashMovementKind::In => OperationKind::CashIn,
                CashMovementKind::Out => OperationKind::CashOut,
            },
            OperationBody::OpenShift(_) => OperationKind::OpenShift,
            OperationBody::CloseShift(_) => OperationKind::CloseShift,
            OperationBody::XReport => OperationKind::XReport,
            OperationBody::Correction(_) => OperationKind::Correction,
            OperationBody::PrintCopy(_) => OperationKind::PrintCopy,
            OperationBody::PrintText(_) => OperationKind::PrintText,
        }
    }
}

/// What the client asked to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperation {
    /// The client's idempotency key.
    pub id: OperationId,
    /// The register the router chose.
    pub register: RegisterId,
    /// The validated request.
    pub request: OperationRequest,
}

/// Why an operation waits or failed, in the words the API shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable machine code, e.g. `COVER_OPEN`.
    pub code: String,
    /// Short Russian message for the cashier.
    pub message: String,
    /// The register's own error byte, when it gave one.
    pub device_error: Option<u8>,
}

/// Where an operation is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpState {
    /// Durable, waiting for its register.
    Queued,
    /// The register cannot work now; `reason` says why.
    Waiting {
        /// Why.
        reason: Reason,
        /// Since when (the first time this reason was recorded).
        since: DateTime<Utc>,
    },
    /// Commands may be on the wire; `snapshot` is the register's state just before.
    Sending {
        /// The driver's snapshot, opaque here.
        snapshot: serde_json::Value,
    },
    /// The outcome is unknown and is being settled from the register's state.
    Reconciling {
        /// The driver's snapshot taken before sending.
        snapshot: serde_json::Value,
    },
    /// Finished: the document is closed (`not_printed` lives inside the fiscal result).
    Done {
        /// What the register reported.
        completion: Completion,
    },
    /// Finished without a document: it was never fiscalized.
    Failed {
        /// Why.
        reason: Reason,
    },
}

impl OpState {
    /// Stable lower-case name, used in metrics and errors.
    pub fn name(&self) -> &'static str {
        match self {
            OpState::Queued => "queued",
            OpState::Waiting { .. } => "waiting",
            OpState::Sending { .. } => "sending",
            OpState::Reconciling { .. } => "reconciling",
            OpState::Done { .. } => "done",
            OpState::Failed { .. } => "failed",
        }
    }

    /// Done or Failed.
    pub fn is_finished(&self) -> bool {
        matches!(self, OpState::Done { .. } | OpState::Failed { .. })
    }

    /// Queued or Waiting: the register's worker still has to take it.
    pub fn is_pending(&self) -> bool {
        matches!(self, OpState::Queued | OpState::Waiting { .. })
    }

    /// Sending or Reconciling: the outcome must be settled before anything new is sent.
    pub fn is_unsettled(&self) -> bool {
        matches!(self, OpState::Sending { .. } | OpState::Reconciling { .. })
    }

    /// Done with a receipt the FN closed but the printer did not finish.
    pub fn is_not_printed(&self) -> bool {
        matches!(self, OpState::Done { completion: Completion::Receipt(f) } if f.not_printed)
    }

    /// Whether a worker may move an operation from `self` to `to`.
    ///
    /// Forbidden are exactly the moves that could fiscalize twice or lose a result: leaving
    /// Sending/Reconciling for Queued without settling is allowed only from Reconciling (the
    /// register said "not done"); a finished operation never moves again, except Done → Done
    /// to clear `not_printed`. Failed → Queued happens only through `submit` (a re-post).
    pub fn may_become(&self, to: &OpState) -> bool {
        use OpState::*;
        match (self, to) {
            (Queued | Waiting { .. }, Waiting { .. } | Sending { .. } | Failed { .. }) => true,
            (Sending { .. }, Reconciling { .. } | Waiting { .. } | Done { .. } | Failed { .. }) => {
                true
            }
            // Waiting: settled "not done" after a refusal for a passing state (paper, cover).
            (
                Reconciling { .. },
                Reconciling { .. } | Queued | Waiting { .. } | Done { .. } | Failed { .. },
            ) => true,
            (
                Done {
                    completion: Completion::Receipt(a),
                },
                Done {
                    completion: Completion::Receipt(b),
                },
            ) => {
                // Only the printing flag may change; the fiscal data is final.
                let mut a = a.clone();
                a.not_printed = b.not_printed;
                &a == b
            }
            _ => false,
        }
    }
}

/// One recorded state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When the change was stored.
    pub at: DateTime<Utc>,
    /// The state name it moved to.
    pub state: String,
    /// What the worker said about it.
    pub note: String,
}

/// A stored operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// The client's idempotency key.
    pub id: OperationId,
    /// Receipt, cash in or cash out.
    pub kind: OperationKind,
    /// The register that does it.
    pub register: RegisterId,
    /// The validated request.
    pub request: OperationRequest,
    /// Hex SHA-256 of the canonical JSON of `request`.
    pub payload_hash: String,
    /// Global submit order (a re-posted failed operation gets a new one); FIFO per register.
    pub seq: u64,
    /// The first operation this one refers to (a refund to its sale), as given with
    /// [`crate::Store::submit_referring`] when it was first stored. Absent in records written
    /// before references existed, and left out of the record when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<OperationId>,
    /// The further operations this one refers to (a return to its register's journal and to
    /// its sale), in the order given after the first. Absent in records written before an
    /// operation could refer to several, and left out of the record when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_refers_to: Vec<OperationId>,
    /// Found by its `seq` and, once done, by its fiscal sign ([`crate::Store::by_seq`],
    /// [`crate::Store::by_fiscal_sign`]): set by [`crate::Store::submit_numbered`], for the
    /// dialects that name documents by number. Off for the rest, which saves two index keys
    /// per operation (a million stored operations open in half the time and memory).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_number: bool,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it became Done or Failed, by the wall clock (retention counts from here and
    /// from `finished_clock_ms`).
    pub processed_at: Option<DateTime<Utc>>,
    /// When it became Done or Failed, by the store clock: milliseconds the store had been
    /// open over its whole life (monotonic, immune to wall-clock jumps). `None` for
    /// operations that are not finished or finished before the store clock existed (treated
    /// as its start, 0).
    #[serde(default)]
    pub finished_clock_ms: Option<u64>,
    /// Where it is now.
    pub state: OpState,
    /// History: the first state change and the [`MAX_RECENT_ATTEMPTS`] most recent ones.
    pub attempts: Vec<Attempt>,
    /// History entries dropped between the first and the kept recent ones.
    #[serde(default)]
    pub attempts_dropped: u64,
}

impl Operation {
    /// Appends a history entry with `note` cut to [`MAX_NOTE_BYTES`], dropping the oldest
    /// entry after the first when more than [`MAX_RECENT_ATTEMPTS`] recent ones would remain.
    pub(crate) fn record_attempt(&mut self, at: DateTime<Utc>, state: &OpState, note: &str) {
        self.attempts.push(Attempt {
            at,
            state: state.name().into(),
            note: bounded_note(note),
        });
        let excess = self.attempts.len().saturating_sub(1 + MAX_RECENT_ATTEMPTS);
        if excess > 0 {
            self.attempts.drain(1..1 + excess);
            self.attempts_dropped = self.attempts_dropped.saturating_add(excess as u64);
        }
    }
}

/// `note` with control characters as spaces, at most [`MAX_NOTE_BYTES`] long.
pub(crate) fn bounded_note(note: &str) -> String {
    const MARK: &str = "…";
    let clean = |c: char| if c.is_control() { ' ' } else { c };
    if note.len() <= MAX_NOTE_BYTES {
        return note.chars().map(clean).collect();
    }
    let mut out = String::with_capacity(MAX_NOTE_BYTES);
    for c in note.chars().map(clean) {
        if out.len() + c.len_utf8() + MARK.len() > MAX_NOTE_BYTES {
            break;
        }
        out.push(c);
    }
    out.push_str(MARK);
    out
}

/// The hex SHA-256 of the canonical form of `request`: its typed serde JSON (fields in
/// declaration order, money in integer kopecks), so equal meaning gives equal hashes whatever
/// bytes the client sent.
pub fn payload_hash(request: &OperationRequest) -> Result<String, StoreError> {
    let canonical = serde_json::to_vec(request)
        .map_err(|e| StoreError::Corrupt(format!("request cannot be serialized: {e}")))?;
    let digest = Sha256::digest(&canonical);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    Ok(hex)
}

/// The result of [`crate::Store::submit`] and [`crate::Store::submit_referring`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A new operation was stored.
    Created(Operation),
    /// The same id and payload were stored before; this is that operation as it is now.
    Existing(Operation),
    /// The same id and payload had Failed; it is queued again with a new `seq`.
    Requeued(Operation),
}

impl Submitted {
    /// The operation, whatever happened.
    pub fn operation(&self) -> &Operation {
        match self {
            Submitted::Created(op) | Submitted::Existing(op) | Submitted::Requeued(op) => op,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use fiscal_model::{CashMovement, CashResult, FiscalResult, Routing};

    fn reason() -> Reason {
        Reason {
            code: "NO_PAPER".into(),
            message: "Нет бумаги.".into(),
            device_error: None,
        }
    }

    fn fiscal(fd: u32, not_printed: bool) -> Completion {
        Completion::Receipt(FiscalResult {
            fd_number: fd,
            fiscal_sign: 1,
            receipt_number_in_shift: 1,
            shift_number: 1,
            fn_number: "1".into(),
            rnm: "1".into(),
            date_time: chrono::NaiveDateTime::default(),
            not_printed,
            marking_checks: Vec::new(),
        })
    }

    fn all() -> Vec<OpState> {
        let snapshot = serde_json::json!({});
        vec![
            OpState::Queued,
            OpState::Waiting {
                reason: reason(),
                since: Utc::now(),
            },
            OpState::Sending {
                snapshot: snapshot.clone(),
            },
            OpState::Reconciling { snapshot },
            OpState::Done {
                completion: fiscal(1, false),
            },
            OpState::Failed { reason: reason() },
        ]
    }

    #[test]
    fn the_allowed_moves_are_exactly_the_table() {
        let allowed = [
            ("queued", "waiting"),
            ("queued", "sending"),
            ("queued", "failed"),
            ("waiting", "waiting"),
            ("waiting", "sending"),
            ("waiting", "failed"),
            ("sending", "reconciling"),
            ("sending", "waiting"),
            ("sending", "done"),
            ("sending", "failed"),
            ("reconciling", "reconciling"),
            ("reconciling", "queued"),
            ("reconciling", "waiting"),
            ("reconciling", "done"),
            ("reconciling", "failed"),
            ("done", "done"),
        ];
        for from in all() {
            for to in all() {
                let expected = allowed.contains(&(from.name(), to.name()));
                assert_eq!(
                    from.may_become(&to),
                    expected,
                    "{} → {}",
                    from.name(),
                    to.name()
                );
            }
        }
    }

    #[test]
    fn a_done_receipt_may_only_change_its_printing_flag() {
        let done = |c| OpState::Done { completion: c };
        assert!(done(fiscal(7, true)).may_become(&done(fiscal(7, false))));
        assert!(!done(fiscal(7, true)).may_become(&done(fiscal(8, false))));
        let cash = Completion::Cash(CashResult {
            document_number: 1,
            shift_number: 1,
            fn_number: "1".into(),
            rnm: "1".into(),
            date_time: chrono::NaiveDateTime::default(),
        });
        assert!(!done(cash.clone()).may_become(&done(cash)));
    }

    #[test]
    fn notes_are_cut_at_a_character_boundary_without_control_characters() {
        assert_eq!(bounded_note("ok\nthen"), "ok then");
        let long = "ж".repeat(MAX_NOTE_BYTES);
        let cut = bounded_note(&long);
        assert!(cut.len() <= MAX_NOTE_BYTES, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert!(cut.trim_end_matches('…').chars().all(|c| c == 'ж'));
        let exact = "a".repeat(MAX_NOTE_BYTES);
        assert_eq!(bounded_note(&exact), exact);
    }

    #[test]
    fn the_payload_hash_follows_meaning_and_kind_follows_the_body() {
        let request = |amount, kind| OperationRequest {
            body: OperationBody::Cash(CashMovement {
                kind,
                amount: fiscal_model::Kopecks(amount),
            }),
            routing: Routing::default(),
        };
        let a = request(100, CashMovementKind::In);
        assert_eq!(payload_hash(&a).unwrap(), payload_hash(&a.clone()).unwrap());
        assert_ne!(
            payload_hash(&a).unwrap(),
            payload_hash(&request(101, CashMovementKind::In)).unwrap()
        );
        let mut routed = a.clone();
        routed.routing.cashbox_id = Some("b".into());
        assert_ne!(payload_hash(&a).unwrap(), payload_hash(&routed).unwrap());
        assert_eq!(OperationKind::of(&a), OperationKind::CashIn);
        assert_eq!(
            OperationKind::of(&request(1, CashMovementKind::Out)),
            OperationKind::CashOut
        );
    }
}
