//! Reading a fiscal document back from the FN as TLV (§7.8 FF3A/FF3B; addendum §6): each
//! archived document is encoded as the FFD tags the FN keeps for it, and handed out in blocks.
//!
//! What the tags are built from: the archive entry (FD, time, fiscal sign, shift, receipt
//! number, operation, total, items, payments, tax system, its own recorded TLVs) and the
//! register's identity (FN serial, RNM, INN, user name and address of table 18). Strings are
//! CP866 (addendum §3.6). A cashier (1021) appears when the document recorded one (the host's
//! FF0C); the emulator keeps no operator per archived document.

use chrono::NaiveDateTime;

use super::state::{FieldValue, FnDocument, ReceiptItem, Tlv};
use super::tables;
use super::wire::{err, put_uint, to_cp866, Params};
use super::{Answer, Device};

/// Bytes one FF3B hands out: a block fits a standard frame with room to spare (the FN's own
/// reads are of this order; the emulator's FF72 uses the same size).
pub const BLOCK: usize = 128;

/// A document being read: its TLV bytes and how far FF3B has got. Volatile: a power cycle
/// forgets it, and FF3B then answers as if FF3A never came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRead {
    bytes: Vec<u8>,
    position: usize,
}

/// FF3A — begin reading document `FD` as TLV: its type (form code) and length.
pub fn begin(device: &mut Device, p: &mut Params<'_>) -> Answer {
    if device.faults.document_read_unsupported {
        return Err(err::UNKNOWN_COMMAND);
    }
    let fd = u32::try_from(p.uint(4)?).map_err(|_| err::BAD_PARAMS)?;
    let doc = device
        .state
        .fiscal_storage
        .archive
        .iter()
        .find(|d| d.fd == fd)
        .ok_or(err::FN_NO_DATA)?;
    let bytes = encode_document(device, doc);
    // The FN's 2-byte length: a document it could not describe does not exist for FF3A.
    let length = u16::try_from(bytes.len()).map_err(|_| err::FN_NO_DATA)?;
    let mut out = Vec::new();
    put_uint(&mut out, u64::from(doc.doc_type), 2);
    put_uint(&mut out, u64::from(length), 2);
    device.document_read = Some(DocumentRead { bytes, position: 0 });
    Ok(out)
}

/// FF3B — the next block of the document FF3A began; FN 0x08 once it has all been read, FN
/// 0x02 (wrong state) without an FF3A.
pub fn next_block(device: &mut Device) -> Answer {
    if device.faults.document_read_unsupported {
        return Err(err::UNKNOWN_COMMAND);
    }
    let read = device.document_read.as_mut().ok_or(err::FN_WRONG_STATE)?;
    let rest = read.bytes.get(read.position..).unwrap_or_default();
    if rest.is_empty() {
        return Err(err::FN_NO_DATA);
    }
    let block = rest[..rest.len().min(BLOCK)].to_vec();
    read.position += block.len();
    Ok(block)
}

/// The document's tags, as the FN keeps them (its header tag is FF3A's type, not repeated).
pub fn encode_document(device: &Device, doc: &FnDocument) -> Vec<u8> {
    let config = &device.state.config;
    let mut tags = vec![
        uint(1040, u64::from(doc.fd), 4),
        uint(1012, unix_time(doc.date_time), 4),
        fiscal_sign(doc.fiscal_sign),
        string(1041, device.state.fiscal_storage.serial.trim()),
        string(1037, config.rnm.trim()),
        string(1018, config.inn.trim()),
    ];
    for (tag, field) in [(1048, 7), (1009, 9)] {
        if let FieldValue::Char(text) = tables::value(device, 18, 1, field) {
            if !text.trim().is_empty() {
                tags.push(string(tag, text.trim()));
            }
        }
    }
    match doc.doc_type {
        1 => {
            tags.push(uint(1062, u64::from(doc.tax_system), 1));
            tags.push(uint(1209, u64::from(config.ffd_version), 1));
        }
        2 | 5 => tags.push(uint(1038, u64::from(doc.shift_number), 4)),
        _ => {
            tags.push(uint(1038, u64::from(doc.shift_number), 4));
            tags.push(uint(1042, u64::from(doc.receipt_number_in_shift), 4));
            tags.push(uint(1054, u64::from(doc.operation), 1));
            tags.push(vln(1020, doc.total));
            tags.push(uint(1055, u64::from(doc.tax_system), 1));
            for item in &doc.items {
                tags.push(item_tlv(item));
            }
            let payment = |slot: usize| doc.payments.get(slot).copied().unwrap_or(0);
            let cash = payment(0).saturating_sub(doc.change);
            let electronic: u64 = (1..13).map(payment).sum();
            tags.push(vln(1031, cash));
            tags.push(vln(1081, electronic));
            for (tag, slot) in [(1215, 13), (1216, 14), (1217, 15)] {
                if payment(slot) > 0 {
                    tags.push(vln(tag, payment(slot)));
                }
            }
        }
    }
    tags.extend(doc.tlvs.iter().cloned());
    let mut out = Vec::new();
    for tlv in &tags {
        put_tlv(&mut out, tlv);
    }
    out
}

