//! Opening the byte stream to a register: a serial port (tokio-serial, 8N1, no flow control,
//! exclusive), a TCP connection, or any stream the caller already has; and the probes that
//! find the serial speed (§1.1) and the link layer (§2.9) by asking the device.
//!
//! Nothing here knows commands; the probes only send ENQ and the protocol 2.0 ping.

use std::path::PathBuf;
use std::time::Duration;

use shtrih_proto::frame::{self, v2 as frame2};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::LinkError;

/// Anything the driver can talk to a register over.
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + ?Sized> ByteStream for T {}

/// The serial speeds tried by auto-detection, most likely first (§1.1).
pub const AUTO_BAUD_ORDER: [u32; 10] = [
    115_200, 4800, 9600, 19_200, 38_400, 57_600, 2400, 230_400, 460_800, 921_600,
];

/// ENQs tried at one speed before concluding the device is not there.
const PROBE_ENQUIRIES: usize = 3;

/// Serial speed: fixed, or found by probing with ENQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    /// Use this speed.
    Fixed(u32),
    /// Try [`AUTO_BAUD_ORDER`] and keep the first speed the device answers at.
    Auto,
}

/// Where the register is.
pub enum Transport {
    /// A serial port or USB CDC device (e.g. `/dev/ttyACM0`).
    Serial {
        /// Device path.
        path: PathBuf,
        /// Speed.
        baud: Baud,
    },
    /// A TCP connection (`host:port`; §1.3, usually port 7778).
    Tcp {
        /// `host:port`.
        addr: String,
    },
    /// An already open stream (the in-process emulator, tests).
    Stream(Box<dyn ByteStream>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Serial { path, baud } => write!(f, "Serial({}, {baud:?})", path.display()),
            Transport::Tcp { addr } => write!(f, "Tcp({addr})"),
            Transport::Stream(_) => write!(f, "Stream"),
        }
    }
}

/// Which link layer to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkLayerChoice {
    /// ENQ/ACK/NAK with STX LEN … LRC frames (§2).
    Standard,
    /// Protocol 2.0: numbered 0x8F packets with CRC-16 (§2.9).
    V2,
    /// Ask the device: the 2.0 ping first, then ENQ.
    #[default]
    Auto,
}

/// The link layer found on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkKind {
    Standard,
    V2,
}

/// Opens a serial port at `baud`: 8N1, no flow control, exclusive (§1.1). DTR/RTS are left
/// alone: a pty refuses them with ENOTTY and a register does not need them.
pub(crate) fn open_serial(
    path: &std::path::Path,
    baud: u32,
) -> Result<tokio_serial::SerialStream, LinkError> {
    let builder = tokio_serial::new(path.to_string_lossy(), baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None);
    let mut port = tokio_serial::SerialStream::open(&builder)
        .map_err(|e| LinkError::Unavailable(format!("{}: {e}", path.display())))?;
    // Another process talking to the same register would break the exchange rules (§2.6).
    #[cfg(unix)]
    port.set_exclusive(true)
        .map_err(|e| LinkError::Unavailable(format!("{}: {e}", path.display())))?;
    Ok(port)
}

/// Connects to `addr` over TCP with no Nagle delay (each control byte matters, §2.4).
pub(crate) async fn open_tcp(addr: &str) -> Result<tokio::net::TcpStream, LinkError> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| LinkError::Unavailable(format!("{addr}: {e}")))?;
    stream
        .set_nodelay(true)
        .map_err(|e| LinkError::Unavailable(format!("{addr}: {e}")))?;
    Ok(stream)
}

