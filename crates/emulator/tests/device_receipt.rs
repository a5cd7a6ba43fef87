//! Receipts, shifts and cash movements against the pure device model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;

#[test]
fn full_sale_receipt_creates_next_fd_and_prints() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let before = last_fd(&mut d, now);

    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &item(1, 3_000_000, 7000, 1, "Молоко коровье"), now);
    ok(&mut d, &item(1, 1_500_000, 10000, 2, "Сыр"), now);
    ok(&mut d, &item(1, 1_000_000, 4990, 4, "Хлеб"), now);
    let status = ok(&mut d, &short_status(SYSADMIN), now);
    assert_eq!((status[5], status[7], status[12]), (0x08, 3, 0));
    ok(&mut d, &tlv(1008, b"buyer@example.com"), now);
    let total = 21000 + 15000 + 4990;
    let a = ok(&mut d, &close(50000, 0), now);

    assert_eq!(a.len(), 16);
    assert_eq!(le_at(&a, 3, 5), 50000 - total);
    let fd = le_at(&a, 8, 4) as u32;
    let fp = le_at(&a, 12, 4) as u32;
    assert_eq!(fd, before + 1);
    assert_ne!(fp, 0);
    assert_eq!(last_fd(&mut d, now), fd);

    let doc = d.archive().last().unwrap();
    assert_eq!(
        (doc.fd, doc.doc_type, doc.operation, doc.total),
        (fd, 3, 1, total)
    );
    assert_eq!(doc.fiscal_sign, fp);
    assert_eq!(doc.items.len(), 3);
    assert_eq!(doc.tlvs[0].tag, 1008);
    assert!(d.tape().contains("Молоко коровье"));
    assert!(d.tape().contains("3 × 70.00 = 210.00"));
    assert!(d.tape().contains("ПРИХОД"));
    assert!(d.tape().contains(&fp.to_string()));
    assert_eq!(mode_submode(&mut d, now), (2, 0));

    let found = ok(&mut d, &fn_query(0x0A, &le(u64::from(fd), 4)), now);
    assert_eq!(found[3], 3);
    assert_eq!(le_at(&found, 10, 4) as u32, fd);
    assert_eq!(le_at(&found, 14, 4) as u32, fp);
    assert_eq!(found[18], 1);
    assert_eq!(le_at(&found, 19, 5), total);
}

#[test]
fn payments_are_checked() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &item(1, 1_000_000, 10000, 1, "Товар"), now);
    assert_eq!(error(&mut d, &close(5000, 0), now), 0x45);
    assert_eq!(error(&mut d, &close(0, 20000), now), 0x4D);
    let a = ok(&mut d, &close(0, 10000), now);
    assert_eq!(le_at(&a, 3, 5), 0);
}

#[test]
fn shift_open_and_close_create_fd_types_2_and_5() {
    let mut d = device();
    let now = t0();
    assert_eq!(mode_submode(&mut d, now), (4, 0));
    assert_eq!(error(&mut d, &open_receipt(0), now), 0x3D);
    ok(&mut d, &fn_query(0x41, &[]), now);
    ok(&mut d, &tlv(1203, b"262804786800"), now);
    ok(&mut d, &open_shift(), now);
    assert_eq!(d.archive().last().unwrap().doc_type, 2);
    assert_eq!(d.archive().last().unwrap().tlvs[0].tag, 1203);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
    assert_eq!(error(&mut d, &open_shift(), now), 0x73);

    let params = ok(&mut d, &fn_query(0x40, &[]), now);
    assert_eq!((params[3], le_at(&params, 4, 2)), (1, 1));

    ok(&mut d, &z_report(), now);
    let last = d.archive().last().unwrap();
    assert_eq!((last.doc_type, last.shift_number), (5, 1));
    assert_eq!(mode_submode(&mut d, now), (4, 0));
    assert_eq!(error(&mut d, &z_report(), now), 0x73);
    assert!(d.tape().contains("ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ"));
}

#[test]
fn cash_in_and_out_move_registers() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let a = ok(&mut d, &cash(true, 100_000), now);
    assert_eq!(a.len(), 5);
    let first_number = le_at(&a, 3, 2);
    assert_eq!(error(&mut d, &cash(false, 100_001), now), 0x46);
    let a = ok(&mut d, &cash(false, 30_000), now);
    assert_eq!(le_at(&a, 3, 2), first_number + 1);

    let money = |d: &mut emulator::device::Device, n: u8| {
        le_at(&ok(d, &cmd(&[0x1A], CASHIER, &[n]), now), 3, 6)
    };
    let count = |d: &mut emulator::device::Device, n: u8| {
        le_at(&ok(d, &cmd(&[0x1B], CASHIER, &[n]), now), 3, 2)
    };
    assert_eq!(money(&mut d, 241), 70_000);
    assert_eq!(money(&mut d, 242), 100_000);
    assert_eq!(money(&mut d, 243), 30_000);
    assert_eq!(count(&mut d, 153), 1);
    assert_eq!(count(&mut d, 154), 1);
    assert!(d.tape().contains("ВНЕСЕНИЕ"));
}

#[test]
fn cancel_leaves_no_fd() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let fd = last_fd(&mut d, now);
    ok(&mut d, &open_receipt(2), now);
    assert_eq!(error(&mut d, &item(1, 1_000_000, 100, 1, "x"), now), 0x49);
    ok(&mut d, &item(2, 1_000_000, 100, 1, "x"), now);
    ok(&mut d, &cmd(&[0x88], CASHIER, &[]), now);
    assert_eq!(last_fd(&mut d, now), fd);
    assert_eq!(error(&mut d, &cmd(&[0x88], CASHIER, &[]), now), 0x55);
}

