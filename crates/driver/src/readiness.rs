//! The register's state as the rest of the product needs it: the raw mode, submode and flags
//! of 0x10 (§6.1, §6.3–§6.5), and one judgement, [`Readiness`], that says whether a document
//! can be made now and if not, why — in the words of [`NotReadyReason`].
//!
//! Nothing here talks to the device; [`crate::Register::status`] fills these in.

use serde::{Deserialize, Serialize};

use crate::error::NotReadyReason;

/// Flag bit 7: receipt optical sensor sees paper (§6.3).
const FLAG_RECEIPT_PAPER: u16 = 0x0080;
/// Flag bit 9: the receipt thermal-head lever is down (§6.3; clear = lifted).
const FLAG_RECEIPT_LEVER_DOWN: u16 = 0x0200;
/// Flag bit 10: the cover is lifted (§6.3).
const FLAG_COVER_OPEN: u16 = 0x0400;

/// Whether the register can take a document now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Readiness {
    /// Shift open (< 24 h), no document open, paper present, not printing.
    Ready,
    /// Why not.
    NotReady(NotReadyReason),
}

/// The short status (0x10) of the register, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterStatus {
    /// Full mode byte: low nibble the mode, high nibble its status (§6.4).
    pub mode: u8,
    /// Submode (§6.5).
    pub submode: u8,
    /// KKT flags (§6.3).
    pub flags: u16,
    /// Operations in the current receipt.
    pub ops_in_receipt: u16,
    /// The judgement drawn from the three fields above.
    pub readiness: Readiness,
}

impl RegisterStatus {
    /// Decodes the judgement from the raw fields.
    pub fn new(mode: u8, submode: u8, flags: u16, ops_in_receipt: u16) -> RegisterStatus {
        RegisterStatus {
            mode,
            submode,
            flags,
            ops_in_receipt,
            readiness: readiness(mode, submode, flags),
        }
    }

    /// The mode number (low nibble, §6.4).
    pub fn mode_number(&self) -> u8 {
        self.mode & 0x0F
    }

    /// `true` while the device prints (submode 4 or 5).
    pub fn printing(&self) -> bool {
        matches!(self.submode, 4 | 5)
    }

    /// `true` when the cover is open.
    pub fn cover_open(&self) -> bool {
        self.flags & FLAG_COVER_OPEN != 0
    }

    /// `true` when the sensor sees receipt paper and no document waits for it (submodes 1–3).
    pub fn paper_present(&self) -> bool {
        self.flags & FLAG_RECEIPT_PAPER != 0 && !matches!(self.submode, 1..=3)
    }

    /// `true` when the receipt thermal-head lever is down (printing possible).
    pub fn lever_down(&self) -> bool {
        self.flags & FLAG_RECEIPT_LEVER_DOWN != 0
    }
}

/// The §9.2 table, read as "what stops a receipt now". Paper and cover come first: they need
/// a person, while the mode problems can be solved by the host (open or close a shift,
/// cancel a receipt).
pub fn readiness(mode: u8, submode: u8, flags: u16) -> Readiness {
    use NotReadyReason as R;
    let reason = if flags & FLAG_COVER_OPEN != 0 {
        Some(R::CoverOpen)
    } else {
        match submode {
            1 | 2 => Some(R::PaperOut),
            3 => Some(R::WaitingContinuePrint),
            4 | 5 => Some(R::Printing),
            _ if flags & FLAG_RECEIPT_PAPER == 0 => Some(R::PaperOut),
            _ => match mode & 0x0F {
                2 => None,
                3 => Some(R::ShiftExpired),
                4 => Some(R::ShiftClosed),
                8 => Some(R::ReceiptOpen),
                6 => Some(R::DateConfirmation),
                1 => Some(R::Other("ККТ выводит данные.".into())),
                5 => Some(R::Other(
                    "ККТ заблокирована: неверный пароль налогового инспектора.".into(),
                )),
                9 => Some(R::Other("Требуется технологическое обнуление ККТ.".into())),
                10 => Some(R::Other("ККТ выполняет тестовый прогон.".into())),
                11 => Some(R::Other("ККТ печатает фискальный отчёт.".into())),
                m => Some(R::Other(format!("ККТ в режиме {m}."))),
            },
        }
    };
    match reason {
        None => Readiness::Ready,
        Some(r) => Readiness::NotReady(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: u16 = 0x0292;

    #[test]
    fn shift_open_idle_with_paper_is_ready() {
        assert_eq!(readiness(0x02, 0, PAPER), Readiness::Ready);
    }

    #[test]
    fn cover_beats_everything() {
        assert_eq!(
            readiness(0x02, 1, PAPER | FLAG_COVER_OPEN),
            Readiness::NotReady(NotReadyReason::CoverOpen)
        );
    }

    #[test]
    fn submodes_map_to_paper_and_printing() {
        assert_eq!(
            readiness(0x02, 1, PAPER),
            Readiness::NotReady(NotReadyReason::PaperOut)
        );
        assert_eq!(
            readiness(0x02, 2, PAPER),
            Readiness::NotReady(NotReadyReason::PaperOut)
        );
        assert_eq!(
            readiness(0x02, 3, PAPER),
            Readiness::NotReady(NotReadyReason::WaitingContinuePrint)
        );
        assert_eq!(
            readiness(0x02, 5, PAPER),
            Readiness::NotReady(NotReadyReason::Printing)
        );
        assert_eq!(
            readiness(0x02, 0, PAPER & !FLAG_RECEIPT_PAPER),
            Readiness::NotReady(NotReadyReason::PaperOut)
        );
    }

    #[test]
    fn modes_map_to_shift_and_receipt_reasons() {
        assert_eq!(
            readiness(0x03, 0, PAPER),
            Readiness::NotReady(NotReadyReason::ShiftExpired)
        );
        assert_eq!(
            readiness(0x04, 0, PAPER),
            Readiness::NotReady(NotReadyReason::ShiftClosed)
        );
        assert_eq!(
            readiness(0x28, 0, PAPER),
            Readiness::NotReady(NotReadyReason::ReceiptOpen)
        );
        assert_eq!(
            readiness(0x06, 0, PAPER),
            Readiness::NotReady(NotReadyReason::DateConfirmation)
        );
        let other = readiness(0x09, 0, PAPER);
        assert!(matches!(
            other,
            Readiness::NotReady(NotReadyReason::Other(_))
        ));
    }

    #[test]
    fn codes_and_texts_are_stable() {
        assert_eq!(NotReadyReason::CoverOpen.code(), "COVER_OPEN");
        assert_eq!(NotReadyReason::PaperOut.russian(), "Нет бумаги.");
        assert_eq!(
            NotReadyReason::ShiftExpired.russian(),
            "Смена превысила 24 часа."
        );
    }
}
