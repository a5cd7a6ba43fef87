//! The lookups of the document-number dialect: by `seq`, by fiscal sign, by reference; their
//! index entries across re-posts, reopening and pruning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use fiscal_model::{CashResult, Completion};
use queue::{OpState, Operation, OperationId, Reason, Store, Submitted};

use common::{cash_in, fiscal, id, new_op, open, receipt};

fn failed() -> OpState {
    OpState::Failed {
        reason: Reason {
            code: "DEADLINE".into(),
            message: "Истекло время.".into(),
            device_error: None,
        },
    }
}

/// Sending, then Done with `completion`, as a worker does it.
async fn complete(store: &Store, op: &str, completion: Completion) -> Operation {
    let sending = OpState::Sending {
        snapshot: serde_json::json!({"last_fd": 16}),
    };
    store.transition(&id(op), sending, "s").await.unwrap();
    store
        .transition(&id(op), OpState::Done { completion }, "d")
        .await
        .unwrap()
}

fn ids(ops: &[Operation]) -> Vec<&str> {
    ops.iter().map(|op| op.id.as_str()).collect()
}

/// Keys of the raw store under each of `prefixes`, counted with the store closed.
fn count_keys(dir: &Path, prefixes: &[u8]) -> Vec<usize> {
    let db = sled::open(dir.join("ops")).unwrap();
    prefixes
        .iter()
        .map(|p| db.scan_prefix([*p]).count())
        .collect()
}

#[tokio::test]
async fn by_seq_finds_a_submitted_operation_and_nothing_for_an_unknown_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store
        .submit_numbered(new_op("a", "r1", receipt(100)), &[])
        .await
        .unwrap();
    let b = store
        .submit_numbered(new_op("b", "r2", cash_in(100)), &[])
        .await
        .unwrap();
    let (a, b) = (a.operation().clone(), b.operation().clone());
    assert_ne!(a.seq, b.seq);
    assert_eq!(store.by_seq(a.seq).unwrap(), Some(a.clone()));
    assert_eq!(store.by_seq(b.seq).unwrap(), Some(b.clone()));
    assert_eq!(store.by_seq(b.seq + 1_000).unwrap(), None);
    assert_eq!(store.by_seq(u64::MAX).unwrap(), None);
    // It follows the record through its states.
    let done = complete(&store, "a", fiscal(7, "1", false)).await;
    assert_eq!(store.by_seq(a.seq).unwrap(), Some(done));
}

#[tokio::test]
async fn by_fiscal_sign_finds_an_operation_once_it_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .submit_numbered(new_op("a", "r1", receipt(100)), &[])
        .await
        .unwrap();
    store
        .submit_numbered(new_op("c", "r1", cash_in(100)), &[])
        .await
        .unwrap();
    assert!(store.by_fiscal_sign(123_456_789).unwrap().is_empty());
    let sending = OpState::Sending {
        snapshot: serde_json::json!({}),
    };
    store.transition(&id("a"), sending, "s").await.unwrap();
    assert!(store.by_fiscal_sign(123_456_789).unwrap().is_empty());
    let done = store
        .transition(
            &id("a"),
            OpState::Done {
                completion: fiscal(123_456_789, "1", true),
            },
            "d",
        )
        .await
        .unwrap();
    assert_eq!(store.by_fiscal_sign(123_456_789).unwrap(), vec![done]);
    assert!(store.by_fiscal_sign(123_456_788).unwrap().is_empty());
    // Printing finished later: still one entry, the operation as it is now.
    let printed = store
        .transition(
            &id("a"),
            OpState::Done {
                completion: fiscal(123_456_789, "1", false),
            },
            "printed",
        )
        .await
        .unwrap();
    assert_eq!(store.by_fiscal_sign(123_456_789).unwrap(), vec![printed]);
    // A cash movement makes no fiscal document: nothing to find it by.
    let cash = Completion::Cash(CashResult {
        document_number: 0,
        shift_number: 5,
        fn_number: "1".into(),
        rnm: "1".into(),
        date_time: NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
    });
    complete(&store, "c", cash).await;
    assert!(store.by_fiscal_sign(0).unwrap().is_empty());
}

