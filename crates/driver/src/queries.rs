//! Status and read-only queries, and the small printer commands: short status with the
//! readiness judgement (0x10), FN status (FF01), the FN archive (FF0A), shift counters (FF40),
//! the clock and through number (0x11), money and operation registers (0x1A, 0x1B; §7.9),
//! waiting for the printer, 0xB0 and 0x88. All the queries are pure reads (§10.1).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use shtrih_proto::command::{
    CancelReceipt, Command, ConfirmDate, ContinuePrinting, Date, DocumentDetails, FindDocument,
    FnStatus as FnStatusQuery, FullStatus, MoneyRegister, OfdExchangeStatus, OperationRegister,
    SetDate, SetTime, ShiftParams, ShortStatus, Time,
};

use crate::error::RegisterError;
use crate::readiness::RegisterStatus;
use crate::register::{bad_answer, naive, Register};

/// Operation register 152: the KKT through document number (§7.9).
pub(crate) const REG_THROUGH_NUMBER: u8 = 152;
/// Operation register 153: cash-in count in the shift (§7.9).
pub(crate) const REG_CASH_IN_COUNT: u8 = 153;
/// Operation register 154: cash-out count in the shift (§7.9).
pub(crate) const REG_CASH_OUT_COUNT: u8 = 154;
/// Money register 242: cash-in total in the shift (§7.9).
pub(crate) const REG_CASH_IN_TOTAL: u8 = 242;
/// Money register 243: cash-out total in the shift (§7.9).
pub(crate) const REG_CASH_OUT_TOTAL: u8 = 243;
/// Money register 241: cash in the drawer.
pub(crate) const REG_CASH_IN_DRAWER: u8 = 241;

/// The FN's own state (FF01, §7.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnState {
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

/// The FN's life phase (FF01 byte 1, protocol notes §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnPhase {
    /// Set up, waiting for the register's registration.
    ReadyForRegistration,
    /// Registered: fiscal documents can be made.
    Fiscal,
    /// Closed for fiscal documents; the OFD still gets what is unsent.
    PostFiscal,
    /// The archive is closed: the FN is only read.
    ArchiveClosed,
    /// A combination the notes do not name.
    Unknown(u8),
}

impl FnPhase {
    /// The phase the bits say, the highest bit set deciding.
    pub fn from_bits(bits: u8) -> FnPhase {
        match bits {
            b if b & 0x08 != 0 => FnPhase::ArchiveClosed,
            b if b & 0x04 != 0 => FnPhase::PostFiscal,
            b if b & 0x02 != 0 => FnPhase::Fiscal,
            b if b & 0x01 != 0 => FnPhase::ReadyForRegistration,
            b => FnPhase::Unknown(b),
        }
    }

    /// Russian name, as a technician reads it.
    pub fn russian(self) -> String {
        match self {
            FnPhase::ReadyForRegistration => "готов к регистрации".into(),
            FnPhase::Fiscal => "фискальный режим".into(),
            FnPhase::PostFiscal => "постфискальный режим".into(),
            FnPhase::ArchiveClosed => "архив закрыт".into(),
            FnPhase::Unknown(b) => format!("фаза {b:#04x}"),
        }
    }
}

impl FnState {
    /// The life phase.
    pub fn phase(&self) -> FnPhase {
        FnPhase::from_bits(self.life_phase)
    }
}

/// The FN's queue towards the OFD (FF39, §7.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfdBacklog {
    /// Documents not yet sent.
    pub unsent: u32,
    /// The oldest unsent document's time.
    pub oldest: Option<NaiveDateTime>,
}

/// One document of the FN archive as FF0A describes it (§7.8): enough to verify a document,
/// not to print it (for that, [`Register::read_document`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDocument {
    /// FFD form code (§8.2): 1 registration, 2 open shift, 3 receipt, 5 close shift, 31
    /// correction receipt …
    pub doc_type: u8,
    /// Date and time of the document (the FN keeps minutes).
    pub date_time: NaiveDateTime,
    /// FD number (tag 1040).
    pub fd_number: u32,
    /// Fiscal sign (tag 1077), printed in decimal.
    pub fiscal_sign: u32,
    /// Receipts and correction receipts: operation type (tag 1054: 1 sale, 2 sale return,
    /// 3 purchase, 4 purchase return) and total in kopecks.
    pub receipt: Option<(u8, u64)>,
    /// Shift reports: the shift number.
    pub shift_number: Option<u32>,
}

