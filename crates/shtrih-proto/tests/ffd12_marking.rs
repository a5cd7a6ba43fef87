//! Marked goods on the wire (FFD 1.2 addendum §4.2–§4.4, §4.10): FF61, FF69 and FF67 against
//! frames and answers written by hand from the addendum — hex in, meaning out, and back — and
//! their resend classes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hex, msg, PWD1, PWD30};
use shtrih_proto::command::*;
use shtrih_proto::tlv::Tlv;

/// The addendum's code `K`: "0104601234567890215abcDE␝93ABCD" (31 bytes).
const K: &str =
    "30 31 30 34 36 30 31 32 33 34 35 36 37 38 39 30 32 31 35 61 62 63 44 45 1D 39 33 41 42 43 44";

fn k() -> Vec<u8> {
    b"0104601234567890215abcDE\x1d93ABCD".to_vec()
}

fn frame(s: &str) -> Vec<u8> {
    msg(&s.replace('K', K))
}

#[test]
fn the_example_code_is_the_addendums_bytes() {
    assert_eq!(hex(K), k());
    assert_eq!(k().len(), 0x1F);
}

#[test]
fn ff61_of_a_piece_item_4_10_a_step_5() {
    let wire = frame("02 29 FF 61 1E 00 00 00 01 00 1F 00 K F1");
    let command = CheckMarkingCode {
        password: PWD30,
        planned_status: PlannedStatus::PieceSold,
        code: k(),
        tlvs: vec![],
    };
    assert_eq!(CheckMarkingCode::decode(&wire).unwrap(), command);
    assert_eq!(command.try_encode().unwrap(), wire);
}

#[test]
fn ff61_of_a_measured_item_4_10_b_carries_2108_and_1023_fvln() {
    let wire =
        frame("02 35 FF 61 1E 00 00 00 02 00 1F 0C K 3C 08 01 00 0B FF 03 03 00 03 EE 02 CC");
    let command = CheckMarkingCode {
        password: PWD30,
        planned_status: PlannedStatus::MeasuredSold,
        code: k(),
        tlvs: vec![Tlv::byte(2108, 11), Tlv::fvln_quantity(1023, 750_000)],
    };
    assert_eq!(Tlv::fvln_quantity(1023, 750_000).value, hex("03 EE 02"));
    assert_eq!(Tlv::fvln_quantity(1023, 2_000_000).value, hex("03 D0 07"));
    assert_eq!(
        Tlv::fvln_quantity(1023, 1_234_567).value,
        hex("06 87 D6 12")
    );
    assert_eq!(CheckMarkingCode::decode(&wire).unwrap(), command);
    assert_eq!(command.try_encode().unwrap(), wire);
}

#[test]
fn ff61_answers_with_and_without_the_online_part() {
    // 2004 = 3 (checked, positive), reason 0, type 4, L = 2, FN answer 0, 2106 = 0F.
    let online = hex("FF 61 00 03 00 04 02 00 0F");
    let a = CheckMarkingCode::decode_answer(&online).unwrap();
    assert_eq!((a.local_status, a.local_reason, a.code_type), (3, 0, 4));
    let result = a.result().unwrap();
    assert_eq!(result, CheckResult(0x0F));
    assert!(result.checked() && result.positive() && !result.rejected());
    assert_eq!(CheckMarkingCode::encode_answer(&a), online);

    // Autonomous / server silent: L = 0.
    let silent = hex("FF 61 00 03 00 04 00");
    let a = CheckMarkingCode::decode_answer(&silent).unwrap();
    assert_eq!((a.online.clone(), a.result()), (None, None));
    assert_eq!(CheckMarkingCode::encode_answer(&a), silent);

    // Server timeout: FN answer FF, no 2106.
    let timeout = CheckMarkingCode::decode_answer(&hex("FF 61 00 00 03 03 01 FF")).unwrap();
    assert_eq!(timeout.online.as_ref().unwrap().answer_code, 0xFF);
    assert_eq!(timeout.result(), None);

    // FN state refused (0x02).
    assert_eq!(
        CheckMarkingCode::decode_answer(&hex("FF 61 02")),
        Err(AnswerError::Device(shtrih_proto::error::ErrorCode(0x02)))
    );
}

#[test]
fn the_vendor_rejection_rule_on_2106() {
    assert!(CheckResult(0x01).rejected(), "checked, not positive");
    assert!(
        CheckResult(0x07).rejected(),
        "status received, planned status wrong"
    );
    assert!(!CheckResult(0x0F).rejected());
    assert!(
        !CheckResult(0x00).rejected(),
        "nothing known: not a rejection"
    );
    assert!(CheckResult(0x13).autonomous() && !CheckResult(0x13).rejected());
}

