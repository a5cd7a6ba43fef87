//! The `Emulator` handle: one virtual register (device model + device link + line faults)
//! shared by its transports, its control channel and the tests that inspect it.
//!
//! `Station` is the synchronous heart every transport drives under the lock: input bytes
//! go through noise into the link, accepted requests through the armed faults (a lost ACK, a
//! power cut) into the device, answers (possibly delayed) back into the link. The lock is never held across an
//! await; transports only lock to feed bytes and collect output.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDateTime;
use parking_lot::Mutex;
use serde::Serialize;

use crate::device::{
    Device, DeviceConfig, DeviceError, DeviceFaults, DeviceState, FnDocument, PaperState,
};
use crate::faults::{command_code, CutPoint, LineFaults, LineNoise, PowerCut};
use crate::link::standard::ACK;
use crate::link::{DeviceLink, LinkChoice, LinkCounters, LinkPhase, LinkTiming};

/// How to build a virtual register.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Identity and behaviour of the device model.
    pub device: DeviceConfig,
    /// Where the device state (FN archive included) persists; in memory only when `None`.
    pub state_file: Option<PathBuf>,
    /// Which lower level the device speaks.
    pub link: LinkChoice,
    /// Device-side link timings.
    pub timing: LinkTiming,
    /// Line faults from the start.
    pub faults: LineFaults,
    /// Seed of the line noise.
    pub seed: u64,
    /// The one serial speed the device listens at over a pty; at any other speed the host's
    /// bytes are line noise to it and it answers nothing. `None`: any speed works.
    pub baud: Option<u32>,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The device model could not be created or its state file read.
    #[error("device: {0}")]
    Device(#[from] DeviceError),
    /// A transport could not be set up (pty, socket, listener).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The pty could not be opened or configured.
    #[error("pty: {0}")]
    Pty(String),
}

/// Counts since start, for tests and the status report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Link-level counts.
    #[serde(flatten)]
    pub link: LinkCounters,
    /// Commands executed on the device model.
    pub frames_executed: u64,
    /// Power cycles, armed cuts and explicit ones.
    pub power_cycles: u64,
    /// Armed lost-ACK faults that struck (an ACK byte, or on protocol 2.0 an answer packet,
    /// that never left the device).
    pub acks_lost: u64,
    /// Bytes read from the host, before line noise.
    pub bytes_in: u64,
    /// Bytes written to the host, after line noise.
    pub bytes_out: u64,
}

/// One virtual register. Cheap to clone; all clones are the same register.
#[derive(Clone)]
pub struct Emulator {
    pub(crate) station: Arc<Mutex<Station>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").finish_non_exhaustive()
    }
}

/// How many executed requests [`Emulator::executed_requests`] keeps.
pub const REQUEST_LOG: usize = 1000;

/// The device's clock source for `execute`: the host's local time, like a register's RTC.
pub(crate) fn wall_clock() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

impl Emulator {
    /// A register with the given configuration; loads `state_file` if it exists.
    pub fn new(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let device = match &config.state_file {
            Some(path) => Device::open(config.device.clone(), path)?,
            None => Device::new(config.device.clone()),
        };
        Ok(Emulator::with_model(device, &config))
    }

    /// A register around an already built device model.
    pub fn with_model(device: Device, config: &EmulatorConfig) -> Emulator {
        let mut link = DeviceLink::new(config.link, config.timing);
        link.set_ff_after_ack(config.faults.ff_after_ack);
        let station = Station {
            device,
            link,
            faults: config.faults.clone(),
            noise: LineNoise::new(config.seed),
            armed: None,
            drop_ack: None,
            powered_off: false,
            baud: config.baud,
            delayed: None,
            executed: 0,
            power_cycles: 0,
            acks_lost: 0,
            executed_by_code: BTreeMap::new(),
            requests: std::collections::VecDeque::new(),
            bytes_in: 0,
            bytes_out: 0,
            session: 0,
        };
        Emulator {
            station: Arc::new(Mutex::new(station)),
        }
    }

