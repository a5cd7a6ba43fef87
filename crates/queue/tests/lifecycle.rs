//! The state machine, the per-register queries, wake-ups, reopening, corrupt records, pruning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use fiscal_model::Completion;
use queue::{OpState, Reason, StoreError, Submitted};

use common::{cash_in, id, new_op, open, receipt, reg};

fn fiscal(not_printed: bool) -> Completion {
    common::fiscal(123_456_789, "9999078900012345", not_printed)
}

fn sending() -> OpState {
    OpState::Sending {
        snapshot: serde_json::json!({"last_fd": 16}),
    }
}

fn waiting(code: &str) -> OpState {
    OpState::Waiting {
        reason: Reason {
            code: code.into(),
            message: "Открыта крышка.".into(),
            device_error: None,
        },
        since: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn each_register_is_served_in_submit_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for (op, r) in [("a", "r1"), ("b", "r2"), ("c", "r1"), ("d", "r1")] {
        store.submit(new_op(op, r, cash_in(100))).await.unwrap();
    }
    assert_eq!(store.next_for(&reg("r1")).unwrap().unwrap().id, id("a"));
    assert_eq!(store.next_for(&reg("r2")).unwrap().unwrap().id, id("b"));
    // A waiting operation keeps its place at the head.
    store
        .transition(&id("a"), waiting("COVER_OPEN"), "cover")
        .await
        .unwrap();
    assert_eq!(store.next_for(&reg("r1")).unwrap().unwrap().id, id("a"));
    store
        .transition(&id("a"), sending(), "sending")
        .await
        .unwrap();
    assert_eq!(store.next_for(&reg("r1")).unwrap().unwrap().id, id("c"));
    assert_eq!(store.unsettled(&reg("r1")).unwrap()[0].id, id("a"));
    assert!(store.next_for(&reg("r3")).unwrap().is_none());
    let depth = store.depth().unwrap();
    assert_eq!(depth[&reg("r1")]["queued"], 2);
    assert_eq!(depth[&reg("r1")]["sending"], 1);
    assert_eq!(depth[&reg("r2")]["queued"], 1);
}

#[tokio::test]
async fn the_state_machine_refuses_moves_that_could_fiscalize_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
    let refused = |r: Result<queue::Operation, StoreError>| {
        assert!(
            matches!(r, Err(StoreError::InvalidTransition { .. })),
            "{r:?}"
        )
    };
    refused(
        store
            .transition(
                &id("a"),
                OpState::Done {
                    completion: fiscal(false),
                },
                "x",
            )
            .await,
    );
    store
        .transition(&id("a"), sending(), "sending")
        .await
        .unwrap();
    refused(store.transition(&id("a"), OpState::Queued, "x").await);
    refused(store.transition(&id("a"), sending(), "x").await);
    let reconciling = OpState::Reconciling {
        snapshot: serde_json::json!({"last_fd": 16}),
    };
    store
        .transition(&id("a"), reconciling, "unknown")
        .await
        .unwrap();
    store
        .transition(&id("a"), OpState::Queued, "not done")
        .await
        .unwrap();
    store
        .transition(&id("a"), sending(), "sending")
        .await
        .unwrap();
    let done = store
        .transition(
            &id("a"),
            OpState::Done {
                completion: fiscal(true),
            },
            "FD 17",
        )
        .await
        .unwrap();
    assert!(done.processed_at.is_some());
    assert_eq!(store.not_printed(&reg("r1")).unwrap().len(), 1);
    refused(store.transition(&id("a"), OpState::Queued, "x").await);
    refused(store.transition(&id("a"), sending(), "x").await);
    let other = match fiscal(false) {
        Completion::Receipt(mut f) => {
            f.fd_number = 18;
            Completion::Receipt(f)
        }
        c => c,
    };
    refused(
        store
            .transition(&id("a"), OpState::Done { completion: other }, "x")
            .await,
    );
    let printed = store
        .transition(
            &id("a"),
            OpState::Done {
                completion: fiscal(false),
            },
            "printed",
        )
        .await
        .unwrap();
    assert_eq!(printed.processed_at, done.processed_at);
    assert!(store.not_printed(&reg("r1")).unwrap().is_empty());
    assert_eq!(printed.attempts.len(), 7);
    let missing = store.transition(&id("zz"), OpState::Queued, "x").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn wait_change_wakes_on_a_transition() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.submit(new_op("a", "r1", cash_in(100))).await.unwrap();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { store.wait_change(&id("a"), Duration::from_secs(600)).await })
    };
    // On a current-thread runtime one yield runs the waiter up to its wait.
    tokio::task::yield_now().await;
    let started = std::time::Instant::now();
    store
        .transition(&id("a"), sending(), "sending")
        .await
        .unwrap();
    let seen = waiter.await.unwrap().unwrap().unwrap();
    assert_eq!(seen.state.name(), "sending");
    assert!(started.elapsed() < Duration::from_secs(300));
}

