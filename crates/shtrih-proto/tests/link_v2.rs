//! The protocol 2.0 host link (§2.9) driven with packets and simulated time: numbering,
//! same-number resends, stale replays, device restarts and a silent line. A command that changes
//! fiscal or cash state ([`Resend::OnlyOnProof`]) is resent under its number only once a ping
//! shows the device still holding the previous command's answer: those tests
//! compare the wire with packets written out as hex (CRC-16/CCITT-FALSE worked out apart from
//! our encoder; the ping and the short status are the protocol notes' own §2.9 examples).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use shtrih_proto::frame::v2 as frame2;
use shtrih_proto::link::{
    Host2State, HostLink2, LinkConfig, LinkEvent, LinkFailure, LinkLayer, Resend, UnknownOutcome,
};

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];
const STATUS_ANSWER: [u8; 3] = [0x10, 0x00, 0x01];
const T_ANSWER: Duration = Duration::from_secs(3);

fn packet(num: u16, data: &[u8]) -> Vec<u8> {
    frame2::encode(num, data).unwrap()
}

struct Wire {
    link: HostLink2,
    now: Instant,
}

impl Wire {
    fn with(config: LinkConfig) -> Self {
        Wire {
            link: HostLink2::new(config),
            now: Instant::now(),
        }
    }

    fn new() -> Self {
        Self::with(LinkConfig::default())
    }

    fn start(&mut self, msg: &[u8]) {
        self.link.start(msg.to_vec(), T_ANSWER, self.now).unwrap();
    }

    fn start_with(&mut self, msg: &[u8], resend: Resend) {
        self.link
            .start_command(msg.to_vec(), T_ANSWER, resend, self.now)
            .unwrap();
    }

    fn sent(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.link.poll_transmit()).collect()
    }

    fn recv(&mut self, bytes: &[u8]) {
        self.now += Duration::from_millis(1);
        self.link.handle_input(bytes, self.now);
    }

    fn expire(&mut self) {
        self.now = self.link.poll_timeout().expect("a deadline");
        self.link.handle_timeout(self.now);
    }

    fn events(&mut self) -> Vec<LinkEvent> {
        std::iter::from_fn(|| self.link.poll_event()).collect()
    }

    /// Ping, the device says its last number is `last` and holds no answer.
    fn synced(&mut self, msg: &[u8], last: u16) {
        self.start(msg);
        assert_eq!(self.sent(), vec![frame2::ping()]);
        self.recv(&packet(last, &[]));
        assert_eq!(self.sent(), vec![packet(last.wrapping_add(1), msg)]);
    }
}

#[test]
fn first_command_pings_then_sends_the_next_number() {
    let mut w = Wire::new();
    w.synced(&STATUS, 0);
    w.recv(&packet(1, &STATUS_ANSWER));
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert!(w.link.is_idle());
    // The number is known now: no ping before the next command.
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![packet(2, &STATUS)]);
}

#[test]
fn ping_reply_with_a_retained_answer_is_discarded() {
    let mut w = Wire::new();
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![frame2::ping()]);
    w.recv(&packet(0x8E, &[0x8D, 0x00, 0x01]));
    assert_eq!(w.sent(), vec![packet(0x8F, &STATUS)]);
    assert_eq!(
        w.events(),
        vec![LinkEvent::Discarded(vec![0x8D, 0x00, 0x01])]
    );
    // 0x8F is stuffed on the wire; the answer arrives in two pieces.
    let answer = packet(0x8F, &STATUS_ANSWER);
    w.recv(&answer[..4]);
    assert!(w.events().is_empty());
    w.recv(&answer[4..]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
}

#[test]
fn lost_answer_resends_the_same_number_until_it_arrives() {
    let mut w = Wire::new();
    w.synced(&STATUS, 41);
    w.expire();
    assert_eq!(w.sent(), vec![packet(42, &STATUS)]);
    w.expire();
    assert_eq!(w.sent(), vec![packet(42, &STATUS)]);
    w.recv(&packet(42, &STATUS_ANSWER));
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().retries, 2);
}

#[test]
fn late_replay_of_the_previous_number_is_not_a_verdict() {
    let mut w = Wire::new();
    w.synced(&STATUS, 6);
    w.recv(&packet(6, &[0x8D, 0x00, 0x01]));
    assert!(matches!(
        w.link.state(),
        Host2State::AwaitAnswer { num: 7, .. }
    ));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Discarded(vec![0x8D, 0x00, 0x01])]
    );
    w.recv(&packet(7, &STATUS_ANSWER));
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
}

