//! Measurements of the store for `benches/submit.rs`: durable submits per second and latency
//! at several concurrencies beside the rate of raw sled insert + flush + fdatasync one at a
//! time (what a store without group commit could do), and start-up time and memory with many
//! stored operations. Also the requests they submit, and [`sized_request`] for the tests of
//! the record cap and of crashes. Only with the `bench` feature: not part of the store's API.
//!
//! Figures depend on the disk; they are printed, never asserted.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use fiscal_model::{
    Completion, FiscalResult, Item, Kopecks, ModelError, OperationBody, OperationRequest, Payments,
    Quantity, Receipt, ReceiptParts, ReceiptType, Routing, TaxationSystem, VatRate,
};

use crate::{
    keys, payload_hash, Attempt, NewOperation, OpState, Operation, OperationId, OperationKind,
    RegisterId, Store, StoreConfig, StoreError,
};

/// Durable submits at one concurrency.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchLevel {
    /// Concurrent submitters.
    pub concurrency: usize,
    /// Submits done.
    pub submits: usize,
    /// Submits per second (each returned after fsync).
    pub per_second: f64,
    /// Median latency of one submit.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Flush + fsync rounds the submits shared.
    pub sync_rounds: u64,
}

/// The submit benchmark's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// One entry per concurrency level.
    pub levels: Vec<BenchLevel>,
    /// Raw sled insert + flush + fdatasync, one at a time, per second.
    pub raw_per_second: f64,
    /// Median latency of one raw insert + flush + fdatasync.
    pub raw_p50: Duration,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "raw sled insert+flush+fdatasync: {:>9.0}/s  p50 {:>8.2?}",
            self.raw_per_second, self.raw_p50
        )?;
        for l in &self.levels {
            writeln!(
                f,
                "durable submit, {:>3} concurrent: {:>9.0}/s  p50 {:>8.2?}  p99 {:>8.2?}  \
                 {} submits in {} fsync rounds  ({:.1}× raw)",
                l.concurrency,
                l.per_second,
                l.p50,
                l.p99,
                l.submits,
                l.sync_rounds,
                l.per_second / self.raw_per_second.max(f64::MIN_POSITIVE)
            )?;
        }
        Ok(())
    }
}

/// Start-up of a store holding many operations.
#[derive(Debug, Clone, PartialEq)]
pub struct StartupReport {
    /// `Store::open`.
    pub open: Duration,
    /// `next_for` + `unsettled` + `depth` right after opening (a worker's first round).
    pub first_queries: Duration,
    /// Resident memory of the process afterwards, KiB (Linux `/proc/self/status`).
    pub rss_kib: Option<u64>,
}

impl fmt::Display for StartupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "open {:.2?}, first worker queries {:.2?}, RSS {}",
            self.open,
            self.first_queries,
            self.rss_kib
                .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                .unwrap_or_else(|| "unknown".into())
        )
    }
}

/// A receipt like a small shop's: two positions, card payment.
pub fn sample_request(i: u64) -> OperationRequest {
    let item = |name: &str, price| Item {
        name: name.into(),
        quantity: Quantity::ONE,
        price: Kopecks(price),
        vat: VatRate::Vat22,
        attributes: Default::default(),
        line_sum: None,
        notes: Vec::new(),
    };
    let items = vec![
        item("Молоко 3,2% 1 л", 8_990),
        item("Хлеб", 4_500 + i % 100),
    ];
    let total = Kopecks(8_990 + 4_500 + i % 100);
    let card = Payments {
        cashless: total,
        ..Payments::default()
    };
    let body = match sale(items, card, total) {
        Ok(receipt) => OperationBody::Receipt(receipt),
        // Unreachable with the figures above; a cash-in keeps the benchmark going anyway.
        Err(_) => OperationBody::Cash(fiscal_model::CashMovement {
            kind: fiscal_model::CashMovementKind::In,
            amount: total,
        }),
    };
    OperationRequest {
        body,
        routing: Routing::default(),
    }
}

