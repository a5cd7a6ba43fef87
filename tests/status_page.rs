//! The technician's views: the status page loaded in headless Chromium (Debian's `chromium`,
//! installed by the test command) shows the register, its state and the last operation;
//! `/metrics` carries the promised families.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use support::{receipt_with_total, GatewayOptions, Rig, CASHBOX};

fn chromium() -> String {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            return candidate.to_string();
        }
    }
    panic!("headless Chromium is needed: run scripts/install-test-deps (Debian package chromium)");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_in_headless_chromium_and_metrics() {
    let Rig { gateway, pos, .. } = &Rig::start(GatewayOptions::default());
    pos.post("formReceipt", &receipt_with_total("page-1", 4321))
        .await;
    let settled = pos.settled("page-1").await;
    assert_eq!(settled["status"], 2);
    let sign = settled["fiscalParams"]["fiscalDocumentSign"]
        .as_str()
        .unwrap()
        .to_string();

    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("http://{}/", gateway.base))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains(&format!("data-register=\"{CASHBOX}\"")),
        "{dom}"
    );
    assert!(dom.contains("Готова"), "register state shown: {dom}");
    assert!(
        dom.contains("<td>receipt</td><td>done</td>"),
        "recent operation shown: {dom}"
    );
    // The page needs no token: no operationId, no fiscal sign, no FD of an operation.
    assert!(
        !dom.contains("page-1"),
        "operationId on a token-free page: {dom}"
    );
    assert!(
        !dom.contains(&sign),
        "fiscal sign on a token-free page: {dom}"
    );
    assert!(!dom.contains("ФПД"), "{dom}");
    assert!(dom.contains("9999"), "FN number shown: {dom}");
    assert!(
        dom.contains("data-field=\"queue\">0<"),
        "queue depth shown: {dom}"
    );
    assert!(dom.contains("открыта 0 ч"), "shift age shown: {dom}");
    assert!(dom.contains("осталось"), "FN days left shown: {dom}");

    let metrics = pos
        .http
        .get(format!("http://{}/metrics", gateway.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for family in [
        "fiscal_queue_depth",
        "fiscal_operations_total",
        "fiscal_fiscalization_seconds",
        "fiscal_cover_open",
        "fiscal_paper_out",
        "fiscal_fn_days_left",
        "fiscal_shift_age_seconds",
    ] {
        assert!(
            metrics.contains(family),
            "{family} missing from /metrics:\n{metrics}"
        );
    }
    let value = |family: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("{family}{{")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no value of {family}:\n{metrics}"))
    };
    assert_eq!(value("fiscal_register_up"), 1.0);
    assert!(
        metrics.contains(&format!(
            "fiscal_queue_depth{{register=\"{CASHBOX}\",state=\"queued\"}} 0"
        )),
        "an empty queue is a 0, not a missing series:\n{metrics}"
    );
    assert_eq!(value("fiscal_cover_open"), 0.0);
    assert_eq!(value("fiscal_paper_out"), 0.0);
    assert_eq!(value("fiscal_ofd_unsent_documents"), 0.0);
    assert!(value("fiscal_fn_days_left") > 0.0);
    assert!(value("fiscal_shift_age_seconds") >= 0.0);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("fiscal_operations_total{")
                && l.contains("result=\"done\"")
                && l.ends_with(" 1")),
        "{metrics}"
    );

    // A wrong method on the technician's pages gets the API's one error shape.
    let wrong = pos
        .http
        .post(format!("http://{}/metrics", gateway.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 405);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert!(body["errorCode"].is_string(), "{body}");
}
