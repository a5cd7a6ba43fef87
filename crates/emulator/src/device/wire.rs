//! Byte-level helpers for request parameters and answer messages (§3): little-endian integers,
//! KKT dates, FN DATE_TIME, CP1251 text. Independent of shtrih-proto's command codecs on
//! purpose, so a decoding bug on the host side cannot be mirrored here.

use chrono::{Datelike, NaiveDateTime, Timelike};
use encoding_rs::WINDOWS_1251;

/// Error byte values the device model produces (§5).
pub mod err {
    /// FN: wrong FN state for this command.
    pub const FN_WRONG_STATE: u8 = 0x02;
    /// FN: requested data not in the archive.
    pub const FN_NO_DATA: u8 = 0x08;
    /// FN: the oldest document unsent to the OFD is older than 30 days.
    pub const FN_OFD_WAIT_EXHAUSTED: u8 = 0x15;
    /// FN: shift lasts more than 24 hours.
    pub const FN_SHIFT_24H: u8 = 0x16;
    /// Incorrect parameters in command.
    pub const BAD_PARAMS: u8 = 0x33;
    /// Command not supported.
    pub const UNKNOWN_COMMAND: u8 = 0x37;
    /// Shift not open.
    pub const SHIFT_CLOSED: u8 = 0x3D;
    /// Sum of payments less than the receipt total.
    pub const PAYMENT_SHORT: u8 = 0x45;
    /// Not enough cash in the drawer.
    pub const NOT_ENOUGH_CASH: u8 = 0x46;
    /// Operation impossible in an open receipt of this type.
    pub const WRONG_RECEIPT_TYPE: u8 = 0x49;
    /// Receipt is open.
    pub const RECEIPT_OPEN: u8 = 0x4A;
    /// Cashless payment exceeds the receipt total.
    pub const CASHLESS_EXCEEDS: u8 = 0x4D;
    /// Shift exceeded 24 hours.
    pub const SHIFT_24H: u8 = 0x4E;
    /// Wrong password.
    pub const WRONG_PASSWORD: u8 = 0x4F;
    /// Previous command's output still being printed.
    pub const PRINTING: u8 = 0x50;
    /// Receipt closed.
    pub const RECEIPT_CLOSED: u8 = 0x55;
    /// Waiting for 0xB0.
    pub const AWAIT_CONTINUE: u8 = 0x58;
    /// Table not defined.
    pub const NO_TABLE: u8 = 0x5D;
    /// No receipt paper (also used for an open cover).
    pub const NO_PAPER: u8 = 0x6B;
    /// Wrong submode.
    pub const WRONG_SUBMODE: u8 = 0x72;
    /// Wrong mode.
    pub const WRONG_MODE: u8 = 0x73;
    /// Date does not match the one written by 0x22.
    pub const DATE_MISMATCH: u8 = 0x7C;
    /// Zero receipt total.
    pub const ZERO_TOTAL: u8 = 0x8E;
    /// FN: required TLV tags missing (§5, [DOC]).
    pub const FN_TAGS_MISSING: u8 = 0xA4;
}

/// Reads parameters of a request message, failing with 0x33 when it is too short.
pub struct Params<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Params<'a> {
    /// Parameters starting right after the command code.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], u8> {
        let end = self.pos.checked_add(n).ok_or(err::BAD_PARAMS)?;
        let slice = self.bytes.get(self.pos..end).ok_or(err::BAD_PARAMS)?;
        self.pos = end;
        Ok(slice)
    }

    /// Next byte.
    pub fn u8(&mut self) -> Result<u8, u8> {
        Ok(self.take(1)?[0])
    }

    /// Next `n`-byte little-endian unsigned integer (n ≤ 8).
    pub fn uint(&mut self, n: usize) -> Result<u64, u8> {
        Ok(le_uint(self.take(n)?))
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
        self.pos = self.bytes.len();
        rest
    }
}

