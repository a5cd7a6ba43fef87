//! The promise under a real crash: a child process (`examples/crash_writer`) writes large
//! operations (records just under the cap, so sled's leaves go to blob files) from several
//! tasks and prints each one it got an acknowledgement for; it is SIGKILLed at a random point
//! after some acknowledgements; the store is reopened and every printed operation is there,
//! readable, with its payload and the last acknowledged state. Several rounds on one store,
//! so each round also checks everything acknowledged in the rounds before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use queue::{OpState, OperationId, Store, StoreConfig};

/// The same size `crash_writer` uses.
const CRASH_REQUEST_BYTES: usize = queue::MAX_NEW_RECORD_BYTES - 1024;
const ROUNDS: usize = 10;

/// `target/<profile>/examples/crash_writer`, built by `cargo test` beside this test binary.
fn crash_writer() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join("crash_writer");
    if !path.exists() {
        // `cargo test -p queue` builds examples; `--test crash` alone does not.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "queue", "--example", "crash_writer"])
            .status()
            .unwrap();
        assert!(status.success(), "building examples/crash_writer failed");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// A random number in `lo..=hi` (std's randomly keyed hasher: no dependency needed).
fn random_in(lo: u64, hi: u64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(lo ^ hi.rotate_left(17));
    lo + h.finish() % (hi - lo + 1)
}

#[test]
fn acknowledged_large_operations_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let ops = dir.path().join("ops");
    // id → was its transition to Waiting acknowledged too.
    let mut acknowledged: BTreeMap<String, bool> = BTreeMap::new();
    let mut blob_files_seen = 0;
    let expected: Vec<_> = (0..3)
        .map(|task| queue::bench::sized_request(CRASH_REQUEST_BYTES, task))
        .collect();
    for round in 0..ROUNDS {
        let kill_after = random_in(2, 60);
        let mut child = Command::new(crash_writer())
            .arg(&ops)
            .arg(format!("round{round}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        let mut killed = false;
        let mut record = |line: &str| match line.split_once(' ') {
            Some(("ACK", id)) => {
                acknowledged.entry(id.to_string()).or_insert(false);
            }
            Some(("MOVED", id)) => {
                acknowledged.insert(id.to_string(), true);
            }
            _ => panic!("unexpected line from crash_writer: {line:?}"),
        };
        for line in lines.by_ref() {
            let line = line.unwrap();
            record(&line);
            seen += 1;
            if seen == kill_after {
                child.kill().unwrap(); // SIGKILL
                killed = true;
                break;
            }
        }
        // Lines the child printed before it died were acknowledged too.
        for line in lines {
            record(&line.unwrap());
        }
        let status = child.wait().unwrap();
        assert!(
            killed && status.signal() == Some(libc::SIGKILL),
            "crash_writer ended by itself after {seen} lines: {status:?}"
        );
        if let Ok(entries) = std::fs::read_dir(ops.join("blobs")) {
            blob_files_seen += entries.count();
        }

        let store = Store::open(&ops, StoreConfig::default())
            .unwrap_or_else(|e| panic!("round {round}: the store does not reopen: {e}"));
        for (id, moved) in &acknowledged {
            let op = store
                .get(&OperationId::new(id.as_str()).unwrap())
                .unwrap_or_else(|e| panic!("round {round}: {id} unreadable: {e}"))
                .unwrap_or_else(|| panic!("round {round}: acknowledged {id} is lost"));
            let task: u64 = id.rsplit('-').nth(1).unwrap().parse().unwrap();
            assert!(
                op.request == expected[task as usize],
                "round {round}: {id} has another payload"
            );
            if *moved {
                assert!(
                    matches!(op.state, OpState::Waiting { .. }),
                    "round {round}: the acknowledged move of {id} is lost: {:?}",
                    op.state
                );
            }
        }
        // The indexes agree: every acknowledged operation of this round is pending.
        let pending: BTreeSet<String> = (0..3)
            .flat_map(|t| {
                store
                    .pending(&queue::RegisterId::new(format!("register-{t}")))
                    .unwrap()
            })
            .map(|op| op.id.to_string())
            .collect();
        for id in acknowledged.keys() {
            assert!(pending.contains(id), "round {round}: {id} not in the queue");
        }
        drop(store);
    }
    eprintln!(
        "{} acknowledged operations survived {ROUNDS} kills; blob files seen: {blob_files_seen}",
        acknowledged.len()
    );
}