#[test]
fn other_number_after_sending_means_restart_and_unknown() {
    let mut w = Wire::new();
    w.synced(&STATUS, 6);
    w.expire();
    assert_eq!(w.sent(), vec![packet(7, &STATUS)]);
    // Power cycle: last number 0, no answer held.
    w.recv(&packet(0, &[]));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::DeviceRestarted {
            sent: 7,
            got: 0
        })]
    );
    // The number is forgotten: the next command pings first.
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![frame2::ping()]);
}

#[test]
fn unanswered_pings_are_no_link_and_nothing_is_sent() {
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
    assert_eq!(sent, vec![frame2::ping(); 3]);
    assert_eq!(
        w.events(),
        vec![LinkEvent::NotExecuted(LinkFailure::NoLink { enquiries: 3 })]
    );
}

#[test]
fn silence_after_sending_is_unknown_after_the_recover_window() {
    let mut w = Wire::with(LinkConfig {
        recover_window: Duration::from_secs(4),
        ..LinkConfig::default()
    });
    w.synced(&STATUS, 0);
    let mut resends = 0;
    while w.link.poll_timeout().is_some() {
        w.expire();
        resends += w.sent().len();
    }
    assert_eq!(resends, 4);
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::LinkDead {
            accepted: false
        })]
    );
}

#[test]
fn noise_around_packets_is_skipped() {
    let mut w = Wire::new();
    w.start(&STATUS);
    let _ = w.sent();
    let mut bytes = vec![0x15, 0x06];
    bytes.extend(packet(9, &[]));
    bytes.extend([0xFF, 0x00]);
    bytes.extend(packet(10, &STATUS_ANSWER));
    w.recv(&bytes);
    assert_eq!(w.sent(), vec![packet(10, &STATUS)]);
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
    assert_eq!(w.link.stats().garbage_bytes, 4);
}

#[test]
fn sync_forgets_the_number() {
    let mut w = Wire::new();
    w.synced(&STATUS, 0);
    w.recv(&packet(1, &STATUS_ANSWER));
    let _ = w.events();
    w.link.sync();
    w.start(&STATUS);
    assert_eq!(w.sent(), vec![frame2::ping()]);
}

#[test]
fn after_a_dead_link_the_next_command_pings_for_the_number() {
    let mut w = Wire::with(LinkConfig {
        recover_window: Duration::from_secs(2),
        ..LinkConfig::default()
    });
    w.synced(&STATUS, 4);
    while w.link.poll_timeout().is_some() {
        w.expire();
        let _ = w.sent();
    }
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::LinkDead {
            accepted: false
        })]
    );
    // Packet 5 did run before the line died; the device now says so.
    let cash_in = [0x50, 0x1E, 0x00, 0x00, 0x00, 0x10, 0x27, 0x00, 0x00, 0x00];
    w.start(&cash_in);
    assert_eq!(w.sent(), vec![frame2::ping()]);
    w.recv(&packet(5, &STATUS_ANSWER));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Discarded(STATUS_ANSWER.to_vec())]
    );
    assert_eq!(w.sent(), vec![packet(6, &cash_in)]);
}

