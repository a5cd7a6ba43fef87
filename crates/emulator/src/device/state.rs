//! The register's non-volatile state: everything that survives a power cut (§10.3, §11) and is
//! written to the state file. It holds no behaviour beyond small derived values; the commands
//! that change it live in the sibling modules.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::DeviceConfig;

/// A TLV attached to a document or an item (§3: tag UInt16, value bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tlv {
    /// FFD tag number (1008 buyer contact, 1021 cashier, 1203 cashier INN…).
    pub tag: u16,
    /// Raw value bytes as received.
    pub value: Vec<u8>,
}

/// One operation (item) of a receipt, as registered by FF46 or the legacy 0x80 family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptItem {
    /// Item name (decoded from CP1251).
    pub name: String,
    /// Quantity in millionths (1 pc = 1 000 000, §7.6.2).
    pub quantity: u64,
    /// Price in kopecks.
    pub price: u64,
    /// Sum of the operation in kopecks.
    pub sum: u64,
    /// Table-6 row the item's tax byte selected (1..12; the FF46 byte is a code, §2 of the
    /// FFD 1.2 addendum, decoded to its row).
    pub tax_group: u8,
    /// The tax byte as it came on the wire (FF46 offset 28; the group number of the legacy
    /// 0x80 family), so tests read back what the host sent.
    #[serde(default)]
    pub tax_byte: u8,
    /// Department byte.
    pub department: u8,
    /// Payment method, tag 1214.
    pub payment_method: u8,
    /// Payment subject, tag 1212.
    pub payment_subject: u8,
    /// Item-level TLVs (FF4D).
    pub tlvs: Vec<Tlv>,
}

/// The receipt currently being formed (mode 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReceipt {
    /// 0x8D receipt type: 0 sale, 1 purchase, 2 sale return, 3 purchase return (§8.1).
    pub receipt_type: u8,
    /// Operator (table 2 row) who opened it.
    pub operator: u8,
    /// Items so far.
    pub items: Vec<ReceiptItem>,
    /// Receipt-level TLVs (FF0C).
    pub tlvs: Vec<Tlv>,
    /// Receipt-level discount (positive) or surcharge (negative) in kopecks (0x86/0x87).
    pub adjustment: i64,
    /// An FFD 1.2 correction receipt (0x8D type `0x80 + receipt_type`, addendum §5): archived
    /// as form 31 and closed only with tags 1173 and 1174.
    #[serde(default)]
    pub correction: bool,
    /// Text lines sent with 0x17 while the receipt is open (§7.4), printed with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<ReceiptLine>,
}

/// A 0x17 line inside an open receipt: printed where it was sent among the items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// How many items the receipt held when the line came: it prints after them.
    pub after_items: usize,
    /// The line.
    pub text: String,
}

impl OpenReceipt {
    /// Running total in kopecks: items minus receipt-level discount.
    pub fn total(&self) -> u64 {
        let items: u64 = self.items.iter().map(|i| i.sum).sum();
        let total = i128::from(items) - i128::from(self.adjustment);
        u64::try_from(total.max(0)).unwrap_or(0)
    }

    /// The FF46/FF0A operation-type code (1 sale, 2 sale return, 3 purchase, 4 purchase
    /// return) for this receipt's 0x8D type (§8.1).
    pub fn operation(&self) -> u8 {
        operation_of_receipt_type(self.receipt_type)
    }
}

/// Maps the 0x8D receipt type to the FF46 operation code (§8.1: three numbering schemes).
pub fn operation_of_receipt_type(receipt_type: u8) -> u8 {
    match receipt_type {
        0 => 1,
        1 => 3,
        2 => 2,
        _ => 4,
    }
}