/// The register's facts of the day ([`Register::day_facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFacts {
    /// The FN has a shift open.
    pub shift_open: bool,
    /// The open shift's number, or the last closed one's.
    pub shift_number: u32,
    /// Receipts made in the open shift (0 with the shift closed).
    pub receipts_in_shift: u32,
    /// Cash in the drawer, kopecks (money register 241).
    pub cash_in_drawer: u64,
    /// The FN's last FD.
    pub last_fd: u32,
}

/// What 0x11 says about time and documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clock {
    /// The register's clock.
    pub now: NaiveDateTime,
    /// The current shift when one is open, else the last closed one.
    pub shift_number: u32,
    /// KKT through document number.
    pub through_number: u32,
    /// Full mode byte.
    pub mode: u8,
}

impl Register {
    /// Short status 0x10 (§6.1) with the readiness judgement.
    pub async fn status(&mut self) -> Result<RegisterStatus, RegisterError> {
        let answer = self
            .run(&ShortStatus {
                password: self.operator(),
            })
            .await?;
        Ok(RegisterStatus::new(
            answer.mode.to_byte(),
            answer.submode.to_byte(),
            answer.flags.0,
            answer.operations,
        ))
    }

    /// FN status FF01 (§7.8).
    pub async fn fn_status(&mut self) -> Result<FnState, RegisterError> {
        let answer = self
            .run(&FnStatusQuery {
                password: self.sysadmin(),
            })
            .await?;
        Ok(FnState {
            life_phase: answer.life_phase,
            document_open: answer.document_open,
            shift_open: answer.shift_open,
            warnings: answer.warnings,
            last_fd_time: naive(answer.last_document_time),
            fn_number: answer.serial.trim().to_string(),
            last_fd: answer.last_fd_number,
        })
    }

