//! [`HostLink`]: the host side of the standard link layer, the §2.6 algorithm as a sans-IO
//! state machine. It does not parse answers beyond their command code (§3).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{
    command_code, LinkBusy, LinkConfig, LinkEvent, LinkFailure, LinkLayer, LinkStats, Resend,
    UnknownOutcome,
};
use crate::frame::{self, Decoded, ACK, ENQ, NAK, STX};

/// Sent by a networked device after the host ACKs an answer; skipped while a control byte is
/// expected (§1.3 RNDIS quirk).
const RNDIS_FILLER: u8 = 0xFF;

/// Where the exchange stands. Printable for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostState {
    /// No command in flight.
    Idle,
    /// ENQ sent before the command; waiting for ACK/NAK (§2.6 step 1).
    Sync {
        /// When to send the next ENQ.
        deadline: Instant,
    },
    /// The device ACKed the synchronising ENQ: reading the retained answer it replays.
    Drain {
        /// When to give up waiting for its STX.
        answer_deadline: Instant,
    },
    /// Command frame sent; waiting for ACK/NAK (§2.6 step 2).
    AwaitAck {
        /// When silence starts to count as loss.
        deadline: Instant,
    },
    /// The frame was refused with NAK: letting the line go quiet before it is sent again.
    /// A device that lost the frame's STX NAKs every byte of it (§2.5 IDLE), so one frame
    /// can draw a run of NAKs; taking each for a refusal of the latest send would put a copy
    /// of the frame on the line per NAK, and a device knocked out of WAIT_ACK by line noise
    /// between two copies executes the second one as well. One refusal, one resend.
    Backoff {
        /// Quiet-line deadline (moves with every byte, up to `hard`).
        deadline: Instant,
        /// Latest moment to send again.
        hard: Instant,
    },
    /// Command accepted; waiting for and reading its answer (§2.6 step 3).
    ReadAnswer {
        /// When to give up waiting for its STX.
        answer_deadline: Instant,
    },
    /// A damaged answer was seen: letting the line go quiet before NAK + ENQ, so that its
    /// tail is not taken for control bytes.
    Flush {
        /// Quiet-line deadline (moves with every byte, up to `hard`).
        deadline: Instant,
        /// Latest moment to stop flushing.
        hard: Instant,
        /// True if the damaged answer was a drained (stale) one.
        draining: bool,
    },
    /// ENQ sent to learn what became of the command (§2.6 RECOVER).
    Recover {
        /// When to send the next ENQ.
        deadline: Instant,
        /// When to stop polling and report an unknown outcome.
        give_up: Instant,
    },
}

/// Host side of the standard link layer (§2.6).
#[derive(Debug)]
pub struct HostLink {
    config: LinkConfig,
    state: HostState,
    /// The message in flight (valid while not idle).
    msg: Vec<u8>,
    /// Its encoded frame.
    frame: Vec<u8>,
    answer_timeout: Duration,
    /// Whether the message may be sent again without proof that it did not run.
    resend: Resend,
    /// The device has acknowledged the frame (ACK, or ENQ→ACK after silence).
    accepted: bool,
    /// Something other than ACK/NAK came back after the frame: perhaps a damaged ACK or
    /// answer, so a later ENQ→NAK no longer proves the frame was refused.
    maybe_accepted: bool,
    /// Enquiries in a row without any reply.
    silent_enqs: u32,
    /// Stale answers drained in this exchange.
    drains: u32,
    /// Times the frame was sent in this exchange.
    sends: u32,
    /// Damaged answers in this exchange.
    rereads: u32,
    /// Answer waits that ran out after acceptance.
    waits: u32,
    /// Bytes of the answer being read (starts with STX).
    rx: Vec<u8>,
    last_byte: Option<Instant>,
    /// When a byte other than STX last came while an answer was awaited: an answer whose STX
    /// was lost on the line. Once the line is quiet it is treated as a damaged answer (NAK +
    /// ENQ) instead of waiting out the whole answer timeout.
    stray: Option<Instant>,
    /// When the last byte of an unreadable reply came while a control byte was awaited (after
    /// an ENQ or the frame). A byte other than ACK, NAK or STX there is noise or a frame whose
    /// STX was lost; the bytes after it, until the line is quiet, belong to it, and a 06 or 15
    /// among them (an LRC, a data byte) is no ACK or NAK (§2.6: "wait until the line is quiet").
    noise: Option<Instant>,
    /// The last command the device accepted whose answer this side never consumed (§2.6
    /// "a careful driver").
    unconsumed: Option<Vec<u8>>,
    /// The last answer this side read and acknowledged, whichever exchange it came in. The
    /// ACK may have been lost; a device still holding that answer drops any frame sent to it
    /// (§2.5 HOLD) and replays the answer, byte for byte, on the next ENQ. So until the device
    /// is seen to take a frame (an ACK to the frame itself), an answer equal to this one may
    /// be that replay and is never taken for the command in flight.
    replayable: Option<Vec<u8>>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<LinkEvent>,
    stats: LinkStats,
}

