//! The operation route handlers (`formReceipt`, cash, the shop day's operations,
//! `checkStatus`) and `/health`: authenticate, read and validate the body, route, store, answer.
//!
//! Order of checks on a POST: token (401), content type (415), body size (413), JSON (400),
//! fields (400), register (400 unknown / 403 not allowed), what the register decides (tax
//! groups, a correction's date on its clock, a text line against its tape width: 400), then
//! the store:
//! created or replayed → 200 with the status body, changed payload → 422, store failure → 503
//! (nothing acknowledged, but the operation may have been stored: retry with the same
//! operationId). Nothing is queued unless every check passed.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{FixedOffset, Offset};
use fiscal_model::{CashMovementKind, OperationBody};
use queue::{NewOperation, Operation, RegisterId, SubmitError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Access;
use crate::error::ErrorBody;
use crate::openapi::{self, PostAnswers};
use crate::request::{self, ParsedRequest};
use crate::request_day;
use crate::schema::{
    CashRequest, CheckStatusQuery, CorrectionReceiptRequest, FormReceiptRequest, PrintCopyRequest,
    PrintTextRequest, ShiftOperationRequest, XReportRequest,
};
use crate::status::{self, StatusBody, STATUS_QUEUED};
use crate::{routing, ApiError, AppState, RegisterReadiness, RegisterRoute};

type Shared = State<Arc<AppState>>;

/// Longest time a request body may take to arrive (a POS sends a few kilobytes at once).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// `POST /v1.0/operations/formReceipt`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/formReceipt",
    operation_id = "formReceipt",
    summary = "formReceipt — form a receipt",
    description = "Queues a fiscal receipt. `totalSum` must equal the sum of price × quantity of the positions and `cashPaymentSum + cashlessPaymentSum + prepaymentSum + postpaymentSum + counterProvisionSum` (the last three are extensions, 0 when absent), to the kopeck. Every VAT rate used must have a tax group on the chosen register.",
    request_body(content = FormReceiptRequest, example = json!(openapi::form_receipt_example())),
    responses(PostAnswers)
)]
pub async fn form_receipt(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, request::form_receipt).await
}

/// `POST /v1.0/operations/depositCash`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/depositCash",
    operation_id = "depositCash",
    summary = "depositCash — cash in",
    description = "Queues a cash deposit (внесение) on the given register. Makes no fiscal document; the result is reported in `cashParams`.",
    request_body(content = CashRequest, example = json!(openapi::cash_example(50000, "12855F"))),
    responses(PostAnswers)
)]
pub async fn deposit_cash(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, |v| {
        request::cash(v, CashMovementKind::In)
    })
    .await
}

/// `POST /v1.0/operations/withdrawCash`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/withdrawCash",
    operation_id = "withdrawCash",
    summary = "withdrawCash — cash out",
    description = "Queues a cash withdrawal (изъятие) from the given register. Makes no fiscal document; the result is reported in `cashParams`.",
    request_body(content = CashRequest, example = json!(openapi::cash_example(100, "12856F"))),
    responses(PostAnswers)
)]
pub async fn withdraw_cash(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, |v| {
        request::cash(v, CashMovementKind::Out)
    })
    .await
}

/// `POST /v1.0/operations/openShift`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/openShift",
    operation_id = "openShift",
    summary = "openShift — open the shift",
    description = "Queues a shift opening (the shift-opening report, an FD) on the register. A shift already open is not opened again: status 2 with `shiftParams.made` false and that shift's number. Queued behind the register's earlier operations.",
    request_body(content = ShiftOperationRequest, example = json!(openapi::shift_example("12858F"))),
    responses(PostAnswers)
)]
pub async fn open_shift(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, |v| request_day::shift(v, true)).await
}

/// `POST /v1.0/operations/closeShift`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/closeShift",
    operation_id = "closeShift",
    summary = "closeShift — close the shift (Z report)",
    description = "Queues the Z report (an FD) on the register, after everything queued before it. A shift already closed is not closed again: status 2 with `shiftParams.made` false.",
    request_body(content = ShiftOperationRequest, example = json!(openapi::shift_example("12859F"))),
    responses(PostAnswers)
)]
pub async fn close_shift(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, |v| request_day::shift(v, false)).await
}

