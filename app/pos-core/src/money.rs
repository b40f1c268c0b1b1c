//! Money: an exact decimal amount tied to an ISO 4217 currency.
//!
//! Amounts are `rust_decimal::Decimal`, never floating point. Every operation that combines two
//! amounts checks that they share a currency and fails with [`MoneyError::CurrencyMismatch`]
//! otherwise: mixing currencies is never silent.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency: its three-letter code and the number of minor-unit digits it is
/// settled in (JPY 0, EUR 2, KWD 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// Currencies the terminal knows the minor units of. Others can be built with
/// [`Currency::new`].
const KNOWN: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HUF", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PLN", 2),
    ("SEK", 2),
    ("TND", 3),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    pub const EUR: Currency = Currency::known(*b"EUR", 2);
    pub const USD: Currency = Currency::known(*b"USD", 2);
    pub const GBP: Currency = Currency::known(*b"GBP", 2);
    pub const CHF: Currency = Currency::known(*b"CHF", 2);
    pub const JPY: Currency = Currency::known(*b"JPY", 0);
    pub const KWD: Currency = Currency::known(*b"KWD", 3);

    const fn known(code: [u8; 3], minor_units: u8) -> Currency {
        Currency { code, minor_units }
    }

    /// A currency by code and minor units. The code must be three ASCII capital letters and
    /// the minor units at most 4.
    pub fn new(code: &str, minor_units: u8) -> Result<Currency, MoneyError> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| MoneyError::UnknownCurrency(code.to_owned()))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) || minor_units > 4 {
            return Err(MoneyError::UnknownCurrency(code.to_owned()));
        }
        Ok(Currency {
            code: bytes,
            minor_units,
        })
    }

    /// A currency from the built-in ISO 4217 table.
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        KNOWN
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(known, minor)| Currency::known(byte_code(known), *minor))
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }

    pub fn code(&self) -> &str {
        // The constructor only accepts ASCII capitals, so this cannot fail.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// The smallest settled amount: 0.01 for EUR, 1 for JPY, 0.001 for KWD.
    pub fn minor_unit(&self) -> Decimal {
        Decimal::new(1, self.minor_units())
    }
}

fn byte_code(code: &str) -> [u8; 3] {
    let bytes = code.as_bytes();
    [bytes[0], bytes[1], bytes[2]]
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(code: String) -> Result<Currency, MoneyError> {
        Currency::from_code(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_owned()
    }
}

/// How an amount is brought to a coarser precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// 0.5 goes away from zero: the retail convention and the default.
    #[default]
    HalfUp,
    /// 0.5 goes to the even neighbour (banker's rounding).
    HalfEven,
    /// Toward zero.
    Down,
    /// Away from zero.
    Up,
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::Down => RoundingStrategy::ToZero,
            RoundingMode::Up => RoundingStrategy::AwayFromZero,
        }
    }
}

/// Errors from combining or building money.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} and {right}: amounts in different currencies")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("unknown currency code `{0}`")]
    UnknownCurrency(String),
    #[error("`{0}` is not an amount of money")]
    NotAnAmount(String),
    #[error("amount {amount} has more decimals than {currency} allows ({minor_units})")]
    TooPrecise {
        amount: Decimal,
        currency: Currency,
        minor_units: u32,
    },
}

