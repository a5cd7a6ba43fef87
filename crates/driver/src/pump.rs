//! The pump: a task that owns the byte stream and runs a sans-IO `shtrih_proto::link`
//! state machine over it, one command at a time. Callers talk to it through a channel.
//!
//! Cancellation safety lives here: once a command is handed to the pump, the exchange runs
//! to its end (answer consumed and ACKed, or a typed failure) even if the caller's future is
//! dropped; the result is then simply discarded. A dropped caller can therefore never leave
//! the device holding an unconsumed answer or the link half way through a frame. The pump
//! does not decide anything about commands: the caller says whether one may be resent on the
//! link layer's guess ([`Resend`]), and the pump returns the link layer's verdict.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use shtrih_proto::frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::transport::{ByteStream, LinkKind};
use shtrih_proto::link::{
    HostLink, HostLink2, LinkConfig, LinkEvent, LinkFailure, LinkLayer, Resend,
};

/// What the link layer concluded about one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exchange {
    /// The answer message (code + error + data).
    Answer(Vec<u8>),
    /// Proven not executed (§2.7): the frame never reached the device.
    NotExecuted(String),
    /// The link layer judged every send of the frame refused: NAK to the frame, or, for a
    /// command sent with [`Resend::Safe`] only, silence then ENQ→NAK. The frame did reach the
    /// device; see `Effect::Commit` for why that matters.
    Refused(String),
    /// May have executed.
    Unknown(String),
}

/// Bytes and round trips on the wire, for the benchmark and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Bytes written to the device.
    pub bytes_out: u64,
    /// Bytes read from the device.
    pub bytes_in: u64,
    /// Host transmissions that wait for a reply (everything but the host's own ACKs).
    pub round_trips: u64,
    /// Commands handed to the link layer.
    pub commands: u64,
}

struct Request {
    msg: Vec<u8>,
    answer_timeout: Duration,
    resend: Resend,
    reply: oneshot::Sender<Exchange>,
}

/// The caller's end of the pump.
pub(crate) struct Pump {
    requests: mpsc::Sender<Request>,
    stats: Arc<Mutex<WireStats>>,
}

impl Pump {
    /// Starts the pump task over `stream`, speaking the link layer `kind`.
    pub(crate) fn start(stream: Box<dyn ByteStream>, kind: LinkKind, config: LinkConfig) -> Pump {
        let link: Box<dyn LinkLayer + Send> = match kind {
            LinkKind::Standard => Box::new(HostLink::new(config)),
            LinkKind::V2 => Box::new(HostLink2::new(config)),
        };
        let (requests, rx) = mpsc::channel(1);
        let stats = Arc::new(Mutex::new(WireStats::default()));
        let task = PumpTask {
            stream,
            link,
            stats: stats.clone(),
            dead: None,
        };
        tokio::spawn(task.run(rx));
        Pump { requests, stats }
    }

    /// Runs one command to its link-level end. `resend` must be [`Resend::OnlyOnProof`] for
    /// any command that changes fiscal or cash state: the link then never sends it twice on a
    /// guess (§2.7 row 3 is overridden for it) and reports an unknown outcome instead.
    pub(crate) async fn exchange(
        &self,
        msg: Vec<u8>,
        answer_timeout: Duration,
        resend: Resend,
    ) -> Exchange {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            msg,
            answer_timeout,
            resend,
            reply,
        };
        if self.requests.send(request).await.is_err() {
            return Exchange::NotExecuted("the link task has stopped".into());
        }
        // The task always replies unless it panicked; then nothing is known about the command.
        answer
            .await
            .unwrap_or_else(|_| Exchange::Unknown("the link task stopped mid-exchange".into()))
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> WireStats {
        *self.stats.lock()
    }
}

struct PumpTask {
    stream: Box<dyn ByteStream>,
    link: Box<dyn LinkLayer + Send>,
    stats: Arc<Mutex<WireStats>>,
    /// Why the stream is unusable, once it is: later commands are refused before sending.
    dead: Option<String>,
}

impl PumpTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        while let Some(request) = rx.recv().await {
            let outcome = match &self.dead {
                Some(why) => Exchange::NotExecuted(format!("no link: {why}")),
                None => {
                    self.exchange(request.msg, request.answer_timeout, request.resend)
                        .await
                }
            };
            // The caller may have gone away; the exchange is finished either way.
            let _ = request.reply.send(outcome);
        }
    }

    async fn exchange(
        &mut self,
        msg: Vec<u8>,
        answer_timeout: Duration,
        resend: Resend,
    ) -> Exchange {
        self.stats.lock().commands += 1;
        if let Err(busy) = self
            .link
            .start_command(msg, answer_timeout, resend, Instant::now())
        {
            return Exchange::NotExecuted(format!("link busy: {busy:?}"));
        }
        let mut buf = [0u8; 512];
        loop {
            while let Some(bytes) = self.link.poll_transmit() {
                self.transmit(&bytes).await;
            }
            match self.link.poll_event() {
                Some(LinkEvent::Answer(answer)) => return Exchange::Answer(answer),
                Some(LinkEvent::NotExecuted(failure @ LinkFailure::Refused { .. })) => {
                    return Exchange::Refused(failure.to_string())
                }
                Some(LinkEvent::NotExecuted(failure)) => {
                    return Exchange::NotExecuted(failure.to_string())
                }
                Some(LinkEvent::Unknown(unknown)) => return Exchange::Unknown(unknown.to_string()),
                Some(LinkEvent::Discarded(stale)) => {
                    tracing::debug!(?stale, "discarded a stale answer while synchronising");
                    continue;
                }
                None => {}
            }
            let deadline = self.link.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            if self.dead.is_some() {
                // Only the link layer's timers move things on now; it decides the outcome.
                sleep.await;
                self.link.handle_timeout(Instant::now());
                continue;
            }
            tokio::select! {
                read = self.stream.read(&mut buf) => match read {
                    Ok(0) => self.dead = Some("the stream was closed".into()),
                    Ok(n) => {
                        self.stats.lock().bytes_in += n as u64;
                        self.link.handle_input(&buf[..n], Instant::now());
                    }
                    Err(e) => self.dead = Some(e.to_string()),
                },
                () = sleep => self.link.handle_timeout(Instant::now()),
            }
        }
    }

    async fn transmit(&mut self, bytes: &[u8]) {
        {
            let mut stats = self.stats.lock();
            stats.bytes_out += bytes.len() as u64;
            if bytes != [frame::ACK] {
                stats.round_trips += 1;
            }
        }
        if self.dead.is_some() {
            return;
        }
        let written = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        }
        .await;
        if let Err(e) = written {
            // The link layer will time out waiting for a reply and conclude from its own rules.
            self.dead = Some(e.to_string());
        }
    }
}
