//! The one check a return of a sale passes, whichever dialect asks for it (SmartOne's
//! `/refund`, CashDesk's `RETURN`/`Z_RETURN`): every returned product is in the sale, no more
//! of it is returned than was sold less what earlier returns (not failed) took back, and a
//! marked product goes back under a code it was sold with and no earlier return gave back —
//! the sale's own when the return names none and the sale sold one. Each dialect words a [`Problem`] in its own shape.
//!
//! Products are matched by name, as printed on the sale; quantities are summed per name over
//! the lines of the sale, of the earlier returns and of this return.

use fiscal_model::{MarkingCode, OperationBody, Quantity, Receipt};
use queue::{OpState, Operation};

/// One line of a return as the client asked it.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The product's name.
    pub name: &'a str,
    /// How much goes back, in thousandths of a unit.
    pub quantity: u64,
    /// The marking code the client gave, if any.
    pub marking: Option<&'a [u8]>,
}

/// Why a return cannot be made; `index` is the line's place in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The sale has no product of this name.
    NotInSale { index: usize, name: String },
    /// More of the product would be back than was sold: `asked` by this return (all its
    /// lines of the name), `sold` by the sale, `returned` by earlier returns.
    TooMany {
        index: usize,
        name: String,
        asked: Quantity,
        sold: Quantity,
        returned: Quantity,
    },
    /// The line names a marking code the sale did not sell the product with.
    CodeNotSold { index: usize },
    /// The line names no code, and the sale sold several of the product under different codes.
    CodeRequired { index: usize },
    /// The line names a code an earlier return already gave back.
    CodeReturned { index: usize },
}

/// What a return that passed takes from its sale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passed {
    /// Per requested line: the code the sale sold it with, where the line named none.
    pub codes: Vec<Option<MarkingCode>>,
}

