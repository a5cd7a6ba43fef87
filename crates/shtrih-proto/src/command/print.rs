//! Printing commands (§7.4): 0x17 print a line in font 1, 0x25 cut and 0x8C repeat the last
//! document. All are dangerous to repeat (a second line, an extra cut, a second copy; §10.1).

use std::time::Duration;

use super::wire::{commands, put_password, AnswerData, OperatorAnswer, Reader};
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
    const NAME: &'static str = "17 print line";
    const CLASS: CommandClass = CommandClass::Dangerous;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(self.flags);
        out.extend(text::encode_fixed_cp1251(&self.text, PRINT_LINE_WIDTH));
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        Ok(PrintLine {
            password: Password(r.u32()?),
            flags: r.u8()?,
            text: text::decode_nul_terminated_cp1251(r.rest()),
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<OperatorAnswer, AnswerError> {
        OperatorAnswer::read(r)
    }
    fn put_answer(answer: &OperatorAnswer, out: &mut Vec<u8>) {
        answer.put(out);
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
    const NAME: &'static str = "25 cut";
    const CLASS: CommandClass = CommandClass::Dangerous;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(match self.kind {
            CutKind::Full => 0,
            CutKind::Partial => 1,
        });
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let kind = match r.u8()? {
            0 => CutKind::Full,
            1 => CutKind::Partial,
            other => {
                return Err(AnswerError::Malformed(format!(
                    "{}: type {other}",
                    Self::NAME
                )))
            }
        };
        Ok(Cut { password, kind })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<OperatorAnswer, AnswerError> {
        OperatorAnswer::read(r)
    }
    fn put_answer(answer: &OperatorAnswer, out: &mut Vec<u8>) {
        answer.put(out);
    }
}

commands! {
    password;
    /// 0x8C: print a non-fiscal copy («ПОВТОР ДОКУМЕНТА») of the last document the register
    /// printed (§7.4; addendum §6); 0x56 when there is none. Makes no FD.
    RepeatDocument = &[0x8C], "8C repeat document", Dangerous, TIMEOUT_FISCAL, OperatorAnswer;
}
