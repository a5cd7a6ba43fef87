//! The standard host link (§2.6) driven byte by byte with simulated time: one test per row of
//! the §2.7 decision table, plus draining, 0xFF skipping, re-reads, retry limits and the
//! §12.10 exchange. Row 3 is tested both ways: a read is resent, a command that changes fiscal
//! or cash state ([`Resend::OnlyOnProof`]) is never sent twice and ends unknown; those tests
//! compare the wire with frames copied from the protocol notes (§12), not built by our encoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{hex, msg};
use shtrih_proto::command::CommandClass;
use shtrih_proto::frame::{self, ACK, ENQ, NAK};
use shtrih_proto::link::{
    HostLink, HostState, LinkBusy, LinkConfig, LinkEvent, LinkFailure, LinkLayer, Resend,
    UnknownOutcome,
};

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];
const STATUS_ANSWER: [u8; 3] = [0x10, 0x00, 0x01];
const T_ANSWER: Duration = Duration::from_secs(3);

fn framed(msg: &[u8]) -> Vec<u8> {
    frame::encode(msg).unwrap()
}

/// A link under test with a simulated clock.
struct Wire {
    link: HostLink,
    base: Instant,
    now: Instant,
}

impl Wire {
    fn new() -> Self {
        Self::with(LinkConfig::default())
    }

    fn with(config: LinkConfig) -> Self {
        let base = Instant::now();
        Wire {
            link: HostLink::new(config),
            base,
            now: base,
        }
    }

    fn start(&mut self, msg: &[u8]) {
        self.link.start(msg.to_vec(), T_ANSWER, self.now).unwrap();
    }

    fn start_with(&mut self, msg: &[u8], resend: Resend) {
        self.link
            .start_command(msg.to_vec(), T_ANSWER, resend, self.now)
            .unwrap();
    }

    /// Everything the host wants to write, concatenated.
    fn sent(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(bytes) = self.link.poll_transmit() {
            out.extend(bytes);
        }
        out
    }

    fn recv(&mut self, bytes: &[u8]) {
        self.now += Duration::from_millis(1);
        self.link.handle_input(bytes, self.now);
    }

    /// Lets the next deadline pass.
    fn expire(&mut self) {
        let deadline = self.link.poll_timeout().expect("a deadline");
        assert!(deadline >= self.now);
        self.now = deadline;
        self.link.handle_timeout(self.now);
    }

    fn events(&mut self) -> Vec<LinkEvent> {
        std::iter::from_fn(|| self.link.poll_event()).collect()
    }

    /// The first exchange steps: ENQ → NAK, then the frame goes out.
    fn synced_and_sent(&mut self, msg: &[u8]) {
        self.start(msg);
        assert_eq!(self.sent(), vec![ENQ]);
        self.recv(&[NAK]);
        assert_eq!(self.sent(), framed(msg));
    }
}

#[test]
fn row1_nak_after_frame_means_not_executed_and_is_resent() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[NAK]);
    assert!(
        w.sent().is_empty(),
        "not while the line may carry more NAKs"
    );
    assert!(matches!(w.link.state(), HostState::Backoff { .. }));
    w.expire();
    assert_eq!(w.sent(), framed(&STATUS), "resent once the line is quiet");
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().retries, 1);
    assert_eq!(w.link.stats().naks_received, 2);
    assert!(w.link.is_idle());
}

#[test]
fn row2_ack_after_frame_waits_for_answer_and_never_resends() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    assert!(matches!(w.link.state(), HostState::ReadAnswer { .. }));
    // The answer may take up to T_answer: nothing is sent meanwhile.
    assert_eq!(w.link.poll_timeout(), Some(w.now + T_ANSWER));
    assert!(w.sent().is_empty());
    w.now += T_ANSWER - Duration::from_millis(10);
    w.link.handle_timeout(w.now);
    assert!(w.sent().is_empty());
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().frames_sent, 1);
}

/// §12.10: short status, password 1.
const STATUS_FRAME: &str = "02 05 10 01 00 00 00 14";
/// §12.1: its answer, captured from a device.
const STATUS_ANSWER_FRAME: &str = "02 10 10 00 01 92 02 02 05 00 9F E5 18 01 00 92 08 00 6F";
/// §12.6: cash in 1000.00, password 1.
const CASH_IN_FRAME: &str = "02 0A 50 01 00 00 00 A0 86 01 00 00 7C";
/// §12.6: its answer (document number 152).
const CASH_IN_ANSWER_FRAME: &str = "02 05 50 00 01 98 00 CC";
/// §12.5: close receipt v2, cash 200.00, tax system ОСН.
const CLOSE_FRAME: &str = "02 76 FF 45 1E 00 00 00 20 4E 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01
    BD";

