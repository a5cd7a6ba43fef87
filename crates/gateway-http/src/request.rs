//! The Smart Cashier request bodies (`formReceipt`, `depositCash`, `withdrawCash`; the shop
//! day's operations are in `request_day`, which reuses these readers) turned into
//! the canonical [`OperationRequest`] the queue stores, or a 400 naming the first bad field.
//!
//! Field names, required/optional and dictionaries follow the API description v1.0.1. Money
//! and quantities go from the client's digits to `fiscal_model` types without a float. This
//! module does not route (see `routing`) and does not know the registers' tax groups.

use fiscal_model::attributes::{
    self, MAX_BUYER_NAME_CHARS, MAX_CASHIER_NAME_CHARS, MAX_SUPPLIER_NAME_CHARS,
};
use fiscal_model::{
    Agent, BuyerContact, BuyerDetails, CashMovement, CashMovementKind, FractionalQuantity, Guid,
    Item, ItemAttributes, Kopecks, MarkingCode, MeasurementUnit, ModelError, OperationBody,
    OperationRequest, PaymentMethod, PaymentObject, Payments, Quantity, Receipt, ReceiptCashier,
    ReceiptParts, ReceiptType, Routing, Supplier, TaxationSystem, VatRate,
};
use queue::OperationId;
use serde_json::{Map, Value};

use crate::fields;
use crate::ApiError;

/// Longest item name the FN accepts (tag 1030).
const MAX_ITEM_NAME_CHARS: usize = 128;
/// Longest buyer e-mail or phone the FN takes (tag 1008).
const MAX_CONTACT_CHARS: usize = 64;

/// A validated POST body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The client's idempotency key.
    pub id: OperationId,
    /// The canonical payload.
    pub request: OperationRequest,
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> ApiError {
        let field = e.field().to_string();
        let message = match &e {
            ModelError::Money { reason, .. }
            | ModelError::Quantity { reason, .. }
            | ModelError::Dictionary { reason, .. }
            | ModelError::Receipt { reason, .. }
            | ModelError::Guid { reason, .. } => reason.clone(),
        };
        ApiError::Validation {
            field: Some(field),
            message,
        }
    }
}

/// `operationId`: 1..=128 characters, no control characters.
pub fn operation_id(m: &Map<String, Value>) -> Result<OperationId, ApiError> {
    let raw = fields::string(m, "", "operationId")?;
    operation_id_from(raw)
}

/// Checks an operation id given as text (body or query).
pub fn operation_id_from(raw: &str) -> Result<OperationId, ApiError> {
    OperationId::new(raw).map_err(|e| {
        let text = e.to_string();
        let reason = text.strip_prefix("invalid operation id: ").unwrap_or(&text);
        ApiError::invalid("operationId", reason.to_string())
    })
}

/// An optional GUID field: "" and null mean absent; otherwise the hyphenated form, lower-cased.
pub fn guid(m: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    let Some(raw) = fields::optional_string(m, "", name)? else {
        return Ok(None);
    };
    Ok(Some(Guid::parse(raw, name)?.into()))
}

/// A money field in roubles (≥ 0, at most two decimals).
fn money(m: &Map<String, Value>, prefix: &str, name: &str) -> Result<Kopecks, ApiError> {
    let value = fields::decimal(m, prefix, name)?;
    Ok(Kopecks::from_roubles(value, &fields::join(prefix, name))?)
}

/// An optional money field; absent or null is 0.
fn optional_money(m: &Map<String, Value>, name: &str) -> Result<Kopecks, ApiError> {
    match fields::optional_decimal(m, "", name)? {
        Some(value) => Ok(Kopecks::from_roubles(value, name)?),
        None => Ok(Kopecks(0)),
    }
}

/// An optional string that goes into an FN tag, checked by [`attributes::tag_text`].
fn optional_tag_text(
    m: &Map<String, Value>,
    prefix: &str,
    name: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let path = fields::join(prefix, name);
    Ok(fields::optional_string(m, prefix, name)?
        .map(|v| attributes::tag_text(v, max, &path))
        .transpose()?)
}

