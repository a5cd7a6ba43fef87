//! `/openapi.json`: the OpenAPI 3.1 document, derived by utoipa from the code it describes:
//! each operation from the `#[utoipa::path]` on its handler (`handlers`), the request bodies
//! from their descriptions (`schema`), the answers from the types the handlers serialize
//! (`StatusBody`, the error body, `/health`).
//!
//! A field added to an answer appears in the document by itself, and a new route is documented
//! by listing its handler in [`Api`]; dictionaries take their codes from `fiscal_model`, which
//! decides them. What only prose can say (routing, idempotency, the meaning of each status code)
//! is written here or on the handler, once. This module does not parse requests: the tests at
//! the bottom check the descriptions against the parser in `request`.

use std::sync::LazyLock;

use fiscal_model::{
    Agent, MeasurementUnit, ModelError, PaymentMethod, PaymentObject, ReceiptType, TaxationSystem,
    VatRate,
};
use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::error::ErrorBody;
// The operations by their bare names: a path with a module would tag each operation with it.
use crate::admin::{
    __path_list as __path_admin_list, __path_one as __path_admin_one, __path_settle,
};
use crate::cashboxes::{
    __path_document, __path_list as __path_list_cashboxes, __path_one as __path_get_cashbox,
};
use crate::handlers::{
    __path_check_status, __path_close_shift, __path_deposit_cash, __path_form_correction_receipt,
    __path_form_receipt, __path_health, __path_open_shift, __path_openapi, __path_print_copy,
    __path_print_text, __path_withdraw_cash, __path_x_report,
};
use crate::receipts::__path_receipt;
use crate::status::{StatusBody, STATUS_DONE, STATUS_FAILED, STATUS_QUEUED};

/// The API description's example of a formReceipt body, byte for byte.
const FORM_RECEIPT_EXAMPLE: &str = include_str!("openapi/form-receipt-example.json");

/// The document as served, computed on first use.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

/// The OpenAPI 3.1 description of this API, as `/openapi.json` serves it.
pub fn openapi_json() -> &'static str {
    &DOCUMENT
}

const DESCRIPTION: &str = "The Smart Cashier API v1.0.1 served on the shop PC by fiscal-gateway in front of a Shtrih-M fiscal register. Operations are stored durably before the 200 and processed once per operationId.\n\nExtensions to the API description: `errorCode` beside `errorMessage` in the status; `cashParams` in the status of cash operations; the `wait` long-poll parameter of checkStatus; VAT `taxType` codes 7..14; one error body for every non-200 answer; `/health` and `/openapi.json`.\n\nStatus: 1 = queued (also while the register cannot work: `errorMessage` / `errorCode` then say why), 2 = processed, 3 = not processed (never fiscalized; re-posting the same request queues it again).\n\nRouting: `cashboxId` → that register; else `cashboxGroupId` → the least busy register of the group; else `juridicalPersonId` → the least busy register of that juridical person; else the default register. Empty strings mean absent.\n\nThe shop day (extensions): `openShift`, `closeShift`, `xReport`, `formCorrectionReceipt`, `printCopy`, `printText` are operations like formReceipt: stored before the 200, idempotent by operationId, polled with checkStatus. Each goes to `cashboxId`, else the default register (a correction receipt routes as formReceipt). Their status adds `shiftParams` (shift reports) or `printParams` (prints). `GET /v1.0/cashboxes` shows the registers' facts, `GET /v1.0/cashboxes/{id}/documents/{fd}` a document of an FN archive. `/v1.0/admin/*` needs a token with scope `admin`.";

const BEARER_DESCRIPTION: &str = "HS256 (shared secret) or RS*/PS*/ES256/ES384/EdDSA (configured public keys). `exp` is required, `nbf` honoured. Optional claims `cashboxes` (register ids) and `juridicalPersons` (juridical person ids) restrict the registers the token may use; without them every register is allowed. A `scope` claim holding `admin` (a space-separated string or a list of strings) opens `/v1.0/admin/*`; `sub` names the person in the log.";

