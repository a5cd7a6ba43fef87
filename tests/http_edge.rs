//! The HTTP edge of the real binary (`serve --emulator`): idle connections beyond the limit
//! neither lock clients out nor keep SIGTERM from stopping the process; a foreign `Host` is
//! 421; the token-free pages show nothing an operation could be traced by.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{raw_http, seed_receipt, until, DevGateway};

/// The default `server.max_connections`.
const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// More than that.
const IDLE_CONNECTIONS: usize = 300;

/// Sockets the process `pid` has open.
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(usize::MAX)
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_beyond_the_limit_neither_lock_out_health_nor_stop_sigterm() {
    let mut gateway = DevGateway::start();
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        // No bytes, no token: what exhausted the descriptors before.
        idle.push(tokio::net::TcpStream::connect(&gateway.base).await.unwrap());
    }
    let pos = gateway.pos();
    let health: Value = until("GET /health answers beside the idle connections", || {
        let pos = pos.clone();
        async move {
            let r = pos
                .http
                .get(format!("http://{}/health", pos.base))
                .send()
                .await
                .ok()?;
            (r.status() == 200).then_some(())?;
            r.json().await.ok()
        }
    })
    .await;
    assert_eq!(health["status"], "ok", "{health}");
    // The connections beyond the limit were closed, not kept: the daemon holds at most the
    // limit's worth of sockets (plus its listener and a few of its own).
    let pid = gateway.proc.child.id();
    until(
        "the gateway holds no more sockets than max_connections",
        || {
            let sockets = open_sockets(pid);
            async move { (sockets <= DEFAULT_MAX_CONNECTIONS + 8).then_some(()) }
        },
    )
    .await;

    // SIGTERM stops it promptly although hundreds of clients never said a word.
    let pid = nix::unistd::Pid::from_raw(gateway.proc.child.id() as i32);
    let asked = Instant::now();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = until("the gateway exits after SIGTERM", || {
        let exited = gateway.proc.child.try_wait().unwrap();
        async move { exited }
    })
    .await;
    let took = asked.elapsed();
    assert_eq!(status.code(), Some(0), "{}", gateway.log());
    assert!(
        took < Duration::from_secs(15),
        "SIGTERM took {took:?}:\n{}",
        gateway.log()
    );
    drop(idle);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_host_is_421_and_loopback_is_served() {
    let gateway = DevGateway::start();
    let port = gateway.base.rsplit(':').next().unwrap().to_string();
    for host in [
        "evil.example",
        "attacker.example:80",
        "localhost.evil.example",
    ] {
        for path in [
            "/health",
            "/",
            "/metrics",
            "/v1.0/operations/checkStatus?operationId=x",
        ] {
            let answer = raw_http(
                &gateway.base,
                &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            assert!(
                answer.starts_with("HTTP/1.1 421"),
                "{path} with Host {host}: {answer}"
            );
            assert!(answer.contains("MISDIRECTED_REQUEST"), "{answer}");
        }
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".to_string(),
    ] {
        let answer = raw_http(
            &gateway.base,
            &format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "Host {host}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn token_free_pages_show_no_operation_fiscal_sign_or_buyer() {
    let gateway = DevGateway::start();
    let pos = gateway.pos();
    let mut receipt = seed_receipt("private-op-77");
    receipt["buyerEmail"] = "secret.buyer@example.com".into();
    receipt["buyerPhoneNumber"] = "+7 912 345-67-89".into();
    let (code, body) = pos.post("formReceipt", &receipt).await;
    assert_eq!(code, 200, "{body}");
    let done = pos.settled("private-op-77").await;
    assert_eq!(done["status"], 2, "{done}");
    let sign = done["fiscalParams"]["fiscalDocumentSign"]
        .as_str()
        .unwrap()
        .to_string();
    let fd = done["fiscalParams"]["fiscalDocumentNumber"].to_string();

    for path in ["/", "/health", "/metrics"] {
        let page = reqwest::get(format!("http://{}{path}", gateway.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for private in [
            "private-op-77",
            sign.as_str(),
            "secret.buyer@example.com",
            "9123456789",
            "ФПД",
        ] {
            assert!(!page.contains(private), "{path} shows {private}:\n{page}");
        }
        if path == "/" {
            assert!(!page.contains(&format!("FD {fd}")), "{page}");
            assert!(page.contains("<td>receipt</td><td>done</td>"), "{page}");
        }
    }
}
