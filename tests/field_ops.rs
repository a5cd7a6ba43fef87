//! What the technician and the shop live with after installation: the test page, `config
//! check` on the shipped example and on a mistake, the register unplugged and plugged back
//! while operations wait, and JSON logs that tell each operation's life without secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{
    bin, receipt_with_total, seed_receipt, until, write_config, Gateway, GatewayOptions, Pos,
    Register, Rig, SECRET,
};

#[test]
fn the_test_page_prints_and_makes_no_fiscal_document() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &[]);
    let out = Command::new(bin())
        .args([
            "selftest",
            "--print-test-page",
            "--baud",
            "115200",
            "--port",
        ])
        .arg(&register.tty)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(table.contains('✓'), "{table}");
    let tape = register.tape();
    assert!(tape.contains("ТЕСТОВАЯ СТРАНИЦА"), "{tape}");
    assert!(tape.contains("Не является фискальным документом"), "{tape}");
    let archive = register.archive();
    assert_eq!(archive.len(), 1, "only the registration: {archive:?}");
}

#[test]
fn config_check_accepts_the_example_and_names_the_key_of_a_mistake() {
    // The example as a technician installs it: the POS public key at the path it names.
    let dir = tempfile::tempdir().unwrap();
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/gateway-http/tests/keys/ec-public.pem"
    );
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/fiscal-gateway.toml"
    ))
    .unwrap()
    .replace("/etc/fiscal-gateway/pos-public-key.pem", key);
    assert!(
        text.contains(key),
        "the example names a POS public key file"
    );
    let example = dir.path().join("fiscal-gateway.toml");
    std::fs::write(&example, &text).unwrap();
    let out = Command::new(bin())
        .args(["config", "check"])
        .arg(&example)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let text = text.replacen("baud = ", "baud = 12345 #", 1);
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, text).unwrap();
    let out = Command::new(bin())
        .args(["config", "check"])
        .arg(&broken)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("registers[0].transport.baud"), "{stderr}");
    assert!(stderr.contains("12345"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_register_unplugged_and_back_finishes_what_waited() {
    let dir = tempfile::tempdir().unwrap();
    let mut register = Register::start(dir.path(), &[]);
    let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
    let gateway = Gateway::start(dir.path(), &config);
    let pos = Pos::new(&gateway.base);
    pos.post("formReceipt", &receipt_with_total("plug-1", 1111))
        .await;
    assert_eq!(pos.settled("plug-1").await["status"], 2);

    // Unplugged: the device node disappears.
    register.proc.kill();
    let (code, _) = pos
        .post("formReceipt", &receipt_with_total("plug-2", 2222))
        .await;
    assert_eq!(code, 200, "accepted while the register is away");
    let (_, body) = pos.status("plug-2", 0).await;
    assert_eq!(body["status"], 1, "{body}");

    // Plugged back: the same node name, the same FN.
    register = Register::start(dir.path(), &[]);
    assert_eq!(pos.settled("plug-2").await["status"], 2);
    let totals: Vec<u64> = register
        .archive()
        .iter()
        .filter(|d| d["doc_type"] == 3)
        .map(|d| d["total"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, vec![1111, 2222]);
    let log = gateway.log();
    assert!(log.contains("link to the register lost"), "{log}");
    assert!(
        log.matches("register connected").count() >= 2,
        "the reconnection is logged: {log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_tell_each_operation_without_secrets() {
    let Rig { gateway, pos, .. } = &Rig::start(GatewayOptions {
        extra_toml: "\n[logging]\njson = true\n".into(),
        ..GatewayOptions::default()
    });
    let mut receipt = seed_receipt("log-1");
    receipt["buyerEmail"] = "ivan.petrov@example.com".into();
    pos.post("formReceipt", &receipt).await;
    let done = pos.settled("log-1").await;
    assert_eq!(done["status"], 2, "{done}");

    let log = gateway.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let life: Vec<String> = lines
        .iter()
        .filter(|l| l["fields"]["operation"] == "log-1")
        .map(|l| {
            assert_eq!(l["fields"]["register"], support::CASHBOX, "{l}");
            l["fields"]["message"].as_str().unwrap().to_string()
        })
        .collect();
    for step in ["operation submitted", "sent to the register", "done"] {
        assert_eq!(
            life.iter().filter(|m| m.as_str() == step).count(),
            1,
            "one {step:?} line: {life:?}"
        );
    }
    for secret in [
        SECRET,
        pos.token.as_str(),
        "ivan.petrov@example.com",
        "petrov",
    ] {
        assert!(!log.contains(secret), "{secret:?} leaked into the log");
    }
}

async fn metric(base: &str, family: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(&format!("{family}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Nothing to do, and still the gateway keeps looking: a shift opened before it restarted is
/// found in the FN archive and closed before its 24 hours run out; the OFD backlog and a cover
/// opened while idle show on /metrics.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_register_is_watched_and_an_inherited_shift_is_closed_before_24h() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &["--ofd-unsent-days", "5"]);
    let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("cashier_name =", "watch_seconds = 1\ncashier_name =", 1),
    )
    .unwrap();
    {
        let mut first = Gateway::start(dir.path(), &config);
        let pos = Pos::new(&first.base);
        pos.post("formReceipt", &receipt_with_total("w-1", 100))
            .await;
        assert_eq!(pos.settled("w-1").await["status"], 2);
        assert_eq!(first.proc.terminate(), Some(0));
    }
    // 23 h 55 min later by the register's clock: inside the 10-minute margin.
    register.control("clock-offset 1435");
    let gateway = Gateway::start(dir.path(), &config);
    let closed = until("the inherited shift is closed", || async {
        register.archive().into_iter().find(|d| d["doc_type"] == 5)
    })
    .await;
    assert_eq!(closed["shift_number"], 1, "{closed}");
    // The worker logs it after the register's answer, a moment after the FN has it.
    until("the gateway logs the Z report", || async {
        gateway
            .log()
            .contains("shift closed (Z report)")
            .then_some(())
    })
    .await;

    let unsent = until("the OFD backlog is read", || {
        metric(&gateway.base, "fiscal_ofd_unsent_documents")
    })
    .await;
    assert!(unsent >= 1.0, "{unsent}");
    assert_eq!(metric(&gateway.base, "fiscal_cover_open").await, Some(0.0));
    let health = |base: String| async move {
        reqwest::get(format!("http://{base}/health"))
            .await
            .ok()?
            .json::<serde_json::Value>()
            .await
            .ok()
    };
    let ready = health(gateway.base.clone()).await.unwrap();
    assert_eq!(ready["registers"][0]["ready"], true, "{ready}");
    register.control("cover open");
    until("the open cover shows while idle", || async {
        (metric(&gateway.base, "fiscal_cover_open").await == Some(1.0)).then_some(())
    })
    .await;
    // A POS looks before it takes the card.
    let not_ready = health(gateway.base.clone()).await.unwrap();
    let register_health = &not_ready["registers"][0];
    assert_eq!(register_health["cashboxId"], support::CASHBOX);
    assert_eq!(register_health["ready"], false, "{not_ready}");
    assert_eq!(register_health["errorCode"], "COVER_OPEN", "{not_ready}");
    assert_eq!(register_health["errorMessage"], "Открыта крышка.");
}

/// Under systemd (`Type=notify`): READY once it listens, watchdog pings while it works,
/// STOPPING when asked to stop, then a clean exit.
#[test]
fn systemd_hears_ready_watchdog_pings_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &[]);
    let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut gateway = Gateway::start_with_env(
        dir.path(),
        &config,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let heard = |want: &str| {
        let mut buf = [0u8; 512];
        loop {
            let n = socket.recv(&mut buf).expect("a notification in time");
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            if text.lines().any(|l| l == want) {
                return;
            }
        }
    };
    heard("READY=1");
    heard("WATCHDOG=1");
    heard("WATCHDOG=1");
    let pid = nix::unistd::Pid::from_raw(gateway.proc.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    heard("STOPPING=1");
    assert_eq!(gateway.proc.child.wait().unwrap().code(), Some(0));
}

/// The newcomer's path: `serve --emulator` with no configuration prints an address and a
/// development token that works at once; the secret behind it is readable by its owner only.
#[tokio::test(flavor = "multi_thread")]
async fn serve_with_the_built_in_register_works_out_of_the_box() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut cmd = Command::new(bin());
    cmd.args([
        "serve",
        "--emulator",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
    ])
    .arg(&data);
    let proc = support::Proc::spawn("serve --emulator", cmd, &dir.path().join("serve.log"));
    let base = proc.wait_line("listening on http://");
    let token = proc.wait_line("development token: ");
    let mode = std::fs::metadata(data.join("dev-secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the signing secret is private: {mode:o}");
    let mut pos = Pos::new(&base);
    pos.token = token;
    let (code, body) = pos.post("formReceipt", &seed_receipt("dev-1")).await;
    assert_eq!(code, 200, "{body}");
    let done = pos.settled("dev-1").await;
    assert_eq!(done["status"], 2, "{done}");
    assert_eq!(done["fiscalParams"]["fiscalDocumentNumber"], 3, "{done}");
}
