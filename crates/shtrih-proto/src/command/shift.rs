//! Shift commands (§7.5): 0xE0 open shift, 0xFF41 / 0xFF42 begin opening / closing (so TLVs can
//! be attached), 0xFF43 close shift in the FN, 0x40 X report, 0x41 Z report, 0xFF40 shift
//! parameters.

use std::time::Duration;

use super::wire::{
    answer_data, answer_message, password_command, put_password, request, request_params,
    OperatorAnswer, Reader,
};
use super::{
    AnswerError, Command, CommandClass, DateTime, Password, TIMEOUT_FISCAL, TIMEOUT_SHIFT,
    TIMEOUT_STATUS,
};

/// 0xE0: open a shift; prints and creates the open-shift report FD (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenShift {
    /// Operator password.
    pub password: Password,
}

/// Answer data of 0xE0: the operator byte is present on some firmware only (§7.5 note, §13.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenShiftAnswer {
    /// Operator number, when the device sends it (LEN 3).
    pub operator: Option<u8>,
}

impl Command for OpenShift {
    type Answer = OpenShiftAnswer;
    const CODE: &'static [u8] = &[0xE0];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| put_password(out, self.password))
    }
    fn decode_answer(msg: &[u8]) -> Result<OpenShiftAnswer, AnswerError> {
        let data = answer_data(msg, Self::CODE, "E0 open shift")?;
        Ok(OpenShiftAnswer {
            operator: data.first().copied(),
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::SelfGuarding
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_SHIFT
    }
    fn name(&self) -> &'static str {
        "E0 open shift"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "E0 open shift")?, "E0");
        let password = Password(r.u32()?);
        r.finish()?;
        Ok(OpenShift { password })
    }
    fn encode_answer(a: &OpenShiftAnswer) -> Vec<u8> {
        let data: Vec<u8> = a.operator.into_iter().collect();
        answer_message(Self::CODE, &data)
    }
}

password_command!(
    /// 0xFF41: begin forming the open-shift report, so FF0C can attach tags (§7.5).
    BeginShiftOpening,
    &[0xFF, 0x41],
    "FF41 begin shift opening",
    (),
    CommandClass::SelfGuarding,
    TIMEOUT_FISCAL
);

password_command!(
    /// 0xFF42: begin forming the close-shift report, so FF0C can attach tags (§7.5).
    BeginShiftClosing,
    &[0xFF, 0x42],
    "FF42 begin shift closing",
    (),
    CommandClass::SelfGuarding,
    TIMEOUT_FISCAL
);

password_command!(
    /// 0x40: X report, shift totals without closing; not an FD (§7.5).
    XReport,
    &[0x40],
    "40 X report",
    OperatorAnswer,
    CommandClass::Dangerous,
    TIMEOUT_FISCAL
);

password_command!(
    /// 0x41: Z report, closes the shift and creates the close-shift FD (§7.5).
    ZReport,
    &[0x41],
    "41 Z report",
    OperatorAnswer,
    CommandClass::SelfGuarding,
    TIMEOUT_SHIFT
);

/// 0xFF43: close the shift in the FN (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseShiftFn {
    /// Password.
    pub password: Password,
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

impl Command for CloseShiftFn {
    type Answer = CloseShiftFnAnswer;
    const CODE: &'static [u8] = &[0xFF, 0x43];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| put_password(out, self.password))
    }
    fn decode_answer(msg: &[u8]) -> Result<CloseShiftFnAnswer, AnswerError> {
        let name = "FF43 close shift in FN";
        let mut r = Reader::new(answer_data(msg, Self::CODE, name)?, name);
        let shift_number = r.u16()?;
        let fd_number = r.u32()?;
        let fiscal_sign = r.u32()?;
        let date_time = if r.remaining() >= 5 {
            Some(DateTime::from_fn(r.array()?))
        } else {
            None
        };
        Ok(CloseShiftFnAnswer {
            shift_number,
            fd_number,
            fiscal_sign,
            date_time,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::SelfGuarding
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_SHIFT
    }
    fn name(&self) -> &'static str {
        "FF43 close shift in FN"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "FF43")?, "FF43");
        let password = Password(r.u32()?);
        r.finish()?;
        Ok(CloseShiftFn { password })
    }
    fn encode_answer(a: &CloseShiftFnAnswer) -> Vec<u8> {
        let mut d = a.shift_number.to_le_bytes().to_vec();
        d.extend_from_slice(&a.fd_number.to_le_bytes());
        d.extend_from_slice(&a.fiscal_sign.to_le_bytes());
        if let Some(dt) = a.date_time {
            d.extend_from_slice(&dt.to_fn());
        }
        answer_message(Self::CODE, &d)
    }
}

/// 0xFF40: current shift parameters, read-only (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShiftParams {
    /// Password.
    pub password: Password,
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

impl Command for ShiftParams {
    type Answer = ShiftParamsAnswer;
    const CODE: &'static [u8] = &[0xFF, 0x40];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| put_password(out, self.password))
    }
    fn decode_answer(msg: &[u8]) -> Result<ShiftParamsAnswer, AnswerError> {
        let name = "FF40 shift parameters";
        let mut r = Reader::new(answer_data(msg, Self::CODE, name)?, name);
        Ok(ShiftParamsAnswer {
            shift_open: r.u8()? != 0,
            shift_number: r.u16()?,
            receipt_number: r.u16()?,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "FF40 shift parameters"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "FF40")?, "FF40");
        let password = Password(r.u32()?);
        r.finish()?;
        Ok(ShiftParams { password })
    }
    fn encode_answer(a: &ShiftParamsAnswer) -> Vec<u8> {
        let mut d = vec![u8::from(a.shift_open)];
        d.extend_from_slice(&a.shift_number.to_le_bytes());
        d.extend_from_slice(&a.receipt_number.to_le_bytes());
        answer_message(Self::CODE, &d)
    }
}
