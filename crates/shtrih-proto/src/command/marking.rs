//! Marked goods on an FN-M (FFD 1.2 addendum §4): FF61 check a code, FF69 accept / reject /
//! clear, FF67 bind the code to the item.
//!
//! None of them is resent on a guess: FF61 takes a slot of the FN's check table and may run an
//! online check, FF67 binds the code to an item (a second bind is a second code on the
//! receipt), and FF69 accept/reject answers FN 0x02 once nothing awaits a decision (FF70 offset
//! 6 counts the accepted codes). Only FF69 "clear" is an idempotent write.

use std::time::Duration;

use super::wire::{put_password, Reader};
use super::{AnswerError, Command, CommandClass, OutOfRange, Password, TIMEOUT_FISCAL};
use crate::tlv::{self, Tlv};

/// FF61 and FF67: the vendor driver waits 40 s (the KKT may wait table 19.8 for the server).
pub const TIMEOUT_MARKING_CHECK: Duration = Duration::from_secs(40);

/// Longest FF61 code plus TLVs on the standard lower level: `10 + X + Y ≤ 255` (§4.2).
pub const MAX_CHECK_PAYLOAD: usize = 245;

/// Tag 2003, the planned status of the item (§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlannedStatus {
    /// 1: a piece item sold.
    PieceSold,
    /// 2: a measured item sold.
    MeasuredSold,
    /// 3: a piece item returned.
    PieceReturned,
    /// 4: a part (measured item) returned.
    MeasuredReturned,
    /// 255: status unchanged.
    Unchanged,
    /// Any other byte as received (5, 6 in ATOL's table).
    Other(u8),
}

impl PlannedStatus {
    /// The byte of tag 2003.
    pub fn code(self) -> u8 {
        match self {
            PlannedStatus::PieceSold => 1,
            PlannedStatus::MeasuredSold => 2,
            PlannedStatus::PieceReturned => 3,
            PlannedStatus::MeasuredReturned => 4,
            PlannedStatus::Unchanged => 255,
            PlannedStatus::Other(b) => b,
        }
    }

    /// The status of a byte.
    pub fn from_code(b: u8) -> PlannedStatus {
        match b {
            1 => PlannedStatus::PieceSold,
            2 => PlannedStatus::MeasuredSold,
            3 => PlannedStatus::PieceReturned,
            4 => PlannedStatus::MeasuredReturned,
            255 => PlannedStatus::Unchanged,
            other => PlannedStatus::Other(other),
        }
    }

    /// Whether the item is measured (2, 4): FF61 then carries 2108 and 1023.
    pub fn measured(self) -> bool {
        matches!(
            self,
            PlannedStatus::MeasuredSold | PlannedStatus::MeasuredReturned
        )
    }
}

/// Tag 2106, the result of a code check (§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckResult(pub u8);

