//! The register fails under a running gateway: its power is cut at each named point of a
//! receipt, a cash deposit and a shift opening; its cover opens and its paper runs out before,
//! during and after fiscalization. Every operation ends as the design's state table promises,
//! and the FN never holds a document twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::{
    receipt_with_total, until, write_config, Gateway, GatewayOptions, Pos, Register, Rig, CASHBOX,
};

/// Count of FN documents per (type, total): every entry must be 1.
fn assert_no_duplicates(archive: &[Value]) {
    let mut seen: BTreeMap<(u64, u64, u64), u32> = BTreeMap::new();
    for d in archive.iter().filter(|d| d["doc_type"] == 3) {
        *seen
            .entry((
                3,
                d["operation"].as_u64().unwrap_or(0),
                d["total"].as_u64().unwrap(),
            ))
            .or_default() += 1;
    }
    let dup: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "duplicate FN documents: {dup:?}");
    let fds: Vec<u64> = archive.iter().map(|d| d["fd"].as_u64().unwrap()).collect();
    let mut sorted = fds.clone();
    sorted.dedup();
    assert_eq!(fds, sorted, "FD numbers strictly increasing");
}

const POINTS: [&str; 3] = ["before-execution", "after-commit", "mid-answer"];

#[tokio::test(flavor = "multi_thread")]
async fn power_cut_during_a_receipt_at_each_point() {
    let rig = Rig::with_deadline(600);
    // Warm up so the shift is open.
    rig.pos
        .post("formReceipt", &receipt_with_total("warm", 100))
        .await;
    assert_eq!(rig.pos.settled("warm").await["status"], 2);
    let mut total = 1000;
    for command in ["8D", "FF46", "FF45"] {
        for point in POINTS {
            total += 1;
            let id = format!("cut-{command}-{point}");
            let cycles = power_cycles(&rig.register);
            rig.register
                .control(&format!("power-cut {point} {command}"));
            let (code, body) = rig
                .pos
                .post("formReceipt", &receipt_with_total(&id, total))
                .await;
            assert_eq!(code, 200, "{body}");
            let done = rig.pos.settled(&id).await;
            assert_eq!(done["status"], 2, "{id}: {done}");
            assert_eq!(
                power_cycles(&rig.register),
                cycles + 1,
                "{id}: the cut struck"
            );
            let archive = rig.register.archive();
            let matching: Vec<_> = archive
                .iter()
                .filter(|d| d["doc_type"] == 3 && d["total"] == total)
                .collect();
            assert_eq!(matching.len(), 1, "{id}: exactly one FN receipt");
            assert_eq!(
                done["fiscalParams"]["fiscalDocumentNumber"], matching[0]["fd"],
                "{id}: the FD is the FN's"
            );
        }
    }
    assert_no_duplicates(&rig.register.archive());
}