/// An exact amount in one currency.
///
/// A `Money` may carry more decimals than the currency's minor units while a computation is in
/// progress (a tax share, a unit price of 0.0125); [`Money::round`] brings it to settled
/// precision. Amounts that are stored on a sale are always rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money {
            amount: amount.normalize(),
            currency,
        }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency)
    }

    /// Parses "12.50" in `currency`, refusing more decimals than the currency settles in.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let amount: Decimal = text
            .trim()
            .parse()
            .map_err(|_| MoneyError::NotAnAmount(text.to_owned()))?;
        Money::settled(amount, currency)
    }

    /// An amount that must already be at the currency's precision (a price typed by a manager,
    /// an amount read back from storage).
    pub fn settled(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let money = Money::new(amount, currency);
        if money.amount.scale() > currency.minor_units() {
            return Err(MoneyError::TooPrecise {
                amount,
                currency,
                minor_units: currency.minor_units(),
            });
        }
        Ok(money)
    }

    /// The amount expressed in minor units (cents), exact for settled amounts.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money::new(Decimal::new(minor, currency.minor_units()), currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    /// True when the amount has no more decimals than the currency settles in.
    pub fn is_settled(&self) -> bool {
        self.amount.normalize().scale() <= self.currency.minor_units()
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(Money::new(self.amount + other.amount, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(Money::new(self.amount - other.amount, self.currency))
    }

    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }

    pub fn max(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if other.amount > self.amount {
            other
        } else {
            self
        })
    }

    /// Compares amounts of the same currency.
    pub fn cmp_amount(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// Multiplies by a plain factor (a quantity, a rate). The result is not rounded.
    pub fn times(self, factor: Decimal) -> Money {
        Money::new(self.amount * factor, self.currency)
    }

    pub fn negate(self) -> Money {
        Money::new(-self.amount, self.currency)
    }

    pub fn abs(self) -> Money {
        Money::new(self.amount.abs(), self.currency)
    }

    /// Rounds to the currency's minor units.
    pub fn round(self, mode: RoundingMode) -> Money {
        Money::new(
            self.amount
                .round_dp_with_strategy(self.currency.minor_units(), mode.strategy()),
            self.currency,
        )
    }

    /// Rounds to a multiple of `increment` (cash rounding to 0.05, to 1 yen, to 10 cents).
    /// A zero or negative increment leaves the amount as it is.
    pub fn round_to_increment(self, increment: Decimal, mode: RoundingMode) -> Money {
        if increment <= Decimal::ZERO {
            return self;
        }
        let steps = (self.amount / increment).round_dp_with_strategy(0, mode.strategy());
        Money::new(steps * increment, self.currency)
    }

    /// Sums amounts that must all be in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        amounts: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |total, amount| {
                total.checked_add(*amount)
            })
    }

    /// Splits this amount into parts proportional to `weights`, each settled in minor units,
    /// that add up to exactly this amount (largest-remainder method). Used to spread a cart
    /// discount over lines and a refund over tenders without losing a cent.
    ///
    /// The amount must be settled. When every weight is zero the split is even.
    pub fn allocate(self, weights: &[Decimal]) -> Vec<Money> {
        if weights.is_empty() {
            return Vec::new();
        }
        let currency = self.currency;
        let unit = currency.minor_unit();
        let total_minor = (self.amount / unit).round();
        let weight_sum: Decimal = weights.iter().map(|w| w.abs()).sum();
        let shares: Vec<Decimal> = if weight_sum.is_zero() {
            let count = Decimal::from(weights.len());
            weights.iter().map(|_| total_minor / count).collect()
        } else {
            weights
                .iter()
                .map(|w| total_minor * w.abs() / weight_sum)
                .collect()
        };
        let mut parts: Vec<Decimal> = shares.iter().map(|share| share.trunc()).collect();
        let mut remainder = total_minor - parts.iter().copied().sum::<Decimal>();
        // Hand the leftover minor units to the largest fractional parts; ties go to the earliest
        // share so the result is deterministic.
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by(|&a, &b| {
            let fa = (shares[a] - shares[a].trunc()).abs();
            let fb = (shares[b] - shares[b].trunc()).abs();
            fb.cmp(&fa).then(a.cmp(&b))
        });
        let step = if remainder.is_sign_negative() {
            Decimal::NEGATIVE_ONE
        } else {
            Decimal::ONE
        };
        for index in order.iter().cycle().take(order.len() * 2) {
            if remainder.is_zero() {
                break;
            }
            parts[*index] += step;
            remainder -= step;
        }
        parts
            .into_iter()
            .map(|minor| Money::new(minor * unit, currency))
            .collect()
    }
}

impl fmt::Display for Money {
    /// `12.50 EUR`: the amount at the currency's precision, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.display_amount(), self.currency)
    }
}