/// `cashierName` / `cashierInn` (tags 1021/1203): the receipt's cashier, overriding the
/// register's configured one. An INN alone would pair with the configured name: refused.
pub(crate) fn receipt_cashier(m: &Map<String, Value>) -> Result<Option<ReceiptCashier>, ApiError> {
    let name = optional_tag_text(m, "", "cashierName", MAX_CASHIER_NAME_CHARS)?;
    let inn = fields::optional_string(m, "", "cashierInn")?
        .map(|v| attributes::inn(v, &[12], "cashierInn"))
        .transpose()?;
    match (name, inn) {
        (Some(name), inn) => Ok(Some(ReceiptCashier { name, inn })),
        (None, Some(_)) => Err(ApiError::invalid(
            "cashierInn",
            "needs cashierName: the receipt's cashier replaces the register's, name and INN together",
        )),
        (None, None) => Ok(None),
    }
}

/// `buyerName` / `buyerInn` (tags 1227/1228).
fn buyer_details(m: &Map<String, Value>) -> Result<Option<BuyerDetails>, ApiError> {
    let name = optional_tag_text(m, "", "buyerName", MAX_BUYER_NAME_CHARS)?;
    let inn = fields::optional_string(m, "", "buyerInn")?
        .map(|v| attributes::inn(v, &[10, 12], "buyerInn"))
        .transpose()?;
    Ok((name.is_some() || inn.is_some()).then_some(BuyerDetails { name, inn }))
}

/// The `formReceipt` body.
pub fn form_receipt(body: &Value) -> Result<ParsedRequest, ApiError> {
    let m = fields::object(body, "")?;
    let (id, receipt, routing) = receipt(m)?;
    Ok(ParsedRequest {
        id,
        request: OperationRequest {
            body: OperationBody::Receipt(receipt),
            routing,
        },
    })
}

/// The fields of a `formReceipt` body (also the receipt of `formCorrectionReceipt`): its id,
/// the receipt and where it goes.
pub(crate) fn receipt(m: &Map<String, Value>) -> Result<(OperationId, Receipt, Routing), ApiError> {
    let id = operation_id(m)?;
    let receipt_type =
        ReceiptType::from_code(fields::integer(m, "", "receiptType")?, "receiptType")?;
    let print = fields::boolean(m, "", "printReceipt")?;
    let taxation =
        TaxationSystem::from_code(fields::integer(m, "", "taxationSystem")?, "taxationSystem")?;
    let email = fields::optional_string(m, "", "buyerEmail")?
        .map(email_address)
        .transpose()?;
    let phone = fields::optional_string(m, "", "buyerPhoneNumber")?
        .map(phone_number)
        .transpose()?;
    let positions = fields::array(m, "", "positions")?;
    if positions.len() > fiscal_model::MAX_POSITIONS {
        return Err(ApiError::invalid(
            "positions",
            format!(
                "has {} positions; at most {} fit in one receipt",
                positions.len(),
                fiscal_model::MAX_POSITIONS
            ),
        ));
    }
    let mut items = Vec::with_capacity(positions.len());
    for (i, position) in positions.iter().enumerate() {
        items.push(item(position, &format!("positions[{i}]"))?);
    }
    let payments = Payments {
        cash: money(m, "", "cashPaymentSum")?,
        cashless: money(m, "", "cashlessPaymentSum")?,
        prepayment: optional_money(m, "prepaymentSum")?,
        postpayment: optional_money(m, "postpaymentSum")?,
        counter_provision: optional_money(m, "counterProvisionSum")?,
    };
    let cashier = receipt_cashier(m)?;
    let details = buyer_details(m)?;
    let total = money(m, "", "totalSum")?;
    let routing = Routing {
        cashbox_id: guid(m, "cashboxId")?,
        cashbox_group_id: guid(m, "cashboxGroupId")?,
        juridical_person_id: guid(m, "juridicalPersonId")?,
    };
    // Tag 1008 holds one contact; when both are given the e-mail wins (documented). The phone
    // stays in the payload, so a replay with another phone is a conflict, not a duplicate.
    let (buyer, unsent) = match (email, phone) {
        (Some(email), phone) => (
            Some(BuyerContact::Email(email)),
            phone.map(BuyerContact::Phone),
        ),
        (None, phone) => (phone.map(BuyerContact::Phone), None),
    };
    let receipt = ReceiptParts {
        receipt_type,
        taxation,
        items,
        payments,
        total,
        buyer,
        print,
    }
    .build()?
    .with_unsent_contact(unsent)
    .with_cashier(cashier)
    .with_buyer_details(details);
    Ok((id, receipt, routing))
}