/// `POST /v1.0/operations/xReport`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/xReport",
    operation_id = "xReport",
    summary = "xReport — print the shift's totals",
    description = "Queues an X report: the open shift's totals, printed; no FD. The result is reported in `printParams`.",
    request_body(content = XReportRequest, example = json!({"operationId": "12860F", "cashboxId": "da2bb850-63ef-47e4-8b45-7b5b841eaa9b"})),
    responses(PostAnswers)
)]
pub async fn x_report(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, request_day::x_report).await
}

/// `POST /v1.0/operations/formCorrectionReceipt`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/formCorrectionReceipt",
    operation_id = "formCorrectionReceipt",
    summary = "formCorrectionReceipt — form a correction receipt",
    description = "Queues an FFD 1.2 correction receipt: a formReceipt body (checked as formReceipt checks it, routed as formReceipt is) plus `correctionType`, `correctionBaseDate` and, by order, `correctionBaseNumber`. Its status renders exactly as a receipt's.",
    request_body(content = CorrectionReceiptRequest, example = json!(openapi::correction_example())),
    responses(PostAnswers)
)]
pub async fn form_correction_receipt(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, request_day::correction_receipt).await
}

/// `POST /v1.0/operations/printCopy`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/printCopy",
    operation_id = "printCopy",
    summary = "printCopy — print a copy of a document",
    description = "Queues a non-fiscal copy (marked «КОПИЯ») of a document of the register's FN archive, the last receipt when `fiscalDocumentNumber` is absent. `printParams` names the document copied.",
    request_body(content = PrintCopyRequest, example = json!({"operationId": "12861F", "cashboxId": "da2bb850-63ef-47e4-8b45-7b5b841eaa9b", "fiscalDocumentNumber": 24})),
    responses(PostAnswers)
)]
pub async fn print_copy(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, request_day::print_copy).await
}

/// `POST /v1.0/operations/printText`.
#[utoipa::path(
    post,
    path = "/v1.0/operations/printText",
    operation_id = "printText",
    summary = "printText — print non-fiscal text",
    description = "Queues a non-fiscal slip. A line too wide for the register's tape or with a character outside CP1251 is a 400 naming it (`lines[3]`).",
    request_body(content = PrintTextRequest, example = json!({"operationId": "12862F", "lines": ["Заказ № 15", "", "Спасибо!"], "cut": true})),
    responses(PostAnswers)
)]
pub async fn print_text(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    submit(&app, &headers, body, request_day::print_text).await
}

pub(crate) fn authenticate(app: &AppState, headers: &HeaderMap) -> Result<Access, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::Unauthorized("header is not ASCII".into()))
        })
        .transpose()?;
    app.auth.verify(value)
}

pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::UnsupportedMediaType);
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

pub(crate) async fn read_json(
    app: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    let limit = app.body_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let bytes = read_body(app, body).await.map_err(|e| match e {
        BodyError::Late => ApiError::BodyTimeout {
            seconds: BODY_TIMEOUT.as_secs(),
        },
        BodyError::TooLarge { limit } => ApiError::PayloadTooLarge { limit },
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::MalformedJson(format!("not valid JSON: {e}")))
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// It did not arrive within [`BODY_TIMEOUT`]: a body that trickles is cut off, since it
    /// would hold a connection of the limited pool.
    Late,
    /// It is larger than the limit, or the connection broke mid-body (then the answer goes
    /// nowhere, so one error serves both).
    TooLarge { limit: usize },
}

/// A request body, held to the gateway's size limit and [`BODY_TIMEOUT`]; every dialect
/// reads its bodies through here and words the failure in its own shape.
pub(crate) async fn read_body(app: &AppState, body: Body) -> Result<axum::body::Bytes, BodyError> {
    let limit = app.body_limit;
    tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| BodyError::Late)?
        .map_err(|_| BodyError::TooLarge { limit })
}