impl Money {
    /// The amount at the currency's precision without the code: `12.50`, `-3.000`, `1200`.
    pub fn display_amount(&self) -> String {
        let minor = self.currency.minor_units();
        let mut amount = self.amount;
        if amount.scale() < minor {
            amount.rescale(minor);
        }
        amount.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn eur(text: &str) -> Money {
        Money::parse(text, Currency::EUR).unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Currency::from_code("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::from_code("EUR").unwrap().minor_units(), 2);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::KWD.minor_unit(), dec!(0.001));
    }

    #[test]
    fn unknown_currency_is_refused() {
        assert_eq!(
            Currency::from_code("XYZ").unwrap_err().to_string(),
            "unknown currency code `XYZ`"
        );
        assert!(Currency::new("eur", 2).is_err());
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let err = eur("1.00")
            .checked_add(Money::parse("1", Currency::JPY).unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot combine EUR and JPY: amounts in different currencies"
        );
    }

    #[test]
    fn parse_refuses_more_decimals_than_the_currency_has() {
        assert!(Money::parse("1.5", Currency::JPY).is_err());
        assert!(Money::parse("1.005", Currency::EUR).is_err());
        assert_eq!(
            Money::parse("1.005", Currency::KWD).unwrap().amount(),
            dec!(1.005)
        );
        assert!(matches!(
            Money::parse("abc", Currency::EUR),
            Err(MoneyError::NotAnAmount(_))
        ));
    }

    #[test]
    fn display_pads_to_minor_units() {
        assert_eq!(eur("12.5").to_string(), "12.50 EUR");
        assert_eq!(
            Money::parse("1200", Currency::JPY).unwrap().to_string(),
            "1200 JPY"
        );
        assert_eq!(
            Money::parse("3", Currency::KWD).unwrap().to_string(),
            "3.000 KWD"
        );
    }

    #[test]
    fn rounding_modes() {
        let m = Money::new(dec!(2.345), Currency::EUR);
        assert_eq!(m.round(RoundingMode::HalfUp).amount(), dec!(2.35));
        assert_eq!(m.round(RoundingMode::HalfEven).amount(), dec!(2.34));
        assert_eq!(m.negate().round(RoundingMode::HalfUp).amount(), dec!(-2.35));
    }

    #[test]
    fn cash_rounding_to_five_cents() {
        let check = |from: Decimal, to: Decimal| {
            assert_eq!(
                Money::new(from, Currency::EUR)
                    .round_to_increment(dec!(0.05), RoundingMode::HalfUp)
                    .amount(),
                to
            )
        };
        check(dec!(9.97), dec!(9.95));
        check(dec!(9.98), dec!(10.00));
        check(dec!(9.975), dec!(10.00));
        check(dec!(10.02), dec!(10.00));
        check(dec!(10.03), dec!(10.05));
    }

    #[test]
    fn allocate_keeps_every_cent() {
        let parts = eur("10.00").allocate(&[dec!(1), dec!(1), dec!(1)]);
        assert_eq!(
            parts.iter().map(Money::amount).collect::<Vec<_>>(),
            vec![dec!(3.34), dec!(3.33), dec!(3.33)]
        );
        let parts = eur("-0.05").allocate(&[dec!(3), dec!(1)]);
        assert_eq!(
            parts.iter().map(Money::amount).collect::<Vec<_>>(),
            vec![dec!(-0.04), dec!(-0.01)]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn allocation_sums_to_the_whole(
                minor in -10_000_000i64..10_000_000,
                weights in proptest::collection::vec(0u32..100_000, 1..12),
            ) {
                let whole = Money::from_minor(minor, Currency::EUR);
                let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
                let parts = whole.allocate(&weights);
                prop_assert_eq!(parts.len(), weights.len());
                prop_assert!(parts.iter().all(Money::is_settled));
                prop_assert_eq!(Money::sum(Currency::EUR, &parts).unwrap(), whole);
            }

            #[test]
            fn rounding_moves_less_than_one_minor_unit(
                micro in -1_000_000_000i64..1_000_000_000,
            ) {
                for currency in [Currency::JPY, Currency::EUR, Currency::KWD] {
                    let exact = Money::new(Decimal::new(micro, 6), currency);
                    let rounded = exact.round(RoundingMode::HalfUp);
                    prop_assert!(rounded.is_settled());
                    let moved = (rounded.amount() - exact.amount()).abs();
                    prop_assert!(moved <= currency.minor_unit() / Decimal::TWO);
                }
            }
        }
    }
}
