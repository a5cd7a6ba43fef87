//! An operation that cannot go through ends, and says why, instead of looping: a rate the
//! register has no tax group for fails at once with the rate named (nothing is printed, no
//! receipt is opened), the queue behind it moves, and a re-post meets the same
//! answer without a document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{receipt_with_total, GatewayOptions, Rig};

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_without_a_tax_group_fails_at_once_and_the_queue_moves() {
    // Only API VAT code 1 has a group: the usual test receipt (code 3) cannot be made. The
    // deadline is long, so an operation that waited instead of failing would not settle.
    let rig = Rig::start(GatewayOptions {
        deadline_seconds: 600,
        extra_toml: "\n[registers.taxes]\n\"1\" = 1\n".into(),
    });
    let (code, body) = rig
        .pos
        .post("formReceipt", &receipt_with_total("no-group", 123))
        .await;
    assert_eq!(code, 200, "{body}");
    let failed = rig.pos.settled("no-group").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorCode"], "NO_TAX_GROUP", "{failed}");
    let message = failed["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("ставки"),
        "the reason names the rate: {failed}"
    );

    // A re-post is taken again and meets the same answer; still no document.
    rig.pos
        .post("formReceipt", &receipt_with_total("no-group", 123))
        .await;
    let again = rig.pos.settled("no-group").await;
    assert_eq!(again["errorCode"], "NO_TAX_GROUP", "{again}");

    // The queue behind it is not held: a cash deposit goes through.
    let (code, body) = rig
        .pos
        .post(
            "depositCash",
            &serde_json::json!({"cashboxId": support::CASHBOX, "amount": 5, "operationId": "behind"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(rig.pos.settled("behind").await["status"], 2);

    let receipts = rig
        .register
        .archive()
        .into_iter()
        .filter(|d| d["doc_type"] == 3)
        .count();
    assert_eq!(receipts, 0, "no receipt was made");
}
