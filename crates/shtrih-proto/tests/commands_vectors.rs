//! The worked examples of §12: every captured (12.1, 12.2, 12.7, 12.8) and computed (12.3–12.6,
//! 12.9) frame decodes to the meaning the notes give and encodes back to exactly its bytes.
//! Frames are unwrapped by hand (STX, LEN, LRC checked here) so these tests do not depend on
//! the frame module.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{msg, PWD1, PWD30};
use shtrih_proto::command::status::{Mode, ReceiptKind, Submode};
use shtrih_proto::command::*;
use shtrih_proto::error::ErrorCode;

#[test]
fn short_status_12_1_request_and_answers() {
    assert_eq!(
        ShortStatus { password: PWD30 }.encode(),
        msg("02 05 10 1E 00 00 00 0B")
    );

    let answer = msg("02 10 10 00 1E 92 02 02 00 00 9F E5 18 01 00 92 08 00 75");
    let s = ShortStatus::decode_answer(&answer).unwrap();
    assert_eq!(s.operator, 30);
    assert_eq!(s.flags.0, 0x0292);
    assert!(s.flags.receipt_roll_present());
    assert!(s.flags.receipt_paper_present());
    assert!(s.flags.receipt_lever_down());
    assert!(!s.flags.cover_open());
    assert!(!s.paper_out());
    assert_eq!(s.mode, Mode::ShiftOpen);
    assert_eq!(s.submode, Submode::Idle);
    assert_eq!(s.operations, 0);
    assert_eq!((s.battery_raw, s.supply_raw), (0x9F, 0xE5));
    assert_eq!(s.last_print_result, None);
    assert_eq!(ShortStatus::encode_answer(&s), answer);

    let open = msg("02 10 10 00 1E 92 02 08 00 01 9F E5 18 01 00 8B 02 00 6D");
    let s = ShortStatus::decode_answer(&open).unwrap();
    assert_eq!(s.mode, Mode::ReceiptOpen(ReceiptKind::Sale));
    assert_eq!(s.operations, 1);
    assert_eq!(ShortStatus::encode_answer(&s), open);

    let closed = msg("02 10 10 00 1E 92 02 04 00 00 9F E5 20 C8 00 8B 02 00 91");
    let s = ShortStatus::decode_answer(&closed).unwrap();
    assert_eq!(s.mode, Mode::ShiftClosed);
    assert!(!s.mode.shift_open());
    assert_eq!(ShortStatus::encode_answer(&s), closed);
}

#[test]
fn short_status_12_10_printing_submode() {
    assert_eq!(
        ShortStatus { password: PWD1 }.encode(),
        msg("02 05 10 01 00 00 00 14")
    );
    let s = ShortStatus::decode_answer(&msg(
        "02 10 10 00 01 92 02 02 05 00 9F E5 18 01 00 92 08 00 6F",
    ))
    .unwrap();
    assert_eq!(s.submode, Submode::Printing);
    assert_eq!(s.operator, 1);
}

#[test]
fn fn_status_12_2_captures() {
    assert_eq!(
        FnStatus { password: PWD30 }.encode(),
        msg("02 06 FF 01 1E 00 00 00 E6")
    );
    let answer = msg(
        "02 21 FF 01 00 03 00 00 01 00 14 0A 06 0F 1F 39 32 38 31 30 30 30 31 30 \
         30 30 30 37 34 34 32 40 2E 00 00 BD",
    );
    let s = FnStatus::decode_answer(&answer).unwrap();
    assert_eq!(s.life_phase, 0x03);
    assert_eq!(s.document_open, FnStatusAnswer::NO_DOCUMENT);
    assert!(!s.document_data_received);
    assert!(s.shift_open);
    assert_eq!(s.warnings, 0);
    assert_eq!(
        s.last_document_time,
        DateTime {
            year: 2020,
            month: 10,
            day: 6,
            hour: 15,
            minute: 31,
            second: 0
        }
    );
    assert_eq!(s.serial, "9281000100007442");
    assert_eq!(s.last_fd_number, 11840);
    assert_eq!(FnStatus::encode_answer(&s), answer);

    let later = [
        ("02 21 FF 01 00 03 00 00 01 00 14 0A 06 10 14 39 32 38 31 30 30 30 31 30 30 30 30 37 34 34 32 41 2E 00 00 A8", 11841, true, (16, 20)),
        ("02 21 FF 01 00 03 00 00 00 00 14 0A 06 10 33 39 32 38 31 30 30 30 31 30 30 30 30 37 34 34 32 42 2E 00 00 8D", 11842, false, (16, 51)),
        ("02 21 FF 01 00 03 00 00 00 00 14 0A 07 11 14 39 32 38 31 30 30 30 31 30 30 30 30 37 34 34 32 4E 2E 00 00 A6", 11854, false, (17, 20)),
    ];
    for (hex, fd, shift_open, (hour, minute)) in later {
        let m = msg(hex);
        let s = FnStatus::decode_answer(&m).unwrap();
        assert_eq!(s.last_fd_number, fd);
        assert_eq!(s.shift_open, shift_open);
        assert_eq!(
            (s.last_document_time.hour, s.last_document_time.minute),
            (hour, minute)
        );
        assert_eq!(FnStatus::encode_answer(&s), m);
    }
}

