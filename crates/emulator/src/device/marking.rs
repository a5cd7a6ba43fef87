//! Marked goods on an FN-M (FFD 1.2 addendum §4): FF61 check a code, FF69 accept / reject /
//! clear, FF67 bind the code to an item, FF68 notification exchange status, FF70 marking state,
//! FF71–FF73 notification upload (autonomous mode; here whenever the OFD is unreachable, since
//! the notifications are otherwise delivered with the documents).
//!
//! The marking server is a test control ([`MarkingAnswer`] per code in the device faults; a
//! code not configured is valid). Tag 2106 of a server answer: bit0 checked, bit1 positive,
//! bit2 status information received, bit3 planned status correct, bit4 formed autonomously.
//! Model choices where the addendum is silent: FF61 and FF69 decisions need no open receipt; a
//! second FF61 before the FF69 of the first is refused with FN 0x02; FF67 of a code that was not
//! checked runs the check itself ([DOC] FF67 note 1), of a rejected code is refused with FN 0x02.
//! Classic models bind to the last item (FF46 → FF4D → FF67); the cash core (0xFC models 16,
//! 19, 20, 21, 45, 46) takes item tags and the code for the next FF46 (FF4D → FF67 → FF46,
//! §4.8).

use super::access::{authorize, Role};
use super::state::{CheckedCode, Notification, Tlv};
use super::wire::{err, parse_tlvs, put_fn_date_time, put_uint, Params};
use super::{Answer, Device};

/// FN: wrong FN state for this command.
const FN_WRONG_STATE: u8 = 0x02;
/// FN: the check table is full (128 codes per receipt).
const FN_CHECK_TABLE_FULL: u8 = 0xA3;
/// Codes the FN check table holds per receipt (§4.8).
const CHECK_TABLE: usize = 128;
/// Tag 2108 (measure).
const TAG_MEASURE: u16 = 2108;

/// What the marking server answers for a code (a test control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarkingAnswer {
    /// The code exists and its status allows the planned operation.
    #[default]
    Valid,
    /// The code is checked and not valid (or its status forbids the operation).
    Invalid,
    /// No server answer at all (autonomous mode, no connection): FF61's online part is empty
    /// (L = 0) and the result is formed autonomously.
    NoAnswer,
    /// The server does not answer within table 19.8: FF61's online part is the FN answer
    /// code `FF` alone, and the result is formed autonomously.
    Timeout,
}

/// 0xFC models of the cash core and ШТРИХ-MOBILE-Ф (addendum §4.8): tags and FF67 before FF46.
pub fn tags_first(device: &Device) -> bool {
    matches!(device.state.config.model_code, 16 | 19 | 20 | 21 | 45 | 46)
}

/// Tag 2100: a GS1 code ("01" + GTIN + "21" serial …) is FN-checkable (4) when a crypto
/// group (AI 91, 92 or 93) follows a GS, 3 otherwise; anything else 1 (short code). (The
/// addendum's §4.10 example code ends in `GS 93…` and expects a positive FN check.)
fn code_type(code: &[u8]) -> u8 {
    if !code.starts_with(b"01") || code.len() < 18 {
        return 1;
    }
    let has_key = code
        .windows(3)
        .any(|w| w[0] == 0x1D && w[1] == b'9' && matches!(w[2], b'1' | b'2' | b'3'));
    if has_key {
        4
    } else {
        3
    }
}

/// Whether the planned status (tag 2003) fits the open receipt (sale or return), if any.
fn status_fits(device: &Device, planned: u8) -> bool {
    match device.state.receipt.as_ref().map(|r| r.operation()) {
        Some(1) => matches!(planned, 1 | 2 | 5 | 6 | 255),
        Some(2) => matches!(planned, 3 | 4 | 255),
        Some(_) => false,
        None => true,
    }
}

/// Runs the check of `code` against the configured marking server: (2004, reason, 2106,
/// the server's answer).
fn run_check(device: &Device, code: &[u8], planned: u8) -> (u8, u8, u8, MarkingAnswer) {
    let answer = device
        .faults
        .marking_answers
        .get(code)
        .copied()
        .unwrap_or_default();
    let fits = if status_fits(device, planned) {
        0x08
    } else {
        0
    };
    let checkable = code_type(code) == 4;
    // The FN's own check with its key: only for codes carrying AI 91/92.
    let (local, reason) = match (checkable, answer) {
        (true, MarkingAnswer::Invalid) => (0x01, 0),
        (true, _) => (0x03, 0),
        (false, _) => (0x00, 3),
    };
    let result = match answer {
        MarkingAnswer::Valid => 0x07 | fits,
        MarkingAnswer::Invalid => 0x05,
        MarkingAnswer::NoAnswer | MarkingAnswer::Timeout => 0x10 | (local & 0x03),
    };
    (local, reason, result, answer)
}