#[tokio::test(start_paused = true)]
async fn wait_change_returns_the_current_operation_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.submit(new_op("a", "r1", cash_in(100))).await.unwrap();
    let started = tokio::time::Instant::now();
    let op = store
        .wait_change(&id("a"), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.state, OpState::Queued);
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert_eq!(
        store
            .wait_change(&id("nope"), Duration::from_secs(30))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_worker_is_woken_by_a_submit() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let signal = store.work_signal(&reg("r1"));
    store.submit(new_op("a", "r1", cash_in(100))).await.unwrap();
    // The permit is kept until the worker waits.
    tokio::time::timeout(Duration::from_secs(60), signal.notified())
        .await
        .unwrap();
    assert!(store.next_for(&reg("r1")).unwrap().is_some());
}

#[tokio::test]
async fn everything_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (seq_before, done_before) = {
        let store = open(dir.path());
        store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
        store.submit(new_op("b", "r1", receipt(200))).await.unwrap();
        store.submit(new_op("c", "r1", cash_in(300))).await.unwrap();
        store.transition(&id("a"), sending(), "s").await.unwrap();
        store
            .transition(
                &id("a"),
                OpState::Done {
                    completion: fiscal(true),
                },
                "d",
            )
            .await
            .unwrap();
        store.transition(&id("b"), sending(), "s").await.unwrap();
        let c = store.get(&id("c")).unwrap().unwrap();
        (c.seq, store.get(&id("a")).unwrap().unwrap())
    };
    let store = open(dir.path());
    assert_eq!(store.get(&id("a")).unwrap().unwrap(), done_before);
    assert_eq!(store.not_printed(&reg("r1")).unwrap()[0].id, id("a"));
    assert_eq!(store.unsettled(&reg("r1")).unwrap()[0].id, id("b"));
    assert_eq!(store.next_for(&reg("r1")).unwrap().unwrap().id, id("c"));
    let d = store.submit(new_op("d", "r1", cash_in(1))).await.unwrap();
    assert!(d.operation().seq > seq_before);
    let replay = store.submit(new_op("a", "r1", receipt(100))).await.unwrap();
    assert!(matches!(replay, Submitted::Existing(_)));
}

#[tokio::test]
async fn a_corrupt_record_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        // Takes seq 0 and leaves the pending index, so the bad entry below sorts first.
        store
            .submit(new_op("first", "r1", cash_in(100)))
            .await
            .unwrap();
        store
            .transition(&id("first"), sending(), "s")
            .await
            .unwrap();
        store
            .submit(new_op("good", "r1", cash_in(100)))
            .await
            .unwrap();
    }
    {
        // Layout from keys.rs: record `o<id>`, pending `p<len u16><reg><seq u64>` -> `q<id>`.
        let db = sled::open(dir.path().join("ops")).unwrap();
        db.insert(b"obad", &b"\x01{not json"[..]).unwrap();
        let mut pending = vec![b'p', 0, 2];
        pending.extend_from_slice(b"r1");
        pending.extend_from_slice(&0u64.to_be_bytes());
        db.insert(pending, &b"qbad"[..]).unwrap();
        db.insert(b"oold", &b"\x07{}"[..]).unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    assert_eq!(store.next_for(&reg("r1")).unwrap().unwrap().id, id("good"));
    assert!(matches!(store.get(&id("bad")), Err(StoreError::Corrupt(_))));
    assert!(matches!(store.get(&id("old")), Err(StoreError::Corrupt(_))));
    assert_eq!(store.get(&id("good")).unwrap().unwrap().id, id("good"));
    // Never overwritten: a submit under a corrupt id is refused, not acknowledged.
    let r = store.submit(new_op("bad", "r1", cash_in(1))).await;
    assert!(
        matches!(r, Err(queue::SubmitError::Store(StoreError::Corrupt(_)))),
        "{r:?}"
    );
}