/// STLV 1059 of one item: name, price, quantity, sum, VAT rate, 1214, 1212, its own tags.
fn item_tlv(item: &ReceiptItem) -> Tlv {
    let mut inner = vec![
        string(1030, &item.name),
        vln(1079, item.price),
        fvln_quantity(1023, item.quantity),
        vln(1043, item.sum),
        uint(1199, u64::from(vat_code(item.tax_group)), 1),
        uint(1214, u64::from(item.payment_method), 1),
        uint(1212, u64::from(item.payment_subject), 1),
    ];
    inner.extend(item.tlvs.iter().cloned());
    let mut value = Vec::new();
    for tlv in &inner {
        put_tlv(&mut value, tlv);
    }
    Tlv { tag: 1059, value }
}

/// FFD tag 1199 of a table-6 row (§8.3: rows 1..6 → 1, 2, 5, 6, 3, 4; rows 7..12 carry
/// their own number, addendum §2.3, UNCONFIRMED).
fn vat_code(row: u8) -> u8 {
    match row {
        1 => 1,
        2 => 2,
        3 => 5,
        4 => 6,
        5 => 3,
        6 => 4,
        other => other,
    }
}

/// Seconds since 1970 of the register's local time, as the FN writes 1012 (no time zone).
fn unix_time(at: NaiveDateTime) -> u64 {
    u64::try_from(at.and_utc().timestamp()).unwrap_or(0)
}

/// Tag 1077, the fiscal sign: 6 bytes, the printed number being the last four big-endian (how
/// the vendor driver reads it: bytes 2..6); the first two are 0 here.
fn fiscal_sign(sign: u32) -> Tlv {
    let mut value = vec![0, 0];
    value.extend_from_slice(&sign.to_be_bytes());
    Tlv { tag: 1077, value }
}

fn uint(tag: u16, value: u64, n: usize) -> Tlv {
    let mut bytes = Vec::new();
    put_uint(&mut bytes, value, n);
    Tlv { tag, value: bytes }
}

/// VLN: the fewest little-endian bytes, 0 as one byte (addendum §3.6).
fn vln(tag: u16, value: u64) -> Tlv {
    let used = (8 - value.leading_zeros() as usize / 8).max(1);
    uint(tag, value, used)
}

/// FVLN of a quantity in millionths: decimals, then the VLN of the scaled value, trailing
/// zeros dropped down to 3 decimals (addendum §3.6: 0.750 → `03 EE 02`).
fn fvln_quantity(tag: u16, millionths: u64) -> Tlv {
    let (mut decimals, mut scaled) = (6u8, millionths);
    while decimals > 3 && scaled % 10 == 0 {
        scaled /= 10;
        decimals -= 1;
    }
    let mut value = vec![decimals];
    value.extend(vln(tag, scaled).value);
    Tlv { tag, value }
}

fn string(tag: u16, text: &str) -> Tlv {
    Tlv {
        tag,
        value: to_cp866(text),
    }
}

fn put_tlv(out: &mut Vec<u8>, tlv: &Tlv) {
    let len = tlv.value.len().min(usize::from(u16::MAX));
    put_uint(out, u64::from(tlv.tag), 2);
    put_uint(out, len as u64, 2);
    out.extend_from_slice(&tlv.value[..len]);
}