#[test]
fn row3_for_a_read_silence_then_enq_nak_means_not_executed_and_is_resent() {
    for resend in [None, Some(Resend::Safe)] {
        let mut w = Wire::new();
        let status = msg(STATUS_FRAME);
        match resend {
            None => w.start(&status),
            Some(resend) => w.start_with(&status, resend),
        }
        assert_eq!(w.sent(), hex("05"));
        w.recv(&hex("15"));
        assert_eq!(w.sent(), hex(STATUS_FRAME));
        w.expire();
        assert_eq!(w.sent(), hex("05"), "asks instead of resending blindly");
        assert!(matches!(w.link.state(), HostState::Recover { .. }));
        w.recv(&hex("15"));
        w.expire();
        assert_eq!(w.sent(), hex(STATUS_FRAME), "a read is sent again");
        w.recv(&hex("06"));
        w.recv(&hex(STATUS_ANSWER_FRAME));
        assert_eq!(w.sent(), hex("06"));
        assert_eq!(
            w.events(),
            vec![LinkEvent::Answer(msg(STATUS_ANSWER_FRAME))]
        );
        assert_eq!(w.link.stats().frames_sent, 2);
    }
}

/// The lost-ACK case: the device ACKed and executed the frame, the ACK was lost on the line,
/// then the power went and the retained answer with it. ENQ→NAK looks exactly like row 3.
#[test]
fn row3_for_a_cash_in_is_unknown_and_the_frame_goes_once() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert!(w.sent().is_empty(), "never sent a second time");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AckLost)]
    );
    assert!(w.link.is_idle());
    assert_eq!(w.link.stats().frames_sent, 1);
    assert_eq!(w.link.stats().retries, 0);
}

#[test]
fn row3_for_a_close_receipt_is_unknown_and_the_frame_goes_once() {
    let mut w = Wire::new();
    let close = msg(CLOSE_FRAME);
    assert_eq!(close.len(), 118);
    w.start_with(&close, Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CLOSE_FRAME));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert!(w.sent().is_empty(), "never sent a second time");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AckLost)]
    );
    assert_eq!(w.link.stats().frames_sent, 1);
    // The next command starts by synchronising, as always.
    w.start(&msg(STATUS_FRAME));
    assert_eq!(w.sent(), hex("05"));
}

/// The device was off for a while (ENQs unanswered), then came back idle: still unknown.
#[test]
fn row3_for_a_cash_in_after_a_silent_spell_is_unknown() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AckLost)]
    );
    assert_eq!(w.link.stats().frames_sent, 1);
}

/// Row 1 is proof: a NAK in answer to the very frame means it was not executed, so even a
/// cash in is sent again.
#[test]
fn row1_for_a_cash_in_a_nak_to_the_frame_is_proof_and_it_is_resent() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.recv(&hex("15"));
    w.expire();
    assert_eq!(
        w.sent(),
        hex(CASH_IN_FRAME),
        "resent once the line is quiet"
    );
    w.recv(&hex("06"));
    w.recv(&hex(CASH_IN_ANSWER_FRAME));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(msg(CASH_IN_ANSWER_FRAME))]
    );
    assert_eq!(w.link.stats().frames_sent, 2);
}

/// After a NAK to the first send, the second send goes unanswered and ENQ gets NAK: the
/// second send may have run, so the outcome is unknown, not a third send.
#[test]
fn row1_then_row3_for_a_cash_in_is_unknown() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.recv(&hex("15"));
    w.expire();
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AckLost)]
    );
    assert_eq!(w.link.stats().frames_sent, 2);
}

