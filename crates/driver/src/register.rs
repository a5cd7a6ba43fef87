//! [`Register`]: one connected fiscal register. This file holds the connection, the single
//! path every command takes ([`Register::command`], which turns link outcomes into typed
//! errors) and the read-only queries: identity, status, FN status, waiting for the printer.
//! Documents live in `documents.rs`, settling lost outcomes in `reconcile.rs`.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use shtrih_proto::error::ErrorCode;

use crate::error::{DeviceError, LinkError, RegisterError, UnknownOutcome};
use crate::options::RegisterOptions;
use crate::pump::{Exchange, Pump, WireStats};
use crate::readiness::RegisterStatus;
use crate::transport::{self, Baud, LinkKind, Transport};
use crate::wire::{put_uint, Reader};

/// Answer timeout of status and FN queries (§2.4: 3 s).
pub(crate) const T_STATUS: Duration = Duration::from_secs(3);
/// Answer timeout of a document-forming command (§2.4 recommendation: 30 s).
pub(crate) const T_FISCAL: Duration = Duration::from_secs(30);
/// Answer timeout of opening and closing a shift (§2.4: 0xE0 up to 120 s, 0x41 65 s).
pub(crate) const T_SHIFT: Duration = Duration::from_secs(120);
/// How often a read-only command is tried when the link fails under it: it has no side
/// effect (§10.1), so trying again is always safe.
const READ_ATTEMPTS: usize = 3;

/// The cashier named on documents (tags 1021, 1203).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cashier {
    /// Name (tag 1021).
    pub name: String,
    /// INN, 12 digits (tag 1203), when known.
    pub inn: Option<String>,
}

/// Who the register is, read once at connection (§9.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Model name (0xFC).
    pub model: String,
    /// Firmware version and build (0x11), e.g. "1.0 build 123".
    pub firmware: String,
    /// KKT serial number (table 18.1, or 0x11).
    pub kkt_serial: String,
    /// FN serial number (FF01).
    pub fn_number: String,
    /// Registration number (table 18.3 or FF09).
    pub rnm: String,
    /// Taxpayer INN (table 18.2 or FF09).
    pub inn: String,
    /// FFD version ("1.05", "1.1", "1.2"; table 17.17, §8.7).
    pub ffd_version: String,
    /// FN end of life (FF03), when the register reports it.
    pub fn_expiry: Option<NaiveDate>,
}

/// The FN's own state (FF01, §7.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnStatus {
    /// Life phase bits (0x03 = configured and in fiscal mode).
    pub life_phase: u8,
    /// Document open in the FN (0 none, 4 receipt …; §8.2).
    pub document_open: u8,
    /// Whether the FN has a shift open.
    pub shift_open: bool,
    /// Warning bits (replacement due, memory full, OFD timeout).
    pub warnings: u8,
    /// Date and time of the last FD.
    pub last_fd_time: Option<NaiveDateTime>,
    /// FN serial number.
    pub fn_number: String,
    /// Number of the last FD.
    pub last_fd: u32,
}

/// The result of opening or closing a shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftReport {
    /// Shift number.
    pub shift_number: u32,
    /// FD number of the report.
    pub fd_number: u32,
    /// Fiscal sign of the report.
    pub fiscal_sign: u32,
}

/// Whether a command may change the register (§10.1); decides what a lost answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A pure read: repeated on link trouble.
    Read,
    /// Anything else: never repeated once it may have run.
    Write,
    /// A write that makes a fiscal document or moves money (FF45, 0x50, 0x51, 0xE0, 0x41).
    /// Even "every send was refused" is not taken as proof here: on a noisy standard line
    /// a storm of NAKs (the device NAKs each byte of a frame whose STX was lost, §2.5) can
    /// be read as refusals of a frame the device did accept. A duplicate document costs far
    /// more than a reconcile, so such an outcome is `Unknown`.
    Commit,
}

