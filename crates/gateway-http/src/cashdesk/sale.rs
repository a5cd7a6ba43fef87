//! A `POST /api/v2/check/sale` body turned into the receipt the queue stores. Pure: no store,
//! no clock.
//!
//! Money (reference §7): only the cash part is rounded, to [`Rounding`] (10 kopecks: 1–4 down,
//! 5–9 up); `payments` carry the rounded values, `round_sum` = rounded − unrounded in
//! hryvnias (`+0.04`), `total_sum` = Σ (`cost` − `sum_discount`) + `round_sum`. Anything
//! else is refused with the value expected. The FN's total must equal the payments, so the
//! rounding is carried into the last position's sum (tag 1043; its unit price derived from
//! the new sum, or the line split, [`crate::tape::priced`]) and printed under the positions
//! as «Округление +0.04».

use fiscal_model::{
    Item, ItemAttributes, Kopecks, MarkingCode, MeasurementUnit, Payments, Quantity, Receipt,
    ReceiptParts, ReceiptText, ReceiptType, TaxationSystem,
};
use serde_json::{Map, Value};

use super::answer::DeskError;
use super::letters::Letters;
use super::numbers::{self, QUANTITY_DECIMALS, SUM_DECIMALS};
use crate::fields;
use crate::tape::{self, pair, wrap};

/// The step the cash part of a payment is rounded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounding(u64);

impl Rounding {
    /// 10 kopecks (NBU, since 1 July 2018): 1–4 down, 5–9 up.
    pub const TEN: Rounding = Rounding(10);
    /// 50 kopecks (where 10-kopeck coins are gone, from 1 October 2025): 1–24 down, 25–49 up.
    pub const FIFTY: Rounding = Rounding(50);

    /// The step in kopecks.
    pub fn kopecks(self) -> u64 {
        self.0
    }

    /// `amount` rounded to the step, a half step and above going up.
    pub fn round(self, amount: u64) -> u64 {
        let rest = amount % self.0;
        if rest * 2 < self.0 {
            amount - rest
        } else {
            amount - rest + self.0
        }
    }
}

/// This dialect's names for the fields the receipt model's refusals name.
const REQUEST_NAMES: tape::RequestNames = tape::RequestNames {
    lines: "products",
    name: "name",
    marking: "excise_barcode",
    total: "total_sum",
    payments: "payments",
    header: "footer",
    footer: "footer",
};

/// What a body is read with: the register's letters, the rounding, its tape.
#[derive(Debug, Clone)]
pub struct SaleSettings {
    /// Tax letters of the register.
    pub letters: Letters,
    /// Rounding of the cash part.
    pub rounding: Rounding,
    /// Characters per printed line.
    pub print_width: usize,
    /// Taxation system of the receipts (tag 1055).
    pub taxation: TaxationSystem,
}

/// A validated sale or return.
#[derive(Debug, Clone)]
pub struct SaleRequest {
    /// The client's number of the check.
    pub local_number: u64,
    /// Sale (`Z_SALE`) or sale return (`RETURN`, `Z_RETURN`).
    pub kind: ReceiptType,
    /// A return: the sale's `local_number`.
    pub return_number: Option<u64>,
    /// A return: the fiscal number of the register that made the sale (none: this one).
    pub return_num_fiscal: Option<u64>,
    /// Open a closed shift for it.
    pub open_shift: bool,
    /// The receipt for the register.
    pub receipt: Receipt,
    /// The products as sent, in order (a return is checked against its sale by them).
    pub products: Vec<Product>,
}

/// One of `products` as sent.
#[derive(Debug, Clone)]
pub struct Product {
    /// `name`.
    pub name: String,
    /// `amount`, in thousandths of a unit.
    pub amount: u64,
    /// `excise_barcode`, the product's marking code.
    pub excise_barcode: Option<MarkingCode>,
}

