//! Copies of fiscal documents (FFD 1.2 addendum §6): the document is read back from the FN
//! (FF3A/FF3B), rendered here as text lines at the register's print width, and printed with
//! 0x17 per line and a cut: a non-fiscal print headed and closed by «КОПИЯ», never a fiscal
//! command, so the FN's last FD does not move.
//!
//! 0x8C (the register's own "repeat document") is the fallback only where the register does
//! not support FF3A (0x37) and the copy is of the FN's last document, a receipt; see
//! [`Register::print_copy`].

use fiscal_model::{form, CopiedDocument, ReceiptType, TaxationSystem, VatRate};
use shtrih_proto::command::print::PRINT_LINE_WIDTH;
use shtrih_proto::command::{Command, ModelParams, RepeatDocument};
use shtrih_proto::text;

use crate::documents::after_commit;
use crate::error::{NotReadyReason, RegisterError, Rejection};
use crate::fn_document::FnDocument;
use crate::queries::ArchiveDocument;
use crate::register::Register;

/// How many documents back `print_copy(None)` looks for the last receipt through FF0A.
pub const COPY_SEARCH: u32 = 50;
/// Line width when the register does not report its font-1 width (F7 type 1, §7.1).
pub const DEFAULT_PRINT_WIDTH: usize = fiscal_model::text::DEFAULT_PRINT_WIDTH as usize;
/// Narrowest width a copy is laid out for (a register reporting less is not believed).
const MIN_PRINT_WIDTH: usize = 24;
/// The tax service's site, printed on every receipt (54-FZ, tag 1060).
const FNS_SITE: &str = "www.nalog.gov.ru";
/// "Command not supported by this KKT implementation" (§5).
const NOT_SUPPORTED: u8 = 0x37;

impl Register {
    /// Prints a copy of FD `fd`, or with `None` of the FN's last receipt or correction
    /// receipt (found going back through FF0A, at most [`COPY_SEARCH`] documents). The
    /// document is read back from the FN (FF3A/FF3B) and printed as text: «КОПИЯ», its
    /// type, date and time, shift and receipt numbers, items (quantity × price = sum, VAT),
    /// total, payments, taxation system, cashier, FN, FD, ФП, RNM, INN and the tax service's
    /// site, «КОПИЯ» again; then a cut. No fiscal command is sent.
    ///
    /// Only when the register refuses FF3A as unsupported (0x37) and the copy is of a receipt
    /// that is the FN's last document does it fall back to 0x8C. 0x8C repeats the last
    /// *printed* document and heads it «ПОВТОР ДОКУМЕНТА»: after an X or Z report or a shift
    /// opening that is not the receipt. A later Z report or shift opening would be a later FD,
    /// which the condition excludes; an X report or a text print makes no FD and cannot be
    /// seen from the FN, so that case remains the register's own to print wrongly.
    ///
    /// A lost answer while printing is `Unknown` like any non-fiscal print: nothing is sent
    /// again. With a receipt open it is `NotReady(ReceiptOpen)` and nothing is printed.
    pub async fn print_copy(&mut self, fd: Option<u32>) -> Result<CopiedDocument, RegisterError> {
        // Lines sent while a receipt is open would be printed inside it (§7.4).
        if self.status().await?.mode & 0x0F == 8 {
            return Err(RegisterError::NotReady(NotReadyReason::ReceiptOpen));
        }
        let last_fd = self.fn_status().await?.last_fd;
        let target = match fd {
            Some(fd) => self.find_document(fd).await?,
            None => self.last_receipt(last_fd).await?,
        };
        let copied = CopiedDocument {
            fd_number: target.fd_number,
            fiscal_sign: target.fiscal_sign,
        };
        let doc = match self.read_document(target.fd_number).await {
            Ok(doc) => doc,
            Err(RegisterError::Refused(d)) if d.code.0 == NOT_SUPPORTED => {
                let receipt = matches!(target.doc_type, form::RECEIPT | form::CORRECTION);
                if !(receipt && target.fd_number == last_fd) {
                    return Err(RegisterError::Refused(d));
                }
                self.repeat_last_document().await?;
                return Ok(copied);
            }
            Err(e) => return Err(e),
        };
        let width = self.print_width().await?;
        let lines = render(&doc, width);
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.print_text(&lines, true).await?;
        Ok(copied)
    }