/// A printed sale of `items` in the general taxation system, no buyer.
fn sale(items: Vec<Item>, payments: Payments, total: Kopecks) -> Result<Receipt, ModelError> {
    ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items,
        payments,
        total,
        buyer: None,
        print: true,
    }
    .build()
}

/// A receipt as large as a client can make it within `max_json_bytes` of canonical JSON:
/// positions with names of the longest allowed length (128 characters, two bytes each in
/// UTF-8). For tests of the record cap and of crashes while large records are written.
pub fn sized_request(max_json_bytes: usize, seed: u64) -> OperationRequest {
    let item = |i: usize| Item {
        name: format!("{:05} {seed:010} ", i)
            .chars()
            .chain("Товар с очень длинным наименованием ".chars().cycle())
            .take(128) // the longest name a position may have
            .collect(),
        quantity: Quantity::ONE,
        price: Kopecks(100 + i as u64),
        vat: VatRate::Vat22,
        attributes: Default::default(),
        line_sum: None,
        notes: Vec::new(),
    };
    let request = |items: Vec<Item>| {
        let total = Kopecks(items.iter().map(|i| i.price.0).sum());
        let cash = Payments {
            cash: total,
            ..Payments::default()
        };
        let body = sale(items, cash, total)
            .map(OperationBody::Receipt)
            // Unreachable: the positions are valid and balance; a cash-in keeps the caller going.
            .unwrap_or(OperationBody::Cash(fiscal_model::CashMovement {
                kind: fiscal_model::CashMovementKind::In,
                amount: total,
            }));
        OperationRequest {
            body,
            routing: Routing::default(),
        }
    };
    let size = |n: usize| {
        serde_json::to_vec(&request((0..n).map(item).collect())).map_or(usize::MAX, |v| v.len())
    };
    // Positions are (nearly) equal in size: estimate, then step to the exact count.
    let (one, two) = (size(1), size(2));
    let per_item = two.saturating_sub(one).max(1);
    let mut n = 1 + max_json_bytes.saturating_sub(one) / per_item;
    while n > 1 && size(n) > max_json_bytes {
        n -= 1;
    }
    while size(n + 1) <= max_json_bytes {
        n += 1;
    }
    request((0..n).map(item).collect())
}

/// Runs the submit benchmark in fresh stores under `dir`: `n` submits per level.
pub async fn bench_report(
    dir: &Path,
    concurrency_levels: &[usize],
    n: usize,
) -> Result<BenchReport, StoreError> {
    let (raw_per_second, raw_p50) = raw_sled(&dir.join("raw"), n.clamp(1, 2_000))?;
    let mut levels = Vec::new();
    for &concurrency in concurrency_levels {
        let concurrency = concurrency.max(1);
        let store = Store::open(
            &dir.join(format!("submit-{concurrency}")),
            StoreConfig::default(),
        )?;
        let rounds_before = store.sync_rounds();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..concurrency {
            let store = store.clone();
            let count = n / concurrency + usize::from(worker < n % concurrency);
            tasks.spawn(async move {
                let mut latencies = Vec::with_capacity(count);
                for k in 0..count {
                    let i = (k * concurrency + worker) as u64;
                    let op = NewOperation {
                        id: OperationId::new(format!("bench-{i:010}"))?,
                        register: RegisterId::new(format!("register-{}", i % 4)),
                        request: sample_request(i),
                    };
                    let t = Instant::now();
                    store.submit(op).await.map_err(|e| match e {
                        crate::SubmitError::Store(e) => e,
                        crate::SubmitError::Conflict { existing } => {
                            StoreError::Corrupt(format!("unexpected conflict on {}", existing.id))
                        }
                        e @ crate::SubmitError::TooLarge { .. } => StoreError::Io(e.to_string()),
                    })?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, StoreError>(latencies)
            });
        }
        let mut latencies = Vec::with_capacity(n);
        while let Some(joined) = tasks.join_next().await {
            let part = joined.map_err(|e| StoreError::Io(format!("benchmark task: {e}")))??;
            latencies.extend(part);
        }
        let elapsed = started.elapsed();
        latencies.sort();
        levels.push(BenchLevel {
            concurrency,
            submits: latencies.len(),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            p50: percentile(&latencies, 50),
            p99: percentile(&latencies, 99),
            sync_rounds: store.sync_rounds() - rounds_before,
        });
    }
    Ok(BenchReport {
        levels,
        raw_per_second,
        raw_p50,
    })
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) * p / 100).min(sorted.len() - 1)]
}