/// Little-endian unsigned integer of up to 8 bytes.
pub fn le_uint(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// Appends the low `n` bytes of `value`, little-endian.
pub fn put_uint(out: &mut Vec<u8>, value: u64, n: usize) {
    for i in 0..n {
        out.push(((value >> (8 * i)) & 0xFF) as u8);
    }
}

/// KKT date `DD MM YY` (§3).
pub fn put_kkt_date(out: &mut Vec<u8>, t: NaiveDateTime) {
    out.extend_from_slice(&[t.day() as u8, t.month() as u8, year2(t)]);
}

/// KKT time `HH MM SS` (§3).
pub fn put_kkt_time(out: &mut Vec<u8>, t: NaiveDateTime) {
    out.extend_from_slice(&[t.hour() as u8, t.minute() as u8, t.second() as u8]);
}

/// FN DATE_TIME `YY MM DD HH MM` (§3).
pub fn put_fn_date_time(out: &mut Vec<u8>, t: NaiveDateTime) {
    out.extend_from_slice(&[
        year2(t),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
    ]);
}

fn year2(t: NaiveDateTime) -> u8 {
    u8::try_from(t.year().rem_euclid(100)).unwrap_or(0)
}

/// Encodes text as CP866, the FN's code page for TLV strings (addendum §3.6).
pub fn to_cp866(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::IBM866.encode(text);
    bytes.into_owned()
}

/// Decodes a CP866 TLV string.
pub fn cp866_text(bytes: &[u8]) -> String {
    let (text, _) = encoding_rs::IBM866.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// Decodes CP1251 text up to the first NUL, dropping control codes 1..31 (§3).
pub fn cp1251_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    let printable: Vec<u8> = bytes[..end].iter().copied().filter(|b| *b >= 32).collect();
    let (text, _, _) = WINDOWS_1251.decode(&printable);
    text.into_owned()
}

/// Encodes text as CP1251 (unmappable characters become '?').
pub fn to_cp1251(text: &str) -> Vec<u8> {
    let (bytes, _, _) = WINDOWS_1251.encode(text);
    bytes.into_owned()
}

/// ASCII field of exactly `width` bytes, space padded (§3: FN identifiers are fixed width).
pub fn put_ascii_fixed(out: &mut Vec<u8>, text: &str, width: usize) {
    let mut bytes: Vec<u8> = text.bytes().take(width).collect();
    bytes.resize(width, b' ');
    out.extend_from_slice(&bytes);
}

/// Splits a TLV list (tag UInt16 LE, length UInt16 LE, value), failing with 0x33 if truncated.
pub fn parse_tlvs(mut bytes: &[u8]) -> Result<Vec<super::state::Tlv>, u8> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 4 {
            return Err(err::BAD_PARAMS);
        }
        let tag = u16::from_le_bytes([bytes[0], bytes[1]]);
        let len = usize::from(u16::from_le_bytes([bytes[2], bytes[3]]));
        let value = bytes.get(4..4 + len).ok_or(err::BAD_PARAMS)?;
        out.push(super::state::Tlv {
            tag,
            value: value.to_vec(),
        });
        bytes = &bytes[4 + len..];
    }
    Ok(out)
}

/// Formats kopecks as roubles with two decimals ("210.00").
pub fn money(kopecks: u64) -> String {
    format!("{}.{:02}", kopecks / 100, kopecks % 100)
}

/// Formats a quantity in millionths without trailing zeros ("3", "1.5").
pub fn quantity(millionths: u64) -> String {
    let whole = millionths / 1_000_000;
    let frac = millionths % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_round_trip() {
        let mut out = Vec::new();
        put_uint(&mut out, 0x01_0203_0405, 5);
        assert_eq!(out, [5, 4, 3, 2, 1]);
        assert_eq!(le_uint(&out), 0x01_0203_0405);
    }

    #[test]
    fn formats_quantities_and_money() {
        assert_eq!(quantity(3_000_000), "3");
        assert_eq!(quantity(1_500_000), "1.5");
        assert_eq!(money(21000), "210.00");
        assert_eq!(money(5), "0.05");
    }

    #[test]
    fn cp1251_round_trip() {
        let bytes = to_cp1251("Молоко");
        assert_eq!(
            cp1251_text(&[bytes.as_slice(), &[0, 0x41]].concat()),
            "Молоко"
        );
    }
}
