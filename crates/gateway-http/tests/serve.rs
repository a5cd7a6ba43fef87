//! The server's bounds, over real sockets on 127.0.0.1:0: a client that sends nothing, trickles
//! a header or idles after an answer is closed; more connections than the limit push out the
//! longest-idle one (or, when all are busy, get a 503 at once); shutdown does not wait on idle
//! clients and waits at most the grace on busy ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use gateway_http::{serve, ServeLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Notify};

/// Longest any single step may take before the test fails (a busy 2-core machine).
const BOUND: Duration = Duration::from_secs(20);

struct Server {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    /// Released to let `/slow` requests finish.
    release: Arc<Notify>,
    /// One message per `/slow` request that reached its handler.
    entered: tokio::sync::mpsc::UnboundedReceiver<()>,
}

fn limits(max_connections: usize, header_ms: u64, idle_ms: u64, grace_ms: u64) -> ServeLimits {
    ServeLimits {
        max_connections,
        header_timeout: Duration::from_millis(header_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        shutdown_grace: Duration::from_millis(grace_ms),
    }
}

async fn start(limits: ServeLimits) -> Server {
    let release = Arc::new(Notify::new());
    let wait = Arc::clone(&release);
    let (enter, entered) = tokio::sync::mpsc::unbounded_channel();
    let router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/slow",
            get(move || {
                let wait = Arc::clone(&wait);
                let _ = enter.send(());
                async move {
                    wait.notified().await;
                    "finally"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, router, limits, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        stop: Some(stop),
        done,
        release,
        entered,
    }
}

impl Server {
    /// Waits until `n` more `/slow` requests are in their handler.
    async fn slow_in_flight(&mut self, n: usize) {
        for _ in 0..n {
            tokio::time::timeout(BOUND, self.entered.recv())
                .await
                .expect("the slow request never reached its handler");
        }
    }

    async fn stop(&mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(BOUND, &mut self.done)
            .await
            .expect("serve did not return")
            .unwrap();
        started.elapsed()
    }
}

/// Reads until the peer closes; the bytes read.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(BOUND, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the server kept the connection open: {:?}",
                String::from_utf8_lossy(&out)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

async fn get_health(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    until_closed(&mut s).await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let mut server = start(limits(8, 60_000, 300, 1000)).await;
    let opened = Instant::now();
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(until_closed(&mut s).await, "");
    assert!(opened.elapsed() >= Duration::from_millis(300));
    server.stop().await;
}

#[tokio::test]
async fn a_trickled_header_is_closed_after_the_header_timeout() {
    let mut server = start(limits(8, 300, 60_000, 1000)).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    until_closed(&mut s).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(
        took < Duration::from_secs(30),
        "not the idle timeout: {took:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_keep_alive_connection_is_closed_when_idle_after_its_answer() {
    let mut server = start(limits(8, 60_000, 300, 1000)).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn more_idle_connections_than_the_limit_do_not_lock_clients_out() {
    let mut server = start(limits(4, 60_000, 60_000, 1000)).await;
    let mut idle = Vec::new();
    for _ in 0..12 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    for _ in 0..3 {
        let answer = get_health(server.addr).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // The oldest idle connections were closed to make room.
    assert_eq!(until_closed(&mut idle[0]).await, "");
    let took = server.stop().await;
    assert!(
        took < Duration::from_secs(1),
        "shutdown waited on idle clients: {took:?}"
    );
}

#[tokio::test]
async fn when_every_connection_is_busy_a_new_one_gets_503_at_once() {
    let mut server = start(limits(2, 60_000, 60_000, 5000)).await;
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        busy.push(s);
    }
    server.slow_in_flight(2).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let refused = until_closed(&mut third).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("TOO_MANY_CONNECTIONS"), "{refused}");
    assert!(refused.contains("\"field\":null"), "{refused}");
    server.release.notify_waiters();
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_idle_clients_at_once_and_busy_ones_after_the_grace() {
    let mut server = start(limits(64, 60_000, 60_000, 500)).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(b"GET /hea").await.unwrap();
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    server.slow_in_flight(1).await;
    let took = server.stop().await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    for s in idle.iter_mut().chain([&mut partial, &mut slow]) {
        until_closed(s).await;
    }
    // Nobody listens any more.
    assert!(TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test]
async fn timeouts_beyond_the_clock_mean_never_not_a_panic() {
    let mut server = start(ServeLimits {
        max_connections: 4,
        header_timeout: Duration::MAX,
        idle_timeout: Duration::MAX,
        shutdown_grace: Duration::from_millis(500),
    })
    .await;
    let _idle = TcpStream::connect(server.addr).await.unwrap();
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(b"GET /hea").await.unwrap();
    assert!(get_health(server.addr).await.starts_with("HTTP/1.1 200"));
    let took = server.stop().await;
    assert!(took < Duration::from_secs(5), "{took:?}");
}
