//! Host link state machines, sans-IO: one command at a time over the standard link layer
//! ([`HostLink`], §2.6) or protocol 2.0 ([`HostLink2`], §2.9).
//!
//! A caller hands a message to [`LinkLayer::start_command`] (saying with [`Resend`] whether the
//! command may be sent again on a guess), then pumps: writes whatever
//! [`LinkLayer::poll_transmit`] returns, feeds received bytes to [`LinkLayer::handle_input`],
//! calls [`LinkLayer::handle_timeout`] once [`LinkLayer::poll_timeout`] has passed, and reads
//! [`LinkLayer::poll_event`] until a final event (`Answer`, `NotExecuted` or `Unknown`) arrives.
//! Time is always passed in; nothing here reads a clock, sleeps or does I/O. What a command
//! means, and what to do about an unknown outcome, is not decided here (§10 belongs to the
//! driver): this layer only says, per the §2.7 decision table, whether the device took it.
//! The caller's [`Resend`] is the one piece of meaning it needs: for a command that changes
//! fiscal or cash state, the table's row 3 ("silence after the frame, then ENQ→NAK: resend") is
//! overridden, because a device that restarted in between may have executed the frame.

use std::time::{Duration, Instant};

use thiserror::Error;

use crate::command::CommandClass;

mod standard;
mod v2;

pub use standard::{HostLink, HostState};
pub use v2::{Host2State, HostLink2};

/// Whether a command may be sent again when the link layer only infers, without proof, that
/// the device did not take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Repeating the command is harmless (reads, idempotent writes): the §2.7 rules as the
    /// vendor gives them, including the resend after silence then ENQ→NAK (row 3) and, on
    /// protocol 2.0, resending the same packet number after a timeout.
    Safe,
    /// The command changes fiscal or cash state: it is sent again only on proof that it did
    /// not run: on the standard layer a NAK in answer to that very frame (§2.7 row 1), on
    /// protocol 2.0 a ping showing the device still holding the previous command's answer.
    /// Silence after the frame followed by ENQ→NAK (row 3), or a protocol 2.0 packet left
    /// unanswered without that proof, ends in [`UnknownOutcome::AckLost`] instead: the device
    /// may have executed it, lost its ACK or answer on the line, then restarted and forgotten
    /// the answer (§2.5, §10.3).
    OnlyOnProof,
}

impl Resend {
    /// What a command of this class allows (§10.1): only reads and idempotent writes may be
    /// repeated on a guess.
    pub fn for_class(class: CommandClass) -> Resend {
        match class {
            CommandClass::Read | CommandClass::IdempotentWrite => Resend::Safe,
            CommandClass::SelfGuarding | CommandClass::Dangerous => Resend::OnlyOnProof,
        }
    }
}

/// The sans-IO interface both link layers implement.
pub trait LinkLayer {
    /// Begins one command exchange; `resend` says whether the command may be sent again
    /// without proof that it did not run. Refused while a previous exchange has not ended
    /// with a final event.
    fn start_command(
        &mut self,
        msg: Vec<u8>,
        answer_timeout: Duration,
        resend: Resend,
        now: Instant,
    ) -> Result<(), LinkBusy>;
    /// [`LinkLayer::start_command`] for a command that is harmless to repeat
    /// ([`Resend::Safe`]). Never use it for one that changes fiscal or cash state.
    fn start(
        &mut self,
        msg: Vec<u8>,
        answer_timeout: Duration,
        now: Instant,
    ) -> Result<(), LinkBusy> {
        self.start_command(msg, answer_timeout, Resend::Safe, now)
    }
    /// Feeds bytes received from the device.
    fn handle_input(&mut self, bytes: &[u8], now: Instant);
    /// Acts on an expired deadline; does nothing if `now` is before [`LinkLayer::poll_timeout`].
    fn handle_timeout(&mut self, now: Instant);
    /// Next bytes to write to the device, in order.
    fn poll_transmit(&mut self) -> Option<Vec<u8>>;
    /// When [`LinkLayer::handle_timeout`] must be called next (`None` while idle).
    fn poll_timeout(&self) -> Option<Instant>;
    /// Next event, in order.
    fn poll_event(&mut self) -> Option<LinkEvent>;
    /// True when no exchange is in flight (a new `start` is accepted).
    fn is_idle(&self) -> bool;
    /// Counters since creation.
    fn stats(&self) -> LinkStats;
}

/// A command exchange is already in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a command is already in flight on this link")]
pub struct LinkBusy;

/// What the link layer learned about the command in flight, or saw on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Final: the answer message (code + error byte + data) to the command in flight.
    Answer(Vec<u8>),
    /// Final: the command is proven not executed (§2.7); it is safe to send it again.
    NotExecuted(LinkFailure),
    /// Final: the command may or may not have executed; settle it from device state (§10).
    Unknown(UnknownOutcome),
    /// Not final, diagnostic: a stale answer drained while synchronising (§2.6), or one read
    /// in recovery that may be the previous command's answer replayed.
    Discarded(Vec<u8>),
}

impl LinkEvent {
    /// True for the events that end an exchange.
    pub fn is_final(&self) -> bool {
        !matches!(self, LinkEvent::Discarded(_))
    }
}

