//! TLV lists as sent with FF0C / FF4D (§3, §7.6.3): tag UInt16 LE, length UInt16 LE, value.
//!
//! String values use CP866, the FN's code page. This is UNCONFIRMED by the protocol notes
//! (§3, §13 item 11): the only real example is digits-only (tag 1203), where CP866, CP1251 and
//! ASCII coincide. Tags are plain numbers here; which tag means what is the caller's business,
//! apart from the few string tags the driver sends.

use crate::text;

/// Tag 1008: buyer phone or e-mail.
pub const TAG_BUYER_CONTACT: u16 = 1008;
/// Tag 1021: cashier name.
pub const TAG_CASHIER_NAME: u16 = 1021;
/// Tag 1203: cashier INN (12 ASCII digits).
pub const TAG_CASHIER_INN: u16 = 1203;

/// Tag 1222: agent type of an item (byte, one bit).
pub const TAG_AGENT_TYPE: u16 = 1222;
/// Tag 1223: agent data (STLV).
pub const TAG_AGENT_DATA: u16 = 1223;
/// Tag 1073: payment agent's phone (string, inside 1223).
pub const TAG_AGENT_PHONE: u16 = 1073;
/// Tag 1224: supplier data (STLV).
pub const TAG_SUPPLIER_DATA: u16 = 1224;
/// Tag 1171: supplier's phone (string, inside 1224).
pub const TAG_SUPPLIER_PHONE: u16 = 1171;
/// Tag 1225: supplier's name (string, inside 1224).
pub const TAG_SUPPLIER_NAME: u16 = 1225;
/// Tag 1226: supplier's INN (fixed 12 characters, space-padded).
pub const TAG_SUPPLIER_INN: u16 = 1226;
/// Tag 1256: buyer (client) data (STLV, FFD 1.2).
pub const TAG_BUYER_DATA: u16 = 1256;
/// Tag 1227: buyer (client) name.
pub const TAG_BUYER_NAME: u16 = 1227;
/// Tag 1228: buyer (client) INN (fixed 12 characters, space-padded).
pub const TAG_BUYER_INN: u16 = 1228;
/// Tag 1291: fractional quantity (STLV of 1293 and 1294).
pub const TAG_FRACTIONAL_QUANTITY: u16 = 1291;
/// Tag 1293: numerator of the fractional quantity (VLN).
pub const TAG_NUMERATOR: u16 = 1293;
/// Tag 1294: denominator of the fractional quantity (VLN).
pub const TAG_DENOMINATOR: u16 = 1294;
/// Tag 2108: measure of the quantity (byte).
pub const TAG_MEASURE: u16 = 2108;
/// Tag 1173: correction type (byte: 0 own initiative, 1 by the tax authority's order).
pub const TAG_CORRECTION_KIND: u16 = 1173;
/// Tag 1174: correction basis (STLV of 1178 and 1179).
pub const TAG_CORRECTION_BASIS: u16 = 1174;
/// Tag 1178: date of the corrected settlement (UnixTime).
pub const TAG_BASIS_DATE: u16 = 1178;
/// Tag 1179: number of the tax authority's order (string, at most 32 characters).
pub const TAG_BASIS_NUMBER: u16 = 1179;
/// Longest value of tag 1179, characters.
pub const MAX_BASIS_NUMBER: usize = 32;
/// Width of the fixed-length INN tags (1203, 1226, 1228).
pub const INN_WIDTH: usize = 12;

/// Why a TLV list could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// The bytes end inside a tag/length header.
    #[error("TLV header cut short at offset {0}")]
    TruncatedHeader(usize),
    /// A value is longer than the bytes left.
    #[error("TLV tag {tag} declares {len} bytes, only {left} left")]
    TruncatedValue {
        /// The tag whose value is cut.
        tag: u16,
        /// Its declared length.
        len: usize,
        /// Bytes actually left.
        left: usize,
    },
}

/// One tag-length-value item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tlv {
    /// FFD tag number.
    pub tag: u16,
    /// Raw value bytes.
    pub value: Vec<u8>,
}

impl Tlv {
    /// A TLV with raw value bytes.
    pub fn new(tag: u16, value: Vec<u8>) -> Tlv {
        Tlv { tag, value }
    }

    /// A string TLV, encoded in CP866 (UNCONFIRMED, see the module note).
    pub fn string(tag: u16, value: &str) -> Tlv {
        Tlv {
            tag,
            value: text::encode_cp866(value),
        }
    }

    /// A one-byte value (tags 1222, 2108).
    pub fn byte(tag: u16, value: u8) -> Tlv {
        Tlv {
            tag,
            value: vec![value],
        }
    }

    /// A VLN value (addendum §3.6): little-endian, the fewest bytes, 0 as one `00`.
    pub fn vln(tag: u16, value: u64) -> Tlv {
        let bytes = value.to_le_bytes();
        let used = 8 - (value.leading_zeros() as usize / 8);
        Tlv {
            tag,
            value: bytes[..used.max(1)].to_vec(),
        }
    }

    /// A quantity in millionths as FVLN (addendum §4.10 B: 0.750 → `03 EE 02`): the decimal
    /// point position, then the fewest little-endian bytes of the scaled value; three decimals
    /// (as the addendum's example keeps for 0.750), more only when the quantity needs them.
    pub fn fvln_quantity(tag: u16, millionths: u64) -> Tlv {
        let mut decimals = 6u8;
        let mut value = millionths;
        while decimals > 3 && value % 10 == 0 {
            value /= 10;
            decimals -= 1;
        }
        let mut out = vec![decimals];
        out.extend(Tlv::vln(tag, value).value);
        Tlv { tag, value: out }
    }

