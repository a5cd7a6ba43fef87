//! `GET /v1.0/cashboxes`, `GET /v1.0/cashboxes/{id}` and
//! `GET /v1.0/cashboxes/{id}/documents/{fd}`: the registers' facts as their workers last saw
//! them, and a document of a register's FN archive, both through the [`Desk`](crate::Desk).
//!
//! The facts never wait for a register (the desk answers from each worker's view); a document
//! is read by the register's worker between operations, so it may answer 503. A token sees only
//! the registers it may use: any other id is a 404 exactly like an unknown one. Money is
//! rendered from kopecks to a JSON number with two decimals without a float; the register's
//! local times are converted to UTC with its configured offset, as checkStatus does. This
//! module neither stores nor routes operations.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Access;
use crate::desk::{ArchivedDocument, CashboxFacts, DeskError, HaltFacts, ShiftFacts};
use crate::error::ErrorBody;
use crate::handlers::{authenticate, offset_of};
use crate::openapi;
use crate::status::{register_time, utc};
use crate::{routing, ApiError, AppState, DeskHandle};

type Shared = State<Arc<AppState>>;

/// `GET /v1.0/cashboxes`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CashboxList)]
pub struct CashboxList {
    /// The registers this token may use, in the configuration's order.
    cashboxes: Vec<CashboxBody>,
}

/// One register's facts as its worker last read them; null where not (yet) known.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Cashbox)]
pub struct CashboxBody {
    /// The register's cashboxId.
    cashbox_id: String,
    /// Model name.
    #[schema(required = true)]
    model: Option<String>,
    /// KKT serial number.
    #[schema(required = true)]
    kkt_serial: Option<String>,
    /// FN serial number (tag 1041).
    #[schema(required = true)]
    fn_number: Option<String>,
    /// Registration number РНМ (tag 1037).
    #[schema(required = true)]
    registration_number: Option<String>,
    /// Taxpayer INN (tag 1018).
    #[schema(required = true)]
    inn: Option<String>,
    /// FFD version ("1.2").
    #[schema(required = true)]
    ffd_version: Option<String>,
    /// The FN's end of life, YYYY-MM-DD.
    #[schema(required = true, format = Date)]
    fn_expiry: Option<String>,
    /// Days from the register's today to `fnExpiry`.
    #[schema(required = true)]
    fn_days_left: Option<i64>,
    /// The shift as the register last reported it.
    #[schema(required = true)]
    shift: Option<ShiftBody>,
    /// Cash in the drawer (money register 241), in roubles with two decimals.
    #[schema(required = true, minimum = 0)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    cash_in_drawer: Option<Decimal>,
    /// The documents the FN has not yet passed to the OFD.
    ofd: OfdBody,
    /// It answers and can make a document now.
    ready: bool,
    /// Why not, as in checkStatus (`COVER_OPEN`, `NO_LINK`, `NEEDS_OPERATOR` …).
    #[schema(required = true)]
    error_code: Option<String>,
    /// The same in Russian.
    #[schema(required = true)]
    error_message: Option<String>,
    /// The operation a halted register holds for a person (see the admin routes), else null.
    #[schema(required = true)]
    halted: Option<HaltBody>,
    /// When these facts were last read from the register. RFC 3339, UTC.
    #[schema(required = true, format = DateTime)]
    observed_at_utc: Option<String>,
    /// Characters per line of the receipt tape (what `printText` lines must fit).
    #[schema(required = true)]
    print_width: Option<u16>,
}

/// `shift` of a cashbox.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CashboxShift)]
struct ShiftBody {
    /// Open.
    open: bool,
    /// The open shift's number, or the last closed one's.
    #[schema(required = true)]
    number: Option<u32>,
    /// When the open shift was opened. RFC 3339, UTC.
    #[schema(required = true, format = DateTime)]
    opened_at_utc: Option<String>,
    /// Whole hours left before its 24 hours run out.
    #[schema(required = true)]
    hours_left: Option<i64>,
    /// Receipts made in it.
    #[schema(required = true)]
    receipts: Option<u32>,
}

/// `ofd` of a cashbox.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OfdBacklog)]
struct OfdBody {
    /// Documents not yet sent.
    #[schema(required = true)]
    unsent: Option<u32>,
    /// The oldest one's time. RFC 3339, UTC.
    #[schema(required = true, format = DateTime)]
    oldest_utc: Option<String>,
}

/// `halted` of a cashbox.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Halt)]
pub(crate) struct HaltBody {
    /// The operation whose outcome the register could not prove.
    operation_id: String,
    /// Why reconcile could not decide (Russian).
    reason: String,
}

