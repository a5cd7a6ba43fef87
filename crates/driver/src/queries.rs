//! Read-only queries used to fill in results and to settle lost outcomes: the FN archive
//! (FF0A), the shift counters (FF40), the register's clock and through number (0x11), and
//! its money and operation registers (0x1A, 0x1B; §7.9). All are pure reads (§10.1).

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::RegisterError;
use crate::register::{bad_answer, Register};
use crate::wire::{put_uint, Reader};

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

/// One document of the FN archive (FF0A, §7.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArchiveDocument {
    /// FFD form code (§8.2): 2 open shift, 3 receipt, 5 close shift …
    pub doc_type: u8,
    pub date_time: NaiveDateTime,
    pub fd_number: u32,
    pub fiscal_sign: u32,
    /// Receipts: operation type (tag 1054 numbering) and total.
    pub receipt: Option<(u8, u64)>,
    /// Shift reports: the shift number.
    pub shift_number: Option<u32>,
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
    /// FF0A: the FN archive's document `fd`.
    pub(crate) async fn find_document(
        &mut self,
        fd: u32,
    ) -> Result<ArchiveDocument, RegisterError> {
        const NAME: &str = "FF0A find document";
        let mut msg = self.with_password(&[0xFF, 0x0A], self.options.sysadmin_password);
        put_uint(&mut msg, u64::from(fd), 4);
        let data = self.query(NAME, msg).await?;
        let mut r = Reader::new(&data, NAME);
        let parse = |r: &mut Reader<'_>| -> Result<ArchiveDocument, String> {
            let doc_type = r.byte("document type")?;
            let _ticket = r.byte("OFD ticket")?;
            let date_time = r
                .fn_date_time("date and time")?
                .ok_or_else(|| "impossible date".to_string())?;
            let fd_number = r.uint(4, "FD number")? as u32;
            let fiscal_sign = r.uint(4, "fiscal sign")? as u32;
            let (receipt, shift_number) = match doc_type {
                3 | 4 | 31 | 41 => {
                    let op = r.byte("operation type")?;
                    let total = r.uint(5, "total")?;
                    (Some((op, total)), None)
                }
                2 | 5 => (None, Some(r.uint(2, "shift number")? as u32)),
                _ => (None, None),
            };
            Ok(ArchiveDocument {
                doc_type,
                date_time,
                fd_number,
                fiscal_sign,
                receipt,
                shift_number,
            })
        };
        parse(&mut r).map_err(|e| bad_answer(NAME, e))
    }

    /// FF40: (shift number, receipt number in the shift).
    pub(crate) async fn shift_numbers(&mut self) -> Result<(u32, u32), RegisterError> {
        const NAME: &str = "FF40 shift parameters";
        let msg = self.with_password(&[0xFF, 0x40], self.options.sysadmin_password);
        let data = self.query(NAME, msg).await?;
        let mut r = Reader::new(&data, NAME);
        let parse = |r: &mut Reader<'_>| -> Result<(u32, u32), String> {
            let _open = r.byte("shift state")?;
            let shift = r.uint(2, "shift number")? as u32;
            let receipt = r.uint(2, "receipt number")? as u32;
            Ok((shift, receipt))
        };
        parse(&mut r).map_err(|e| bad_answer(NAME, e))
    }

    /// 0x11 full status: clock, shift number, through number, mode (§6.2).
    pub(crate) async fn clock(&mut self) -> Result<Clock, RegisterError> {
        const NAME: &str = "11 full status";
        let msg = self.with_password(&[0x11], self.options.operator_password);
        let data = self.query(NAME, msg).await?;
        let mut r = Reader::new(&data, NAME);
        let parse = |r: &mut Reader<'_>| -> Result<Clock, String> {
            let _ = r.bytes(9, "operator, firmware, hall number")?;
            let through_number = r.uint(2, "through number")? as u32;
            let _flags = r.uint(2, "flags")?;
            let mode = r.byte("mode")?;
            let _ = r.bytes(9, "submode, port, legacy fields")?;
            let d = r.bytes(3, "date")?;
            let t = r.bytes(3, "time")?;
            let _ = r.bytes(5, "legacy flags, serial")?;
            let last_closed = r.uint(2, "last closed shift")? as u32;
            let now =
                NaiveDate::from_ymd_opt(2000 + i32::from(d[2]), u32::from(d[1]), u32::from(d[0]))
                    .and_then(|day| {
                        day.and_hms_opt(u32::from(t[0]), u32::from(t[1]), u32::from(t[2]))
                    })
                    .ok_or_else(|| format!("impossible date {d:02X?} {t:02X?}"))?;
            // §6.2 gives the last *closed* shift; with a shift open (modes 2, 3, 8) the current
            // one is the next.
            let open = matches!(mode & 0x0F, 2 | 3 | 8);
            Ok(Clock {
                now,
                shift_number: last_closed + u32::from(open),
                through_number,
                mode,
            })
        };
        parse(&mut r).map_err(|e| bad_answer(NAME, e))
    }

    /// 0x1B operation register `number` (2 bytes).
    pub(crate) async fn operation_register(&mut self, number: u8) -> Result<u32, RegisterError> {
        const NAME: &str = "1B operation register";
        let mut msg = self.with_password(&[0x1B], self.options.operator_password);
        msg.push(number);
        let data = self.query(NAME, msg).await?;
        let mut r = Reader::new(&data, NAME);
        let _operator = r.byte("operator").map_err(|e| bad_answer(NAME, e))?;
        r.uint(2, "value")
            .map(|v| v as u32)
            .map_err(|e| bad_answer(NAME, e))
    }

    /// 0x1A money register `number` (6 bytes, kopecks).
    pub(crate) async fn money_register(&mut self, number: u8) -> Result<u64, RegisterError> {
        const NAME: &str = "1A money register";
        let mut msg = self.with_password(&[0x1A], self.options.operator_password);
        msg.push(number);
        let data = self.query(NAME, msg).await?;
        let mut r = Reader::new(&data, NAME);
        let _operator = r.byte("operator").map_err(|e| bad_answer(NAME, e))?;
        r.uint(6, "value").map_err(|e| bad_answer(NAME, e))
    }
}