    /// A string of a fixed-length tag (1203, 1226, 1228): CP866, right-padded with spaces to
    /// `width` bytes, cut at `width` (addendum §3.6).
    pub fn fixed_string(tag: u16, value: &str, width: usize) -> Tlv {
        let mut bytes = text::encode_cp866(value);
        bytes.resize(width, b' ');
        Tlv { tag, value: bytes }
    }

    /// An STLV: the inner TLVs back to back as the value (addendum §3.6).
    pub fn structure(tag: u16, inner: &[Tlv]) -> Tlv {
        Tlv {
            tag,
            value: encode_list(inner),
        }
    }

    /// A UInt32 value, little-endian (addendum §3.6).
    pub fn u32(tag: u16, value: u32) -> Tlv {
        Tlv {
            tag,
            value: value.to_le_bytes().to_vec(),
        }
    }

    /// A UnixTime value: seconds since 1970-01-01 00:00 UTC as UInt32 LE (addendum §3.6;
    /// the vendor driver gives a date as its 00:00 UTC).
    pub fn unix_time(tag: u16, seconds: u32) -> Tlv {
        Tlv::u32(tag, seconds)
    }

    /// Tag 1173, correction type: 0 own initiative, 1 by order (addendum §5).
    pub fn correction_kind(kind: u8) -> Tlv {
        Tlv::byte(TAG_CORRECTION_KIND, kind)
    }

    /// Tag 1178 alone: the corrected settlement's date (the fallback of addendum §5 when the
    /// register refuses the composite 1174).
    pub fn basis_date(seconds: u32) -> Tlv {
        Tlv::unix_time(TAG_BASIS_DATE, seconds)
    }

    /// Tag 1179 alone: the order's number, CP866 (at most [`MAX_BASIS_NUMBER`] characters;
    /// the domain refuses longer ones, nothing is cut here).
    pub fn basis_number(number: &str) -> Tlv {
        Tlv::string(TAG_BASIS_NUMBER, number)
    }

    /// STLV 1174 {1178, 1179}: the correction's basis (addendum §5); 1179 only when given.
    pub fn correction_basis(date_seconds: u32, number: Option<&str>) -> Tlv {
        let mut inner = vec![Tlv::basis_date(date_seconds)];
        if let Some(number) = number {
            inner.push(Tlv::basis_number(number));
        }
        Tlv::structure(TAG_CORRECTION_BASIS, &inner)
    }

    /// Tag 1008, buyer phone or e-mail.
    pub fn buyer_contact(contact: &str) -> Tlv {
        Tlv::string(TAG_BUYER_CONTACT, contact)
    }

    /// Tag 1021, cashier name.
    pub fn cashier_name(name: &str) -> Tlv {
        Tlv::string(TAG_CASHIER_NAME, name)
    }

    /// Tag 1203, cashier INN.
    pub fn cashier_inn(inn: &str) -> Tlv {
        Tlv::string(TAG_CASHIER_INN, inn)
    }

    /// The value read as a CP866 string.
    pub fn value_string(&self) -> String {
        text::decode_cp866(&self.value)
    }

    /// The value read as a little-endian unsigned integer (byte, UInt16, UInt32, VLN);
    /// `None` when it is empty or longer than 8 bytes.
    pub fn value_uint(&self) -> Option<u64> {
        if self.value.is_empty() || self.value.len() > 8 {
            return None;
        }
        Some(
            self.value
                .iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }

    /// The value read as FVLN (addendum §3.6) in millionths: the decimal point position,
    /// then the scaled integer; `None` when malformed or more than 6 decimals.
    pub fn value_fvln_millionths(&self) -> Option<u64> {
        let (&decimals, digits) = self.value.split_first()?;
        if decimals > 6 {
            return None;
        }
        let scaled = Tlv::new(self.tag, digits.to_vec()).value_uint()?;
        scaled.checked_mul(10u64.pow(u32::from(6 - decimals)))
    }

    /// The value read as a TLV list (an STLV's inner tags).
    pub fn value_list(&self) -> Result<Vec<Tlv>, TlvError> {
        decode_list(&self.value)
    }

    /// Encoded length: 4 header bytes plus the value.
    pub fn encoded_len(&self) -> usize {
        4 + self.value.len()
    }

    /// Appends the encoded TLV to `out`. Values longer than 65535 bytes are cut, because the
    /// length field has 16 bits and no command can carry that much anyway (§7.6.3).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let len = self.value.len().min(u16::MAX as usize);
        out.extend_from_slice(&self.tag.to_le_bytes());
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&self.value[..len]);
    }
}

/// Encodes a list of TLVs back to back.
pub fn encode_list(items: &[Tlv]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(Tlv::encoded_len).sum());
    for item in items {
        item.encode_into(&mut out);
    }
    out
}

/// Decodes a list of TLVs filling `bytes` exactly.
pub fn decode_list(bytes: &[u8]) -> Result<Vec<Tlv>, TlvError> {
    let mut items = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let header = bytes
            .get(pos..pos + 4)
            .ok_or(TlvError::TruncatedHeader(pos))?;
        let tag = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        let start = pos + 4;
        let value = bytes
            .get(start..start + len)
            .ok_or(TlvError::TruncatedValue {
                tag,
                len,
                left: bytes.len() - start,
            })?;
        items.push(Tlv::new(tag, value.to_vec()));
        pos = start + len;
    }
    Ok(items)
}
