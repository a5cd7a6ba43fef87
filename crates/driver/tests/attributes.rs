//! Item and receipt attributes (FFD 1.2 addendum §3) reach the register where the addendum
//! says: tags 1214/1212 in FF46 offsets 30/31, 2108, 1291, 1222–1226 with FF4D after the item,
//! the receipt's cashier, 1256 {1227, 1228} with FF0C, payments 1215–1217 in FF45 slots
//! 14–16. Read back from the emulator's FN archive and compared with hand-written bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::LinkLayerChoice;
use emulator::{Emulator, EmulatorConfig, LinkChoice, LinkTiming};
use fiscal_model::{
    Agent, BuyerDetails, FractionalQuantity, Item, ItemAttributes, Kopecks, MeasurementUnit,
    PaymentMethod, PaymentObject, Payments, Quantity, Receipt, ReceiptCashier, ReceiptParts,
    ReceiptType, Supplier, TaxGroupMap, TaxationSystem, VatRate,
};
use std::time::Duration;

use common::{archived_receipts, cashier, connect};

const STD: LinkLayerChoice = LinkLayerChoice::Standard;

fn emulator_with_ffd(ffd_version: u8) -> Emulator {
    let mut config = EmulatorConfig {
        link: LinkChoice::Standard,
        timing: LinkTiming {
            t_byte: Duration::from_millis(20),
            ack_wait: Duration::from_millis(100),
        },
        ..EmulatorConfig::default()
    };
    config.device.ffd_version = ffd_version;
    Emulator::new(config).expect("emulator")
}

fn plain(name: &str, quantity: u64, price: u64, vat: VatRate) -> Item {
    Item {
        name: name.into(),
        quantity: Quantity(quantity),
        price: Kopecks(price),
        vat,
        attributes: ItemAttributes::default(),
        line_sum: None,
        notes: Vec::new(),
    }
}

/// Three items: a quarter of a pack (1/4, paid in advance, excise goods without a code), a
/// weighed item in kg sold by a commission agent for a supplier, and a plain one.
fn receipt() -> Receipt {
    let mut pack = plain("Таблетки, 1/4 уп.", 1_000_000, 5_000, VatRate::Vat10);
    pack.attributes = ItemAttributes {
        payment_method: PaymentMethod::from_code(1, "m").unwrap(),
        payment_object: PaymentObject::from_code(30, "o").unwrap(),
        fractional_quantity: Some(FractionalQuantity::new(1, 4, "f").unwrap()),
        ..ItemAttributes::default()
    };
    let mut weighed = plain("Сыр весовой", 750_000, 40_000, VatRate::Vat22);
    weighed.attributes = ItemAttributes {
        payment_method: PaymentMethod::from_code(7, "m").unwrap(),
        payment_object: PaymentObject::from_code(10, "o").unwrap(),
        measurement_unit: MeasurementUnit::from_code(11, "u").unwrap(),
        agent: Some(Agent::new(32, Some("+79123456789".into()), "a").unwrap()),
        supplier: Some(Supplier {
            name: "Ромашка".into(),
            inn: "7707083893".into(),
            phone: Some("+74951234567".into()),
        }),
        ..ItemAttributes::default()
    };
    let bread = plain("Хлеб", 1_000_000, 4_500, VatRate::Vat22);
    // 50.00 + 300.00 + 45.00 = 395.00
    let payments = Payments {
        cash: Kopecks(10_000),
        cashless: Kopecks(9_500),
        prepayment: Kopecks(5_000),
        postpayment: Kopecks(10_000),
        counter_provision: Kopecks(5_000),
    };
    ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items: vec![pack, weighed, bread],
        payments,
        total: Kopecks(39_500),
        buyer: None,
        print: true,
    }
    .build()
    .unwrap()
    .with_cashier(Some(ReceiptCashier {
        name: "Петров".into(),
        inn: None,
    }))
    .with_buyer_details(Some(BuyerDetails {
        name: Some("Иванов".into()),
        inn: Some("7707083893".into()),
    }))
}

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Tag and value of each TLV, the value as hex.
fn tags(tlvs: &[emulator::device::Tlv]) -> Vec<(u16, Vec<u8>)> {
    tlvs.iter().map(|t| (t.tag, t.value.clone())).collect()
}

