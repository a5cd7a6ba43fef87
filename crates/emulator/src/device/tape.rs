//! The printed receipt tape as text: an in-memory buffer capped to the last megabyte, plus
//! the layouts of the documents the register prints (receipts, shift reports, slips).

use chrono::NaiveDateTime;

use super::state::{FnDocument, OpenReceipt, Tlv};
use super::wire::{cp866_text, le_uint, money, parse_tlvs, quantity};

/// Keep at most this many bytes of tape in memory.
const TAPE_CAP: usize = 1 << 20;
/// Printable width of a line, characters.
pub const WIDTH: usize = 36;

/// Printed text, with the part not yet appended to the tape file.
#[derive(Debug, Default)]
pub struct Tape {
    text: String,
    unsaved: String,
}

impl Tape {
    /// Appends lines.
    pub fn push_lines(&mut self, lines: &[String]) {
        for line in lines {
            self.text.push_str(line);
            self.text.push('\n');
            self.unsaved.push_str(line);
            self.unsaved.push('\n');
        }
        if self.text.len() > TAPE_CAP {
            let mut cut = self.text.len() - TAPE_CAP;
            while !self.text.is_char_boundary(cut) {
                cut += 1;
            }
            self.text.drain(..cut);
        }
    }

    /// Everything in memory.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Text printed since the last call (for the tape file).
    pub fn take_unsaved(&mut self) -> String {
        std::mem::take(&mut self.unsaved)
    }
}

/// Left text and right text on one line, padded to the tape width.
pub fn pair(left: &str, right: &str) -> String {
    let used = left.chars().count() + right.chars().count();
    let pad = WIDTH.saturating_sub(used).max(1);
    format!("{left}{}{right}", " ".repeat(pad))
}

/// Centred text.
pub fn centre(text: &str) -> String {
    let pad = WIDTH.saturating_sub(text.chars().count()) / 2;
    format!("{}{text}", " ".repeat(pad))
}

fn rule() -> String {
    "-".repeat(WIDTH)
}

fn stamp(t: NaiveDateTime) -> String {
    t.format("%d.%m.%y %H:%M").to_string()
}

/// What paper-out or an open cover prints over an interrupted document (§6.5).
pub fn interruption_note() -> Vec<String> {
    vec![
        centre("*** ПЕЧАТЬ ПРЕРВАНА ***"),
        centre("ДОКУМЕНТ НЕДЕЙСТВИТЕЛЕН"),
        rule(),
    ]
}

/// Names of the four receipt kinds by FF46 operation code (§8.1).
pub fn operation_name(operation: u8) -> &'static str {
    match operation {
        1 => "ПРИХОД",
        2 => "ВОЗВРАТ ПРИХОДА",
        3 => "РАСХОД",
        _ => "ВОЗВРАТ РАСХОДА",
    }
}

/// The same names in the genitive, after «КОРРЕКЦИЯ» («КОРРЕКЦИЯ ВОЗВРАТА ПРИХОДА»).
fn operation_name_genitive(operation: u8) -> &'static str {
    match operation {
        1 => "ПРИХОДА",
        2 => "ВОЗВРАТА ПРИХОДА",
        3 => "РАСХОДА",
        _ => "ВОЗВРАТА РАСХОДА",
    }
}

/// Tags 1173 and 1174 (or the separate 1178, 1179 it was built from) as printed.
fn correction_lines(tlvs: &[Tlv]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut basis: Vec<Tlv> = Vec::new();
    for tlv in tlvs {
        match tlv.tag {
            1173 => lines.push(pair(
                "ТИП КОРРЕКЦИИ",
                if tlv.value.first() == Some(&1) {
                    "ПО ПРЕДПИСАНИЮ"
                } else {
                    "САМОСТОЯТЕЛЬНО"
                },
            )),
            1174 => basis.extend(parse_tlvs(&tlv.value).unwrap_or_default()),
            1178 | 1179 => basis.push(tlv.clone()),
            _ => {}
        }
    }
    for tlv in basis {
        match tlv.tag {
            1178 => {
                let seconds = i64::try_from(le_uint(&tlv.value)).unwrap_or(0);
                let date = chrono::DateTime::from_timestamp(seconds, 0)
                    .map(|d| d.format("%d.%m.%Y").to_string())
                    .unwrap_or_default();
                lines.push(pair("ДАТА ДОК. ОСН.", &date));
            }
            1179 => lines.push(pair("НОМЕР ДОК. ОСН.", &cp866_text(&tlv.value))),
            _ => {}
        }
    }
    lines
}

/// Who and what prints: the header above and the identification block under fiscal documents.
pub struct Letterhead {
    /// Organisation name (table 18.7).
    pub organisation: String,
    /// Settlement address (table 18.9).
    pub address: String,
    /// Operator name (table 2 field 2) of whoever formed the document.
    pub cashier: String,
    /// KKT serial.
    pub kkt_serial: String,
    /// RNM.
    pub rnm: String,
    /// FN serial.
    pub fn_serial: String,
    /// INN.
    pub inn: String,
}

fn header(head: &Letterhead) -> Vec<String> {
    vec![centre(&head.organisation), centre(&head.address), rule()]
}

