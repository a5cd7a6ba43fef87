//! FFD 1.2 addendum §5 (correction receipts) and §6 (copies): the computed frames the addendum
//! prints, copied here as hex (never produced by our encoder), decode to their meaning and
//! encode back to exactly their bytes. Frames are unwrapped by hand (STX, LEN, LRC checked in
//! `common::msg`), as in `commands_vectors.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{msg, PWD1, PWD30};
use shtrih_proto::command::*;
use shtrih_proto::error::ErrorCode;
use shtrih_proto::tlv::{self, Tlv};

#[test]
fn opening_a_correction_receipt_of_sale_is_8d_type_0x80() {
    let frame = msg("02 06 8D 01 00 00 00 80 0A");
    let open = OpenCorrectionReceipt {
        password: PWD1,
        receipt_type: CheckType::Sale,
    };
    assert_eq!(open.encode(), frame);
    assert_eq!(OpenCorrectionReceipt::decode(&frame).unwrap(), open);
    // The ordinary 0x8D does not take it for a receipt type of its own.
    assert!(OpenReceipt::decode(&frame).is_err());
    // t: 0 sale, 1 purchase, 2 sale return, 3 purchase return.
    for (t, check_type) in [
        (0x80, CheckType::Sale),
        (0x81, CheckType::Purchase),
        (0x82, CheckType::SaleReturn),
        (0x83, CheckType::PurchaseReturn),
    ] {
        let open = OpenCorrectionReceipt {
            password: PWD1,
            receipt_type: check_type,
        };
        assert_eq!(open.encode(), vec![0x8D, 1, 0, 0, 0, t]);
    }
    assert!(OpenCorrectionReceipt::decode(&[0x8D, 1, 0, 0, 0, 0x00]).is_err());
    assert!(OpenCorrectionReceipt::decode(&[0x8D, 1, 0, 0, 0, 0x84]).is_err());
    assert_eq!(
        OpenCorrectionReceipt::CLASS,
        OpenReceipt::CLASS,
        "a repeat is refused with 0x4A like the receipt's"
    );
}

#[test]
fn tag_1173_own_initiative_is_one_byte() {
    let frame = msg("02 0B FF 0C 1E 00 00 00 95 04 01 00 00 76");
    let attach = AttachTlv {
        password: PWD30,
        tlvs: vec![Tlv::correction_kind(0)],
    };
    assert_eq!(attach.encode(), frame);
    let decoded = AttachTlv::decode(&frame).unwrap();
    assert_eq!(
        decoded.tlvs,
        vec![Tlv::new(tlv::TAG_CORRECTION_KIND, vec![0])]
    );
    assert_eq!(Tlv::correction_kind(1).value, vec![1]);
}

#[test]
fn tag_1174_is_an_stlv_of_the_basis_date_and_number() {
    let frame =
        msg("02 18 FF 0C 1E 00 00 00 96 04 0E 00 9A 04 04 00 00 2E 68 69 9B 04 02 00 31 35 45");
    // 2026-01-15 00:00 UTC.
    let date = 1_768_435_200u32;
    let attach = AttachTlv {
        password: PWD30,
        tlvs: vec![Tlv::correction_basis(date, Some("15"))],
    };
    assert_eq!(attach.encode(), frame);
    let decoded = AttachTlv::decode(&frame).unwrap();
    let [basis] = decoded.tlvs.as_slice() else {
        panic!("one TLV: {:?}", decoded.tlvs)
    };
    assert_eq!(basis.tag, tlv::TAG_CORRECTION_BASIS);
    let inner = basis.value_list().unwrap();
    assert_eq!(inner[0].tag, tlv::TAG_BASIS_DATE);
    assert_eq!(inner[0].value_uint(), Some(u64::from(date)));
    assert_eq!(inner[1].tag, tlv::TAG_BASIS_NUMBER);
    assert_eq!(inner[1].value_string(), "15");
    // The fallback's separate tags are the inner ones, each on its own.
    assert_eq!(Tlv::basis_date(date), inner[0]);
    assert_eq!(Tlv::basis_number("15"), inner[1]);
    // Own initiative: the date alone.
    assert_eq!(
        Tlv::correction_basis(date, None).value,
        tlv::encode_list(&[Tlv::basis_date(date)])
    );
}

