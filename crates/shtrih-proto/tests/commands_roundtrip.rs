//! Property tests: for every command, request encode → decode and answer encode → decode are
//! the identity, and no byte string makes a decoder panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use proptest::collection::vec;
use proptest::prelude::*;
use shtrih_proto::command::status::{Flags, FullStatusAnswer, Mode, ShortStatusAnswer, Submode};
use shtrih_proto::command::*;
use shtrih_proto::error::ErrorCode;
use shtrih_proto::tlv::Tlv;

fn request_roundtrip<C: Command + PartialEq + Debug>(cmd: C) -> Result<(), TestCaseError> {
    let msg = cmd.encode();
    prop_assert_eq!(&msg[..C::CODE.len()], C::CODE);
    prop_assert_eq!(C::decode(&msg).unwrap(), cmd);
    Ok(())
}

fn answer_roundtrip<C: Command>(answer: C::Answer) -> Result<(), TestCaseError>
where
    C::Answer: PartialEq + Debug,
{
    let msg = C::encode_answer(&answer);
    prop_assert_eq!(&msg[..C::CODE.len()], C::CODE);
    prop_assert_eq!(msg[C::CODE.len()], 0, "error byte");
    prop_assert_eq!(C::decode_answer(&msg).unwrap(), answer);
    Ok(())
}

fn pwd() -> impl Strategy<Value = Password> {
    any::<u32>().prop_map(Password)
}

fn money() -> impl Strategy<Value = u64> {
    0..=MAX_MONEY
}

/// Text that CP1251 represents one byte per character, without NUL (a NUL ends a string, §3).
fn cp1251(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~А-яЁё№]{{0,{max}}}")).unwrap()
}

/// FN identifiers: no padding characters at either end (§3 says trim both).
fn ident(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9A-Z]{{0,{max}}}")).unwrap()
}

fn date() -> impl Strategy<Value = Date> {
    (2000u16..=2255, any::<u8>(), any::<u8>()).prop_map(|(year, month, day)| Date {
        year,
        month,
        day,
    })
}

fn time() -> impl Strategy<Value = Time> {
    any::<[u8; 3]>().prop_map(Time::from_bytes)
}

fn fn_date_time() -> impl Strategy<Value = DateTime> {
    any::<[u8; 5]>().prop_map(DateTime::from_fn)
}

fn kkt_date_time() -> impl Strategy<Value = DateTime> {
    (date(), time()).prop_map(|(d, t)| DateTime::from_kkt(d, t))
}

fn tlvs() -> impl Strategy<Value = Vec<Tlv>> {
    vec(
        (any::<u16>(), vec(any::<u8>(), 0..24)).prop_map(|(t, v)| Tlv::new(t, v)),
        0..5,
    )
}

fn operation_kind() -> impl Strategy<Value = OperationKind> {
    prop_oneof![
        Just(OperationKind::Sale),
        Just(OperationKind::SaleReturn),
        Just(OperationKind::Purchase),
        Just(OperationKind::PurchaseReturn),
    ]
}

fn receipt_type() -> impl Strategy<Value = CheckType> {
    prop_oneof![
        Just(CheckType::Sale),
        Just(CheckType::Purchase),
        Just(CheckType::SaleReturn),
        Just(CheckType::PurchaseReturn),
    ]
}

fn operation() -> impl Strategy<Value = OperationV2> {
    (
        pwd(),
        operation_kind(),
        0..=MAX_QUANTITY,
        money(),
        proptest::option::of(money()),
        proptest::option::of(money()),
        any::<[u8; 4]>(),
        cp1251(128),
    )
        .prop_map(
            |(password, kind, quantity, price, sum, tax, b, name)| OperationV2 {
                password,
                kind,
                quantity,
                price,
                sum,
                tax,
                tax_group: b[0],
                department: b[1],
                payment_method: b[2],
                payment_subject: b[3],
                name,
            },
        )
}

