//! What a position and a receipt may say beside name, price and VAT (FFD 1.2 addendum §3):
//! payment method (tag 1214), payment object (1212), measure (2108), a fractional quantity
//! (1291), agent and supplier (1222–1226), the cashier (1021/1203) and the buyer (1227/1228).
//!
//! Each value is checked when it is made, naming the field; the defaults are what the
//! gateway sent before these fields existed, and they are left out of the serde form, so a
//! stored operation without them reads back the same and keeps its idempotency fingerprint.

use serde::{Deserialize, Serialize};

use crate::ModelError;

fn invalid(field: &str, reason: String) -> ModelError {
    ModelError::Dictionary {
        field: field.to_string(),
        reason,
    }
}

/// Payment method, tag 1214 (addendum §3.2), FF46 offset 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentMethod(u8);

impl PaymentMethod {
    /// 4, full payment («ПОЛНЫЙ РАСЧЕТ»): the default.
    pub const FULL_PAYMENT: PaymentMethod = PaymentMethod(4);

    /// From the tag 1214 value 1..=7.
    pub fn from_code(code: i64, field: &str) -> Result<PaymentMethod, ModelError> {
        match u8::try_from(code) {
            Ok(c @ 1..=7) => Ok(PaymentMethod(c)),
            _ => Err(invalid(
                field,
                format!("unknown payment method {code}; expected 1..7 (tag 1214: 1 full prepayment, 2 partial prepayment, 3 advance, 4 full payment, 5 partial payment and credit, 6 transfer on credit, 7 credit payment)"),
            )),
        }
    }

    /// The tag 1214 value.
    pub fn code(self) -> u8 {
        self.0
    }
}

impl Default for PaymentMethod {
    fn default() -> Self {
        PaymentMethod::FULL_PAYMENT
    }
}

/// Payment object (subject), tag 1212 (addendum §3.3), FF46 offset 31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentObject(u8);

impl PaymentObject {
    /// 1, goods («ТОВАР»): the default.
    pub const GOODS: PaymentObject = PaymentObject(1);

    /// From the tag 1212 value: 1..=27 or 30..=33 (28 and 29 are not defined).
    pub fn from_code(code: i64, field: &str) -> Result<PaymentObject, ModelError> {
        match u8::try_from(code) {
            Ok(c @ (1..=27 | 30..=33)) => Ok(PaymentObject(c)),
            _ => Err(invalid(
                field,
                format!("unknown payment object {code}; expected 1..27 or 30..33 (tag 1212: 1 goods, 3 work, 4 service, 10 payment, 30..33 goods subject to marking …)"),
            )),
        }
    }

    /// The tag 1212 value.
    pub fn code(self) -> u8 {
        self.0
    }
}

impl Default for PaymentObject {
    fn default() -> Self {
        PaymentObject::GOODS
    }
}

/// Measure of the quantity, tag 2108 (addendum §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MeasurementUnit(u8);

/// The tag 2108 values the addendum §3.4 lists.
const MEASURES: [u8; 24] = [
    0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255,
];

impl MeasurementUnit {
    /// 0, pieces: the default (and what the FN assumes when the tag is absent).
    pub const PIECE: MeasurementUnit = MeasurementUnit(0);

    /// From the tag 2108 value.
    pub fn from_code(code: i64, field: &str) -> Result<MeasurementUnit, ModelError> {
        match u8::try_from(code) {
            Ok(c) if MEASURES.contains(&c) => Ok(MeasurementUnit(c)),
            _ => Err(invalid(
                field,
                format!("unknown measurement unit {code}; expected one of tag 2108's values: 0 piece, 10 g, 11 kg, 12 t, 20 cm, 21 dm, 22 m, 30 cm², 31 dm², 32 m², 40 ml, 41 l, 42 m³, 50 kWh, 51 Gcal, 70 day, 71 hour, 72 min, 73 s, 80 KB, 81 MB, 82 GB, 83 TB, 255 other"),
            )),
        }
    }

