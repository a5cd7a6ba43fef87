//! The `checkStatus` answer (also the answer of the POST routes) rendered from a stored
//! operation, field for field as in the API description's three examples, plus `errorCode`
//! beside `errorMessage` and, for cash operations, the extension object `cashParams`; for
//! shift reports `shiftParams`, for prints (X report, copy, text) `printParams`.
//!
//! A shift report fills `fiscalParams` like a receipt (its FD, fiscal sign, time, shift, FN,
//! РНМ), with `fiscalReceiptNumber` 0: a report is no receipt and has no number in the shift.
//! A shift found already open (or closed) made no document: its `fiscalParams` is filled only
//! when the register told the FD, sign and time of the report that did, else null. A
//! correction receipt renders exactly as a receipt.
//!
//! Status: Queued / Waiting / Sending / Reconciling → 1 (Waiting shows its reason while still
//! 1), Done → 2, Failed → 3. Timestamps are RFC 3339 in UTC; the register's own clock times are
//! converted with its configured UTC offset. This module does not read the store.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use fiscal_model::{CashResult, Completion, FiscalResult, PrintResult, ShiftResult};
use queue::{OpState, Operation, OperationKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The FNS site printed on receipts and reported in `fiscalParams.fnsUrl`.
pub const FNS_URL: &str = "www.nalog.gov.ru";

/// Status 1 of the API: in the queue (any unfinished state).
pub const STATUS_QUEUED: u8 = 1;
/// Status 2: processed, the document exists.
pub const STATUS_DONE: u8 = 2;
/// Status 3: not processed, no document.
pub const STATUS_FAILED: u8 = 3;

/// The status of an operation: the answer of checkStatus and of the POST routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OperationStatus)]
pub struct StatusBody {
    /// 1 queued (or waiting for the register), 2 processed, 3 not processed.
    status: u8,
    /// When the operation was first stored. RFC 3339, UTC.
    #[schema(format = DateTime)]
    creation_date_time_utc: String,
    /// The register the operation was routed to.
    #[schema(required = true)]
    handler_cashbox_id: Option<String>,
    /// When the operation was processed (status 2); null otherwise. RFC 3339, UTC.
    #[schema(required = true, format = DateTime)]
    processing_date_time_utc: Option<String>,
    /// Receipts, correction receipts and shift reports with status 2; null otherwise (also
    /// for a shift found as asked whose report the register did not identify).
    #[schema(required = true)]
    fiscal_params: Option<FiscalParams>,
    /// Why status 3, or why a status-1 operation waits (cover open, no paper …), in Russian
    /// for the cashier.
    #[schema(required = true)]
    error_message: Option<String>,
    /// Extension: stable machine code beside errorMessage (e.g. COVER_OPEN).
    #[schema(required = true)]
    error_code: Option<String>,
    /// Extension, cash operations only: the register's document once processed, else null.
    /// Absent for receipts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CashParams>)]
    cash_params: Option<Option<CashParams>>,
    /// Extension, processed receipts with marked positions only (absent otherwise): one entry
    /// per position, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<PositionStatus>, required = false)]
    positions: Option<Vec<PositionStatus>>,
    /// Extension, shift openings and closings only: the shift once processed, else null.
    /// Absent for other operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ShiftParams>)]
    shift_params: Option<Option<ShiftParams>>,
    /// Extension, prints only (X report, copy, text): what was printed once processed, else
    /// null. Absent for other operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PrintParams>)]
    print_params: Option<Option<PrintParams>>,
}

/// `shiftParams` (extension): the shift a shift operation opened, closed or found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ShiftParams {
    /// Shift number (tag 1038).
    shift_number: u32,
    /// This operation made the report; false: the shift already was open (closed), no new
    /// document.
    made: bool,
}

/// `printParams` (extension): what a print reproduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct PrintParams {
    /// A copy: the FD number of the document copied; null for an X report or text.
    #[schema(required = true)]
    copied_fiscal_document_number: Option<u32>,
    /// A copy: its fiscal sign, zero-padded to 10 digits; null for an X report or text.
    #[schema(required = true, pattern = "^[0-9]{10}$")]
    copied_fiscal_document_sign: Option<String>,
}

