//! `/openapi.json`: the OpenAPI 3.1 document, generated once from the request descriptions
//! (`schema`) and the answer types themselves (`StatusBody`, the error body, `/health`).
//!
//! Each operation names the Rust types of its body and answers, so a field added to an answer
//! appears in the document by itself; dictionaries take their codes from `fiscal_model`, which
//! decides them. What only prose can say (routing, idempotency, the meaning of each status code)
//! is written here once. This module does not parse requests: the tests at the bottom check the
//! descriptions against the parser in `request`.

use std::sync::LazyLock;

use fiscal_model::{
    Agent, MeasurementUnit, ModelError, PaymentMethod, PaymentObject, ReceiptType, TaxationSystem,
    VatRate,
};
use serde_json::{json, Value};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{
    Components, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, Required,
    ResponseBuilder,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ErrorBody;
use crate::handlers::HealthBody;
use crate::schema::{CashRequest, CheckStatusQuery, FormReceiptRequest};
use crate::status::{StatusBody, STATUS_DONE, STATUS_FAILED, STATUS_QUEUED};

/// The API description's example of a formReceipt body, byte for byte.
const FORM_RECEIPT_EXAMPLE: &str = include_str!("openapi/form-receipt-example.json");

/// The document as served, computed on first use.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

/// The OpenAPI 3.1 description of this API, as `/openapi.json` serves it.
pub fn openapi_json() -> &'static str {
    &DOCUMENT
}

const DESCRIPTION: &str = "The Smart Cashier API v1.0.1 served on the shop PC by fiscal-gateway in front of a Shtrih-M fiscal register. Operations are stored durably before the 200 and processed once per operationId.\n\nExtensions to the API description: `errorCode` beside `errorMessage` in the status; `cashParams` in the status of cash operations; the `wait` long-poll parameter of checkStatus; VAT `taxType` codes 7..14; one error body for every non-200 answer; `/health` and `/openapi.json`.\n\nStatus: 1 = queued (also while the register cannot work: `errorMessage` / `errorCode` then say why), 2 = processed, 3 = not processed (never fiscalized; re-posting the same request queues it again).\n\nRouting: `cashboxId` → that register; else `cashboxGroupId` → the least busy register of the group; else `juridicalPersonId` → the least busy register of that juridical person; else the default register. Empty strings mean absent.";

const BEARER_DESCRIPTION: &str = "HS256 (shared secret) or RS*/PS*/ES256/ES384/EdDSA (configured public keys). `exp` is required, `nbf` honoured. Optional claims `cashboxes` (register ids) and `juridicalPersons` (juridical person ids) restrict the registers the token may use; without them every register is allowed.";

const OK_POST: &str = "The operation's current status (the same body as checkStatus). A replay of a known operationId with the same payload answers the stored status without processing it again; a failed (status 3) operation re-posted unchanged is queued again.";
const BAD_BODY: &str = "Validation error: the field is named in `field` and `errorMessage`; also malformed JSON (`MALFORMED_JSON`). Nothing was stored.";
const UNAUTHORIZED: &str = "Missing or invalid bearer token (signature, `exp`, `nbf`; `iss` / `aud` when `auth.issuer` / `auth.audience` are configured). A restriction claim (`cashboxes`, `juridicalPersons`) that is not a list of id strings — `null`, a string, a number — makes the token invalid; it never means \"every register\".";
const FORBIDDEN: &str = "The token's `cashboxes` / `juridicalPersons` claims do not allow the register the operation is routed to.";
const BODY_TIMEOUT: &str = "The body did not arrive within 30 seconds of the headers (`REQUEST_TIMEOUT`, `field` = `body`). Nothing was stored.";
const TOO_LARGE: &str = "The body is larger than the configured limit, or the operation would be larger than the store keeps (`PAYLOAD_TOO_LARGE`, `field` = `positions`: send fewer or shorter positions). Nothing was stored.";
const NOT_JSON: &str = "The body is not sent as `application/json`.";
const MISDIRECTED: &str = "The `Host` header (or an absolute request target) names a host the gateway does not answer for (`MISDIRECTED_REQUEST`, `field` = `Host`). Allowed: localhost, 127.0.0.1, [::1] and the listen address with any port, plus `server.allowed_hosts`. Every endpoint checks it; it keeps web pages that rebind their own DNS name to 127.0.0.1 out. Nothing was stored.";
const CONFLICT: &str = "The operationId is already stored with a different payload (`IDEMPOTENCY_CONFLICT`). Use a new operationId for a new operation.";
const TOO_MANY_CONNECTIONS: &str = "`TOO_MANY_CONNECTIONS` (any endpoint, `Retry-After: 1`): every connection the gateway keeps open (`server.max_connections`) has a request in flight; the connection is closed and nothing was read.";
const STORE_POST: &str = "The operation store is unavailable. The operation may have been stored: retry with the same operationId (a replay answers from the store), never with a new one.";

