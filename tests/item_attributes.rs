//! End to end: a receipt with FFD 1.2 item attributes, its own cashier, a buyer and payments
//! beyond cash and card, posted to the built gateway, lands in the virtual register's FN
//! archive where the addendum (§3) says; the receipt's cashier wins over the configured one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::{json_bytes as bytes, seed_receipt, GatewayOptions, Rig};

#[tokio::test(flavor = "multi_thread")]
async fn attributes_reach_the_fn_through_the_gateway() {
    let rig = Rig::start(GatewayOptions::default());
    let mut body = seed_receipt("attr-1");
    body["positions"][0]["paymentMethod"] = json!(1);
    body["positions"][0]["paymentObject"] = json!(10);
    body["positions"][1]["measurementUnit"] = json!(11);
    body["positions"][1]["agent"] = json!({"type": 32});
    body["positions"][1]["supplier"] = json!({"name": "Ромашка", "inn": "7707083893"});
    body["cashierName"] = json!("Петров");
    body["buyerInn"] = json!("7707083893");
    body["cashPaymentSum"] = json!(100);
    body["cashlessPaymentSum"] = json!(70);
    body["postpaymentSum"] = json!(100);
    let (code, first) = rig.pos.post("formReceipt", &body).await;
    assert_eq!(code, 200, "{first}");
    let done = rig.pos.settled("attr-1").await;
    assert_eq!(done["status"], 2, "{done}");

    let archive = rig.register.archive();
    let doc = archive.iter().find(|d| d["doc_type"] == 3).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert_eq!(
        (&items[0]["payment_method"], &items[0]["payment_subject"]),
        (&json!(1), &json!(10))
    );
    assert_eq!(
        (&items[1]["payment_method"], &items[1]["payment_subject"]),
        (&json!(4), &json!(1))
    );
    let item_tags: Vec<(u64, Vec<u8>)> = items[1]["tlvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tag"].as_u64().unwrap(), bytes(&t["value"])))
        .collect();
    assert_eq!(
        item_tags,
        vec![
            (2108, vec![0x0B]),
            (1222, vec![0x20]),
            // 1224 {1225 "Ромашка" in CP866}
            (
                1224,
                vec![0xC9, 0x04, 0x07, 0x00, 0x90, 0xAE, 0xAC, 0xA0, 0xE8, 0xAA, 0xA0]
            ),
            (1226, b"7707083893  ".to_vec()),
        ]
    );
    let tags: Vec<(u64, Vec<u8>)> = doc["tlvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tag"].as_u64().unwrap(), bytes(&t["value"])))
        .collect();
    // "Петров" in CP866, not the configured "Тестова Т.Т."; no configured INN with it.
    assert!(
        tags.contains(&(1021, vec![0x8F, 0xA5, 0xE2, 0xE0, 0xAE, 0xA2])),
        "{tags:?}"
    );
    assert!(!tags.iter().any(|(t, _)| *t == 1203), "{tags:?}");
    let mut buyer = vec![0xCC, 0x04, 0x0C, 0x00];
    buyer.extend_from_slice(b"7707083893  ");
    assert!(tags.contains(&(1256, buyer)), "{tags:?}");
    let payments: Vec<u64> = doc["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert_eq!(
        (payments[0], payments[1], payments[14]),
        (10_000, 7_000, 10_000)
    );
}