#[test]
fn ff3a_begins_reading_fd_125_and_answers_type_and_length() {
    let frame = msg("02 0A FF 3A 1E 00 00 00 7D 00 00 00 AC");
    let begin = BeginReadDocument {
        password: PWD30,
        fd_number: 125,
    };
    assert_eq!(begin.encode(), frame);
    assert_eq!(BeginReadDocument::decode(&frame).unwrap(), begin);
    assert_eq!(BeginReadDocument::CLASS, CommandClass::Read);
    // §7.8: `FF 3A | err | doc type tag(2) | doc length(2)` (LEN 7): a correction receipt of
    // 300 bytes.
    let header = BeginReadDocument::decode_answer(&[0xFF, 0x3A, 0x00, 31, 0, 0x2C, 0x01]).unwrap();
    assert_eq!(
        header,
        DocumentHeader {
            doc_type: 31,
            length: 300
        }
    );
    assert_eq!(
        BeginReadDocument::decode_answer(&[0xFF, 0x3A, 0x08]),
        Err(AnswerError::Device(ErrorCode(0x08)))
    );
}

#[test]
fn ff3b_hands_out_the_next_block() {
    let frame = msg("02 06 FF 3B 1E 00 00 00 DC");
    let read = ReadDocumentBlock { password: PWD30 };
    assert_eq!(read.encode(), frame);
    assert_eq!(ReadDocumentBlock::decode(&frame).unwrap(), read);
    let block =
        ReadDocumentBlock::decode_answer(&[0xFF, 0x3B, 0x00, 0x10, 0x04, 0x04, 0x00]).unwrap();
    assert_eq!(block.data, vec![0x10, 0x04, 0x04, 0x00]);
    // The end of the document: FN error 0x08 "data absent" (the vendor driver's stop).
    assert_eq!(
        ReadDocumentBlock::decode_answer(&[0xFF, 0x3B, 0x08]),
        Err(AnswerError::Device(ErrorCode(0x08)))
    );
}

#[test]
fn repeat_document_is_8c_with_the_system_administrator_password() {
    let frame = msg("02 05 8C 1E 00 00 00 97");
    let repeat = RepeatDocument { password: PWD30 };
    assert_eq!(repeat.encode(), frame);
    assert_eq!(RepeatDocument::decode(&frame).unwrap(), repeat);
    assert_eq!(RepeatDocument::CLASS, CommandClass::Dangerous);
    // `8C err operator` (LEN 3); 0x56 = nothing to repeat.
    assert_eq!(
        RepeatDocument::decode_answer(&[0x8C, 0x00, 0x1E])
            .unwrap()
            .operator,
        30
    );
    assert_eq!(
        RepeatDocument::decode_answer(&[0x8C, 0x56]),
        Err(AnswerError::Device(ErrorCode(0x56)))
    );
}

#[test]
fn ff0a_reads_a_correction_receipt_like_a_receipt() {
    // type 31, ticket 1, 26-01-15 10:30, FD 125, FP 0x11223344, operation 1, total 100.00.
    let answer = [
        0xFF, 0x0A, 0x00, 31, 1, 26, 1, 15, 10, 30, 125, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 1, 0x10,
        0x27, 0, 0, 0,
    ];
    let found = FindDocument::decode_answer(&answer).unwrap();
    assert_eq!(found.doc_type, FoundDocument::CORRECTION);
    assert_eq!(
        found.details,
        DocumentDetails::Receipt {
            operation: 1,
            total: 10_000
        }
    );
    assert_eq!(FindDocument::encode_answer(&found), answer.to_vec());
}

#[test]
fn tlv_values_read_back_as_integers_and_fvln() {
    assert_eq!(Tlv::u32(1040, 125).value_uint(), Some(125));
    assert_eq!(Tlv::vln(1020, 0).value_uint(), Some(0));
    assert_eq!(Tlv::new(1, vec![]).value_uint(), None);
    // Addendum §3.6: 0.750 → `03 EE 02`.
    assert_eq!(
        Tlv::new(1023, vec![0x03, 0xEE, 0x02]).value_fvln_millionths(),
        Some(750_000)
    );
    assert_eq!(
        Tlv::fvln_quantity(1023, 2_000_000).value_fvln_millionths(),
        Some(2_000_000)
    );
    assert_eq!(Tlv::new(1023, vec![7, 1]).value_fvln_millionths(), None);
}
