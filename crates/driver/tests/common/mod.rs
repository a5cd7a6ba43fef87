//! Shared test helpers: an emulator with no device delays, fast driver options, and receipts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use driver::{Cashier, LinkLayerChoice, Register, RegisterOptions, Transport};
use emulator::{Emulator, EmulatorConfig, LinkChoice, LinkTiming};
use fiscal_model::{
    BuyerContact, Item, Kopecks, Payments, Quantity, Receipt, ReceiptParts, ReceiptType,
    TaxationSystem, VatRate,
};

/// A fresh in-memory register (shift closed) speaking `link`, with short device timings.
pub fn emulator(link: LinkChoice) -> Emulator {
    Emulator::new(EmulatorConfig {
        link,
        timing: LinkTiming {
            t_byte: Duration::from_millis(20),
            ack_wait: Duration::from_millis(100),
        },
        ..EmulatorConfig::default()
    })
    .expect("emulator")
}

/// Driver options for an in-process emulator: small timeouts, quick print polling.
pub fn fast_options(link: LinkLayerChoice) -> RegisterOptions {
    let mut options = RegisterOptions {
        link,
        answer_timeout_cap: Some(Duration::from_millis(500)),
        marking_answer_timeout: Some(Duration::from_millis(500)),
        print_poll_first: Duration::from_millis(1),
        print_poll_max: Duration::from_millis(20),
        print_wait_limit: Duration::from_secs(10),
        ..RegisterOptions::default()
    };
    options.link_config.t_ctrl = Duration::from_millis(100);
    options
}

/// Connects to `emu` through an in-memory pipe.
pub async fn connect(emu: &Emulator, link: LinkLayerChoice) -> Register {
    Register::connect(
        Transport::Stream(Box::new(emu.in_memory())),
        fast_options(link),
    )
    .await
    .expect("connect")
}

pub fn cashier() -> Cashier {
    Cashier {
        name: "Иванова А.".into(),
        inn: Some("500100732259".into()),
    }
}

/// A three-item sale whose total is 300.00 + `extra` kopecks, paid in cash and card.
pub fn receipt(extra: u64) -> Receipt {
    let items = vec![
        Item {
            name: "Молоко 3,2%".into(),
            quantity: Quantity(2_000_000),
            price: Kopecks(8_990),
            vat: VatRate::Vat10,
            attributes: Default::default(),
            line_sum: None,
            notes: Vec::new(),
        },
        Item {
            name: "Хлеб".into(),
            quantity: Quantity::ONE,
            price: Kopecks(4_500 + extra),
            vat: VatRate::Vat22,
            attributes: Default::default(),
            line_sum: None,
            notes: Vec::new(),
        },
        Item {
            name: "Сыр".into(),
            quantity: Quantity(500_000),
            price: Kopecks(14_940),
            vat: VatRate::Vat22,
            attributes: Default::default(),
            line_sum: None,
            notes: Vec::new(),
        },
    ];
    let total: u64 = 2 * 8_990 + 4_500 + extra + 7_470;
    ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items,
        payments: Payments {
            cash: Kopecks(total - 1_000),
            cashless: Kopecks(1_000),
            ..Payments::default()
        },
        total: Kopecks(total),
        buyer: Some(BuyerContact::Email("buyer@example.com".into())),
        print: true,
    }
    .build()
    .expect("receipt")
}

/// Receipts (form code 3) in the FN archive.
pub fn archived_receipts(emu: &Emulator) -> Vec<emulator::device::FnDocument> {
    emu.archive()
        .into_iter()
        .filter(|d| d.doc_type == 3)
        .collect()
}

/// Makes `receipt` with the power cut on `code` at `point`, then settles it as the worker does:
/// finish it from where it stands, or — when the register's state does not allow that —
/// reconcile (which must find nothing made) and make it again. Returns the lost command and what
/// the finishing made, if the receipt was finished.
pub async fn cut_and_settle(
    emu: &Emulator,
    r: &mut Register,
    receipt: &Receipt,
    cashier: Option<&Cashier>,
    point: emulator::CutPoint,
    code: u16,
) -> (String, Option<fiscal_model::FiscalResult>) {
    let taxes = fiscal_model::TaxGroupMap::default();
    let snapshot = r.snapshot().await.unwrap();
    emu.arm_power_cut(emulator::PowerCut::on(point, code));
    let lost = match r.fiscalize(receipt, &taxes, cashier).await {
        Err(driver::RegisterError::Unknown(u)) => u.command.to_string(),
        other => panic!("{code:X} {point:?}: expected an unknown outcome, got {other:?}"),
    };
    assert!(emu.armed_power_cut().is_none(), "the cut struck");
    let snapshot = snapshot.lost_at(&lost);
    let resumed = r
        .resume_receipt(&snapshot, receipt, &taxes, cashier)
        .await
        .unwrap();
    if resumed.is_none() {
        let intent = driver::Intent::Receipt {
            receipt_type: receipt.receipt_type,
            total: receipt.total,
        };
        assert_eq!(
            r.reconcile(&snapshot, &intent).await.unwrap(),
            driver::Verdict::NotDone,
            "{code:X} {point:?}"
        );
        r.fiscalize(receipt, &taxes, cashier).await.unwrap();
    }
    (lost, resumed)
}
