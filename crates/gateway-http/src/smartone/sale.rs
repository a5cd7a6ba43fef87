//! A SmartOne `/sale` or `/refund` document turned into the receipt the queue stores.
//!
//! Units (seed): sums in kopecks, `itemQty` = quantity × 1000, `taxPrc` = percent × 100.
//! `itemAmount` is what the buyer pays for the line after `discount`, and the FN gets exactly
//! that (tag 1043): the unit price is derived from it, the line's sum is sent as given when the
//! register's price × quantity is within its ±1 kopeck tolerance (FF46 offset 18), and a line
//! that cannot be priced so is split in two (some units at one kopeck more), so the document's
//! total is always the POS's `amount`. The discount is printed under the line.

use fiscal_model::{
    Item, ItemAttributes, Kopecks, MarkingCode, PaymentMethod, PaymentObject, Payments, Quantity,
    Receipt, ReceiptCashier, ReceiptParts, ReceiptText, ReceiptType, TaxationSystem, VatRate,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::envelope::{Code, Refusal};
use crate::fields;
use crate::tape::{self, pair, wrap};

/// What `bonusesAmount` becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bonuses {
    /// Counter-provision (встречное предоставление, tag 1217).
    CounterProvision,
    /// Refused with code 7.
    Refuse,
}

/// The register-side settings a document is read with.
#[derive(Debug, Clone)]
pub struct SaleSettings {
    /// The taxation system the receipts carry (tag 1055).
    pub taxation: TaxationSystem,
    /// What bonuses become.
    pub bonuses: Bonuses,
    /// Characters per printed line on the register's tape.
    pub print_width: usize,
    /// Without `docTime`, `docNumber + amount` still identifies a document.
    pub unique_without_doc_time: bool,
}

/// One line as the POS sent it (for a refund's checks against its sale).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// `itemName`.
    pub name: String,
    /// `itemQty` (quantity × 1000).
    pub qty: u64,
    /// `itemQRCode` as given.
    pub marking: Option<String>,
}

/// A validated `/sale` or `/refund` body.
#[derive(Debug, Clone)]
pub struct SaleDocument {
    /// The receipt for the register.
    pub receipt: Receipt,
    /// The uniqueness key (`docTime|docNumber|amount`), when the document has one.
    pub key: Option<String>,
    /// `fiscalID`: the document asks for a copy of that fiscal document.
    pub copy_of: Option<u32>,
    /// `/refund`: `parentDocID`, the sale's fiscal sign.
    pub parent: Option<u32>,
    /// The lines as sent.
    pub lines: Vec<RequestLine>,
    /// `docTime` as sent.
    pub doc_time: Option<String>,
}

/// This dialect's names for the fields the receipt model's refusals name.
pub(crate) const REQUEST_NAMES: tape::RequestNames = tape::RequestNames {
    lines: "items",
    name: "itemName",
    marking: "itemQRCode",
    total: "amount",
    payments: "payments",
    header: "departmentName",
    footer: "printFooter",
};

/// Longest text field of the document (names, footer) the gateway takes.
const MAX_TEXT_CHARS: usize = 2048;