impl From<&HaltFacts> for HaltBody {
    fn from(h: &HaltFacts) -> HaltBody {
        HaltBody {
            operation_id: h.operation_id.clone(),
            reason: h.reason.clone(),
        }
    }
}

/// A document of an FN archive.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ArchivedDocument)]
pub struct DocumentBody {
    /// FD number (tag 1040).
    fiscal_document_number: u32,
    /// FFD form code: 1 registration, 11 change of registration, 2 shift opening, 21 state of
    /// settlements, 3 receipt, 31 correction receipt, 4 strict-reporting form, 41 its
    /// correction, 5 shift closing, 6 FN closing, 7 operator's confirmation.
    #[schema(maximum = 255)]
    document_type: u8,
    /// The form's Russian name («Кассовый чек», «Отчёт о закрытии смены» …).
    document_type_name: String,
    /// The document's time. RFC 3339, UTC (the register's clock converted with its offset).
    #[schema(format = DateTime)]
    date_time_utc: String,
    /// Receipts: tag 1054, 1 sale, 2 sale return, 3 purchase, 4 purchase return; else null.
    #[schema(required = true, maximum = 255)]
    operation_type: Option<u8>,
    /// Receipts: the total in roubles with two decimals; else null.
    #[schema(required = true, minimum = 0)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    total: Option<Decimal>,
    /// Fiscal sign ФПД (tag 1077), zero-padded to 10 digits.
    #[schema(pattern = "^[0-9]{10}$")]
    fiscal_document_sign: String,
    /// Shift reports: the shift number; else null.
    #[schema(required = true)]
    shift_number: Option<u32>,
}

/// Kopecks as roubles with two decimals, exactly.
pub(crate) fn roubles(kopecks: u64) -> Decimal {
    Decimal::from_i128_with_scale(i128::from(kopecks), 2)
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn utc_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(utc)
}

impl From<CashboxFacts> for CashboxBody {
    fn from(f: CashboxFacts) -> CashboxBody {
        CashboxBody {
            cashbox_id: f.cashbox_id,
            model: f.model,
            kkt_serial: f.kkt_serial,
            fn_number: f.fn_number,
            registration_number: f.rnm,
            inn: f.inn,
            ffd_version: f.ffd_version,
            fn_expiry: f.fn_expiry.map(date),
            fn_days_left: f.fn_days_left,
            shift: f.shift.map(|s: ShiftFacts| ShiftBody {
                open: s.open,
                number: s.number,
                opened_at_utc: utc_opt(s.opened_at),
                hours_left: s.hours_left,
                receipts: s.receipts,
            }),
            cash_in_drawer: f.cash_in_drawer.map(roubles),
            ofd: OfdBody {
                unsent: f.ofd_unsent,
                oldest_utc: utc_opt(f.ofd_oldest),
            },
            ready: f.ready,
            error_code: f.error_code,
            error_message: f.error_message,
            halted: f.halted.as_ref().map(HaltBody::from),
            observed_at_utc: utc_opt(f.observed_at),
            print_width: f.print_width,
        }
    }
}

/// The Russian name of FFD form `code`.
pub fn document_type_name(code: u8) -> String {
    fiscal_model::form::name(code).map_or_else(|| format!("Документ формы {code}"), str::to_string)
}

/// The desk, or the 503 of a gateway without one.
pub(crate) fn desk(app: &AppState) -> Result<&DeskHandle, ApiError> {
    app.desk.as_ref().ok_or(ApiError::DeskMissing)
}

/// Whether the token may see register `id`: a configured register by its grants, anything else
/// only without restrictions.
pub(crate) fn may_see(app: &AppState, access: &Access, id: &str) -> bool {
    match routing::find(&app.registers, id) {
        Some(register) => access.allows(register),
        None => access.is_unrestricted(),
    }
}

