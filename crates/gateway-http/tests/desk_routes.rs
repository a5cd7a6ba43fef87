//! The routes served through the [`Desk`](gateway_http::Desk): the registers' facts
//! (`/v1.0/cashboxes`), FN documents, and the administrator's routes: who sees what, how each
//! desk error maps to a status, admin scope, and what a settlement passes on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use chrono::TimeZone;
use gateway_http::{
    dev_token, ArchivedDocument, AuthConfig, CashboxFacts, ClaimedOutcome, DeskError, HaltFacts,
    ShiftFacts,
};
use queue::{OpState, OperationId};
use serde_json::{json, Value};
use support::conform::check;
use support::desk::FakeDesk;
use support::*;

/// A register configured nowhere, which the desk still reports.
const D: &str = "55555555-5555-4555-8555-555555555555";

fn facts() -> Vec<CashboxFacts> {
    let at = chrono::Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap();
    let a = CashboxFacts {
        cashbox_id: A.into(),
        model: Some("ШТРИХ-М-01Ф".into()),
        kkt_serial: Some("0012345678".into()),
        fn_number: Some("9999451122".into()),
        rnm: Some("0000000001012345".into()),
        inn: Some("7707083893".into()),
        ffd_version: Some("1.2".into()),
        fn_expiry: chrono::NaiveDate::from_ymd_opt(2027, 6, 30),
        fn_days_left: Some(209),
        shift: Some(ShiftFacts {
            open: true,
            number: Some(4),
            opened_at: Some(at),
            hours_left: Some(22),
            receipts: Some(12),
        }),
        cash_in_drawer: Some(1_234_567),
        ofd_unsent: Some(2),
        ofd_oldest: Some(at),
        ready: false,
        error_code: Some("NEEDS_OPERATOR".into()),
        error_message: Some("Нужен оператор.".into()),
        halted: Some(HaltFacts {
            operation_id: "held-1".into(),
            reason: "ФН не подтверждает чек".into(),
        }),
        print_width: Some(36),
        observed_at: Some(at),
    };
    let plain = |id: &str| CashboxFacts {
        cashbox_id: id.into(),
        ready: true,
        ..CashboxFacts::default()
    };
    vec![a, plain(B), plain(C), plain(D)]
}

fn with_desk() -> (Rig, Arc<FakeDesk>) {
    let desk = Arc::new(FakeDesk::new(facts()));
    let handle = desk.handle();
    let rig = rig_with(|state| state.desk = Some(handle));
    *desk.store.lock().unwrap() = Some(rig.store.clone());
    (rig, desk)
}

fn admin() -> String {
    token(json!({"sub": "ivanova", "scope": "admin"}))
}

fn doc() -> Value {
    serde_json::from_str(gateway_http::openapi_json()).unwrap()
}

fn assert_conforms(name: &str, value: &Value) {
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    let errors = check(&doc(), &schema, value, "$");
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{value}");
}

