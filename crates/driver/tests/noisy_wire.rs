//! The host link against the emulator's device link on a simulated noisy line, byte for
//! byte: 1 % of the bytes dropped and 1 % damaged in each direction (as `lossy_line.rs`),
//! delivery delays that now and then reach 20 ms, the timings of `lossy_line.rs`. Thousands
//! of exchanges in the order a receipt sends them, each message tagged so that the fake
//! register can say which exchange it executed:
//!
//! * an `Answer` comes only after the device executed that very message (never the held
//!   answer of an earlier command), and is that execution's answer;
//! * `NotExecuted` means the message never executes, not even later from a copy still on
//!   the line;
//! * a command sent with [`Resend::OnlyOnProof`] executes at most once.
//!
//! A frame damaged so that its LRC still matches executes as some other message (§2.2); such
//! executions are counted apart and excuse the exchange they happen in. Likewise an answer
//! so damaged is one the register never gave, and is not held against the link.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

mod wire;

use emulator::faults::{LineNoise, Noise};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shtrih_proto::link::{LinkEvent, LinkLayer, Resend};

/// The line: the emulator's own seeded noise (1 % of the bytes dropped, 1 % damaged) and
/// delivery delays drawn from the same seed.
struct Line {
    noise: LineNoise,
    rng: StdRng,
}

