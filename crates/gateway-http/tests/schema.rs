//! The answers the gateway gives match its OpenAPI document: keys, required keys and JSON
//! types of every status body (queued, waiting, done, failed; receipt and cash) and of the
//! error body, checked by `support::conform`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fiscal_model::Completion;
use queue::{OpState, OperationId, Reason};
use serde_json::{json, Value};
use support::conform::check;
use support::*;

fn doc() -> Value {
    serde_json::from_str(gateway_http::openapi_json()).unwrap()
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

#[tokio::test]
async fn the_health_answer_conforms() {
    let rig = rig_with(|state| {
        state.readiness = Some(gateway_http::ReadinessSource(std::sync::Arc::new(|| {
            let register = |cashbox_id: &str, ready: bool, oldest: Option<u64>| {
                gateway_http::RegisterReadiness {
                    cashbox_id: cashbox_id.into(),
                    ready,
                    error_code: (!ready).then(|| "COVER_OPEN".into()),
                    error_message: (!ready).then(|| "Открыта крышка.".into()),
                    oldest_pending_seconds: oldest,
                }
            };
            vec![register(A, true, None), register(B, false, Some(12))]
        })));
    });
    rig.post("formReceipt", &seed("h-1")).await;
    let (code, body) = rig.get("/health").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["registers"].as_array().map(Vec::len), Some(2));
    assert_conforms("Health", &body);
}