    /// The FN's last receipt or correction receipt, looking back through FF0A.
    async fn last_receipt(&mut self, last_fd: u32) -> Result<ArchiveDocument, RegisterError> {
        let stop = last_fd.saturating_sub(COPY_SEARCH);
        let mut fd = last_fd;
        while fd > stop {
            match self.find_document(fd).await {
                Ok(doc) if matches!(doc.doc_type, form::RECEIPT | form::CORRECTION) => {
                    return Ok(doc)
                }
                Ok(_) | Err(RegisterError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
            fd -= 1;
        }
        Err(RegisterError::Rejected(Rejection {
            code: "NO_RECEIPT_TO_COPY",
            message: format!(
                "В последних {COPY_SEARCH} документах ФН нет чека: копировать нечего."
            ),
        }))
    }

    /// 0x8C, then the print awaited; its lost answer is `Unknown` (never sent again).
    async fn repeat_last_document(&mut self) -> Result<(), RegisterError> {
        let repeat = RepeatDocument {
            password: self.sysadmin(),
        };
        if let Err(e) = self.run(&repeat).await {
            return Err(self.first_step(e).await);
        }
        self.wait_printed()
            .await
            .map_err(|e| after_commit(repeat.name(), e))?;
        Ok(())
    }

    /// Characters per line of a copy: the font-1 width F7 type 1 reports (§7.1), no more than
    /// the 0x17 text field carries (40, §7.4); [`DEFAULT_PRINT_WIDTH`] when the register does
    /// not say.
    pub async fn print_width(&mut self) -> Result<usize, RegisterError> {
        match self.run(&ModelParams).await {
            Ok(answer) => Ok(match answer.fields.first().map(|w| usize::from(*w)) {
                Some(w) if w >= MIN_PRINT_WIDTH => w.min(PRINT_LINE_WIDTH),
                _ => DEFAULT_PRINT_WIDTH,
            }),
            Err(RegisterError::Refused(_)) => Ok(DEFAULT_PRINT_WIDTH),
            Err(e) => Err(e),
        }
    }
}

/// The copy's lines, each at most `width` characters and printable in CP1251.
pub fn render(doc: &FnDocument, width: usize) -> Vec<String> {
    let mut out = Lines::new(width);
    out.centre("КОПИЯ");
    out.rule();
    if let Some(user) = doc.user() {
        out.centre(&user);
    }
    if let Some(address) = doc.address() {
        out.wrap(&address);
    }
    let (title, operation) = titles(doc);
    out.centre(&title);
    if let Some(operation) = operation {
        out.centre(&operation);
    }
    if doc.is_correction() {
        if let Some(kind) = doc.correction_kind() {
            let kind = if kind == 1 {
                "ПО ПРЕДПИСАНИЮ"
            } else {
                "САМОСТОЯТЕЛЬНО"
            };
            out.pair("ТИП КОРРЕКЦИИ", kind);
        }
        let (date, number) = doc.correction_basis();
        if let Some(date) = date {
            out.pair("ДАТА ДОК. ОСН.", &date.format("%d.%m.%Y").to_string());
        }
        if let Some(number) = number {
            out.pair("НОМЕР ДОК. ОСН.", &number);
        }
    }
    for item in doc.items() {
        out.wrap(&item.name);
        out.pair(
            "",
            &format!(
                "{} x {} = {}",
                quantity(item.quantity),
                money(item.price),
                money(item.sum)
            ),
        );
        if let Some(vat) = item.vat_code.map(vat_name) {
            out.pair("", vat);
        }
    }
    if doc.is_receipt() {
        if let Some(total) = doc.total() {
            out.pair("ИТОГ", &format!("={}", money(total)));
        }
        for (tag, label) in [
            (1031, "НАЛИЧНЫМИ"),
            (1081, "БЕЗНАЛИЧНЫМИ"),
            (1215, "ПРЕДОПЛАТА (АВАНС)"),
            (1216, "ПОСТОПЛАТА (КРЕДИТ)"),
            (1217, "ВСТРЕЧНОЕ ПРЕДОСТАВЛЕНИЕ"),
        ] {
            if let Some(sum) = doc.payment(tag).filter(|s| *s > 0) {
                out.pair(label, &format!("={}", money(sum)));
            }
        }
        if let Some(taxation) = doc.taxation() {
            out.pair("СНО", taxation_name(taxation));
        }
    }
    if let Some(cashier) = doc.cashier() {
        out.pair("КАССИР", &cashier);
    }
    if let Some(contact) = doc.buyer_contact() {
        out.pair("ПОКУПАТЕЛЬ", &contact);
    }
    match (doc.shift_number(), doc.receipt_number()) {
        (Some(shift), Some(receipt)) => {
            out.pair(&format!("СМЕНА {shift}"), &format!("ЧЕК {receipt}"))
        }
        (Some(shift), None) => out.pair("СМЕНА", &shift.to_string()),
        _ => {}
    }
    if let Some(at) = doc.date_time() {
        out.pair("ДАТА", &at.format("%d.%m.%y %H:%M").to_string());
    }
    for (label, value) in [
        ("ИНН", doc.inn()),
        ("РН ККТ", doc.rnm()),
        ("ФН", doc.fn_number()),
    ] {
        if let Some(value) = value {
            out.pair(label, value.trim());
        }
    }
    out.pair("ФД", &doc.fd_number.to_string());
    if let Some(sign) = doc.fiscal_sign() {
        out.pair("ФП", &sign.to_string());
    }
    out.pair("САЙТ ФНС", FNS_SITE);
    out.rule();
    out.centre("КОПИЯ");
    out.lines
}

/// The document's title, and for a receipt its operation line.
fn titles(doc: &FnDocument) -> (String, Option<String>) {
    let operation = |name: fn(ReceiptType) -> &'static str| {
        doc.operation()
            .and_then(ReceiptType::from_tag_1054)
            .map(|t| name(t).to_string())
    };
    let title = u8::try_from(doc.doc_type)
        .ok()
        .and_then(form::name)
        .unwrap_or("Фискальный документ")
        .to_uppercase();
    let operation = match u8::try_from(doc.doc_type) {
        Ok(form::RECEIPT) => operation(ReceiptType::russian),
        Ok(form::CORRECTION) => operation(ReceiptType::russian_correction),
        _ => None,
    };
    (title, operation)
}

/// Tag 1199's rate.
fn vat_name(code: u8) -> &'static str {
    VatRate::from_tag_1199(code).map_or("НДС ?", VatRate::label)
}

