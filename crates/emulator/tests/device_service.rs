//! Clock, FN-only shift commands, table structure and printing commands of the device model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;

#[test]
fn date_is_set_through_mode_6_and_confirmed() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &cmd(&[0x21], SYSADMIN, &[15, 31, 0]), now);
    ok(&mut d, &cmd(&[0x22], SYSADMIN, &[6, 10, 26]), now);
    assert_eq!(mode_submode(&mut d, now), (6, 0));
    assert_eq!(
        error(&mut d, &cmd(&[0x23], SYSADMIN, &[7, 10, 26]), now),
        0x7C
    );
    ok(&mut d, &cmd(&[0x23], SYSADMIN, &[6, 10, 26]), now);
    assert_eq!(mode_submode(&mut d, now), (4, 0));
    let full = ok(&mut d, &cmd(&[0x11], SYSADMIN, &[]), now);
    assert_eq!(&full[25..30], &[6, 10, 26, 15, 31]);
    ok(&mut d, &open_shift(), now);
    assert_eq!(
        error(&mut d, &cmd(&[0x21], SYSADMIN, &[10, 0, 0]), now),
        0x73
    );
    assert_eq!(
        error(&mut d, &cmd(&[0x21], CASHIER, &[10, 0, 0]), now),
        0x4F
    );
}

#[test]
fn fn_only_shift_commands_answer_numbers() {
    let mut d = device();
    let now = t0();
    let a = ok(&mut d, &fn_query(0x0B, &[]), now);
    assert_eq!(a.len(), 13);
    assert_eq!(le_at(&a, 3, 2), 1);
    let fd = le_at(&a, 5, 4) as u32;
    assert_eq!(d.archive().last().unwrap().fd, fd);

    ok(&mut d, &fn_query(0x42, &[]), now);
    ok(&mut d, &tlv(1021, "Иванов".as_bytes()), now);
    let status = ok(&mut d, &fn_query(0x01, &[]), now);
    assert_eq!((status[4], status[5], status[6]), (0x08, 1, 1));
    let a = ok(&mut d, &fn_query(0x43, &[]), now);
    assert_eq!(a.len(), 13);
    assert_eq!(le_at(&a, 5, 4) as u32, fd + 1);
    let closing = d.archive().last().unwrap();
    assert_eq!((closing.doc_type, closing.tlvs[0].tag), (5, 1021));
    let status = ok(&mut d, &fn_query(0x01, &[]), now);
    assert_eq!((status[4], status[6]), (0, 0));
    assert_eq!(error(&mut d, &tlv(1021, b"x"), now), 0x02);
}

#[test]
fn table_structures_describe_fields() {
    let mut d = device();
    let now = t0();
    let t = ok(&mut d, &cmd(&[0x2D], SYSADMIN, &[6]), now);
    assert_eq!(t.len(), 2 + 40 + 3);
    assert_eq!(
        (le_at(&t, 42, 2), t[44]),
        (12, 2),
        "2026 firmware: 12 tax rows"
    );
    let f = ok(&mut d, &cmd(&[0x2E], SYSADMIN, &[6, 1]), now);
    assert_eq!((f[42], f[43]), (0, 2));
    assert_eq!(le_at(&f, 46, 2), 9999);
    assert_eq!(error(&mut d, &cmd(&[0x2D], SYSADMIN, &[99]), now), 0x5D);
}

#[test]
fn print_commands_reach_the_tape() {
    let mut d = device();
    let now = t0();
    let (text, _, _) = encoding_rs::WINDOWS_1251.encode("Спасибо за покупку!");
    let mut line = vec![0x02];
    line.extend_from_slice(&text);
    line.resize(41, 0);
    ok(&mut d, &cmd(&[0x17], CASHIER, &line), now);
    ok(&mut d, &cmd(&[0x29], CASHIER, &[0x02, 3]), now);
    ok(&mut d, &cmd(&[0x25], CASHIER, &[0]), now);
    assert!(d.tape().contains("Спасибо за покупку!\n\n\n\n"));
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &cmd(&[0x40], SYSADMIN, &[]), now);
    assert!(d.tape().contains("СУТОЧНЫЙ ОТЧЕТ БЕЗ ГАШЕНИЯ"));
    assert_eq!(error(&mut d, &cmd(&[0x40], CASHIER, &[]), now), 0x4F);
    assert_eq!(
        d.archive().last().unwrap().doc_type,
        2,
        "X report is not an FD"
    );
}

#[test]
fn dont_print_setting_skips_one_document() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &cmd(&[0x1E], SYSADMIN, &[17, 1, 0, 7, 1]), now);
    ok(&mut d, &open_shift(), now);
    assert!(!d.tape().contains("ОТКРЫТИИ СМЕНЫ"));
    ok(&mut d, &z_report(), now);
    assert!(d.tape().contains("ЗАКРЫТИИ СМЕНЫ"));
}

#[test]
fn repeat_document_and_fn_cancel() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    assert_eq!(error(&mut d, &cmd(&[0x8C], CASHIER, &[]), now), 0x56);
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &item(1, 1_000_000, 100, 0, "Вода"), now);
    ok(&mut d, &close(100, 0), now);
    assert_eq!(d.archive().last().unwrap().items[0].tax_group, 4);
    ok(&mut d, &cmd(&[0x8C], CASHIER, &[]), now);
    assert!(d.tape().contains("ПОВТОР ДОКУМЕНТА"));
    assert_eq!(d.tape().matches("Вода").count(), 2);

    let fd = last_fd(&mut d, now);
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &fn_query(0x08, &[]), now);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
    assert_eq!(last_fd(&mut d, now), fd);
    assert_eq!(error(&mut d, &fn_query(0x08, &[]), now), 0x55);
}

#[test]
fn a_z_report_at_the_keyboard_closes_the_shift_and_resets_its_counters() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &cash(true, 500), now);
    let fd = last_fd(&mut d, now);
    d.keyboard_z_report(now).unwrap();
    assert_eq!(last_fd(&mut d, now), fd + 1, "the shift report is an FD");
    assert_eq!(mode_submode(&mut d, now).0 & 0x0F, 4, "shift closed");
    assert_eq!(
        d.keyboard_z_report(now),
        Err(0x73),
        "no shift to close: refused like 0x41 in mode 4"
    );
}
