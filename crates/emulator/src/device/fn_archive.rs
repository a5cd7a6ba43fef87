//! The fiscal storage: committing documents (FD numbers, deterministic fiscal signs), the
//! archive lookup and the FN query commands of §7.8 (FF01, FF02, FF03, FF04, FF09, FF0A,
//! FF39, FF3F, FF40). It does not print; callers print after the commit.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::state::{
    DeviceState, FnDocument, FnState, MarkingState, PendingReport, PrinterState, ShiftState, Tlv,
};
use super::wire::{err, put_ascii_fixed, put_fn_date_time, put_uint, Params};
use super::{Answer, Device, DeviceConfig};

/// FN firmware version reported by FF04.
const FN_VERSION: &str = "fn-emulator 1.2";

/// State of a factory-new register whose FN holds nothing yet.
pub fn fresh_state(config: DeviceConfig) -> DeviceState {
    DeviceState {
        fiscal_storage: FnState {
            serial: config.fn_serial.clone(),
            archive: Vec::new(),
            ofd_acknowledged: 0,
            pending_report: None,
            pending_tlvs: Vec::new(),
        },
        config,
        clock_adjust_secs: 0,
        date_to_confirm: None,
        shift: ShiftState {
            open: false,
            number: 0,
            opened_at: None,
            receipts: 0,
        },
        receipt: None,
        through_number: 0,
        money_registers: BTreeMap::new(),
        operation_registers: BTreeMap::new(),
        tables: BTreeMap::new(),
        printer: PrinterState::default(),
        marking: MarkingState::default(),
    }
}

/// Writes the registration report (FD 1) of a new register.
pub fn register(device: &mut Device) {
    let at = device.state.config.registered_at;
    let tax_system = device.state.config.tax_systems;
    let mut doc = blank(1, at);
    doc.tax_system = tax_system;
    commit(device, doc);
    // A registration long ago has been delivered to the OFD.
    device.state.fiscal_storage.ofd_acknowledged = device.state.fiscal_storage.last_fd();
}

/// A document of `doc_type` at `at`, numbered and signed by [`commit`].
pub fn blank(doc_type: u8, at: NaiveDateTime) -> FnDocument {
    FnDocument {
        fd: 0,
        doc_type,
        date_time: at,
        fiscal_sign: 0,
        operation: 0,
        total: 0,
        shift_number: 0,
        receipt_number_in_shift: 0,
        items: Vec::new(),
        payments: Vec::new(),
        change: 0,
        tax_system: 0,
        tlvs: Vec::new(),
        vat: Vec::new(),
    }
}

/// How long the FN keeps forming documents the OFD has not acknowledged (§5, error 0x15).
const OFD_WAIT_LIMIT_DAYS: i64 = 30;

/// Date of the oldest document the OFD has not acknowledged (or the injected one).
pub fn oldest_unsent(device: &Device) -> Option<NaiveDateTime> {
    device
        .faults
        .ofd_unsent_since
        .or_else(|| unsent(device).next().map(|d| d.date_time))
}

/// Refuses a new receipt or open-shift report once the oldest unsent document is older than
/// 30 days (FN error 0x15); closing a shift stays possible.
pub fn check_ofd_wait(device: &Device, now: NaiveDateTime) -> Result<(), u8> {
    match oldest_unsent(device) {
        Some(oldest) if device.clock(now) - oldest >= Duration::days(OFD_WAIT_LIMIT_DAYS) => {
            Err(err::FN_OFD_WAIT_EXHAUSTED)
        }
        _ => Ok(()),
    }
}

/// Numbers, signs and stores a document; returns the stored copy.
pub fn commit(device: &mut Device, mut doc: FnDocument) -> FnDocument {
    let storage = &mut device.state.fiscal_storage;
    doc.fd = storage.last_fd() + 1;
    doc.fiscal_sign = fiscal_sign(&device.state.config.hmac_key, &doc);
    storage.archive.push(doc.clone());
    if !device.faults.ofd_offline {
        storage.ofd_acknowledged = doc.fd;
    }
    doc
}