/// The frame's STX was lost on the line: the device, idle, NAKs each of its other bytes
/// (§2.5 IDLE), so one send draws a run of NAKs, here split over two reads. That is one
/// refusal: the frame goes out once more when the line is quiet, not once per NAK. (Taking
/// every NAK for a refusal of the latest send put up to `n_send` copies of a cash in or a
/// receipt close on the line; a device knocked out of WAIT_ACK by noise between two copies
/// executed the next one too.)
#[test]
fn a_run_of_naks_to_one_frame_is_one_refusal_and_one_resend() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    let naks = hex(CASH_IN_FRAME).len() - 1;
    w.recv(&[NAK; 4]);
    assert!(w.sent().is_empty(), "no copy per NAK");
    w.recv(&vec![NAK; naks - 4]);
    assert!(w.sent().is_empty(), "no copy per NAK");
    assert!(matches!(w.link.state(), HostState::Backoff { .. }));
    w.expire();
    assert_eq!(
        w.sent(),
        hex(CASH_IN_FRAME),
        "one copy, once the line is quiet"
    );
    w.recv(&hex("06"));
    w.recv(&hex(CASH_IN_ANSWER_FRAME));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(msg(CASH_IN_ANSWER_FRAME))]
    );
    assert_eq!(w.link.stats().frames_sent, 2);
    assert_eq!(w.link.stats().naks_received, 1 + naks as u64);
}

/// The wait for a quiet line after a NAK moves with every byte, within T_ctrl: bytes that
/// keep coming do not hold the resend back for ever, and the resend limit still ends the
/// exchange with nothing left on the line.
#[test]
fn the_quiet_wait_after_a_nak_is_bounded_and_the_last_refusal_sends_nothing() {
    let config = LinkConfig {
        n_send: 2,
        ..LinkConfig::default()
    };
    let (t_byte, t_ctrl) = (config.t_byte, config.t_ctrl);
    let mut w = Wire::with(config);
    w.synced_and_sent(&STATUS);
    let refused = w.now + Duration::from_millis(1);
    w.recv(&[NAK]);
    for _ in 0..3 {
        w.now += t_byte / 2;
        w.link.handle_input(&[NAK], w.now);
        w.link.handle_timeout(w.now);
        assert!(w.sent().is_empty(), "the line is not quiet yet");
    }
    w.now = refused + t_ctrl;
    w.link.handle_input(&[NAK], w.now);
    w.link.handle_timeout(w.now);
    assert_eq!(
        w.sent(),
        framed(&STATUS),
        "sent again at T_ctrl at the latest"
    );
    w.recv(&[NAK]);
    assert!(w.events().is_empty());
    w.expire();
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::NotExecuted(LinkFailure::Refused { sends: 2 })]
    );
}

/// Rows 2 and 4 do not change: a cash in whose ACK was lost but whose device still holds the
/// answer is read, not guessed at.
#[test]
fn row4_for_a_cash_in_reads_the_held_answer() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("06"));
    w.recv(&hex(CASH_IN_ANSWER_FRAME));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(msg(CASH_IN_ANSWER_FRAME))]
    );
    assert_eq!(w.link.stats().frames_sent, 1);
}

/// The answer to the previous status request was taken but this side's ACK to it was lost,
/// so the device still holds it (§2.5 HOLD). The next request's ENQ gets a reply damaged into
/// a NAK, the frame goes out and the device, holding its answer, drops it. The ENQ after the
/// silence is answered with ACK and the old answer, same command code: not this request's
/// answer. It is discarded and the request is sent again.
#[test]
fn a_held_answer_of_the_previous_command_is_not_taken_for_the_next() {
    let next_answer = [0x10, 0x00, 0x02];
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK], "this ACK is lost on the line");
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);

    w.start(&STATUS);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[NAK]);
    assert_eq!(w.sent(), framed(&STATUS), "dropped by the device");
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(
        w.sent(),
        vec![ACK, ENQ],
        "the replay is consumed, then a new sync"
    );
    assert_eq!(
        w.events(),
        vec![LinkEvent::Discarded(STATUS_ANSWER.to_vec())]
    );
    w.recv(&[NAK]);
    assert_eq!(w.sent(), framed(&STATUS), "a read may be sent again");
    w.recv(&[ACK]);
    w.recv(&framed(&next_answer));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(next_answer.to_vec())]);
    assert!(w.link.is_idle());
}

/// As above for a cash in: the replayed answer of the previous cash in is not taken for the
/// next one, and the frame is not sent again on that guess: the outcome is unknown.
#[test]
fn a_held_answer_of_the_previous_cash_in_makes_the_next_one_unknown_not_answered() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.recv(&hex("06"));
    w.recv(&hex(CASH_IN_ANSWER_FRAME));
    assert_eq!(w.sent(), hex("06"), "this ACK is lost on the line");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(msg(CASH_IN_ANSWER_FRAME))]
    );

    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME), "dropped by the device");
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("06"));
    w.recv(&hex(CASH_IN_ANSWER_FRAME));
    assert_eq!(w.sent(), hex("06"), "consumed, never sent a third time");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::PreviousAnswer)]
    );
    assert!(w.link.is_idle());
    assert_eq!(w.link.stats().frames_sent, 2);
}

