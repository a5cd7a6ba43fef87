//! Promise 2 under compound faults, through the real gateway: the register executes a command,
//! the one ACK it sends back is lost on the line, and (in the harder half) its power dies right
//! after the commit, taking the retained answer with it. For a close receipt (FF45), an item
//! (FF46), a cash in (0x50), a cash out (0x51), a shift opening (E0) and a Z report (0x41), on
//! both link layers: one document, the right status, and a re-post of the same operationId
//! changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{receipt_with_total, write_config, Gateway, GatewayOptions, Pos, Register, CASHBOX};

/// A register speaking `layer` ("standard" or "v2") and a gateway configured for it.
struct Bench {
    _dir: tempfile::TempDir,
    register: Register,
    _gateway: Gateway,
    pos: Pos,
}

impl Bench {
    fn start(layer: &str) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let register = Register::start(dir.path(), &["--link-layer", layer]);
        let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
        let text = std::fs::read_to_string(&config).unwrap().replace(
            "link_layer = \"standard\"",
            &format!("link_layer = \"{layer}\""),
        );
        std::fs::write(&config, text).unwrap();
        let gateway = Gateway::start(dir.path(), &config);
        let pos = Pos::new(&gateway.base);
        Bench {
            _dir: dir,
            register,
            _gateway: gateway,
            pos,
        }
    }

    fn status(&self) -> Value {
        serde_json::from_str(self.register.control("status").trim()).unwrap()
    }

    /// Arms the lost ACK on `code`, and the power cut after its commit when `cut`.
    fn arm(&self, code: &str, cut: bool) {
        assert_eq!(
            self.register
                .control(&format!("drop-next-ack {code}"))
                .trim(),
            "ok"
        );
        if cut {
            assert_eq!(
                self.register
                    .control(&format!("power-cut after-commit {code}"))
                    .trim(),
                "ok"
            );
        }
    }

    /// Both faults struck (nothing is left armed).
    fn assert_struck(&self, what: &str) {
        let s = self.status();
        assert!(
            s["armed_drop_ack"].is_null(),
            "{what}: the ACK was lost: {s}"
        );
        assert!(
            s["armed_power_cut"].is_null(),
            "{what}: the cut struck: {s}"
        );
    }

    fn documents(&self, doc_type: u64) -> Vec<Value> {
        self.register.documents(doc_type)
    }

    /// Posts `body` as `op`, expects status 2, re-posts it and expects the same answer.
    async fn done_once(&self, op: &str, id: &str, body: &Value) -> Value {
        let (code, answer) = self.pos.post(op, body).await;
        assert_eq!(code, 200, "{id}: {answer}");
        let done = self.pos.settled(id).await;
        assert_eq!(done["status"], 2, "{id}: {done}");
        let (code, again) = self.pos.post(op, body).await;
        assert_eq!(code, 200, "{id}: {again}");
        let again = self.pos.settled(id).await;
        assert_eq!(again, done, "{id}: a re-post changes nothing");
        done
    }
}

fn cash(id: &str, kopecks: u64) -> Value {
    let amount: Value =
        serde_json::from_str(&format!("{}.{:02}", kopecks / 100, kopecks % 100)).unwrap();
    json!({"cashboxId": CASHBOX, "amount": amount, "operationId": id})
}

async fn receipts_and_cash(layer: &str) {
    let b = Bench::start(layer);
    b.done_once("formReceipt", "warm", &receipt_with_total("warm", 100))
        .await;
    let mut total = 1000;
    for code in ["FF45", "FF46"] {
        for cut in [false, true] {
            total += 1;
            let id = format!("{layer}-{code}-{cut}");
            b.arm(code, cut);
            let done = b
                .done_once("formReceipt", &id, &receipt_with_total(&id, total))
                .await;
            b.assert_struck(&id);
            let matching: Vec<Value> = b
                .documents(3)
                .into_iter()
                .filter(|d| d["total"] == total)
                .collect();
            assert_eq!(matching.len(), 1, "{id}: exactly one FN receipt");
            assert_eq!(
                done["fiscalParams"]["fiscalDocumentNumber"], matching[0]["fd"],
                "{id}: the FD is the FN's"
            );
            assert_eq!(
                matching[0]["items"].as_array().map(Vec::len),
                Some(1),
                "{id}: the item once"
            );
        }
    }
    for (op, code, counter) in [
        ("depositCash", "50", "cash_in_count"),
        ("withdrawCash", "51", "cash_out_count"),
    ] {
        for cut in [false, true] {
            let id = format!("{layer}-{code}-{cut}");
            let before = b.status()[counter].as_u64().unwrap();
            b.arm(code, cut);
            b.done_once(op, &id, &cash(&id, 500)).await;
            b.assert_struck(&id);
            assert_eq!(
                b.status()[counter].as_u64().unwrap(),
                before + 1,
                "{id}: exactly one cash movement"
            );
        }
    }
}

