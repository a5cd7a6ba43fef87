//! The FFD 1.2 extensions of a position and a receipt (issue 9 part 2): payment method and
//! object, measure, fractional quantity, agent and supplier, the receipt's cashier and buyer,
//! and the payments beyond cash and card. Each good value is stored as given, each bad one is
//! a 400 naming the field with nothing queued, and each is part of the idempotency fingerprint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fiscal_model::Kopecks;
use serde_json::{json, Value};
use support::*;

fn agent() -> Value {
    json!({"type": 32, "phone": "8 912 345-67-89"})
}

fn supplier() -> Value {
    json!({"name": "ООО Поставщик", "inn": "7707083893", "phone": "+7 (495) 123-45-67"})
}

#[tokio::test]
async fn good_values_are_stored_as_given() {
    let rig = rig();
    let b = seed_with(
        "a-1",
        &[
            ("/positions/0/paymentMethod", json!(1)),
            ("/positions/0/paymentObject", json!(33)),
            ("/positions/0/measurementUnit", json!(0)),
            (
                "/positions/0/fractionalQuantity",
                json!({"numerator": 1, "denominator": 4}),
            ),
            ("/positions/1/paymentObject", json!(10)),
            ("/positions/1/measurementUnit", json!(11)),
            ("/positions/1/agent", agent()),
            ("/positions/1/supplier", supplier()),
            ("/cashierName", json!("Петров П.")),
            ("/cashierInn", json!("500100732259")),
            ("/buyerName", json!("ООО Покупатель")),
            ("/buyerInn", json!("7707083893")),
            ("/cashPaymentSum", json!(100)),
            ("/cashlessPaymentSum", json!(70)),
            ("/prepaymentSum", json!(50)),
            ("/postpaymentSum", json!(30)),
            ("/counterProvisionSum", json!(20)),
        ],
    );
    let (code, answer) = rig.post("formReceipt", &b).await;
    assert_eq!(code, 200, "{answer}");
    let r = stored_receipt(&rig, "a-1").await;
    let a0 = &r.items[0].attributes;
    assert_eq!(a0.payment_method.code(), 1);
    assert_eq!(a0.payment_object.code(), 33);
    let f = a0.fractional_quantity.unwrap();
    assert_eq!((f.numerator, f.denominator), (1, 4));
    let a1 = &r.items[1].attributes;
    assert_eq!(a1.payment_method.code(), 4, "the default");
    assert_eq!(a1.payment_object.code(), 10);
    assert_eq!(a1.measurement_unit.code(), 11);
    let ag = a1.agent.as_ref().unwrap();
    assert_eq!(
        (ag.agent_type, ag.phone.as_deref()),
        (32, Some("+79123456789"))
    );
    let s = a1.supplier.as_ref().unwrap();
    assert_eq!(
        (s.name.as_str(), s.inn.as_str(), s.phone.as_deref()),
        ("ООО Поставщик", "7707083893", Some("+74951234567"))
    );
    let c = r.cashier.as_ref().unwrap();
    assert_eq!(
        (c.name.as_str(), c.inn.as_deref()),
        ("Петров П.", Some("500100732259"))
    );
    let d = r.buyer_details.as_ref().unwrap();
    assert_eq!(
        (d.name.as_deref(), d.inn.as_deref()),
        (Some("ООО Покупатель"), Some("7707083893"))
    );
    assert_eq!(
        (
            r.cash,
            r.cashless,
            r.prepayment,
            r.postpayment,
            r.counter_provision
        ),
        (
            Kopecks(10_000),
            Kopecks(7_000),
            Kopecks(5_000),
            Kopecks(3_000),
            Kopecks(2_000)
        )
    );
}