/// `"8F 00"` → bytes.
fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// §2.9: the type I ping.
const PING: &str = "8F 00 00 0F 1D";
/// §2.9: short status, password 30, NUM 1.
const STATUS_1: &str = "8F 07 00 01 00 10 1E 00 00 00 1F AC";
/// Its answer `10 00 01`, NUM 1.
const STATUS_ANSWER_1: &str = "8F 05 00 01 00 10 00 01 7A 71";
/// Cash in 1000.00, password 1 (the §12.6 message), NUM 1 and NUM 7.
const CASH_IN_1: &str = "8F 0C 00 01 00 50 01 00 00 00 A0 86 01 00 00 8B 56";
const CASH_IN_7: &str = "8F 0C 00 07 00 50 01 00 00 00 A0 86 01 00 00 B5 5D";
/// The same cash in, NUM 2.
const CASH_IN_2: &str = "8F 0C 00 02 00 50 01 00 00 00 A0 86 01 00 00 14 53";
/// The next cash in's answer (document 153), NUM 2.
const CASH_IN_ANSWER_2: &str = "8F 07 00 02 00 50 00 01 99 00 4B 49";
/// The §12.6 cash-in answer `50 00 01 98 00`, NUM 1.
const CASH_IN_ANSWER_1: &str = "8F 07 00 01 00 50 00 01 98 00 F8 A2";
/// The cash-in answer, NUM 7.
const CASH_IN_ANSWER_7: &str = "8F 07 00 07 00 50 00 01 98 00 DD 03";
/// Answers the device may hold under NUM 6: a short status `10 00 01`, an open receipt `8D 00 01`.
const STATUS_ANSWER_6: &str = "8F 05 00 06 00 10 00 01 AE 16";
const OPEN_ANSWER_6: &str = "8F 05 00 06 00 8D 00 01 C6 2C";
/// Type II (numbered, empty) packets: NUM 0 (a device after power-on) and NUM 6.
const EMPTY_0: &str = "8F 02 00 00 00 A8 69";
const EMPTY_6: &str = "8F 02 00 06 00 0E C3";
/// The cash-in message, §12.6.
const CASH_IN: [u8; 10] = [0x50, 0x01, 0x00, 0x00, 0x00, 0xA0, 0x86, 0x01, 0x00, 0x00];

fn times_sent(sent: &[Vec<u8>], packet: &str) -> usize {
    sent.iter().filter(|p| **p == hex(packet)).count()
}

#[test]
fn a_read_whose_answer_is_lost_is_resent_under_its_number() {
    let mut w = Wire::new();
    w.start(&[0x10, 0x1E, 0x00, 0x00, 0x00]);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_0));
    assert_eq!(w.sent(), vec![hex(STATUS_1)]);
    w.expire();
    assert_eq!(w.sent(), vec![hex(STATUS_1)], "a read is sent again");
    w.recv(&hex(STATUS_ANSWER_1));
    assert_eq!(w.events(), vec![LinkEvent::Answer(STATUS_ANSWER.to_vec())]);
}

/// The answer packet to a cash in is lost, then the power goes and the device restarts at
/// number 0. Resending packet 1 would run the cash in a second time; the host pings instead.
#[test]
fn an_unanswered_cash_in_is_probed_never_resent_and_unknown() {
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_0));
    let mut sent = w.sent();
    assert_eq!(sent, vec![hex(CASH_IN_1)]);
    w.expire();
    let probe = w.sent();
    assert_eq!(probe, vec![hex(PING)], "a ping, not the request again");
    sent.extend(probe);
    w.recv(&hex(EMPTY_0));
    sent.extend(w.sent());
    assert_eq!(times_sent(&sent, CASH_IN_1), 1, "the request went once");
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::AckLost)]
    );
    assert!(w.link.is_idle());
    assert_eq!(w.link.stats().retries, 0);
}

/// The answer packet is lost but the device still holds it: the ping brings it back.
#[test]
fn a_cash_in_whose_answer_is_lost_is_answered_by_the_ping() {
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_0));
    assert_eq!(w.sent(), vec![hex(CASH_IN_1)]);
    w.expire();
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(CASH_IN_ANSWER_1));
    assert_eq!(
        w.events(),
        vec![LinkEvent::Answer(vec![0x50, 0x00, 0x01, 0x98, 0x00])]
    );
    // Number 1 is the device's last now: the next command goes out as 2 without a ping.
    w.start(&[0x10, 0x1E, 0x00, 0x00, 0x00]);
    assert_eq!(w.sent(), vec![packet(2, &STATUS)]);
}

#[test]
fn an_unanswered_cash_in_then_a_restarted_device_is_unknown() {
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_6));
    assert_eq!(w.sent(), vec![hex(CASH_IN_7)]);
    w.expire();
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_0));
    assert!(w.sent().is_empty());
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::DeviceRestarted {
            sent: 7,
            got: 0
        })]
    );
}

#[test]
fn an_unanswered_cash_in_on_a_silent_line_pings_until_the_window_ends() {
    let mut w = Wire::with(LinkConfig {
        recover_window: Duration::from_secs(4),
        ..LinkConfig::default()
    });
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_6));
    let mut sent = w.sent();
    while w.link.poll_timeout().is_some() {
        w.expire();
        sent.extend(w.sent());
    }
    assert_eq!(times_sent(&sent, CASH_IN_7), 1, "the request went once");
    assert_eq!(times_sent(&sent, PING), 4);
    assert_eq!(
        w.events(),
        vec![LinkEvent::Unknown(UnknownOutcome::LinkDead {
            accepted: false
        })]
    );
}

