//! [`Register`]: one connected fiscal register. This file holds the connection, the identity
//! read at connection and the single path every command takes ([`Register::run`], which
//! turns link outcomes into typed errors). Status and FN queries live in `queries.rs`,
//! documents in `documents.rs`, settling lost outcomes in `reconcile.rs`.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use shtrih_proto::command::{
    AnswerError, Command, CommandClass, DeviceType, FnExpiry, FullStatus, LastFiscalization,
    Password, ReadTable, TableStructure,
};

use crate::error::{DeviceError, LinkError, RegisterError, UnknownOutcome};
use crate::options::RegisterOptions;
use crate::pump::{Exchange, Pump, WireStats};
use crate::taxes::{TaxRow, TaxTable};
use crate::transport::{self, Baud, LinkKind, Transport};
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

/// The result of opening or closing a shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftReport {
    /// Shift number.
    pub shift_number: u32,
    /// FD number of the report.
    pub fd_number: u32,
    /// Fiscal sign of the report.
    pub fiscal_sign: u32,
    /// Register local time of the report.
    pub date_time: NaiveDateTime,
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
    /// The serial speed in use (found or configured); `None` for TCP and streams.
    baud: Option<u32>,
    /// Table 6 and the model number, read at connection: the truth receipts are coded by.
    pub(crate) tax_table: TaxTable,
    /// This connection set table 17.7 ("do not print the next document") and no document
    /// has used it yet.
    pub(crate) print_skip_armed: bool,
    /// Table 19.8 (seconds assumed): the register's wait for the marking server in FF61.
    marking_server_wait: Option<Duration>,
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
        type Opened = (Box<dyn transport::ByteStream>, LinkKind, Option<u32>);
        let (stream, kind, baud): Opened = match transport {
            Transport::Serial {
                path,
                baud: Baud::Auto,
            } => {
                let (port, kind, baud) = transport::detect_baud(&path, choice, wait).await?;
                (Box::new(port), kind, Some(baud))
            }
            Transport::Serial {
                path,
                baud: Baud::Fixed(baud),
            } => {
                let mut port = transport::open_serial(&path, baud)?;
                let kind = probe(&mut port, choice, wait).await?;
                (Box::new(port), kind, Some(baud))
            }
            Transport::Tcp { addr } => {
                let mut stream = transport::open_tcp(&addr).await?;
                let kind = probe(&mut stream, choice, wait).await?;
                (Box::new(stream), kind, None)
            }
            Transport::Stream(mut stream) => {
                let kind = probe(&mut stream, choice, wait).await?;
                (stream, kind, None)
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
            baud,
            tax_table: TaxTable::default(),
            print_skip_armed: false,
            marking_server_wait: None,
        };
        register.identity = register.read_identity().await?;
        register.tax_table.rows = register.read_tax_rows().await?;
        // Table 19.8: how long the register waits for the marking server during FF61.
        register.marking_server_wait = register
            .table_field(19, 8)
            .await?
            .and_then(|v| v.as_bin())
            .map(Duration::from_secs);
        // "Do not print the next document" left set (a receipt that never closed, another
        // process): the next printed receipt clears it first (electronic.rs).
        register.print_skip_armed =
            register.table_field(17, 7).await?.and_then(|v| v.as_bin()) == Some(1);
        Ok(register)
    }

    /// Who the register is (read at connection; cheap).
    pub async fn identity(&mut self) -> Result<Identity, RegisterError> {
        Ok(self.identity.clone())
    }

    /// The register's tax table (table 6) and model, read at connection: which rate goes to
    /// which row and byte (FFD 1.2 addendum §2).
    pub fn tax_table(&self) -> &TaxTable {
        &self.tax_table
    }

    /// Bytes and round trips on the wire since connection.
    pub fn wire_stats(&self) -> WireStats {
        self.pump.stats()
    }

    /// The serial speed in use (detected or configured); `None` over TCP.
    pub fn baud(&self) -> Option<u32> {
        self.baud
    }

    /// `true` when the register speaks protocol 2.0 (§2.9).
    pub fn is_protocol_v2(&self) -> bool {
        self.link == LinkKind::V2
    }

    /// The operator (cashier) password.
    pub(crate) fn operator(&self) -> Password {
        Password(self.options.operator_password)
    }

    /// The administrator password (X/Z reports).
    pub(crate) fn admin(&self) -> Password {
        Password(self.options.admin_password)
    }

    /// The system administrator password (FN queries, tags, tables).
    pub(crate) fn sysadmin(&self) -> Password {
        Password(self.options.sysadmin_password)
    }

    /// Runs one read-only command (class [`CommandClass::Read`]) for tools such as `selftest`:
    /// table reads, FN and OFD queries. Anything that could change the register is refused
    /// here, so this door cannot produce a document.
    pub async fn query<C: Command>(&mut self, cmd: &C) -> Result<C::Answer, RegisterError> {
        if cmd.class() != CommandClass::Read {
            return Err(RegisterError::NotReady(
                crate::error::NotReadyReason::Other(format!(
                    "{} is not a read-only command",
                    cmd.name()
                )),
            ));
        }
        self.run(cmd).await
    }

    /// Sends one command and decodes its answer.
    ///
    /// The outcomes follow §2.7: an answer with a non-zero error byte is `Refused`; a link
    /// that gave up before the device accepted the frame is `Link` (for a read, after trying
    /// again); a frame that was accepted but whose answer was lost or unreadable is `Unknown`
    /// for a command that may change the register, and is simply asked again for a read.
    pub(crate) async fn run<C: Command>(&mut self, cmd: &C) -> Result<C::Answer, RegisterError> {
        let name = cmd.name();
        let effect = effect_of(cmd);
        // FF61 and FF67 may wait for the marking server (addendum §4.1): not capped.
        const MARKING: [&[u8]; 2] = [&[0xFF, 0x61], &[0xFF, 0x67]];
        let timeout = match (self.options.answer_timeout_cap, MARKING.contains(&C::CODE)) {
            (_, true) => self
                .options
                .marking_answer_timeout
                .unwrap_or_else(|| marking_timeout(cmd.timeout(), self.marking_server_wait)),
            (Some(cap), false) => cmd.timeout().min(cap),
            (None, false) => cmd.timeout(),
        };
        // A value the wire field cannot carry is refused here, before any byte is sent.
        let msg = cmd.try_encode().map_err(crate::documents::out_of_range)?;
        // Only reads and idempotent writes may be resent on the link layer's guess (§2.7 row 3).
        let resend = shtrih_proto::link::Resend::for_class(cmd.class());
        // FF3B moves the FN's reading position: a second try after a lost answer would skip
        // a block unseen, so it is tried once and its caller starts over from FF3A.
        const SEQUENTIAL_READS: [&[u8]; 1] = [&[0xFF, 0x3B]];
        let attempts = match effect {
            Effect::Read if SEQUENTIAL_READS.contains(&C::CODE) => 1,
            Effect::Read => READ_ATTEMPTS,
            Effect::Write | Effect::Commit => 1,
        };
        let unknown = |detail: String| {
            RegisterError::Unknown(UnknownOutcome {
                command: name,
                detail,
            })
        };
        let mut last = RegisterError::Link(LinkError::NotExecuted {
            command: name,
            reason: "not sent".into(),
        });
        for _ in 0..attempts {
            last = match self.pump.exchange(msg.clone(), timeout, resend).await {
                Exchange::Answer(answer) => match C::decode_answer(&answer) {
                    Ok(decoded) => return Ok(decoded),
                    Err(AnswerError::Device(code)) => {
                        return Err(RegisterError::Refused(DeviceError::new(name, code)))
                    }
                    // Executed (an answer came), but what it says is unreadable.
                    Err(AnswerError::Malformed(reason)) => match effect {
                        Effect::Read => bad_answer(name, reason),
                        Effect::Write | Effect::Commit => return Err(unknown(reason)),
                    },
                },
                Exchange::NotExecuted(reason) => RegisterError::Link(LinkError::NotExecuted {
                    command: name,
                    reason,
                }),
                Exchange::Refused(detail) if effect == Effect::Commit => {
                    return Err(unknown(detail))
                }
                Exchange::Refused(reason) => RegisterError::Link(LinkError::NotExecuted {
                    command: name,
                    reason,
                }),
                Exchange::Unknown(detail) => match effect {
                    Effect::Read => RegisterError::Link(LinkError::NotExecuted {
                        command: name,
                        reason: detail,
                    }),
                    Effect::Write | Effect::Commit => return Err(unknown(detail)),
                },
            };
        }
        Err(last)
    }

    async fn read_identity(&mut self) -> Result<Identity, RegisterError> {
        let model = match self.run(&DeviceType).await {
            Ok(answer) => {
                self.tax_table.model = answer.model;
                answer.name.trim().to_string()
            }
            Err(RegisterError::Refused(_)) => String::new(),
            Err(e) => return Err(e),
        };
        let full = self
            .run(&FullStatus {
                password: self.sysadmin(),
            })
            .await?;
        let version = full.firmware_version;
        let firmware = format!(
            "{}.{} build {}",
            char::from(version[0]),
            char::from(version[1]),
            full.firmware_build
        );
        let fn_status = self.fn_status().await?;
        let kkt_serial = self
            .table_text(18, 1)
            .await?
            .unwrap_or_else(|| full.serial_low.to_string());
        let mut inn = self.table_text(18, 2).await?.unwrap_or_default();
        let mut rnm = self.table_text(18, 3).await?.unwrap_or_default();
        if inn.is_empty() || rnm.is_empty() {
            match self
                .run(&LastFiscalization {
                    password: self.sysadmin(),
                })
                .await
            {
                Ok(registration) => {
                    inn = registration.inn.trim().to_string();
                    rnm = registration.rnm.trim().to_string();
                }
                Err(RegisterError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
        // §8.7: table 17.17 numbering.
        let ffd_version = match self.table_field(17, 17).await?.and_then(|v| v.as_bin()) {
            Some(1) => "1.0",
            Some(2) => "1.05",
            Some(3) => "1.1",
            Some(4) => "1.2",
            _ => "",
        }
        .to_string();
        let fn_expiry = match self
            .run(&FnExpiry {
                password: self.sysadmin(),
            })
            .await
        {
            Ok(answer) => NaiveDate::from_ymd_opt(
                i32::from(answer.expiry.year),
                u32::from(answer.expiry.month),
                u32::from(answer.expiry.day),
            ),
            Err(RegisterError::Refused(_)) => None,
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

    /// Table 6 (addendum §2.3, §2.4 item 1): its row count (0x2D; 6 when the register does not
    /// say), then each row's rate and name. A row the register refuses ends the table.
    async fn read_tax_rows(&mut self) -> Result<Vec<TaxRow>, RegisterError> {
        let count = match self
            .run(&TableStructure {
                password: self.sysadmin(),
                table: 6,
            })
            .await
        {
            Ok(answer) => answer.rows,
            Err(RegisterError::Refused(_)) => 6,
            Err(e) => return Err(e),
        };
        let mut rows = Vec::new();
        for row in 1..=count.min(64) {
            let (Some(rate), Some(name)) = (
                self.table_cell(6, row, 1).await?,
                self.table_cell(6, row, 2).await?,
            ) else {
                break;
            };
            rows.push(TaxRow {
                row: u8::try_from(row).unwrap_or(u8::MAX),
                rate: rate
                    .as_bin()
                    .and_then(|r| u16::try_from(r).ok())
                    .unwrap_or(0),
                name: name.as_text().trim().to_string(),
            });
        }
        Ok(rows)
    }

    /// Reads a table field (0x1F, §7.3); `None` when the register refuses.
    async fn table_cell(
        &mut self,
        table: u8,
        row: u16,
        field: u8,
    ) -> Result<Option<shtrih_proto::command::TableValue>, RegisterError> {
        let read = ReadTable {
            password: self.sysadmin(),
            table,
            row,
            field,
        };
        match self.run(&read).await {
            Ok(value) => Ok(Some(value)),
            Err(RegisterError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads row 1 of a table field (0x1F, §7.3); `None` when the register refuses.
    async fn table_field(
        &mut self,
        table: u8,
        field: u8,
    ) -> Result<Option<shtrih_proto::command::TableValue>, RegisterError> {
        let read = ReadTable {
            password: self.sysadmin(),
            table,
            row: 1,
            field,
        };
        match self.run(&read).await {
            Ok(value) => Ok(Some(value)),
            Err(RegisterError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn table_text(&mut self, table: u8, field: u8) -> Result<Option<String>, RegisterError> {
        Ok(self
            .table_field(table, field)
            .await?
            .map(|v| v.as_text().trim().to_string())
            .filter(|t| !t.is_empty()))
    }
}

/// The answer timeout of FF61/FF67: the register's own wait for the marking server (table
/// 19.8) plus a margin for its work with the FN, never below the vendor driver's 40 s (the
/// unit of 19.8 is not confirmed on hardware; seconds are assumed).
pub(crate) fn marking_timeout(vendor: Duration, table_19_8: Option<Duration>) -> Duration {
    const FN_MARGIN: Duration = Duration::from_secs(10);
    match table_19_8 {
        Some(wait) => vendor.max(wait.saturating_add(FN_MARGIN)),
        None => vendor,
    }
}

impl Register {
    /// The register's wait for the marking server, as read at connection (table 19.8).
    pub fn marking_server_wait(&self) -> Option<Duration> {
        self.marking_server_wait
    }
}

/// What a command does to the register, from its class (§10.1) and code.
fn effect_of<C: Command>(cmd: &C) -> Effect {
    /// Commands that make an FN document or move money.
    const COMMITS: [&[u8]; 5] = [&[0xFF, 0x45], &[0x50], &[0x51], &[0xE0], &[0x41]];
    if cmd.class() == CommandClass::Read {
        Effect::Read
    } else if COMMITS.contains(&C::CODE) {
        Effect::Commit
    } else {
        Effect::Write
    }
}

/// An answer that could not be read, for a read-only command.
pub(crate) fn bad_answer(command: &'static str, reason: String) -> RegisterError {
    RegisterError::Link(LinkError::BadAnswer { command, reason })
}

impl From<LinkError> for RegisterError {
    fn from(e: LinkError) -> RegisterError {
        RegisterError::Link(e)
    }
}

/// A DATE_TIME of the protocol as a calendar time; `None` for an impossible value.
pub(crate) fn naive(dt: shtrih_proto::command::DateTime) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(i32::from(dt.year), u32::from(dt.month), u32::from(dt.day)).and_then(
        |d| {
            d.and_hms_opt(
                u32::from(dt.hour),
                u32::from(dt.minute),
                u32::from(dt.second),
            )
        },
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marking_timeout_follows_table_19_8_never_below_the_vendors() {
        let vendor = Duration::from_secs(40);
        assert_eq!(marking_timeout(vendor, None), vendor);
        assert_eq!(
            marking_timeout(vendor, Some(Duration::from_secs(5))),
            vendor
        );
        assert_eq!(
            marking_timeout(vendor, Some(Duration::from_secs(60))),
            Duration::from_secs(70),
            "the register's wait plus a margin for the FN"
        );
        // A nonsense table value saturates instead of overflowing.
        assert!(
            marking_timeout(vendor, Some(Duration::from_secs(u64::MAX)))
                >= Duration::from_secs(u64::MAX)
        );
    }
}
