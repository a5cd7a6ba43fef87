//! Byte-level helpers shared by the command layouts: a bounds-checked reader, little-endian
//! writers (§3), the answer header check (§3 error forms), dates and times, and a macro for the
//! many commands whose request is just the password.

use super::{AnswerError, Password, MAX_MONEY, MAX_QUANTITY};
use crate::error::ErrorCode;

/// Returns the data after `code | error` of a successful answer.
///
/// Error forms (§3): `code err` for one-byte codes, `FF xx err` for FN commands, and defensively
/// the two-byte `FF err` when the second byte is not the expected sub-code (as the vendor driver
/// does). Anything else that does not match is malformed rather than guessed to be an error,
/// because "refused" claims the command did not run: a two-byte `FF xx` whose second byte *is*
/// the sub-code, and a longer answer carrying another FF command's sub-code (a stale answer).
pub(crate) fn answer_data<'a>(
    msg: &'a [u8],
    code: &[u8],
    name: &str,
) -> Result<&'a [u8], AnswerError> {
    let malformed = |why: &str| AnswerError::Malformed(format!("{name}: {why}"));
    match *code {
        [one] => match msg {
            [] => Err(malformed("empty answer")),
            [c, ..] if *c != one => Err(malformed(&format!("answer code {c:#04x}"))),
            [_] => Err(malformed("answer without error byte")),
            [_, 0, data @ ..] => Ok(data),
            [_, err, ..] => Err(AnswerError::Device(ErrorCode(*err))),
        },
        [0xFF, sub] => match msg {
            [] => Err(malformed("empty answer")),
            [c, ..] if *c != 0xFF => Err(malformed(&format!("answer code {c:#04x}"))),
            [_] => Err(malformed("answer without sub-code")),
            [_, s] if *s != sub && *s != 0 => Err(AnswerError::Device(ErrorCode(*s))),
            [_, s, ..] if *s != sub => Err(malformed(&format!("answer sub-code {s:#04x}"))),
            [_, _] => Err(malformed("answer without error byte")),
            [_, _, 0, data @ ..] => Ok(data),
            [_, _, err, ..] => Err(AnswerError::Device(ErrorCode(*err))),
        },
        _ => Err(malformed("command code of unsupported length")),
    }
}

/// Returns the parameters after the code of a request message.
pub(crate) fn request_params<'a>(
    msg: &'a [u8],
    code: &[u8],
    name: &str,
) -> Result<&'a [u8], AnswerError> {
    msg.strip_prefix(code).ok_or_else(|| {
        AnswerError::Malformed(format!("{name}: request does not start with its code"))
    })
}

/// A successful answer message: `code | 00 | data`.
pub(crate) fn answer_message(code: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(code.len() + 1 + data.len());
    out.extend_from_slice(code);
    out.push(0);
    out.extend_from_slice(data);
    out
}

