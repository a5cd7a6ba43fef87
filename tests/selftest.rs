//! `fiscal-gateway selftest` against the virtual register on a pty, healthy and with each
//! fault a technician meets: cover open, no paper, shift over 24 h, documents stuck on the
//! way to the OFD, a tax table still on 20 %. Exit code 0 only when nothing is ✗.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{bin, receipt_with_total, write_config, Gateway, GatewayOptions, Pos, Register};

/// Runs `selftest --json` on the register's pty; returns the exit code and the checks by id.
fn selftest(register: &Register) -> (i32, Value) {
    let out = Command::new(bin())
        .args(["selftest", "--json", "--baud", "auto", "--port"])
        .arg(&register.tty)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let mut by_id = serde_json::Map::new();
    for c in doc["registers"][0]["checks"].as_array().unwrap() {
        by_id.insert(c["id"].as_str().unwrap().to_string(), c.clone());
    }
    assert_eq!(doc["passed"], out.status.success(), "{doc}");
    (out.status.code().unwrap(), Value::Object(by_id))
}

fn verdict(checks: &Value, id: &str) -> String {
    checks[id]["verdict"]
        .as_str()
        .unwrap_or("missing")
        .to_string()
}

#[test]
fn a_healthy_register_passes_and_each_fault_fails_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &[]);
    let (code, checks) = selftest(&register);
    assert_eq!(code, 0, "{checks}");
    for id in [
        "link",
        "fn",
        "ffd",
        "registration",
        "shift",
        "paper",
        "cover",
        "lever",
        "clock",
        "ofd",
        "taxes",
    ] {
        assert_eq!(verdict(&checks, id), "ok", "{id}: {checks}");
    }
    assert!(checks["fn"]["value"].as_str().unwrap().contains("9999"));
    // The register's table 6 listed with each row's FF46 code (FFD 1.2 addendum §2.3).
    let taxes = checks["taxes"]["value"].as_str().unwrap();
    assert!(taxes.contains("4: 0.00 % «БЕЗ НДС» [08]"), "{taxes}");
    assert!(taxes.contains("11: 22.00 % «НДС 22%» [CB]"), "{taxes}");
    let link = checks["link"]["value"].as_str().unwrap();
    assert!(
        link.contains("115200 бод") && link.contains("протокол"),
        "the speed found is shown, to pin it in the configuration: {link}"
    );

    register.control("cover open");
    let (code, checks) = selftest(&register);
    assert_eq!(code, 1);
    assert_eq!(verdict(&checks, "cover"), "fail");
    assert!(!checks["cover"]["advice"].as_str().unwrap().is_empty());
    register.control("cover close");

    register.control("paper out");
    let (code, checks) = selftest(&register);
    assert_eq!(code, 1);
    assert_eq!(verdict(&checks, "paper"), "fail");
    register.control("paper in");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_shift_fails() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &[]);
    {
        // Open a shift the way a shop does: through the gateway.
        let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
        let mut gateway = Gateway::start(dir.path(), &config);
        let pos = Pos::new(&gateway.base);
        pos.post("formReceipt", &receipt_with_total("s-1", 100))
            .await;
        assert_eq!(pos.settled("s-1").await["status"], 2);
        assert_eq!(
            gateway.proc.terminate(),
            Some(0),
            "clean shutdown on SIGTERM"
        );
    }
    let (code, checks) = selftest(&register);
    assert_eq!(code, 0, "{checks}");
    assert!(
        checks["shift"]["value"]
            .as_str()
            .unwrap()
            .contains("до 24 ч осталось"),
        "{checks}"
    );
    register.control("clock-offset 1500");
    let (code, checks) = selftest(&register);
    assert_eq!(code, 1);
    assert_eq!(verdict(&checks, "shift"), "fail", "{checks}");
}

#[test]
fn unsent_documents_and_a_2025_tax_table_fail() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(
        dir.path(),
        &["--ofd-unsent-days", "27", "--tax-table", "2021"],
    );
    let (code, checks) = selftest(&register);
    assert_eq!(code, 1);
    assert_eq!(verdict(&checks, "taxes"), "fail", "{checks}");
    assert!(
        checks["taxes"]["advice"].as_str().unwrap().contains("22"),
        "{checks}"
    );
    assert_eq!(verdict(&checks, "ofd"), "fail", "{checks}");
}

#[test]
fn the_speed_is_found_when_the_register_is_set_to_another() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &["--baud", "19200"]);
    let (code, checks) = selftest(&register);
    assert_eq!(code, 0, "{checks}");
    let link = checks["link"]["value"].as_str().unwrap();
    assert!(link.contains("19200 бод"), "{link}");
}

/// Runs `selftest --json` with `args`; returns the exit code and the output.
fn selftest_raw(args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .arg("selftest")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_register_the_running_service_uses_is_not_opened_unless_forced() {
    let rig = support::Rig::with_deadline(600);
    rig.pos
        .post("formReceipt", &receipt_with_total("held", 100))
        .await;
    assert_eq!(
        rig.pos.settled("held").await["status"],
        2,
        "the service holds the port"
    );
    // Once its queue is empty the service reads the day's facts (cash, receipts) once more;
    // after that it is quiet until its next idle look.
    support::until("the service read the day's facts", || async {
        let facts: Value = rig
            .pos
            .http
            .get(format!("http://{}/v1.0/cashboxes", rig.pos.base))
            .bearer_auth(&rig.pos.token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (facts["cashboxes"][0]["shift"]["receipts"].as_u64() >= Some(1)).then_some(())
    })
    .await;
    let config = rig.gateway.config.display().to_string();
    let service = rig.gateway.base.trim_start_matches("http://").to_string();
    let tty = rig.register.tty.display().to_string();
    let frames = |r: &Register| -> u64 {
        let status: Value = serde_json::from_str(r.control("status").trim()).unwrap();
        status["counters"]["frames_executed"].as_u64().unwrap()
    };

    // From the configuration, and with the port given by hand: the service's view, no exchange.
    for extra in [vec![], vec!["--port", tty.as_str(), "--baud", "115200"]] {
        let before = frames(&rig.register);
        let mut args = vec!["--config", config.as_str(), "--gateway", service.as_str()];
        args.extend(extra.iter().copied());
        let (code, out) = selftest_raw(&args);
        let doc: Value = serde_json::from_str(&out).unwrap();
        let checks = doc["registers"][0]["checks"].as_array().unwrap();
        let link = checks.iter().find(|c| c["id"] == "link").unwrap();
        assert_eq!(link["verdict"], "warn", "{out}");
        assert!(
            link["advice"].as_str().unwrap().contains("--force"),
            "{out}"
        );
        assert!(
            checks
                .iter()
                .any(|c| c["id"] == "gateway" && c["verdict"] == "ok"),
            "{out}"
        );
        assert_eq!(code, 0, "the service says the register is fine: {out}");
        assert_eq!(
            frames(&rig.register),
            before,
            "selftest did not talk to the register"
        );
    }

    // --force opens it (a serial port the service holds then says it is locked).
    let (code, out) = selftest_raw(&[
        "--config",
        config.as_str(),
        "--gateway",
        service.as_str(),
        "--force",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("занята работающей службой"), "{out}");
}
