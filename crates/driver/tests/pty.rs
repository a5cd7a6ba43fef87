//! Every `Register` operation once over a pty opened as a serial port (tokio-serial), with
//! speed auto-detection, and reconcile after a power cut.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::{
    Baud, Intent, LinkLayerChoice, NotReadyReason, Readiness, Register, RegisterError, Transport,
    Verdict,
};
use emulator::{CutPoint, LinkChoice, PowerCut};
use fiscal_model::{CashMovement, CashMovementKind, Completion, Kopecks, TaxGroupMap};

use common::{archived_receipts, cashier, emulator, fast_options, receipt};

#[tokio::test]
async fn every_operation_over_a_pty() {
    let emu = emulator(LinkChoice::Standard);
    let pty = emu.serve_pty(None).unwrap();
    let transport = Transport::Serial {
        path: pty.path().to_path_buf(),
        baud: Baud::Auto,
    };
    let mut r = Register::connect(transport, fast_options(LinkLayerChoice::Standard))
        .await
        .unwrap();
    assert_eq!(r.identity().await.unwrap().fn_number, "9999078900012345");
    assert_eq!(
        r.status().await.unwrap().readiness,
        Readiness::NotReady(NotReadyReason::ShiftClosed)
    );
    assert!(r.fn_status().await.unwrap().last_fd >= 1);

    let shift = r.open_shift(&cashier()).await.unwrap();
    assert_eq!(shift.shift_number, 1);
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), Some(&cashier()))
        .await
        .unwrap();
    assert_eq!(fiscal.fd_number, shift.fd_number + 1);
    let cash = r
        .cash(CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(5_000),
        })
        .await
        .unwrap();
    assert_eq!(cash.shift_number, 1);
    r.x_report().await.unwrap();
    r.wait_printed().await.unwrap();

    // An unknown outcome, settled over the same port.
    let snapshot = r.snapshot().await.unwrap();
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0xFF45));
    let lost = r
        .fiscalize(&receipt(1), &TaxGroupMap::default(), None)
        .await;
    assert!(matches!(lost, Err(RegisterError::Unknown(_))), "{lost:?}");
    let intent = Intent::Receipt {
        receipt_type: receipt(1).receipt_type,
        total: receipt(1).total,
    };
    match r.reconcile(&snapshot, &intent).await.unwrap() {
        Verdict::Done(Completion::Receipt(f)) => assert_eq!(f.fd_number, snapshot.fn_last_fd + 1),
        other => panic!("expected Done, got {other:?}"),
    }
    assert_eq!(archived_receipts(&emu).len(), 2);

    // A receipt left open (power lost before FF45 ran) is cancelled.
    emu.arm_power_cut(PowerCut::on(CutPoint::BeforeExecution, 0xFF45));
    let lost = r
        .fiscalize(&receipt(2), &TaxGroupMap::default(), None)
        .await;
    assert!(matches!(lost, Err(RegisterError::Unknown(_))), "{lost:?}");
    assert_eq!(
        r.status().await.unwrap().readiness,
        Readiness::NotReady(NotReadyReason::ReceiptOpen)
    );
    r.cancel_receipt().await.unwrap();
    assert_eq!(r.status().await.unwrap().readiness, Readiness::Ready);

    // Paper out after the FN closed a receipt; loaded again; continue printing.
    emu.with_device_faults(|f| f.paper = emulator::device::PaperState::OutAfterLines(3));
    let fiscal = r
        .fiscalize(&receipt(3), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert!(fiscal.not_printed);
    emu.with_device_faults(|f| f.paper = emulator::device::PaperState::Present);
    r.continue_printing().await.unwrap();

    let z = r.z_report(&cashier()).await.unwrap();
    assert_eq!(z.shift_number, 1);
    assert_eq!(archived_receipts(&emu).len(), 3);
}

#[tokio::test]
async fn a_serial_port_that_does_not_exist_is_unavailable() {
    let transport = Transport::Serial {
        path: "/dev/does-not-exist-fiscal".into(),
        baud: Baud::Fixed(115_200),
    };
    let result = Register::connect(transport, fast_options(LinkLayerChoice::Standard)).await;
    assert!(matches!(
        result,
        Err(RegisterError::Link(driver::LinkError::Unavailable(_)))
    ));
}

#[tokio::test]
async fn tcp_transport_works() {
    let emu = emulator(LinkChoice::Auto);
    let (addr, _task) = emu.serve_tcp("127.0.0.1:0").await.unwrap();
    let transport = Transport::Tcp {
        addr: addr.to_string(),
    };
    let mut r = Register::connect(transport, fast_options(LinkLayerChoice::Auto))
        .await
        .unwrap();
    r.open_shift(&cashier()).await.unwrap();
    let fiscal = r
        .fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert_eq!(fiscal.fd_number, 3);
}

/// A register set to 9600 answers nothing at 115200 (the first speed tried): auto-detection
/// goes down the list and finds it, and the register says which speed it found.
#[tokio::test]
async fn speed_detection_finds_a_register_set_to_another_speed() {
    let emu = emulator::Emulator::new(emulator::EmulatorConfig {
        link: LinkChoice::Standard,
        baud: Some(9600),
        ..emulator::EmulatorConfig::default()
    })
    .unwrap();
    let pty = emu.serve_pty(None).unwrap();
    let fixed_wrong = Register::connect(
        Transport::Serial {
            path: pty.path().to_path_buf(),
            baud: Baud::Fixed(115_200),
        },
        fast_options(LinkLayerChoice::Standard),
    )
    .await;
    assert!(
        matches!(fixed_wrong, Err(RegisterError::Link(_))),
        "no answer at the wrong speed: {fixed_wrong:?}"
    );
    let mut r = Register::connect(
        Transport::Serial {
            path: pty.path().to_path_buf(),
            baud: Baud::Auto,
        },
        fast_options(LinkLayerChoice::Standard),
    )
    .await
    .unwrap();
    assert_eq!(r.baud(), Some(9600));
    assert_eq!(r.identity().await.unwrap().fn_number, "9999078900012345");
}
