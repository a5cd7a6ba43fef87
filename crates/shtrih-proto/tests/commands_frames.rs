//! The computed frames of §12.9 and the whole exchange of §12.10, built with the frame module.
//! Frames are unwrapped by hand (STX, LEN, LRC checked here) so these tests do not depend on
//! the frame module.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hex, msg, PWD1, PWD30};
use shtrih_proto::command::*;
use shtrih_proto::tlv::Tlv;

#[test]
fn other_frames_12_9() {
    assert_eq!(
        FullStatus { password: PWD30 }.encode(),
        msg("02 05 11 1E 00 00 00 0A")
    );
    assert_eq!(DeviceType.encode(), msg("02 01 FC FD"));
    assert_eq!(
        FnSerial { password: PWD30 }.encode(),
        msg("02 06 FF 02 1E 00 00 00 E5")
    );
    assert_eq!(
        BeginShiftOpening { password: PWD30 }.encode(),
        msg("02 06 FF 41 1E 00 00 00 A6")
    );
    assert_eq!(
        OpenShift { password: PWD30 }.encode(),
        msg("02 05 E0 1E 00 00 00 FB")
    );
    assert_eq!(
        ShiftParams { password: PWD30 }.encode(),
        msg("02 06 FF 40 1E 00 00 00 A7")
    );
    assert_eq!(
        FindDocument {
            password: PWD30,
            fd_number: 11840
        }
        .encode(),
        msg("02 0A FF 0A 1E 00 00 00 40 2E 00 00 8F")
    );
    let read_cut = ReadTable {
        password: PWD30,
        table: 1,
        row: 1,
        field: 7,
    };
    assert_eq!(
        read_cut.encode(),
        msg("02 09 1F 1E 00 00 00 01 01 00 07 0F")
    );
    assert_eq!(
        WriteTable::bin(PWD30, 1, 1, 7, 2, 1).encode(),
        msg("02 0A 1E 1E 00 00 00 01 01 00 07 02 0F")
    );
    assert_eq!(
        ReadTable {
            password: PWD30,
            table: 17,
            row: 1,
            field: 17
        }
        .encode(),
        msg("02 09 1F 1E 00 00 00 11 01 00 11 09")
    );
    assert_eq!(
        WriteTable::bin(PWD30, 17, 1, 7, 1, 1).encode(),
        msg("02 0A 1E 1E 00 00 00 11 01 00 07 01 1C")
    );
    assert_eq!(
        SetTime {
            password: PWD30,
            time: Time {
                hour: 15,
                minute: 31,
                second: 0
            }
        }
        .encode(),
        msg("02 08 21 1E 00 00 00 0F 1F 00 27")
    );
    let date = Date {
        year: 2020,
        month: 10,
        day: 6,
    };
    assert_eq!(
        SetDate {
            password: PWD30,
            date
        }
        .encode(),
        msg("02 08 22 1E 00 00 00 06 0A 14 2C")
    );
    assert_eq!(
        ConfirmDate {
            password: PWD30,
            date
        }
        .encode(),
        msg("02 08 23 1E 00 00 00 06 0A 14 2D")
    );
    assert_eq!(
        Cut {
            password: PWD1,
            kind: CutKind::Full
        }
        .encode(),
        msg("02 06 25 01 00 00 00 00 22")
    );
    assert_eq!(
        ContinuePrinting { password: PWD30 }.encode(),
        msg("02 05 B0 1E 00 00 00 AB")
    );
}

#[test]
fn cashier_inn_tlv_12_9() {
    let cmd = AttachTlv {
        password: PWD30,
        tlvs: vec![Tlv::cashier_inn("262804786800")],
    };
    let request = msg("02 16 FF 0C 1E 00 00 00 B3 04 0C 00 32 36 32 38 30 34 37 38 36 38 30 30 4B");
    assert_eq!(cmd.encode(), request);
    assert_eq!(AttachTlv::decode(&request).unwrap(), cmd);
    assert!(cmd.fits_frame());
    assert_eq!(cmd.class(), CommandClass::Dangerous);
}