impl HostLink {
    /// A link with no command in flight.
    pub fn new(config: LinkConfig) -> Self {
        HostLink {
            config,
            state: HostState::Idle,
            msg: Vec::new(),
            frame: Vec::new(),
            answer_timeout: Duration::ZERO,
            resend: Resend::Safe,
            accepted: false,
            maybe_accepted: false,
            silent_enqs: 0,
            drains: 0,
            sends: 0,
            rereads: 0,
            waits: 0,
            rx: Vec::new(),
            last_byte: None,
            stray: None,
            noise: None,
            unconsumed: None,
            replayable: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            stats: LinkStats::default(),
        }
    }

    /// The current state, for logs and tests.
    pub fn state(&self) -> HostState {
        self.state
    }

    fn send(&mut self, bytes: Vec<u8>, awaits_reply: bool) {
        self.stats.bytes_sent += bytes.len() as u64;
        if awaits_reply {
            self.stats.round_trips += 1;
            self.noise = None;
        }
        self.transmit.push_back(bytes);
    }

    fn send_enq(&mut self) {
        self.send(vec![ENQ], true);
    }

    fn send_frame(&mut self, now: Instant) {
        if self.sends > 0 {
            self.stats.retries += 1;
        }
        self.sends += 1;
        self.stats.frames_sent += 1;
        self.send(self.frame.clone(), true);
        self.state = HostState::AwaitAck {
            deadline: now + self.config.t_ctrl,
        };
    }

    fn enter_sync(&mut self, now: Instant) {
        self.silent_enqs += 1;
        self.send_enq();
        self.state = HostState::Sync {
            deadline: now + self.config.t_ctrl,
        };
    }

    fn enter_recover(&mut self, now: Instant, give_up: Instant) {
        self.send_enq();
        self.state = HostState::Recover {
            deadline: now + self.config.t_ctrl,
            give_up,
        };
    }

    fn start_reading(&mut self, now: Instant, draining: bool) {
        self.noise = None;
        self.rx.clear();
        self.last_byte = None;
        self.stray = None;
        let answer_deadline = now + self.answer_timeout;
        self.state = if draining {
            HostState::Drain { answer_deadline }
        } else {
            HostState::ReadAnswer { answer_deadline }
        };
    }

    fn finish(&mut self, event: LinkEvent) {
        self.state = HostState::Idle;
        self.noise = None;
        self.rx.clear();
        self.events.push_back(event);
    }

    /// A frame arrived whole and intact while reading.
    fn on_answer(&mut self, answer: Vec<u8>, now: Instant, draining: bool) {
        self.stats.frames_received += 1;
        self.send(vec![ACK], false);
        let replay = self.replayable.as_ref() == Some(&answer);
        self.replayable = Some(answer.clone());
        let unconsumed = self.unconsumed.take();
        if !draining {
            if replay {
                self.on_previous_answer(answer, now);
            } else {
                self.finish(LinkEvent::Answer(answer));
            }
            return;
        }
        // §2.6: a replayed answer to the very command now in flight, whose answer was never
        // consumed, is that command's answer: sending it again would execute it twice. Not
        // when it is the answer already taken before: then it is that one replayed.
        let ours = !replay
            && unconsumed.is_some_and(|m| m == self.msg)
            && command_code(&answer) == command_code(&self.msg);
        if ours {
            self.finish(LinkEvent::Answer(answer));
            return;
        }
        self.events.push_back(LinkEvent::Discarded(answer));
        self.drains += 1;
        if self.drains >= self.config.n_enq {
            self.finish(LinkEvent::NotExecuted(LinkFailure::SyncFailed));
        } else {
            self.enter_sync(now);
        }
    }

