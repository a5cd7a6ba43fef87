//! The receipt as monospace lines: the order and labels of a register's own tape, with every
//! requisite 54-ФЗ and FFD 1.2 ask of a printed receipt.

use fiscal_model::{
    BuyerContact, CorrectionKind, Item, Kopecks, PaymentMethod, PaymentObject, VatRate,
};

use crate::{money, ReceiptView};

/// Narrowest text a view renders: a 57 mm roll's line.
pub const MIN_WIDTH: usize = 24;
/// Widest text a view renders.
pub const MAX_WIDTH: usize = 80;

/// The FNS site a receipt names for checking it (tag 1060).
pub const FNS_SITE: &str = "www.nalog.gov.ru";

/// Lines of at most `width` characters.
struct Lines {
    width: usize,
    out: Vec<String>,
}

impl Lines {
    /// `text` broken into lines of `width`, at spaces where it can.
    fn wrap(&mut self, text: &str) {
        for line in wrap(text, self.width) {
            self.out.push(line);
        }
    }

    /// `text` centred, wrapped when longer than a line.
    fn centre(&mut self, text: &str) {
        for line in wrap(text, self.width) {
            let pad = (self.width - line.chars().count()) / 2;
            self.out.push(format!("{}{line}", " ".repeat(pad)));
        }
    }

    /// `left` at the left edge, `right` at the right; `right` goes to a line of its own when
    /// the two do not fit together.
    fn pair(&mut self, left: &str, right: &str) {
        let (l, r) = (left.chars().count(), right.chars().count());
        if l + r < self.width {
            let pad = self.width - l - r;
            self.out.push(format!("{left}{}{right}", " ".repeat(pad)));
        } else {
            self.wrap(left);
            for line in wrap(right, self.width) {
                let pad = self.width - line.chars().count();
                self.out.push(format!("{}{line}", " ".repeat(pad)));
            }
        }
    }

    /// A label and a value when there is a value.
    fn pair_opt(&mut self, left: &str, right: Option<&str>) {
        if let Some(right) = right.map(str::trim).filter(|r| !r.is_empty()) {
            self.pair(left, right);
        }
    }

    fn rule(&mut self) {
        self.out.push("-".repeat(self.width));
    }
}

/// Breaks `text` into lines of at most `width` characters, at spaces where possible and
/// inside a word longer than a line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for word in text.split_whitespace() {
        let mut chars: Vec<char> = word.chars().collect();
        if len > 0 && len + 1 + chars.len() <= width {
            current.push(' ');
            current.extend(&chars);
            len += 1 + chars.len();
            continue;
        }
        if len > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while chars.len() > width {
            let rest = chars.split_off(width);
            lines.push(chars.into_iter().collect());
            chars = rest;
        }
        len = chars.len();
        current = chars.into_iter().collect();
    }
    if len > 0 || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// The payment method's print form (tag 1214, FFD 1.2 table 28).
fn payment_method(method: PaymentMethod) -> &'static str {
    match method.code() {
        1 => "ПРЕДОПЛАТА 100%",
        2 => "ПРЕДОПЛАТА",
        3 => "АВАНС",
        4 => "ПОЛНЫЙ РАСЧЕТ",
        5 => "ЧАСТИЧНЫЙ РАСЧЕТ И КРЕДИТ",
        6 => "ПЕРЕДАЧА В КРЕДИТ",
        _ => "ОПЛАТА КРЕДИТА",
    }
}

