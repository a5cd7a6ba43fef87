//! What a reviewer tried against the API: a failed store sync, tokens with odd claims, a
//! foreign `Host`, text a register cannot print, amounts it cannot hold, and replays that differ
//! in one field. Every refusal has the one error shape and queues nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use futures::StreamExt;
use gateway_http::ApiError;
use serde_json::Value;
use support::*;

#[tokio::test]
async fn a_store_failure_says_the_operation_may_have_been_stored() {
    let error = ApiError::from(queue::StoreError::Io(
        "fdatasync: Input/output error".into(),
    ));
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_error_shape(&body);
    assert_eq!(body["errorCode"], "STORE_UNAVAILABLE");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("may have been stored"), "{message}");
    assert!(message.contains("same operationId"), "{message}");
    assert!(!message.contains("nothing was stored"), "{message}");
}

/// A three-position receipt as a till sends it (the name of position 2 is what the tests vary).
fn three_positions(id: &str, third_name: &str) -> Value {
    serde_json::json!({
        "operationId": id, "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
        "positions": [
            {"name": "Молоко коровье", "quantity": 1, "price": 70, "taxType": 3},
            {"name": "Хлеб ржаной", "quantity": 1, "price": 30, "taxType": 3},
            {"name": third_name, "quantity": 1, "price": 10, "taxType": 3}
        ],
        "cashPaymentSum": 110, "cashlessPaymentSum": 0, "totalSum": 110,
        "cashboxId": A
    })
}

#[tokio::test]
async fn text_a_register_cannot_print_is_400_naming_position_and_character() {
    let rig = rig();
    for (name, code_point) in [
        ("Сок 🍊", "U+1F34A"),
        ("Хлеб\u{200B}ржаной", "U+200B"),
        ("Хлеб\u{200C}ржаной", "U+200C"),
        ("Хлеб\u{200D}ржаной", "U+200D"),
        ("Молоко\u{202E}окоЛоМ", "U+202E"),
        ("Молоко\u{202A}x", "U+202A"),
        ("Молоко\u{2066}x\u{2069}", "U+2066"),
        ("Молоко\u{2069}", "U+2069"),
    ] {
        let (code, body) = rig.post("formReceipt", &three_positions("t-1", name)).await;
        assert_eq!(code, 400, "{name:?}: {body}");
        assert_eq!(
            assert_error_shape(&body).as_deref(),
            Some("positions[2].name"),
            "{body}"
        );
        let message = body["errorMessage"].as_str().unwrap();
        assert!(message.contains(code_point), "{name:?}: {message}");
    }
    let mut email = seed("t-2");
    email["buyerEmail"] = serde_json::json!("customer🍊@example.com");
    let (code, body) = rig.post("formReceipt", &email).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(assert_error_shape(&body).as_deref(), Some("buyerEmail"));
    assert!(rig.store.depth().unwrap().is_empty(), "nothing queued");

    // What CP1251 has passes, as written.
    let typographic = "«Ёлочка» — 2 шт. … № 5 – 1,5 л";
    let (code, body) = rig
        .post("formReceipt", &three_positions("t-3", typographic))
        .await;
    assert_eq!(code, 200, "{body}");
    let op = rig
        .store
        .get(&queue::OperationId::new("t-3").unwrap())
        .unwrap()
        .unwrap();
    let fiscal_model::OperationBody::Receipt(receipt) = op.request.body else {
        panic!("not a receipt")
    };
    assert_eq!(receipt.items[2].name, typographic);
}

#[tokio::test]
async fn a_position_that_comes_to_zero_kopecks_is_400() {
    let rig = rig();
    let body = serde_json::json!({
        "operationId": "z-1", "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
        "positions": [
            {"name": "Гвоздь", "quantity": 1, "price": 1, "taxType": 3},
            {"name": "Шайба", "quantity": 0.4, "price": 0.01, "taxType": 3}
        ],
        "cashPaymentSum": 1, "cashlessPaymentSum": 0, "totalSum": 1, "cashboxId": A
    });
    let (code, body) = rig.post("formReceipt", &body).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(assert_error_shape(&body).as_deref(), Some("positions[1]"));
    assert!(
        body["errorMessage"].as_str().unwrap().contains("0.00"),
        "{body}"
    );
    assert!(rig.store.depth().unwrap().is_empty(), "nothing queued");
}