/// Row 4 after an earlier exchange: an answer that differs from the one taken before cannot be
/// its replay, so it is this command's, read without resending.
#[test]
fn row4_after_an_earlier_answer_a_different_answer_is_taken() {
    let next_answer = [0x10, 0x00, 0x02];
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);

    w.synced_and_sent(&STATUS);
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&next_answer));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(next_answer.to_vec())]);
    assert_eq!(w.link.stats().frames_sent, 2, "each request sent once");
}

/// The ENQ before a request is answered with a replay of the previous answer whose ACK was
/// lost and whose STX was damaged; a byte inside it is 15. That is no NAK: the device is not
/// idle, it holds an answer and would drop the frame. Nothing is sent until the line is quiet,
/// then the ENQ is repeated.
#[test]
fn a_nak_inside_a_damaged_replay_is_not_taken_for_an_idle_device() {
    let held = [0x10, 0x00, 0x15, 0x01];
    let replay = framed(&held);
    assert_eq!(replay, [0x02, 0x04, 0x10, 0x00, NAK, 0x01, 0x00]);
    let mut damaged = replay.clone();
    damaged[0] ^= 0x01;
    let mut w = Wire::new();
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&damaged);
    assert!(w.sent().is_empty(), "the frame is not sent");
    w.expire();
    assert_eq!(w.sent(), vec![ENQ], "asked again once the line is quiet");
    w.recv(&[ACK]);
    w.recv(&replay);
    assert_eq!(w.sent(), vec![ACK, ENQ]);
    assert_eq!(w.events(), vec![LinkEvent::Discarded(held.to_vec())]);
    w.recv(&[NAK]);
    assert_eq!(w.sent(), framed(&STATUS));
    assert_eq!(w.link.stats().frames_sent, 1);
}

/// After a cash in's frame, the ACK is lost and the answer arrives with its STX damaged; a
/// byte inside it is 15. That is no NAK to the frame (§2.7 row 1), so it is no proof that the
/// cash in was refused: the frame is not sent again; the ENQ once the line is quiet gets the
/// held answer.
#[test]
fn a_nak_inside_a_damaged_answer_is_no_proof_that_a_cash_in_was_refused() {
    let answer = msg("02 05 50 00 01 15 00 41");
    let mut damaged = hex("02 05 50 00 01 15 00 41");
    damaged[0] = 0x12;
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.recv(&damaged);
    assert!(w.sent().is_empty(), "not sent again");
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("06"));
    w.recv(&hex("02 05 50 00 01 15 00 41"));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(w.events(), vec![LinkEvent::Answer(answer)]);
    assert_eq!(w.link.stats().frames_sent, 1);
}

/// No reply to the synchronising ENQ: the frame was never sent, which is proof enough.
#[test]
fn a_cash_in_that_never_got_past_the_sync_is_not_executed() {
    let mut w = Wire::with(LinkConfig {
        n_enq: 2,
        ..LinkConfig::default()
    });
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.expire();
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::NotExecuted(LinkFailure::NoLink { enquiries: 2 })]
    );
    assert_eq!(w.link.stats().frames_sent, 0);
}

#[test]
fn only_reads_and_idempotent_writes_may_be_resent_on_a_guess() {
    assert_eq!(Resend::for_class(CommandClass::Read), Resend::Safe);
    assert_eq!(
        Resend::for_class(CommandClass::IdempotentWrite),
        Resend::Safe
    );
    assert_eq!(
        Resend::for_class(CommandClass::SelfGuarding),
        Resend::OnlyOnProof
    );
    assert_eq!(
        Resend::for_class(CommandClass::Dangerous),
        Resend::OnlyOnProof
    );
}

#[test]
fn row4_silence_then_enq_ack_reads_the_answer() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().frames_sent, 1, "never resent");
}

#[test]
fn row5_ack_no_answer_then_enq_ack_keeps_waiting() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    assert!(matches!(w.link.state(), HostState::ReadAnswer { .. }));
    assert!(w.events().is_empty());
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().frames_sent, 1);
}

