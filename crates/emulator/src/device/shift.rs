//! Shift and non-receipt documents: open shift (0xE0, FF41, FF0B), close shift (0x41, FF42,
//! FF43), X report (0x40), cash in/out (0x50/0x51, §7.7), and the plain printing commands
//! (0x12, 0x17, 0x2F lines, 0x25 cut, 0x29 feed, 0xB0 continue printing, §7.4).

use chrono::NaiveDateTime;

use super::access::{authorize, Role};
use super::fn_archive;
use super::money::{self, bump, cash_in_drawer, set_money};
use super::state::{registers, PendingReport, ReceiptLine};
use super::tables;
use super::tape;
use super::wire::{cp1251_text, err, put_fn_date_time, put_uint, Params};
use super::{Answer, Device};

/// 0x17 flag bit 1: the receipt tape (§7.4).
const PRINT_ON_RECEIPT: u8 = 0x02;

/// "No document to repeat" (§5).
const NO_DOCUMENT_TO_REPEAT: u8 = 0x56;

/// FF41 / FF42 — begin forming an open-shift (`opening`) or close-shift report.
pub fn begin_report(
    device: &mut Device,
    p: &mut Params<'_>,
    now: NaiveDateTime,
    opening: bool,
) -> Answer {
    authorize(device, p, Role::Operator)?;
    let mode = device.mode(now);
    let allowed = if opening {
        mode == 4
    } else {
        mode == 2 || mode == 3
    };
    if !allowed {
        return Err(err::WRONG_MODE);
    }
    let storage = &mut device.state.fiscal_storage;
    storage.pending_report = Some(if opening {
        PendingReport::OpenShift
    } else {
        PendingReport::CloseShift
    });
    storage.pending_tlvs.clear();
    Ok(Vec::new())
}

/// 0xE0 (prints, answers the operator) or FF0B (`fn_only`: answers shift, FD, FP).
pub fn open_shift(
    device: &mut Device,
    p: &mut Params<'_>,
    now: NaiveDateTime,
    fn_only: bool,
) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    if device.mode(now) != 4 {
        return Err(err::WRONG_MODE);
    }
    if !fn_only {
        device.check_printer(now)?;
    }
    fn_archive::check_ofd_wait(device, now)?;
    let at = device.clock(now);
    let tlvs = fn_archive::take_pending(device, PendingReport::OpenShift);
    let shift = &mut device.state.shift;
    shift.open = true;
    shift.number = shift.number.wrapping_add(1);
    shift.opened_at = Some(at);
    shift.receipts = 0;
    let mut doc = fn_archive::blank(2, at);
    doc.shift_number = shift.number;
    doc.tlvs = tlvs;
    let doc = fn_archive::commit(device, doc);
    device.state.through_number = device.state.through_number.wrapping_add(1);
    if fn_only {
        let mut out = Vec::new();
        put_uint(&mut out, u64::from(doc.shift_number), 2);
        put_uint(&mut out, u64::from(doc.fd), 4);
        put_uint(&mut out, u64::from(doc.fiscal_sign), 4);
        return Ok(out);
    }
    let lines = tape::shift_report(&doc, &[], &device.letterhead(operator));
    device.print(lines, now);
    Ok(vec![operator])
}

/// Shift totals printed by the X and Z reports.
fn shift_totals(device: &Device) -> Vec<(String, u64)> {
    let sales: u64 = device
        .state
        .fiscal_storage
        .archive
        .iter()
        .filter(|d| d.doc_type == 3 && d.shift_number == device.state.shift.number)
        .map(|d| if d.operation == 1 { d.total } else { 0 })
        .sum();
    let register = |n| money::register(device, n);
    vec![
        ("ПРИХОД".to_owned(), sales),
        ("ВНЕСЕНИЯ".to_owned(), register(registers::CASH_IN_TOTAL)),
        ("ВЫПЛАТЫ".to_owned(), register(registers::CASH_OUT_TOTAL)),
        ("НАЛИЧНЫХ В КАССЕ".to_owned(), cash_in_drawer(device)),
    ]
}

/// 0x41 (prints, answers the operator) or FF43 (`fn_only`: closed shift, FD, FP [, DATE_TIME]).
pub fn close_shift(
    device: &mut Device,
    p: &mut Params<'_>,
    now: NaiveDateTime,
    fn_only: bool,
) -> Answer {
    let role = if fn_only { Role::Operator } else { Role::Admin };
    let operator = authorize(device, p, role)?;
    let mode = device.mode(now);
    if mode != 2 && mode != 3 {
        return Err(err::WRONG_MODE);
    }
    if !fn_only {
        device.check_printer(now)?;
    }
    let totals = shift_totals(device);
    let tlvs = fn_archive::take_pending(device, PendingReport::CloseShift);
    let mut doc = fn_archive::blank(5, device.clock(now));
    doc.shift_number = device.state.shift.number;
    doc.tlvs = tlvs;
    let doc = fn_archive::commit(device, doc);
    let state = &mut device.state;
    state.shift.open = false;
    state.shift.opened_at = None;
    state.through_number = state.through_number.wrapping_add(1);
    for n in [registers::CASH_IN_TOTAL, registers::CASH_OUT_TOTAL] {
        state.money_registers.remove(&n);
    }
    for n in [
        registers::CASH_IN_COUNT,
        registers::CASH_OUT_COUNT,
        registers::CANCELLED_COUNT,
    ]
    .into_iter()
    .chain((0..4).map(|t| registers::RECEIPT_COUNT_BASE + t))
    {
        state.operation_registers.remove(&n);
    }
    if fn_only {
        let mut out = Vec::new();
        put_uint(&mut out, u64::from(doc.shift_number), 2);
        put_uint(&mut out, u64::from(doc.fd), 4);
        put_uint(&mut out, u64::from(doc.fiscal_sign), 4);
        if tables::number(device, 17, 1, 36) == 1 {
            put_fn_date_time(&mut out, doc.date_time);
        }
        return Ok(out);
    }
    let lines = tape::shift_report(&doc, &totals, &device.letterhead(operator));
    device.print(lines, now);
    Ok(vec![operator])
}

