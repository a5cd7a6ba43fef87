//! [`HostLink2`]: the host side of protocol 2.0 (§2.9) as a sans-IO state machine.
//!
//! The vendor's rule: the device executes a request only if its number follows the last one
//! it executed and otherwise replays its last answer, so the host resends the same number on
//! any loss until the answer carrying that number arrives. Device rule agreed with the
//! emulator: after power-on the last executed number is 0 and no answer is held; a request
//! whose number is not last + 1 gets the retained answer, or an empty type II packet carrying
//! the last number.
//!
//! That numbering rule ("only last + 1 executes, numbering restarts at 0 on power-on") is
//! unconfirmed on hardware: it rests on the vendor's text and driver alone, with no capture
//! (see the protocol notes' SOURCES.md), and even as stated it lets a device that restarted
//! after executing request 1 run a resent request 1 again. So nothing that could make a second
//! document depends on it alone. A command the caller marked [`Resend::OnlyOnProof`] is not
//! resent on a timeout. The host pings instead (a type I packet executes nothing) and reads
//! what the device holds:
//!
//! - the answer carrying the request's number: it ran once; that is its answer;
//! - the very answer of the previous command, under the previous number, which this side
//!   received itself: the device neither ran the request (it would hold the request's answer)
//!   nor restarted since (a restart loses the retained answer), so the request never ran and
//!   is sent again under its number, with the same check before every further resend;
//! - anything else (nothing held, another number, an answer this side never saw): unknown,
//!   settled by the caller from the device's state (§10).
//!
//! Without a known previous answer (the first command after power-on, or after an unknown
//! outcome whose ping found nothing held) a lost request of this kind therefore ends unknown.
//! Commands that are harmless to repeat keep the plain same-number resends.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{
    LinkBusy, LinkConfig, LinkEvent, LinkFailure, LinkLayer, LinkStats, Resend, UnknownOutcome,
};
use crate::frame::v2::{self as frame2, Decoded2};

/// Where the exchange stands. Printable for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host2State {
    /// No command in flight.
    Idle,
    /// Ping sent to learn the device's last packet number.
    Ping {
        /// When to ping again.
        deadline: Instant,
    },
    /// Request sent with number `num`; waiting for the answer carrying it.
    AwaitAnswer {
        /// The request's packet number.
        num: u16,
        /// When to resend the same packet.
        deadline: Instant,
        /// Once the first answer wait ran out: when to stop resending.
        give_up: Option<Instant>,
    },
    /// A [`Resend::OnlyOnProof`] request went unanswered: pinging for the device's last
    /// answer instead of resending the request.
    Probe {
        /// The request's packet number.
        num: u16,
        /// When to ping again.
        deadline: Instant,
        /// When to stop pinging and report an unknown outcome.
        give_up: Instant,
    },
}

/// Host side of protocol 2.0 (§2.9).
#[derive(Debug)]
pub struct HostLink2 {
    config: LinkConfig,
    state: Host2State,
    /// The device's last executed number, once learned.
    last_num: Option<u16>,
    /// The answer the device is known to retain, with its number: the last answer this side
    /// received. Evidence that nothing ran since (see the module notes).
    held: Option<(u16, Vec<u8>)>,
    msg: Vec<u8>,
    packet: Vec<u8>,
    answer_timeout: Duration,
    /// Whether the request may be sent again under its number.
    resend: Resend,
    pings: u32,
    rx: Vec<u8>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<LinkEvent>,
    stats: LinkStats,
}

impl HostLink2 {
    /// A link that pings before its first command.
    pub fn new(config: LinkConfig) -> Self {
        HostLink2 {
            config,
            state: Host2State::Idle,
            last_num: None,
            held: None,
            msg: Vec::new(),
            packet: Vec::new(),
            answer_timeout: Duration::ZERO,
            resend: Resend::Safe,
            pings: 0,
            rx: Vec::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            stats: LinkStats::default(),
        }
    }

    /// The current state, for logs and tests.
    pub fn state(&self) -> Host2State {
        self.state
    }