    /// The FN archive, oldest first.
    pub fn archive(&self) -> Vec<FnDocument> {
        self.station.lock().device.archive().to_vec()
    }

    /// Everything printed so far.
    pub fn tape(&self) -> String {
        self.station.lock().device.tape().to_string()
    }

    /// The device's persistent state.
    pub fn state(&self) -> DeviceState {
        self.station.lock().device.state().clone()
    }

    /// Runs `f` on the device model under the lock (keep it short, no awaits).
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device) -> R) -> R {
        f(&mut self.station.lock().device)
    }

    /// Runs `f` on the device's own faults (cover, paper, print time, clock offset).
    pub fn with_device_faults<R>(&self, f: impl FnOnce(&mut DeviceFaults) -> R) -> R {
        f(self.station.lock().device.faults_mut())
    }

    /// What the marking server answers when the register checks `code` (FF61, FF67); a code
    /// never set is valid.
    pub fn set_marking_answer(&self, code: &[u8], answer: crate::device::MarkingAnswer) {
        self.with_device_faults(|d| {
            d.marking_answers.insert(code.to_vec(), answer);
        });
    }

    /// Opens or closes the cover.
    pub fn set_cover_open(&self, open: bool) {
        self.with_device_faults(|d| d.cover_open = open);
    }

    /// Loads paper, takes it out, or lets it run out after some lines.
    pub fn set_paper(&self, paper: PaperState) {
        self.with_device_faults(|d| d.paper = paper);
    }

    /// Shifts the device clock against the host's (e.g. to reach the 24-hour shift rule).
    pub fn set_clock_offset(&self, offset: chrono::Duration) {
        self.with_device_faults(|d| d.clock_offset = offset);
    }

    /// Printing time per line (the device shows submode 5 meanwhile).
    pub fn set_print_time_per_line(&self, per_line: chrono::Duration) {
        self.with_device_faults(|d| d.print_time_per_line = per_line);
    }

    /// Arms a power cut for the next matching command (replaces one already armed).
    pub fn arm_power_cut(&self, cut: PowerCut) {
        self.station.lock().armed = Some(cut);
    }

    /// The power cut still armed, if any.
    pub fn armed_power_cut(&self) -> Option<PowerCut> {
        self.station.lock().armed
    }

    /// Arms a lost acknowledgement for the next command with code `code` (`0x50`, `0xFF45`
    /// …; replaces one already armed): the device executes it, but on the standard layer the
    /// ACK byte that accepts its frame never reaches the host (the answer still follows), and
    /// on protocol 2.0, which has no ACK, its answer packet is lost (the device retains it).
    /// Armed together with a power cut after commit on the same command, the device executes,
    /// the host sees nothing at all, and the restart takes the retained answer.
    pub fn arm_drop_next_ack(&self, code: u16) {
        self.station.lock().drop_ack = Some(code);
    }

    /// The command code whose ACK is still armed to be lost, if any.
    pub fn armed_drop_ack(&self) -> Option<u16> {
        self.station.lock().drop_ack
    }

    /// Replaces the line faults.
    pub fn set_line_faults(&self, faults: LineFaults) {
        let mut s = self.station.lock();
        s.link.set_ff_after_ack(faults.ff_after_ack);
        s.faults = faults;
    }

    /// Changes the line faults in place.
    pub fn update_line_faults(&self, f: impl FnOnce(&mut LineFaults)) {
        let mut s = self.station.lock();
        f(&mut s.faults);
        let ff = s.faults.ff_after_ack;
        s.link.set_ff_after_ack(ff);
    }

    /// The current line faults.
    pub fn line_faults(&self) -> LineFaults {
        self.station.lock().faults.clone()
    }

    /// Switches the power off and on: the device restarts, the link forgets its retained
    /// answer and waits for the first ENQ.
    pub fn power_cycle(&self) {
        self.station.lock().power_cycle(wall_clock());
    }

    /// Switches the power off (the register forgets its retained answer and answers nothing)
    /// or on again.
    pub fn set_power(&self, on: bool) {
        let mut s = self.station.lock();
        if !on && !s.powered_off {
            s.power_cycle(wall_clock());
        }
        s.powered_off = !on;
    }

    /// A Z report made at the register itself, not through the host link; `Err(code)` when
    /// the device refuses it (e.g. 0x73 when no shift is open).
    pub fn keyboard_z_report(&self) -> Result<(), u8> {
        self.station.lock().device.keyboard_z_report(wall_clock())
    }

    /// The open receipt cancelled at the register itself; `Err(code)` when the device refuses
    /// (e.g. no receipt open).
    pub fn keyboard_cancel_receipt(&self) -> Result<(), u8> {
        self.station
            .lock()
            .device
            .keyboard_cancel_receipt(wall_clock())
    }

    /// Counts since start.
    pub fn counters(&self) -> Counters {
        let s = self.station.lock();
        Counters {
            link: s.link.counters(),
            frames_executed: s.executed,
            power_cycles: s.power_cycles,
            acks_lost: s.acks_lost,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
        }
    }

    /// How many times commands with code `code` (`0x50`, `0xFF45` …) were executed since
    /// start, whatever they answered: a command sent twice shows here even when the device
    /// refused the second copy.
    pub fn executions(&self, code: u16) -> u64 {
        self.station
            .lock()
            .executed_by_code
            .get(&code)
            .copied()
            .unwrap_or(0)
    }

    /// The request messages (code and parameters, as the device parsed them) executed since
    /// start, oldest first, at most the last [`REQUEST_LOG`]: tests read the wire order.
    pub fn executed_requests(&self) -> Vec<Vec<u8>> {
        self.station.lock().requests.iter().cloned().collect()
    }

    /// Where the link state machine is.
    pub fn link_phase(&self) -> LinkPhase {
        self.station.lock().link.phase()
    }
}

