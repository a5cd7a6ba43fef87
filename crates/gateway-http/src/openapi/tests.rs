//! The document against the parser: the largest body each request schema describes (every
//! field, each from its `example`) is accepted by `request`, and `request` reads exactly the
//! fields the schema lists, no more and no fewer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use fiscal_model::CashMovementKind;
use serde_json::Map;

use super::*;
use crate::fields::join;
use crate::request::{self, ParsedRequest};
use crate::ApiError;

// Shared with the integration tests, which hold the answers to the same document.
#[path = "../../tests/support/conform.rs"]
mod conform;
use conform::{check, resolve};

thread_local! {
    /// The fields `fields` was asked for: the address of the object and the field's name.
    static READS: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}

/// Called by `fields` for every field it looks up, present or not.
pub(crate) fn record_read(object: &Map<String, Value>, name: &str) {
    let address = std::ptr::from_ref(object) as usize;
    READS.with(|r| r.borrow_mut().push((address, name.to_string())));
}

fn doc() -> Value {
    document()
}

/// The branch of "X or null" that is not null.
fn not_null<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let schema = resolve(doc, schema);
    match schema["anyOf"].as_array() {
        Some(branches) => branches
            .iter()
            .find(|b| b["type"] != "null")
            .map(|b| resolve(doc, b))
            .unwrap(),
        None => schema,
    }
}

/// The largest value `schema` describes, every property present, leaves from `example`.
fn maximal(doc: &Value, schema: &Value, path: &str) -> Value {
    let schema = not_null(doc, schema);
    if let Some(example) = schema.get("example").or(schema["examples"].get(0)) {
        return example.clone();
    }
    if let Some(items) = schema.get("items") {
        return json!([maximal(doc, items, &format!("{path}[]"))]);
    }
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{path}: no example and no properties"));
    let object = properties
        .iter()
        .map(|(name, s)| (name.clone(), maximal(doc, s, &join(path, name))))
        .collect();
    Value::Object(object)
}

/// Every property path `schema` lists (`positions[].agent.type`).
fn property_paths(doc: &Value, schema: &Value, path: &str, out: &mut BTreeSet<String>) {
    let schema = not_null(doc, schema);
    if let Some(items) = schema.get("items") {
        property_paths(doc, items, &format!("{path}[]"), out);
    }
    for (name, s) in schema["properties"].as_object().into_iter().flatten() {
        let at = join(path, name);
        out.insert(at.clone());
        property_paths(doc, s, &at, out);
    }
}

/// The path of every object in `value`, by address (array indexes as `[]`).
fn object_paths(value: &Value, path: &str, out: &mut HashMap<usize, String>) {
    match value {
        Value::Object(m) => {
            out.insert(std::ptr::from_ref(m) as usize, path.to_string());
            for (k, v) in m {
                object_paths(v, &join(path, k), out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| object_paths(v, &format!("{path}[]"), out)),
        _ => {}
    }
}

/// Parses `body` and answers the paths of the fields the parser looked up.
fn parse_and_trace(
    parse: fn(&Value) -> Result<ParsedRequest, ApiError>,
    body: &Value,
) -> (Result<ParsedRequest, ApiError>, BTreeSet<String>) {
    READS.with(|r| r.borrow_mut().clear());
    let result = parse(body);
    let mut objects = HashMap::new();
    object_paths(body, "", &mut objects);
    let reads = READS.with(|r| r.borrow_mut().drain(..).collect::<Vec<_>>());
    let paths = reads
        .into_iter()
        .map(|(address, name)| {
            let object = objects.get(&address).expect("a read outside the body");
            join(object, &name)
        })
        .collect();
    (result, paths)
}

/// One POST route: its request schema, its parser, and the fields of which a body may carry
/// only one (each variant leaves one of them out).
struct Route {
    path: &'static str,
    parse: fn(&Value) -> Result<ParsedRequest, ApiError>,
    exclusive: &'static [(&'static str, &'static str)],
}

fn form_receipt(body: &Value) -> Result<ParsedRequest, ApiError> {
    request::form_receipt(body)
}

fn deposit(body: &Value) -> Result<ParsedRequest, ApiError> {
    request::cash(body, CashMovementKind::In)
}

fn withdraw(body: &Value) -> Result<ParsedRequest, ApiError> {
    request::cash(body, CashMovementKind::Out)
}

fn open_shift(body: &Value) -> Result<ParsedRequest, ApiError> {
    crate::request_day::shift(body, true)
}

fn close_shift(body: &Value) -> Result<ParsedRequest, ApiError> {
    crate::request_day::shift(body, false)
}

const ROUTES: [Route; 9] = [
    Route {
        path: "/v1.0/operations/formReceipt",
        parse: form_receipt,
        exclusive: &[("/positions/0/markingCode", "/positions/0/markingCodeBase64")],
    },
    Route {
        path: "/v1.0/operations/depositCash",
        parse: deposit,
        exclusive: &[],
    },
    Route {
        path: "/v1.0/operations/withdrawCash",
        parse: withdraw,
        exclusive: &[],
    },
    Route {
        path: "/v1.0/operations/openShift",
        parse: open_shift,
        exclusive: &[],
    },
    Route {
        path: "/v1.0/operations/closeShift",
        parse: close_shift,
        exclusive: &[],
    },
    Route {
        path: "/v1.0/operations/xReport",
        parse: crate::request_day::x_report,
        exclusive: &[],
    },
    Route {
        path: "/v1.0/operations/formCorrectionReceipt",
        parse: crate::request_day::correction_receipt,
        exclusive: &[("/positions/0/markingCode", "/positions/0/markingCodeBase64")],
    },
    Route {
        path: "/v1.0/operations/printCopy",
        parse: crate::request_day::print_copy,
        exclusive: &[],
    },
    Route {
        path: "/v1.0/operations/printText",
        parse: crate::request_day::print_text,
        exclusive: &[],
    },
];

fn request_schema<'a>(doc: &'a Value, route: &Route) -> &'a Value {
    &doc["paths"][route.path]["post"]["requestBody"]["content"]["application/json"]
}

