//! The dictionaries: receipt types (FFD tag 1054), taxation systems, VAT rates (tag 1199)
//! and the register's tax groups (table 6), with the numbering each side uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Receipt type, numbered as FFD tag 1054 and the Smart Cashier API `receiptType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReceiptType {
    /// Приход (sale).
    Sale,
    /// Возврат прихода (sale return).
    SaleReturn,
    /// Расход (purchase).
    Purchase,
    /// Возврат расхода (purchase return). The API seed's label repeats "возврат продажи": a typo.
    PurchaseReturn,
}

impl ReceiptType {
    /// From the API / tag 1054 code 1..4.
    pub fn from_code(code: i64, field: &str) -> Result<ReceiptType, ModelError> {
        match code {
            1 => Ok(ReceiptType::Sale),
            2 => Ok(ReceiptType::SaleReturn),
            3 => Ok(ReceiptType::Purchase),
            4 => Ok(ReceiptType::PurchaseReturn),
            _ => Err(dict(field, format!("unknown receipt type {code}; expected 1 (sale), 2 (sale return), 3 (purchase) or 4 (purchase return)"))),
        }
    }

    /// Tag 1054 code; also the FF46 / FF0A operation type (protocol notes §8.1).
    pub fn tag_1054(self) -> u8 {
        match self {
            ReceiptType::Sale => 1,
            ReceiptType::SaleReturn => 2,
            ReceiptType::Purchase => 3,
            ReceiptType::PurchaseReturn => 4,
        }
    }

    /// The 0x8D "open receipt" type byte (§8.1: a different numbering).
    pub fn open_receipt_code(self) -> u8 {
        match self {
            ReceiptType::Sale => 0,
            ReceiptType::Purchase => 1,
            ReceiptType::SaleReturn => 2,
            ReceiptType::PurchaseReturn => 3,
        }
    }

    /// The full mode byte of a register with such a receipt open (0x08, 0x18, 0x28, 0x38).
    pub fn open_mode_byte(self) -> u8 {
        0x08 | (self.open_receipt_code() << 4)
    }

    /// From tag 1054's code.
    pub fn from_tag_1054(code: u8) -> Option<ReceiptType> {
        [
            ReceiptType::Sale,
            ReceiptType::SaleReturn,
            ReceiptType::Purchase,
            ReceiptType::PurchaseReturn,
        ]
        .into_iter()
        .find(|t| t.tag_1054() == code)
    }

    /// Russian name as printed on a receipt.
    pub fn russian(self) -> &'static str {
        match self {
            ReceiptType::Sale => "ПРИХОД",
            ReceiptType::SaleReturn => "ВОЗВРАТ ПРИХОДА",
            ReceiptType::Purchase => "РАСХОД",
            ReceiptType::PurchaseReturn => "ВОЗВРАТ РАСХОДА",
        }
    }

    /// Russian name of a correction of this type, as printed on a correction receipt.
    pub fn russian_correction(self) -> &'static str {
        match self {
            ReceiptType::Sale => "КОРРЕКЦИЯ ПРИХОДА",
            ReceiptType::SaleReturn => "КОРРЕКЦИЯ ВОЗВРАТА ПРИХОДА",
            ReceiptType::Purchase => "КОРРЕКЦИЯ РАСХОДА",
            ReceiptType::PurchaseReturn => "КОРРЕКЦИЯ ВОЗВРАТА РАСХОДА",
        }
    }
}

/// Taxation system (СНО), API `taxationSystem` 1..6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaxationSystem {
    /// ОСН, general.
    General,
    /// УСН доход.
    SimplifiedIncome,
    /// УСН доход − расход.
    SimplifiedIncomeMinusExpense,
    /// ЕСХН, agricultural tax (the seed writes "ЕСН").
    Agricultural,
    /// ПСН, patent.
    Patent,
}

impl TaxationSystem {
    /// From the API code. 4 (ЕНВД) was abolished on 2021-01-01 and is refused.
    pub fn from_code(code: i64, field: &str) -> Result<TaxationSystem, ModelError> {
        match code {
            1 => Ok(TaxationSystem::General),
            2 => Ok(TaxationSystem::SimplifiedIncome),
            3 => Ok(TaxationSystem::SimplifiedIncomeMinusExpense),
            4 => Err(dict(
                field,
                "4 (ЕНВД) was abolished on 2021-01-01 and can no longer be used".to_string(),
            )),
            5 => Ok(TaxationSystem::Agricultural),
            6 => Ok(TaxationSystem::Patent),
            _ => Err(dict(
                field,
                format!("unknown taxation system {code}; expected 1, 2, 3, 5 or 6"),
            )),
        }
    }