/// Reads little-endian fields (§3) with bounds checks; every shortfall is a `Malformed` error
/// naming the command.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    name: &'a str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], name: &'a str) -> Reader<'a> {
        Reader { buf, pos: 0, name }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], AnswerError> {
        let out = self.buf.get(self.pos..self.pos + n).ok_or_else(|| {
            AnswerError::Malformed(format!(
                "{}: needs {} bytes at offset {}, has {}",
                self.name,
                n,
                self.pos,
                self.buf.len()
            ))
        })?;
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], AnswerError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, AnswerError> {
        Ok(self.bytes(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, AnswerError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, AnswerError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// An unsigned little-endian integer of `n` ≤ 8 bytes (5-byte money, 6-byte quantity, §3).
    pub(crate) fn uint(&mut self, n: usize) -> Result<u64, AnswerError> {
        let bytes = self.bytes(n)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        out
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// For request decoding: nothing may follow the last field.
    pub(crate) fn finish(&self) -> Result<(), AnswerError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(AnswerError::Malformed(format!(
                "{}: {} unexpected trailing bytes",
                self.name,
                self.remaining()
            )))
        }
    }
}

/// Appends the low `n` bytes of `value`, little-endian.
pub(crate) fn put_uint(out: &mut Vec<u8>, value: u64, n: usize) {
    out.extend_from_slice(&value.to_le_bytes()[..n]);
}

/// Appends a 5-byte money amount (§3). Commands refuse larger values in `check`, so a send
/// never reaches the cap; it stays only so that an unchecked value can never turn into the
/// all-ones "not given" marker of FF46.
pub(crate) fn put_money(out: &mut Vec<u8>, kopecks: u64) {
    put_uint(out, kopecks.min(MAX_MONEY), 5);
}

/// Appends a 6-byte quantity in millionths (§3); `check` refuses larger values first.
pub(crate) fn put_quantity(out: &mut Vec<u8>, millionths: u64) {
    put_uint(out, millionths.min(MAX_QUANTITY), 6);
}

/// Appends a password (§3: 4 bytes LE).
pub(crate) fn put_password(out: &mut Vec<u8>, password: Password) {
    out.extend_from_slice(&password.0.to_le_bytes());
}

/// A request message: code then `params` filled by the closure.
pub(crate) fn request(code: &[u8], params: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = code.to_vec();
    params(&mut out);
    out
}

/// A calendar date as the KKT and FN send it: year is the full year (two-digit year + 2000, §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Date {
    /// Full year, 2000..=2255.
    pub year: u16,
    /// Month 1..=12 (not checked: the device's bytes are passed through).
    pub month: u8,
    /// Day 1..=31 (not checked).
    pub day: u8,
}

/// A time of day as the KKT sends it (§3: `HH MM SS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Time {
    /// Hour 0..=23 (not checked).
    pub hour: u8,
    /// Minute 0..=59 (not checked).
    pub minute: u8,
    /// Second 0..=59 (not checked).
    pub second: u8,
}

/// A date and time, from 0x11 (`DD MM YY` + `HH MM SS`) or from an FN DATE_TIME
/// (`YY MM DD HH MM`, seconds always 0) (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct DateTime {
    /// Full year, 2000..=2255.
    pub year: u16,
    /// Month.
    pub month: u8,
    /// Day.
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second (0 for FN DATE_TIME).
    pub second: u8,
}

/// Two-digit year on the wire (§3: YY = year − 2000), saturating outside 2000..=2255.
fn year_byte(year: u16) -> u8 {
    u8::try_from(year.saturating_sub(2000)).unwrap_or(u8::MAX)
}

impl Date {
    /// From KKT order `DD MM YY` (§3).
    pub fn from_kkt(bytes: [u8; 3]) -> Date {
        Date {
            day: bytes[0],
            month: bytes[1],
            year: 2000 + u16::from(bytes[2]),
        }
    }

    /// To KKT order `DD MM YY` (§3).
    pub fn to_kkt(self) -> [u8; 3] {
        [self.day, self.month, year_byte(self.year)]
    }

    /// From FN order `YY MM DD` (§3, FF03).
    pub fn from_fn(bytes: [u8; 3]) -> Date {
        Date {
            year: 2000 + u16::from(bytes[0]),
            month: bytes[1],
            day: bytes[2],
        }
    }

    /// To FN order `YY MM DD`.
    pub fn to_fn(self) -> [u8; 3] {
        [year_byte(self.year), self.month, self.day]
    }
}

impl Time {
    /// From `HH MM SS` (§3).
    pub fn from_bytes(bytes: [u8; 3]) -> Time {
        Time {
            hour: bytes[0],
            minute: bytes[1],
            second: bytes[2],
        }
    }

    /// To `HH MM SS`.
    pub fn to_bytes(self) -> [u8; 3] {
        [self.hour, self.minute, self.second]
    }
}

