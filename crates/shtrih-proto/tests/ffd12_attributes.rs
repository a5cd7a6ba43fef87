//! Item attributes on the wire, against frames and bytes written by hand from the FFD 1.2
//! addendum (§3.1 FF46 offsets 30–31, §3.5 FF45 payment slots, §3.6 TLV value encoding,
//! §4.10 worked frames): hex in, meaning out, and back, so a layout mistake cannot hide
//! behind encoder = decoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hex, msg, PWD1, PWD30};
use shtrih_proto::command::*;
use shtrih_proto::tlv::{self, Tlv};

fn milk(payment_method: u8, payment_subject: u8) -> OperationV2 {
    OperationV2 {
        password: PWD1,
        kind: OperationKind::Sale,
        quantity: 1_000_000,
        price: 10_000,
        sum: None,
        tax: None,
        tax_group: 0xCB,
        department: 1,
        payment_method,
        payment_subject,
        name: "Молоко".into(),
    }
}

#[test]
fn ff46_of_the_addendum_4_10_a_carries_1214_and_1212_at_30_and_31() {
    // §4.10 A step 7: 1214 = 4 (full payment), 1212 = 33 (marked non-excise goods).
    let frame = msg(
        "02 26 FF 46 01 00 00 00 01 40 42 0F 00 00 00 10 27 00 00 00 \
                     FF FF FF FF FF FF FF FF FF FF CB 01 04 21 CC EE EB EE EA EE 69",
    );
    assert_eq!((frame[30], frame[31]), (0x04, 0x21));
    let decoded = OperationV2::decode(&frame).unwrap();
    assert_eq!(decoded, milk(4, 33));
    assert_eq!(milk(4, 33).encode(), frame);
}

#[test]
fn ff46_with_a_full_prepayment_of_a_payment_object() {
    // The same item as full prepayment (1214 = 1) of a "payment" (1212 = 10): only offsets
    // 30 and 31 and the LRC differ (69 ^ 04 ^ 01 ^ 21 ^ 0A = 47).
    let frame = msg(
        "02 26 FF 46 01 00 00 00 01 40 42 0F 00 00 00 10 27 00 00 00 \
                     FF FF FF FF FF FF FF FF FF FF CB 01 01 0A CC EE EB EE EA EE 47",
    );
    let decoded = OperationV2::decode(&frame).unwrap();
    assert_eq!((decoded.payment_method, decoded.payment_subject), (1, 10));
    assert_eq!(milk(1, 10).encode(), frame);
}

#[test]
fn ff4d_measure_frames_of_the_addendum() {
    // §4.10 A step 8 (2108 = 0) and B (2108 = 11, kg).
    for (frame, measure) in [
        ("02 0B FF 4D 1E 00 00 00 3C 08 01 00 00 92", 0),
        ("02 0B FF 4D 1E 00 00 00 3C 08 01 00 0B 99", 11),
    ] {
        let frame = msg(frame);
        let cmd = AttachItemTlv {
            password: PWD30,
            tlvs: vec![Tlv::byte(tlv::TAG_MEASURE, measure)],
        };
        assert_eq!(cmd.encode(), frame);
        assert_eq!(AttachItemTlv::decode(&frame).unwrap(), cmd);
    }
}

#[test]
fn vln_is_little_endian_in_the_fewest_bytes() {
    // §3.6: LE, minimum bytes, 0 as one 00.
    for (value, bytes) in [
        (0, "00"),
        (1, "01"),
        (255, "FF"),
        (300, "2C 01"),
        (0x0001_0000_0000, "00 00 00 00 01"),
    ] {
        assert_eq!(Tlv::vln(1293, value).value, hex(bytes), "{value}");
    }
}

#[test]
fn item_and_receipt_tags_encode_as_the_addendum_says() {
    let cases: Vec<(Tlv, &str)> = vec![
        // 1291 {1293 = 1, 1294 = 4}: STLV of two VLNs.
        (
            Tlv::structure(
                tlv::TAG_FRACTIONAL_QUANTITY,
                &[
                    Tlv::vln(tlv::TAG_NUMERATOR, 1),
                    Tlv::vln(tlv::TAG_DENOMINATOR, 4),
                ],
            ),
            "0B 05 0A 00 0D 05 01 00 01 0E 05 01 00 04",
        ),
        // 1222 = 32 (commission agent), one byte.
        (Tlv::byte(tlv::TAG_AGENT_TYPE, 32), "C6 04 01 00 20"),
        // 1223 {1073 "+79123456789"}.
        (
            Tlv::structure(
                tlv::TAG_AGENT_DATA,
                &[Tlv::string(tlv::TAG_AGENT_PHONE, "+79123456789")],
            ),
            "C7 04 10 00 31 04 0C 00 2B 37 39 31 32 33 34 35 36 37 38 39",
        ),
        // 1224 {1225 "Ромашка" in CP866}.
        (
            Tlv::structure(
                tlv::TAG_SUPPLIER_DATA,
                &[Tlv::string(tlv::TAG_SUPPLIER_NAME, "Ромашка")],
            ),
            "C8 04 0B 00 C9 04 07 00 90 AE AC A0 E8 AA A0",
        ),
        // 1226: fixed 12 characters, a 10-digit INN padded with spaces.
        (
            Tlv::fixed_string(tlv::TAG_SUPPLIER_INN, "7707083893", tlv::INN_WIDTH),
            "CA 04 0C 00 37 37 30 37 30 38 33 38 39 33 20 20",
        ),
        // 1256 {1227 "Иванов", 1228 12-digit INN}.
        (
            Tlv::structure(
                tlv::TAG_BUYER_DATA,
                &[
                    Tlv::string(tlv::TAG_BUYER_NAME, "Иванов"),
                    Tlv::fixed_string(tlv::TAG_BUYER_INN, "500100732259", tlv::INN_WIDTH),
                ],
            ),
            "E8 04 1A 00 CB 04 06 00 88 A2 A0 AD AE A2 \
             CC 04 0C 00 35 30 30 31 30 30 37 33 32 32 35 39",
        ),
    ];
    for (t, bytes) in cases {
        let wire = hex(bytes);
        assert_eq!(
            tlv::encode_list(std::slice::from_ref(&t)),
            wire,
            "tag {}",
            t.tag
        );
        assert_eq!(tlv::decode_list(&wire).unwrap(), vec![t]);
    }
}

#[test]
fn ff45_slots_14_to_16_are_1215_1216_1217() {
    let mut payments = [0u64; 16];
    payments[0] = 1;
    payments[13] = 5_000;
    payments[14] = 10_000;
    payments[15] = 0xFF_FFFF_FFFE;
    let close = CloseReceiptV2 {
        password: PWD1,
        payments,
        rounding: 0,
        taxes: [0; 6],
        tax_system: 1,
        text: String::new(),
    };
    let wire = close.encode();
    // §3.5: slot 1 at offset 6, slots 14, 15, 16 at offsets 71, 76, 81.
    assert_eq!(wire[6..11], hex("01 00 00 00 00")[..]);
    assert_eq!(wire[71..76], hex("88 13 00 00 00")[..]);
    assert_eq!(wire[76..81], hex("10 27 00 00 00")[..]);
    assert_eq!(wire[81..86], hex("FE FF FF FF FF")[..]);
    assert!(wire[11..71].iter().all(|b| *b == 0));
    assert_eq!(CloseReceiptV2::decode(&wire).unwrap().payments, payments);
}
