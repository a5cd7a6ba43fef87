//! The SmartOne envelope: a form body `data=<Base64 of UTF-8 JSON>&sign=<Base64>` signed with
//! the register's merchantID (reference §2.2), and the answer `{"status", "code", "message", …}`.
//!
//! The body is read whatever its Content-Type: clients send it as a form, as `text/plain`, or
//! with only `=` escaped. Fields are split on `&` and percent-decoded, and `+` stays a `+` (a
//! form decoder would turn it into a space and break every signature whose Base64 holds one).

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// The dialect's error codes (seed; reference §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 0: no error.
    Ok = 0,
    /// 1: the signature does not verify with any configured merchantID (or no JWT on a JSON body).
    Auth = 1,
    /// 2: `data` is not Base64 of UTF-8 JSON.
    BadJson = 2,
    /// 3: a required field is missing or a field is invalid.
    Missing = 3,
    /// 4: `amount` is not the sum of the items' `itemAmount`.
    AmountMismatch = 4,
    /// 5: internal error, or still processing (repeat the same request).
    Internal = 5,
    /// 6: the shift is not open (or, for `/open_shift`, already open).
    Shift = 6,
    /// 7: a payment type this gateway does not take.
    PaymentType = 7,
    /// 8: the payments do not cover the document.
    NotPaid = 8,
    /// 9: no such document (or, for `/withdraw`, not enough cash).
    NotFound = 9,
    /// 11: change is given only from cash.
    ChangeNotCash = 11,
    /// 12: a tax rate (or calculation type) the register cannot fiscalize.
    TaxRate = 12,
    /// 22: the shift has been open longer than 24 hours (close it).
    ShiftTooLong = 22,
    /// 18: a returned item is not in the sale.
    NotInSale = 18,
    /// 19: more returned than sold minus earlier returns.
    ReturnExceeds = 19,
}

/// A dialect error: a code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The code.
    pub code: Code,
    /// What was wrong, naming the field.
    pub message: String,
}

impl Refusal {
    /// A refusal with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::ApiError> for Refusal {
    /// The shared field readers' 400s: a missing or invalid field, code 3.
    fn from(e: crate::ApiError) -> Refusal {
        match e {
            crate::ApiError::MalformedJson(m) => Refusal::new(Code::BadJson, m),
            other => Refusal::new(Code::Missing, other.to_string()),
        }
    }
}

/// An answer: the envelope and the route's own fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// `success` or `error`.
    pub status: &'static str,
    /// [`Code`].
    pub code: u8,
    /// Why, on an error (and a note on some successes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The route's fields.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Answer {
    /// A success with `fields`.
    pub fn success(fields: Map<String, Value>) -> Answer {
        Answer {
            status: "success",
            code: Code::Ok as u8,
            message: None,
            fields,
        }
    }

    /// An error.
    pub fn error(refusal: Refusal) -> Answer {
        Answer {
            status: "error",
            code: refusal.code as u8,
            message: Some(refusal.message),
            fields: Map::new(),
        }
    }
}

/// `sign` for `data` (the Base64 text as sent) and `merchant_id`: Base64 of the lower-case hex
/// SHA-1 of the two strings joined (reference §2.2).
pub fn sign(data: &str, merchant_id: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(data.as_bytes());
    hasher.update(merchant_id.as_bytes());
    let hex = hex::encode(hasher.finalize());
    base64::engine::general_purpose::STANDARD.encode(hex.as_bytes())
}

/// A signed form body, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedForm {
    /// `data` as sent (Base64 text), percent-decoded.
    pub data: String,
    /// `sign`, percent-decoded.
    pub sign: String,
}

/// Splits a form body into `data` and `sign`: `&`-separated `name=value`, `%XX` decoded, `+`
/// kept. A body without `data` is code 2; without `sign`, code 1.
pub fn parse_form(body: &str) -> Result<SignedForm, Refusal> {
    let mut data = None;
    let mut sign = None;
    for pair in body.trim().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value.trim())
            .decode_utf8()
            .map_err(|_| {
                Refusal::new(
                    Code::BadJson,
                    format!("{name}: percent-decoded value is not UTF-8"),
                )
            })?
            .into_owned();
        match name.trim() {
            "data" => data = Some(value),
            "sign" => sign = Some(value),
            _ => {}
        }
    }
    let data = data.ok_or_else(|| {
        Refusal::new(
            Code::BadJson,
            "data: missing (the body is data=<Base64 of the JSON>&sign=<signature>)",
        )
    })?;
    let sign = sign.ok_or_else(|| Refusal::new(Code::Auth, "sign: missing"))?;
    Ok(SignedForm { data, sign })
}

/// Which of `merchants` signed `form` (its index), or code 1.
pub fn verify<'a>(
    form: &SignedForm,
    merchants: impl IntoIterator<Item = &'a str>,
) -> Result<usize, Refusal> {
    merchants
        .into_iter()
        .position(|merchant| crate::tape::constant_time_eq(sign(&form.data, merchant).as_bytes(), form.sign.as_bytes()))
        .ok_or_else(|| {
            Refusal::new(
                Code::Auth,
                "sign: does not match data signed with the configured merchantID (Base64 of the lower-case hex SHA-1 of data + merchantID)",
            )
        })
}

