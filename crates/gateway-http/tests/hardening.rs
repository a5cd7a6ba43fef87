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

/// A three-position receipt as a till sends it (the name of position 2 is what the tests vary).
fn three_positions(id: &str, third_name: &str) -> Value {
    serde_json::json!({
        "operationId": id, "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
        "positions": [
            {"name": "Молоко коровье", "quantity": 1, "price": 70, "taxType": 3},
            {"name": "Хлеб ржаной", "quantity": 1, "price": 30, "taxType": 3},
            {"name": third_name, "quantity": 1, "price": 10, "taxType": 3}
        ],
        "cashPaymentSum": 110, "cashlessPaymentSum": 0, "totalSum": 110,
        "cashboxId": A
    })
}

#[tokio::test]
async fn text_a_register_cannot_print_is_400_naming_position_and_character() {
    let rig = rig();
    for (name, code_point) in [
        ("Сок 🍊", "U+1F34A"),
        ("Хлеб\u{200B}ржаной", "U+200B"),
        ("Хлеб\u{200C}ржаной", "U+200C"),
        ("Хлеб\u{200D}ржаной", "U+200D"),
        ("Молоко\u{202E}окоЛоМ", "U+202E"),
        ("Молоко\u{202A}x", "U+202A"),
        ("Молоко\u{2066}x\u{2069}", "U+2066"),
        ("Молоко\u{2069}", "U+2069"),
    ] {
        let (code, body) = rig.post("formReceipt", &three_positions("t-1", name)).await;
        assert_eq!(code, 400, "{name:?}: {body}");
        assert_eq!(
            assert_error_shape(&body).as_deref(),
            Some("positions[2].name"),
            "{body}"
        );
        let message = body["errorMessage"].as_str().unwrap();
        assert!(message.contains(code_point), "{name:?}: {message}");
    }
    let mut email = seed("t-2");
    email["buyerEmail"] = serde_json::json!("customer🍊@example.com");
    let (code, body) = rig.post("formReceipt", &email).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(assert_error_shape(&body).as_deref(), Some("buyerEmail"));
    assert!(rig.store.depth().unwrap().is_empty(), "nothing queued");

    // What CP1251 has passes, as written.
    let typographic = "«Ёлочка» — 2 шт. … № 5 – 1,5 л";
    let (code, body) = rig
        .post("formReceipt", &three_positions("t-3", typographic))
        .await;
    assert_eq!(code, 200, "{body}");
    let op = rig
        .store
        .get(&queue::OperationId::new("t-3").unwrap())
        .unwrap()
        .unwrap();
    let fiscal_model::OperationBody::Receipt(receipt) = op.request.body else {
        panic!("not a receipt")
    };
    assert_eq!(receipt.items[2].name, typographic);
}

#[tokio::test]
async fn a_position_that_comes_to_zero_kopecks_is_400() {
    let rig = rig();
    let body = serde_json::json!({
        "operationId": "z-1", "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
        "positions": [
            {"name": "Гвоздь", "quantity": 1, "price": 1, "taxType": 3},
            {"name": "Шайба", "quantity": 0.4, "price": 0.01, "taxType": 3}
        ],
        "cashPaymentSum": 1, "cashlessPaymentSum": 0, "totalSum": 1, "cashboxId": A
    });
    let (code, body) = rig.post("formReceipt", &body).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(assert_error_shape(&body).as_deref(), Some("positions[1]"));
    assert!(
        body["errorMessage"].as_str().unwrap().contains("0.00"),
        "{body}"
    );
    assert!(rig.store.depth().unwrap().is_empty(), "nothing queued");
}

