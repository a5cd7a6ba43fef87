//! Typed reads of single fields from a parsed JSON body, each failure naming its JSON path.
//!
//! Numbers are read exactly: the workspace builds `serde_json` with `arbitrary_precision`, so a
//! number keeps the digits the client sent, and they go straight into a [`Decimal`] without an
//! `f64` in between. Absurd spellings (exponents, more than [`MAX_INTEGER_DIGITS`] integer
//! digits, more than [`MAX_FRACTION_DIGITS`] decimals) are refused here instead of being rounded.
//! What a value means (kopecks, dictionaries) is decided by the callers and `fiscal_model`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};

use crate::ApiError;

/// More integer digits than any amount or quantity a register can hold (5-byte money field).
pub const MAX_INTEGER_DIGITS: usize = 12;
/// More decimals than any field needs (quantities have 6); longer spellings are refused rather
/// than rounded, so `0.0000000000001` never becomes a price of zero.
pub const MAX_FRACTION_DIGITS: usize = 12;

/// The JSON type name of a value, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body as an object.
pub fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(wrong_type(path, "an object", other)),
    }
}

fn wrong_type(path: &str, expected: &str, got: &Value) -> ApiError {
    let field = if path.is_empty() { "body" } else { path };
    ApiError::invalid(field, format!("must be {expected}, got {}", type_name(got)))
}

fn missing(path: &str) -> ApiError {
    ApiError::invalid(path, "is required")
}

/// `prefix.name`, or `name` at the top level.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A field that is present and not null.
fn present<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    #[cfg(test)]
    crate::openapi::tests::record_read(m, name);
    m.get(name).filter(|v| !v.is_null())
}

/// A required string.
pub fn string<'a>(
    m: &'a Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<&'a str, ApiError> {
    let path = join(prefix, name);
    match present(m, name) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(wrong_type(&path, "a string", other)),
        None => Err(missing(&path)),
    }
}

/// An optional string: absent, null and "" (which the seed's example sends) all mean `None`.
pub fn optional_string<'a>(
    m: &'a Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match present(m, name) {
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(&join(prefix, name), "a string", other)),
        None => Ok(None),
    }
}

/// A required boolean.
pub fn boolean(m: &Map<String, Value>, prefix: &str, name: &str) -> Result<bool, ApiError> {
    let path = join(prefix, name);
    match present(m, name) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(wrong_type(&path, "a boolean (true or false)", other)),
        None => Err(missing(&path)),
    }
}

/// An optional boolean: absent and null mean `None`.
pub fn optional_boolean(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<Option<bool>, ApiError> {
    match present(m, name) {
        Some(_) => boolean(m, prefix, name).map(Some),
        None => Ok(None),
    }
}

/// A required array.
pub fn array<'a>(
    m: &'a Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<&'a [Value], ApiError> {
    let path = join(prefix, name);
    match present(m, name) {
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(wrong_type(&path, "an array", other)),
        None => Err(missing(&path)),
    }
}

/// An optional object: absent and null mean `None`.
pub fn optional_object<'a>(
    m: &'a Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match present(m, name) {
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(wrong_type(&join(prefix, name), "an object", other)),
        None => Ok(None),
    }
}

/// An optional number as an exact decimal: absent and null mean `None`.
pub fn optional_decimal(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<Option<Decimal>, ApiError> {
    match present(m, name) {
        Some(_) => decimal(m, prefix, name).map(Some),
        None => Ok(None),
    }
}

/// An optional whole number: absent and null mean `None`.
pub fn optional_integer(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<Option<i64>, ApiError> {
    match present(m, name) {
        Some(_) => integer(m, prefix, name).map(Some),
        None => Ok(None),
    }
}

/// A required number as an exact decimal.
pub fn decimal(m: &Map<String, Value>, prefix: &str, name: &str) -> Result<Decimal, ApiError> {
    let path = join(prefix, name);
    match present(m, name) {
        Some(Value::Number(n)) => number_to_decimal(n, &path),
        Some(other) => Err(wrong_type(&path, "a number", other)),
        None => Err(missing(&path)),
    }
}

/// A required whole number (dictionary codes).
pub fn integer(m: &Map<String, Value>, prefix: &str, name: &str) -> Result<i64, ApiError> {
    let path = join(prefix, name);
    let d = match present(m, name) {
        Some(Value::Number(n)) => number_to_decimal(n, &path)?,
        Some(other) => return Err(wrong_type(&path, "an integer", other)),
        None => return Err(missing(&path)),
    };
    if !d.fract().is_zero() {
        return Err(ApiError::invalid(path, "must be an integer"));
    }
    i64::try_from(d.trunc()).map_err(|_| ApiError::invalid(path, "is out of range"))
}

/// Converts a JSON number through the digits the client wrote.
pub fn number_to_decimal(n: &Number, path: &str) -> Result<Decimal, ApiError> {
    decimal_from_text(&n.to_string(), path)
}

/// Parses plain decimal text (`-12.50`), refusing exponents and absurd lengths.
pub fn decimal_from_text(text: &str, path: &str) -> Result<Decimal, ApiError> {
    if text.contains(['e', 'E']) {
        return Err(ApiError::invalid(
            path,
            format!("{text} must be written as a plain decimal, without an exponent"),
        ));
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let significant = int_part.trim_start_matches('0');
    if significant.len() > MAX_INTEGER_DIGITS {
        return Err(ApiError::invalid(
            path,
            format!("is too large (more than {MAX_INTEGER_DIGITS} integer digits)"),
        ));
    }
    if frac_part.trim_end_matches('0').len() > MAX_FRACTION_DIGITS {
        return Err(ApiError::invalid(
            path,
            format!("has too many decimal places (more than {MAX_FRACTION_DIGITS})"),
        ));
    }
    Decimal::from_str(text).map_err(|_| ApiError::invalid(path, format!("{text} is not a number")))
}

/// A value a client may send as a number or as a string of digits, as its text (trimmed);
/// absent, null and "" are `None`; `Err(())` for any other type (the caller names the field
/// in its own dialect's words).
#[allow(clippy::result_unit_err)]
pub fn numeric_text(m: &Map<String, Value>, name: &str) -> Result<Option<String>, ()> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Number {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Number(n)) => n,
            other => panic!("{text} did not parse as a number: {other:?}"),
        }
    }

    #[test]
    fn numbers_keep_their_digits() {
        assert_eq!(
            number_to_decimal(&num("0.1"), "x").map(|d| d.to_string()),
            Ok("0.1".to_string())
        );
        assert_eq!(
            number_to_decimal(&num("89.90"), "x").map(|d| d.to_string()),
            Ok("89.90".to_string())
        );
        // 0.1 + 0.2 in f64 is not 0.3; here it is.
        let sum = number_to_decimal(&num("0.1"), "x").unwrap_or_default()
            + number_to_decimal(&num("0.2"), "x").unwrap_or_default();
        assert_eq!(sum, Decimal::from_str("0.3").unwrap_or_default());
    }

    #[test]
    fn absurd_numbers_are_refused_with_the_field() {
        for text in ["1e3", "1E-2", "1234567890123", "0.0000000000001"] {
            let e = number_to_decimal(&num(text), "positions[0].price");
            assert!(
                matches!(&e, Err(ApiError::Validation { field: Some(f), .. }) if f == "positions[0].price"),
                "{text}: {e:?}"
            );
        }
        assert!(number_to_decimal(&num("123456789012.5"), "x").is_ok());
        assert!(number_to_decimal(&num("0.500000000000000000"), "x").is_ok());
    }
}