#[test]
fn row6_ack_no_answer_then_enq_nak_is_unknown() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[NAK]);
    assert!(w.sent().is_empty(), "never resent after ACK");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AnswerLost)]
    );
    assert!(w.link.is_idle());
}

#[test]
fn row7_bad_lrc_answer_is_naked_and_reread() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    let mut damaged = framed(&STATUS_ANSWER);
    *damaged.last_mut().unwrap() ^= 0x40;
    w.recv(&damaged);
    assert!(matches!(w.link.state(), HostState::Flush { .. }));
    assert!(w.sent().is_empty(), "waits for a quiet line first");
    w.expire();
    assert_eq!(w.sent(), vec![NAK, ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().naks_sent, 1);
    assert_eq!(w.link.stats().frames_sent, 1);
}

#[test]
fn row8_answer_replayed_after_lost_ack_is_discarded_on_next_sync() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    // Our ACK was lost: the device replays the same answer on the next ENQ.
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK, ENQ]);
    assert_eq!(
        w.events(),
        vec![LinkEvent::Discarded(STATUS_ANSWER.to_vec())]
    );
    w.recv(&[NAK]);
    assert_eq!(w.sent(), framed(&STATUS), "the new command is really sent");
}

#[test]
fn stale_answer_of_another_command_is_drained_before_sending() {
    let mut w = Wire::new();
    let stale = [0x8D, 0x00, 0x01];
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&stale));
    assert_eq!(w.sent(), vec![ACK, ENQ]);
    w.recv(&[NAK]);
    assert_eq!(w.sent(), framed(&STATUS));
    assert_eq!(w.events(), vec![LinkEvent::Discarded(stale.to_vec())]);
}

#[test]
fn replayed_answer_of_the_unconsumed_command_is_taken_not_resent() {
    let cash_in = [0x50, 0x1E, 0x00, 0x00, 0x00, 0x10, 0x27, 0x00, 0x00, 0x00];
    let cash_in_answer = [0x50, 0x00, 0x01, 0x2A, 0x00];
    let mut w = Wire::with(LinkConfig {
        recover_window: Duration::from_secs(2),
        ..LinkConfig::default()
    });
    w.synced_and_sent(&cash_in);
    w.recv(&[ACK]);
    // The answer never arrives and the device goes silent: unknown.
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    while w.link.poll_timeout().is_some() {
        w.expire();
        let _ = w.sent();
    }
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::LinkDead {
            accepted: true
        })]
    );
    // Asked again for the same command: the device replays its answer; it is ours.
    w.start(&cash_in);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[ACK]);
    w.recv(&framed(&cash_in_answer));
    assert_eq!(w.sent(), vec![ACK], "the command is not sent again");
    assert_eq!(w.events(), vec![LinkEvent::Answer(cash_in_answer.to_vec())]);
    assert!(w.link.is_idle());
}

#[test]
fn unreadable_reply_to_the_frame_then_enq_nak_is_unknown_not_resent() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    // A damaged byte where ACK was expected: maybe an ACK, maybe noise.
    w.recv(&[0x07]);
    w.expire();
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[NAK]);
    assert!(w.sent().is_empty(), "not resent");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AnswerLost)]
    );
}

#[test]
fn damaged_answer_after_a_lost_ack_then_enq_nak_is_unknown_not_resent() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    // The ACK is lost and the answer that follows is damaged: the command may have run.
    let mut damaged = framed(&STATUS_ANSWER);
    *damaged.last_mut().unwrap() ^= 0x40;
    w.recv(&damaged);
    w.expire();
    assert_eq!(w.sent(), vec![NAK, ENQ]);
    // The device restarted meanwhile: its retained answer is gone.
    w.recv(&[NAK]);
    assert!(w.sent().is_empty(), "not resent");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AnswerLost)]
    );
    assert_eq!(w.link.stats().frames_sent, 1);
}

#[test]
fn rndis_ff_bytes_are_skipped_while_a_control_byte_is_expected() {
    let mut w = Wire::new();
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&[0xFF, 0xFF, NAK]);
    assert_eq!(w.sent(), framed(&STATUS));
    let mut reply = vec![0xFF, ACK];
    reply.extend(framed(&STATUS_ANSWER));
    w.recv(&reply);
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().garbage_bytes, 3);
}

#[test]
fn answer_after_a_lost_ack_is_read_without_resending() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    // The device's ACK is lost on the line; its answer arrives intact.
    w.recv(&framed(&STATUS_ANSWER));
    assert_eq!(w.sent(), vec![ACK]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().frames_sent, 1);
}