#[test]
fn error_answers_carry_only_code_and_error() {
    let mut d = device();
    let now = t0();
    assert_eq!(d.execute(&short_status(31), now), vec![0x10, 0x4F]);
    assert_eq!(d.execute(&fn_query(0x01, &[]), now).len(), 33);
    assert_eq!(
        d.execute(&cmd(&[0xFF, 0x01], 31, &[]), now),
        vec![0xFF, 0x01, 0x4F]
    );
    assert_eq!(d.execute(&z_report(), now), vec![0x41, 0x73]);
    assert_eq!(d.execute(&[0x77], now), vec![0x77, 0x37]);
    assert_eq!(
        d.execute(&[0xFF, 0x99, 30, 0, 0, 0], now),
        vec![0xFF, 0x99, 0x37]
    );
}

#[test]
fn short_status_layout_matches_captured_frame() {
    // §12.1: 10 00 1E 92 02 02 00 00 9F E5 18 01 00 92 08 00 (shift open, idle).
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let a = ok(&mut d, &short_status(SYSADMIN), now);
    assert_eq!(a.len(), 16);
    assert_eq!(&a[..3], &[0x10, 0x00, 0x1E]);
    let flags = le_at(&a, 3, 2);
    assert_eq!(flags & 0x0282, 0x0282, "roll, optical sensor, lever");
    assert_eq!(flags & 0x0400, 0, "cover closed");
    assert_eq!((a[5], a[6], a[7], a[12]), (0x02, 0x00, 0x00, 0x00));
    assert_eq!((a[8], a[9]), (0x9F, 0xE5));
}

#[test]
fn unregistered_tax_system_and_unknown_item_codes_are_refused() {
    let mut d = emulator::device::Device::new(emulator::device::DeviceConfig {
        tax_systems: 0x01,
        ..Default::default()
    });
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    let mut bad_method = item(1, 1_000_000, 100, 1, "x");
    bad_method[30] = 9;
    assert_eq!(error(&mut d, &bad_method, now), 0x33);
    ok(&mut d, &item(1, 1_000_000, 100, 1, "x"), now);
    let mut usn = close(100, 0);
    *usn.last_mut().unwrap() = 0x02;
    assert_eq!(error(&mut d, &usn, now), 0x33, "only ОСН is registered");
    ok(&mut d, &close(100, 0), now);
    assert_eq!(d.archive().last().unwrap().tax_system, 1);
}

/// FF46 of one sale line with an explicit sum (offset 18, §7.6.2).
fn item_with_sum(quantity: u64, price: u64, sum: u64, name: &str) -> Vec<u8> {
    let mut m = item(1, quantity, price, 1, name);
    m[18..23].copy_from_slice(&le(sum, 5));
    m
}

/// 0x17 with `flags` (§7.4).
fn print_line(flags: u8, text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let mut rest = vec![flags];
    rest.extend_from_slice(&bytes);
    cmd(&[0x17], CASHIER, &rest)
}

#[test]
fn an_operation_sum_is_taken_within_one_kopeck_of_price_times_quantity() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    // 3 × 33.33 = 99.99.
    assert_eq!(
        error(&mut d, &item_with_sum(3_000_000, 3333, 10_001, "Сок"), now),
        0x33
    );
    assert_eq!(
        error(&mut d, &item_with_sum(3_000_000, 3333, 9_997, "Сок"), now),
        0x33
    );
    ok(&mut d, &item_with_sum(3_000_000, 3333, 10_000, "Сок"), now);
    ok(&mut d, &item_with_sum(3_000_000, 3333, 9_998, "Сок"), now);
    ok(&mut d, &close(20_000, 0), now);
    let doc = d.archive().last().unwrap();
    let sums: Vec<u64> = doc.items.iter().map(|i| i.sum).collect();
    assert_eq!(sums, vec![10_000, 9_998]);
    assert_eq!(doc.total, 19_998);
}

#[test]
fn text_lines_in_an_open_receipt_print_where_they_were_sent() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    // The vendor's driver sends 0x02 (the receipt tape); bit 7 (deferred) lands in the same place.
    ok(&mut d, &print_line(0x02, "Магазин Ромашка"), now);
    // Not printed inside an open receipt (§7.4).
    ok(&mut d, &print_line(0x02, ""), now);
    ok(
        &mut d,
        &item_with_sum(1_000_000, 10_000, 10_000, "Молоко"),
        now,
    );
    ok(&mut d, &print_line(0x02, "Скидка 50.00"), now);
    ok(&mut d, &item_with_sum(1_000_000, 5_000, 5_000, "Хлеб"), now);
    ok(&mut d, &print_line(0x82, "Спасибо за покупку"), now);
    ok(&mut d, &close(15_000, 0), now);

    let tape = d.tape();
    let at = |text: &str| tape.find(text).unwrap_or_else(|| panic!("{text}: {tape}"));
    let order = [
        at("КАССОВЫЙ ЧЕК"),
        at("Магазин Ромашка"),
        at("Молоко"),
        at("1 × 100.00 = 100.00"),
        at("Скидка 50.00"),
        at("Хлеб"),
        at("Спасибо за покупку"),
        at("ИТОГ"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{tape}");
    // The note is the line right under its item.
    let lines: Vec<&str> = tape.lines().collect();
    let note = lines.iter().position(|l| *l == "Скидка 50.00").unwrap();
    assert!(lines[note - 1].ends_with("= 100.00"), "{tape}");
    assert!(
        !lines[note - 2..note + 4].iter().any(|l| l.is_empty()),
        "{tape}"
    );
    // Outside a receipt a line prints at once as before.
    ok(&mut d, &print_line(0x02, "После чека"), now);
    assert!(d.tape().trim_end().ends_with("После чека"));
}
