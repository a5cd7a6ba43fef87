//! Shift commands (§7.5): 0xE0 open shift, 0xFF41 / 0xFF42 begin opening / closing (so TLVs can
//! be attached), 0xFF43 close shift in the FN, 0x40 X report, 0x41 Z report, 0xFF40 shift
//! parameters. Every request is just the password.

use super::wire::{commands, AnswerData, DocumentTail, OperatorAnswer, Reader};
use super::{AnswerError, DateTime, TIMEOUT_FISCAL, TIMEOUT_SHIFT, TIMEOUT_STATUS};

/// Answer data of 0xE0: the operator byte is present on some firmware only (§7.5 note, §13.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenShiftAnswer {
    /// Operator number, when the device sends it (LEN 3).
    pub operator: Option<u8>,
}

impl AnswerData for OpenShiftAnswer {
    fn read(r: &mut Reader<'_>) -> Result<OpenShiftAnswer, AnswerError> {
        let operator = if r.remaining() > 0 {
            Some(r.u8()?)
        } else {
            None
        };
        Ok(OpenShiftAnswer { operator })
    }
    fn put(&self, out: &mut Vec<u8>) {
        out.extend(self.operator);
    }
}

/// Answer data of FF43 (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseShiftFnAnswer {
    /// Number of the closed shift.
    pub shift_number: u16,
    /// FD number of the close-shift report.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// Date-time, only with the extended-answer setting.
    pub date_time: Option<DateTime>,
}

impl AnswerData for CloseShiftFnAnswer {
    fn read(r: &mut Reader<'_>) -> Result<CloseShiftFnAnswer, AnswerError> {
        let shift_number = r.u16()?;
        let tail = DocumentTail::read(r)?;
        Ok(CloseShiftFnAnswer {
            shift_number,
            fd_number: tail.fd_number,
            fiscal_sign: tail.fiscal_sign,
            date_time: tail.date_time,
        })
    }
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.shift_number.to_le_bytes());
        DocumentTail {
            fd_number: self.fd_number,
            fiscal_sign: self.fiscal_sign,
            date_time: self.date_time,
        }
        .put(out);
    }
}

/// Answer data of FF40 (§7.5; number semantics while closed UNCONFIRMED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShiftParamsAnswer {
    /// Shift open in the FN.
    pub shift_open: bool,
    /// Shift number (the last closed one while closed).
    pub shift_number: u16,
    /// Receipt counter of the current (or last) shift.
    pub receipt_number: u16,
}

impl AnswerData for ShiftParamsAnswer {
    fn read(r: &mut Reader<'_>) -> Result<ShiftParamsAnswer, AnswerError> {
        Ok(ShiftParamsAnswer {
            shift_open: r.u8()? != 0,
            shift_number: r.u16()?,
            receipt_number: r.u16()?,
        })
    }
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.shift_open));
        out.extend_from_slice(&self.shift_number.to_le_bytes());
        out.extend_from_slice(&self.receipt_number.to_le_bytes());
    }
}

commands! {
    password;
    /// 0xE0: open a shift; prints and creates the open-shift report FD (§7.5).
    OpenShift = &[0xE0], "E0 open shift", SelfGuarding, TIMEOUT_SHIFT, OpenShiftAnswer;
    /// 0xFF41: begin forming the open-shift report, so FF0C can attach tags (§7.5).
    BeginShiftOpening = &[0xFF, 0x41], "FF41 begin shift opening", SelfGuarding, TIMEOUT_FISCAL, ();
    /// 0xFF42: begin forming the close-shift report, so FF0C can attach tags (§7.5).
    BeginShiftClosing = &[0xFF, 0x42], "FF42 begin shift closing", SelfGuarding, TIMEOUT_FISCAL, ();
    /// 0x40: X report, shift totals without closing; not an FD (§7.5).
    XReport = &[0x40], "40 X report", Dangerous, TIMEOUT_FISCAL, OperatorAnswer;
    /// 0x41: Z report, closes the shift and creates the close-shift FD (§7.5).
    ZReport = &[0x41], "41 Z report", SelfGuarding, TIMEOUT_SHIFT, OperatorAnswer;
    /// 0xFF43: close the shift in the FN (§7.5).
    CloseShiftFn = &[0xFF, 0x43], "FF43 close shift in FN", SelfGuarding, TIMEOUT_SHIFT, CloseShiftFnAnswer;
    /// 0xFF40: current shift parameters, read-only (§7.5).
    ShiftParams = &[0xFF, 0x40], "FF40 shift parameters", Read, TIMEOUT_STATUS, ShiftParamsAnswer;
}
