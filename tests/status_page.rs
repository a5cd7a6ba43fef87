//! The technician's views: the status page loaded in headless Chromium (Debian's `chromium`,
//! installed by the test command) shows the register, its state and the last operation, and
//! its actions panel runs an X report with an admin token kept in the tab's sessionStorage;
//! `/metrics` carries the promised families.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use serde_json::{json, Value};
use support::browser::{chromium, headless_flags, Browser};
use support::{receipt_with_total, token, GatewayOptions, Rig, CASHBOX};

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
        .args(headless_flags())
        .arg("--dump-dom")
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
    // The actions panel is there, with no token in it; a working register has no halted block.
    assert!(dom.contains("id=\"actions\""), "actions panel: {dom}");
    for action in [
        "xReport",
        "closeShift",
        "openShift",
        "printCopy",
        "settle-done",
    ] {
        assert!(
            dom.contains(&format!("data-action=\"{action}\"")),
            "{action}: {dom}"
        );
    }
    assert!(
        dom.contains(&format!("<option value=\"{CASHBOX}\">")),
        "{dom}"
    );
    assert!(!dom.contains("data-field=\"halted\""), "{dom}");

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

/// Waits (in the page, on its own changes) until the actions panel shows a final result, and
/// returns `{status, http, text}`.
fn result_of(browser: &mut Browser, tab: &support::browser::Tab) -> Value {
    browser.eval(
        tab,
        r#"new Promise((resolve) => {
            const el = document.querySelector('#result');
            const done = () => el.dataset.status !== '' && el.dataset.status !== 'pending';
            const answer = () => ({status: el.dataset.status, http: el.dataset.http, text: el.textContent});
            if (done()) { resolve(answer()); return; }
            const watch = new MutationObserver(() => {
                if (done()) { watch.disconnect(); resolve(answer()); }
            });
            watch.observe(el, {attributes: true, childList: true, characterData: true, subtree: true});
            setTimeout(() => resolve({status: 'timeout', http: '', text: el.textContent}), 100000);
        })"#,
    )
}