/// The action of a check body.
pub fn action(m: &Map<String, Value>) -> Result<ReceiptType, DeskError> {
    match fields::optional_string(m, "", "action_type")? {
        Some("Z_SALE") => Ok(ReceiptType::Sale),
        Some("RETURN" | "Z_RETURN") => Ok(ReceiptType::SaleReturn),
        Some(other) => Err(DeskError::invalid(format!(
            "Поле action_type: «{other}» невідоме (Z_SALE — реалізація, RETURN або Z_RETURN — повернення)"
        ))),
        None => Err(DeskError::invalid(
            "Поле action_type є обов'язковим (Z_SALE, RETURN або Z_RETURN)",
        )),
    }
}

/// Reads a check body.
pub fn read(m: &Map<String, Value>, settings: &SaleSettings) -> Result<SaleRequest, DeskError> {
    let kind = action(m)?;
    let local_number = numbers::optional_whole(m, "local_number")?
        .ok_or_else(|| DeskError::invalid("Поле local_number є обов'язковим"))?;
    let return_number = numbers::optional_whole(m, "return_number")?;
    let return_num_fiscal = numbers::optional_whole(m, "return_num_fiscal")?;
    if kind == ReceiptType::SaleReturn && return_number.is_none() {
        return Err(DeskError::invalid(
            "Поле return_number є обов'язковим для повернення (local_number чека реалізації)",
        ));
    }
    let open_shift = fields::optional_boolean(m, "", "open_shift")?.unwrap_or(false);

    let raw_products = fields::array(m, "", "products")?;
    if raw_products.is_empty() {
        return Err(DeskError::invalid(
            "Поле products: має містити хоча б один товар",
        ));
    }
    let mut lines = Vec::with_capacity(raw_products.len());
    for (i, raw) in raw_products.iter().enumerate() {
        let path = format!("products[{i}]");
        lines.push(read_product(fields::object(raw, &path)?, &path, settings)?);
    }
    let unrounded: u64 = lines.iter().map(|l| l.pays).sum();

    let paid = read_payments(m, settings.print_width)?;
    let round = rounding(m, settings.rounding, unrounded, &paid)?;
    let total = unrounded.checked_add_signed(round).unwrap_or(unrounded);

    // The FN's total is the payments': the rounding goes into the last position that can
    // carry it.
    if round != 0 {
        if let Some(line) = lines
            .iter_mut()
            .rev()
            .find(|l| l.pays.checked_add_signed(round).is_some_and(|p| p > 0))
        {
            line.pays = line.pays.checked_add_signed(round).unwrap_or(line.pays);
        }
    }
    let mut items = Vec::new();
    let mut origin = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let priced = tape::priced(&line.template, line.qty, line.pays);
        origin.extend(std::iter::repeat_n(i, priced.len()));
        items.extend(priced);
    }
    let refused = |e: fiscal_model::ModelError| {
        let (field, reason) = tape::in_request(&e, &origin, &REQUEST_NAMES);
        DeskError::from(crate::ApiError::invalid(field, reason))
    };
    let receipt = ReceiptParts {
        receipt_type: kind,
        taxation: settings.taxation,
        items,
        payments: Payments {
            cash: Kopecks(paid.cash),
            cashless: Kopecks(paid.cashless),
            ..Payments::default()
        },
        total: Kopecks(total),
        buyer: None,
        print: true,
    }
    .build()
    .map_err(refused)?;

    let mut footer = Vec::new();
    if round != 0 {
        footer.push(labelled(
            "Округление",
            &numbers::signed(round),
            settings.print_width,
        ));
    }
    footer.extend(paid.lines);
    if let Some(text) = fields::optional_string(m, "", "footer")? {
        for line in text.lines() {
            footer.extend(wrap(line, settings.print_width));
        }
    }
    let receipt = receipt
        .with_text(ReceiptText {
            header: Vec::new(),
            footer,
        })
        .map_err(refused)?;
    let products = lines
        .into_iter()
        .map(|line| Product {
            amount: line.qty,
            excise_barcode: line.template.attributes.marking_code,
            name: line.template.name,
        })
        .collect();
    Ok(SaleRequest {
        local_number,
        kind,
        return_number,
        return_num_fiscal,
        open_shift,
        receipt,
        products,
    })
}

/// `label` and `value`, the value right-aligned to `width`.
fn labelled(label: &str, value: &str, width: usize) -> String {
    let used = label.chars().count() + value.chars().count();
    if used < width {
        format!("{label}{}{value}", " ".repeat(width - used))
    } else {
        format!("{label} {value}")
    }
}

