//! Printing commands (§7.4): 0x17 print a line in font 1 and 0x25 cut. Both are dangerous to
//! repeat (a second line, an extra cut; §10.1).

use std::time::Duration;

use super::wire::{
    answer_data, answer_message, put_password, request, request_params, OperatorAnswer, Reader,
};
use super::{AnswerError, Command, CommandClass, Password, TIMEOUT_FISCAL};
use crate::text;

/// Classic width of the 0x17 text field (§7.4: 40 bytes, LEN 46).
pub const PRINT_LINE_WIDTH: usize = 40;

/// 0x17 flag bit 1: print on the receipt tape (§7.4).
pub const PRINT_ON_RECEIPT: u8 = 0x02;
/// 0x17 flag bit 7: deferred, printed inside the fiscal receipt (§7.4).
pub const PRINT_DEFERRED: u8 = 0x80;

/// 0x17: print one line in font 1 (§7.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrintLine {
    /// Operator password.
    pub password: Password,
    /// Flags: bit0 journal, bit1 receipt, bit6 wrap, bit7 deferred.
    pub flags: u8,
    /// Text, CP1251, NUL-padded (and cut) to 40 bytes.
    pub text: String,
}

impl Command for PrintLine {
    type Answer = OperatorAnswer;
    const CODE: &'static [u8] = &[0x17];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.push(self.flags);
            out.extend(text::encode_fixed_cp1251(&self.text, PRINT_LINE_WIDTH));
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<OperatorAnswer, AnswerError> {
        let data = answer_data(msg, Self::CODE, "17 print line")?;
        Ok(OperatorAnswer {
            operator: Reader::new(data, "17 print line").u8()?,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Dangerous
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "17 print line"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "17 print line";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
        let password = Password(r.u32()?);
        let flags = r.u8()?;
        let text = text::decode_nul_terminated_cp1251(r.rest());
        Ok(PrintLine {
            password,
            flags,
            text,
        })
    }
    fn encode_answer(a: &OperatorAnswer) -> Vec<u8> {
        answer_message(Self::CODE, &[a.operator])
    }
}

/// Cut type of 0x25 (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutKind {
    /// 0: full cut.
    Full,
    /// 1: partial cut.
    Partial,
}

/// 0x25: cut the receipt tape; needs a cutter (F7 bit 13) (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cut {
    /// Operator password.
    pub password: Password,
    /// Full or partial.
    pub kind: CutKind,
}

impl Command for Cut {
    type Answer = OperatorAnswer;
    const CODE: &'static [u8] = &[0x25];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.push(match self.kind {
                CutKind::Full => 0,
                CutKind::Partial => 1,
            });
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<OperatorAnswer, AnswerError> {
        let data = answer_data(msg, Self::CODE, "25 cut")?;
        Ok(OperatorAnswer {
            operator: Reader::new(data, "25 cut").u8()?,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Dangerous
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "25 cut"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "25 cut")?, "25 cut");
        let password = Password(r.u32()?);
        let kind = match r.u8()? {
            0 => CutKind::Full,
            1 => CutKind::Partial,
            other => return Err(AnswerError::Malformed(format!("25 cut: type {other}"))),
        };
        r.finish()?;
        Ok(Cut { password, kind })
    }
    fn encode_answer(a: &OperatorAnswer) -> Vec<u8> {
        answer_message(Self::CODE, &[a.operator])
    }
}