fn item(position: &Value, path: &str) -> Result<Item, ApiError> {
    let m = fields::object(position, path)?;
    let name = fields::string(m, path, "name")?;
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err(ApiError::invalid(
            fields::join(path, "name"),
            "must not be empty",
        ));
    }
    if chars > MAX_ITEM_NAME_CHARS {
        return Err(ApiError::invalid(
            fields::join(path, "name"),
            format!(
                "is {chars} characters long; at most {} allowed",
                MAX_ITEM_NAME_CHARS
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            fields::join(path, "name"),
            "must not contain control characters",
        ));
    }
    let quantity_path = fields::join(path, "quantity");
    let quantity = Quantity::from_decimal(fields::decimal(m, path, "quantity")?, &quantity_path)?;
    let price = money(m, path, "price")?;
    if price.0 == 0 {
        return Err(ApiError::invalid(
            fields::join(path, "price"),
            "must be greater than 0",
        ));
    }
    let tax_path = fields::join(path, "taxType");
    let vat = VatRate::from_api_code(fields::integer(m, path, "taxType")?, &tax_path)?;
    Ok(Item {
        name: name.to_string(),
        quantity,
        price,
        vat,
        attributes: item_attributes(m, path)?,
        line_sum: None,
        notes: Vec::new(),
    })
}

/// A position's optional attributes (FFD 1.2 addendum §3); each absent one is its default.
fn item_attributes(m: &Map<String, Value>, path: &str) -> Result<ItemAttributes, ApiError> {
    let mut a = ItemAttributes::default();
    let at = |name: &str| fields::join(path, name);
    if let Some(code) = fields::optional_integer(m, path, "paymentMethod")? {
        a.payment_method = PaymentMethod::from_code(code, &at("paymentMethod"))?;
    }
    if let Some(code) = fields::optional_integer(m, path, "paymentObject")? {
        a.payment_object = PaymentObject::from_code(code, &at("paymentObject"))?;
    }
    if let Some(code) = fields::optional_integer(m, path, "measurementUnit")? {
        a.measurement_unit = MeasurementUnit::from_code(code, &at("measurementUnit"))?;
    }
    let text = fields::optional_string(m, path, "markingCode")?;
    let encoded = fields::optional_string(m, path, "markingCodeBase64")?;
    a.marking_code = match (text, encoded) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                at("markingCodeBase64"),
                "give markingCode or markingCodeBase64, not both",
            ))
        }
        (Some(code), None) => Some(MarkingCode::new(
            code.as_bytes().to_vec(),
            &at("markingCode"),
        )?),
        (None, Some(encoded)) => {
            let bytes = base64_decode(encoded).ok_or_else(|| {
                ApiError::invalid(
                    at("markingCodeBase64"),
                    "is not base64 (standard alphabet, padding optional)",
                )
            })?;
            Some(MarkingCode::new(bytes, &at("markingCodeBase64"))?)
        }
        (None, None) => None,
    };
    if let Some(f) = fields::optional_object(m, path, "fractionalQuantity")? {
        let p = at("fractionalQuantity");
        a.fractional_quantity = Some(FractionalQuantity::new(
            fields::integer(f, &p, "numerator")?,
            fields::integer(f, &p, "denominator")?,
            &p,
        )?);
    }
    if let Some(o) = fields::optional_object(m, path, "agent")? {
        let p = at("agent");
        let phone = fields::optional_string(o, &p, "phone")?
            .map(|v| attributes::phone(v, &fields::join(&p, "phone")))
            .transpose()?;
        a.agent = Some(Agent::new(fields::integer(o, &p, "type")?, phone, &p)?);
    }
    if let Some(o) = fields::optional_object(m, path, "supplier")? {
        let p = at("supplier");
        let name = attributes::tag_text(
            fields::string(o, &p, "name")?,
            MAX_SUPPLIER_NAME_CHARS,
            &fields::join(&p, "name"),
        )?;
        let inn = attributes::inn(
            fields::string(o, &p, "inn")?,
            &[10, 12],
            &fields::join(&p, "inn"),
        )?;
        let phone = fields::optional_string(o, &p, "phone")?
            .map(|v| attributes::phone(v, &fields::join(&p, "phone")))
            .transpose()?;
        a.supplier = Some(Supplier { name, inn, phone });
    }
    Ok(a)
}

