//! What a register reports for a finished operation.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The fiscal data of a receipt closed in the FN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalResult {
    /// FD number (tag 1040).
    pub fd_number: u32,
    /// Fiscal sign ФПД (tag 1077), printed in decimal.
    pub fiscal_sign: u32,
    /// Receipt number in the shift (tag 1042).
    pub receipt_number_in_shift: u32,
    /// Shift number (tag 1038).
    pub shift_number: u32,
    /// FN serial number (tag 1041).
    pub fn_number: String,
    /// Register registration number, РНМ (tag 1037).
    pub rnm: String,
    /// Date and time of the document, register local time (the FN keeps minutes).
    pub date_time: NaiveDateTime,
    /// Closed in the FN but not (completely) printed: paper ran out.
    pub not_printed: bool,
    /// Per position, the check result of its marking code (tag 2106: bit0 checked, bit1 valid,
    /// bit2 status received, bit3 planned status correct, bit4 autonomous), `None` for a
    /// position without a code or whose result is not known; empty when no position has a code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marking_checks: Vec<Option<u8>>,
}

/// What a register reports for a cash in / cash out: no FD, only its own document number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashResult {
    /// The register's through document number (0x50/0x51 answer).
    pub document_number: u32,
    /// Shift number the movement belongs to.
    pub shift_number: u32,
    /// FN serial number.
    pub fn_number: String,
    /// Registration number.
    pub rnm: String,
    /// Register local time of the movement.
    pub date_time: NaiveDateTime,
}

/// What a shift opening or Z report made, or the facts of the shift found already in the
/// state asked for (then no document was made and `made` is false).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftResult {
    /// Shift number (tag 1038).
    pub shift_number: u32,
    /// FD number of the report (tag 1040), when known.
    pub fd_number: Option<u32>,
    /// Its fiscal sign (tag 1077), when known.
    pub fiscal_sign: Option<u32>,
    /// FN serial number.
    pub fn_number: String,
    /// Registration number.
    pub rnm: String,
    /// Register local time of the report (or of the opening of the shift found open).
    pub date_time: Option<NaiveDateTime>,
    /// This operation made the report; `false`: the shift already was as asked.
    pub made: bool,
}

/// What a non-fiscal print (X report, copy, text) did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintResult {
    /// For a copy: the FD copied and its fiscal sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied: Option<CopiedDocument>,
    /// Register local time when it was printed.
    pub date_time: Option<NaiveDateTime>,
}

/// The document a copy reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopiedDocument {
    /// FD number (tag 1040).
    pub fd_number: u32,
    /// Fiscal sign (tag 1077).
    pub fiscal_sign: u32,
}

/// A finished operation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Completion {
    /// A receipt (or correction receipt) closed in the FN.
    Receipt(FiscalResult),
    /// A cash movement done by the register.
    Cash(CashResult),
    /// A shift opened or closed.
    Shift(ShiftResult),
    /// A non-fiscal print.
    Printed(PrintResult),
}
