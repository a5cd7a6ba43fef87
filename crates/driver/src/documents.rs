//! The operations that make documents: receipts (§9.3), cash in/out (§7.7), opening and
//! closing a shift and the X report (§7.5).
//!
//! The rule that shapes every one of them: once a command that may have changed the
//! register was sent, a later failure never becomes `Link` (which means "not done, redo it").
//! Before that point a refusal that says why the register cannot work becomes `NotReady`;
//! after it, a lost answer or an unreadable result is `Unknown`, settled by `reconcile`.

use chrono::NaiveDateTime;
use fiscal_model::{
    CashMovement, CashMovementKind, CashResult, FiscalResult, Receipt, TaxGroupMap,
};

use crate::error::{LinkError, NotReadyReason, RegisterError, UnknownOutcome};
use crate::readiness::Readiness;
use crate::register::{
    bad_answer, Cashier, Effect, Register, ShiftReport, T_FISCAL, T_SHIFT, T_STATUS,
};
use crate::wire::{put_uint, Reader};

/// FF46 payment method, tag 1214: 4 = full payment (§8.4).
const PAYMENT_METHOD_FULL: u8 = 4;
/// FF46 payment subject, tag 1212: 1 = goods (§8.5).
const PAYMENT_SUBJECT_GOODS: u8 = 1;
/// FF46 department: 1, as the vendor's examples (§12.4).
const DEPARTMENT: u8 = 1;
/// Longest item name in bytes (FF46 offset 32, §7.6.2).
const MAX_NAME_BYTES: usize = 128;
/// Longest TLV block one FF0C carries in the standard layer (§7.6.3: N ≤ 249).
const MAX_TLV_BYTES: usize = 249;
/// FFD tags used here.
const TAG_BUYER_CONTACT: u16 = 1008;
const TAG_CASHIER_NAME: u16 = 1021;
const TAG_CASHIER_INN: u16 = 1203;

/// Error bytes that mean "the register is not in a state to start a document", with the
/// reason a cashier understands (§5, §9.2). Only used for the first command of an operation:
/// nothing was done, so the operation can wait and be tried again.
fn not_ready_reason(code: u8) -> Option<NotReadyReason> {
    match code {
        0x3D => Some(NotReadyReason::ShiftClosed),
        0x4E | 0x16 => Some(NotReadyReason::ShiftExpired),
        0x4A => Some(NotReadyReason::ReceiptOpen),
        0x6B => Some(NotReadyReason::PaperOut),
        0x58 => Some(NotReadyReason::WaitingContinuePrint),
        0x50 => Some(NotReadyReason::Printing),
        _ => None,
    }
}

/// After a command that changed the register: anything but success is `Unknown`.
fn after_commit(command: &'static str, e: RegisterError) -> RegisterError {
    match e {
        RegisterError::Unknown(u) => RegisterError::Unknown(u),
        other => RegisterError::Unknown(UnknownOutcome {
            command,
            detail: format!("done, but reading its result failed: {other}"),
        }),
    }
}

/// TLVs (§3: tag and length UInt16 LE); strings in CP866 as the FN keeps them (§3, UNCONFIRMED).
fn tlv(out: &mut Vec<u8>, tag: u16, text: &str) {
    let (bytes, _, _) = encoding_rs::IBM866.encode(text);
    let len = bytes.len().min(usize::from(u16::MAX));
    put_uint(out, u64::from(tag), 2);
    put_uint(out, len as u64, 2);
    out.extend_from_slice(&bytes[..len]);
}

fn cashier_tlvs(out: &mut Vec<u8>, cashier: &Cashier) {
    tlv(out, TAG_CASHIER_NAME, &cashier.name);
    if let Some(inn) = cashier.inn.as_deref().filter(|i| !i.is_empty()) {
        tlv(out, TAG_CASHIER_INN, inn);
    }
}

