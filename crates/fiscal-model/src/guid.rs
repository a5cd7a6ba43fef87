//! A GUID as the gateway keeps it (cashbox, cashbox group, juridical person): one spelling
//! for one id, whoever wrote it.

use std::fmt;

use crate::ModelError;

/// The five groups of hex digits of the 8-4-4-4-12 form.
const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];

/// A GUID in its canonical spelling: 8-4-4-4-12 hex digits, lower case. Only that form is
/// accepted (in either case): braces, URNs and the unhyphenated form would let one id be
/// written several ways.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(String);

impl Guid {
    /// `raw` as a GUID, lower-cased; anything but the 8-4-4-4-12 form is refused, naming
    /// `field`. Surrounding whitespace is not trimmed here: a caller that allows it trims.
    pub fn parse(raw: &str, field: &str) -> Result<Guid, ModelError> {
        let mut groups = raw.split('-');
        let well_formed = GROUPS.iter().all(|&len| {
            groups
                .next()
                .is_some_and(|g| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
        }) && groups.next().is_none();
        if !well_formed {
            return Err(ModelError::Guid {
                field: field.to_string(),
                reason: format!(
                    "{raw:?} is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
                ),
            });
        }
        Ok(Guid(raw.to_ascii_lowercase()))
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Guid> for String {
    fn from(g: Guid) -> String {
        g.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_hyphenated_form_in_either_case_becomes_lower_case() {
        let g = Guid::parse("DA2BB850-63ef-47E4-8B45-7B5B841EAA9B", "cashboxId").unwrap();
        assert_eq!(g.to_string(), "da2bb850-63ef-47e4-8b45-7b5b841eaa9b");
        assert_eq!(g, Guid::parse(g.as_str(), "cashboxId").unwrap());
    }

    #[test]
    fn other_spellings_are_refused_naming_the_field() {
        for raw in [
            "",
            "not-a-guid",
            "c0264f46",
            "123",
            "{da2bb850-63ef-47e4-8b45-7b5b841eaa9b}",
            "urn:uuid:da2bb850-63ef-47e4-8b45-7b5b841eaa9b",
            "da2bb85063ef47e48b457b5b841eaa9b",
            " da2bb850-63ef-47e4-8b45-7b5b841eaa9b",
            "da2bb850-63ef-47e4-8b45-7b5b841eaa9b-",
            "da2bb850-63ef-47e4-8b45-7b5b841eaa9g",
            "da2bb85-063ef-47e4-8b45-7b5b841eaa9b",
            "da2bb850-63ef-47e4-8b45-7b5b841eaa9b0",
            "+a2bb850-63ef-47e4-8b45-7b5b841eaa9b",
            "дa2bb850-63ef-47e4-8b45-7b5b841eaa9",
        ] {
            let e = Guid::parse(raw, "cashboxId").unwrap_err();
            assert_eq!(e.field(), "cashboxId", "{raw:?}");
            assert!(e.to_string().contains("is not a GUID"), "{e}");
        }
    }
}