/// The document as JSON: generated from the types, then the dictionaries' codes filled in.
pub fn document() -> Value {
    let mut value = serde_json::to_value(generate()).unwrap_or(Value::Null);
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

/// The document as utoipa builds it from the types.
fn generate() -> OpenApi {
    let mut components = Components::new();
    let mut schema = |f: fn(&mut Components) -> Ref| f(&mut components);
    let status = schema(register::<StatusBody>);
    let error = schema(register::<ErrorBody>);
    let health = schema(register::<HealthBody>);
    let receipt = schema(register::<FormReceiptRequest>);
    let cash = schema(register::<CashRequest>);
    components.add_security_scheme(
        "bearerAuth",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(BEARER_DESCRIPTION))
                .build(),
        ),
    );
    let answer = |description: &str, schema: &Ref| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(schema.clone())).build(),
            )
            .build()
    };
    let fail = |description: &str| answer(description, &error);
    let post = |id: &str, summary: &str, description: &str, body: &Ref, example: Value| {
        let request = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(body.clone()))
                    .example(Some(example))
                    .build(),
            )
            .build();
        operation(id, summary, description)
            .request_body(Some(request))
            .response("200", answer(OK_POST, &status))
            .response("400", fail(BAD_BODY))
            .response("401", fail(UNAUTHORIZED))
            .response("403", fail(FORBIDDEN))
            .response("408", fail(BODY_TIMEOUT))
            .response("413", fail(TOO_LARGE))
            .response("415", fail(NOT_JSON))
            .response("421", fail(MISDIRECTED))
            .response("422", fail(CONFLICT))
            .response(
                "503",
                fail(&format!("{STORE_POST} Also {TOO_MANY_CONNECTIONS}")),
            )
            .build()
    };
    let form_receipt = post(
        "formReceipt",
        "formReceipt — form a receipt",
        "Queues a fiscal receipt. `totalSum` must equal the sum of price × quantity of the positions and `cashPaymentSum + cashlessPaymentSum + prepaymentSum + postpaymentSum + counterProvisionSum` (the last three are extensions, 0 when absent), to the kopeck. Every VAT rate used must have a tax group on the chosen register.",
        &receipt,
        serde_json::from_str(FORM_RECEIPT_EXAMPLE).unwrap_or_default(),
    );
    let cash_example = |amount: u32, id: &str| json!({"cashboxId": "da2bb850-63ef-47e4-8b45-7b5b841eaa9b", "amount": amount, "operationId": id});
    let deposit = post(
        "depositCash",
        "depositCash — cash in",
        "Queues a cash deposit (внесение) on the given register. Makes no fiscal document; the result is reported in `cashParams`.",
        &cash,
        cash_example(50000, "12855F"),
    );
    let withdraw = post(
        "withdrawCash",
        "withdrawCash — cash out",
        "Queues a cash withdrawal (изъятие) from the given register. Makes no fiscal document; the result is reported in `cashParams`.",
        &cash,
        cash_example(100, "12856F"),
    );
    let check_status = operation(
        "checkStatus",
        "checkStatus — status of an operation",
        "An operation on a register the token may not use answers 404, like an unknown one.",
    )
    .parameters(Some(CheckStatusQuery::into_params(|| None)))
    .response("200", answer("The operation's status.", &status))
    .response(
        "400",
        fail("Invalid query (`operationId` missing or too long, `wait` not a whole number)."),
    )
    .response("401", fail(UNAUTHORIZED))
    .response(
        "404",
        fail("No such operation (`OPERATION_NOT_FOUND`), or one this token may not see."),
    )
    .response("421", fail(MISDIRECTED))
    .response(
        "503",
        fail(&format!(
            "The operation store is unavailable; retry. Also {TOO_MANY_CONNECTIONS}"
        )),
    )
    .build();
    let health = operation(
        "health",
        "Liveness: the process answers and its store can be read",
        "Needs no token, and shows no operation ids, fiscal data or buyer data: a message that names an operation is cut to its first clause.",
    )
    .securities(Some(Vec::<SecurityRequirement>::new()))
    .response("200", answer("Alive.", &health))
    .response("421", fail(MISDIRECTED))
    .response("503", fail(&format!("The operation store cannot be read, or a failed disk sync stopped all acknowledgements until a restart. Also {TOO_MANY_CONNECTIONS}")))
    .build();
    let document_itself = OperationBuilder::new()
        .operation_id(Some("openapi"))
        .summary(Some("This document"))
        .securities(Some(Vec::<SecurityRequirement>::new()))
        .response(
            "200",
            ResponseBuilder::new()
                .description("The OpenAPI 3.1 description of the API.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::ObjectBuilder::new()))
                        .build(),
                )
                .build(),
        )
        .response("421", fail(MISDIRECTED))
        .response("503", fail(&format!("Also {TOO_MANY_CONNECTIONS}")))
        .build();
    let paths = PathsBuilder::new()
        .path(
            "/v1.0/operations/formReceipt",
            PathItem::new(HttpMethod::Post, form_receipt),
        )
        .path(
            "/v1.0/operations/depositCash",
            PathItem::new(HttpMethod::Post, deposit),
        )
        .path(
            "/v1.0/operations/withdrawCash",
            PathItem::new(HttpMethod::Post, withdraw),
        )
        .path(
            "/v1.0/operations/checkStatus",
            PathItem::new(HttpMethod::Get, check_status),
        )
        .path("/health", PathItem::new(HttpMethod::Get, health))
        .path(
            "/openapi.json",
            PathItem::new(HttpMethod::Get, document_itself),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("fiscal-gateway: Smart Cashier API v1.0")
                .version("1.0.1")
                .description(Some(DESCRIPTION))
                .build(),
        )
        .servers(Some([Server::new("/")]))
        .security(Some([SecurityRequirement::new(
            "bearerAuth",
            Vec::<String>::new(),
        )]))
        .paths(paths)
        .components(Some(components))
        .build()
}

fn operation(id: &str, summary: &str, description: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .description(Some(description))
}

/// Adds `T` and every schema it refers to; the reference to `T`.
fn register<T: ToSchema>(components: &mut Components) -> Ref {
    let mut schemas = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut schemas);
    components.schemas.extend(schemas);
    Ref::from_schema_name(T::name())
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
