//! The FF46 tax byte (FFD 1.2 addendum §2): a code per table-6 row, decoded as the vendor's
//! firmware does, refused when it is not a code; table 6 of 2026 and older firmware; the
//! per-rate sums the FN books; 0x6B without a parameter; "do not print the next document".
//! Every request is written out in hex from the addendum's tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;
use emulator::device::{tax_table, Device, DeviceConfig, TaxTableProfile, VatSum};

/// Parses "FF 46 01 …" into bytes.
fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Addendum §4.10 A, frame 7 without STX, LEN and LRC: FF46, operator password 1, sale,
/// quantity 1.000000, price 100.00, sum and tax left to the KKT, tax byte `{tax}`,
/// department 1, 1214 = 4, 1212 = 33, «Молоко».
fn ff46_milk(tax: &str) -> Vec<u8> {
    hex(&format!(
        "FF 46 01 00 00 00 01 40 42 0F 00 00 00 10 27 00 00 00 \
         FF FF FF FF FF FF FF FF FF FF {tax} 01 04 21 CC EE EB EE EA EE"
    ))
}

/// Addendum §2.3: row → (rate, name, classic code, Nano code).
const TABLE_2026: [(u8, u16, &str, &str, &str); 12] = [
    (1, 2000, "НДС 20%", "01", "01"),
    (2, 1000, "НДС 10%", "02", "02"),
    (3, 0, "НДС 0%", "04", "04"),
    (4, 0, "БЕЗ НДС", "08", "08"),
    (5, 2000, "НДС 20/120", "10", "10"),
    (6, 1000, "НДС 10/110", "20", "20"),
    (7, 500, "НДС 5%", "81", "81"),
    (8, 700, "НДС 7%", "82", "82"),
    (9, 500, "НДС 5/105%", "84", "84"),
    (10, 700, "НДС 7/107%", "88", "88"),
    (11, 2200, "НДС 22%", "CB", "90"),
    (12, 2200, "НДС 22/122", "CC", "A0"),
];

fn with_shift(config: DeviceConfig) -> Device {
    let mut d = Device::new(config);
    ok(&mut d, &open_shift(), t0());
    d
}

fn nano() -> DeviceConfig {
    DeviceConfig {
        model_name: "ШТРИХ-НАНО-Ф".into(),
        model_code: 152,
        ..DeviceConfig::default()
    }
}

/// One receipt of one 100.00 item with tax byte `tax`; the booked sums.
fn sell(d: &mut Device, tax: &str) -> Result<Vec<VatSum>, u8> {
    let now = t0();
    ok(d, &open_receipt(0), now);
    let e = error(d, &ff46_milk(tax), now);
    if e != 0 {
        ok(d, &cmd(&[0x88], CASHIER, &[]), now);
        return Err(e);
    }
    ok(d, &close(10000, 0), now);
    Ok(d.archive().last().unwrap().vat.clone())
}

#[test]
fn every_code_of_the_2026_table_books_its_own_row() {
    for (config, classic) in [(DeviceConfig::default(), true), (nano(), false)] {
        let mut d = with_shift(config);
        for (row, rate, name, code_classic, code_nano) in TABLE_2026 {
            let code = if classic { code_classic } else { code_nano };
            let vat = sell(&mut d, code).unwrap_or_else(|e| panic!("{code}: 0x{e:02X}"));
            let amount = if rate == 0 {
                10000
            } else {
                // Included VAT: 10000 × rate / (10000 + rate), rounded.
                (10000 * u64::from(rate) + (10000 + u64::from(rate)) / 2)
                    / (10000 + u64::from(rate))
            };
            assert_eq!(
                vat,
                vec![VatSum {
                    row,
                    rate,
                    name: name.into(),
                    turnover: 10000,
                    amount
                }],
                "code {code}"
            );
            assert_eq!(d.archive().last().unwrap().items[0].tax_group, row);
        }
    }
}