/// One position as read: what the FN gets (before the rounding is carried in).
struct Line {
    template: Item,
    qty: u64,
    pays: u64,
}

/// A text field given as a string or a number (`code`, `uktzed`, `unit_code`).
fn text(m: &Map<String, Value>, path: &str, name: &str) -> Result<Option<String>, DeskError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(DeskError::invalid(format!(
            "Поле {}: має бути рядком",
            fields::join(path, name)
        ))),
    }
}

fn read_product(
    m: &Map<String, Value>,
    path: &str,
    settings: &SaleSettings,
) -> Result<Line, DeskError> {
    let at = |name: &str| fields::join(path, name);
    let name = text(m, path, "name")?
        .ok_or_else(|| DeskError::invalid(format!("Поле {} є обов'язковим", at("name"))))?;
    let qty = numbers::milli(
        numbers::required(m, path, "amount", QUANTITY_DECIMALS)?,
        &at("amount"),
    )?;
    let price = numbers::non_negative_kopecks(
        numbers::required(m, path, "price", SUM_DECIMALS)?,
        &at("price"),
    )?;
    let cost = numbers::non_negative_kopecks(
        numbers::required(m, path, "cost", SUM_DECIMALS)?,
        &at("cost"),
    )?;
    let discount = match numbers::optional(m, path, "sum_discount", SUM_DECIMALS)? {
        Some(d) => numbers::non_negative_kopecks(d, &at("sum_discount"))?,
        None => 0,
    };
    let expected = Quantity(qty.saturating_mul(1000))
        .times(Kopecks(price))
        .map(|k| k.0)
        .unwrap_or(u64::MAX);
    if cost.abs_diff(expected) > 1 {
        return Err(DeskError::invalid(format!(
            "Поле {}: {} не дорівнює price × amount = {}",
            at("cost"),
            numbers::plain(i64::try_from(cost).unwrap_or(i64::MAX)),
            numbers::plain(i64::try_from(expected).unwrap_or(i64::MAX)),
        )));
    }
    if discount >= cost {
        return Err(DeskError::invalid(format!(
            "Поле {}: знижка має бути меншою за cost",
            at("sum_discount")
        )));
    }
    let letter = fields::optional_string(m, path, "letters")?;
    let tax_prc = numbers::optional(m, path, "tax_prc", SUM_DECIMALS)?;
    let vat = settings.letters.rate(letter, tax_prc, path)?;

    let mut attributes = ItemAttributes::default();
    let mut notes = Vec::new();
    let (unit, unit_note) = measure(
        text(m, path, "unit_code")?.as_deref(),
        text(m, path, "unit_name")?.as_deref(),
    );
    attributes.measurement_unit = unit;
    notes.extend(unit_note);
    if let Some(code) = text(m, path, "excise_barcode")? {
        attributes.marking_code = Some(MarkingCode::new(code.into_bytes(), &at("excise_barcode"))?);
    }
    if discount > 0 {
        notes.push(pair("Знижка", discount, settings.print_width));
    }
    for (field, label) in [
        ("code", "Код"),
        ("bar_code", "Штрих-код"),
        ("uktzed", "УКТЗЕД"),
    ] {
        if let Some(value) = text(m, path, field)? {
            notes.extend(wrap(&format!("{label} {value}"), settings.print_width));
        }
    }
    if let Some(excise) = numbers::optional(m, path, "excise_prc", SUM_DECIMALS)? {
        // No excise in the FFD: printed, not fiscalized.
        if !excise.is_zero() {
            notes.push(format!("Акциз {excise}%"));
        }
    }
    Ok(Line {
        template: Item {
            name,
            quantity: Quantity(0),
            price: Kopecks(0),
            vat,
            attributes,
            line_sum: None,
            notes,
        },
        qty,
        pays: cost - discount,
    })
}