#[test]
fn open_receipt_12_3() {
    let cmd = OpenReceipt {
        password: PWD1,
        receipt_type: CheckType::Sale,
    };
    let request = msg("02 06 8D 01 00 00 00 00 8A");
    assert_eq!(cmd.encode(), request);
    assert_eq!(OpenReceipt::decode(&request).unwrap(), cmd);
    assert_eq!(cmd.class(), CommandClass::SelfGuarding);

    let ok = msg("02 03 8D 00 01 8F");
    assert_eq!(
        OpenReceipt::decode_answer(&ok).unwrap(),
        OperatorAnswer { operator: 1 }
    );
    assert_eq!(
        OpenReceipt::encode_answer(&OperatorAnswer { operator: 1 }),
        ok
    );

    assert_eq!(
        OpenReceipt::decode_answer(&msg("02 02 8D 4A C5")),
        Err(AnswerError::Device(ErrorCode::RECEIPT_OPEN))
    );
}

#[test]
fn operation_v2_12_4_milk() {
    let cmd = OperationV2 {
        password: PWD30,
        kind: OperationKind::Sale,
        quantity: 2_000_000,
        price: 8990,
        sum: None,
        tax: None,
        tax_group: 2,
        department: 1,
        payment_method: 4,
        payment_subject: 1,
        name: "Молоко 3,2%".into(),
    };
    let request = msg(
        "02 2B FF 46 1E 00 00 00 01 80 84 1E 00 00 00 1E 23 00 00 00 FF FF FF FF \
         FF FF FF FF FF FF 02 01 04 01 CC EE EB EE EA EE 20 33 2C 32 25 A7",
    );
    assert_eq!(cmd.encode(), request);
    assert_eq!(OperationV2::decode(&request).unwrap(), cmd);
    assert_eq!(cmd.class(), CommandClass::Dangerous);
}

#[test]
fn operation_v2_12_4_cheese_explicit_sum_and_tax() {
    let cmd = OperationV2 {
        password: PWD1,
        kind: OperationKind::Sale,
        quantity: 1_500_000,
        price: 10_000,
        sum: Some(15_000),
        tax: Some(2_500),
        tax_group: 1,
        department: 1,
        payment_method: 4,
        payment_subject: 1,
        name: "Сыр".into(),
    };
    let request = msg(
        "02 23 FF 46 01 00 00 00 01 60 E3 16 00 00 00 10 27 00 00 00 98 3A 00 00 \
         00 C4 09 00 00 00 01 01 04 01 D1 FB F0 88",
    );
    assert_eq!(cmd.encode(), request);
    assert_eq!(OperationV2::decode(&request).unwrap(), cmd);

    let ok = msg("02 03 FF 46 00 BA");
    assert_eq!(OperationV2::decode_answer(&ok), Ok(()));
    assert_eq!(OperationV2::encode_answer(&()), ok);
}