/// Tag 1055's system (one bit, §8.6).
fn taxation_name(bits: u8) -> &'static str {
    TaxationSystem::from_shtrih_bit(bits).map_or("?", TaxationSystem::short_name)
}

fn money(kopecks: u64) -> String {
    format!("{}.{:02}", kopecks / 100, kopecks % 100)
}

fn quantity(millionths: u64) -> String {
    let (whole, fraction) = (millionths / 1_000_000, millionths % 1_000_000);
    if fraction == 0 {
        return whole.to_string();
    }
    format!("{whole}.{}", format!("{fraction:06}").trim_end_matches('0'))
}

/// Lines at a fixed width, every character printable in CP1251 (others become `?`).
struct Lines {
    width: usize,
    lines: Vec<String>,
}

impl Lines {
    fn new(width: usize) -> Lines {
        Lines {
            width: width.max(1),
            lines: Vec::new(),
        }
    }

    fn push(&mut self, line: &str) {
        let printable = text::decode_cp1251(&text::encode_cp1251(line));
        self.lines
            .push(printable.chars().take(self.width).collect::<String>());
    }

    fn centre(&mut self, line: &str) {
        let pad = self.width.saturating_sub(line.chars().count()) / 2;
        self.push(&format!("{}{line}", " ".repeat(pad)));
    }

    fn rule(&mut self) {
        self.push(&"-".repeat(self.width));
    }

    /// Left and right on one line; a left part too long is cut, the right part kept.
    fn pair(&mut self, left: &str, right: &str) {
        let right_len = right.chars().count();
        if right_len >= self.width {
            self.push(right);
            return;
        }
        let room = self.width - right_len - usize::from(!left.is_empty());
        let left: String = left.chars().take(room).collect();
        let pad = self.width - right_len - left.chars().count();
        self.push(&format!("{left}{}{right}", " ".repeat(pad)));
    }

    /// Text broken into lines of the width.
    fn wrap(&mut self, line: &str) {
        let chars: Vec<char> = line.chars().collect();
        for chunk in chars.chunks(self.width) {
            self.push(&chunk.iter().collect::<String>());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_hold_the_width_and_cp1251() {
        let mut out = Lines::new(20);
        out.pair("ОЧЕНЬ ДЛИННАЯ МЕТКА СЛЕВА", "=123.45");
        out.wrap("Название товара длиннее ширины строки");
        out.push("2 × 3 ≠ 7");
        assert!(out.lines.iter().all(|l| l.chars().count() <= 20));
        assert!(out.lines[0].ends_with("=123.45"));
        assert_eq!(out.lines.last().map(String::as_str), Some("2 ? 3 ? 7"));
        assert_eq!(quantity(750_000), "0.75");
        assert_eq!(quantity(2_000_000), "2");
        assert_eq!(money(5), "0.05");
    }
}
