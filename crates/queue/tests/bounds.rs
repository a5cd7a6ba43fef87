//! Every record stays bounded: a new operation too large to store is refused with a typed
//! error and leaves nothing behind, and however often a worker moves an operation, its history
//! keeps the first entry and the most recent ones, with notes cut short.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{id, new_op, open};
use queue::{
    OpState, Reason, SubmitError, MAX_NEW_RECORD_BYTES, MAX_NOTE_BYTES, MAX_RECENT_ATTEMPTS,
    MAX_RECORD_BYTES,
};

fn waiting(n: usize, note_len: usize) -> (OpState, String) {
    let state = OpState::Waiting {
        reason: Reason {
            code: "NO_PAPER".into(),
            message: "Нет бумаги.".into(),
            device_error: None,
        },
        since: chrono::Utc::now(),
    };
    // Control characters and quotes: what JSON escaping would blow up.
    let note = format!("round {n:06} \u{1}\"\\ ")
        .chars()
        .chain("нет бумаги ".chars().cycle())
        .take(note_len)
        .collect();
    (state, note)
}

#[tokio::test]
async fn an_operation_over_the_record_cap_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let too_big = queue::bench::sized_request(MAX_NEW_RECORD_BYTES + 1024, 1);
    let r = store.submit(new_op("big", "r1", too_big.clone())).await;
    let Err(SubmitError::TooLarge { bytes, limit }) = &r else {
        panic!("expected TooLarge, got {r:?}");
    };
    assert_eq!(*limit, MAX_NEW_RECORD_BYTES);
    assert!(*bytes > MAX_NEW_RECORD_BYTES, "{bytes}");
    let message = r.unwrap_err().to_string();
    assert!(message.contains("too large"), "{message}");
    assert_eq!(store.get(&id("big")).unwrap(), None);
    assert_eq!(store.next_for(&common::reg("r1")).unwrap(), None);
    // The same request again meets the same answer; the store stays healthy.
    assert!(matches!(
        store.submit(new_op("big", "r1", too_big)).await,
        Err(SubmitError::TooLarge { .. })
    ));
    assert!(store.healthy().is_ok());

    // Just under the cap is stored.
    let near = queue::bench::sized_request(MAX_NEW_RECORD_BYTES - 1024, 2);
    store
        .submit(new_op("near", "r1", near.clone()))
        .await
        .unwrap();
    assert_eq!(store.get(&id("near")).unwrap().unwrap().request, near);
}

/// The worst case a record can reach: a request just under the cap, a worker that records
/// the same wait thousands of times with long notes, then a snapshot and a result. Every
/// change is stored; the history keeps the first entry and the most recent
/// `MAX_RECENT_ATTEMPTS`, counts the rest, and the record stays under `MAX_RECORD_BYTES`.
#[tokio::test]
async fn a_looping_worker_keeps_the_record_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let near = queue::bench::sized_request(MAX_NEW_RECORD_BYTES - 1024, 3);
    store.submit(new_op("loop", "r1", near)).await.unwrap();
    let rounds = 300;
    for n in 0..rounds {
        let (state, note) = waiting(n, 10 * MAX_NOTE_BYTES);
        store.transition(&id("loop"), state, &note).await.unwrap();
    }
    let snapshot = serde_json::json!({ "last_fd": 12345, "counters": vec![u64::MAX; 64] });
    store
        .transition(&id("loop"), OpState::Sending { snapshot }, "sending")
        .await
        .unwrap();

    // Reopened: what is bounded is what is on disk.
    drop(store);
    let store = open(dir.path());
    let op = store.get(&id("loop")).unwrap().unwrap();
    assert_eq!(op.attempts.len(), 1 + MAX_RECENT_ATTEMPTS);
    assert_eq!(op.attempts[0].note, "accepted");
    assert_eq!(
        op.attempts_dropped,
        (1 + rounds + 1 - (1 + MAX_RECENT_ATTEMPTS)) as u64
    );
    let last = op.attempts.last().unwrap();
    assert_eq!(
        (last.state.as_str(), last.note.as_str()),
        ("sending", "sending")
    );
    let before_last = &op.attempts[op.attempts.len() - 2];
    assert!(
        before_last
            .note
            .starts_with(&format!("round {:06} ", rounds - 1)),
        "{}",
        before_last.note
    );
    for a in &op.attempts {
        assert!(a.note.len() <= MAX_NOTE_BYTES, "{} bytes", a.note.len());
        assert!(!a.note.chars().any(char::is_control), "{:?}", a.note);
    }
    assert!(op.attempts[1].note.ends_with('…'));
    let size = serde_json::to_vec(&op).unwrap().len();
    assert!(size < MAX_RECORD_BYTES, "{size} bytes");
}
