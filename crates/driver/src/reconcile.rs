//! Settling an operation whose outcome was lost (§10.2, §10.3): receipts, correction receipts
//! (form 31), cash movements and shift reports. Before the first
//! non-idempotent command the caller records a [`Snapshot`] of the counters that move when a
//! document is made; afterwards [`Register::reconcile`] compares the register with it and
//! says [`Verdict::Done`] (with the document's data read back from the FN archive),
//! [`Verdict::NotDone`] (safe to do again; a receipt left open has been cancelled) or
//! [`Verdict::NeedsOperator`] when the register's state fits neither.
//!
//! It never re-sends the lost command: it only reads, cancels an open receipt, or resumes
//! printing.

use fiscal_model::{
    form, CashMovement, CashMovementKind, CashResult, Completion, FiscalResult, Kopecks,
    ReceiptType,
};
use serde::{Deserialize, Serialize};

use crate::error::RegisterError;
use crate::queries::{
    REG_CASH_IN_COUNT, REG_CASH_IN_TOTAL, REG_CASH_OUT_COUNT, REG_CASH_OUT_TOTAL,
    REG_THROUGH_NUMBER,
};
use crate::register::{Register, ShiftReport};

/// FFD form code of a close-shift report (§8.2).
/// FF01 "document open in the FN" codes of the shift reports (§7.8).
const FN_OPEN_SHIFT_BEGUN: u8 = 0x02;
const FN_CLOSE_SHIFT_BEGUN: u8 = 0x08;

/// The register's counters right before the first non-idempotent command of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// FN: number of the last FD (FF01).
    pub fn_last_fd: u32,
    /// FN: shift open (FF01).
    pub fn_shift_open: bool,
    /// FN: document open code (FF01; 0 none).
    pub fn_document_open: u8,
    /// Full mode byte (0x11).
    pub mode: u8,
    /// KKT through document number (0x11).
    pub through_number: u32,
    /// Operation register 153: cash-ins in the shift.
    pub cash_in_count: u32,
    /// Operation register 154: cash-outs in the shift.
    pub cash_out_count: u32,
    /// Money register 242: cash-in total in the shift, kopecks.
    pub cash_in_total: u64,
    /// Money register 243: cash-out total in the shift, kopecks.
    pub cash_out_total: u64,
    /// The FN the snapshot was read from (empty in snapshots recorded before it was kept).
    #[serde(default)]
    pub fn_number: String,
    /// The register's serial number (table 18.1), likewise.
    #[serde(default)]
    pub kkt_serial: String,
    /// Set by the caller once an outcome is lost: the command whose outcome is unknown (its
    /// name, e.g. "FF46 operation"), so that [`Register::resume_receipt`] knows what was sent
    /// whole before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_command: Option<String>,
}

/// What the lost operation was meant to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Intent {
    /// A receipt of this type and total.
    Receipt {
        /// Receipt type (tag 1054).
        receipt_type: ReceiptType,
        /// Its total.
        total: Kopecks,
    },
    /// A correction receipt (FFD 1.2, form 31) of this type and total.
    Correction {
        /// The corrected settlement's type (tag 1054).
        receipt_type: ReceiptType,
        /// Its total.
        total: Kopecks,
    },
    /// A cash movement.
    Cash(CashMovement),
    /// Opening a shift.
    OpenShift,
    /// Closing the shift (Z report).
    CloseShift,
}

/// How a lost operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// It was done; here is its result, read back from the register.
    Done(Completion),
    /// A shift intent was done (a shift report has no [`Completion`]).
    ShiftDone(ShiftReport),
    /// Nothing fiscal happened (a receipt left open was cancelled): safe to do again.
    NotDone,
    /// The register's state fits neither; a person must look (Russian explanation).
    NeedsOperator(String),
}

impl Snapshot {
    /// This snapshot with `command` recorded as the one whose outcome was lost.
    pub fn lost_at(&self, command: &str) -> Snapshot {
        Snapshot {
            lost_command: Some(command.to_string()),
            ..self.clone()
        }
    }
}

