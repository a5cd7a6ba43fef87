//! The legacy 0x80-family receipt commands (as pyshtrih sends them) and identity queries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;

fn legacy_item(code: u8, quantity_thousandths: u64, price: u64, tax: u8, name: &str) -> Vec<u8> {
    let mut rest = le(quantity_thousandths, 5);
    rest.extend(le(price, 5));
    rest.extend([1, tax, 0, 0, 0]);
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(name);
    let mut text = bytes.to_vec();
    text.resize(40, 0);
    rest.extend(text);
    cmd(&[code], CASHIER, &rest)
}

fn legacy_close(cash: u64) -> Vec<u8> {
    let mut rest = le(cash, 5);
    rest.extend(vec![0; 15]);
    rest.extend([0, 0]);
    rest.extend([0; 4]);
    rest.extend([0; 40]);
    cmd(&[0x85], CASHIER, &rest)
}

#[test]
fn legacy_sale_opens_and_closes_a_receipt_with_an_fd() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let before = last_fd(&mut d, now);
    let msg = legacy_item(0x80, 1000, 10000, 0, "Товар");
    assert_eq!(msg.len(), 60, "§12.9 legacy sale is LEN 60");
    ok(&mut d, &msg, now);
    assert_eq!(mode_submode(&mut d, now), (0x08, 0));
    ok(&mut d, &legacy_item(0x80, 2500, 2000, 1, "Пакет"), now);
    assert_eq!(
        error(&mut d, &legacy_item(0x82, 1000, 1, 1, "x"), now),
        0x49
    );
    let a = ok(&mut d, &legacy_close(20000), now);
    assert_eq!(a.len(), 8);
    assert_eq!(le_at(&a, 3, 5), 20000 - 15000);
    let doc = d.archive().last().unwrap();
    assert_eq!(
        (doc.fd, doc.doc_type, doc.operation, doc.total),
        (before + 1, 3, 1, 15000)
    );
    assert_eq!(doc.items[0].tax_group, 4, "no tax byte: no VAT");
    assert_eq!(doc.items[1].quantity, 2_500_000);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
}

#[test]
fn legacy_discount_and_storno_change_the_total() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &legacy_item(0x80, 2000, 5000, 1, "Товар"), now);
    ok(&mut d, &legacy_item(0x84, 1000, 5000, 1, "Товар"), now);
    let mut discount = le(500, 5);
    discount.extend([0; 4]);
    discount.extend([0; 40]);
    ok(&mut d, &cmd(&[0x86], CASHIER, &discount), now);
    let sub = ok(&mut d, &cmd(&[0x89], CASHIER, &[]), now);
    assert_eq!(le_at(&sub, 3, 5), 4500);
    ok(&mut d, &legacy_close(4500), now);
    assert_eq!(d.archive().last().unwrap().total, 4500);
}

#[test]
fn identity_queries_answer_with_documented_lengths() {
    let mut d = device();
    let now = t0();
    let fc = ok(&mut d, &[0xFC], now);
    assert_eq!(&fc[..8], &[0xFC, 0, 0, 0, 1, 14, 250, 0]);
    let full = ok(&mut d, &cmd(&[0x11], SYSADMIN, &[]), now);
    assert_eq!(full.len(), 48);
    assert_eq!(&full[25..31], &[23, 11, 26, 10, 0, 0]);
    assert_eq!(le_at(&full, 32, 4), 12345);
    assert_eq!(le_at(&full, 42, 6), 7_700_000_000);
    assert_eq!(ok(&mut d, &fn_query(0x02, &[]), now).len(), 19);
    assert_eq!(ok(&mut d, &fn_query(0x03, &[]), now).len(), 8);
    assert_eq!(ok(&mut d, &fn_query(0x04, &[]), now).len(), 20);
    assert_eq!(ok(&mut d, &fn_query(0x09, &[]), now).len(), 67);
    assert_eq!(error(&mut d, &fn_query(0x0A, &le(99, 4)), now), 0x08);
    let f7 = ok(&mut d, &[0xF7, 1], now);
    assert_eq!(le_at(&f7, 2, 8) & (1 << 28), 1 << 28);
    let text = ok(&mut d, &[0x6B, 0x4F], now);
    assert_eq!(
        encoding_rs::WINDOWS_1251.decode(&text[2..]).0,
        "Неверный пароль"
    );
}

#[test]
fn tables_hold_ffd_version_identity_and_settings() {
    let mut d = device();
    let now = t0();
    let read = |d: &mut emulator::device::Device, t: u8, r: u16, f: u8| {
        let mut rest = vec![t];
        rest.extend(r.to_le_bytes());
        rest.push(f);
        ok(d, &cmd(&[0x1F], SYSADMIN, &rest), now)[2..].to_vec()
    };
    assert_eq!(read(&mut d, 17, 1, 17), vec![4]);
    assert_eq!(&read(&mut d, 18, 1, 4)[..16], b"9999078900012345");
    // Table 6 of 2026 firmware (FFD 1.2 addendum §2.3): row 1 20 %, row 11 22 %.
    assert_eq!(vec![0xD0, 0x07], read(&mut d, 6, 1, 1));
    assert_eq!(vec![0x98, 0x08], read(&mut d, 6, 11, 1));
    ok(&mut d, &cmd(&[0x1E], SYSADMIN, &[17, 1, 0, 36, 1]), now);
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &item(1, 1_000_000, 100, 1, "x"), now);
    assert_eq!(
        ok(&mut d, &close(100, 0), now).len(),
        21,
        "extended answer adds DATE_TIME"
    );
    assert_eq!(
        error(&mut d, &cmd(&[0x1E], SYSADMIN, &[18, 1, 0, 1, b'1']), now),
        0x7A
    );
    assert_eq!(
        error(&mut d, &cmd(&[0x1F], CASHIER, &[17, 1, 0, 17]), now),
        0x4F
    );
}

#[test]
fn refused_legacy_close_leaves_the_receipt_unchanged() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &legacy_item(0x80, 1000, 10000, 1, "Товар"), now);
    let mut close_with_discount = legacy_close(1000);
    // 10.00 % discount (Int16 in 0.01 %) right after the four payment sums.
    close_with_discount[25..27].copy_from_slice(&1000i16.to_le_bytes());
    assert_eq!(error(&mut d, &close_with_discount, now), 0x45);
    let sub = ok(&mut d, &cmd(&[0x89], CASHIER, &[]), now);
    assert_eq!(
        le_at(&sub, 3, 5),
        10000,
        "discount not applied by a refused close"
    );
    close_with_discount[5..10].copy_from_slice(&le(9000, 5));
    let a = ok(&mut d, &close_with_discount, now);
    assert_eq!(le_at(&a, 3, 5), 0);
    assert_eq!(d.archive().last().unwrap().total, 9000);
}
