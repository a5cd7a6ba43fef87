//! Receipts (§7.6): open (0x8D), operation v2 (FF46), TLVs (FF0C, FF4D), close v2 (FF45),
//! cancel (0x88), subtotal (0x89), and the shared closing step the legacy 0x85/0x8E use too:
//! payment checks, FN commit, registers, printing.

use chrono::NaiveDateTime;

use super::access::{authorize, Role};
use super::fn_archive;
use super::marking;
use super::money::{bump, cash_in_drawer, line_sum, set_money};
use super::state::{registers, FnDocument, OpenReceipt, ReceiptItem, VatSum};
use super::tables;
use super::tape;
use super::wire::{cp1251_text, err, parse_tlvs, put_fn_date_time, put_uint, Params};
use super::{Answer, Device};

/// FN: "wrong FN state for this command" (§5), for FF0C with no document being formed.
const FN_WRONG_STATE: u8 = err::FN_WRONG_STATE;
/// 0x8D type bit of an FFD 1.2 correction receipt (addendum §5: `0x80 + t`).
const CORRECTION_BIT: u8 = 0x80;
/// FFD version code of FFD 1.2 (table 17.17, §8.7).
const FFD_1_2: u8 = 4;
/// FFD form codes of the archive (§8.2).
const FORM_RECEIPT: u8 = 3;
const FORM_CORRECTION: u8 = 31;
/// Correction tags (addendum §5): type, basis (STLV), basis date, order number.
const TAG_1173: u16 = 1173;
const TAG_1174: u16 = 1174;
const TAG_1178: u16 = 1178;
const TAG_1179: u16 = 1179;
/// Five bytes of 0xFF: "let the KKT compute" (§7.6.2).
const COMPUTE: u64 = 0xFF_FFFF_FFFF;

/// Checks that a receipt may be opened now: mode 2 and a ready printer.
pub fn check_can_open(device: &Device, now: NaiveDateTime) -> Result<(), u8> {
    if device.state.receipt.is_some() {
        return Err(err::RECEIPT_OPEN);
    }
    match device.mode(now) {
        2 => {}
        3 => return Err(err::SHIFT_24H),
        4 => return Err(err::SHIFT_CLOSED),
        _ => return Err(err::WRONG_MODE),
    }
    device.check_printer(now)
}

/// Starts an empty receipt of 0x8D type `receipt_type`.
pub fn start(device: &mut Device, receipt_type: u8, operator: u8) {
    start_document(device, receipt_type, operator, false);
}

fn start_document(device: &mut Device, receipt_type: u8, operator: u8, correction: bool) {
    device.state.receipt = Some(OpenReceipt {
        receipt_type,
        operator,
        items: Vec::new(),
        tlvs: Vec::new(),
        adjustment: 0,
        correction,
        text: Vec::new(),
    });
}

/// 0x8D — open receipt; type `0x80 + t` opens an FFD 1.2 correction receipt of type `t`
/// (addendum §5), refused with 0x33 under an older FFD. The mode it shows is the receipt's of
/// type `t` (the addendum leaves it UNCONFIRMED).
pub fn open(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let byte = p.u8()?;
    let correction = byte & CORRECTION_BIT != 0;
    let receipt_type = byte & !CORRECTION_BIT;
    if receipt_type > 3 || (correction && device.state.config.ffd_version != FFD_1_2) {
        return Err(err::BAD_PARAMS);
    }
    check_can_open(device, now)?;
    start_document(device, receipt_type, operator, correction);
    Ok(vec![operator])
}

/// FF35 / FF4A — the FFD 1.05 correction receipt: refused with 0x37 under FFD 1.2 (addendum
/// §5: an FFD 1.2 correction carries items, FF4A only totals), and not modelled under older
/// FFD versions either.
pub fn old_correction(_device: &Device) -> Answer {
    Err(err::UNKNOWN_COMMAND)
}

