//! Marked goods (FFD 1.2 addendum §4): the driver checks each code (FF61), accepts it (FF69)
//! and binds it (FF67) inside the open receipt in the classic order, so the FN archive of the
//! emulator holds the product-code tags on the right item; an invalid code fails the receipt
//! naming the position; a receipt with marked items is never resumed, only cancelled and made
//! again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::{LinkLayerChoice, RegisterError};
use emulator::device::MarkingAnswer;
use emulator::{CutPoint, Emulator, LinkChoice};
use fiscal_model::{
    Item, ItemAttributes, Kopecks, MarkingCode, MeasurementUnit, PaymentObject, Payments, Quantity,
    Receipt, ReceiptParts, ReceiptType, TaxGroupMap, TaxationSystem, VatRate,
};

use common::{archived_receipts, cashier, connect, cut_and_settle, emulator};

const STD: LinkLayerChoice = LinkLayerChoice::Standard;

/// The addendum's example code (§4.10).
const MILK: &[u8] = b"0104601234567890215abcDE\x1d93ABCD";
/// A second code of the same form.
const CHEESE: &[u8] = b"0104601234567891215xyzQR\x1d93WXYZ";

fn marked(name: &str, quantity: u64, price: u64, code: &[u8], measure: u8) -> Item {
    Item {
        name: name.into(),
        quantity: Quantity(quantity),
        price: Kopecks(price),
        vat: VatRate::Vat22,
        attributes: ItemAttributes {
            payment_object: PaymentObject::from_code(33, "o").unwrap(),
            measurement_unit: MeasurementUnit::from_code(i64::from(measure), "u").unwrap(),
            marking_code: Some(MarkingCode::new(code.to_vec(), "c").unwrap()),
            ..ItemAttributes::default()
        },
        line_sum: None,
        notes: Vec::new(),
    }
}

fn plain(name: &str, price: u64) -> Item {
    Item {
        name: name.into(),
        quantity: Quantity::ONE,
        price: Kopecks(price),
        vat: VatRate::Vat22,
        attributes: ItemAttributes::default(),
        line_sum: None,
        notes: Vec::new(),
    }
}

/// Milk 1 × 100.00 (piece, marked), cheese 0.750 kg × 400.00 (measured, marked), bread 45.00.
fn receipt(receipt_type: ReceiptType) -> Receipt {
    let items = vec![
        marked("Молоко", 1_000_000, 10_000, MILK, 0),
        marked("Сыр", 750_000, 40_000, CHEESE, 11),
        plain("Хлеб", 4_500),
    ];
    let total = Kopecks(10_000 + 30_000 + 4_500);
    ReceiptParts {
        receipt_type,
        taxation: TaxationSystem::General,
        items,
        payments: Payments {
            cash: total,
            ..Payments::default()
        },
        total,
        buyer: None,
        print: true,
    }
    .build()
    .unwrap()
}

fn tag(item: &emulator::device::ReceiptItem, tag: u16) -> Option<Vec<u8>> {
    item.tlvs
        .iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value.clone())
}