/// `GET /v1.0/cashboxes`.
#[utoipa::path(
    get,
    path = "/v1.0/cashboxes",
    operation_id = "listCashboxes",
    summary = "The registers and their facts",
    description = "Every register this token may use, as its worker last read it (never waits on a register).",
    responses(
        (status = 200, description = "The registers.", body = CashboxList),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("{} Also {}", openapi::NO_DESK, openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn list(State(app): Shared, headers: HeaderMap) -> Result<Json<CashboxList>, ApiError> {
    let access = authenticate(&app, &headers)?;
    let desk = desk(&app)?;
    let cashboxes = desk
        .0
        .cashboxes()
        .into_iter()
        .filter(|f| may_see(&app, &access, &f.cashbox_id))
        .map(CashboxBody::from)
        .collect();
    Ok(Json(CashboxList { cashboxes }))
}

/// `GET /v1.0/cashboxes/{id}`.
#[utoipa::path(
    get,
    path = "/v1.0/cashboxes/{id}",
    operation_id = "getCashbox",
    summary = "One register's facts",
    description = "A register this token may not use answers 404, like an unknown one.",
    params(("id" = String, Path, description = "The register's cashboxId.")),
    responses(
        (status = 200, description = "The register.", body = CashboxBody),
        (status = 400, description = "The path does not decode as UTF-8.", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "No such register, or one this token may not use (`CASHBOX_NOT_FOUND`).", body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("{} Also {}", openapi::NO_DESK, openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn one(
    State(app): Shared,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<CashboxBody>, ApiError> {
    let access = authenticate(&app, &headers)?;
    let Path(id) = path.map_err(|e| ApiError::path("cashboxId", e))?;
    let desk = desk(&app)?;
    desk.0
        .cashboxes()
        .into_iter()
        .find(|f| f.cashbox_id.eq_ignore_ascii_case(&id))
        .filter(|f| may_see(&app, &access, &f.cashbox_id))
        .map(|f| Json(CashboxBody::from(f)))
        .ok_or(ApiError::CashboxNotFound(id))
}

/// `GET /v1.0/cashboxes/{id}/documents/{fd}`.
#[utoipa::path(
    get,
    path = "/v1.0/cashboxes/{id}/documents/{fd}",
    operation_id = "getDocument",
    summary = "A document of a register's FN archive",
    description = "Read from the FN by the register's worker between operations. A register this token may not use answers 404, like an unknown one.",
    params(
        ("id" = String, Path, description = "The register's cashboxId."),
        ("fd" = u32, Path, minimum = 1, description = "FD number (tag 1040)."),
    ),
    responses(
        (status = 200, description = "The document.", body = DocumentBody),
        (status = 400, description = "`fd` is not a whole number from 1 (`field` = `fiscalDocumentNumber`).", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "No such register or one this token may not use (`CASHBOX_NOT_FOUND`), or no such document in its FN (`DOCUMENT_NOT_FOUND`).", body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("{} Also {}", openapi::REGISTER_BUSY, openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn document(
    State(app): Shared,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<DocumentBody>, ApiError> {
    let access = authenticate(&app, &headers)?;
    let Path((id, fd)) = path.map_err(|e| ApiError::path("cashboxId", e))?;
    let fd = fd.parse::<u32>().ok().filter(|&n| n > 0).ok_or_else(|| {
        ApiError::invalid(
            "fiscalDocumentNumber",
            format!("{fd:?} is not a whole number from 1 to {}", u32::MAX),
        )
    })?;
    if !may_see(&app, &access, &id) {
        return Err(ApiError::CashboxNotFound(id));
    }
    let desk = desk(&app)?;
    let cashbox = routing::find(&app.registers, &id)
        .map_or_else(|| id.to_ascii_lowercase(), |r| r.id.clone());
    let found = desk.0.document(&cashbox, fd).await.map_err(|e| match e {
        DeskError::NotFound(message) => ApiError::DocumentNotFound(message),
        DeskError::Unavailable(message) | DeskError::Refused(message) => {
            ApiError::RegisterUnavailable(message)
        }
    })?;
    let offset = offset_of(&app, &queue::RegisterId::new(cashbox));
    Ok(Json(document_body(&found, offset)))
}

fn document_body(d: &ArchivedDocument, offset: chrono::FixedOffset) -> DocumentBody {
    DocumentBody {
        fiscal_document_number: d.fd_number,
        document_type: d.doc_type,
        document_type_name: document_type_name(d.doc_type),
        date_time_utc: register_time(d.date_time, offset),
        operation_type: d.operation,
        total: d.total.map(roubles),
        fiscal_document_sign: format!("{:010}", d.fiscal_sign),
        shift_number: d.shift_number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roubles_are_exact_with_two_decimals() {
        let json = |k| {
            serde_json::to_string(&DocumentTotal {
                total: Some(roubles(k)),
            })
            .unwrap_or_default()
        };
        assert_eq!(json(0), r#"{"total":0.00}"#);
        assert_eq!(json(7050), r#"{"total":70.50}"#);
        assert_eq!(json(1), r#"{"total":0.01}"#);
        assert_eq!(json(99_999_999_999_999), r#"{"total":999999999999.99}"#);
    }

    #[derive(Serialize)]
    struct DocumentTotal {
        #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
        total: Option<Decimal>,
    }
}