/// Whether the correction receipt has its mandatory tags (addendum §5): 1173, and 1174 sent
/// whole or built by the KKT from a separate 1178 (the fallback of the vendor's FFD 1.05 path).
fn correction_tags_present(receipt: &OpenReceipt) -> bool {
    let has = |tag| receipt.tlvs.iter().any(|t| t.tag == tag);
    has(TAG_1173) && (has(TAG_1174) || has(TAG_1178))
}

/// FF46 — operation v2 (§7.6.2).
pub fn operation(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    authorize(device, p, Role::Operator)?;
    let operation = p.u8()?;
    let quantity = p.uint(6)?;
    let price = p.uint(5)?;
    let sum = p.uint(5)?;
    let _tax_amount = p.uint(5)?;
    let tax_byte = p.u8()?;
    let department = p.u8()?;
    let payment_method = p.u8()?;
    let payment_subject = p.u8()?;
    let name = cp1251_text(p.rest());
    // The byte is a code, not a row number (addendum §2): one bit per row 1..6, then the
    // 2026 codes of rows 7..12. 0 (meaning unconfirmed on hardware, §2.4 item 6) stays
    // "no VAT" (row 4), as before; anything else is refused with 0x33.
    let tax_group = if tax_byte == 0 {
        Some(4)
    } else {
        tables::tax_row_of_code(device, tax_byte)
    };
    let Some(tax_group) = tax_group else {
        return Err(err::BAD_PARAMS);
    };
    // Tag 1214 is 1..7 (§8.4); tag 1212 is 1..26, FFD 1.2 adds up to 33 (§8.5).
    let known = (1..=7).contains(&payment_method) && (1..=33).contains(&payment_subject);
    if !known || quantity == 0 {
        return Err(err::BAD_PARAMS);
    }
    let computed = line_sum(price, quantity);
    let sum = if sum == COMPUTE {
        computed
    } else if sum.abs_diff(computed) <= 1 {
        sum
    } else {
        return Err(err::BAD_PARAMS);
    };
    let receipt = device.open_receipt_mut(now)?;
    if receipt.operation() != operation {
        return Err(err::WRONG_RECEIPT_TYPE);
    }
    let tlvs = marking::take_bound_for_next(device);
    let receipt = device.open_receipt_mut(now)?;
    receipt.items.push(ReceiptItem {
        name,
        quantity,
        price,
        sum,
        tax_group,
        tax_byte,
        department,
        payment_method,
        payment_subject,
        tlvs,
    });
    Ok(Vec::new())
}

/// FF0C (document TLVs) and FF4D (`to_item`: TLVs of the last operation).
pub fn attach_tlv(device: &mut Device, p: &mut Params<'_>, to_item: bool) -> Answer {
    authorize(device, p, Role::Operator)?;
    let tlvs = parse_tlvs(p.rest())?;
    // Cash core: item tags come before the item's FF46 (addendum §4.8) and wait for it.
    if to_item && device.state.receipt.is_some() && marking::tags_first(device) {
        device.state.marking.next_item_tlvs.extend(tlvs);
        return Ok(Vec::new());
    }
    let refuse_1174 = device.faults.refuse_composite_1174;
    let state = &mut device.state;
    match (&mut state.receipt, to_item) {
        (Some(receipt), true) => receipt
            .items
            .last_mut()
            .ok_or(FN_WRONG_STATE)?
            .tlvs
            .extend(tlvs),
        (Some(receipt), false) => {
            // A tag repeated in one document is refused ("повтор тега", addendum §3.6); the
            // correction's tags are checked so, the others are kept as sent.
            let correction_tags = [TAG_1173, TAG_1174, TAG_1178, TAG_1179];
            let repeated = tlvs.iter().enumerate().any(|(i, t)| {
                correction_tags.contains(&t.tag)
                    && (receipt.tlvs.iter().any(|old| old.tag == t.tag)
                        || tlvs[..i].iter().any(|earlier| earlier.tag == t.tag))
            });
            if repeated {
                return Err(err::BAD_PARAMS);
            }
            if receipt.correction && refuse_1174 && tlvs.iter().any(|t| t.tag == TAG_1174) {
                return Err(err::BAD_PARAMS);
            }
            receipt.tlvs.extend(tlvs)
        }
        (None, false) if state.fiscal_storage.pending_report.is_some() => {
            state.fiscal_storage.pending_tlvs.extend(tlvs);
        }
        (None, _) => return Err(FN_WRONG_STATE),
    }
    Ok(Vec::new())
}

