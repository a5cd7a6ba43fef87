//! Exactly-once under a hostile line: both host links run a series of distinct commands
//! against a minimal device model (§2.5 for the standard layer, §2.9 with the numbering rule
//! agreed with the emulator for protocol 2.0) while chunks are dropped or corrupted and the
//! device power-cycles, losing its retained answer (and its packet number). No command may
//! execute twice; an `Answer` means executed once, `NotExecuted` means never executed.
//!
//! Commands that may be resent on a guess ([`Resend::Safe`]) only see restarts between
//! exchanges: a restart between a frame and its lost ACK is undetectable (§2.7 row 3, "unless
//! the device rebooted"), which is harmless for them. Commands that change fiscal or cash
//! state ([`Resend::OnlyOnProof`]) must stay exactly-once with the power going at any moment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use shtrih_proto::frame::v2::{self as frame2, Decoded2};
use shtrih_proto::frame::{self, Decoded, ACK, ENQ, NAK};
use shtrih_proto::link::{HostLink, HostLink2, LinkConfig, LinkEvent, LinkLayer, Resend};

/// What the line does to one chunk (one write of either side).
#[derive(Debug, Clone, Copy)]
enum Fate {
    Deliver,
    Drop,
    Corrupt(usize, u8),
    /// The device loses power before the chunk arrives.
    PowerCycle,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        30 => Just(Fate::Deliver),
        3 => Just(Fate::Drop),
        3 => (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Fate::Corrupt(i, x)),
        1 => Just(Fate::PowerCycle),
    ]
}

/// A line that loses whole replies more often and a supply that fails more often, so that
/// "executed, ACK and answer lost, then a restart" turns up in most runs.
fn harsh_fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        10 => Just(Fate::Deliver),
        4 => Just(Fate::Drop),
        1 => (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Fate::Corrupt(i, x)),
        2 => Just(Fate::PowerCycle),
    ]
}

/// Executions per command id, and the answer each one produces.
#[derive(Default)]
struct Ledger {
    executed: HashMap<u16, u32>,
}

impl Ledger {
    fn execute(&mut self, msg: &[u8]) -> Vec<u8> {
        let id = u16::from_le_bytes([msg[1], msg[2]]);
        *self.executed.entry(id).or_default() += 1;
        vec![msg[0], 0x00, msg[1], msg[2]]
    }
}

/// The §2.5 device, fed whole chunks.
enum Device1 {
    WaitFirstEnq,
    Idle,
    WaitAck(Vec<u8>),
    Hold(Vec<u8>),
}

impl Device1 {
    fn receive(&mut self, chunk: &[u8], ledger: &mut Ledger) -> Vec<Vec<u8>> {
        match std::mem::replace(self, Device1::Idle) {
            Device1::WaitFirstEnq if chunk == [ENQ] => vec![vec![NAK]],
            Device1::WaitFirstEnq => {
                *self = Device1::WaitFirstEnq;
                vec![]
            }
            Device1::Idle => match frame::decode(chunk) {
                Decoded::Frame { msg, consumed } if consumed == chunk.len() && msg.len() == 3 => {
                    let answer = frame::encode(&ledger.execute(&msg)).unwrap();
                    *self = Device1::WaitAck(answer.clone());
                    vec![vec![ACK], answer]
                }
                _ => vec![vec![NAK]],
            },
            Device1::WaitAck(answer) if chunk == [ACK] => {
                let _ = answer;
                vec![]
            }
            Device1::WaitAck(answer) => {
                *self = Device1::Hold(answer);
                vec![]
            }
            Device1::Hold(answer) if chunk == [ENQ] => {
                *self = Device1::WaitAck(answer.clone());
                vec![vec![ACK], answer]
            }
            Device1::Hold(answer) => {
                *self = Device1::Hold(answer);
                vec![]
            }
        }
    }

    /// Time passes with no byte from the host: an unacknowledged answer is put on hold.
    fn idle_time(&mut self) {
        if let Device1::WaitAck(answer) = self {
            *self = Device1::Hold(std::mem::take(answer));
        }
    }
}

/// The §2.9 device: executes NUM = last + 1, otherwise replays.
struct Device2 {
    last: u16,
    retained: Option<Vec<u8>>,
}

impl Device2 {
    fn receive(&mut self, chunk: &[u8], ledger: &mut Ledger) -> Vec<Vec<u8>> {
        let Decoded2::Packet {
            num,
            data,
            consumed,
        } = frame2::decode(chunk)
        else {
            return vec![];
        };
        if consumed != chunk.len() {
            return vec![];
        }
        if num == Some(self.last.wrapping_add(1)) && data.len() == 3 {
            self.last = self.last.wrapping_add(1);
            self.retained = Some(ledger.execute(&data));
        }
        let data = self.retained.clone().unwrap_or_default();
        vec![frame2::encode(self.last, &data).unwrap()]
    }
}