/// The request packet was lost on the line: the ping finds the device still holding the
/// previous answer, exactly as this side received it, so the request never ran and the device
/// never restarted: the same packet goes again.
#[test]
fn a_lost_cash_in_request_is_resent_once_the_previous_answer_is_seen_still_held() {
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(STATUS_ANSWER_6));
    let mut sent = w.sent();
    assert_eq!(sent, vec![hex(CASH_IN_7)]);
    w.expire();
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(STATUS_ANSWER_6));
    let resent = w.sent();
    assert_eq!(resent, vec![hex(CASH_IN_7)], "proven not run: sent again");
    sent.extend(resent);
    w.recv(&hex(CASH_IN_ANSWER_7));
    assert_eq!(
        w.events(),
        vec![
            LinkEvent::Discarded(STATUS_ANSWER.to_vec()),
            LinkEvent::Discarded(STATUS_ANSWER.to_vec()),
            LinkEvent::Answer(vec![0x50, 0x00, 0x01, 0x98, 0x00]),
        ]
    );
    assert_eq!(times_sent(&sent, CASH_IN_7), 2);
    assert_eq!(w.link.stats().retries, 1);
}

/// The previous number, but not the answer this side saw under it: not proof of anything.
#[test]
fn the_previous_number_with_another_answer_is_unknown() {
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(STATUS_ANSWER_6));
    assert_eq!(w.sent(), vec![hex(CASH_IN_7)]);
    w.expire();
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(OPEN_ANSWER_6));
    assert!(w.sent().is_empty(), "not sent again");
    let events = w.events();
    assert_eq!(
        events.last(),
        Some(&LinkEvent::Unknown(UnknownOutcome::AckLost))
    );
}

/// The previous number with nothing held: a device that restarted and numbers from where it
/// was would say the same. Not sent again.
#[test]
fn the_previous_number_with_nothing_held_is_unknown() {
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(STATUS_ANSWER_6));
    assert_eq!(w.sent(), vec![hex(CASH_IN_7)]);
    w.expire();
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_6));
    assert!(w.sent().is_empty(), "not sent again");
    assert_eq!(
        w.events().last(),
        Some(&LinkEvent::Unknown(UnknownOutcome::AckLost))
    );
}

/// Two cash ins in a row, same command code. The second request packet is lost while the
/// device still holds the first one's answer, which comes back under the first number, late
/// and again in reply to the ping. It is never taken for the second cash in's answer (that one
/// never ran): it is proof that the request did not run, so the same packet goes again, and
/// only the answer under its own number ends the exchange.
#[test]
fn a_held_answer_of_the_previous_cash_in_is_not_taken_for_the_next() {
    let first = vec![0x50, 0x00, 0x01, 0x98, 0x00];
    let mut w = Wire::new();
    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(EMPTY_0));
    assert_eq!(w.sent(), vec![hex(CASH_IN_1)]);
    w.recv(&hex(CASH_IN_ANSWER_1));
    assert_eq!(w.events(), vec![LinkEvent::Answer(first.clone())]);

    w.start_with(&CASH_IN, Resend::OnlyOnProof);
    assert_eq!(w.sent(), vec![hex(CASH_IN_2)], "lost on the line");
    w.recv(&hex(CASH_IN_ANSWER_1));
    assert!(matches!(
        w.link.state(),
        Host2State::AwaitAnswer { num: 2, .. }
    ));
    w.expire();
    assert_eq!(w.sent(), vec![hex(PING)]);
    w.recv(&hex(CASH_IN_ANSWER_1));
    assert_eq!(w.sent(), vec![hex(CASH_IN_2)], "proven not run: sent again");
    w.recv(&hex(CASH_IN_ANSWER_2));
    assert_eq!(
        w.events(),
        vec![
            LinkEvent::Discarded(first.clone()),
            LinkEvent::Discarded(first),
            LinkEvent::Answer(vec![0x50, 0x00, 0x01, 0x99, 0x00]),
        ]
    );
    assert!(w.link.is_idle());
}
