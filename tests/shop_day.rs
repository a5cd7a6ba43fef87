//! A whole shop day through the API against the virtual register on a pty: every shift,
//! report, correction, copy and text endpoint leaves exactly its documents in the FN (none
//! for the prints), the register's facts and archive are readable, a power cut after a shift
//! report's or a correction's commit is settled from the FN, and a register halted on an
//! unsettleable outcome goes on only as far as an operator's word checked against the FN.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{receipt_with_total, token, until, Pos, Rig, CASHBOX};

const OPEN_SHIFT: u64 = 2;
const RECEIPT: u64 = 3;
const CLOSE_SHIFT: u64 = 5;
const CORRECTION: u64 = 31;

fn of_type(archive: &[Value], doc_type: u64) -> Vec<&Value> {
    archive
        .iter()
        .filter(|d| d["doc_type"] == doc_type)
        .collect()
}

/// The same client with an admin token.
fn admin(pos: &Pos) -> Pos {
    Pos {
        token: token(json!({"scope": "admin", "sub": "technician-7"})),
        ..pos.clone()
    }
}

async fn get(pos: &Pos, path: &str) -> (u16, Value) {
    let r = pos
        .http
        .get(format!("http://{}{path}", pos.base))
        .bearer_auth(&pos.token)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn post_path(pos: &Pos, path: &str, body: &Value) -> (u16, Value) {
    let r = pos
        .http
        .post(format!("http://{}{path}", pos.base))
        .bearer_auth(&pos.token)
        .json(body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

/// Posts `body` to `/v1.0/operations/{op}` and waits for its final status.
async fn done(pos: &Pos, op: &str, body: Value) -> Value {
    let id = body["operationId"].as_str().unwrap().to_string();
    let (code, answer) = pos.post(op, &body).await;
    assert_eq!(code, 200, "{op}: {answer}");
    let settled = pos.settled(&id).await;
    assert_eq!(settled["status"], 2, "{op} {id}: {settled}");
    settled
}

fn correction(id: &str, kopecks: u64) -> Value {
    let mut body = receipt_with_total(id, kopecks);
    body["correctionType"] = json!("byOrder");
    body["correctionBaseDate"] = json!("2026-11-20");
    body["correctionBaseNumber"] = json!("ИФНС-77/15");
    body
}

fn tags(doc: &Value) -> Vec<u64> {
    doc["tlvs"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["tag"].as_u64()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shop_day_endpoint_leaves_exactly_its_documents_in_the_fn() {
    let rig = Rig::with_deadline(600);
    let pos = &rig.pos;

    // Open the shift: its report is the FN's document, and checkStatus carries it.
    let opened = done(
        pos,
        "openShift",
        json!({"operationId": "day-open", "cashierName": "Иванова И.И."}),
    )
    .await;
    let archive = rig.register.archive();
    let report = of_type(&archive, OPEN_SHIFT);
    assert_eq!(report.len(), 1, "{archive:?}");
    assert_eq!(
        opened["fiscalParams"]["fiscalDocumentNumber"],
        report[0]["fd"]
    );
    assert_eq!(
        opened["fiscalParams"]["fiscalDocumentSign"],
        format!("{:010}", report[0]["fiscal_sign"].as_u64().unwrap())
    );
    assert_eq!(opened["shiftParams"]["made"], true, "{opened}");
    // Opening an open shift: its facts, no new document.
    let again = done(pos, "openShift", json!({"operationId": "day-open-again"})).await;
    assert_eq!(again["shiftParams"]["made"], false, "{again}");
    assert_eq!(
        again["shiftParams"]["shiftNumber"],
        opened["shiftParams"]["shiftNumber"]
    );

    // A sale, then an X report, a copy of the sale, a copy of the last receipt, a text slip:
    // none of the prints is a fiscal document.
    let sale = done(pos, "formReceipt", receipt_with_total("day-sale", 12_345)).await;
    let sale_fd = sale["fiscalParams"]["fiscalDocumentNumber"]
        .as_u64()
        .unwrap();
    let sale_sign = sale["fiscalParams"]["fiscalDocumentSign"]
        .as_str()
        .unwrap()
        .to_string();
    let documents = rig.register.archive().len();
    done(pos, "xReport", json!({"operationId": "day-x"})).await;
    let copy = done(
        pos,
        "printCopy",
        json!({"operationId": "day-copy", "fiscalDocumentNumber": sale_fd}),
    )
    .await;
    assert_eq!(
        copy["printParams"]["copiedFiscalDocumentNumber"], sale_fd,
        "{copy}"
    );
    let last = done(pos, "printCopy", json!({"operationId": "day-copy-last"})).await;
    assert_eq!(
        last["printParams"]["copiedFiscalDocumentNumber"], sale_fd,
        "{last}"
    );
    done(pos, "printText", json!({"operationId": "day-text", "lines": ["Спасибо за покупку!", "Акция до пятницы"], "cut": true})).await;
    assert_eq!(
        rig.register.archive().len(),
        documents,
        "no FD for X, copies, text"
    );
    let paper = rig.register.tape();
    assert!(paper.contains("КОПИЯ"), "{paper}");
    assert!(paper.contains(&sale_fd.to_string()), "{paper}");
    assert!(
        paper.contains(sale_sign.trim_start_matches('0')),
        "the copy shows the fiscal sign: {paper}"
    );
    assert!(paper.contains("Акция до пятницы"), "{paper}");

    // A text line wider than the tape is refused, naming the line; nothing is queued.
    let (code, body) = pos
        .post(
            "printText",
            &json!({"operationId": "day-wide", "lines": ["x".repeat(200)]}),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["field"], "lines[0]", "{body}");

    // A correction receipt by the tax authority's order: form 31 with 1173 and 1174.
    let fixed = done(
        pos,
        "formCorrectionReceipt",
        correction("day-correction", 5_000),
    )
    .await;
    let archive = rig.register.archive();
    let corrections = of_type(&archive, CORRECTION);
    assert_eq!(corrections.len(), 1, "{archive:?}");
    assert_eq!(
        fixed["fiscalParams"]["fiscalDocumentNumber"],
        corrections[0]["fd"]
    );
    let found = tags(corrections[0]);
    assert!(found.contains(&1173) && found.contains(&1174), "{found:?}");

    // The register's facts and its archive, as the POS or an accountant reads them; the
    // worker reads them again once its queue is empty.
    let facts = until("the facts of the day", || async {
        let (code, boxes) = get(pos, "/v1.0/cashboxes").await;
        assert_eq!(code, 200, "{boxes}");
        let facts = boxes["cashboxes"][0].clone();
        let cash = facts["cashInDrawer"].as_f64().unwrap_or(0.0);
        let receipts = facts["shift"]["receipts"].as_u64().unwrap_or(0);
        (cash >= 123.45 && receipts >= 1 && facts["shift"]["open"] == true).then_some(facts)
    })
    .await;
    let facts = &facts;
    assert_eq!(facts["cashboxId"], CASHBOX);
    assert_eq!(facts["ready"], true, "{facts}");
    assert!(
        facts["fnNumber"].as_str().is_some_and(|s| !s.is_empty()),
        "{facts}"
    );
    let (code, doc) = get(
        pos,
        &format!("/v1.0/cashboxes/{CASHBOX}/documents/{sale_fd}"),
    )
    .await;
    assert_eq!(code, 200, "{doc}");
    assert_eq!(doc["documentType"], RECEIPT);
    assert_eq!(doc["fiscalDocumentSign"], sale_sign.as_str());
    assert_eq!(doc["operationType"], 1);
    let (code, _) = get(pos, &format!("/v1.0/cashboxes/{CASHBOX}/documents/9999")).await;
    assert_eq!(code, 404);

    // A token restricted to another register sees none of this one.
    let stranger = Pos {
        token: token(json!({"cashboxes": ["00000000-0000-4000-8000-00000000dead"]})),
        ..pos.clone()
    };
    let (code, boxes) = get(&stranger, "/v1.0/cashboxes").await;
    assert_eq!(code, 200);
    assert_eq!(boxes["cashboxes"], json!([]), "{boxes}");
    // The admin routes are closed to a token without the admin scope.
    let (code, _) = get(pos, "/v1.0/admin/operations?state=unsettled").await;
    assert_eq!(code, 403);

    // Close the shift: the Z report; closing a closed shift makes nothing.
    let closed = done(pos, "closeShift", json!({"operationId": "day-close"})).await;
    let archive = rig.register.archive();
    let z = of_type(&archive, CLOSE_SHIFT);
    assert_eq!(z.len(), 1);
    assert_eq!(closed["fiscalParams"]["fiscalDocumentNumber"], z[0]["fd"]);
    let again = done(pos, "closeShift", json!({"operationId": "day-close-again"})).await;
    assert_eq!(again["shiftParams"]["made"], false, "{again}");
    assert_eq!(rig.register.archive().len(), archive.len());
    // The whole day: registration, opening, sale, correction, Z.
    let types: Vec<u64> = archive
        .iter()
        .map(|d| d["doc_type"].as_u64().unwrap())
        .collect();
    assert_eq!(types, vec![1, OPEN_SHIFT, RECEIPT, CORRECTION, CLOSE_SHIFT]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_power_cut_after_commit_of_a_shift_report_or_a_correction_is_settled_from_the_fn() {
    let rig = Rig::with_deadline(600);
    let pos = &rig.pos;
    let cases: [(&str, &str, Value, u64); 3] = [
        (
            "E0",
            "openShift",
            json!({"operationId": "cut-open"}),
            OPEN_SHIFT,
        ),
        (
            "FF45",
            "formCorrectionReceipt",
            correction("cut-correction", 7_700),
            CORRECTION,
        ),
        (
            "41",
            "closeShift",
            json!({"operationId": "cut-close"}),
            CLOSE_SHIFT,
        ),
    ];
    for (command, op, body, doc_type) in cases {
        assert_eq!(
            rig.register
                .control(&format!("power-cut after-commit {command}"))
                .trim(),
            "ok"
        );
        let answer = done(pos, op, body).await;
        let archive = rig.register.archive();
        let made = of_type(&archive, doc_type);
        assert_eq!(made.len(), 1, "{op}: one document: {archive:?}");
        assert_eq!(
            answer["fiscalParams"]["fiscalDocumentNumber"], made[0]["fd"],
            "{op}: {answer}"
        );
        let status: Value = serde_json::from_str(&rig.register.control("status")).unwrap();
        assert!(
            status["armed_power_cut"].is_null(),
            "{op}: the cut struck: {status}"
        );
    }
}

/// Halts the register on a receipt (see the cashbox tests): the receipt's close is cut
/// `point`, the power stays off, a Z report is made at the keyboard (after cancelling the
/// open receipt when it never closed), and the power comes back.
async fn halt_on(rig: &Rig, point: &str, id: &str, kopecks: u64) {
    let pos = &rig.pos;
    done(
        pos,
        "formReceipt",
        receipt_with_total(&format!("{id}-warm"), 100),
    )
    .await;
    assert_eq!(
        rig.register
            .control(&format!("power-cut {point} FF45 stay-off"))
            .trim(),
        "ok"
    );
    let (code, _) = pos
        .post("formReceipt", &receipt_with_total(id, kopecks))
        .await;
    assert_eq!(code, 200);
    until("the cut struck", || async {
        let status: Value = serde_json::from_str(&rig.register.control("status")).ok()?;
        status["armed_power_cut"].is_null().then_some(())
    })
    .await;
    if point == "before-execution" {
        assert_eq!(rig.register.control("keyboard cancel-receipt").trim(), "ok");
    }
    assert_eq!(rig.register.control("keyboard z-report").trim(), "ok");
    assert_eq!(rig.register.control("power on").trim(), "ok");
}

async fn held(admin: &Pos) -> Value {
    until("the register halts", || async {
        let (code, list) = get(admin, "/v1.0/admin/operations?state=unsettled").await;
        assert_eq!(code, 200, "{list}");
        let register = list["registers"][0].clone();
        (!register["halted"].is_null()).then_some(register)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_halted_register_goes_on_only_as_far_as_the_fn_proves_an_operators_word() {
    let rig = Rig::with_deadline(600);
    let pos = &rig.pos;
    let admin = admin(pos);

    // Done: the receipt reached the FN before the cut; the keyboard Z came after it.
    halt_on(&rig, "after-commit", "halt-done", 4_200).await;
    let register = held(&admin).await;
    assert_eq!(register["halted"]["operationId"], "halt-done", "{register}");
    assert_eq!(
        register["operations"][0]["operationId"], "halt-done",
        "{register}"
    );
    let (code, _) = pos
        .post("formReceipt", &receipt_with_total("behind-1", 300))
        .await;
    assert_eq!(code, 200);
    let archive = rig.register.archive();
    let receipt_fd = of_type(&archive, RECEIPT)
        .iter()
        .find(|d| d["total"] == 4_200)
        .unwrap()["fd"]
        .clone();
    let z_fd = of_type(&archive, CLOSE_SHIFT)[0]["fd"].clone();
    let settle = "/v1.0/admin/operations/halt-done/settle";
    let (code, refused) = post_path(
        &admin,
        settle,
        &json!({"outcome": "done", "fiscalDocumentNumber": z_fd}),
    )
    .await;
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["errorMessage"]
            .as_str()
            .unwrap()
            .contains("отчёт о закрытии смены"),
        "{refused}"
    );
    let (code, _) = post_path(
        pos,
        settle,
        &json!({"outcome": "done", "fiscalDocumentNumber": receipt_fd}),
    )
    .await;
    assert_eq!(code, 403, "a POS token cannot settle");
    let (code, accepted) = post_path(
        &admin,
        settle,
        &json!({"outcome": "done", "fiscalDocumentNumber": receipt_fd}),
    )
    .await;
    assert_eq!(code, 200, "{accepted}");
    assert_eq!(accepted["status"], 2);
    assert_eq!(accepted["fiscalParams"]["fiscalDocumentNumber"], receipt_fd);
    assert_eq!(
        pos.settled("behind-1").await["status"],
        2,
        "the queue behind drains"
    );
    assert!(
        rig.gateway.log().contains("technician-7"),
        "the admin action is logged with its sub"
    );

    // Not done: the receipt never closed; the cashier cancelled it at the keyboard.
    halt_on(&rig, "before-execution", "halt-not-done", 5_300).await;
    held(&admin).await;
    let (code, accepted) = post_path(
        &admin,
        "/v1.0/admin/operations/halt-not-done/settle",
        &json!({"outcome": "notDone"}),
    )
    .await;
    assert_eq!(code, 200, "{accepted}");
    assert_eq!(pos.settled("halt-not-done").await["status"], 2);
    let archive = rig.register.archive();
    assert_eq!(
        of_type(&archive, RECEIPT)
            .iter()
            .filter(|d| d["total"] == 5_300)
            .count(),
        1,
        "made once: {archive:?}"
    );
}