    /// Forgets the device's packet number so the next command pings first (after a
    /// reconnect, or when the device may have restarted).
    pub fn sync(&mut self) {
        self.last_num = None;
        self.held = None;
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.stats.bytes_sent += bytes.len() as u64;
        self.stats.frames_sent += 1;
        self.stats.round_trips += 1;
        self.transmit.push_back(bytes);
    }

    fn send_ping(&mut self, now: Instant) {
        self.pings += 1;
        self.send(frame2::ping());
        self.state = Host2State::Ping {
            deadline: now + self.config.t_ctrl,
        };
    }

    /// Sends the request numbered after `last`, or fails the exchange if it cannot be packed.
    fn send_request(&mut self, last: u16, now: Instant) {
        let num = last.wrapping_add(1);
        match frame2::encode(num, &self.msg) {
            Ok(packet) => {
                self.packet = packet;
                self.send(self.packet.clone());
                self.state = Host2State::AwaitAnswer {
                    num,
                    deadline: now + self.answer_timeout,
                    give_up: None,
                };
            }
            Err(_) => self.finish(LinkEvent::NotExecuted(LinkFailure::BadMessage)),
        }
    }

    fn finish(&mut self, event: LinkEvent) {
        if !matches!(event, LinkEvent::Answer(_)) {
            // The request may have run without us seeing its number: reusing the number we
            // believe is next would be answered with the old command's retained answer.
            self.last_num = None;
            self.held = None;
        }
        self.state = Host2State::Idle;
        self.rx.clear();
        self.events.push_back(event);
    }

    fn on_packet(&mut self, num: Option<u16>, data: Vec<u8>, now: Instant) {
        self.stats.frames_received += 1;
        // A type I packet never comes from a device; nothing to learn from it.
        let Some(got) = num else { return };
        match self.state {
            Host2State::Idle => {}
            Host2State::Ping { .. } => {
                self.last_num = Some(got);
                self.held = None;
                if !data.is_empty() {
                    self.held = Some((got, data.clone()));
                    self.events.push_back(LinkEvent::Discarded(data));
                }
                self.send_request(got, now);
            }
            Host2State::AwaitAnswer { num: sent, .. } => {
                if got == sent && !data.is_empty() {
                    // The answer with our number: executed exactly once (§2.9).
                    self.last_num = Some(got);
                    self.held = Some((got, data.clone()));
                    self.finish(LinkEvent::Answer(data));
                } else if got == sent.wrapping_sub(1) {
                    // The previous answer replayed: a late reply to a ping or to an earlier
                    // copy of the request, not a verdict on ours. Keep waiting.
                    if !data.is_empty() {
                        self.events.push_back(LinkEvent::Discarded(data));
                    }
                } else {
                    // The device's numbering moved under us: it restarted, and ours may or
                    // may not have run before that.
                    self.finish(LinkEvent::Unknown(UnknownOutcome::DeviceRestarted {
                        sent,
                        got,
                    }));
                }
            }
            Host2State::Probe {
                num: sent, give_up, ..
            } => {
                if got == sent && !data.is_empty() {
                    // The device holds the answer carrying our number: it executed the
                    // request, once, and this is its answer (a ping executes nothing).
                    self.last_num = Some(got);
                    self.held = Some((got, data.clone()));
                    self.finish(LinkEvent::Answer(data));
                } else if got == sent.wrapping_sub(1)
                    && !data.is_empty()
                    && self
                        .held
                        .as_ref()
                        .is_some_and(|(num, answer)| *num == got && *answer == data)
                {
                    // Still the previous command's answer, as this side received it: the
                    // request has not run and the device has not restarted since. Proof
                    // enough to send the same packet again; the check is repeated before any
                    // further resend.
                    self.events.push_back(LinkEvent::Discarded(data));
                    self.stats.retries += 1;
                    self.send(self.packet.clone());
                    self.state = Host2State::AwaitAnswer {
                        num: sent,
                        deadline: now + self.config.t_ctrl,
                        give_up: Some(give_up),
                    };
                } else if got == sent.wrapping_sub(1) {
                    // By the numbering rule alone the request never ran; but that rule is
                    // unconfirmed, and a device that executed it and restarted may say the
                    // same. Only the device's state can tell.
                    self.finish(LinkEvent::Unknown(UnknownOutcome::AckLost));
                } else {
                    self.finish(LinkEvent::Unknown(UnknownOutcome::DeviceRestarted {
                        sent,
                        got,
                    }));
                }
            }
        }
    }

