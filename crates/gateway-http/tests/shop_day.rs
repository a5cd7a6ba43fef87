//! The shop day's operations (`openShift`, `closeShift`, `xReport`, `formCorrectionReceipt`,
//! `printCopy`, `printText`): each names the bad field and queues nothing, is idempotent like
//! formReceipt, routes to one register, and renders its completion (`shiftParams`,
//! `printParams`; a correction exactly as a receipt) as the document describes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use fiscal_model::{
    Completion, CopiedDocument, CorrectionKind, OperationBody, PrintResult, ShiftResult,
};
use gateway_http::CashboxFacts;
use queue::{OpState, OperationId, OperationKind};
use serde_json::{json, Value};
use support::conform::check;
use support::desk::FakeDesk;
use support::*;

fn correction(id: &str, changes: &[(&str, Value)]) -> Value {
    let mut body = seed(id);
    body["correctionType"] = json!("byOrder");
    body["correctionBaseDate"] = json!("2026-11-20");
    body["correctionBaseNumber"] = json!("12-34/567");
    for (key, value) in changes {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(*key);
        } else {
            body[*key] = value.clone();
        }
    }
    body
}

fn assert_conforms(value: &Value) {
    let doc: Value = serde_json::from_str(gateway_http::openapi_json()).unwrap();
    let schema = json!({"$ref": "#/components/schemas/OperationStatus"});
    let errors = check(&doc, &schema, value, "$");
    assert!(errors.is_empty(), "{errors:#?}\n{value}");
}

fn shift_result(made: bool, fd: Option<u32>) -> ShiftResult {
    ShiftResult {
        shift_number: 4,
        fd_number: fd,
        fiscal_sign: fd.map(|_| 1_234_567),
        fn_number: "9999451122".into(),
        rnm: "00244".into(),
        date_time: chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(8, 0, 0),
        made,
    }
}