fn ids(body: &Value) -> Vec<String> {
    body["cashboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cashboxId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cashboxes_show_each_token_only_its_registers() {
    let (rig, _desk) = with_desk();
    let (code, all) = rig.get_as(&rig.token, "/v1.0/cashboxes").await;
    assert_eq!(code, 200, "{all}");
    assert_conforms("CashboxList", &all);
    assert_eq!(ids(&all), [A, B, C, D]);
    let a = &all["cashboxes"][0];
    // Kopecks to roubles without a float: the digits as written.
    assert_eq!(a["cashInDrawer"].to_string(), "12345.67");
    assert_eq!(a["registrationNumber"], "0000000001012345");
    assert_eq!(a["fnExpiry"], "2027-06-30");
    assert_eq!(
        a["shift"],
        json!({"open": true, "number": 4, "openedAtUtc": "2026-12-03T09:30:00.000Z", "hoursLeft": 22, "receipts": 12})
    );
    assert_eq!(
        a["ofd"],
        json!({"unsent": 2, "oldestUtc": "2026-12-03T09:30:00.000Z"})
    );
    assert_eq!(
        a["halted"],
        json!({"operationId": "held-1", "reason": "ФН не подтверждает чек"})
    );
    assert_eq!(a["printWidth"], 36);
    assert_eq!(a["observedAtUtc"], "2026-12-03T09:30:00.000Z");
    assert!(all["cashboxes"][1]["cashInDrawer"].is_null());
    assert!(all["cashboxes"][1]["shift"].is_null());

    let only_b = token(json!({"cashboxes": [B]}));
    let (_, mine) = rig.get_as(&only_b, "/v1.0/cashboxes").await;
    assert_eq!(ids(&mine), [B]);
    let person = token(json!({"juridicalPersons": [J2.to_uppercase()]}));
    let (_, theirs) = rig.get_as(&person, "/v1.0/cashboxes").await;
    assert_eq!(ids(&theirs), [B, C]);

    let (code, one) = rig
        .get_as(&rig.token, &format!("/v1.0/cashboxes/{}", A.to_uppercase()))
        .await;
    assert_eq!(code, 200, "{one}");
    assert_conforms("Cashbox", &one);
    assert_eq!(&one, a);
    let (code, b) = rig.get_as(&only_b, &format!("/v1.0/cashboxes/{B}")).await;
    assert_eq!((code, b["cashboxId"].as_str()), (200, Some(B)));
    // Not its register, an unconfigured one, an unknown one: the same 404.
    for (token, id) in [(&only_b, A), (&only_b, D), (&rig.token, "nope")] {
        let (code, body) = rig.get_as(token, &format!("/v1.0/cashboxes/{id}")).await;
        assert_eq!(code, 404, "{id}: {body}");
        assert_eq!(body["errorCode"], "CASHBOX_NOT_FOUND");
        assert_eq!(assert_error_shape(&body).as_deref(), Some("cashboxId"));
    }
    let (code, _) = rig.get("/v1.0/cashboxes").await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn without_a_desk_the_register_routes_are_503() {
    let rig = rig();
    for path in [
        "/v1.0/cashboxes".to_string(),
        format!("/v1.0/cashboxes/{A}"),
        format!("/v1.0/cashboxes/{A}/documents/3"),
    ] {
        let (code, body) = rig.get_as(&rig.token, &path).await;
        assert_eq!(code, 503, "{path}: {body}");
        assert_eq!(body["errorCode"], "REGISTERS_NOT_AVAILABLE", "{path}");
        assert_error_shape(&body);
    }
    // The admin list still reads the store; a settlement needs the desk.
    let (code, body) = rig.get_as(&admin(), "/v1.0/admin/operations").await;
    assert_eq!(code, 200, "{body}");
    rig.post("formReceipt", &seed("nd-1")).await;
    let (code, body) = rig
        .post_path_as(
            &admin(),
            "/v1.0/admin/operations/nd-1/settle",
            &json!({"outcome": "notDone"}),
        )
        .await;
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["errorCode"], "REGISTERS_NOT_AVAILABLE");
}

#[tokio::test]
async fn a_document_maps_the_desks_answers() {
    let (rig, desk) = with_desk();
    *desk.document.lock().unwrap() = Ok(ArchivedDocument {
        fd_number: 24,
        doc_type: 3,
        date_time: chrono::NaiveDate::from_ymd_opt(2019, 5, 1)
            .unwrap()
            .and_hms_opt(17, 33, 0)
            .unwrap(),
        fiscal_sign: 637_894_524,
        operation: Some(1),
        total: Some(27_000),
        shift_number: None,
    });
    let path = format!("/v1.0/cashboxes/{A}/documents/24");
    let (code, body) = rig.get_as(&rig.token, &path).await;
    assert_eq!(code, 200, "{body}");
    assert_conforms("ArchivedDocument", &body);
    // The digits as written (a `json!` literal would read 270.00 as 270.0).
    assert_eq!(body["total"].to_string(), "270.00");
    let mut body = body;
    body["total"] = json!("*");
    assert_eq!(
        body,
        json!({
            "fiscalDocumentNumber": 24,
            "documentType": 3,
            "documentTypeName": "Кассовый чек",
            // 17:33 on A's clock (UTC+3).
            "dateTimeUtc": "2019-05-01T14:33:00.000Z",
            "operationType": 1,
            "total": "*",
            "fiscalDocumentSign": "0637894524",
            "shiftNumber": null
        })
    );
    assert_eq!(
        desk.documents_asked.lock().unwrap().as_slice(),
        [(A.to_string(), 24)]
    );

    *desk.document.lock().unwrap() = Err(DeskError::NotFound("документа 99 нет в ФН".into()));
    let (code, body) = rig
        .get_as(&rig.token, &format!("/v1.0/cashboxes/{A}/documents/99"))
        .await;
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["errorCode"], "DOCUMENT_NOT_FOUND");
    assert_eq!(
        assert_error_shape(&body).as_deref(),
        Some("fiscalDocumentNumber")
    );
    assert!(body["errorMessage"]
        .as_str()
        .unwrap()
        .contains("документа 99 нет в ФН"));

    *desk.document.lock().unwrap() = Err(DeskError::Unavailable("касса занята".into()));
    let (code, body) = rig.get_as(&rig.token, &path).await;
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["errorCode"], "REGISTER_UNAVAILABLE");
    assert_eq!(body["errorMessage"], "касса занята");

    for fd in ["0", "x", "-1", "4294967296"] {
        let (code, body) = rig
            .get_as(&rig.token, &format!("/v1.0/cashboxes/{A}/documents/{fd}"))
            .await;
        assert_eq!(code, 400, "{fd}: {body}");
        assert_eq!(
            assert_error_shape(&body).as_deref(),
            Some("fiscalDocumentNumber")
        );
    }
    let only_b = token(json!({"cashboxes": [B]}));
    let asked = desk.documents_asked.lock().unwrap().len();
    let (code, body) = rig.get_as(&only_b, &path).await;
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["errorCode"], "CASHBOX_NOT_FOUND");
    assert_eq!(
        desk.documents_asked.lock().unwrap().len(),
        asked,
        "never asked"
    );
}