impl Line {
    fn new(seed: u64) -> Line {
        Line {
            noise: LineNoise::new(seed),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// `bytes` after the line.
    fn carry(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.noise.apply(
            &Noise {
                corrupt: 0.01,
                drop: 0.01,
            },
            bytes,
        )
    }

    /// How long a write takes to arrive: mostly at once, sometimes up to 20 ms late.
    fn delay(&mut self) -> Duration {
        if self.rng.gen_bool(0.05) {
            Duration::from_micros(self.rng.gen_range(0..20_000))
        } else {
            Duration::from_micros(self.rng.gen_range(20..220))
        }
    }
}

/// The messages of one receipt, as the driver sends them (§9.3): status and snapshot reads,
/// then 8D, three FF46, 0x89, FF0C, FF45, FF40, status. Answers of one code are alike, as a
/// register's are (every FF46 answers `FF 46 00 1E`).
fn receipt_script() -> Vec<(Vec<u8>, Resend)> {
    let with_password = |code: &[u8], params: &[u8]| {
        let mut m = code.to_vec();
        m.extend_from_slice(&[0x1E, 0x00, 0x00, 0x00]);
        m.extend_from_slice(params);
        m
    };
    let (read, write) = (Resend::Safe, Resend::OnlyOnProof);
    let mut item = with_password(&[0xFF, 0x46], &[0x01, 0x80, 0x84, 0x1E, 0x00, 0x00, 0x00]);
    item.extend_from_slice(&[0x1E; 30]);
    let close = wire::close_receipt();
    let email = [0xE4, 0x03, 0x05, 0x00, b'a', b'@', b'b', b'.', b'c'];
    vec![
        (with_password(&[0x10], &[]), read),
        (with_password(&[0xFF, 0x01], &[]), read),
        (with_password(&[0x11], &[]), read),
        (with_password(&[0x1B], &[153]), read),
        (with_password(&[0x1B], &[154]), read),
        (with_password(&[0x1A], &[242]), read),
        (with_password(&[0x1A], &[243]), read),
        (with_password(&[0x8D], &[0x00]), write),
        (item.clone(), write),
        (item.clone(), write),
        (item, write),
        (with_password(&[0x89], &[]), read),
        (with_password(&[0xFF, 0x0C], &email), write),
        (close, write),
        (with_password(&[0xFF, 0x40], &[]), read),
        (with_password(&[0x10], &[]), read),
    ]
}

fn code(msg: &[u8]) -> &[u8] {
    if msg[0] == 0xFF {
        &msg[..2]
    } else {
        &msg[..1]
    }
}

/// The fake register: FF45 makes a document; reads answer with the last document number.
#[derive(Default)]
struct Register {
    last_fd: u32,
    /// Exchange of each message sent so far.
    sent: HashMap<Vec<u8>, usize>,
    /// Per exchange, the answers of its executions.
    executed: HashMap<usize, Vec<Vec<u8>>>,
    /// Executions of a message nobody sent (a damaged frame whose LRC matched), by the
    /// exchange in flight.
    garbled: HashMap<usize, u32>,
    /// Every answer it gave.
    answers: std::collections::HashSet<Vec<u8>>,
}

impl Register {
    fn execute(&mut self, msg: &[u8], in_flight: usize) -> Vec<u8> {
        let mut answer = code(msg).to_vec();
        answer.push(0x00);
        match code(msg) {
            [0xFF, 0x45] => {
                self.last_fd += 1;
                answer.extend_from_slice(&self.last_fd.to_le_bytes());
            }
            [0xFF, 0x46] | [0xFF, 0x0C] | [0x8D] => answer.push(0x1E),
            _ => {
                answer.push(0x1E);
                answer.extend_from_slice(&self.last_fd.to_le_bytes());
            }
        }
        self.answers.insert(answer.clone());
        match self.sent.get(msg) {
            Some(&exchange) => self
                .executed
                .entry(exchange)
                .or_default()
                .push(answer.clone()),
            None => *self.garbled.entry(in_flight).or_default() += 1,
        }
        answer
    }

    fn runs(&self, exchange: usize) -> usize {
        self.executed.get(&exchange).map_or(0, Vec::len)
    }
}

/// Runs `exchanges` exchanges on a line seeded with `seed`; returns what went wrong.
fn run(seed: u64, exchanges: usize) -> Vec<String> {
    let mut line = Line::new(seed);
    let now = Instant::now();
    let mut host = wire::host();
    let mut device = wire::device(now);
    let mut now = now;
    let mut register = Register::default();
    let mut to_device: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut to_host: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let script = receipt_script();
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    for k in 0..exchanges {
        let (mut msg, resend) = script[k % script.len()].clone();
        msg.extend_from_slice(&(k as u16).to_le_bytes());
        register.sent.insert(msg.clone(), k);
        host.start_command(msg.clone(), Duration::from_millis(60), resend, now)
            .unwrap();
        let outcome = loop {
            while let Some(bytes) = host.poll_transmit() {
                let last = to_device.back().map_or(now, |w| w.0);
                to_device.push_back(((now + line.delay()).max(last), bytes));
            }
            let mut last = None;
            while let Some(event) = host.poll_event() {
                if event.is_final() {
                    last = Some(event);
                }
            }
            if let Some(event) = last {
                break event;
            }
            let next = [
                host.poll_timeout(),
                device.poll_timeout(),
                to_device.front().map(|w| w.0),
                to_host.front().map(|w| w.0),
            ]
            .into_iter()
            .flatten()
            .min()
            .expect("a deadline while the exchange runs");
            now = now.max(next);
            let mut out = Vec::new();
            if to_device.front().is_some_and(|w| w.0 <= now) {
                let (_, bytes) = to_device.pop_front().unwrap();
                let bytes = line.carry(&bytes);
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let used = device.handle_input(rest, now);
                    rest = &rest[used..];
                    out.extend(device.poll_transmit().unwrap_or_default());
                    if let Some(request) = device.poll_request() {
                        let answer = register.execute(&request, k);
                        device.answer_ready(answer, now);
                        out.extend(device.poll_transmit().unwrap_or_default());
                    }
                }
            } else if to_host.front().is_some_and(|w| w.0 <= now) {
                let (_, bytes) = to_host.pop_front().unwrap();
                host.handle_input(&bytes, now);
            } else {
                if device.poll_timeout().is_some_and(|d| d <= now) {
                    device.handle_timeout(now);
                    out.extend(device.poll_transmit().unwrap_or_default());
                }
                host.handle_timeout(now);
            }
            let out = line.carry(&out);
            if !out.is_empty() {
                let last = to_host.back().map_or(now, |w| w.0);
                to_host.push_back(((now + line.delay()).max(last), out));
            }
        };
        let excused = register.garbled.contains_key(&k);
        if let LinkEvent::Answer(answer) = &outcome {
            let ran = register.executed.get(&k).and_then(|runs| runs.last());
            // An answer damaged so that its LRC still matched is no answer the register gave.
            let given = register.answers.contains(answer);
            if ran != Some(answer) && given && !excused {
                problems.push(format!(
                    "seed {seed}, exchange {k} ({:02X?}): answer {answer:02X?}, but its \
                     executions answered {:02X?}",
                    code(&msg),
                    register.executed.get(&k)
                ));
            }
        }
        outcomes.push((k, resend, outcome, excused));
    }
    // Copies still on the line may execute after their exchange ended: judge at the end.
    for (k, resend, outcome, excused) in outcomes {
        let runs = register.runs(k);
        if matches!(outcome, LinkEvent::NotExecuted(_)) && runs > 0 && !excused {
            problems.push(format!(
                "seed {seed}, exchange {k}: {outcome:?}, but it executed {runs} times"
            ));
        }
        if resend == Resend::OnlyOnProof && runs > 1 {
            problems.push(format!(
                "seed {seed}, exchange {k}: {outcome:?}, executed {runs} times"
            ));
        }
    }
    problems
}

#[test]
fn on_a_noisy_line_answers_are_their_commands_and_state_changes_run_once() {
    let mut problems = Vec::new();
    for seed in 1..=20u64 {
        problems.extend(run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 4_000));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
