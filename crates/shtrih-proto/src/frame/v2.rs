//! "Protocol 2.0" alternative lower level packets (§2.9):
//! `8F | LEN16 | NUM16 | DATA | CRC16`, 16-bit fields LSB first, byte-stuffed after the STX.
//!
//! Pure byte functions: [`encode`] / [`ping`] build packets, [`decode`] finds one at the start of
//! a buffer. Packet numbering rules (who executes what) live in [`crate::link`], not here.

use crc::{Crc, CRC_16_IBM_3740};
use thiserror::Error;

/// Start of a packet (§2.9).
pub const STX2: u8 = 0x8F;
/// Stuffing escape byte (§2.9): `8F` → `9F 81`, `9F` → `9F 83`.
pub const ESC: u8 = 0x9F;
/// Escaped form of [`STX2`] (§2.9).
const ESC_STX: u8 = 0x81;
/// Escaped form of [`ESC`] (§2.9).
const ESC_ESC: u8 = 0x83;
/// LEN16 counts NUM16 + DATA, so DATA holds at most 65533 bytes (§2.9).
pub const MAX_DATA: usize = u16::MAX as usize - 2;

/// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR (§2.9).
const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// Why data cannot be packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Frame2Error {
    /// DATA does not fit the 16-bit length (§2.9).
    #[error("message of {0} bytes exceeds the 65533-byte packet limit")]
    TooLong(usize),
}

/// What [`decode`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded2 {
    /// A complete packet with a correct CRC; `consumed` physical bytes belong to it.
    Packet {
        /// NUM16; `None` for a type I (LEN16 = 0) ping packet.
        num: Option<u16>,
        /// The message (empty for type I and type II packets).
        data: Vec<u8>,
        /// Physical (stuffed) bytes used from the start of the buffer.
        consumed: usize,
    },
    /// The buffer is empty or holds the beginning of a plausible packet.
    NeedMore,
    /// The buffer does not start with a valid packet; drop `skipped` (> 0) bytes, up to the next 8F.
    Garbage {
        /// Bytes to drop from the start of the buffer.
        skipped: usize,
    },
}

/// Builds a type II (empty `data`) or type III packet numbered `num`.
pub fn encode(num: u16, data: &[u8]) -> Result<Vec<u8>, Frame2Error> {
    if data.len() > MAX_DATA {
        return Err(Frame2Error::TooLong(data.len()));
    }
    let len = (data.len() + 2) as u16;
    let mut logical = Vec::with_capacity(data.len() + 6);
    logical.extend_from_slice(&len.to_le_bytes());
    logical.extend_from_slice(&num.to_le_bytes());
    logical.extend_from_slice(data);
    Ok(stuff_with_crc(logical))
}

/// The type I ping packet `8F 00 00 0F 1D` (§2.9): asks for the last executed answer.
pub fn ping() -> Vec<u8> {
    stuff_with_crc(vec![0, 0])
}

