//! The legacy receipt commands pyshtrih uses (§7.6.6): 0x80–0x83 sale/purchase/returns with
//! 5-byte quantities ×1000 (the first one opens the receipt), 0x84 storno, 0x85 close with
//! four payments, 0x8E close with sixteen, 0x86/0x87 receipt discount/surcharge. Closing goes
//! through the same FN commit as FF45, so these receipts create FDs too.

use chrono::NaiveDateTime;

use super::access::{authorize, Role};
use super::money::line_sum;
use super::receipt::{self, Closing};
use super::state::ReceiptItem;
use super::wire::{cp1251_text, err, put_uint, Params};
use super::{Answer, Device};

/// Routes 0x80–0x87 and 0x8E.
pub fn dispatch(device: &mut Device, code: u8, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    match code {
        0x80..=0x83 => register_item(device, code - 0x80, operator, p, now)?,
        0x84 => storno(device, p, now)?,
        0x85 | 0x8E => return close(device, operator, code == 0x8E, p, now),
        _ => adjust(device, code == 0x86, p, now)?,
    }
    Ok(vec![operator])
}

/// Quantity (5 bytes, 3 decimals), price, department, four tax bytes, text.
struct LegacyItem {
    quantity: u64,
    price: u64,
    department: u8,
    tax_group: u8,
    name: String,
}

fn parse_item(p: &mut Params<'_>) -> Result<LegacyItem, u8> {
    let quantity = p.uint(5)?.checked_mul(1000).ok_or(err::BAD_PARAMS)?;
    let price = p.uint(5)?;
    let department = p.u8()?;
    let taxes = p.take(4)?;
    // No tax byte set: the item is registered as "no VAT" (group 4), since an FN receipt
    // needs a VAT rate for every item.
    let tax_group = taxes.iter().copied().find(|t| *t != 0).unwrap_or(4);
    if !(1..=6).contains(&tax_group) || quantity == 0 {
        return Err(err::BAD_PARAMS);
    }
    Ok(LegacyItem {
        quantity,
        price,
        department,
        tax_group,
        name: cp1251_text(p.rest()),
    })
}

fn register_item(
    device: &mut Device,
    receipt_type: u8,
    operator: u8,
    p: &mut Params<'_>,
    now: NaiveDateTime,
) -> Result<(), u8> {
    let item = parse_item(p)?;
    match &device.state.receipt {
        Some(r) if r.receipt_type != receipt_type => return Err(err::WRONG_RECEIPT_TYPE),
        Some(_) => {}
        None => {
            receipt::check_can_open(device, now)?;
            receipt::start(device, receipt_type, operator);
        }
    }
    let receipt = device.open_receipt_mut(now)?;
    receipt.items.push(ReceiptItem {
        name: item.name,
        quantity: item.quantity,
        price: item.price,
        sum: line_sum(item.price, item.quantity),
        tax_group: item.tax_group,
        tax_byte: item.tax_group,
        department: item.department,
        payment_method: 4,
        payment_subject: 1,
        tlvs: Vec::new(),
    });
    Ok(())
}

/// 0x84 — voids (part of) the last matching item by price and name.
fn storno(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Result<(), u8> {
    let item = parse_item(p)?;
    let receipt = device.open_receipt_mut(now)?;
    let index = receipt
        .items
        .iter()
        .rposition(|i| i.price == item.price && i.name == item.name && i.quantity >= item.quantity)
        .ok_or(err::BAD_PARAMS)?;
    let target = &mut receipt.items[index];
    target.quantity -= item.quantity;
    if target.quantity == 0 {
        receipt.items.remove(index);
    } else {
        target.sum = line_sum(target.price, target.quantity);
    }
    Ok(())
}

/// 0x86 (`discount`) / 0x87 — receipt discount or surcharge in kopecks.
fn adjust(
    device: &mut Device,
    discount: bool,
    p: &mut Params<'_>,
    now: NaiveDateTime,
) -> Result<(), u8> {
    let sum = i64::try_from(p.uint(5)?).map_err(|_| err::BAD_PARAMS)?;
    let receipt = device.open_receipt_mut(now)?;
    receipt.adjustment += if discount { sum } else { -sum };
    Ok(())
}

/// 0x85 (cash + 3 payment types) / 0x8E (`extended`: 16 payment types) — close receipt.
fn close(
    device: &mut Device,
    operator: u8,
    extended: bool,
    p: &mut Params<'_>,
    now: NaiveDateTime,
) -> Answer {
    let mut payments = [0u64; 16];
    let count = if extended { 16 } else { 4 };
    for slot in payments.iter_mut().take(count) {
        *slot = p.uint(5)?;
    }
    let percent = i64::from(i16::from_le_bytes([p.u8()?, p.u8()?]));
    p.take(4)?;
    let text = cp1251_text(p.rest());
    let receipt = device.open_receipt_mut(now)?;
    let base = i64::try_from(receipt.total()).unwrap_or(i64::MAX);
    let tax_system = receipt::registered_tax_system(device, 0)?;
    let closing = Closing {
        payments,
        rounding: 0,
        // Percent in 0.01 %, negative = surcharge (§7.6.6).
        discount: base.saturating_mul(percent) / 10_000,
        tax_system,
        text,
    };
    let doc = receipt::finish(device, closing, now)?;
    let mut out = vec![operator];
    put_uint(&mut out, doc.change, 5);
    Ok(out)
}