    /// The API code.
    pub fn code(self) -> u8 {
        match self {
            TaxationSystem::General => 1,
            TaxationSystem::SimplifiedIncome => 2,
            TaxationSystem::SimplifiedIncomeMinusExpense => 3,
            TaxationSystem::Agricultural => 5,
            TaxationSystem::Patent => 6,
        }
    }

    /// From the one-bit mask of FF45 offset 117 (and tag 1055).
    pub fn from_shtrih_bit(bit: u8) -> Option<TaxationSystem> {
        [
            TaxationSystem::General,
            TaxationSystem::SimplifiedIncome,
            TaxationSystem::SimplifiedIncomeMinusExpense,
            TaxationSystem::Agricultural,
            TaxationSystem::Patent,
        ]
        .into_iter()
        .find(|t| t.shtrih_bit() == bit)
    }

    /// Short Russian name as printed on a receipt.
    pub fn short_name(self) -> &'static str {
        match self {
            TaxationSystem::General => "ОСН",
            TaxationSystem::SimplifiedIncome => "УСН ДОХОД",
            TaxationSystem::SimplifiedIncomeMinusExpense => "УСН ДОХОД-РАСХОД",
            TaxationSystem::Agricultural => "ЕСХН",
            TaxationSystem::Patent => "ПСН",
        }
    }

    /// The one-bit mask of FF45 offset 117 (§8.6).
    pub fn shtrih_bit(self) -> u8 {
        match self {
            TaxationSystem::General => 0x01,
            TaxationSystem::SimplifiedIncome => 0x02,
            TaxationSystem::SimplifiedIncomeMinusExpense => 0x04,
            TaxationSystem::Agricultural => 0x10,
            TaxationSystem::Patent => 0x20,
        }
    }
}

/// A VAT rate as FFD tag 1199 knows it. The general rate is 22 % from 2026-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VatRate {
    /// НДС 22 % (general rate since 2026-01-01), tag 1199 code 11.
    Vat22,
    /// НДС 10 %, code 2.
    Vat10,
    /// НДС 0 %, code 5.
    Vat0,
    /// Без НДС, code 6.
    NoVat,
    /// НДС 22/122, code 12.
    Vat22_122,
    /// НДС 10/110, code 4.
    Vat10_110,
    /// НДС 5 % (УСН payers), code 7.
    Vat5,
    /// НДС 7 % (УСН payers), code 8.
    Vat7,
    /// НДС 5/105, code 9.
    Vat5_105,
    /// НДС 7/107, code 10.
    Vat7_107,
    /// НДС 20 % (corrections of periods before 2026), code 1.
    Vat20,
    /// НДС 20/120 (corrections of periods before 2026), code 3.
    Vat20_120,
}

impl VatRate {
    /// All rates, in API-extension code order.
    pub const ALL: [VatRate; 12] = [
        VatRate::Vat0,
        VatRate::Vat10,
        VatRate::Vat22,
        VatRate::NoVat,
        VatRate::Vat10_110,
        VatRate::Vat22_122,
        VatRate::Vat5,
        VatRate::Vat7,
        VatRate::Vat5_105,
        VatRate::Vat7_107,
        VatRate::Vat20,
        VatRate::Vat20_120,
    ];

    /// From the API `taxType`. 1..6 are the seed's codes ("18 %" means today's general rate,
    /// 22 %); 7..14 are this gateway's documented extension.
    pub fn from_api_code(code: i64, field: &str) -> Result<VatRate, ModelError> {
        Ok(match code {
            1 => VatRate::Vat0,
            2 => VatRate::Vat10,
            3 | 13 => VatRate::Vat22,
            4 => VatRate::NoVat,
            5 => VatRate::Vat10_110,
            6 | 14 => VatRate::Vat22_122,
            7 => VatRate::Vat5,
            8 => VatRate::Vat7,
            9 => VatRate::Vat5_105,
            10 => VatRate::Vat7_107,
            11 => VatRate::Vat20,
            12 => VatRate::Vat20_120,
            _ => {
                return Err(dict(
                    field,
                    format!(
                        "unknown VAT type {code}; expected 1..6 (or the extension codes 7..14)"
                    ),
                ))
            }
        })
    }

