//! Every `Register` operation against the in-memory emulator, standard link layer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::{LinkLayerChoice, NotReadyReason, Readiness, RegisterError};
use emulator::device::PaperState;
use emulator::LinkChoice;
use fiscal_model::{CashMovement, CashMovementKind, Kopecks, TaxGroupMap};

use common::{archived_receipts, cashier, connect, emulator, receipt};

const STD: LinkLayerChoice = LinkLayerChoice::Standard;

#[tokio::test]
async fn connect_reads_the_identity() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    let id = r.identity().await.unwrap();
    assert_eq!(id.model, "ШТРИХ-М-01Ф");
    assert_eq!(id.fn_number, "9999078900012345");
    assert_eq!(id.rnm, "0000000001012345");
    assert_eq!(id.inn, "7700000000");
    assert_eq!(id.kkt_serial, "0000000000012345");
    assert_eq!(id.ffd_version, "1.2");
    assert_eq!(
        id.fn_expiry.map(|d| d.to_string()),
        Some("2029-12-31".into())
    );
    assert!(!r.is_protocol_v2());
}

#[tokio::test]
async fn open_shift_fiscalize_cash_and_reports() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    let status = r.status().await.unwrap();
    assert_eq!(
        status.readiness,
        Readiness::NotReady(NotReadyReason::ShiftClosed)
    );

    let shift = r.open_shift(&cashier()).await.unwrap();
    assert_eq!(shift.shift_number, 1);
    assert_eq!(shift.fd_number, 2);
    let archive = emu.archive();
    assert_eq!(
        archive.last().map(|d| (d.doc_type, d.fiscal_sign)),
        Some((2, shift.fiscal_sign))
    );
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);

    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    assert_eq!(fiscal.fd_number, 3);
    assert_eq!(fiscal.shift_number, 1);
    assert_eq!(fiscal.receipt_number_in_shift, 1);
    assert_eq!(fiscal.fn_number, "9999078900012345");
    assert!(!fiscal.not_printed);
    let receipts = archived_receipts(&emu);
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].fiscal_sign, fiscal.fiscal_sign);
    assert_eq!(receipts[0].total, receipt(0).total.0);
    assert_eq!(receipts[0].items.len(), 3);
    assert_eq!(receipts[0].payments.get(1), Some(&1_000));
    assert!(receipts[0].tlvs.iter().any(|t| t.tag == 1008));
    assert_eq!(receipts[0].date_time.date(), fiscal.date_time.date());

    let cash_in = r
        .cash(CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(100_000),
        })
        .await
        .unwrap();
    let cash_out = r
        .cash(CashMovement {
            kind: CashMovementKind::Out,
            amount: Kopecks(50_000),
        })
        .await
        .unwrap();
    assert_eq!(cash_in.shift_number, 1);
    assert!(cash_out.document_number > cash_in.document_number);
    assert_eq!(emu.archive().len(), 3, "cash movements make no FD");

    let too_much = r
        .cash(CashMovement {
            kind: CashMovementKind::Out,
            amount: Kopecks(10_000_000),
        })
        .await;
    match too_much {
        Err(RegisterError::Refused(d)) => assert_eq!(d.code.0, 0x46),
        other => panic!("expected a refusal, got {other:?}"),
    }

    r.x_report().await.unwrap();
    assert_eq!(emu.archive().len(), 3, "an X report makes no FD");
    let z = r.z_report(&cashier()).await.unwrap();
    assert_eq!(z.shift_number, 1);
    assert_eq!(z.fd_number, 4);
    assert_eq!(emu.archive().last().map(|d| d.doc_type), Some(5));
    let status = r.status().await.unwrap();
    assert_eq!(
        status.readiness,
        Readiness::NotReady(NotReadyReason::ShiftClosed)
    );
}

#[tokio::test]
async fn a_receipt_in_a_closed_shift_is_not_ready_and_sends_nothing_fiscal() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    let result = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await;
    assert_eq!(
        result,
        Err(RegisterError::NotReady(NotReadyReason::ShiftClosed))
    );
    assert!(archived_receipts(&emu).is_empty());
}

#[tokio::test]
async fn cover_open_is_reported_as_such() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    emu.set_cover_open(true);
    let status = r.status().await.unwrap();
    assert_eq!(
        status.readiness,
        Readiness::NotReady(NotReadyReason::CoverOpen)
    );
    let result = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await;
    assert_eq!(
        result,
        Err(RegisterError::NotReady(NotReadyReason::CoverOpen))
    );
    emu.set_cover_open(false);
    assert!(r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .is_ok());
}