/// Appends the CRC to the logical body, stuffs it and puts the STX in front.
fn stuff_with_crc(mut logical: Vec<u8>) -> Vec<u8> {
    let crc = CRC16.checksum(&logical);
    logical.extend_from_slice(&crc.to_le_bytes());
    let mut out = Vec::with_capacity(2 * logical.len() + 1);
    out.push(STX2);
    for &b in &logical {
        match b {
            STX2 => out.extend_from_slice(&[ESC, ESC_STX]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            _ => out.push(b),
        }
    }
    out
}

/// Result of un-stuffing a prefix of the buffer.
enum Unstuffed {
    /// `want` logical bytes, and the physical position after them.
    Done(Vec<u8>, usize),
    /// The buffer ended first.
    Short,
    /// A bare 8F or a bad escape: the packet is corrupt.
    Corrupt,
}

/// Un-stuffs `want` logical bytes starting at physical position `from`.
fn unstuff(buf: &[u8], from: usize, want: usize) -> Unstuffed {
    let mut out = Vec::with_capacity(want);
    let mut pos = from;
    while out.len() < want {
        let Some(&b) = buf.get(pos) else {
            return Unstuffed::Short;
        };
        match b {
            STX2 => return Unstuffed::Corrupt,
            ESC => match buf.get(pos + 1) {
                None => return Unstuffed::Short,
                Some(&ESC_STX) => out.push(STX2),
                Some(&ESC_ESC) => out.push(ESC),
                Some(_) => return Unstuffed::Corrupt,
            },
            _ => out.push(b),
        }
        pos += if b == ESC { 2 } else { 1 };
    }
    Unstuffed::Done(out, pos)
}

/// Looks for a packet at the start of `buf`. Never panics; on garbage it always asks to drop at
/// least one byte, so a caller looping on it always makes progress.
pub fn decode(buf: &[u8]) -> Decoded2 {
    let Some(&first) = buf.first() else {
        return Decoded2::NeedMore;
    };
    let garbage = || Decoded2::Garbage {
        skipped: super::skip_to_next(buf, STX2),
    };
    if first != STX2 {
        return garbage();
    }
    let (len_bytes, after_len) = match unstuff(buf, 1, 2) {
        Unstuffed::Done(v, p) => (v, p),
        Unstuffed::Short => return Decoded2::NeedMore,
        Unstuffed::Corrupt => return garbage(),
    };
    let len = usize::from(u16::from_le_bytes([len_bytes[0], len_bytes[1]]));
    if len == 1 {
        return garbage();
    }
    let (rest, end) = match unstuff(buf, after_len, len + 2) {
        Unstuffed::Done(v, p) => (v, p),
        Unstuffed::Short => return Decoded2::NeedMore,
        Unstuffed::Corrupt => return garbage(),
    };
    let mut digest = CRC16.digest();
    digest.update(&len_bytes);
    digest.update(&rest[..len]);
    let crc = u16::from_le_bytes([rest[len], rest[len + 1]]);
    if digest.finalize() != crc {
        return garbage();
    }
    let (num, data) = if len == 0 {
        (None, Vec::new())
    } else {
        (
            Some(u16::from_le_bytes([rest[0], rest[1]])),
            rest[2..len].to_vec(),
        )
    };
    Decoded2::Packet {
        num,
        data,
        consumed: end,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::frame::hex;

    const STATUS: [u8; 5] = [0x10, 0x1E, 0, 0, 0];

    #[test]
    fn ping_matches_2_9() {
        assert_eq!(ping(), hex("8F 00 00 0F 1D"));
        assert_eq!(
            decode(&ping()),
            Decoded2::Packet {
                num: None,
                data: vec![],
                consumed: 5
            }
        );
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(CRC16.checksum(b"123456789"), 0x29B1);
    }

    #[test]
    fn short_status_num_1_matches_2_9() {
        let packet = hex("8F 07 00 01 00 10 1E 00 00 00 1F AC");
        assert_eq!(encode(1, &STATUS).unwrap(), packet);
        assert_eq!(
            decode(&packet),
            Decoded2::Packet {
                num: Some(1),
                data: STATUS.to_vec(),
                consumed: packet.len()
            }
        );
    }

    #[test]
    fn stuffing_example_matches_2_9() {
        let packet = hex("8F 07 00 9F 81 00 10 1E 00 00 00 6E 35");
        assert_eq!(encode(0x8F, &STATUS).unwrap(), packet);
        assert_eq!(
            decode(&packet),
            Decoded2::Packet {
                num: Some(0x8F),
                data: STATUS.to_vec(),
                consumed: packet.len()
            }
        );
    }

    #[test]
    fn type_ii_has_number_and_no_data() {
        let packet = encode(7, &[]).unwrap();
        assert_eq!(
            decode(&packet),
            Decoded2::Packet {
                num: Some(7),
                data: vec![],
                consumed: packet.len()
            }
        );
    }

    #[test]
    fn partial_packet_needs_more() {
        let packet = hex("8F 07 00 9F 81 00 10 1E 00 00 00 6E 35");
        for cut in 0..packet.len() {
            assert_eq!(decode(&packet[..cut]), Decoded2::NeedMore, "cut at {cut}");
        }
    }

    #[test]
    fn corrupt_packets_are_skipped() {
        // LEN16 = 1 is invalid.
        assert_eq!(
            decode(&hex("8F 01 00 00 00 00")),
            Decoded2::Garbage { skipped: 6 }
        );
        // Bad CRC.
        assert_eq!(
            decode(&hex("8F 07 00 01 00 10 1E 00 00 00 1F AD 8F")),
            Decoded2::Garbage { skipped: 12 }
        );
        // Bad escape.
        assert_eq!(
            decode(&hex("8F 07 00 9F 00 8F")),
            Decoded2::Garbage { skipped: 5 }
        );
        // Bare 8F inside: resynchronise on it.
        assert_eq!(decode(&hex("8F 07 8F")), Decoded2::Garbage { skipped: 2 });
        assert_eq!(decode(&hex("05 15 8F")), Decoded2::Garbage { skipped: 2 });
    }

    #[test]
    fn oversized_data_is_refused() {
        assert_eq!(
            encode(1, &vec![0; MAX_DATA + 1]),
            Err(Frame2Error::TooLong(MAX_DATA + 1))
        );
    }
}