#[tokio::test]
async fn amounts_above_what_a_register_holds_are_400_naming_the_field() {
    let rig = rig();
    let max = "10995116277.74";
    let over = "10995116277.75";
    let num = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let receipt = |positions: Value, cash: &str, cashless: &str, total: &str| {
        serde_json::json!({
            "operationId": "m-1", "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
            "positions": positions,
            "cashPaymentSum": num(cash), "cashlessPaymentSum": num(cashless),
            "totalSum": num(total), "cashboxId": A
        })
    };
    let position = |q: &str, p: &str| serde_json::json!({"name": "Слиток", "quantity": num(q), "price": num(p), "taxType": 3});
    let half = "5497558138.88"; // two of them are 0.02 above the maximum
    let cases = [
        (
            receipt(serde_json::json!([position("1", over)]), over, "0", over),
            "positions[0].price",
        ),
        (
            receipt(serde_json::json!([position("2", max)]), max, "0", max),
            "positions[0]",
        ),
        (
            receipt(
                serde_json::json!([position("1", half), position("1", half)]),
                max,
                "0",
                max,
            ),
            "positions",
        ),
        (
            receipt(serde_json::json!([position("1", "1")]), "1", "0", over),
            "totalSum",
        ),
        (
            receipt(serde_json::json!([position("1", "1")]), over, "0", "1"),
            "cashPaymentSum",
        ),
        (
            receipt(serde_json::json!([position("1", "1")]), "1", over, "1"),
            "cashlessPaymentSum",
        ),
        (
            receipt(serde_json::json!([position("1", max)]), max, max, max),
            "cashPaymentSum",
        ),
    ];
    for (body, field) in cases {
        let (code, answer) = rig.post("formReceipt", &body).await;
        assert_eq!(code, 400, "{field}: {answer}");
        assert_eq!(
            assert_error_shape(&answer).as_deref(),
            Some(field),
            "{answer}"
        );
        assert!(
            answer["errorMessage"].as_str().unwrap().contains(max),
            "the message names the maximum: {answer}"
        );
    }
    for op in ["depositCash", "withdrawCash"] {
        let body = serde_json::json!({"operationId": "m-2", "cashboxId": A, "amount": num(over)});
        let (code, answer) = rig.post(op, &body).await;
        assert_eq!(code, 400, "{answer}");
        assert_eq!(assert_error_shape(&answer).as_deref(), Some("amount"));
    }
    assert!(rig.store.depth().unwrap().is_empty(), "nothing queued");

    // The maximum itself is a receipt a register can take.
    let (code, answer) = rig
        .post(
            "formReceipt",
            &receipt(serde_json::json!([position("1", max)]), max, "0", max),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
}

#[tokio::test]
async fn the_idempotency_fingerprint_covers_every_field() {
    let rig = rig();
    let mut base = seed("i-1");
    base["buyerPhoneNumber"] = serde_json::json!("+7 912 345-67-89");
    let (code, body) = rig.post("formReceipt", &base).await;
    assert_eq!(code, 200, "{body}");

    // The same request spelt differently is the same request.
    let same = r#"{"cashboxId": "DA2BB850-63EF-47E4-8B45-7B5B841EAA9B", "operationId": "i-1",
        "receiptType": 1, "printReceipt": true, "taxationSystem": 2,
        "buyerEmail": " customer@example.com ", "buyerPhoneNumber": "89123456789",
        "positions": [
            {"name": "Молоко коровье", "quantity": 3.000, "price": 70.00, "taxType": 3},
            {"name": "Хлеб ржаной", "quantity": 2, "price": 30.0, "taxType": 3}
        ],
        "cashPaymentSum": 200.00, "cashlessPaymentSum": 70, "totalSum": 270,
        "juridicalPersonId": null}"#;
    let (code, body) = rig.post_raw("formReceipt", same).await;
    assert_eq!(code, 200, "a replay: {body}");

    type Change = fn(&mut Value);
    let changes: Vec<(&str, Change)> = vec![
        ("receiptType", |v| v["receiptType"] = 2.into()),
        ("printReceipt", |v| v["printReceipt"] = false.into()),
        ("taxationSystem", |v| v["taxationSystem"] = 1.into()),
        ("buyerEmail", |v| {
            v["buyerEmail"] = "other@example.com".into()
        }),
        ("buyerEmail removed", |v| v["buyerEmail"] = "".into()),
        ("buyerPhoneNumber", |v| {
            v["buyerPhoneNumber"] = "+7 912 000-00-00".into()
        }),
        ("buyerPhoneNumber removed", |v| {
            v["buyerPhoneNumber"] = "".into()
        }),
        ("positions[0].name", |v| {
            v["positions"][0]["name"] = "Молоко козье".into()
        }),
        ("positions[0].taxType", |v| {
            v["positions"][0]["taxType"] = 2.into()
        }),
        ("positions[0] quantity and price", |v| {
            v["positions"][0]["quantity"] = 2.into();
            v["positions"][0]["price"] = 105.into();
        }),
        ("positions order", |v| {
            let positions = v["positions"].as_array_mut().unwrap();
            positions.swap(0, 1);
        }),
        ("payments", |v| {
            v["cashPaymentSum"] = 70.into();
            v["cashlessPaymentSum"] = 200.into();
        }),
        ("juridicalPersonId", |v| v["juridicalPersonId"] = J1.into()),
    ];
    for (what, change) in changes {
        let mut changed = base.clone();
        change(&mut changed);
        let (code, body) = rig.post("formReceipt", &changed).await;
        assert_eq!(code, 422, "{what} changed: {body}");
        assert_eq!(body["errorCode"], "IDEMPOTENCY_CONFLICT", "{what}");
    }
}

