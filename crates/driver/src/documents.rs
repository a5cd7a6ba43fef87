//! The operations that make documents: receipts (§9.3), cash in/out (§7.7), opening and
//! closing a shift and the X report (§7.5).
//!
//! The rule that shapes every one of them: once a command that may have changed the
//! register was sent, a later failure never becomes `Link` (which means "not done, redo it").
//! Before that point a refusal that says why the register cannot work becomes `NotReady`;
//! after it, a lost answer or an unreadable result is `Unknown`, settled by `reconcile`.

use fiscal_model::{
    CashMovement, CashMovementKind, CashResult, FiscalResult, Receipt, TaxGroupMap,
};
use shtrih_proto::command::print::PRINT_ON_RECEIPT;
use shtrih_proto::command::CheckType as ReceiptType;
use shtrih_proto::command::{
    AttachItemTlv, AttachTlv, BeginShiftClosing, BeginShiftOpening, BindMarkingCode, CashIn,
    CashOut, CheckMarkingCode, CloseReceiptV2, Command, Cut, CutKind, DecideMarkingCode,
    MarkingCheckAnswer, MarkingDecision, OpenReceipt, OpenShift, OperationKind, OperationV2,
    PlannedStatus, PrintLine, Subtotal, XReport, ZReport,
};
use shtrih_proto::tlv::Tlv;

use crate::attributes;
use crate::error::{NotReadyReason, RegisterError, Rejection, UnknownOutcome};
use crate::options::MarkingPolicy;
use crate::readiness::Readiness;
use crate::reconcile::Snapshot;
use crate::register::{naive, Cashier, Register, ShiftReport};

/// Tag 1023, quantity (FVLN in FF61 for a measured marked item).
const TAG_QUANTITY: u16 = 1023;

/// FF46 department: 1, as the vendor's examples (§12.4).
const DEPARTMENT: u8 = 1;

/// 0x17 flags of a receipt's text lines (§7.4): bit 1, the receipt tape — what the vendor's
/// driver sends for a message inside a receipt (station 0x02; it adds bit 7, "footer", only
/// for lines after the total and only with its `footerFlagEnabled` option, off by default).
pub const RECEIPT_TEXT_FLAGS: u8 = PRINT_ON_RECEIPT;

/// What is sent for an empty text line inside a receipt: a register does not print an empty
/// line there (§7.4), and a blank separator the shop asked for is kept as a single space.
const BLANK_LINE: &str = " ";

/// A receipt's commands, built and checked before the first byte is sent.
pub(crate) struct Prepared {
    /// 0x17 header lines, right after 0x8D.
    header: Vec<PrintLine>,
    /// Each item's 0x17 note lines, right after its commands.
    notes: Vec<Vec<PrintLine>>,
    /// 0x17 footer lines, right before FF45.
    footer: Vec<PrintLine>,
    items: Vec<OperationV2>,
    /// Each item's sum, kopecks, in order.
    sums: Vec<u64>,
    /// Each item's FF4D commands (its tags, addendum §3), sent right after its FF46.
    item_tags: Vec<Vec<AttachItemTlv>>,
    /// Each marked item's FF61 check and FF67 bind (addendum §4.10 A), `None` for others.
    marks: Vec<Option<PreparedMark>>,
    /// The receipt's FF0C commands, each fitting one frame.
    tags: Vec<AttachTlv>,
    close: CloseReceiptV2,
    total: u64,
}

/// 0xFC models of the cash core and ШТРИХ-MOBILE-Ф, which take an item's FF4D tags and FF67
/// before its FF46 (addendum §4.8, the vendor driver's `getCapOperationTagsFirst`).
fn tags_first(model: u8) -> bool {
    matches!(model, 16 | 19 | 20 | 21 | 45 | 46)
}

/// A marked item's commands (addendum §4.10 A): FF61 before its FF46, FF67 after its tags.
struct PreparedMark {
    check: CheckMarkingCode,
    bind: BindMarkingCode,
    /// "Позиция 2 («Молоко»)", for the cashier.
    position: String,
}

