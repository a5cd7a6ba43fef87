//! The administrator's routes: what the store holds unsettled (a command may have run and the
//! register could not prove whether), one stored operation in full, and a person's settlement
//! of an operation a halted register holds (through [`Desk::settle`](crate::Desk::settle)).
//!
//! Only a token with scope `admin` (see `auth`) passes: any other is a 403 `FORBIDDEN` before
//! its body is read. The token's register grants still apply: an operation on a register it
//! may not use is a 404, like an unknown one. Every call is logged at info with the token's
//! `sub`. This module does not decide a settlement: the register's worker checks the claim
//! against the FN.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use fiscal_model::OperationBody;
use queue::{OpState, Operation, RegisterId};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Access;
use crate::cashboxes::{roubles, HaltBody};
use crate::desk::{ClaimedOutcome, DeskError, SettleClaim};
use crate::error::ErrorBody;
use crate::handlers::{authenticate, read_json, render, require_json, visible};
use crate::schema::{AdminListQuery, SettleRequest};
use crate::status::{self, utc, StatusBody};
use crate::{fields, openapi, request, ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// Longest `reason` of a settlement (it goes into the operation's history, whose notes the
/// store keeps to 256 bytes).
const MAX_REASON_CHARS: usize = 256;

/// `GET /v1.0/admin/operations`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnsettledList {
    /// Every register this token may use, in the configuration's order.
    registers: Vec<UnsettledRegister>,
}

/// One register's unsettled operations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UnsettledRegister {
    /// The register's cashboxId.
    cashbox_id: String,
    /// What the register holds for a person, as its worker says (null: not halted, or the
    /// gateway runs without register workers).
    #[schema(required = true)]
    halted: Option<HaltBody>,
    /// Its operations in Sending or Reconciling, in queue order.
    operations: Vec<StoredOperation>,
}

/// A stored operation as the store holds it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StoredOperation)]
pub struct StoredOperation {
    /// The client's operationId.
    operation_id: String,
    /// The register it was routed to.
    cashbox_id: String,
    /// The route that made it (`formReceipt`, `depositCash`, `openShift` …).
    kind: &'static str,
    /// The store's state: queued, waiting, sending, reconciling, done, failed.
    state: &'static str,
    /// The register's state just before the first command (Sending / Reconciling), as the
    /// worker recorded it; null in other states.
    #[schema(required = true, value_type = Option<Object>)]
    snapshot: Option<Value>,
    /// What the request asks, without buyer data.
    request: RequestSummary,
    /// The state changes: the first and the most recent ones.
    attempts: Vec<AttemptBody>,
    /// Changes dropped between the first and the kept recent ones.
    attempts_dropped: u64,
    /// When it was first stored. RFC 3339, UTC.
    #[schema(format = DateTime)]
    created_at_utc: String,
    /// When it last changed. RFC 3339, UTC.
    #[schema(format = DateTime)]
    updated_at_utc: String,
    /// What checkStatus answers for it.
    answer: StatusBody,
}

/// The request of a stored operation, in short.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RequestSummary {
    /// Receipts and correction receipts: tag 1054, 1..4; else null.
    #[schema(required = true)]
    receipt_type: Option<u8>,
    /// Receipts and correction receipts: the total in roubles; else null.
    #[schema(required = true)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    total_sum: Option<Decimal>,
    /// Receipts and correction receipts: the number of positions; else null.
    #[schema(required = true)]
    positions: Option<usize>,
    /// Cash movements: the amount in roubles; else null.
    #[schema(required = true)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    amount: Option<Decimal>,
    /// Copies: the FD asked for (null: the last receipt, or not a copy).
    #[schema(required = true)]
    fiscal_document_number: Option<u32>,
    /// Text slips: the number of lines; else null.
    #[schema(required = true)]
    lines: Option<usize>,
    /// `cashboxId` as the client gave it.
    #[schema(required = true)]
    requested_cashbox_id: Option<String>,
}

/// One state change of an operation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Attempt)]
struct AttemptBody {
    /// The state it moved to.
    state: String,
    /// What the worker (or a person) said about it.
    note: String,
    /// When. RFC 3339, UTC.
    #[schema(format = DateTime)]
    at_utc: String,
}

