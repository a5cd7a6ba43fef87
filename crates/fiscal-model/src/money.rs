//! Money in kopecks and quantities in millionths, converted from exact decimals only.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The largest quantity a 6-byte FF46 quantity field can carry.
const MAX_MICROS: u64 = 0xFFFF_FFFF_FFFF;

/// An amount of money in kopecks (1/100 rouble). Never negative, never fractional.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Kopecks(pub u64);

impl Kopecks {
    /// The largest amount the product accepts anywhere (a price, a position's sum, a receipt
    /// total, a payment, a cash movement): what a register's 5-byte money field holds (§3),
    /// one below all-ones, which FF46 reads as "not given". 10 995 116 277.74 roubles.
    pub const MAX: Kopecks = Kopecks(0xFF_FFFF_FFFE);

    /// Converts roubles given as an exact decimal (at most two decimals, not negative).
    pub fn from_roubles(value: Decimal, field: &str) -> Result<Kopecks, ModelError> {
        let err = |reason: &str| ModelError::Money {
            field: field.to_string(),
            reason: reason.to_string(),
        };
        if value.is_sign_negative() && !value.is_zero() {
            return Err(err("must not be negative"));
        }
        let scaled = value * Decimal::ONE_HUNDRED;
        if scaled.fract() != Decimal::ZERO {
            return Err(err("must have at most 2 decimal places (kopecks)"));
        }
        let too_large = || {
            err(&format!(
                "is larger than the largest amount a register holds ({})",
                Kopecks::MAX
            ))
        };
        let kopecks: u64 = scaled.trunc().try_into().map_err(|_| too_large())?;
        if kopecks > Kopecks::MAX.0 {
            return Err(too_large());
        }
        Ok(Kopecks(kopecks))
    }

    /// The amount in roubles as an exact decimal with two places.
    pub fn to_roubles(self) -> Decimal {
        Decimal::from(self.0) / Decimal::ONE_HUNDRED
    }

    /// Sum that refuses to go above [`Kopecks::MAX`].
    pub fn checked_add(self, other: Kopecks) -> Option<Kopecks> {
        self.0
            .checked_add(other.0)
            .filter(|v| *v <= Kopecks::MAX.0)
            .map(Kopecks)
    }
}

impl fmt::Display for Kopecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A quantity in millionths of a unit (1 piece = 1 000 000), as FF46 carries it. Never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(pub u64);

impl Quantity {
    /// One unit.
    pub const ONE: Quantity = Quantity(1_000_000);

    /// Converts an exact decimal (positive, at most six decimals).
    pub fn from_decimal(value: Decimal, field: &str) -> Result<Quantity, ModelError> {
        let err = |reason: &str| ModelError::Quantity {
            field: field.to_string(),
            reason: reason.to_string(),
        };
        if value <= Decimal::ZERO {
            return Err(err("must be greater than 0"));
        }
        let scaled = value * Decimal::from(1_000_000u32);
        if scaled.fract() != Decimal::ZERO {
            return Err(err("must have at most 6 decimal places"));
        }
        let micros: u64 = scaled.trunc().try_into().map_err(|_| err("is too large"))?;
        if micros > MAX_MICROS {
            return Err(err("is too large"));
        }
        Ok(Quantity(micros))
    }

    /// Whole units, when the quantity is whole.
    pub fn whole_units(self) -> Option<u64> {
        (self.0 % 1_000_000 == 0).then_some(self.0 / 1_000_000)
    }

    /// The quantity as an exact decimal.
    pub fn to_decimal(self) -> Decimal {
        Decimal::from(self.0) / Decimal::from(1_000_000u32)
    }

    /// price × quantity in kopecks, rounded half away from zero as the register does; `None`
    /// above [`Kopecks::MAX`].
    pub fn times(self, price: Kopecks) -> Option<Kopecks> {
        let product = u128::from(self.0).checked_mul(u128::from(price.0))?;
        let rounded = (product + 500_000) / 1_000_000;
        u64::try_from(rounded)
            .ok()
            .filter(|v| *v <= Kopecks::MAX.0)
            .map(Kopecks)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal().normalize())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn kopecks_accept_two_decimals_and_reject_three() {
        assert_eq!(Kopecks::from_roubles(d("70"), "price"), Ok(Kopecks(7000)));
        assert_eq!(
            Kopecks::from_roubles(d("89.90"), "price"),
            Ok(Kopecks(8990))
        );
        assert_eq!(Kopecks::from_roubles(d("0.01"), "price"), Ok(Kopecks(1)));
        let e = Kopecks::from_roubles(d("0.001"), "positions[0].price").unwrap_err();
        assert_eq!(e.field(), "positions[0].price");
        assert!(Kopecks::from_roubles(d("-1"), "x").is_err());
        assert!(Kopecks::from_roubles(d("99999999999999"), "x").is_err());
        assert_eq!(Kopecks(27000).to_string(), "270.00");
    }

    #[test]
    fn one_maximum_for_every_amount() {
        assert_eq!(Kopecks::MAX, Kopecks(0xFF_FFFF_FFFE));
        assert_eq!(Kopecks::MAX.to_string(), "10995116277.74");
        assert_eq!(
            Kopecks::from_roubles(d("10995116277.74"), "price"),
            Ok(Kopecks::MAX)
        );
        let e = Kopecks::from_roubles(d("10995116277.75"), "positions[0].price").unwrap_err();
        assert_eq!(e.field(), "positions[0].price");
        assert!(e.to_string().contains("10995116277.74"), "{e}");
        assert_eq!(Kopecks::MAX.checked_add(Kopecks(1)), None);
        assert_eq!(Kopecks(1).checked_add(Kopecks(2)), Some(Kopecks(3)));
        assert_eq!(Quantity::ONE.times(Kopecks::MAX), Some(Kopecks::MAX));
        assert_eq!(Quantity(2_000_000).times(Kopecks::MAX), None);
        assert_eq!(Quantity(1_000_001).times(Kopecks::MAX), None);
    }

    #[test]
    fn quantity_is_positive_with_six_decimals() {
        assert_eq!(Quantity::from_decimal(d("3"), "q"), Ok(Quantity(3_000_000)));
        assert_eq!(
            Quantity::from_decimal(d("1.5"), "q"),
            Ok(Quantity(1_500_000))
        );
        assert!(Quantity::from_decimal(d("0"), "q").is_err());
        assert!(Quantity::from_decimal(d("0.0000001"), "q").is_err());
        assert_eq!(
            Quantity(1_500_000).times(Kopecks(10000)),
            Some(Kopecks(15000))
        );
        assert_eq!(Quantity(333_333).times(Kopecks(100)), Some(Kopecks(33)));
        assert_eq!(Quantity(3_000_000).to_string(), "3");
    }
}