#[tokio::test]
async fn each_attribute_lands_where_the_addendum_says() {
    let emu = emulator_with_ffd(4);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    r.fiscalize(&receipt(), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    let docs = archived_receipts(&emu);
    let doc = docs.last().unwrap();

    // FF46 offsets 30 and 31.
    let bytes: Vec<(u8, u8)> = doc
        .items
        .iter()
        .map(|i| (i.payment_method, i.payment_subject))
        .collect();
    assert_eq!(bytes, vec![(1, 30), (7, 10), (4, 1)]);

    // FF4D after each item: 1291 {1293 = 1, 1294 = 4} (VLN); nothing for pieces.
    assert_eq!(
        tags(&doc.items[0].tlvs),
        vec![(1291, hex("0D 05 01 00 01 0E 05 01 00 04"))]
    );
    // 2108 = 11 (kg); 1222 = 32; 1223 {1073 "+79123456789"}; 1224 {1171 phone, 1225 name
    // CP866}; 1226 INN padded with spaces to 12.
    assert_eq!(
        tags(&doc.items[1].tlvs),
        vec![
            (2108, hex("0B")),
            (1222, hex("20")),
            (1223, hex("31 04 0C 00 2B 37 39 31 32 33 34 35 36 37 38 39")),
            (
                1224,
                hex("93 04 0C 00 2B 37 34 39 35 31 32 33 34 35 36 37 \
                     C9 04 07 00 90 AE AC A0 E8 AA A0")
            ),
            (1226, hex("37 37 30 37 30 38 33 38 39 33 20 20")),
        ]
    );
    assert!(doc.items[2].tlvs.is_empty());

    // FF0C: the receipt's cashier instead of the configured one (and not its INN);
    // 1256 {1227 "Иванов" CP866, 1228 INN padded}.
    assert_eq!(
        tags(&doc.tlvs),
        vec![
            (1021, hex("8F A5 E2 E0 AE A2")),
            (
                1256,
                hex("CB 04 06 00 88 A2 A0 AD AE A2 \
                     CC 04 0C 00 37 37 30 37 30 38 33 38 39 33 20 20")
            ),
        ]
    );

    // FF45 slots 1, 2, 14, 15, 16.
    let mut payments = vec![0u64; 16];
    payments[0] = 10_000;
    payments[1] = 9_500;
    payments[13] = 5_000;
    payments[14] = 10_000;
    payments[15] = 5_000;
    assert_eq!(doc.payments, payments);
    assert_eq!(doc.total, 39_500);
}

#[tokio::test]
async fn buyer_tags_go_bare_under_ffd_1_05() {
    let emu = emulator_with_ffd(2);
    let mut r = connect(&emu, STD).await;
    assert_eq!(r.identity().await.unwrap().ffd_version, "1.05");
    r.open_shift(&cashier()).await.unwrap();
    r.fiscalize(&receipt(), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    let docs = archived_receipts(&emu);
    let found: Vec<u16> = docs.last().unwrap().tlvs.iter().map(|t| t.tag).collect();
    assert_eq!(found, vec![1021, 1227, 1228]);
}

#[tokio::test]
async fn a_plain_receipt_sends_what_it_sent_before() {
    let emu = emulator_with_ffd(4);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    r.fiscalize(
        &common::receipt(0),
        &TaxGroupMap::default(),
        Some(&cashier()),
    )
    .await
    .unwrap();
    let docs = archived_receipts(&emu);
    let doc = docs.last().unwrap();
    assert!(doc
        .items
        .iter()
        .all(|i| (i.payment_method, i.payment_subject) == (4, 1) && i.tlvs.is_empty()));
    let found: Vec<u16> = doc.tlvs.iter().map(|t| t.tag).collect();
    assert_eq!(found, vec![1008, 1021, 1203]);
    assert_eq!(doc.tlvs[2].value, b"500100732259".to_vec());
}

/// A lost FF46 or FF4D of an item with tags: the receipt is not resumed (the operation count
/// cannot tell whether the landed item has its tags), it is cancelled and made again, and the
/// FN holds one receipt whose every item has its tags once.
#[tokio::test]
async fn a_lost_item_command_with_tags_is_cancelled_and_redone() {
    use common::cut_and_settle;
    use emulator::CutPoint;
    for (code, point) in [
        (0xFF46, CutPoint::AfterCommit),
        (0xFF4D, CutPoint::BeforeExecution),
        (0xFF4D, CutPoint::AfterCommit),
    ] {
        let emu = emulator_with_ffd(4);
        let mut r = connect(&emu, STD).await;
        r.open_shift(&cashier()).await.unwrap();
        let receipt = receipt();
        let (_, resumed) =
            cut_and_settle(&emu, &mut r, &receipt, Some(&cashier()), point, code).await;
        assert!(resumed.is_none(), "{code:X} {point:?}: not resumed");
        let docs = archived_receipts(&emu);
        assert_eq!(docs.len(), 1, "{code:X} {point:?}: one receipt");
        let found: Vec<Vec<u16>> = docs[0]
            .items
            .iter()
            .map(|i| i.tlvs.iter().map(|t| t.tag).collect())
            .collect();
        assert_eq!(
            found,
            vec![vec![1291], vec![2108, 1222, 1223, 1224, 1226], vec![]],
            "{code:X} {point:?}"
        );
    }
}
