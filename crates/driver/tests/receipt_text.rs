//! A receipt's text lines (0x17 inside the open receipt, §7.4) and a seller-given line sum
//! (FF46 offset 18, §7.6.2), made against the emulator and read back from its FN archive and
//! its tape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::LinkLayerChoice;
use emulator::LinkChoice;
use fiscal_model::{
    Item, Kopecks, Payments, Quantity, Receipt, ReceiptParts, ReceiptText, ReceiptType,
    TaxGroupMap, TaxationSystem, VatRate,
};

use common::{archived_receipts, cashier, connect, emulator};

fn item(name: &str, quantity: u64, price: u64) -> Item {
    Item {
        name: name.into(),
        quantity: Quantity(quantity),
        price: Kopecks(price),
        vat: VatRate::Vat22,
        attributes: Default::default(),
        line_sum: None,
        notes: Vec::new(),
    }
}

/// Header, a juice at 3 × 33.33 = 99.99 for which the buyer pays 100.00, with a note, bread,
/// footer: 145.00 in cash.
fn receipt() -> Receipt {
    let mut juice = item("Сок яблочный", 3_000_000, 3333);
    juice.line_sum = Some(Kopecks(10_000));
    juice.notes = vec!["Скидка 50.00".into()];
    let bread = item("Хлеб", 1_000_000, 4500);
    ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items: vec![juice, bread],
        payments: Payments {
            cash: Kopecks(14_500),
            ..Payments::default()
        },
        total: Kopecks(14_500),
        buyer: None,
        print: true,
    }
    .build()
    .unwrap()
    .with_text(ReceiptText {
        header: vec!["Магазин «Ромашка»".into(), "Касса 2".into(), String::new()],
        footer: vec!["Спасибо за покупку".into()],
    })
    .unwrap()
}

#[tokio::test]
async fn text_lines_print_in_place_and_the_line_sum_is_the_one_given() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, LinkLayerChoice::Standard).await;
    r.open_shift(&cashier()).await.unwrap();
    let tape_before = emu.tape().len();
    let result = r
        .fiscalize(&receipt(), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();

    let docs = archived_receipts(&emu);
    let doc = docs.last().unwrap();
    assert_eq!(doc.fd, result.fd_number);
    let sums: Vec<u64> = doc.items.iter().map(|i| i.sum).collect();
    assert_eq!(
        sums,
        vec![10_000, 4_500],
        "the line sum as given, not 99.99"
    );
    assert_eq!(doc.total, 14_500);
    assert_eq!(doc.payments[0], 14_500);
    assert_eq!(doc.change, 0);

    let tape = emu.tape();
    let printed: Vec<&str> = tape[tape_before..].lines().collect();
    let at = |text: &str| {
        printed
            .iter()
            .position(|l| l.contains(text))
            .unwrap_or_else(|| panic!("{text} not on the tape: {printed:#?}"))
    };
    let header = at("Магазин «Ромашка»");
    assert_eq!(printed[header + 1], "Касса 2");
    // The empty header line went as a single space, which the register prints.
    assert_eq!(printed[header + 2], " ");
    let juice = at("Сок яблочный");
    assert_eq!(
        juice,
        header + 3,
        "the header comes right before the first item"
    );
    assert!(
        printed[juice + 1].ends_with("3 × 33.33 = 100.00"),
        "{printed:#?}"
    );
    assert_eq!(
        printed[juice + 2],
        "Скидка 50.00",
        "the note right under its item"
    );
    assert_eq!(at("Хлеб"), juice + 3);
    let footer = at("Спасибо за покупку");
    assert_eq!(footer, juice + 5, "the footer after the last item");
    assert_eq!(at("ИТОГ"), footer + 1, "and right before the totals");
    assert!(printed[footer + 1].ends_with("=145.00"), "{printed:#?}");
}