impl DateTime {
    /// From an FN DATE_TIME `YY MM DD HH MM` (§3).
    pub fn from_fn(bytes: [u8; 5]) -> DateTime {
        DateTime {
            year: 2000 + u16::from(bytes[0]),
            month: bytes[1],
            day: bytes[2],
            hour: bytes[3],
            minute: bytes[4],
            second: 0,
        }
    }

    /// To an FN DATE_TIME; seconds are dropped.
    pub fn to_fn(self) -> [u8; 5] {
        [
            year_byte(self.year),
            self.month,
            self.day,
            self.hour,
            self.minute,
        ]
    }

    /// From a KKT date and time (0x11 offsets 25–30).
    pub fn from_kkt(date: Date, time: Time) -> DateTime {
        DateTime {
            year: date.year,
            month: date.month,
            day: date.day,
            hour: time.hour,
            minute: time.minute,
            second: time.second,
        }
    }

    /// The date part.
    pub fn date(self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: self.day,
        }
    }

    /// The time part.
    pub fn time(self) -> Time {
        Time {
            hour: self.hour,
            minute: self.minute,
            second: self.second,
        }
    }
}

/// Data of an answer that carries only the operator number (`code | err | operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OperatorAnswer {
    /// Operator number 1..30 whose password matched (§4); some answers carry 0.
    pub operator: u8,
}

/// Answer data layouts shared by many commands.
pub(crate) trait SimpleAnswer: Sized {
    fn decode_data(data: &[u8], name: &str) -> Result<Self, AnswerError>;
    fn encode_data(&self) -> Vec<u8>;
}

impl SimpleAnswer for () {
    fn decode_data(_data: &[u8], _name: &str) -> Result<(), AnswerError> {
        Ok(())
    }
    fn encode_data(&self) -> Vec<u8> {
        Vec::new()
    }
}

impl SimpleAnswer for OperatorAnswer {
    fn decode_data(data: &[u8], name: &str) -> Result<OperatorAnswer, AnswerError> {
        Ok(OperatorAnswer {
            operator: Reader::new(data, name).u8()?,
        })
    }
    fn encode_data(&self) -> Vec<u8> {
        vec![self.operator]
    }
}

/// Defines a command whose request is `code | password` and whose answer is a [`SimpleAnswer`].
macro_rules! password_command {
    ($(#[$doc:meta])* $ty:ident, $code:expr, $name:literal, $answer:ty, $class:expr, $timeout:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty {
            /// Operator password (§4).
            pub password: $crate::command::Password,
        }

        impl $crate::command::Command for $ty {
            type Answer = $answer;
            const CODE: &'static [u8] = $code;

            fn encode(&self) -> Vec<u8> {
                $crate::command::wire::request(Self::CODE, |out| {
                    $crate::command::wire::put_password(out, self.password)
                })
            }

            fn decode_answer(msg: &[u8]) -> Result<$answer, $crate::command::AnswerError> {
                let data = $crate::command::wire::answer_data(msg, Self::CODE, $name)?;
                <$answer as $crate::command::wire::SimpleAnswer>::decode_data(data, $name)
            }

            fn class(&self) -> $crate::command::CommandClass {
                $class
            }

            fn timeout(&self) -> std::time::Duration {
                $timeout
            }

            fn name(&self) -> &'static str {
                $name
            }

            fn decode(msg: &[u8]) -> Result<Self, $crate::command::AnswerError> {
                let params = $crate::command::wire::request_params(msg, Self::CODE, $name)?;
                let mut r = $crate::command::wire::Reader::new(params, $name);
                let password = $crate::command::Password(r.u32()?);
                r.finish()?;
                Ok($ty { password })
            }

            fn encode_answer(answer: &$answer) -> Vec<u8> {
                $crate::command::wire::answer_message(
                    Self::CODE,
                    &<$answer as $crate::command::wire::SimpleAnswer>::encode_data(answer),
                )
            }
        }
    };
}

pub(crate) use password_command;
