//! End to end: the built binary as gateway, the built binary as a virtual register on a pty,
//! and a POS talking HTTP. The seed's example receipt reaches status 2 with the FN's own
//! fiscal data; cash in and out; idempotent replay; the error statuses; a register with its
//! cover open fails the operation with the Russian reason after the deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{seed_receipt, token, GatewayOptions, Rig, CASHBOX};

fn receipt_docs(archive: &[Value]) -> Vec<&Value> {
    archive.iter().filter(|d| d["doc_type"] == 3).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_example_reaches_status_2_with_the_fn_archive_fiscal_data() {
    let rig = Rig::start(GatewayOptions::default());
    let (code, first) = rig.pos.post("formReceipt", &seed_receipt("12854F")).await;
    assert_eq!(code, 200, "{first}");
    assert!(first["status"] == 1 || first["status"] == 2, "{first}");
    let done = rig.pos.settled("12854F").await;
    assert_eq!(done["status"], 2, "{done}");
    assert_eq!(done["handlerCashboxId"], CASHBOX);
    assert!(done["errorMessage"].is_null());
    let fp = &done["fiscalParams"];

    let archive = rig.register.archive();
    let receipts = receipt_docs(&archive);
    assert_eq!(receipts.len(), 1, "one receipt in the FN: {archive:?}");
    let doc = receipts[0];
    assert_eq!(fp["fiscalDocumentNumber"], doc["fd"]);
    assert_eq!(
        fp["fiscalDocumentSign"],
        format!("{:010}", doc["fiscal_sign"].as_u64().unwrap())
    );
    assert_eq!(fp["shiftNumber"], doc["shift_number"]);
    assert_eq!(fp["fiscalReceiptNumber"], doc["receipt_number_in_shift"]);
    assert_eq!(doc["total"], 27000);
    let device: serde_json::Value =
        serde_json::from_str(rig.register.control("status").trim()).unwrap();
    assert_eq!(
        fp["fnNumber"].as_str(),
        device["fn_number"].as_str().map(str::trim)
    );
    assert_eq!(
        fp["registrationNumber"].as_str(),
        device["rnm"].as_str().map(str::trim)
    );
    // The FD's own time (register clock, +03:00 in this configuration) as UTC.
    let local: chrono::NaiveDateTime = doc["date_time"].as_str().unwrap().parse().unwrap();
    let utc = (local - chrono::Duration::hours(3)).and_utc();
    let reported: chrono::DateTime<chrono::Utc> = fp["fiscalDocumentDateTimeUtc"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The register reports an FD's time to the minute (§7.8).
    assert_eq!(
        reported.timestamp(),
        utc.timestamp() - utc.timestamp().rem_euclid(60),
        "{fp} vs {}",
        doc["date_time"]
    );
    assert_eq!(fp["notPrinted"], false);
    // The shift was opened on demand: an FD of type 2 precedes the receipt.
    assert!(archive.iter().any(|d| d["doc_type"] == 2));
    // The paper tape shows what the customer got.
    let tape = rig.register.tape();
    assert!(tape.contains("Молоко коровье"), "tape: {tape}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deposit_and_withdraw_cash() {
    let rig = Rig::start(GatewayOptions::default());
    let (code, body) = rig
        .pos
        .post(
            "depositCash",
            &json!({"cashboxId": CASHBOX, "amount": 500, "operationId": "in-1"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let done = rig.pos.settled("in-1").await;
    assert_eq!(done["status"], 2, "{done}");
    assert!(
        done["cashParams"]["documentNumber"].as_u64().unwrap() > 0,
        "{done}"
    );

    let (code, body) = rig
        .pos
        .post(
            "withdrawCash",
            &json!({"cashboxId": CASHBOX, "amount": 200.5, "operationId": "out-1"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let done = rig.pos.settled("out-1").await;
    assert_eq!(done["status"], 2, "{done}");

    // More than the drawer holds: the register refuses, the operation fails with the reason.
    let (code, _) = rig
        .pos
        .post(
            "withdrawCash",
            &json!({"cashboxId": CASHBOX, "amount": 100000, "operationId": "out-2"}),
        )
        .await;
    assert_eq!(code, 200);
    let failed = rig.pos.settled("out-2").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert!(failed["errorCode"].is_string());
    assert!(failed["errorMessage"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_is_idempotent_and_a_changed_payload_is_422() {
    let rig = Rig::start(GatewayOptions::default());
    let body = seed_receipt("replay-1");
    let (code, _) = rig.pos.post("formReceipt", &body).await;
    assert_eq!(code, 200);
    let done = rig.pos.settled("replay-1").await;
    assert_eq!(done["status"], 2);
    for _ in 0..3 {
        let (code, again) = rig.pos.post("formReceipt", &body).await;
        assert_eq!(code, 200);
        assert_eq!(again, done, "a replay answers with the stored outcome");
    }
    let mut changed = body.clone();
    changed["buyerEmail"] = json!("someone-else@example.com");
    let (code, err) = rig.pos.post("formReceipt", &changed).await;
    assert_eq!(code, 422, "{err}");
    assert!(
        err["errorMessage"].as_str().unwrap().contains("replay-1"),
        "{err}"
    );
    assert_eq!(
        receipt_docs(&rig.register.archive()).len(),
        1,
        "no second document"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_validation_and_routing_errors() {
    let rig = Rig::start(GatewayOptions::default());
    let url = format!("http://{}/v1.0/operations/formReceipt", rig.gateway.base);
    let http = &rig.pos.http;
    // 401: no token, a token signed with another secret.
    let r = http
        .post(&url)
        .json(&seed_receipt("a-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let bad = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "x", "exp": chrono::Utc::now().timestamp() + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    let r = http
        .post(&url)
        .bearer_auth(bad)
        .json(&seed_receipt("a-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(body["errorMessage"].is_string(), "{body}");
    // 403: a token limited to another cashbox.
    let narrow = token(json!({"cashboxes": ["c0264f46-4bfd-4953-bfbe-2e3cd1e0a4ad"]}));
    let r = http
        .post(&url)
        .bearer_auth(narrow)
        .json(&seed_receipt("a-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // 400: totals that do not add up name the field.
    let mut wrong = seed_receipt("a-2");
    wrong["totalSum"] = json!(280);
    let (code, body) = rig.pos.post("formReceipt", &wrong).await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("totalSum"),
        "{body}"
    );
    // 400: ЕНВД was abolished.
    let mut envd = seed_receipt("a-3");
    envd["taxationSystem"] = json!(4);
    let (code, body) = rig.pos.post("formReceipt", &envd).await;
    assert_eq!(code, 400);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("taxationSystem"),
        "{body}"
    );
    // 400: an unknown cashbox says which.
    let mut unknown = seed_receipt("a-4");
    unknown["cashboxId"] = json!("c0264f46-4bfd-4953-bfbe-2e3cd1e0a4ad");
    let (code, body) = rig.pos.post("formReceipt", &unknown).await;
    assert_eq!(code, 400);
    assert!(
        body["errorMessage"].as_str().unwrap().contains("c0264f46"),
        "{body}"
    );
    // 404 for an operation nobody submitted; nothing of the above was queued.
    for id in ["a-1", "a-2", "a-3", "a-4"] {
        let (code, _) = rig.pos.status(id, 0).await;
        assert_eq!(code, 404, "{id} must not have been queued");
    }
    assert!(receipt_docs(&rig.register.archive()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn cover_open_fails_the_operation_with_the_reason_after_the_deadline() {
    let rig = Rig::start(GatewayOptions {
        deadline_seconds: 2,
        ..Default::default()
    });
    // A first receipt so the shift is open and the register known to work.
    rig.pos.post("formReceipt", &seed_receipt("c-0")).await;
    assert_eq!(rig.pos.settled("c-0").await["status"], 2);
    rig.register.control("cover open");
    let (code, _) = rig.pos.post("formReceipt", &seed_receipt("c-1")).await;
    assert_eq!(code, 200);
    let failed = rig.pos.settled("c-1").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorMessage"], "Открыта крышка.");
    assert_eq!(failed["errorCode"], "COVER_OPEN");
    assert!(failed["fiscalParams"].is_null());
    // Cover closed: the same request is queued again and goes through, once.
    rig.register.control("cover close");
    let (code, _) = rig.pos.post("formReceipt", &seed_receipt("c-1")).await;
    assert_eq!(code, 200);
    assert_eq!(rig.pos.settled("c-1").await["status"], 2);
    assert_eq!(receipt_docs(&rig.register.archive()).len(), 2);
}
