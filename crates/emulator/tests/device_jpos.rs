//! What the vendor's JavaPOS service asks of a register when it is enabled and when it makes
//! a correction receipt, a duplicate and a TLV read-back, as bare messages: the structure of
//! tables 4 and 5 (§7.3), the font parameters (0x26, §6.6), table 17.17 read inside an open
//! correction receipt, 0x8C with the system administrator's password and FF3A/FF3B to the end
//! (addendum §5, §6). Hex from the protocol notes, not from shtrih-proto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;

fn cp1251(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    encoding_rs::WINDOWS_1251
        .decode_without_bom_handling(&bytes[..end])
        .0
        .into_owned()
}

#[test]
fn tables_4_5_and_7_have_the_rows_the_notes_give() {
    let mut d = device();
    let now = t0();
    // §7.3: 4 rows 1..14 (advertising and header lines), 5 rows 1..16 (payment types),
    // 7 rows 1..16 (departments), all 64-character CHAR fields.
    for (table, rows) in [(4u8, 14u64), (5, 16), (7, 16)] {
        // `2D 1E 00 00 00 04` → `2D 00 | name(40) | rows(2) | fields(1)`
        let t = ok(&mut d, &[0x2D, 0x1E, 0x00, 0x00, 0x00, table], now);
        assert_eq!(t.len(), 2 + 40 + 3, "table {table}: {t:02X?}");
        assert_eq!(le_at(&t, 42, 2), rows, "table {table}");
        assert!(t[44] >= 1);
        // `2E 1E 00 00 00 04 01` → name(40), type 1 (CHAR), size 64
        let f = ok(&mut d, &[0x2E, 0x1E, 0x00, 0x00, 0x00, table, 0x01], now);
        assert_eq!((f[42], f[43]), (1, 64), "table {table} field 1: {f:02X?}");
    }
    // Row 1 of table 5 is «НАЛИЧНЫМИ» and stays so; 14..16 as a 2026 register (addendum §3.5).
    let name = |d: &mut emulator::device::Device, row: u8| {
        let a = ok(
            d,
            &[0x1F, 0x1E, 0x00, 0x00, 0x00, 0x05, row, 0x00, 0x01],
            now,
        );
        cp1251(&a[2..])
    };
    assert_eq!(name(&mut d, 1), "НАЛИЧНЫМИ");
    assert_eq!(name(&mut d, 14), "ПРЕДВАРИТЕЛЬНАЯ ОПЛАТА (АВАНС)");
    assert_eq!(name(&mut d, 15), "ПОСЛЕДУЮЩАЯ ОПЛАТА (КРЕДИТ)");
    assert_eq!(name(&mut d, 16), "ИНАЯ ФОРМА ОПЛАТЫ");
    let (cash, _, _) = encoding_rs::WINDOWS_1251.encode("НАЛ");
    let mut write = vec![0x1E, 0x1E, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x01];
    write.extend_from_slice(&cash);
    assert_ne!(error(&mut d, &write, now), 0);
    assert_eq!(name(&mut d, 1), "НАЛИЧНЫМИ");
    // The header lines are writable (outside a receipt) and read back.
    let (line, _, _) = encoding_rs::WINDOWS_1251.encode("ДОБРО ПОЖАЛОВАТЬ");
    let mut write = vec![0x1E, 0x1E, 0x00, 0x00, 0x00, 0x04, 0x04, 0x00, 0x01];
    write.extend_from_slice(&line);
    ok(&mut d, &write, now);
    let a = ok(
        &mut d,
        &[0x1F, 0x1E, 0x00, 0x00, 0x00, 0x04, 0x04, 0x00, 0x01],
        now,
    );
    assert_eq!(a.len(), 2 + 64);
    assert_eq!(cp1251(&a[2..]), "ДОБРО ПОЖАЛОВАТЬ");
    // Row 15 of table 4 does not exist.
    assert_eq!(
        error(
            &mut d,
            &[0x1F, 0x1E, 0x00, 0x00, 0x00, 0x04, 0x0F, 0x00, 0x01],
            now
        ),
        0x33
    );
}

#[test]
fn font_parameters_agree_with_the_model_parameters() {
    let mut d = device();
    let now = t0();
    // F7 type 1 (§7.1): font 1 width at data offset 8, font 2 width at 9 (characters a line).
    let model = ok(&mut d, &[0xF7, 0x01], now);
    let (font1, font2) = (u64::from(model[2 + 8]), u64::from(model[2 + 9]));
    // `26 1E 00 00 00 01` → `26 00 | print width(2) | char width(1) | char height(1) | fonts(1)`
    let a = ok(&mut d, &[0x26, 0x1E, 0x00, 0x00, 0x00, 0x01], now);
    assert_eq!(a.len(), 2 + 5, "{a:02X?}");
    let width = le_at(&a, 2, 2);
    assert_eq!(width / u64::from(a[4]), font1);
    assert!(a[5] > 0);
    assert_eq!(a[6], 2, "two fonts");
    let b = ok(&mut d, &[0x26, 0x1E, 0x00, 0x00, 0x00, 0x02], now);
    assert_eq!(le_at(&b, 2, 2) / u64::from(b[4]), font2);
    // §6.6: password class 3 (system administrator); a font the register lacks is 0x33.
    assert_ne!(error(&mut d, &[0x26, 0x01, 0x00, 0x00, 0x00, 0x01], now), 0);
    assert_eq!(
        error(&mut d, &[0x26, 0x1E, 0x00, 0x00, 0x00, 0x03], now),
        0x33
    );
    // Any mode: inside a receipt too.
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &[0x26, 0x1E, 0x00, 0x00, 0x00, 0x01], now);
}

