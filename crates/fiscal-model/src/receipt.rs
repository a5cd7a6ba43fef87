//! A receipt and a cash movement as the gateway means them: validated, balanced, in kopecks.

use serde::{Deserialize, Serialize};

use crate::{
    BuyerDetails, ItemAttributes, Kopecks, ModelError, Quantity, ReceiptCashier, ReceiptType,
    TaxationSystem, VatRate,
};

/// Longest item name the FN accepts (tag 1030, FF46 offset 32).
pub const MAX_ITEM_NAME_CHARS: usize = 128;

/// Most positions one receipt may hold. The register refuses past its own operation limit
/// (error 0x94, a number its documentation does not give); 100 positions of the longest name
/// keep the stored operation far inside the store's record bound.
pub const MAX_POSITIONS: usize = 100;

/// Most non-fiscal lines in a receipt's header, in its footer, or under one position: what a
/// shop prints there (name, desk, a discount, a greeting) with room to spare, while keeping
/// a receipt's print far from the register's buffer and the cashier's patience.
pub const MAX_TEXT_LINES: usize = 20;

/// One position of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Name as printed and sent to the OFD (tag 1030), 1..=128 characters.
    pub name: String,
    /// Quantity (tag 1023).
    pub quantity: Quantity,
    /// Price per unit (tag 1079).
    pub price: Kopecks,
    /// VAT rate (tag 1199).
    pub vat: VatRate,
    /// Payment method and object, measure, fractional quantity, agent and supplier; left out
    /// of the stored form when all are the defaults.
    #[serde(default, skip_serializing_if = "ItemAttributes::is_default")]
    pub attributes: ItemAttributes,
    /// What the buyer pays for this line (tag 1043) when the seller fixes it, e.g. after a discount;
    /// within ±1 kopeck of price × quantity (the register's tolerance). None: the register computes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_sum: Option<Kopecks>,
    /// Non-fiscal lines printed right under the position (a discount, a comment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Item {
    /// What the buyer pays for the line: `line_sum` when the seller fixed it, else price ×
    /// quantity rounded to the kopeck as the register computes it.
    pub fn sum(&self) -> Option<Kopecks> {
        self.line_sum.or_else(|| self.computed_sum())
    }

    /// price × quantity, rounded to the kopeck as the register computes it.
    pub fn computed_sum(&self) -> Option<Kopecks> {
        self.quantity.times(self.price)
    }
}

/// Non-fiscal lines printed on a receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptText {
    /// Printed after the receipt opens, before the first position (shop name, cash desk).
    pub header: Vec<String>,
    /// Printed after the positions, before the totals.
    pub footer: Vec<String>,
}

impl ReceiptText {
    /// No line at all.
    pub fn is_empty(&self) -> bool {
        self.header.is_empty() && self.footer.is_empty()
    }
}

/// Where the electronic receipt goes (tag 1008).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuyerContact {
    /// An e-mail address.
    Email(String),
    /// A phone number in +7… form.
    Phone(String),
}

impl BuyerContact {
    /// The tag 1008 value.
    pub fn value(&self) -> &str {
        match self {
            BuyerContact::Email(s) | BuyerContact::Phone(s) => s,
        }
    }
}