/// Why a check answer refuses the code, if it does (the default policy: an invalid code fails
/// the receipt). The server's 2106 decides by the vendor's rule (§4.2); without a server
/// answer (autonomous, or the server silent) only the FN's own negative check refuses.
fn marking_refusal(answer: &MarkingCheckAnswer) -> Option<String> {
    match answer.result() {
        Some(result) if result.rejected() => Some(format!(
            "код маркировки не прошёл проверку (тег 2106 = 0x{:02X})",
            result.0
        )),
        Some(_) => None,
        None if answer.local_status & 0x03 == 0x01 => {
            Some("ФН проверил код маркировки с отрицательным результатом (тег 2004)".into())
        }
        None => None,
    }
}

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
pub(crate) fn after_commit(command: &'static str, e: RegisterError) -> RegisterError {
    match e {
        RegisterError::Unknown(u) => RegisterError::Unknown(u),
        other => RegisterError::Unknown(UnknownOutcome {
            command,
            detail: format!("done, but reading its result failed: {other}"),
        }),
    }
}

/// A value the register cannot hold, refused before anything is sent.
pub(crate) fn out_of_range(e: shtrih_proto::command::OutOfRange) -> RegisterError {
    RegisterError::Rejected(Rejection {
        code: "AMOUNT_TOO_LARGE",
        message: format!(
            "Значение {} ({}) больше, чем может принять ККТ ({}).",
            e.field, e.value, e.max
        ),
    })
}

/// Tags 1021 and 1203 (§7.6.3).
fn cashier_tlvs(cashier: &Cashier) -> Vec<Tlv> {
    let mut tlvs = vec![Tlv::cashier_name(&cashier.name)];
    if let Some(inn) = cashier.inn.as_deref().filter(|i| !i.is_empty()) {
        tlvs.push(Tlv::cashier_inn(inn));
    }
    tlvs
}

/// The 0x8D receipt type of a receipt (§8.1).
pub(crate) fn open_type(receipt: &Receipt) -> ReceiptType {
    match receipt.receipt_type {
        fiscal_model::ReceiptType::Sale => ReceiptType::Sale,
        fiscal_model::ReceiptType::SaleReturn => ReceiptType::SaleReturn,
        fiscal_model::ReceiptType::Purchase => ReceiptType::Purchase,
        fiscal_model::ReceiptType::PurchaseReturn => ReceiptType::PurchaseReturn,
    }
}

