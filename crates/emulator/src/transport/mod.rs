//! Byte transports for the virtual register: any async stream (in-memory for tests), TCP
//! (one client at a time, a new connection replaces the old) and a pty that looks like a
//! serial port.
//!
//! Each transport is a thin pump: read bytes, hand them to the `Station` with the real
//! `Instant` and wall clock, write what comes back, wake for the link's deadlines. All
//! protocol decisions are in `link` and the device model.

mod pty;

use std::future::pending;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::handle::{wall_clock, Emulator, EmulatorError};

pub use pty::PtyHandle;

/// Pause after a failed `accept` before trying again.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

/// Size of the in-memory pipe in each direction.
const DUPLEX_BUFFER: usize = 64 * 1024;

impl Emulator {
    /// A connection to the register through an in-memory pipe; the device side runs as a
    /// task on the current tokio runtime until the returned stream is dropped. A new
    /// connection takes the line over from an older one.
    pub fn in_memory(&self) -> DuplexStream {
        self.in_memory_task().1
    }

    /// Like `in_memory`, also returning the device-side task.
    pub fn in_memory_task(&self) -> (JoinHandle<std::io::Result<()>>, DuplexStream) {
        let (host, device) = tokio::io::duplex(DUPLEX_BUFFER);
        let task = tokio::spawn(serve_stream(self.clone(), device));
        (task, host)
    }

    /// Listens on `addr` (port 0 picks one) and serves one client at a time: a new
    /// connection replaces the old, as a register's single TCP server does. Returns the
    /// bound address and the accept task.
    pub async fn serve_tcp(
        &self,
        addr: &str,
    ) -> Result<(SocketAddr, JoinHandle<()>), EmulatorError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Io {
                what: format!("bind {addr}"),
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| EmulatorError::Io {
            what: "local address".into(),
            source,
        })?;
        let emulator = self.clone();
        let task = tokio::spawn(async move {
            let mut current: Option<JoinHandle<std::io::Result<()>>> = None;
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors and the like: pause instead of spinning.
                        tracing::warn!("TCP accept: {e}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                if let Some(old) = current.take() {
                    old.abort();
                }
                tracing::info!(%peer, "host connected over TCP");
                current = Some(tokio::spawn(serve_stream(emulator.clone(), stream)));
            }
        });
        Ok((bound, task))
    }
}

/// Serves the register over one byte stream until it closes or a newer connection takes
/// over. Time comes from tokio's clock so tests may pause it.
pub async fn serve_stream<S>(emulator: Emulator, stream: S) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    serve_stream_at(emulator, stream, || None).await
}

/// [`serve_stream`] on a line whose speed the host sets: `host_baud` reads it, and bytes sent
/// at another speed than the device's are noise the device does not answer.
pub(crate) async fn serve_stream_at<S, F>(
    emulator: Emulator,
    stream: S,
    host_baud: F,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
    F: Fn() -> Option<u32> + Send,
{
    let session = {
        let mut station = emulator.station.lock();
        station.session += 1;
        station.session
    };
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = [0u8; 1024];
    loop {
        let wake = {
            let station = emulator.station.lock();
            if station.session != session {
                return Ok(());
            }
            station.next_wake()
        };
        let timer = async move {
            match wake {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => pending::<()>().await,
            }
        };
        // Reading first: bytes already waiting arrived before any deadline that has
        // passed while this task was not scheduled, so they must not be timed out.
        let out = tokio::select! {
            biased;
            read = rd.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                let host = host_baud();
                let mut station = emulator.station.lock();
                if station.session != session {
                    return Ok(());
                }
                match (station.baud, host) {
                    (Some(device), Some(host)) if device != host => {
                        station.bytes_in += n as u64;
                        Vec::new()
                    }
                    _ => station.feed(
                        &buf[..n],
                        tokio::time::Instant::now().into_std(),
                        wall_clock(),
                    ),
                }
            }
            () = timer => {
                let mut station = emulator.station.lock();
                if station.session != session {
                    return Ok(());
                }
                station.tick(tokio::time::Instant::now().into_std())
            }
        };
        if !out.is_empty() {
            wr.write_all(&out).await?;
            wr.flush().await?;
        }
    }
}