    /// Polls 0x10 until the printer is idle (§9.2: submode leaves 4/5), at a growing interval
    /// from `print_poll_first` to `print_poll_max` rather than the vendor's fixed 3 s pause;
    /// gives up waiting after `print_wait_limit`. Returns the last status either way.
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
        self.run(&ContinuePrinting {
            password: self.operator(),
        })
        .await?;
        self.wait_printed().await?;
        Ok(())
    }

    /// 0x88 cancels the open receipt (no FD is made).
    pub async fn cancel_receipt(&mut self) -> Result<(), RegisterError> {
        self.run(&CancelReceipt {
            password: self.operator(),
        })
        .await?;
        Ok(())
    }

    /// Sets the register's clock (0x22 date, 0x23 confirmation, 0x21 time; §7.2). Only with
    /// the shift closed (mode 4): the FN refuses documents whose time jumps (FN 0x07, 0x17).
    pub async fn set_clock(&mut self, at: NaiveDateTime) -> Result<(), RegisterError> {
        use chrono::{Datelike, Timelike};
        let date = Date {
            year: u16::try_from(at.year()).unwrap_or(2000),
            month: at.month() as u8,
            day: at.day() as u8,
        };
        let password = self.sysadmin();
        self.run(&SetDate { password, date }).await?;
        self.run(&ConfirmDate { password, date }).await?;
        let time = Time {
            hour: at.hour() as u8,
            minute: at.minute() as u8,
            second: at.second() as u8,
        };
        self.run(&SetTime { password, time }).await?;
        Ok(())
    }

    /// When the open shift was opened (register time), read from its opening document in the
    /// FN archive, looking back at most `search` documents; `None` when no shift is open or
    /// the opening is further back.
    pub async fn shift_opened_at(
        &mut self,
        search: u32,
    ) -> Result<Option<NaiveDateTime>, RegisterError> {
        let fn_status = self.fn_status().await?;
        if !fn_status.shift_open {
            return Ok(None);
        }
        let stop = fn_status.last_fd.saturating_sub(search);
        let mut fd = fn_status.last_fd;
        while fd > stop {
            match self.find_document(fd).await {
                Ok(doc) if doc.doc_type == fiscal_model::form::OPEN_SHIFT => {
                    return Ok(Some(doc.date_time))
                }
                Ok(_) | Err(RegisterError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
            fd -= 1;
        }
        Ok(None)
    }

    /// Documents the FN has not yet passed to the OFD, and the oldest one's time (FF39; the FN
    /// blocks after 30 days).
    pub async fn ofd_backlog(&mut self) -> Result<OfdBacklog, RegisterError> {
        let answer = self
            .run(&OfdExchangeStatus {
                password: self.sysadmin(),
            })
            .await?;
        Ok(OfdBacklog {
            unsent: u32::from(answer.queue_len),
            oldest: if answer.queue_len > 0 {
                naive(answer.first_date_time)
            } else {
                None
            },
        })
    }

    /// The register's clock (0x11).
    pub async fn clock_now(&mut self) -> Result<NaiveDateTime, RegisterError> {
        Ok(self.clock().await?.now)
    }

    /// FF0A: the FN archive's document `fd` (type, time, FD, fiscal sign, and the operation
    /// and total of a receipt or the number of a shift report). A number the FN does not hold
    /// is refused with FN error 0x08.
    pub async fn archived(&mut self, fd: u32) -> Result<ArchiveDocument, RegisterError> {
        self.find_document(fd).await
    }

    /// FF0A: the FN archive's document `fd`.
    pub(crate) async fn find_document(
        &mut self,
        fd: u32,
    ) -> Result<ArchiveDocument, RegisterError> {
        let find = FindDocument {
            password: self.sysadmin(),
            fd_number: fd,
        };
        let found = self.run(&find).await?;
        let date_time = naive(found.date_time).ok_or_else(|| {
            bad_answer(
                find.name(),
                format!("impossible date {:?}", found.date_time),
            )
        })?;
        let (receipt, shift_number) = match found.details {
            DocumentDetails::Receipt { operation, total } => (Some((operation, total)), None),
            DocumentDetails::Shift { shift_number } => (None, Some(u32::from(shift_number))),
            _ => (None, None),
        };
        Ok(ArchiveDocument {
            doc_type: found.doc_type,
            date_time,
            fd_number: found.fd_number,
            fiscal_sign: found.fiscal_sign,
            receipt,
            shift_number,
        })
    }

    /// The register's facts beyond its identity that change during the day: the shift (FF01,
    /// FF40) and the cash in the drawer (money register 241).
    pub async fn day_facts(&mut self) -> Result<DayFacts, RegisterError> {
        let fn_state = self.fn_status().await?;
        let (shift_number, receipt_number) = self.shift_numbers().await?;
        let cash_in_drawer = self.money_register(REG_CASH_IN_DRAWER).await?;
        Ok(DayFacts {
            shift_open: fn_state.shift_open,
            shift_number,
            receipts_in_shift: if fn_state.shift_open {
                receipt_number
            } else {
                0
            },
            cash_in_drawer,
            last_fd: fn_state.last_fd,
        })
    }

    /// FF40: (shift number, receipt number in the shift).
    pub(crate) async fn shift_numbers(&mut self) -> Result<(u32, u32), RegisterError> {
        let answer = self
            .run(&ShiftParams {
                password: self.sysadmin(),
            })
            .await?;
        Ok((
            u32::from(answer.shift_number),
            u32::from(answer.receipt_number),
        ))
    }

    /// 0x11 full status: clock, shift number, through number, mode (§6.2).
    pub(crate) async fn clock(&mut self) -> Result<Clock, RegisterError> {
        let full = self
            .run(&FullStatus {
                password: self.operator(),
            })
            .await?;
        let now = naive(full.date_time).ok_or_else(|| {
            bad_answer(
                FullStatus::NAME,
                format!("impossible date {:?}", full.date_time),
            )
        })?;
        let mode = full.mode.to_byte();
        // §6.2 gives the last *closed* shift; with a shift open (modes 2, 3, 8) the current
        // one is the next.
        let open = matches!(mode & 0x0F, 2 | 3 | 8);
        Ok(Clock {
            now,
            shift_number: u32::from(full.last_closed_shift) + u32::from(open),
            through_number: u32::from(full.document_number),
            mode,
        })
    }

    /// 0x1B operation register `number` (2 bytes).
    pub(crate) async fn operation_register(&mut self, number: u8) -> Result<u32, RegisterError> {
        let read = OperationRegister {
            password: self.operator(),
            number,
        };
        Ok(self.run(&read).await?.value as u32)
    }

    /// 0x1A money register `number` (6 bytes, kopecks).
    pub(crate) async fn money_register(&mut self, number: u8) -> Result<u64, RegisterError> {
        let read = MoneyRegister {
            password: self.operator(),
            number,
        };
        Ok(self.run(&read).await?.value)
    }
}