/// One fiscal document in the FN archive (§7.8 FF0A, §8.2 form codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnDocument {
    /// FD number (tag 1040).
    pub fd: u32,
    /// FFD form code: 1 registration, 2 open shift, 3 receipt, 5 close shift, 31 correction
    /// receipt.
    pub doc_type: u8,
    /// Device clock when the FN committed it.
    pub date_time: NaiveDateTime,
    /// Fiscal sign (FP), never 0.
    pub fiscal_sign: u32,
    /// For receipts: 1 sale, 2 sale return, 3 purchase, 4 purchase return; 0 otherwise.
    pub operation: u8,
    /// For receipts: total in kopecks; 0 otherwise.
    pub total: u64,
    /// Shift number the document belongs to.
    pub shift_number: u16,
    /// For receipts: the receipt's number in the shift; 0 otherwise.
    pub receipt_number_in_shift: u16,
    /// Receipt items.
    pub items: Vec<ReceiptItem>,
    /// Payments by type 1..16 in kopecks (receipts only, otherwise empty).
    pub payments: Vec<u64>,
    /// Change given (receipts).
    pub change: u64,
    /// Tax system bit (receipts) or registered tax systems (registration).
    pub tax_system: u8,
    /// Document-level TLVs.
    pub tlvs: Vec<Tlv>,
    /// Receipts: the sums per VAT rate (table-6 row) the FN booked, in row order.
    #[serde(default)]
    pub vat: Vec<VatSum>,
}

/// One VAT rate's share of a receipt, as the FN books it (tags 1102–1107 and their 2026
/// successors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatSum {
    /// Table-6 row.
    pub row: u8,
    /// The row's rate, 1/100 % (table 6 field 1).
    pub rate: u16,
    /// The row's name (table 6 field 2), e.g. «НДС 22/122».
    pub name: String,
    /// Sum of the items at this rate, kopecks.
    pub turnover: u64,
    /// VAT included in it, kopecks (the turnover itself for rate 0).
    pub amount: u64,
}

/// Shift bookkeeping (§7.5, §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftState {
    /// Whether a shift is open.
    pub open: bool,
    /// Current shift number when open, last closed one otherwise.
    pub number: u16,
    /// Device-clock time the shift was opened (24-hour rule).
    pub opened_at: Option<NaiveDateTime>,
    /// Receipts formed in the current (or last) shift.
    pub receipts: u16,
}

/// Which FN document is being prepared by FF41/FF42 so FF0C can attach TLVs to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingReport {
    /// FF41 began an open-shift report.
    OpenShift,
    /// FF42 began a close-shift report.
    CloseShift,
}

/// The FN: serial, counters and the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnState {
    /// FN serial, 16 ASCII digits.
    pub serial: String,
    /// Every FD, in order.
    pub archive: Vec<FnDocument>,
    /// Highest FD number the OFD has acknowledged.
    pub ofd_acknowledged: u32,
    /// Report begun with FF41/FF42, if any.
    pub pending_report: Option<PendingReport>,
    /// TLVs collected for the pending report.
    pub pending_tlvs: Vec<Tlv>,
}

impl FnState {
    /// Number of the last FD (0 if none).
    pub fn last_fd(&self) -> u32 {
        self.archive.last().map_or(0, |d| d.fd)
    }
}

/// Printer state that survives a power cut: a document interrupted by paper-out waits for 0xB0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PrinterState {
    /// Host-clock time until which the current document is being printed (submode 5).
    pub busy_until: Option<NaiveDateTime>,
    /// Lines of the document being printed (kept so an interruption can be reprinted).
    pub current_job: Vec<String>,
    /// Document interrupted by paper-out or an open cover, reprinted by 0xB0 (§6.5).
    pub interrupted: Option<Vec<String>>,
    /// Last fiscal document printed, for 0x8C "repeat document".
    #[serde(default)]
    pub last_document: Vec<String>,
}

/// A table field value (§7.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldValue {
    /// BIN field, little-endian integer of the field's size.
    Bin(u64),
    /// CHAR field, CP1251 text on the wire.
    Char(String),
}

