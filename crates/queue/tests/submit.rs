//! Idempotent submit: create, replay, conflict, re-post after failure, concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cash_in, id, new_op, open, receipt, reg};
use queue::{OpState, OperationKind, Reason, SubmitError, Submitted};

fn failed() -> OpState {
    OpState::Failed {
        reason: Reason {
            code: "DEVICE".into(),
            message: "Ошибка ККТ.".into(),
            device_error: Some(0x4e),
        },
    }
}

#[tokio::test]
async fn a_new_id_is_created_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let s = store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
    let Submitted::Created(op) = s else {
        panic!("{s:?}")
    };
    assert_eq!(op.state, OpState::Queued);
    assert_eq!(op.kind, OperationKind::Receipt);
    assert_eq!(op.payload_hash.len(), 64);
    assert_eq!(store.get(&id("a")).unwrap(), Some(op));
    assert_eq!(store.get(&id("b")).unwrap(), None);
}

#[tokio::test]
async fn a_replay_with_the_same_payload_returns_the_stored_operation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
    let again = store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
    assert_eq!(again, Submitted::Existing(first.operation().clone()));
}

#[tokio::test]
async fn a_replay_with_another_payload_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
    let err = store
        .submit(new_op("a", "r1", receipt(101)))
        .await
        .unwrap_err();
    let SubmitError::Conflict { existing } = err else {
        panic!("{err:?}")
    };
    assert_eq!(existing.request, receipt(100));
    let err = store
        .submit(new_op("a", "r1", cash_in(100)))
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::Conflict { .. }), "{err:?}");
}

#[tokio::test]
async fn a_failed_operation_posted_again_is_queued_with_a_new_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = store.submit(new_op("a", "r1", cash_in(500))).await.unwrap();
    let op = store
        .transition(&id("a"), failed(), "refused")
        .await
        .unwrap();
    assert!(op.processed_at.is_some());
    // Re-posted, it is routed afresh.
    let again = store.submit(new_op("a", "r2", cash_in(500))).await.unwrap();
    let Submitted::Requeued(op) = again else {
        panic!("{again:?}")
    };
    assert_eq!(op.register, reg("r2"));
    assert_eq!(op.state, OpState::Queued);
    assert!(op.seq > first.operation().seq);
    assert_eq!(op.processed_at, None);
    assert_eq!(op.attempts.len(), 3);
    assert_eq!(
        store.next_for(&reg("r2")).unwrap().map(|o| o.id),
        Some(id("a"))
    );
    assert_eq!(store.next_for(&reg("r1")).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_submits_of_one_id_make_one_operation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.submit(new_op("same", "r1", receipt(700))).await
        }));
    }
    let mut created = 0;
    let mut seqs = std::collections::HashSet::new();
    for t in tasks {
        let s = t.await.unwrap().unwrap();
        if matches!(s, Submitted::Created(_)) {
            created += 1;
        }
        seqs.insert(s.operation().seq);
    }
    assert_eq!(created, 1);
    assert_eq!(seqs.len(), 1);
    let depth = store.depth().unwrap();
    assert_eq!(depth[&reg("r1")]["queued"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submits_share_fsync_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let before = store.sync_rounds();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .submit(new_op(&format!("op-{i}"), "r1", cash_in(100 + i)))
                .await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), Submitted::Created(_)));
    }
    let rounds = store.sync_rounds() - before;
    assert!(
        (1..64).contains(&rounds),
        "{rounds} sync rounds for 64 submits"
    );
}

#[test]
fn operation_ids_are_checked() {
    assert!(queue::OperationId::new("").is_err());
    assert!(queue::OperationId::new("a\nb").is_err());
    assert!(queue::OperationId::new("я".repeat(128)).is_ok());
    assert!(queue::OperationId::new("я".repeat(129)).is_err());
}