/// The register's moving parts, always used under the handle's lock.
pub(crate) struct Station {
    pub(crate) device: Device,
    pub(crate) link: DeviceLink,
    pub(crate) faults: LineFaults,
    noise: LineNoise,
    pub(crate) armed: Option<PowerCut>,
    /// The next command with this code loses its ACK (standard) or answer packet (2.0).
    pub(crate) drop_ack: Option<u16>,
    /// The power is off: bytes from the host are lost and nothing is answered.
    pub(crate) powered_off: bool,
    /// The speed the device listens at (pty only), if fixed.
    pub(crate) baud: Option<u32>,
    /// An answer held back by `answer_delay`, when it is due, and whether it is lost on the
    /// way (a lost-ACK fault on protocol 2.0).
    delayed: Option<(Instant, Vec<u8>, bool)>,
    executed: u64,
    power_cycles: u64,
    acks_lost: u64,
    /// Executions per command code.
    executed_by_code: BTreeMap<u16, u64>,
    /// The last [`REQUEST_LOG`] request messages executed, oldest first.
    requests: std::collections::VecDeque<Vec<u8>>,
    pub(crate) bytes_in: u64,
    bytes_out: u64,
    /// Incremented by each new transport connection; an older one stops serving.
    pub(crate) session: u64,
}

impl Station {
    fn power_cycle(&mut self, wall: NaiveDateTime) {
        self.device.power_cycle(wall);
        self.link.power_cycle();
        self.delayed = None;
        self.power_cycles += 1;
    }