/// Everything the register keeps across power cycles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    /// Identity and fixed parameters the register was made with.
    pub config: DeviceConfig,
    /// Seconds added to the host clock by 0x21/0x22 (on top of the fault offset).
    pub clock_adjust_secs: i64,
    /// Date written by 0x22 awaiting confirmation by 0x23 (mode 6).
    pub date_to_confirm: Option<NaiveDate>,
    /// Shift.
    pub shift: ShiftState,
    /// Receipt being formed.
    pub receipt: Option<OpenReceipt>,
    /// Fiscal storage.
    pub fiscal_storage: FnState,
    /// KKT "through" document number (§6.2 offset 11, §7.7).
    pub through_number: u16,
    /// Money registers (0x1A), by number.
    pub money_registers: BTreeMap<u16, u64>,
    /// Operation registers (0x1B), by number.
    pub operation_registers: BTreeMap<u16, u16>,
    /// Table values written with 0x1E, keyed "table.row.field"; unset fields read defaults.
    pub tables: BTreeMap<String, FieldValue>,
    /// Printer.
    pub printer: PrinterState,
    /// FN-M marking: codes checked in the receipt being formed, notifications (addendum §4).
    #[serde(default)]
    pub marking: MarkingState,
}

/// One code checked by FF61 (FN B1h) since the last receipt or FF69 clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedCode {
    /// The code as sent (GS1 groups separated by 0x1D).
    pub code: Vec<u8>,
    /// Planned status, tag 2003.
    pub planned_status: u8,
    /// Check result, tag 2106.
    pub result: u8,
    /// Code type, tag 2100.
    pub code_type: u8,
    /// FF69 decision: `None` awaiting, `Some(true)` accepted, `Some(false)` rejected.
    pub accepted: Option<bool>,
}

/// A notification about sold marked goods, waiting for the marking system (addendum §4.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its number.
    pub number: u32,
    /// Its bytes as FF72 hands them out.
    pub bytes: Vec<u8>,
}

/// The FN-M's marking state (addendum §4): check results of the current receipt, a code bound
/// by FF67 before its FF46 (cash-core order), notifications not yet delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MarkingState {
    /// Codes checked by FF61, in order.
    pub checks: Vec<CheckedCode>,
    /// Cash-core order: the product-code tags FF67 built for the next FF46.
    pub bound_for_next: Option<Vec<Tlv>>,
    /// Cash-core order: FF4D tags sent before the next FF46.
    #[serde(default)]
    pub next_item_tlvs: Vec<Tlv>,
    /// Notifications formed by receipts with marked items and not yet delivered, oldest first.
    pub notifications: Vec<Notification>,
    /// FF71–FF73 upload in progress: (index into `notifications`, byte offset) of the next block.
    #[serde(default)]
    pub upload: Option<(usize, usize)>,
    /// Number of the last notification formed.
    pub last_notification: u32,
    /// Codes bound in the receipt being formed.
    pub bound_in_receipt: u8,
}

/// Money register numbers (§7.9).
pub mod registers {
    /// Cash in drawer at the last receipt close.
    pub const CASH_AT_LAST_RECEIPT: u16 = 120;
    /// Cash in drawer.
    pub const CASH_IN_DRAWER: u16 = 241;
    /// Cash-in total in shift.
    pub const CASH_IN_TOTAL: u16 = 242;
    /// Cash-out total in shift.
    pub const CASH_OUT_TOTAL: u16 = 243;
    /// First of the four receipt-count operation registers (144..147, by 0x8D type).
    pub const RECEIPT_COUNT_BASE: u16 = 144;
    /// Through document number operation register.
    pub const THROUGH_NUMBER: u16 = 152;
    /// Cash-in count in shift.
    pub const CASH_IN_COUNT: u16 = 153;
    /// Cash-out count in shift.
    pub const CASH_OUT_COUNT: u16 = 154;
    /// Cancelled documents in shift.
    pub const CANCELLED_COUNT: u16 = 157;
}
