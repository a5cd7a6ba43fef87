//! Reconcile settles an operation only from the register and FN the snapshot was read from: a
//! snapshot of another FN or another register (two configured paths to one device, a register
//! swapped on the cable) needs an operator, never a guess from foreign counters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::{Intent, LinkLayerChoice, Verdict};
use emulator::LinkChoice;
use fiscal_model::{Kopecks, ReceiptType};

use common::{cashier, connect, emulator};

const STD: LinkLayerChoice = LinkLayerChoice::Standard;

#[tokio::test]
async fn a_snapshot_of_another_fn_or_register_needs_an_operator() {
    let emu = emulator(LinkChoice::Standard);
    let mut r = connect(&emu, STD).await;
    r.open_shift(&cashier()).await.unwrap();
    let snapshot = r.snapshot().await.unwrap();
    let identity = r.identity().await.unwrap();
    assert_eq!(
        snapshot.fn_number, identity.fn_number,
        "recorded in the snapshot"
    );
    assert_eq!(snapshot.kkt_serial, identity.kkt_serial);
    let intent = Intent::Receipt {
        receipt_type: ReceiptType::Sale,
        total: Kopecks(100),
    };
    // The same register: nothing happened since.
    assert_eq!(
        r.reconcile(&snapshot, &intent).await.unwrap(),
        Verdict::NotDone
    );

    let mut other_fn = snapshot.clone();
    other_fn.fn_number = "9999078900000001".into();
    match r.reconcile(&other_fn, &intent).await.unwrap() {
        Verdict::NeedsOperator(why) => assert!(why.contains("9999078900000001"), "{why}"),
        other => panic!("another FN must not be settled: {other:?}"),
    }
    let mut other_kkt = snapshot.clone();
    other_kkt.kkt_serial = "0000000001".into();
    assert!(matches!(
        r.reconcile(&other_kkt, &intent).await.unwrap(),
        Verdict::NeedsOperator(_)
    ));

    // A snapshot stored before these fields existed still settles.
    let mut old: serde_json::Value = serde_json::to_value(&snapshot).unwrap();
    old.as_object_mut().unwrap().remove("fn_number");
    old.as_object_mut().unwrap().remove("kkt_serial");
    let old: driver::Snapshot = serde_json::from_value(old).unwrap();
    assert_eq!(r.reconcile(&old, &intent).await.unwrap(), Verdict::NotDone);
}
