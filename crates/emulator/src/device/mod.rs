//! The pure device model: a virtual Shtrih-M register with an FN. It takes a request *message*
//! (command code + parameters, §3) and the host's wall clock, and returns the answer message
//! (code + error + data). It knows nothing about frames, link layers or transports, never
//! sleeps and never reads a clock: time only comes from the `now` argument.
//!
//! With a state file, the non-volatile state (FN archive, counters, shift, mode, open receipt,
//! registers, tables) is made durable before `execute` returns for every command that changed
//! it (see `persist`: an fsynced append-only log, torn tails ignored, compacted by rename), and
//! the printed tape is appended to `<state file>.tape.txt`.
//!
//! Choices where the protocol notes leave things open (§13): an open cover, like missing paper,
//! refuses printing commands (0x8D, FF45, 0x50, 0x51, 0xE0, 0x41, 0x40, print/feed/cut, legacy
//! 0x80–0x85) with 0x6B and shows submode 1 plus flag bit 10; 0x8D and the legacy sale commands
//! in mode 4 answer 0x3D (no implicit shift opening); FF46/FF45/0x88/0x89 without an open
//! receipt answer 0x55; the FF46 tax byte is a row's code (FFD 1.2 addendum §2: `1 << (row - 1)`
//! for rows 1..6, the 2026 codes for rows 7..12 of the model family), anything else 0x33, and 0
//! means row 4 (no VAT); 0x6B without a parameter describes the last command's error; table
//! 17.7 = 1 leaves the next document unprinted (FN archive only); FN queries (FF01…FF40) need
//! the system-administrator password, while the document-forming FF commands (FF41–FF46,
//! FF0B, FF0C, FF4D) accept any operator's (§4); FF0B/FF43 do not print. Marked goods
//! (FF61/FF69/FF67/FF68/FF70, FFD 1.2 addendum §4) are modelled in `marking`, with the marking
//! server's answer per code a test control.

mod access;
mod commands;
mod fn_archive;
mod fn_tlv;
mod legacy;
mod marking;
mod money;
mod persist;
mod receipt;
mod shift;
pub mod state;
mod tables;
mod tape;
mod wire;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use marking::MarkingAnswer;
use state::OpenReceipt;
pub use state::{DeviceState, FnDocument, ReceiptItem, Tlv, VatSum};
use wire::err;

/// Fixed parameters of the emulated register and its FN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// Model name reported by 0xFC.
    pub model_name: String,
    /// Model code reported by 0xFC (250 = ШТРИХ-М-01Ф, §7.1).
    pub model_code: u8,
    /// Protocol version and subversion reported by 0xFC (1.14).
    pub protocol_version: (u8, u8),
    /// KKT serial number (digits).
    pub kkt_serial: String,
    /// FN serial number, 16 ASCII digits.
    pub fn_serial: String,
    /// Registration number (RNM), 20 ASCII characters.
    pub rnm: String,
    /// Taxpayer INN, 12 ASCII characters (space padded).
    pub inn: String,
    /// FFD version code (table 17.17; 4 = FFD 1.2).
    pub ffd_version: u8,
    /// Tax table 6: rate in 1/100 % and name per row (12 rows on 2026 firmware, 6 before;
    /// see [`tax_table`]).
    pub tax_rates: Vec<(u16, String)>,
    /// Registered tax systems (bit field, §8.6).
    pub tax_systems: u8,
    /// Key of the deterministic fiscal sign.
    pub hmac_key: Vec<u8>,
    /// FN expiry date (FF03).
    pub fn_expiry: NaiveDate,
    /// Device-clock time of the registration report (FD 1).
    pub registered_at: NaiveDateTime,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        Self {
            model_name: "ШТРИХ-М-01Ф".to_owned(),
            model_code: 250,
            protocol_version: (1, 14),
            kkt_serial: "0000000000012345".to_owned(),
            fn_serial: "9999078900012345".to_owned(),
            rnm: "0000000001012345    ".to_owned(),
            inn: "7700000000  ".to_owned(),
            ffd_version: 4,
            tax_rates: tax_table(TaxTableProfile::Firmware2026),
            // Every system still in force (ЕНВД ended in 2021), so any receipt closes.
            tax_systems: 0x37,
            hmac_key: b"fiscal-gateway emulator".to_vec(),
            fn_expiry: date(2029, 12, 31),
            registered_at: date(2026, 1, 12).and_hms_opt(9, 0, 0).unwrap_or_default(),
        }
    }
}

/// Which firmware's table 6 the register has (FFD 1.2 addendum §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TaxTableProfile {
    /// Firmware of 2026: 12 rows, rows 7..12 = 5 %, 7 %, 5/105, 7/107, 22 %, 22/122.
    #[default]
    Firmware2026,
    /// Older firmware: 6 rows (20 %, 10 %, 0 %, no VAT, 20/120, 10/110).
    Firmware2021,
}