/// Reads a `/sale` (`kind` Sale) or `/refund` (`kind` SaleReturn) body.
pub fn read(
    m: &Map<String, Value>,
    kind: ReceiptType,
    settings: &SaleSettings,
) -> Result<SaleDocument, Refusal> {
    let copy_of = optional_fiscal_id(m, "fiscalID")?;
    let doc_time = fields::optional_string(m, "", "docTime")?.map(str::to_string);
    if let Some(t) = &doc_time {
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").map_err(|_| {
            Refusal::new(
                Code::Missing,
                format!("docTime: {t:?} is not a date and time as yyyy-MM-dd HH:mm:ss"),
            )
        })?;
    }
    let doc_number = fields::optional_string(m, "", "docNumber")?.map(str::to_string);
    let amount = non_negative(m, "", "amount")?
        .ok_or_else(|| Refusal::new(Code::Missing, "amount: is required"))?;
    if let Some(currency) = fields::optional_string(m, "", "currency")? {
        let c = currency.trim().to_ascii_uppercase();
        if !matches!(c.as_str(), "RUB" | "RUR" | "643" | "РУБ" | "RUBLE") {
            return Err(Refusal::new(
                Code::Missing,
                format!("currency: {currency:?} is not taken; the register fiscalizes roubles only (RUB, 643)"),
            ));
        }
    }
    let parent = if kind == ReceiptType::SaleReturn {
        Some(optional_fiscal_id(m, "parentDocID")?.ok_or_else(|| {
            Refusal::new(
                Code::Missing,
                "parentDocID: is required (the fiscalID of the sale being returned)",
            )
        })?)
    } else {
        None
    };
    let key = match (&doc_time, &doc_number) {
        (Some(t), n) => Some(format!("{t}|{}|{amount}", n.as_deref().unwrap_or_default())),
        (None, Some(n)) if settings.unique_without_doc_time => Some(format!("|{n}|{amount}")),
        _ => None,
    };

    let raw_items = fields::array(m, "", "items")?;
    if raw_items.is_empty() {
        return Err(Refusal::new(
            Code::Missing,
            "items: must hold at least one item",
        ));
    }
    let mut lines = Vec::with_capacity(raw_items.len());
    let mut parsed = Vec::with_capacity(raw_items.len());
    let mut sum: u64 = 0;
    for (i, raw) in raw_items.iter().enumerate() {
        let path = format!("items[{i}]");
        let item = fields::object(raw, &path)?;
        let line = read_item(item, &path)?;
        sum = sum.saturating_add(line.amount);
        lines.push(RequestLine {
            name: line.name.clone(),
            qty: line.qty,
            marking: line.marking.clone(),
        });
        parsed.push(line);
    }
    if sum != amount {
        return Err(Refusal::new(
            Code::AmountMismatch,
            format!("amount: is {amount} but the items' itemAmount add up to {sum}"),
        ));
    }

    let (payments, change, paid_cash) = payments(m, amount, settings.bonuses)?;
    let on_credit = payments.postpayment.0 > 0;
    let method = if !on_credit {
        PaymentMethod::FULL_PAYMENT
    } else if payments.postpayment.0 == amount {
        method(6)?
    } else {
        method(5)?
    };
    let mut items = Vec::new();
    let mut origin = Vec::new();
    for (i, line) in parsed.iter().enumerate() {
        let priced = line.items(i, method, settings)?;
        origin.extend(std::iter::repeat_n(i, priced.len()));
        items.extend(priced);
    }
    let refused = |e: fiscal_model::ModelError| {
        let (field, reason) = tape::in_request(&e, &origin, &REQUEST_NAMES);
        Refusal::new(
            Code::Missing,
            crate::ApiError::invalid(field, reason).to_string(),
        )
    };
    let receipt = ReceiptParts {
        receipt_type: kind,
        taxation: settings.taxation,
        items,
        payments,
        total: Kopecks(amount),
        buyer: None,
        print: true,
    }
    .build()
    .map_err(refused)?;

    let cashier = cashier(m)?;
    let mut header = Vec::new();
    if let Some(shop) = fields::optional_string(m, "", "departmentName")? {
        header.extend(wrap(
            &bounded(shop, "departmentName")?,
            settings.print_width,
        ));
    }
    if let Some(ws) = fields::optional_string(m, "", "wsName")? {
        header.extend(wrap(
            &format!("Касса: {}", bounded(ws, "wsName")?),
            settings.print_width,
        ));
    }
    let mut footer = Vec::new();
    if change > 0 {
        footer.push(pair("Наличными", paid_cash, settings.print_width));
        footer.push(pair("Сдача", change, settings.print_width));
    }
    if let Some(text) = fields::optional_string(m, "", "printFooter")? {
        for line in bounded(text, "printFooter")?.lines() {
            footer.extend(wrap(line, settings.print_width));
        }
    }
    let receipt = receipt
        .with_cashier(cashier)
        .with_text(ReceiptText { header, footer })
        .map_err(refused)?;
    Ok(SaleDocument {
        receipt,
        key,
        copy_of,
        parent,
        lines,
        doc_time,
    })
}

