//! An operation that cannot go through ends, and says why, instead of looping: a rate the
//! register has no tax group for fails at once with the rate named (nothing is printed, no
//! receipt is opened), the queue behind it moves, and a re-post meets the same
//! answer without a document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{receipt_with_total, GatewayOptions, Rig};

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_without_a_tax_group_fails_at_once_and_the_queue_moves() {
    // The deadline is long, so an operation that waited instead of failing would not settle.
    let mut rig = Rig::start(GatewayOptions::default());
    rig.pos
        .post("formReceipt", &receipt_with_total("warm", 100))
        .await;
    assert_eq!(rig.pos.settled("warm").await["status"], 2);
    // A receipt is accepted and waits for the cover; meanwhile the technician configures its
    // rate (API code 3, 22 %) to row 1, which on this register is 20 % (the pre-2026 layout),
    // and the service restarts: the register's table 6 contradicts the configuration.
    rig.register.control("cover open");
    let (code, body) = rig
        .pos
        .post("formReceipt", &receipt_with_total("no-group", 123))
        .await;
    assert_eq!(code, 200, "{body}");
    let config = rig.gateway.config.clone();
    let text = std::fs::read_to_string(&config).unwrap() + "\n[registers.taxes]\n\"3\" = 1\n";
    std::fs::write(&config, text).unwrap();
    rig.gateway.restart();
    rig.pos = support::Pos::new(&rig.gateway.base);
    rig.register.control("cover close");

    let failed = rig.pos.settled("no-group").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorCode"], "NO_TAX_GROUP", "{failed}");
    let message = failed["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("НДС 22%") && message.contains("20.00 %"),
        "the reason names the rate: {failed}"
    );

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

    let receipts: Vec<_> = rig
        .register
        .archive()
        .into_iter()
        .filter(|d| d["doc_type"] == 3 && d["total"] == 123)
        .collect();
    assert!(receipts.is_empty(), "no receipt was made");
}

/// A queue that does not move is visible without a token: `/health` gives the age of the oldest
/// unfinished operation per register, `/metrics` the same as a gauge, the status page beside
/// the queue length; all go back to nothing once it moves.
#[tokio::test(flavor = "multi_thread")]
async fn a_queue_that_does_not_move_shows_its_oldest_operation() {
    let rig = Rig::start(GatewayOptions::default());
    let health = || async {
        let body: serde_json::Value = reqwest::get(format!("http://{}/health", rig.pos.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["registers"][0].clone()
    };
    let metrics = || async {
        reqwest::get(format!("http://{}/metrics", rig.pos.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(health().await["oldestPendingSeconds"].is_null());

    rig.register.control("cover open");
    rig.pos
        .post("formReceipt", &receipt_with_total("stuck", 150))
        .await;
    support::until("the receipt waits for the cover", || async {
        let (_, s) = rig.pos.status("stuck", 0).await;
        (s["errorCode"] == "COVER_OPEN").then_some(())
    })
    .await;
    let seen = health().await;
    assert!(seen["oldestPendingSeconds"].as_u64().is_some(), "{seen}");
    let m = metrics().await;
    assert!(
        m.contains(&format!(
            "fiscal_oldest_pending_seconds{{register=\"{}\"}}",
            support::CASHBOX
        )),
        "{m}"
    );
    let page = reqwest::get(format!("http://{}/", rig.pos.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("старейшая ждёт"), "{page}");

    rig.register.control("cover close");
    assert_eq!(rig.pos.settled("stuck").await["status"], 2);
    assert!(health().await["oldestPendingSeconds"].is_null());
    assert!(metrics().await.contains(&format!(
        "fiscal_oldest_pending_seconds{{register=\"{}\"}} 0",
        support::CASHBOX
    )));
}
