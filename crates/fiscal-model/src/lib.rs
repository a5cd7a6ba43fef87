//! Domain types of the fiscal gateway: money, quantities, receipts, GUIDs, the tax and document
//! dictionaries, and what a register returns for a finished document.
//!
//! No I/O lives here, and no wire format: neither JSON field names of the HTTP API nor
//! Shtrih-M byte layouts. Values are valid by construction: a [`Kopecks`] is never
//! fractional, a [`Quantity`] never zero, a [`Receipt`] always balances.

pub mod attributes;
mod correction;
mod dictionaries;
mod guid;
mod money;
mod receipt;
mod request;
mod result;
pub mod text;

pub use attributes::{
    Agent, BuyerDetails, FractionalQuantity, ItemAttributes, MarkingCode, MeasurementUnit,
    PaymentMethod, PaymentObject, ReceiptCashier, Supplier,
};
pub use correction::{Correction, CorrectionKind, CorrectionReceipt, MAX_BASE_NUMBER_CHARS};
pub use dictionaries::{form, ReceiptType, TaxGroup, TaxGroupMap, TaxationSystem, VatRate};
pub use guid::Guid;
pub use money::{Kopecks, Quantity};
pub use receipt::{
    BuyerContact, CashMovement, CashMovementKind, Item, Payments, Receipt, ReceiptParts,
    ReceiptText, MAX_ITEM_NAME_CHARS, MAX_POSITIONS, MAX_TEXT_LINES,
};
pub use request::{CopyRequest, OperationBody, OperationRequest, Routing, ShiftRequest, TextSlip};
pub use result::{CashResult, Completion, CopiedDocument, FiscalResult, PrintResult, ShiftResult};

/// Why a value could not become a domain type. `field` names what was wrong for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A money amount had more than two decimals, was negative or too large.
    #[error("{field}: {reason}")]
    Money { field: String, reason: String },
    /// A quantity was zero, negative, had more than six decimals or was too large.
    #[error("{field}: {reason}")]
    Quantity { field: String, reason: String },
    /// A dictionary code that the dictionary does not hold (or no longer allows).
    #[error("{field}: {reason}")]
    Dictionary { field: String, reason: String },
    /// The receipt as a whole is inconsistent (sums do not add up, no items, …).
    #[error("{field}: {reason}")]
    Receipt { field: String, reason: String },
    /// A GUID not in the 8-4-4-4-12 hex form.
    #[error("{field}: {reason}")]
    Guid { field: String, reason: String },
}

impl ModelError {
    /// The field (JSON-path-like, e.g. `positions[1].price`) the error is about.
    pub fn field(&self) -> &str {
        match self {
            ModelError::Money { field, .. }
            | ModelError::Quantity { field, .. }
            | ModelError::Dictionary { field, .. }
            | ModelError::Receipt { field, .. }
            | ModelError::Guid { field, .. } => field,
        }
    }
}
