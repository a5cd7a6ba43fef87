//! The device side of the alternative lower level, protocol 2.0 (§2.9): numbered packets
//! with a CRC-16 and byte stuffing, exactly-once execution by packet number.
//!
//! There is no ACK/NAK on this layer: a damaged or incomplete packet is dropped silently
//! and the host resends it with the same number. Pure, like the standard layer.

use std::time::Instant;

use super::{LinkIo, LinkPhase, LinkTiming};

/// Start of a packet (§2.9).
pub const STX2: u8 = 0x8F;
/// Escape byte of the stuffing (§2.9): `8F` → `9F 81`, `9F` → `9F 83`.
const ESC: u8 = 0x9F;
const ESC_STX: u8 = 0x81;
const ESC_ESC: u8 = 0x83;

/// CRC-16/CCITT-FALSE over LEN16, NUM16 and DATA (§2.9).
const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// A packet as sent on the wire: `8F` + stuffed(LEN16 [NUM16 DATA] CRC16).
pub fn packet(num: Option<u16>, data: &[u8]) -> Vec<u8> {
    let mut logical = Vec::with_capacity(data.len() + 6);
    let len = match num {
        Some(_) => data.len() + 2,
        None => 0,
    };
    // LEN16 is 16 bits; device answers are far shorter.
    logical.extend_from_slice(&(len.min(usize::from(u16::MAX)) as u16).to_le_bytes());
    if let Some(n) = num {
        logical.extend_from_slice(&n.to_le_bytes());
        logical.extend_from_slice(data);
    }
    let crc = CRC16.checksum(&logical);
    logical.extend_from_slice(&crc.to_le_bytes());
    let mut out = Vec::with_capacity(logical.len() * 2 + 1);
    out.push(STX2);
    for b in logical {
        match b {
            STX2 => out.extend_from_slice(&[ESC, ESC_STX]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            other => out.push(other),
        }
    }
    out
}

#[derive(Debug)]
struct Incoming {
    logical: Vec<u8>,
    escaped: bool,
    deadline: Instant,
}

/// The §2.9 device: last executed number, the retained answer, one packet in reception.
#[derive(Debug)]
pub struct V2Link {
    rx: Option<Incoming>,
    executing: Option<u16>,
    last_num: u16,
    retained: Option<(u16, Vec<u8>)>,
    timing: LinkTiming,
}

impl V2Link {
    /// After power-on: last executed number 0, nothing retained (§2.9).
    pub fn new(timing: LinkTiming) -> V2Link {
        V2Link {
            rx: None,
            executing: None,
            last_num: 0,
            retained: None,
            timing,
        }
    }

    pub(super) fn set_timing(&mut self, timing: LinkTiming) {
        self.timing = timing;
    }

    pub(super) fn phase(&self) -> LinkPhase {
        if self.executing.is_some() {
            LinkPhase::Executing
        } else if self.rx.is_some() {
            LinkPhase::Receiving
        } else if self.retained.is_some() {
            LinkPhase::Hold
        } else {
            LinkPhase::Idle
        }
    }

    /// The number the next request must carry to be executed.
    pub fn expected_num(&self) -> u16 {
        self.last_num.wrapping_add(1)
    }

    /// The wire form of an answer to the request being executed.
    pub(super) fn frame_answer(&self, answer: &[u8]) -> Vec<u8> {
        packet(Some(self.executing.unwrap_or(self.last_num)), answer)
    }

    pub(super) fn handle_byte(&mut self, b: u8, now: Instant, io: &mut LinkIo) {
        let Some(mut rx) = self.rx.take() else {
            if b == STX2 {
                self.rx = Some(Incoming {
                    logical: Vec::new(),
                    escaped: false,
                    deadline: now + self.timing.t_byte,
                });
            }
            // Anything else between packets is line noise.
            return;
        };
        rx.deadline = now + self.timing.t_byte;
        if rx.escaped {
            rx.escaped = false;
            match b {
                ESC_STX => rx.logical.push(STX2),
                ESC_ESC => rx.logical.push(ESC),
                _ => {
                    io.counters.bad_frames += 1;
                    return;
                }
            }
        } else if b == ESC {
            rx.escaped = true;
            self.rx = Some(rx);
            return;
        } else if b == STX2 {
            // A bare 8F inside a packet: the old one is corrupt, a new one starts here.
            io.counters.bad_frames += 1;
            self.rx = Some(Incoming {
                logical: Vec::new(),
                escaped: false,
                deadline: rx.deadline,
            });
            return;
        } else {
            rx.logical.push(b);
        }
        if rx.logical.len() < 2 {
            self.rx = Some(rx);
            return;
        }
        let len = usize::from(u16::from_le_bytes([rx.logical[0], rx.logical[1]]));
        if rx.logical.len() < len + 4 {
            self.rx = Some(rx);
            return;
        }
        self.complete(&rx.logical, len, io);
    }

    fn complete(&mut self, logical: &[u8], len: usize, io: &mut LinkIo) {
        io.counters.frames_received += 1;
        let body = &logical[..len + 2];
        let crc = u16::from_le_bytes([logical[len + 2], logical[len + 3]]);
        if CRC16.checksum(body) != crc {
            io.counters.bad_frames += 1;
            return;
        }
        if self.executing.is_some() {
            // Busy: the host's resend of the same number will get the answer when it is ready.
            return;
        }
        match len {
            // Type I: ping — tell the host where we are.
            0 => self.reply_last(io),
            // LEN16 = 1 is invalid; type II is a reply-only packet.
            1 | 2 => io.counters.bad_frames += 1,
            _ => {
                let num = u16::from_le_bytes([logical[2], logical[3]]);
                if num == self.expected_num() {
                    self.executing = Some(num);
                    io.request = Some(logical[4..len + 2].to_vec());
                } else {
                    self.reply_last(io);
                }
            }
        }
    }

    fn reply_last(&self, io: &mut LinkIo) {
        match &self.retained {
            Some((num, answer)) => {
                io.counters.answers_replayed += 1;
                io.out.extend_from_slice(&packet(Some(*num), answer));
            }
            // Type II: a numbered empty packet carrying the last number.
            None => io.out.extend_from_slice(&packet(Some(self.last_num), &[])),
        }
    }

    pub(super) fn answer_ready(&mut self, answer: Vec<u8>, io: &mut LinkIo) {
        if let Some(num) = self.executing.take() {
            io.out.extend_from_slice(&packet(Some(num), &answer));
            self.last_num = num;
            self.retained = Some((num, answer));
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, io: &mut LinkIo) {
        if self.rx.as_ref().is_some_and(|rx| now >= rx.deadline) {
            self.rx = None;
            io.counters.bad_frames += 1;
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.rx.as_ref().map(|rx| rx.deadline)
    }
}
