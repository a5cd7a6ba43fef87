//! The error catalogue (§5), status decoding (§6), text encodings (§3) and TLV lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::collection::vec;
use proptest::prelude::*;
use shtrih_proto::command::status::{paper_out, Flags, Mode, ReceiptKind, Submode};
use shtrih_proto::error::{ErrorClass, ErrorCode};
use shtrih_proto::text;
use shtrih_proto::tlv::{self, Tlv, TlvError};

#[test]
fn every_code_has_an_entry_with_a_stable_machine_code() {
    for byte in 0..=255u8 {
        let info = ErrorCode(byte).info();
        assert!(!info.code.is_empty());
        assert!(
            info.code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{byte:#04x}: {}",
            info.code
        );
        assert!(info.russian.ends_with('.'), "{byte:#04x}: {}", info.russian);
        assert!(info.russian.chars().count() < 80);
    }
}

#[test]
fn codes_that_matter_to_a_pos_driver() {
    let expect = [
        (0x16, "SHIFT_OVER_24H", ErrorClass::Shift),
        (0x4E, "SHIFT_OVER_24H", ErrorClass::Shift),
        (0x3D, "SHIFT_NOT_OPEN", ErrorClass::Shift),
        (0x3C, "SHIFT_OPEN", ErrorClass::Shift),
        (0x4A, "RECEIPT_OPEN", ErrorClass::Document),
        (0x55, "RECEIPT_CLOSED", ErrorClass::Document),
        (0x50, "PRINTING", ErrorClass::Busy),
        (0x58, "WAIT_CONTINUE_PRINT", ErrorClass::Paper),
        (0x6B, "NO_PAPER", ErrorClass::Paper),
        (0x72, "WRONG_SUBMODE", ErrorClass::Mode),
        (0x73, "WRONG_MODE", ErrorClass::Mode),
        (0x4F, "WRONG_PASSWORD", ErrorClass::Password),
        (0x46, "NOT_ENOUGH_CASH", ErrorClass::Document),
        (0x45, "PAYMENTS_BELOW_TOTAL", ErrorClass::Document),
        (0x48, "OVERFLOW_RECEIPT_TOTAL", ErrorClass::Overflow),
        (0x74, "RAM_ERROR", ErrorClass::Hardware),
    ];
    for (byte, code, class) in expect {
        let info = ErrorCode(byte).info();
        assert_eq!((info.code, info.class), (code, class), "{byte:#04x}");
    }
    assert_eq!(ErrorCode(0x6B).info().russian, "Нет бумаги.");
    assert_eq!(ErrorCode(0x4E).info().russian, "Смена превысила 24 часа.");
}

#[test]
fn fn_codes_are_fn_class_and_flagged_as_fn_originated() {
    for byte in [
        0x01, 0x02, 0x03, 0x05, 0x06, 0x09, 0x11, 0x12, 0x14, 0x15, 0x17, 0x20, 0xA0, 0xA4,
    ] {
        let code = ErrorCode(byte);
        assert!(code.is_fn_originated(), "{byte:#04x}");
        assert_eq!(code.info().class, ErrorClass::Fn, "{byte:#04x}");
        assert!(code.info().code.starts_with("FN_"), "{byte:#04x}");
    }
    assert!(!ErrorCode::NO_PAPER.is_fn_originated());
}

#[test]
fn legacy_and_unknown_codes_get_generic_entries() {
    let legacy = ErrorCode(0x0A).info();
    assert_eq!(legacy.code, "LEGACY_ERROR");
    assert_eq!(legacy.russian, "Данные не в формате BCD.");
    let unknown = ErrorCode(0xFE).info();
    assert_eq!(unknown.code, "UNKNOWN_ERROR");
    assert_eq!(unknown.class, ErrorClass::Other);
    assert!(ErrorCode(0x4F).to_string().contains("WRONG_PASSWORD"));
}

#[test]
fn mode_bytes_round_trip_and_name_the_documented_modes() {
    for byte in 0..=255u8 {
        assert_eq!(Mode::from_byte(byte).to_byte(), byte);
        assert_eq!(Submode::from_byte(byte).to_byte(), byte);
    }
    assert_eq!(Mode::from_byte(0x02), Mode::ShiftOpen);
    assert_eq!(Mode::from_byte(0x03), Mode::ShiftExpired);
    assert_eq!(Mode::from_byte(0x04), Mode::ShiftClosed);
    assert_eq!(
        Mode::from_byte(0x18),
        Mode::ReceiptOpen(ReceiptKind::Purchase)
    );
    assert_eq!(
        Mode::from_byte(0x28),
        Mode::ReceiptOpen(ReceiptKind::SaleReturn)
    );
    assert_eq!(
        Mode::from_byte(0x38),
        Mode::ReceiptOpen(ReceiptKind::PurchaseReturn)
    );
    assert_eq!(
        Mode::from_byte(0x48),
        Mode::ReceiptOpen(ReceiptKind::NonFiscal)
    );
    assert_eq!(Mode::from_byte(0x58), Mode::Other(0x58));
    assert_eq!(Mode::from_byte(0x0D), Mode::Other(0x0D));
    assert!(Mode::ShiftExpired.shift_open());
    assert_eq!(Submode::from_byte(3), Submode::WaitingContinuePrint);
}

#[test]
fn paper_and_cover_rules() {
    let ok = Flags(0x0292);
    assert!(!paper_out(ok, Submode::Idle));
    assert!(paper_out(Flags(0x0212), Submode::Idle), "bit 7 clear");
    for sub in [
        Submode::PaperOutPassive,
        Submode::PaperOutActive,
        Submode::WaitingContinuePrint,
    ] {
        assert!(paper_out(ok, sub), "{sub:?}");
    }
    assert!(!paper_out(ok, Submode::Printing));
    assert!(!ok.cover_open());
    assert!(Flags(0x0292 | 0x0400).cover_open());
    assert!(Flags(0x0800).drawer_open());
}

#[test]
fn cp1251_text() {
    assert_eq!(
        text::encode_cp1251("Молоко 3,2%"),
        [0xCC, 0xEE, 0xEB, 0xEE, 0xEA, 0xEE, 0x20, 0x33, 0x2C, 0x32, 0x25]
    );
    assert_eq!(text::encode_cp1251("a€b"), b"a\x88b");
    assert_eq!(text::encode_cp1251("日本"), b"??");
    assert_eq!(text::encode_fixed_cp1251("Ёж", 4), [0xA8, 0xE6, 0, 0]);
    assert_eq!(text::encode_fixed_cp1251("abcdef", 3), b"abc");
    assert_eq!(
        text::decode_nul_terminated_cp1251(b"\xD1\xFB\xF0\0junk"),
        "Сыр"
    );
    assert_eq!(
        text::decode_identifier(b" 9281000100007442\0\0 "),
        "9281000100007442"
    );
}

#[test]
fn cp866_tlv_strings() {
    let tlv = Tlv::cashier_name("Иванов");
    assert_eq!(tlv.tag, 1021);
    assert_eq!(tlv.value, [0x88, 0xA2, 0xA0, 0xAD, 0xAE, 0xA2]);
    assert_eq!(tlv.value_string(), "Иванов");
    assert_eq!(Tlv::buyer_contact("a@b.ru").value, b"a@b.ru");
}

#[test]
fn tlv_decode_errors() {
    assert_eq!(
        tlv::decode_list(&[0xB3, 0x04, 0x0C]),
        Err(TlvError::TruncatedHeader(0))
    );
    assert_eq!(
        tlv::decode_list(&[0xB3, 0x04, 0x02, 0x00, 0x31]),
        Err(TlvError::TruncatedValue {
            tag: 1203,
            len: 2,
            left: 1
        })
    );
    assert_eq!(tlv::decode_list(&[]), Ok(vec![]));
}

proptest! {
    #[test]
    fn cp1251_round_trip(s in "[ -~А-яЁё№]{0,60}") {
        prop_assert_eq!(text::decode_cp1251(&text::encode_cp1251(&s)), s);
    }

    #[test]
    fn cp866_round_trip(s in "[ -~А-яЁё]{0,60}") {
        prop_assert_eq!(text::decode_cp866(&text::encode_cp866(&s)), s);
    }

    #[test]
    fn encoding_never_panics_and_is_one_byte_per_char(s in any::<String>()) {
        prop_assert_eq!(text::encode_cp1251(&s).len(), s.chars().count());
        prop_assert_eq!(text::encode_cp866(&s).len(), s.chars().count());
    }

    #[test]
    fn tlv_list_round_trip(items in vec((any::<u16>(), vec(any::<u8>(), 0..64)), 0..8)) {
        let items: Vec<Tlv> = items.into_iter().map(|(t, v)| Tlv::new(t, v)).collect();
        let bytes = tlv::encode_list(&items);
        prop_assert_eq!(bytes.len(), items.iter().map(Tlv::encoded_len).sum::<usize>());
        prop_assert_eq!(tlv::decode_list(&bytes).unwrap(), items);
    }

    #[test]
    fn tlv_decode_never_panics(bytes in vec(any::<u8>(), 0..64)) {
        if let Ok(items) = tlv::decode_list(&bytes) {
            prop_assert_eq!(tlv::encode_list(&items), bytes);
        }
    }
}
