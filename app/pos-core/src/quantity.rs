//! Quantities: pieces or weights, exact to three decimals.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How a product is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Whole items.
    #[default]
    Piece,
    /// Weighed, priced per kilogram.
    Kilogram,
    /// Weighed, priced per pound.
    Pound,
}

impl Unit {
    pub fn is_weighed(self) -> bool {
        !matches!(self, Unit::Piece)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Piece => "pc",
            Unit::Kilogram => "kg",
            Unit::Pound => "lb",
        }
    }
}

/// The largest number of decimals a quantity may have (grams of a kilogram).
pub const QUANTITY_DECIMALS_MAX: u32 = 3;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("a quantity of {0} pieces is not a whole number")]
    FractionalPieces(Decimal),
    #[error("a quantity of {0} has more than three decimals")]
    TooPrecise(Decimal),
    #[error("a quantity must be more than zero, not {0}")]
    NotPositive(Decimal),
    #[error("`{0}` is not a quantity")]
    NotANumber(String),
}

/// A signed quantity with at most three decimals. Sales use positive quantities; stock
/// movements carry a sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(Decimal);

impl Quantity {
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);
    pub const ONE: Quantity = Quantity(Decimal::ONE);

    /// A quantity for `unit`: whole for pieces, at most three decimals for weights.
    pub fn of(value: Decimal, unit: Unit) -> Result<Quantity, QuantityError> {
        let value = value.normalize();
        if value.scale() > QUANTITY_DECIMALS_MAX {
            return Err(QuantityError::TooPrecise(value));
        }
        if unit == Unit::Piece && !value.fract().is_zero() {
            return Err(QuantityError::FractionalPieces(value));
        }
        Ok(Quantity(value))
    }

    /// A positive quantity for `unit`, as a cart line needs.
    pub fn positive(value: Decimal, unit: Unit) -> Result<Quantity, QuantityError> {
        let quantity = Quantity::of(value, unit)?;
        if quantity.0 <= Decimal::ZERO {
            return Err(QuantityError::NotPositive(value));
        }
        Ok(quantity)
    }

    pub fn pieces(count: i64) -> Quantity {
        Quantity(Decimal::from(count))
    }

    pub fn parse(text: &str, unit: Unit) -> Result<Quantity, QuantityError> {
        let value: Decimal = text
            .trim()
            .parse()
            .map_err(|_| QuantityError::NotANumber(text.to_owned()))?;
        Quantity::of(value, unit)
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(self) -> bool {
        self.0 < Decimal::ZERO
    }

    pub fn negate(self) -> Quantity {
        Quantity(-self.0)
    }

    pub fn abs(self) -> Quantity {
        Quantity(self.0.abs())
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, other: Quantity) -> Quantity {
        Quantity((self.0 + other.0).normalize())
    }
}

impl std::ops::Sub for Quantity {
    type Output = Quantity;
    fn sub(self, other: Quantity) -> Quantity {
        Quantity((self.0 - other.0).normalize())
    }
}

impl std::ops::AddAssign for Quantity {
    fn add_assign(&mut self, other: Quantity) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl Quantity {
    /// A quantity computed from others (a sum, a split of a batch): callers guarantee it keeps
    /// at most three decimals, so no unit check is needed.
    pub(crate) fn of_unchecked(value: Decimal) -> Quantity {
        Quantity(value.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn pieces_are_whole_and_weights_have_three_decimals() {
        assert!(Quantity::of(dec!(2), Unit::Piece).is_ok());
        assert_eq!(
            Quantity::of(dec!(1.5), Unit::Piece)
                .unwrap_err()
                .to_string(),
            "a quantity of 1.5 pieces is not a whole number"
        );
        assert!(Quantity::of(dec!(1.235), Unit::Kilogram).is_ok());
        assert!(Quantity::of(dec!(1.2350), Unit::Kilogram).is_ok());
        assert!(matches!(
            Quantity::of(dec!(1.2345), Unit::Pound),
            Err(QuantityError::TooPrecise(_))
        ));
        assert!(matches!(
            Quantity::positive(dec!(0), Unit::Piece),
            Err(QuantityError::NotPositive(_))
        ));
    }
}
