//! The one catalogue of what keeps a register from working: every state the worker, `/health`,
//! the status page, the metrics and `selftest` speak of, with its stable code, its Russian
//! text, and whether an operation meeting it waits (until its deadline) or is counted toward
//! `max_repeats`.

use driver::{DeviceError, NotReadyReason};
use queue::Reason;

/// Why a register cannot take an operation now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Opening the port, detecting speed and link layer.
    Connecting,
    /// No link (unplugged, powered off, wrong port); `detail` is the transport's error.
    NoLink { detail: String },
    /// An unknown outcome could not be settled from the register's state: a person must look
    /// at the register, and its queue is held.
    Halted { detail: String },
    /// The register's own status says no: cover, paper, shift, printing, a mode.
    Device { reason: NotReadyReason },
    /// The register refused a command and made nothing.
    Refused { refusal: DeviceError },
}

/// The stable codes of the conditions that are not the device's own.
pub mod code {
    /// [`super::Condition::Connecting`].
    pub const CONNECTING: &str = "CONNECTING";
    /// [`super::Condition::NoLink`].
    pub const NO_LINK: &str = "NO_LINK";
    /// [`super::Condition::Halted`].
    pub const NEEDS_OPERATOR: &str = "NEEDS_OPERATOR";
    /// A non-fiscal print (X report, copy, text) whose outcome was lost: it is not printed
    /// again on a guess.
    pub const PRINT_OUTCOME_UNKNOWN: &str = "PRINT_OUTCOME_UNKNOWN";
}

/// The reason a non-fiscal print whose outcome was lost fails with.
pub fn print_outcome_unknown(detail: &str) -> Reason {
    Reason {
        code: code::PRINT_OUTCOME_UNKNOWN.into(),
        message: format!(
            "Неизвестно, напечатан ли документ: ответ ККТ потерян ({detail}). Он не печатается \
             повторно сам; посмотрите на ленту и при необходимости повторите с новым operationId."
        ),
        device_error: None,
    }
}

impl Condition {
    /// A lost link.
    pub fn no_link(detail: impl Into<String>) -> Condition {
        Condition::NoLink {
            detail: detail.into(),
        }
    }

    /// A register held for a person.
    pub fn halted(detail: impl Into<String>) -> Condition {
        Condition::Halted {
            detail: detail.into(),
        }
    }

    /// Stable machine code (`COVER_OPEN`, `NO_LINK`, `NEEDS_OPERATOR` …), as in checkStatus and
    /// `/health`.
    pub fn code(&self) -> &str {
        match self {
            Condition::Connecting => code::CONNECTING,
            Condition::NoLink { .. } => code::NO_LINK,
            Condition::Halted { .. } => code::NEEDS_OPERATOR,
            Condition::Device { reason } => reason.code(),
            Condition::Refused { refusal } => refusal.code.info().code,
        }
    }

    /// Short Russian text for the cashier, without technical detail.
    pub fn russian(&self) -> String {
        match self {
            Condition::Connecting => "Подключение к ККТ.".into(),
            Condition::NoLink { .. } => "Нет связи с ККТ.".into(),
            Condition::Halted { detail } => format!("ККТ остановлена, нужен оператор: {detail}"),
            Condition::Device { reason } => reason.russian().into(),
            Condition::Refused { refusal } => refusal.code.info().russian.into(),
        }
    }

    /// The Russian text with what the technician needs (the transport's error).
    pub fn described(&self) -> String {
        match self {
            Condition::NoLink { detail } if !detail.is_empty() => {
                format!("Нет связи с ККТ: {detail}")
            }
            other => other.russian(),
        }
    }

    /// A passing state of the register (link, cover, paper, shift, printing, a person): an
    /// operation meeting it waits until its deadline however often it comes. Any other
    /// condition is an answer about the operation, and the same one `max_repeats` times in a
    /// row fails it.
    pub fn waits(&self) -> bool {
        match self {
            Condition::Connecting | Condition::NoLink { .. } | Condition::Halted { .. } => true,
            Condition::Device { reason } => !matches!(
                reason,
                NotReadyReason::ReceiptOpen | NotReadyReason::Other(_)
            ),
            Condition::Refused { refusal } => refusal.is_waiting_state(),
        }
    }

    /// The reason an operation waiting on this condition carries.
    pub fn reason(&self) -> Reason {
        Reason {
            code: self.code().to_string(),
            message: self.russian(),
            device_error: match self {
                Condition::Refused { refusal } => Some(refusal.code.0),
                _ => None,
            },
        }
    }