    /// The canonical API code of the rate (3 and 6 for the general rates).
    pub fn api_code(self) -> u8 {
        match self {
            VatRate::Vat0 => 1,
            VatRate::Vat10 => 2,
            VatRate::Vat22 => 3,
            VatRate::NoVat => 4,
            VatRate::Vat10_110 => 5,
            VatRate::Vat22_122 => 6,
            VatRate::Vat5 => 7,
            VatRate::Vat7 => 8,
            VatRate::Vat5_105 => 9,
            VatRate::Vat7_107 => 10,
            VatRate::Vat20 => 11,
            VatRate::Vat20_120 => 12,
        }
    }

    /// From tag 1199's code.
    pub fn from_tag_1199(code: u8) -> Option<VatRate> {
        VatRate::ALL.into_iter().find(|r| r.tag_1199() == code)
    }

    /// FFD tag 1199 code.
    pub fn tag_1199(self) -> u8 {
        match self {
            VatRate::Vat20 => 1,
            VatRate::Vat10 => 2,
            VatRate::Vat20_120 => 3,
            VatRate::Vat10_110 => 4,
            VatRate::Vat0 => 5,
            VatRate::NoVat => 6,
            VatRate::Vat5 => 7,
            VatRate::Vat7 => 8,
            VatRate::Vat5_105 => 9,
            VatRate::Vat7_107 => 10,
            VatRate::Vat22 => 11,
            VatRate::Vat22_122 => 12,
        }
    }

    /// The rate in 1/100 % as table 6 field 1 stores it (calculated rates give their base
    /// rate; "no VAT" and 0 % both give 0).
    pub fn table6_rate(self) -> u16 {
        match self {
            VatRate::Vat22 | VatRate::Vat22_122 => 2200,
            VatRate::Vat20 | VatRate::Vat20_120 => 2000,
            VatRate::Vat10 | VatRate::Vat10_110 => 1000,
            VatRate::Vat7 | VatRate::Vat7_107 => 700,
            VatRate::Vat5 | VatRate::Vat5_105 => 500,
            VatRate::Vat0 | VatRate::NoVat => 0,
        }
    }

    /// Label for receipts and messages.
    pub fn label(self) -> &'static str {
        match self {
            VatRate::Vat22 => "НДС 22%",
            VatRate::Vat10 => "НДС 10%",
            VatRate::Vat0 => "НДС 0%",
            VatRate::NoVat => "БЕЗ НДС",
            VatRate::Vat22_122 => "НДС 22/122",
            VatRate::Vat10_110 => "НДС 10/110",
            VatRate::Vat5 => "НДС 5%",
            VatRate::Vat7 => "НДС 7%",
            VatRate::Vat5_105 => "НДС 5/105",
            VatRate::Vat7_107 => "НДС 7/107",
            VatRate::Vat20 => "НДС 20%",
            VatRate::Vat20_120 => "НДС 20/120",
        }
    }
}

/// A register tax group: a row of table 6 (1..6 before 2026, 1..12 on 2026 firmware). The
/// FF46 tax byte is the row's code, not this number (FFD 1.2 addendum §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaxGroup(u8);

impl TaxGroup {
    /// Rows 1..12 (the 2026 firmware's table 6).
    pub fn new(group: u8) -> Option<TaxGroup> {
        (1..=12).contains(&group).then_some(TaxGroup(group))
    }

    /// The row number 1..12.
    pub fn number(self) -> u8 {
        self.0
    }
}

/// Rows of table 6 configured for VAT rates: overrides of the choice the driver makes from
/// the register's own table 6 (each checked against it). Empty by default: every rate goes to
/// the register's row with that rate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxGroupMap(BTreeMap<VatRate, TaxGroup>);

impl TaxGroupMap {
    /// An empty mapping (every rate unmapped).
    pub fn empty() -> TaxGroupMap {
        TaxGroupMap(BTreeMap::new())
    }

    /// Map `rate` to `group`, replacing an earlier mapping.
    pub fn set(&mut self, rate: VatRate, group: TaxGroup) {
        self.0.insert(rate, group);
    }

    /// The group for a rate, if this register has one.
    pub fn group(&self, rate: VatRate) -> Option<TaxGroup> {
        self.0.get(&rate).copied()
    }

    /// All mappings.
    pub fn iter(&self) -> impl Iterator<Item = (VatRate, TaxGroup)> + '_ {
        self.0.iter().map(|(r, g)| (*r, *g))
    }
}

fn dict(field: &str, reason: String) -> ModelError {
    ModelError::Dictionary {
        field: field.to_string(),
        reason,
    }
}