impl CheckResult {
    /// bit0: the code was checked.
    pub fn checked(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// bit1: the check-code result is positive.
    pub fn positive(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// bit2: status information from the marking system received.
    pub fn status_received(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// bit3: the planned status is correct.
    pub fn status_correct(self) -> bool {
        self.0 & 0x08 != 0
    }
    /// bit4: the result was formed in autonomous mode.
    pub fn autonomous(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// The vendor's rule (§4.2): reject when checked and not positive, or when the status
    /// information came and the planned status is not correct.
    pub fn rejected(self) -> bool {
        (self.checked() && !self.positive()) || (self.status_received() && !self.status_correct())
    }
}

/// The online part of an FF61 answer (offsets 7.., present when L > 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OnlineCheck {
    /// FN answer code of the online check: 0 ok, 0x20 a reason follows, 0xFF server timeout.
    pub answer_code: u8,
    /// The bytes after it: 2106 and the server's TLVs when the code is 0, the reason for 0x20.
    pub data: Vec<u8>,
}

impl OnlineCheck {
    /// Tag 2106, when the server answered without error.
    pub fn result(&self) -> Option<CheckResult> {
        match (self.answer_code, self.data.first()) {
            (0, Some(b)) => Some(CheckResult(*b)),
            _ => None,
        }
    }
}

/// Answer data of FF61 (offsets 3..), also the optional tail of FF67.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MarkingCheckAnswer {
    /// Local check status, tag 2004: bit0 FN checked the code, bit1 positive.
    pub local_status: u8,
    /// Why the FN did not check it: 0 checked, 1 not checkable, 2 no key, 3 no AI 91/92, 4 other.
    pub local_reason: u8,
    /// Recognised code type, tag 2100.
    pub code_type: u8,
    /// The online check, absent when L = 0 (autonomous mode, server silent).
    pub online: Option<OnlineCheck>,
}

impl MarkingCheckAnswer {
    /// The decisive 2106 when the server answered.
    pub fn result(&self) -> Option<CheckResult> {
        self.online.as_ref().and_then(OnlineCheck::result)
    }

    fn read(r: &mut Reader<'_>) -> Result<MarkingCheckAnswer, AnswerError> {
        let local_status = r.u8()?;
        let local_reason = r.u8()?;
        let code_type = r.u8()?;
        let len = usize::from(r.u8()?);
        let online = if len == 0 {
            None
        } else {
            let block = r.bytes(len)?;
            Some(OnlineCheck {
                answer_code: block[0],
                data: block[1..].to_vec(),
            })
        };
        Ok(MarkingCheckAnswer {
            local_status,
            local_reason,
            code_type,
            online,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend([self.local_status, self.local_reason, self.code_type]);
        match &self.online {
            None => out.push(0),
            Some(o) => {
                out.push(u8::try_from(1 + o.data.len()).unwrap_or(u8::MAX));
                out.push(o.answer_code);
                out.extend_from_slice(&o.data);
            }
        }
    }
}

/// 0xFF61: check a marking code (§4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckMarkingCode {
    /// Password (operator or system administrator, §4.1).
    pub password: Password,
    /// Planned status, tag 2003.
    pub planned_status: PlannedStatus,
    /// The code exactly as scanned (GS1 groups separated by 0x1D).
    pub code: Vec<u8>,
    /// 2108 and 1023 for a measured item; empty for piece goods.
    pub tlvs: Vec<Tlv>,
}

impl Command for CheckMarkingCode {
    type Answer = MarkingCheckAnswer;
    const CODE: &'static [u8] = &[0xFF, 0x61];
    const NAME: &'static str = "FF61 check marking code";
    const CLASS: CommandClass = CommandClass::Dangerous;
    const TIMEOUT: Duration = TIMEOUT_MARKING_CHECK;

    fn check(&self) -> Result<(), OutOfRange> {
        let tlv_len: usize = self.tlvs.iter().map(Tlv::encoded_len).sum();
        let total = self.code.len() + tlv_len;
        let over = |field, value: usize, max: usize| OutOfRange {
            command: Self::NAME,
            field,
            value: u64::try_from(value).unwrap_or(u64::MAX),
            max: u64::try_from(max).unwrap_or(u64::MAX),
        };
        if self.code.is_empty() {
            return Err(over("code length", 0, 0));
        }
        if total > MAX_CHECK_PAYLOAD {
            return Err(over("code and TLV length", total, MAX_CHECK_PAYLOAD));
        }
        Ok(())
    }

    fn put_params(&self, out: &mut Vec<u8>) {
        let tlvs = tlv::encode_list(&self.tlvs);
        put_password(out, self.password);
        out.push(self.planned_status.code());
        out.push(0); // processing mode, tag 2102: always 0
        out.push(u8::try_from(self.code.len()).unwrap_or(u8::MAX));
        out.push(u8::try_from(tlvs.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.code);
        out.extend_from_slice(&tlvs);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let planned_status = PlannedStatus::from_code(r.u8()?);
        if r.u8()? != 0 {
            return Err(AnswerError::Malformed(format!(
                "{}: processing mode is not 0",
                Self::NAME
            )));
        }
        let code_len = usize::from(r.u8()?);
        let tlv_len = usize::from(r.u8()?);
        let code = r.bytes(code_len)?.to_vec();
        let tlvs = tlv::decode_list(r.bytes(tlv_len)?)
            .map_err(|e| AnswerError::Malformed(format!("{}: {e}", Self::NAME)))?;
        Ok(CheckMarkingCode {
            password,
            planned_status,
            code,
            tlvs,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<MarkingCheckAnswer, AnswerError> {
        MarkingCheckAnswer::read(r)
    }
    fn put_answer(answer: &MarkingCheckAnswer, out: &mut Vec<u8>) {
        answer.write(out);
    }
}

/// FF69's decision byte (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkingDecision {
    /// 0: reject the code just checked (the item is not sold).
    Reject,
    /// 1: accept it.
    Accept,
    /// 2: clear the stored check results.
    ClearResults,
}

/// 0xFF69: accept or reject the code just checked, or clear the results (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecideMarkingCode {
    /// Password (operator).
    pub password: Password,
    /// What to do.
    pub decision: MarkingDecision,
}

impl Command for DecideMarkingCode {
    /// Tag 2106 of the decided code, when the firmware sends it.
    type Answer = Option<CheckResult>;
    const CODE: &'static [u8] = &[0xFF, 0x69];
    const NAME: &'static str = "FF69 marking decision";
    /// Accept and reject; "clear" is an idempotent write ([`Command::class`]).
    const CLASS: CommandClass = CommandClass::SelfGuarding;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn class(&self) -> CommandClass {
        match self.decision {
            MarkingDecision::ClearResults => CommandClass::IdempotentWrite,
            _ => Self::CLASS,
        }
    }

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(match self.decision {
            MarkingDecision::Reject => 0,
            MarkingDecision::Accept => 1,
            MarkingDecision::ClearResults => 2,
        });
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let decision = match r.u8()? {
            0 => MarkingDecision::Reject,
            1 => MarkingDecision::Accept,
            2 => MarkingDecision::ClearResults,
            other => {
                return Err(AnswerError::Malformed(format!(
                    "{}: decision {other}",
                    Self::NAME
                )))
            }
        };
        Ok(DecideMarkingCode { password, decision })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<Option<CheckResult>, AnswerError> {
        Ok(r.rest().first().map(|b| CheckResult(*b)))
    }
    fn put_answer(answer: &Option<CheckResult>, out: &mut Vec<u8>) {
        out.extend(answer.iter().map(|r| r.0));
    }
}

/// 0xFF67: bind a code to the item (§4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindMarkingCode {
    /// Password (operator).
    pub password: Password,
    /// The code as scanned.
    pub code: Vec<u8>,
    /// The optional trailing `FF`: a volume-sort-accounting (ОСУ) item.
    pub volume_sort: bool,
}

/// Answer data of FF67 (§4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindAnswer {
    /// Recognised code type, two bytes in wire order (`44 4D` GS1 DataMatrix …).
    pub code_kind: [u8; 2],
    /// DataMatrix kind (0 KM88, 1 symmetric, 2 tobacco, 3 KM44, `FF` GS1 without marking).
    pub datamatrix_kind: u8,
    /// The check the KKT ran itself, if it did.
    pub check: Option<MarkingCheckAnswer>,
}

impl Command for BindMarkingCode {
    type Answer = BindAnswer;
    const CODE: &'static [u8] = &[0xFF, 0x67];
    const NAME: &'static str = "FF67 bind marking code";
    const CLASS: CommandClass = CommandClass::Dangerous;
    const TIMEOUT: Duration = TIMEOUT_MARKING_CHECK;

    fn check(&self) -> Result<(), OutOfRange> {
        // 2 + 4 + 1 + N (+ 1) ≤ 255.
        let max = 248 - usize::from(self.volume_sort);
        if self.code.is_empty() || self.code.len() > max {
            return Err(OutOfRange {
                command: Self::NAME,
                field: "code length",
                value: u64::try_from(self.code.len()).unwrap_or(u64::MAX),
                max: u64::try_from(max).unwrap_or(u64::MAX),
            });
        }
        Ok(())
    }

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(u8::try_from(self.code.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.code);
        if self.volume_sort {
            out.push(0xFF);
        }
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let len = usize::from(r.u8()?);
        let code = r.bytes(len)?.to_vec();
        let volume_sort = match r.rest() {
            [] => false,
            [0xFF] => true,
            _ => {
                return Err(AnswerError::Malformed(format!(
                    "{}: bytes after the code",
                    Self::NAME
                )))
            }
        };
        Ok(BindMarkingCode {
            password,
            code,
            volume_sort,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<BindAnswer, AnswerError> {
        let code_kind = r.array()?;
        let datamatrix_kind = r.u8()?;
        let check = if r.remaining() == 0 {
            None
        } else {
            Some(MarkingCheckAnswer::read(r)?)
        };
        Ok(BindAnswer {
            code_kind,
            datamatrix_kind,
            check,
        })
    }
    fn put_answer(answer: &BindAnswer, out: &mut Vec<u8>) {
        out.extend_from_slice(&answer.code_kind);
        out.push(answer.datamatrix_kind);
        if let Some(check) = &answer.check {
            check.write(out);
        }
    }
}