#[test]
fn one_receipt_of_twelve_rates_keeps_twelve_sums() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    for (row, _, _, code, _) in TABLE_2026 {
        // Price row × 1.00 so each row's turnover is its own.
        let mut item = ff46_milk(code);
        item[13..18].copy_from_slice(&le(u64::from(row) * 100, 5));
        ok(&mut d, &item, now);
    }
    ok(&mut d, &close(7800, 0), now);
    let vat = &d.archive().last().unwrap().vat;
    let rows: Vec<(u8, u64)> = vat.iter().map(|v| (v.row, v.turnover)).collect();
    let expect: Vec<(u8, u64)> = (1..=12).map(|r| (r, u64::from(r) * 100)).collect();
    assert_eq!(rows, expect);
    assert!(d.tape().contains("НДС 22/122"), "{}", d.tape());
}

#[test]
fn row_numbers_and_other_codes_are_read_as_the_vendor_does() {
    let mut d = with_shift(DeviceConfig::default());
    // The old mistake: row numbers. 04 is row 3 (VAT 0 %), not "no VAT" …
    let vat = sell(&mut d, "04").unwrap();
    assert_eq!((vat[0].row, vat[0].name.as_str()), (3, "НДС 0%"));
    // … and 03, 05, 06 are not codes at all (03 = two rows at once).
    for bad in ["03", "05", "06", "07", "40", "80", "C0", "90", "A0", "FF"] {
        assert_eq!(
            sell(&mut d, bad),
            Err(0x33),
            "byte {bad} on a classic model"
        );
    }
    // ШТРИХ-НАНО-Ф: rows 11 and 12 are 90 and A0; the classic CB/CC are refused.
    let mut n = with_shift(nano());
    assert_eq!(sell(&mut n, "CB"), Err(0x33));
    assert_eq!(sell(&mut n, "CC"), Err(0x33));
}

#[test]
fn older_firmware_has_six_rows_and_refuses_the_2026_codes() {
    let config = DeviceConfig {
        tax_rates: tax_table(TaxTableProfile::Firmware2021),
        ..DeviceConfig::default()
    };
    let mut d = with_shift(config);
    let now = t0();
    let t = ok(&mut d, &cmd(&[0x2D], SYSADMIN, &[6]), now);
    assert_eq!(le_at(&t, 42, 2), 6);
    assert_eq!(
        error(&mut d, &cmd(&[0x1F], SYSADMIN, &hex("06 07 00 01")), now),
        0x33,
        "no row 7"
    );
    assert_eq!(sell(&mut d, "01").unwrap()[0].rate, 2000);
    for code in ["81", "82", "84", "88", "CB", "CC"] {
        assert_eq!(sell(&mut d, code), Err(0x33), "{code}");
    }
}

#[test]
fn error_text_without_a_parameter_describes_the_last_error() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    assert_eq!(error(&mut d, &ff46_milk("03"), now), 0x33);
    let text = |d: &mut Device, msg: &[u8]| {
        let a = ok(d, msg, now);
        encoding_rs::WINDOWS_1251.decode(&a[2..]).0.into_owned()
    };
    assert_eq!(text(&mut d, &hex("6B")), "Некорректные параметры в команде");
    // Asking again still names it; with a parameter, the code asked for.
    assert_eq!(text(&mut d, &hex("6B")), "Некорректные параметры в команде");
    assert_eq!(
        text(&mut d, &hex("6B 4A")),
        "Открыт чек - операция невозможна"
    );
    ok(&mut d, &ff46_milk("CB"), now);
    assert_eq!(text(&mut d, &hex("6B")), "Ошибок нет");
}

#[test]
fn do_not_print_makes_one_receipt_electronic_only() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    // 1E, sysadmin 30, table 17, row 1, field 7, value 1 (addendum §7, [GUIDE] table 17).
    ok(&mut d, &hex("1E 1E 00 00 00 11 01 00 07 01"), now);
    let fd_before = last_fd(&mut d, now);
    sell(&mut d, "CB").unwrap();
    assert_eq!(
        last_fd(&mut d, now),
        fd_before + 1,
        "the FN made the document"
    );
    assert!(!d.tape().contains("Молоко"), "{}", d.tape());
    let a = ok(&mut d, &hex("1F 1E 00 00 00 11 01 00 07"), now);
    assert_eq!(&a[2..], [0], "reset after the document");
    sell(&mut d, "CB").unwrap();
    assert!(d.tape().contains("Молоко"), "the next one is printed");
}