const OK_POST: &str = "The operation's current status (the same body as checkStatus). A replay of a known operationId with the same payload answers the stored status without processing it again; a failed (status 3) operation re-posted unchanged is queued again.";
const BAD_BODY: &str = "Validation error: the field is named in `field` and `errorMessage`; also malformed JSON (`MALFORMED_JSON`). Nothing was stored.";
pub(crate) const UNAUTHORIZED: &str = "Missing or invalid bearer token (signature, `exp`, `nbf`; `iss` / `aud` when `auth.issuer` / `auth.audience` are configured). A restriction claim (`cashboxes`, `juridicalPersons`) that is not a list of id strings — `null`, a string, a number — makes the token invalid; it never means \"every register\".";
const FORBIDDEN: &str = "The token's `cashboxes` / `juridicalPersons` claims do not allow the register the operation is routed to.";
const BODY_TIMEOUT: &str = "The body did not arrive within 30 seconds of the headers (`REQUEST_TIMEOUT`, `field` = `body`). Nothing was stored.";
const TOO_LARGE: &str = "The body is larger than the configured limit, or the operation would be larger than the store keeps (`PAYLOAD_TOO_LARGE`, `field` = `positions`: send fewer or shorter positions). Nothing was stored.";
const NOT_JSON: &str = "The body is not sent as `application/json`.";
pub(crate) const MISDIRECTED: &str = "The `Host` header (or an absolute request target) names a host the gateway does not answer for (`MISDIRECTED_REQUEST`, `field` = `Host`). Allowed: localhost, 127.0.0.1, [::1] and the listen address with any port, plus `server.allowed_hosts`. Every endpoint checks it; it keeps web pages that rebind their own DNS name to 127.0.0.1 out. Nothing was stored.";
const CONFLICT: &str = "The operationId is already stored with a different payload (`IDEMPOTENCY_CONFLICT`). Use a new operationId for a new operation.";
pub(crate) const TOO_MANY_CONNECTIONS: &str = "`TOO_MANY_CONNECTIONS` (any endpoint, `Retry-After: 1`): every connection the gateway keeps open (`server.max_connections`) has a request in flight; the connection is closed and nothing was read.";
pub(crate) const NO_DESK: &str = "The gateway runs without register workers (`REGISTERS_NOT_AVAILABLE`): it has no registers' facts.";
pub(crate) const REGISTER_BUSY: &str = "The register did not take the request in time: busy with an operation or no link (`REGISTER_UNAVAILABLE`, `Retry-After: 1`); or the gateway runs without register workers (`REGISTERS_NOT_AVAILABLE`).";
pub(crate) const NOT_ADMIN: &str = "The token's `scope` does not hold `admin` (`FORBIDDEN`).";
const STORE_POST: &str = "The operation store is unavailable. The operation may have been stored: retry with the same operationId (a replay answers from the store), never with a new one.";

/// The document as JSON: generated from the types, then the dictionaries' codes filled in.
pub fn document() -> Value {
    let mut value = serde_json::to_value(Api::openapi()).unwrap_or(Value::Null);
    tidy(&mut value);
    let _missing = fill_dictionaries(&mut value);
    value
}

/// Says what utoipa's output says in the plainer words of JSON Schema: a doc comment's line
/// breaks are not paragraph breaks; a lone `oneOf` branch (an inlined enum with its own
/// description) is the schema itself; "null or X" is `anyOf`, which validators check more
/// cheaply; Rust's integer and float widths (`int32`, `double`) are not the API's bounds.
fn tidy(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(tidy),
        Value::Object(map) => {
            if let Some(Value::Array(mut branches)) = map.remove("oneOf") {
                let null = json!({"type": "null"});
                if let [Value::Object(only)] = branches.as_mut_slice() {
                    for (key, v) in std::mem::take(only) {
                        map.entry(key).or_insert(v);
                    }
                } else if branches.len() == 2 && branches.contains(&null) {
                    // The field's description sits on its `$ref` branch: it belongs to the field.
                    for branch in &mut branches {
                        if let Some(text) =
                            branch.as_object_mut().and_then(|b| b.remove("description"))
                        {
                            map.insert("description".into(), text);
                        }
                    }
                    map.insert("anyOf".into(), Value::Array(branches));
                } else {
                    map.insert("oneOf".into(), Value::Array(branches));
                }
            }
            let numeric = ["int8", "int16", "int32", "int64", "float", "double"];
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| numeric.contains(&f))
            {
                map.remove("format");
            }
            if let Some(Value::String(text)) = map.get_mut("description") {
                *text = text
                    .split("\n\n")
                    .map(|paragraph| paragraph.replace('\n', " "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            map.values_mut().for_each(tidy);
        }
        _ => {}
    }
}

/// The document as utoipa derives it: the operations from the handlers' `#[utoipa::path]`, the
/// schemas from the types those name.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fiscal-gateway: Smart Cashier API v1.0",
        version = "1.0.1",
        description = DESCRIPTION
    ),
    servers((url = "/")),
    paths(
        form_receipt,
        deposit_cash,
        withdraw_cash,
        open_shift,
        close_shift,
        x_report,
        form_correction_receipt,
        print_copy,
        print_text,
        check_status,
        receipt,
        list_cashboxes,
        get_cashbox,
        document,
        admin_list,
        admin_one,
        settle,
        health,
        openapi
    ),
    components(schemas(StatusBody, ErrorBody)),
    security(("bearerAuth" = [])),
    modifiers(&BearerAuth)
)]
struct Api;

