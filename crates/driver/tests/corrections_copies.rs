//! FFD 1.2 correction receipts (addendum §5), reading documents back from the FN and printing
//! copies (addendum §6), against the in-memory emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use driver::{Intent, LinkLayerChoice, Register, RegisterError, Verdict};
use emulator::{CutPoint, Emulator, LinkChoice, PowerCut};
use fiscal_model::{
    Completion, Correction, CorrectionKind, CorrectionReceipt, ReceiptType, TaxGroupMap,
};

use common::{cashier, connect, emulator, receipt};

const STD: LinkLayerChoice = LinkLayerChoice::Standard;

/// 2026-01-15 00:00 UTC, the addendum's example date.
const BASIS_DATE: u32 = 1_768_435_200;

async fn ready() -> (Emulator, Register) {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    (emu, r)
}

fn correction(kind: CorrectionKind, number: Option<&str>) -> CorrectionReceipt {
    CorrectionReceipt {
        receipt: receipt(0),
        correction: Correction {
            kind,
            base_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            base_number: number.map(str::to_owned),
        },
    }
}

/// (tag, value) pairs of a TLV list, parsed here by hand.
fn parse(mut bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 4 {
        let tag = u16::from_le_bytes([bytes[0], bytes[1]]);
        let len = usize::from(u16::from_le_bytes([bytes[2], bytes[3]]));
        out.push((tag, bytes[4..4 + len].to_vec()));
        bytes = &bytes[4 + len..];
    }
    out
}

#[tokio::test]
async fn a_self_initiated_correction_lands_as_form_31_with_1173_and_1174() {
    let (emu, mut r) = ready().await;
    let before = r.fn_status().await.unwrap().last_fd;
    let fiscal = r
        .fiscalize_correction(
            &correction(CorrectionKind::SelfInitiated, None),
            &TaxGroupMap::default(),
            Some(&cashier()),
        )
        .await
        .unwrap();
    assert_eq!(fiscal.fd_number, before + 1);
    assert_eq!(fiscal.receipt_number_in_shift, 1);
    let doc = emu.archive().last().cloned().unwrap();
    assert_eq!(doc.doc_type, 31);
    assert_eq!((doc.operation, doc.total), (1, receipt(0).total.0));
    assert_eq!(doc.fiscal_sign, fiscal.fiscal_sign);
    assert_eq!(doc.items.len(), 3);
    let kind = doc.tlvs.iter().find(|t| t.tag == 1173).unwrap();
    assert_eq!(kind.value, vec![0]);
    let basis = doc.tlvs.iter().find(|t| t.tag == 1174).unwrap();
    assert_eq!(
        parse(&basis.value),
        vec![(1178, BASIS_DATE.to_le_bytes().to_vec())]
    );
    assert!(
        doc.tlvs.iter().any(|t| t.tag == 1021),
        "the cashier as on receipts"
    );
    assert!(emu.tape().contains("КОРРЕКЦИЯ ПРИХОДА"));

    // FF0A, public: a correction receipt with its operation and total.
    let archived = r.archived(fiscal.fd_number).await.unwrap();
    assert_eq!(archived.doc_type, fiscal_model::form::CORRECTION);
    assert_eq!(archived.receipt, Some((1, receipt(0).total.0)));
    assert_eq!(archived.fiscal_sign, fiscal.fiscal_sign);
}

#[tokio::test]
async fn a_correction_by_order_carries_1179() {
    let (emu, mut r) = ready().await;
    r.fiscalize_correction(
        &correction(CorrectionKind::ByOrder, Some("15")),
        &TaxGroupMap::default(),
        None,
    )
    .await
    .unwrap();
    let doc = emu.archive().last().cloned().unwrap();
    assert_eq!(
        doc.tlvs.iter().find(|t| t.tag == 1173).unwrap().value,
        vec![1]
    );
    let basis = doc.tlvs.iter().find(|t| t.tag == 1174).unwrap();
    assert_eq!(
        parse(&basis.value),
        vec![
            (1178, BASIS_DATE.to_le_bytes().to_vec()),
            (1179, b"15".to_vec())
        ]
    );
}

#[tokio::test]
async fn a_register_refusing_the_composite_1174_gets_1178_and_1179_apart() {
    let (emu, mut r) = ready().await;
    emu.with_device_faults(|f| f.refuse_composite_1174 = true);
    r.fiscalize_correction(
        &correction(CorrectionKind::ByOrder, Some("7")),
        &TaxGroupMap::default(),
        None,
    )
    .await
    .unwrap();
    let doc = emu.archive().last().cloned().unwrap();
    assert_eq!(doc.doc_type, 31);
    let tags: Vec<u16> = doc.tlvs.iter().map(|t| t.tag).collect();
    assert_eq!(&tags[..3], [1173, 1178, 1179]);
    assert!(!tags.contains(&1174));
}