/// `n` times: sled insert, flush, fdatasync of the log, one after another.
fn raw_sled(dir: &Path, n: usize) -> Result<(f64, Duration), StoreError> {
    let db = sled::Config::new()
        .path(dir)
        .flush_every_ms(None)
        .open()
        .map_err(|e| StoreError::from_sled("open the raw benchmark db", e))?;
    let log = std::fs::File::open(dir.join("db"))
        .map_err(|e| StoreError::from_io("open the raw benchmark log", &e))?;
    let value = vec![b'x'; 600];
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n as u64 {
        let t = Instant::now();
        db.insert(i.to_be_bytes(), value.as_slice())
            .and_then(|_| db.flush())
            .map_err(|e| StoreError::from_sled("raw insert", e))?;
        log.sync_data()
            .map_err(|e| StoreError::from_io("raw fdatasync", &e))?;
        latencies.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((
        n as f64 / elapsed.as_secs_f64().max(1e-9),
        percentile(&latencies, 50),
    ))
}

/// Fills the store in `dir` with `n` finished receipts (plus one queued per register) as
/// fast as possible: big batches, one sync at the end. For start-up measurements only.
pub async fn populate(dir: &Path, n: u64) -> Result<(), StoreError> {
    let store = Store::open(dir, StoreConfig::default())?;
    let now = Utc::now();
    let date_time = NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .unwrap_or_default();
    const BATCH: u64 = 10_000;
    let mut start = 0;
    while start < n {
        let mut batch = sled::Batch::default();
        for i in start..(start + BATCH).min(n) {
            let request = sample_request(i);
            let state = if i % 100_000 == 0 {
                OpState::Queued
            } else {
                OpState::Done {
                    completion: Completion::Receipt(FiscalResult {
                        fd_number: i as u32,
                        fiscal_sign: 1_000_000 + i as u32,
                        receipt_number_in_shift: (i % 500) as u32,
                        shift_number: (i / 500) as u32,
                        fn_number: "9999078900012345".into(),
                        rnm: "0000000001012345".into(),
                        date_time,
                        not_printed: false,
                        marking_checks: Vec::new(),
                    }),
                }
            };
            let op = Operation {
                id: OperationId::new(format!("stored-{i:010}"))?,
                kind: OperationKind::of(&request),
                register: RegisterId::new(format!("register-{}", i % 4)),
                payload_hash: payload_hash(&request)?,
                request,
                seq: i,
                refers_to: None,
                also_refers_to: Vec::new(),
                by_number: false,
                created_at: now,
                updated_at: now,
                processed_at: state.is_finished().then_some(now),
                finished_clock_ms: state.is_finished().then_some(0),
                attempts: vec![Attempt {
                    at: now,
                    state: state.name().into(),
                    note: "populated".into(),
                }],
                attempts_dropped: 0,
                state,
            };
            for (k, v) in keys::index_entries(&op) {
                batch.insert(k, v);
            }
            batch.insert(keys::record_key(&op.id), keys::encode_record(&op)?);
        }
        store
            .db()
            .apply_batch(batch)
            .map_err(|e| StoreError::from_sled("populate", e))?;
        start += BATCH;
    }
    store.sync().await
}

/// Opens the store in `dir`, runs a worker's first queries, reads the process's RSS. Run it
/// in a fresh process for a meaningful memory figure.
pub fn measure_startup(dir: &Path) -> Result<StartupReport, StoreError> {
    let t = Instant::now();
    let store = Store::open(dir, StoreConfig::default())?;
    let open = t.elapsed();
    let t = Instant::now();
    let register = RegisterId::new("register-0");
    store.next_for(&register)?;
    store.unsettled(&register)?;
    store.depth()?;
    let first_queries = t.elapsed();
    Ok(StartupReport {
        open,
        first_queries,
        rss_kib: rss_kib(),
    })
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
