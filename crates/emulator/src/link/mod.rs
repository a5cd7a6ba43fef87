//! The device side of the link layers: the standard one (§2.5) and protocol 2.0 (§2.9),
//! with the power-on auto-selection between them.
//!
//! Sans-IO, like the host side in `shtrih-proto`: bytes and `now` go in (`handle_input`,
//! `handle_timeout`), bytes to write, a deadline and accepted requests come out
//! (`poll_transmit`, `poll_timeout`, `poll_request`). It does not execute commands, read a
//! clock or inject faults; the caller executes each request on the device model and hands
//! the answer back with `answer_ready`.

pub mod standard;
pub mod v2;

use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use standard::StandardLink;
use v2::V2Link;

/// Which lower level the device speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkChoice {
    /// Only the standard layer (§2.5).
    Standard,
    /// Only protocol 2.0 (§2.9).
    V2,
    /// Chosen by the first byte after power-on: 05/02 standard, 8F protocol 2.0 (§2.9).
    #[default]
    Auto,
}

impl FromStr for LinkChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "standard" => Ok(LinkChoice::Standard),
            "v2" | "2.0" => Ok(LinkChoice::V2),
            "auto" => Ok(LinkChoice::Auto),
            other => Err(format!("unknown link layer {other:?} (standard, v2, auto)")),
        }
    }
}

/// Device-side timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTiming {
    /// Longest gap between two bytes of one frame (§2.4, default 50 ms).
    pub t_byte: Duration,
    /// How long the device waits for the host's ACK of an answer before holding it (§2.5:
    /// not given numerically; generous so a slow host is not served replays needlessly).
    pub ack_wait: Duration,
}

impl Default for LinkTiming {
    fn default() -> Self {
        LinkTiming {
            t_byte: Duration::from_millis(50),
            ack_wait: Duration::from_millis(500),
        }
    }
}

/// Where the link state machine is, for tests and the status report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPhase {
    /// Auto-selection: no byte that decides the layer has arrived since power-on.
    Undecided,
    /// Standard layer right after power-on (§2.5).
    WaitFirstEnq,
    /// Waiting for a command.
    Idle,
    /// Inside a frame or packet.
    Receiving,
    /// A command was accepted and is being executed.
    Executing,
    /// The answer was sent; waiting for the host's ACK.
    WaitAck,
    /// An answer is retained for replay.
    Hold,
}

/// Link-level counts since start (not reset by power cycles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LinkCounters {
    /// Complete frames or packets received, good or bad.
    pub frames_received: u64,
    /// Frames or packets rejected: bad LRC/CRC, byte timeout, invalid length.
    pub bad_frames: u64,
    /// NAK bytes sent (standard layer).
    pub naks_sent: u64,
    /// ACK bytes sent (standard layer).
    pub acks_sent: u64,
    /// Retained answers sent again.
    pub answers_replayed: u64,
    /// ENQ bytes received outside a frame (standard layer); with `frames_received`, the
    /// host's transmissions that wait for a reply.
    pub enqs_received: u64,
}

/// What a byte or timeout produced, gathered by the link and drained by the caller.
#[derive(Debug, Default)]
pub(crate) struct LinkIo {
    out: Vec<u8>,
    request: Option<Vec<u8>>,
    counters: LinkCounters,
    ff_after_ack: bool,
}

impl LinkIo {
    fn ack(&mut self) {
        self.counters.acks_sent += 1;
        self.out.push(standard::ACK);
    }

    fn nak(&mut self) {
        self.counters.naks_sent += 1;
        self.out.push(standard::NAK);
    }
}

#[derive(Debug)]
enum Active {
    Undecided,
    Standard(StandardLink),
    V2(V2Link),
}

/// The device's link: one of the two layers, or none yet under auto-selection.
#[derive(Debug)]
pub struct DeviceLink {
    choice: LinkChoice,
    timing: LinkTiming,
    active: Active,
    io: LinkIo,
}

impl DeviceLink {
    /// A link right after power-on.
    pub fn new(choice: LinkChoice, timing: LinkTiming) -> DeviceLink {
        DeviceLink {
            choice,
            timing,
            active: Self::power_on_layer(choice, timing),
            io: LinkIo::default(),
        }
    }

