//! POST routes: the seed example, idempotent replay, conflicts, re-posting a failed operation,
//! cash movements, routing, and the one error shape for transport-level errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Request};
use queue::{OpState, OperationId, Reason};
use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn the_seed_example_passes_verbatim_and_is_queued() {
    let rig = rig();
    let (code, body) = rig.post_raw("formReceipt", SEED_EXAMPLE).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], 1);
    assert_eq!(body["handlerCashboxId"], A);
    assert!(body["fiscalParams"].is_null());
    assert!(body["errorMessage"].is_null());
    assert!(body["errorCode"].is_null());
    assert!(body["processingDateTimeUtc"].is_null());
    assert!(
        body["creationDateTimeUtc"].as_str().unwrap().ends_with('Z'),
        "{body}"
    );
    assert!(
        body.get("cashParams").is_none(),
        "receipts carry no cashParams: {body}"
    );
    let (code, polled) = rig.status("12854F").await;
    assert_eq!(code, 200);
    assert_eq!(polled, body, "the POST answers what checkStatus answers");
    let stored = rig
        .store
        .get(&OperationId::new("12854F").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(stored.register.as_str(), A);
}

#[tokio::test]
async fn a_replay_answers_the_stored_status_and_stores_nothing_new() {
    let rig = rig();
    let (_, first) = rig.post("formReceipt", &seed("r-1")).await;
    // The same meaning in other bytes: 70 written as 70.00, the cashbox id upper-cased.
    let mut same = seed("r-1");
    same["positions"][0]["price"] = serde_json::from_str("70.00").unwrap();
    same["cashboxId"] = json!(A.to_uppercase());
    let (code, again) = rig.post("formReceipt", &same).await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(again, first);
    let id = OperationId::new("r-1").unwrap();
    let seq = rig.store.get(&id).unwrap().unwrap().seq;
    rig.finish(
        "r-1",
        OpState::Done {
            completion: fiscal_model::Completion::Receipt(fiscal_result()),
        },
    )
    .await;
    // A replay of a finished operation answers its outcome; nothing is queued again.
    let (code, done) = rig.post("formReceipt", &seed("r-1")).await;
    assert_eq!(code, 200);
    assert_eq!(done["status"], 2, "{done}");
    assert_eq!(done, rig.status("r-1").await.1);
    assert_eq!(rig.store.get(&id).unwrap().unwrap().seq, seq);
    assert!(rig.store.depth().unwrap().is_empty(), "nothing unfinished");
}

fn reason() -> Reason {
    Reason {
        code: "COVER_OPEN".into(),
        message: "Открыта крышка.".into(),
        device_error: Some(0x48),
    }
}

#[tokio::test]
async fn a_changed_payload_under_a_known_id_is_422() {
    let rig = rig();
    rig.post("formReceipt", &seed("c-1")).await;
    let mut changed = seed("c-1");
    changed["totalSum"] = json!(271);
    changed["cashPaymentSum"] = json!(201);
    changed["positions"][0]["price"] = json!(70.5);
    changed["positions"][0]["quantity"] = json!(2);
    changed["positions"][1]["quantity"] = json!(4);
    changed["positions"][1]["price"] = json!(32.5);
    let (code, body) = rig.post("formReceipt", &changed).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["errorCode"], "IDEMPOTENCY_CONFLICT");
    assert_eq!(assert_error_shape(&body).as_deref(), Some("operationId"));
    assert!(
        body["errorMessage"].as_str().unwrap().contains("c-1"),
        "{body}"
    );
    // The same id sent to another cashbox is a different request too.
    let mut moved = seed("c-1");
    moved["cashboxId"] = json!(B);
    assert_eq!(rig.post("formReceipt", &moved).await.0, 422);
}

#[tokio::test]
async fn a_failed_operation_reposted_unchanged_is_queued_again() {
    let rig = rig();
    rig.post("formReceipt", &seed("f-1")).await;
    rig.finish("f-1", OpState::Failed { reason: reason() })
        .await;
    let (_, failed) = rig.status("f-1").await;
    assert_eq!(failed["status"], 3);
    let (code, again) = rig.post("formReceipt", &seed("f-1")).await;
    assert_eq!(code, 200);
    assert_eq!(again["status"], 1, "requeued: {again}");
    assert!(again["errorCode"].is_null());
}