impl Register {
    /// Maps a refusal of an operation's first command to `NotReady` where it names a state;
    /// the status tells which (an open cover and missing paper both refuse with 0x6B).
    async fn first_step(&mut self, e: RegisterError) -> RegisterError {
        let RegisterError::Refused(d) = &e else {
            return e;
        };
        let Some(reason) = not_ready_reason(d.code.0) else {
            return e;
        };
        match self.status().await.map(|s| s.readiness) {
            Ok(Readiness::NotReady(seen)) => RegisterError::NotReady(seen),
            _ => RegisterError::NotReady(reason),
        }
    }

    /// Makes a receipt (§9.3): 8D, FF46 per item, FF0C tags, FF45; then reads the shift and
    /// receipt numbers (FF40) and the date (FF45 extended answer or FF0A), and waits for the
    /// print. `not_printed` is set when the paper ran out after the FN closed the document.
    pub async fn fiscalize(
        &mut self,
        receipt: &Receipt,
        taxes: &TaxGroupMap,
        cashier: Option<&Cashier>,
    ) -> Result<FiscalResult, RegisterError> {
        let operator = self.options.operator_password;
        // Everything that can be refused by us is checked before the first byte is sent.
        let mut items = Vec::with_capacity(receipt.items.len());
        for item in &receipt.items {
            let group = taxes.group(item.vat).ok_or_else(|| {
                RegisterError::NotReady(NotReadyReason::Other(format!(
                    "Нет налоговой группы ККТ для ставки {}.",
                    item.vat.label()
                )))
            })?;
            let sum = item.sum().ok_or_else(|| {
                RegisterError::NotReady(NotReadyReason::Other(
                    "Сумма позиции слишком велика.".into(),
                ))
            })?;
            let mut msg = self.with_password(&[0xFF, 0x46], operator);
            msg.push(receipt.receipt_type.tag_1054());
            put_uint(&mut msg, item.quantity.0, 6);
            put_uint(&mut msg, item.price.0, 5);
            put_uint(&mut msg, sum.0, 5);
            msg.extend_from_slice(&[0xFF; 5]); // tax amount: left to the register (§7.6.2)
            msg.push(group.number());
            msg.push(DEPARTMENT);
            msg.push(PAYMENT_METHOD_FULL);
            msg.push(PAYMENT_SUBJECT_GOODS);
            let (name, _, _) = encoding_rs::WINDOWS_1251.encode(&item.name);
            msg.extend_from_slice(&name[..name.len().min(MAX_NAME_BYTES)]);
            items.push(msg);
        }
        let mut tags = Vec::new();
        if let Some(buyer) = &receipt.buyer {
            tlv(&mut tags, TAG_BUYER_CONTACT, buyer.value());
        }
        if let Some(c) = cashier {
            cashier_tlvs(&mut tags, c);
        }
        tags.truncate(MAX_TLV_BYTES);

        let mut open = self.with_password(&[0x8D], operator);
        open.push(receipt.receipt_type.open_receipt_code());
        if let Err(e) = self
            .command("8D open receipt", open, Effect::Write, T_FISCAL)
            .await
        {
            return Err(self.first_step(e).await);
        }
        for msg in items {
            self.receipt_step("FF46 operation", msg).await?;
        }
        // The standard layer's LRC misses two equal bit flips in one frame (§2.2): before
        // the FN makes the document, the register's own subtotal must equal ours.
        let subtotal = self.subtotal().await?;
        if subtotal != receipt.total.0 {
            if let Err(cancel) = self.cancel_receipt().await {
                tracing::warn!(%cancel, "could not cancel a receipt with a wrong subtotal");
            }
            return Err(RegisterError::Link(LinkError::NotExecuted {
                command: "89 subtotal",
                reason: format!(
                    "the register counted {subtotal} kopecks instead of {}: an item was damaged on the line; receipt cancelled",
                    receipt.total.0
                ),
            }));
        }
        if !tags.is_empty() {
            let mut msg = self.with_password(&[0xFF, 0x0C], self.options.sysadmin_password);
            msg.extend_from_slice(&tags);
            self.receipt_step("FF0C receipt tags", msg).await?;
        }
        let mut close = self.with_password(&[0xFF, 0x45], operator);
        put_uint(&mut close, receipt.cash.0, 5);
        put_uint(&mut close, receipt.cashless.0, 5);
        close.extend_from_slice(&[0; 5 * 14]); // payment types 3..16
        close.push(0); // rounding
        close.extend_from_slice(&[0; 5 * 6]); // taxes: computed by the register (table 1.14 = 0)
        close.push(receipt.taxation.shtrih_bit());
        let answer = self.receipt_step("FF45 close receipt", close).await?;

        const CLOSE: &str = "FF45 close receipt";
        let mut r = Reader::new(&answer, CLOSE);
        let parsed = (|| -> Result<(u32, u32, Option<NaiveDateTime>), String> {
            let _change = r.uint(5, "change")?;
            let fd = r.uint(4, "FD number")? as u32;
            let fp = r.uint(4, "fiscal sign")? as u32;
            let at = if r.remaining() >= 5 {
                r.fn_date_time("date and time")?
            } else {
                None
            };
            Ok((fd, fp, at))
        })();
        let (fd_number, fiscal_sign, at) = parsed.map_err(|detail| {
            RegisterError::Unknown(UnknownOutcome {
                command: CLOSE,
                detail,
            })
        })?;
        let (shift_number, receipt_number) = self
            .shift_numbers()
            .await
            .map_err(|e| after_commit(CLOSE, e))?;
        let date_time = match at {
            Some(at) => at,
            None => {
                self.find_document(fd_number)
                    .await
                    .map_err(|e| after_commit(CLOSE, e))?
                    .date_time
            }
        };
        let status = self
            .wait_printed()
            .await
            .map_err(|e| after_commit(CLOSE, e))?;
        Ok(FiscalResult {
            fd_number,
            fiscal_sign,
            receipt_number_in_shift: receipt_number,
            shift_number,
            fn_number: self.identity.fn_number.clone(),
            rnm: self.identity.rnm.clone(),
            date_time,
            not_printed: matches!(status.submode, 1..=3),
        })
    }

