//! What the driver refuses to make, and how: a value the register cannot hold is refused before
//! any byte is sent; a receipt the register counts differently is cancelled and rejected with
//! the reason, never reported as a link failure to retry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::{LinkLayerChoice, Readiness, RegisterError};
use emulator::LinkChoice;
use fiscal_model::{CashMovement, CashMovementKind, Kopecks, TaxGroupMap};
use shtrih_proto::command::MAX_MONEY;

use common::{archived_receipts, cashier, connect, emulator, receipt};

const STD: LinkLayerChoice = LinkLayerChoice::Standard;

fn rejection_code(result: &Result<impl std::fmt::Debug, RegisterError>) -> &'static str {
    match result {
        Err(RegisterError::Rejected(r)) => r.code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_receipt_the_register_counts_differently_is_cancelled_and_rejected() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    // Our total is one kopeck off the items: the register's subtotal (0x89) disagrees.
    let mut wrong = receipt(0);
    wrong.total = Kopecks(wrong.total.0 + 1);
    wrong.cash = Kopecks(wrong.cash.0 + 1);
    let result = r.fiscalize(&wrong, &TaxGroupMap::default(), None).await;
    assert_eq!(rejection_code(&result), "SUBTOTAL_MISMATCH");
    assert!(archived_receipts(&emu).is_empty(), "no receipt was made");
    assert_eq!(
        r.status().await.unwrap().readiness,
        Readiness::Ready,
        "the receipt was cancelled: the register is ready for the next one"
    );
    // The next, correct receipt goes through.
    r.fiscalize(&receipt(0), &TaxGroupMap::default(), None)
        .await
        .unwrap();
    assert_eq!(archived_receipts(&emu).len(), 1);
}

#[tokio::test]
async fn money_above_the_register_maximum_is_refused_before_any_byte() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    let commands = r.wire_stats().commands;
    let result = r
        .cash(CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(MAX_MONEY + 1),
        })
        .await;
    assert_eq!(rejection_code(&result), "AMOUNT_TOO_LARGE");
    assert_eq!(r.wire_stats().commands, commands, "nothing was sent");

    // A receipt is checked whole before it is opened.
    let mut big = receipt(0);
    big.items[1].price = Kopecks(MAX_MONEY + 1);
    let result = r.fiscalize(&big, &TaxGroupMap::default(), None).await;
    assert_eq!(rejection_code(&result), "AMOUNT_TOO_LARGE");
    assert!(archived_receipts(&emu).is_empty());
    assert_eq!(r.wire_stats().commands, commands, "nothing was sent");
}
