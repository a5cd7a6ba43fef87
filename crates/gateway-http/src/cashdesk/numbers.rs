//! CashDesk's numbers: JSON numbers or numeric strings (the vendor's own example sends
//! `"amount": "1"`, `"price": "50.06"` and `"total_sum": 50.1` in one body, reference §10),
//! read exactly through [`crate::fields`] (no `f64` in between): sums in hryvnias with at
//! most two decimals, quantities with at most three.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::answer::DeskError;
use crate::fields;

/// Decimals a sum may have (kopecks).
pub const SUM_DECIMALS: u32 = 2;
/// Decimals a quantity may have (reference §3: «не більше трьох знаків після коми»).
pub const QUANTITY_DECIMALS: u32 = 3;

/// An optional number or numeric string with at most `decimals` decimals (trailing zeros do
/// not count): absent, null and "" are none.
pub fn optional(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
    decimals: u32,
) -> Result<Option<Decimal>, DeskError> {
    let path = fields::join(prefix, name);
    let d = match m.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => {
            let text = s.trim().replace(',', ".");
            fields::decimal_from_text(&text, &path).map_err(|_| {
                DeskError::invalid(format!(
                    "Поле {path}: «{s}» не є числом (очікується число, наприклад 50.06)"
                ))
            })?
        }
        Some(Value::Number(n)) => fields::number_to_decimal(n, &path)
            .map_err(|e| DeskError::invalid(format!("Поле {path}: невірне число {n} ({e})")))?,
        Some(_) => {
            return Err(DeskError::invalid(format!(
                "Поле {path}: має бути числом або рядком з числом"
            )))
        }
    };
    let d = d.normalize();
    if d.scale() > decimals {
        return Err(DeskError::invalid(format!(
            "Поле {path}: {d} має більше ніж {decimals} знаки після коми"
        )));
    }
    Ok(Some(d))
}

/// A required number (see [`optional`]).
pub fn required(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
    decimals: u32,
) -> Result<Decimal, DeskError> {
    optional(m, prefix, name, decimals)?.ok_or_else(|| {
        DeskError::invalid(format!(
            "Поле {} є обов'язковим",
            fields::join(prefix, name)
        ))
    })
}

/// A sum in hryvnias as signed kopecks.
pub fn kopecks(d: Decimal, path: &str) -> Result<i64, DeskError> {
    i64::try_from((d * Decimal::from(100)).trunc())
        .map_err(|_| DeskError::invalid(format!("Поле {path}: {d} поза межами")))
}

/// A sum that must not be negative, in kopecks.
pub fn non_negative_kopecks(d: Decimal, path: &str) -> Result<u64, DeskError> {
    u64::try_from(kopecks(d, path)?)
        .map_err(|_| DeskError::invalid(format!("Поле {path}: {d} не може бути від'ємним")))
}

/// A quantity in thousandths of a unit, more than 0.
pub fn milli(d: Decimal, path: &str) -> Result<u64, DeskError> {
    match u64::try_from((d * Decimal::from(1000)).trunc()) {
        Ok(q) if q > 0 => Ok(q),
        _ => Err(DeskError::invalid(format!(
            "Поле {path}: кількість {d} має бути більшою за 0"
        ))),
    }
}

/// Kopecks as hryvnias with two decimals, as a JSON number (`25.10`, `-0.04`).
pub fn money(kopecks: i64) -> Value {
    let text = format!(
        "{}{}.{:02}",
        if kopecks < 0 { "-" } else { "" },
        kopecks.unsigned_abs() / 100,
        kopecks.unsigned_abs() % 100
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Signed kopecks as text with a sign and two decimals (`+0.04`, `-0.03`).
pub fn signed(kopecks: i64) -> String {
    format!(
        "{}{}.{:02}",
        if kopecks < 0 { "-" } else { "+" },
        kopecks.unsigned_abs() / 100,
        kopecks.unsigned_abs() % 100
    )
}

/// Unsigned kopecks as text with two decimals (`25.10`).
pub fn plain(kopecks: i64) -> String {
    let s = signed(kopecks);
    if kopecks < 0 {
        s
    } else {
        s.trim_start_matches('+').to_string()
    }
}

/// A whole number given as a number or a string of digits (`num_fiscal`, `local_number`).
pub fn optional_whole(m: &Map<String, Value>, name: &str) -> Result<Option<u64>, DeskError> {
    let Some(text) = crate::fields::numeric_text(m, name)
        .map_err(|()| DeskError::invalid(format!("Поле {name}: має бути цілим числом")))?
    else {
        return Ok(None);
    };
    text.parse::<u64>().map(Some).map_err(|_| {
        DeskError::invalid(format!(
            "Поле {name}: «{text}» не є цілим невід'ємним числом"
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn numbers_and_numeric_strings_are_read_exactly() {
        let m = body(
            json!({"a": "50.06", "b": 50.1, "c": "1", "d": 0.1, "e": "", "f": null, "g": "25,10"}),
        );
        let kop = |n: &str| kopecks(required(&m, "", n, SUM_DECIMALS).unwrap(), n).unwrap();
        assert_eq!(kop("a"), 5006);
        assert_eq!(kop("b"), 5010);
        assert_eq!(kop("c"), 100);
        assert_eq!(kop("d"), 10);
        assert_eq!(kop("g"), 2510);
        assert_eq!(optional(&m, "", "e", SUM_DECIMALS).unwrap(), None);
        assert_eq!(optional(&m, "", "f", SUM_DECIMALS).unwrap(), None);
        assert_eq!(optional(&m, "", "missing", SUM_DECIMALS).unwrap(), None);
    }

    #[test]
    fn too_many_decimals_or_garbage_are_refused_naming_the_field() {
        let m = body(json!({"sum": "1.005", "amount": 1.0005, "price": "abc", "cost": true}));
        for (name, decimals) in [
            ("sum", SUM_DECIMALS),
            ("amount", QUANTITY_DECIMALS),
            ("price", SUM_DECIMALS),
            ("cost", SUM_DECIMALS),
        ] {
            let e = optional(&m, "products[0]", name, decimals).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(e.message.contains(&format!("products[0].{name}")), "{e:?}");
        }
        // Trailing zeros are not decimals: "1.500" is 1.5.
        let m = body(json!({"amount": "1.500", "sum": 25.10}));
        let q = required(&m, "", "amount", QUANTITY_DECIMALS).unwrap();
        assert_eq!(milli(q, "amount").unwrap(), 1500);
        assert_eq!(
            kopecks(required(&m, "", "sum", SUM_DECIMALS).unwrap(), "sum").unwrap(),
            2510
        );
    }

    #[test]
    fn money_is_written_with_two_decimals_and_a_sign() {
        assert_eq!(money(2510).to_string(), "25.10");
        assert_eq!(money(-4).to_string(), "-0.04");
        assert_eq!(signed(4), "+0.04");
        assert_eq!(signed(-3), "-0.03");
        assert_eq!(plain(10000), "100.00");
    }

    #[test]
    fn whole_numbers_come_as_numbers_or_digit_strings() {
        let m = body(json!({"num_fiscal": "4000022469", "local_number": 12, "bad": "1.5"}));
        assert_eq!(optional_whole(&m, "num_fiscal").unwrap(), Some(4000022469));
        assert_eq!(optional_whole(&m, "local_number").unwrap(), Some(12));
        assert!(optional_whole(&m, "bad").is_err());
    }
}