/// The largest body the schema describes, in each variant the exclusive fields allow.
fn maximal_bodies(doc: &Value, route: &Route) -> Vec<Value> {
    let full = maximal(doc, &request_schema(doc, route)["schema"], "");
    if route.exclusive.is_empty() {
        return vec![full];
    }
    let without = |pointer: &str| {
        let mut body = full.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove(key)
            .unwrap();
        body
    };
    route
        .exclusive
        .iter()
        .flat_map(|(a, b)| [without(a), without(b)])
        .collect()
}

#[test]
fn the_document_is_generated_whole() {
    let mut doc = serde_json::to_value(Api::openapi()).unwrap();
    tidy(&mut doc);
    assert_eq!(fill_dictionaries(&mut doc), Vec::<String>::new());
    assert_eq!(doc, document());
    let served: Value = serde_json::from_str(openapi_json()).unwrap();
    assert_eq!(served, doc);
    assert!(
        !openapi_json().contains("\"oneOf\""),
        "every oneOf is tidied"
    );
}

/// The largest bodies the schema describes conform to it and pass the parser, which reads
/// exactly the fields the schema lists.
#[test]
fn the_parser_takes_the_largest_documented_bodies_and_reads_exactly_their_fields() {
    let doc = doc();
    for route in &ROUTES {
        let schema = &request_schema(&doc, route)["schema"];
        let mut documented = BTreeSet::new();
        property_paths(&doc, schema, "", &mut documented);
        let mut read = BTreeSet::new();
        for body in maximal_bodies(&doc, route) {
            let errors = check(&doc, schema, &body, "");
            assert!(errors.is_empty(), "{}: {errors:#?}\n{body:#}", route.path);
            let (parsed, paths) = parse_and_trace(route.parse, &body);
            assert!(parsed.is_ok(), "{}: {parsed:?}\n{body:#}", route.path);
            read.extend(paths);
        }
        let undocumented: Vec<_> = read.difference(&documented).collect();
        let unread: Vec<_> = documented.difference(&read).collect();
        assert!(
            undocumented.is_empty() && unread.is_empty(),
            "{}: read but not documented {undocumented:?}; documented but not read {unread:?}",
            route.path
        );
    }
}

#[test]
fn the_request_examples_pass_the_parser() {
    let doc = doc();
    for route in &ROUTES {
        let content = request_schema(&doc, route);
        let example = &content["example"];
        assert!(check(&doc, &content["schema"], example, "").is_empty());
        let (parsed, _) = parse_and_trace(route.parse, example);
        assert!(parsed.is_ok(), "{}: {parsed:?}", route.path);
    }
}