/// The payment object's print form (tag 1212, FFD 1.2 table 29).
fn payment_object(object: PaymentObject) -> &'static str {
    match object.code() {
        1 => "ТОВАР",
        2 => "ПОДАКЦИЗНЫЙ ТОВАР",
        3 => "РАБОТА",
        4 => "УСЛУГА",
        5 => "СТАВКА АЗАРТНОЙ ИГРЫ",
        6 => "ВЫИГРЫШ АЗАРТНОЙ ИГРЫ",
        7 => "ЛОТЕРЕЙНЫЙ БИЛЕТ",
        8 => "ВЫИГРЫШ ЛОТЕРЕИ",
        9 => "ПРЕДОСТАВЛЕНИЕ РИД",
        10 => "ПЛАТЕЖ",
        11 => "АГЕНТСКОЕ ВОЗНАГРАЖДЕНИЕ",
        12 => "ВЫПЛАТА",
        13 => "ИНОЙ ПРЕДМЕТ РАСЧЕТА",
        14 => "ИМУЩЕСТВЕННОЕ ПРАВО",
        15 => "ВНЕРЕАЛИЗАЦИОННЫЙ ДОХОД",
        16 => "ИНЫЕ ПЛАТЕЖИ И ВЗНОСЫ",
        17 => "ТОРГОВЫЙ СБОР",
        18 => "ТУРИСТИЧЕСКИЙ НАЛОГ",
        19 => "ЗАЛОГ",
        20 => "РАСХОД",
        21 => "ВЗНОСЫ НА ОПС ИП",
        22 => "ВЗНОСЫ НА ОПС",
        23 => "ВЗНОСЫ НА ОМС ИП",
        24 => "ВЗНОСЫ НА ОМС",
        25 => "ВЗНОСЫ НА ОСС",
        26 => "ПЛАТЕЖ КАЗИНО",
        27 => "ВЫДАЧА ДЕНЕЖНЫХ СРЕДСТВ",
        30 => "АТНМ",
        31 => "АТМ",
        32 => "ТНМ",
        _ => "ТМ",
    }
}

/// Formats a quantity without trailing zeros: "2", "1.5".
fn quantity(item: &Item) -> String {
    item.quantity.to_string()
}

fn item_lines(lines: &mut Lines, number: usize, item: &Item) {
    let marked = if item.attributes.marking_code.is_some() {
        "[М] "
    } else {
        ""
    };
    lines.wrap(&format!("{number}. {marked}{}", item.name));
    let sum = item.sum().unwrap_or_default();
    lines.pair(
        "",
        &format!(
            "{} × {} = {}",
            quantity(item),
            money(item.price),
            money(sum)
        ),
    );
    lines.pair("", item.vat.label());
    let attributes = &item.attributes;
    if attributes.payment_method != PaymentMethod::default() {
        lines.pair("СПОСОБ РАСЧЕТА", payment_method(attributes.payment_method));
    }
    if attributes.payment_object != PaymentObject::default() {
        lines.pair("ПРЕДМЕТ РАСЧЕТА", payment_object(attributes.payment_object));
    }
    for note in &item.notes {
        lines.wrap(note);
    }
}