fn close_receipt() -> impl Strategy<Value = CloseReceiptV2> {
    (
        pwd(),
        vec(money(), 16),
        any::<u8>(),
        vec(money(), 6),
        any::<u8>(),
        cp1251(64),
    )
        .prop_map(|(password, p, rounding, t, tax_system, text)| {
            let mut payments = [0u64; 16];
            payments.copy_from_slice(&p);
            let mut taxes = [0u64; 6];
            taxes.copy_from_slice(&t);
            CloseReceiptV2 {
                password,
                payments,
                rounding,
                taxes,
                tax_system,
                text,
            }
        })
}

fn short_status() -> impl Strategy<Value = ShortStatusAnswer> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        any::<[u8; 4]>(),
        any::<[u8; 3]>(),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(operator, flags, mode, submode, operations, b, reserved, last)| ShortStatusAnswer {
                operator,
                flags: Flags(flags),
                mode: Mode::from_byte(mode),
                submode: Submode::from_byte(submode),
                operations,
                battery_raw: b[0],
                supply_raw: b[1],
                fp_error: b[2],
                eklz_error: b[3],
                reserved,
                last_print_result: last,
            },
        )
}

fn full_status() -> impl Strategy<Value = FullStatusAnswer> {
    (
        (
            any::<u8>(),
            any::<[u8; 2]>(),
            any::<u16>(),
            date(),
            any::<u8>(),
            any::<u16>(),
        ),
        (
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<[u8; 7]>(),
        ),
        (
            kkt_date_time(),
            any::<u8>(),
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
        ),
        (
            any::<u8>(),
            any::<u8>(),
            0u64..(1 << 48),
            vec(any::<u8>(), 0..5),
        ),
    )
        .prop_map(|(a, b, c, d)| FullStatusAnswer {
            operator: a.0,
            firmware_version: a.1,
            firmware_build: a.2,
            firmware_date: a.3,
            hall_number: a.4,
            document_number: a.5,
            flags: Flags(b.0),
            mode: Mode::from_byte(b.1),
            submode: Submode::from_byte(b.2),
            port: b.3,
            legacy_fp: b.4,
            date_time: c.0,
            legacy_fp_flags: c.1,
            serial_low: c.2,
            last_closed_shift: c.3,
            legacy_free_records: c.4,
            registrations: d.0,
            registrations_left: d.1,
            inn: d.2,
            tail: d.3,
        })
}

fn model_params() -> impl Strategy<Value = ModelParamsAnswer> {
    prop_oneof![
        (any::<u64>(), vec(any::<u8>(), 0..19)).prop_map(|(bits, fields)| ModelParamsAnswer {
            bits,
            fields,
            max_command_length: None,
            tail: Vec::new(),
        }),
        (
            any::<u64>(),
            vec(any::<u8>(), 17),
            any::<u16>(),
            vec(any::<u8>(), 0..8)
        )
            .prop_map(|(bits, fields, max, tail)| ModelParamsAnswer {
                bits,
                fields,
                max_command_length: Some(max),
                tail,
            }),
    ]
}

fn fn_status() -> impl Strategy<Value = FnStatusAnswer> {
    (
        any::<[u8; 3]>(),
        any::<bool>(),
        any::<bool>(),
        fn_date_time(),
        ident(16),
        any::<u32>(),
    )
        .prop_map(|(b, data, shift, time, serial, fd)| FnStatusAnswer {
            life_phase: b[0],
            document_open: b[1],
            document_data_received: data,
            shift_open: shift,
            warnings: b[2],
            last_document_time: time,
            serial,
            last_fd_number: fd,
        })
}

fn fiscalization() -> impl Strategy<Value = FiscalizationAnswer> {
    let extension = proptest::option::of((any::<u8>(), ident(12), any::<u32>()).prop_map(
        |(work_flags, ofd_inn, reason)| FiscalizationExtension {
            work_flags,
            ofd_inn,
            reason,
        },
    ));
    (
        fn_date_time(),
        ident(12),
        ident(20),
        any::<[u8; 2]>(),
        extension,
        any::<u32>(),
        any::<u32>(),
        proptest::option::of(fn_date_time()),
    )
        .prop_map(
            |(date_time, inn, rnm, b, extension, fd, fp, ext_dt)| FiscalizationAnswer {
                date_time,
                inn,
                rnm,
                tax_systems: b[0],
                work_mode: b[1],
                extension,
                fd_number: fd,
                fiscal_sign: fp,
                extended_date_time: ext_dt,
            },
        )
}