/// A documented maximum length is the parser's: one character more is refused, naming the
/// field.
#[test]
fn documented_lengths_are_the_parsers() {
    let doc = doc();
    for route in &ROUTES {
        let schema = &request_schema(&doc, route)["schema"];
        for body in maximal_bodies(&doc, route) {
            let mut fields = Vec::new();
            string_bounds(&doc, schema, &body, "", &mut fields);
            for (pointer, max) in fields {
                let at = |len: usize| {
                    let mut b = body.clone();
                    let v = b.pointer_mut(&pointer).unwrap();
                    let text = v.as_str().unwrap();
                    let pad = "a".repeat(len - text.chars().count());
                    *v = json!(format!("{pad}{text}"));
                    b
                };
                let (longest, _) = parse_and_trace(route.parse, &at(max));
                assert!(longest.is_ok(), "{pointer} at {max}: {longest:?}");
                let (longer, _) = parse_and_trace(route.parse, &at(max + 1));
                let field = match longer {
                    Err(ApiError::Validation { field, .. }) => field.unwrap_or_default(),
                    other => panic!("{pointer} at {}: {other:?}", max + 1),
                };
                let expected = pointer.trim_start_matches('/').replace("/0/", "[0].");
                assert_eq!(
                    field.replace('.', "/"),
                    expected.replace('.', "/"),
                    "{pointer}"
                );
            }
        }
    }
}

/// The JSON pointer and `maxLength` of every string in `value` whose schema bounds it.
fn string_bounds(
    doc: &Value,
    schema: &Value,
    value: &Value,
    pointer: &str,
    out: &mut Vec<(String, usize)>,
) {
    let schema = not_null(doc, schema);
    match value {
        Value::String(_) => {
            if let Some(max) = schema["maxLength"].as_u64() {
                out.push((pointer.to_string(), usize::try_from(max).unwrap()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_bounds(doc, &schema["items"], item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                string_bounds(
                    doc,
                    &schema["properties"][k],
                    v,
                    &format!("{pointer}/{k}"),
                    out,
                );
            }
        }
        _ => {}
    }
}

#[test]
fn documented_bounds_are_the_models() {
    let doc = doc();
    let positions = &doc["components"]["schemas"]["FormReceiptRequest"]["properties"]["positions"];
    assert_eq!(
        positions["maxItems"].as_u64(),
        u64::try_from(fiscal_model::MAX_POSITIONS).ok()
    );
}

#[test]
fn every_error_code_is_documented() {
    let doc = doc();
    let codes = doc["components"]["schemas"]["Error"]["properties"]["errorCode"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    let sample = [
        ApiError::invalid("x", "y"),
        ApiError::MalformedJson(String::new()),
        ApiError::UnsupportedMediaType,
        ApiError::PayloadTooLarge { limit: 1 },
        ApiError::Unauthorized(String::new()),
        ApiError::Forbidden(String::new()),
        ApiError::OperationNotFound(String::new()),
        ApiError::RouteNotFound(String::new()),
        ApiError::MethodNotAllowed(String::new()),
        ApiError::IdempotencyConflict(String::new()),
        ApiError::StoreUnavailable(String::new()),
        ApiError::BodyTimeout { seconds: 1 },
        ApiError::MisdirectedRequest(String::new()),
        ApiError::TooManyConnections { limit: 1 },
        ApiError::CashboxNotFound(String::new()),
        ApiError::DocumentNotFound(String::new()),
        ApiError::DeskMissing,
        ApiError::RegisterUnavailable(String::new()),
        ApiError::SettleRefused(String::new()),
        ApiError::ReceiptNotFiscalized(String::new()),
        ApiError::NotAcceptable(String::new()),
        ApiError::RenderFailed(String::new()),
    ];
    let answered: Vec<Value> = sample
        .iter()
        .map(|e| serde_json::to_value(e.code()).unwrap())
        .collect();
    assert_eq!(answered, codes);
}

/// Every `$ref` names a schema the document holds: a type an operation names but utoipa did
/// not collect would leave a dangling reference.
#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(m) => {
                out.extend(m.get("$ref").and_then(Value::as_str));
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = doc();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let target = r.strip_prefix('#').unwrap_or(r);
        assert!(doc.pointer(target).is_some(), "dangling {r}");
    }
}