    /// The tag 2108 value.
    pub fn code(self) -> u8 {
        self.0
    }
}

/// The part of a pack sold, tag 1291 {1293 numerator, 1294 denominator}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FractionalQuantity {
    /// Units sold (tag 1293), at least 1.
    pub numerator: u32,
    /// Units in the pack (tag 1294), more than `numerator`.
    pub denominator: u32,
}

impl FractionalQuantity {
    /// Checks `0 < numerator < denominator`, both fitting 32 bits; `field` is the object's path.
    pub fn new(numerator: i64, denominator: i64, field: &str) -> Result<Self, ModelError> {
        let numerator = u32::try_from(numerator)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                invalid(
                    &format!("{field}.numerator"),
                    format!("{numerator} must be a whole number from 1 to {}", u32::MAX),
                )
            })?;
        let denominator = u32::try_from(denominator)
            .ok()
            .filter(|d| *d > numerator)
            .ok_or_else(|| {
                invalid(
                    &format!("{field}.denominator"),
                    format!(
                        "{denominator} must be a whole number greater than the numerator ({numerator}) and at most {}",
                        u32::MAX
                    ),
                )
            })?;
        Ok(FractionalQuantity {
            numerator,
            denominator,
        })
    }
}

/// Checks a text that goes into an FN tag: not blank, at most `max` characters, every
/// character sendable (CP866) and printable (CP1251).
pub fn tag_text(value: &str, max: usize, field: &str) -> Result<String, ModelError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty".into()));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(invalid(
            field,
            format!("is {chars} characters long; at most {max} allowed"),
        ));
    }
    if let Some(c) = crate::text::unsendable(value) {
        return Err(invalid(
            field,
            format!(
                "contains {}, which a register cannot send to the FN (tags are CP866) or print",
                crate::text::describe(c)
            ),
        ));
    }
    Ok(value.to_string())
}