#[test]
fn document_types_have_their_russian_names() {
    for (code, name) in [
        (1, "Отчёт о регистрации"),
        (2, "Отчёт об открытии смены"),
        (3, "Кассовый чек"),
        (5, "Отчёт о закрытии смены"),
        (31, "Кассовый чек коррекции"),
        (200, "Документ формы 200"),
    ] {
        assert_eq!(gateway_http::document_type_name(code), name);
    }
}

#[tokio::test]
async fn every_admin_route_is_403_to_a_token_without_the_admin_scope() {
    let (rig, desk) = with_desk();
    rig.post("formReceipt", &seed("a-1")).await;
    let not_admin = [
        rig.token.clone(),
        token(json!({"scope": "administrator"})),
        token(json!({"scope": "read write"})),
        token(json!({"scope": ["read"]})),
        token(json!({"scope": null})),
    ];
    for token in &not_admin {
        for (code, body) in [
            rig.get_as(token, "/v1.0/admin/operations?state=unsettled")
                .await,
            rig.get_as(token, "/v1.0/admin/operations/a-1").await,
            rig.post_path_as(
                token,
                "/v1.0/admin/operations/a-1/settle",
                &json!({"outcome": "notDone"}),
            )
            .await,
        ] {
            assert_eq!(code, 403, "{body}");
            assert_eq!(body["errorCode"], "FORBIDDEN");
            assert_error_shape(&body);
        }
    }
    assert!(desk.claims.lock().unwrap().is_empty());
    // A scope of another type makes the token invalid.
    let (code, _) = rig
        .get_as(&token(json!({"scope": 5})), "/v1.0/admin/operations")
        .await;
    assert_eq!(code, 401);
    for scope in [
        json!("admin"),
        json!("read admin"),
        json!(["read", "admin"]),
    ] {
        let (code, body) = rig
            .get_as(
                &token(json!({"scope": scope})),
                "/v1.0/admin/operations/a-1",
            )
            .await;
        assert_eq!(code, 200, "{scope}: {body}");
    }
}