/// `positions[i]` (extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct PositionStatus {
    /// The check result of the position's marking code (tag 2106); null for a position
    /// without a code or whose result the register did not give.
    #[schema(required = true)]
    marking_check: Option<MarkingCheck>,
}

/// `positions[i].markingCheck`: tag 2106 and its bits (FFD 1.2 addendum §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MarkingCheck {
    /// The byte of tag 2106 as the register gave it.
    #[schema(maximum = 255)]
    tag2106: u8,
    /// bit0: the code was checked.
    checked: bool,
    /// bit1: the check-code result is positive.
    valid: bool,
    /// bit2: status information from the marking system was received.
    status_received: bool,
    /// bit3: the planned status is correct.
    status_correct: bool,
    /// bit4: the result was formed in autonomous mode (no answer from the marking server).
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

/// `fiscalParams`: the receipt's fiscal document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct FiscalParams {
    /// FD number (tag 1040).
    fiscal_document_number: u32,
    /// Fiscal sign ФПД (tag 1077), decimal, zero-padded to 10 digits.
    #[schema(pattern = "^[0-9]{10}$")]
    fiscal_document_sign: String,
    /// Date and time of the document. RFC 3339, UTC.
    #[schema(format = DateTime)]
    fiscal_document_date_time_utc: String,
    /// Receipt number in the shift (tag 1042); 0 for a shift report, which has none.
    fiscal_receipt_number: u32,
    /// Shift number (tag 1038).
    shift_number: u32,
    /// FN serial number (tag 1041).
    fn_number: String,
    /// Register registration number РНМ (tag 1037).
    registration_number: String,
    /// FNS site, www.nalog.gov.ru.
    #[schema(value_type = String)]
    fns_url: &'static str,
    /// Closed in the FN but not completely printed (paper ran out); printing resumes when
    /// paper is back.
    not_printed: bool,
}

/// Extension: the register's own document of a cash movement (no fiscal document exists for
/// it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CashParams {
    /// The register's through document number.
    document_number: u32,
    shift_number: u32,
    fn_number: String,
    registration_number: String,
    /// Date and time of the movement. RFC 3339, UTC.
    #[schema(format = DateTime)]
    date_time_utc: String,
}

/// RFC 3339, UTC, `Z`, milliseconds.
pub(crate) fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A register-local time as UTC (also the API's rendering of an archived document's time). An ambiguous or impossible local time cannot occur with a
/// fixed offset; the fallback treats the time as UTC rather than failing the whole answer.
pub(crate) fn register_time(local: NaiveDateTime, offset: FixedOffset) -> String {
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
            OperationKind::CashIn | OperationKind::CashOut => Some(None),
            _ => None,
        },
        positions: None,
        shift_params: match op.kind {
            OperationKind::OpenShift | OperationKind::CloseShift => Some(None),
            _ => None,
        },
        print_params: match op.kind {
            OperationKind::XReport | OperationKind::PrintCopy | OperationKind::PrintText => {
                Some(None)
            }
            _ => None,
        },
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
                Completion::Shift(r) => {
                    body.fiscal_params = shift_fiscal(r, offset);
                    body.shift_params = Some(Some(ShiftParams {
                        shift_number: r.shift_number,
                        made: r.made,
                    }));
                }
                Completion::Printed(p) => body.print_params = Some(Some(print(p))),
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

/// A shift report's fiscal data: its FD, sign and time must all be known (always, when the
/// operation made it; only when the register told them, for a shift found as asked).
fn shift_fiscal(r: &ShiftResult, offset: FixedOffset) -> Option<FiscalParams> {
    let (fd, sign, time) = (r.fd_number?, r.fiscal_sign?, r.date_time?);
    Some(FiscalParams {
        fiscal_document_number: fd,
        fiscal_document_sign: format!("{sign:010}"),
        fiscal_document_date_time_utc: register_time(time, offset),
        // A report has no receipt number in the shift.
        fiscal_receipt_number: 0,
        shift_number: r.shift_number,
        fn_number: r.fn_number.clone(),
        registration_number: r.rnm.clone(),
        fns_url: FNS_URL,
        not_printed: false,
    })
}

fn print(p: &PrintResult) -> PrintParams {
    PrintParams {
        copied_fiscal_document_number: p.copied.map(|c| c.fd_number),
        copied_fiscal_document_sign: p.copied.map(|c| format!("{:010}", c.fiscal_sign)),
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
