//! The HTTP API under load: the built binary as `serve --emulator` (its in-process virtual
//! register, state file on disk, no device delay) driven over loopback.
//!
//! (a) formReceipt acknowledgements per second and latency, 64 concurrent clients, each request
//!     a new operation; then how long the register took to fiscalize all of them;
//! (b) checkStatus requests per second and latency, 64 concurrent clients;
//! (c) gateway overhead per receipt: the median of POST formReceipt → checkStatus(wait) says
//!     status 2, one receipt at a time, minus the median time the driver alone needs for the
//!     same receipt (status, snapshot, fiscalize, as the worker does) against the same kind of
//!     register: an in-process emulator on an in-memory stream with a state file.
//!
//! Figures are printed, nothing is asserted. `cargo bench -p fiscal-gateway --bench http`.
//! Environment: `BENCH_RECEIPTS` receipts for (a) (default 2000), `BENCH_STATUS` requests for
//! (b) (default 20000), `BENCH_SEQUENTIAL` receipts for (c) (default 200), `BENCH_CLIENTS`
//! (default 64).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use driver::{LinkLayerChoice, Readiness, Register, RegisterOptions, Transport};
use emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};

/// The cashbox id of `serve --emulator`.
const CASHBOX: &str = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";
/// Receipts made before timing starts (the first one opens the shift).
const WARM_UP: usize = 3;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `driver::bench::sample_receipt` as a formReceipt body: three items, 10 % and 22 %, cash
/// and card, general taxation.
fn receipt_body(id: &str) -> Value {
    json!({
        "operationId": id,
        "receiptType": 1,
        "printReceipt": true,
        "taxationSystem": 1,
        "positions": [
            {"name": "Молоко 3,2% 1 л", "quantity": 2, "price": 89.90, "taxType": 2},
            {"name": "Хлеб бородинский", "quantity": 1, "price": 45.00, "taxType": 3},
            {"name": "Сыр российский, кг", "quantity": 0.5, "price": 149.40, "taxType": 3}
        ],
        "cashPaymentSum": 275.00,
        "cashlessPaymentSum": 24.50,
        "totalSum": 299.50,
        "cashboxId": CASHBOX
    })
}

/// `serve --emulator` as a child process, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    base: String,
    token: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        std::fs::create_dir_all(data_dir).expect("data directory");
        let log_path = data_dir.join("serve.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fiscal-gateway"))
            .arg("serve")
            .arg("--emulator")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn fiscal-gateway serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // Reads stdout to the end: the server keeps printing after the lines wanted here, and
        // a closed pipe would make its next print fail.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let (mut base, mut token) = (None, None);
        while base.is_none() || token.is_none() {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("serve announces its address and token");
            if let Some(rest) = line.strip_prefix("listening on http://") {
                base = Some(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("development token: ") {
                token = Some(rest.trim().to_string());
            }
        }
        Server {
            child,
            base: base.expect("address"),
            token: token.expect("token"),
            log: log_path,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        common::stop(&mut self.child);
    }
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    log: PathBuf,
}

impl Client {
    fn new(server: &Server, clients: usize) -> Client {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("HTTP client");
        Client {
            http,
            base: server.base.clone(),
            token: server.token.clone(),
            log: server.log.clone(),
        }
    }

    async fn form_receipt(&self, id: &str) -> Result<(u16, Value), reqwest::Error> {
        let r = self
            .http
            .post(format!("http://{}/v1.0/operations/formReceipt", self.base))
            .bearer_auth(&self.token)
            .json(&receipt_body(id))
            .send()
            .await?;
        let code = r.status().as_u16();
        Ok((code, r.json().await.unwrap_or(Value::Null)))
    }

    async fn check_status(
        &self,
        id: &str,
        wait: Option<u64>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut req = self
            .http
            .get(format!("http://{}/v1.0/operations/checkStatus", self.base))
            .bearer_auth(&self.token)
            .query(&[("operationId", id)]);
        if let Some(wait) = wait {
            req = req.query(&[("wait", wait)]);
        }
        let r = req.send().await?;
        let code = r.status().as_u16();
        Ok((code, r.json().await.unwrap_or(Value::Null)))
    }

    /// Long-polls until the operation leaves status 1; returns the final status (null when
    /// the gateway does not know the operation).
    async fn settled(&self, id: &str) -> Value {
        loop {
            let (code, body) = self.check_status(id, Some(30)).await.expect("checkStatus");
            if code != 200 {
                eprintln!("checkStatus {id}: {code} {body}");
                return Value::Null;
            }
            if body["status"] != 1 {
                return body["status"].clone();
            }
        }
    }
}

/// Latencies of one measurement.
struct Sample {
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Sample {
    fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        quantile(&sorted, q)
    }

    fn row(&self, what: &str) -> String {
        format!(
            "{what:<44} {:>7} {:>10.0} {:>10} {:>10}  {}",
            self.count,
            self.count as f64 / self.elapsed.as_secs_f64(),
            ms(self.quantile(0.50)),
            ms(self.quantile(0.99)),
            if self.failures == 0 {
                String::new()
            } else {
                format!("{} failed", self.failures)
            }
        )
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Runs `total` requests from `clients` tasks; `request(i)` is the i-th; `Ok` when it
/// succeeded.
async fn load<F, Fut>(clients: usize, total: usize, request: F) -> Sample
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let request = Arc::new(request);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let next = next.clone();
        let request = request.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                let ok = request(i).await;
                latencies.push(t.elapsed());
                if !ok {
                    failures += 1;
                }
            }
            (latencies, failures)
        });
    }
    let mut sample = Sample {
        count: total,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(total),
        failures: 0,
    };
    while let Some(done) = tasks.join_next().await {
        let (latencies, failures) = done.expect("client task");
        sample.latencies.extend(latencies);
        sample.failures += failures;
    }
    sample.elapsed = started.elapsed();
    sample
}

