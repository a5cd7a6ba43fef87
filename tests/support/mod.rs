//! Shared harness for the end-to-end tests: the built `fiscal-gateway` binary run as a real
//! process — once as a virtual register on a pty (`fiscal-gateway emulator --pty`), once as the
//! gateway (`fiscal-gateway serve --config`) — and an HTTP client that speaks to it like a POS.
//!
//! Nothing here sleeps to synchronise: processes announce readiness on stdout, and waits on
//! operations use the API's own long poll.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// How long a process may take to announce itself (a cold debug binary on a busy machine).
const START_LIMIT: Duration = Duration::from_secs(60);

/// The HS256 secret every test gateway is configured with.
pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";

/// The cashbox id of the test register (the one in the API's example request).
pub const CASHBOX: &str = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fiscal-gateway"))
}

/// A child process whose stdout lines arrive on a channel (so a test can wait for a line
/// with a bound), killed when dropped.
pub struct Proc {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub name: &'static str,
}

impl Proc {
    pub fn spawn(name: &'static str, mut cmd: Command, stderr_log: &Path) -> Proc {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_log)
            .unwrap();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            child,
            lines: rx,
            name,
        }
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    pub fn wait_line(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + START_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => {
                    return line[prefix.len()..].trim().to_string()
                }
                Ok(_) => continue,
                Err(e) => panic!("{}: no line starting with {prefix:?} ({e})", self.name),
            }
        }
    }

    /// SIGKILL, as a power failure of the PC or the OOM killer would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtual register as its own process on a pty, with a control socket.
pub struct Register {
    pub proc: Proc,
    /// A stable path to the pty slave (a symlink), as a udev rule would give.
    pub tty: PathBuf,
    pub control: PathBuf,
    pub state: PathBuf,
}

impl Register {
    /// Starts `fiscal-gateway emulator --pty` in `dir` with `extra` arguments.
    pub fn start(dir: &Path, extra: &[&str]) -> Register {
        let tty = dir.join("tty-register");
        let control = dir.join("register.sock");
        let state = dir.join("register-state.json");
        let mut cmd = Command::new(bin());
        cmd.arg("emulator")
            .arg("--pty")
            .arg("--link")
            .arg(&tty)
            .arg("--state")
            .arg(&state)
            .arg("--control")
            .arg(&control)
            .args(extra);
        let proc = Proc::spawn("emulator", cmd, &dir.join("emulator.log"));
        let _ = proc.wait_line("");
        Register {
            proc,
            tty,
            control,
            state,
        }
    }

