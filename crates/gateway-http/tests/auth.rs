//! Authentication (401) and per-register access (403 / 404) on every route.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use gateway_http::{app, dev_token, AppState, AuthConfig};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use queue::{Store, StoreConfig};
use serde_json::{json, Value};
use support::*;

const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa-private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa-public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("keys/ec-private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("keys/ec-public.pem");

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_with_the_error_shape() {
    let rig = rig();
    let post = |auth: Option<String>| {
        let mut req = Request::post("/v1.0/operations/formReceipt")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        req.body(Body::from(SEED_EXAMPLE)).unwrap()
    };
    let other_secret = signed(
        &json!({"sub": "x", "exp": now() + 60}),
        b"another-secret-another-secret-another",
    );
    let expired = signed(&json!({"sub": "x", "exp": now() - 3600}), SECRET);
    let not_yet = signed(
        &json!({"sub": "x", "exp": now() + 7200, "nbf": now() + 3600}),
        SECRET,
    );
    let no_exp = signed(&json!({"sub": "x"}), SECRET);
    let cases = [
        (None, "Bearer token is required"),
        (Some(format!("Basic {}", rig.token)), "Bearer"),
        (Some("Bearer ".to_string()), "Bearer"),
        (Some("Bearer not.a.jwt".to_string()), "malformed"),
        (Some(format!("Bearer {other_secret}")), "invalid signature"),
        (Some(format!("Bearer {expired}")), "expired"),
        (Some(format!("Bearer {not_yet}")), "nbf"),
        (Some(format!("Bearer {no_exp}")), "exp"),
    ];
    for (auth, says) in cases {
        let response = tower::ServiceExt::oneshot(rig.app.clone(), post(auth.clone()))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{auth:?}");
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
        let body: Value = serde_json::from_slice(
            &axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(body["errorCode"], "UNAUTHORIZED");
        assert_error_shape(&body);
        assert!(
            body["errorMessage"].as_str().unwrap().contains(says),
            "{auth:?}: {body}"
        );
    }
    // checkStatus is protected too; nothing was queued by the refused POSTs.
    let req = Request::get("/v1.0/operations/checkStatus?operationId=12854F")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&rig.app, req).await.0, 401);
    assert_eq!(rig.status("12854F").await.0, 404);
}

#[tokio::test]
async fn health_and_openapi_need_no_token() {
    let rig = rig();
    for path in ["/health", "/openapi.json"] {
        let (code, body) = send(&rig.app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(code, 200, "{path}: {body}");
        assert!(body.is_object(), "{path}");
    }
}

#[tokio::test]
async fn claims_restrict_registers_with_403() {
    let rig = rig();
    let only_b = token(json!({"cashboxes": [B]}));
    let (code, body) = rig.post_as(&only_b, "formReceipt", &seed("p-1")).await;
    assert_eq!(code, 403, "A is not B: {body}");
    assert_eq!(body["errorCode"], "FORBIDDEN");
    assert_error_shape(&body);
    let mut to_b = seed("p-2");
    to_b["cashboxId"] = json!(B);
    assert_eq!(rig.post_as(&only_b, "formReceipt", &to_b).await.0, 200);
    // Group routing considers only the registers the token may use: B, although C is idle.
    let mut group = seed("p-3");
    group["cashboxId"] = json!("");
    group["cashboxGroupId"] = json!(G);
    let (code, body) = rig.post_as(&only_b, "formReceipt", &group).await;
    assert_eq!(
        (code, body["handlerCashboxId"].as_str()),
        (200, Some(B)),
        "{body}"
    );
    // A juridical person grants its registers.
    let person_j2 = token(json!({"juridicalPersons": [J2]}));
    let mut to_c = seed("p-4");
    to_c["cashboxId"] = json!(C);
    assert_eq!(rig.post_as(&person_j2, "formReceipt", &to_c).await.0, 200);
    assert_eq!(
        rig.post_as(&person_j2, "formReceipt", &seed("p-5")).await.0,
        403
    );
    assert_eq!(
        rig.post_as(
            &person_j2,
            "depositCash",
            &json!({"cashboxId": A, "amount": 1, "operationId": "p-6"})
        )
        .await
        .0,
        403
    );
    let person_j1 = token(json!({"juridicalPersons": [J1]}));
    assert_eq!(
        rig.post_as(&person_j1, "formReceipt", &group).await.0,
        403,
        "no register of G is J1's"
    );
    // An empty grant list allows nothing.
    let nothing = token(json!({"cashboxes": []}));
    assert_eq!(
        rig.post_as(&nothing, "formReceipt", &seed("p-7")).await.0,
        403
    );
}

#[tokio::test]
async fn other_registers_operations_are_invisible() {
    let rig = rig();
    rig.post("formReceipt", &seed("o-1")).await;
    let only_b = token(json!({"cashboxes": [B]}));
    let (code, body) = rig.status_as(&only_b, "operationId=o-1").await;
    assert_eq!(code, 404, "not 403: existence is not leaked: {body}");
    assert_eq!(body["errorCode"], "OPERATION_NOT_FOUND");
    assert_eq!(rig.status_as(&only_b, "operationId=never").await.1, {
        let mut b = body.clone();
        b["errorMessage"] = json!("operationId: operation \"never\" not found");
        b
    });
    // Replaying someone else's operation id is refused before the store is touched.
    assert_eq!(
        rig.post_as(&only_b, "formReceipt", &seed("o-1")).await.0,
        403
    );
    let whole = token(json!({}));
    assert_eq!(rig.status_as(&whole, "operationId=o-1").await.0, 200);
}

fn keyed_app(auth: AuthConfig) -> (tempfile::TempDir, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), StoreConfig::default()).unwrap());
    let state = AppState {
        store,
        registers: registers(),
        default_register: Some(A.into()),
        auth,
        body_limit: BODY_LIMIT,
        max_wait: Duration::from_secs(1),
        readiness: None,
        allowed_hosts: gateway_http::AllowedHosts::default(),
        desk: None,
    };
    (dir, as_local_client(app(state)))
}