#[tokio::test]
async fn defaults_keep_the_stored_form_of_a_plain_receipt() {
    let rig = rig();
    let (code, answer) = rig.post("formReceipt", &seed("p-1")).await;
    assert_eq!(code, 200, "{answer}");
    let r = stored_receipt(&rig, "p-1").await;
    let text = serde_json::to_string(&r).unwrap();
    for key in [
        "attributes",
        "prepayment",
        "postpayment",
        "counter_provision",
        "cashier",
        "buyer_details",
    ] {
        assert!(!text.contains(key), "{key} in {text}");
    }
    // Defaults given explicitly are the same request.
    let explicit = seed_with(
        "p-1",
        &[
            ("/positions/0/paymentMethod", json!(4)),
            ("/positions/0/paymentObject", json!(1)),
            ("/positions/0/measurementUnit", json!(0)),
            ("/prepaymentSum", json!(0)),
        ],
    );
    let (code, answer) = rig.post("formReceipt", &explicit).await;
    assert_eq!(code, 200, "{answer}");
}

#[tokio::test]
async fn every_new_field_is_in_the_fingerprint() {
    let rig = rig();
    let (code, _) = rig.post("formReceipt", &seed("f-1")).await;
    assert_eq!(code, 200);
    let changes: Vec<(&str, Value)> = vec![
        ("/positions/0/paymentMethod", json!(3)),
        ("/positions/0/paymentObject", json!(4)),
        ("/positions/0/measurementUnit", json!(41)),
        (
            "/positions/0/fractionalQuantity",
            json!({"numerator": 1, "denominator": 2}),
        ),
        ("/cashierName", json!("Петров П.")),
        ("/buyerName", json!("Сидоров")),
        ("/buyerInn", json!("7707083893")),
    ];
    for (at, value) in changes {
        let (code, answer) = rig
            .post("formReceipt", &seed_with("f-1", &[(at, value.clone())]))
            .await;
        assert_eq!(code, 422, "{at}={value}: {answer}");
    }
    let agent_and_supplier = seed_with(
        "f-1",
        &[
            ("/positions/0/agent", agent()),
            ("/positions/0/supplier", supplier()),
        ],
    );
    assert_eq!(rig.post("formReceipt", &agent_and_supplier).await.0, 422);
    let other_payments = seed_with(
        "f-1",
        &[
            ("/cashPaymentSum", json!(150)),
            ("/prepaymentSum", json!(50)),
        ],
    );
    assert_eq!(rig.post("formReceipt", &other_payments).await.0, 422);
}