#[tokio::test]
async fn cash_in_and_out_are_queued_on_the_named_cashbox() {
    let rig = rig();
    let (code, body) = rig
        .post(
            "depositCash",
            &json!({"cashboxId": B, "amount": 50000, "operationId": "in-1"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], 1);
    assert_eq!(body["handlerCashboxId"], B);
    assert!(
        body["cashParams"].is_null() && body.get("cashParams").is_some(),
        "{body}"
    );
    let (code, body) = rig
        .post(
            "withdrawCash",
            &json!({"cashboxId": B, "amount": 200.5, "operationId": "out-1"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let op = rig
        .store
        .get(&OperationId::new("out-1").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(op.kind, queue::OperationKind::CashOut);
    match op.request.body {
        fiscal_model::OperationBody::Cash(m) => assert_eq!(m.amount, fiscal_model::Kopecks(20050)),
        other => panic!("{other:?}"),
    }
    // The API makes cashboxId required here: no default register for cash.
    let (code, body) = rig
        .post("depositCash", &json!({"amount": 1, "operationId": "in-2"}))
        .await;
    assert_eq!(code, 400);
    assert_eq!(body["field"], "cashboxId");
}

#[tokio::test]
async fn routing_by_group_picks_the_least_busy_register() {
    let rig = rig();
    for i in 0..2 {
        let mut r = seed(&format!("b-{i}"));
        r["cashboxId"] = json!(B);
        assert_eq!(rig.post("formReceipt", &r).await.0, 200);
    }
    let mut by_group = seed("g-1");
    by_group["cashboxId"] = json!("");
    by_group["cashboxGroupId"] = json!(G);
    let (_, body) = rig.post("formReceipt", &by_group).await;
    assert_eq!(
        body["handlerCashboxId"], C,
        "B has 2 queued, C none: {body}"
    );
    for i in 0..2 {
        let mut r = seed(&format!("c-{i}"));
        r["cashboxId"] = json!(C);
        rig.post("formReceipt", &r).await;
    }
    by_group["operationId"] = json!("g-2");
    let (_, body) = rig.post("formReceipt", &by_group).await;
    assert_eq!(body["handlerCashboxId"], B, "B has 2, C has 3: {body}");
    // By juridical person: one of that person's registers, least busy.
    let mut by_person = seed("j-1");
    by_person["cashboxId"] = Value::Null;
    by_person["juridicalPersonId"] = json!(J1);
    assert_eq!(
        rig.post("formReceipt", &by_person).await.1["handlerCashboxId"],
        A
    );
    // None of them: the default register.
    let mut plain = seed("d-1");
    plain.as_object_mut().unwrap().remove("cashboxId");
    assert_eq!(
        rig.post("formReceipt", &plain).await.1["handlerCashboxId"],
        A
    );
}

#[tokio::test]
async fn unknown_routing_ids_are_400_naming_them() {
    let rig = rig();
    let unknown = "c0264f46-0000-4953-bfbe-2e3cd1e0a4ad";
    for field in ["cashboxId", "cashboxGroupId", "juridicalPersonId"] {
        let mut r = seed("u-1");
        r["cashboxId"] = json!("");
        r[field] = json!(unknown);
        let (code, body) = rig.post("formReceipt", &r).await;
        assert_eq!(code, 400, "{body}");
        assert_eq!(assert_error_shape(&body).as_deref(), Some(field));
        assert!(
            body["errorMessage"].as_str().unwrap().contains(unknown),
            "{body}"
        );
    }
    assert_eq!(rig.status("u-1").await.0, 404, "nothing was queued");
}

#[tokio::test]
async fn a_vat_rate_without_a_tax_group_on_the_register_is_400() {
    let rig = rig();
    let mut r = seed("t-1");
    r["cashboxId"] = json!(C);
    r["positions"][1]["taxType"] = json!(2);
    let (code, body) = rig.post("formReceipt", &r).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["field"], "positions[1].taxType");
}

async fn raw(rig: &Rig, req: Request<Body>) -> (u16, Value) {
    send(&rig.app, req).await
}

#[tokio::test]
async fn transport_errors_have_the_one_error_shape() {
    let rig = rig();
    let auth = format!("Bearer {}", rig.token);
    let post = |content_type: &str, body: String| {
        Request::post("/v1.0/operations/formReceipt")
            .header(header::AUTHORIZATION, auth.clone())
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let cases: Vec<(Request<Body>, u16, &str)> = vec![
        (
            post("application/json", "{\"operationId\": ".into()),
            400,
            "MALFORMED_JSON",
        ),
        (
            post("application/json", "[1, 2".into()),
            400,
            "MALFORMED_JSON",
        ),
        (
            post("application/json", "[]".into()),
            400,
            "VALIDATION_ERROR",
        ),
        (
            post("text/plain", SEED_EXAMPLE.into()),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            post(
                "application/json",
                format!("{{\"x\": \"{}\"}}", "a".repeat(BODY_LIMIT)),
            ),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            Request::get("/v1.0/operations/nothing")
                .body(Body::empty())
                .unwrap(),
            404,
            "NOT_FOUND",
        ),
        (
            Request::get("/v1.0/operations/formReceipt")
                .body(Body::empty())
                .unwrap(),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            Request::delete("/v1.0/operations/checkStatus")
                .body(Body::empty())
                .unwrap(),
            405,
            "METHOD_NOT_ALLOWED",
        ),
    ];
    for (req, status, code) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (got, body) = raw(&rig, req).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["errorCode"], code, "{what}: {body}");
        assert_error_shape(&body);
    }
    // Without Content-Type and with a chunked (undeclared length) oversized body.
    let req = Request::post("/v1.0/operations/formReceipt")
        .header(header::AUTHORIZATION, auth.clone())
        .body(Body::from(SEED_EXAMPLE))
        .unwrap();
    assert_eq!(raw(&rig, req).await.0, 415);
    let chunks = vec![
        Ok::<_, std::io::Error>(vec![b' '; BODY_LIMIT]),
        Ok(b"{}".to_vec()),
    ];
    let body = Body::from_stream(futures::stream::iter(chunks));
    let req = Request::post("/v1.0/operations/formReceipt")
        .header(header::AUTHORIZATION, auth)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body)
        .unwrap();
    let (code, body) = raw(&rig, req).await;
    assert_eq!(code, 413, "{body}");
}

#[tokio::test]
async fn method_not_allowed_names_the_allowed_methods() {
    let rig = rig();
    let req = Request::get("/v1.0/operations/depositCash")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(rig.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let allow = response
        .headers()
        .get(header::ALLOW)
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(allow.as_deref(), Some("POST"));
}

#[tokio::test]
async fn a_replay_by_group_stays_on_the_register_first_chosen() {
    let rig = rig();
    let mut by_group = seed("rg-1");
    by_group["cashboxId"] = json!("");
    by_group["cashboxGroupId"] = json!(G);
    let (_, first) = rig.post("formReceipt", &by_group).await;
    assert_eq!(
        first["handlerCashboxId"], B,
        "B and C idle: the first configured wins"
    );
    // Now B is the busier one; a replay still answers from B.
    let (_, again) = rig.post("formReceipt", &by_group).await;
    assert_eq!(again, first);
}

#[tokio::test]
async fn group_routing_prefers_registers_that_have_the_tax_groups() {
    let rig = rig();
    // Make C the idle one: B gets a queued operation.
    let mut to_b = seed("tg-0");
    to_b["cashboxId"] = json!(B);
    rig.post("formReceipt", &to_b).await;
    let mut by_group = seed("tg-1");
    by_group["cashboxId"] = json!("");
    by_group["cashboxGroupId"] = json!(G);
    by_group["positions"][0]["taxType"] = json!(2);
    let (code, body) = rig.post("formReceipt", &by_group).await;
    assert_eq!(
        (code, body["handlerCashboxId"].as_str()),
        (200, Some(B)),
        "C has no 10 % group: {body}"
    );
}
