//! Frames of the two link layers, as pure byte functions: [`standard`] (`STX LEN message LRC`,
//! §2.1–§2.2) and [`v2`] ("protocol 2.0" packets, §2.9). Each builds a frame around a message
//! and finds one at the start of a buffer: a frame, "need more bytes", or garbage to skip up to
//! the next start byte. The acknowledgement dance and packet numbering live in [`crate::link`].
//!
//! The standard layer is every register's default, so its items are also reachable here
//! (`frame::encode`, `frame::ENQ`, …).

pub mod standard;
pub mod v2;

pub use standard::{decode, encode, lrc, Decoded, FrameError, ACK, ENQ, MAX_MESSAGE, NAK, STX};

/// Bytes before the next `marker` after position 0 (the whole buffer if there is none): what a
/// decoder drops to resynchronise on a frame start.
pub(crate) fn skip_to_next(buf: &[u8], marker: u8) -> usize {
    buf.iter()
        .skip(1)
        .position(|&b| b == marker)
        .map_or(buf.len(), |p| p + 1)
}

/// Bytes written as the protocol notes print them ("02 06 8D …"), for the frame tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}
