//! Shared rig for the API tests: a real `queue::Store` in a temporary directory, three
//! registers (one default, two in a group), tokens, and in-process requests via `oneshot`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod conform;
pub mod desk;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use chrono::FixedOffset;
use fiscal_model::{TaxGroup, TaxGroupMap, VatRate};
use gateway_http::{app, AppState, AuthConfig, RegisterRoute};
use queue::{OpState, OperationId, Store, StoreConfig};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The HS256 secret the rig's gateway trusts.
pub const SECRET: &[u8] = b"gateway-http-test-secret-0123456789abcdef";
/// The default register: the cashbox of the API's example request; its clock is on UTC+3.
pub const A: &str = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";
/// In group G, juridical person J2.
pub const B: &str = "c0264f46-4bfd-4953-bfbe-2e3cd1e0a4ad";
/// In group G, juridical person J2; only the 22 % rate has a tax group.
pub const C: &str = "44444444-4444-4444-8444-444444444444";
/// A's juridical person.
pub const J1: &str = "11111111-1111-4111-8111-111111111111";
/// B's and C's group.
pub const G: &str = "22222222-2222-4222-8222-222222222222";
/// B's and C's juridical person.
pub const J2: &str = "33333333-3333-4333-8333-333333333333";
/// Largest body the rig accepts.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The API description's example request, byte for byte (also the document's example).
pub const SEED_EXAMPLE: &str = include_str!("../../src/openapi/form-receipt-example.json");

pub struct Rig {
    pub _dir: tempfile::TempDir,
    pub store: Arc<Store>,
    /// The router as an HTTP client reaches it: `Host: localhost` unless the request names one.
    pub app: Router,
    /// The router itself: requests reach it with exactly the headers they carry.
    pub bare: Router,
    pub token: String,
}

/// Gives every request without a `Host` the one a local HTTP client sends (an in-process
/// request has none; hyper's clients always send one).
pub fn as_local_client(app: Router) -> Router {
    app.layer(axum::middleware::map_request(
        |mut request: Request<Body>| async move {
            if !request.headers().contains_key(header::HOST) {
                request.headers_mut().insert(
                    header::HOST,
                    header::HeaderValue::from_static("localhost:5897"),
                );
            }
            request
        },
    ))
}

/// Every rate mapped, as the daemon routes a register (`serve.rs`: the register's own table 6
/// decides the row; the default configuration overrides none).
pub fn every_rate() -> TaxGroupMap {
    let mut all = TaxGroupMap::empty();
    for rate in VatRate::ALL {
        all.set(rate, TaxGroup::new(1).unwrap());
    }
    all
}

pub fn registers() -> Vec<RegisterRoute> {
    let mut only_22 = TaxGroupMap::empty();
    only_22.set(VatRate::Vat22, TaxGroup::new(1).unwrap());
    vec![
        RegisterRoute {
            id: A.into(),
            group_id: None,
            juridical_person_id: Some(J1.into()),
            utc_offset: FixedOffset::east_opt(3 * 3600).unwrap(),
            taxes: every_rate(),
            seller: gateway_http::Seller {
                name: Some("ООО «Ромашка»".into()),
                inn: Some("7700000000".into()),
                address: Some("г. Москва, ул. Примерная, д. 1".into()),
                place: None,
            },
        },
        RegisterRoute {
            id: B.into(),
            group_id: Some(G.into()),
            juridical_person_id: Some(J2.into()),
            utc_offset: FixedOffset::east_opt(0).unwrap(),
            taxes: every_rate(),
            seller: gateway_http::Seller::default(),
        },
        RegisterRoute {
            id: C.into(),
            group_id: Some(G.into()),
            juridical_person_id: Some(J2.into()),
            utc_offset: FixedOffset::east_opt(0).unwrap(),
            taxes: only_22,
            seller: gateway_http::Seller::default(),
        },
    ]
}

pub fn rig() -> Rig {
    rig_with(|_| {})
}

/// The rig with its state changed by `configure` (other keys, allowed hosts …).
pub fn rig_with(configure: impl FnOnce(&mut AppState)) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("ops"), StoreConfig::default()).unwrap());
    let mut state = AppState {
        store: store.clone(),
        registers: registers(),
        default_register: Some(A.into()),
        auth: AuthConfig::new().with_hs256(SECRET),
        body_limit: BODY_LIMIT,
        max_wait: Duration::from_secs(60),
        readiness: None,
        allowed_hosts: gateway_http::AllowedHosts::default(),
        desk: None,
    };
    configure(&mut state);
    Rig {
        _dir: dir,
        store,
        app: as_local_client(app(state.clone())),
        bare: app(state),
        token: token(json!({})),
    }
}

/// An HS256 token valid for an hour, with `extra` claims merged in.
pub fn token(extra: Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"sub": "pos-1", "iat": now, "exp": now + 3600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    signed(&claims, SECRET)
}