/// (c), gateway side: one receipt at a time, POST then long-poll until status 2. Returns the
/// end-to-end times and the times to the POST's answer.
async fn sequential_http(client: &Client, receipts: usize) -> (Vec<Duration>, Vec<Duration>) {
    let mut times = Vec::with_capacity(receipts);
    let mut acks = Vec::with_capacity(receipts);
    for i in 0..WARM_UP + receipts {
        let id = format!("seq-{i}");
        let t = Instant::now();
        let (code, body) = client.form_receipt(&id).await.unwrap_or_else(|e| {
            let log = std::fs::read_to_string(&client.log).unwrap_or_default();
            panic!(
                "formReceipt {id} after {:.2?}: {e:?}\nserver log:\n{log}",
                t.elapsed()
            )
        });
        let acked = t.elapsed();
        assert_eq!(code, 200, "formReceipt {id}: {body}");
        let status = if body["status"] == 1 {
            client.settled(&id).await
        } else {
            body["status"].clone()
        };
        let took = t.elapsed();
        assert_eq!(status, 2, "operation {id} ended in status {status}");
        if i >= WARM_UP {
            times.push(took);
            acks.push(acked);
        }
    }
    (times, acks)
}

/// (c), driver side: what the worker does per receipt (0x10 status, snapshot, fiscalize) on
/// the register `serve --emulator` uses: an in-process emulator with a state file, reached
/// over an in-memory stream, standard link layer, the worker's options.
async fn sequential_driver(dir: &Path, receipts: usize) -> Vec<Duration> {
    let emu = Emulator::new(EmulatorConfig {
        state_file: Some(dir.join("emulator.json")),
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let options = RegisterOptions {
        link: LinkLayerChoice::Standard,
        answer_timeout_cap: Some(Duration::from_secs(5)),
        ..RegisterOptions::default()
    };
    let mut r = Register::connect(Transport::Stream(Box::new(emu.in_memory())), options)
        .await
        .expect("connect");
    let (receipt, taxes, cashier) = common::sample();
    let mut times = Vec::with_capacity(receipts);
    for i in 0..WARM_UP + receipts {
        let t = Instant::now();
        let status = r.status().await.expect("status");
        if !matches!(status.readiness, Readiness::Ready) {
            r.open_shift(&cashier).await.expect("open shift");
        }
        r.snapshot().await.expect("snapshot");
        r.fiscalize(&receipt, &taxes, Some(&cashier))
            .await
            .expect("fiscalize");
        if i >= WARM_UP {
            times.push(t.elapsed());
        }
    }
    times
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    quantile(times, 0.5)
}

#[tokio::main]
async fn main() {
    let receipts = env_usize("BENCH_RECEIPTS", 2000);
    let statuses = env_usize("BENCH_STATUS", 20_000);
    let sequential = env_usize("BENCH_SEQUENTIAL", 200);
    let clients = env_usize("BENCH_CLIENTS", 64).max(1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(&dir.path().join("serve"));
    let client = Client::new(&server, clients);
    println!(
        "fiscal-gateway serve --emulator on {} ({} build), data in {}",
        server.base,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        dir.path().display()
    );

    // (c) first, on a fresh register, then the driver alone on another fresh one.
    let (mut e2e, mut seq_acks) = sequential_http(&client, sequential).await;
    let driver_dir = dir.path().join("driver");
    std::fs::create_dir_all(&driver_dir).expect("driver directory");
    let mut alone = sequential_driver(&driver_dir, sequential).await;

    // (a) 64 clients, each request a new operation.
    let c = client.clone();
    let acks = load(clients, receipts, move |i| {
        let c = c.clone();
        async move {
            match c.form_receipt(&format!("load-{i}")).await {
                Ok((code, body)) => code == 200 && (body["status"] == 1 || body["status"] == 2),
                Err(e) => {
                    eprintln!("formReceipt load-{i}: {e:?}");
                    false
                }
            }
        }
    })
    .await;
    let drain_started = Instant::now();
    let mut not_done = 0;
    for i in 0..receipts {
        if client.settled(&format!("load-{i}")).await != 2 {
            not_done += 1;
        }
    }
    let all_fiscalized = acks.elapsed + drain_started.elapsed();

    // (b) 64 clients over the ids of (a), all finished by now, no long poll.
    let c = client.clone();
    let status_sample = load(clients, statuses, move |i| {
        let c = c.clone();
        async move {
            match c
                .check_status(&format!("load-{}", i % receipts.max(1)), None)
                .await
            {
                Ok((code, body)) => code == 200 && body["status"] == 2,
                Err(e) => {
                    eprintln!("checkStatus: {e:?}");
                    false
                }
            }
        }
    })
    .await;

    println!();
    println!(
        "{:<44} {:>7} {:>10} {:>10} {:>10}",
        "measure", "count", "per second", "p50", "p99"
    );
    println!(
        "{}",
        acks.row(&format!("(a) formReceipt acknowledged, {clients} clients"))
    );
    println!(
        "{:<44} {:>7} {:>10.0}  {}",
        "    … and fiscalized by the register",
        receipts,
        receipts as f64 / all_fiscalized.as_secs_f64(),
        if not_done == 0 {
            format!("(all done in {:.2?})", all_fiscalized)
        } else {
            format!("({not_done} not in status 2)")
        }
    );
    println!(
        "{}",
        status_sample.row(&format!("(b) checkStatus, {clients} clients"))
    );
    let e2e_median = median(&mut e2e);
    let alone_median = median(&mut alone);
    println!("(c) one receipt at a time, {sequential} receipts after {WARM_UP} warm-up, medians:");
    println!(
        "    POST formReceipt → checkStatus(wait) says 2  {:>10}  (p99 {})",
        ms(e2e_median),
        ms(quantile(&e2e, 0.99))
    );
    println!(
        "      of which the POST's answer                {:>10}  (p99 {})",
        ms(median(&mut seq_acks)),
        ms(quantile(&seq_acks, 0.99))
    );
    println!(
        "    driver alone (status, snapshot, fiscalize)   {:>10}  (p99 {})",
        ms(alone_median),
        ms(quantile(&alone, 0.99))
    );
    println!(
        "    gateway overhead per receipt                 {:>10}",
        ms(e2e_median.saturating_sub(alone_median))
    );
}