/// The route that makes operations of this kind.
fn route_name(op: &Operation) -> &'static str {
    match &op.request.body {
        OperationBody::Receipt(_) => "formReceipt",
        OperationBody::Cash(m) => match m.kind {
            fiscal_model::CashMovementKind::In => "depositCash",
            fiscal_model::CashMovementKind::Out => "withdrawCash",
        },
        OperationBody::OpenShift(_) => "openShift",
        OperationBody::CloseShift(_) => "closeShift",
        OperationBody::XReport => "xReport",
        OperationBody::Correction(_) => "formCorrectionReceipt",
        OperationBody::PrintCopy(_) => "printCopy",
        OperationBody::PrintText(_) => "printText",
    }
}

fn summary(op: &Operation) -> RequestSummary {
    let mut s = RequestSummary {
        receipt_type: None,
        total_sum: None,
        positions: None,
        amount: None,
        fiscal_document_number: None,
        lines: None,
        requested_cashbox_id: op.request.routing.cashbox_id.clone(),
    };
    let receipt = match &op.request.body {
        OperationBody::Receipt(r) => Some(r),
        OperationBody::Correction(c) => Some(&c.receipt),
        OperationBody::Cash(m) => {
            s.amount = Some(roubles(m.amount.0));
            None
        }
        OperationBody::PrintCopy(c) => {
            s.fiscal_document_number = c.fd_number;
            None
        }
        OperationBody::PrintText(t) => {
            s.lines = Some(t.lines.len());
            None
        }
        OperationBody::OpenShift(_) | OperationBody::CloseShift(_) | OperationBody::XReport => None,
    };
    if let Some(r) = receipt {
        s.receipt_type = Some(r.receipt_type.tag_1054());
        s.total_sum = Some(roubles(r.total.0));
        s.positions = Some(r.items.len());
    }
    s
}

fn stored(app: &AppState, op: &Operation) -> StoredOperation {
    let snapshot = match &op.state {
        OpState::Sending { snapshot } | OpState::Reconciling { snapshot } => Some(snapshot.clone()),
        _ => None,
    };
    StoredOperation {
        operation_id: op.id.as_str().to_string(),
        cashbox_id: op.register.as_str().to_string(),
        kind: route_name(op),
        state: op.state.name(),
        snapshot,
        request: summary(op),
        attempts: op
            .attempts
            .iter()
            .map(|a| AttemptBody {
                state: a.state.clone(),
                note: a.note.clone(),
                at_utc: utc(a.at),
            })
            .collect(),
        attempts_dropped: op.attempts_dropped,
        created_at_utc: utc(op.created_at),
        updated_at_utc: utc(op.updated_at),
        answer: render(app, op),
    }
}

/// The token, if it is an administrator's.
fn administrator(app: &AppState, headers: &HeaderMap) -> Result<Access, ApiError> {
    let access = authenticate(app, headers)?;
    if access.is_admin() {
        Ok(access)
    } else {
        Err(ApiError::Forbidden(
            "this route needs a token with scope \"admin\"".into(),
        ))
    }
}

fn who(access: &Access) -> String {
    access.sub().unwrap_or("unknown").to_string()
}

/// `GET /v1.0/admin/operations?state=unsettled`.
#[utoipa::path(
    get,
    path = "/v1.0/admin/operations",
    operation_id = "adminListOperations",
    summary = "Admin: the operations whose outcome is not settled",
    description = "Per register this token may use: the operations in Sending or Reconciling (a command may have run; the register has not proven whether) and what a halted register holds. Needs scope `admin`.",
    params(AdminListQuery),
    responses(
        (status = 200, description = "The registers and their unsettled operations.", body = UnsettledList),
        (status = 400, description = "`state` is not `unsettled`.", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = openapi::NOT_ADMIN, body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("The operation store is unavailable. Also {}", openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn list(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<UnsettledList>, ApiError> {
    let access = administrator(&app, &headers)?;
    let Query(pairs) = query.map_err(|e| ApiError::Validation {
        field: None,
        message: format!("query string: {e}"),
    })?;
    match pairs
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str())
    {
        None | Some("unsettled") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "state",
                format!("{other:?}: only \"unsettled\" is listed"),
            ))
        }
    }
    app.store.healthy()?;
    let facts = app
        .desk
        .as_ref()
        .map(|desk| desk.0.cashboxes())
        .unwrap_or_default();
    let mut registers = Vec::new();
    for register in app.registers.iter().filter(|r| access.allows(r)) {
        let halted = facts
            .iter()
            .find(|f| f.cashbox_id.eq_ignore_ascii_case(&register.id))
            .and_then(|f| f.halted.as_ref())
            .map(HaltBody::from);
        let operations = app
            .store
            .unsettled(&RegisterId::new(register.id.clone()))?
            .iter()
            .map(|op| stored(&app, op))
            .collect();
        registers.push(UnsettledRegister {
            cashbox_id: register.id.clone(),
            halted,
            operations,
        });
    }
    tracing::info!(sub = %who(&access), "admin: listed the unsettled operations");
    Ok(Json(UnsettledList { registers }))
}

