//! Every validation rule answers 400 with the one error shape, naming the field, and queues
//! nothing; numbers are taken exactly as written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fiscal_model::{BuyerContact, Kopecks, OperationBody, Quantity};
use queue::OperationId;
use serde_json::{json, Value};
use support::*;

/// The seed example with the value at JSON pointer `at` replaced (`None` removes the key).
fn with(at: &str, value: Option<Value>) -> Value {
    let mut v = seed("v-1");
    let (parent, key) = at.rsplit_once('/').unwrap();
    let target = v.pointer_mut(parent).unwrap();
    match (target, value) {
        (Value::Object(m), Some(x)) => {
            m.insert(key.to_string(), x);
        }
        (Value::Object(m), None) => {
            m.remove(key);
        }
        (Value::Array(a), Some(x)) => a[key.parse::<usize>().unwrap()] = x,
        (other, _) => panic!("{at}: {other}"),
    }
    v
}

fn number(text: &str) -> Option<Value> {
    Some(serde_json::from_str(text).unwrap())
}

#[tokio::test]
async fn every_receipt_rule_names_its_field() {
    let rig = rig();
    let long_name = "я".repeat(129);
    let too_many = json!(vec![
        json!({"name": "Товар", "quantity": 1, "price": 1, "taxType": 3});
        fiscal_model::MAX_POSITIONS + 1
    ]);
    let cases: Vec<(Value, &str)> = vec![
        (with("/positions", Some(too_many)), "positions"),
        (with("/operationId", None), "operationId"),
        (with("/operationId", Some(json!(""))), "operationId"),
        (
            with("/operationId", Some(json!("x".repeat(129)))),
            "operationId",
        ),
        (with("/operationId", Some(json!(12854))), "operationId"),
        (with("/receiptType", Some(json!(5))), "receiptType"),
        (with("/receiptType", Some(json!("1"))), "receiptType"),
        (with("/receiptType", number("1.5")), "receiptType"),
        (with("/receiptType", None), "receiptType"),
        (with("/printReceipt", Some(json!("yes"))), "printReceipt"),
        (with("/printReceipt", None), "printReceipt"),
        (with("/taxationSystem", Some(json!(4))), "taxationSystem"),
        (with("/taxationSystem", Some(json!(7))), "taxationSystem"),
        (with("/buyerEmail", Some(json!("customer"))), "buyerEmail"),
        (with("/buyerEmail", Some(json!(5))), "buyerEmail"),
        (
            with("/buyerPhoneNumber", Some(json!("12345"))),
            "buyerPhoneNumber",
        ),
        (with("/positions", None), "positions"),
        (with("/positions", Some(json!([]))), "positions"),
        (with("/positions", Some(json!({"name": "x"}))), "positions"),
        (with("/positions/0", Some(json!("Молоко"))), "positions[0]"),
        (
            with("/positions/0/name", Some(json!(""))),
            "positions[0].name",
        ),
        (
            with("/positions/0/name", Some(json!(long_name))),
            "positions[0].name",
        ),
        (with("/positions/1/name", None), "positions[1].name"),
        (
            with("/positions/0/quantity", Some(json!(0))),
            "positions[0].quantity",
        ),
        (
            with("/positions/0/quantity", Some(json!(-3))),
            "positions[0].quantity",
        ),
        (
            with("/positions/0/quantity", number("1.0000001")),
            "positions[0].quantity",
        ),
        (
            with("/positions/0/quantity", Some(json!("3"))),
            "positions[0].quantity",
        ),
        (
            with("/positions/0/price", Some(json!(-70))),
            "positions[0].price",
        ),
        (
            with("/positions/0/price", Some(json!(0))),
            "positions[0].price",
        ),
        (
            with("/positions/0/price", number("70.001")),
            "positions[0].price",
        ),
        (
            with("/positions/0/price", number("7e1")),
            "positions[0].price",
        ),
        (
            with("/positions/0/price", number("1234567890123")),
            "positions[0].price",
        ),
        (
            with(
                "/positions/0/price",
                number("0.0000000000000000000000000000001"),
            ),
            "positions[0].price",
        ),
        (
            with("/positions/1/taxType", Some(json!(15))),
            "positions[1].taxType",
        ),
        (with("/totalSum", Some(json!(280))), "totalSum"),
        (with("/cashPaymentSum", Some(json!(210))), "totalSum"),
        (with("/cashPaymentSum", None), "cashPaymentSum"),
        (
            with("/cashlessPaymentSum", Some(json!(true))),
            "cashlessPaymentSum",
        ),
        (with("/totalSum", number("270.001")), "totalSum"),
        (with("/cashboxId", Some(json!("not-a-guid"))), "cashboxId"),
        (
            with(
                "/cashboxId",
                Some(json!("{da2bb850-63ef-47e4-8b45-7b5b841eaa9b}")),
            ),
            "cashboxId",
        ),
        (
            with("/cashboxGroupId", Some(json!("123"))),
            "cashboxGroupId",
        ),
        (
            with("/juridicalPersonId", Some(json!(5))),
            "juridicalPersonId",
        ),
        (json!([SEED_EXAMPLE]), "body"),
    ];
    for (i, (body, field)) in cases.iter().enumerate() {
        let (code, answer) = rig.post("formReceipt", body).await;
        assert_eq!(code, 400, "case {i} ({field}): {answer}");
        assert_eq!(
            answer["errorCode"], "VALIDATION_ERROR",
            "case {i}: {answer}"
        );
        assert_eq!(
            assert_error_shape(&answer).as_deref(),
            Some(*field),
            "case {i}: {answer}"
        );
        let message = answer["errorMessage"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{field}: ")),
            "case {i}: {message}"
        );
    }
    let mut electronic = seed("v-1");
    electronic["printReceipt"] = json!(false);
    electronic["buyerEmail"] = json!("");
    let (code, answer) = rig.post("formReceipt", &electronic).await;
    assert_eq!(
        (code, answer["field"].as_str()),
        (400, Some("printReceipt")),
        "{answer}"
    );
    assert!(rig.status("v-1").await.0 == 404, "nothing was queued");
    assert!(rig.store.depth().unwrap().is_empty());
}