#[tokio::test]
async fn amounts_above_what_a_register_holds_are_400_naming_the_field() {
    let rig = rig();
    let max = "10995116277.74";
    let over = "10995116277.75";
    let num = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let receipt = |positions: Value, cash: &str, cashless: &str, total: &str| {
        serde_json::json!({
            "operationId": "m-1", "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
            "positions": positions,
            "cashPaymentSum": num(cash), "cashlessPaymentSum": num(cashless),
            "totalSum": num(total), "cashboxId": A
        })
    };
    let position = |q: &str, p: &str| serde_json::json!({"name": "Слиток", "quantity": num(q), "price": num(p), "taxType": 3});
    let half = "5497558138.88"; // two of them are 0.02 above the maximum
    let cases = [
        (
            receipt(serde_json::json!([position("1", over)]), over, "0", over),
            "positions[0].price",
        ),
        (
            receipt(serde_json::json!([position("2", max)]), max, "0", max),
            "positions[0]",
        ),
        (
            receipt(
                serde_json::json!([position("1", half), position("1", half)]),
                max,
                "0",
                max,
            ),
            "positions",
        ),
        (
            receipt(serde_json::json!([position("1", "1")]), "1", "0", over),
            "totalSum",
        ),
        (
            receipt(serde_json::json!([position("1", "1")]), over, "0", "1"),
            "cashPaymentSum",
        ),
        (
            receipt(serde_json::json!([position("1", "1")]), "1", over, "1"),
            "cashlessPaymentSum",
        ),
        (
            receipt(serde_json::json!([position("1", max)]), max, max, max),
            "cashPaymentSum",
        ),
    ];
    for (body, field) in cases {
        let (code, answer) = rig.post("formReceipt", &body).await;
        assert_eq!(code, 400, "{field}: {answer}");
        assert_eq!(
            assert_error_shape(&answer).as_deref(),
            Some(field),
            "{answer}"
        );
        assert!(
            answer["errorMessage"].as_str().unwrap().contains(max),
            "the message names the maximum: {answer}"
        );
    }
    for op in ["depositCash", "withdrawCash"] {
        let body = serde_json::json!({"operationId": "m-2", "cashboxId": A, "amount": num(over)});
        let (code, answer) = rig.post(op, &body).await;
        assert_eq!(code, 400, "{answer}");
        assert_eq!(assert_error_shape(&answer).as_deref(), Some("amount"));
    }
    assert!(rig.store.depth().unwrap().is_empty(), "nothing queued");

    // The maximum itself is a receipt a register can take.
    let (code, answer) = rig
        .post(
            "formReceipt",
            &receipt(serde_json::json!([position("1", max)]), max, "0", max),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
}

#[tokio::test]
async fn the_idempotency_fingerprint_covers_every_field() {
    let rig = rig();
    let mut base = seed("i-1");
    base["buyerPhoneNumber"] = serde_json::json!("+7 912 345-67-89");
    let (code, body) = rig.post("formReceipt", &base).await;
    assert_eq!(code, 200, "{body}");

    // The same request spelt differently is the same request.
    let same = r#"{"cashboxId": "DA2BB850-63EF-47E4-8B45-7B5B841EAA9B", "operationId": "i-1",
        "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
        "buyerEmail": " customer@example.com ", "buyerPhoneNumber": "89123456789",
        "positions": [
            {"name": "Молоко коровье", "quantity": 3.000, "price": 70.00, "taxType": 3},
            {"name": "Хлеб ржаной", "quantity": 2, "price": 30.0, "taxType": 3}
        ],
        "cashPaymentSum": 200.00, "cashlessPaymentSum": 70, "totalSum": 270,
        "juridicalPersonId": null}"#;
    let (code, body) = rig.post_raw("formReceipt", same).await;
    assert_eq!(code, 200, "a replay: {body}");

    type Change = fn(&mut Value);
    let changes: Vec<(&str, Change)> = vec![
        ("receiptType", |v| v["receiptType"] = 2.into()),
        ("printReceipt", |v| v["printReceipt"] = false.into()),
        ("taxationSystem", |v| v["taxationSystem"] = 1.into()),
        ("buyerEmail", |v| {
            v["buyerEmail"] = "other@example.com".into()
        }),
        ("buyerEmail removed", |v| v["buyerEmail"] = "".into()),
        ("buyerPhoneNumber", |v| {
            v["buyerPhoneNumber"] = "+7 912 000-00-00".into()
        }),
        ("buyerPhoneNumber removed", |v| {
            v["buyerPhoneNumber"] = "".into()
        }),
        ("positions[0].name", |v| {
            v["positions"][0]["name"] = "Молоко козье".into()
        }),
        ("positions[0].taxType", |v| {
            v["positions"][0]["taxType"] = 2.into()
        }),
        ("positions[0] quantity and price", |v| {
            v["positions"][0]["quantity"] = 2.into();
            v["positions"][0]["price"] = 105.into();
        }),
        ("positions order", |v| {
            let positions = v["positions"].as_array_mut().unwrap();
            positions.swap(0, 1);
        }),
        ("payments", |v| {
            v["cashPaymentSum"] = 70.into();
            v["cashlessPaymentSum"] = 200.into();
        }),
        ("juridicalPersonId", |v| v["juridicalPersonId"] = J1.into()),
    ];
    for (what, change) in changes {
        let mut changed = base.clone();
        change(&mut changed);
        let (code, body) = rig.post("formReceipt", &changed).await;
        assert_eq!(code, 422, "{what} changed: {body}");
        assert_eq!(body["errorCode"], "IDEMPOTENCY_CONFLICT", "{what}");
    }
}
