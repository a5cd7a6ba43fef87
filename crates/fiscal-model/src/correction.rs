//! What makes a receipt a correction receipt under FFD 1.2 (tags 1173, 1174 {1178, 1179}).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Receipt;

/// Longest basis document number (tag 1179).
pub const MAX_BASE_NUMBER_CHARS: usize = 32;

/// Why the correction is made (tag 1173).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CorrectionKind {
    /// On the taxpayer's own initiative (1173 = 0).
    SelfInitiated,
    /// By order of the tax authority (1173 = 1).
    ByOrder,
}

impl CorrectionKind {
    /// Tag 1173's value.
    pub fn tag_1173(self) -> u8 {
        match self {
            CorrectionKind::SelfInitiated => 0,
            CorrectionKind::ByOrder => 1,
        }
    }
}

/// The basis of a correction (tag 1174): the date of the corrected settlement (1178) and, for
/// a correction by order, the order's number (1179).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Correction {
    /// Tag 1173.
    pub kind: CorrectionKind,
    /// Tag 1178: the date the corrected settlement was (or should have been) made.
    pub base_date: NaiveDate,
    /// Tag 1179: the tax authority's order number; required for [`CorrectionKind::ByOrder`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_number: Option<String>,
}

/// A correction receipt: a receipt (its type is tag 1054, its items tag 1059 as usual) and
/// why it corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionReceipt {
    /// The settlement as it should have been made.
    pub receipt: Receipt,
    /// Tags 1173 and 1174.
    pub correction: Correction,
}