#[tokio::test]
async fn bad_values_are_a_400_naming_the_field() {
    let rig = rig();
    let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
        (
            vec![("/positions/0/paymentMethod", json!(0))],
            "positions[0].paymentMethod",
        ),
        (
            vec![("/positions/0/paymentMethod", json!(8))],
            "positions[0].paymentMethod",
        ),
        (
            vec![("/positions/0/paymentMethod", json!("4"))],
            "positions[0].paymentMethod",
        ),
        (
            vec![("/positions/1/paymentObject", json!(28))],
            "positions[1].paymentObject",
        ),
        (
            vec![("/positions/1/paymentObject", json!(34))],
            "positions[1].paymentObject",
        ),
        (
            vec![("/positions/1/paymentObject", json!(1.5))],
            "positions[1].paymentObject",
        ),
        (
            vec![("/positions/0/measurementUnit", json!(13))],
            "positions[0].measurementUnit",
        ),
        (
            vec![("/positions/0/measurementUnit", json!(-1))],
            "positions[0].measurementUnit",
        ),
        (
            vec![(
                "/positions/0/fractionalQuantity",
                json!({"numerator": 0, "denominator": 4}),
            )],
            "positions[0].fractionalQuantity.numerator",
        ),
        (
            vec![(
                "/positions/0/fractionalQuantity",
                json!({"numerator": 4, "denominator": 4}),
            )],
            "positions[0].fractionalQuantity.denominator",
        ),
        (
            vec![("/positions/0/fractionalQuantity", json!({"numerator": 1}))],
            "positions[0].fractionalQuantity.denominator",
        ),
        (
            vec![("/positions/0/fractionalQuantity", json!("1/4"))],
            "positions[0].fractionalQuantity",
        ),
        (
            vec![
                (
                    "/positions/0/fractionalQuantity",
                    json!({"numerator": 1, "denominator": 4}),
                ),
                ("/positions/0/measurementUnit", json!(11)),
            ],
            "positions[0].measurementUnit",
        ),
        (
            vec![
                (
                    "/positions/0/fractionalQuantity",
                    json!({"numerator": 1, "denominator": 4}),
                ),
                ("/positions/0/quantity", json!(0.5)),
                ("/positions/0/price", json!(420)),
            ],
            "positions[0].quantity",
        ),
        (
            vec![("/positions/0/agent", agent())],
            "positions[0].supplier",
        ),
        (
            vec![("/positions/0/supplier", supplier())],
            "positions[0].agent",
        ),
        (
            vec![
                ("/positions/0/agent", json!({"type": 3})),
                ("/positions/0/supplier", supplier()),
            ],
            "positions[0].agent.type",
        ),
        (
            vec![("/positions/0/agent", json!({"phone": "+79123456789"}))],
            "positions[0].agent.type",
        ),
        (
            vec![
                ("/positions/0/agent", json!({"type": 32, "phone": "123"})),
                ("/positions/0/supplier", supplier()),
            ],
            "positions[0].agent.phone",
        ),
        (
            vec![
                ("/positions/0/agent", agent()),
                (
                    "/positions/0/supplier",
                    json!({"name": "ООО «Ромашка»", "inn": "7707083893"}),
                ),
            ],
            "positions[0].supplier.name",
        ),
        (
            vec![
                ("/positions/0/agent", agent()),
                (
                    "/positions/0/supplier",
                    json!({"name": "ООО Ромашка", "inn": "7707083894"}),
                ),
            ],
            "positions[0].supplier.inn",
        ),
        (
            vec![
                ("/positions/0/agent", agent()),
                ("/positions/0/supplier", json!({"name": "ООО Ромашка"})),
            ],
            "positions[0].supplier.inn",
        ),
        (
            vec![
                ("/positions/0/agent", agent()),
                (
                    "/positions/0/supplier",
                    json!({"name": "ООО Ромашка", "inn": "7707083893", "phone": "x"}),
                ),
            ],
            "positions[0].supplier.phone",
        ),
        (vec![("/cashierName", json!("Кассир 🙂"))], "cashierName"),
        (vec![("/cashierName", json!("я".repeat(65)))], "cashierName"),
        (vec![("/cashierName", json!(5))], "cashierName"),
        (vec![("/cashierInn", json!("500100732259"))], "cashierInn"),
        (
            vec![
                ("/cashierName", json!("Петров")),
                ("/cashierInn", json!("7707083893")),
            ],
            "cashierInn",
        ),
        (vec![("/buyerName", json!("я".repeat(129)))], "buyerName"),
        (vec![("/buyerInn", json!("12345"))], "buyerInn"),
        (vec![("/buyerInn", json!("500100732258"))], "buyerInn"),
        (vec![("/prepaymentSum", json!(-1))], "prepaymentSum"),
        (vec![("/postpaymentSum", json!(0.001))], "postpaymentSum"),
        (
            vec![("/counterProvisionSum", json!("5"))],
            "counterProvisionSum",
        ),
        (vec![("/prepaymentSum", json!(1))], "totalSum"),
    ];
    for (i, (changes, field)) in cases.iter().enumerate() {
        let (code, answer) = rig.post("formReceipt", &seed_with("b-1", changes)).await;
        assert_eq!(code, 400, "case {i} ({field}): {answer}");
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
    assert_eq!(rig.status("b-1").await.0, 404, "nothing was queued");
    assert!(rig.store.depth().unwrap().is_empty());
}