impl Passed {
    /// Gives the positions of `receipt` named as a line that took a code from the sale, and
    /// that carry none, that code.
    pub fn fill(&self, lines: &[Line<'_>], receipt: &mut Receipt) {
        for (line, code) in lines.iter().zip(&self.codes) {
            let Some(code) = code else { continue };
            for item in receipt
                .items
                .iter_mut()
                .filter(|it| it.name == line.name && it.attributes.marking_code.is_none())
            {
                item.attributes.marking_code = Some(code.clone());
            }
        }
    }
}

/// Checks the return `lines` against `sale`, given `earlier`: the operations referring to
/// the sale (those that failed, and those that are not receipts, count for nothing). The
/// lines are looked at in order; the first problem is the answer.
pub fn check(sale: &Receipt, earlier: &[Operation], lines: &[Line<'_>]) -> Result<Passed, Problem> {
    let earlier: Vec<&Receipt> = earlier
        .iter()
        .filter(|op| !matches!(op.state, OpState::Failed { .. }))
        .filter_map(receipt_of)
        .collect();
    let returned_of = |name: &str| -> u64 {
        earlier
            .iter()
            .flat_map(|r| r.items.iter())
            .filter(|i| i.name == name)
            .map(|i| i.quantity.0)
            .fold(0, u64::saturating_add)
    };
    let asked_of = |name: &str| -> u64 {
        lines
            .iter()
            .filter(|l| l.name == name)
            .map(|l| l.quantity.saturating_mul(1000))
            .fold(0, u64::saturating_add)
    };
    let mut codes = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let sold_lines: Vec<_> = sale.items.iter().filter(|s| s.name == line.name).collect();
        if sold_lines.is_empty() {
            return Err(Problem::NotInSale {
                index,
                name: line.name.to_string(),
            });
        }
        let sold = sold_lines
            .iter()
            .map(|s| s.quantity.0)
            .fold(0, u64::saturating_add);
        let asked = asked_of(line.name);
        let returned = returned_of(line.name);
        if asked.saturating_add(returned) > sold {
            return Err(Problem::TooMany {
                index,
                name: line.name.to_string(),
                asked: Quantity(asked),
                sold: Quantity(sold),
                returned: Quantity(returned),
            });
        }
        let mut sold_codes: Vec<&MarkingCode> = Vec::new();
        for code in sold_lines
            .iter()
            .filter_map(|s| s.attributes.marking_code.as_ref())
        {
            if !sold_codes.contains(&code) {
                sold_codes.push(code);
            }
        }
        if let Some(given) = line.marking {
            let gone = earlier
                .iter()
                .flat_map(|r| r.items.iter())
                .filter(|i| i.name == line.name)
                .filter_map(|i| i.attributes.marking_code.as_ref())
                .any(|c| c.as_bytes() == given);
            if gone {
                return Err(Problem::CodeReturned { index });
            }
        }
        codes.push(match (line.marking, sold_codes.as_slice()) {
            (Some(given), sold)
                if !sold.is_empty() && !sold.iter().any(|c| c.as_bytes() == given) =>
            {
                return Err(Problem::CodeNotSold { index });
            }
            (None, [one]) => Some((*one).clone()),
            (None, [_, _, ..]) => return Err(Problem::CodeRequired { index }),
            _ => None,
        });
    }
    Ok(Passed { codes })
}

/// The receipt of a receipt operation (a correction's receipt too).
fn receipt_of(op: &Operation) -> Option<&Receipt> {
    match &op.request.body {
        OperationBody::Receipt(r) => Some(r),
        OperationBody::Correction(c) => Some(&c.receipt),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use fiscal_model::{
        Item, ItemAttributes, Kopecks, OperationRequest, ReceiptText, ReceiptType, Routing,
        TaxationSystem, VatRate,
    };
    use queue::{OperationId, OperationKind, Reason, RegisterId};

    use super::*;

    fn item(name: &str, thousandths: u64, code: Option<&str>) -> Item {
        Item {
            name: name.into(),
            quantity: Quantity(thousandths * 1000),
            price: Kopecks(100),
            vat: VatRate::NoVat,
            attributes: ItemAttributes {
                marking_code: code.map(|c| MarkingCode::new(c.as_bytes().to_vec(), "c").unwrap()),
                ..ItemAttributes::default()
            },
            line_sum: None,
            notes: Vec::new(),
        }
    }

    fn receipt(kind: ReceiptType, items: Vec<Item>) -> Receipt {
        Receipt {
            receipt_type: kind,
            taxation: TaxationSystem::General,
            items,
            cash: Kopecks(0),
            cashless: Kopecks(0),
            total: Kopecks(0),
            buyer: None,
            print: true,
            unsent_contact: None,
            prepayment: Kopecks(0),
            postpayment: Kopecks(0),
            counter_provision: Kopecks(0),
            cashier: None,
            buyer_details: None,
            text: ReceiptText::default(),
        }
    }

    fn earlier(id: &str, items: Vec<Item>, state: OpState) -> Operation {
        let request = OperationRequest {
            body: OperationBody::Receipt(receipt(ReceiptType::SaleReturn, items)),
            routing: Routing::default(),
        };
        let now = chrono::Utc::now();
        Operation {
            id: OperationId::new(id).unwrap(),
            kind: OperationKind::of(&request),
            register: RegisterId::new("r"),
            payload_hash: String::new(),
            request,
            seq: 1,
            refers_to: None,
            also_refers_to: Vec::new(),
            by_number: false,
            created_at: now,
            updated_at: now,
            processed_at: None,
            finished_clock_ms: None,
            state,
            attempts: Vec::new(),
            attempts_dropped: 0,
        }
    }

    fn line(name: &'static str, quantity: u64, marking: Option<&'static str>) -> Line<'static> {
        Line {
            name,
            quantity,
            marking: marking.map(str::as_bytes),
        }
    }

    #[test]
    fn a_return_is_held_to_what_was_sold_by_name() {
        // Bread sold on two lines (1 + 2), milk 1.5.
        let sale = receipt(
            ReceiptType::Sale,
            vec![
                item("Bread", 1000, None),
                item("Milk", 1500, None),
                item("Bread", 2000, None),
            ],
        );
        let failed = OpState::Failed {
            reason: Reason {
                code: "X".into(),
                message: "x".into(),
                device_error: None,
            },
        };
        let before = vec![
            earlier("a", vec![item("Bread", 1000, None)], OpState::Queued),
            // A failed return gave nothing back.
            earlier("b", vec![item("Bread", 2000, None)], failed),
        ];
        assert_eq!(
            check(
                &sale,
                &before,
                &[line("Milk", 500, None), line("Butter", 1000, None)]
            ),
            Err(Problem::NotInSale {
                index: 1,
                name: "Butter".into()
            })
        );
        // Two lines of the name count together: 1.5 + 0.6 of a sold 3, 1 returned before.
        assert_eq!(
            check(
                &sale,
                &before,
                &[line("Bread", 1500, None), line("Bread", 600, None)]
            ),
            Err(Problem::TooMany {
                index: 0,
                name: "Bread".into(),
                asked: Quantity(2_100_000),
                sold: Quantity(3_000_000),
                returned: Quantity(1_000_000),
            })
        );
        let passed = check(
            &sale,
            &before,
            &[line("Bread", 2000, None), line("Milk", 1500, None)],
        )
        .unwrap();
        assert_eq!(passed.codes, vec![None, None]);
        // Without the earlier return all three go back; never more.
        assert!(check(&sale, &[], &[line("Bread", 3000, None)]).is_ok());
        assert!(matches!(
            check(&sale, &[], &[line("Milk", 1501, None)]),
            Err(Problem::TooMany { index: 0, .. })
        ));
    }

    #[test]
    fn a_marked_return_takes_the_code_it_was_sold_with() {
        let sale = receipt(
            ReceiptType::Sale,
            vec![
                item("Wine", 1000, Some("CODE-1")),
                item("Beer", 1000, Some("CODE-2")),
                item("Beer", 1000, Some("CODE-3")),
                item("Water", 1000, None),
            ],
        );
        let lines = [line("Wine", 1000, None), line("Water", 1000, None)];
        let passed = check(&sale, &[], &lines).unwrap();
        let code = MarkingCode::new(b"CODE-1".to_vec(), "c").unwrap();
        assert_eq!(passed.codes, vec![Some(code.clone()), None]);
        let mut ret = receipt(
            ReceiptType::SaleReturn,
            vec![item("Wine", 1000, None), item("Water", 1000, None)],
        );
        passed.fill(&lines, &mut ret);
        assert_eq!(ret.items[0].attributes.marking_code, Some(code));
        assert_eq!(ret.items[1].attributes.marking_code, None);

        // A code given is one the sale sold, and it stays the line's own.
        assert_eq!(
            check(&sale, &[], &[line("Beer", 1000, Some("CODE-3"))])
                .unwrap()
                .codes,
            vec![None]
        );
        assert_eq!(
            check(
                &sale,
                &[],
                &[
                    line("Water", 1000, None),
                    line("Wine", 1000, Some("CODE-9"))
                ]
            ),
            Err(Problem::CodeNotSold { index: 1 })
        );
        // Two codes sold under the name: the return must say which.
        assert_eq!(
            check(&sale, &[], &[line("Beer", 1000, None)]),
            Err(Problem::CodeRequired { index: 0 })
        );
    }

    #[test]
    fn a_marking_code_goes_back_once() {
        let sale = receipt(
            ReceiptType::Sale,
            vec![
                item("Beer", 1000, Some("CODE-2")),
                item("Beer", 1000, Some("CODE-3")),
            ],
        );
        let first = earlier(
            "r-1",
            vec![item("Beer", 1000, Some("CODE-2"))],
            OpState::Queued,
        );
        // One beer is still unreturned, but not the one under CODE-2.
        assert_eq!(
            check(
                &sale,
                std::slice::from_ref(&first),
                &[line("Beer", 1000, Some("CODE-2"))]
            ),
            Err(Problem::CodeReturned { index: 0 })
        );
        assert_eq!(
            check(&sale, &[first], &[line("Beer", 1000, Some("CODE-3"))])
                .unwrap()
                .codes,
            vec![None]
        );
        // A return that failed gave nothing back.
        let failed = earlier(
            "r-2",
            vec![item("Beer", 1000, Some("CODE-2"))],
            OpState::Failed {
                reason: Reason {
                    code: "X".into(),
                    message: "x".into(),
                    device_error: None,
                },
            },
        );
        assert!(check(&sale, &[failed], &[line("Beer", 1000, Some("CODE-2"))]).is_ok());
    }
}