/// FFD document forms: the document type the FN archive keeps (FF0A, FF3A).
pub mod form {
    /// Registration report.
    pub const REGISTRATION: u8 = 1;
    /// Shift opening report.
    pub const OPEN_SHIFT: u8 = 2;
    /// Receipt.
    pub const RECEIPT: u8 = 3;
    /// Strict reporting form (БСО).
    pub const BSO: u8 = 4;
    /// Shift closing (Z) report.
    pub const CLOSE_SHIFT: u8 = 5;
    /// FN closing report.
    pub const CLOSE_FN: u8 = 6;
    /// Operator's confirmation.
    pub const OPERATOR_CONFIRMATION: u8 = 7;
    /// Re-registration report.
    pub const REREGISTRATION: u8 = 11;
    /// Report on the state of settlements.
    pub const SETTLEMENTS_REPORT: u8 = 21;
    /// Correction receipt.
    pub const CORRECTION: u8 = 31;
    /// Correction БСО.
    pub const BSO_CORRECTION: u8 = 41;

    /// The form's Russian name, `None` for a code FFD does not define.
    pub fn name(code: u8) -> Option<&'static str> {
        Some(match code {
            REGISTRATION => "Отчёт о регистрации",
            REREGISTRATION => "Отчёт об изменении параметров регистрации",
            OPEN_SHIFT => "Отчёт об открытии смены",
            SETTLEMENTS_REPORT => "Отчёт о текущем состоянии расчётов",
            RECEIPT => "Кассовый чек",
            CORRECTION => "Кассовый чек коррекции",
            BSO => "Бланк строгой отчётности",
            BSO_CORRECTION => "Бланк строгой отчётности коррекции",
            CLOSE_SHIFT => "Отчёт о закрытии смены",
            CLOSE_FN => "Отчёт о закрытии фискального накопителя",
            OPERATOR_CONFIRMATION => "Подтверждение оператора",
            _ => return None,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn receipt_type_numberings_follow_the_protocol_table() {
        let t = |c| {
            ReceiptType::from_code(c, "receiptType")
                .map(|r| (r.tag_1054(), r.open_receipt_code(), r.open_mode_byte()))
        };
        assert_eq!(t(1), Ok((1, 0, 0x08)));
        assert_eq!(t(2), Ok((2, 2, 0x28)));
        assert_eq!(t(3), Ok((3, 1, 0x18)));
        assert_eq!(t(4), Ok((4, 3, 0x38)));
        assert!(t(5).is_err());
    }

    #[test]
    fn envd_is_refused_with_a_reason() {
        let e = TaxationSystem::from_code(4, "taxationSystem").unwrap_err();
        assert!(e.to_string().contains("ЕНВД"), "{e}");
        assert_eq!(
            TaxationSystem::from_code(6, "t").map(|t| t.shtrih_bit()),
            Ok(0x20)
        );
    }

    #[test]
    fn seed_18_percent_codes_mean_the_2026_general_rate() {
        assert_eq!(VatRate::from_api_code(3, "t").map(|r| r.tag_1199()), Ok(11));
        assert_eq!(VatRate::from_api_code(6, "t").map(|r| r.tag_1199()), Ok(12));
        assert_eq!(VatRate::from_api_code(1, "t"), Ok(VatRate::Vat0));
        let map = TaxGroupMap::default();
        assert_eq!(
            map.group(VatRate::Vat22),
            None,
            "no override unless configured"
        );
        assert_eq!(TaxGroup::new(12).map(TaxGroup::number), Some(12));
        assert_eq!(TaxGroup::new(13), None);
        for r in VatRate::ALL {
            assert_eq!(VatRate::from_api_code(i64::from(r.api_code()), "t"), Ok(r));
        }
    }

    #[test]
    fn codes_read_back_to_the_values_they_came_from() {
        for rate in VatRate::ALL {
            assert_eq!(VatRate::from_tag_1199(rate.tag_1199()), Some(rate));
        }
        assert_eq!(VatRate::from_tag_1199(13), None);
        assert_eq!(
            ReceiptType::from_tag_1054(4),
            Some(ReceiptType::PurchaseReturn)
        );
        assert_eq!(ReceiptType::from_tag_1054(0), None);
        assert_eq!(
            TaxationSystem::from_shtrih_bit(0x02),
            Some(TaxationSystem::SimplifiedIncome)
        );
        assert_eq!(TaxationSystem::from_shtrih_bit(0x08), None, "ЕНВД is gone");
        assert_eq!(form::name(form::CORRECTION), Some("Кассовый чек коррекции"));
        assert_eq!(form::name(99), None);
    }
}
