//! Tenants (the fleet operator's clients) and their stores, each with its own currency, tax
//! setup, rounding, receipt text and printing, drawer tenders and feature switches.
//!
//! [`Store::check`] is the one check a store's settings pass before they are saved, wherever
//! they are edited.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::UtcOffset;

use crate::access::Features;
use crate::id::{RoleId, StoreId, TenantId};
use crate::money::{Currency, Money, RoundingMode};
use crate::tax::{TaxPolicy, TaxTable};
use crate::tender::TenderKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub features: Features,
}

/// Cash rounding: the cash part of a payment is rounded to a multiple of `increment` (0.05 in
/// Switzerland, 1 in many currencies without small coins). Card payments are never rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashRounding {
    pub increment: Decimal,
    pub mode: RoundingMode,
}

impl CashRounding {
    pub fn apply(&self, amount: Money) -> Money {
        amount.round_to_increment(self.increment, self.mode)
    }
}

/// What is printed around every receipt, and whether a sale prints one without asking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptSettings {
    pub header: Vec<String>,
    pub footer: Vec<String>,
    #[serde(default)]
    pub printing: ReceiptPrinting,
    /// The logo printed at the top, as a PNG the back office checked for size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_png: Option<Vec<u8>>,
}

/// When a sale's receipt is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptPrinting {
    /// The cashier chooses after each sale: print, email, gift receipt or none.
    #[default]
    Ask,
    /// Every sale prints its receipt as it completes.
    Always,
}

/// Which tenders open the cash drawer when a sale or refund is settled with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerSettings {
    pub opening_tenders: Vec<TenderKind>,
}

impl Default for DrawerSettings {
    /// Cash only: the cashier puts notes in and takes change out; a card sale leaves the
    /// drawer shut, so it is never open without a reason.
    fn default() -> DrawerSettings {
        DrawerSettings {
            opening_tenders: vec![TenderKind::Cash],
        }
    }
}

impl DrawerSettings {
    /// Whether settling with `tenders` opens the drawer.
    pub fn opens_for(&self, tenders: impl IntoIterator<Item = TenderKind>) -> bool {
        tenders
            .into_iter()
            .any(|kind| self.opening_tenders.contains(&kind))
    }
}

/// Limits on manual discounts: above `percent_max_without_approval` a manager must approve,
/// unless the person's role has a limit of its own in `per_role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountPolicy {
    pub percent_max_without_approval: Decimal,
    #[serde(default)]
    pub per_role: BTreeMap<RoleId, Decimal>,
}

impl DiscountPolicy {
    /// The highest discount, in percent, someone with `role` gives without approval.
    pub fn limit_for(&self, role: &RoleId) -> Decimal {
        self.per_role
            .get(role)
            .copied()
            .unwrap_or(self.percent_max_without_approval)
    }
}

/// Most lines printed above or below a receipt: more pushes the sale off the first screen of
/// paper and is a pasting accident.
pub const RECEIPT_LINES_MAX: usize = 8;
/// The widest receipt line any supported paper prints without wrapping (80 mm, 48 columns).
pub const RECEIPT_LINE_CHARS_MAX: usize = 48;
/// The largest cash rounding step, in whole currency units: coins larger than this are not
/// what cash rounding is for.
pub const CASH_ROUNDING_STEP_MAX: i64 = 100;

/// Why a store's settings cannot be saved, in words for the manager. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("the store needs a name; it is printed on every receipt")]
    EmptyName,
    #[error("the tax rate {name} cannot be below 0% ({percent}%)")]
    NegativeTaxRate { name: String, percent: Decimal },
    #[error("the tax rate {name} cannot be above 100% ({percent}%)")]
    TaxRateAboveHundred { name: String, percent: Decimal },
    #[error(
        "a cash rounding step of {step} {currency} is not a whole number of the smallest coin ({minor} {currency}); use for example 0.05"
    )]
    StepNotWholeMinorUnits {
        step: Decimal,
        currency: String,
        minor: Decimal,
    },
    #[error(
        "a cash rounding step must be above 0 and at most {CASH_ROUNDING_STEP_MAX} {currency}, not {step}"
    )]
    StepOutOfRange { step: Decimal, currency: String },
    #[error("a discount limit is a percentage from 0 to 100, not {0}")]
    DiscountLimitOutOfRange(Decimal),
    #[error("the receipt's {place} has {lines} lines; at most {RECEIPT_LINES_MAX} fit")]
    TooManyReceiptLines { place: &'static str, lines: usize },
    #[error(
        "“{line}” is {chars} characters long; a receipt line holds at most {RECEIPT_LINE_CHARS_MAX}"
    )]
    ReceiptLineTooLong { line: String, chars: usize },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub id: StoreId,
    pub tenant: TenantId,
    pub name: String,
    pub address: Vec<String>,
    pub tax_number: Option<String>,
    /// Printed under the address when set.
    #[serde(default)]
    pub phone: Option<String>,
    pub currency: Currency,
    /// The store's wall-clock offset, for happy hours, reports by day and expiry dates.
    #[serde(with = "offset_seconds")]
    pub utc_offset: UtcOffset,
    pub taxes: TaxTable,
    pub tax_policy: TaxPolicy,
    pub cash_rounding: Option<CashRounding>,
    pub discounts: DiscountPolicy,
    pub receipt: ReceiptSettings,
    #[serde(default)]
    pub drawer: DrawerSettings,
    pub features: Features,
}