/// The worker opens a shift on demand (E0) and closes one past 24 hours with a Z (0x41).
async fn shift_reports(layer: &str) {
    let b = Bench::start(layer);
    b.done_once("formReceipt", "warm", &receipt_with_total("warm", 100))
        .await;
    let mut total = 2000;
    let mut offset = 0;
    for cut in [false, true] {
        // E0: the shift is closed at the keyboard; the next receipt needs a new one.
        assert_eq!(b.register.control("keyboard z-report").trim(), "ok");
        let opened = b.documents(2).len();
        b.arm("E0", cut);
        total += 1;
        let id = format!("{layer}-E0-{cut}");
        b.done_once("formReceipt", &id, &receipt_with_total(&id, total))
            .await;
        b.assert_struck(&id);
        assert_eq!(b.documents(2).len(), opened + 1, "{id}: one shift opened");

        // 0x41: the shift is past 24 hours; the worker closes it before the next receipt.
        let closed = b.documents(5).len();
        offset += 1500;
        b.register.control(&format!("clock-offset {offset}"));
        b.arm("41", cut);
        total += 1;
        let id = format!("{layer}-41-{cut}");
        b.done_once("formReceipt", &id, &receipt_with_total(&id, total))
            .await;
        b.assert_struck(&id);
        assert_eq!(b.documents(5).len(), closed + 1, "{id}: one Z report");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_ack_and_power_cut_on_receipts_and_cash_standard_link() {
    receipts_and_cash("standard").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_ack_and_power_cut_on_receipts_and_cash_protocol_v2() {
    receipts_and_cash("v2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_ack_and_power_cut_on_shift_reports_standard_link() {
    shift_reports("standard").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_ack_and_power_cut_on_shift_reports_protocol_v2() {
    shift_reports("v2").await;
}

/// Settling can lose a command too: a receipt left open by a lost item is being finished when
/// the power goes again, on its tags. Nothing new may be sent before that is settled: the next
/// operation must not find (and cancel) the open receipt, which would leave the first one to
/// be judged against a foreign document (an operator halt).
#[tokio::test(flavor = "multi_thread")]
async fn a_command_lost_while_finishing_a_receipt_is_settled_before_anything_else() {
    let b = Bench::start("standard");
    b.done_once("formReceipt", "warm", &receipt_with_total("warm", 100))
        .await;
    // The item lands, the power dies and stays off.
    assert_eq!(
        b.register
            .control("power-cut after-commit FF46 stay-off")
            .trim(),
        "ok"
    );
    let (code, _) = b
        .pos
        .post("formReceipt", &receipt_with_total("first", 301))
        .await;
    assert_eq!(code, 200);
    support::until("the cut struck", || async {
        b.status()["armed_power_cut"].is_null().then_some(())
    })
    .await;
    // Another receipt queues behind it; the finishing will lose its tags to another cut.
    let (code, _) = b
        .pos
        .post("formReceipt", &receipt_with_total("second", 302))
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        b.register.control("power-cut after-commit FF0C").trim(),
        "ok"
    );
    assert_eq!(b.register.control("power on").trim(), "ok");

    for id in ["first", "second"] {
        let done = b.pos.settled(id).await;
        assert_eq!(done["status"], 2, "{id}: {done}");
    }
    assert!(
        b.status()["armed_power_cut"].is_null(),
        "the second cut struck"
    );
    for total in [301, 302] {
        let n = b
            .documents(3)
            .into_iter()
            .filter(|d| d["total"] == total)
            .count();
        assert_eq!(n, 1, "one receipt of {total}");
    }
}
