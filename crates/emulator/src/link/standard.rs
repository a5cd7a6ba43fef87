//! The device side of the standard link layer (§2.5): ENQ/ACK/NAK, STX frames with an LRC,
//! a retained answer replayed on ENQ.
//!
//! Byte-level and pure: every byte is handled with the `now` it arrived at, gaps are checked
//! by `handle_timeout`. It never executes anything: an accepted frame becomes a request the
//! caller executes, and the answer comes back through `answer_ready`.

use std::time::Instant;

use super::{LinkIo, LinkPhase, LinkTiming};

/// Start of a frame (§2.1).
pub const STX: u8 = 0x02;
/// "What is your state?" (§2.1).
pub const ENQ: u8 = 0x05;
/// Positive acknowledgement (§2.1).
pub const ACK: u8 = 0x06;
/// Negative acknowledgement (§2.1).
pub const NAK: u8 = 0x15;
/// The extra byte a networked device sends after the host ACKs an answer (§1.3).
pub const RNDIS_FILLER: u8 = 0xFF;

/// XOR of the length byte and the message (§2.2).
pub fn lrc(msg: &[u8]) -> u8 {
    // LEN is one byte; a longer message cannot be framed and is truncated by `frame`.
    msg.iter().fold(msg.len() as u8, |x, b| x ^ b)
}

/// `STX LEN msg LRC` (§2.2). An answer longer than 255 bytes cannot be framed on this layer;
/// it is cut to 255 bytes, which a host sees as a malformed answer rather than a hang.
pub fn frame(msg: &[u8]) -> Vec<u8> {
    let msg = &msg[..msg.len().min(255)];
    let mut out = Vec::with_capacity(msg.len() + 3);
    out.push(STX);
    out.push(msg.len() as u8);
    out.extend_from_slice(msg);
    out.push(lrc(msg));
    out
}

/// A frame being received: its length once known, the bytes so far, the gap deadline.
#[derive(Debug)]
struct Incoming {
    len: Option<usize>,
    msg: Vec<u8>,
    deadline: Instant,
}

/// A frame the host sent while an answer is held: swallowed whole, never executed (§2.5).
#[derive(Debug)]
struct Swallow {
    remaining: Option<usize>,
    deadline: Instant,
}

#[derive(Debug)]
enum State {
    WaitFirstEnq,
    Idle,
    Rx(Incoming),
    Exec,
    WaitAck {
        answer: Vec<u8>,
        deadline: Instant,
    },
    Hold {
        answer: Vec<u8>,
        swallow: Option<Swallow>,
    },
}

/// The §2.5 state machine.
#[derive(Debug)]
pub struct StandardLink {
    state: State,
    timing: LinkTiming,
}

impl StandardLink {
    /// Right after power-on: waiting for the first ENQ, no retained answer (§2.3).
    pub fn new(timing: LinkTiming) -> StandardLink {
        StandardLink {
            state: State::WaitFirstEnq,
            timing,
        }
    }

    pub(super) fn set_timing(&mut self, timing: LinkTiming) {
        self.timing = timing;
    }

    pub(super) fn phase(&self) -> LinkPhase {
        match self.state {
            State::WaitFirstEnq => LinkPhase::WaitFirstEnq,
            State::Idle => LinkPhase::Idle,
            State::Rx(_) => LinkPhase::Receiving,
            State::Exec => LinkPhase::Executing,
            State::WaitAck { .. } => LinkPhase::WaitAck,
            State::Hold { .. } => LinkPhase::Hold,
        }
    }