/// 0x40 — X report: prints shift totals, no FD.
pub fn x_report(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Admin)?;
    let mode = device.mode(now);
    if mode != 2 && mode != 3 {
        return Err(err::WRONG_MODE);
    }
    device.check_printer(now)?;
    let lines = tape::x_report(
        &shift_totals(device),
        device.state.shift.number,
        device.clock(now),
    );
    device.print(lines, now);
    Ok(vec![operator])
}

/// 0x50 (`cash_in`) / 0x51 — cash in / cash out (§7.7).
pub fn cash(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime, cash_in: bool) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let sum = p.uint(5)?;
    match device.mode(now) {
        2..=4 => {}
        m if m & 0x0F == 8 => return Err(err::RECEIPT_OPEN),
        _ => return Err(err::WRONG_MODE),
    }
    device.check_printer(now)?;
    let drawer = cash_in_drawer(device);
    let drawer = if cash_in {
        drawer.saturating_add(sum)
    } else {
        drawer.checked_sub(sum).ok_or(err::NOT_ENOUGH_CASH)?
    };
    let (count, total) = if cash_in {
        (registers::CASH_IN_COUNT, registers::CASH_IN_TOTAL)
    } else {
        (registers::CASH_OUT_COUNT, registers::CASH_OUT_TOTAL)
    };
    set_money(device, registers::CASH_IN_DRAWER, drawer);
    let shift_total = money::register(device, total);
    set_money(device, total, shift_total.saturating_add(sum));
    bump(device, count);
    let state = &mut device.state;
    state.through_number = state.through_number.wrapping_add(1);
    let number = state.through_number;
    let lines = tape::cash_slip(cash_in, sum, number, device.clock(now));
    device.print(lines, now);
    let mut out = vec![operator];
    put_uint(&mut out, u64::from(number), 2);
    Ok(out)
}

/// 0x8C — prints a copy of the last receipt (0x56 when there is none).
pub fn repeat_document(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let mode = device.mode(now);
    if mode != 2 && mode != 3 {
        return Err(err::WRONG_MODE);
    }
    device.check_printer(now)?;
    if device.state.printer.last_document.is_empty() {
        return Err(NO_DOCUMENT_TO_REPEAT);
    }
    let mut lines = vec![tape::centre("ПОВТОР ДОКУМЕНТА")];
    lines.extend(device.state.printer.last_document.iter().cloned());
    device.print(lines, now);
    Ok(vec![operator])
}

/// 0x12 / 0x17 / 0x2F (with a font) print line, 0x25 cut, 0x29 feed, 0xB0 continue printing.
pub fn printing(device: &mut Device, code: u8, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    if code == 0xB0 {
        if device.submode(now) != 3 {
            return Err(err::WRONG_SUBMODE);
        }
        let job = device.state.printer.interrupted.take().unwrap_or_default();
        device.print(job, now);
        return Ok(vec![operator]);
    }
    device.check_printer(now)?;
    let lines = match code {
        0x25 => {
            if device.state.receipt.is_some() && tables::number(device, 1, 1, 22) == 0 {
                return Err(err::RECEIPT_OPEN);
            }
            vec!["✂ - - - - - - - - - - - - - - - - -".to_owned()]
        }
        0x29 => {
            if device.state.receipt.is_some() {
                return Err(err::RECEIPT_OPEN);
            }
            let _flags = p.u8()?;
            vec![String::new(); usize::from(p.u8()?)]
        }
        0x2F => {
            // §7.4: flags, font, text. The fonts are those 0x26 reports (1 and 2).
            let _flags = p.u8()?;
            if !matches!(p.u8()?, 1 | 2) {
                return Err(err::BAD_PARAMS);
            }
            vec![cp1251_text(p.rest())]
        }
        _ => {
            let flags = p.u8()?;
            let text = cp1251_text(p.rest());
            // §7.4: in an open receipt a receipt-tape line is printed where it was sent —
            // a register printing as it goes prints it between the item lines at once, one
            // printing on close (bit 7, deferred) buffers it there. This model renders the
            // receipt on close, so it keeps the line at its place either way. An empty line is
            // not printed inside an open receipt.
            if let Some(receipt) = device.state.receipt.as_mut() {
                if text.is_empty() {
                    return Ok(vec![operator]);
                }
                if code == 0x17 && flags & PRINT_ON_RECEIPT != 0 {
                    let after_items = receipt.items.len();
                    receipt.text.push(ReceiptLine { after_items, text });
                    return Ok(vec![operator]);
                }
            }
            vec![text]
        }
    };
    device.print(lines, now);
    Ok(vec![operator])
}