    /// Pings while a request's outcome is being probed.
    fn send_probe(&mut self, num: u16, give_up: Instant, now: Instant) {
        self.send(frame2::ping());
        self.state = Host2State::Probe {
            num,
            deadline: now + self.config.t_ctrl,
            give_up,
        };
    }
}

impl LinkLayer for HostLink2 {
    fn start_command(
        &mut self,
        msg: Vec<u8>,
        answer_timeout: Duration,
        resend: Resend,
        now: Instant,
    ) -> Result<(), LinkBusy> {
        if !self.is_idle() {
            return Err(LinkBusy);
        }
        if msg.is_empty() || msg.len() > frame2::MAX_DATA {
            self.events
                .push_back(LinkEvent::NotExecuted(LinkFailure::BadMessage));
            return Ok(());
        }
        self.msg = msg;
        self.answer_timeout = answer_timeout;
        self.resend = resend;
        self.pings = 0;
        self.rx.clear();
        match self.last_num {
            Some(last) => self.send_request(last, now),
            None => self.send_ping(now),
        }
        Ok(())
    }

    fn handle_input(&mut self, bytes: &[u8], now: Instant) {
        self.stats.bytes_received += bytes.len() as u64;
        if self.state == Host2State::Idle {
            self.stats.garbage_bytes += bytes.len() as u64;
            return;
        }
        self.rx.extend_from_slice(bytes);
        loop {
            match frame2::decode(&self.rx) {
                Decoded2::NeedMore => break,
                Decoded2::Garbage { skipped } => {
                    self.stats.garbage_bytes += skipped as u64;
                    self.rx.drain(..skipped.min(self.rx.len()));
                }
                Decoded2::Packet {
                    num,
                    data,
                    consumed,
                } => {
                    self.rx.drain(..consumed.min(self.rx.len()));
                    self.on_packet(num, data, now);
                    if self.state == Host2State::Idle {
                        self.stats.garbage_bytes += self.rx.len() as u64;
                        self.rx.clear();
                        break;
                    }
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self.poll_timeout() {
            Some(deadline) if now >= deadline => {}
            _ => return,
        }
        // Whatever partial packet is buffered is stale by now.
        self.stats.garbage_bytes += self.rx.len() as u64;
        self.rx.clear();
        match self.state {
            Host2State::Idle => {}
            Host2State::Ping { .. } => {
                if self.pings >= self.config.n_enq {
                    let enquiries = self.pings;
                    self.finish(LinkEvent::NotExecuted(LinkFailure::NoLink { enquiries }));
                } else {
                    self.send_ping(now);
                }
            }
            Host2State::AwaitAnswer { num, give_up, .. } => {
                let give_up = give_up.unwrap_or(now + self.config.recover_window);
                if now >= give_up {
                    self.finish(LinkEvent::Unknown(UnknownOutcome::LinkDead {
                        accepted: false,
                    }));
                    return;
                }
                if self.resend == Resend::OnlyOnProof {
                    // Not the same packet again: if the device executed it and restarted,
                    // its numbering may accept the number once more (see the module notes).
                    self.send_probe(num, give_up, now);
                    return;
                }
                // Same number again: by §2.9 the device will not execute it twice.
                self.stats.retries += 1;
                self.send(self.packet.clone());
                self.state = Host2State::AwaitAnswer {
                    num,
                    deadline: now + self.config.t_ctrl,
                    give_up: Some(give_up),
                };
            }
            Host2State::Probe { num, give_up, .. } => {
                if now >= give_up {
                    self.finish(LinkEvent::Unknown(UnknownOutcome::LinkDead {
                        accepted: false,
                    }));
                } else {
                    self.send_probe(num, give_up, now);
                }
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            Host2State::Idle => None,
            Host2State::Ping { deadline }
            | Host2State::AwaitAnswer { deadline, .. }
            | Host2State::Probe { deadline, .. } => Some(deadline),
        }
    }

    fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }

    fn is_idle(&self) -> bool {
        self.state == Host2State::Idle
    }

    fn stats(&self) -> LinkStats {
        self.stats
    }
}
