//! The register's tax table (table 6) and the FF46 tax byte (FFD 1.2 addendum §2).
//!
//! The byte FF46 carries at offset 28 is a code, not a row number: rows 1..6 are one bit each
//! (`1 << (row - 1)`), rows 7..10 of 2026 firmware are `0x80 | 1 << (row - 7)`, rows 11 and 12
//! are `0xC0 + row` on classic models and `0x90`, `0xA0` on ШТРИХ-НАНО-Ф (0xFC model 152)
//! (addendum §2.4 item 3). The row is chosen by the item's rate among the rows the register
//! itself reports at connection, never from a fixed layout: a rate the register does not
//! have is refused before anything is sent.

use fiscal_model::{TaxGroupMap, VatRate};
use serde::{Deserialize, Serialize};

/// 0xFC model number of ШТРИХ-НАНО-Ф, whose rows 11 and 12 have their own codes.
pub const MODEL_NANO: u8 = 152;

/// One row of table 6 as the register reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRow {
    /// Row number, 1-based.
    pub row: u8,
    /// Field 1: the rate in 1/100 % (2200 = 22 %).
    pub rate: u16,
    /// Field 2: the name as printed («НДС 22/122», «БЕЗ НДС» …).
    pub name: String,
}

impl TaxRow {
    /// `true` when the row is a calculated rate (the name has a "/": «НДС 22/122»).
    pub fn is_calculated(&self) -> bool {
        self.name.contains('/')
    }

    /// `true` when the row is "no VAT" (the name says «БЕЗ НДС»).
    pub fn is_no_vat(&self) -> bool {
        self.name.to_uppercase().contains("БЕЗ")
    }

    /// Whether this row carries `rate`: the same percentage and the same kind (plain,
    /// calculated, no VAT; addendum §2.4 item 2).
    pub fn carries(&self, rate: VatRate) -> bool {
        if self.rate != rate.table6_rate() {
            return false;
        }
        match rate {
            VatRate::NoVat => self.is_no_vat(),
            VatRate::Vat22_122
            | VatRate::Vat10_110
            | VatRate::Vat5_105
            | VatRate::Vat7_107
            | VatRate::Vat20_120 => self.is_calculated(),
            VatRate::Vat22
            | VatRate::Vat10
            | VatRate::Vat0
            | VatRate::Vat5
            | VatRate::Vat7
            | VatRate::Vat20 => !self.is_calculated() && !self.is_no_vat(),
        }
    }

    /// "11: 22.00 % «НДС 22%»".
    pub fn describe(&self) -> String {
        format!(
            "{}: {}.{:02} % «{}»",
            self.row,
            self.rate / 100,
            self.rate % 100,
            self.name.trim()
        )
    }
}

/// The FF46 tax byte of table-6 row `row` on a register of 0xFC model `model` (addendum
/// §2.4 item 3); `None` for a row without a code.
pub fn tax_code(model: u8, row: u8) -> Option<u8> {
    match row {
        1..=6 => Some(1 << (row - 1)),
        7..=10 => Some(0x80 | 1 << (row - 7)),
        11 | 12 if model == MODEL_NANO => Some(0x80 | 1 << (row - 7)),
        11..=63 if model != MODEL_NANO => Some(0xC0 + row),
        _ => None,
    }
}

/// The register's table 6 and model, read at connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaxTable {
    /// 0xFC model number.
    pub model: u8,
    /// The rows, in order.
    pub rows: Vec<TaxRow>,
}

impl TaxTable {
    /// A table of `model` from `(rate in hundredths of a percent, name)` rows, numbered from 1.
    pub fn from_rows(model: u8, rows: &[(u16, &str)]) -> TaxTable {
        TaxTable {
            model,
            rows: rows
                .iter()
                .zip(1..)
                .map(|(&(rate, name), row)| TaxRow {
                    row,
                    rate,
                    name: name.into(),
                })
                .collect(),
        }
    }
}

/// Table 6 as 2026 firmware ships it (addendum §2.3): rows 1–6 of before, then 5 %, 7 %,
/// 5/105, 7/107, 22 %, 22/122.
pub const TABLE6_2026: [(u16, &str); 12] = [
    (2000, "НДС 20%"),
    (1000, "НДС 10%"),
    (0, "НДС 0%"),
    (0, "БЕЗ НДС"),
    (2000, "НДС 20/120"),
    (1000, "НДС 10/110"),
    (500, "НДС 5%"),
    (700, "НДС 7%"),
    (500, "НДС 5/105%"),
    (700, "НДС 7/107%"),
    (2200, "НДС 22%"),
    (2200, "НДС 22/122"),
];

/// The row and FF46 byte chosen for a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxChoice {
    /// Table-6 row.
    pub row: u8,
    /// The FF46 (and FF0D) tax byte.
    pub code: u8,
}