/// Table 6 as the firmware profile ships it (rate in 1/100 %, name), from the vendor's table
/// dumps of 2021 and 2026 (addendum §2.3).
pub fn tax_table(profile: TaxTableProfile) -> Vec<(u16, String)> {
    let mut rows = vec![
        (2000, "НДС 20%"),
        (1000, "НДС 10%"),
        (0, "НДС 0%"),
        (0, "БЕЗ НДС"),
        (2000, "НДС 20/120"),
        (1000, "НДС 10/110"),
    ];
    if profile == TaxTableProfile::Firmware2026 {
        rows.extend([
            (500, "НДС 5%"),
            (700, "НДС 7%"),
            (500, "НДС 5/105%"),
            (700, "НДС 7/107%"),
            (2200, "НДС 22%"),
            (2200, "НДС 22/122"),
        ]);
    }
    rows.into_iter()
        .map(|(rate, name)| (rate, name.to_owned()))
        .collect()
}

/// Paper in the receipt printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaperState {
    /// Paper loaded.
    #[default]
    Present,
    /// No paper (passive paper-out, submode 1).
    Out,
    /// Paper runs out after printing this many more lines (active paper-out, submode 2).
    OutAfterLines(u32),
}

/// Injected faults and environment; test controls, not persisted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceFaults {
    /// Cover lifted (flag bit 10; printing refused with 0x6B).
    pub cover_open: bool,
    /// Paper state.
    pub paper: PaperState,
    /// Added to the host clock to get the device clock (e.g. to reach the 24-hour rule).
    pub clock_offset: Duration,
    /// Printing time per line; the device stays in submode 5 meanwhile (default 0 = instant).
    pub print_time_per_line: Duration,
    /// OFD unreachable: new documents stay in the FF39 queue.
    pub ofd_offline: bool,
    /// Reported date of the oldest unsent document (FF39), overriding the queue's own.
    pub ofd_unsent_since: Option<NaiveDateTime>,
    /// The marking server's answer per code (FF61, FF67); a code not listed is valid.
    pub marking_answers: BTreeMap<Vec<u8>, MarkingAnswer>,
    /// Firmware that refuses the composite tag 1174 in a correction receipt with 0x33 (as
    /// reported for some builds, addendum §5), so the host must send 1178 and 1179 apart.
    pub refuse_composite_1174: bool,
    /// Firmware without FF3A/FF3B (both answer 0x37): a copy must come from 0x8C.
    pub document_read_unsupported: bool,
}

/// Errors of opening or persisting a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The state file or tape file could not be read or written.
    #[error("state file {path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The state file exists but does not hold a device state.
    #[error("state file {path} is not a device state: {source}")]
    Corrupt {
        /// File concerned.
        path: PathBuf,
        /// Parse error.
        source: serde_json::Error,
    },
}

/// A virtual register: state, faults, printed tape and optional persistence.
#[derive(Debug)]
pub struct Device {
    state: DeviceState,
    faults: DeviceFaults,
    tape: tape::Tape,
    log: Option<persist::StateLog>,
    /// Error byte of the last command other than 0x6B (0 = success): what 0x6B without a
    /// parameter describes.
    last_error: u8,
    /// The document FF3A began reading and FF3B hands out (volatile, like the FN's session).
    document_read: Option<fn_tlv::DocumentRead>,
}

/// Result of a command handler: answer data after the error byte, or an error byte.
type Answer = Result<Vec<u8>, u8>;

impl Device {
    /// A fresh register with a registered FN (FD 1 = registration report), shift closed.
    pub fn new(config: DeviceConfig) -> Device {
        let mut device = Device {
            state: fn_archive::fresh_state(config),
            faults: DeviceFaults::default(),
            tape: tape::Tape::default(),
            log: None,
            last_error: 0,
            document_read: None,
        };
        fn_archive::register(&mut device);
        device
    }

    /// Loads the state file, or creates a fresh register there; every later change is saved.
    pub fn open(config: DeviceConfig, state_file: &Path) -> Result<Device, DeviceError> {
        let mut device = match persist::load(state_file)? {
            Some(state) => Device {
                state,
                faults: DeviceFaults::default(),
                tape: tape::Tape::default(),
                log: None,
                last_error: 0,
                document_read: None,
            },
            None => Device::new(config),
        };
        let mut log = persist::StateLog::new(state_file);
        // Start from a single clean line (drops a torn tail left by a power cut).
        log.rewrite(&mut device.state)?;
        let pending = device.tape.take_unsaved();
        persist::append_tape(state_file, &pending)?;
        device.log = Some(log);
        Ok(device)
    }