/// `employeeName`, the cashier (tag 1021).
pub fn cashier(m: &Map<String, Value>) -> Result<Option<ReceiptCashier>, Refusal> {
    let Some(name) = fields::optional_string(m, "", "employeeName")? else {
        return Ok(None);
    };
    Ok(Some(ReceiptCashier {
        name: fiscal_model::attributes::tag_text(
            name,
            fiscal_model::attributes::MAX_CASHIER_NAME_CHARS,
            "employeeName",
        )?,
        inn: None,
    }))
}

fn method(code: i64) -> Result<PaymentMethod, Refusal> {
    PaymentMethod::from_code(code, "items")
        .map_err(|e| Refusal::new(Code::Internal, crate::ApiError::from(e).to_string()))
}

fn bounded(text: &str, field: &str) -> Result<String, Refusal> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(Refusal::new(
            Code::Missing,
            format!("{field}: is {chars} characters long; at most {MAX_TEXT_CHARS} allowed"),
        ));
    }
    // Whitespace is where the text is cut into lines (`wrap`): it never reaches the register.
    let visible: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(c) = fiscal_model::text::unprintable(&visible) {
        return Err(Refusal::new(
            Code::Missing,
            format!(
                "{field}: contains {}, which a register cannot print (not in its code page CP1251)",
                fiscal_model::text::describe(c)
            ),
        ));
    }
    Ok(text.replace('\t', " "))
}

/// A fiscal sign given as a string or a number; absent, null and "" are none.
pub fn optional_fiscal_id(m: &Map<String, Value>, name: &str) -> Result<Option<u32>, Refusal> {
    let Some(text) = fields::numeric_text(m, name).map_err(|()| {
        Refusal::new(
            Code::Missing,
            format!("{name}: must be a string of digits (a fiscalID)"),
        )
    })?
    else {
        return Ok(None);
    };
    text.parse::<u32>().map(Some).map_err(|_| {
        Refusal::new(
            Code::NotFound,
            format!("{name}: {text:?} is not a fiscal sign this gateway issued (fiscalID is 1..10 digits)"),
        )
    })
}

/// An optional integer ≥ 0 (kopecks), exact.
pub fn non_negative(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
) -> Result<Option<u64>, Refusal> {
    let path = fields::join(prefix, name);
    let Some(value) = fields::optional_integer(m, prefix, name)? else {
        return Ok(None);
    };
    u64::try_from(value).map(Some).map_err(|_| {
        Refusal::new(
            Code::Missing,
            format!("{path}: must not be negative, got {value}"),
        )
    })
}

struct Line {
    name: String,
    qty: u64,
    amount: u64,
    discount: u64,
    vat: VatRate,
    prepayment_service: bool,
    marking: Option<String>,
}

fn read_item(m: &Map<String, Value>, path: &str) -> Result<Line, Refusal> {
    let at = |name: &str| fields::join(path, name);
    let name = fields::string(m, path, "itemName")?.trim().to_string();
    let qty = non_negative(m, path, "itemQty")?
        .ok_or_else(|| Refusal::new(Code::Missing, format!("{}: is required", at("itemQty"))))?;
    if qty == 0 {
        return Err(Refusal::new(
            Code::Missing,
            format!("{}: must be more than 0 (quantity × 1000)", at("itemQty")),
        ));
    }
    let amount = non_negative(m, path, "itemAmount")?
        .ok_or_else(|| Refusal::new(Code::Missing, format!("{}: is required", at("itemAmount"))))?;
    if amount == 0 {
        return Err(Refusal::new(
            Code::Missing,
            format!("{}: must be more than 0 kopecks", at("itemAmount")),
        ));
    }
    let discount = non_negative(m, path, "discount")?.unwrap_or(0);
    for margin in ["itemMarginSum", "itemMarginPrice"] {
        if m.get(margin).is_some_and(|v| !v.is_null()) {
            return Err(Refusal::new(
                Code::TaxRate,
                format!("{}: margin taxation has no equivalent in Russian fiscal receipts (FFD); send null or leave it out", at(margin)),
            ));
        }
    }
    let prepayment_service = match fields::optional_integer(m, path, "itemAttr")? {
        None | Some(0) => false,
        Some(1) => true,
        Some(other) => {
            return Err(Refusal::new(
                Code::Missing,
                format!(
                    "{}: {other} is not known (1 is a prepayment service)",
                    at("itemAttr")
                ),
            ))
        }
    };
    let vat = vat_of(m, path, prepayment_service)?;
    let marking = fields::optional_string(m, path, "itemQRCode")?.map(str::to_string);
    Ok(Line {
        name,
        qty,
        amount,
        discount,
        vat,
        prepayment_service,
        marking,
    })
}