/// The `bearerAuth` scheme every operation but `/health` and this document asks for.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(BEARER_DESCRIPTION))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearerAuth", SecurityScheme::Http(scheme));
    }
}

/// The answers of the POST operations, which store an operation.
#[derive(IntoResponses)]
#[allow(dead_code, clippy::large_enum_variant)] // Never built: the document reads its shape.
pub(crate) enum PostAnswers {
    #[response(status = 200, description = OK_POST)]
    Status(StatusBody),
    #[response(status = 400, description = BAD_BODY)]
    Invalid(ErrorBody<'static>),
    #[response(status = 401, description = UNAUTHORIZED)]
    Unauthorized(ErrorBody<'static>),
    #[response(status = 403, description = FORBIDDEN)]
    Forbidden(ErrorBody<'static>),
    #[response(status = 408, description = BODY_TIMEOUT)]
    BodyTimeout(ErrorBody<'static>),
    #[response(status = 413, description = TOO_LARGE)]
    TooLarge(ErrorBody<'static>),
    #[response(status = 415, description = NOT_JSON)]
    NotJson(ErrorBody<'static>),
    #[response(status = 421, description = MISDIRECTED)]
    Misdirected(ErrorBody<'static>),
    #[response(status = 422, description = CONFLICT)]
    Conflict(ErrorBody<'static>),
    #[response(status = 503, description = format!("{STORE_POST} Also {TOO_MANY_CONNECTIONS}"))]
    Unavailable(ErrorBody<'static>),
}

/// The API description's example of a formReceipt body.
pub(crate) fn form_receipt_example() -> Value {
    serde_json::from_str(FORM_RECEIPT_EXAMPLE).unwrap_or_default()
}

/// An openShift or closeShift body.
pub(crate) fn shift_example(id: &str) -> Value {
    json!({"operationId": id, "cashboxId": "da2bb850-63ef-47e4-8b45-7b5b841eaa9b", "cashierName": "Иванова А. А.", "cashierInn": "500100732259"})
}

/// A formCorrectionReceipt body: the API description's receipt, corrected by order.
pub(crate) fn correction_example() -> Value {
    let mut body = form_receipt_example();
    if let Some(m) = body.as_object_mut() {
        m.insert("operationId".into(), json!("12863F"));
        m.insert("correctionType".into(), json!("byOrder"));
        m.insert("correctionBaseDate".into(), json!("2026-11-20"));
        m.insert("correctionBaseNumber".into(), json!("12-34/567"));
    }
    body
}

/// A depositCash or withdrawCash body.
pub(crate) fn cash_example(amount: u32, id: &str) -> Value {
    json!({"cashboxId": "da2bb850-63ef-47e4-8b45-7b5b841eaa9b", "amount": amount, "operationId": id})
}

/// Every whole number in 0..=255 that `decide` accepts: the dictionaries' codes all fit a byte.
fn codes<T>(decide: fn(i64, &str) -> Result<T, ModelError>) -> Vec<Value> {
    (0..=255)
        .filter(|&c| decide(c, "").is_ok())
        .map(Value::from)
        .collect()
}

/// The `enum` of each dictionary field, from the `fiscal_model` function that decides it; the
/// fields it did not find (a renamed field: the tests refuse that).
fn fill_dictionaries(doc: &mut Value) -> Vec<String> {
    let statuses = [STATUS_QUEUED, STATUS_DONE, STATUS_FAILED].map(Value::from);
    let dictionaries = [
        (
            "FormReceiptRequest",
            "receiptType",
            codes(ReceiptType::from_code),
        ),
        (
            "FormReceiptRequest",
            "taxationSystem",
            codes(TaxationSystem::from_code),
        ),
        (
            "CorrectionReceiptRequest",
            "receiptType",
            codes(ReceiptType::from_code),
        ),
        (
            "CorrectionReceiptRequest",
            "taxationSystem",
            codes(TaxationSystem::from_code),
        ),
        ("Position", "taxType", codes(VatRate::from_api_code)),
        ("Position", "paymentMethod", codes(PaymentMethod::from_code)),
        ("Position", "paymentObject", codes(PaymentObject::from_code)),
        (
            "Position",
            "measurementUnit",
            codes(MeasurementUnit::from_code),
        ),
        ("Agent", "type", codes(|c, at| Agent::new(c, None, at))),
        ("OperationStatus", "status", statuses.to_vec()),
    ];
    let mut missing = Vec::new();
    for (schema, property, mut values) in dictionaries {
        let at = format!("/components/schemas/{schema}/properties/{property}");
        let Some(field) = doc.pointer_mut(&at) else {
            missing.push(at);
            continue;
        };
        if field["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null")))
        {
            values.push(Value::Null);
        }
        field["enum"] = Value::Array(values);
    }
    missing
}

#[cfg(test)]
pub(crate) mod tests;
