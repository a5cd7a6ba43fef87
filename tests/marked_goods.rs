//! End to end: a position with a marking code, posted to the built gateway, is checked, accepted
//! and bound on the virtual register (FFD 1.2 addendum §4), so its product-code tags land on
//! that item in the FN archive; a code the marking server calls invalid (set on the emulator's
//! control socket) fails the receipt with status 3 naming the position, and no receipt is made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{json_bytes as bytes, seed_receipt, GatewayOptions, Rig};

const MILK: &str = "0104601234567890215abcDE\u{1d}93ABCD";

/// The seed receipt with one bottle of milk carrying `code`: 70.00 + 2 × 30.00.
fn marked(id: &str, code: &str) -> Value {
    let mut body = seed_receipt(id);
    body["positions"][0]["quantity"] = json!(1);
    body["positions"][0]["paymentObject"] = json!(33);
    body["positions"][0]["markingCode"] = json!(code);
    body["cashPaymentSum"] = json!(60);
    body["totalSum"] = json!(130);
    body
}

fn receipts(archive: &[Value]) -> Vec<&Value> {
    archive.iter().filter(|d| d["doc_type"] == 3).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_marked_position_is_checked_and_bound_through_the_gateway() {
    let rig = Rig::start(GatewayOptions::default());
    let (code, answer) = rig.pos.post("formReceipt", &marked("mark-1", MILK)).await;
    assert_eq!(code, 200, "{answer}");
    let done = rig.pos.settled("mark-1").await;
    assert_eq!(done["status"], 2, "{done}");
    // checkStatus shows each position's check (tag 2106 and its bits).
    assert_eq!(
        done["positions"],
        json!([
            {"markingCheck": {"tag2106": 15, "checked": true, "valid": true,
                "statusReceived": true, "statusCorrect": true, "autonomous": false}},
            {"markingCheck": null}
        ]),
        "{done}"
    );

    let archive = rig.register.archive();
    let docs = receipts(&archive);
    let items = docs[0]["items"].as_array().unwrap();
    let tag = |item: &Value, tag: u64| -> Option<Vec<u8>> {
        item["tlvs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == tag)
            .map(|t| bytes(&t["value"]))
    };
    assert_eq!(tag(&items[0], 2000), Some(MILK.as_bytes().to_vec()));
    assert_eq!(tag(&items[0], 2003), Some(vec![1]), "piece sold");
    assert_eq!(tag(&items[0], 2106), Some(vec![0x0F]), "checked and valid");
    assert_eq!(items[0]["payment_subject"], 33);
    assert_eq!(tag(&items[1], 2000), None);

    // The marking server calls the code invalid: the receipt fails, naming the position.
    let reply = rig
        .register
        .control("marking 0104601234567890215abcDE<GS>93ABCD invalid");
    assert_eq!(reply.trim(), "ok");
    let (code, answer) = rig.pos.post("formReceipt", &marked("mark-2", MILK)).await;
    assert_eq!(code, 200, "{answer}");
    let failed = rig.pos.settled("mark-2").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorCode"], "MARKING_CODE_INVALID", "{failed}");
    let message = failed["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("Позиция 1"), "{failed}");
    assert_eq!(
        receipts(&rig.register.archive()).len(),
        1,
        "no second receipt was made"
    );
}