/// The VAT rate of an item: `itemTaxes` empty or absent is "no VAT"; one tax with `calcType`
/// 1 (default) maps to the register's groups.
fn vat_of(m: &Map<String, Value>, path: &str, prepayment: bool) -> Result<VatRate, Refusal> {
    let taxes = match m.get("itemTaxes") {
        None | Some(Value::Null) => return Ok(VatRate::NoVat),
        Some(_) => fields::array(m, path, "itemTaxes")?,
    };
    let field = fields::join(path, "itemTaxes");
    let tax = match taxes {
        [] => return Ok(VatRate::NoVat),
        [one] => fields::object(one, &format!("{field}[0]"))?,
        _ => {
            return Err(Refusal::new(
                Code::TaxRate,
                format!(
                    "{field}: a position carries one VAT rate, got {}",
                    taxes.len()
                ),
            ))
        }
    };
    let at = format!("{field}[0]");
    let calc = fields::optional_integer(tax, &at, "calcType")?.unwrap_or(1);
    let prc = non_negative(tax, &at, "taxPrc")?
        .ok_or_else(|| Refusal::new(Code::Missing, format!("{at}.taxPrc: is required")))?;
    let percent = Decimal::from(prc) / Decimal::from(100);
    if calc != 1 {
        let how = match calc {
            2 => "fixed (calcType 2)",
            3 => "simplified (calcType 3)",
            _ => "unknown",
        };
        return Err(Refusal::new(
            Code::TaxRate,
            format!("{at}.calcType: {percent} % {how} is not a VAT rate the register can fiscalize; only calcType 1 (included in the price)"),
        ));
    }
    let vat = match (prc, prepayment) {
        (2200, false) => VatRate::Vat22,
        (2200, true) => VatRate::Vat22_122,
        (1000, false) => VatRate::Vat10,
        (1000, true) => VatRate::Vat10_110,
        (0, _) => VatRate::Vat0,
        (500, false) => VatRate::Vat5,
        (500, true) => VatRate::Vat5_105,
        (700, false) => VatRate::Vat7,
        (700, true) => VatRate::Vat7_107,
        _ => {
            return Err(Refusal::new(
                Code::TaxRate,
                format!("{at}.taxPrc: {percent} % is not a VAT rate of the register (22 %, 10 %, 0 %, 5 % or 7 %; no itemTaxes for no VAT)"),
            ))
        }
    };
    Ok(vat)
}

impl Line {
    /// The register's item(s) for this line: one, priced so that the FN gets `amount`, or two
    /// when one price cannot do it within the register's tolerance.
    fn items(
        &self,
        i: usize,
        method: PaymentMethod,
        settings: &SaleSettings,
    ) -> Result<Vec<Item>, Refusal> {
        let field = format!("items[{i}]");
        let mut attributes = ItemAttributes::default();
        if self.prepayment_service {
            attributes.payment_method = PaymentMethod::from_code(3, &field)?;
            attributes.payment_object = PaymentObject::from_code(10, &field)?;
        } else {
            attributes.payment_method = method;
        }
        if let Some(code) = &self.marking {
            attributes.marking_code = Some(MarkingCode::new(
                code.as_bytes().to_vec(),
                &format!("{field}.itemQRCode"),
            )?);
        }
        let template = Item {
            name: self.name.clone(),
            quantity: Quantity(0),
            price: Kopecks(0),
            vat: self.vat,
            attributes,
            line_sum: None,
            notes: Vec::new(),
        };
        let mut items = tape::priced(&template, self.qty, self.amount);
        if self.discount > 0 {
            if let Some(last) = items.last_mut() {
                last.notes
                    .push(pair("Скидка", self.discount, settings.print_width));
            }
        }
        Ok(items)
    }
}