    /// The answer read after the frame went unacknowledged is the one this side already took
    /// before (see `replayable`): the device may have been holding it, our ACK lost, and
    /// dropped the frame; or it ran the frame and the answer happens to be identical. Only a
    /// command that may be repeated is sent again; any other ends unknown (§2.7, promise 2).
    fn on_previous_answer(&mut self, answer: Vec<u8>, now: Instant) {
        if self.resend == Resend::OnlyOnProof {
            self.finish(LinkEvent::Unknown(UnknownOutcome::PreviousAnswer));
            return;
        }
        self.events.push_back(LinkEvent::Discarded(answer));
        self.drains += 1;
        if self.drains >= self.config.n_enq {
            self.finish(LinkEvent::Unknown(UnknownOutcome::PreviousAnswer));
            return;
        }
        // Our ACK to the replay leaves the device idle; synchronise and send again. Whatever
        // the frame's replies looked like, the device was holding the old answer, so for a
        // command that may be repeated they no longer stand in the way of a resend.
        self.accepted = false;
        self.maybe_accepted = false;
        self.enter_sync(now);
    }

    /// An answer frame was damaged (bad LRC, LEN 0, gap): flush, then NAK + ENQ (§2.6).
    fn on_damaged(&mut self, now: Instant, draining: bool) {
        self.rereads += 1;
        self.rx.clear();
        self.last_byte = None;
        self.stray = None;
        if self.rereads > self.config.n_reread {
            let event = if draining {
                LinkEvent::NotExecuted(LinkFailure::SyncFailed)
            } else {
                LinkEvent::Unknown(UnknownOutcome::AnswerUnreadable {
                    rereads: self.rereads - 1,
                })
            };
            self.finish(event);
            return;
        }
        self.state = HostState::Flush {
            deadline: now + self.config.t_byte,
            hard: now + self.config.t_ctrl,
            draining,
        };
    }

    /// One byte while an answer is being read.
    fn on_answer_byte(&mut self, byte: u8, now: Instant, draining: bool) {
        if self.rx.is_empty() && byte != STX {
            self.stats.garbage_bytes += 1;
            // The RNDIS filler (§1.3) may precede a slow answer; it is no sign of damage.
            if byte != RNDIS_FILLER {
                self.stray = Some(now);
            }
            return;
        }
        self.rx.push(byte);
        self.last_byte = Some(now);
        let complete = match self.rx.get(1) {
            None => false,
            Some(&0) => true,
            Some(&len) => self.rx.len() >= usize::from(len) + 3,
        };
        if !complete {
            return;
        }
        match frame::decode(&self.rx) {
            Decoded::Frame { msg, .. } => self.on_answer(msg, now, draining),
            Decoded::NeedMore | Decoded::Garbage { .. } => {
                self.stats.garbage_bytes += self.rx.len() as u64;
                self.on_damaged(now, draining);
            }
        }
    }

    /// A byte that is no control byte where one was awaited: from here until the line is quiet
    /// nothing is taken for a reply (see `noise`).
    fn on_noise(&mut self, now: Instant) {
        self.stats.garbage_bytes += 1;
        self.noise = Some(now);
    }