/// FF61 — check a marking code (§4.2).
pub fn check(device: &mut Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::Operator)?;
    let planned = p.u8()?;
    let mode = p.u8()?;
    let code_len = usize::from(p.u8()?);
    let tlv_len = usize::from(p.u8()?);
    let code = p.take(code_len)?.to_vec();
    let tlvs = parse_tlvs(p.take(tlv_len)?)?;
    if !p.rest().is_empty() || code.is_empty() || mode != 0 {
        return Err(err::BAD_PARAMS);
    }
    if !matches!(planned, 1..=6 | 255) {
        return Err(err::BAD_PARAMS);
    }
    // A measured item (2 sold, 4 returned, 6 in sale) carries its measure.
    if matches!(planned, 2 | 4 | 6) && !tlvs.iter().any(|t| t.tag == TAG_MEASURE) {
        return Err(err::BAD_PARAMS);
    }
    let marking = &device.state.marking;
    if marking.checks.iter().any(|c| c.accepted.is_none()) {
        return Err(FN_WRONG_STATE);
    }
    if marking.checks.len() >= CHECK_TABLE {
        return Err(FN_CHECK_TABLE_FULL);
    }
    let (local, reason, result, answered) = run_check(device, &code, planned);
    let code_type = code_type(&code);
    device.state.marking.checks.push(CheckedCode {
        code,
        planned_status: planned,
        result,
        code_type,
        accepted: None,
    });
    let mut out = vec![local, reason, code_type];
    match answered {
        MarkingAnswer::Valid | MarkingAnswer::Invalid => out.extend([2, 0x00, result]),
        MarkingAnswer::Timeout => out.extend([1, 0xFF]),
        MarkingAnswer::NoAnswer => out.push(0),
    }
    Ok(out)
}

/// FF69 — accept (1), reject (0) the code just checked, or clear the check results (2) (§4.3).
pub fn decide(device: &mut Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::Operator)?;
    let decision = p.u8()?;
    let marking = &mut device.state.marking;
    match decision {
        0 | 1 => {
            let awaiting = marking
                .checks
                .iter_mut()
                .find(|c| c.accepted.is_none())
                .ok_or(FN_WRONG_STATE)?;
            awaiting.accepted = Some(decision == 1);
            Ok(vec![awaiting.result])
        }
        2 => {
            if device.state.receipt.is_none() {
                marking.checks.clear();
            } else {
                marking.checks.retain(|c| c.accepted == Some(true));
            }
            Ok(vec![0])
        }
        _ => Err(err::BAD_PARAMS),
    }
}

/// The product-code tags the KKT builds from a bound code (§4.4): 1163 {1305 GS1.M or 1300},
/// 2000, 2003, 2100, 2106.
fn product_code_tags(check: &CheckedCode) -> Vec<Tlv> {
    let inner_tag: u16 = if check.code_type >= 3 { 1305 } else { 1300 };
    let mut inner = inner_tag.to_le_bytes().to_vec();
    inner.extend(u16::try_from(check.code.len()).unwrap_or(0).to_le_bytes());
    inner.extend_from_slice(&check.code);
    vec![
        Tlv {
            tag: 1163,
            value: inner,
        },
        Tlv {
            tag: 2000,
            value: check.code.clone(),
        },
        Tlv {
            tag: 2003,
            value: vec![check.planned_status],
        },
        Tlv {
            tag: 2100,
            value: vec![check.code_type],
        },
        Tlv {
            tag: 2106,
            value: vec![check.result],
        },
    ]
}

