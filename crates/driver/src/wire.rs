//! Small helpers for the bytes of a message (§3): little-endian integers, fixed-width ASCII,
//! the FN's 5-byte DATE_TIME, and a cursor over an answer's data that reports what was short
//! instead of panicking.

use chrono::{NaiveDate, NaiveDateTime};

/// Appends `value` as `width` little-endian bytes (§3: integers are LSB first).
pub(crate) fn put_uint(out: &mut Vec<u8>, value: u64, width: usize) {
    for i in 0..width {
        out.push(((value >> (8 * i)) & 0xFF) as u8);
    }
}

/// A cursor over answer data; every read names what was missing.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Reads `data`, the bytes after the error byte of the answer to `what`.
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { data, what }
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize, field: &str) -> Result<&'a [u8], String> {
        if self.data.len() < n {
            return Err(format!(
                "{}: answer too short for {field} ({} of {n} bytes)",
                self.what,
                self.data.len()
            ));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    /// A little-endian unsigned integer of `n` bytes.
    pub(crate) fn uint(&mut self, n: usize, field: &str) -> Result<u64, String> {
        let bytes = self.bytes(n, field)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// One byte.
    pub(crate) fn byte(&mut self, field: &str) -> Result<u8, String> {
        Ok(self.bytes(1, field)?[0])
    }

    /// A fixed-width ASCII field, trimmed of NUL and space padding (§3).
    pub(crate) fn ascii(&mut self, n: usize, field: &str) -> Result<String, String> {
        let bytes = self.bytes(n, field)?;
        Ok(trim_ascii(bytes))
    }

    /// The FN DATE_TIME `YY MM DD HH MM` (§3); `None` for an impossible value.
    pub(crate) fn fn_date_time(&mut self, field: &str) -> Result<Option<NaiveDateTime>, String> {
        let b = self.bytes(5, field)?;
        Ok(
            NaiveDate::from_ymd_opt(2000 + i32::from(b[0]), u32::from(b[1]), u32::from(b[2]))
                .and_then(|d| d.and_hms_opt(u32::from(b[3]), u32::from(b[4]), 0)),
        )
    }

    /// What is left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }
}

/// Text of a fixed-width field: up to the first NUL, spaces trimmed.
pub(crate) fn trim_ascii(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_little_endian() {
        let mut out = Vec::new();
        put_uint(&mut out, 0x01_0203_0405, 5);
        assert_eq!(out, [0x05, 0x04, 0x03, 0x02, 0x01]);
        let mut r = Reader::new(&out, "test");
        assert_eq!(r.uint(5, "x"), Ok(0x01_0203_0405));
        assert!(r.uint(1, "y").is_err());
    }

    #[test]
    fn fn_date_time_and_ascii_decode() {
        let data = [20, 10, 6, 15, 31, b'1', b'2', 0, b' '];
        let mut r = Reader::new(&data, "test");
        let dt = r.fn_date_time("dt").ok().flatten();
        assert_eq!(
            dt.map(|d| d.to_string()),
            Some("2020-10-06 15:31:00".into())
        );
        assert_eq!(r.ascii(4, "s"), Ok("12".into()));
        assert_eq!(r.remaining(), 0);
    }
}