#[tokio::test]
async fn paper_running_out_after_the_fn_closed_the_receipt_sets_not_printed() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    emu.with_device_faults(|f| f.paper = PaperState::OutAfterLines(3));
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert!(fiscal.not_printed);
    assert_eq!(archived_receipts(&emu).len(), 1);
    let status = r.status().await.unwrap();
    assert_eq!(
        status.readiness,
        Readiness::NotReady(NotReadyReason::PaperOut)
    );

    emu.with_device_faults(|f| f.paper = PaperState::Present);
    let status = r.status().await.unwrap();
    assert_eq!(
        status.readiness,
        Readiness::NotReady(NotReadyReason::WaitingContinuePrint)
    );
    r.continue_printing().await.unwrap();
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
}

#[tokio::test]
async fn printing_is_waited_for_by_polling() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    emu.with_device_faults(|f| f.print_time_per_line = chrono::Duration::milliseconds(2));
    r.fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    // fiscalize returns only once the printer is idle again.
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
    assert!(r.wire_stats().commands > 10);
}

#[tokio::test]
async fn cancel_receipt_without_a_receipt_is_refused() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    match r.cancel_receipt().await {
        Err(RegisterError::Refused(d)) => assert_eq!(d.code.0, 0x55),
        other => panic!("expected 0x55, got {other:?}"),
    }
}

#[tokio::test]
async fn protocol_v2_is_detected_and_works() {
    let emu = emulator(LinkChoice::Auto);
    let mut r = connect(&emu, LinkLayerChoice::Auto).await;
    assert!(r.is_protocol_v2());
    r.open_shift(&cashier()).await.unwrap();
    let fiscal = r
        .fiscalize(&receipt(7), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert_eq!(fiscal.fd_number, 3);
    assert_eq!(archived_receipts(&emu).len(), 1);
}

#[tokio::test]
async fn standard_is_detected_on_a_standard_only_register() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, LinkLayerChoice::Auto).await;
    assert!(!r.is_protocol_v2());
    assert!(r.status().await.is_ok());
}

#[tokio::test]
async fn the_clock_is_set_with_the_shift_closed() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
        .and_then(|d| d.and_hms_opt(12, 34, 56))
        .unwrap();
    r.set_clock(at).await.unwrap();
    let now = r.clock_now().await.unwrap();
    assert!((now - at).num_seconds().abs() < 5, "{now} vs {at}");
    r.open_shift(&cashier()).await.unwrap();
    assert!(matches!(
        r.set_clock(at).await,
        Err(RegisterError::Refused(_))
    ));
}

#[tokio::test]
async fn a_dropped_call_does_not_leave_the_line_mid_exchange() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    // Dropped right after the command was handed to the link: the exchange still finishes.
    for _ in 0..5 {
        let call = r.status();
        tokio::pin!(call);
        let finished = tokio::select! {
            biased;
            _ = &mut call => true,
            () = std::future::ready(()) => false,
        };
        assert!(
            !finished,
            "the status call was still under way when dropped"
        );
    }
    let shift = r.open_shift(&cashier()).await.unwrap();
    assert_eq!(shift.shift_number, 1);
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
}

#[tokio::test]
async fn connect_drains_an_answer_left_by_a_previous_session() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = emulator(LinkChoice::Standard);
    // A previous host: ENQ, a short status frame, then it reads the answer and never ACKs.
    let mut old = emu.in_memory();
    old.write_all(&[shtrih_proto::frame::ENQ]).await.unwrap();
    let mut byte = [0u8; 1];
    old.read_exact(&mut byte).await.unwrap();
    assert_eq!(byte[0], shtrih_proto::frame::NAK);
    let frame = shtrih_proto::frame::encode(&[0x10, 30, 0, 0, 0]).unwrap();
    old.write_all(&frame).await.unwrap();
    let mut reply = [0u8; 20];
    old.read_exact(&mut reply).await.unwrap(); // ACK + the 19-byte answer frame
    assert_eq!(reply[0], shtrih_proto::frame::ACK);
    drop(old);

    let mut r = connect(&emu, STD).await;
    let shift = r.open_shift(&cashier()).await.unwrap();
    assert_eq!(shift.fd_number, 2);
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);
}