#[tokio::test]
async fn two_operations_with_the_same_sign_are_both_returned_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // "z" sorts after "b" by id but was submitted first.
    store
        .submit_numbered(new_op("z", "r1", receipt(100)), &[])
        .await
        .unwrap();
    store
        .submit_numbered(new_op("b", "r2", receipt(200)), &[])
        .await
        .unwrap();
    store
        .submit_numbered(new_op("other", "r2", receipt(300)), &[])
        .await
        .unwrap();
    let b = complete(&store, "b", fiscal(42, "fn-2", false)).await;
    let z = complete(&store, "z", fiscal(42, "fn-1", false)).await;
    complete(&store, "other", fiscal(43, "fn-2", false)).await;
    assert_eq!(store.by_fiscal_sign(42).unwrap(), vec![z, b]);
    assert_eq!(ids(&store.by_fiscal_sign(43).unwrap()), ["other"]);
}

#[tokio::test]
async fn referring_to_lists_refunds_in_submission_order_whatever_their_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .submit_numbered(new_op("sale", "r1", receipt(300)), &[])
        .await
        .unwrap();
    store
        .submit_numbered(new_op("sale-2", "r1", receipt(300)), &[])
        .await
        .unwrap();
    let sale = id("sale");
    assert!(store.referring_to(&sale).unwrap().is_empty());
    for (refund, amount) in [("refund-b", 100), ("refund-a", 50), ("refund-c", 25)] {
        let created = store
            .submit_numbered(new_op(refund, "r1", receipt(amount)), &[&sale])
            .await
            .unwrap();
        assert!(matches!(&created, Submitted::Created(op) if op.refers_to == Some(sale.clone())));
    }
    store
        .submit_numbered(new_op("other", "r1", receipt(10)), &[&id("sale-2")])
        .await
        .unwrap();
    complete(&store, "refund-b", fiscal(9, "1", false)).await;
    store
        .transition(&id("refund-c"), failed(), "late")
        .await
        .unwrap();
    let refunds = store.referring_to(&sale).unwrap();
    assert_eq!(ids(&refunds), ["refund-b", "refund-a", "refund-c"]);
    assert!(matches!(refunds[0].state, OpState::Done { .. }));
    assert!(matches!(refunds[1].state, OpState::Queued));
    assert!(matches!(refunds[2].state, OpState::Failed { .. }));
    // "sale" is a prefix of "sale-2"; each target has its own.
    assert_eq!(ids(&store.referring_to(&id("sale-2")).unwrap()), ["other"]);
    // A plain submit refers to nothing; an unknown target has nothing referring to it.
    assert_eq!(store.get(&sale).unwrap().unwrap().refers_to, None);
    assert!(store.referring_to(&id("refund-a")).unwrap().is_empty());
}

#[tokio::test]
async fn a_resubmitted_id_keeps_its_first_reference() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (first, second) = (id("sale-1"), id("sale-2"));
    let created = store
        .submit_numbered(new_op("refund", "r1", receipt(100)), &[&first])
        .await
        .unwrap();
    let seq = created.operation().seq;

    let again = store
        .submit_numbered(new_op("refund", "r1", receipt(100)), &[&second])
        .await
        .unwrap();
    assert!(matches!(&again, Submitted::Existing(op) if op.refers_to == Some(first.clone())));
    let plain = store
        .submit_numbered(new_op("refund", "r1", receipt(100)), &[])
        .await
        .unwrap();
    assert!(matches!(&plain, Submitted::Existing(op) if op.refers_to == Some(first.clone())));
    let conflict = store
        .submit_numbered(new_op("refund", "r1", receipt(999)), &[&second])
        .await;
    assert!(matches!(
        conflict,
        Err(queue::SubmitError::Conflict { existing }) if existing.refers_to == Some(first.clone())
    ));
    assert!(store.referring_to(&second).unwrap().is_empty());
    assert_eq!(ids(&store.referring_to(&first).unwrap()), ["refund"]);

    // Re-posted after failing: the first reference still stands, under its new seq.
    store
        .transition(&id("refund"), failed(), "late")
        .await
        .unwrap();
    let requeued = store
        .submit_numbered(new_op("refund", "r2", receipt(100)), &[&second])
        .await
        .unwrap();
    let Submitted::Requeued(requeued) = requeued else {
        panic!("not requeued: {requeued:?}");
    };
    assert_eq!(requeued.refers_to, Some(first.clone()));
    assert_ne!(requeued.seq, seq);
    assert_eq!(store.referring_to(&first).unwrap(), vec![requeued.clone()]);
    assert!(store.referring_to(&second).unwrap().is_empty());
    assert_eq!(store.by_seq(seq).unwrap(), None);
    assert_eq!(store.by_seq(requeued.seq).unwrap(), Some(requeued));
}

