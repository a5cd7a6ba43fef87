//! The `checkStatus` answer (also the answer of the POST routes) rendered from a stored
//! operation, field for field as in the API description's three examples, plus `errorCode`
//! beside `errorMessage` and, for cash operations, the extension object `cashParams`.
//!
//! Status: Queued / Waiting / Sending / Reconciling → 1 (Waiting shows its reason while still
//! 1), Done → 2, Failed → 3. Timestamps are RFC 3339 in UTC; the register's own clock times are
//! converted with its configured UTC offset. This module does not read the store.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use fiscal_model::{CashResult, Completion, FiscalResult};
use queue::{OpState, Operation, OperationKind};
use serde::Serialize;

/// The FNS site printed on receipts and reported in `fiscalParams.fnsUrl`.
pub const FNS_URL: &str = "www.nalog.gov.ru";

/// Status 1 of the API: in the queue (any unfinished state).
pub const STATUS_QUEUED: u8 = 1;
/// Status 2: processed, the document exists.
pub const STATUS_DONE: u8 = 2;
/// Status 3: not processed, no document.
pub const STATUS_FAILED: u8 = 3;

/// The answer body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusBody {
    status: u8,
    creation_date_time_utc: String,
    handler_cashbox_id: Option<String>,
    processing_date_time_utc: Option<String>,
    fiscal_params: Option<FiscalParams>,
    error_message: Option<String>,
    error_code: Option<String>,
    /// Only cash operations carry this key (null until done).
    #[serde(skip_serializing_if = "Option::is_none")]
    cash_params: Option<Option<CashParams>>,
    /// Extension: processed receipts with marked positions only, one entry per position.
    #[serde(skip_serializing_if = "Option::is_none")]
    positions: Option<Vec<PositionStatus>>,
}

/// `positions[i]` (extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct PositionStatus {
    marking_check: Option<MarkingCheck>,
}

/// `positions[i].markingCheck`: tag 2106 and its bits (FFD 1.2 addendum §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct MarkingCheck {
    tag2106: u8,
    checked: bool,
    valid: bool,
    status_received: bool,
    status_correct: bool,
    autonomous: bool,
}

fn marking_check(byte: u8) -> MarkingCheck {
    let bit = |n: u8| byte & (1 << n) != 0;
    MarkingCheck {
        tag2106: byte,
        checked: bit(0),
        valid: bit(1),
        status_received: bit(2),
        status_correct: bit(3),
        autonomous: bit(4),
    }
}

/// `fiscalParams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct FiscalParams {
    fiscal_document_number: u32,
    fiscal_document_sign: String,
    fiscal_document_date_time_utc: String,
    fiscal_receipt_number: u32,
    shift_number: u32,
    fn_number: String,
    registration_number: String,
    fns_url: &'static str,
    not_printed: bool,
}

/// `cashParams` (extension): a cash movement has no fiscal document, only the register's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct CashParams {
    document_number: u32,
    shift_number: u32,
    fn_number: String,
    registration_number: String,
    date_time_utc: String,
}

/// RFC 3339, UTC, `Z`, milliseconds.
fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A register-local time as UTC. An ambiguous or impossible local time cannot occur with a
/// fixed offset; the fallback treats the time as UTC rather than failing the whole answer.
fn register_time(local: NaiveDateTime, offset: FixedOffset) -> String {
    match local.and_local_timezone(offset).single() {
        Some(t) => utc(t.with_timezone(&Utc)),
        None => utc(local.and_utc()),
    }
}

/// The API's status code of a state.
pub fn status_code(state: &OpState) -> u8 {
    match state {
        OpState::Done { .. } => STATUS_DONE,
        OpState::Failed { .. } => STATUS_FAILED,
        _ => STATUS_QUEUED,
    }
}

/// Renders `op`; `offset` is the UTC offset of the register's clock.
pub fn render(op: &Operation, offset: FixedOffset) -> StatusBody {
    let mut body = StatusBody {
        status: status_code(&op.state),
        creation_date_time_utc: utc(op.created_at),
        handler_cashbox_id: Some(op.register.as_str().to_string()),
        processing_date_time_utc: None,
        fiscal_params: None,
        error_message: None,
        error_code: None,
        cash_params: match op.kind {
            OperationKind::Receipt => None,
            OperationKind::CashIn | OperationKind::CashOut => Some(None),
        },
        positions: None,
    };
    match &op.state {
        OpState::Waiting { reason, .. } | OpState::Failed { reason } => {
            body.error_message = Some(reason.message.clone());
            body.error_code = Some(reason.code.clone());
        }
        OpState::Done { completion } => {
            body.processing_date_time_utc = op.processed_at.map(utc);
            match completion {
                Completion::Receipt(f) => {
                    body.fiscal_params = Some(fiscal(f, offset));
                    if !f.marking_checks.is_empty() {
                        body.positions = Some(
                            f.marking_checks
                                .iter()
                                .map(|c| PositionStatus {
                                    marking_check: c.map(marking_check),
                                })
                                .collect(),
                        );
                    }
                }
                Completion::Cash(c) => body.cash_params = Some(Some(cash(c, offset))),
            }
        }
        OpState::Queued | OpState::Sending { .. } | OpState::Reconciling { .. } => {}
    }
    body
}

fn fiscal(f: &FiscalResult, offset: FixedOffset) -> FiscalParams {
    FiscalParams {
        fiscal_document_number: f.fd_number,
        // ФПД is printed as a decimal number; the API shows it zero-padded to 10 digits.
        fiscal_document_sign: format!("{:010}", f.fiscal_sign),
        fiscal_document_date_time_utc: register_time(f.date_time, offset),
        fiscal_receipt_number: f.receipt_number_in_shift,
        shift_number: f.shift_number,
        fn_number: f.fn_number.clone(),
        registration_number: f.rnm.clone(),
        fns_url: FNS_URL,
        not_printed: f.not_printed,
    }
}

fn cash(c: &CashResult, offset: FixedOffset) -> CashParams {
    CashParams {
        document_number: c.document_number,
        shift_number: c.shift_number,
        fn_number: c.fn_number.clone(),
        registration_number: c.rnm.clone(),
        date_time_utc: register_time(c.date_time, offset),
    }
}