    /// The cover is open.
    pub fn cover_open(&self) -> bool {
        matches!(
            self,
            Condition::Device {
                reason: NotReadyReason::CoverOpen
            }
        )
    }

    /// The paper ran out.
    pub fn paper_out(&self) -> bool {
        matches!(
            self,
            Condition::Device {
                reason: NotReadyReason::PaperOut
            }
        )
    }
}

impl From<NotReadyReason> for Condition {
    fn from(reason: NotReadyReason) -> Condition {
        Condition::Device { reason }
    }
}

/// The worker's view of its register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterState {
    /// Connected and idle or working.
    Ready,
    /// Cannot work now, and why.
    NotReady { condition: Condition },
}

impl RegisterState {
    /// The condition, unless ready.
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            RegisterState::Ready => None,
            RegisterState::NotReady { condition } => Some(condition),
        }
    }
}

impl From<Condition> for RegisterState {
    fn from(condition: Condition) -> RegisterState {
        RegisterState::NotReady { condition }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driver::ErrorCode;

    fn refused(code: u8) -> Condition {
        Condition::Refused {
            refusal: DeviceError::new("FF46 operation", ErrorCode(code)),
        }
    }

    /// The catalogue, row by row: code, text, and whether an operation meeting it waits.
    #[test]
    fn every_condition_has_its_code_text_and_class() {
        let rows: Vec<(Condition, &str, &str, bool)> = vec![
            (
                Condition::Connecting,
                "CONNECTING",
                "Подключение к ККТ.",
                true,
            ),
            (
                Condition::no_link("EIO"),
                "NO_LINK",
                "Нет связи с ККТ.",
                true,
            ),
            (
                Condition::halted("FD 7?"),
                "NEEDS_OPERATOR",
                "ККТ остановлена, нужен оператор: FD 7?",
                true,
            ),
            (
                NotReadyReason::CoverOpen.into(),
                "COVER_OPEN",
                "Открыта крышка.",
                true,
            ),
            (
                NotReadyReason::PaperOut.into(),
                "NO_PAPER",
                "Нет бумаги.",
                true,
            ),
            (
                NotReadyReason::ShiftExpired.into(),
                "SHIFT_OVER_24H",
                "Смена превысила 24 часа.",
                true,
            ),
            (
                NotReadyReason::ShiftClosed.into(),
                "SHIFT_CLOSED",
                "Смена закрыта.",
                true,
            ),
            (
                NotReadyReason::Printing.into(),
                "PRINTING",
                "ККТ печатает документ.",
                true,
            ),
            (
                NotReadyReason::DateConfirmation.into(),
                "DATE_CONFIRMATION",
                "Требуется подтверждение даты.",
                true,
            ),
            (
                NotReadyReason::ReceiptOpen.into(),
                "RECEIPT_OPEN",
                "Открыт чек.",
                false,
            ),
            (
                NotReadyReason::Other("ККТ в режиме 9.".into()).into(),
                "NOT_READY",
                "ККТ в режиме 9.",
                false,
            ),
            // 0x6B no paper, 0x4E shift over 24 h, 0x50 still printing: passing states.
            (refused(0x6B), "NO_PAPER", "Нет бумаги.", true),
            (
                refused(0x4E),
                "SHIFT_OVER_24H",
                "Смена превысила 24 часа.",
                true,
            ),
            (
                refused(0x50),
                "PRINTING",
                "Идёт печать предыдущей команды.",
                true,
            ),
        ];
        for (condition, code, text, waits) in rows {
            assert_eq!(condition.code(), code, "{condition:?}");
            assert_eq!(condition.reason().code, code, "{condition:?}");
            assert_eq!(condition.russian(), text, "{condition:?}");
            assert_eq!(condition.waits(), waits, "{condition:?}");
        }
        // 0x73 wrong mode: an answer about this command, counted.
        assert!(!refused(0x73).waits());
        assert_eq!(refused(0x6B).reason().device_error, Some(0x6B));
    }

    #[test]
    fn the_technicians_text_carries_the_transport_error() {
        assert_eq!(
            Condition::no_link("No such file").described(),
            "Нет связи с ККТ: No such file"
        );
        assert_eq!(Condition::no_link("").described(), "Нет связи с ККТ.");
        assert!(Condition::from(NotReadyReason::CoverOpen).cover_open());
        assert!(Condition::from(NotReadyReason::PaperOut).paper_out());
    }
}
