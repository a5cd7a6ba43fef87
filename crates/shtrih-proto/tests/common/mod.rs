//! Shared by the protocol tests: frames written as hex, as the protocol notes print them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use shtrih_proto::command::Password;

pub const PWD30: Password = Password(30);
pub const PWD1: Password = Password(1);

/// `"02 05 10"` → bytes.
pub fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Parses a hex frame `02 LEN msg LRC`, checks LEN and LRC by hand (not with the frame
/// module under test), and returns the message.
pub fn msg(frame: &str) -> Vec<u8> {
    let bytes = hex(frame);
    assert_eq!(bytes[0], 0x02, "STX");
    assert_eq!(bytes.len(), usize::from(bytes[1]) + 3, "LEN of {frame}");
    let lrc = bytes[1..bytes.len() - 1].iter().fold(0u8, |a, b| a ^ b);
    assert_eq!(lrc, bytes[bytes.len() - 1], "LRC of {frame}");
    bytes[2..bytes.len() - 1].to_vec()
}