#[test]
fn replay_after_a_lost_enq_ack_is_drained() {
    let mut w = Wire::new();
    let stale = [0x8D, 0x00, 0x01];
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![ENQ]);
    w.recv(&framed(&stale));
    assert_eq!(w.sent(), vec![ACK, ENQ]);
    assert_eq!(w.events(), vec![LinkEvent::Discarded(stale.to_vec())]);
}

#[test]
fn answer_split_across_reads_is_assembled() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    let answer = framed(&STATUS_ANSWER);
    w.recv(&[ACK, answer[0]]);
    w.recv(&answer[1..3]);
    assert!(w.events().is_empty());
    w.recv(&answer[3..]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
}

#[test]
fn byte_gap_inside_an_answer_is_treated_as_damage() {
    let mut w = Wire::new();
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    let answer = framed(&STATUS_ANSWER);
    w.recv(&answer[..3]);
    assert_eq!(
        w.link.poll_timeout(),
        Some(w.now + Duration::from_millis(100))
    );
    w.expire();
    w.expire();
    assert_eq!(w.sent(), vec![NAK, ENQ]);
    w.recv(&[ACK]);
    w.recv(&answer);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
}

#[test]
fn reread_exhaustion_is_unknown() {
    let mut w = Wire::with(LinkConfig {
        n_reread: 2,
        ..LinkConfig::default()
    });
    w.synced_and_sent(&STATUS);
    w.recv(&[ACK]);
    let mut damaged = framed(&STATUS_ANSWER);
    *damaged.last_mut().unwrap() ^= 1;
    for _ in 0..2 {
        w.recv(&damaged);
        w.expire();
        assert_eq!(w.sent(), vec![NAK, ENQ]);
        w.recv(&[ACK]);
    }
    w.recv(&damaged);
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AnswerUnreadable {
            rereads: 2
        })]
    );
}

#[test]
fn send_retry_exhaustion_is_not_executed() {
    let mut w = Wire::with(LinkConfig {
        n_send: 3,
        ..LinkConfig::default()
    });
    w.synced_and_sent(&STATUS);
    w.recv(&[NAK]);
    w.expire();
    assert_eq!(w.sent(), framed(&STATUS));
    w.recv(&[NAK]);
    w.expire();
    assert_eq!(w.sent(), framed(&STATUS));
    w.recv(&[NAK]);
    w.expire();
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::NotExecuted(LinkFailure::Refused { sends: 3 })]
    );
    assert_eq!(w.link.stats().retries, 2);
}

#[test]
fn silent_device_is_no_link_and_the_command_is_never_sent() {
    let mut w = Wire::with(LinkConfig {
        n_enq: 3,
        ..LinkConfig::default()
    });
    w.start(&STATUS);
    let mut sent = w.sent();
    while w.link.poll_timeout().is_some() {
        w.expire();
        sent.extend(w.sent());
    }
    assert_eq!(sent, vec![ENQ, ENQ, ENQ]);
    assert_eq!(
        w.events(),
        vec![LinkEvent::NotExecuted(LinkFailure::NoLink { enquiries: 3 })]
    );
    assert_eq!(w.now - w.base, Duration::from_secs(3));
}

#[test]
fn silence_after_frame_ends_unknown_after_the_recover_window() {
    let mut w = Wire::with(LinkConfig {
        recover_window: Duration::from_secs(5),
        ..LinkConfig::default()
    });
    w.synced_and_sent(&STATUS);
    let sent_at = w.now;
    let mut enqs = 0;
    while w.link.poll_timeout().is_some() {
        w.expire();
        enqs += w.sent().len();
    }
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::LinkDead {
            accepted: false
        })]
    );
    assert_eq!(enqs, 5);
    assert_eq!(w.now - sent_at, Duration::from_secs(6));
}

#[test]
fn start_while_busy_is_refused() {
    let mut w = Wire::new();
    w.start(&STATUS);
    assert_eq!(
        w.link.start(STATUS.to_vec(), T_ANSWER, w.now),
        Err(LinkBusy)
    );
    assert!(!w.link.is_idle());
}

#[test]
fn unframeable_message_is_not_executed() {
    let mut w = Wire::new();
    w.link.start(Vec::new(), T_ANSWER, w.now).unwrap();
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::NotExecuted(LinkFailure::BadMessage)]
    );
    assert!(w.link.is_idle());
}