/// A receipt ready for a register. Constructed only through [`ReceiptParts::build`], which
/// checks that it balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Receipt type (tag 1054).
    pub receipt_type: ReceiptType,
    /// Taxation system (tag 1055).
    pub taxation: TaxationSystem,
    /// Positions, at least one.
    pub items: Vec<Item>,
    /// Paid in cash.
    pub cash: Kopecks,
    /// Paid electronically.
    pub cashless: Kopecks,
    /// Receipt total; equals the sum of the items and the sum of the payments.
    pub total: Kopecks,
    /// Buyer e-mail or phone (tag 1008), if any.
    pub buyer: Option<BuyerContact>,
    /// `false`: electronic receipt only (requires `buyer`).
    pub print: bool,
    /// A second contact the client gave beside `buyer` (a phone beside an e-mail). Tag 1008
    /// holds one contact, so it is not sent; it is kept because it is part of what the client
    /// asked, so a replay that changes it is a different request (idempotency conflict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsent_contact: Option<BuyerContact>,
    /// Paid by an earlier prepayment or advance (tag 1215, FF45 slot 14).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prepayment: Kopecks,
    /// Left to be paid later, on credit (tag 1216, FF45 slot 15).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub postpayment: Kopecks,
    /// Paid by counter-provision (tag 1217, FF45 slot 16).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub counter_provision: Kopecks,
    /// The cashier this receipt names (tags 1021/1203), instead of the register's configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cashier: Option<ReceiptCashier>,
    /// The buyer's name and INN (tags 1227/1228).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_details: Option<BuyerDetails>,
    /// Non-fiscal header and footer lines.
    #[serde(default, skip_serializing_if = "ReceiptText::is_empty")]
    pub text: ReceiptText,
}

fn is_zero(k: &Kopecks) -> bool {
    k.0 == 0
}

/// How a receipt is paid. All in kopecks; together they equal the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Payments {
    /// Cash (tag 1031).
    pub cash: Kopecks,
    /// Electronic (tag 1081).
    pub cashless: Kopecks,
    /// Prepayment / advance offset (tag 1215).
    pub prepayment: Kopecks,
    /// Postpayment, credit (tag 1216).
    pub postpayment: Kopecks,
    /// Counter-provision (tag 1217).
    pub counter_provision: Kopecks,
}

/// Everything a receipt is made of, by name. [`ReceiptParts::build`] is the one way to a
/// [`Receipt`]: it checks the parts before they become one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptParts {
    /// Receipt type (tag 1054).
    pub receipt_type: ReceiptType,
    /// Taxation system (tag 1055).
    pub taxation: TaxationSystem,
    /// Positions, at least one.
    pub items: Vec<Item>,
    /// How it is paid; together the payments equal `total`.
    pub payments: Payments,
    /// Receipt total; equals the sum of the items.
    pub total: Kopecks,
    /// Buyer e-mail or phone (tag 1008), if any.
    pub buyer: Option<BuyerContact>,
    /// `false`: electronic receipt only (requires `buyer`).
    pub print: bool,
}

impl ReceiptParts {
    /// Checks the whole receipt: items present and named, totals equal to the kopeck (the
    /// payments, in any of the five ways, too), an electronic receipt has somewhere to go.
    pub fn build(self) -> Result<Receipt, ModelError> {
        self.check()?;
        let payments = self.payments;
        Ok(Receipt {
            receipt_type: self.receipt_type,
            taxation: self.taxation,
            items: self.items,
            cash: payments.cash,
            cashless: payments.cashless,
            total: self.total,
            buyer: self.buyer,
            print: self.print,
            unsent_contact: None,
            prepayment: payments.prepayment,
            postpayment: payments.postpayment,
            counter_provision: payments.counter_provision,
            cashier: None,
            buyer_details: None,
            text: ReceiptText::default(),
        })
    }