    pub(super) fn handle_byte(&mut self, b: u8, now: Instant, io: &mut LinkIo) {
        let t_byte = self.timing.t_byte;
        let state = std::mem::replace(&mut self.state, State::Idle);
        let in_frame = matches!(
            state,
            State::Rx(_)
                | State::Hold {
                    swallow: Some(_),
                    ..
                }
        );
        if b == ENQ && !in_frame {
            io.counters.enqs_received += 1;
        }
        self.state = match state {
            State::WaitFirstEnq if b == ENQ => {
                io.nak();
                State::Idle
            }
            State::WaitFirstEnq => State::WaitFirstEnq,
            State::Idle if b == STX => State::Rx(Incoming {
                len: None,
                msg: Vec::new(),
                deadline: now + t_byte,
            }),
            State::Idle => {
                // ENQ or line noise: "idle, waiting for a command".
                io.nak();
                State::Idle
            }
            State::Rx(mut rx) => match rx.len {
                None if b == 0 => {
                    io.counters.bad_frames += 1;
                    io.nak();
                    State::Idle
                }
                None => {
                    rx.len = Some(usize::from(b));
                    rx.deadline = now + t_byte;
                    State::Rx(rx)
                }
                Some(len) if rx.msg.len() < len => {
                    rx.msg.push(b);
                    rx.deadline = now + t_byte;
                    State::Rx(rx)
                }
                Some(_) => {
                    io.counters.frames_received += 1;
                    if lrc(&rx.msg) == b {
                        io.ack();
                        io.request = Some(rx.msg);
                        State::Exec
                    } else {
                        // Not executed: NAK is a transmission error only (§2.3).
                        io.counters.bad_frames += 1;
                        io.nak();
                        State::Idle
                    }
                }
            },
            State::Exec => {
                if b == ENQ {
                    io.ack();
                }
                State::Exec
            }
            State::WaitAck { answer, .. } if b == ACK => {
                drop(answer);
                if io.ff_after_ack {
                    io.out.push(RNDIS_FILLER);
                }
                State::Idle
            }
            State::WaitAck { answer, .. } => {
                let swallow = (b == STX).then(|| Swallow {
                    remaining: None,
                    deadline: now + t_byte,
                });
                State::Hold { answer, swallow }
            }
            State::Hold {
                answer,
                swallow: Some(mut s),
            } => {
                match s.remaining {
                    // LEN, then LEN bytes, then the LRC.
                    None => s.remaining = Some(usize::from(b) + 1),
                    Some(n) => s.remaining = Some(n.saturating_sub(1)),
                }
                s.deadline = now + t_byte;
                let swallow = if s.remaining == Some(0) {
                    None
                } else {
                    Some(s)
                };
                State::Hold { answer, swallow }
            }
            State::Hold {
                answer,
                swallow: None,
            } if b == ENQ => {
                io.ack();
                io.out.extend_from_slice(&frame(&answer));
                io.counters.answers_replayed += 1;
                State::WaitAck {
                    answer,
                    deadline: now + self.timing.ack_wait,
                }
            }
            State::Hold {
                answer,
                swallow: None,
            } if b == STX => State::Hold {
                answer,
                swallow: Some(Swallow {
                    remaining: None,
                    deadline: now + t_byte,
                }),
            },
            State::Hold {
                answer,
                swallow: None,
            } => State::Hold {
                answer,
                swallow: None,
            },
        };
    }

    pub(super) fn answer_ready(&mut self, answer: Vec<u8>, now: Instant, io: &mut LinkIo) {
        if let State::Exec = self.state {
            io.out.extend_from_slice(&frame(&answer));
            self.state = State::WaitAck {
                answer,
                deadline: now + self.timing.ack_wait,
            };
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, io: &mut LinkIo) {
        let state = std::mem::replace(&mut self.state, State::Idle);
        self.state = match state {
            State::Rx(rx) if now >= rx.deadline => {
                io.counters.bad_frames += 1;
                io.nak();
                State::Idle
            }
            State::WaitAck { answer, deadline } if now >= deadline => State::Hold {
                answer,
                swallow: None,
            },
            State::Hold {
                answer,
                swallow: Some(s),
            } if now >= s.deadline => State::Hold {
                answer,
                swallow: None,
            },
            other => other,
        };
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Rx(rx) => Some(rx.deadline),
            State::WaitAck { deadline, .. } => Some(*deadline),
            State::Hold {
                swallow: Some(s), ..
            } => Some(s.deadline),
            _ => None,
        }
    }
}