#[tokio::test]
async fn the_lookups_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, refund) = {
        let store = open(dir.path());
        store
            .submit_numbered(new_op("sale", "r1", receipt(300)), &[])
            .await
            .unwrap();
        store
            .submit_numbered(new_op("refund", "r1", receipt(100)), &[&id("sale")])
            .await
            .unwrap();
        let sale = complete(&store, "sale", fiscal(77, "1", false)).await;
        (sale, store.get(&id("refund")).unwrap().unwrap())
    };
    let store = open(dir.path());
    assert_eq!(store.by_seq(sale.seq).unwrap(), Some(sale.clone()));
    assert_eq!(store.by_seq(refund.seq).unwrap(), Some(refund.clone()));
    assert_eq!(store.by_fiscal_sign(77).unwrap(), vec![sale]);
    assert_eq!(store.referring_to(&id("sale")).unwrap(), vec![refund]);
}

#[tokio::test]
async fn pruning_removes_the_lookup_entries_with_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, refund, pending) = {
        let store = open(dir.path());
        store
            .submit_numbered(new_op("sale", "r1", receipt(300)), &[])
            .await
            .unwrap();
        store
            .submit_numbered(new_op("refund", "r1", receipt(100)), &[&id("sale")])
            .await
            .unwrap();
        let pending = store
            .submit_numbered(new_op("pending", "r1", receipt(50)), &[&id("sale")])
            .await
            .unwrap()
            .operation()
            .clone();
        let sale = complete(&store, "sale", fiscal(77, "1", false)).await;
        let refund = complete(&store, "refund", fiscal(78, "1", false)).await;
        (sale, refund, pending)
    };
    // s: three operations; d: two Done receipts; r: two refunds.
    assert_eq!(count_keys(dir.path(), b"sdr"), [3, 2, 2]);

    {
        let store = open(dir.path());
        assert_eq!(store.prune(Duration::ZERO).await.unwrap(), 2);
        assert_eq!(store.by_seq(sale.seq).unwrap(), None);
        assert_eq!(store.by_seq(refund.seq).unwrap(), None);
        assert!(store.by_fiscal_sign(77).unwrap().is_empty());
        assert!(store.by_fiscal_sign(78).unwrap().is_empty());
        // The unfinished refund stays, and so do its entries.
        assert_eq!(store.by_seq(pending.seq).unwrap(), Some(pending.clone()));
        assert_eq!(store.referring_to(&id("sale")).unwrap(), vec![pending]);
    }
    assert_eq!(count_keys(dir.path(), b"sdr"), [1, 0, 1]);
}

/// Records stored before references and numbers existed have no `refers_to` and no
/// `by_number` field; they still decode, as referring to nothing and found by id only.
#[tokio::test]
async fn a_record_written_without_a_reference_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let stored = {
        let store = open(dir.path());
        store
            .submit_numbered(new_op("old", "r1", cash_in(100)), &[&id("sale")])
            .await
            .unwrap()
            .operation()
            .clone()
    };
    {
        // Layout from keys.rs: record `o<id>` -> version byte 1 + JSON of Operation.
        let db = sled::open(dir.path().join("ops")).unwrap();
        let record = db.get(b"oold").unwrap().unwrap();
        assert_eq!(record[0], 1);
        let mut json: serde_json::Value = serde_json::from_slice(&record[1..]).unwrap();
        let removed = json.as_object_mut().unwrap().remove("refers_to");
        assert_eq!(removed, Some(serde_json::json!("sale")));
        let removed = json.as_object_mut().unwrap().remove("by_number");
        assert_eq!(removed, Some(serde_json::json!(true)));
        let mut old = vec![1u8];
        old.extend_from_slice(&serde_json::to_vec(&json).unwrap());
        db.insert(b"oold", old).unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    let read = store.get(&id("old")).unwrap().unwrap();
    assert_eq!(read.refers_to, None::<OperationId>);
    assert_eq!(
        read,
        Operation {
            refers_to: None,
            by_number: false,
            ..stored
        }
    );
    // Its stale `r` entry no longer matches the record: skipped, not answered.
    assert!(store.referring_to(&id("sale")).unwrap().is_empty());
}