#[tokio::test]
async fn a_malformed_restriction_claim_makes_the_token_invalid() {
    let rig = rig();
    rig.post("formReceipt", &seed("r-1")).await;
    for claims in [
        serde_json::json!({"cashboxes": null}),
        serde_json::json!({"juridicalPersons": null}),
        serde_json::json!({"cashboxes": null, "juridicalPersons": null}),
        serde_json::json!({"cashboxes": A}),
        serde_json::json!({"cashboxes": [1, 2]}),
        serde_json::json!({"cashboxes": {"id": A}}),
        serde_json::json!({"juridicalPersons": true}),
        serde_json::json!({"cashboxes": [B], "juridicalPersons": null}),
    ] {
        let token = token(claims.clone());
        let (code, body) = rig.status_as(&token, "operationId=r-1").await;
        assert_eq!(code, 401, "{claims}: {body}");
        assert_eq!(body["errorCode"], "UNAUTHORIZED", "{body}");
        let (code, body) = rig.post_as(&token, "formReceipt", &seed("r-2")).await;
        assert_eq!(code, 401, "{claims}: {body}");
    }
    // A well-formed restriction still works, and an empty list allows nothing.
    let (code, _) = rig
        .status_as(
            &token(serde_json::json!({"cashboxes": [A]})),
            "operationId=r-1",
        )
        .await;
    assert_eq!(code, 200);
    let (code, _) = rig
        .status_as(
            &token(serde_json::json!({"cashboxes": []})),
            "operationId=r-1",
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(
        rig.store
            .depth()
            .unwrap()
            .values()
            .flat_map(|m| m.values())
            .sum::<u64>(),
        1
    );
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let rig = rig_with(|state| {
        state.auth = gateway_http::AuthConfig::new()
            .with_hs256(SECRET)
            .with_issuer("pos-backend")
            .with_audience("fiscal-gateway");
    });
    // 404: the token was accepted and the unknown operation looked up.
    for (claims, expected) in [
        (
            serde_json::json!({"iss": "pos-backend", "aud": "fiscal-gateway"}),
            404,
        ),
        (
            serde_json::json!({"iss": "pos-backend", "aud": ["other", "fiscal-gateway"]}),
            404,
        ),
        (serde_json::json!({"aud": "fiscal-gateway"}), 401),
        (serde_json::json!({"iss": "pos-backend"}), 401),
        (
            serde_json::json!({"iss": "someone-else", "aud": "fiscal-gateway"}),
            401,
        ),
        (
            serde_json::json!({"iss": "pos-backend", "aud": "another-service"}),
            401,
        ),
        (
            serde_json::json!({"iss": null, "aud": "fiscal-gateway"}),
            401,
        ),
    ] {
        let (code, body) = rig
            .status_as(&token(claims.clone()), "operationId=nope")
            .await;
        assert_eq!(code, expected, "{claims}: {body}");
        if expected == 401 {
            let message = body["errorMessage"].as_str().unwrap();
            assert!(
                message.contains("iss") || message.contains("aud"),
                "{message}"
            );
        }
    }
    // Without them configured, iss and aud are not needed.
    let plain = support::rig();
    let (code, _) = plain
        .status_as(
            &token(serde_json::json!({"aud": "anything"})),
            "operationId=nope",
        )
        .await;
    assert_eq!(code, 404);
}

/// A request with exactly these headers, straight to the router.
async fn with_host(
    router: &axum::Router,
    method: &str,
    path: &str,
    host: Option<&str>,
) -> (u16, Value) {
    let mut request = axum::http::Request::builder().method(method).uri(path);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let request = request
        .header(
            "authorization",
            format!("Bearer {}", token(serde_json::json!({}))),
        )
        .header("content-type", "application/json")
        .body(axum::body::Body::from(seed("h-1").to_string()))
        .unwrap();
    send(router, request).await
}

const ENDPOINTS: [(&str, &str); 12] = [
    ("POST", "/v1.0/operations/formReceipt"),
    ("POST", "/v1.0/operations/openShift"),
    ("POST", "/v1.0/operations/printText"),
    ("GET", "/v1.0/cashboxes"),
    ("GET", "/v1.0/admin/operations"),
    ("POST", "/v1.0/operations/depositCash"),
    ("POST", "/v1.0/operations/withdrawCash"),
    ("GET", "/v1.0/operations/checkStatus?operationId=h-1"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/no-such-route"),
];

fn with_status_page(rig: &Rig) -> axum::Router {
    // The status page and /metrics are merged in by the binary the same way.
    let _ = rig;
    axum::Router::new()
        .route("/", axum::routing::get(|| async { "status page" }))
        .route("/metrics", axum::routing::get(|| async { "metrics" }))
}

#[tokio::test]
async fn a_foreign_host_is_421_on_every_endpoint() {
    let rig = rig();
    let state = |hosts: gateway_http::AllowedHosts| {
        let mut state = gateway_http::AppState {
            store: rig.store.clone(),
            registers: registers(),
            default_register: Some(A.into()),
            auth: gateway_http::AuthConfig::new().with_hs256(SECRET),
            body_limit: BODY_LIMIT,
            max_wait: std::time::Duration::from_secs(1),
            readiness: None,
            allowed_hosts: gateway_http::AllowedHosts::default(),
            desk: None,
        };
        state.allowed_hosts = hosts;
        state
    };
    let router = gateway_http::app_with(
        state(gateway_http::AllowedHosts::default()),
        with_status_page(&rig),
    );
    for (method, path) in ENDPOINTS.iter().chain([("GET", "/metrics")].iter()) {
        for host in [
            Some("evil.example"),
            Some("evil.example:5897"),
            Some("localhost.evil.example:5897"),
            Some("127.0.0.1.nip.io:5897"),
            Some("192.168.1.10:5897"),
            None,
        ] {
            let (code, body) = with_host(&router, method, path, host).await;
            assert_eq!(code, 421, "{method} {path} Host {host:?}: {body}");
            assert_eq!(body["errorCode"], "MISDIRECTED_REQUEST", "{body}");
            assert_eq!(assert_error_shape(&body).as_deref(), Some("Host"));
        }
    }
    assert!(
        rig.store.depth().unwrap().is_empty(),
        "nothing was queued through a foreign Host"
    );
    for (method, path) in ENDPOINTS.iter().chain([("GET", "/metrics")].iter()) {
        for host in [
            "localhost:5897",
            "127.0.0.1:5897",
            "[::1]:5897",
            "localhost",
        ] {
            let (code, body) = with_host(&router, method, path, Some(host)).await;
            assert_ne!(code, 421, "{method} {path} Host {host}: {body}");
        }
    }

    // A configured name is accepted, with any port.
    let configured = gateway_http::AllowedHosts::default()
        .with("pos-gateway.local")
        .unwrap();
    let router = gateway_http::app_with(state(configured), with_status_page(&rig));
    let (code, body) = with_host(&router, "GET", "/health", Some("POS-Gateway.local:8080")).await;
    assert_eq!(code, 200, "{body}");
    let (code, _) = with_host(&router, "GET", "/health", Some("evil.example")).await;
    assert_eq!(code, 421);
    // An absolute request target must name an allowed host too.
    let (code, _) = with_host(
        &rig.bare,
        "GET",
        "http://evil.example/health",
        Some("localhost:5897"),
    )
    .await;
    assert_eq!(code, 421);
}

#[tokio::test]
async fn health_names_no_operation() {
    let rig = rig_with(|state| {
        state.readiness = Some(gateway_http::ReadinessSource(std::sync::Arc::new(|| {
            vec![gateway_http::RegisterReadiness {
                cashbox_id: A.into(),
                ready: false,
                error_code: Some("NEEDS_OPERATOR".into()),
                error_message: Some(
                    "ККТ остановлена, нужен оператор: operation sale-42: the register's counters do not show it".into(),
                ),
                oldest_pending_seconds: None,
            }]
        })));
    });
    rig.post("formReceipt", &seed("buyer-op-1")).await;
    let (code, body) = rig.get("/health").await;
    assert_eq!(code, 200, "{body}");
    let text = body.to_string();
    for private in ["sale-42", "buyer-op-1", "customer@example.com"] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    assert_eq!(body["registers"][0]["errorCode"], "NEEDS_OPERATOR");
    let message = body["registers"][0]["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("ККТ остановлена, нужен оператор"),
        "{message}"
    );
    assert_eq!(
        gateway_http::public_message("Открыта крышка."),
        "Открыта крышка."
    );
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_finishes_is_408_and_queues_nothing() {
    let rig = rig();
    let first = axum::body::Bytes::from_static(b"{\"operationId\": \"slow-1\", ");
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(first) })
        .chain(futures::stream::pending());
    let request = axum::http::Request::post("/v1.0/operations/formReceipt")
        .header("authorization", format!("Bearer {}", rig.token))
        .header("content-type", "application/json")
        .body(axum::body::Body::from_stream(stream))
        .unwrap();
    let (code, body) = send(&rig.app, request).await;
    assert_eq!(code, 408, "{body}");
    assert_eq!(body["errorCode"], "REQUEST_TIMEOUT");
    assert_eq!(assert_error_shape(&body).as_deref(), Some("body"));
    assert!(rig.store.depth().unwrap().is_empty());
}

#[tokio::test]
async fn the_largest_wait_a_configuration_allows_does_not_overflow_the_clock() {
    let rig = rig_with(|state| state.max_wait = std::time::Duration::MAX);
    rig.post("formReceipt", &seed("w-1")).await;
    rig.finish(
        "w-1",
        queue::OpState::Done {
            completion: fiscal_model::Completion::Receipt(fiscal_result()),
        },
    )
    .await;
    let (code, body) = rig
        .status_query(&format!("operationId=w-1&wait={}", u64::MAX))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], 2);
}

#[test]
fn the_openapi_document_describes_the_new_answers() {
    let doc: Value = serde_json::from_str(gateway_http::openapi_json()).unwrap();
    let codes = doc["components"]["schemas"]["Error"]["properties"]["errorCode"]["enum"]
        .as_array()
        .unwrap();
    for code in [
        "MISDIRECTED_REQUEST",
        "REQUEST_TIMEOUT",
        "TOO_MANY_CONNECTIONS",
        "STORE_UNAVAILABLE",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} missing");
    }
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            let responses = &operation["responses"];
            assert!(responses["421"].is_object(), "{method} {path}: no 421");
            assert!(responses["503"].is_object(), "{method} {path}: no 503");
            let store = responses["503"]["description"].as_str().unwrap();
            assert!(
                !store.contains("nothing was stored"),
                "{method} {path}: {store}"
            );
        }
    }
}
