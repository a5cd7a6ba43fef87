//! What the dialects share about the paper and the FN's line sums: text cut to the tape's
//! width, a label with an amount, a position priced so that the FN gets exactly the sum the
//! POS fixed, a refusal of the receipt model named in the dialect's own fields, and a
//! comparison of secrets that takes the same time whatever they hold.

use fiscal_model::{Item, Kopecks, ModelError, Quantity};

/// A position `template` (name, VAT, attributes, notes) of `milli` thousandths of a unit
/// for which the buyer pays exactly `amount` kopecks (tag 1043): the unit price is derived
/// from the sum; the sum is sent as given when the register's price × quantity is within its
/// ±1 kopeck tolerance (FF46 offset 18), and a line that one price cannot reach is split in
/// two (some units at one kopeck more, or a weight's last unit taking the rest). The notes
/// go under the last part.
pub fn priced(template: &Item, milli: u64, amount: u64) -> Vec<Item> {
    let quantity = |milli: u64| Quantity(milli.saturating_mul(1000));
    let item = |milli: u64, price: u64, line_sum: Option<u64>| Item {
        quantity: quantity(milli),
        price: Kopecks(price),
        line_sum: line_sum.map(Kopecks),
        notes: Vec::new(),
        ..template.clone()
    };
    let milli = milli.max(1);
    // Price to the nearest kopeck.
    let price = (u128::from(amount) * 1000 + u128::from(milli) / 2) / u128::from(milli);
    let price = u64::try_from(price).unwrap_or(u64::MAX);
    let computed = quantity(milli).times(Kopecks(price)).map(|k| k.0);
    let mut items = match computed {
        Some(c) if c.abs_diff(amount) == 0 => vec![item(milli, price, None)],
        Some(c) if c.abs_diff(amount) <= 1 => vec![item(milli, price, Some(amount))],
        _ if milli % 1000 == 0 => {
            // n units: (n − r) at ⌊A/n⌋ and r at one kopeck more, exactly A.
            let n = milli / 1000;
            let (base, r) = (amount / n, amount % n);
            vec![
                item((n - r) * 1000, base, None),
                item(r * 1000, base + 1, None),
            ]
        }
        _ => {
            // A weight above two units: all but one unit at ⌊A/q⌋, the last unit takes the
            // rest.
            let floor =
                u64::try_from(u128::from(amount) * 1000 / u128::from(milli)).unwrap_or(u64::MAX);
            let rest_qty = milli.saturating_sub(1000);
            let first = quantity(rest_qty)
                .times(Kopecks(floor))
                .map(|k| k.0)
                .unwrap_or(amount);
            vec![
                item(rest_qty, floor, None),
                item(1000, amount.saturating_sub(first), None),
            ]
        }
    };
    if let Some(last) = items.last_mut() {
        last.notes = template.notes.clone();
    }
    items
}

/// Equal byte strings, compared in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `label` and an amount in roubles, the amount right-aligned to `width`.
pub fn pair(label: &str, kopecks: u64, width: usize) -> String {
    let value = format!("{}.{:02}", kopecks / 100, kopecks % 100);
    let used = label.chars().count() + value.chars().count();
    if used < width {
        format!("{label}{}{value}", " ".repeat(width - used))
    } else {
        format!("{label} {value}")
    }
}

/// `text` cut into lines of at most `width` characters, at spaces where it can.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let len = line.chars().count();
            let sep = usize::from(len > 0);
            if len + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if len > 0 {
                out.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width);
            out.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// A dialect's names for what the receipt model's refusals name (`positions[k].name`,
/// `totalSum`, `text.footer[k]` …).
#[derive(Debug, Clone, Copy)]
pub struct RequestNames {
    /// The array of lines (`products`, `items`).
    pub lines: &'static str,
    /// A line's name.
    pub name: &'static str,
    /// A line's marking code.
    pub marking: &'static str,
    /// The document's total.
    pub total: &'static str,
    /// The payments.
    pub payments: &'static str,
    /// What the printed header is made of.
    pub header: &'static str,
    /// What the printed footer is made of.
    pub footer: &'static str,
}

/// The field of the request that `e` (a refusal of the receipt the request was made into) is
/// about, and the reason: `positions[k]` is the request's line `origin[k]` (a line may be split
/// into two positions), the sums and the text are the request's. A field the model names that
/// the request has no counterpart for is kept as the model names it.
pub fn in_request(e: &ModelError, origin: &[usize], names: &RequestNames) -> (String, String) {
    let field = e.field();
    let text = e.to_string();
    let reason = text
        .strip_prefix(field)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(&text)
        .to_string();
    let position = field.strip_prefix("positions[").and_then(|rest| {
        let (k, member) = rest.split_once(']')?;
        let line = k.parse::<usize>().ok().and_then(|k| origin.get(k))?;
        let line = format!("{}[{line}]", names.lines);
        Some(match member {
            ".name" => format!("{line}.{}", names.name),
            ".markingCode" => format!("{line}.{}", names.marking),
            _ => line,
        })
    });
    let field = position.unwrap_or_else(|| {
        let head = field.split(['.', '[']).next().unwrap_or_default();
        match head {
            "positions" => names.lines.to_string(),
            "totalSum" => names.total.to_string(),
            "cashPaymentSum"
            | "cashlessPaymentSum"
            | "prepaymentSum"
            | "postpaymentSum"
            | "counterProvisionSum" => names.payments.to_string(),
            "text" if field.starts_with("text.header") => names.header.to_string(),
            "text" => names.footer.to_string(),
            _ => field.to_string(),
        }
    });
    (field, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    // SmartOne's names: any dialect's table reads the same way.
    const NAMES: RequestNames = crate::smartone::sale::REQUEST_NAMES;

    fn refusal(field: &str) -> ModelError {
        ModelError::Receipt {
            field: field.into(),
            reason: "is wrong".into(),
        }
    }

    #[test]
    fn the_models_fields_are_named_as_the_request_names_them() {
        // Line 1 was split into positions 1 and 2.
        let origin = [0, 1, 1, 2];
        let named = |field: &str| in_request(&refusal(field), &origin, &NAMES);
        assert_eq!(
            named("positions[2].name"),
            ("items[1].itemName".into(), "is wrong".into())
        );
        assert_eq!(named("positions[3].markingCode").0, "items[2].itemQRCode");
        assert_eq!(named("positions[3].notes[0]").0, "items[2]");
        assert_eq!(named("positions[9].name").0, "items");
        assert_eq!(named("positions").0, "items");
        assert_eq!(named("totalSum").0, "amount");
        assert_eq!(named("cashPaymentSum").0, "payments");
        assert_eq!(named("text.header[3]").0, "departmentName");
        assert_eq!(named("text.footer").0, "printFooter");
        assert_eq!(named("employeeName").0, "employeeName");
    }
}
