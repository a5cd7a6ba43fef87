//! What a reviewer tried against the API: a failed store sync, tokens with odd claims, a
//! foreign `Host`, text a register cannot print, amounts it cannot hold, and replays that differ
//! in one field. Every refusal has the one error shape and queues nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use gateway_http::ApiError;
use serde_json::Value;
use support::*;

#[tokio::test]
async fn a_store_failure_says_the_operation_may_have_been_stored() {
    let error = ApiError::from(queue::StoreError::Io(
        "fdatasync: Input/output error".into(),
    ));
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_error_shape(&body);
    assert_eq!(body["errorCode"], "STORE_UNAVAILABLE");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("may have been stored"), "{message}");
    assert!(message.contains("same operationId"), "{message}");
    assert!(!message.contains("nothing was stored"), "{message}");
}
