//! The driver's outcome types. Three things are kept apart because the rest of the product
//! acts on them differently: the register said no ([`DeviceError`]), the link failed before the
//! command could have run ([`LinkError`]), and nobody knows whether it ran ([`UnknownOutcome`]).
//! A fourth, [`NotReadyReason`], is the register's state when it cannot take a document.

use std::fmt;

use shtrih_proto::error::ErrorCode;

/// Why an operation on the register did not produce its result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The register answered with a non-zero error byte: the command was refused, nothing done.
    #[error("{0}")]
    Refused(DeviceError),
    /// The register cannot take the operation now (cover, paper, shift …); nothing was sent.
    #[error("{}", .0.russian())]
    NotReady(NotReadyReason),
    /// The link failed and the command is proven not executed (§2.7): safe to try again.
    #[error("{0}")]
    Link(LinkError),
    /// The command may have executed: never re-send it, settle with `reconcile` (§10).
    #[error("{0}")]
    Unknown(UnknownOutcome),
    /// The operation cannot be made as asked, and nothing fiscal was made: refused before the
    /// first byte (a value the register cannot hold, a rate it has no group for), or the
    /// register's own count disagreed with ours and the receipt was cancelled. Trying again
    /// unchanged would meet the same answer.
    #[error("{0}")]
    Rejected(Rejection),
}

/// Why an operation was rejected without making a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Stable machine code, e.g. `SUBTOTAL_MISMATCH`.
    pub code: &'static str,
    /// Russian text for the cashier.
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// A refusal by the register: the command, its error byte and the catalogue text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceError {
    /// The command that was refused, e.g. "FF45 close receipt".
    pub command: &'static str,
    /// The register's error byte (§5).
    pub code: ErrorCode,
    /// The catalogue's Russian text for the error, for a cashier.
    pub info: String,
}

impl DeviceError {
    /// A refusal of `command` with `code`.
    pub fn new(command: &'static str, code: ErrorCode) -> DeviceError {
        DeviceError {
            command,
            code,
            info: code.info().russian.to_string(),
        }
    }

    /// `true` when the refusal is a passing state of the register that a person or time ends
    /// (paper, cover, shift, link, still printing), not an answer about the operation (a wrong
    /// mode …): an operation meeting it waits, however often it comes.
    pub fn is_waiting_state(&self) -> bool {
        use shtrih_proto::error::ErrorClass;
        matches!(
            self.code.info().class,
            ErrorClass::Paper
                | ErrorClass::Cover
                | ErrorClass::Shift
                | ErrorClass::Link
                | ErrorClass::Busy
        )
    }

    /// `true` when the refusal comes from a passing state (paper, cover, shift, printing, link)
    /// rather than from the document itself: nothing was fiscalized and the same operation can
    /// succeed later.
    pub fn is_transient(&self) -> bool {
        use shtrih_proto::error::ErrorClass;
        matches!(
            self.code.info().class,
            ErrorClass::Paper
                | ErrorClass::Cover
                | ErrorClass::Shift
                | ErrorClass::Busy
                | ErrorClass::Link
                | ErrorClass::Mode
        )
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: error {:#04x} ({}) {}",
            self.command,
            self.code.0,
            self.code.info().code,
            self.info
        )
    }
}

/// The link failed and the command did not execute (or none was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The device could not be opened or reached at all.
    #[error("device unavailable: {0}")]
    Unavailable(String),
    /// The link layer gave up before the command was accepted (§2.7: proven not executed).
    #[error("{command}: not executed: {reason}")]
    NotExecuted {
        /// The command that was not executed.
        command: &'static str,
        /// What the link layer saw.
        reason: String,
    },
    /// The answer to a read-only command could not be understood.
    #[error("{command}: unreadable answer: {reason}")]
    BadAnswer {
        /// The command whose answer was unreadable.
        command: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The stream to the device failed or closed.
    #[error("i/o: {0}")]
    Io(String),
}

/// A command may have executed but its outcome was lost (answer lost and the device restarted,
/// or the link died after the frame was accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOutcome {
    /// The command whose outcome is unknown.
    pub command: &'static str,
    /// What happened on the link.
    pub detail: String,
}

impl fmt::Display for UnknownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: outcome unknown: {}", self.command, self.detail)
    }
}

/// Why the register is not ready for a document, from its status (§6, §9.2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NotReadyReason {
    /// The printer cover is open (flag bit 10).
    CoverOpen,
    /// No paper (submode 1/2 or optical sensor bit 7 clear).
    PaperOut,
    /// Paper was loaded after running out mid-document; waiting for 0xB0 (submode 3).
    WaitingContinuePrint,
    /// The register is printing (submode 4/5).
    Printing,
    /// The shift is older than 24 hours: only a Z report is possible (mode 3).
    ShiftExpired,
    /// No shift is open (mode 4).
    ShiftClosed,
    /// A receipt is open (mode 8).
    ReceiptOpen,
    /// The register waits for the date to be confirmed (mode 6).
    DateConfirmation,
    /// Another state, described in Russian.
    Other(String),
}

impl NotReadyReason {
    /// Short Russian text for a cashier.
    pub fn russian(&self) -> &str {
        match self {
            NotReadyReason::CoverOpen => "Открыта крышка.",
            NotReadyReason::PaperOut => "Нет бумаги.",
            NotReadyReason::WaitingContinuePrint => {
                "Бумага заправлена, ожидается продолжение печати."
            }
            NotReadyReason::Printing => "ККТ печатает документ.",
            NotReadyReason::ShiftExpired => "Смена превысила 24 часа.",
            NotReadyReason::ShiftClosed => "Смена закрыта.",
            NotReadyReason::ReceiptOpen => "Открыт чек.",
            NotReadyReason::DateConfirmation => "Требуется подтверждение даты.",
            NotReadyReason::Other(text) => text,
        }
    }

    /// Stable machine code shown beside the Russian text.
    pub fn code(&self) -> &'static str {
        match self {
            NotReadyReason::CoverOpen => "COVER_OPEN",
            NotReadyReason::PaperOut => "NO_PAPER",
            NotReadyReason::WaitingContinuePrint => "WAIT_CONTINUE_PRINT",
            NotReadyReason::Printing => "PRINTING",
            NotReadyReason::ShiftExpired => "SHIFT_OVER_24H",
            NotReadyReason::ShiftClosed => "SHIFT_CLOSED",
            NotReadyReason::ReceiptOpen => "RECEIPT_OPEN",
            NotReadyReason::DateConfirmation => "DATE_CONFIRMATION",
            NotReadyReason::Other(_) => "NOT_READY",
        }
    }
}
