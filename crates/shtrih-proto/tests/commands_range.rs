//! Money and quantity fields are five and six bytes (§3): a value above what they carry is
//! refused by `check`/`try_encode`, never capped or cut down; the largest value goes out as it
//! is. The expected bytes are written from the protocol notes' layouts, not by our encoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hex;

use shtrih_proto::command::{
    CashIn, CloseReceiptV2, Command, OperationKind, OperationV2, Password, MAX_MONEY, MAX_QUANTITY,
};

fn item(quantity: u64, price: u64, sum: Option<u64>) -> OperationV2 {
    OperationV2 {
        password: Password(1),
        kind: OperationKind::Sale,
        quantity,
        price,
        sum,
        tax: None,
        tax_group: 1,
        department: 1,
        payment_method: 4,
        payment_subject: 1,
        name: "A".into(),
    }
}

#[test]
fn the_largest_price_is_sent_whole() {
    let msg = item(1_000_000, MAX_MONEY, Some(MAX_MONEY))
        .try_encode()
        .unwrap();
    // FF46 | password 01000000 | kind 01 | quantity 40420F000000 (1 000 000 LE) |
    // price FEFFFFFFFF | sum FEFFFFFFFF | tax FFFFFFFFFF (not given) | group 01 | dept 01 |
    // method 04 | subject 01 | name 'A' (41).
    let expected = "ff 46  01 00 00 00  01  40 42 0f 00 00 00  fe ff ff ff ff  fe ff ff ff ff \
                    ff ff ff ff ff  01  01  04  01  41";
    assert_eq!(msg, hex(expected));
}

#[test]
fn a_value_over_its_field_is_refused_naming_the_field() {
    let e = item(1_000_000, MAX_MONEY + 1, None)
        .try_encode()
        .unwrap_err();
    assert_eq!(e.field, "price");
    assert_eq!(e.value, MAX_MONEY + 1);
    let e = item(1_000_000, 1, Some(MAX_MONEY + 1)).check().unwrap_err();
    assert_eq!(e.field, "sum");
    let e = item(MAX_QUANTITY + 1, 1, None).check().unwrap_err();
    assert_eq!(e.field, "quantity");

    let cash = CashIn {
        password: Password(1),
        amount: MAX_MONEY + 1,
    };
    assert_eq!(cash.try_encode().unwrap_err().field, "amount");
    let ok = CashIn {
        password: Password(1),
        amount: MAX_MONEY,
    };
    // 50 | password 01000000 | amount FEFFFFFFFF.
    assert_eq!(
        ok.try_encode().unwrap(),
        hex("50  01 00 00 00  fe ff ff ff ff")
    );

    let mut payments = [0u64; 16];
    payments[3] = MAX_MONEY + 1;
    let close = CloseReceiptV2 {
        password: Password(1),
        payments,
        rounding: 0,
        taxes: [0; 6],
        tax_system: 1,
        text: String::new(),
    };
    assert_eq!(close.try_encode().unwrap_err().field, "payment");
}