impl TaxTable {
    /// The row for `rate` and its byte. A row configured for the rate (`overrides`) is used
    /// only when the register's table has it with that percentage; without one, the first row
    /// that carries the rate. `Err` names the rate and why (the message for the POS).
    pub fn choose(&self, rate: VatRate, overrides: &TaxGroupMap) -> Result<TaxChoice, String> {
        let row = match overrides.group(rate) {
            Some(group) => {
                let row = self
                    .rows
                    .iter()
                    .find(|r| r.row == group.number())
                    .ok_or_else(|| {
                        format!(
                            "Ставка {}: в настройке указана строка {} таблицы 6, а в ККТ её нет.",
                            rate.label(),
                            group.number()
                        )
                    })?;
                if row.rate != rate.table6_rate() {
                    return Err(format!(
                        "Ставка {}: в настройке указана строка таблицы 6 {}, это другая ставка.",
                        rate.label(),
                        row.describe()
                    ));
                }
                row
            }
            None => self.rows.iter().find(|r| r.carries(rate)).ok_or_else(|| {
                format!(
                    "Ставки {} нет в таблице налогов ККТ (таблица 6).",
                    rate.label()
                )
            })?,
        };
        let code = tax_code(self.model, row.row).ok_or_else(|| {
            format!(
                "Ставка {}: строке {} таблицы 6 не соответствует код налога.",
                rate.label(),
                row.row
            )
        })?;
        Ok(TaxChoice { row: row.row, code })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use fiscal_model::TaxGroup;

    fn table_2026(model: u8) -> TaxTable {
        TaxTable::from_rows(model, &TABLE6_2026)
    }

    #[test]
    fn codes_follow_the_addendum_table() {
        // Addendum §2.3, column "HEAD code classic / Nano".
        let classic = [
            0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x81, 0x82, 0x84, 0x88, 0xCB, 0xCC,
        ];
        let nano = [
            0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x81, 0x82, 0x84, 0x88, 0x90, 0xA0,
        ];
        for row in 1..=12u8 {
            let i = usize::from(row - 1);
            assert_eq!(tax_code(250, row), Some(classic[i]), "row {row}");
            assert_eq!(tax_code(MODEL_NANO, row), Some(nano[i]), "row {row}");
        }
        assert_eq!(tax_code(250, 0), None);
        assert_eq!(tax_code(MODEL_NANO, 13), None);
    }

    #[test]
    fn every_rate_finds_its_own_row_by_rate_and_kind() {
        let t = table_2026(250);
        let none = TaxGroupMap::empty();
        let expect = [
            (VatRate::Vat20, 1, 0x01),
            (VatRate::Vat10, 2, 0x02),
            (VatRate::Vat0, 3, 0x04),
            (VatRate::NoVat, 4, 0x08),
            (VatRate::Vat20_120, 5, 0x10),
            (VatRate::Vat10_110, 6, 0x20),
            (VatRate::Vat5, 7, 0x81),
            (VatRate::Vat7, 8, 0x82),
            (VatRate::Vat5_105, 9, 0x84),
            (VatRate::Vat7_107, 10, 0x88),
            (VatRate::Vat22, 11, 0xCB),
            (VatRate::Vat22_122, 12, 0xCC),
        ];
        for (rate, row, code) in expect {
            assert_eq!(
                t.choose(rate, &none),
                Ok(TaxChoice { row, code }),
                "{rate:?}"
            );
        }
        let nano = table_2026(MODEL_NANO);
        assert_eq!(nano.choose(VatRate::Vat22, &none).unwrap().code, 0x90);
        assert_eq!(nano.choose(VatRate::Vat22_122, &none).unwrap().code, 0xA0);
    }

    #[test]
    fn a_missing_rate_is_named_and_an_override_is_checked() {
        let mut old = table_2026(250);
        old.rows.truncate(6);
        let none = TaxGroupMap::empty();
        let e = old.choose(VatRate::Vat22, &none).unwrap_err();
        assert!(e.contains("НДС 22%"), "{e}");
        // A technician set row 1 to 22 % on older firmware: an override may point there.
        let mut map = TaxGroupMap::empty();
        map.set(VatRate::Vat22, TaxGroup::new(1).unwrap());
        let e = old.choose(VatRate::Vat22, &map).unwrap_err();
        assert!(e.contains("20.00 %"), "row 1 is still 20 %: {e}");
        old.rows[0].rate = 2200;
        assert_eq!(
            old.choose(VatRate::Vat22, &map),
            Ok(TaxChoice { row: 1, code: 0x01 })
        );
        map.set(VatRate::Vat5, TaxGroup::new(9).unwrap());
        assert!(old.choose(VatRate::Vat5, &map).unwrap_err().contains('9'));
    }
}