    /// Sends one control command and returns the reply (everything up to the empty line or EOF).
    pub fn control(&self, command: &str) -> String {
        let mut s = UnixStream::connect(&self.control).unwrap();
        s.set_read_timeout(Some(START_LIMIT)).unwrap();
        s.write_all(command.as_bytes()).unwrap();
        s.write_all(b"\n").unwrap();
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// Waits until a power cut armed with `power-cut …` has struck (the register's status no
    /// longer shows it armed).
    pub async fn power_cut_struck(&self) {
        until("the armed power cut to strike", || async {
            let status: Value = serde_json::from_str(self.control("status").trim()).ok()?;
            status["armed_power_cut"].is_null().then_some(())
        })
        .await
    }

    /// The FN archive as JSON documents.
    pub fn archive(&self) -> Vec<Value> {
        self.control("archive")
            .lines()
            .filter(|l| l.trim_start().starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The FN archive's documents of one form (`doc_type`: 3 receipt, 31 correction, …).
    pub fn documents(&self, doc_type: u64) -> Vec<Value> {
        self.archive()
            .into_iter()
            .filter(|d| d["doc_type"] == doc_type)
            .collect()
    }

    /// What the register has printed on its tape so far (empty before the first print).
    pub fn tape(&self) -> String {
        std::fs::read_to_string(format!("{}.tape.txt", self.state.display())).unwrap_or_default()
    }
}

/// Options for a test gateway's configuration.
pub struct GatewayOptions {
    pub deadline_seconds: u64,
    pub extra_toml: String,
    /// Keys of the register's own table (before `[registers.transport]`).
    pub register_toml: String,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            deadline_seconds: 600,
            extra_toml: String::new(),
            register_toml: String::new(),
        }
    }
}

/// Writes a configuration for one register on `tty` and returns its path.
pub fn write_config(dir: &Path, tty: &Path, options: &GatewayOptions) -> PathBuf {
    let path = dir.join("gateway.toml");
    let text = format!(
        r#"[server]
listen = "127.0.0.1:0"
max_wait_seconds = 60

[auth]
hs256_secret = "{SECRET}"

[storage]
data_dir = "{data}"

[operations]
deadline_seconds = {deadline}

[[registers]]
id = "{CASHBOX}"
juridical_person_id = "0c7d7d0a-1111-4a4a-9b9b-000000000001"
link_layer = "standard"
utc_offset = "+03:00"
cashier_name = "Тестова Т.Т."
{register}
[registers.transport]
kind = "serial"
path = "{tty}"
baud = 115200
{extra}
"#,
        data = dir.join("data").display(),
        deadline = options.deadline_seconds,
        tty = tty.display(),
        extra = options.extra_toml,
        register = options.register_toml,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The gateway as a real process.
pub struct Gateway {
    pub proc: Proc,
    pub base: String,
    pub config: PathBuf,
    dir: PathBuf,
}

impl Gateway {
    /// Starts `fiscal-gateway serve --config` and waits until it listens.
    pub fn start(dir: &Path, config: &Path) -> Gateway {
        Gateway::start_with_env(dir, config, &[])
    }

    /// Starts it with extra environment variables.
    pub fn start_with_env(dir: &Path, config: &Path, env: &[(&str, &str)]) -> Gateway {
        let mut cmd = Command::new(bin());
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied());
        let proc = Proc::spawn("gateway", cmd, &dir.join("gateway.log"));
        let addr = proc.wait_line("listening on http://");
        Gateway {
            proc,
            base: addr,
            config: config.to_path_buf(),
            dir: dir.to_path_buf(),
        }
    }

    /// Starts it again with the same configuration (after a kill).
    pub fn restart(&mut self) {
        self.proc.kill();
        *self = Gateway::start(&self.dir.clone(), &self.config.clone());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("gateway.log")).unwrap_or_default()
    }
}

/// A virtual register on a pty, a gateway configured for it, and a POS client.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub register: Register,
    pub gateway: Gateway,
    pub pos: Pos,
}

impl Rig {
    pub fn start(options: GatewayOptions) -> Rig {
        Rig::start_with_env(options, |_| Vec::new())
    }

    /// With extra environment variables for the gateway, made from the rig's directory.
    pub fn start_with_env(
        options: GatewayOptions,
        env: impl FnOnce(&Path) -> Vec<(String, String)>,
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let register = Register::start(dir.path(), &[]);
        let config = write_config(dir.path(), &register.tty, &options);
        let env = env(dir.path());
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let gateway = Gateway::start_with_env(dir.path(), &config, &env);
        let pos = Pos::new(&gateway.base);
        Rig {
            dir,
            register,
            gateway,
            pos,
        }
    }

    /// With `operations.deadline_seconds` set.
    pub fn with_deadline(deadline_seconds: u64) -> Rig {
        Rig::start(GatewayOptions {
            deadline_seconds,
            ..GatewayOptions::default()
        })
    }
}

/// Polls `probe` until it gives a value (the gateway works meanwhile); panics after a minute.
pub async fn until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1200 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

/// A JWT signed with the test secret, valid for an hour, with optional extra claims.
pub fn token(extra: Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"sub": "pos-1", "iat": now, "exp": now + 3600});
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// A POS-like HTTP client.
#[derive(Clone)]
pub struct Pos {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Pos {
    pub fn new(base: &str) -> Pos {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        Pos {
            http,
            base: base.to_string(),
            token: token(json!({})),
        }
    }

    /// POSTs `body` to `/v1.0/operations/{op}`; returns status and JSON body.
    pub async fn post(&self, op: &str, body: &Value) -> (u16, Value) {
        self.try_post(op, body).await.unwrap()
    }