#[test]
fn the_vendor_correction_order_then_a_copy_and_a_read_back() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    // Addendum §5: `8D 01 00 00 00 80`.
    assert_eq!(
        ok(&mut d, &[0x8D, 0x01, 0x00, 0x00, 0x00, 0x80], now),
        vec![0x8D, 0x00, 0x01]
    );
    // The vendor driver reads the FFD version (17.17, §7.3) before it writes the tags.
    let f = ok(&mut d, &[0x2E, 0x1E, 0x00, 0x00, 0x00, 0x11, 0x11], now);
    assert_eq!((f[42], f[43]), (0, 1));
    let v = ok(
        &mut d,
        &[0x1F, 0x1E, 0x00, 0x00, 0x00, 0x11, 0x01, 0x00, 0x11],
        now,
    );
    assert_eq!(v, vec![0x1F, 0x00, 0x04], "FFD 1.2");
    // Addendum §5: FF0C 1173 = 0; FF0C 1174 {1178 = 2026-01-15, 1179 = "15"}.
    ok(
        &mut d,
        &[
            0xFF, 0x0C, 0x1E, 0x00, 0x00, 0x00, 0x95, 0x04, 0x01, 0x00, 0x00,
        ],
        now,
    );
    let basis = [
        0x96, 0x04, 0x0E, 0x00, 0x9A, 0x04, 0x04, 0x00, 0x00, 0x2E, 0x68, 0x69, 0x9B, 0x04, 0x02,
        0x00, 0x31, 0x35,
    ];
    let mut m = vec![0xFF, 0x0C, 0x1E, 0x00, 0x00, 0x00];
    m.extend_from_slice(&basis);
    ok(&mut d, &m, now);
    ok(&mut d, &item(1, 1_000_000, 5000, 0x01, "Коррекция"), now);
    let total = ok(&mut d, &[0x89, 0x01, 0x00, 0x00, 0x00], now);
    assert_eq!(le_at(&total, 3, 5), 5000);
    let closed = ok(&mut d, &close(5000, 0), now);
    let fd = le_at(&closed, 8, 4);
    let fp = le_at(&closed, 12, 4) as u32;

    // Addendum §6: `8C 1E 00 00 00` (the vendor sends the system administrator's password).
    assert_eq!(
        ok(&mut d, &[0x8C, 0x1E, 0x00, 0x00, 0x00], now),
        vec![0x8C, 0x00, 0x1E]
    );

    // Addendum §6: `FF 3A 1E 00 00 00 | FD(4)`, then `FF 3B 1E 00 00 00` until 0x08.
    let mut m = vec![0xFF, 0x3A, 0x1E, 0x00, 0x00, 0x00];
    m.extend(le(fd, 4));
    let head = ok(&mut d, &m, now);
    assert_eq!(le_at(&head, 3, 2), 31, "correction receipt");
    let length = le_at(&head, 5, 2) as usize;
    let mut bytes = Vec::new();
    loop {
        let a = d.execute(&[0xFF, 0x3B, 0x1E, 0x00, 0x00, 0x00], now);
        if a == [0xFF, 0x3B, 0x08] {
            break;
        }
        assert_eq!(a[2], 0, "{a:02X?}");
        bytes.extend_from_slice(&a[3..]);
        assert!(bytes.len() <= length);
    }
    assert_eq!(bytes.len(), length);
    // 1077 (`35 04`): six bytes, the fiscal sign FF45 returned in the last four, big-endian.
    let at = bytes
        .windows(4)
        .position(|w| w == [0x35, 0x04, 0x06, 0x00])
        .expect("1077");
    assert_eq!(
        u32::from_be_bytes(bytes[at + 6..at + 10].try_into().unwrap()),
        fp
    );
    assert!(bytes
        .windows(5)
        .any(|w| w == [0x95, 0x04, 0x01, 0x00, 0x00]));
    assert!(bytes.windows(basis.len()).any(|w| w == basis));
}

#[test]
fn a_line_with_a_font_prints_inside_and_outside_a_receipt() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    // §7.4: `2F | pwd | flags | font | text`; the vendor prints a tag's text this way inside
    // the receipt (flags 02, receipt tape) and a blank line after it (flags 03).
    ok(&mut d, &open_receipt(0x80), now);
    let (text, _, _) = encoding_rs::WINDOWS_1251.encode("ТИП КОРРЕКЦИИ: 0");
    let mut m = vec![0x2F, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01];
    m.extend_from_slice(&text);
    assert_eq!(ok(&mut d, &m, now), vec![0x2F, 0x00, 0x01]);
    ok(&mut d, &fn_query(0x08, &[]), now);
    ok(
        &mut d,
        &[0x2F, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x20],
        now,
    );
    assert!(d.tape().contains("ТИП КОРРЕКЦИИ: 0"));
    // A font 0x26 does not report is 0x33.
    assert_eq!(
        error(
            &mut d,
            &[0x2F, 0x01, 0x00, 0x00, 0x00, 0x02, 0x03, 0x20],
            now
        ),
        0x33
    );
}