/// Why a command was proven not executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LinkFailure {
    /// The device never answered the synchronising ENQ (or ping); the command was not sent.
    #[error("no link: the device did not answer {enquiries} enquiries")]
    NoLink {
        /// Enquiries sent without a reply.
        enquiries: u32,
    },
    /// The device kept replaying answers or damaged them while synchronising; command not sent.
    #[error("could not synchronise: the device kept replaying or damaging answers")]
    SyncFailed,
    /// The message is empty or longer than a frame can carry (§2.2); nothing was sent.
    #[error("the message cannot be framed")]
    BadMessage,
    /// Every send of the frame was refused: NAK (§2.7 row 1), or for a [`Resend::Safe`]
    /// command also silence then ENQ→NAK (row 3).
    #[error("the frame was refused {sends} times")]
    Refused {
        /// Times the frame was sent.
        sends: u32,
    },
}

/// Why the outcome of a command is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UnknownOutcome {
    /// The frame was accepted (or an unreadable reply may have been its ACK) but the device no
    /// longer holds an answer (ENQ→NAK, §2.7 row 6): it restarted.
    #[error("the device accepted the command, then lost its answer (restart?)")]
    AnswerLost,
    /// A [`Resend::OnlyOnProof`] command went unacknowledged and the device holds no answer
    /// to it: on the standard layer silence after the frame, then ENQ→NAK (§2.7 row 3); on
    /// protocol 2.0 no reply to the packet, then a ping answered with the previous number but
    /// not with the previous answer as this side received it. It may have executed and
    /// restarted in between (losing its ACK or answer on the line, then its retained answer
    /// with the power), so this is no proof that it did not run.
    #[error("the command went unanswered and the device holds no answer: it may have executed and restarted")]
    AckLost,
    /// The frame went unacknowledged and the ENQ after it was answered, byte for byte, with
    /// the answer this side had already taken for an earlier command. The device may have
    /// been holding that answer (this side's ACK lost on the line) and dropped the frame
    /// (§2.5), or it may have run the command and answered identically: there is no telling.
    #[error("after the command, the device answered with the previous command's answer")]
    PreviousAnswer,
    /// The device stopped answering after it may have accepted the frame.
    #[error("the link went silent after the command was (maybe) accepted")]
    LinkDead {
        /// True if the device had acknowledged the frame.
        accepted: bool,
    },
    /// The command was accepted but its answer arrived damaged on every re-read (§2.7 row 7).
    #[error("the answer stayed unreadable after {rereads} re-reads")]
    AnswerUnreadable {
        /// Re-reads attempted.
        rereads: u32,
    },
    /// The command was accepted but no answer came in all the allowed waits (§2.7 row 5).
    #[error("the device kept executing past every answer wait")]
    AnswerTimedOut,
    /// Protocol 2.0: the device answered with another packet number: it restarted (§2.9).
    #[error("the device answered packet {got} while {sent} was in flight (restart?)")]
    DeviceRestarted {
        /// The number we sent.
        sent: u16,
        /// The number the device answered with.
        got: u16,
    },
}

/// Timeouts and retry counts (§2.4, §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// Longest gap between bytes inside a frame. Default 100 ms: the vendor driver's value; the
    /// documented 50 ms is too tight for USB and TCP (§2.4).
    pub t_byte: Duration,
    /// Wait for ACK/NAK after a frame or ENQ. Default 1 s (serial, §2.4 recommends 0.5–1 s);
    /// use 2–3 s over TCP.
    pub t_ctrl: Duration,
    /// Enquiries without reply before "no link" (§2.6; vendor chart: 10).
    pub n_enq: u32,
    /// Sends of one frame refused before giving up (§2.6; vendor chart: 10).
    pub n_send: u32,
    /// Re-reads of a damaged answer before giving up (§2.6; vendor chart: 10).
    pub n_reread: u32,
    /// How long to keep polling after the link goes silent once the command may have been
    /// accepted, before reporting an unknown outcome. Default 10 s.
    pub recover_window: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            t_byte: Duration::from_millis(100),
            t_ctrl: Duration::from_secs(1),
            n_enq: 10,
            n_send: 10,
            n_reread: 10,
            recover_window: Duration::from_secs(10),
        }
    }
}

/// Wire counters of one link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames or packets written (commands and pings; not control bytes).
    pub frames_sent: u64,
    /// Frames or packets received intact.
    pub frames_received: u64,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// NAKs received from the device.
    pub naks_received: u64,
    /// NAKs sent for damaged answers.
    pub naks_sent: u64,
    /// Command frames sent again after a refusal or loss.
    pub retries: u64,
    /// Received bytes dropped as noise (including RNDIS 0xFF bytes, §1.3).
    pub garbage_bytes: u64,
    /// Transmissions that wait for a reply (ENQ, command frames, pings).
    pub round_trips: u64,
}

/// The command code of a message: one byte, or two for the `FF xx` family (§3).
pub(crate) fn command_code(msg: &[u8]) -> &[u8] {
    match msg {
        [0xFF, _, ..] => &msg[..2],
        [_, ..] => &msg[..1],
        [] => &[],
    }
}