async fn submit(
    app: &AppState,
    headers: &HeaderMap,
    body: Body,
    parse: impl FnOnce(&Value) -> Result<ParsedRequest, ApiError>,
) -> Result<Json<StatusBody>, ApiError> {
    let access = authenticate(app, headers)?;
    require_json(headers)?;
    let value = read_json(app, headers, body).await?;
    let ParsedRequest { id, request } = parse(&value)?;
    let existing = app.store.get(&id)?;
    if let Some(op) = &existing {
        // A known id on a register this token may not use is not the token's to replay.
        if !visible(app, &access, op) {
            return Err(ApiError::Forbidden(format!(
                "operation {:?} belongs to a cashbox this token may not use",
                id.as_str()
            )));
        }
    }
    let stored_register = existing
        .as_ref()
        .filter(|op| op.request.routing == request.routing)
        .and_then(|op| routing::find(&app.registers, op.register.as_str()));
    let register = match stored_register {
        // A replay goes where the original went, even if group routing would now pick another.
        Some(register) => register,
        None => routing::choose(
            &app.registers,
            app.default_register.as_deref(),
            &request.routing,
            &access,
            &app.store,
            |r| missing_tax_group(&request.body, r).is_none(),
        )?,
    };
    if let Some(error) = missing_tax_group(&request.body, register) {
        return Err(error);
    }
    if let Some(error) = request_day::fits_register(
        &request.body,
        register,
        print_width(app, &request.body, register),
    ) {
        return Err(error);
    }
    let new = NewOperation {
        id,
        register: RegisterId::new(register.id.clone()),
        request,
    };
    match app.store.submit(new).await {
        Ok(submitted) => {
            let op = submitted.operation();
            tracing::info!(operation = %op.id, register = %op.register, state = op.state.name(), "operation submitted");
            Ok(Json(render(app, op)))
        }
        Err(SubmitError::Conflict { existing }) => Err(ApiError::IdempotencyConflict(
            existing.id.as_str().to_string(),
        )),
        Err(e @ SubmitError::TooLarge { .. }) => Err(ApiError::OperationTooLarge(e.to_string())),
        Err(SubmitError::Store(e)) => Err(e.into()),
    }
}

/// The register's characters per line as its worker last saw them, asked of the desk only
/// for a text slip.
fn print_width(app: &AppState, body: &OperationBody, register: &RegisterRoute) -> Option<u16> {
    if !matches!(body, OperationBody::PrintText(_)) {
        return None;
    }
    app.facts_of(&register.id)?.print_width
}

/// The 400 for the first position (of a receipt or a correction receipt) whose VAT rate has
/// no tax group on `register`.
fn missing_tax_group(body: &OperationBody, register: &RegisterRoute) -> Option<ApiError> {
    let receipt = match body {
        OperationBody::Receipt(receipt) => receipt,
        OperationBody::Correction(correction) => &correction.receipt,
        _ => return None,
    };
    let (i, item) = receipt
        .items
        .iter()
        .enumerate()
        .find(|(_, item)| register.taxes.group(item.vat).is_none())?;
    Some(ApiError::invalid(
        format!("positions[{i}].taxType"),
        format!(
            "VAT rate {} has no tax group on cashbox {}",
            item.vat.label(),
            register.id
        ),
    ))
}

pub(crate) fn offset_of(app: &AppState, register: &RegisterId) -> FixedOffset {
    routing::find(&app.registers, register.as_str())
        .map(|r| r.utc_offset)
        .unwrap_or_else(|| chrono::Utc.fix())
}

pub(crate) fn render(app: &AppState, op: &Operation) -> StatusBody {
    status::render(op, offset_of(app, &op.register))
}

/// Whether the token may see `op` (an unconfigured register is visible only to unrestricted tokens).
pub(crate) fn visible(app: &AppState, access: &Access, op: &Operation) -> bool {
    match routing::find(&app.registers, op.register.as_str()) {
        Some(register) => access.allows(register),
        None => access.is_unrestricted(),
    }
}