/// The whole receipt at `width` (already clamped) characters per line.
pub fn render(view: &ReceiptView, width: usize) -> String {
    let mut lines = Lines {
        width,
        out: Vec::new(),
    };
    let seller = &view.seller;
    if let Some(name) = &seller.name {
        lines.centre(name);
    }
    lines.pair_opt("ИНН", seller.inn.as_deref());
    if let Some(address) = &seller.address {
        lines.wrap(&format!("АДРЕС РАСЧЕТОВ: {address}"));
    }
    if let Some(place) = &seller.place {
        lines.wrap(&format!("МЕСТО РАСЧЕТОВ: {place}"));
    }
    lines.rule();
    let receipt = &view.receipt;
    match &view.correction {
        Some(correction) => {
            lines.centre("КАССОВЫЙ ЧЕК КОРРЕКЦИИ");
            lines.centre(receipt.receipt_type.russian_correction());
            lines.pair(
                "ТИП КОРРЕКЦИИ",
                match correction.kind {
                    CorrectionKind::SelfInitiated => "САМОСТОЯТЕЛЬНО",
                    CorrectionKind::ByOrder => "ПО ПРЕДПИСАНИЮ",
                },
            );
            lines.pair(
                "ДАТА ДОК. ОСН.",
                &correction.base_date.format("%d.%m.%Y").to_string(),
            );
            lines.pair_opt("НОМЕР ДОК. ОСН.", correction.base_number.as_deref());
        }
        None => {
            lines.centre("КАССОВЫЙ ЧЕК");
            lines.centre(receipt.receipt_type.russian());
        }
    }
    for line in &receipt.text.header {
        lines.wrap(line);
    }
    for (index, item) in receipt.items.iter().enumerate() {
        item_lines(&mut lines, index + 1, item);
    }
    for line in &receipt.text.footer {
        lines.wrap(line);
    }
    lines.rule();
    lines.pair("ИТОГ", &format!("={}", money(receipt.total)));
    for (label, sum) in [
        ("НАЛИЧНЫМИ", receipt.cash),
        ("БЕЗНАЛИЧНЫМИ", receipt.cashless),
        ("ПРЕДВАРИТЕЛЬНАЯ ОПЛАТА (АВАНС)", receipt.prepayment),
        ("ПОСЛЕДУЮЩАЯ ОПЛАТА (КРЕДИТ)", receipt.postpayment),
        ("ИНАЯ ФОРМА ОПЛАТЫ", receipt.counter_provision),
    ] {
        if sum != Kopecks(0) {
            lines.pair(label, &format!("={}", money(sum)));
        }
    }
    for vat in &view.vat {
        match vat.vat {
            Some(tax) => lines.pair(
                &format!("СУММА {}", vat.rate.label()),
                &format!("={}", money(tax)),
            ),
            None => {
                let label = match vat.rate {
                    VatRate::NoVat => "СУММА БЕЗ НДС".to_string(),
                    rate => format!("СУММА С {}", rate.label()),
                };
                lines.pair(&label, &format!("={}", money(vat.base)))
            }
        }
    }
    lines.pair("СНО", receipt.taxation.short_name());
    if let Some(cashier) = &receipt.cashier {
        lines.pair("КАССИР", &cashier.name);
        lines.pair_opt("ИНН КАССИРА", cashier.inn.as_deref());
    }
    if let Some(buyer) = &receipt.buyer_details {
        lines.pair_opt("ПОКУПАТЕЛЬ", buyer.name.as_deref());
        lines.pair_opt("ИНН ПОКУПАТЕЛЯ", buyer.inn.as_deref());
    }
    match &receipt.buyer {
        Some(BuyerContact::Email(email)) => lines.pair("ЭЛ. АДР. ПОКУПАТЕЛЯ", email),
        Some(BuyerContact::Phone(phone)) => lines.pair("ТЕЛ. ПОКУПАТЕЛЯ", phone),
        None => {}
    }
    let fiscal = &view.fiscal;
    lines.pair(
        &format!("СМЕНА {}", fiscal.shift_number),
        &format!("ЧЕК {}", fiscal.receipt_number_in_shift),
    );
    lines.pair("ДАТА", &view.date_time.format("%d.%m.%y %H:%M").to_string());
    let register = &view.register;
    lines.pair_opt("ККТ", register.model.as_deref());
    lines.pair_opt("ЗН ККТ", register.kkt_serial.as_deref());
    lines.pair_opt("РН ККТ", register.rnm.as_deref());
    lines.pair_opt("ФН", register.fn_number.as_deref());
    lines.pair("ФД", &fiscal.fd_number.to_string());
    lines.pair("ФП", &fiscal.fiscal_sign.to_string());
    lines.pair("САЙТ ФНС", FNS_SITE);
    if fiscal.not_printed {
        lines.centre("ЧЕК НЕ НАПЕЧАТАН: КОНЧИЛАСЬ БУМАГА");
    }
    lines.rule();
    let mut text = lines.out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn every_requisite_is_printed() {
        let text = sample::view().text(60);
        for expected in [
            "ООО «Ромашка»",
            "ИНН",
            "7701234567",
            "АДРЕС РАСЧЕТОВ: г. Москва, ул. Примерная, д. 1",
            "МЕСТО РАСЧЕТОВ: Магазин у дома",
            "КАССОВЫЙ ЧЕК",
            "ПРИХОД",
            "Касса 2",
            "1. Молоко «Домик»",
            "2 × 45.50 = 91.00",
            "НДС 22%",
            "Скидка по карте 0.00",
            "2. [М] Хлеб <ржаной> & Co",
            "1 × 55.00 = 55.00",
            "ПРЕДМЕТ РАСЧЕТА",
            "УСЛУГА",
            "Спасибо за покупку!",
            "ИТОГ",
            "=276.00",
            "НАЛИЧНЫМИ",
            "=100.00",
            "БЕЗНАЛИЧНЫМИ",
            "=176.00",
            "СУММА НДС 22%",
            "=38.05",
            "СУММА НДС 10%",
            "=5.00",
            "СУММА БЕЗ НДС",
            "=10.00",
            "СНО",
            "ОСН",
            "КАССИР",
            "Иванова А.",
            "ИНН КАССИРА",
            "500100732259",
            "ПОКУПАТЕЛЬ",
            "ИП Петров",
            "ЭЛ. АДР. ПОКУПАТЕЛЯ",
            "buyer@example.ru",
            "СМЕНА 12",
            "ЧЕК 7",
            "04.12.26 16:40",
            "ЗН ККТ",
            "0012345678",
            "РН ККТ",
            "0000000001012345",
            "ФН",
            "7380440700076549",
            "ФД",
            "1234",
            "ФП",
            "3849573054",
            "www.nalog.gov.ru",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        // The defaults (full payment, goods) are not printed.
        assert!(!text.contains("СПОСОБ РАСЧЕТА"), "{text}");
        assert!(!text.contains("ТОВАР"), "{text}");
        // The tape's order: header, items, footer, totals, fiscal facts.
        let at = |s: &str| text.find(s).unwrap();
        assert!(at("КАССОВЫЙ ЧЕК") < at("Касса 2"));
        assert!(at("Касса 2") < at("Молоко"));
        assert!(at("Пакет") < at("Спасибо"));
        assert!(at("Спасибо") < at("ИТОГ"));
        assert!(at("ИТОГ") < at("НАЛИЧНЫМИ"));
        assert!(at("НАЛИЧНЫМИ") < at("СУММА НДС 22%"));
        assert!(at("ФД") < at("ФП"));
    }

    #[test]
    fn every_line_fits_the_width_and_widths_are_clamped() {
        let view = sample::view();
        for (asked, used) in [(24, 24), (32, 32), (42, 42), (80, 80), (5, 24), (500, 80)] {
            let text = view.text(asked);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
            assert_eq!(widest, used, "width {asked}:\n{text}");
        }
        let narrow = view.text(24);
        assert!(narrow.contains("www.nalog.gov.ru"), "{narrow}");
    }

    #[test]
    fn a_correction_receipt_says_so_and_why() {
        let mut view = sample::view();
        view.correction = Some(fiscal_model::Correction {
            kind: CorrectionKind::ByOrder,
            base_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            base_number: Some("ПР-17".into()),
        });
        view.receipt.receipt_type = fiscal_model::ReceiptType::SaleReturn;
        let text = view.text(40);
        for expected in [
            "КАССОВЫЙ ЧЕК КОРРЕКЦИИ",
            "КОРРЕКЦИЯ ВОЗВРАТА ПРИХОДА",
            "ПО ПРЕДПИСАНИЮ",
            "30.11.2026",
            "ПР-17",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
    }

    #[test]
    fn other_payments_and_a_phone_are_named() {
        let mut view = sample::view();
        view.receipt.cash = Kopecks(0);
        view.receipt.cashless = Kopecks(0);
        view.receipt.prepayment = Kopecks(27000);
        view.receipt.postpayment = Kopecks(500);
        view.receipt.counter_provision = Kopecks(100);
        view.receipt.buyer = Some(BuyerContact::Phone("+79001234567".into()));
        let text = view.text(48);
        for expected in [
            "ПРЕДВАРИТЕЛЬНАЯ ОПЛАТА (АВАНС)",
            "=270.00",
            "ПОСЛЕДУЮЩАЯ ОПЛАТА (КРЕДИТ)",
            "=5.00",
            "ИНАЯ ФОРМА ОПЛАТЫ",
            "=1.00",
            "ТЕЛ. ПОКУПАТЕЛЯ",
            "+79001234567",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert!(!text.contains("НАЛИЧНЫМИ"), "{text}");
    }

    #[test]
    fn long_words_break_inside_the_line() {
        assert_eq!(wrap("абвгдежзик", 4), vec!["абвг", "дежз", "ик"]);
        assert_eq!(wrap("ab cd ef", 5), vec!["ab cd", "ef"]);
        assert_eq!(wrap("", 5), vec![""]);
    }
}