/// Payment and closing data of FF45 / 0x85 / 0x8E.
pub struct Closing {
    /// Payment sums of types 1..16 (1 cash).
    pub payments: [u64; 16],
    /// Rounding discount in kopecks.
    pub rounding: u64,
    /// Receipt discount (negative: surcharge) in kopecks, applied only if the receipt closes.
    pub discount: i64,
    /// Tax system bit.
    pub tax_system: u8,
    /// Text printed at the end.
    pub text: String,
}

/// Checks payments, commits the receipt to the FN, updates registers and prints it.
/// Returns the stored document.
pub fn finish(device: &mut Device, closing: Closing, now: NaiveDateTime) -> Result<FnDocument, u8> {
    let mut receipt = device.open_receipt_mut(now)?.clone();
    receipt.adjustment += closing.discount;
    // A real FN refuses an FFD 1.2 correction lacking its mandatory tags (FN 0xA4, "required
    // TLV tags missing", §5): checked before the printer, like the FN's own checks.
    if receipt.correction && !correction_tags_present(&receipt) {
        return Err(err::FN_TAGS_MISSING);
    }
    device.check_printer(now)?;
    fn_archive::check_ofd_wait(device, now)?;
    let total = receipt.total().saturating_sub(closing.rounding);
    if total == 0 && tables::number(device, 1, 1, 23) == 1 {
        return Err(err::ZERO_TOTAL);
    }
    let paid: u64 = closing.payments.iter().sum();
    let cashless: u64 = closing.payments[1..].iter().sum();
    if paid < total {
        return Err(err::PAYMENT_SHORT);
    }
    if cashless > total {
        return Err(err::CASHLESS_EXCEEDS);
    }
    let change = paid - total;
    let net_cash = closing.payments[0] - change;
    let operation = receipt.operation();
    let drawer = cash_in_drawer(device);
    let drawer = match operation {
        1 | 4 => drawer.saturating_add(net_cash),
        _ => drawer.checked_sub(net_cash).ok_or(err::NOT_ENOUGH_CASH)?,
    };

    let form = if receipt.correction {
        FORM_CORRECTION
    } else {
        FORM_RECEIPT
    };
    let mut doc = fn_archive::blank(form, device.clock(now));
    let state = &device.state;
    doc.operation = operation;
    doc.total = total;
    doc.shift_number = state.shift.number;
    doc.receipt_number_in_shift = state.shift.receipts.saturating_add(1);
    doc.items = receipt.items.clone();
    doc.payments = closing.payments.to_vec();
    doc.change = change;
    doc.tax_system = closing.tax_system;
    doc.tlvs = receipt.tlvs.clone();
    doc.vat = vat_sums(device, &receipt.items);
    let doc = fn_archive::commit(device, doc);

    marking::receipt_ended(device, true);
    let state = &mut device.state;
    state.receipt = None;
    state.shift.receipts = doc.receipt_number_in_shift;
    state.through_number = state.through_number.wrapping_add(1);
    bump(
        device,
        registers::RECEIPT_COUNT_BASE + u16::from(receipt.receipt_type),
    );
    set_money(device, registers::CASH_IN_DRAWER, drawer);
    set_money(device, registers::CASH_AT_LAST_RECEIPT, drawer);

    let taxes: Vec<(String, u64)> = doc.vat.iter().map(|v| (v.name.clone(), v.amount)).collect();
    let lines = tape::receipt(
        &doc,
        &receipt,
        &taxes,
        &closing.text,
        &device.letterhead(receipt.operator),
    );
    device.state.printer.last_document.clone_from(&lines);
    device.print(lines, now);
    Ok(doc)
}

