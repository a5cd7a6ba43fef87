//! A receipt's seller-given line sum (FF46 offset 18, §7.6.2) and its text lines (0x17 on
//! the receipt tape, §7.4): frames written by hand from the tables, as hex
//! (never produced by our encoder), decode to their meaning and encode back to their bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{msg, PWD1};
use shtrih_proto::command::print::{PRINT_DEFERRED, PRINT_ON_RECEIPT};
use shtrih_proto::command::*;

#[test]
fn an_operation_with_an_explicit_sum_carries_it_at_offset_18() {
    // 3 pcs × 33.33 = 99.99, the buyer pays 100.00: quantity 3 000 000 (C0 C6 2D 00 00 00),
    // price 3333 (05 0D 00 00 00), sum 10000 (10 27 00 00 00), tax amount not given (FF × 5),
    // tax byte 01 (row 1, addendum §2), department 1, method 4, object 1, "Тест" in CP1251.
    let frame = msg("02 24 FF 46 01 00 00 00 01 C0 C6 2D 00 00 00 05 0D 00 00 00 10 27 00 00 00 FF FF FF FF FF 01 01 04 01 D2 E5 F1 F2 47");
    let item = OperationV2 {
        password: PWD1,
        kind: OperationKind::Sale,
        quantity: 3_000_000,
        price: 3333,
        sum: Some(10_000),
        tax: None,
        tax_group: 1,
        department: 1,
        payment_method: 4,
        payment_subject: 1,
        name: "Тест".into(),
    };
    assert_eq!(item.encode(), frame);
    assert_eq!(OperationV2::decode(&frame).unwrap(), item);
    // Without a sum the field is five 0xFF: the register computes price × quantity.
    let computed = OperationV2 { sum: None, ..item };
    assert_eq!(computed.encode()[18..23], [0xFF; 5]);
}

#[test]
fn a_receipt_text_line_is_0x17_on_the_receipt_tape() {
    // Flags 0x02: bit 1, the receipt tape (as the vendor's driver sends a message inside a
    // receipt); "Скидка 50.00" in CP1251, NUL-padded to the classic 40-byte field (LEN 46).
    let frame = msg("02 2E 17 01 00 00 00 02 D1 EA E8 E4 EA E0 20 35 30 2E 30 30 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 0C");
    let line = PrintLine {
        password: PWD1,
        flags: PRINT_ON_RECEIPT,
        text: "Скидка 50.00".into(),
    };
    assert_eq!(line.flags, 0x02);
    // Bit 7 (deferred) is its own flag.
    assert_eq!(PRINT_DEFERRED, 0x80);
    assert_eq!(line.encode(), frame);
    assert_eq!(PrintLine::decode(&frame).unwrap(), line);
}