    /// Bytes from the host arrived at `now`; returns the bytes to send back.
    pub(crate) fn feed(&mut self, bytes: &[u8], now: Instant, wall: NaiveDateTime) -> Vec<u8> {
        self.bytes_in += bytes.len() as u64;
        if self.powered_off {
            return Vec::new();
        }
        let noise = self.faults.to_device;
        let bytes = self.noise.apply(&noise, bytes);
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let used = self.link.handle_input(rest, now);
            rest = &rest[used..];
            let mut sent = self.link.poll_transmit().unwrap_or_default();
            let Some(request) = self.link.poll_request() else {
                out.extend(sent);
                continue;
            };
            let lose_ack = self
                .drop_ack
                .is_some_and(|code| command_code(&request) == Some(code));
            let mut lose_answer = false;
            if lose_ack {
                self.drop_ack = None;
                self.acks_lost += 1;
                match self.link.layer() {
                    // The link stops right after the byte that completes a frame, so the ACK
                    // accepting it is the last byte it produced (§2.5).
                    Some(LinkChoice::Standard) => {
                        if sent.last() == Some(&ACK) {
                            sent.pop();
                        }
                    }
                    // No ACK on this layer: the answer packet is what goes missing.
                    _ => lose_answer = true,
                }
            }
            out.extend(sent);
            out.extend(self.run(&request, now, wall, lose_answer));
        }
        self.outbound(out)
    }

    /// Timers: gaps and waits of the link, delayed answers. Returns bytes to send.
    pub(crate) fn tick(&mut self, now: Instant) -> Vec<u8> {
        if self.powered_off {
            return Vec::new();
        }
        if self.delayed.as_ref().is_some_and(|(due, ..)| now >= *due) {
            if let Some((_, answer, lost)) = self.delayed.take() {
                self.link.answer_ready(answer, now);
                if lost {
                    let _ = self.link.poll_transmit();
                }
            }
        }
        self.link.handle_timeout(now);
        let out = self.link.poll_transmit().unwrap_or_default();
        self.outbound(out)
    }

    /// When `tick` must run next.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        let link = self.link.poll_timeout();
        let delayed = self.delayed.as_ref().map(|(due, ..)| *due);
        match (link, delayed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Executes an accepted request, honouring an armed power cut. Returns the bytes written
    /// before the power went (half an answer) or the answer when it is not delayed; nothing
    /// when `lose_answer` (the answer, or its half, is lost on the line).
    fn run(
        &mut self,
        request: &[u8],
        now: Instant,
        wall: NaiveDateTime,
        lose_answer: bool,
    ) -> Vec<u8> {
        let cut = self.armed.filter(|c| c.matches(request));
        if cut.is_some() {
            self.armed = None;
            self.powered_off = cut.is_some_and(|c| c.stay_off);
        }
        if cut.map(|c| c.point) == Some(CutPoint::BeforeExecution) {
            self.power_cycle(wall);
            return Vec::new();
        }
        let answer = self.device.execute(request, wall);
        self.executed += 1;
        if let Some(code) = command_code(request) {
            *self.executed_by_code.entry(code).or_default() += 1;
        }
        if self.requests.len() == REQUEST_LOG {
            self.requests.pop_front();
        }
        self.requests.push_back(request.to_vec());
        match cut.map(|c| c.point) {
            Some(CutPoint::AfterCommit) => {
                self.power_cycle(wall);
                Vec::new()
            }
            Some(CutPoint::MidAnswer) => {
                let mut wire = self.link.frame_answer(&answer);
                wire.truncate(wire.len() / 2);
                self.power_cycle(wall);
                if lose_answer {
                    Vec::new()
                } else {
                    wire
                }
            }
            _ if !self.faults.answer_delay.is_zero() => {
                self.delayed = Some((now + self.faults.answer_delay, answer, lose_answer));
                Vec::new()
            }
            _ => {
                self.link.answer_ready(answer, now);
                let wire = self.link.poll_transmit().unwrap_or_default();
                if lose_answer {
                    Vec::new()
                } else {
                    wire
                }
            }
        }
    }

    fn outbound(&mut self, out: Vec<u8>) -> Vec<u8> {
        let noise = self.faults.from_device;
        let out = self.noise.apply(&noise, &out);
        self.bytes_out += out.len() as u64;
        out
    }
}
