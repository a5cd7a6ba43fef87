//! Promise 1 and 2 under SIGKILL: POS clients, each like a till, post a receipt (retrying on
//! connection errors, as a POS does) and wait for it to be done before the next, while the
//! gateway process is killed at random moments and restarted. Printing takes time, so most
//! kills land with a receipt on the wire and its outcome is settled from the register's state.
//! Afterwards every operation that ever got a 200 is in status 2, and the register's FN holds
//! exactly one document per receipt operation, with its total. `CRASH_ROUNDS` sets the number
//! of kills (default 50); `CRASH_CLIENTS` the number of concurrent clients (default 4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use std::sync::Arc;

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use support::{receipt_with_total, write_config, Gateway, GatewayOptions, Pos, Register};
use tokio::sync::watch;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the clients saw.
#[derive(Default)]
struct Ledger {
    /// operationId → total in kopecks, for every operation ever POSTed.
    submitted: BTreeMap<String, u64>,
    /// operationIds that got a 200.
    acknowledged: BTreeSet<String>,
}

/// Long-polls checkStatus for `id` until it leaves status 1, across restarts.
async fn wait_done(id: &str, base_rx: &watch::Receiver<String>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let pos = Pos::new(&base_rx.borrow().clone());
        match pos.try_status(id, 5).await {
            Ok((200, body)) if body["status"] == 2 => return,
            Ok((200, body)) if body["status"] == 1 => {}
            Ok((code, body)) if code < 500 && code != 200 => panic!("{id}: {code} {body}"),
            Ok((_, body)) if body["status"] == 3 => panic!("{id} failed: {body}"),
            _ => {
                let mut rx = base_rx.clone();
                let _ =
                    tokio::time::timeout(std::time::Duration::from_millis(50), rx.changed()).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_random_moments_loses_nothing_and_doubles_nothing() {
    let rounds = env_or("CRASH_ROUNDS", 50);
    let clients = env_or("CRASH_CLIENTS", 4);
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &[]);
    // Printing takes time, as on paper: a receipt spends most of its life on the wire, where
    // a kill leaves an outcome only the register's state can settle.
    register.control("print-time 2");
    let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
    let mut gateway = Gateway::start(dir.path(), &config);

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (acks, mut acks_rx) = watch::channel(0u64);
    let acks = Arc::new(acks);
    let stop = Arc::new(AtomicBool::new(false));
    // Clients learn the current address (it changes on each restart: port 0).
    let (base_tx, base_rx) = watch::channel(gateway.base.clone());
    let next_total = Arc::new(AtomicU64::new(100));

    let mut tasks = Vec::new();
    for c in 0..clients {
        let ledger = ledger.clone();
        let acks = acks.clone();
        let stop = stop.clone();
        let base_rx = base_rx.clone();
        let next_total = next_total.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let id = format!("crash-{c}-{n}");
                let total = next_total.fetch_add(1, Ordering::SeqCst);
                let body = receipt_with_total(&id, total);
                ledger.lock().submitted.insert(id.clone(), total);
                // Retry the same operation until it is acknowledged, as a POS must.
                loop {
                    let pos = Pos::new(&base_rx.borrow().clone());
                    match pos.try_post("formReceipt", &body).await {
                        Ok((200, _)) => {
                            ledger.lock().acknowledged.insert(id.clone());
                            acks.send_modify(|n| *n += 1);
                            // Like a till, the next customer waits until this receipt is done.
                            wait_done(&id, &base_rx, &stop).await;
                            break;
                        }
                        Ok((code, b)) if code < 500 => panic!("{id}: unexpected {code} {b}"),
                        _ => {
                            if stop.load(Ordering::SeqCst) {
                                break;
                            }
                            let mut rx = base_rx.clone();
                            // Wait for the next restart or retry soon (connection refused while down).
                            let _ = tokio::time::timeout(
                                std::time::Duration::from_millis(50),
                                rx.changed(),
                            )
                            .await;
                        }
                    }
                }
            }
        }));
    }

    let mut rng = rand::rngs::StdRng::seed_from_u64(env_or("CRASH_SEED", 7));
    for _ in 0..rounds {
        // Kill after a random number of further acknowledgements plus a random instant, so kills
        // land in every phase: receiving, storing, sending to the register, recording results.
        let target = *acks_rx.borrow() + rng.gen_range(0..4);
        acks_rx.wait_for(|n| *n >= target).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_micros(rng.gen_range(0..200_000))).await;
        gateway.proc.kill();
        gateway = Gateway::start(dir.path(), &config);
        base_tx.send(gateway.base.clone()).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }

    // Settle: every acknowledged operation must reach status 2 with its own total.
    let pos = Pos::new(&gateway.base);
    let ledger = std::mem::take(&mut *ledger.lock());
    let mut lost = 0;
    let mut done_ids = BTreeMap::new();
    for (id, total) in &ledger.submitted {
        let (code, _) = pos.status(id, 0).await;
        if code == 404 {
            assert!(
                !ledger.acknowledged.contains(id),
                "{id} got a 200 but the gateway does not know it"
            );
            continue;
        }
        let body = pos.settled(id).await;
        if body["status"] != 2 {
            lost += 1;
            eprintln!("{id}: {body}");
            continue;
        }
        done_ids.insert(
            body["fiscalParams"]["fiscalDocumentNumber"]
                .as_u64()
                .unwrap(),
            (*total, id.clone()),
        );
    }

    let archive = register.archive();
    let mut by_total: BTreeMap<u64, u32> = BTreeMap::new();
    for d in archive.iter().filter(|d| d["doc_type"] == 3) {
        *by_total.entry(d["total"].as_u64().unwrap()).or_default() += 1;
        let fd = d["fd"].as_u64().unwrap();
        if let Some((total, id)) = done_ids.get(&fd) {
            assert_eq!(
                d["total"].as_u64().unwrap(),
                *total,
                "{id}: FD {fd} carries another total"
            );
        }
    }
    let duplicates: u32 = by_total.values().map(|n| n.saturating_sub(1)).sum();
    let orphans = by_total
        .keys()
        .filter(|t| !ledger.submitted.values().any(|s| s == *t))
        .count();
    // Kills that landed while a receipt was on the wire: its outcome was settled from the
    // register's state after the restart.
    let log = gateway.log();
    let settled_done = log.matches("settled: the register had done it").count();
    let settled_redo = log.matches("settled: not done; queued again").count();
    println!(
        "crash test: {rounds} kills, {} operations submitted, {} acknowledged, {} done, {} FN receipts; lost {lost}, duplicates {duplicates}, orphan documents {orphans}; settled after a kill: {settled_done} found done, {settled_redo} redone",
        ledger.submitted.len(),
        ledger.acknowledged.len(),
        done_ids.len(),
        by_total.values().sum::<u32>()
    );
    assert!(
        settled_done + settled_redo >= rounds as usize / 4,
        "too few kills landed while a receipt was on the wire to prove anything"
    );
    assert_eq!(lost, 0, "acknowledged operations lost");
    assert_eq!(duplicates, 0, "operations fiscalized twice");
    assert_eq!(orphans, 0, "FN documents nobody asked for");
    assert_eq!(
        by_total.len(),
        done_ids.len(),
        "one FN receipt per done operation"
    );
    assert!(
        ledger.acknowledged.len() as u64 >= rounds,
        "the run did real work"
    );
}