impl Register {
    /// Maps a refusal of an operation's first command to `NotReady` where it names a state;
    /// the status tells which (an open cover and missing paper both refuse with 0x6B).
    pub(crate) async fn first_step(&mut self, e: RegisterError) -> RegisterError {
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

    /// Makes a receipt (§9.3): 8D, the header's 0x17 lines, FF46 per item (a marked item's
    /// FF61 check and FF69 accept before it, its FF67 bind after its FF4D tags: the classic
    /// order of the FFD 1.2 addendum §4.10 A; a code the check refuses fails the receipt,
    /// cancelled, naming the position) and the item's 0x17 notes after its commands, 0x89
    /// subtotal check, FF0C tags, the footer's 0x17 lines, FF45;
    /// then reads the shift and receipt numbers (FF40) and the date (FF45 extended answer or
    /// FF0A), and waits for the print. `not_printed` is set when the paper ran out after the
    /// FN closed the document.
    pub async fn fiscalize(
        &mut self,
        receipt: &Receipt,
        taxes: &TaxGroupMap,
        cashier: Option<&Cashier>,
    ) -> Result<FiscalResult, RegisterError> {
        let prepared = self.prepare(receipt, taxes, cashier)?;
        // printReceipt false: an electronic-only receipt (table 17.7, see electronic.rs).
        if let Err(e) = self.print_next_document(receipt.print).await {
            return Err(self.first_step(e).await);
        }
        let open = OpenReceipt {
            password: self.operator(),
            receipt_type: open_type(receipt),
        };
        if let Err(e) = self.run(&open).await {
            self.disarm_print_skip().await;
            return Err(self.first_step(e).await);
        }
        // An electronic receipt leaves the setting armed: that the register clears it after the
        // document is the vendor driver's reading ("once"), not confirmed on hardware, so the
        // next printed document clears it first.
        self.finish_receipt(&prepared, 0, true).await
    }

    /// Finishes a receipt whose last command's outcome was lost, when the register shows it
    /// still open with exactly the items that landed (§10.3 step 4), instead of cancelling it
    /// and making it again: mode 8 of the right type, the FN's last FD as in `before`, the
    /// operations count and the register's subtotal equal to the first items sent. The items
    /// that did not land, the tags (unless they may already be there) and the close follow.
    /// `Ok(None)` when the register's state does not prove where the receipt stands; the
    /// caller then settles it with [`Register::reconcile`], which cancels it.
    pub async fn resume_receipt(
        &mut self,
        before: &Snapshot,
        receipt: &Receipt,
        taxes: &TaxGroupMap,
        cashier: Option<&Cashier>,
    ) -> Result<Option<FiscalResult>, RegisterError> {
        // A marked item's check and bind cannot be told from the register's counters (a code
        // checked, accepted or bound twice): such a receipt is cancelled and made again.
        if receipt
            .items
            .iter()
            .any(|i| i.attributes.marking_code.is_some())
        {
            return Ok(None);
        }
        let lost = before.lost_command.as_deref().unwrap_or_default();
        // Which commands were sent whole before the lost one.
        let tags_pending = if lost.starts_with("8D") || lost.starts_with("FF46") {
            true
        } else if lost.starts_with("FF45") {
            false
        } else {
            // FF0C: the tags may or may not be there, and a second set cannot be told apart
            // (§10.2): the receipt is cancelled and made again. So too after a lost 0x17 text
            // line: its place among the items is not in the register's counters.
            return Ok(None);
        };
        let Ok(prepared) = self.prepare(receipt, taxes, cashier) else {
            return Ok(None);
        };
        // An item's FF4D tags follow its FF46: after a lost FF46 the register's operation
        // count does not tell whether the last landed item still lacks them (a second copy
        // of a tag is refused, a missing one is a wrong document): cancelled and made again.
        if lost.starts_with("FF46") && prepared.item_tags.iter().any(|t| !t.is_empty()) {
            return Ok(None);
        }
        // The same for an item's notes, and the header printed after 0x8D: whether they are
        // still due cannot be told, so the receipt is cancelled and made again.
        if lost.starts_with("FF46")
            && (!prepared.header.is_empty() || prepared.notes.iter().any(|n| !n.is_empty()))
        {
            return Ok(None);
        }
        let status = self.wait_printed().await?;
        if status.mode & 0x0F != 8 || status.mode >> 4 != open_type(receipt).to_byte() {
            return Ok(None);
        }
        if self.fn_status().await?.last_fd != before.fn_last_fd {
            return Ok(None);
        }
        let landed = usize::from(status.ops_in_receipt);
        if landed > prepared.items.len() || (!tags_pending && landed != prepared.items.len()) {
            return Ok(None);
        }
        let expected = prepared.sums[..landed].iter().sum::<u64>();
        let subtotal = self
            .run(&Subtotal {
                password: self.operator(),
            })
            .await?
            .subtotal;
        if subtotal != expected {
            return Ok(None);
        }
        tracing::info!(
            landed,
            items = prepared.items.len(),
            lost,
            "finishing a receipt left open"
        );
        self.finish_receipt(&prepared, landed, tags_pending)
            .await
            .map(Some)
    }

    /// Everything a receipt sends, checked before the first byte: a rate without a tax group
    /// or a value the register cannot hold is refused here, with nothing sent.
    pub(crate) fn prepare(
        &self,
        receipt: &Receipt,
        taxes: &TaxGroupMap,
        cashier: Option<&Cashier>,
    ) -> Result<Prepared, RegisterError> {
        let password = self.operator();
        let kind: OperationKind = open_type(receipt).operation_kind();
        let mut items = Vec::with_capacity(receipt.items.len());
        let mut sums = Vec::with_capacity(receipt.items.len());
        let mut item_tags = Vec::with_capacity(receipt.items.len());
        let mut marks = Vec::with_capacity(receipt.items.len());
        let mut notes = Vec::with_capacity(receipt.items.len());
        let returned = receipt.receipt_type == fiscal_model::ReceiptType::SaleReturn;
        for (index, item) in receipt.items.iter().enumerate() {
            // The row by rate from the register's own table 6, the byte its code (§2 of the
            // FFD 1.2 addendum); a configured row only when the table agrees.
            let tax = self.tax_table.choose(item.vat, taxes).map_err(|message| {
                RegisterError::Rejected(Rejection {
                    code: "NO_TAX_GROUP",
                    message,
                })
            })?;
            let sum = item.sum().ok_or_else(|| {
                RegisterError::Rejected(Rejection {
                    code: "AMOUNT_TOO_LARGE",
                    message: "Сумма позиции слишком велика.".into(),
                })
            })?;
            // A seller's line sum (tag 1043) is `item.sum()`; the model keeps it within the
            // register's one kopeck of price × quantity (§7.6.2).
            let op = OperationV2 {
                password,
                kind,
                quantity: item.quantity.0,
                price: item.price.0,
                // Sent, not left to the register, so its rounding cannot differ from ours.
                sum: Some(sum.0),
                tax: None,
                tax_group: tax.code,
                department: DEPARTMENT,
                // Tags 1214 and 1212 at offsets 30 and 31 (addendum §3.1).
                payment_method: item.attributes.payment_method.code(),
                payment_subject: item.attributes.payment_object.code(),
                name: item.name.clone(),
            };
            op.check().map_err(out_of_range)?;
            marks.push(
                item.attributes
                    .marking_code
                    .as_ref()
                    .map(|code| self.prepare_mark(index, item, code.as_bytes(), returned))
                    .transpose()?,
            );
            items.push(op);
            sums.push(sum.0);
            notes.push(self.text_lines(&item.notes));
            item_tags.push(
                attributes::frames(attributes::item_tlvs(item))
                    .into_iter()
                    .map(|tlvs| AttachItemTlv {
                        password: self.sysadmin(),
                        tlvs,
                    })
                    .collect(),
            );
        }
        let mut tlvs = Vec::new();
        if let Some(buyer) = &receipt.buyer {
            tlvs.push(Tlv::buyer_contact(buyer.value()));
        }
        // The receipt's own cashier wins over the register's configured one.
        let own_cashier = receipt.cashier.as_ref().map(|c| Cashier {
            name: c.name.clone(),
            inn: c.inn.clone(),
        });
        if let Some(c) = own_cashier.as_ref().or(cashier) {
            tlvs.extend(cashier_tlvs(c));
        }
        if let Some(details) = &receipt.buyer_details {
            tlvs.extend(attributes::buyer_tlvs(details, &self.identity.ffd_version));
        }
        let tags = attributes::frames(tlvs)
            .into_iter()
            .map(|tlvs| AttachTlv {
                password: self.sysadmin(),
                tlvs,
            })
            .collect();
        let mut payments = [0u64; 16];
        payments[0] = receipt.cash.0;
        payments[1] = receipt.cashless.0;
        // Slots 14, 15, 16: tags 1215, 1216, 1217 (addendum §3.5).
        payments[13] = receipt.prepayment.0;
        payments[14] = receipt.postpayment.0;
        payments[15] = receipt.counter_provision.0;
        let close = CloseReceiptV2 {
            password,
            payments,
            rounding: 0,
            // Computed by the register (table 1.14 = 0).
            taxes: [0; 6],
            tax_system: receipt.taxation.shtrih_bit(),
            text: String::new(),
        };
        close.check().map_err(out_of_range)?;
        Ok(Prepared {
            header: self.text_lines(&receipt.text.header),
            notes,
            footer: self.text_lines(&receipt.text.footer),
            items,
            sums,
            item_tags,
            marks,
            tags,
            close,
            total: receipt.total.0,
        })
    }

    /// The 0x17 commands of a receipt's text lines (see [`RECEIPT_TEXT_FLAGS`], [`BLANK_LINE`]).
    fn text_lines(&self, lines: &[String]) -> Vec<PrintLine> {
        lines
            .iter()
            .map(|line| PrintLine {
                password: self.operator(),
                flags: RECEIPT_TEXT_FLAGS,
                text: if line.is_empty() {
                    BLANK_LINE.to_owned()
                } else {
                    line.clone()
                },
            })
            .collect()
    }

    /// FF61 and FF67 of a marked item: planned status (tag 2003) from the receipt type and
    /// the measure, and for a measured item 2108 and 1023 in FF61's TLVs (§4.2, §4.10 B).
    fn prepare_mark(
        &self,
        index: usize,
        item: &fiscal_model::Item,
        code: &[u8],
        returned: bool,
    ) -> Result<PreparedMark, RegisterError> {
        let measure = item.attributes.measurement_unit.code();
        let measured = measure != 0;
        let planned_status = match (returned, measured) {
            (false, false) => PlannedStatus::PieceSold,
            (false, true) => PlannedStatus::MeasuredSold,
            (true, false) => PlannedStatus::PieceReturned,
            (true, true) => PlannedStatus::MeasuredReturned,
        };
        let tlvs = if measured {
            vec![
                Tlv::byte(shtrih_proto::tlv::TAG_MEASURE, measure),
                Tlv::fvln_quantity(TAG_QUANTITY, item.quantity.0),
            ]
        } else {
            Vec::new()
        };
        let check = CheckMarkingCode {
            password: self.operator(),
            planned_status,
            code: code.to_vec(),
            tlvs,
        };
        check.check().map_err(out_of_range)?;
        let bind = BindMarkingCode {
            password: self.operator(),
            code: code.to_vec(),
            volume_sort: false,
        };
        bind.check().map_err(out_of_range)?;
        Ok(PreparedMark {
            check,
            bind,
            position: format!("Позиция {} («{}»)", index + 1, item.name),
        })
    }

    /// FF61 then FF69 for a marked item, inside the open receipt, before its FF46. A code the
    /// check refuses is rejected with FF69 (every check is followed by one, §4.2), the receipt
    /// is cancelled, and the error names the position.
    /// Returns the code's check result (tag 2106) when the register gave one.
    async fn check_mark(&mut self, mark: &PreparedMark) -> Result<Option<u8>, RegisterError> {
        let answer = self.receipt_step(&mark.check).await?;
        let decide = |decision| DecideMarkingCode {
            password: self.operator(),
            decision,
        };
        let refusal = marking_refusal(&answer);
        let sell_anyway = self.options.marking_policy == MarkingPolicy::SellAndReport;
        if let (Some(reason), true) = (&refusal, sell_anyway) {
            tracing::warn!(position = %mark.position, %reason, "sold by policy despite the check");
        }
        match refusal.filter(|_| !sell_anyway) {
            None => {
                let decided = self.receipt_step(&decide(MarkingDecision::Accept)).await?;
                Ok(decided.or(answer.result()).map(|r| r.0))
            }
            Some(reason) => {
                if let Err(e) = self.run(&decide(MarkingDecision::Reject)).await {
                    tracing::warn!(%e, "could not reject a refused marking code");
                }
                if let Err(cancel) = self.cancel_receipt().await {
                    tracing::warn!(%cancel, "could not cancel a receipt with a refused marking code");
                }
                Err(RegisterError::Rejected(Rejection {
                    code: "MARKING_CODE_INVALID",
                    message: format!("{}: {reason}; чек аннулирован.", mark.position),
                }))
            }
        }
    }

    /// From an open receipt holding the first `from` items: the header lines (when `from` is
    /// 0), the rest of the items each followed by its notes, the subtotal check, the tags and
    /// the footer lines (if `with_tags`: they are sent together, after the items), the close,
    /// and the result read back.
    pub(crate) async fn finish_receipt(
        &mut self,
        prepared: &Prepared,
        from: usize,
        with_tags: bool,
    ) -> Result<FiscalResult, RegisterError> {
        let password = self.operator();
        if from == 0 {
            for line in &prepared.header {
                self.receipt_line(line).await?;
            }
        }
        let items = prepared
            .items
            .iter()
            .zip(&prepared.item_tags)
            .zip(&prepared.marks)
            .zip(&prepared.notes);
        // Classic order (addendum §4.8, §4.10 A): FF61, FF69, FF46, FF4D, FF67; the cash core
        // takes the item's tags and code first: FF61, FF69, FF4D, FF67, FF46.
        let tags_first = tags_first(self.tax_table.model);
        // Per position, its code's check result (none when no position has a code; a receipt
        // with codes is never resumed, so `from` is 0 then).
        let mut marking_checks = Vec::new();
        if prepared.marks.iter().any(Option::is_some) {
            marking_checks = vec![None; prepared.items.len()];
        }
        for (index, (((item, tags), mark), notes)) in items.enumerate().skip(from) {
            if let Some(mark) = mark {
                let result = self.check_mark(mark).await?;
                if let Some(slot) = marking_checks.get_mut(index) {
                    *slot = result;
                }
            }
            if !tags_first {
                self.receipt_step(item).await?;
            }
            for t in tags {
                self.receipt_step(t).await?;
            }
            if let Some(mark) = mark {
                self.receipt_step(&mark.bind).await?;
            }
            if tags_first {
                self.receipt_step(item).await?;
            }
            for line in notes {
                self.receipt_line(line).await?;
            }
        }
        // The standard layer's LRC misses two equal bit flips in one frame (§2.2): before
        // the FN makes the document, the register's own subtotal must equal ours.
        let subtotal = self.receipt_step(&Subtotal { password }).await?.subtotal;
        if subtotal != prepared.total {
            // Not a link failure to retry in a loop: the register and we disagree about this
            // receipt, it is cancelled, and the POS hears why (a re-post tries it afresh).
            if let Err(cancel) = self.cancel_receipt().await {
                tracing::warn!(%cancel, "could not cancel a receipt with a wrong subtotal");
            }
            return Err(RegisterError::Rejected(Rejection {
                code: "SUBTOTAL_MISMATCH",
                message: format!(
                    "ККТ насчитала {subtotal} коп. вместо {} коп.; чек аннулирован.",
                    prepared.total
                ),
            }));
        }
        if with_tags {
            for t in &prepared.tags {
                self.receipt_step(t).await?;
            }
            for line in &prepared.footer {
                self.receipt_line(line).await?;
            }
        }
        let close = &prepared.close;
        let closed = self.receipt_step(close).await?;
        let name = close.name();
        let (shift_number, receipt_number) = self
            .shift_numbers()
            .await
            .map_err(|e| after_commit(name, e))?;
        let date_time = match closed.date_time.and_then(naive) {
            Some(at) => at,
            None => {
                self.find_document(closed.fd_number)
                    .await
                    .map_err(|e| after_commit(name, e))?
                    .date_time
            }
        };
        let status = self
            .wait_printed()
            .await
            .map_err(|e| after_commit(name, e))?;
        Ok(FiscalResult {
            fd_number: closed.fd_number,
            fiscal_sign: closed.fiscal_sign,
            receipt_number_in_shift: receipt_number,
            shift_number,
            fn_number: self.identity.fn_number.clone(),
            rnm: self.identity.rnm.clone(),
            date_time,
            not_printed: matches!(status.submode, 1..=3),
            marking_checks,
        })
    }

    /// A command inside an open receipt: on a refusal or a proven non-execution the receipt
    /// is cancelled (best effort) so the register is ready again and no FD was made.
    pub(crate) async fn receipt_step<C: Command>(
        &mut self,
        cmd: &C,
    ) -> Result<C::Answer, RegisterError> {
        match self.run(cmd).await {
            Ok(answer) => Ok(answer),
            Err(e @ (RegisterError::Refused(_) | RegisterError::Link(_))) => {
                if let Err(cancel) = self.cancel_receipt().await {
                    tracing::warn!(%cancel, "could not cancel the receipt after {} failed", cmd.name());
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// A text line inside the open receipt (0x17, §7.4). It is not fiscal: a refusal (a bad
    /// parameter, a line the register will not print) leaves the receipt as it was, so the
    /// receipt goes on without the line, logged. A link failure (proven not executed) cancels
    /// the receipt as [`Register::receipt_step`] does. A lost answer is `Unknown` like any
    /// command in a receipt: it is not resent here; reconciliation cancels the receipt (the
    /// line's place among the items cannot be proven) and the receipt is made again.
    async fn receipt_line(&mut self, line: &PrintLine) -> Result<(), RegisterError> {
        match self.run(line).await {
            Ok(_) => Ok(()),
            Err(RegisterError::Refused(refusal)) => {
                tracing::warn!(%refusal, text = %line.text, "receipt text line refused; the receipt goes on without it");
                Ok(())
            }
            Err(e @ RegisterError::Link(_)) => {
                if let Err(cancel) = self.cancel_receipt().await {
                    tracing::warn!(%cancel, "could not cancel the receipt after a text line failed");
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Cash in (0x50) or cash out (0x51) (§7.7). No FN document: the result carries the
    /// register's own document number.
    pub async fn cash(&mut self, movement: CashMovement) -> Result<CashResult, RegisterError> {
        if let Err(e) = self.print_next_document(true).await {
            return Err(self.first_step(e).await);
        }
        let password = self.operator();
        let amount = movement.amount.0;
        let (answer, name) = match movement.kind {
            CashMovementKind::In => {
                let cmd = CashIn { password, amount };
                (self.run(&cmd).await, cmd.name())
            }
            CashMovementKind::Out => {
                let cmd = CashOut { password, amount };
                (self.run(&cmd).await, cmd.name())
            }
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => return Err(self.first_step(e).await),
        };
        let clock = self.clock().await.map_err(|e| after_commit(name, e))?;
        self.wait_printed()
            .await
            .map_err(|e| after_commit(name, e))?;
        Ok(CashResult {
            document_number: u32::from(answer.document_number),
            shift_number: clock.shift_number,
            fn_number: self.identity.fn_number.clone(),
            rnm: self.identity.rnm.clone(),
            date_time: clock.now,
        })
    }

    /// Opens a shift (§7.5, §9.2): FF41, FF0C cashier tags, 0xE0; the report's numbers come
    /// from FF01 and FF0A.
    pub async fn open_shift(&mut self, cashier: &Cashier) -> Result<ShiftReport, RegisterError> {
        let begin = BeginShiftOpening {
            password: self.sysadmin(),
        };
        let open = OpenShift {
            password: self.operator(),
        };
        self.shift_report(begin, cashier, open).await
    }

    /// Closes the shift with a Z report (§7.5): FF42, FF0C cashier tags, 0x41.
    pub async fn z_report(&mut self, cashier: &Cashier) -> Result<ShiftReport, RegisterError> {
        let begin = BeginShiftClosing {
            password: self.sysadmin(),
        };
        let close = ZReport {
            password: self.admin(),
        };
        self.shift_report(begin, cashier, close).await
    }

    /// A shift report: `begin` (FF41/FF42), the cashier's tags, `finish` (0xE0/0x41), then its
    /// numbers read back from the FN.
    async fn shift_report<B: Command, F: Command>(
        &mut self,
        begin: B,
        cashier: &Cashier,
        finish: F,
    ) -> Result<ShiftReport, RegisterError> {
        if let Err(e) = self.print_next_document(true).await {
            return Err(self.first_step(e).await);
        }
        if let Err(e) = self.run(&begin).await {
            return Err(self.first_step(e).await);
        }
        self.run(&AttachTlv {
            password: self.sysadmin(),
            tlvs: cashier_tlvs(cashier),
        })
        .await?;
        self.run(&finish).await?;
        self.after_shift_report(finish.name()).await
    }

    /// The report's numbers, read back from the FN, once the print is done.
    async fn after_shift_report(
        &mut self,
        name: &'static str,
    ) -> Result<ShiftReport, RegisterError> {
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
        let report = XReport {
            password: self.admin(),
        };
        if let Err(e) = self.print_next_document(true).await {
            return Err(self.first_step(e).await);
        }
        if let Err(e) = self.run(&report).await {
            return Err(self.first_step(e).await);
        }
        self.wait_printed()
            .await
            .map_err(|e| after_commit(report.name(), e))?;
        Ok(())
    }

    /// Prints plain text on the receipt tape (0x17 per line) and, when `cut`, cuts (0x25): a
    /// non-fiscal page, no FD. A line whose answer was lost is not printed again.
    pub async fn print_text(&mut self, lines: &[&str], cut: bool) -> Result<(), RegisterError> {
        let password = self.operator();
        for (i, line) in lines.iter().enumerate() {
            let cmd = PrintLine {
                password,
                flags: PRINT_ON_RECEIPT,
                text: (*line).to_owned(),
            };
            if let Err(e) = self.run(&cmd).await {
                return Err(if i == 0 { self.first_step(e).await } else { e });
            }
        }
        if !cut {
            self.wait_printed()
                .await
                .map_err(|e| after_commit(PrintLine::NAME, e))?;
            return Ok(());
        }
        let cut = Cut {
            password,
            kind: CutKind::Partial,
        };
        self.run(&cut).await?;
        self.wait_printed()
            .await
            .map_err(|e| after_commit(cut.name(), e))?;
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
            date_time: doc.date_time,
        })
    }
}