#[tokio::test]
async fn the_envd_refusal_says_why() {
    let rig = rig();
    let (_, answer) = rig
        .post("formReceipt", &with("/taxationSystem", Some(json!(4))))
        .await;
    assert!(
        answer["errorMessage"].as_str().unwrap().contains("ЕНВД"),
        "{answer}"
    );
}

#[tokio::test]
async fn cash_rules_name_their_field() {
    let rig = rig();
    let ok = json!({"cashboxId": B, "amount": 500, "operationId": "k-1"});
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("amount", Some(json!(0)), "amount"),
        ("amount", Some(json!(-5)), "amount"),
        ("amount", number("0.001"), "amount"),
        ("amount", Some(json!("500")), "amount"),
        ("amount", None, "amount"),
        ("cashboxId", Some(json!("")), "cashboxId"),
        ("cashboxId", Some(json!("c0264f46")), "cashboxId"),
        ("operationId", None, "operationId"),
    ];
    for route in ["depositCash", "withdrawCash"] {
        for (key, value, field) in &cases {
            let mut body = ok.clone();
            match value {
                Some(v) => body[*key] = v.clone(),
                None => {
                    body.as_object_mut().unwrap().remove(*key);
                }
            }
            let (code, answer) = rig.post(route, &body).await;
            assert_eq!(code, 400, "{route} {key}={value:?}: {answer}");
            assert_eq!(
                assert_error_shape(&answer).as_deref(),
                Some(*field),
                "{route}: {answer}"
            );
        }
    }
    assert!(rig.store.depth().unwrap().is_empty());
}

#[tokio::test]
async fn numbers_are_exact_and_contacts_normalised() {
    let rig = rig();
    let body = r#"{"operationId": "x-1", "receiptType": 1, "printReceipt": false, "taxationSystem": 1,
        "buyerPhoneNumber": "8 (912) 345-67-89",
        "positions": [
            {"name": "Гвозди", "quantity": 1.5, "price": 0.1, "taxType": 1},
            {"name": "Шурупы", "quantity": 0.000001, "price": 200000, "taxType": 4},
            {"name": "Клей", "quantity": 1, "price": 0.10, "taxType": 2}
        ],
        "cashPaymentSum": 0.25, "cashlessPaymentSum": 0.20, "totalSum": 0.45}"#;
    let (code, answer) = rig.post_raw("formReceipt", body).await;
    assert_eq!(code, 200, "{answer}");
    let op = rig
        .store
        .get(&OperationId::new("x-1").unwrap())
        .unwrap()
        .unwrap();
    let OperationBody::Receipt(r) = op.request.body else {
        panic!("not a receipt")
    };
    assert_eq!(r.total, Kopecks(45));
    assert_eq!(r.cash, Kopecks(25));
    assert_eq!(r.items[0].quantity, Quantity(1_500_000));
    assert_eq!(r.items[1].quantity, Quantity(1));
    assert_eq!(r.buyer, Some(BuyerContact::Phone("+79123456789".into())));
    assert!(!r.print);
}