#[test]
fn operation_v2_12_10_no_vat_item() {
    let cmd = OperationV2 {
        password: PWD1,
        kind: OperationKind::Sale,
        quantity: 1_000_000,
        price: 17_980,
        sum: None,
        tax: None,
        tax_group: 4,
        department: 1,
        payment_method: 4,
        payment_subject: 1,
        name: "Тест".into(),
    };
    assert_eq!(
        cmd.encode(),
        msg("02 24 FF 46 01 00 00 00 01 40 42 0F 00 00 00 3C 46 00 00 00 FF FF FF FF FF FF FF FF FF FF 04 01 04 01 D2 E5 F1 F2 DE")
    );
}

fn close_cash_200(password: Password) -> CloseReceiptV2 {
    let mut payments = [0u64; 16];
    payments[0] = 20_000;
    CloseReceiptV2 {
        password,
        payments,
        rounding: 0,
        taxes: [0; 6],
        tax_system: 0x01,
        text: String::new(),
    }
}

#[test]
fn close_receipt_v2_12_5() {
    let cmd = close_cash_200(PWD30);
    let mut expected = vec![0xFF, 0x45, 0x1E, 0, 0, 0, 0x20, 0x4E, 0, 0, 0];
    expected.extend([0u8; 75 + 1 + 30]);
    expected.push(0x01);
    let request = msg(
        "02 76 FF 45 1E 00 00 00 20 4E 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
         00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
         00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
         00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
         00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 BD",
    );
    assert_eq!(request, expected);
    assert_eq!(cmd.encode(), request);
    assert_eq!(CloseReceiptV2::decode(&request).unwrap(), cmd);
    assert_eq!(cmd.class(), CommandClass::SelfGuarding);

    let short = msg("02 10 FF 45 00 E4 07 00 00 00 41 2E 00 00 BF BF 0B E9 C4");
    let a = CloseReceiptV2::decode_answer(&short).unwrap();
    assert_eq!(
        a,
        CloseReceiptAnswer {
            change: 2020,
            fd_number: 11841,
            fiscal_sign: 3_909_861_311,
            date_time: None
        }
    );
    assert_eq!(CloseReceiptV2::encode_answer(&a), short);

    let extended = msg("02 15 FF 45 00 E4 07 00 00 00 41 2E 00 00 BF BF 0B E9 14 0A 06 0F 23 F5");
    let a = CloseReceiptV2::decode_answer(&extended).unwrap();
    assert_eq!(
        a.date_time,
        Some(DateTime {
            year: 2020,
            month: 10,
            day: 6,
            hour: 15,
            minute: 35,
            second: 0
        })
    );
    assert_eq!(CloseReceiptV2::encode_answer(&a), extended);
}

#[test]
fn close_receipt_v2_12_10_frame_length() {
    let m = close_cash_200(PWD1).encode();
    assert_eq!(m.len(), 118);
    let lrc = std::iter::once(118u8)
        .chain(m.iter().copied())
        .fold(0, |a, b| a ^ b);
    assert_eq!(lrc, 0xA2);
}

#[test]
fn cash_in_and_out_12_6() {
    let cash_in = CashIn {
        password: PWD1,
        amount: 100_000,
    };
    let request = msg("02 0A 50 01 00 00 00 A0 86 01 00 00 7C");
    assert_eq!(cash_in.encode(), request);
    assert_eq!(CashIn::decode(&request).unwrap(), cash_in);
    assert_eq!(cash_in.class(), CommandClass::Dangerous);

    let answer = msg("02 05 50 00 01 98 00 CC");
    let a = CashIn::decode_answer(&answer).unwrap();
    assert_eq!(
        a,
        CashMovementAnswer {
            operator: 1,
            document_number: 152
        }
    );
    assert_eq!(CashIn::encode_answer(&a), answer);

    let cash_out = CashOut {
        password: PWD1,
        amount: 50_000,
    };
    let request = msg("02 0A 51 01 00 00 00 50 C3 00 00 00 C9");
    assert_eq!(cash_out.encode(), request);
    assert_eq!(CashOut::decode(&request).unwrap(), cash_out);
    assert_eq!(
        CashOut::decode_answer(&msg("02 02 51 46 15")),
        Err(AnswerError::Device(ErrorCode::NOT_ENOUGH_CASH))
    );
}