/// The measure (tag 2108) of `unit_code` / `unit_name`: КСПОВО codes and the usual short
/// names; anything else is pieces, with the unit printed under the position.
fn measure(code: Option<&str>, name: Option<&str>) -> (MeasurementUnit, Option<String>) {
    let by_code = match code {
        Some("2009") => Some(0),
        Some("0301") => Some(11),
        Some("0303") => Some(10),
        Some("0138") => Some(41),
        Some("0101") => Some(22),
        _ => None,
    };
    let lower = name.map(|n| n.trim().trim_end_matches('.').to_lowercase());
    let by_name = match lower.as_deref() {
        Some("шт" | "штука" | "штук" | "pcs" | "pc" | "од" | "одиниця") => {
            Some(0)
        }
        Some("кг" | "kg" | "кілограм") => Some(11),
        Some("г" | "гр" | "g" | "грам") => Some(10),
        Some("т" | "тонна") => Some(12),
        Some("л" | "l" | "літр") => Some(41),
        Some("мл" | "ml") => Some(40),
        Some("м" | "m" | "метр") => Some(22),
        Some("м2" | "м²" | "кв.м") => Some(32),
        Some("м3" | "м³" | "куб.м") => Some(42),
        Some("год" | "година" | "час") => Some(71),
        _ => None,
    };
    match by_name.or(by_code) {
        Some(c) => (
            MeasurementUnit::from_code(c, "unit").unwrap_or(MeasurementUnit::PIECE),
            None,
        ),
        None => {
            let shown = name.or(code).filter(|s| !s.trim().is_empty());
            (
                MeasurementUnit::PIECE,
                shown.map(|s| format!("Од. виміру: {}", s.trim())),
            )
        }
    }
}

/// The payments as read.
struct Paid {
    /// Cash (code 0), rounded as sent.
    cash: u64,
    /// Whether any payment is cash.
    has_cash: bool,
    /// Cashless (codes 1, 2, 3 …).
    cashless: u64,
    /// Where the first cash payment is (for messages).
    cash_index: Option<usize>,
    /// Printed lines: cash handed over and change, card slips.
    lines: Vec<String>,
}

fn read_payments(m: &Map<String, Value>, width: usize) -> Result<Paid, DeskError> {
    let raw = fields::array(m, "", "payments")?;
    if raw.is_empty() {
        return Err(DeskError::invalid(
            "Поле payments: має містити хоча б одну оплату",
        ));
    }
    let mut paid = Paid {
        cash: 0,
        has_cash: false,
        cashless: 0,
        cash_index: None,
        lines: Vec::new(),
    };
    let mut tendered = 0u64;
    for (i, raw) in raw.iter().enumerate() {
        let path = format!("payments[{i}]");
        let p = fields::object(raw, &path)?;
        let at = |name: &str| fields::join(&path, name);
        let code = fields::integer(p, &path, "code")?;
        let sum = numbers::non_negative_kopecks(
            numbers::required(p, &path, "sum", SUM_DECIMALS)?,
            &at("sum"),
        )?;
        let provided = match numbers::optional(p, &path, "sum_provided", SUM_DECIMALS)? {
            Some(d) => numbers::non_negative_kopecks(d, &at("sum_provided"))?,
            None => sum,
        };
        match code {
            0 => {
                if provided < sum {
                    return Err(DeskError::invalid(format!(
                        "Поле {}: передано менше, ніж сума оплати {}",
                        at("sum_provided"),
                        numbers::plain(i64::try_from(sum).unwrap_or(i64::MAX))
                    )));
                }
                paid.has_cash = true;
                paid.cash_index.get_or_insert(i);
                paid.cash += sum;
                tendered += provided;
            }
            c if c > 0 => {
                if provided != sum {
                    return Err(DeskError::invalid(format!(
                        "Поле {}: решта видається лише з готівки; для безготівкової оплати sum_provided дорівнює sum",
                        at("sum_provided")
                    )));
                }
                paid.cashless += sum;
            }
            _ => {
                return Err(DeskError::invalid(format!(
                    "Поле {}: код оплати {code} невідомий (0 — готівка, 1, 2, 3 — безготівкова)",
                    at("code")
                )))
            }
        }
        if let Some(terminal) = fields::optional_object(p, &path, "pay_terminal")? {
            let tpath = at("pay_terminal");
            for (field, label) in [
                ("payment_system", "Платіжна система"),
                ("card_type", "Картка"),
                ("epz", "ЕПЗ"),
                ("name", "MID"),
                ("terminal_id", "Термінал"),
                ("auth_code", "Код авт."),
                ("rrn", "RRN"),
            ] {
                if let Some(value) = text(terminal, &tpath, field)? {
                    paid.lines.extend(wrap(&format!("{label}: {value}"), width));
                }
            }
        }
    }
    if tendered > paid.cash {
        paid.lines
            .insert(0, pair("Решта/Сдача", tendered - paid.cash, width));
        paid.lines.insert(0, pair("Готівка", tendered, width));
    }
    Ok(paid)
}