#[tokio::test(flavor = "multi_thread")]
async fn power_cut_during_shift_opening_at_each_point() {
    for (n, point) in POINTS.iter().enumerate() {
        // A fresh register each round: the first operation opens the shift.
        let rig = Rig::with_deadline(600);
        let id = format!("shift-{point}");
        let cycles = power_cycles(&rig.register);
        rig.register.control(&format!("power-cut {point} E0"));
        let (code, _) = rig
            .pos
            .post("formReceipt", &receipt_with_total(&id, 2000 + n as u64))
            .await;
        assert_eq!(code, 200);
        assert_eq!(rig.pos.settled(&id).await["status"], 2, "{id}");
        assert_eq!(
            power_cycles(&rig.register),
            cycles + 1,
            "{id}: the cut struck"
        );
        let archive = rig.register.archive();
        assert_eq!(
            archive.iter().filter(|d| d["doc_type"] == 2).count(),
            1,
            "{id}: one shift opening: {archive:?}"
        );
        assert_eq!(
            archive.iter().filter(|d| d["doc_type"] == 3).count(),
            1,
            "{id}: one receipt"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn power_cut_during_cash_in_at_each_point() {
    let rig = Rig::with_deadline(600);
    rig.pos
        .post("formReceipt", &receipt_with_total("warm", 100))
        .await;
    assert_eq!(rig.pos.settled("warm").await["status"], 2);
    let before = cash_in_count(&rig.register);
    for (n, point) in POINTS.iter().enumerate() {
        let id = format!("in-{point}");
        let cycles = power_cycles(&rig.register);
        rig.register.control(&format!("power-cut {point} 50"));
        let amount = 100 + n as u64;
        let (code, _) = rig
            .pos
            .post(
                "depositCash",
                &json!({"cashboxId": CASHBOX, "amount": amount, "operationId": id}),
            )
            .await;
        assert_eq!(code, 200);
        let done = rig.pos.settled(&id).await;
        assert_eq!(done["status"], 2, "{id}: {done}");
        assert_eq!(
            power_cycles(&rig.register),
            cycles + 1,
            "{id}: the cut struck"
        );
    }
    // Exactly three deposits reached the drawer.
    assert_eq!(cash_in_count(&rig.register) - before, 3);
    assert_no_duplicates(&rig.register.archive());
}

/// The register's own report of its state (control channel `status`).
fn device_status(register: &Register) -> Value {
    serde_json::from_str(register.control("status").trim()).unwrap()
}

/// How often the register has lost power so far.
fn power_cycles(register: &Register) -> u64 {
    device_status(register)["counters"]["power_cycles"]
        .as_u64()
        .unwrap()
}

/// Posts a receipt to a slow printer and returns once the FN has closed it, the printer still
/// at work.
async fn post_while_printing_slowly(rig: &Rig, id: &str, total: u64) {
    let fd_before = device_status(&rig.register)["last_fd"].as_u64().unwrap();
    rig.register.control("print-time 100");
    rig.pos
        .post("formReceipt", &receipt_with_total(id, total))
        .await;
    register_until(&rig.register, "the FN closed the receipt", |s| {
        s["last_fd"].as_u64() == Some(fd_before + 1)
    })
    .await;
}

/// The register's count of cash deposits (operation register 153, §10.2), read over the control channel.
fn cash_in_count(register: &Register) -> u64 {
    device_status(register)["cash_in_count"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cover_and_paper_before_during_and_after_fiscalization() {
    let rig = Rig::with_deadline(600);
    rig.pos
        .post("formReceipt", &receipt_with_total("p-0", 100))
        .await;
    assert_eq!(rig.pos.settled("p-0").await["status"], 2);

    // Before: the operation waits with the reason visible, then goes through when fixed.
    rig.register.control("paper out");
    let (code, first) = rig
        .pos
        .post("formReceipt", &receipt_with_total("p-1", 101))
        .await;
    assert_eq!(code, 200);
    assert_eq!(first["status"], 1);
    let waiting = wait_for_reason(&rig.pos, "p-1", "NO_PAPER").await;
    assert_eq!(waiting["errorMessage"], "Нет бумаги.");
    rig.register.control("paper in");
    assert_eq!(rig.pos.settled("p-1").await["status"], 2);

    // During: paper runs out while the receipt prints, after the FN closed it.
    rig.register.control("paper out-after 3");
    rig.pos
        .post("formReceipt", &receipt_with_total("p-2", 102))
        .await;
    let done = rig.pos.settled("p-2").await;
    assert_eq!(done["status"], 2, "{done}");
    assert_eq!(done["fiscalParams"]["notPrinted"], true, "{done}");
    rig.register.control("paper in");
    // The next operation runs after the worker resumed printing (0xB0).
    rig.pos
        .post("formReceipt", &receipt_with_total("p-3", 103))
        .await;
    assert_eq!(rig.pos.settled("p-3").await["status"], 2);
    let (_, again) = rig.pos.status("p-2", 0).await;
    assert_eq!(again["fiscalParams"]["notPrinted"], false, "{again}");

    // Cover open before: the operation waits with the reason, and goes through once closed.
    rig.register.control("cover open");
    rig.pos
        .post("formReceipt", &receipt_with_total("p-4", 104))
        .await;
    let waiting = wait_for_reason(&rig.pos, "p-4", "COVER_OPEN").await;
    assert_eq!(waiting["errorMessage"], "Открыта крышка.");
    rig.register.control("cover close");
    assert_eq!(rig.pos.settled("p-4").await["status"], 2);

    // Cover opened during: the FN has closed the receipt and the slow printer is still at it.
    post_while_printing_slowly(&rig, "p-5", 105).await;
    rig.register.control("cover open");
    let done = rig.pos.settled("p-5").await;
    assert_eq!(done["status"], 2, "{done}");
    assert_eq!(done["fiscalParams"]["notPrinted"], true, "{done}");
    rig.register.control("cover close");
    rig.register.control("print-time 0");
    rig.pos
        .post("formReceipt", &receipt_with_total("p-6", 106))
        .await;
    assert_eq!(rig.pos.settled("p-6").await["status"], 2);
    let (_, again) = rig.pos.status("p-5", 0).await;
    assert_eq!(again["fiscalParams"]["notPrinted"], false, "{again}");

    // After: a cover opened after the document is done changes nothing about it.
    rig.register.control("cover open");
    let (_, after) = rig.pos.status("p-6", 0).await;
    assert_eq!(after["status"], 2);
    rig.register.control("cover close");

    let archive = rig.register.archive();
    for total in [100, 101, 102, 103, 104, 105, 106] {
        assert_eq!(
            archive
                .iter()
                .filter(|d| d["doc_type"] == 3 && d["total"] == total)
                .count(),
            1,
            "total {total}"
        );
    }
    assert_no_duplicates(&archive);
}

/// Long-polls until the operation shows `code` while still in status 1.
async fn wait_for_reason(pos: &Pos, id: &str, code: &str) -> Value {
    until(&format!("{id} shows {code}"), || async {
        let (_, body) = pos.status(id, 0).await;
        assert_eq!(
            body["status"], 1,
            "{id} left the queue before showing {code}: {body}"
        );
        (body["errorCode"] == code).then_some(body)
    })
    .await
}

/// Polls the register's control status until `pred` holds (the gateway works meanwhile).
async fn register_until(register: &Register, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    until(what, || async {
        let status = device_status(register);
        pred(&status).then_some(status)
    })
    .await
}

/// A cash in whose answer is lost; while the register is unreachable someone closes the shift
/// at its keyboard. The shift counters are back at zero and cannot tell whether the cash in
/// ran, so the register halts for an operator instead of depositing again; what queues behind
/// fails at its deadline with the reason, and the halt is on the status page and in the log.
#[tokio::test(flavor = "multi_thread")]
async fn an_unsettleable_outcome_halts_the_register_instead_of_redoing() {
    let rig = Rig::with_deadline(2);
    let pos = &rig.pos;
    pos.post("formReceipt", &receipt_with_total("h-1", 100))
        .await;
    assert_eq!(pos.settled("h-1").await["status"], 2);

    rig.register.control("power-cut after-commit 50 stay-off");
    let (code, _) = pos
        .post(
            "depositCash",
            &json!({"cashboxId": CASHBOX, "amount": 5, "operationId": "h-cash"}),
        )
        .await;
    assert_eq!(code, 200);
    register_until(&rig.register, "cash in done, power off", |s| {
        s["cash_in_count"] == 1 && s["armed_power_cut"].is_null()
    })
    .await;
    assert_eq!(rig.register.control("keyboard z-report").trim(), "ok");
    assert_eq!(rig.register.control("power on").trim(), "ok");

    pos.post("formReceipt", &receipt_with_total("h-2", 200))
        .await;
    let failed = pos.settled("h-2").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorCode"], "NEEDS_OPERATOR", "{failed}");
    let (_, cash) = pos.status("h-cash", 0).await;
    assert_eq!(
        cash["status"], 1,
        "an unknown outcome is never guessed: {cash}"
    );

    assert_eq!(cash_in_count(&rig.register), 0, "no second cash in");
    let page = reqwest::get(format!("http://{}/", pos.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("нужен оператор"), "{page}");
    assert!(rig.gateway.log().contains("register needs an operator"));

    // The technician's selftest says so too (from the running service).
    let out = std::process::Command::new(support::bin())
        .args(["selftest", "--json", "--config"])
        .arg(&rig.gateway.config)
        .args(["--gateway", &pos.base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &doc["registers"][0]["checks"][0];
    assert_eq!(row["id"], "gateway", "{doc}");
    assert_eq!(row["verdict"], "fail", "{doc}");
    assert!(
        row["value"].as_str().unwrap().contains("нужен оператор"),
        "{doc}"
    );
}

/// Automatic Z switched off: a shift past 24 hours is the shop's to close. The receipt waits
/// with the reason, then fails with it at the deadline; the FN gets nothing.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_shift_without_auto_z_waits_then_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &[]);
    let config = write_config(
        dir.path(),
        &register.tty,
        &GatewayOptions {
            deadline_seconds: 2,
            extra_toml: "\n[registers.shift]\nclose_before_24h = false\n".into(),
            ..GatewayOptions::default()
        },
    );
    let _gateway = Gateway::start(dir.path(), &config);
    let pos = Pos::new(&_gateway.base);
    pos.post("formReceipt", &receipt_with_total("z-1", 100))
        .await;
    assert_eq!(pos.settled("z-1").await["status"], 2);
    register.control("clock-offset 1500");
    pos.post("formReceipt", &receipt_with_total("z-2", 200))
        .await;
    let waiting = wait_for_reason(&pos, "z-2", "SHIFT_OVER_24H").await;
    assert_eq!(waiting["errorMessage"], "Смена превысила 24 часа.");
    let failed = pos.settled("z-2").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorCode"], "SHIFT_OVER_24H");
    let archive = register.archive();
    assert!(
        !archive.iter().any(|d| d["doc_type"] == 5),
        "no Z report was made"
    );
    assert!(!archive
        .iter()
        .any(|d| d["doc_type"] == 3 && d["total"] == 200));
}

/// SIGTERM while a receipt is on the register: the exchange and the operation finish, the
/// result is recorded, the process exits 0; nothing is left for the next start to settle.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_receipt_finishes_it_and_exits_cleanly() {
    let rig = Rig::with_deadline(600);
    rig.pos
        .post("formReceipt", &receipt_with_total("t-0", 100))
        .await;
    assert_eq!(rig.pos.settled("t-0").await["status"], 2);
    post_while_printing_slowly(&rig, "t-1", 101).await;
    let Rig {
        dir: _dir,
        register,
        mut gateway,
        ..
    } = rig;
    assert_eq!(gateway.proc.terminate(), Some(0), "clean exit on SIGTERM");
    let first_run = gateway.log();
    assert!(first_run.contains("shutdown requested"), "{first_run}");

    gateway.restart();
    let pos = Pos::new(&gateway.base);
    let (_, done) = pos.status("t-1", 0).await;
    assert_eq!(done["status"], 2, "recorded before the exit: {done}");
    assert!(
        !gateway.log().contains("settled:"),
        "nothing was left unsettled"
    );
    let receipts = register
        .archive()
        .into_iter()
        .filter(|d| d["doc_type"] == 3 && d["total"] == 101)
        .count();
    assert_eq!(receipts, 1);
}

/// Receipts queue while the cover is open; once it is closed they all go through, however long
/// printing the earlier ones takes: the deadline is for a register that cannot work, not for
/// a queue that is moving.
#[tokio::test(flavor = "multi_thread")]
async fn a_queue_that_waited_for_the_cover_drains_after_it_closes() {
    let rig = Rig::with_deadline(2);
    rig.pos
        .post("formReceipt", &receipt_with_total("q-0", 100))
        .await;
    assert_eq!(rig.pos.settled("q-0").await["status"], 2);
    rig.register.control("cover open");
    let ids = ["q-1", "q-2", "q-3", "q-4"];
    for (n, id) in ids.iter().enumerate() {
        rig.pos
            .post("formReceipt", &receipt_with_total(id, 201 + n as u64))
            .await;
    }
    for id in ids {
        wait_for_reason(&rig.pos, id, "COVER_OPEN").await;
    }
    // Slow paper: draining four receipts takes longer than the 2 s deadline.
    rig.register.control("print-time 150");
    rig.register.control("cover close");
    for id in ids {
        let done = rig.pos.settled(id).await;
        assert_eq!(done["status"], 2, "{id}: {done}");
    }
}
