//! Tax letters (`products[].letters`) → the VAT rate the register fiscalizes.
//!
//! In CashDesk a letter's rate is per-register configuration, not law (reference §8); this
//! register fiscalizes Russian VAT, so a letter names a [`VatRate`] of table 6. The default
//! table is the seed's: `А` 20 % (→ [`VatRate::Vat20`]), `Б` 0 %, `Н` and `-Н` no VAT; no
//! letter (absent, null, "") is no VAT. Only true look-alikes are taken for one another:
//! Latin `A` for Cyrillic `А`, Latin `H` for Cyrillic `Н` (the seed's own table writes a
//! Latin `A`, its example a Cyrillic `А`).

use fiscal_model::VatRate;
use rust_decimal::Decimal;

use super::answer::DeskError;

/// A register's letters and their rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letters(Vec<(String, VatRate)>);

impl Default for Letters {
    fn default() -> Letters {
        Letters(vec![
            ("А".into(), VatRate::Vat20),
            ("Б".into(), VatRate::Vat0),
            ("Н".into(), VatRate::NoVat),
            ("-Н".into(), VatRate::NoVat),
        ])
    }
}

impl Letters {
    /// A table from `(letter, rate)` pairs; a letter is stored in its Cyrillic spelling, and
    /// two spellings of one letter are refused (the message names it).
    pub fn new(pairs: Vec<(String, VatRate)>) -> Result<Letters, String> {
        let mut out: Vec<(String, VatRate)> = Vec::new();
        for (letter, rate) in pairs {
            let key = normalize(&letter);
            if key.is_empty() {
                return Err("an empty letter".into());
            }
            if out.iter().any(|(l, _)| *l == key) {
                return Err(format!("letter {letter:?} is given twice"));
            }
            out.push((key, rate));
        }
        Ok(Letters(out))
    }

    /// The rate a configuration value names: `"22"`, `"20"`, `"10"`, `"7"`, `"5"`, `"0"` (%)
    /// or `"none"` (no VAT).
    pub fn parse_rate(text: &str) -> Option<VatRate> {
        match text.trim().trim_end_matches('%').trim() {
            "22" => Some(VatRate::Vat22),
            "20" => Some(VatRate::Vat20),
            "10" => Some(VatRate::Vat10),
            "7" => Some(VatRate::Vat7),
            "5" => Some(VatRate::Vat5),
            "0" => Some(VatRate::Vat0),
            "none" | "no_vat" => Some(VatRate::NoVat),
            _ => None,
        }
    }

    /// The rate of item `path`'s `letters` (none: no VAT), checked against its `tax_prc` when
    /// given: a percentage other than the letter's is refused naming both.
    pub fn rate(
        &self,
        letter: Option<&str>,
        tax_prc: Option<Decimal>,
        path: &str,
    ) -> Result<VatRate, DeskError> {
        let key = letter.map(normalize).unwrap_or_default();
        let rate = if key.is_empty() {
            VatRate::NoVat
        } else {
            match self.0.iter().find(|(l, _)| *l == key) {
                Some((_, rate)) => *rate,
                None => {
                    let known: Vec<&str> = self.0.iter().map(|(l, _)| l.as_str()).collect();
                    return Err(DeskError::invalid(format!(
                        "Поле {path}.letters: літера «{}» не налаштована для цієї каси (є: {}; без літери — без ПДВ)",
                        letter.unwrap_or_default(),
                        known.join(", ")
                    )));
                }
            }
        };
        if let Some(given) = tax_prc {
            let expected = percent(rate);
            if given.normalize() != expected {
                let shown = if key.is_empty() {
                    "без літери".to_string()
                } else {
                    format!("«{key}»")
                };
                return Err(DeskError::invalid(format!(
                    "Поле {path}.tax_prc: {} % не відповідає літері {shown} ({path}.letters), ставка якої {expected} %",
                    given.normalize()
                )));
            }
        }
        Ok(rate)
    }
}

/// The percentage a rate's `tax_prc` must carry (0 for no VAT, as the seed's `Н` and `-Н`).
fn percent(rate: VatRate) -> Decimal {
    match rate {
        VatRate::NoVat => Decimal::ZERO,
        other => Decimal::from(other.table6_rate()) / Decimal::from(100),
    }
}

/// A letter as stored: trimmed, upper-case, Latin look-alikes as their Cyrillic letters.
fn normalize(letter: &str) -> String {
    letter
        .trim()
        .chars()
        .flat_map(char::to_uppercase)
        .map(|c| match c {
            'A' => 'А',
            'H' => 'Н',
            other => other,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_seeds_letters_map_to_the_registers_rates() {
        let l = Letters::default();
        assert_eq!(
            l.rate(Some("А"), Some(d("20")), "p").unwrap(),
            VatRate::Vat20
        );
        assert_eq!(
            l.rate(Some("A"), Some(d("20.00")), "p").unwrap(),
            VatRate::Vat20
        );
        assert_eq!(l.rate(Some("Б"), Some(d("0")), "p").unwrap(), VatRate::Vat0);
        assert_eq!(
            l.rate(Some("Н"), Some(d("0")), "p").unwrap(),
            VatRate::NoVat
        );
        assert_eq!(l.rate(Some("H"), None, "p").unwrap(), VatRate::NoVat);
        assert_eq!(
            l.rate(Some("-Н"), Some(d("0")), "p").unwrap(),
            VatRate::NoVat
        );
        assert_eq!(l.rate(Some("-H"), None, "p").unwrap(), VatRate::NoVat);
        assert_eq!(l.rate(None, None, "p").unwrap(), VatRate::NoVat);
        assert_eq!(l.rate(Some(""), None, "p").unwrap(), VatRate::NoVat);
    }

    #[test]
    fn a_letter_not_configured_or_a_disagreeing_rate_is_refused_naming_both() {
        let l = Letters::default();
        // Latin B is not a look-alike of Б.
        let e = l.rate(Some("B"), None, "products[0]").unwrap_err();
        assert!(e.message.contains("products[0].letters"), "{e:?}");
        let e = l.rate(Some("А"), Some(d("7")), "products[1]").unwrap_err();
        assert!(e.message.contains("products[1].tax_prc"), "{e:?}");
        assert!(
            e.message.contains("«А»") && e.message.contains("20 %"),
            "{e:?}"
        );
        let e = l.rate(None, Some(d("20")), "products[0]").unwrap_err();
        assert!(e.message.contains("0 %"), "{e:?}");
    }

    #[test]
    fn a_configured_table_is_read_in_either_spelling() {
        let l = Letters::new(vec![
            ("A".into(), VatRate::Vat22),
            ("В".into(), VatRate::Vat10),
        ])
        .unwrap();
        assert_eq!(
            l.rate(Some("а"), Some(d("22")), "p").unwrap(),
            VatRate::Vat22
        );
        assert_eq!(l.rate(Some("В"), None, "p").unwrap(), VatRate::Vat10);
        assert!(Letters::new(vec![
            ("A".into(), VatRate::Vat22),
            ("А".into(), VatRate::Vat20)
        ])
        .is_err());
        assert_eq!(Letters::parse_rate("20"), Some(VatRate::Vat20));
        assert_eq!(Letters::parse_rate("none"), Some(VatRate::NoVat));
        assert_eq!(Letters::parse_rate("18"), None);
    }
}