pub fn signed(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// The seed example as a value with another operationId.
pub fn seed(id: &str) -> Value {
    let mut v: Value = serde_json::from_str(SEED_EXAMPLE).unwrap();
    v["operationId"] = json!(id);
    v
}

/// Sends `req`; returns the status and the JSON body (Null when empty / not JSON).
pub async fn send(app: &Router, req: Request<Body>) -> (u16, Value) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

impl Rig {
    /// POSTs raw text to `/v1.0/operations/{op}` as JSON with the rig's token.
    pub async fn post_raw(&self, op: &str, body: &str) -> (u16, Value) {
        let req = Request::post(format!("/v1.0/operations/{op}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        send(&self.app, req).await
    }

    /// POSTs `body` to `/v1.0/operations/{op}`.
    pub async fn post(&self, op: &str, body: &Value) -> (u16, Value) {
        self.post_raw(op, &body.to_string()).await
    }

    /// POSTs with another token.
    pub async fn post_as(&self, token: &str, op: &str, body: &Value) -> (u16, Value) {
        let req = Request::post(format!("/v1.0/operations/{op}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        send(&self.app, req).await
    }

    /// checkStatus with the rig's token; `query` is the whole query string.
    pub async fn status_query(&self, query: &str) -> (u16, Value) {
        self.status_as(&self.token, query).await
    }

    pub async fn status_as(&self, token: &str, query: &str) -> (u16, Value) {
        let req = Request::get(format!("/v1.0/operations/checkStatus?{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        send(&self.app, req).await
    }

    /// GETs `path` with `token`.
    pub async fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        let req = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        send(&self.app, req).await
    }

    /// POSTs `body` as JSON to `path` with `token`.
    pub async fn post_path_as(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let req = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        send(&self.app, req).await
    }

    /// GETs `path` without a token (`/health`, `/openapi.json`).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(&self.app, Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// checkStatus of `id` without waiting.
    pub async fn status(&self, id: &str) -> (u16, Value) {
        self.status_query(&format!("operationId={id}")).await
    }

    /// Moves `id` through Sending to `to` as a worker would.
    pub async fn finish(&self, id: &str, to: OpState) {
        let id = OperationId::new(id).unwrap();
        self.store
            .transition(
                &id,
                OpState::Sending {
                    snapshot: json!({}),
                },
                "test: sending",
            )
            .await
            .unwrap();
        self.store
            .transition(&id, to, "test: finished")
            .await
            .unwrap();
    }
}

/// Asserts the one error shape and returns the field.
pub fn assert_error_shape(body: &Value) -> Option<String> {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {body}"));
    assert_eq!(
        obj.len(),
        3,
        "exactly errorCode, errorMessage, field: {body}"
    );
    assert!(body["errorCode"].is_string(), "{body}");
    assert!(body["errorMessage"].is_string(), "{body}");
    assert!(
        body["field"].is_string() || body["field"].is_null(),
        "{body}"
    );
    body["field"].as_str().map(str::to_string)
}

/// What a register reports of a cash in (its document number, shift, FN, RNM, time).
pub fn cash_result() -> fiscal_model::CashResult {
    fiscal_model::CashResult {
        document_number: 17,
        shift_number: 3,
        fn_number: "9999451122".into(),
        rnm: "00244".into(),
        date_time: chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(9, 5, 7)
            .unwrap(),
    }
}

/// The fiscal data of the API description's example 2 (register clock on UTC+3 for A).
pub fn fiscal_result() -> fiscal_model::FiscalResult {
    fiscal_model::FiscalResult {
        fd_number: 24,
        fiscal_sign: 637894524,
        receipt_number_in_shift: 5,
        shift_number: 3,
        fn_number: "9999451122".into(),
        rnm: "00244".into(),
        date_time: chrono::NaiveDate::from_ymd_opt(2019, 5, 1)
            .unwrap()
            .and_hms_opt(17, 33, 0)
            .unwrap(),
        not_printed: false,
        marking_checks: Vec::new(),
    }
}

/// The seed example (`id`) with `changes` merged in at "/positions/0/x" style pointers.
pub fn seed_with(id: &str, changes: &[(&str, Value)]) -> Value {
    let mut v = seed(id);
    for (at, value) in changes {
        let (parent, key) = at.rsplit_once('/').unwrap();
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .insert(key.to_string(), value.clone());
    }
    v
}

/// The receipt stored under `id`.
pub async fn stored_receipt(rig: &Rig, id: &str) -> fiscal_model::Receipt {
    let op = rig
        .store
        .get(&OperationId::new(id).unwrap())
        .unwrap()
        .unwrap();
    match op.request.body {
        fiscal_model::OperationBody::Receipt(r) => r,
        other => panic!("not a receipt: {other:?}"),
    }
}