impl From<fiscal_model::ModelError> for Refusal {
    fn from(e: fiscal_model::ModelError) -> Refusal {
        Refusal::new(Code::Missing, crate::ApiError::from(e).to_string())
    }
}

/// Payments (seed's `payments` block) → the receipt's five sums; also the change given from
/// cash and the cash handed over.
fn payments(
    m: &Map<String, Value>,
    amount: u64,
    bonuses: Bonuses,
) -> Result<(Payments, u64, u64), Refusal> {
    let empty = Map::new();
    let p = match m.get("payments") {
        None | Some(Value::Null) => &empty,
        Some(value) => fields::object(value, "payments")?,
    };
    let get = |name: &str| -> Result<u64, Refusal> {
        Ok(non_negative(p, "payments", name)?.unwrap_or(0))
    };
    let cash = get("cashAmount")?;
    let cashless = get("cashlessAmount")?;
    let prepayment = get("prepaymentAmount")?;
    let credit = get("creditAmount")?.saturating_add(get("installmentAmount")?);
    let bonus = get("bonusesAmount")?;
    let other = get("otherAmount")?;
    if other > 0 {
        return Err(Refusal::new(
            Code::PaymentType,
            "payments.otherAmount: an unnamed payment type has no place in a Russian fiscal receipt; pay as cash, cashless, prepayment, credit or bonuses",
        ));
    }
    if bonus > 0 && bonuses == Bonuses::Refuse {
        return Err(Refusal::new(
            Code::PaymentType,
            "payments.bonusesAmount: bonuses are not taken at this register",
        ));
    }
    let paid = [cash, cashless, prepayment, credit, bonus]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b));
    if paid < amount {
        return Err(Refusal::new(
            Code::NotPaid,
            format!("payments: add up to {paid} but the document's amount is {amount}"),
        ));
    }
    let change = paid - amount;
    if change > cash {
        return Err(Refusal::new(
            Code::ChangeNotCash,
            format!("payments: {change} more than the amount is paid, but change is given only from cash ({cash} paid in cash)"),
        ));
    }
    Ok((
        Payments {
            cash: Kopecks(cash - change),
            cashless: Kopecks(cashless),
            prepayment: Kopecks(prepayment),
            postpayment: Kopecks(credit),
            counter_provision: Kopecks(bonus),
        },
        change,
        cash,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> SaleSettings {
        SaleSettings {
            taxation: TaxationSystem::General,
            bonuses: Bonuses::CounterProvision,
            print_width: 32,
            unique_without_doc_time: true,
        }
    }

    fn sale(v: Value) -> Result<SaleDocument, Refusal> {
        match v {
            Value::Object(m) => read(&m, ReceiptType::Sale, &settings()),
            _ => unreachable!("tests pass objects"),
        }
    }

    fn base() -> Value {
        json!({
            "docTime": "2026-12-04 10:15:00",
            "docNumber": "A-17",
            "employeeName": "Иванов И.",
            "amount": 15000,
            "currency": "RUB",
            "items": [{"itemId": "1111", "itemName": "Семечки", "itemQty": 2000,
                        "itemAmount": 15000, "discount": 0,
                        "itemTaxes": [{"taxName": "НДС", "taxPrc": 2200}]}],
            "payments": {"cashAmount": 15000, "cashlessAmount": 0}
        })
    }

    #[test]
    fn the_seed_units_become_a_receipt() {
        let doc = sale(base()).expect("valid");
        let r = &doc.receipt;
        assert_eq!(r.total, Kopecks(15000));
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.items[0].quantity, Quantity(2_000_000));
        assert_eq!(r.items[0].price, Kopecks(7500));
        assert_eq!(r.items[0].vat, VatRate::Vat22);
        assert_eq!(r.cash, Kopecks(15000));
        assert_eq!(
            r.cashier.as_ref().map(|c| c.name.as_str()),
            Some("Иванов И.")
        );
        assert_eq!(doc.key.as_deref(), Some("2026-12-04 10:15:00|A-17|15000"));
    }

    #[test]
    fn a_line_sum_the_price_cannot_reach_is_sent_or_split() {
        let mut v = base();
        v["items"][0]["itemQty"] = json!(3000);
        v["items"][0]["itemAmount"] = json!(1000);
        v["amount"] = json!(1000);
        v["payments"]["cashAmount"] = json!(1000);
        let r = sale(v.clone()).expect("3 × 333.33").receipt;
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.items[0].price, Kopecks(333));
        assert_eq!(r.items[0].line_sum, Some(Kopecks(1000)));
        v["items"][0]["itemQty"] = json!(7000);
        let r = sale(v.clone()).expect("7 units").receipt;
        let total: u64 = r.items.iter().filter_map(|i| i.sum()).map(|k| k.0).sum();
        assert_eq!(total, 1000);
        assert!(r.items.len() <= 2);
        v["items"][0]["itemQty"] = json!(12345);
        v["items"][0]["itemAmount"] = json!(100000);
        v["amount"] = json!(100000);
        v["payments"]["cashAmount"] = json!(100000);
        let r = sale(v).expect("a weight").receipt;
        let total: u64 = r.items.iter().filter_map(|i| i.sum()).map(|k| k.0).sum();
        assert_eq!(total, 100000);
    }

    #[test]
    fn each_refusal_has_its_code() {
        let code = |v: Value| sale(v).err().map(|r| r.code);
        let mut v = base();
        v["amount"] = json!(14999);
        assert_eq!(code(v), Some(Code::AmountMismatch));
        let mut v = base();
        v["payments"]["cashAmount"] = json!(100);
        assert_eq!(code(v), Some(Code::NotPaid));
        let mut v = base();
        v["payments"] = json!({"cashAmount": 0, "cashlessAmount": 16000});
        assert_eq!(code(v), Some(Code::ChangeNotCash));
        let mut v = base();
        v["items"][0]["itemTaxes"][0]["taxPrc"] = json!(1800);
        let refusal = sale(v).expect_err("18 %");
        assert_eq!(refusal.code, Code::TaxRate);
        assert!(refusal.message.contains("18 %"), "{}", refusal.message);
        let mut v = base();
        v["items"][0]["itemTaxes"][0]["calcType"] = json!(3);
        assert_eq!(code(v), Some(Code::TaxRate));
        let mut v = base();
        v["items"][0]["itemMarginSum"] = json!(100);
        assert_eq!(code(v), Some(Code::TaxRate));
        let mut v = base();
        v["payments"]["otherAmount"] = json!(1);
        assert_eq!(code(v), Some(Code::PaymentType));
        let mut v = base();
        v["currency"] = json!("AZN");
        let refusal = sale(v).expect_err("AZN");
        assert_eq!(refusal.code, Code::Missing);
        assert!(refusal.message.starts_with("currency"));
        let mut v = base();
        v.as_object_mut().map(|m| m.remove("items"));
        assert_eq!(code(v), Some(Code::Missing));
    }

    #[test]
    fn payments_map_to_the_five_sums_and_change_comes_from_cash() {
        let mut v = base();
        v["payments"] = json!({"cashAmount": 20000, "cashlessAmount": 0});
        let doc = sale(v).expect("change");
        assert_eq!(doc.receipt.cash, Kopecks(15000));
        assert!(doc.receipt.text.footer.iter().any(|l| l.contains("50.00")));
        let mut v = base();
        v["payments"] = json!({"cashAmount": 1000, "cashlessAmount": 2000, "prepaymentAmount": 3000,
                               "creditAmount": 4000, "installmentAmount": 1000, "bonusesAmount": 4000});
        let r = sale(v).expect("all").receipt;
        assert_eq!(
            (
                r.cash,
                r.cashless,
                r.prepayment,
                r.postpayment,
                r.counter_provision
            ),
            (
                Kopecks(1000),
                Kopecks(2000),
                Kopecks(3000),
                Kopecks(5000),
                Kopecks(4000)
            )
        );
        assert_eq!(r.items[0].attributes.payment_method.code(), 5);
    }

    #[test]
    fn bonuses_may_be_refused_with_code_7() {
        let mut v = base();
        v["payments"] = json!({"cashAmount": 10000, "bonusesAmount": 5000});
        let Value::Object(m) = v else { unreachable!() };
        let refuse = SaleSettings {
            bonuses: Bonuses::Refuse,
            ..settings()
        };
        let refusal = read(&m, ReceiptType::Sale, &refuse).expect_err("refused");
        assert_eq!(refusal.code, Code::PaymentType);
        assert!(refusal.message.starts_with("payments.bonusesAmount"));
        let taken = read(&m, ReceiptType::Sale, &settings()).expect("counter-provision");
        assert_eq!(taken.receipt.counter_provision, Kopecks(5000));
    }

    #[test]
    fn a_prepayment_service_is_an_advance_at_the_calculated_rate() {
        let mut v = base();
        v["items"][0]["itemAttr"] = json!(1);
        let item = &sale(v).expect("advance").receipt.items[0];
        assert_eq!(item.vat, VatRate::Vat22_122);
        assert_eq!(item.attributes.payment_method.code(), 3);
        assert_eq!(item.attributes.payment_object.code(), 10);
    }

    #[test]
    fn text_the_register_cannot_print_is_refused_naming_the_items_field() {
        let mut v = base();
        v["items"][0]["itemName"] = json!(",\tё");
        let refusal = sale(v).expect_err("a tab");
        assert!(
            refusal.message.starts_with("items[0].itemName:"),
            "{}",
            refusal.message
        );
        let mut v = base();
        v["wsName"] = json!("Касса\u{1F600}");
        let refusal = sale(v).expect_err("an emoji");
        assert!(
            refusal.message.starts_with("wsName:"),
            "{}",
            refusal.message
        );
        // Line breaks and tabs are where the text is cut: taken.
        let mut v = base();
        v["printFooter"] = json!("Спасибо\r\nза\tпокупку");
        sale(v).expect("line breaks");
    }

    /// Fields the reader knows that [`base`] leaves out.
    const NOT_IN_THE_BASE: &[&str] = &[
        "fiscalID",
        "parentDocID",
        "wsName",
        "departmentName",
        "printFooter",
        "itemAttr",
        "itemQRCode",
        "itemMarginSum",
        "itemMarginPrice",
        "calcType",
        "prepaymentAmount",
        "creditAmount",
        "installmentAmount",
        "bonusesAmount",
        "otherAmount",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_change_to_a_sale_is_read_or_refused_naming_a_field(
            v in crate::mutate::variants(&base())
        ) {
            match sale(v.clone()) {
                Ok(doc) => {
                    let r = &doc.receipt;
                    let paid = r.cash.0
                        + r.cashless.0
                        + r.prepayment.0
                        + r.postpayment.0
                        + r.counter_provision.0;
                    proptest::prop_assert_eq!(r.total.0, paid);
                }
                Err(refusal) => {
                    let mut known = crate::mutate::keys(&v);
                    known.extend(crate::mutate::keys(&base()));
                    known.extend(NOT_IN_THE_BASE.iter().map(|k| k.to_string()));
                    proptest::prop_assert!(
                        crate::mutate::names_a_field(&refusal.message, &[], &known),
                        "{} in {}",
                        refusal.message,
                        v
                    );
                }
            }
        }
    }

    #[test]
    fn text_wraps_to_the_tape() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(pair("Сдача", 5000, 16), "Сдача      50.00");
    }
}
