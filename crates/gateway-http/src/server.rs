//! Serving a router over HTTP/1.1 with bounds no client can get around.
//!
//! - At most [`ServeLimits::max_connections`] connections are open at once. A connection
//!   beyond that takes the place of the one that has waited longest without a request in
//!   flight (an idle keep-alive, a client that never sent a byte, a trickled header); when every
//!   open connection has a request in flight, the new one is answered 503
//!   (`TOO_MANY_CONNECTIONS`) and closed at once. Nothing waits in a queue.
//! - A request's head must arrive within [`ServeLimits::header_timeout`] of its first byte.
//! - A connection with no request in flight is closed after [`ServeLimits::idle_timeout`]
//!   (counted from its opening or from its last answer).
//! - On shutdown the listener closes, connections without a request in flight close at once,
//!   and requests in flight get [`ServeLimits::shutdown_grace`] to finish; then every
//!   connection is dropped. Shutdown never waits on a client.
//!
//! A request in flight (a checkStatus long poll, a body being read) is bounded by its handler,
//! not here.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::ApiError;

/// The bounds of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Longest time from a request's first byte to the end of its head.
    pub header_timeout: Duration,
    /// Longest time a connection stays open without a request in flight.
    pub idle_timeout: Duration,
    /// How long requests in flight may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
}

impl ServeLimits {
    /// Default of `max_connections`.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
    /// Default of `header_timeout`.
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default of `idle_timeout`.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default of `shutdown_grace`.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains as described in the
/// module documentation. Errors of single connections are logged, never returned.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let limits = ServeLimits {
        max_connections: limits.max_connections.max(1),
        ..limits
    };
    let open = Registry::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id: u64 = 0;
    // One clock origin for every connection, so their idle times compare.
    let epoch = Instant::now();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    if open.len() >= limits.max_connections && !open.evict_longest_idle() {
                        refuse(&stream, limits.max_connections);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    next_id += 1;
                    let watch = Arc::new(Watch::new(epoch));
                    open.insert(next_id, Arc::clone(&watch));
                    tasks.spawn(connection(
                        stream,
                        router.clone(),
                        watch,
                        limits,
                        stop_rx.clone(),
                        ConnSlot { open: open.clone(), id: next_id },
                    ));
                }
                Err(e) => {
                    // Out of descriptors or memory: let connections finish and close first.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = tasks.len(),
            "requests still running after the shutdown grace; closing their connections"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// Answers 503 on a connection over the limit, as far as the socket takes it without waiting,
/// and closes it.
fn refuse(stream: &TcpStream, limit: usize) {
    let error = ApiError::TooManyConnections { limit };
    let body = error.body_json();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.try_write(&[head.as_bytes(), &body].concat());
    tracing::warn!(
        limit,
        "connection refused: every connection has a request in flight"
    );
}

/// The open connections, for the limit and for eviction.
#[derive(Clone, Default)]
struct Registry(Arc<Mutex<HashMap<u64, Arc<Watch>>>>);

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Watch>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn insert(&self, id: u64, watch: Arc<Watch>) {
        self.lock().insert(id, watch);
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Closes the connection that has waited longest without a request in flight; false when
    /// every connection has one.
    fn evict_longest_idle(&self) -> bool {
        let mut open = self.lock();
        let victim = open
            .iter()
            .filter(|(_, w)| w.in_flight.load(Ordering::SeqCst) == 0)
            // Ties (the same millisecond) go to the older connection.
            .min_by_key(|(id, w)| (w.waiting_since(), **id))
            .map(|(id, _)| *id);
        match victim.and_then(|id| open.remove(&id)) {
            Some(watch) => {
                watch.evicted.store(true, Ordering::SeqCst);
                watch.changed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Removes its connection from the registry when the connection's task ends (or is aborted).
struct ConnSlot {
    open: Registry,
    id: u64,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.open.remove(self.id);
    }
}

/// What one connection is doing, shared by its task, its I/O and its requests.
struct Watch {
    /// Requests handed to the router and not yet answered.
    in_flight: AtomicUsize,
    /// Milliseconds since the server's `epoch` of the last answer (or of the opening).
    idle_since_ms: AtomicU64,
    /// Milliseconds since `epoch` (+1; 0 = none) of the first byte of a head not yet complete.
    head_started_ms: AtomicU64,
    /// The registry gave its place to a newer connection.
    evicted: AtomicBool,
    /// Something above changed: the task recomputes its deadline.
    changed: Notify,
    epoch: Instant,
}

impl Watch {
    /// A connection opened now; `epoch` is the server's clock origin.
    fn new(epoch: Instant) -> Watch {
        let watch = Watch {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
            epoch,
        };
        watch.idle_since_ms.store(watch.now_ms(), Ordering::SeqCst);
        watch
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// `ms` after the epoch plus `timeout`; `None` (never) when that is beyond the clock.
    fn at(&self, ms: u64, timeout: Duration) -> Option<Instant> {
        self.epoch
            .checked_add(Duration::from_millis(ms))?
            .checked_add(timeout)
    }

    /// Since when the connection has been without a request in flight.
    fn waiting_since(&self) -> u64 {
        self.idle_since_ms.load(Ordering::SeqCst)
    }

    /// Bytes arrived: when no request is in flight they begin a head.
    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0
            && self.head_started_ms.load(Ordering::SeqCst) == 0
        {
            let now = self.now_ms().saturating_add(1);
            if self
                .head_started_ms
                .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                self.changed.notify_one();
            }
        }
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.head_started_ms.store(0, Ordering::SeqCst);
        self.changed.notify_one();
        InFlight(Arc::clone(self))
    }

    /// When the connection is to be closed if nothing changes; `None` while a request runs.
    fn deadline(&self, limits: &ServeLimits) -> Option<Instant> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        match self.head_started_ms.load(Ordering::SeqCst) {
            0 => self.at(self.waiting_since(), limits.idle_timeout),
            started => self.at(started - 1, limits.header_timeout),
        }
    }
}

/// A request in flight; its end starts the idle clock.
struct InFlight(Arc<Watch>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let watch = &self.0;
        watch.idle_since_ms.store(watch.now_ms(), Ordering::SeqCst);
        watch.in_flight.fetch_sub(1, Ordering::SeqCst);
        watch.changed.notify_one();
    }
}

/// One connection: hyper's HTTP/1.1 state machine, its deadlines, eviction and shutdown.
async fn connection(
    stream: TcpStream,
    router: Router,
    watch: Arc<Watch>,
    limits: ServeLimits,
    mut stop: watch::Receiver<bool>,
    _slot: ConnSlot,
) {
    let io = TokioIo::new(Tracked {
        inner: stream,
        watch: Arc::clone(&watch),
    });
    let requests = Arc::clone(&watch);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = requests.request_started();
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(axum::body::Body::new)).await;
            drop(in_flight);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // The head and idle deadlines are this module's (hyper's would start while idle too).
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        if watch.evicted.load(Ordering::SeqCst) {
            tracing::debug!("connection closed to make room for a new one");
            return;
        }
        let deadline = watch.deadline(&limits);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = watch.changed.notified() => {}
            _ = sleep_until(deadline) => {
                if watch.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("connection closed: no complete request in time");
                    return;
                }
            }
            _ = stop.changed(), if !draining => {
                draining = true;
                if watch.in_flight.load(Ordering::SeqCst) == 0
                    && watch.head_started_ms.load(Ordering::SeqCst) != 0
                {
                    return;
                }
                // Idle connections close at once; one with a request finishes it and closes.
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The socket, telling its [`Watch`] when bytes arrive.
struct Tracked {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.bytes_read();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