/// FF67 — bind a code to the item (§4.4).
pub fn bind(device: &mut Device, p: &mut Params<'_>, now: chrono::NaiveDateTime) -> Answer {
    authorize(device, p, Role::Operator)?;
    let len = usize::from(p.u8()?);
    let code = p.take(len)?.to_vec();
    match p.rest() {
        [] | [0xFF] => {}
        _ => return Err(err::BAD_PARAMS),
    }
    if code.is_empty() {
        return Err(err::BAD_PARAMS);
    }
    let tags_first = tags_first(device);
    {
        let receipt = device.open_receipt_mut(now)?;
        if !tags_first && receipt.items.is_empty() {
            return Err(FN_WRONG_STATE);
        }
    }
    if tags_first && device.state.marking.bound_for_next.is_some() {
        return Err(FN_WRONG_STATE);
    }
    let position = device
        .state
        .marking
        .checks
        .iter()
        .rposition(|c| c.code == code);
    let (check, ran_check) = match position {
        Some(i) => {
            let c = device.state.marking.checks[i].clone();
            match c.accepted {
                Some(true) => (c, false),
                _ => return Err(FN_WRONG_STATE),
            }
        }
        None => {
            // The KKT runs the check itself; the planned status follows the receipt.
            let planned = match device.state.receipt.as_ref().map(|r| r.operation()) {
                Some(2) => 3,
                _ => 1,
            };
            let (_, _, result, _) = run_check(device, &code, planned);
            let check = CheckedCode {
                code_type: code_type(&code),
                code,
                planned_status: planned,
                result,
                accepted: Some(true),
            };
            (check, true)
        }
    };
    let tags = product_code_tags(&check);
    if tags_first {
        device.state.marking.bound_for_next = Some(tags);
    } else if let Some(item) = device
        .state
        .receipt
        .as_mut()
        .and_then(|r| r.items.last_mut())
    {
        item.tlvs.extend(tags);
    }
    let marking = &mut device.state.marking;
    marking.bound_in_receipt = marking.bound_in_receipt.saturating_add(1);
    let kind: [u8; 2] = if check.code.starts_with(b"01") {
        [0x44, 0x4D]
    } else {
        [0x00, 0x00]
    };
    let mut out = kind.to_vec();
    out.push(if kind == [0x44, 0x4D] { 0 } else { 0xFF });
    if ran_check {
        out.extend([0x00, 0x00, check.code_type, 2, 0x00, check.result]);
    }
    Ok(out)
}

/// Cash-core order: the FF4D tags and the code an FF67 bound before this FF46.
pub fn take_bound_for_next(device: &mut Device) -> Vec<Tlv> {
    let marking = &mut device.state.marking;
    let mut tlvs = std::mem::take(&mut marking.next_item_tlvs);
    tlvs.extend(marking.bound_for_next.take().unwrap_or_default());
    tlvs
}

/// The receipt was closed (`closed`) or cancelled: a receipt with bound codes forms a
/// notification; the check results are dropped.
pub fn receipt_ended(device: &mut Device, closed: bool) {
    // The notification's content here is the model's own: a header, then tag 2000 of each
    // code the receipt sold (the real FN's format is not given by the addendum).
    let codes: Vec<Tlv> = device
        .state
        .receipt
        .iter()
        .flat_map(|r| r.items.iter())
        .flat_map(|i| i.tlvs.iter())
        .filter(|t| t.tag == 2000)
        .cloned()
        .collect();
    let marking = &mut device.state.marking;
    if closed && marking.bound_in_receipt > 0 {
        marking.last_notification = marking.last_notification.wrapping_add(1);
        let mut bytes = b"NOTIFICATION".to_vec();
        bytes.extend(marking.last_notification.to_le_bytes());
        for t in codes {
            bytes.extend(t.tag.to_le_bytes());
            bytes.extend(u16::try_from(t.value.len()).unwrap_or(0).to_le_bytes());
            bytes.extend(t.value);
        }
        marking.notifications.push(Notification {
            number: marking.last_notification,
            bytes,
        });
    }
    marking.checks.clear();
    marking.bound_for_next = None;
    marking.next_item_tlvs.clear();
    marking.bound_in_receipt = 0;
}

/// Notifications are delivered with the documents when the OFD is reachable.
pub fn deliver(device: &mut Device) {
    if !device.faults.ofd_offline {
        device.state.marking.notifications.clear();
        device.state.marking.upload = None;
    }
}

/// Notifications waiting, as the UInt16 fields report them.
fn waiting(device: &Device) -> u16 {
    u16::try_from(device.state.marking.notifications.len()).unwrap_or(u16::MAX)
}