#[tokio::test]
async fn the_development_token_is_an_administrator() {
    let secret = b"a-development-secret-of-enough-length";
    let rig = rig_with(|state| state.auth = AuthConfig::dev(secret));
    let (code, body) = rig
        .get_as(&dev_token(secret), "/v1.0/admin/operations?state=unsettled")
        .await;
    assert_eq!(code, 200, "{body}");
}

/// Puts `id` (on A) into Reconciling with a snapshot, as a worker whose answer was lost.
async fn unsettled(rig: &Rig, id: &str) {
    let (code, body) = rig.post("formReceipt", &seed(id)).await;
    assert_eq!(code, 200, "{body}");
    let id = OperationId::new(id).unwrap();
    let snapshot = json!({"fnLastFd": 23, "opsCount": 7});
    rig.store
        .transition(
            &id,
            OpState::Sending {
                snapshot: snapshot.clone(),
            },
            "sending FF45",
        )
        .await
        .unwrap();
    rig.store
        .transition(&id, OpState::Reconciling { snapshot }, "answer lost: FF45")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_admin_sees_the_unsettled_operations_and_one_in_full() {
    let (rig, _desk) = with_desk();
    unsettled(&rig, "held-1").await;
    rig.post("formReceipt", &seed("queued-1")).await;
    let (code, body) = rig
        .get_as(&admin(), "/v1.0/admin/operations?state=unsettled")
        .await;
    assert_eq!(code, 200, "{body}");
    assert_conforms("UnsettledList", &body);
    let registers = body["registers"].as_array().unwrap();
    assert_eq!(registers.len(), 3, "the configured registers");
    let a = &registers[0];
    assert_eq!(a["cashboxId"], A);
    assert_eq!(a["halted"]["operationId"], "held-1");
    let operations = a["operations"].as_array().unwrap();
    assert_eq!(operations.len(), 1, "only the unsettled: {body}");
    let held = &operations[0];
    assert_eq!(held["operationId"], "held-1");
    assert_eq!(held["kind"], "formReceipt");
    assert_eq!(held["state"], "reconciling");
    assert_eq!(held["snapshot"], json!({"fnLastFd": 23, "opsCount": 7}));
    assert_eq!(held["request"]["totalSum"].to_string(), "270.00");
    assert_eq!(held["request"]["positions"], 2);
    let notes: Vec<&str> = held["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["note"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes[notes.len() - 2..],
        ["sending FF45", "answer lost: FF45"]
    );
    assert_eq!(held["answer"]["status"], 1);

    let (code, body) = rig
        .get_as(&admin(), "/v1.0/admin/operations?state=done")
        .await;
    assert_eq!(code, 400);
    assert_eq!(assert_error_shape(&body).as_deref(), Some("state"));

    let (code, one) = rig
        .get_as(&admin(), "/v1.0/admin/operations/queued-1")
        .await;
    assert_eq!(code, 200, "{one}");
    assert_conforms("StoredOperation", &one);
    assert_eq!(one["state"], "queued");
    assert!(one["snapshot"].is_null());
    let (code, body) = rig.get_as(&admin(), "/v1.0/admin/operations/nope").await;
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["errorCode"], "OPERATION_NOT_FOUND");

    // An administrator restricted to B sees neither A's list nor its operations.
    let admin_b = token(json!({"sub": "b", "scope": "admin", "cashboxes": [B]}));
    let (_, body) = rig.get_as(&admin_b, "/v1.0/admin/operations").await;
    assert_eq!(body["registers"].as_array().unwrap().len(), 1);
    let (code, _) = rig.get_as(&admin_b, "/v1.0/admin/operations/held-1").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn a_settlement_passes_the_claim_and_maps_the_desks_answers() {
    let (rig, desk) = with_desk();
    unsettled(&rig, "held-1").await;
    let settle = |body: Value| {
        let rig = &rig;
        async move {
            rig.post_path_as(&admin(), "/v1.0/admin/operations/held-1/settle", &body)
                .await
        }
    };

    // Refused by the body itself: the desk is never asked.
    for (body, field) in [
        (json!({"outcome": "done"}), "fiscalDocumentNumber"),
        (json!({"outcome": "done", "force": true}), "reason"),
        (
            json!({"outcome": "done", "force": true, "reason": " "}),
            "reason",
        ),
        (json!({"outcome": "notDone", "force": true}), "reason"),
        (
            json!({"outcome": "notDone", "fiscalDocumentNumber": 25}),
            "fiscalDocumentNumber",
        ),
        (json!({"outcome": "yes"}), "outcome"),
        (
            json!({"outcome": "done", "fiscalDocumentNumber": "25"}),
            "fiscalDocumentNumber",
        ),
    ] {
        let (code, answer) = settle(body.clone()).await;
        assert_eq!(code, 400, "{body}: {answer}");
        assert_eq!(
            assert_error_shape(&answer).as_deref(),
            Some(field),
            "{body}"
        );
    }
    assert!(desk.claims.lock().unwrap().is_empty());

    // The FN says otherwise: 409 with the reason.
    *desk.settle.lock().unwrap() = Err(DeskError::Refused(
        "ФД 25 — не этот чек: сумма 100,00".into(),
    ));
    let (code, answer) = settle(json!({"outcome": "done", "fiscalDocumentNumber": 25})).await;
    assert_eq!(code, 409, "{answer}");
    assert_eq!(answer["errorCode"], "SETTLE_REFUSED");
    assert_eq!(answer["errorMessage"], "ФД 25 — не этот чек: сумма 100,00");
    assert_error_shape(&answer);
    {
        let claims = desk.claims.lock().unwrap();
        let (operation, claim) = &claims[0];
        assert_eq!(operation, "held-1");
        assert_eq!(claim.outcome, ClaimedOutcome::Done { fd: Some(25) });
        assert!(!claim.force);
        assert_eq!(claim.by, "ivanova", "the token's sub");
    }

    *desk.settle.lock().unwrap() = Err(DeskError::Unavailable("нет связи с кассой".into()));
    let (code, answer) = settle(json!({"outcome": "notDone"})).await;
    assert_eq!(code, 503, "{answer}");
    assert_eq!(answer["errorCode"], "REGISTER_UNAVAILABLE");

    *desk.settle.lock().unwrap() = Err(DeskError::NotFound("не ждёт решения".into()));
    let (code, answer) = settle(json!({"outcome": "notDone"})).await;
    assert_eq!(code, 404, "{answer}");
    assert_eq!(answer["errorCode"], "OPERATION_NOT_FOUND");

    // Forced, by a token without sub: "unknown".
    *desk.settle.lock().unwrap() = Ok(());
    let anonymous = token(json!({"sub": null, "scope": ["admin"]}));
    let (code, answer) = rig
        .post_path_as(
            &anonymous,
            "/v1.0/admin/operations/held-1/settle",
            &json!({"outcome": "notDone", "force": true, "reason": "проверено по ленте"}),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
    // The status re-read after the settlement: queued again.
    assert_eq!(answer["status"], 1);
    assert!(answer["errorCode"].is_null());
    let (_, claim) = desk.claims.lock().unwrap().last().cloned().unwrap();
    assert_eq!(claim.by, "unknown");
    assert!(claim.force);
    assert_eq!(claim.reason.as_deref(), Some("проверено по ленте"));
    let op = rig
        .store
        .get(&OperationId::new("held-1").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(op.state, OpState::Queued);

    // An operation the store does not hold: 404 without asking the desk.
    let asked = desk.claims.lock().unwrap().len();
    let (code, _) = rig
        .post_path_as(
            &admin(),
            "/v1.0/admin/operations/nope/settle",
            &json!({"outcome": "notDone"}),
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(desk.claims.lock().unwrap().len(), asked);
}
