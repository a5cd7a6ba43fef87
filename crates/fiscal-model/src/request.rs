//! An operation as the queue stores it: what to do, and where the client asked it to go.
//! Its serde form is the canonical payload whose equality decides idempotency conflicts.

use serde::{Deserialize, Serialize};

use crate::{CashMovement, CorrectionReceipt, Receipt, ReceiptCashier};

/// What an operation does.
// Nearly every operation is a receipt: boxing it would only add an allocation to each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationBody {
    /// Fiscalize a receipt.
    Receipt(Receipt),
    /// Cash in or cash out.
    Cash(CashMovement),
    /// Open a shift (the shift-opening report, an FD). A shift already open is not opened
    /// again: the operation answers that shift's facts.
    OpenShift(ShiftRequest),
    /// Close the shift (the Z report, an FD), after everything queued before it.
    CloseShift(ShiftRequest),
    /// Print an X report: shift totals, no FD.
    XReport,
    /// Fiscalize an FFD 1.2 correction receipt.
    Correction(CorrectionReceipt),
    /// Print a non-fiscal copy marked «КОПИЯ» of a document of the FN archive.
    PrintCopy(CopyRequest),
    /// Print non-fiscal text.
    PrintText(TextSlip),
}

impl OperationBody {
    /// Whether doing it makes a fiscal document (an FD in the FN).
    pub fn is_fiscal(&self) -> bool {
        matches!(
            self,
            OperationBody::Receipt(_)
                | OperationBody::Correction(_)
                | OperationBody::OpenShift(_)
                | OperationBody::CloseShift(_)
        )
    }

    /// Whether it needs an open shift (and so opens one on demand where the policy says so).
    pub fn needs_open_shift(&self) -> bool {
        matches!(
            self,
            OperationBody::Receipt(_) | OperationBody::Correction(_) | OperationBody::Cash(_)
        )
    }
}

/// Opening or closing a shift: who the report names (tags 1021/1203); the register's
/// configured cashier when `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftRequest {
    /// The cashier named on the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cashier: Option<ReceiptCashier>,
}

/// A copy of a document: the FN's FD `fd_number`, or the last receipt when `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRequest {
    /// FD number (tag 1040) of the document to copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd_number: Option<u32>,
}

/// Non-fiscal text: each line fits the register's print width and CP1251.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSlip {
    /// The lines, in order.
    pub lines: Vec<String>,
    /// Cut the paper after the last line.
    pub cut: bool,
}

/// The routing fields exactly as the client gave them (empty strings normalised to `None`,
/// GUIDs lower-cased), so that a replay to another cashbox is a conflict, not a duplicate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// `cashboxId`.
    pub cashbox_id: Option<String>,
    /// `cashboxGroupId`.
    pub cashbox_group_id: Option<String>,
    /// `juridicalPersonId`.
    pub juridical_person_id: Option<String>,
}

/// A validated request: the canonical payload of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRequest {
    /// What to do.
    pub body: OperationBody,
    /// Where the client asked it to be done.
    pub routing: Routing,
}