    /// A Z report made at the register itself (its keyboard or the vendor's service tool), not
    /// through the host link: the shift closes and its counters start again. `Err(code)` is
    /// the device's refusal.
    pub fn keyboard_z_report(&mut self, now: NaiveDateTime) -> Result<(), u8> {
        self.keyboard(0x41, now)
    }

    /// The open receipt cancelled at the register itself (0x88 with the system
    /// administrator's password, not through the host link).
    pub fn keyboard_cancel_receipt(&mut self, now: NaiveDateTime) -> Result<(), u8> {
        self.keyboard(0x88, now)
    }

    fn keyboard(&mut self, command: u8, now: NaiveDateTime) -> Result<(), u8> {
        let password = tables::operator_password(self, access::SYSADMIN);
        let mut msg = vec![command];
        msg.extend_from_slice(&password.to_le_bytes()[..4]);
        match self.execute(&msg, now).get(1) {
            Some(0) => Ok(()),
            Some(code) => Err(*code),
            None => Err(err::UNKNOWN_COMMAND),
        }
    }

    /// Executes one request message and returns the answer message (§3).
    pub fn execute(&mut self, msg: &[u8], now: NaiveDateTime) -> Vec<u8> {
        let before_interrupt = self.state.printer.clone();
        self.settle_printer(now);
        let (code, params): (&[u8], &[u8]) = match msg {
            [0xFF, _, rest @ ..] => (&msg[..2], rest),
            [_, rest @ ..] => (&msg[..1], rest),
            [] => return vec![0x00, err::UNKNOWN_COMMAND],
        };
        let result = commands::dispatch(self, code, params, now);
        if code != [0x6B] {
            self.last_error = *result.as_ref().err().unwrap_or(&0);
        }
        let mut answer = code.to_vec();
        let changed = match result {
            Ok(data) => {
                answer.push(0);
                answer.extend_from_slice(&data);
                !commands::is_read_only(code)
            }
            Err(e) => {
                answer.push(e);
                false
            }
        };
        if changed || before_interrupt != self.state.printer {
            self.persist();
        }
        answer
    }