    /// A command inside an open receipt: on a refusal or a proven non-execution the receipt
    /// is cancelled (best effort) so the register is ready again and no FD was made.
    async fn receipt_step(
        &mut self,
        name: &'static str,
        msg: Vec<u8>,
    ) -> Result<Vec<u8>, RegisterError> {
        let effect = if name.starts_with("FF45") {
            Effect::Commit
        } else {
            Effect::Write
        };
        match self.command(name, msg, effect, T_FISCAL).await {
            Ok(data) => Ok(data),
            Err(e @ (RegisterError::Refused(_) | RegisterError::Link(_))) => {
                if let Err(cancel) = self.cancel_receipt().await {
                    tracing::warn!(%cancel, "could not cancel the receipt after {name} failed");
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// 0x89: the open receipt's subtotal in kopecks. A failure inside an open receipt is
    /// handled like any receipt step (the receipt is cancelled where possible).
    async fn subtotal(&mut self) -> Result<u64, RegisterError> {
        const NAME: &str = "89 subtotal";
        let msg = self.with_password(&[0x89], self.options.operator_password);
        let data = match self.command(NAME, msg, Effect::Read, T_STATUS).await {
            Ok(data) => data,
            Err(e) => {
                if let Err(cancel) = self.cancel_receipt().await {
                    tracing::warn!(%cancel, "could not cancel the receipt after {NAME} failed");
                }
                return Err(e);
            }
        };
        let mut r = Reader::new(&data, NAME);
        let _operator = r.byte("operator").map_err(|e| bad_answer(NAME, e))?;
        r.uint(5, "subtotal").map_err(|e| bad_answer(NAME, e))
    }

    /// Cash in (0x50) or cash out (0x51) (§7.7). No FN document: the result carries the
    /// register's own document number.
    pub async fn cash(&mut self, movement: CashMovement) -> Result<CashResult, RegisterError> {
        let (code, name) = match movement.kind {
            CashMovementKind::In => (0x50, "50 cash in"),
            CashMovementKind::Out => (0x51, "51 cash out"),
        };
        let mut msg = self.with_password(&[code], self.options.operator_password);
        put_uint(&mut msg, movement.amount.0, 5);
        let answer = match self.command(name, msg, Effect::Commit, T_FISCAL).await {
            Ok(data) => data,
            Err(e) => return Err(self.first_step(e).await),
        };
        let document_number = Reader::new(&answer, name)
            .bytes(3, "operator and document number")
            .map(|b| u32::from(u16::from_le_bytes([b[1], b[2]])))
            .map_err(|detail| {
                RegisterError::Unknown(UnknownOutcome {
                    command: name,
                    detail,
                })
            })?;
        let clock = self.clock().await.map_err(|e| after_commit(name, e))?;
        self.wait_printed()
            .await
            .map_err(|e| after_commit(name, e))?;
        Ok(CashResult {
            document_number,
            shift_number: clock.shift_number,
            fn_number: self.identity.fn_number.clone(),
            rnm: self.identity.rnm.clone(),
            date_time: clock.now,
        })
    }

    /// Opens a shift (§7.5, §9.2): FF41, FF0C cashier tags, 0xE0; the report's numbers come
    /// from FF01 and FF0A.
    pub async fn open_shift(&mut self, cashier: &Cashier) -> Result<ShiftReport, RegisterError> {
        self.shift_report(
            [0xFF, 0x41],
            cashier,
            "E0 open shift",
            &[0xE0],
            self.options.operator_password,
        )
        .await
    }

    /// Closes the shift with a Z report (§7.5): FF42, FF0C cashier tags, 0x41.
    pub async fn z_report(&mut self, cashier: &Cashier) -> Result<ShiftReport, RegisterError> {
        self.shift_report(
            [0xFF, 0x42],
            cashier,
            "41 Z report",
            &[0x41],
            self.options.admin_password,
        )
        .await
    }

    /// FF41/FF42 begins the report so the cashier's tags can be attached (FF0C), then the
    /// command that makes the FD; its numbers are read back from the FN.
    async fn shift_report(
        &mut self,
        begin: [u8; 2],
        cashier: &Cashier,
        name: &'static str,
        code: &[u8],
        password: u32,
    ) -> Result<ShiftReport, RegisterError> {
        let sysadmin = self.options.sysadmin_password;
        let begin_name = if begin[1] == 0x41 {
            "FF41 begin shift opening"
        } else {
            "FF42 begin shift closing"
        };
        let msg = self.with_password(&begin, sysadmin);
        if let Err(e) = self.command(begin_name, msg, Effect::Write, T_FISCAL).await {
            return Err(self.first_step(e).await);
        }
        let mut tags = self.with_password(&[0xFF, 0x0C], sysadmin);
        cashier_tlvs(&mut tags, cashier);
        self.command("FF0C shift tags", tags, Effect::Write, T_FISCAL)
            .await?;
        let msg = self.with_password(code, password);
        self.command(name, msg, Effect::Commit, T_SHIFT).await?;
        let report = self
            .last_report()
            .await
            .map_err(|e| after_commit(name, e))?;
        self.wait_printed()
            .await
            .map_err(|e| after_commit(name, e))?;
        Ok(report)
    }

    /// Prints an X report (0x40): shift totals, no FD.
    pub async fn x_report(&mut self) -> Result<(), RegisterError> {
        const X: &str = "40 X report";
        let msg = self.with_password(&[0x40], self.options.admin_password);
        if let Err(e) = self.command(X, msg, Effect::Write, T_SHIFT).await {
            return Err(self.first_step(e).await);
        }
        self.wait_printed().await.map_err(|e| after_commit(X, e))?;
        Ok(())
    }

    /// The shift report just made: the FN's last FD, read back from the archive.
    pub(crate) async fn last_report(&mut self) -> Result<ShiftReport, RegisterError> {
        let fd = self.fn_status().await?.last_fd;
        let doc = self.find_document(fd).await?;
        let shift_number = match doc.shift_number {
            Some(n) => n,
            None => self.shift_numbers().await?.0,
        };
        Ok(ShiftReport {
            shift_number,
            fd_number: doc.fd_number,
            fiscal_sign: doc.fiscal_sign,
        })
    }
}