fn apply(fate: Fate, chunk: &[u8]) -> Option<Vec<u8>> {
    match fate {
        Fate::Deliver | Fate::PowerCycle => Some(chunk.to_vec()),
        Fate::Drop => None,
        Fate::Corrupt(i, x) => {
            let mut c = chunk.to_vec();
            let at = i % c.len();
            c[at] ^= x;
            // A lone control byte turned into another one (ACK into NAK…) is a lie no link
            // algorithm can see through (§2.6 trusts ENQ→NAK); model it as noise instead.
            if let [b @ (ACK | NAK | ENQ | frame::STX)] = c.as_mut_slice() {
                *b = 0x00;
            }
            Some(c)
        }
    }
}

/// Runs `commands` commands through `link` against `device`; checks the ledger after each.
/// With [`Resend::Safe`] the device restarts only before an exchange's first byte; with
/// [`Resend::OnlyOnProof`] before any chunk.
fn exercise<L: LinkLayer>(
    link: &mut L,
    resend: Resend,
    mut device: impl FnMut(&[u8], &mut Ledger, bool) -> Vec<Vec<u8>>,
    mut device_idle: impl FnMut(),
    fates: &[Fate],
    commands: u16,
) {
    let mut ledger = Ledger::default();
    let mut now = Instant::now();
    let mut next_fate = fates.iter().copied().cycle();
    for id in 0..commands {
        let [lo, hi] = id.to_le_bytes();
        let code = match resend {
            Resend::Safe => 0x10,
            Resend::OnlyOnProof => 0x50,
        };
        let msg = vec![code, lo, hi];
        link.start_command(msg.clone(), Duration::from_secs(1), resend, now)
            .unwrap();
        let mut outcome = None;
        let mut first_chunk = true;
        for _ in 0..10_000 {
            let mut quiet = true;
            while let Some(chunk) = link.poll_transmit() {
                quiet = false;
                let fate = next_fate.next().unwrap_or(Fate::Deliver);
                let Some(chunk) = apply(fate, &chunk) else {
                    continue;
                };
                let power_cycle = matches!(fate, Fate::PowerCycle)
                    && (first_chunk || resend == Resend::OnlyOnProof);
                first_chunk = false;
                for reply in device(&chunk, &mut ledger, power_cycle) {
                    let fate = next_fate.next().unwrap_or(Fate::Deliver);
                    if let Some(reply) = apply(fate, &reply) {
                        now += Duration::from_millis(1);
                        link.handle_input(&reply, now);
                    }
                }
            }
            while let Some(event) = link.poll_event() {
                if event.is_final() {
                    outcome = Some(event);
                }
            }
            if outcome.is_some() {
                break;
            }
            if quiet {
                let deadline = link.poll_timeout().expect("a deadline while busy");
                now = now.max(deadline);
                device_idle();
                link.handle_timeout(now);
            }
        }
        let runs = ledger.executed.get(&id).copied().unwrap_or(0);
        match outcome.expect("the exchange ended") {
            LinkEvent::Answer(answer) => {
                assert_eq!(runs, 1, "answered command {id} ran {runs} times");
                assert_eq!(answer, vec![code, 0x00, lo, hi], "answer of command {id}");
            }
            LinkEvent::NotExecuted(why) => assert_eq!(runs, 0, "{why:?} but ran {runs} times"),
            LinkEvent::Unknown(_) => assert!(runs <= 1, "command {id} ran {runs} times"),
            LinkEvent::Discarded(_) => unreachable!("not final"),
        }
    }
}

fn fast_config() -> LinkConfig {
    LinkConfig {
        recover_window: Duration::from_secs(3),
        ..LinkConfig::default()
    }
}

fn standard_link(resend: Resend, fates: &[Fate]) {
    let device = std::cell::RefCell::new(Device1::Idle);
    let mut link = HostLink::new(fast_config());
    exercise(
        &mut link,
        resend,
        |chunk, ledger, power_cycle| {
            let mut device = device.borrow_mut();
            if power_cycle {
                *device = Device1::WaitFirstEnq;
            }
            device.receive(chunk, ledger)
        },
        || device.borrow_mut().idle_time(),
        fates,
        12,
    );
}

fn link2(resend: Resend, fates: &[Fate]) {
    let mut device = Device2 {
        last: 0,
        retained: None,
    };
    let mut link = HostLink2::new(fast_config());
    exercise(
        &mut link,
        resend,
        |chunk, ledger, power_cycle| {
            if power_cycle {
                device = Device2 {
                    last: 0,
                    retained: None,
                };
            }
            device.receive(chunk, ledger)
        },
        || {},
        fates,
        12,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn standard_link_never_executes_a_command_twice(fates in prop::collection::vec(fate(), 1..60)) {
        standard_link(Resend::Safe, &fates);
    }

    #[test]
    fn link2_never_executes_a_command_twice(fates in prop::collection::vec(fate(), 1..60)) {
        link2(Resend::Safe, &fates);
    }

    #[test]
    fn standard_link_never_executes_a_state_changing_command_twice_across_restarts(fates in prop::collection::vec(harsh_fate(), 1..60)) {
        standard_link(Resend::OnlyOnProof, &fates);
    }

    #[test]
    fn link2_never_executes_a_state_changing_command_twice_across_restarts(fates in prop::collection::vec(harsh_fate(), 1..60)) {
        link2(Resend::OnlyOnProof, &fates);
    }
}