async fn check(router: &axum::Router, token: &str) -> u16 {
    let req = Request::get("/v1.0/operations/checkStatus?operationId=none")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    // 404 means the token was accepted and the (unknown) operation looked up.
    send(router, req).await.0
}

#[tokio::test]
async fn public_keys_verify_rs256_and_es256_and_nothing_else() {
    let auth = AuthConfig::new()
        .with_public_key_pem(RSA_PUBLIC)
        .unwrap()
        .with_public_key_pem(EC_PUBLIC)
        .unwrap();
    let (_dir, router) = keyed_app(auth);
    let claims = json!({"sub": "pos", "exp": now() + 600});
    let rs = encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
    )
    .unwrap();
    let es = encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
    )
    .unwrap();
    assert_eq!(check(&router, &rs).await, 404);
    assert_eq!(check(&router, &es).await, 404);
    // The public key used as an HMAC secret (algorithm confusion) must not pass.
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(RSA_PUBLIC),
    )
    .unwrap();
    assert_eq!(check(&router, &confused).await, 401);
    assert!(AuthConfig::new().with_public_key_pem(b"not a key").is_err());
}

#[tokio::test]
async fn the_dev_token_opens_the_dev_configuration() {
    let secret = b"dev-secret-dev-secret-dev-secret-dev";
    let (_dir, router) = keyed_app(AuthConfig::dev(secret));
    assert_eq!(check(&router, &dev_token(secret)).await, 404);
    assert_eq!(
        check(&router, &dev_token(b"some-other-secret-of-enough-length")).await,
        401
    );
    // Without any key nothing is accepted: authentication cannot be switched off by omission.
    let (_dir2, locked) = keyed_app(AuthConfig::new());
    assert_eq!(check(&locked, &dev_token(secret)).await, 401);
}

/// The root binary configures keys from text it read from files (`(PathBuf, String)` pairs).
#[test]
fn keys_configure_from_text_as_the_binary_reads_them() {
    let pems: Vec<(std::path::PathBuf, String)> = vec![
        (
            "rsa.pem".into(),
            String::from_utf8(RSA_PUBLIC.to_vec()).unwrap(),
        ),
        (
            "ec.pem".into(),
            String::from_utf8(EC_PUBLIC.to_vec()).unwrap(),
        ),
    ];
    let mut config =
        AuthConfig::new().with_hs256("a-secret-of-at-least-32-characters!!".as_bytes());
    for (_, pem) in &pems {
        config = config.with_public_key_pem(pem).unwrap();
    }
    let printed = format!("{config:?}");
    assert!(
        printed.contains("keys: 3") && !printed.contains("secret"),
        "{printed}"
    );
}