/// What the FN books per VAT rate: each table-6 row with items, its turnover and the tax
/// included in it (turnover for rate 0).
fn vat_sums(device: &Device, items: &[ReceiptItem]) -> Vec<VatSum> {
    (1..=tables::tax_rows(device))
        .filter_map(|group| {
            let turnover: u64 = items
                .iter()
                .filter(|i| i.tax_group == group)
                .map(|i| i.sum)
                .sum();
            if turnover == 0 {
                return None;
            }
            let (rate, name) = tables::tax_group(device, group);
            let amount = if rate == 0 {
                turnover
            } else {
                let num = u128::from(turnover) * u128::from(rate);
                let den = u128::from(10_000 + rate);
                u64::try_from((num + den / 2) / den).unwrap_or(0)
            };
            Some(VatSum {
                row: group,
                rate: u16::try_from(rate).unwrap_or(u16::MAX),
                name,
                turnover,
                amount,
            })
        })
        .collect()
}

/// The receipt's tax system: exactly one registered bit (§8.6); 0 (pyshtrih's default)
/// means the first registered one.
pub fn registered_tax_system(device: &Device, requested: u8) -> Result<u8, u8> {
    let registered = device.state.config.tax_systems;
    if requested == 0 {
        return Ok(1u8.checked_shl(registered.trailing_zeros()).unwrap_or(1));
    }
    if requested.count_ones() == 1 && registered & requested != 0 {
        Ok(requested)
    } else {
        Err(err::BAD_PARAMS)
    }
}

/// FF45 — close receipt v2 (§7.6.4).
pub fn close(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    authorize(device, p, Role::Operator)?;
    let mut payments = [0u64; 16];
    for slot in &mut payments {
        *slot = p.uint(5)?;
    }
    let rounding = p.uint(1)?;
    p.take(30)?; // taxes: the KKT computes them (table 1.14 = 0)
    let tax_system = registered_tax_system(device, p.u8()?)?;
    let text = cp1251_text(p.rest());
    let closing = Closing {
        payments,
        rounding,
        discount: 0,
        tax_system,
        text,
    };
    let doc = finish(device, closing, now)?;
    let mut out = Vec::new();
    put_uint(&mut out, doc.change, 5);
    put_uint(&mut out, u64::from(doc.fd), 4);
    put_uint(&mut out, u64::from(doc.fiscal_sign), 4);
    if tables::number(device, 17, 1, 36) == 1 {
        put_fn_date_time(&mut out, doc.date_time);
    }
    Ok(out)
}

/// 0x88 — cancel the open receipt; no FD is created.
pub fn cancel(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    cancel_open(device, now)?;
    Ok(vec![operator])
}

/// Drops the open receipt (0x88, FF08), counting it as cancelled.
pub fn cancel_open(device: &mut Device, now: NaiveDateTime) -> Result<(), u8> {
    if device.state.receipt.take().is_none() {
        return Err(err::RECEIPT_CLOSED);
    }
    marking::receipt_ended(device, false);
    device.state.through_number = device.state.through_number.wrapping_add(1);
    bump(device, registers::CANCELLED_COUNT);
    if tables::number(device, 17, 1, 15) == 1 && device.check_printer(now).is_ok() {
        device.print(vec![tape::centre("ЧЕК АННУЛИРОВАН")], now);
    }
    Ok(())
}

/// 0x89 — receipt subtotal.
pub fn subtotal(device: &Device, p: &mut Params<'_>) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let receipt = device.state.receipt.as_ref().ok_or(err::RECEIPT_CLOSED)?;
    let mut out = vec![operator];
    put_uint(&mut out, receipt.total(), 5);
    Ok(out)
}