/// An INN: 10 digits (organisation) or 12 (person) as `lengths` allows, check digits right.
pub fn inn(value: &str, lengths: &[usize], field: &str) -> Result<String, ModelError> {
    let value = value.trim();
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    let what = match lengths {
        [10] => "10 digits",
        [12] => "12 digits",
        _ => "10 or 12 digits",
    };
    if digits.len() != value.chars().count() || !lengths.contains(&digits.len()) {
        return Err(invalid(field, format!("{value:?} is not an INN ({what})")));
    }
    let check = |weights: &[u32]| -> u32 {
        let sum: u32 = weights.iter().zip(&digits).map(|(w, d)| w * d).sum();
        sum % 11 % 10
    };
    let valid = match digits.len() {
        10 => check(&[2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[9],
        _ => {
            check(&[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[10]
                && check(&[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[11]
        }
    };
    if !valid {
        return Err(invalid(
            field,
            format!("{value:?} is not a valid INN (its check digits do not match)"),
        ));
    }
    Ok(value.to_string())
}

/// A Russian phone number as the FN takes it (tags 1073, 1171): `+7` and 10 digits.
pub fn phone(value: &str, field: &str) -> Result<String, ModelError> {
    let mut digits = String::new();
    for (i, c) in value.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' => {}
            _ => return Err(invalid(field, format!("{value:?} is not a phone number"))),
        }
    }
    let national = match digits.len() {
        11 if digits.starts_with('7') || digits.starts_with('8') => &digits[1..],
        10 => &digits[..],
        _ => {
            return Err(invalid(
                field,
                format!("{value:?} is not a Russian phone number (+7 and 10 digits)"),
            ))
        }
    };
    Ok(format!("+7{national}"))
}

/// The agent of a position (tag 1222, and 1223 agent data when a phone is given).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Agent {
    /// Tag 1222, one bit: 1 bank payment agent, 2 bank payment subagent, 4 payment agent,
    /// 8 payment subagent, 16 attorney, 32 commission agent, 64 other agent.
    pub agent_type: u8,
    /// The payment agent's phone (tag 1073 inside 1223), `+7XXXXXXXXXX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Agent {
    /// Checks the tag 1222 value (exactly one of bits 0..=6).
    pub fn new(agent_type: i64, phone: Option<String>, field: &str) -> Result<Agent, ModelError> {
        match u8::try_from(agent_type) {
            Ok(t) if t.count_ones() == 1 && t <= 64 => Ok(Agent {
                agent_type: t,
                phone,
            }),
            _ => Err(invalid(
                &format!("{field}.type"),
                format!("{agent_type} is not an agent type; expected one of tag 1222's values 1 (bank payment agent), 2 (bank payment subagent), 4 (payment agent), 8 (payment subagent), 16 (attorney), 32 (commission agent), 64 (other agent)"),
            )),
        }
    }
}

/// The supplier of a position sold by an agent (tags 1224 {1171, 1225} and 1226).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Supplier {
    /// Name (tag 1225).
    pub name: String,
    /// INN (tag 1226), 10 or 12 digits.
    pub inn: String,
    /// Phone (tag 1171), `+7XXXXXXXXXX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Longest supplier name accepted (tag 1225 allows 256 bytes; one FF4D frame carries 249).
pub const MAX_SUPPLIER_NAME_CHARS: usize = 128;
/// Longest cashier name (tag 1021).
pub const MAX_CASHIER_NAME_CHARS: usize = 64;
/// Longest buyer name accepted (tag 1227 allows 256 bytes; one FF0C frame carries 249).
pub const MAX_BUYER_NAME_CHARS: usize = 128;

/// Longest marking code, bytes: FF61 carries the code and the measured item's TLVs in one
/// frame (`10 + X + Y ≤ 255`, addendum §4.2), FF67 the code alone (`7 + N ≤ 255`, §4.4).
pub const MAX_MARKING_CODE_BYTES: usize = 200;

/// A marking code as scanned (addendum §4): GS1 groups separated by GS (0x1D), sent to the
/// register byte for byte (FF61 check, FF67 bind).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MarkingCode(Vec<u8>);

impl MarkingCode {
    /// Checks the length (1..=[`MAX_MARKING_CODE_BYTES`]) and that every byte is printable
    /// ASCII or GS, as a scanner gives them.
    pub fn new(bytes: Vec<u8>, field: &str) -> Result<MarkingCode, ModelError> {
        if bytes.is_empty() || bytes.len() > MAX_MARKING_CODE_BYTES {
            return Err(invalid(
                field,
                format!(
                    "is {} bytes long; a marking code has 1..={MAX_MARKING_CODE_BYTES}",
                    bytes.len()
                ),
            ));
        }
        if let Some(b) = bytes
            .iter()
            .find(|b| !(b.is_ascii_graphic() || **b == 0x1D))
        {
            return Err(invalid(
                field,
                format!("contains byte 0x{b:02X}; a marking code is printable ASCII with GS (0x1D) between its groups"),
            ));
        }
        Ok(MarkingCode(bytes))
    }

    /// The bytes as sent to the register.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Everything a position says beside name, quantity, price and VAT.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemAttributes {
    /// Tag 1214 (FF46 offset 30).
    pub payment_method: PaymentMethod,
    /// Tag 1212 (FF46 offset 31).
    pub payment_object: PaymentObject,
    /// Tag 2108 (FF4D after the item; not sent when 0).
    pub measurement_unit: MeasurementUnit,
    /// Tag 1291 (FF4D after the item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fractional_quantity: Option<FractionalQuantity>,
    /// Tags 1222 (and 1223) (FF4D after the item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    /// Tags 1224 and 1226 (FF4D after the item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Supplier>,
    /// The marking code (addendum §4: FF61, FF69, FF67 around the item's FF46).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marking_code: Option<MarkingCode>,
}

impl ItemAttributes {
    /// `true` when nothing differs from what a position without these fields means.
    pub fn is_default(&self) -> bool {
        *self == ItemAttributes::default()
    }
}

/// The cashier a receipt names (tags 1021, 1203), overriding the register's configured one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReceiptCashier {
    /// Name (tag 1021).
    pub name: String,
    /// INN (tag 1203), 12 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
}

/// The buyer (client) a receipt names: tags 1227, 1228, inside STLV 1256 under FFD 1.2.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BuyerDetails {
    /// Name or organisation (tag 1227).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// INN (tag 1228), 10 or 12 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_take_the_addendum_values_and_name_the_field() {
        assert_eq!(PaymentMethod::from_code(1, "f").unwrap().code(), 1);
        assert_eq!(PaymentMethod::from_code(7, "f").unwrap().code(), 7);
        for bad in [0, 8, -1, 260] {
            assert_eq!(
                PaymentMethod::from_code(bad, "p.m").unwrap_err().field(),
                "p.m"
            );
        }
        for good in [1, 10, 27, 30, 33] {
            assert_eq!(
                PaymentObject::from_code(good, "f").unwrap().code() as i64,
                good
            );
        }
        for bad in [0, 28, 29, 34, 256] {
            assert_eq!(
                PaymentObject::from_code(bad, "p.o").unwrap_err().field(),
                "p.o"
            );
        }
        for good in [0, 11, 41, 255] {
            assert_eq!(
                MeasurementUnit::from_code(good, "f").unwrap().code() as i64,
                good
            );
        }
        for bad in [1, 13, 254, 256, -1] {
            assert!(MeasurementUnit::from_code(bad, "u").is_err(), "{bad}");
        }
        assert_eq!(PaymentMethod::default().code(), 4);
        assert_eq!(PaymentObject::default().code(), 1);
        assert_eq!(MeasurementUnit::default().code(), 0);
    }

    #[test]
    fn a_fraction_is_a_proper_one() {
        let f = FractionalQuantity::new(1, 4, "q").unwrap();
        assert_eq!((f.numerator, f.denominator), (1, 4));
        assert_eq!(
            FractionalQuantity::new(0, 4, "q").unwrap_err().field(),
            "q.numerator"
        );
        assert_eq!(
            FractionalQuantity::new(4, 4, "q").unwrap_err().field(),
            "q.denominator"
        );
        assert_eq!(
            FractionalQuantity::new(5, 4, "q").unwrap_err().field(),
            "q.denominator"
        );
        assert_eq!(
            FractionalQuantity::new(1, 1 << 33, "q")
                .unwrap_err()
                .field(),
            "q.denominator"
        );
    }

    #[test]
    fn inns_have_check_digits() {
        assert!(inn("7707083893", &[10, 12], "i").is_ok());
        assert!(inn("500100732259", &[12], "i").is_ok());
        assert!(inn("7707083894", &[10, 12], "i").is_err());
        assert!(inn("7707083893", &[12], "i").is_err());
        assert!(inn("500100732258", &[12], "i").is_err());
        assert!(inn("77070838x3", &[10], "i").is_err());
    }

    #[test]
    fn agent_types_are_single_bits() {
        assert!(Agent::new(32, None, "a").is_ok());
        assert_eq!(Agent::new(3, None, "a").unwrap_err().field(), "a.type");
        assert!(Agent::new(0, None, "a").is_err());
        assert!(Agent::new(128, None, "a").is_err());
    }

    #[test]
    fn tag_texts_are_checked() {
        assert_eq!(tag_text(" Петров ", 64, "n").unwrap(), "Петров");
        assert!(tag_text("", 64, "n").is_err());
        assert!(tag_text("ООО «Ромашка»", 64, "n").is_err());
        assert!(tag_text(&"я".repeat(65), 64, "n").is_err());
        assert_eq!(phone("8 (912) 345-67-89", "p").unwrap(), "+79123456789");
        assert!(phone("12345", "p").is_err());
    }
}