/// Deterministic fiscal sign: HMAC-SHA256 of the document, first 32 bits, never 0.
pub fn fiscal_sign(key: &[u8], doc: &FnDocument) -> u32 {
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return 1;
    };
    mac.update(&bytes);
    let digest = mac.finalize().into_bytes();
    let sign = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    sign.max(1)
}

/// Takes the TLVs collected after FF41/FF42 if they belong to `report`.
pub fn take_pending(device: &mut Device, report: PendingReport) -> Vec<Tlv> {
    let storage = &mut device.state.fiscal_storage;
    if storage.pending_report == Some(report) {
        storage.pending_report = None;
        std::mem::take(&mut storage.pending_tlvs)
    } else {
        Vec::new()
    }
}

/// FF01 — FN status (§7.8).
pub fn fn_status(device: &Device, now: NaiveDateTime) -> Answer {
    let state = &device.state;
    let storage = &state.fiscal_storage;
    let (open_doc, has_data) = match (&state.receipt, storage.pending_report) {
        (Some(r), _) => (0x04, u8::from(!r.items.is_empty())),
        (None, Some(PendingReport::OpenShift)) => {
            (0x02, u8::from(!storage.pending_tlvs.is_empty()))
        }
        (None, Some(PendingReport::CloseShift)) => {
            (0x08, u8::from(!storage.pending_tlvs.is_empty()))
        }
        (None, None) => (0x00, 0),
    };
    // Warning bit 3: the OFD has not answered for more than a day (§7.8).
    let ofd_late = oldest_unsent(device).is_some_and(|t| t + Duration::days(1) < device.clock(now));
    let warnings = if ofd_late { 0x08 } else { 0 };
    let mut out = vec![
        0x03,
        open_doc,
        has_data,
        u8::from(state.shift.open),
        warnings,
    ];
    let last_time = storage
        .archive
        .last()
        .map_or(state.config.registered_at, |d| d.date_time);
    put_fn_date_time(&mut out, last_time);
    put_ascii_fixed(&mut out, &storage.serial, 16);
    put_uint(&mut out, u64::from(storage.last_fd()), 4);
    Ok(out)
}

/// FF02 — FN serial.
pub fn fn_serial(device: &Device) -> Answer {
    let mut out = Vec::new();
    put_ascii_fixed(&mut out, &device.state.fiscal_storage.serial, 16);
    Ok(out)
}

/// FF03 — FN expiry date and re-registration counters.
pub fn fn_expiry(device: &Device) -> Answer {
    use chrono::Datelike;
    let d = device.state.config.fn_expiry;
    let year = u8::try_from(d.year().rem_euclid(100)).unwrap_or(0);
    Ok(vec![year, d.month() as u8, d.day() as u8, 11, 1])
}

/// FF04 — FN firmware version.
pub fn fn_version() -> Answer {
    let mut out = Vec::new();
    put_ascii_fixed(&mut out, FN_VERSION, 16);
    out.push(1);
    Ok(out)
}

/// FF09 — last fiscalization, FFD 1.1+ layout (67 bytes).
pub fn last_registration(device: &Device) -> Answer {
    let state = &device.state;
    let doc = state
        .fiscal_storage
        .archive
        .iter()
        .rev()
        .find(|d| d.doc_type == 1)
        .ok_or(err::FN_NO_DATA)?;
    let mut out = Vec::new();
    put_fn_date_time(&mut out, doc.date_time);
    put_ascii_fixed(&mut out, &state.config.inn, 12);
    put_ascii_fixed(&mut out, &state.config.rnm, 20);
    out.push(state.config.tax_systems);
    out.push(0); // work mode: none of the special modes
    out.push(0); // extended work flags
    put_ascii_fixed(&mut out, "7704211201", 12); // OFD INN
    put_uint(&mut out, 0, 4); // reason code: initial registration
    put_uint(&mut out, u64::from(doc.fd), 4);
    put_uint(&mut out, u64::from(doc.fiscal_sign), 4);
    Ok(out)
}