    fn power_on_layer(choice: LinkChoice, timing: LinkTiming) -> Active {
        match choice {
            LinkChoice::Standard => Active::Standard(StandardLink::new(timing)),
            LinkChoice::V2 => Active::V2(V2Link::new(timing)),
            LinkChoice::Auto => Active::Undecided,
        }
    }

    /// Power lost and back: retained answer and request in progress are gone, the layer is
    /// chosen again (§2.3, §2.9). Counters survive.
    pub fn power_cycle(&mut self) {
        self.active = Self::power_on_layer(self.choice, self.timing);
        self.io.out.clear();
        self.io.request = None;
    }

    /// Changes the timings from now on.
    pub fn set_timing(&mut self, timing: LinkTiming) {
        self.timing = timing;
        match &mut self.active {
            Active::Standard(l) => l.set_timing(timing),
            Active::V2(l) => l.set_timing(timing),
            Active::Undecided => {}
        }
    }

    /// Whether an extra 0xFF follows the host's ACK of an answer (§1.3).
    pub fn set_ff_after_ack(&mut self, on: bool) {
        self.io.ff_after_ack = on;
    }

    /// Bytes from the host, all arrived at `now`. Stops right after a byte that completes a
    /// request, so the caller can execute it before the bytes that follow (which may find
    /// the power cut); returns how many bytes were used.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> usize {
        for (i, &b) in bytes.iter().enumerate() {
            if let Active::Undecided = self.active {
                self.active = match b {
                    standard::ENQ | standard::STX => {
                        Active::Standard(StandardLink::new(self.timing))
                    }
                    v2::STX2 => Active::V2(V2Link::new(self.timing)),
                    // Not a byte that decides the layer: ignored, like WAIT_FIRST_ENQ does.
                    _ => continue,
                };
            }
            match &mut self.active {
                Active::Standard(l) => l.handle_byte(b, now, &mut self.io),
                Active::V2(l) => l.handle_byte(b, now, &mut self.io),
                Active::Undecided => {}
            }
            if self.io.request.is_some() {
                return i + 1;
            }
        }
        bytes.len()
    }

    /// Call when `poll_timeout` has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.active {
            Active::Standard(l) => l.handle_timeout(now, &mut self.io),
            Active::V2(l) => l.handle_timeout(now, &mut self.io),
            Active::Undecided => {}
        }
    }

    /// The answer to the request last returned by `poll_request`. Dropped if the link has
    /// been power-cycled since.
    pub fn answer_ready(&mut self, answer: Vec<u8>, now: Instant) {
        match &mut self.active {
            Active::Standard(l) => l.answer_ready(answer, now, &mut self.io),
            Active::V2(l) => l.answer_ready(answer, &mut self.io),
            Active::Undecided => {}
        }
    }

    /// The wire form `answer` would have as the answer to the current request (used to cut
    /// the power half way through it).
    pub fn frame_answer(&self, answer: &[u8]) -> Vec<u8> {
        match &self.active {
            Active::V2(l) => l.frame_answer(answer),
            _ => standard::frame(answer),
        }
    }

    /// Bytes to send to the host, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.io.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.io.out))
        }
    }

    /// A command message accepted for execution (frame ACKed or packet number accepted).
    pub fn poll_request(&mut self) -> Option<Vec<u8>> {
        self.io.request.take()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.active {
            Active::Standard(l) => l.poll_timeout(),
            Active::V2(l) => l.poll_timeout(),
            Active::Undecided => None,
        }
    }

    /// Where the state machine is.
    pub fn phase(&self) -> LinkPhase {
        match &self.active {
            Active::Standard(l) => l.phase(),
            Active::V2(l) => l.phase(),
            Active::Undecided => LinkPhase::Undecided,
        }
    }

    /// The layer in use since the last power-on, if decided.
    pub fn layer(&self) -> Option<LinkChoice> {
        match &self.active {
            Active::Standard(_) => Some(LinkChoice::Standard),
            Active::V2(_) => Some(LinkChoice::V2),
            Active::Undecided => None,
        }
    }

    /// Counts since start.
    pub fn counters(&self) -> LinkCounters {
        self.io.counters
    }
}