#[tokio::test]
async fn prune_deletes_only_old_finished_operations() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for op in ["a", "b", "c", "d"] {
        store.submit(new_op(op, "r1", cash_in(100))).await.unwrap();
    }
    store.transition(&id("a"), sending(), "s").await.unwrap();
    store
        .transition(
            &id("a"),
            OpState::Done {
                completion: fiscal(false),
            },
            "d",
        )
        .await
        .unwrap();
    let failed = OpState::Failed {
        reason: Reason {
            code: "DEADLINE".into(),
            message: "Истекло время.".into(),
            device_error: None,
        },
    };
    store.transition(&id("b"), failed, "late").await.unwrap();
    store.transition(&id("c"), sending(), "s").await.unwrap();
    assert_eq!(store.prune(Duration::from_secs(86_400)).await.unwrap(), 0);
    assert_eq!(store.prune(Duration::ZERO).await.unwrap(), 2);
    assert_eq!(store.get(&id("a")).unwrap(), None);
    assert_eq!(store.get(&id("b")).unwrap(), None);
    assert!(store.get(&id("c")).unwrap().is_some());
    assert_eq!(store.next_for(&reg("r1")).unwrap().unwrap().id, id("d"));
    assert_eq!(store.prune(Duration::ZERO).await.unwrap(), 0);
    // After the retention window the id is free again.
    let again = store.submit(new_op("a", "r1", cash_in(5))).await.unwrap();
    assert!(matches!(again, Submitted::Created(_)));
}

#[tokio::test(flavor = "current_thread")]
async fn the_retention_task_prunes_and_stops_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = queue::Store::open(
        &dir.path().join("ops"),
        queue::StoreConfig {
            retention: Duration::ZERO,
            ..Default::default()
        },
    )
    .unwrap();
    store.submit(new_op("a", "r1", cash_in(100))).await.unwrap();
    let failed = OpState::Failed {
        reason: Reason {
            code: "X".into(),
            message: "x".into(),
            device_error: None,
        },
    };
    store.transition(&id("a"), failed, "x").await.unwrap();
    let task = store.spawn_retention(Duration::from_secs(3600));
    // The first round runs at once and wakes watchers of what it deleted.
    let seen = store
        .wait_change(&id("a"), Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(seen, None);
    drop(store);
    tokio::time::timeout(Duration::from_secs(600), task)
        .await
        .unwrap()
        .unwrap();
}

/// A PC clock corrected a year forward: by the wall clock every finished operation is a year
/// old, by the store's own running time none is. Nothing is pruned, so every id stays
/// idempotent.
#[tokio::test]
async fn a_wall_clock_a_year_ahead_prunes_nothing_recent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let failed = OpState::Failed {
        reason: Reason {
            code: "X".into(),
            message: "x".into(),
            device_error: None,
        },
    };
    for op in ["a", "b"] {
        store.submit(new_op(op, "r1", cash_in(100))).await.unwrap();
        store
            .transition(&id(op), failed.clone(), "x")
            .await
            .unwrap();
    }
    let year_ahead = chrono::Utc::now() + chrono::Duration::days(365);
    let retention = Duration::from_secs(30 * 86_400);
    assert_eq!(store.prune_at(retention, year_ahead).await.unwrap(), 0);
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.prune_at(retention, year_ahead).await.unwrap(), 0);
    for op in ["a", "b"] {
        assert!(store.get(&id(op)).unwrap().is_some(), "{op} was pruned");
    }
    let again = store.submit(new_op("a", "r1", cash_in(100))).await.unwrap();
    assert!(matches!(again, Submitted::Requeued(_)), "{again:?}");
}