/// The operation `raw` names, if the token may see it.
fn find(app: &AppState, access: &Access, raw: &str) -> Result<Operation, ApiError> {
    let id = request::operation_id_from(raw)?;
    let not_found = || ApiError::OperationNotFound(id.as_str().to_string());
    let op = app.store.get(&id)?.ok_or_else(not_found)?;
    if visible(app, access, &op) {
        Ok(op)
    } else {
        Err(not_found())
    }
}

/// `GET /v1.0/admin/operations/{operationId}`.
#[utoipa::path(
    get,
    path = "/v1.0/admin/operations/{operationId}",
    operation_id = "adminGetOperation",
    summary = "Admin: one stored operation in full",
    description = "Any state: its history, the snapshot of an unsettled one, a summary of its request and what checkStatus answers. Needs scope `admin`.",
    params(("operationId" = String, Path, description = "The client's operationId.")),
    responses(
        (status = 200, description = "The operation.", body = StoredOperation),
        (status = 400, description = "Invalid `operationId`.", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = openapi::NOT_ADMIN, body = ErrorBody),
        (status = 404, description = "No such operation, or one on a register this token may not use (`OPERATION_NOT_FOUND`).", body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("The operation store is unavailable. Also {}", openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn one(
    State(app): Shared,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<StoredOperation>, ApiError> {
    let access = administrator(&app, &headers)?;
    let Path(raw) = path.map_err(|e| ApiError::path("operationId", e))?;
    app.store.healthy()?;
    let op = find(&app, &access, &raw)?;
    tracing::info!(sub = %who(&access), operation = %op.id, "admin: read an operation");
    Ok(Json(stored(&app, &op)))
}

/// A settlement as the body states it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settlement {
    outcome: ClaimedOutcome,
    force: bool,
    reason: Option<String>,
}

/// The settle body: `{outcome, fiscalDocumentNumber?, force?, reason?}`.
fn settlement(body: &Value) -> Result<Settlement, ApiError> {
    let m: &Map<String, Value> = fields::object(body, "")?;
    let done = match fields::string(m, "", "outcome")? {
        "done" => true,
        "notDone" => false,
        other => {
            return Err(ApiError::invalid(
                "outcome",
                format!("{other:?} is not \"done\" or \"notDone\""),
            ))
        }
    };
    let fd = crate::request_day::fd_number(m)?;
    let force = fields::optional_boolean(m, "", "force")?.unwrap_or(false);
    let reason = fields::optional_string(m, "", "reason")?
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            if r.chars().count() > MAX_REASON_CHARS {
                Err(ApiError::invalid(
                    "reason",
                    format!("is longer than {MAX_REASON_CHARS} characters"),
                ))
            } else if r.chars().any(char::is_control) {
                Err(ApiError::invalid(
                    "reason",
                    "must not contain control characters",
                ))
            } else {
                Ok(r.to_string())
            }
        })
        .transpose()?;
    if force && reason.is_none() {
        return Err(ApiError::invalid(
            "reason",
            "is required with force: say why the FN's word is overridden",
        ));
    }
    let outcome = match (done, fd) {
        (true, None) if !force => {
            return Err(ApiError::invalid(
                "fiscalDocumentNumber",
                "is required with outcome \"done\" (the FD the register made), unless force",
            ))
        }
        (true, fd) => ClaimedOutcome::Done { fd },
        (false, Some(_)) => {
            return Err(ApiError::invalid(
                "fiscalDocumentNumber",
                "only with outcome \"done\": \"notDone\" means no document was made",
            ))
        }
        (false, None) => ClaimedOutcome::NotDone,
    };
    Ok(Settlement {
        outcome,
        force,
        reason,
    })
}

/// `POST /v1.0/admin/operations/{operationId}/settle`.
#[utoipa::path(
    post,
    path = "/v1.0/admin/operations/{operationId}/settle",
    operation_id = "adminSettleOperation",
    summary = "Admin: settle an operation a halted register holds",
    description = "A person's word on how the operation ended: \"done\" with the FD the register made, or \"notDone\" (it is queued again). The register's worker checks the claim against the FN; `force` (with a `reason`) accepts it where the FN cannot prove it, e.g. \"done\" without an FD for a cash movement. The answer is the operation's status afterwards. Needs scope `admin`; logged with the token's `sub`.",
    params(("operationId" = String, Path, description = "The client's operationId.")),
    request_body(content = SettleRequest, example = json!({"outcome": "done", "fiscalDocumentNumber": 25})),
    responses(
        (status = 200, description = "Settled: the operation's status now (the same body as checkStatus).", body = StatusBody),
        (status = 400, description = "Invalid body: `outcome` missing or unknown, \"done\" without `fiscalDocumentNumber` and without `force`, `force` without `reason` …", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = openapi::NOT_ADMIN, body = ErrorBody),
        (status = 404, description = "No such operation, or one on a register this token may not use (`OPERATION_NOT_FOUND`).", body = ErrorBody),
        (status = 408, description = "The body did not arrive within 30 seconds of the headers (`REQUEST_TIMEOUT`).", body = ErrorBody),
        (status = 409, description = "The register's FN contradicts the claim, or the operation waits for no settlement (`SETTLE_REFUSED`, the reason in `errorMessage`).", body = ErrorBody),
        (status = 413, description = "The body is larger than the configured limit (`PAYLOAD_TOO_LARGE`).", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 503, description = format!("{} Also {}", openapi::REGISTER_BUSY, openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn settle(
    State(app): Shared,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Json<StatusBody>, ApiError> {
    let access = administrator(&app, &headers)?;
    let Path(raw) = path.map_err(|e| ApiError::path("operationId", e))?;
    require_json(&headers)?;
    let value = read_json(&app, &headers, body).await?;
    let Settlement {
        outcome,
        force,
        reason,
    } = settlement(&value)?;
    app.store.healthy()?;
    let op = find(&app, &access, &raw)?;
    let desk = crate::cashboxes::desk(&app)?;
    let by = who(&access);
    tracing::info!(
        sub = %by,
        operation = %op.id,
        register = %op.register,
        outcome = ?outcome,
        force,
        reason = reason.as_deref().unwrap_or(""),
        "admin: settlement claimed"
    );
    let claim = SettleClaim {
        outcome,
        force,
        reason,
        by: by.clone(),
    };
    let settled = desk.0.settle(op.id.as_str(), claim).await;
    if let Err(e) = &settled {
        tracing::info!(sub = %by, operation = %op.id, error = %e, "admin: settlement not taken");
    }
    settled.map_err(|e| match e {
        DeskError::NotFound(_) => ApiError::OperationNotFound(op.id.as_str().to_string()),
        DeskError::Refused(reason) => ApiError::SettleRefused(reason),
        DeskError::Unavailable(message) => ApiError::RegisterUnavailable(message),
    })?;
    let after = app
        .store
        .get(&op.id)?
        .ok_or_else(|| ApiError::OperationNotFound(op.id.as_str().to_string()))?;
    tracing::info!(
        sub = %by,
        operation = %after.id,
        state = after.state.name(),
        status = status::status_code(&after.state),
        "admin: operation settled"
    );
    Ok(Json(render(&app, &after)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_settlement_says_what_it_lacks() {
        let field = |body: Value| match settlement(&body) {
            Err(ApiError::Validation { field, .. }) => field,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(field(json!({})).as_deref(), Some("outcome"));
        assert_eq!(
            field(json!({"outcome": "maybe"})).as_deref(),
            Some("outcome")
        );
        assert_eq!(
            field(json!({"outcome": "done"})).as_deref(),
            Some("fiscalDocumentNumber")
        );
        assert_eq!(
            field(json!({"outcome": "done", "force": true})).as_deref(),
            Some("reason")
        );
        assert_eq!(
            field(json!({"outcome": "done", "force": true, "reason": "  "})).as_deref(),
            Some("reason")
        );
        assert_eq!(
            field(json!({"outcome": "notDone", "fiscalDocumentNumber": 3})).as_deref(),
            Some("fiscalDocumentNumber")
        );
        assert_eq!(
            field(json!({"outcome": "done", "fiscalDocumentNumber": 0})).as_deref(),
            Some("fiscalDocumentNumber")
        );
        assert_eq!(
            settlement(&json!({"outcome": "done", "force": true, "reason": "paper jam"})),
            Ok(Settlement {
                outcome: ClaimedOutcome::Done { fd: None },
                force: true,
                reason: Some("paper jam".into()),
            })
        );
        assert_eq!(
            settlement(&json!({"outcome": "notDone"})).map(|s| s.outcome),
            Ok(ClaimedOutcome::NotDone)
        );
    }
}
