//! `GET /v1.0/receipts/{operationId}`: each format by `Accept`, the width defaults, and the
//! answers for an unknown, a foreign, an unfinished operation and an unknown format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use fiscal_model::Completion;
use gateway_http::CashboxFacts;
use queue::OpState;
use serde_json::{json, Value};
use support::desk::FakeDesk;
use support::*;
use tower::ServiceExt;

/// The answer's status, `Content-Type` and body.
async fn get(rig: &Rig, token: &str, path: &str, accept: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = Request::get(path).header("authorization", format!("Bearer {token}"));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = rig
        .app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, content_type, body)
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// The seed receipt `id` on register A, fiscalized.
async fn done(rig: &Rig, id: &str) {
    let (code, _) = rig.post("formReceipt", &seed(id)).await;
    assert_eq!(code, 200);
    rig.finish(
        id,
        OpState::Done {
            completion: Completion::Receipt(fiscal_result()),
        },
    )
    .await;
}

#[tokio::test]
async fn each_accepted_type_answers_in_its_content_type() {
    let rig = rig();
    done(&rig, "R-1").await;
    let path = "/v1.0/receipts/R-1";

    let (code, ct, body) = get(&rig, &rig.token, path, None).await;
    assert_eq!((code, ct.as_str()), (200, "text/plain; charset=utf-8"));
    let text = String::from_utf8(body).unwrap();
    for expected in [
        "ООО «Ромашка»",
        "7700000000",
        "КАССОВЫЙ ЧЕК",
        "ПРИХОД",
        "Молоко коровье",
        "3 × 70.00 = 210.00",
        "ИТОГ",
        "=270.00",
        "НАЛИЧНЫМИ",
        "=200.00",
        "БЕЗНАЛИЧНЫМИ",
        "СУММА НДС 22%",
        "УСН ДОХОД",
        "СМЕНА 3",
        "ЧЕК 5",
        "01.05.19 17:33",
        "9999451122",
        "637894524",
        "www.nalog.gov.ru",
        "customer@example.com",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    // No desk: the default tape width.
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert_eq!(widest, 32, "{text}");

    let (code, ct, body) = get(
        &rig,
        &rig.token,
        &format!("{path}?width=48"),
        Some("text/plain"),
    )
    .await;
    assert_eq!((code, ct.as_str()), (200, "text/plain; charset=utf-8"));
    let widest = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert_eq!(widest, 48);

    let (code, ct, body) = get(&rig, &rig.token, path, Some("text/html")).await;
    assert_eq!((code, ct.as_str()), (200, "text/html; charset=utf-8"));
    let html = String::from_utf8(body).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Хлеб ржаной") && html.contains("data:image/png;base64,"));

    let (code, ct, body) = get(
        &rig,
        &rig.token,
        &format!("{path}?width_mm=58"),
        Some("application/pdf"),
    )
    .await;
    assert_eq!((code, ct.as_str()), (200, "application/pdf"));
    assert!(body.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&body).contains("/MediaBox [0 0 164.4"));

    let (code, ct, body) = get(&rig, &rig.token, path, Some("image/png")).await;
    assert_eq!((code, ct.as_str()), (200, "image/png"));
    assert!(body.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[tokio::test]
async fn an_unknown_format_is_406_in_the_error_shape() {
    let rig = rig();
    done(&rig, "R-2").await;
    let (code, ct, body) = get(
        &rig,
        &rig.token,
        "/v1.0/receipts/R-2",
        Some("application/json"),
    )
    .await;
    assert_eq!(code, 406);
    assert!(ct.starts_with("application/json"), "{ct}");
    let body = json_of(&body);
    assert_eq!(body["errorCode"], "NOT_ACCEPTABLE");
    assert_eq!(body["field"], "Accept");
}

#[tokio::test]
async fn an_unknown_operation_is_404() {
    let rig = rig();
    let (code, _, body) = get(&rig, &rig.token, "/v1.0/receipts/nothing-here", None).await;
    assert_eq!(code, 404);
    assert_eq!(json_of(&body)["errorCode"], "OPERATION_NOT_FOUND");
}

#[tokio::test]
async fn a_token_for_another_cashbox_gets_404() {
    let rig = rig();
    done(&rig, "R-3").await;
    let other = token(json!({"cashboxes": [B]}));
    let (code, _, body) = get(&rig, &other, "/v1.0/receipts/R-3", None).await;
    assert_eq!(code, 404);
    assert_eq!(json_of(&body)["errorCode"], "OPERATION_NOT_FOUND");
    // Without a token: 401.
    let (code, _, _) = get(&rig, "not-a-token", "/v1.0/receipts/R-3", None).await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn a_receipt_not_yet_fiscalized_is_409() {
    let rig = rig();
    rig.post("formReceipt", &seed("R-4")).await;
    let (code, _, body) = get(&rig, &rig.token, "/v1.0/receipts/R-4", None).await;
    assert_eq!(code, 409);
    let body = json_of(&body);
    assert_eq!(body["errorCode"], "RECEIPT_NOT_FISCALIZED");
    assert_eq!(body["field"], "operationId");
    assert!(body["errorMessage"].as_str().unwrap().contains("status 1"));
}

#[tokio::test]
async fn the_registers_facts_and_tape_width_come_from_the_desk() {
    let desk = Arc::new(FakeDesk::new(vec![CashboxFacts {
        cashbox_id: A.into(),
        model: Some("ШТРИХ-М-01Ф".into()),
        kkt_serial: Some("0012345678".into()),
        print_width: Some(36),
        ..CashboxFacts::default()
    }]));
    let rig = rig_with(|state| state.desk = Some(desk.handle()));
    done(&rig, "R-5").await;
    let (code, _, body) = get(&rig, &rig.token, "/v1.0/receipts/R-5", None).await;
    assert_eq!(code, 200);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("ЗН ККТ") && text.contains("0012345678"),
        "{text}"
    );
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert_eq!(widest, 36, "{text}");
}