impl Store {
    /// Checks what a manager can type wrong: a name, tax rates between 0% and 100%, a cash
    /// rounding step made of whole smallest coins, discount limits, receipt lines that fit.
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.name.trim().is_empty() {
            return Err(SettingsError::EmptyName);
        }
        for rate in self.taxes.rates() {
            let percent = (rate.rate * Decimal::ONE_HUNDRED).normalize();
            if rate.rate < Decimal::ZERO {
                return Err(SettingsError::NegativeTaxRate {
                    name: rate.name.clone(),
                    percent,
                });
            }
            if rate.rate > Decimal::ONE {
                return Err(SettingsError::TaxRateAboveHundred {
                    name: rate.name.clone(),
                    percent,
                });
            }
        }
        if let Some(rounding) = &self.cash_rounding {
            check_cash_step(rounding.increment, self.currency)?;
        }
        let limits = std::iter::once(&self.discounts.percent_max_without_approval)
            .chain(self.discounts.per_role.values());
        for limit in limits {
            if *limit < Decimal::ZERO || *limit > Decimal::ONE_HUNDRED {
                return Err(SettingsError::DiscountLimitOutOfRange(*limit));
            }
        }
        for (place, lines) in [
            ("header", &self.receipt.header),
            ("footer", &self.receipt.footer),
        ] {
            if lines.len() > RECEIPT_LINES_MAX {
                return Err(SettingsError::TooManyReceiptLines {
                    place,
                    lines: lines.len(),
                });
            }
            if let Some(line) = lines
                .iter()
                .find(|l| l.chars().count() > RECEIPT_LINE_CHARS_MAX)
            {
                return Err(SettingsError::ReceiptLineTooLong {
                    line: line.clone(),
                    chars: line.chars().count(),
                });
            }
        }
        Ok(())
    }

    /// The switches in force: the tenant's, narrowed by the store's own.
    pub fn effective_features(&self, tenant: &Tenant) -> Features {
        tenant.features.combined(&self.features)
    }
}

/// A cash rounding step must be a whole number of the currency's smallest unit (0.05 EUR is
/// five cents; 0.003 EUR is no coin) and a sensible coin.
pub fn check_cash_step(step: Decimal, currency: Currency) -> Result<(), SettingsError> {
    if step <= Decimal::ZERO || step > Decimal::from(CASH_ROUNDING_STEP_MAX) {
        return Err(SettingsError::StepOutOfRange {
            step: step.normalize(),
            currency: currency.code().to_owned(),
        });
    }
    let minor = currency.minor_unit();
    if !(step % minor).is_zero() {
        return Err(SettingsError::StepNotWholeMinorUnits {
            step: step.normalize(),
            currency: currency.code().to_owned(),
            minor,
        });
    }
    Ok(())
}

mod offset_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;

    pub fn serialize<S: Serializer>(offset: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(offset.whole_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let seconds = i32::deserialize(d)?;
        UtcOffset::from_whole_seconds(seconds).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Store {
        crate::demo::store().unwrap()
    }

    #[test]
    fn the_demo_store_passes_its_own_check() {
        assert_eq!(demo().check(), Ok(()));
    }

    #[test]
    fn cash_steps_are_whole_coins_of_the_currency() {
        assert_eq!(check_cash_step(Decimal::new(5, 2), Currency::CHF), Ok(()));
        assert_eq!(check_cash_step(Decimal::ONE, Currency::JPY), Ok(()));
        assert_eq!(
            check_cash_step(Decimal::new(3, 3), Currency::EUR)
                .unwrap_err()
                .to_string(),
            "a cash rounding step of 0.003 EUR is not a whole number of the smallest coin (0.01 EUR); use for example 0.05"
        );
        assert_eq!(
            check_cash_step(Decimal::new(5, 1), Currency::JPY),
            Err(SettingsError::StepNotWholeMinorUnits {
                step: Decimal::new(5, 1),
                currency: "JPY".to_owned(),
                minor: Decimal::ONE,
            })
        );
        assert!(check_cash_step(Decimal::ZERO, Currency::EUR).is_err());
        assert!(check_cash_step(Decimal::from(500), Currency::EUR).is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        let mut store = demo();
        store.name = "  ".to_owned();
        assert_eq!(store.check(), Err(SettingsError::EmptyName));

        let mut store = demo();
        store
            .discounts
            .per_role
            .insert(RoleId::new("cashier"), Decimal::from(120));
        assert_eq!(
            store.check(),
            Err(SettingsError::DiscountLimitOutOfRange(Decimal::from(120)))
        );

        let mut store = demo();
        store.receipt.footer = vec!["x".repeat(49)];
        assert!(matches!(
            store.check(),
            Err(SettingsError::ReceiptLineTooLong { chars: 49, .. })
        ));
    }

    #[test]
    fn a_role_limit_replaces_the_store_limit_for_that_role_only() {
        let mut policy = demo().discounts;
        policy
            .per_role
            .insert(RoleId::new("manager"), Decimal::from(30));
        assert_eq!(policy.limit_for(&RoleId::new("manager")), Decimal::from(30));
        assert_eq!(policy.limit_for(&RoleId::new("cashier")), Decimal::from(10));
    }
}