    /// The rules of [`ReceiptParts::build`]; the first one broken is the error.
    fn check(&self) -> Result<(), ModelError> {
        let err = |field: &str, reason: String| ModelError::Receipt {
            field: field.to_string(),
            reason,
        };
        let total = self.total;
        if self.items.is_empty() {
            return Err(err(
                "positions",
                "must contain at least one position".into(),
            ));
        }
        let mut sum = Kopecks(0);
        for (i, item) in self.items.iter().enumerate() {
            let chars = item.name.chars().count();
            if item.name.trim().is_empty() {
                return Err(err(
                    &format!("positions[{i}].name"),
                    "must not be empty".into(),
                ));
            }
            if chars > MAX_ITEM_NAME_CHARS {
                return Err(err(
                    &format!("positions[{i}].name"),
                    format!("is {chars} characters long; at most {MAX_ITEM_NAME_CHARS} allowed"),
                ));
            }
            if let Some(c) = crate::text::unprintable(&item.name) {
                return Err(err(
                    &format!("positions[{i}].name"),
                    format!(
                        "contains {}, which a register cannot print (not in its code page CP1251)",
                        crate::text::describe(c)
                    ),
                ));
            }
            let computed = item.computed_sum().ok_or_else(|| {
                err(
                    &format!("positions[{i}]"),
                    format!(
                        "price × quantity is larger than the largest amount a register holds ({})",
                        Kopecks::MAX
                    ),
                )
            })?;
            let line = item.line_sum.unwrap_or(computed);
            if let Some(given) = item.line_sum {
                // The register takes an FF46 sum within one kopeck of its own product (§7.6.2).
                if given == Kopecks(0) || given.0.abs_diff(computed.0) > 1 {
                    return Err(err(
                        &format!("positions[{i}].lineSum"),
                        format!(
                            "is {given} but price × quantity ({} × {}) is {computed}; a register takes a line sum of at least 0.01 within 0.01 of it",
                            item.price, item.quantity
                        ),
                    ));
                }
            }
            check_lines(&item.notes, &format!("positions[{i}].notes"))?;
            if line == Kopecks(0) {
                return Err(err(
                    &format!("positions[{i}]"),
                    format!(
                        "price × quantity ({} × {}) rounds to 0.00; a position must come to at least 0.01",
                        item.price, item.quantity
                    ),
                ));
            }
            check_attributes(item, i)?;
            let marking_allowed = matches!(
                self.receipt_type,
                ReceiptType::Sale | ReceiptType::SaleReturn
            );
            if item.attributes.marking_code.is_some() && !marking_allowed {
                return Err(err(
                    &format!("positions[{i}].markingCode"),
                    "marked goods are sold and returned only in sale and sale-return receipts (addendum §4.9)".into(),
                ));
            }
            sum = sum.checked_add(line).ok_or_else(|| {
                err(
                    "positions",
                    format!(
                        "the positions add up to more than the largest amount a register holds ({})",
                        Kopecks::MAX
                    ),
                )
            })?;
        }
        if sum != total {
            return Err(err(
                "totalSum",
                format!("is {total} but the positions add up to {sum}"),
            ));
        }
        let Payments {
            cash,
            cashless,
            prepayment,
            postpayment,
            counter_provision,
        } = self.payments;
        let others = [prepayment, postpayment, counter_provision];
        let named = if others.iter().all(|k| k.0 == 0) {
            "cashPaymentSum + cashlessPaymentSum"
        } else {
            "cashPaymentSum + cashlessPaymentSum + prepaymentSum + postpaymentSum + counterProvisionSum"
        };
        let paid = others
            .iter()
            .try_fold(cash.checked_add(cashless), |acc, k| {
                acc.map(|a| a.checked_add(*k))
            })
            .flatten()
            .ok_or_else(|| {
                err(
                    "cashPaymentSum",
                    format!(
                        "{named} is larger than the largest amount a register holds ({})",
                        Kopecks::MAX
                    ),
                )
            })?;
        if paid != total {
            return Err(err("totalSum", format!("is {total} but {named} = {paid}")));
        }
        if !self.print && self.buyer.is_none() {
            return Err(err(
                "printReceipt",
                "false (electronic receipt) requires buyerEmail or buyerPhoneNumber".into(),
            ));
        }
        Ok(())
    }
}

impl Receipt {
    /// The cashier named on this receipt (tags 1021/1203), instead of the register's.
    pub fn with_cashier(mut self, cashier: Option<ReceiptCashier>) -> Receipt {
        self.cashier = cashier;
        self
    }

    /// The buyer's name and INN (tags 1227/1228); `None` when neither is given.
    pub fn with_buyer_details(mut self, details: Option<BuyerDetails>) -> Receipt {
        self.buyer_details = details.filter(|d| d.name.is_some() || d.inn.is_some());
        self
    }