#[test]
fn cancel_receipt_12_7_and_12_9() {
    let cmd = CancelReceipt { password: PWD30 };
    assert_eq!(cmd.encode(), msg("02 05 88 1E 00 00 00 93"));
    assert_eq!(
        CancelReceipt::decode_answer(&msg("02 03 88 00 1E 95")).unwrap(),
        OperatorAnswer { operator: 30 }
    );
    assert_eq!(
        CancelReceipt::encode_answer(&OperatorAnswer { operator: 30 }),
        msg("02 03 88 00 1E 95")
    );
    assert_eq!(
        CancelReceipt { password: PWD1 }.encode(),
        msg("02 05 88 01 00 00 00 8C")
    );
    assert_eq!(cmd.class(), CommandClass::SelfGuarding);
}

#[test]
fn error_answers_and_reports_12_8() {
    assert_eq!(
        ZReport { password: PWD30 }.encode(),
        msg("02 05 41 1E 00 00 00 5A")
    );
    assert_eq!(
        ZReport::decode_answer(&msg("02 02 41 73 30")),
        Err(AnswerError::Device(ErrorCode::WRONG_MODE))
    );

    assert_eq!(
        XReport {
            password: Password(31)
        }
        .encode(),
        msg("02 05 40 1F 00 00 00 5A")
    );
    assert_eq!(
        XReport::decode_answer(&msg("02 02 40 4F 0D")),
        Err(AnswerError::Device(ErrorCode::WRONG_PASSWORD))
    );

    assert_eq!(
        ShortStatus {
            password: Password(31)
        }
        .encode(),
        msg("02 05 10 1F 00 00 00 0A")
    );
    assert_eq!(
        ShortStatus::decode_answer(&msg("02 02 10 4F 5D")),
        Err(AnswerError::Device(ErrorCode::WRONG_PASSWORD))
    );

    assert_eq!(
        FnStatus {
            password: Password(31)
        }
        .encode(),
        msg("02 06 FF 01 1F 00 00 00 E7")
    );
    assert_eq!(
        FnStatus::decode_answer(&msg("02 03 FF 01 4F B2")),
        Err(AnswerError::Device(ErrorCode::WRONG_PASSWORD))
    );

    assert_eq!(
        XReport { password: PWD30 }.encode(),
        msg("02 05 40 1E 00 00 00 5B")
    );
    assert_eq!(
        XReport::decode_answer(&msg("02 02 40 50 12")),
        Err(AnswerError::Device(ErrorCode::PRINTING))
    );
    let ok = msg("02 03 40 00 00 43");
    assert_eq!(
        XReport::decode_answer(&ok).unwrap(),
        OperatorAnswer { operator: 0 }
    );
    assert_eq!(XReport::encode_answer(&OperatorAnswer { operator: 0 }), ok);
    assert_eq!(XReport { password: PWD30 }.class(), CommandClass::Dangerous);
    assert_eq!(
        ZReport { password: PWD30 }.class(),
        CommandClass::SelfGuarding
    );
}

#[test]
fn fn_short_error_form_ff_err() {
    // §3: the vendor driver also accepts `FF err` when the second byte is not the sub-code.
    assert_eq!(
        FnStatus::decode_answer(&[0xFF, 0x4F]),
        Err(AnswerError::Device(ErrorCode::WRONG_PASSWORD))
    );
    // An answer of another FN command (e.g. a stale FF02 answer) is not a refusal.
    assert!(matches!(
        FnStatus::decode_answer(&[0xFF, 0x02, 0x00, 0x39]),
        Err(AnswerError::Malformed(_))
    ));
    // `FF 01` alone carries no error byte: malformed, never a claimed refusal.
    assert!(matches!(
        FnStatus::decode_answer(&[0xFF, 0x01]),
        Err(AnswerError::Malformed(_))
    ));
}

#[test]
fn open_shift_accepts_len_2_and_3() {
    assert_eq!(
        OpenShift::decode_answer(&[0xE0, 0x00]).unwrap().operator,
        None
    );
    assert_eq!(
        OpenShift::decode_answer(&[0xE0, 0x00, 0x1E])
            .unwrap()
            .operator,
        Some(30)
    );
    assert_eq!(
        OpenShift::decode_answer(&[0xE0, 0x3C]),
        Err(AnswerError::Device(ErrorCode::SHIFT_OPEN))
    );
}