/// `GET /v1.0/operations/checkStatus?operationId=…[&wait=N]`.
///
/// `wait` (extension): long poll up to N seconds (capped at the configured maximum) for the
/// status to leave 1. An operation on a register the token may not use answers 404, like an
/// unknown one, so a token cannot probe other registers' ids.
#[utoipa::path(
    get,
    path = "/v1.0/operations/checkStatus",
    operation_id = "checkStatus",
    summary = "checkStatus — status of an operation",
    description = "An operation on a register the token may not use answers 404, like an unknown one.",
    params(CheckStatusQuery),
    responses(
        (status = 200, description = "The operation's status.", body = StatusBody),
        (status = 400, description = "Invalid query (`operationId` missing or too long, `wait` not a whole number).", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "No such operation (`OPERATION_NOT_FOUND`), or one this token may not see.", body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("The operation store is unavailable; retry. Also {}", openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn check_status(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<StatusBody>, ApiError> {
    let access = authenticate(&app, &headers)?;
    // After a failed disk sync, what the store holds may not survive a restart: no answers.
    app.store.healthy()?;
    let Query(pairs) = query.map_err(|e| ApiError::Validation {
        field: None,
        message: format!("query string: {e}"),
    })?;
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let raw_id =
        param("operationId").ok_or_else(|| ApiError::invalid("operationId", "is required"))?;
    let id = request::operation_id_from(raw_id)?;
    let wait = match param("wait") {
        None | Some("") => Duration::ZERO,
        Some(text) => {
            let seconds: u64 = text.parse().map_err(|_| {
                ApiError::invalid("wait", "must be a whole number of seconds (0 or more)")
            })?;
            Duration::from_secs(seconds).min(app.max_wait)
        }
    };
    let not_found = || ApiError::OperationNotFound(id.as_str().to_string());
    let mut op = app.store.get(&id)?.ok_or_else(not_found)?;
    if !visible(&app, &access, &op) {
        return Err(not_found());
    }
    let now = tokio::time::Instant::now();
    // A configured maximum beyond the clock's range waits a day at most.
    let deadline = now
        .checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(86_400));
    while status::status_code(&op.state) == STATUS_QUEUED {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        op = app
            .store
            .wait_change(&id, left)
            .await?
            .ok_or_else(not_found)?;
    }
    Ok(Json(render(&app, &op)))
}

/// What replaces a message that names an operation on a page anyone on the PC may read.
pub const PRIVATE_DETAILS: &str =
    "подробности — в журнале службы (journalctl -u fiscal-gateway) и в checkStatus операции";

/// A message as a token-free page (`/health`, the status page) may show it: a message that
/// names an operation (the gateway writes `operation <id>`) becomes [`PRIVATE_DETAILS`]
/// after its first clause, so no operation id reaches a reader without a token.
pub fn public_message(message: &str) -> String {
    let named = ["operation ", "Operation "]
        .iter()
        .filter_map(|word| message.find(word))
        .min();
    match named {
        None => message.to_string(),
        Some(at) => {
            let before = message[..at].trim_end().trim_end_matches(':').trim_end();
            if before.is_empty() {
                PRIVATE_DETAILS.to_string()
            } else {
                format!("{before}: {PRIVATE_DETAILS}")
            }
        }
    }
}

/// `GET /health` (no token): the process answers, its store can be read, and each register's
/// readiness; no operation ids, fiscal data or buyer data.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    summary = "Liveness: the process answers and its store can be read",
    description = "Needs no token, and shows no operation ids, fiscal data or buyer data: a message that names an operation is cut to its first clause.",
    security(),
    responses(
        (status = 200, description = "Alive.", body = HealthBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("The operation store cannot be read, or a failed disk sync stopped all acknowledgements until a restart. Also {}", openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn health(State(app): Shared) -> Result<Json<HealthBody>, ApiError> {
    app.store.healthy()?;
    let depth = app.store.depth()?;
    let unfinished: u64 = depth.values().flat_map(|m| m.values()).sum();
    let mut registers = app
        .readiness
        .as_ref()
        .map(|read| (read.0)())
        .unwrap_or_default();
    for register in &mut registers {
        if let Some(message) = &mut register.error_message {
            *message = public_message(message);
        }
    }
    Ok(Json(HealthBody {
        status: Alive::Ok,
        unfinished_operations: unfinished,
        registers,
    }))
}

/// The `/health` answer (also read back by `selftest`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Health)]
pub struct HealthBody {
    /// Always `ok`: the process answers and its store can be read.
    #[schema(inline)]
    pub status: Alive,
    /// Operations not yet Done or Failed, all registers.
    pub unfinished_operations: u64,
    /// Each register's readiness now (look before taking a card payment).
    pub registers: Vec<RegisterReadiness>,
}

/// `/health`'s `status`: there is no other answer with a 200.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum Alive {
    #[serde(rename = "ok")]
    Ok,
}

/// `GET /openapi.json`: the document generated by `openapi`, the same bytes every time.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    summary = "This document",
    security(),
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of the API.", body = Object),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("Also {}", openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::openapi_json(),
    )
        .into_response()
}

/// Any other path.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::RouteNotFound(uri.path().to_string())
}

/// A known path with another method.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}
