//! Byte-level helpers shared by the command layouts: a bounds-checked reader, little-endian
//! writers (§3), the answer header check (§3 error forms), dates and times, the answer layouts
//! several commands share, and the one macro that defines a family of commands sharing a
//! request layout (most of them: the commands whose request is just the password).

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
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    name: &'a str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, naming the command `name` in its errors.
    pub fn new(buf: &'a [u8], name: &'a str) -> Reader<'a> {
        Reader { buf, pos: 0, name }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], AnswerError> {
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

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], AnswerError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, AnswerError> {
        Ok(self.bytes(1)?[0])
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self) -> Result<u16, AnswerError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Four bytes, little-endian.
    pub fn u32(&mut self) -> Result<u32, AnswerError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// An unsigned little-endian integer of `n` ≤ 8 bytes (5-byte money, 6-byte quantity, §3).
    pub fn uint(&mut self, n: usize) -> Result<u64, AnswerError> {
        let bytes = self.bytes(n)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        out
    }

    /// How many bytes are not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// For request decoding: nothing may follow the last field.
    pub fn finish(&self) -> Result<(), AnswerError> {
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

/// An answer's data read and written in one place, for the commands [`commands!`] defines.
pub(crate) trait AnswerData: Sized {
    fn read(r: &mut Reader<'_>) -> Result<Self, AnswerError>;
    fn put(&self, out: &mut Vec<u8>);
}

impl AnswerData for () {
    fn read(_r: &mut Reader<'_>) -> Result<(), AnswerError> {
        Ok(())
    }
    fn put(&self, _out: &mut Vec<u8>) {}
}

impl AnswerData for OperatorAnswer {
    fn read(r: &mut Reader<'_>) -> Result<OperatorAnswer, AnswerError> {
        Ok(OperatorAnswer { operator: r.u8()? })
    }
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.operator);
    }
}

/// The end of the answers that form a fiscal document (FF45 §7.6.4, FF43 §7.5, FF09 §7.8): FD
/// number, fiscal sign and, with the extended-answer setting (table 17.36), the date-time.
pub(crate) struct DocumentTail {
    pub(crate) fd_number: u32,
    pub(crate) fiscal_sign: u32,
    pub(crate) date_time: Option<DateTime>,
}

impl DocumentTail {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DocumentTail, AnswerError> {
        let fd_number = r.u32()?;
        let fiscal_sign = r.u32()?;
        let date_time = if r.remaining() >= 5 {
            Some(DateTime::from_fn(r.array()?))
        } else {
            None
        };
        Ok(DocumentTail {
            fd_number,
            fiscal_sign,
            date_time,
        })
    }

    pub(crate) fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.fd_number.to_le_bytes());
        out.extend_from_slice(&self.fiscal_sign.to_le_bytes());
        if let Some(dt) = self.date_time {
            out.extend_from_slice(&dt.to_fn());
        }
    }
}

/// Defines a family of commands that share one request layout: for each member its struct (the
/// family's fields under the member's doc) and its [`Command`](super::Command) impl (the
/// member's code, name, class, timeout and answer type; the family's layout).
///
/// `commands!(password; members…)` is the family whose request is just the password, with an
/// [`AnswerData`] answer; `commands!({ family } members…)` spells a family out. A member is
/// `Type = code, "name", Class, TIMEOUT, Answer;` under its doc.
macro_rules! commands {
    (@one {
        $(#[$attr:meta])*
        fields { $($(#[$fdoc:meta])* pub $field:ident: $fty:ty,)+ }
        $(check($c:ident) $check:block)?
        put($p:ident, $out:ident) $put:block
        read($r:ident) { $($rfield:ident: $rexpr:expr,)+ }
        read_answer($ar:ident) $read_answer:block
        put_answer($a:ident, $aout:ident) $put_answer:block
    } [$(#[$doc:meta])*] $ty:ident, $code:expr, $name:literal, $class:ident, $timeout:expr, $answer:ty) => {
        $(#[$doc])*
        $(#[$attr])*
        pub struct $ty {
            $($(#[$fdoc])* pub $field: $fty,)+
        }

        impl $crate::command::Command for $ty {
            type Answer = $answer;
            const CODE: &'static [u8] = $code;
            const NAME: &'static str = $name;
            const CLASS: $crate::command::CommandClass = $crate::command::CommandClass::$class;
            const TIMEOUT: std::time::Duration = $timeout;

            $(
                fn check(&self) -> Result<(), $crate::command::OutOfRange> {
                    let $c = self;
                    $check
                }
            )?

            fn put_params(&self, $out: &mut Vec<u8>) {
                let $p = self;
                $put
            }

            fn read_params(
                $r: &mut $crate::command::Reader<'_>,
            ) -> Result<Self, $crate::command::AnswerError> {
                Ok($ty { $($rfield: $rexpr,)+ })
            }

            fn read_answer(
                $ar: &mut $crate::command::Reader<'_>,
            ) -> Result<$answer, $crate::command::AnswerError> $read_answer

            fn put_answer($a: &$answer, $aout: &mut Vec<u8>) $put_answer
        }
    };
    // One member at a time: the family's fields cannot repeat inside the members' repetition.
    (@each $family:tt) => {};
    (@each $family:tt
        $(#[$doc:meta])*
        $ty:ident = $code:expr, $name:literal, $class:ident, $timeout:expr, $answer:ty;
        $($rest:tt)*
    ) => {
        $crate::command::wire::commands!(
            @one $family [$(#[$doc])*] $ty, $code, $name, $class, $timeout, $answer
        );
        $crate::command::wire::commands!(@each $family $($rest)*);
    };
    (password; $($members:tt)*) => {
        $crate::command::wire::commands!(@each {
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            fields {
                /// Operator password (§4).
                pub password: $crate::command::Password,
            }
            put(cmd, out) {
                $crate::command::wire::put_password(out, cmd.password)
            }
            read(r) {
                password: $crate::command::Password(r.u32()?),
            }
            read_answer(r) {
                $crate::command::wire::AnswerData::read(r)
            }
            put_answer(answer, out) {
                $crate::command::wire::AnswerData::put(answer, out)
            }
        } $($members)*);
    };
    ({ $($family:tt)* } $($members:tt)*) => {
        $crate::command::wire::commands!(@each { $($family)* } $($members)*);
    };
}

pub(crate) use commands;