    fn on_byte(&mut self, byte: u8, now: Instant) {
        let expects_control = matches!(
            self.state,
            HostState::Sync { .. } | HostState::AwaitAck { .. } | HostState::Recover { .. }
        );
        if expects_control && self.noise.is_some() {
            self.on_noise(now);
            return;
        }
        match self.state {
            HostState::Idle => self.stats.garbage_bytes += 1,
            HostState::Drain { .. } => self.on_answer_byte(byte, now, true),
            HostState::ReadAnswer { .. } => self.on_answer_byte(byte, now, false),
            HostState::Flush { hard, .. } => {
                self.stats.garbage_bytes += 1;
                if let HostState::Flush { deadline, .. } = &mut self.state {
                    *deadline = (now + self.config.t_byte).min(hard);
                }
            }
            HostState::Backoff { hard, .. } => {
                // The rest of a run of NAKs, or whatever else the line carries: none of it
                // answers a send that has not happened yet.
                if byte == NAK {
                    self.stats.naks_received += 1;
                } else {
                    self.stats.garbage_bytes += 1;
                }
                if let HostState::Backoff { deadline, .. } = &mut self.state {
                    *deadline = (now + self.config.t_byte).min(hard);
                }
            }
            HostState::Sync { .. } => match byte {
                NAK => {
                    self.stats.naks_received += 1;
                    self.silent_enqs = 0;
                    self.send_frame(now);
                }
                ACK => {
                    self.silent_enqs = 0;
                    self.start_reading(now, true);
                }
                STX => {
                    // The ACK was lost but the replay follows it.
                    self.silent_enqs = 0;
                    self.start_reading(now, true);
                    self.on_answer_byte(byte, now, true);
                }
                _ => self.on_noise(now),
            },
            HostState::AwaitAck { .. } => match byte {
                ACK => {
                    // The device took this very frame, so it was idle: whatever answer it
                    // held before is gone, and the next one it holds is this command's.
                    self.accepted = true;
                    self.unconsumed = Some(self.msg.clone());
                    self.replayable = None;
                    self.start_reading(now, false);
                }
                NAK => {
                    // §2.7 row 1: rejected at link level, not executed: resend, once the
                    // line is quiet (see `HostState::Backoff`).
                    self.stats.naks_received += 1;
                    self.back_off(now);
                }
                STX => self.read_unannounced_answer(now),
                _ => {
                    self.on_noise(now);
                    self.maybe_accepted = true;
                }
            },
            HostState::Recover { .. } => match byte {
                ACK => {
                    // §2.7 rows 4 and 5: accepted; the answer is coming or ready. Unless the
                    // frame itself was never acknowledged and the device is still holding an
                    // earlier answer: `on_answer` tells the two apart where it can.
                    self.silent_enqs = 0;
                    self.accepted = true;
                    self.unconsumed = Some(self.msg.clone());
                    self.start_reading(now, false);
                }
                NAK => {
                    self.stats.naks_received += 1;
                    self.silent_enqs = 0;
                    if self.accepted || self.maybe_accepted {
                        // §2.7 row 6: the retained answer vanished: the device restarted.
                        // Also when the reply to the frame was unreadable: it may have been an
                        // ACK from a device that restarted since, so resending is not safe.
                        self.finish(LinkEvent::Unknown(UnknownOutcome::AnswerLost));
                    } else if self.resend == Resend::OnlyOnProof {
                        // Deliberately overrides the vendor's rule for §2.7 row 3 ("resend"):
                        // the device may have ACKed and executed the frame, the ACK may have
                        // been lost on the line, and a power cut may then have taken the
                        // retained answer with it, so ENQ→NAK proves nothing (§10.3). Sending a
                        // command that changes fiscal or cash state again on that guess would
                        // make a second document or money movement (promise 2).
                        self.finish(LinkEvent::Unknown(UnknownOutcome::AckLost));
                    } else {
                        // §2.7 row 3: the frame never reached the device (or it restarted
                        // in between, which is harmless for a command that may be repeated).
                        self.back_off(now);
                    }
                }
                STX => {
                    self.silent_enqs = 0;
                    self.read_unannounced_answer(now);
                }
                _ => self.on_noise(now),
            },
        }
    }

    /// An STX where ACK was expected: the ACK was lost and the answer follows it. It may also
    /// be noise, so `accepted` stays as it is; but the frame may have been executed, so from
    /// here a later ENQ→NAK (a device that restarted after a damaged answer) is an unknown
    /// outcome, never a reason to send the frame again (§2.7 row 6, promise 2).
    fn read_unannounced_answer(&mut self, now: Instant) {
        self.maybe_accepted = true;
        self.start_reading(now, false);
        self.on_answer_byte(STX, now, false);
    }

    /// A NAK refused the frame: wait for the line to be quiet, then send it again (or give
    /// up), so that a run of NAKs makes one resend (`HostState::Backoff`).
    fn back_off(&mut self, now: Instant) {
        self.noise = None;
        self.state = HostState::Backoff {
            deadline: now + self.config.t_byte,
            hard: now + self.config.t_ctrl,
        };
    }

    fn resend_or_refuse(&mut self, now: Instant) {
        if self.sends >= self.config.n_send {
            let sends = self.sends;
            self.finish(LinkEvent::NotExecuted(LinkFailure::Refused { sends }));
        } else {
            self.send_frame(now);
        }
    }
}

