//! An operation as the queue stores it: what to do, and where the client asked it to go.
//! Its serde form is the canonical payload whose equality decides idempotency conflicts.

use serde::{Deserialize, Serialize};

use crate::{CashMovement, Receipt};

/// What an operation does.
// Nearly every operation is a receipt: boxing it would only add an allocation to each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationBody {
    /// Fiscalize a receipt.
    Receipt(Receipt),
    /// Cash in or cash out.
    Cash(CashMovement),
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