/// The JSON inside `data`: Base64 (standard, padded; padding may be left off), then UTF-8 JSON
/// object. Any failure is code 2.
pub fn decode_data(data: &str) -> Result<Map<String, Value>, Refusal> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(data.trim())
        .map_err(|e| Refusal::new(Code::BadJson, format!("data: not Base64 ({e})")))?;
    json_object(&bytes, "data")
}

/// `bytes` as a JSON object, or code 2 naming `what`.
pub fn json_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, Refusal> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Refusal::new(Code::BadJson, format!("{what}: the JSON is not UTF-8")))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Refusal::new(
            Code::BadJson,
            format!("{what}: must be a JSON object"),
        )),
        Err(e) => Err(Refusal::new(
            Code::BadJson,
            format!("{what}: not valid JSON: {e}"),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Reference §2.2, worked example of the vendor's page 1.4.
    const MERCHANT: &str = "9662a13f5b4f46dbb1751bbbf86ed402";
    const DATA: &str = "eyJkb2NOdW1iZXIiOiAgIjEyMyIsImVtcGxveWVlTmFtZSI6ICLQmNCy0LDQvdC+0LIiLCJhbW91bnQiOiAgMTUwMDAsImN1cnJlbmN5IjogIkFaTiIsCiAiaXRlbXMiOiBbeyJpdGVtSWQiOiAiMTExMSIsICJpdGVtTmFtZSI6ICLQodC10LzQtdGH0LrQuCIsICJpdGVtUVJDb2RlIjogIiIsICJpdGVtUXR5IjogMjAwMCwKICJpdGVtQW1vdW50IjogMTUwMDAsImRpc2NvdW50IjogMCwiaXRlbVRheGVzIjogW3sidGF4TmFtZSI6ICLQndCU0KEiLCJ0YXhQcmMiOiAxODAwfV19XSwKICJwYXltZW50cyIgOiB7ImNhc2hBbW91bnQiOiAxNTAwMCwiY2FzaGxlc3NBbW91bnQiOiAwLCJvdGhlckFtb3VudCI6IDB9fQ==";
    const SIGN: &str = "ZmNlOTU1MjlkNzI0NjYxOTE2ODNlMDJiMTdhOGIxMjA0YzE2NWE0OQ==";

    #[test]
    fn the_references_worked_example_signs_and_verifies() {
        assert_eq!(sign(DATA, MERCHANT), SIGN);
        // As on the wire: only `=` escaped, `+` raw.
        let body = format!(
            "data={}&sign={}",
            DATA.replace('=', "%3D"),
            SIGN.replace('=', "%3D")
        );
        let form = parse_form(&body).expect("form");
        assert_eq!(form.data, DATA, "+ must stay +");
        assert_eq!(verify(&form, ["other", MERCHANT]), Ok(1));
        let json = decode_data(&form.data).expect("json");
        assert_eq!(json["employeeName"], "Иванов");
        assert_eq!(json["items"][0]["itemName"], "Семечки");
        assert_eq!(json["amount"], serde_json::json!(15000));
    }

    #[test]
    fn a_tampered_data_or_sign_or_another_merchant_is_code_1() {
        let tampered = SignedForm {
            data: DATA.replacen('e', "f", 1),
            sign: SIGN.into(),
        };
        assert_eq!(
            verify(&tampered, [MERCHANT]).map_err(|r| r.code),
            Err(Code::Auth)
        );
        let bad_sign = SignedForm {
            data: DATA.into(),
            sign: SIGN.replacen('Z', "Y", 1),
        };
        assert_eq!(
            verify(&bad_sign, [MERCHANT]).map_err(|r| r.code),
            Err(Code::Auth)
        );
        let upper = SignedForm {
            data: DATA.into(),
            sign: base64::engine::general_purpose::STANDARD
                .encode("FCE95529D72466191683E02B17A8B1204C165A49"),
        };
        assert_eq!(
            verify(&upper, [MERCHANT]).map_err(|r| r.code),
            Err(Code::Auth)
        );
        let form = SignedForm {
            data: DATA.into(),
            sign: SIGN.into(),
        };
        assert_eq!(
            verify(&form, ["another"]).map_err(|r| r.code),
            Err(Code::Auth)
        );
    }

    #[test]
    fn fully_escaped_bodies_decode_too() {
        let body = format!(
            "sign={}&data={}",
            SIGN.replace('=', "%3D"),
            DATA.replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        );
        let form = parse_form(&body).expect("form");
        assert_eq!(form.data, DATA);
        assert_eq!(form.sign, SIGN);
    }

    #[test]
    fn missing_fields_and_bad_base64_have_their_codes() {
        assert_eq!(
            parse_form("sign=abc").map_err(|r| r.code),
            Err(Code::BadJson)
        );
        assert_eq!(parse_form("data=abc").map_err(|r| r.code), Err(Code::Auth));
        assert_eq!(decode_data("!!!").map_err(|r| r.code), Err(Code::BadJson));
        let not_object = base64::engine::general_purpose::STANDARD.encode("[1]");
        assert_eq!(
            decode_data(&not_object).map_err(|r| r.code),
            Err(Code::BadJson)
        );
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode("{\"a\":1}");
        assert!(decode_data(&unpadded).is_ok());
    }
}
