//! Standard link layer frames (§2.1–§2.2): `STX LEN message LRC`.
//!
//! Pure byte functions: [`encode`] builds a frame around a message, [`decode`] finds one at the
//! start of a buffer and says how many bytes it used or how many bytes of garbage to drop. The
//! acknowledgement dance (ENQ/ACK/NAK, retries, timeouts) is not here: see [`crate::link`].

use thiserror::Error;

/// Start of a frame (§2.1).
pub const STX: u8 = 0x02;
/// Host enquiry "what is your state / do you hold an answer?" (§2.1).
pub const ENQ: u8 = 0x05;
/// Positive acknowledgement (§2.1).
pub const ACK: u8 = 0x06;
/// Negative acknowledgement: transmission error, never "bad command" (§2.1, §2.3).
pub const NAK: u8 = 0x15;
/// LEN is one byte, so a message holds at most 255 bytes (§2.2).
pub const MAX_MESSAGE: usize = 255;

/// Why a message cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FrameError {
    /// A frame must carry at least the command code (LEN 0 is invalid, §2.5).
    #[error("empty message")]
    Empty,
    /// The message does not fit the one-byte LEN (§2.2).
    #[error("message of {0} bytes exceeds the 255-byte frame limit")]
    TooLong(usize),
}

/// What [`decode`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A complete frame with a correct LRC; `consumed` bytes of the buffer belong to it.
    Frame {
        /// The message (command or answer code, error byte, data).
        msg: Vec<u8>,
        /// Bytes used from the start of the buffer (`LEN + 3`).
        consumed: usize,
    },
    /// The buffer is empty or holds the beginning of a plausible frame.
    NeedMore,
    /// The buffer does not start with a valid frame; drop `skipped` (> 0) bytes, up to the next STX.
    Garbage {
        /// Bytes to drop from the start of the buffer.
        skipped: usize,
    },
}

/// XOR of the LEN byte and every message byte (§2.2). LEN is taken as `msg.len()` truncated to a
/// byte, which is exact for every encodable message.
pub fn lrc(msg: &[u8]) -> u8 {
    msg.iter().fold(msg.len() as u8, |acc, b| acc ^ b)
}

/// Builds `STX LEN msg LRC`.
pub fn encode(msg: &[u8]) -> Result<Vec<u8>, FrameError> {
    if msg.is_empty() {
        return Err(FrameError::Empty);
    }
    if msg.len() > MAX_MESSAGE {
        return Err(FrameError::TooLong(msg.len()));
    }
    let mut out = Vec::with_capacity(msg.len() + 3);
    out.push(STX);
    out.push(msg.len() as u8);
    out.extend_from_slice(msg);
    out.push(lrc(msg));
    Ok(out)
}

/// Looks for a frame at the start of `buf`. Never panics; on garbage it always asks to drop at
/// least one byte, so a caller looping on it always makes progress.
pub fn decode(buf: &[u8]) -> Decoded {
    let Some(&first) = buf.first() else {
        return Decoded::NeedMore;
    };
    if first != STX {
        return Decoded::Garbage {
            skipped: super::skip_to_next(buf, STX),
        };
    }
    let Some(&len) = buf.get(1) else {
        return Decoded::NeedMore;
    };
    if len == 0 {
        return Decoded::Garbage {
            skipped: super::skip_to_next(buf, STX),
        };
    }
    let total = usize::from(len) + 3;
    if buf.len() < total {
        return Decoded::NeedMore;
    }
    let msg = &buf[2..total - 1];
    if lrc(msg) != buf[total - 1] {
        return Decoded::Garbage {
            skipped: super::skip_to_next(buf, STX),
        };
    }
    Decoded::Frame {
        msg: msg.to_vec(),
        consumed: total,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::frame::hex;

    #[test]
    fn open_receipt_frame_matches_12_10() {
        let frame = hex("02 06 8D 01 00 00 00 00 8A");
        assert_eq!(encode(&frame[2..8]).unwrap(), frame);
        assert_eq!(
            decode(&frame),
            Decoded::Frame {
                msg: frame[2..8].to_vec(),
                consumed: 9
            }
        );
    }

    #[test]
    fn status_answer_frame_matches_12_10() {
        let frame = hex("02 10 10 00 01 92 02 02 05 00 9F E5 18 01 00 92 08 00 6F");
        assert_eq!(lrc(&frame[2..frame.len() - 1]), 0x6F);
    }

    #[test]
    fn encode_rejects_empty_and_oversized() {
        assert_eq!(encode(&[]), Err(FrameError::Empty));
        assert_eq!(encode(&[0u8; 256]), Err(FrameError::TooLong(256)));
        assert_eq!(encode(&[0u8; 255]).unwrap().len(), 258);
    }

    #[test]
    fn partial_frame_needs_more() {
        let frame = hex("02 03 8D 00 01 8F");
        for cut in 0..frame.len() {
            assert_eq!(decode(&frame[..cut]), Decoded::NeedMore, "cut at {cut}");
        }
    }

    #[test]
    fn garbage_skips_to_next_stx() {
        assert_eq!(decode(&hex("FF 06 02 03")), Decoded::Garbage { skipped: 2 });
        assert_eq!(decode(&hex("FF FF")), Decoded::Garbage { skipped: 2 });
        assert_eq!(decode(&hex("02 00 02")), Decoded::Garbage { skipped: 2 });
        assert_eq!(
            decode(&hex("02 03 8D 00 01 8E")),
            Decoded::Garbage { skipped: 6 }
        );
    }
}