async fn ready(emu: &Emulator) -> driver::Register {
    let mut r = connect(emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    r
}

#[tokio::test]
async fn piece_and_measured_codes_are_bound_to_their_items() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = ready(&emu).await;
    let done = r
        .fiscalize(&receipt(ReceiptType::Sale), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert_eq!(done.marking_checks, vec![Some(0x0F), Some(0x0F), None]);
    let docs = archived_receipts(&emu);
    let doc = docs.last().unwrap();
    let [milk, cheese, bread] = &doc.items[..] else {
        panic!("three items: {:?}", doc.items);
    };
    assert_eq!(tag(milk, 2000).as_deref(), Some(MILK));
    assert_eq!(tag(milk, 2003), Some(vec![1]), "piece sold");
    assert_eq!(
        tag(milk, 2106),
        Some(vec![0x0F]),
        "checked, valid, status fits"
    );
    assert_eq!(tag(cheese, 2000).as_deref(), Some(CHEESE));
    assert_eq!(tag(cheese, 2003), Some(vec![2]), "measured sold");
    assert_eq!(tag(cheese, 2108), Some(vec![11]));
    assert_eq!(tag(bread, 2000), None);
    assert_eq!((milk.payment_subject, cheese.payment_subject), (33, 33));
    // One check, one decision and one bind per code.
    assert_eq!(emu.executions(0xFF61), 2);
    assert_eq!(emu.executions(0xFF69), 2);
    assert_eq!(emu.executions(0xFF67), 2);
}

/// The codes of the requests the emulator executed from the last 0x8D to the next FF45, as
/// "8D", "FF61" …; and the first request with `code`.
fn receipt_wire(emu: &Emulator) -> (Vec<String>, Vec<Vec<u8>>) {
    let requests = emu.executed_requests();
    let start = requests.iter().rposition(|m| m[0] == 0x8D).unwrap();
    let receipt: Vec<Vec<u8>> = requests[start..]
        .iter()
        .take_while(|m| m[..2] != [0xFF, 0x45])
        .cloned()
        .collect();
    let codes = receipt
        .iter()
        .map(|m| match m[0] {
            0xFF => format!("FF{:02X}", m[1]),
            c => format!("{c:02X}"),
        })
        .collect();
    (codes, receipt)
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// The addendum's §4.10 A/B, FF61 of the milk (2003 = 1) and FF67, with the operator's
/// password 1 (the addendum's FF61 shows 30; both are accepted, §4.1), written by hand.
const FF61_MILK: &str = "FF 61 01 00 00 00 01 00 1F 00 \
    30 31 30 34 36 30 31 32 33 34 35 36 37 38 39 30 32 31 35 61 62 63 44 45 1D 39 33 41 42 43 44";
const FF67_MILK: &str = "FF 67 01 00 00 00 1F \
    30 31 30 34 36 30 31 32 33 34 35 36 37 38 39 30 32 31 35 61 62 63 44 45 1D 39 33 41 42 43 44";

#[tokio::test]
async fn the_wire_order_is_the_addendums_for_both_model_families() {
    for (model, expected) in [
        (
            250u8,
            // Classic (§4.10 A, B): FF61, FF69, FF46, FF4D, FF67 per marked item (the receipt's
            // FF0C tags follow the subtotal check, as for every receipt of this driver).
            "8D FF61 FF69 FF46 FF67 FF61 FF69 FF46 FF4D FF67 FF46 89 FF0C",
        ),
        (
            16,
            // Cash core (§4.8): FF61, FF69, FF4D, FF67, FF46.
            "8D FF61 FF69 FF67 FF46 FF61 FF69 FF4D FF67 FF46 FF46 89 FF0C",
        ),
    ] {
        let mut config = emulator::EmulatorConfig {
            link: LinkChoice::Standard,
            timing: emulator::LinkTiming {
                t_byte: std::time::Duration::from_millis(20),
                ack_wait: std::time::Duration::from_millis(100),
            },
            ..emulator::EmulatorConfig::default()
        };
        config.device.model_code = model;
        let emu = Emulator::new(config).unwrap();
        let mut r = ready(&emu).await;
        r.fiscalize(
            &receipt(ReceiptType::Sale),
            &TaxGroupMap::default(),
            Some(&cashier()),
        )
        .await
        .unwrap();
        let (codes, requests) = receipt_wire(&emu);
        assert_eq!(codes.join(" "), expected, "model {model}");
        let first = |code: [u8; 2]| requests.iter().find(|m| m[..2] == code).unwrap().clone();
        assert_eq!(first([0xFF, 0x61]), hex(FF61_MILK), "model {model}");
        assert_eq!(first([0xFF, 0x67]), hex(FF67_MILK), "model {model}");
        // FF69 accept: `FF 69 pwd 01`.
        assert_eq!(
            first([0xFF, 0x69]),
            hex("FF 69 01 00 00 00 01"),
            "model {model}"
        );
        // The cheese's FF61 carries 2108 = 11 and 1023 = 0.750 (§4.10 B).
        let cheese = requests
            .iter()
            .filter(|m| m[..2] == [0xFF, 0x61])
            .nth(1)
            .unwrap();
        assert_eq!(cheese[6], 2, "2003 = 2");
        assert!(cheese.ends_with(&hex("3C 08 01 00 0B FF 03 03 00 03 EE 02")));
    }
}

#[tokio::test]
async fn the_cash_core_gets_tags_and_code_before_the_item() {
    let mut config = emulator::EmulatorConfig {
        link: LinkChoice::Standard,
        timing: emulator::LinkTiming {
            t_byte: std::time::Duration::from_millis(20),
            ack_wait: std::time::Duration::from_millis(100),
        },
        ..emulator::EmulatorConfig::default()
    };
    // 0xFC model 16: a cash-core register (addendum §4.8). Its emulator takes FF4D and FF67
    // for the next FF46, so tags sent in the classic order would land on the wrong item.
    config.device.model_code = 16;
    let emu = Emulator::new(config).unwrap();
    let mut r = ready(&emu).await;
    r.fiscalize(&receipt(ReceiptType::Sale), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    let docs = archived_receipts(&emu);
    let doc = docs.last().unwrap();
    assert_eq!(tag(&doc.items[0], 2000).as_deref(), Some(MILK));
    assert_eq!(tag(&doc.items[0], 2108), None);
    assert_eq!(tag(&doc.items[1], 2000).as_deref(), Some(CHEESE));
    assert_eq!(tag(&doc.items[1], 2108), Some(vec![11]));
    assert!(doc.items[2].tlvs.is_empty());
}

#[tokio::test]
async fn an_invalid_code_fails_the_receipt_naming_the_position() {
    let emu = emulator(LinkChoice::Standard);
    emu.set_marking_answer(CHEESE, MarkingAnswer::Invalid);
    let mut r = ready(&emu).await;
    let before = archived_receipts(&emu).len();
    let e = r
        .fiscalize(&receipt(ReceiptType::Sale), &TaxGroupMap::default(), None)
        .await
        .unwrap_err();
    match &e {
        RegisterError::Rejected(rej) => {
            assert_eq!(rej.code, "MARKING_CODE_INVALID");
            assert!(rej.message.contains("Позиция 2"), "{}", rej.message);
            assert!(rej.message.contains("Сыр"), "{}", rej.message);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(archived_receipts(&emu).len(), before, "no receipt made");
    assert_eq!(emu.executions(0xFF67), 1, "only the milk was bound");
    // The register is ready again and the next receipt goes through.
    emu.set_marking_answer(CHEESE, MarkingAnswer::Valid);
    r.fiscalize(&receipt(ReceiptType::Sale), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert_eq!(archived_receipts(&emu).len(), before + 1);
}

#[tokio::test]
async fn the_sell_and_report_policy_sells_an_invalid_code_and_reports_it() {
    let emu = emulator(LinkChoice::Standard);
    emu.set_marking_answer(CHEESE, MarkingAnswer::Invalid);
    let mut options = common::fast_options(STD);
    options.marking_policy = driver::MarkingPolicy::SellAndReport;
    let mut r = driver::Register::connect(
        driver::Transport::Stream(Box::new(emu.in_memory())),
        options,
    )
    .await
    .unwrap();
    r.open_shift(&cashier()).await.unwrap();
    let done = r
        .fiscalize(&receipt(ReceiptType::Sale), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert_eq!(done.marking_checks, vec![Some(0x0F), Some(0x05), None]);
    let docs = archived_receipts(&emu);
    assert_eq!(tag(&docs.last().unwrap().items[1], 2106), Some(vec![0x05]));
}

#[tokio::test]
async fn no_server_answer_sells_with_the_autonomous_result() {
    let emu = emulator(LinkChoice::Standard);
    emu.set_marking_answer(MILK, MarkingAnswer::NoAnswer);
    emu.set_marking_answer(CHEESE, MarkingAnswer::Timeout);
    let mut r = ready(&emu).await;
    r.fiscalize(&receipt(ReceiptType::Sale), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    let docs = archived_receipts(&emu);
    for item in &docs.last().unwrap().items[..2] {
        let result = tag(item, 2106).unwrap();
        assert_eq!(result[0] & 0x10, 0x10, "2106 bit4: formed autonomously");
    }
}

#[tokio::test]
async fn a_return_of_marked_items_checks_with_return_statuses() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = ready(&emu).await;
    r.cash(fiscal_model::CashMovement {
        kind: fiscal_model::CashMovementKind::In,
        amount: Kopecks(100_000),
    })
    .await
    .unwrap();
    r.fiscalize(
        &receipt(ReceiptType::SaleReturn),
        &TaxGroupMap::default(),
        None,
    )
    .await
    .unwrap();
    let docs = archived_receipts(&emu);
    let doc = docs.last().unwrap();
    assert_eq!(doc.operation, 2);
    assert_eq!(tag(&doc.items[0], 2003), Some(vec![3]), "piece returned");
    assert_eq!(tag(&doc.items[1], 2003), Some(vec![4]), "part returned");
    assert_eq!(tag(&doc.items[0], 2106), Some(vec![0x0F]));
}

#[tokio::test]
async fn a_power_cut_during_the_marking_sequence_cancels_and_redoes_never_resumes() {
    for (code, name) in [(0xFF61, "FF61"), (0xFF69, "FF69"), (0xFF67, "FF67")] {
        let emu = emulator(LinkChoice::Standard);
        let mut r = ready(&emu).await;
        let receipt = receipt(ReceiptType::Sale);
        let (lost, resumed) =
            cut_and_settle(&emu, &mut r, &receipt, None, CutPoint::AfterCommit, code).await;
        assert!(lost.starts_with(name), "{lost}");
        assert_eq!(
            resumed, None,
            "{name}: a receipt with marked items is not resumed"
        );
        let receipts = archived_receipts(&emu);
        assert_eq!(receipts.len(), 1, "{name}: one receipt");
        let codes: Vec<Option<Vec<u8>>> = receipts[0].items.iter().map(|i| tag(i, 2000)).collect();
        assert_eq!(
            codes,
            vec![Some(MILK.to_vec()), Some(CHEESE.to_vec()), None],
            "{name}: each code once, on its item"
        );
    }
}

#[tokio::test]
async fn the_registers_wait_for_the_marking_server_is_read_at_connection() {
    let emu = emulator(LinkChoice::Standard);
    let r = connect(&emu, STD).await;
    // Table 19.8 of the virtual register: its default of 5 s (addendum §4.1).
    assert_eq!(
        r.marking_server_wait(),
        Some(std::time::Duration::from_secs(5))
    );
}