    /// Simulates a power cut and restart (§10.3): mode, registers, FN and an open receipt
    /// survive; a document being printed is completed.
    pub fn power_cycle(&mut self, now: NaiveDateTime) {
        if let Some(log) = &self.log {
            match persist::load(log.path()) {
                Ok(Some(state)) => self.state = state,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "emulator state not reloaded"),
            }
        }
        if self.state.printer.busy_until.take().is_some() {
            self.state.printer.current_job.clear();
        }
        self.document_read = None;
        self.settle_printer(now);
        self.persist();
    }

    /// Injected faults.
    pub fn faults(&self) -> &DeviceFaults {
        &self.faults
    }

    /// Injected faults, to change at run time.
    pub fn faults_mut(&mut self) -> &mut DeviceFaults {
        &mut self.faults
    }

    /// Every FD in the FN, in order.
    pub fn archive(&self) -> &[FnDocument] {
        &self.state.fiscal_storage.archive
    }

    /// Printed paper so far (the last megabyte).
    pub fn tape(&self) -> &str {
        self.tape.text()
    }

    /// The non-volatile state.
    pub fn state(&self) -> &DeviceState {
        &self.state
    }

    /// Device clock: host clock + fault offset + offset set by 0x21/0x22.
    pub fn clock(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + self.faults.clock_offset + Duration::seconds(self.state.clock_adjust_secs)
    }

    /// Mode byte (§6.4): status nibble high, mode low.
    pub fn mode(&self, now: NaiveDateTime) -> u8 {
        if self.state.date_to_confirm.is_some() {
            return 6;
        }
        if let Some(r) = &self.state.receipt {
            return 0x08 | (r.receipt_type << 4);
        }
        if !self.state.shift.open {
            return 4;
        }
        if self.shift_expired(now) {
            3
        } else {
            2
        }
    }

    /// Whether the open shift is 24 hours old or more (device clock).
    pub fn shift_expired(&self, now: NaiveDateTime) -> bool {
        match (self.state.shift.open, self.state.shift.opened_at) {
            (true, Some(opened)) => self.clock(now) - opened >= Duration::hours(24),
            _ => false,
        }
    }

    /// The open receipt, refusing with 0x55 (none open) or 0x16 (shift older than 24 h, FN).
    fn open_receipt_mut(&mut self, now: NaiveDateTime) -> Result<&mut OpenReceipt, u8> {
        if self.state.receipt.is_none() {
            return Err(err::RECEIPT_CLOSED);
        }
        if self.shift_expired(now) {
            return Err(err::FN_SHIFT_24H);
        }
        self.state.receipt.as_mut().ok_or(err::RECEIPT_CLOSED)
    }

    /// Submode (§6.5).
    pub fn submode(&self, now: NaiveDateTime) -> u8 {
        let blocked = self.paper_out() || self.faults.cover_open;
        if self.state.printer.interrupted.is_some() {
            return if blocked { 2 } else { 3 };
        }
        if self.state.printer.busy_until.is_some_and(|t| t > now) {
            return 5;
        }
        if blocked {
            1
        } else {
            0
        }
    }

    /// Flags (§6.3): receipt roll, optical sensor, lever; cover bit 10.
    pub fn flags(&self) -> u16 {
        let mut flags = 0x0200;
        if !self.paper_out() {
            flags |= 0x0002 | 0x0080;
        }
        if self.faults.cover_open {
            flags |= 0x0400;
        }
        flags
    }

    fn paper_out(&self) -> bool {
        self.faults.paper == PaperState::Out
    }

    /// Refusal of a printing command by printer state: 0x50 printing, 0x58 waiting for 0xB0,
    /// 0x6B no paper or cover open.
    fn check_printer(&self, now: NaiveDateTime) -> Result<(), u8> {
        match self.submode(now) {
            0 => Ok(()),
            3 => Err(err::AWAIT_CONTINUE),
            5 => Err(err::PRINTING),
            _ => Err(err::NO_PAPER),
        }
    }

    /// Finishes or interrupts the document being printed according to time and faults.
    fn settle_printer(&mut self, now: NaiveDateTime) {
        let Some(until) = self.state.printer.busy_until else {
            return;
        };
        if until <= now {
            self.state.printer.busy_until = None;
            self.state.printer.current_job.clear();
        } else if self.paper_out() || self.faults.cover_open {
            // Paper ran out or the cover was lifted mid-print: the document is invalid and
            // waits for 0xB0 once the printer is ready again (§6.5).
            self.state.printer.busy_until = None;
            let job = std::mem::take(&mut self.state.printer.current_job);
            self.tape.push_lines(&tape::interruption_note());
            self.state.printer.interrupted = Some(job);
            self.flush_tape();
        }
    }

    /// Header and identification printed on fiscal documents formed by `operator`.
    fn letterhead(&self, operator: u8) -> tape::Letterhead {
        let config = &self.state.config;
        let text = |table, row, field| match tables::value(self, table, row, field) {
            state::FieldValue::Char(s) => s,
            state::FieldValue::Bin(v) => v.to_string(),
        };
        tape::Letterhead {
            organisation: text(18, 1, 7),
            address: text(18, 1, 9),
            cashier: text(2, u16::from(operator), 2),
            kkt_serial: config.kkt_serial.clone(),
            rnm: config.rnm.clone(),
            fn_serial: self.state.fiscal_storage.serial.clone(),
            inn: config.inn.clone(),
        }
    }

    /// Prints a document: appends it to the tape, consumes paper, and keeps the printer busy
    /// for `lines × print_time_per_line`. Paper running out mid-document interrupts it.
    /// Table 17.7 ("don't print": 1 skip one document, 2 off) suppresses it entirely.
    fn print(&mut self, lines: Vec<String>, now: NaiveDateTime) {
        match tables::number(self, 17, 1, 7) {
            1 => {
                self.state.tables.remove("17.1.7");
                return;
            }
            2 | 3 => return,
            _ => {}
        }
        let count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        if let PaperState::OutAfterLines(left) = self.faults.paper {
            if count > left {
                let printed = usize::try_from(left).unwrap_or(usize::MAX);
                self.tape.push_lines(&lines[..printed.min(lines.len())]);
                self.tape.push_lines(&tape::interruption_note());
                self.faults.paper = PaperState::Out;
                self.state.printer.interrupted = Some(lines);
                self.flush_tape();
                return;
            }
            self.faults.paper = PaperState::OutAfterLines(left - count);
        }
        self.tape.push_lines(&lines);
        let duration = self.faults.print_time_per_line * i32::try_from(count).unwrap_or(i32::MAX);
        if duration > Duration::zero() {
            self.state.printer.busy_until = Some(now + duration);
            self.state.printer.current_job = lines;
        }
        self.flush_tape();
    }

    fn flush_tape(&mut self) {
        let pending = self.tape.take_unsaved();
        if let Some(log) = &self.log {
            if let Err(e) = persist::append_tape(log.path(), &pending) {
                tracing::error!(error = %e, "emulator tape file not written");
            }
        }
    }

    fn persist(&mut self) {
        if let Some(log) = &mut self.log {
            if let Err(e) = log.append(&mut self.state) {
                tracing::error!(error = %e, "emulator state not saved");
            }
        }
    }
}