    /// The receipt's header and footer lines, refused when a list holds more than
    /// [`MAX_TEXT_LINES`] or a line has a character a register cannot print (CP1251). The
    /// width is the caller's to check: it depends on the register.
    pub fn with_text(mut self, text: ReceiptText) -> Result<Receipt, ModelError> {
        check_lines(&text.header, "text.header")?;
        check_lines(&text.footer, "text.footer")?;
        self.text = text;
        Ok(self)
    }

    /// Keeps `contact` as given beside `buyer` but not sent (see [`Receipt::unsent_contact`]).
    pub fn with_unsent_contact(mut self, contact: Option<BuyerContact>) -> Receipt {
        self.unsent_contact = contact;
        self
    }
}

/// Non-fiscal lines (a header, a footer, a position's notes) under `field`: at most
/// [`MAX_TEXT_LINES`], each printable in CP1251 (`field[k]` names the line refused).
fn check_lines(lines: &[String], field: &str) -> Result<(), ModelError> {
    if lines.len() > MAX_TEXT_LINES {
        return Err(ModelError::Receipt {
            field: field.to_string(),
            reason: format!(
                "has {} lines; at most {MAX_TEXT_LINES} allowed",
                lines.len()
            ),
        });
    }
    for (k, line) in lines.iter().enumerate() {
        if let Some(c) = crate::text::unprintable(line) {
            return Err(ModelError::Receipt {
                field: format!("{field}[{k}]"),
                reason: format!(
                    "contains {}, which a register cannot print (not in its code page CP1251)",
                    crate::text::describe(c)
                ),
            });
        }
    }
    Ok(())
}

/// What one position's attributes require of each other (addendum §3, §4.7): agent and
/// supplier come together (FFD 1.2 asks 1224 and 1226 with 1222); a fractional quantity is
/// of a piece item sold in whole numbers.
fn check_attributes(item: &Item, i: usize) -> Result<(), ModelError> {
    let err = |field: &str, reason: &str| ModelError::Receipt {
        field: format!("positions[{i}].{field}"),
        reason: reason.to_string(),
    };
    let a = &item.attributes;
    match (&a.agent, &a.supplier) {
        (Some(_), None) => {
            return Err(err(
                "supplier",
                "is required when agent is given (tags 1224 and 1226 go with 1222)",
            ))
        }
        (None, Some(_)) => {
            return Err(err(
                "agent",
                "is required when supplier is given (tag 1222: who sells for the supplier)",
            ))
        }
        _ => {}
    }
    if a.fractional_quantity.is_some() {
        if a.measurement_unit.code() != 0 {
            return Err(err(
                "measurementUnit",
                "must be 0 (piece) when fractionalQuantity is given",
            ));
        }
        if item.quantity.whole_units().is_none() {
            return Err(err(
                "quantity",
                "must be a whole number when fractionalQuantity is given (the fraction says which part of a pack is sold)",
            ));
        }
    }
    Ok(())
}

/// Cash in or cash out (0x50 / 0x51).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CashMovementKind {
    /// Внесение.
    In,
    /// Выплата / изъятие.
    Out,
}

