//! The answers the gateway gives match its OpenAPI document: keys, required keys and JSON
//! types of every status body (queued, waiting, done, failed; receipt and cash) and of the
//! error body. A small structural checker, enough for the shapes this document uses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fiscal_model::Completion;
use queue::{OpState, OperationId, Reason};
use serde_json::{json, Value};
use support::*;

fn doc() -> Value {
    serde_json::from_str(gateway_http::OPENAPI_JSON).unwrap()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => schema,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        other => panic!("unknown type {other}"),
    }
}

/// Errors of `value` against `schema`, with JSON paths.
fn check(doc: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    if let Some(options) = schema["anyOf"].as_array() {
        return if options
            .iter()
            .any(|s| check(doc, s, value, path).is_empty())
        {
            Vec::new()
        } else {
            vec![format!("{path}: matches no anyOf branch: {value}")]
        };
    }
    let mut errors = Vec::new();
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t, value)) {
        errors.push(format!("{path}: {value} is not {types:?}"));
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{path}: {value} not in {allowed:?}"));
        }
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
        for key in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(key) {
                errors.push(format!("{path}: missing required {key}"));
            }
        }
        for (k, v) in obj {
            match props.get(k) {
                Some(s) => errors.extend(check(doc, s, v, &format!("{path}.{k}"))),
                None => errors.push(format!("{path}: undocumented key {k}")),
            }
        }
    }
    errors
}

fn assert_conforms(name: &str, value: &Value) {
    let doc = doc();
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    let errors = check(&doc, &schema, value, "$");
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{value}");
}

#[tokio::test]
async fn every_status_body_conforms() {
    let rig = rig();
    let reason = Reason {
        code: "PAPER_OUT".into(),
        message: "Нет бумаги.".into(),
        device_error: None,
    };
    let mut bodies = Vec::new();
    bodies.push(rig.post("formReceipt", &seed("s-queued")).await.1);
    rig.post("formReceipt", &seed("s-waiting")).await;
    let waiting = OpState::Waiting {
        reason: reason.clone(),
        since: chrono::Utc::now(),
    };
    rig.store
        .transition(&OperationId::new("s-waiting").unwrap(), waiting, "t")
        .await
        .unwrap();
    bodies.push(rig.status("s-waiting").await.1);
    rig.post("formReceipt", &seed("s-done")).await;
    let mut not_printed = fiscal_result();
    not_printed.not_printed = true;
    rig.finish(
        "s-done",
        OpState::Done {
            completion: Completion::Receipt(not_printed),
        },
    )
    .await;
    bodies.push(rig.status("s-done").await.1);
    rig.post("formReceipt", &seed("s-failed")).await;
    rig.finish("s-failed", OpState::Failed { reason }).await;
    bodies.push(rig.status("s-failed").await.1);
    bodies.push(
        rig.post(
            "depositCash",
            &json!({"cashboxId": B, "amount": 1, "operationId": "s-cash"}),
        )
        .await
        .1,
    );
    let cash = cash_result();
    rig.finish(
        "s-cash",
        OpState::Done {
            completion: Completion::Cash(cash),
        },
    )
    .await;
    bodies.push(rig.status("s-cash").await.1);
    assert_eq!(bodies.len(), 6);
    for body in &bodies {
        assert_conforms("OperationStatus", body);
    }
    assert_eq!(bodies[2]["fiscalParams"]["notPrinted"], true);
}

#[tokio::test]
async fn error_bodies_conform() {
    let rig = rig();
    rig.post("formReceipt", &seed("e-1")).await;
    let mut changed = seed("e-1");
    changed["printReceipt"] = json!(false);
    let errors = vec![
        rig.post("formReceipt", &json!({})).await.1,
        rig.post_raw("formReceipt", "{").await.1,
        rig.post("formReceipt", &changed).await.1,
        rig.post_as("nope", "formReceipt", &seed("e-2")).await.1,
        rig.post_as(
            &token(json!({"cashboxes": []})),
            "formReceipt",
            &seed("e-3"),
        )
        .await
        .1,
        rig.status("missing").await.1,
    ];
    for body in &errors {
        assert_conforms("Error", body);
    }
    // A schema violation is caught by the checker itself.
    assert!(!check(
        &doc(),
        &json!({"$ref": "#/components/schemas/Error"}),
        &json!({"errorCode": 1}),
        "$"
    )
    .is_empty());
}