impl LinkLayer for HostLink {
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
        let Ok(frame) = frame::encode(&msg) else {
            self.events
                .push_back(LinkEvent::NotExecuted(LinkFailure::BadMessage));
            return Ok(());
        };
        self.msg = msg;
        self.frame = frame;
        self.answer_timeout = answer_timeout;
        self.resend = resend;
        self.accepted = false;
        self.maybe_accepted = false;
        self.silent_enqs = 0;
        self.drains = 0;
        self.sends = 0;
        self.rereads = 0;
        self.waits = 0;
        // §2.6 step 1: every command starts by draining whatever the device still holds.
        self.enter_sync(now);
        Ok(())
    }

    fn handle_input(&mut self, bytes: &[u8], now: Instant) {
        self.stats.bytes_received += bytes.len() as u64;
        for &byte in bytes {
            let expects_control = matches!(
                self.state,
                HostState::Sync { .. } | HostState::AwaitAck { .. } | HostState::Recover { .. }
            );
            if expects_control && byte == RNDIS_FILLER {
                self.stats.garbage_bytes += 1;
                continue;
            }
            self.on_byte(byte, now);
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self.poll_timeout() {
            Some(deadline) if now >= deadline => {}
            _ => return,
        }
        let noisy = self.noise.take().is_some();
        match self.state {
            HostState::Idle => {}
            HostState::Sync { .. } if noisy => {
                // An unreadable reply to the ENQ, now over: most likely a replayed answer
                // that lost its STX. Ask again, as after a damaged replay.
                self.silent_enqs = 0;
                self.drains += 1;
                if self.drains >= self.config.n_enq {
                    self.finish(LinkEvent::NotExecuted(LinkFailure::SyncFailed));
                } else {
                    self.enter_sync(now);
                }
            }
            HostState::Sync { .. } => {
                if self.silent_enqs >= self.config.n_enq {
                    let enquiries = self.silent_enqs;
                    self.finish(LinkEvent::NotExecuted(LinkFailure::NoLink { enquiries }));
                } else {
                    self.enter_sync(now);
                }
            }
            HostState::Drain { .. } | HostState::ReadAnswer { .. }
                if !self.rx.is_empty() || self.stray.is_some() =>
            {
                // A gap longer than T_byte inside a frame: damaged (§2.6 step 3).
                self.stats.garbage_bytes += self.rx.len() as u64;
                let draining = matches!(self.state, HostState::Drain { .. });
                self.on_damaged(now, draining);
            }
            HostState::Drain { .. } => {
                // ACK to ENQ but no replay came: ask again.
                self.drains += 1;
                if self.drains >= self.config.n_enq {
                    self.finish(LinkEvent::NotExecuted(LinkFailure::SyncFailed));
                } else {
                    self.enter_sync(now);
                }
            }
            HostState::ReadAnswer { .. } => {
                // No STX within T_answer: RECOVER (§2.6), bounded so a device stuck executing
                // still ends the exchange.
                self.waits += 1;
                if self.waits > self.config.n_reread {
                    self.finish(LinkEvent::Unknown(UnknownOutcome::AnswerTimedOut));
                } else {
                    self.enter_recover(now, now + self.config.recover_window);
                }
            }
            HostState::AwaitAck { .. } => {
                // Silence after the frame: never resend blindly; ask first (§2.6 RECOVER).
                self.enter_recover(now, now + self.config.recover_window);
            }
            HostState::Backoff { .. } => self.resend_or_refuse(now),
            HostState::Flush { draining, .. } => {
                self.stats.naks_sent += 1;
                self.send(vec![NAK], false);
                if draining {
                    self.enter_sync(now);
                } else {
                    self.enter_recover(now, now + self.config.recover_window);
                }
            }
            HostState::Recover { give_up, .. } => {
                if now >= give_up {
                    let accepted = self.accepted;
                    self.finish(LinkEvent::Unknown(UnknownOutcome::LinkDead { accepted }));
                } else {
                    self.enter_recover(now, give_up);
                }
            }
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            HostState::Idle => None,
            HostState::Sync { deadline }
            | HostState::AwaitAck { deadline }
            | HostState::Recover { deadline, .. } => Some(match self.noise {
                // An unreadable reply: act once the line has been quiet for T_byte.
                Some(last) => (last + self.config.t_byte).min(deadline),
                None => deadline,
            }),
            HostState::Flush { deadline, .. } | HostState::Backoff { deadline, .. } => {
                Some(deadline)
            }
            HostState::Drain { answer_deadline } | HostState::ReadAnswer { answer_deadline } => {
                Some(match (self.last_byte, self.stray) {
                    (Some(last), _) => last + self.config.t_byte,
                    // Bytes without an STX, then quiet: an answer that lost its STX.
                    (None, Some(stray)) => (stray + self.config.t_byte).min(answer_deadline),
                    (None, None) => answer_deadline,
                })
            }
        }
    }

    fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }

    fn is_idle(&self) -> bool {
        self.state == HostState::Idle
    }

    fn stats(&self) -> LinkStats {
        self.stats
    }
}
