//! `fiscal-gateway operations list|show|settle`, the built binary against a running
//! `serve --emulator` (whose development token carries `"scope": "admin"`): what a technician
//! sees when nothing is held, an unknown id, a missing token, a token without the admin scope,
//! a service that is not running, and a settlement the service refuses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Output;

use serde_json::json;
use support::{bin, receipt_with_total, DevGateway};

const TOKEN_VARIABLE: &str = "FISCAL_GATEWAY_TOKEN";

/// Runs `fiscal-gateway operations ARGS` with `token` (or none) in the environment.
async fn operations(args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("operations").args(args).env_remove(TOKEN_VARIABLE);
    if let Some(token) = token {
        cmd.env(TOKEN_VARIABLE, token);
    }
    cmd.output().await.unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn settle_without_a_token_names_the_variable() {
    let out = operations(
        &[
            "settle",
            "op-1",
            "--not-done",
            "--url",
            "http://127.0.0.1:9",
        ],
        None,
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains(TOKEN_VARIABLE), "{stderr}");
    let out = operations(&["list", "--url", "http://127.0.0.1:9"], Some("")).await;
    assert!(!out.status.success());
    assert!(text(&out).1.contains(TOKEN_VARIABLE));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_is_not_running_is_said_so() {
    // A port that was free a moment ago: nothing listens on it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}");
    let out = operations(&["list", "--url", &url], Some("some-token")).await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("does not answer") && stderr.contains(&addr.to_string()),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn against_the_running_service() {
    let gateway = DevGateway::start();
    let url = format!("http://{}", gateway.base);
    let token = gateway.token.as_str();

    // Nothing held.
    let out = operations(&["list", "--url", &url], Some(token)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}\n{}", gateway.log());
    assert!(stdout.contains("Ничего не удержано"), "{stdout}");

    // An unknown operation is named in the failure.
    let out = operations(&["show", "no-such-op-17", "--url", &url], Some(token)).await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("no-such-op-17"), "{stderr}");
    assert!(stderr.contains("404"), "{stderr}");

    // An operation that is done is not held: the service refuses to settle it, and the CLI
    // says what the service said.
    let pos = gateway.pos();
    pos.post("formReceipt", &receipt_with_total("cli-done-1", 1234))
        .await;
    let settled = pos.settled("cli-done-1").await;
    assert_eq!(settled["status"], 2, "{settled}");
    let fd = settled["fiscalParams"]["fiscalDocumentNumber"]
        .as_u64()
        .unwrap()
        .to_string();
    let direct = pos
        .http
        .post(format!("{url}/v1.0/admin/operations/cli-done-1/settle"))
        .bearer_auth(token)
        .json(&json!({"outcome": "done", "fiscalDocumentNumber": fd.parse::<u64>().unwrap()}))
        .send()
        .await
        .unwrap();
    let status = direct.status().as_u16();
    let body: serde_json::Value = direct.json().await.unwrap();
    assert!((400..500).contains(&status), "{status} {body}");
    let message = body["errorMessage"].as_str().unwrap().to_string();
    let out = operations(
        &["settle", "cli-done-1", "--done", &fd, "--url", &url],
        Some(token),
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains(&message), "{message:?} not in {stderr}");
    assert!(stderr.contains("cli-done-1"), "{stderr}");

    // `show` prints the stored operation.
    let out = operations(&["show", "cli-done-1", "--url", &url], Some(token)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("cli-done-1"), "{stdout}");

    // A token without the admin scope is refused with a word about the scope.
    let secret = std::fs::read_to_string(gateway.dir.path().join("data/dev-secret")).unwrap();
    let now = chrono::Utc::now().timestamp();
    let pos_token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "pos-1", "iat": now, "exp": now + 3600}),
        &jsonwebtoken::EncodingKey::from_secret(secret.trim().as_bytes()),
    )
    .unwrap();
    let out = operations(&["list", "--url", &url], Some(&pos_token)).await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("403") && stderr.contains("scope"),
        "{stderr}"
    );
}