/// §12.10: one receipt, every byte on the wire, including the lost ACK to FF45.
#[test]
fn exchange_12_10_byte_for_byte() {
    let mut w = Wire::new();
    let open = hex("8D 01 00 00 00 00");
    w.start_with(&open, Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex("02 06 8D 01 00 00 00 00 8A"));
    w.recv(&hex("06"));
    w.recv(&hex("02 03 8D 00 01 8F"));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(w.events(), vec![LinkEvent::Answer(hex("8D 00 01"))]);

    let item = hex(
        "FF 46 01 00 00 00 01 40 42 0F 00 00 00 3C 46 00 00 00 FF FF FF FF FF FF FF FF FF FF \
         04 01 04 01 D2 E5 F1 F2",
    );
    w.start_with(&item, Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(
        w.sent(),
        hex(
            "02 24 FF 46 01 00 00 00 01 40 42 0F 00 00 00 3C 46 00 00 00 FF FF FF FF FF FF FF \
             FF FF FF 04 01 04 01 D2 E5 F1 F2 DE"
        )
    );
    w.recv(&hex("06"));
    w.recv(&hex("02 03 FF 46 00 BA"));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(w.events(), vec![LinkEvent::Answer(hex("FF 46 00"))]);

    let mut close = hex("FF 45 01 00 00 00 20 4E 00 00 00");
    close.resize(117, 0);
    close.push(0x01);
    w.start_with(&close, Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    let close_frame = w.sent();
    assert_eq!(close_frame.len(), 121);
    assert_eq!(close_frame[..4], hex("02 76 FF 45"));
    assert_eq!(close_frame[118..], hex("00 01 A2"));
    // The ACK is lost: nothing within T_ctrl, so the host asks (§2.6 RECOVER).
    w.expire();
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("06"));
    w.recv(&hex(
        "02 10 FF 45 00 E4 07 00 00 00 41 2E 00 00 BF BF 0B E9 C4",
    ));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(hex(
            "FF 45 00 E4 07 00 00 00 41 2E 00 00 BF BF 0B E9"
        ))]
    );

    let poll = hex("10 01 00 00 00");
    w.start(&poll);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex("02 05 10 01 00 00 00 14"));
    w.recv(&hex("06"));
    w.recv(&hex(
        "02 10 10 00 01 92 02 02 05 00 9F E5 18 01 00 92 08 00 6F",
    ));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(hex(
            "10 00 01 92 02 02 05 00 9F E5 18 01 00 92 08 00"
        ))]
    );
    assert_eq!(w.link.stats().frames_sent, 4);
    assert_eq!(w.link.stats().retries, 0);
}

/// An answer whose STX was lost on the line arrives as bytes without a frame start. Once the
/// line has been quiet for T_byte it is a damaged answer (NAK, then ENQ, §2.6), not a silence
/// to wait out for the whole answer timeout; the device's replay is then read as the answer.
#[test]
fn an_answer_that_lost_its_stx_is_asked_for_again_after_t_byte_not_the_answer_timeout() {
    let mut w = Wire::new();
    w.start_with(&msg(CASH_IN_FRAME), Resend::OnlyOnProof);
    assert_eq!(w.sent(), hex("05"));
    w.recv(&hex("15"));
    assert_eq!(w.sent(), hex(CASH_IN_FRAME));
    w.recv(&hex("06"));
    let accepted = w.now;
    // The answer without its STX: 05 50 00 01 98 00 CC.
    let mut tail = hex(CASH_IN_ANSWER_FRAME);
    tail.remove(0);
    w.recv(&tail);
    let deadline = w.link.poll_timeout().expect("a deadline");
    assert!(
        deadline <= w.now + LinkConfig::default().t_byte,
        "asked again after T_byte of quiet, not at the answer timeout ({:?} after acceptance)",
        deadline - accepted
    );
    w.expire();
    // The flush: the line must stay quiet for T_byte before the NAK.
    assert!(w.sent().is_empty());
    w.expire();
    assert_eq!(
        w.sent(),
        hex("15 05"),
        "NAK for the damaged answer, then ENQ"
    );
    w.recv(&hex("06"));
    w.recv(&hex(CASH_IN_ANSWER_FRAME));
    assert_eq!(w.sent(), hex("06"));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(msg(CASH_IN_ANSWER_FRAME))]
    );
    assert_eq!(w.link.stats().frames_sent, 1, "the cash in went once");
}
