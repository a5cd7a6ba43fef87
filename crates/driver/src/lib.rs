//! The async Shtrih-M driver: opens the byte stream to a register (serial port, TCP, or any
//! stream), runs the sans-IO link layer of `shtrih-proto` over it in a pump task, and offers
//! [`Register`], the API the rest of the product uses: status, shift, receipts, FFD 1.2
//! correction receipts, cash, reading documents back from the FN and printing their copies,
//! and [`Register::reconcile`], which settles an operation whose outcome was lost (§10).
//!
//! Outcomes are typed ([`RegisterError`]): refused by the register, not executed (the link
//! proved it), or unknown. A command that makes an FN document or moves money (FF45, 0x50,
//! 0x51, 0xE0, 0x41) is never reported as "not executed" once its frame reached the device,
//! even when the link layer counted only refusals: that case is unknown and goes to
//! `reconcile`. Inside a receipt, the register's subtotal (0x89) is compared with the
//! receipt's total before FF45, so an item damaged on the line cannot reach the FN.
//!
//! What it does not do: it keeps no queue and no durable state (the caller records the
//! [`Snapshot`] before a non-idempotent command), it never re-sends a command that may have
//! executed, and it knows nothing of HTTP or JSON.
//!
//! Cancellation: each command handed to the link runs to its end in the pump task even if the
//! caller's future is dropped, so the line is never left mid-exchange. A multi-command
//! operation (`fiscalize`, `open_shift` …) that is dropped half way leaves the register in a
//! state the next `status`/`reconcile` sees (an open receipt, say); callers should not cancel
//! these futures and the root worker does not.

mod attributes;
mod copy;
mod correction;
mod documents;
mod electronic;
mod error;
mod fn_document;
mod options;
mod pump;
mod queries;
mod readiness;
mod reconcile;
mod register;
mod taxes;
mod transport;

pub mod bench;

pub use copy::{render as render_copy, COPY_SEARCH, DEFAULT_PRINT_WIDTH};
pub use documents::RECEIPT_TEXT_FLAGS;
pub use error::{DeviceError, LinkError, NotReadyReason, RegisterError, Rejection, UnknownOutcome};
pub use fn_document::{DocumentItem, DocumentTag, FnDocument};
pub use options::{MarkingPolicy, RegisterOptions};
pub use pump::WireStats;
pub use queries::{ArchiveDocument, DayFacts, FnPhase, FnState, OfdBacklog};
pub use readiness::{readiness, Readiness, RegisterStatus};
pub use reconcile::{Intent, Snapshot, Verdict};
pub use register::{Cashier, Identity, Register, ShiftReport};
pub use shtrih_proto::error::ErrorCode;
pub use taxes::{tax_code, TaxChoice, TaxRow, TaxTable, MODEL_NANO, TABLE6_2026};
pub use transport::{Baud, ByteStream, LinkLayerChoice, Transport, AUTO_BAUD_ORDER};