/// One connected register. Every method takes `&mut self`: one command at a time (§2.6).
pub struct Register {
    pump: Pump,
    pub(crate) options: RegisterOptions,
    pub(crate) identity: Identity,
    link: LinkKind,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("link", &self.link)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Register {
    /// Opens `transport`, finds the speed and link layer, drains a stale answer, reads the
    /// identity (§9.1).
    pub async fn connect(
        transport: Transport,
        options: RegisterOptions,
    ) -> Result<Register, RegisterError> {
        let wait = options.link_config.t_ctrl.max(Duration::from_millis(50));
        let choice = options.link;
        let (stream, kind): (Box<dyn transport::ByteStream>, LinkKind) = match transport {
            Transport::Serial {
                path,
                baud: Baud::Auto,
            } => {
                let (port, kind, _) = transport::detect_baud(&path, choice, wait).await?;
                (Box::new(port), kind)
            }
            Transport::Serial {
                path,
                baud: Baud::Fixed(baud),
            } => {
                let mut port = transport::open_serial(&path, baud)?;
                let kind = probe(&mut port, choice, wait).await?;
                (Box::new(port), kind)
            }
            Transport::Tcp { addr } => {
                let mut stream = transport::open_tcp(&addr).await?;
                let kind = probe(&mut stream, choice, wait).await?;
                (Box::new(stream), kind)
            }
            Transport::Stream(mut stream) => {
                let kind = probe(&mut stream, choice, wait).await?;
                (stream, kind)
            }
        };
        let pump = Pump::start(stream, kind, options.link_config.clone());
        let mut register = Register {
            pump,
            options,
            identity: Identity {
                model: String::new(),
                firmware: String::new(),
                kkt_serial: String::new(),
                fn_number: String::new(),
                rnm: String::new(),
                inn: String::new(),
                ffd_version: String::new(),
                fn_expiry: None,
            },
            link: kind,
        };
        register.identity = register.read_identity().await?;
        Ok(register)
    }

    /// Who the register is (read at connection; cheap).
    pub async fn identity(&mut self) -> Result<Identity, RegisterError> {
        Ok(self.identity.clone())
    }

    /// Bytes and round trips on the wire since connection.
    pub fn wire_stats(&self) -> WireStats {
        self.pump.stats()
    }

    /// `true` when the register speaks protocol 2.0 (§2.9).
    pub fn is_protocol_v2(&self) -> bool {
        self.link == LinkKind::V2
    }

    /// Short status 0x10 (§6.1) with the readiness judgement.
    pub async fn status(&mut self) -> Result<RegisterStatus, RegisterError> {
        let data = self
            .query(
                "10 short status",
                self.with_password(&[0x10], self.options.operator_password),
            )
            .await?;
        let mut r = Reader::new(&data, "10 short status");
        let parse = |r: &mut Reader<'_>| -> Result<RegisterStatus, String> {
            let _operator = r.byte("operator")?;
            let flags = r.uint(2, "flags")? as u16;
            let mode = r.byte("mode")?;
            let submode = r.byte("submode")?;
            let ops_low = r.byte("operations")?;
            let _ = r.bytes(4, "voltages and legacy codes")?;
            let ops_high = r.byte("operations high byte")?;
            Ok(RegisterStatus::new(
                mode,
                submode,
                flags,
                u16::from_le_bytes([ops_low, ops_high]),
            ))
        };
        parse(&mut r).map_err(|e| bad_answer("10 short status", e))
    }

