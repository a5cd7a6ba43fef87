//! checkStatus: the three example bodies of the API description, the Waiting reason, cash
//! results, the long poll, and the query errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use fiscal_model::Completion;
use queue::{OpState, OperationId, Reason};
use serde_json::{json, Value};
use support::*;

fn cover_open() -> Reason {
    Reason {
        code: "COVER_OPEN".into(),
        message: "Открыта крышка.".into(),
        device_error: Some(0x48),
    }
}

/// An RFC 3339 UTC timestamp.
fn assert_utc(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    assert!(s.ends_with('Z'), "{s}");
    assert!(chrono::DateTime::parse_from_rfc3339(s).is_ok(), "{s}");
}

#[tokio::test]
async fn a_done_receipt_renders_like_example_2() {
    let rig = rig();
    rig.post("formReceipt", &seed("12857F")).await;
    rig.finish(
        "12857F",
        OpState::Done {
            completion: Completion::Receipt(fiscal_result()),
        },
    )
    .await;
    let (code, mut body) = rig.status("12857F").await;
    assert_eq!(code, 200);
    assert_utc(&body["creationDateTimeUtc"]);
    assert_utc(&body["processingDateTimeUtc"]);
    body["creationDateTimeUtc"] = json!("*");
    body["processingDateTimeUtc"] = json!("*");
    assert_eq!(
        body,
        json!({
            "status": 2,
            "creationDateTimeUtc": "*",
            "handlerCashboxId": A,
            "processingDateTimeUtc": "*",
            "fiscalParams": {
                "fiscalDocumentNumber": 24,
                "fiscalDocumentSign": "0637894524",
                // 17:33 on the register's clock (UTC+3).
                "fiscalDocumentDateTimeUtc": "2019-05-01T14:33:00.000Z",
                "fiscalReceiptNumber": 5,
                "shiftNumber": 3,
                "fnNumber": "9999451122",
                "registrationNumber": "00244",
                "fnsUrl": "www.nalog.gov.ru",
                "notPrinted": false
            },
            "errorMessage": null,
            "errorCode": null
        })
    );
}

#[tokio::test]
async fn a_failed_operation_renders_like_example_3_with_its_code() {
    let rig = rig();
    rig.post("formReceipt", &seed("f-1")).await;
    rig.finish(
        "f-1",
        OpState::Failed {
            reason: cover_open(),
        },
    )
    .await;
    let (_, mut body) = rig.status("f-1").await;
    assert_utc(&body["creationDateTimeUtc"]);
    body["creationDateTimeUtc"] = json!("*");
    assert_eq!(
        body,
        json!({
            "status": 3,
            "creationDateTimeUtc": "*",
            "handlerCashboxId": A,
            "processingDateTimeUtc": null,
            "fiscalParams": null,
            "errorMessage": "Открыта крышка.",
            "errorCode": "COVER_OPEN"
        })
    );
}

#[tokio::test]
async fn a_waiting_operation_is_status_1_with_its_reason() {
    let rig = rig();
    rig.post("formReceipt", &seed("w-1")).await;
    let id = OperationId::new("w-1").unwrap();
    let waiting = OpState::Waiting {
        reason: cover_open(),
        since: chrono::Utc::now(),
    };
    rig.store.transition(&id, waiting, "cover").await.unwrap();
    let (_, body) = rig.status("w-1").await;
    assert_eq!(body["status"], 1);
    assert_eq!(body["errorCode"], "COVER_OPEN");
    assert_eq!(body["errorMessage"], "Открыта крышка.");
    assert!(body["fiscalParams"].is_null());
}

