//! The control channel of an emulator running as its own process: a unix socket speaking
//! one command per line, so tests and people can open the cover, take the paper out, arm a
//! power cut or a lost ACK, or read the FN archive while a host drives the register.
//!
//! Commands (one reply per command, then the connection stays open for the next line):
//!
//! ```text
//! cover open|close                     paper out|in|out-after N
//! power-cut before-execution|after-commit|mid-answer [CODE]     (CODE in hex: 50, E0, FF46)
//! noise CORRUPT DROP                   delay MS            print-time MS
//! clock-offset MINUTES                 ff-after-ack on|off power-cycle
//! power-cut POINT [CODE] stay-off      (the power stays off after the cut)
//! drop-next-ack CODE                   (the next CODE command executes but its ACK is lost;
//!                                       on protocol 2.0 its answer packet is lost)
//! power off|on                         keyboard z-report   (a Z report made at the register)
//! keyboard cancel-receipt              (the open receipt cancelled at the register)
//! archive   → one JSON document per line        status → one JSON object
//! marking CODE valid|invalid|no-answer|timeout (the marking server's answer for CODE: text with `<GS>`
//!                                       for the group separator, or `hex:` and its bytes)
//! ```
//!
//! Replies are `ok`, JSON, or `error: …`. It does not authenticate: the socket's file
//! permissions are the access control.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::device::state::registers;
use crate::device::{MarkingAnswer, PaperState};
use crate::faults::{parse_command_code, CutPoint, FaultParseError, LineFaults, Noise, PowerCut};
use crate::handle::{wall_clock, Counters, Emulator, EmulatorError};
use crate::link::{LinkChoice, LinkPhase};

/// One control command.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlCommand {
    /// Open (`true`) or close the cover.
    Cover(bool),
    /// Paper state.
    Paper(PaperState),
    /// Arm a power cut.
    PowerCut(PowerCut),
    /// Lose the ACK (protocol 2.0: the answer packet) of the next command with this code.
    DropNextAck(u16),
    /// Byte noise in both directions.
    Noise(Noise),
    /// Answer delay.
    Delay(Duration),
    /// Printing time per line.
    PrintTime(Duration),
    /// Device clock offset in minutes.
    ClockOffset(i64),
    /// The RNDIS 0xFF after ACK (§1.3).
    FfAfterAck(bool),
    /// Power off and on now.
    PowerCycle,
    /// Power off (`false`) or on.
    Power(bool),
    /// A Z report made at the register's own keyboard.
    KeyboardZReport,
    /// The open receipt cancelled at the register's own keyboard.
    KeyboardCancelReceipt,
    /// The FN archive as JSON lines.
    Archive,
    /// A JSON status report.
    Status,
    /// The marking server's answer for a code.
    Marking(Vec<u8>, MarkingAnswer),
}

/// A control line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The first word is not a known command.
    #[error("unknown command {0:?}")]
    Unknown(String),
    /// A command's arguments are missing or malformed.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// A power-cut point or command code is malformed.
    #[error(transparent)]
    Fault(#[from] FaultParseError),
}

fn number<T: FromStr>(word: Option<&str>, usage: &'static str) -> Result<T, ControlError> {
    word.and_then(|w| w.parse().ok())
        .ok_or(ControlError::Usage(usage))
}

fn rate(word: Option<&str>, usage: &'static str) -> Result<f64, ControlError> {
    let r: f64 = number(word, usage)?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(ControlError::Usage(usage))
    }
}