#[test]
fn print_line_12_9() {
    let cmd = PrintLine {
        password: PWD1,
        flags: 0x02,
        text: "Спасибо за покупку!".into(),
    };
    let request = msg(
        "02 2E 17 01 00 00 00 02 D1 EF E0 F1 E8 E1 EE 20 E7 E0 20 EF EE EA F3 EF \
         EA F3 21 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 3A",
    );
    assert_eq!(cmd.encode(), request);
    assert_eq!(PrintLine::decode(&request).unwrap(), cmd);
}

#[test]
fn find_document_answer_12_9() {
    let answer =
        msg("02 18 FF 0A 00 03 00 14 0A 06 0F 1F 40 2E 00 00 BF BF 0B E9 01 3C 46 00 00 00 11");
    let d = FindDocument::decode_answer(&answer).unwrap();
    assert_eq!(d.doc_type, FoundDocument::RECEIPT);
    assert!(!d.ofd_ticket_received);
    assert_eq!(
        d.date_time,
        DateTime {
            year: 2020,
            month: 10,
            day: 6,
            hour: 15,
            minute: 31,
            second: 0
        }
    );
    assert_eq!(d.fd_number, 11840);
    assert_eq!(d.fiscal_sign, 3_909_861_311);
    assert_eq!(
        d.details,
        DocumentDetails::Receipt {
            operation: 1,
            total: 17_980
        }
    );
    assert_eq!(FindDocument::encode_answer(&d), answer);
}

#[test]
fn shift_params_answer_12_9() {
    let answer = msg("02 08 FF 40 00 01 2A 00 07 00 9B");
    let a = ShiftParams::decode_answer(&answer).unwrap();
    assert_eq!(
        a,
        ShiftParamsAnswer {
            shift_open: true,
            shift_number: 42,
            receipt_number: 7
        }
    );
    assert_eq!(ShiftParams::encode_answer(&a), answer);
}

#[test]
fn exchange_12_10_frames() {
    use shtrih_proto::frame;
    let open = OpenReceipt {
        password: PWD1,
        receipt_type: CheckType::Sale,
    };
    assert_eq!(
        frame::encode(&open.encode()).unwrap(),
        hex("02 06 8D 01 00 00 00 00 8A")
    );
    assert_eq!(
        OpenReceipt::decode_answer(&decoded(&hex("02 03 8D 00 01 8F"))).unwrap(),
        OperatorAnswer { operator: 1 }
    );

    let item = OperationV2 {
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
        frame::encode(&item.encode()).unwrap(),
        hex("02 24 FF 46 01 00 00 00 01 40 42 0F 00 00 00 3C 46 00 00 00 FF FF FF FF FF FF FF FF FF FF 04 01 04 01 D2 E5 F1 F2 DE")
    );
    assert_eq!(
        OperationV2::decode_answer(&decoded(&hex("02 03 FF 46 00 BA"))),
        Ok(())
    );

    let mut payments = [0u64; 16];
    payments[0] = 20_000;
    let close = CloseReceiptV2 {
        password: PWD1,
        payments,
        rounding: 0,
        taxes: [0; 6],
        tax_system: 1,
        text: String::new(),
    };
    let close_frame = frame::encode(&close.encode()).unwrap();
    assert_eq!(close_frame.len(), 121);
    assert_eq!(close_frame[..8], hex("02 76 FF 45 01 00 00 00")[..]);
    assert_eq!(close_frame[120], 0xA2);
    let answer = CloseReceiptV2::decode_answer(&decoded(&hex(
        "02 10 FF 45 00 E4 07 00 00 00 41 2E 00 00 BF BF 0B E9 C4",
    )))
    .unwrap();
    assert_eq!(
        (answer.change, answer.fd_number, answer.fiscal_sign),
        (2020, 11841, 3_909_861_311)
    );

    let poll = ShortStatus { password: PWD1 };
    assert_eq!(
        frame::encode(&poll.encode()).unwrap(),
        hex("02 05 10 01 00 00 00 14")
    );
}

fn decoded(bytes: &[u8]) -> Vec<u8> {
    match shtrih_proto::frame::decode(bytes) {
        shtrih_proto::frame::Decoded::Frame { msg, consumed } => {
            assert_eq!(consumed, bytes.len());
            msg
        }
        other => panic!("not a frame: {other:?}"),
    }
}