#[tokio::test]
async fn a_return_correction_reads_back_with_its_tags() {
    let (_emu, mut r) = ready().await;
    let mut c = correction(CorrectionKind::ByOrder, Some("42"));
    // A sale return needs cash in the drawer: pay it by card.
    c.receipt = {
        let mut parts = receipt(0);
        parts.receipt_type = ReceiptType::SaleReturn;
        parts.cashless = parts.total;
        parts.cash = fiscal_model::Kopecks(0);
        parts
    };
    let fiscal = r
        .fiscalize_correction(&c, &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    let doc = r.read_document(fiscal.fd_number).await.unwrap();
    assert_eq!(doc.doc_type, 31);
    assert!(doc.is_correction());
    assert_eq!(doc.operation(), Some(2));
    assert_eq!(doc.total(), Some(c.receipt.total.0));
    assert_eq!(doc.fiscal_sign(), Some(fiscal.fiscal_sign));
    assert_eq!(doc.correction_kind(), Some(1));
    assert_eq!(
        doc.correction_basis(),
        (NaiveDate::from_ymd_opt(2026, 1, 15), Some("42".to_string()))
    );
    assert_eq!(doc.cashier().as_deref(), Some("Иванова А."));
    let items = doc.items();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].name, "Молоко 3,2%");
    assert_eq!((items[0].quantity, items[0].price), (2_000_000, 8_990));
    assert_eq!(items[2].quantity, 500_000);
    assert_eq!(doc.payment(1081), Some(c.receipt.total.0));
}

#[tokio::test]
async fn a_copy_prints_the_original_and_makes_no_fiscal_document() {
    let (emu, mut r) = ready().await;
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    let last_fd = r.fn_status().await.unwrap().last_fd;
    let archive = emu.archive().len();
    let closes = emu.executions(0xFF45);
    let tape_before = emu.tape().len();

    let copied = r.print_copy(None).await.unwrap();
    assert_eq!(copied.fd_number, fiscal.fd_number);
    assert_eq!(copied.fiscal_sign, fiscal.fiscal_sign);

    assert_eq!(r.fn_status().await.unwrap().last_fd, last_fd, "no new FD");
    assert_eq!(emu.archive().len(), archive);
    assert_eq!(emu.executions(0xFF45), closes);
    assert_eq!(emu.executions(0x8C), 0, "read back, not repeated");
    let tape = emu.tape();
    let copy = &tape[tape_before..];
    assert_eq!(copy.matches("КОПИЯ").count(), 2, "{copy}");
    assert!(copy.contains("КАССОВЫЙ ЧЕК"));
    assert!(copy.contains("ПРИХОД"));
    assert!(copy.contains(&fiscal.fd_number.to_string()));
    assert!(copy.contains(&fiscal.fiscal_sign.to_string()));
    assert!(copy.contains("2 x 89.90 = 179.80"), "{copy}");
    assert!(copy.contains("www.nalog.gov.ru"));
    assert!(copy.contains("Иванова А."));
    assert!(copy.contains("9999078900012345"));
    assert!(copy.lines().all(|l| l.chars().count() <= 40), "{copy}");
}