/// FF71 — begin the notification upload (§4.6): count, first number, first size.
pub fn upload_begin(device: &mut Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::Operator)?;
    let count = waiting(device);
    let marking = &mut device.state.marking;
    let first = marking.notifications.first().ok_or(err::FN_NO_DATA)?;
    let mut out = Vec::new();
    put_uint(&mut out, u64::from(count), 2);
    put_uint(&mut out, u64::from(first.number), 4);
    put_uint(&mut out, first.bytes.len() as u64, 2);
    marking.upload = Some((0, 0));
    Ok(out)
}

/// Largest FF72 data block (§4.6).
const UPLOAD_BLOCK: usize = 128;

/// FF72 — the next block of the notifications (§4.6, [DOC] layout): number, full size, offset,
/// data; FN 0x08 once everything was read.
pub fn upload_read(device: &mut Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::Operator)?;
    let marking = &mut device.state.marking;
    let (index, offset) = marking.upload.ok_or(FN_WRONG_STATE)?;
    let n = marking.notifications.get(index).ok_or(err::FN_NO_DATA)?;
    let end = (offset + UPLOAD_BLOCK).min(n.bytes.len());
    let mut out = Vec::new();
    put_uint(&mut out, u64::from(n.number), 4);
    put_uint(&mut out, n.bytes.len() as u64, 2);
    put_uint(&mut out, offset as u64, 2);
    out.extend_from_slice(&n.bytes[offset..end]);
    marking.upload = Some(if end >= n.bytes.len() {
        (index + 1, 0)
    } else {
        (index, end)
    });
    Ok(out)
}

/// CRC-16 with polynomial 0x1021, initial 0, MSB first, no final XOR (XMODEM), as the vendor
/// driver computes a notification's checksum (§4.6).
fn crc16_xmodem(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for b in bytes {
        crc ^= u16::from(*b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// FF73 — confirm a notification by number and checksum (§4.6, [DOC]: CRC in 4 bytes); it
/// leaves the queue. An unknown number is FN 0x08, a wrong checksum 0x33.
pub fn upload_confirm(device: &mut Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::Operator)?;
    let number = u32::try_from(p.uint(4)?).unwrap_or(u32::MAX);
    let crc = p.uint(4)?;
    let marking = &mut device.state.marking;
    let index = marking
        .notifications
        .iter()
        .position(|n| n.number == number)
        .ok_or(err::FN_NO_DATA)?;
    if crc != u64::from(crc16_xmodem(&marking.notifications[index].bytes)) {
        return Err(err::BAD_PARAMS);
    }
    marking.notifications.remove(index);
    marking.upload = None;
    Ok(Vec::new())
}

/// FF68 — notification exchange status (§4.5, LEN 16).
pub fn exchange_status(device: &Device, p: &mut Params<'_>, now: chrono::NaiveDateTime) -> Answer {
    authorize(device, p, Role::Operator)?;
    let count = waiting(device);
    let marking = &device.state.marking;
    let mut out = vec![0];
    put_uint(&mut out, u64::from(count), 2);
    let current = marking.notifications.first().map_or(0, |n| n.number);
    put_uint(&mut out, u64::from(current), 4);
    put_fn_date_time(&mut out, device.clock(now));
    out.push(u8::try_from(count.min(100)).unwrap_or(100));
    Ok(out)
}

/// FF70 — marking state of the FN (§4.5, LEN 11).
pub fn marking_status(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::Operator)?;
    let marking = &device.state.marking;
    let awaiting = marking.checks.iter().any(|c| c.accepted.is_none());
    let full = marking.checks.len() >= CHECK_TABLE;
    let check_state = match (full, awaiting) {
        (true, _) => 0,
        (false, true) => 4,
        (false, false) => 1,
    };
    let allowed = if awaiting { 0x02 } else { 0x01 };
    let accepted = marking
        .checks
        .iter()
        .filter(|c| c.accepted == Some(true))
        .count();
    let count = waiting(device);
    let storage = match count {
        0..=49 => 0,
        50..=79 => 1,
        80..=89 => 2,
        _ => 3,
    };
    let mut out = vec![
        check_state,
        u8::from(marking.bound_in_receipt > 0),
        allowed,
        u8::try_from(accepted).unwrap_or(u8::MAX),
        marking.bound_in_receipt,
        storage,
    ];
    put_uint(&mut out, u64::from(count), 2);
    Ok(out)
}