    /// FN status FF01 (§7.8).
    pub async fn fn_status(&mut self) -> Result<FnStatus, RegisterError> {
        let msg = self.with_password(&[0xFF, 0x01], self.options.sysadmin_password);
        let data = self.query("FF01 FN status", msg).await?;
        let mut r = Reader::new(&data, "FF01 FN status");
        let parse = |r: &mut Reader<'_>| -> Result<FnStatus, String> {
            let life_phase = r.byte("life phase")?;
            let document_open = r.byte("document open")?;
            let _data = r.byte("document data")?;
            let shift_open = r.byte("shift state")? == 1;
            let warnings = r.byte("warnings")?;
            let last_fd_time = r.fn_date_time("date and time")?;
            let fn_number = r.ascii(16, "FN serial")?;
            let last_fd = r.uint(4, "last FD")? as u32;
            Ok(FnStatus {
                life_phase,
                document_open,
                shift_open,
                warnings,
                last_fd_time,
                fn_number,
                last_fd,
            })
        };
        parse(&mut r).map_err(|e| bad_answer("FF01 FN status", e))
    }

    /// Polls 0x10 until the printer is idle (§9.2: submode leaves 4/5), at a growing interval
    /// from `print_poll_first` to `print_poll_max`; gives up after `print_wait_limit` and
    /// returns the last status either way.
    pub async fn wait_printed(&mut self) -> Result<RegisterStatus, RegisterError> {
        let started = tokio::time::Instant::now();
        let mut interval = self.options.print_poll_first;
        loop {
            let status = self.status().await?;
            if !status.printing() || started.elapsed() >= self.options.print_wait_limit {
                return Ok(status);
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(self.options.print_poll_max);
        }
    }

    /// 0xB0 continue printing after paper was loaded (submode 3), then waits for the print.
    pub async fn continue_printing(&mut self) -> Result<(), RegisterError> {
        let msg = self.with_password(&[0xB0], self.options.operator_password);
        self.command("B0 continue printing", msg, Effect::Write, T_FISCAL)
            .await?;
        self.wait_printed().await?;
        Ok(())
    }

    /// 0x88 cancels the open receipt (no FD is made).
    pub async fn cancel_receipt(&mut self) -> Result<(), RegisterError> {
        let msg = self.with_password(&[0x88], self.options.operator_password);
        self.command("88 cancel receipt", msg, Effect::Write, T_FISCAL)
            .await?;
        Ok(())
    }

    /// `code` followed by `password` (§3: 4 bytes LE).
    pub(crate) fn with_password(&self, code: &[u8], password: u32) -> Vec<u8> {
        let mut msg = code.to_vec();
        put_uint(&mut msg, u64::from(password), 4);
        msg
    }

    /// A read-only command with the status timeout.
    pub(crate) async fn query(
        &mut self,
        name: &'static str,
        msg: Vec<u8>,
    ) -> Result<Vec<u8>, RegisterError> {
        self.command(name, msg, Effect::Read, T_STATUS).await
    }

    /// Sends one command and returns the answer's data (after the error byte).
    ///
    /// The outcomes follow §2.7: an answer with a non-zero error byte is `Refused`; a link
    /// that gave up before the device accepted the frame is `Link` (for a read, after
    /// trying again); a frame that was accepted but whose answer was lost is `Unknown` for a
    /// command that may change the register, and is simply asked again for a read.
    pub(crate) async fn command(
        &mut self,
        name: &'static str,
        msg: Vec<u8>,
        effect: Effect,
        timeout: Duration,
    ) -> Result<Vec<u8>, RegisterError> {
        let timeout = match self.options.answer_timeout_cap {
            Some(cap) => timeout.min(cap),
            None => timeout,
        };
        let code_len = if msg.first() == Some(&0xFF) { 2 } else { 1 };
        let code = msg.get(..code_len).map(<[u8]>::to_vec).unwrap_or_default();
        let attempts = match effect {
            Effect::Read => READ_ATTEMPTS,
            Effect::Write | Effect::Commit => 1,
        };
        let mut last = RegisterError::Link(LinkError::NotExecuted {
            command: name,
            reason: "not sent".into(),
        });
        for _ in 0..attempts {
            let outcome = self.pump.exchange(msg.clone(), timeout).await;
            last = match outcome {
                Exchange::Answer(answer) => match split_answer(&code, &answer) {
                    Ok(0) => return Ok(answer[code_len + 1..].to_vec()),
                    Ok(err) => {
                        return Err(RegisterError::Refused(DeviceError::new(
                            name,
                            ErrorCode(err),
                        )))
                    }
                    // An answer to another command: for a write this one's fate is unknown.
                    Err(reason) => match effect {
                        Effect::Read => bad_answer(name, reason),
                        Effect::Write | Effect::Commit => RegisterError::Unknown(UnknownOutcome {
                            command: name,
                            detail: reason,
                        }),
                    },
                },
                Exchange::Refused(detail) if effect == Effect::Commit => {
                    return Err(RegisterError::Unknown(UnknownOutcome {
                        command: name,
                        detail,
                    }))
                }
                Exchange::Refused(reason) => RegisterError::Link(LinkError::NotExecuted {
                    command: name,
                    reason,
                }),
                Exchange::NotExecuted(reason) => RegisterError::Link(LinkError::NotExecuted {
                    command: name,
                    reason,
                }),
                Exchange::Unknown(detail) => match effect {
                    Effect::Read => RegisterError::Link(LinkError::NotExecuted {
                        command: name,
                        reason: detail,
                    }),
                    Effect::Write | Effect::Commit => {
                        return Err(RegisterError::Unknown(UnknownOutcome {
                            command: name,
                            detail,
                        }))
                    }
                },
            };
            if effect != Effect::Read {
                break;
            }
        }
        Err(last)
    }

    async fn read_identity(&mut self) -> Result<Identity, RegisterError> {
        let sysadmin = self.options.sysadmin_password;
        let model = match self.query("FC device type", vec![0xFC]).await {
            Ok(data) => {
                let mut r = Reader::new(&data, "FC device type");
                let _ = r.bytes(6, "type, subtype, protocol, model, language");
                encoding_rs::WINDOWS_1251
                    .decode_without_bom_handling(r.rest())
                    .0
                    .trim_end_matches('\0')
                    .trim()
                    .to_string()
            }
            Err(RegisterError::Refused(_)) => String::new(),
            Err(e) => return Err(e),
        };
        let full = self
            .query("11 full status", self.with_password(&[0x11], sysadmin))
            .await?;
        let (firmware, serial_low) = {
            let mut r = Reader::new(&full, "11 full status");
            let parse = |r: &mut Reader<'_>| -> Result<(String, u32), String> {
                let _operator = r.byte("operator")?;
                let version = r.bytes(2, "firmware version")?;
                let build = r.uint(2, "firmware build")?;
                let _ = r.bytes(25, "up to the KKT serial")?;
                let serial = r.uint(4, "KKT serial")? as u32;
                let version = format!("{}.{}", char::from(version[0]), char::from(version[1]));
                Ok((format!("{version} build {build}"), serial))
            };
            parse(&mut r).map_err(|e| bad_answer("11 full status", e))?
        };
        let fn_status = self.fn_status().await?;
        let kkt_serial = self
            .table_text(18, 1)
            .await?
            .unwrap_or_else(|| serial_low.to_string());
        let mut inn = self.table_text(18, 2).await?.unwrap_or_default();
        let mut rnm = self.table_text(18, 3).await?.unwrap_or_default();
        if inn.is_empty() || rnm.is_empty() {
            if let Some((i, r)) = self.registration().await? {
                inn = i;
                rnm = r;
            }
        }
        let ffd_version = match self.table_uint(17, 17).await? {
            Some(1) => "1.0",
            Some(2) => "1.05",
            Some(3) => "1.1",
            Some(4) => "1.2",
            _ => "",
        }
        .to_string();
        let fn_expiry = match self
            .query(
                "FF03 FN expiry",
                self.with_password(&[0xFF, 0x03], sysadmin),
            )
            .await
        {
            Ok(data) if data.len() >= 3 => NaiveDate::from_ymd_opt(
                2000 + i32::from(data[0]),
                u32::from(data[1]),
                u32::from(data[2]),
            ),
            Ok(_) | Err(RegisterError::Refused(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(Identity {
            model,
            firmware,
            kkt_serial,
            fn_number: fn_status.fn_number,
            rnm,
            inn,
            ffd_version,
            fn_expiry,
        })
    }

    /// Reads a table field (0x1F, §7.3); `None` when the register refuses.
    async fn table_field(
        &mut self,
        table: u8,
        field: u8,
    ) -> Result<Option<Vec<u8>>, RegisterError> {
        let mut msg = self.with_password(&[0x1F], self.options.sysadmin_password);
        msg.push(table);
        put_uint(&mut msg, 1, 2);
        msg.push(field);
        match self.query("1F read table", msg).await {
            Ok(data) => Ok(Some(data)),
            Err(RegisterError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn table_text(&mut self, table: u8, field: u8) -> Result<Option<String>, RegisterError> {
        Ok(self.table_field(table, field).await?.and_then(|v| {
            let text = encoding_rs::WINDOWS_1251
                .decode_without_bom_handling(&v)
                .0
                .split('\0')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            (!text.is_empty()).then_some(text)
        }))
    }

    async fn table_uint(&mut self, table: u8, field: u8) -> Result<Option<u64>, RegisterError> {
        Ok(self.table_field(table, field).await?.map(|v| {
            v.iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        }))
    }

    /// INN and RNM from the last registration (FF09, §7.8).
    async fn registration(&mut self) -> Result<Option<(String, String)>, RegisterError> {
        let msg = self.with_password(&[0xFF, 0x09], self.options.sysadmin_password);
        match self.query("FF09 registration", msg).await {
            Ok(data) => {
                let mut r = Reader::new(&data, "FF09 registration");
                let _ = r.bytes(5, "date");
                let inn = r.ascii(12, "INN").unwrap_or_default();
                let rnm = r.ascii(20, "RNM").unwrap_or_default();
                Ok(Some((inn, rnm)))
            }
            Err(RegisterError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Probes the link layer on a freshly opened stream.
async fn probe<S: transport::ByteStream + ?Sized>(
    stream: &mut S,
    choice: crate::transport::LinkLayerChoice,
    wait: Duration,
) -> Result<LinkKind, RegisterError> {
    match transport::probe_link(stream, choice, wait).await? {
        Some(kind) => Ok(kind),
        None => Err(RegisterError::Link(LinkError::Unavailable(
            "the register does not answer".into(),
        ))),
    }
}

/// Checks that `answer` belongs to the command `code` and returns its error byte (§3). An
/// FF-command error may come as `FF err` only; accepted defensively as the vendor does.
fn split_answer(code: &[u8], answer: &[u8]) -> Result<u8, String> {
    if answer.starts_with(code) {
        return match answer.get(code.len()) {
            Some(err) => Ok(*err),
            None => Err("answer without an error byte".into()),
        };
    }
    if code.len() == 2 && answer.len() == 2 && answer[0] == 0xFF && answer[1] != 0 {
        return Ok(answer[1]);
    }
    Err(format!(
        "answer {:02X?} does not belong to command {:02X?}",
        answer
            .get(..code.len().min(answer.len()))
            .unwrap_or_default(),
        code
    ))
}

pub(crate) fn bad_answer(command: &'static str, reason: String) -> RegisterError {
    RegisterError::Link(LinkError::BadAnswer { command, reason })
}

impl From<LinkError> for RegisterError {
    fn from(e: LinkError) -> RegisterError {
        RegisterError::Link(e)
    }
}