/// Standard base64 (RFC 4648 §4), padding optional; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=');
    if text.len() - digits.len() > 2 || digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in digits.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xFF).ok()?);
        }
    }
    Some(out)
}

/// `depositCash` / `withdrawCash`: cashboxId is required there (the API says so).
pub fn cash(body: &Value, kind: CashMovementKind) -> Result<ParsedRequest, ApiError> {
    let m = fields::object(body, "")?;
    let id = operation_id(m)?;
    let cashbox =
        guid(m, "cashboxId")?.ok_or_else(|| ApiError::invalid("cashboxId", "is required"))?;
    let amount = money(m, "", "amount")?;
    if amount == Kopecks(0) {
        return Err(ApiError::invalid("amount", "must be greater than 0"));
    }
    Ok(ParsedRequest {
        id,
        request: OperationRequest {
            body: OperationBody::Cash(CashMovement { kind, amount }),
            routing: Routing {
                cashbox_id: Some(cashbox),
                cashbox_group_id: None,
                juridical_person_id: None,
            },
        },
    })
}

/// A plausible e-mail address: one `@`, a dotted domain, no spaces, at most 64 characters.
fn email_address(raw: &str) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::invalid("buyerEmail", format!("{raw:?} {why}"));
    let s = raw.trim();
    if s.chars().count() > MAX_CONTACT_CHARS {
        return Err(bad("is longer than 64 characters"));
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err(bad("is not an e-mail address"));
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty()
        || !domain_ok
        || domain.contains('@')
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad("is not an e-mail address"));
    }
    // It is printed on the receipt and stored in the FN: the same code page as the positions.
    if let Some(c) = fiscal_model::text::unprintable(s) {
        return Err(ApiError::invalid(
            "buyerEmail",
            format!(
                "contains {}, which a register cannot print (not in its code page CP1251)",
                fiscal_model::text::describe(c)
            ),
        ));
    }
    Ok(s.to_string())
}

/// A Russian phone number in any usual spelling, normalised to `+7XXXXXXXXXX`.
fn phone_number(raw: &str) -> Result<String, ApiError> {
    let mut digits = String::new();
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' => {}
            _ => {
                return Err(ApiError::invalid(
                    "buyerPhoneNumber",
                    format!("{raw:?} is not a phone number"),
                ))
            }
        }
    }
    let national = match digits.len() {
        11 if digits.starts_with('7') || digits.starts_with('8') => &digits[1..],
        10 => &digits[..],
        _ => {
            return Err(ApiError::invalid(
                "buyerPhoneNumber",
                format!("{raw:?} is not a Russian phone number (+7 and 10 digits)"),
            ))
        }
    };
    Ok(format!("+7{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised() {
        for raw in [
            "+7 (912) 345-67-89",
            "89123456789",
            "79123456789",
            "9123456789",
        ] {
            assert_eq!(phone_number(raw), Ok("+79123456789".to_string()), "{raw}");
        }
        for raw in ["12345", "+1 555 123 4567", "8912345678a"] {
            assert!(phone_number(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn emails_are_checked() {
        assert!(email_address("customer@example.com").is_ok());
        for raw in ["customer", "a@b", "a b@c.ru", "@c.ru", "a@.ru", "a@b@c.ru"] {
            assert!(email_address(raw).is_err(), "{raw}");
        }
    }
}