/// Checks the cash part's rounding, `round_sum` and `total_sum`; the rounding in kopecks.
fn rounding(
    m: &Map<String, Value>,
    rounding: Rounding,
    unrounded: u64,
    paid: &Paid,
) -> Result<i64, DeskError> {
    let money = |k: u64| numbers::plain(i64::try_from(k).unwrap_or(i64::MAX));
    if paid.cashless > unrounded {
        return Err(DeskError::invalid(format!(
            "Поле payments: безготівкові оплати {} більші за суму товарів {}",
            money(paid.cashless),
            money(unrounded)
        )));
    }
    let cash_part = unrounded - paid.cashless;
    let expected_cash = if paid.has_cash {
        rounding.round(cash_part)
    } else {
        cash_part
    };
    if !paid.has_cash && cash_part > 0 {
        return Err(DeskError::invalid(format!(
            "Поле payments: оплати {} не покривають суму товарів {}",
            money(paid.cashless),
            money(unrounded)
        )));
    }
    if paid.cash != expected_cash {
        let field = paid
            .cash_index
            .map(|i| format!("payments[{i}].sum"))
            .unwrap_or_else(|| "payments".into());
        let why = if paid.cash == cash_part {
            format!("готівку треба округлити до {} коп.", rounding.kopecks())
        } else {
            "оплати не дорівнюють сумі товарів".to_string()
        };
        return Err(DeskError::invalid(format!(
            "Поле {field}: {why}: очікується готівка {} (сума товарів {} − безготівкові {}, округлено до {} коп.)",
            money(expected_cash),
            money(unrounded),
            money(paid.cashless),
            rounding.kopecks()
        )));
    }
    let round = i64::try_from(expected_cash).unwrap_or(i64::MAX)
        - i64::try_from(cash_part).unwrap_or(i64::MAX);
    let given_round = match numbers::optional(m, "", "round_sum", SUM_DECIMALS)? {
        Some(d) => numbers::kopecks(d, "round_sum")?,
        None => 0,
    };
    if given_round != round {
        return Err(DeskError::invalid(format!(
            "Поле round_sum: очікується {} (округлена готівка {} − неокруглена {})",
            numbers::signed(round),
            money(expected_cash),
            money(cash_part)
        )));
    }
    let total = numbers::kopecks(
        numbers::required(m, "", "total_sum", SUM_DECIMALS)?,
        "total_sum",
    )?;
    let expected_total = i64::try_from(unrounded).unwrap_or(i64::MAX) + round;
    if total != expected_total {
        return Err(DeskError::invalid(format!(
            "Поле total_sum: очікується {} (сума товарів {} {} округлення)",
            numbers::plain(expected_total),
            money(unrounded),
            numbers::signed(round)
        )));
    }
    Ok(round)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> SaleSettings {
        SaleSettings {
            letters: Letters::default(),
            rounding: Rounding::TEN,
            print_width: 32,
            taxation: TaxationSystem::General,
        }
    }

    /// The seed's example request, verbatim (api_token aside).
    pub fn seed() -> Value {
        json!({
            "api_token": "42b5eaccba739f08***e7fe157eba8bf",
            "num_fiscal": 4000022469u64,
            "action_type": "Z_SALE",
            "local_number": 12,
            "total_sum": 50.1,
            "round_sum": 0.04,
            "products": [{
                "letters": "А", "tax_prc": "20", "excise_prc": "5", "code": "821",
                "unit_code": "2009", "unit_name": "штука", "name": "Вода питна",
                "uktzed": 4823004003572u64, "amount": "1", "price": "50.06", "cost": "50.06",
                "sum_discount": "0"
            }],
            "payments": [
                {"code": 0, "name": "ГОТIВКА", "sum": 25.1, "sum_provided": 100},
                {"code": 1, "name": "KARTKA", "sum": 25, "sum_provided": 25,
                 "pay_terminal": {"name": "493084867", "terminal_id": "40904582",
                   "epz": "4149XXXXXXXX5807", "card_type": "VISA GOLD", "auth_code": "538296",
                   "rrn": "000018706638", "additional_text": "Тримач ЕПЗ - підпис",
                   "payment_system": "Test pay system"}}
            ],
            "footer": "This is my\n custom footer! Welcome to CashDesk! \n Test \n Next line text!",
            "open_shift": true,
            "print_width": 32,
            "pdf_width": 48
        })
    }

    fn body(v: &Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn rounding_goes_to_the_nearest_step() {
        let ten = Rounding::TEN;
        assert_eq!(ten.round(2506), 2510);
        assert_eq!(ten.round(2505), 2510);
        assert_eq!(ten.round(2504), 2500);
        assert_eq!(ten.round(2501), 2500);
        assert_eq!(ten.round(2500), 2500);
        let fifty = Rounding::FIFTY;
        assert_eq!(fifty.round(124), 100);
        assert_eq!(fifty.round(125), 150);
        assert_eq!(fifty.round(174), 150);
        assert_eq!(fifty.round(175), 200);
    }

    #[test]
    fn the_seeds_example_passes_with_its_rounding_in_the_last_position() {
        let sale = read(&body(&seed()), &settings()).unwrap();
        assert_eq!(sale.kind, ReceiptType::Sale);
        assert_eq!(sale.local_number, 12);
        assert!(sale.open_shift);
        let r = &sale.receipt;
        assert_eq!(r.total, Kopecks(5010));
        assert_eq!(r.cash, Kopecks(2510));
        assert_eq!(r.cashless, Kopecks(2500));
        let sum: u64 = r.items.iter().map(|i| i.sum().unwrap().0).sum();
        assert_eq!(sum, 5010, "{:?}", r.items);
        assert_eq!(r.items[0].vat, fiscal_model::VatRate::Vat20);
        assert_eq!(
            r.items[0].attributes.measurement_unit,
            MeasurementUnit::PIECE
        );
        let notes = r.items.last().unwrap().notes.join("\n");
        assert!(notes.contains("УКТЗЕД 4823004003572"), "{notes}");
        assert!(notes.contains("Код 821"), "{notes}");
        let footer = r.text.footer.join("\n");
        for text in [
            "Округление",
            "+0.04",
            "Решта/Сдача",
            "74.90",
            "RRN: 000018706638",
            "custom footer!",
        ] {
            assert!(footer.contains(text), "{text:?} not in {footer}");
        }
    }

    #[test]
    fn an_unrounded_cash_part_is_refused_naming_the_rounded_value() {
        let mut b = seed();
        b["payments"][0]["sum"] = json!(25.06);
        b["total_sum"] = json!(50.06);
        b["round_sum"] = json!(0);
        let e = read(&body(&b), &settings()).unwrap_err();
        assert!(e.message.contains("payments[0].sum"), "{e:?}");
        assert!(e.message.contains("25.10"), "{e:?}");
    }

    #[test]
    fn a_wrong_round_sum_is_refused_naming_the_expected_one() {
        let mut b = seed();
        b["round_sum"] = json!(-0.04);
        let e = read(&body(&b), &settings()).unwrap_err();
        assert!(e.message.contains("round_sum"), "{e:?}");
        assert!(e.message.contains("+0.04"), "{e:?}");
        // Absent while the cash part is rounded: refused too.
        let mut b = seed();
        b.as_object_mut().unwrap().remove("round_sum");
        assert!(read(&body(&b), &settings())
            .unwrap_err()
            .message
            .contains("+0.04"));
    }

    #[test]
    fn a_wrong_total_sum_is_refused_naming_the_expected_one() {
        let mut b = seed();
        b["total_sum"] = json!("50.06");
        let e = read(&body(&b), &settings()).unwrap_err();
        assert!(e.message.contains("total_sum"), "{e:?}");
        assert!(e.message.contains("50.10"), "{e:?}");
    }

    #[test]
    fn rounding_down_and_fifty_kopecks_carry_into_the_receipt() {
        let mut b = seed();
        b["products"][0]["price"] = json!("50.03");
        b["products"][0]["cost"] = json!("50.03");
        b["payments"][0]["sum"] = json!("25.00");
        b["round_sum"] = json!("-0.03");
        b["total_sum"] = json!("50.00");
        let sale = read(&body(&b), &settings()).unwrap();
        assert_eq!(sale.receipt.total, Kopecks(5000));
        assert!(sale.receipt.text.footer.join("\n").contains("-0.03"));
        let fifty = SaleSettings {
            rounding: Rounding::FIFTY,
            ..settings()
        };
        // The seed's 25.06 of cash is 25.10 to ten kopecks but 25.00 to fifty.
        let mut b = seed();
        let e = read(&body(&b), &fifty).unwrap_err();
        assert!(e.message.contains("25.00"), "{e:?}");
        b["payments"][0]["sum"] = json!(25);
        b["round_sum"] = json!(-0.06);
        b["total_sum"] = json!(50);
        let sale = read(&body(&b), &fifty).unwrap();
        assert_eq!(sale.receipt.total, Kopecks(5000));
    }

    #[test]
    fn returns_need_the_sales_number_and_letters_their_rate() {
        let mut b = seed();
        b["action_type"] = json!("Z_RETURN");
        assert!(read(&body(&b), &settings())
            .unwrap_err()
            .message
            .contains("return_number"));
        b["return_number"] = json!(12);
        let r = read(&body(&b), &settings()).unwrap();
        assert_eq!(r.kind, ReceiptType::SaleReturn);
        assert_eq!(r.return_number, Some(12));
        let mut b = seed();
        b["products"][0]["tax_prc"] = json!(7);
        let e = read(&body(&b), &settings()).unwrap_err();
        assert!(e.message.contains("products[0].tax_prc"), "{e:?}");
    }

    #[test]
    fn a_name_the_register_cannot_print_is_refused_naming_the_products_field() {
        let mut b = seed();
        b["products"][0]["name"] = json!(",\tё");
        let e = read(&body(&b), &settings()).unwrap_err();
        assert!(e.message.contains("products[0].name"), "{e:?}");
        assert!(!e.message.contains("positions"), "{e:?}");
        let mut b = seed();
        b["footer"] = json!(vec!["рядок"; 30].join("\n"));
        let e = read(&body(&b), &settings()).unwrap_err();
        assert!(e.message.starts_with("Невірний запит: footer:"), "{e:?}");
    }

    /// Fields the reader knows that the seed's example leaves out.
    const NOT_IN_THE_SEED: &[&str] = &[
        "return_number",
        "return_num_fiscal",
        "excise_barcode",
        "bar_code",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_change_to_the_seed_is_read_or_refused_naming_a_field(
            v in crate::mutate::variants(&seed())
        ) {
            let m = body(&v);
            match read(&m, &settings()) {
                Ok(sale) => {
                    let r = &sale.receipt;
                    proptest::prop_assert_eq!(r.total.0, r.cash.0 + r.cashless.0);
                }
                Err(e) => {
                    let mut known = crate::mutate::keys(&v);
                    known.extend(crate::mutate::keys(&seed()));
                    known.extend(NOT_IN_THE_SEED.iter().map(|k| k.to_string()));
                    proptest::prop_assert!(
                        crate::mutate::names_a_field(
                            &e.message,
                            &["Невірний запит: ", "Поле "],
                            &known
                        ),
                        "{} in {}",
                        e.message,
                        v
                    );
                }
            }
        }
    }

    #[test]
    fn units_map_to_tag_2108_or_are_printed() {
        assert_eq!(measure(Some("0301"), Some("кг")).0.code(), 11);
        assert_eq!(measure(None, Some("л")).0.code(), 41);
        let (unit, note) = measure(Some("9999"), Some("ящик"));
        assert_eq!(unit, MeasurementUnit::PIECE);
        assert_eq!(note.as_deref(), Some("Од. виміру: ящик"));
    }
}