#[test]
fn ff69_frames_4_10_a_steps_2_and_6() {
    for (s, decision) in [
        (
            "02 07 FF 69 1E 00 00 00 02 8D",
            MarkingDecision::ClearResults,
        ),
        ("02 07 FF 69 1E 00 00 00 01 8E", MarkingDecision::Accept),
    ] {
        let wire = frame(s);
        let command = DecideMarkingCode {
            password: PWD30,
            decision,
        };
        assert_eq!(DecideMarkingCode::decode(&wire).unwrap(), command);
        assert_eq!(command.encode(), wire);
    }
    let reject = DecideMarkingCode {
        password: PWD30,
        decision: MarkingDecision::Reject,
    };
    assert_eq!(reject.encode(), hex("FF 69 1E 00 00 00 00"));
    // Answer LEN 4: the 2106 byte; an answer without it is read as None.
    let a = hex("FF 69 00 0F");
    assert_eq!(
        DecideMarkingCode::decode_answer(&a).unwrap(),
        Some(CheckResult(0x0F))
    );
    assert_eq!(
        DecideMarkingCode::encode_answer(&Some(CheckResult(0x0F))),
        a
    );
    assert_eq!(
        DecideMarkingCode::decode_answer(&hex("FF 69 00")).unwrap(),
        None
    );
}

#[test]
fn ff67_frame_4_10_a_step_9_and_its_answers() {
    let wire = frame("02 26 FF 67 01 00 00 00 1F K E6");
    let command = BindMarkingCode {
        password: PWD1,
        code: k(),
        volume_sort: false,
    };
    assert_eq!(BindMarkingCode::decode(&wire).unwrap(), command);
    assert_eq!(command.try_encode().unwrap(), wire);

    let osu = BindMarkingCode {
        volume_sort: true,
        ..command.clone()
    };
    let mut with_flag = wire.clone();
    with_flag.push(0xFF);
    assert_eq!(osu.encode(), with_flag);
    assert_eq!(BindMarkingCode::decode(&with_flag).unwrap(), osu);

    // GS1 DataMatrix, KM88.
    let a = hex("FF 67 00 44 4D 00");
    let bound = BindMarkingCode::decode_answer(&a).unwrap();
    assert_eq!((bound.code_kind, bound.datamatrix_kind), ([0x44, 0x4D], 0));
    assert_eq!(bound.check, None);
    assert_eq!(BindMarkingCode::encode_answer(&bound), a);

    // The KKT ran the check itself: the FF61 block follows.
    let a = hex("FF 67 00 44 4D 00 03 00 04 02 00 0F");
    let bound = BindMarkingCode::decode_answer(&a).unwrap();
    assert_eq!(
        bound.check.as_ref().and_then(MarkingCheckAnswer::result),
        Some(CheckResult(0x0F))
    );
    assert_eq!(BindMarkingCode::encode_answer(&bound), a);
}

#[test]
fn marking_commands_are_never_resent_on_a_guess() {
    let check = CheckMarkingCode {
        password: PWD1,
        planned_status: PlannedStatus::PieceSold,
        code: k(),
        tlvs: vec![],
    };
    let bind = BindMarkingCode {
        password: PWD1,
        code: k(),
        volume_sort: false,
    };
    let decide = |decision| DecideMarkingCode {
        password: PWD1,
        decision,
    };
    assert_eq!(check.class(), CommandClass::Dangerous);
    assert_eq!(bind.class(), CommandClass::Dangerous);
    assert_eq!(
        decide(MarkingDecision::Accept).class(),
        CommandClass::SelfGuarding
    );
    assert_eq!(
        decide(MarkingDecision::Reject).class(),
        CommandClass::SelfGuarding
    );
    assert_eq!(
        decide(MarkingDecision::ClearResults).class(),
        CommandClass::IdempotentWrite
    );
    assert_eq!(check.timeout(), std::time::Duration::from_secs(40));
    assert_eq!(bind.timeout(), std::time::Duration::from_secs(40));
}

#[test]
fn codes_that_do_not_fit_a_frame_are_refused_before_sending() {
    let check = CheckMarkingCode {
        password: PWD1,
        planned_status: PlannedStatus::PieceSold,
        code: vec![b'0'; 246],
        tlvs: vec![],
    };
    assert!(check.try_encode().is_err());
    let empty = BindMarkingCode {
        password: PWD1,
        code: vec![],
        volume_sort: false,
    };
    assert!(empty.try_encode().is_err());
}