fn fiscal_footer(doc: &FnDocument, footer: &Letterhead) -> Vec<String> {
    vec![
        pair("КАССИР", &footer.cashier),
        pair("ДАТА", &stamp(doc.date_time)),
        pair("ИНН", footer.inn.trim()),
        pair("ЗН ККТ", footer.kkt_serial.trim()),
        pair("РН ККТ", footer.rnm.trim()),
        pair("ФН", footer.fn_serial.trim()),
        pair("ФД", &doc.fd.to_string()),
        pair("ФП", &doc.fiscal_sign.to_string()),
        rule(),
    ]
}

/// A receipt as printed after the FN committed it.
pub fn receipt(
    doc: &FnDocument,
    receipt: &OpenReceipt,
    taxes: &[(String, u64)],
    text: &str,
    footer: &Letterhead,
) -> Vec<String> {
    let mut lines = header(footer);
    if receipt.correction {
        lines.extend([
            centre("КАССОВЫЙ ЧЕК КОРРЕКЦИИ"),
            centre(&format!(
                "КОРРЕКЦИЯ {}",
                operation_name_genitive(doc.operation)
            )),
        ]);
        lines.extend(correction_lines(&receipt.tlvs));
    } else {
        lines.extend([
            centre("КАССОВЫЙ ЧЕК"),
            centre(operation_name(doc.operation)),
        ]);
    }
    // 0x17 lines sent in the receipt print where they came: before the first item (a
    // header), after an item (its notes), after the last (a footer, above the totals).
    let text_after = |count: usize| {
        receipt
            .text
            .iter()
            .filter(move |l| l.after_items == count)
            .map(|l| l.text.clone())
    };
    lines.extend(text_after(0));
    for (index, item) in receipt.items.iter().enumerate() {
        if !item.name.starts_with("//") {
            lines.push(item.name.clone());
            lines.push(pair(
                "",
                &format!(
                    "{} × {} = {}",
                    quantity(item.quantity),
                    money(item.price),
                    money(item.sum)
                ),
            ));
        }
        lines.extend(text_after(index + 1));
    }
    if receipt.adjustment > 0 {
        lines.push(pair("СКИДКА", &money(receipt.adjustment.unsigned_abs())));
    } else if receipt.adjustment < 0 {
        lines.push(pair("НАДБАВКА", &money(receipt.adjustment.unsigned_abs())));
    }
    lines.push(pair("ИТОГ", &format!("={}", money(doc.total))));
    let cash = doc.payments.first().copied().unwrap_or(0);
    if cash > 0 {
        lines.push(pair("НАЛИЧНЫМИ", &format!("={}", money(cash))));
    }
    let electronic: u64 = doc.payments.iter().skip(1).take(12).sum();
    if electronic > 0 {
        lines.push(pair("БЕЗНАЛИЧНЫМИ", &format!("={}", money(electronic))));
    }
    for (label, index) in [("АВАНС", 13), ("КРЕДИТ", 14), ("ВСТР. ПРЕДОСТАВЛЕНИЕ", 15)]
    {
        let sum = doc.payments.get(index).copied().unwrap_or(0);
        if sum > 0 {
            lines.push(pair(label, &format!("={}", money(sum))));
        }
    }
    if doc.change > 0 {
        lines.push(pair("СДАЧА", &format!("={}", money(doc.change))));
    }
    for (name, tax) in taxes {
        lines.push(pair(&format!("СУММА {name}"), &format!("={}", money(*tax))));
    }
    if !text.is_empty() {
        lines.push(text.to_owned());
    }
    lines.push(pair(
        &format!("СМЕНА {}", doc.shift_number),
        &format!("ЧЕК {}", doc.receipt_number_in_shift),
    ));
    lines.extend(fiscal_footer(doc, footer));
    lines
}

/// Open-shift or close-shift report.
pub fn shift_report(
    doc: &FnDocument,
    totals: &[(String, u64)],
    footer: &Letterhead,
) -> Vec<String> {
    let title = if doc.doc_type == 2 {
        "ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ"
    } else {
        "ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ"
    };
    let mut lines = header(footer);
    lines.extend([centre(title), pair("СМЕНА", &doc.shift_number.to_string())]);
    for (label, value) in totals {
        lines.push(pair(label, &money(*value)));
    }
    lines.extend(fiscal_footer(doc, footer));
    lines
}

/// Non-fiscal slip for cash in/out.
pub fn cash_slip(cash_in: bool, sum: u64, number: u16, at: NaiveDateTime) -> Vec<String> {
    vec![
        centre(if cash_in {
            "ВНЕСЕНИЕ"
        } else {
            "ВЫПЛАТА"
        }),
        pair("ДОК.", &number.to_string()),
        pair("СУММА", &format!("={}", money(sum))),
        pair("ДАТА", &stamp(at)),
        rule(),
    ]
}

/// X report (no FD).
pub fn x_report(totals: &[(String, u64)], shift: u16, at: NaiveDateTime) -> Vec<String> {
    let mut lines = vec![
        centre("СУТОЧНЫЙ ОТЧЕТ БЕЗ ГАШЕНИЯ"),
        pair("СМЕНА", &shift.to_string()),
    ];
    for (label, value) in totals {
        lines.push(pair(label, &money(*value)));
    }
    lines.push(pair("ДАТА", &stamp(at)));
    lines.push(rule());
    lines
}