#[tokio::test]
async fn a_copy_without_a_number_finds_the_last_correction_past_a_z_report() {
    let (emu, mut r) = ready().await;
    let fiscal = r
        .fiscalize_correction(
            &correction(CorrectionKind::SelfInitiated, None),
            &TaxGroupMap::default(),
            None,
        )
        .await
        .unwrap();
    r.z_report(&cashier()).await.unwrap();
    let tape_before = emu.tape().len();
    let copied = r.print_copy(None).await.unwrap();
    assert_eq!(copied.fd_number, fiscal.fd_number);
    let tape = emu.tape();
    let copy = &tape[tape_before..];
    assert!(copy.contains("КАССОВЫЙ ЧЕК КОРРЕКЦИИ"), "{copy}");
    assert!(copy.contains("КОРРЕКЦИЯ ПРИХОДА"));
    assert!(copy.contains("15.01.2026"));

    // An FD the FN does not hold is the FN's refusal.
    match r.print_copy(Some(999)).await {
        Err(RegisterError::Refused(d)) => assert_eq!(d.code.0, 0x08),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_power_cut_after_the_corrections_commit_is_settled_as_done() {
    let (emu, mut r) = ready().await;
    let c = correction(CorrectionKind::ByOrder, Some("15"));
    let snapshot = r.snapshot().await.unwrap();
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0xFF45));
    match r
        .fiscalize_correction(&c, &TaxGroupMap::default(), None)
        .await
    {
        Err(RegisterError::Unknown(u)) => assert!(u.command.starts_with("FF45"), "{u}"),
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
    assert!(emu.armed_power_cut().is_none(), "the cut struck");
    // A receipt intent does not take a correction for itself.
    let as_receipt = Intent::Receipt {
        receipt_type: c.receipt.receipt_type,
        total: c.receipt.total,
    };
    assert!(matches!(
        r.reconcile(&snapshot, &as_receipt).await.unwrap(),
        Verdict::NeedsOperator(_)
    ));
    let intent = Intent::Correction {
        receipt_type: c.receipt.receipt_type,
        total: c.receipt.total,
    };
    match r.reconcile(&snapshot, &intent).await.unwrap() {
        Verdict::Done(Completion::Receipt(fiscal)) => {
            assert_eq!(fiscal.fd_number, snapshot.fn_last_fd + 1);
            assert_eq!(
                fiscal.fiscal_sign,
                emu.archive().last().unwrap().fiscal_sign
            );
        }
        other => panic!("wrong verdict {other:?}"),
    }
    let corrections = emu.archive().iter().filter(|d| d.doc_type == 31).count();
    assert_eq!(corrections, 1);
    assert_eq!(
        r.fn_status().await.unwrap().last_fd,
        snapshot.fn_last_fd + 1,
        "exactly one new FD"
    );
}

#[tokio::test]
async fn a_power_cut_before_the_correction_commits_is_not_done() {
    let (emu, mut r) = ready().await;
    let c = correction(CorrectionKind::SelfInitiated, None);
    let snapshot = r.snapshot().await.unwrap();
    emu.arm_power_cut(PowerCut::on(CutPoint::BeforeExecution, 0xFF45));
    assert!(matches!(
        r.fiscalize_correction(&c, &TaxGroupMap::default(), None)
            .await,
        Err(RegisterError::Unknown(_))
    ));
    let intent = Intent::Correction {
        receipt_type: c.receipt.receipt_type,
        total: c.receipt.total,
    };
    assert_eq!(
        r.reconcile(&snapshot, &intent).await.unwrap(),
        Verdict::NotDone
    );
    assert!(emu.archive().iter().all(|d| d.doc_type != 31));
}

#[tokio::test]
async fn a_correction_by_order_without_its_number_is_rejected_before_any_byte() {
    let (emu, mut r) = ready().await;
    let opened = emu.executions(0x8D);
    match r
        .fiscalize_correction(
            &correction(CorrectionKind::ByOrder, None),
            &TaxGroupMap::default(),
            None,
        )
        .await
    {
        Err(RegisterError::Rejected(rejection)) => {
            assert_eq!(rejection.code, "CORRECTION_ORDER_NUMBER")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.executions(0x8D), opened);
}

#[tokio::test]
async fn without_ff3a_the_last_receipt_is_repeated_with_8c_and_nothing_else_is() {
    let (emu, mut r) = ready().await;
    emu.with_device_faults(|f| f.document_read_unsupported = true);
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    let tape_before = emu.tape().len();
    let copied = r.print_copy(None).await.unwrap();
    assert_eq!(copied.fd_number, fiscal.fd_number);
    assert_eq!(emu.executions(0x8C), 1);
    assert!(emu.tape()[tape_before..].contains("ПОВТОР ДОКУМЕНТА"));

    // After a Z report the last printed document is the report: 0x8C is not used.
    r.z_report(&cashier()).await.unwrap();
    match r.print_copy(None).await {
        Err(RegisterError::Refused(d)) => assert_eq!(d.code.0, 0x37),
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.executions(0x8C), 1);
}

#[tokio::test]
async fn a_reading_broken_mid_document_starts_over_from_ff3a() {
    let (emu, mut r) = ready().await;
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    let whole = r.read_document(fiscal.fd_number).await.unwrap();
    let begun = emu.executions(0xFF3A);
    // The register restarts while answering the first FF3B: its reading position is gone.
    emu.arm_power_cut(PowerCut::on(CutPoint::MidAnswer, 0xFF3B));
    let again = r.read_document(fiscal.fd_number).await.unwrap();
    assert!(emu.armed_power_cut().is_none(), "the cut struck");
    assert_eq!(again, whole);
    assert_eq!(
        emu.executions(0xFF3A),
        begun + 2,
        "started over from FF3A once"
    );
}

#[tokio::test]
async fn a_register_restarted_after_running_an_ff3b_is_read_again_from_ff3a() {
    let (emu, mut r) = ready().await;
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    let whole = r.read_document(fiscal.fd_number).await.unwrap();
    let begun = emu.executions(0xFF3A);
    // The first FF3B runs (the position moves on), then the power goes before its answer: a
    // second FF3B would skip a block, so the reading starts over.
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0xFF3B));
    let again = r.read_document(fiscal.fd_number).await.unwrap();
    assert_eq!(again, whole);
    assert!(emu.executions(0xFF3A) > begun + 1, "started over from FF3A");
}

#[tokio::test]
async fn no_copy_is_printed_inside_an_open_receipt() {
    let (emu, mut r) = ready().await;
    r.fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    // A receipt left open (say, by another program).
    emu.with_device(|d| {
        let mut open = vec![0x8D];
        open.extend_from_slice(&1u32.to_le_bytes());
        open.push(0);
        assert_eq!(d.execute(&open, chrono::Utc::now().naive_utc())[1], 0);
    });
    let lines = emu.executions(0x17);
    assert!(matches!(
        r.print_copy(None).await,
        Err(RegisterError::NotReady(driver::NotReadyReason::ReceiptOpen))
    ));
    assert_eq!(emu.executions(0x17), lines);
}