/// A marking code on a control line: `hex:` and its bytes, or text with `<GS>` for 0x1D.
fn marking_code(word: &str) -> Option<Vec<u8>> {
    let code = match word.strip_prefix("hex:") {
        Some(digits) => {
            if digits.len() % 2 != 0 {
                return None;
            }
            (0..digits.len())
                .step_by(2)
                .map(|i| {
                    digits
                        .get(i..i + 2)
                        .and_then(|d| u8::from_str_radix(d, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()?
        }
        None => word.replace("<GS>", "\u{1d}").into_bytes(),
    };
    (!code.is_empty()).then_some(code)
}

impl FromStr for ControlCommand {
    type Err = ControlError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or_default();
        let first = words.next();
        let second = words.next();
        let third = words.next();
        let parsed = match (command, first) {
            ("cover", Some("open")) => ControlCommand::Cover(true),
            ("cover", Some("close")) => ControlCommand::Cover(false),
            ("cover", _) => return Err(ControlError::Usage("cover open|close")),
            ("paper", Some("out")) => ControlCommand::Paper(PaperState::Out),
            ("paper", Some("in")) => ControlCommand::Paper(PaperState::Present),
            ("paper", Some("out-after")) => ControlCommand::Paper(PaperState::OutAfterLines(
                number(second, "paper out-after LINES")?,
            )),
            ("paper", _) => return Err(ControlError::Usage("paper out|in|out-after LINES")),
            ("power-cut", Some(point)) => {
                let point = CutPoint::from_str(point)?;
                let (code, stay_off) =
                    match (second, third) {
                        (Some("stay-off"), None) => (None, true),
                        (code, Some("stay-off")) => (code, true),
                        (code, None) => (code, false),
                        (_, Some(_)) => return Err(ControlError::Usage(
                            "power-cut before-execution|after-commit|mid-answer [CODE] [stay-off]",
                        )),
                    };
                let command = code.map(parse_command_code).transpose()?;
                ControlCommand::PowerCut(PowerCut {
                    point,
                    command,
                    stay_off,
                })
            }
            ("power-cut", None) => {
                return Err(ControlError::Usage(
                    "power-cut before-execution|after-commit|mid-answer [CODE] [stay-off]",
                ))
            }
            ("drop-next-ack", Some(code)) if second.is_none() => {
                ControlCommand::DropNextAck(parse_command_code(code)?)
            }
            ("drop-next-ack", _) => return Err(ControlError::Usage("drop-next-ack CODE")),
            ("noise", _) => {
                const USAGE: &str = "noise CORRUPT DROP (probabilities per byte, 0..1)";
                ControlCommand::Noise(Noise {
                    corrupt: rate(first, USAGE)?,
                    drop: rate(second, USAGE)?,
                })
            }
            ("delay", _) => {
                ControlCommand::Delay(Duration::from_millis(number(first, "delay MS")?))
            }
            ("print-time", _) => {
                ControlCommand::PrintTime(Duration::from_millis(number(first, "print-time MS")?))
            }
            ("clock-offset", _) => {
                ControlCommand::ClockOffset(number(first, "clock-offset MINUTES")?)
            }
            ("ff-after-ack", Some("on")) => ControlCommand::FfAfterAck(true),
            ("ff-after-ack", Some("off")) => ControlCommand::FfAfterAck(false),
            ("ff-after-ack", _) => return Err(ControlError::Usage("ff-after-ack on|off")),
            ("power-cycle", _) => ControlCommand::PowerCycle,
            ("power", Some("off")) => ControlCommand::Power(false),
            ("power", Some("on")) => ControlCommand::Power(true),
            ("power", _) => return Err(ControlError::Usage("power off|on")),
            ("keyboard", Some("z-report")) => ControlCommand::KeyboardZReport,
            ("keyboard", Some("cancel-receipt")) => ControlCommand::KeyboardCancelReceipt,
            ("keyboard", _) => return Err(ControlError::Usage("keyboard z-report|cancel-receipt")),
            ("archive", _) => ControlCommand::Archive,
            ("status", _) => ControlCommand::Status,
            ("marking", Some(code)) if third.is_none() => {
                const USAGE: &str =
                    "marking CODE valid|invalid|no-answer|timeout (CODE as text with <GS>, or hex:…)";
                let answer = match second {
                    Some("valid") => MarkingAnswer::Valid,
                    Some("invalid") => MarkingAnswer::Invalid,
                    Some("no-answer") => MarkingAnswer::NoAnswer,
                    Some("timeout") => MarkingAnswer::Timeout,
                    _ => return Err(ControlError::Usage(USAGE)),
                };
                ControlCommand::Marking(
                    marking_code(code).ok_or(ControlError::Usage(USAGE))?,
                    answer,
                )
            }
            ("marking", _) => return Err(ControlError::Usage(
                "marking CODE valid|invalid|no-answer|timeout (CODE as text with <GS>, or hex:…)",
            )),
            (other, _) => return Err(ControlError::Unknown(other.to_string())),
        };
        Ok(parsed)
    }
}

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Mode (§6.4), as a 0x10 would show it now.
    pub mode: u8,
    /// Submode (§6.5).
    pub submode: u8,
    /// KKT flags (§6.3).
    pub flags: u16,
    /// Whether a shift is open.
    pub shift_open: bool,
    /// Current or last shift number.
    pub shift_number: u16,
    /// Last FD number.
    pub last_fd: u32,
    /// Documents in the FN archive.
    pub documents: usize,
    /// Cash deposits in the shift (operation register 153, §7.9).
    pub cash_in_count: u16,
    /// FN serial number.
    pub fn_number: String,
    /// Registration number (RNM).
    pub rnm: String,
    /// Cash withdrawals in the shift (operation register 154, §7.9).
    pub cash_out_count: u16,
    /// Lower level in use since power-on, if decided.
    pub link_layer: Option<LinkChoice>,
    /// Where the link state machine is.
    pub link_phase: LinkPhase,
    /// The power cut still armed.
    pub armed_power_cut: Option<PowerCut>,
    /// The command code whose ACK is still armed to be lost.
    pub armed_drop_ack: Option<u16>,
    /// Line faults in force.
    pub line_faults: LineFaults,
    /// Counts since start.
    pub counters: Counters,
}

impl Emulator {
    /// The state of the register and its faults, now.
    pub fn status_report(&self) -> StatusReport {
        let now = wall_clock();
        let counters = self.counters();
        let s = self.station.lock();
        let state = s.device.state();
        let op_register = |n| state.operation_registers.get(&n).copied().unwrap_or(0);
        StatusReport {
            mode: s.device.mode(now),
            submode: s.device.submode(now),
            flags: s.device.flags(),
            shift_open: state.shift.open,
            shift_number: state.shift.number,
            last_fd: state.fiscal_storage.last_fd(),
            documents: state.fiscal_storage.archive.len(),
            cash_in_count: op_register(registers::CASH_IN_COUNT),
            fn_number: state.config.fn_serial.clone(),
            rnm: state.config.rnm.clone(),
            cash_out_count: op_register(registers::CASH_OUT_COUNT),
            link_layer: s.link.layer(),
            link_phase: s.link.phase(),
            armed_power_cut: s.armed,
            armed_drop_ack: s.drop_ack,
            line_faults: s.faults.clone(),
            counters,
        }
    }

    /// Carries out one control command; returns the reply text (no trailing newline).
    pub fn control(&self, command: ControlCommand) -> String {
        match command {
            ControlCommand::Cover(open) => self.set_cover_open(open),
            ControlCommand::Paper(paper) => self.set_paper(paper),
            ControlCommand::PowerCut(cut) => self.arm_power_cut(cut),
            ControlCommand::DropNextAck(code) => self.arm_drop_next_ack(code),
            ControlCommand::Noise(noise) => self.update_line_faults(|f| {
                f.to_device = noise;
                f.from_device = noise;
            }),
            ControlCommand::Delay(delay) => self.update_line_faults(|f| f.answer_delay = delay),
            ControlCommand::PrintTime(per_line) => self.set_print_time_per_line(
                chrono::Duration::from_std(per_line).unwrap_or(chrono::Duration::zero()),
            ),
            ControlCommand::ClockOffset(minutes) => {
                self.set_clock_offset(chrono::Duration::minutes(minutes))
            }
            ControlCommand::FfAfterAck(on) => self.update_line_faults(|f| f.ff_after_ack = on),
            ControlCommand::PowerCycle => self.power_cycle(),
            ControlCommand::Power(on) => self.set_power(on),
            ControlCommand::KeyboardZReport => {
                if let Err(code) = self.keyboard_z_report() {
                    return format!("error: the register refused the Z report (code {code:#04x})");
                }
            }
            ControlCommand::KeyboardCancelReceipt => {
                if let Err(code) = self.keyboard_cancel_receipt() {
                    return format!("error: the register refused to cancel (code {code:#04x})");
                }
            }
            ControlCommand::Archive => {
                let lines: Vec<String> = self
                    .archive()
                    .iter()
                    .filter_map(|d| serde_json::to_string(d).ok())
                    .collect();
                return lines.join("\n");
            }
            ControlCommand::Marking(code, answer) => self.set_marking_answer(&code, answer),
            ControlCommand::Status => {
                return serde_json::to_string(&self.status_report())
                    .unwrap_or_else(|e| format!("error: {e}"));
            }
        }
        "ok".to_string()
    }

    /// Parses and carries out one control line.
    pub fn control_line(&self, line: &str) -> String {
        match line.parse::<ControlCommand>() {
            Ok(command) => self.control(command),
            Err(e) => format!("error: {e}"),
        }
    }

    /// Listens for control connections on the unix socket `path` (an old socket file there
    /// is replaced). The socket file is removed when the returned handle is dropped.
    pub fn serve_control(&self, path: &Path) -> Result<ControlHandle, EmulatorError> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).map_err(|source| EmulatorError::Io {
            what: format!("bind {}", path.display()),
            source,
        })?;
        let emulator = self.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_connection(emulator.clone(), stream));
                    }
                    Err(e) => tracing::warn!("control socket: {e}"),
                }
            }
        });
        Ok(ControlHandle {
            path: path.to_path_buf(),
            task,
        })
    }
}

/// A listening control socket.
#[derive(Debug)]
pub struct ControlHandle {
    /// The socket's path.
    pub path: PathBuf,
    task: JoinHandle<()>,
}

impl Drop for ControlHandle {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn serve_connection(emulator: Emulator, stream: UnixStream) {
    let (rd, mut wr) = stream.into_split();
    let mut lines = BufReader::new(rd).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let mut reply = emulator.control_line(line.trim());
        tracing::info!(command = line.trim(), "control");
        reply.push('\n');
        if wr.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