fn found_document() -> impl Strategy<Value = FoundDocument> {
    let details = prop_oneof![
        (
            ident(12),
            ident(20),
            any::<[u8; 2]>(),
            vec(any::<u8>(), 0..20)
        )
            .prop_map(|(inn, rnm, b, extra)| (
                FoundDocument::REGISTRATION,
                DocumentDetails::Registration {
                    inn,
                    rnm,
                    tax_systems: b[0],
                    work_mode: b[1],
                    extra
                }
            )),
        (prop_oneof![Just(2u8), Just(5u8)], any::<u16>())
            .prop_map(|(t, shift_number)| (t, DocumentDetails::Shift { shift_number })),
        (
            prop_oneof![Just(3u8), Just(4u8), Just(31u8), Just(41u8)],
            any::<u8>(),
            money()
        )
            .prop_map(|(t, operation, total)| (t, DocumentDetails::Receipt { operation, total })),
        (
            (6u8..=255).prop_filter("31 and 41 read as receipts", |t| *t != 31 && *t != 41),
            vec(any::<u8>(), 0..20)
        )
            .prop_map(|(t, raw)| (t, DocumentDetails::Raw(raw))),
    ];
    (
        details,
        any::<bool>(),
        fn_date_time(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |((doc_type, details), ticket, date_time, fd, fp)| FoundDocument {
                doc_type,
                ofd_ticket_received: ticket,
                date_time,
                fd_number: fd,
                fiscal_sign: fp,
                details,
            },
        )
}

proptest! {
    #[test]
    fn password_only_requests(p in pwd()) {
        request_roundtrip(ShortStatus { password: p })?;
        request_roundtrip(FullStatus { password: p })?;
        request_roundtrip(CancelReceipt { password: p })?;
        request_roundtrip(Subtotal { password: p })?;
        request_roundtrip(ContinuePrinting { password: p })?;
        request_roundtrip(OpenShift { password: p })?;
        request_roundtrip(BeginShiftOpening { password: p })?;
        request_roundtrip(BeginShiftClosing { password: p })?;
        request_roundtrip(CloseShiftFn { password: p })?;
        request_roundtrip(XReport { password: p })?;
        request_roundtrip(ZReport { password: p })?;
        request_roundtrip(ShiftParams { password: p })?;
        request_roundtrip(FnStatus { password: p })?;
        request_roundtrip(FnSerial { password: p })?;
        request_roundtrip(FnExpiry { password: p })?;
        request_roundtrip(FnVersion { password: p })?;
        request_roundtrip(LastFiscalization { password: p })?;
        request_roundtrip(OfdExchangeStatus { password: p })?;
        request_roundtrip(DeviceType)?;
        request_roundtrip(ModelParams)?;
    }

    #[test]
    fn parameterised_requests(
        p in pwd(),
        amount in money(),
        byte in any::<u8>(),
        row in any::<u16>(),
        fd in any::<u32>(),
        d in date(),
        t in time(),
        rt in receipt_type(),
        value in vec(any::<u8>(), 0..40),
        line in cp1251(40),
        items in tlvs(),
    ) {
        request_roundtrip(ErrorText { code: byte })?;
        request_roundtrip(OpenReceipt { password: p, receipt_type: rt })?;
        request_roundtrip(CashIn { password: p, amount })?;
        request_roundtrip(CashOut { password: p, amount })?;
        request_roundtrip(FindDocument { password: p, fd_number: fd })?;
        request_roundtrip(SetTime { password: p, time: t })?;
        request_roundtrip(SetDate { password: p, date: d })?;
        request_roundtrip(ConfirmDate { password: p, date: d })?;
        request_roundtrip(MoneyRegister { password: p, number: byte })?;
        request_roundtrip(OperationRegister { password: p, number: byte })?;
        request_roundtrip(ReadTable { password: p, table: byte, row, field: byte })?;
        request_roundtrip(WriteTable { password: p, table: byte, row, field: byte, value })?;
        request_roundtrip(TableStructure { password: p, table: byte })?;
        request_roundtrip(PrintLine { password: p, flags: byte, text: line })?;
        request_roundtrip(Cut { password: p, kind: if byte % 2 == 0 { CutKind::Full } else { CutKind::Partial } })?;
        request_roundtrip(AttachTlv { password: p, tlvs: items.clone() })?;
        request_roundtrip(AttachItemTlv { password: p, tlvs: items })?;
    }

    #[test]
    fn receipt_requests(op in operation(), close in close_receipt()) {
        request_roundtrip(op)?;
        request_roundtrip(close)?;
    }

    #[test]
    fn status_answers(s in short_status(), f in full_status(), m in model_params()) {
        answer_roundtrip::<ShortStatus>(s)?;
        answer_roundtrip::<FullStatus>(f)?;
        answer_roundtrip::<ModelParams>(m)?;
    }

    #[test]
    fn simple_answers(
        operator in any::<u8>(),
        amount in money(),
        n16 in any::<u16>(),
        n32 in any::<[u32; 2]>(),
        text in cp1251(60),
        raw in vec(any::<u8>(), 0..40),
        b in any::<[u8; 6]>(),
        dt in proptest::option::of(fn_date_time()),
        maybe_op in proptest::option::of(any::<u8>()),
    ) {
        let op = OperatorAnswer { operator };
        answer_roundtrip::<OpenReceipt>(op)?;
        answer_roundtrip::<CancelReceipt>(op)?;
        answer_roundtrip::<ContinuePrinting>(op)?;
        answer_roundtrip::<XReport>(op)?;
        answer_roundtrip::<ZReport>(op)?;
        answer_roundtrip::<PrintLine>(op)?;
        answer_roundtrip::<Cut>(op)?;
        answer_roundtrip::<OpenShift>(OpenShiftAnswer { operator: maybe_op })?;
        answer_roundtrip::<OperationV2>(())?;
        answer_roundtrip::<AttachTlv>(())?;
        answer_roundtrip::<AttachItemTlv>(())?;
        answer_roundtrip::<BeginShiftOpening>(())?;
        answer_roundtrip::<BeginShiftClosing>(())?;
        answer_roundtrip::<SetTime>(())?;
        answer_roundtrip::<SetDate>(())?;
        answer_roundtrip::<ConfirmDate>(())?;
        answer_roundtrip::<WriteTable>(())?;
        answer_roundtrip::<Subtotal>(SubtotalAnswer { operator, subtotal: amount })?;
        let cash = CashMovementAnswer { operator, document_number: n16 };
        answer_roundtrip::<CashIn>(cash)?;
        answer_roundtrip::<CashOut>(cash)?;
        answer_roundtrip::<CloseReceiptV2>(CloseReceiptAnswer {
            change: amount, fd_number: n32[0], fiscal_sign: n32[1], date_time: dt,
        })?;
        answer_roundtrip::<CloseShiftFn>(CloseShiftFnAnswer {
            shift_number: n16, fd_number: n32[0], fiscal_sign: n32[1], date_time: dt,
        })?;
        answer_roundtrip::<ShiftParams>(ShiftParamsAnswer {
            shift_open: b[0] % 2 == 1, shift_number: n16, receipt_number: u16::from(b[1]),
        })?;
        answer_roundtrip::<MoneyRegister>(RegisterAnswer { operator, value: amount })?;
        answer_roundtrip::<OperationRegister>(RegisterAnswer { operator, value: u64::from(n16) })?;
        answer_roundtrip::<ReadTable>(TableValue(raw.clone()))?;
        answer_roundtrip::<TableStructure>(TableStructureAnswer {
            name: text.chars().take(40).collect(), rows: n16, fields: b[2],
        })?;
        answer_roundtrip::<ErrorText>(text.clone())?;
        answer_roundtrip::<DeviceType>(DeviceTypeAnswer {
            device_type: b[0], subtype: b[1], protocol_version: b[2],
            protocol_subversion: b[3], model: b[4], language: b[5], name: text,
        })?;
        answer_roundtrip::<FnExpiry>(FnExpiryAnswer {
            expiry: Date::from_fn([b[0], b[1], b[2]]),
            registrations: maybe_op.map(|x| (x, b[3])),
        })?;
        answer_roundtrip::<OfdExchangeStatus>(OfdExchangeStatusAnswer {
            status: b[0], read_message_state: b[1], queue_len: n16,
            first_fd_number: n32[0], first_date_time: DateTime::from_fn([b[0], b[1], b[2], b[3], b[4]]),
        })?;
    }

    #[test]
    fn fn_answers(
        s in fn_status(),
        serial in ident(16),
        version in ident(16),
        kind in any::<u8>(),
        fiscal in fiscalization(),
        doc in found_document(),
    ) {
        answer_roundtrip::<FnStatus>(s)?;
        answer_roundtrip::<FnSerial>(FnSerialAnswer { serial })?;
        answer_roundtrip::<FnVersion>(FnVersionAnswer { version, firmware_type: kind })?;
        answer_roundtrip::<LastFiscalization>(fiscal)?;
        answer_roundtrip::<FindDocument>(doc)?;
    }

    #[test]
    fn error_byte_is_a_device_error(err in 1u8..=255, tail in vec(any::<u8>(), 0..4)) {
        let mut one = vec![0x10, err];
        one.extend(&tail);
        prop_assert_eq!(ShortStatus::decode_answer(&one), Err(AnswerError::Device(ErrorCode(err))));
        let mut fn_form = vec![0xFF, 0x01, err];
        fn_form.extend(&tail);
        prop_assert_eq!(FnStatus::decode_answer(&fn_form), Err(AnswerError::Device(ErrorCode(err))));
        prop_assert_eq!(CloseReceiptV2::decode_answer(&[0xFF, 0x45, err]), Err(AnswerError::Device(ErrorCode(err))));
    }

    #[test]
    fn decoders_never_panic_and_accept_only_their_own_code(bytes in vec(any::<u8>(), 0..200)) {
        // A successful answer decode implies `code 00`; a successful request decode implies
        // the code prefix. Everything else must come back as an error, never a panic.
        fn answer_ok<C: Command>(m: &[u8]) -> bool {
            let ok = C::decode_answer(m).is_ok();
            !ok || (m.starts_with(C::CODE) && m.get(C::CODE.len()) == Some(&0))
        }
        fn request_ok<C: Command>(m: &[u8]) -> bool {
            C::decode(m).is_err() || m.starts_with(C::CODE)
        }
        let mut fn_msg = vec![0xFF, 0x0A, 0x00];
        fn_msg.extend(&bytes);
        for m in [&bytes[..], &fn_msg[..]] {
            prop_assert!(answer_ok::<ShortStatus>(m));
            prop_assert!(answer_ok::<FullStatus>(m));
            prop_assert!(answer_ok::<DeviceType>(m));
            prop_assert!(answer_ok::<ModelParams>(m));
            prop_assert!(answer_ok::<ErrorText>(m));
            prop_assert!(answer_ok::<CloseReceiptV2>(m));
            prop_assert!(answer_ok::<FnStatus>(m));
            prop_assert!(answer_ok::<LastFiscalization>(m));
            prop_assert!(answer_ok::<FindDocument>(m));
            prop_assert!(answer_ok::<OfdExchangeStatus>(m));
            prop_assert!(answer_ok::<TableStructure>(m));
            prop_assert!(answer_ok::<MoneyRegister>(m));
            prop_assert!(request_ok::<OperationV2>(m));
            prop_assert!(request_ok::<CloseReceiptV2>(m));
            prop_assert!(request_ok::<AttachTlv>(m));
            prop_assert!(request_ok::<WriteTable>(m));
            prop_assert!(request_ok::<PrintLine>(m));
        }
        // The same bytes behind valid FN headers reach the field parsers of FF09 and FF01.
        fn_msg[1] = 0x09;
        prop_assert!(answer_ok::<LastFiscalization>(&fn_msg));
        fn_msg[1] = 0x01;
        prop_assert!(answer_ok::<FnStatus>(&fn_msg));
    }
}