/// Asks the device which link layer it speaks (§2.9 selection rules): the 2.0 ping first (a
/// device still choosing picks the layer from the first byte it sees), then ENQ. `None` when
/// nothing sensible came back within `wait` for either probe.
pub(crate) async fn probe_link<S: ByteStream + ?Sized>(
    stream: &mut S,
    choice: LinkLayerChoice,
    wait: Duration,
) -> Result<Option<LinkKind>, LinkError> {
    if choice != LinkLayerChoice::Standard {
        write(stream, &frame2::ping()).await?;
        let reply = read_for(stream, wait, |buf| {
            matches!(frame2::decode(buf), frame2::Decoded2::Packet { .. })
                || buf.first() == Some(&frame::NAK)
        })
        .await?;
        if matches!(frame2::decode(&reply), frame2::Decoded2::Packet { .. }) {
            return Ok(Some(LinkKind::V2));
        }
        if choice == LinkLayerChoice::V2 {
            return Ok(None);
        }
        // A standard-layer device NAKs each byte of the ping (§2.5 IDLE); let them all arrive.
        drain_quiet(stream, Duration::from_millis(30)).await?;
    }
    // A device still waiting for the previous host's ACK takes the first ENQ as "not
    // acknowledged" and answers nothing (§2.5 WAIT_ACK → HOLD); the next ENQ gets its reply.
    for _ in 0..PROBE_ENQUIRIES {
        write(stream, &[frame::ENQ]).await?;
        let reply = read_for(stream, wait, |buf| !buf.is_empty()).await?;
        match reply.first() {
            Some(&frame::NAK) => return Ok(Some(LinkKind::Standard)),
            Some(&frame::ACK) => {
                // It holds an answer from before; the link layer's first ENQ drains it (§9.1).
                drain_quiet(stream, Duration::from_millis(30)).await?;
                return Ok(Some(LinkKind::Standard));
            }
            // Silence, or noise: let the line settle and ask again.
            _ => drain_quiet(stream, Duration::from_millis(10)).await?,
        }
    }
    Ok(None)
}

/// Finds the serial speed: at each speed of [`AUTO_BAUD_ORDER`], the device must answer the
/// probe sensibly (§1.1). Returns the open port and what it speaks.
pub(crate) async fn detect_baud(
    path: &std::path::Path,
    choice: LinkLayerChoice,
    wait: Duration,
) -> Result<(tokio_serial::SerialStream, LinkKind, u32), LinkError> {
    for baud in AUTO_BAUD_ORDER {
        let mut port = open_serial(path, baud)?;
        if let Some(kind) = probe_link(&mut port, choice, wait).await? {
            tracing::info!(path = %path.display(), baud, ?kind, "register found");
            return Ok((port, kind, baud));
        }
    }
    Err(LinkError::Unavailable(format!(
        "{}: no answer at any speed",
        path.display()
    )))
}

async fn write<S: ByteStream + ?Sized>(stream: &mut S, bytes: &[u8]) -> Result<(), LinkError> {
    stream
        .write_all(bytes)
        .await
        .map_err(|e| LinkError::Io(e.to_string()))?;
    stream
        .flush()
        .await
        .map_err(|e| LinkError::Io(e.to_string()))
}

/// Reads until `enough(buf)` or `wait` has passed; returns what arrived.
async fn read_for<S: ByteStream + ?Sized>(
    stream: &mut S,
    wait: Duration,
    enough: impl Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, LinkError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while !enough(&buf) {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => break,
            Ok(Ok(0)) => return Err(LinkError::Io("the stream was closed".into())),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return Err(LinkError::Io(e.to_string())),
        }
    }
    Ok(buf)
}

/// Discards input until the line has been quiet for `quiet`.
async fn drain_quiet<S: ByteStream + ?Sized>(
    stream: &mut S,
    quiet: Duration,
) -> Result<(), LinkError> {
    let mut chunk = [0u8; 256];
    loop {
        match tokio::time::timeout(quiet, stream.read(&mut chunk)).await {
            Err(_) => return Ok(()),
            Ok(Ok(0)) => return Err(LinkError::Io("the stream was closed".into())),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(LinkError::Io(e.to_string())),
        }
    }
}