impl Register {
    /// The counters [`Register::reconcile`] compares against (FF01, 0x11, 0x1B ×2, 0x1A ×2).
    pub async fn snapshot(&mut self) -> Result<Snapshot, RegisterError> {
        let fn_status = self.fn_status().await?;
        let clock = self.clock().await?;
        Ok(Snapshot {
            fn_last_fd: fn_status.last_fd,
            fn_shift_open: fn_status.shift_open,
            fn_document_open: fn_status.document_open,
            mode: clock.mode,
            through_number: clock.through_number,
            cash_in_count: self.operation_register(REG_CASH_IN_COUNT).await?,
            cash_out_count: self.operation_register(REG_CASH_OUT_COUNT).await?,
            cash_in_total: self.money_register(REG_CASH_IN_TOTAL).await?,
            cash_out_total: self.money_register(REG_CASH_OUT_TOTAL).await?,
            fn_number: self.identity.fn_number.clone(),
            kkt_serial: self.identity.kkt_serial.clone(),
            lost_command: None,
        })
    }

    /// Settles `intent` against `before` (§10.3): waits for the printer (0xB0 in submode 3),
    /// then compares the FN's last FD and the cash counters with the snapshot.
    pub async fn reconcile(
        &mut self,
        before: &Snapshot,
        intent: &Intent,
    ) -> Result<Verdict, RegisterError> {
        // Counters of another register, or of another FN, prove nothing about this one (two
        // configured paths to one device, a register swapped on the cable, an FN replaced).
        if let Some(why) = self.another_register(before) {
            return Ok(Verdict::NeedsOperator(why));
        }
        // Every command starts with ENQ until NAK (the link drains a retained answer).
        let mut status = self.wait_printed().await?;
        if status.submode == 3 {
            self.continue_printing().await?;
            status = self.status().await?;
        }
        let fn_status = self.fn_status().await?;
        let fd = fn_status.last_fd;
        let receipt_open = status.mode & 0x0F == 8;
        match intent {
            Intent::Receipt {
                receipt_type,
                total,
            }
            | Intent::Correction {
                receipt_type,
                total,
            } => {
                let (form, what) = match intent {
                    Intent::Correction { .. } => (form::CORRECTION, "чеком коррекции"),
                    _ => (form::RECEIPT, "чеком"),
                };
                if fd == before.fn_last_fd.wrapping_add(1) {
                    let doc = self.find_document(fd).await?;
                    let expected = Some((receipt_type.tag_1054(), total.0));
                    if doc.doc_type != form || doc.receipt != expected {
                        return Ok(Verdict::NeedsOperator(format!(
                            "В ФН после снимка появился документ ФД {fd} (тип {}), не совпадающий с {what}.",
                            doc.doc_type
                        )));
                    }
                    let (shift_number, receipt_number) = self.shift_numbers().await?;
                    return Ok(Verdict::Done(Completion::Receipt(FiscalResult {
                        fd_number: doc.fd_number,
                        fiscal_sign: doc.fiscal_sign,
                        receipt_number_in_shift: receipt_number,
                        shift_number,
                        fn_number: self.identity.fn_number.clone(),
                        rnm: self.identity.rnm.clone(),
                        date_time: doc.date_time,
                        not_printed: matches!(status.submode, 1..=3),
                        marking_checks: Vec::new(),
                    })));
                }
                if fd != before.fn_last_fd {
                    return Ok(Verdict::NeedsOperator(format!(
                        "Номер последнего ФД изменился с {} на {fd}: ожидалось не больше одного документа.",
                        before.fn_last_fd
                    )));
                }
                self.nothing_fiscal(receipt_open, fn_status.document_open, None)
                    .await
            }
            Intent::Cash(movement) => self.settle_cash(before, fd, *movement).await,
            Intent::OpenShift | Intent::CloseShift => {
                // FF01 codes of the report FF41/FF42 began (§7.8): ours if the final command
                // never ran.
                let (want_open, want_type, begun) = match intent {
                    Intent::OpenShift => (true, form::OPEN_SHIFT, FN_OPEN_SHIFT_BEGUN),
                    _ => (false, form::CLOSE_SHIFT, FN_CLOSE_SHIFT_BEGUN),
                };
                if fd == before.fn_last_fd.wrapping_add(1) {
                    let doc = self.find_document(fd).await?;
                    if doc.doc_type == want_type && fn_status.shift_open == want_open {
                        let shift_number = match doc.shift_number {
                            Some(n) => n,
                            None => self.shift_numbers().await?.0,
                        };
                        return Ok(Verdict::ShiftDone(ShiftReport {
                            shift_number,
                            fd_number: doc.fd_number,
                            fiscal_sign: doc.fiscal_sign,
                            date_time: doc.date_time,
                        }));
                    }
                    return Ok(Verdict::NeedsOperator(format!(
                        "В ФН после снимка появился документ ФД {fd} (тип {}), не совпадающий с отчётом о смене.",
                        doc.doc_type
                    )));
                }
                if fd != before.fn_last_fd {
                    return Ok(Verdict::NeedsOperator(format!(
                        "Номер последнего ФД изменился с {} на {fd}: ожидалось не больше одного документа.",
                        before.fn_last_fd
                    )));
                }
                self.nothing_fiscal(receipt_open, fn_status.document_open, Some(begun))
                    .await
            }
        }
    }