#[tokio::test]
async fn each_shop_day_post_names_the_bad_field_and_queues_nothing() {
    let rig = rig();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let many: Vec<String> = (0..=gateway_http::MAX_TEXT_LINES)
        .map(|i| i.to_string())
        .collect();
    // C has a tax group for 22 % only.
    let mut ten_percent_on_c = correction("x", &[("cashboxId", json!(C))]);
    ten_percent_on_c["positions"][0]["taxType"] = json!(2);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("openShift", json!({}), "operationId"),
        (
            "openShift",
            json!({"operationId": "x", "cashboxId": "nope"}),
            "cashboxId",
        ),
        (
            "openShift",
            json!({"operationId": "x", "cashboxId": "55555555-5555-4555-8555-555555555555"}),
            "cashboxId",
        ),
        (
            "openShift",
            json!({"operationId": "x", "cashierInn": "500100732259"}),
            "cashierInn",
        ),
        (
            "closeShift",
            json!({"operationId": "x", "cashierName": 5}),
            "cashierName",
        ),
        (
            "closeShift",
            json!({"operationId": "x", "cashierName": "Ива😀"}),
            "cashierName",
        ),
        ("xReport", json!({"operationId": ""}), "operationId"),
        ("xReport", json!([]), "body"),
        (
            "printCopy",
            json!({"operationId": "x", "fiscalDocumentNumber": 0}),
            "fiscalDocumentNumber",
        ),
        (
            "printCopy",
            json!({"operationId": "x", "fiscalDocumentNumber": -1}),
            "fiscalDocumentNumber",
        ),
        (
            "printCopy",
            json!({"operationId": "x", "fiscalDocumentNumber": 1.5}),
            "fiscalDocumentNumber",
        ),
        (
            "printCopy",
            json!({"operationId": "x", "fiscalDocumentNumber": "24"}),
            "fiscalDocumentNumber",
        ),
        (
            "printCopy",
            json!({"operationId": "x", "fiscalDocumentNumber": 4_294_967_296u64}),
            "fiscalDocumentNumber",
        ),
        ("printText", json!({"operationId": "x"}), "lines"),
        (
            "printText",
            json!({"operationId": "x", "lines": []}),
            "lines",
        ),
        (
            "printText",
            json!({"operationId": "x", "lines": "one"}),
            "lines",
        ),
        (
            "printText",
            json!({"operationId": "x", "lines": many}),
            "lines",
        ),
        (
            "printText",
            json!({"operationId": "x", "lines": ["a", 5]}),
            "lines[1]",
        ),
        (
            "printText",
            json!({"operationId": "x", "lines": ["a", "b", "c", "кофе ☕"]}),
            "lines[3]",
        ),
        (
            "printText",
            json!({"operationId": "x", "lines": ["a", "tab\there"]}),
            "lines[1]",
        ),
        // No desk: the default width, 32.
        (
            "printText",
            json!({"operationId": "x", "lines": ["a".repeat(32), "b".repeat(33)]}),
            "lines[1]",
        ),
        (
            "printText",
            json!({"operationId": "x", "lines": ["a"], "cut": "yes"}),
            "cut",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionType", Value::Null)]),
            "correctionType",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionType", json!("own"))]),
            "correctionType",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionBaseNumber", Value::Null)]),
            "correctionBaseNumber",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionBaseNumber", json!("1".repeat(33)))]),
            "correctionBaseNumber",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionType", json!("self"))]),
            "correctionBaseNumber",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionBaseDate", Value::Null)]),
            "correctionBaseDate",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionBaseDate", json!("2026-13-01"))]),
            "correctionBaseDate",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionBaseDate", json!("20.11.2026"))]),
            "correctionBaseDate",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("correctionBaseDate", json!(tomorrow))]),
            "correctionBaseDate",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("receiptType", json!(5))]),
            "receiptType",
        ),
        (
            "formCorrectionReceipt",
            correction("x", &[("totalSum", json!(1))]),
            "totalSum",
        ),
        (
            "formCorrectionReceipt",
            ten_percent_on_c,
            "positions[0].taxType",
        ),
    ];
    for (op, body, field) in cases {
        let (code, answer) = rig.post(op, &body).await;
        assert_eq!(code, 400, "{op} {body}: {answer}");
        assert_eq!(answer["errorCode"], "VALIDATION_ERROR", "{op}: {answer}");
        assert_eq!(
            assert_error_shape(&answer).as_deref(),
            Some(field),
            "{op} {body}: {answer}"
        );
    }
    assert!(rig.store.depth().unwrap().is_empty(), "nothing was queued");
}