    pub async fn try_post(&self, op: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        let r = self
            .http
            .post(format!("http://{}/v1.0/operations/{op}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        let status = r.status().as_u16();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// checkStatus with a long poll of `wait` seconds.
    pub async fn status(&self, id: &str, wait: u64) -> (u16, Value) {
        self.try_status(id, wait).await.unwrap()
    }

    pub async fn try_status(&self, id: &str, wait: u64) -> Result<(u16, Value), reqwest::Error> {
        let r = self
            .http
            .get(format!("http://{}/v1.0/operations/checkStatus", self.base))
            .query(&[("operationId", id), ("wait", &wait.to_string())])
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = r.status().as_u16();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Long-polls until the operation leaves status 1 (bounded by `rounds` polls of 30 s).
    pub async fn settled(&self, id: &str) -> Value {
        for _ in 0..10 {
            let (code, body) = self.status(id, 30).await;
            assert_eq!(code, 200, "checkStatus {id}: {body}");
            if body["status"] != 1 {
                return body;
            }
        }
        panic!("operation {id} still in status 1 after 300 s");
    }
}

/// The API's own example receipt (smart-cashier-api-v1.0.1, formReceipt) with another id.
pub fn seed_receipt(id: &str) -> Value {
    json!({
        "operationId": id,
        "receiptType": 1,
        "printReceipt": true,
        "taxationSystem": 2,
        "buyerEmail": "customer@example.com",
        "buyerPhoneNumber": "",
        "positions": [
            {"name": "Молоко коровье", "quantity": 3, "price": 70, "taxType": 3},
            {"name": "Хлеб ржаной", "quantity": 2, "price": 30, "taxType": 3}
        ],
        "cashPaymentSum": 200,
        "cashlessPaymentSum": 70,
        "totalSum": 270,
        "juridicalPersonId": "",
        "cashboxGroupId": "",
        "cashboxId": CASHBOX
    })
}

/// A one-item cash receipt whose total (in kopecks) identifies it in the FN archive.
pub fn receipt_with_total(id: &str, kopecks: u64) -> Value {
    let price = format!("{}.{:02}", kopecks / 100, kopecks % 100);
    let price: Value = serde_json::from_str(&price).unwrap();
    json!({
        "operationId": id,
        "receiptType": 1,
        "printReceipt": true,
        "taxationSystem": 2,
        "positions": [{"name": "Товар", "quantity": 1, "price": price, "taxType": 3}],
        "cashPaymentSum": price,
        "cashlessPaymentSum": 0,
        "totalSum": price,
        "cashboxId": CASHBOX
    })
}

/// `fiscal-gateway serve --emulator` (one built-in virtual register, no configuration) on a
/// free port, with its development token.
pub struct DevGateway {
    pub proc: Proc,
    pub base: String,
    /// The SmartOne line: `ADDR merchantID=ID`.
    pub smartone: String,
    /// The CashDesk line: `URL num_fiscal=N api_token=TOKEN`.
    pub cashdesk: String,
    pub token: String,
    pub dir: tempfile::TempDir,
}

impl DevGateway {
    pub fn start() -> DevGateway {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(bin());
        cmd.arg("serve")
            .arg("--emulator")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--smartone-listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "info");
        let proc = Proc::spawn("gateway", cmd, &dir.path().join("gateway.log"));
        let base = proc.wait_line("listening on http://");
        let smartone = proc.wait_line("smartone: http://");
        let cashdesk = proc.wait_line("cashdesk: ");
        let token = proc.wait_line("development token:");
        DevGateway {
            proc,
            base,
            smartone,
            cashdesk,
            token,
            dir,
        }
    }

    /// A POS client with the development token.
    pub fn pos(&self) -> Pos {
        Pos {
            token: self.token.clone(),
            ..Pos::new(&self.base)
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gateway.log")).unwrap_or_default()
    }
}

/// Sends raw bytes on a new connection and returns everything the gateway answers until it
/// closes the connection (the request should say `Connection: close`).
pub async fn raw_http(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(base).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(START_LIMIT, stream.read_to_end(&mut answer))
        .await
        .expect("the gateway kept the connection open")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// A JSON array of numbers (bytes as the emulator's archive gives them) as bytes.
pub fn json_bytes(v: &Value) -> Vec<u8> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
        .collect()
}