    /// Why the register answering now is not the one `before` was read from, if it is not.
    fn another_register(&self, before: &Snapshot) -> Option<String> {
        let now = &self.identity;
        if !before.fn_number.is_empty() && before.fn_number != now.fn_number {
            return Some(format!(
                "Снимок сделан с ФН {}, а сейчас отвечает ФН {}: исход операции на прежнем ФН проверить нельзя.",
                before.fn_number, now.fn_number
            ));
        }
        if !before.kkt_serial.is_empty() && before.kkt_serial != now.kkt_serial {
            return Some(format!(
                "Снимок сделан с ККТ № {}, а сейчас отвечает ККТ № {}: исход операции на прежней ККТ проверить нельзя.",
                before.kkt_serial, now.kkt_serial
            ));
        }
        None
    }

    /// FD unchanged: cancel a receipt left open; an FN document open outside mode 8 is a
    /// state only a person can sort out (§10.3 step 6), unless it is the shift report the
    /// lost operation itself began (`ours`), which the redo begins again.
    async fn nothing_fiscal(
        &mut self,
        receipt_open: bool,
        fn_document_open: u8,
        ours: Option<u8>,
    ) -> Result<Verdict, RegisterError> {
        if receipt_open {
            self.cancel_receipt().await?;
            return Ok(Verdict::NotDone);
        }
        if fn_document_open != 0 && Some(fn_document_open) != ours {
            return Ok(Verdict::NeedsOperator(format!(
                "В ФН открыт документ (код {fn_document_open:#04x}), а в ККТ чек не открыт."
            )));
        }
        Ok(Verdict::NotDone)
    }

    /// Cash movements make no FD: the shift counters 153/154 tell (§10.2). They count within a
    /// shift, so they are compared only while the FN's last FD is unchanged: closing or opening
    /// a shift makes an FD, and after one the counters start again and prove nothing.
    async fn settle_cash(
        &mut self,
        before: &Snapshot,
        fd: u32,
        movement: CashMovement,
    ) -> Result<Verdict, RegisterError> {
        if fd != before.fn_last_fd {
            return Ok(Verdict::NeedsOperator(format!(
                "После начала внесения/выплаты в ФН появились документы (последний ФД {} → {fd}): \
                 по счётчикам смены уже нельзя узнать, прошла ли операция. Сверьте кассу по отчёту.",
                before.fn_last_fd
            )));
        }
        let (register, count_before, total_register, total_before) = match movement.kind {
            CashMovementKind::In => (
                REG_CASH_IN_COUNT,
                before.cash_in_count,
                REG_CASH_IN_TOTAL,
                before.cash_in_total,
            ),
            CashMovementKind::Out => (
                REG_CASH_OUT_COUNT,
                before.cash_out_count,
                REG_CASH_OUT_TOTAL,
                before.cash_out_total,
            ),
        };
        let count = self.operation_register(register).await?;
        if count == count_before {
            return Ok(Verdict::NotDone);
        }
        let total = self.money_register(total_register).await?;
        if count != count_before.wrapping_add(1)
            || total != total_before.wrapping_add(movement.amount.0)
        {
            return Ok(Verdict::NeedsOperator(format!(
                "Счётчик внесений/выплат изменился с {count_before} на {count}, сумма с {total_before} на {total} коп.: не совпадает с операцией."
            )));
        }
        let document_number = self.operation_register(REG_THROUGH_NUMBER).await?;
        let clock = self.clock().await?;
        Ok(Verdict::Done(Completion::Cash(CashResult {
            document_number,
            shift_number: clock.shift_number,
            fn_number: self.identity.fn_number.clone(),
            rnm: self.identity.rnm.clone(),
            date_time: clock.now,
        })))
    }
}
