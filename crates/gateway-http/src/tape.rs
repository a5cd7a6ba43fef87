//! What the dialects share about the paper and the FN's line sums: text cut to the tape's
//! width, a label with an amount, a position priced so that the FN gets exactly the sum the
//! POS fixed, and a comparison of secrets that takes the same time whatever they hold.

use fiscal_model::{Item, Kopecks, Quantity};

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