#[tokio::test]
async fn a_text_line_is_held_to_the_width_the_register_reported() {
    let desk = Arc::new(FakeDesk::new(vec![CashboxFacts {
        cashbox_id: A.into(),
        print_width: Some(48),
        ..CashboxFacts::default()
    }]));
    let rig = rig_with(|state| state.desk = Some(desk.handle()));
    let body =
        |id: &str, width: usize| json!({"operationId": id, "lines": ["x", "ж".repeat(width)]});
    let (code, answer) = rig.post("printText", &body("w-1", 49)).await;
    assert_eq!(code, 400, "{answer}");
    assert_eq!(assert_error_shape(&answer).as_deref(), Some("lines[1]"));
    assert!(
        answer["errorMessage"].as_str().unwrap().contains("48"),
        "{answer}"
    );
    let (code, answer) = rig.post("printText", &body("w-2", 48)).await;
    assert_eq!(code, 200, "{answer}");
    // A register that reports no width is held to the default.
    let (code, _) = rig
        .post(
            "printText",
            &json!({"operationId": "w-3", "cashboxId": B, "lines": ["y".repeat(33)]}),
        )
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn each_shop_day_operation_is_stored_as_asked_on_one_register() {
    let rig = rig();
    let posts = [
        (
            "openShift",
            json!({"operationId": "d-1", "cashierName": "Иванова А. А.", "cashierInn": "500100732259"}),
            OperationKind::OpenShift,
        ),
        (
            "closeShift",
            json!({"operationId": "d-2", "cashboxId": B}),
            OperationKind::CloseShift,
        ),
        (
            "xReport",
            json!({"operationId": "d-3", "cashboxId": ""}),
            OperationKind::XReport,
        ),
        (
            "formCorrectionReceipt",
            correction("d-4", &[]),
            OperationKind::Correction,
        ),
        (
            "printCopy",
            json!({"operationId": "d-5", "fiscalDocumentNumber": 24}),
            OperationKind::PrintCopy,
        ),
        (
            "printText",
            json!({"operationId": "d-6", "lines": ["Заказ № 15", "", "Спасибо!"], "cut": true}),
            OperationKind::PrintText,
        ),
    ];
    for (op, body, kind) in posts {
        let (code, answer) = rig.post(op, &body).await;
        assert_eq!(code, 200, "{op}: {answer}");
        assert_eq!(answer["status"], 1, "{op}");
        assert_conforms(&answer);
        let id = body["operationId"].as_str().unwrap();
        let stored = rig
            .store
            .get(&OperationId::new(id).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(stored.kind, kind, "{op}");
        let expected = if op == "closeShift" { B } else { A };
        assert_eq!(stored.register.as_str(), expected, "{op}");
        assert_eq!(answer["handlerCashboxId"], expected, "{op}");
    }
    let stored = |id: &str| {
        rig.store
            .get(&OperationId::new(id).unwrap())
            .unwrap()
            .unwrap()
            .request
            .body
    };
    match stored("d-1") {
        OperationBody::OpenShift(s) => {
            let cashier = s.cashier.unwrap();
            assert_eq!(cashier.name, "Иванова А. А.");
            assert_eq!(cashier.inn.as_deref(), Some("500100732259"));
        }
        other => panic!("{other:?}"),
    }
    match stored("d-4") {
        OperationBody::Correction(c) => {
            assert_eq!(c.correction.kind, CorrectionKind::ByOrder);
            assert_eq!(c.correction.base_number.as_deref(), Some("12-34/567"));
            assert_eq!(c.receipt.items.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    match stored("d-5") {
        OperationBody::PrintCopy(c) => assert_eq!(c.fd_number, Some(24)),
        other => panic!("{other:?}"),
    }
    match stored("d-6") {
        OperationBody::PrintText(t) => {
            assert_eq!(t.lines, ["Заказ № 15", "", "Спасибо!"]);
            assert!(t.cut);
        }
        other => panic!("{other:?}"),
    }
    // A restricted token: only its registers, the default one included.
    let only_b = token(json!({"cashboxes": [B]}));
    let (code, answer) = rig
        .post_as(&only_b, "xReport", &json!({"operationId": "d-7"}))
        .await;
    assert_eq!(code, 403, "{answer}");
    assert_eq!(answer["errorCode"], "FORBIDDEN");
    let (code, answer) = rig
        .post_as(
            &only_b,
            "xReport",
            &json!({"operationId": "d-7", "cashboxId": B}),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
}

#[tokio::test]
async fn a_replay_answers_the_same_and_another_body_is_422() {
    let rig = rig();
    let cases = [
        (
            "openShift",
            json!({"operationId": "i-1", "cashierName": "Иванова А. А."}),
            json!({"operationId": "i-1", "cashierName": "Петров П. П."}),
        ),
        (
            "printText",
            json!({"operationId": "i-2", "lines": ["a", "b"]}),
            json!({"operationId": "i-2", "lines": ["a", "b"], "cut": true}),
        ),
        (
            "printText",
            json!({"operationId": "i-3", "lines": ["a", "b"], "cut": false}),
            json!({"operationId": "i-3", "lines": ["a", "c"]}),
        ),
        (
            "xReport",
            json!({"operationId": "i-4"}),
            json!({"operationId": "i-4", "cashboxId": B}),
        ),
        (
            "formCorrectionReceipt",
            correction("i-5", &[]),
            correction("i-5", &[("correctionBaseDate", json!("2026-11-19"))]),
        ),
    ];
    for (op, body, other) in cases {
        let (code, first) = rig.post(op, &body).await;
        assert_eq!(code, 200, "{op}: {first}");
        let (code, again) = rig.post(op, &body).await;
        assert_eq!(
            (code, &again),
            (200, &first),
            "{op}: a replay answers the same"
        );
        let (code, answer) = rig.post(op, &other).await;
        assert_eq!(code, 422, "{op}: {answer}");
        assert_eq!(answer["errorCode"], "IDEMPOTENCY_CONFLICT");
        assert_eq!(assert_error_shape(&answer).as_deref(), Some("operationId"));
    }
    // `cut` absent is `cut` false: the same operation.
    let (code, _) = rig
        .post(
            "printText",
            &json!({"operationId": "i-3", "lines": ["a", "b"]}),
        )
        .await;
    assert_eq!(code, 200);
    // The same id under another route is another payload.
    let (code, _) = rig.post("closeShift", &json!({"operationId": "i-4"})).await;
    assert_eq!(code, 422);
    let depth: u64 = rig
        .store
        .depth()
        .unwrap()
        .values()
        .flat_map(|m| m.values())
        .sum();
    assert_eq!(depth, 5, "one operation per id");
}

#[tokio::test]
async fn shift_reports_fill_fiscal_params_and_shift_params() {
    let rig = rig();
    for id in ["s-made", "s-found", "s-found-known", "s-queued"] {
        let (code, body) = rig.post("openShift", &json!({"operationId": id})).await;
        assert_eq!(code, 200, "{body}");
    }
    let done = |r: ShiftResult| OpState::Done {
        completion: Completion::Shift(r),
    };
    rig.finish("s-made", done(shift_result(true, Some(31))))
        .await;
    rig.finish("s-found", done(shift_result(false, None))).await;
    rig.finish("s-found-known", done(shift_result(false, Some(30))))
        .await;

    let (_, made) = rig.status("s-made").await;
    assert_conforms(&made);
    assert_eq!(made["status"], 2);
    assert_eq!(
        made["fiscalParams"],
        json!({
            "fiscalDocumentNumber": 31,
            "fiscalDocumentSign": "0001234567",
            // 08:00 on A's clock (UTC+3).
            "fiscalDocumentDateTimeUtc": "2026-11-23T05:00:00.000Z",
            "fiscalReceiptNumber": 0,
            "shiftNumber": 4,
            "fnNumber": "9999451122",
            "registrationNumber": "00244",
            "fnsUrl": "www.nalog.gov.ru",
            "notPrinted": false
        })
    );
    assert_eq!(made["shiftParams"], json!({"shiftNumber": 4, "made": true}));
    assert!(made.get("cashParams").is_none() && made.get("printParams").is_none());

    let (_, found) = rig.status("s-found").await;
    assert_conforms(&found);
    assert_eq!(found["status"], 2);
    assert!(found["fiscalParams"].is_null(), "{found}");
    assert_eq!(
        found["shiftParams"],
        json!({"shiftNumber": 4, "made": false})
    );

    let (_, known) = rig.status("s-found-known").await;
    assert_eq!(known["fiscalParams"]["fiscalDocumentNumber"], 30);
    assert_eq!(known["shiftParams"]["made"], false);

    let (_, queued) = rig.status("s-queued").await;
    assert_conforms(&queued);
    assert!(queued["shiftParams"].is_null() && queued.get("shiftParams").is_some());
}

#[tokio::test]
async fn prints_add_print_params_and_a_correction_renders_as_a_receipt() {
    let rig = rig();
    rig.post(
        "printCopy",
        &json!({"operationId": "p-copy", "fiscalDocumentNumber": 24}),
    )
    .await;
    rig.post("xReport", &json!({"operationId": "p-x"})).await;
    rig.post(
        "printText",
        &json!({"operationId": "p-text", "lines": ["a"]}),
    )
    .await;
    rig.post("formCorrectionReceipt", &correction("p-corr", &[]))
        .await;
    rig.post("formReceipt", &seed("p-receipt")).await;
    let printed = |copied: Option<CopiedDocument>| OpState::Done {
        completion: Completion::Printed(PrintResult {
            copied,
            date_time: None,
        }),
    };
    rig.finish(
        "p-copy",
        printed(Some(CopiedDocument {
            fd_number: 24,
            fiscal_sign: 637_894_524,
        })),
    )
    .await;
    rig.finish("p-x", printed(None)).await;
    let receipt = || OpState::Done {
        completion: Completion::Receipt(fiscal_result()),
    };
    rig.finish("p-corr", receipt()).await;
    rig.finish("p-receipt", receipt()).await;

    let (_, copy) = rig.status("p-copy").await;
    assert_conforms(&copy);
    assert_eq!(
        copy["printParams"],
        json!({"copiedFiscalDocumentNumber": 24, "copiedFiscalDocumentSign": "0637894524"})
    );
    assert!(copy["fiscalParams"].is_null());
    let (_, x) = rig.status("p-x").await;
    assert_conforms(&x);
    assert_eq!(
        x["printParams"],
        json!({"copiedFiscalDocumentNumber": null, "copiedFiscalDocumentSign": null})
    );
    let (_, text) = rig.status("p-text").await;
    assert_conforms(&text);
    assert_eq!(text["status"], 1);
    assert!(text["printParams"].is_null() && text.get("printParams").is_some());

    let (_, mut corrected) = rig.status("p-corr").await;
    let (_, mut sold) = rig.status("p-receipt").await;
    assert_conforms(&corrected);
    for body in [&mut corrected, &mut sold] {
        body["creationDateTimeUtc"] = json!("*");
        body["processingDateTimeUtc"] = json!("*");
    }
    assert_eq!(
        corrected, sold,
        "a correction receipt renders exactly as a receipt"
    );
}

#[test]
fn the_document_lists_the_shop_day_routes() {
    let doc: Value = serde_json::from_str(gateway_http::openapi_json()).unwrap();
    for (path, method) in [
        ("/v1.0/operations/openShift", "post"),
        ("/v1.0/operations/closeShift", "post"),
        ("/v1.0/operations/xReport", "post"),
        ("/v1.0/operations/formCorrectionReceipt", "post"),
        ("/v1.0/operations/printCopy", "post"),
        ("/v1.0/operations/printText", "post"),
        ("/v1.0/cashboxes", "get"),
        ("/v1.0/cashboxes/{id}", "get"),
        ("/v1.0/cashboxes/{id}/documents/{fd}", "get"),
        ("/v1.0/admin/operations", "get"),
        ("/v1.0/admin/operations/{operationId}", "get"),
        ("/v1.0/admin/operations/{operationId}/settle", "post"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} {path}: no 401"
        );
    }
    for path in [
        "/v1.0/admin/operations",
        "/v1.0/admin/operations/{operationId}",
        "/v1.0/admin/operations/{operationId}/settle",
    ] {
        let method = if path.ends_with("settle") {
            "post"
        } else {
            "get"
        };
        assert!(
            doc["paths"][path][method]["responses"]["403"].is_object(),
            "{path}: no 403"
        );
    }
    let status = &doc["components"]["schemas"]["OperationStatus"]["properties"];
    assert!(status["shiftParams"].is_object() && status["printParams"].is_object());
}

/// Every documented operation is served: no documented path answers the router's 404 or 405.
#[tokio::test]
async fn every_documented_route_is_served() {
    let rig = rig();
    let admin = token(json!({"scope": "admin"}));
    let doc: Value = serde_json::from_str(gateway_http::openapi_json()).unwrap();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", A)
            .replace("{fd}", "1")
            .replace("{operationId}", "x");
        for method in methods.as_object().unwrap().keys() {
            let request = axum::http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{}"))
                .unwrap();
            let (code, body) = send(&rig.app, request).await;
            assert_ne!(code, 405, "{method} {path}: {body}");
            assert_ne!(body["errorCode"], "NOT_FOUND", "{method} {path}: {body}");
        }
    }
}