/// FF0A — find a document by FD number (§7.8 layouts).
pub fn find_document(device: &Device, params: &mut Params<'_>) -> Answer {
    let fd = u32::try_from(params.uint(4)?).map_err(|_| err::BAD_PARAMS)?;
    let state = &device.state;
    let storage = &state.fiscal_storage;
    let doc = storage
        .archive
        .iter()
        .find(|d| d.fd == fd)
        .ok_or(err::FN_NO_DATA)?;
    let mut out = vec![doc.doc_type, u8::from(doc.fd <= storage.ofd_acknowledged)];
    put_fn_date_time(&mut out, doc.date_time);
    put_uint(&mut out, u64::from(doc.fd), 4);
    put_uint(&mut out, u64::from(doc.fiscal_sign), 4);
    match doc.doc_type {
        1 => {
            put_ascii_fixed(&mut out, &state.config.inn, 12);
            put_ascii_fixed(&mut out, &state.config.rnm, 20);
            out.push(doc.tax_system);
            out.push(0);
        }
        2 | 5 => put_uint(&mut out, u64::from(doc.shift_number), 2),
        _ => {
            out.push(doc.operation);
            put_uint(&mut out, doc.total, 5);
        }
    }
    Ok(out)
}

fn unsent(device: &Device) -> impl Iterator<Item = &FnDocument> {
    let acknowledged = device.state.fiscal_storage.ofd_acknowledged;
    device
        .state
        .fiscal_storage
        .archive
        .iter()
        .filter(move |d| d.fd > acknowledged)
}

/// FF39 — OFD exchange status.
pub fn ofd_status(device: &Device) -> Answer {
    let count = unsent(device).count();
    let first = unsent(device).next();
    let forced = device.faults.ofd_unsent_since;
    let count = if forced.is_some() {
        count.max(1)
    } else {
        count
    };
    let mut status = 0u8;
    if !device.faults.ofd_offline {
        status |= 0x01;
    }
    if count > 0 {
        status |= 0x02;
    }
    let mut out = vec![status, 0];
    put_uint(&mut out, u64::try_from(count).unwrap_or(0).min(0xFFFF), 2);
    let first_fd = first.map_or_else(|| device.state.fiscal_storage.last_fd(), |d| d.fd);
    put_uint(&mut out, if count > 0 { u64::from(first_fd) } else { 0 }, 4);
    match oldest_unsent(device) {
        Some(t) => put_fn_date_time(&mut out, t),
        None => out.extend_from_slice(&[0; 5]),
    }
    Ok(out)
}

/// FF3F — count of documents not yet sent to the OFD (2 bytes, §7.8).
pub fn unsent_count(device: &Device) -> Answer {
    let mut out = Vec::new();
    put_uint(
        &mut out,
        u64::try_from(unsent(device).count()).unwrap_or(0),
        2,
    );
    Ok(out)
}

/// FF40 — current shift parameters.
pub fn shift_parameters(device: &Device) -> Answer {
    let shift = &device.state.shift;
    let mut out = vec![u8::from(shift.open)];
    put_uint(&mut out, u64::from(shift.number), 2);
    put_uint(&mut out, u64::from(shift.receipts), 2);
    Ok(out)
}

/// Marks everything sent when the OFD is reachable again.
pub fn deliver_to_ofd(device: &mut Device) {
    if !device.faults.ofd_offline {
        let last = device.state.fiscal_storage.last_fd();
        device.state.fiscal_storage.ofd_acknowledged = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_sign_is_deterministic_keyed_and_never_zero() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap_or_default();
        let mut doc = blank(3, at);
        doc.fd = 7;
        doc.total = 21000;
        let a = fiscal_sign(b"key", &doc);
        assert_eq!(a, fiscal_sign(b"key", &doc));
        assert_ne!(a, fiscal_sign(b"other key", &doc));
        doc.total += 1;
        assert_ne!(a, fiscal_sign(b"key", &doc));
        assert_ne!(a, 0);
    }
}