#[tokio::test]
async fn a_done_cash_movement_has_cash_params_and_no_fiscal_params() {
    let rig = rig();
    rig.post(
        "depositCash",
        &json!({"cashboxId": B, "amount": 500, "operationId": "in-1"}),
    )
    .await;
    let result = cash_result();
    rig.finish(
        "in-1",
        OpState::Done {
            completion: Completion::Cash(result),
        },
    )
    .await;
    let (_, body) = rig.status("in-1").await;
    assert_eq!(body["status"], 2);
    assert!(body["fiscalParams"].is_null());
    assert_eq!(
        body["cashParams"],
        json!({
            "documentNumber": 17,
            "shiftNumber": 3,
            "fnNumber": "9999451122",
            "registrationNumber": "00244",
            "dateTimeUtc": "2026-11-23T09:05:07.000Z"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_long_poll_returns_when_the_operation_finishes() {
    let rig = rig();
    rig.post("formReceipt", &seed("lp-1")).await;
    let app = rig.app.clone();
    let token = rig.token.clone();
    let poll = tokio::spawn(async move {
        let req = axum::http::Request::get("/v1.0/operations/checkStatus?operationId=lp-1&wait=50")
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        send(&app, req).await
    });
    // The poll is registered as waiting before anything changes: what follows is its wake-up.
    let id = queue::OperationId::new("lp-1").unwrap();
    while rig.store.watching(&id) == 0 {
        assert!(
            !poll.is_finished(),
            "the long poll answered without waiting"
        );
        tokio::task::yield_now().await;
    }
    let started = std::time::Instant::now();
    rig.finish(
        "lp-1",
        OpState::Done {
            completion: Completion::Receipt(fiscal_result()),
        },
    )
    .await;
    let (code, body) = poll.await.unwrap();
    assert_eq!(code, 200);
    assert_eq!(body["status"], 2, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "returned on the change, not the timeout: {:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn the_long_poll_gives_up_after_wait_seconds_with_status_1() {
    let rig = rig();
    rig.post("formReceipt", &seed("lp-2")).await;
    let started = tokio::time::Instant::now();
    let (code, body) = rig.status_query("operationId=lp-2&wait=30").await;
    assert_eq!((code, body["status"].as_u64()), (200, Some(1)), "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // A wait beyond the configured maximum (60 s) is cut to it.
    let started = tokio::time::Instant::now();
    rig.status_query("operationId=lp-2&wait=100000").await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "{waited:?}"
    );
}

#[tokio::test]
async fn status_query_errors() {
    let rig = rig();
    let (code, body) = rig.status("nobody").await;
    assert_eq!(
        (code, body["errorCode"].as_str()),
        (404, Some("OPERATION_NOT_FOUND"))
    );
    assert_error_shape(&body);
    for (query, field) in [
        ("", "operationId"),
        ("operationId=", "operationId"),
        ("operationId=x&wait=-1", "wait"),
        ("operationId=x&wait=soon", "wait"),
    ] {
        let (code, body) = rig.status_query(query).await;
        assert_eq!(code, 400, "{query}: {body}");
        assert_eq!(assert_error_shape(&body).as_deref(), Some(field), "{query}");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_the_error_shape() {
    let doc: Value = serde_json::from_str(gateway_http::openapi_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/v1.0/operations/formReceipt", "post"),
        ("/v1.0/operations/depositCash", "post"),
        ("/v1.0/operations/withdrawCash", "post"),
        ("/v1.0/operations/checkStatus", "get"),
        ("/health", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    let error = &doc["components"]["schemas"]["Error"];
    for key in ["errorCode", "errorMessage", "field"] {
        assert!(error["properties"][key].is_object(), "Error.{key}");
    }
    let status = &doc["components"]["schemas"]["OperationStatus"]["properties"];
    for key in [
        "status",
        "creationDateTimeUtc",
        "handlerCashboxId",
        "processingDateTimeUtc",
        "fiscalParams",
        "errorMessage",
        "errorCode",
        "cashParams",
    ] {
        assert!(status[key].is_object(), "OperationStatus.{key}");
    }
    // Served as is.
    let rig = rig();
    let (code, served) = rig.get("/openapi.json").await;
    assert_eq!((code, &served), (200, &doc));
}