/// A cash movement: no FN fiscal document, only a register slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMovement {
    /// In or out.
    pub kind: CashMovementKind,
    /// The amount, more than zero.
    pub amount: Kopecks,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn item(q: u64, price: u64) -> Item {
        Item {
            name: "Молоко".into(),
            quantity: Quantity(q * 1_000_000),
            price: Kopecks(price),
            vat: VatRate::Vat22,
            attributes: ItemAttributes::default(),
            line_sum: None,
            notes: Vec::new(),
        }
    }

    /// A printed sale in the general taxation system, paid `cash` + `cashless`, no buyer.
    fn sale(items: Vec<Item>, cash: u64, cashless: u64, total: u64) -> ReceiptParts {
        ReceiptParts {
            receipt_type: ReceiptType::Sale,
            taxation: TaxationSystem::General,
            items,
            payments: Payments {
                cash: Kopecks(cash),
                cashless: Kopecks(cashless),
                ..Payments::default()
            },
            total: Kopecks(total),
            buyer: None,
            print: true,
        }
    }

    #[test]
    fn the_seed_example_balances() {
        let r = ReceiptParts {
            taxation: TaxationSystem::SimplifiedIncome,
            buyer: Some(BuyerContact::Email("customer@example.com".into())),
            ..sale(vec![item(3, 7000), item(2, 3000)], 20000, 7000, 27000)
        }
        .build();
        assert!(r.is_ok(), "{r:?}");
    }

    #[test]
    fn unbalanced_receipts_name_the_field() {
        let r = sale(vec![item(1, 100)], 100, 0, 101).build();
        assert_eq!(r.unwrap_err().field(), "totalSum");
        let r = sale(vec![item(1, 100)], 50, 0, 100).build();
        assert_eq!(r.unwrap_err().field(), "totalSum");
        let r = ReceiptParts {
            print: false,
            ..sale(vec![item(1, 100)], 100, 0, 100)
        }
        .build();
        assert_eq!(r.unwrap_err().field(), "printReceipt");
        let r = sale(vec![], 0, 0, 0).build();
        assert_eq!(r.unwrap_err().field(), "positions");
        let mut long = item(1, 100);
        long.name = "я".repeat(129);
        let r = sale(vec![long], 100, 0, 100).build();
        assert_eq!(r.unwrap_err().field(), "positions[0].name");
    }

    fn one(item: Item, total: Kopecks) -> Result<Receipt, ModelError> {
        sale(vec![item], total.0, 0, total.0).build()
    }

    #[test]
    fn names_a_register_cannot_print_are_refused_naming_the_character() {
        let mut emoji = item(1, 100);
        emoji.name = "Сок 🍊".into();
        let e = one(emoji, Kopecks(100)).unwrap_err();
        assert_eq!(e.field(), "positions[0].name");
        assert!(e.to_string().contains("U+1F34A"), "{e}");
        let mut zwj = item(1, 100);
        zwj.name = "Хлеб\u{200D}ржаной".into();
        let e = one(zwj, Kopecks(100)).unwrap_err();
        assert!(e.to_string().contains("U+200D"), "{e}");
        let mut typographic = item(1, 100);
        typographic.name = "«Ёлочка» — № 5 …".into();
        assert!(one(typographic, Kopecks(100)).is_ok());
    }

    #[test]
    fn a_position_of_zero_kopecks_is_refused() {
        let tiny = Item {
            name: "Болт".into(),
            quantity: Quantity(1_000),
            price: Kopecks(1),
            vat: VatRate::Vat22,
            attributes: ItemAttributes::default(),
            line_sum: None,
            notes: Vec::new(),
        };
        let e = one(tiny, Kopecks(0)).unwrap_err();
        assert_eq!(e.field(), "positions[0]");
        assert!(e.to_string().contains("0.00"), "{e}");
    }

    #[test]
    fn sums_above_the_register_maximum_are_refused() {
        let huge = Item {
            name: "Слиток".into(),
            quantity: Quantity(2_000_000),
            price: Kopecks::MAX,
            vat: VatRate::Vat22,
            attributes: ItemAttributes::default(),
            line_sum: None,
            notes: Vec::new(),
        };
        let e = one(huge, Kopecks::MAX).unwrap_err();
        assert_eq!(e.field(), "positions[0]");
        let half = Item {
            name: "Слиток".into(),
            quantity: Quantity::ONE,
            price: Kopecks(Kopecks::MAX.0 / 2 + 1),
            vat: VatRate::Vat22,
            attributes: ItemAttributes::default(),
            line_sum: None,
            notes: Vec::new(),
        };
        let max = Kopecks::MAX.0;
        let r = sale(vec![half.clone(), half], max, 0, max).build();
        assert_eq!(r.unwrap_err().field(), "positions");
        let r = sale(vec![item(1, 100)], max, 1, 100).build();
        assert_eq!(r.unwrap_err().field(), "cashPaymentSum");
    }

    fn paid(payments: Payments, total: u64) -> Result<Receipt, ModelError> {
        ReceiptParts {
            payments,
            ..sale(vec![item(1, total)], 0, 0, total)
        }
        .build()
    }

    #[test]
    fn prepayment_postpayment_and_counter_provision_count_in_the_balance() {
        let p = Payments {
            cash: Kopecks(100),
            cashless: Kopecks(200),
            prepayment: Kopecks(300),
            postpayment: Kopecks(400),
            counter_provision: Kopecks(500),
        };
        let r = paid(p, 1500).unwrap();
        assert_eq!(
            (r.prepayment, r.postpayment, r.counter_provision),
            (Kopecks(300), Kopecks(400), Kopecks(500))
        );
        let e = paid(p, 1501).unwrap_err();
        assert_eq!(e.field(), "totalSum");
        assert!(e.to_string().contains("prepaymentSum"), "{e}");
        let only_credit = Payments {
            postpayment: Kopecks(700),
            ..Payments::default()
        };
        assert!(paid(only_credit, 700).is_ok());
        let over = Payments {
            cash: Kopecks::MAX,
            counter_provision: Kopecks(1),
            ..Payments::default()
        };
        assert_eq!(paid(over, 100).unwrap_err().field(), "cashPaymentSum");
    }

    #[test]
    fn marked_items_only_in_sale_and_sale_return() {
        use crate::MarkingCode;
        let mut milk = item(1, 100);
        milk.attributes.marking_code =
            Some(MarkingCode::new(b"0104601234567890215abcDE\x1d93ABCD".to_vec(), "c").unwrap());
        for (receipt_type, allowed) in [
            (ReceiptType::Sale, true),
            (ReceiptType::SaleReturn, true),
            (ReceiptType::Purchase, false),
            (ReceiptType::PurchaseReturn, false),
        ] {
            let r = ReceiptParts {
                receipt_type,
                ..sale(vec![milk.clone()], 100, 0, 100)
            }
            .build();
            match (r, allowed) {
                (Ok(_), true) => {}
                (Err(e), false) => assert_eq!(e.field(), "positions[0].markingCode"),
                (other, _) => panic!("{receipt_type:?}: {other:?}"),
            }
        }
        assert!(MarkingCode::new(Vec::new(), "c").is_err());
        assert!(MarkingCode::new(b"01\n".to_vec(), "c").is_err());
        assert!(MarkingCode::new(vec![b'0'; 201], "c").is_err());
    }

    #[test]
    fn attributes_that_need_each_other_are_checked() {
        use crate::{Agent, FractionalQuantity, MeasurementUnit, Supplier};
        let supplier = Supplier {
            name: "ООО Поставщик".into(),
            inn: "7707083893".into(),
            phone: None,
        };
        let mut agent_only = item(1, 100);
        agent_only.attributes.agent = Some(Agent::new(32, None, "a").unwrap());
        assert_eq!(
            one(agent_only.clone(), Kopecks(100)).unwrap_err().field(),
            "positions[0].supplier"
        );
        let mut supplier_only = item(1, 100);
        supplier_only.attributes.supplier = Some(supplier.clone());
        assert_eq!(
            one(supplier_only, Kopecks(100)).unwrap_err().field(),
            "positions[0].agent"
        );
        agent_only.attributes.supplier = Some(supplier);
        assert!(one(agent_only, Kopecks(100)).is_ok());

        let mut part = item(1, 100);
        part.attributes.fractional_quantity = Some(FractionalQuantity::new(1, 4, "f").unwrap());
        assert!(one(part.clone(), Kopecks(100)).is_ok());
        let mut weighed = part.clone();
        weighed.attributes.measurement_unit = MeasurementUnit::from_code(11, "m").unwrap();
        assert_eq!(
            one(weighed, Kopecks(100)).unwrap_err().field(),
            "positions[0].measurementUnit"
        );
        part.quantity = Quantity(500_000);
        assert_eq!(
            one(part, Kopecks(50)).unwrap_err().field(),
            "positions[0].quantity"
        );
    }

    #[test]
    fn a_line_sum_is_the_position_sum_within_one_kopeck() {
        // 3 × 33.33 = 99.99; the seller charges 100.00 (one kopeck off, the register's tolerance).
        let mut fixed = item(3, 3333);
        fixed.line_sum = Some(Kopecks(10000));
        assert_eq!(fixed.sum(), Some(Kopecks(10000)));
        assert!(one(fixed.clone(), Kopecks(10000)).is_ok());
        assert_eq!(
            one(fixed.clone(), Kopecks(9999)).unwrap_err().field(),
            "totalSum"
        );
        fixed.line_sum = Some(Kopecks(10001));
        let e = one(fixed.clone(), Kopecks(10001)).unwrap_err();
        assert_eq!(e.field(), "positions[0].lineSum");
        assert!(e.to_string().contains("100.01"), "{e}");
        assert!(e.to_string().contains("99.99"), "{e}");
        let mut cheap = item(1, 1);
        cheap.line_sum = Some(Kopecks(0));
        assert_eq!(
            one(cheap, Kopecks(0)).unwrap_err().field(),
            "positions[0].lineSum"
        );
    }

    #[test]
    fn text_lines_a_register_cannot_print_are_refused_naming_the_line() {
        let mut noted = item(1, 100);
        noted.notes = vec!["Скидка 50.00".into(), "Акция 🎁".into()];
        let e = one(noted, Kopecks(100)).unwrap_err();
        assert_eq!(e.field(), "positions[0].notes[1]");
        assert!(e.to_string().contains("U+1F381"), "{e}");
        let mut many = item(1, 100);
        many.notes = vec!["-".into(); MAX_TEXT_LINES + 1];
        assert_eq!(
            one(many, Kopecks(100)).unwrap_err().field(),
            "positions[0].notes"
        );

        let receipt = one(item(1, 100), Kopecks(100)).unwrap();
        let text = |header: &[&str], footer: &[&str]| ReceiptText {
            header: header.iter().map(|s| s.to_string()).collect(),
            footer: footer.iter().map(|s| s.to_string()).collect(),
        };
        let e = receipt
            .clone()
            .with_text(text(&["Магазин «Ромашка»", "Касса\u{200B} 2"], &[]))
            .unwrap_err();
        assert_eq!(e.field(), "text.header[1]");
        let e = receipt
            .clone()
            .with_text(text(&[], &["Спасибо ☺"]))
            .unwrap_err();
        assert_eq!(e.field(), "text.footer[0]");
        let long = vec!["-"; MAX_TEXT_LINES + 1];
        let e = receipt.clone().with_text(text(&long, &[])).unwrap_err();
        assert_eq!(e.field(), "text.header");
        let ok = receipt
            .with_text(text(&["Магазин «Ромашка»", ""], &["Спасибо!"]))
            .unwrap();
        assert_eq!(ok.text.footer, vec!["Спасибо!".to_string()]);
    }

    #[test]
    fn receipts_stored_before_line_sums_and_text_still_decode() {
        let stored = r#"{"receipt_type":"Sale","taxation":"General","items":[{"name":"Молоко","quantity":1000000,"price":100,"vat":"Vat22"}],"cash":100,"cashless":0,"total":100,"buyer":null,"print":true}"#;
        let r: Receipt = serde_json::from_str(stored).unwrap();
        assert_eq!(r.items[0].line_sum, None);
        assert!(r.items[0].notes.is_empty());
        assert!(r.text.is_empty());
        assert_eq!(r.items[0].sum(), Some(Kopecks(100)));
        // And the new fields stay out of a plain receipt's stored form.
        let again = serde_json::to_string(&r).unwrap();
        assert!(
            !again.contains("line_sum") && !again.contains("text"),
            "{again}"
        );
    }
}