/// A plain submit is found by its id only: no `s` or `d` keys are spent on it.
#[tokio::test]
async fn a_plain_submit_is_not_found_by_number() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        let plain = store
            .submit(new_op("plain", "r1", receipt(100)))
            .await
            .unwrap()
            .operation()
            .clone();
        assert!(!plain.by_number);
        assert_eq!(store.by_seq(plain.seq).unwrap(), None);
    }
    assert_eq!(count_keys(dir.path(), b"sdr"), [0, 0, 0]);
}

/// A return refers to its register's journal and to its sale: it is found under each, with
/// its first target as `refers_to` and the rest as `also_refers_to`, and pruning it takes its
/// entry from under both.
#[tokio::test]
async fn an_operation_referring_to_two_targets_is_found_under_each_and_pruned_from_both() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, sale) = (id("journal"), id("sale"));
    {
        let store = open(dir.path());
        let made = store
            .submit_referring(new_op("return", "r1", receipt(100)), &[&journal, &sale])
            .await
            .unwrap();
        let Submitted::Created(made) = made else {
            panic!("not created: {made:?}");
        };
        assert_eq!(made.refers_to, Some(journal.clone()));
        assert_eq!(made.also_refers_to, vec![sale.clone()]);
        // A target named twice counts once.
        let twice = store
            .submit_referring(new_op("twice", "r1", receipt(50)), &[&journal, &journal])
            .await
            .unwrap();
        assert!(twice.operation().also_refers_to.is_empty());
        let pending = store
            .submit_referring(new_op("pending", "r1", receipt(10)), &[&journal, &sale])
            .await
            .unwrap()
            .operation()
            .clone();
        assert_eq!(
            ids(&store.referring_to(&journal).unwrap()),
            ["return", "twice", "pending"]
        );
        assert_eq!(
            ids(&store.referring_to(&sale).unwrap()),
            ["return", "pending"]
        );
        let done = complete(&store, "return", fiscal(5, "1", false)).await;
        // The entries follow the record through its states, under both targets.
        assert_eq!(store.referring_to(&sale).unwrap()[0], done);
        assert_eq!(store.referring_to(&journal).unwrap()[0], done);
        complete(&store, "twice", fiscal(6, "1", false)).await;
        assert_eq!(store.prune(Duration::ZERO).await.unwrap(), 2);
        assert_eq!(store.referring_to(&journal).unwrap(), vec![pending.clone()]);
        assert_eq!(store.referring_to(&sale).unwrap(), vec![pending]);
    }
    // Only the unfinished one's two entries are left.
    assert_eq!(count_keys(dir.path(), b"r"), [2]);
}

/// A record written before an operation could refer to several targets has no
/// `also_refers_to`; it decodes as referring to its first target only. One referring to a
/// single target is written without the field.
#[tokio::test]
async fn a_record_written_without_further_targets_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, sale) = (id("journal"), id("sale"));
    let stored = {
        let store = open(dir.path());
        let single = store
            .submit_referring(new_op("single", "r1", receipt(100)), &[&sale])
            .await
            .unwrap()
            .operation()
            .clone();
        assert!(single.also_refers_to.is_empty());
        store
            .submit_referring(new_op("old", "r1", receipt(100)), &[&journal, &sale])
            .await
            .unwrap()
            .operation()
            .clone()
    };
    {
        let db = sled::open(dir.path().join("ops")).unwrap();
        let single = db.get(b"osingle").unwrap().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&single[1..]).unwrap();
        assert!(json.get("also_refers_to").is_none(), "{json}");
        assert_eq!(json["refers_to"], "sale");
        let record = db.get(b"oold").unwrap().unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&record[1..]).unwrap();
        let removed = json.as_object_mut().unwrap().remove("also_refers_to");
        assert_eq!(removed, Some(serde_json::json!(["sale"])));
        let mut old = vec![1u8];
        old.extend_from_slice(&serde_json::to_vec(&json).unwrap());
        db.insert(b"oold", old).unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    let read = store.get(&id("old")).unwrap().unwrap();
    assert_eq!(
        read,
        Operation {
            also_refers_to: Vec::new(),
            ..stored
        }
    );
    assert_eq!(ids(&store.referring_to(&journal).unwrap()), ["old"]);
    // Its stale entry under the sale no longer matches the record: skipped.
    assert_eq!(ids(&store.referring_to(&sale).unwrap()), ["single"]);
}
