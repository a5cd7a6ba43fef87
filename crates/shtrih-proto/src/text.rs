//! Text fields of the message layer (§3): CP1251 for everything the KKT prints or stores in its
//! tables, ASCII for FN identifiers, CP866 for strings inside TLVs (see [`crate::tlv`]).
//!
//! Encoding never fails: characters CP1251 cannot represent become `?`, because a printed line
//! with a question mark is better than a refused receipt. This module knows nothing about
//! which field is which; the command layouts decide widths.

use encoding_rs::{IBM866, WINDOWS_1251};

/// Replacement for characters the target code page cannot represent.
const REPLACEMENT: u8 = b'?';

/// Encodes `text` to CP1251 (§3), replacing unmappable characters with `?`.
pub fn encode_cp1251(text: &str) -> Vec<u8> {
    encode_single_byte(text, WINDOWS_1251)
}

/// Decodes CP1251 bytes; every byte maps to a character, so this cannot fail.
pub fn decode_cp1251(bytes: &[u8]) -> String {
    WINDOWS_1251
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// Encodes `text` to CP866 (the FN's code page, §3), replacing unmappable characters with `?`.
pub fn encode_cp866(text: &str) -> Vec<u8> {
    encode_single_byte(text, IBM866)
}

/// Decodes CP866 bytes.
pub fn decode_cp866(bytes: &[u8]) -> String {
    IBM866.decode_without_bom_handling(bytes).0.into_owned()
}

/// Encodes char by char so one unmappable character costs one `?`, not an HTML entity
/// (which is what `encoding_rs` would otherwise produce).
fn encode_single_byte(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch as u8);
            continue;
        }
        let (bytes, _, unmappable) = encoding.encode(ch.encode_utf8(&mut buf));
        match (unmappable, bytes.first()) {
            (false, Some(&b)) if bytes.len() == 1 => out.push(b),
            _ => out.push(REPLACEMENT),
        }
    }
    out
}

/// CP1251 text in a fixed-width field, padded with NUL (§3); longer text is cut at `width`.
pub fn encode_fixed_cp1251(text: &str, width: usize) -> Vec<u8> {
    let mut out = encode_cp1251(text);
    out.resize(width, 0);
    out
}

/// CP1251 text up to the first NUL (§3: a 0x00 byte terminates the string).
pub fn decode_nul_terminated_cp1251(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    decode_cp1251(&bytes[..end])
}

/// An ASCII identifier in a fixed-width field (FN serial, INN, RNM, §3): the padding character
/// is UNCONFIRMED (space or NUL), so both are trimmed from both ends. Non-ASCII bytes are
/// decoded as CP1251 rather than rejected.
pub fn decode_identifier(bytes: &[u8]) -> String {
    let text = decode_cp1251(bytes);
    text.trim_matches(|c: char| c == '\0' || c == ' ')
        .to_string()
}

/// An ASCII identifier in a fixed-width field, padded with NUL like other fixed-size fields
/// (§3); longer identifiers are cut at `width`.
pub fn encode_identifier(text: &str, width: usize) -> Vec<u8> {
    encode_fixed_cp1251(text, width)
}