/// What the page keeps: the token in sessionStorage, nothing in localStorage or cookies.
fn storage(browser: &mut Browser, tab: &support::browser::Tab) -> Value {
    browser.eval(
        tab,
        r#"({session: sessionStorage.getItem('fiscal-gateway.adminToken'),
             sessionKeys: sessionStorage.length, local: localStorage.length, cookie: document.cookie})"#,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_shows_the_refusal_and_stays_out_of_cookies() {
    let rig = Rig::start(GatewayOptions::default());
    let mut browser = Browser::launch(&rig.dir.path().join("chromium.log"));
    let tab = browser.open(&format!("http://{}/", rig.gateway.base));
    assert_eq!(
        browser.eval(&tab, "!!document.querySelector('#actions #token')"),
        json!(true)
    );

    browser.type_into(&tab, "#token", "not-a-token");
    let kept = storage(&mut browser, &tab);
    assert_eq!(kept["session"], "not-a-token", "{kept}");
    assert_eq!(kept["local"], 0, "{kept}");
    assert_eq!(kept["cookie"], "", "{kept}");

    browser.eval(
        &tab,
        "document.querySelector('[data-action=xReport]').click(), true",
    );
    let result = result_of(&mut browser, &tab);
    assert_eq!(result["status"], "error", "{result}");
    assert_eq!(result["http"], "401", "{result}");
    assert!(
        result["text"].as_str().unwrap().contains("токен не принят"),
        "{result}"
    );
    assert!(browser.cookies().is_empty(), "{:?}", browser.cookies());

    let errors = browser.errors(&tab);
    assert!(errors.is_empty(), "script or CSP errors: {errors:#?}");

    // "Forget" takes it out of the tab.
    browser.eval(&tab, "document.querySelector('#forget').click(), true");
    let kept = storage(&mut browser, &tab);
    assert_eq!(kept["session"], Value::Null, "{kept}");
    assert_eq!(kept["sessionKeys"], 0, "{kept}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shift_and_an_x_report_from_the_actions_panel() {
    let rig = Rig::start(GatewayOptions::default());
    let admin = token(json!({"scope": "admin"}));
    let mut browser = Browser::launch(&rig.dir.path().join("chromium.log"));
    let tab = browser.open(&format!("http://{}/", rig.gateway.base));

    browser.type_into(&tab, "#token", &admin);
    let kept = storage(&mut browser, &tab);
    assert_eq!(kept["session"], admin.as_str(), "token in sessionStorage");
    assert_eq!(kept["local"], 0, "{kept}");
    assert_eq!(kept["cookie"], "", "{kept}");

    // A fresh register's shift is closed: open it from the panel, then the X report.
    for action in ["openShift", "xReport"] {
        browser.eval(
            &tab,
            &format!("document.querySelector('[data-action={action}]').click(), true"),
        );
        let result = result_of(&mut browser, &tab);
        assert_eq!(
            result["status"],
            "2",
            "{action}: {result}\n{}",
            rig.gateway.log()
        );
    }

    // The page refreshes its data in place: the register sections change, the token typed
    // into the panel stays.
    let refreshed = browser.eval(
        &tab,
        r#"new Promise((resolve) => {
            const el = document.querySelector('#updated');
            const before = el.textContent;
            const watch = new MutationObserver(() => {
                if (el.textContent !== before) { watch.disconnect(); resolve(true); }
            });
            watch.observe(el, {childList: true, characterData: true, subtree: true});
            setTimeout(() => resolve(false), 20000);
        })"#,
    );
    assert_eq!(refreshed, json!(true), "the page did not refresh its data");
    assert_eq!(
        browser.eval(&tab, "document.querySelector('#token').value"),
        json!(admin)
    );
    assert_eq!(
        browser.eval(
            &tab,
            "document.querySelectorAll('#registers section.register').length"
        ),
        json!(1)
    );
    let errors = browser.errors(&tab);
    assert!(errors.is_empty(), "script or CSP errors: {errors:#?}");

    // The token never became a cookie, and a reload of the tab still has it (sessionStorage).
    assert!(browser.cookies().is_empty(), "{:?}", browser.cookies());
    browser.call(Some(&tab), "Page.reload", json!({}));
    browser.wait_event(&tab, "Page.loadEventFired");
    assert_eq!(
        browser.eval(&tab, "document.querySelector('#token').value"),
        json!(admin)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn settling_an_operation_that_is_not_held_shows_the_services_refusal() {
    let rig = Rig::start(GatewayOptions::default());
    let admin = token(json!({"scope": "admin"}));
    rig.pos
        .post("formReceipt", &receipt_with_total("page-done-1", 500))
        .await;
    let done = rig.pos.settled("page-done-1").await;
    assert_eq!(done["status"], 2, "{done}");
    let fd = done["fiscalParams"]["fiscalDocumentNumber"]
        .as_u64()
        .unwrap();
    // What the service says to the same claim, asked directly.
    let direct = rig
        .pos
        .http
        .post(format!(
            "http://{}/v1.0/admin/operations/page-done-1/settle",
            rig.gateway.base
        ))
        .bearer_auth(&admin)
        .json(&json!({"outcome": "done", "fiscalDocumentNumber": fd}))
        .send()
        .await
        .unwrap();
    let status = direct.status().as_u16();
    let body: Value = direct.json().await.unwrap();
    assert!((400..500).contains(&status), "{status} {body}");
    let message = body["errorMessage"].as_str().unwrap().to_string();

    let mut browser = Browser::launch(&rig.dir.path().join("chromium.log"));
    let tab = browser.open(&format!("http://{}/", rig.gateway.base));
    browser.type_into(&tab, "#token", &admin);
    browser.type_into(&tab, "#settle-id", "page-done-1");
    browser.type_into(&tab, "#settle-fd", &fd.to_string());
    // The confirmation is answered "yes" (a dialog would stop the test's evaluation).
    browser.eval(
        &tab,
        "window.asked = []; window.confirm = (m) => { window.asked.push(m); return true; }; true",
    );
    browser.eval(
        &tab,
        "document.querySelector('[data-action=settle-done]').click(), true",
    );
    let result = result_of(&mut browser, &tab);
    assert_eq!(result["status"], "error", "{result}");
    assert_eq!(result["http"], status.to_string(), "{result}");
    assert!(
        result["text"].as_str().unwrap().contains(&message),
        "{message:?} not in {result}"
    );
    let asked = browser.eval(&tab, "window.asked");
    assert!(
        asked[0].as_str().unwrap().contains("page-done-1"),
        "the settlement was confirmed first: {asked}"
    );
    assert!(
        browser.errors(&tab).is_empty(),
        "{:?}",
        browser.errors(&tab)
    );
}

/// A register halted for a person: the cash in executes, the power goes before its answer and
/// stays off, and meanwhile the shift is closed at the keyboard, so the register's counters
/// can no longer tell (as `an_outcome_the_register_cannot_settle_*` in the cashbox tests).
/// The token-free page says so and gives the command without the id; with the admin token the
/// id is filled in; the CLI lists it and settles it.
#[tokio::test(flavor = "multi_thread")]
async fn a_halted_register_on_the_page_and_through_the_cli() {
    let rig = Rig::start(GatewayOptions::default());
    let admin = token(json!({"scope": "admin"}));
    rig.pos
        .post("formReceipt", &receipt_with_total("halt-warm", 100))
        .await;
    assert_eq!(rig.pos.settled("halt-warm").await["status"], 2);

    let status =
        || -> Value { serde_json::from_str(rig.register.control("status").trim()).unwrap() };
    assert_eq!(
        rig.register
            .control("power-cut after-commit 50 stay-off")
            .trim(),
        "ok"
    );
    let (code, body) = rig
        .pos
        .post(
            "depositCash",
            &json!({"cashboxId": CASHBOX, "amount": 5, "operationId": "held-cash-1"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    support::until("the cut struck", || async {
        status()["armed_power_cut"].is_null().then_some(())
    })
    .await;
    assert_eq!(rig.register.control("keyboard z-report").trim(), "ok");
    assert_eq!(rig.register.control("power on").trim(), "ok");
    let health_url = format!("http://{}/health", rig.gateway.base);
    support::until("the register halted", || async {
        let health: Value = rig
            .pos
            .http
            .get(&health_url)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (health["registers"][0]["errorCode"] == "NEEDS_OPERATOR").then_some(())
    })
    .await;

    let mut browser = Browser::launch(&rig.dir.path().join("chromium.log"));
    let tab = browser.open(&format!("http://{}/", rig.gateway.base));
    let html = browser.eval(&tab, "document.documentElement.outerHTML");
    let html = html.as_str().unwrap();
    assert!(html.contains("data-field=\"halted\""), "{html}");
    assert!(
        html.contains("fiscal-gateway operations settle <span class=\"held-id\""),
        "{html}"
    );
    assert!(
        !html.contains("held-cash-1"),
        "operationId on the token-free page: {html}"
    );
    assert!(!html.contains("внесения/выплаты"), "{html}");

    // With the admin token the held operation's id comes in.
    browser.type_into(&tab, "#token", &admin);
    let filled = browser.eval(
        &tab,
        r#"new Promise((resolve) => {
            const value = () => document.querySelector('.held-id').textContent;
            const done = () => value() !== '<ID>';
            if (done()) { resolve(value()); return; }
            const watch = new MutationObserver(() => {
                if (done()) { watch.disconnect(); resolve(value()); }
            });
            watch.observe(document.querySelector('#registers'), {childList: true, characterData: true, subtree: true});
            setTimeout(() => resolve(value() + ' / ' + document.querySelector('#held-note').textContent), 20000);
        })"#,
    );
    assert_eq!(filled, json!("held-cash-1"));
    // So does the full reason (without the token it is cut: it names the operation).
    let reason = browser.eval(&tab, "document.querySelector('.held-reason').textContent");
    assert!(
        reason.as_str().unwrap().contains("внесения/выплаты"),
        "{reason}"
    );
    assert_eq!(
        browser.eval(&tab, "document.querySelector('#settle-id').value"),
        json!("held-cash-1")
    );
    assert!(
        browser.errors(&tab).is_empty(),
        "{:?}",
        browser.errors(&tab)
    );

    // The CLI lists it with the commands, and settles it: the deposit did execute, and a
    // cash movement has no FD, so "done" is forced with a reason.
    let cli = |args: &[&str]| {
        Command::new(support::bin())
            .arg("operations")
            .args(args)
            .arg("--url")
            .arg(format!("http://{}", rig.gateway.base))
            .env("FISCAL_GATEWAY_TOKEN", &admin)
            .output()
            .unwrap()
    };
    let out = cli(&["list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Операция held-cash-1"), "{stdout}");
    assert!(
        stdout.contains("Касса остановлена: После начала внесения/выплаты"),
        "{stdout}"
    );
    assert!(
        stdout.contains("fiscal-gateway operations settle held-cash-1 --done --force --reason"),
        "{stdout}"
    );
    let out = cli(&[
        "settle",
        "held-cash-1",
        "--done",
        "--force",
        "--reason",
        "внесение видно в отчёте о закрытии смены",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        rig.gateway.log()
    );
    assert!(stdout.contains("held-cash-1"), "{stdout}");
    let settled = rig.pos.settled("held-cash-1").await;
    assert_eq!(settled["status"], 2, "{settled}");
}
