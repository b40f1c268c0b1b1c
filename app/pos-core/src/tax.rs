//! The one tax engine. Receipts, invoices, reports and refunds all take their tax figures from
//! [`compute`], so they cannot disagree by a cent.
//!
//! Lines are grouped by the set of rates that applies to them. With
//! [`TaxRounding::PerInvoice`] the tax of each group is computed on the group's sum and rounded
//! once, then spread back over the lines with the largest-remainder method; with
//! [`TaxRounding::PerLine`] each line is rounded and the group is the sum of its lines. Either
//! way the line figures add up exactly to the group figures, and the group figures to the
//! totals. Tax-inclusive amounts are never changed by tax: the tax is carved out of them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::id::{TaxCategoryId, TaxRateId};
use crate::money::{Currency, Money, MoneyError, RoundingMode};

/// One tax rate: `VAT 20%` is `rate = 0.20`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    pub id: TaxRateId,
    pub name: String,
    pub rate: Decimal,
}

/// What a product is taxed as: food, standard goods, books… One or more rates apply (a state
/// and a city sales tax, say).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxCategory {
    pub id: TaxCategoryId,
    pub name: String,
    pub rates: Vec<TaxRateId>,
}

/// Whether shelf prices include tax (most of Europe) or tax is added at the till (most of
/// North America).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceMode {
    TaxInclusive,
    TaxExclusive,
}

/// Where tax is rounded to the currency's minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    PerLine,
    PerInvoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxPolicy {
    pub price_mode: PriceMode,
    pub rounding: TaxRounding,
    pub rounding_mode: RoundingMode,
}

/// A store's rates and categories.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxTable {
    rates: BTreeMap<TaxRateId, TaxRate>,
    categories: BTreeMap<TaxCategoryId, TaxCategory>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    #[error("tax category `{0}` is not set up in this store")]
    UnknownCategory(TaxCategoryId),
    #[error("tax rate `{0}` is not set up in this store")]
    UnknownRate(TaxRateId),
    #[error("a tax rate must be between 0% and 100%, not {0}")]
    RateOutOfRange(Decimal),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl TaxTable {
    pub fn with_rate(mut self, id: &str, name: &str, rate: Decimal) -> Result<TaxTable, TaxError> {
        if rate < Decimal::ZERO || rate > Decimal::ONE {
            return Err(TaxError::RateOutOfRange(rate));
        }
        let id = TaxRateId::new(id);
        self.rates.insert(
            id.clone(),
            TaxRate {
                id,
                name: name.to_owned(),
                rate,
            },
        );
        Ok(self)
    }

    pub fn with_category(
        mut self,
        id: &str,
        name: &str,
        rates: &[&str],
    ) -> Result<TaxTable, TaxError> {
        let rates: Vec<TaxRateId> = rates.iter().map(|r| TaxRateId::new(*r)).collect();
        if let Some(missing) = rates.iter().find(|r| !self.rates.contains_key(r)) {
            return Err(TaxError::UnknownRate(missing.clone()));
        }
        let id = TaxCategoryId::new(id);
        self.categories.insert(
            id.clone(),
            TaxCategory {
                id,
                name: name.to_owned(),
                rates,
            },
        );
        Ok(self)
    }

    /// Gives the rate `id` a new percentage (`0.19` for 19%). Unlike [`TaxTable::with_rate`]
    /// it takes any value, so a settings form can show why one is wrong through
    /// `tenant::Store::check` before anything is saved.
    pub fn change_rate(&mut self, id: &TaxRateId, rate: Decimal) -> Result<(), TaxError> {
        let stored = self
            .rates
            .get_mut(id)
            .ok_or_else(|| TaxError::UnknownRate(id.clone()))?;
        stored.rate = rate;
        Ok(())
    }

    pub fn rate(&self, id: &TaxRateId) -> Option<&TaxRate> {
        self.rates.get(id)
    }

    pub fn rates(&self) -> impl Iterator<Item = &TaxRate> {
        self.rates.values()
    }

    pub fn category(&self, id: &TaxCategoryId) -> Option<&TaxCategory> {
        self.categories.get(id)
    }

    fn rates_of(&self, category: &TaxCategoryId) -> Result<Vec<&TaxRate>, TaxError> {
        let category = self
            .categories
            .get(category)
            .ok_or_else(|| TaxError::UnknownCategory(category.clone()))?;
        let mut rates = category
            .rates
            .iter()
            .map(|id| {
                self.rates
                    .get(id)
                    .ok_or_else(|| TaxError::UnknownRate(id.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rates.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rates)
    }
}

/// A line to tax: its settled amount after every discount, in the store's price mode (gross
/// when prices include tax, net otherwise), and its category. Refund lines are negative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxInput {
    pub amount: Money,
    pub category: TaxCategoryId,
}

/// Tax of one rate on one line or in one summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateAmount {
    pub rate_id: TaxRateId,
    pub name: String,
    pub rate: Decimal,
    /// The net amount this rate was charged on.
    pub taxable: Money,
    pub tax: Money,
}

/// The tax of one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTax {
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
    pub rates: Vec<RateAmount>,
}

/// The tax of a whole document: each line's share, one row per rate, and the totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxComputation {
    pub lines: Vec<LineTax>,
    pub by_rate: Vec<RateAmount>,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
}

/// Computes the tax of `lines` in `currency`. Every figure returned is settled in minor units,
/// and `net + tax == gross` holds for each line, each rate row and the totals.
pub fn compute(
    lines: &[TaxInput],
    table: &TaxTable,
    policy: &TaxPolicy,
    currency: Currency,
) -> Result<TaxComputation, TaxError> {
    // Group lines by the exact set of rates that applies to them.
    let mut groups: BTreeMap<Vec<TaxRateId>, Vec<usize>> = BTreeMap::new();
    let mut line_rates = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        if line.amount.currency() != currency {
            return Err(MoneyError::CurrencyMismatch {
                left: currency,
                right: line.amount.currency(),
            }
            .into());
        }
        let rates = table.rates_of(&line.category)?;
        let key: Vec<TaxRateId> = rates.iter().map(|r| r.id.clone()).collect();
        groups.entry(key).or_default().push(index);
        line_rates.push(rates);
    }

    let zero = Money::zero(currency);
    let mut line_tax: Vec<Vec<Money>> = lines
        .iter()
        .zip(&line_rates)
        .map(|(_, rates)| vec![zero; rates.len()])
        .collect();

    for members in groups.values() {
        let rates = &line_rates[members[0]];
        if rates.is_empty() {
            continue;
        }
        let per_line: Vec<Vec<Money>> = match policy.rounding {
            TaxRounding::PerLine => members
                .iter()
                .map(|&i| taxes_on(lines[i].amount, rates, policy))
                .collect(),
            TaxRounding::PerInvoice => {
                let base = Money::sum(currency, members.iter().map(|&i| &lines[i].amount))?;
                let group_taxes = taxes_on(base, rates, policy);
                let weights: Vec<Decimal> =
                    members.iter().map(|&i| lines[i].amount.amount()).collect();
                // Spread each rate's tax over the lines by their amounts. A group whose lines
                // cancel out (a sale and its refund) has zero tax to spread.
                let spread: Vec<Vec<Money>> = group_taxes
                    .iter()
                    .map(|tax| allocate_signed(*tax, &weights))
                    .collect();
                (0..members.len())
                    .map(|m| spread.iter().map(|per_rate| per_rate[m]).collect())
                    .collect()
            }
        };
        for (&index, taxes) in members.iter().zip(per_line) {
            line_tax[index] = taxes;
        }
    }

    let mut out_lines = Vec::with_capacity(lines.len());
    let mut by_rate: BTreeMap<TaxRateId, RateAmount> = BTreeMap::new();
    for ((line, rates), taxes) in lines.iter().zip(&line_rates).zip(&line_tax) {
        let tax = Money::sum(currency, taxes)?;
        let (net, gross) = match policy.price_mode {
            PriceMode::TaxInclusive => (line.amount.checked_sub(tax)?, line.amount),
            PriceMode::TaxExclusive => (line.amount, line.amount.checked_add(tax)?),
        };
        let mut rate_rows = Vec::with_capacity(rates.len());
        for (rate, amount) in rates.iter().zip(taxes) {
            let row = RateAmount {
                rate_id: rate.id.clone(),
                name: rate.name.clone(),
                rate: rate.rate,
                taxable: net,
                tax: *amount,
            };
            let summary = by_rate
                .entry(rate.id.clone())
                .or_insert_with(|| RateAmount {
                    taxable: zero,
                    tax: zero,
                    ..row.clone()
                });
            summary.taxable = summary.taxable.checked_add(net)?;
            summary.tax = summary.tax.checked_add(*amount)?;
            rate_rows.push(row);
        }
        out_lines.push(LineTax {
            net,
            tax,
            gross,
            rates: rate_rows,
        });
    }
    let net = Money::sum(currency, out_lines.iter().map(|l| &l.net))?;
    let tax = Money::sum(currency, out_lines.iter().map(|l| &l.tax))?;
    let gross = Money::sum(currency, out_lines.iter().map(|l| &l.gross))?;
    Ok(TaxComputation {
        lines: out_lines,
        by_rate: by_rate.into_values().collect(),
        net,
        tax,
        gross,
    })
}

/// The settled tax of each rate on `amount`.
///
/// Tax-exclusive: each rate is charged on the net amount and rounded. Tax-inclusive: the total
/// tax `amount × R / (1 + R)` (R the sum of the rates) is rounded once and split between the
/// rates in proportion to them, so net + tax is exactly the shelf price.
fn taxes_on(amount: Money, rates: &[&TaxRate], policy: &TaxPolicy) -> Vec<Money> {
    match policy.price_mode {
        PriceMode::TaxExclusive => rates
            .iter()
            .map(|r| amount.times(r.rate).round(policy.rounding_mode))
            .collect(),
        PriceMode::TaxInclusive => {
            let combined: Decimal = rates.iter().map(|r| r.rate).sum();
            let total = amount
                .times(combined / (Decimal::ONE + combined))
                .round(policy.rounding_mode);
            let weights: Vec<Decimal> = rates.iter().map(|r| r.rate).collect();
            allocate_signed(total, &weights)
        }
    }
}

/// [`Money::allocate`] with signed weights: a group holding a sale line and a refund line
/// spreads its tax with the refund's share negative.
fn allocate_signed(amount: Money, weights: &[Decimal]) -> Vec<Money> {
    let all_same_sign =
        weights.iter().all(|w| *w >= Decimal::ZERO) || weights.iter().all(|w| *w <= Decimal::ZERO);
    if all_same_sign {
        return amount.allocate(weights);
    }
    // Mixed signs: give each line the rounded tax of its own amount and let the line with the
    // largest amount absorb the difference, so the parts still add up to `amount`.
    let total: Decimal = weights.iter().sum();
    let currency = amount.currency();
    if total.is_zero() {
        return weights.iter().map(|_| Money::zero(currency)).collect();
    }
    let mut parts: Vec<Money> = weights
        .iter()
        .map(|w| amount.times(*w / total).round(RoundingMode::HalfUp))
        .collect();
    let assigned = parts
        .iter()
        .fold(Decimal::ZERO, |sum, part| sum + part.amount());
    let largest = weights
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().cmp(&b.1.abs()))
        .map(|(i, _)| i)
        .unwrap_or(0);
    parts[largest] = Money::new(
        parts[largest].amount() + amount.amount() - assigned,
        currency,
    );
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::eur;
    use rust_decimal_macros::dec;

    fn table() -> TaxTable {
        TaxTable::default()
            .with_rate("vat-std", "VAT 19%", dec!(0.19))
            .unwrap()
            .with_rate("vat-red", "VAT 7%", dec!(0.07))
            .unwrap()
            .with_rate("state", "State 6.25%", dec!(0.0625))
            .unwrap()
            .with_rate("city", "City 2%", dec!(0.02))
            .unwrap()
            .with_category("standard", "Standard", &["vat-std"])
            .unwrap()
            .with_category("food", "Food", &["vat-red"])
            .unwrap()
            .with_category("us-general", "General", &["state", "city"])
            .unwrap()
            .with_category("exempt", "Exempt", &[])
            .unwrap()
    }

    fn policy(price_mode: PriceMode, rounding: TaxRounding) -> TaxPolicy {
        TaxPolicy {
            price_mode,
            rounding,
            rounding_mode: RoundingMode::HalfUp,
        }
    }

    fn input(amount: &str, category: &str) -> TaxInput {
        TaxInput {
            amount: eur(amount),
            category: TaxCategoryId::new(category),
        }
    }

    #[test]
    fn inclusive_prices_keep_the_shelf_total_with_mixed_rates() {
        let lines = [
            input("2.99", "standard"),
            input("1.49", "food"),
            input("0.99", "food"),
        ];
        for rounding in [TaxRounding::PerLine, TaxRounding::PerInvoice] {
            let out = compute(
                &lines,
                &table(),
                &policy(PriceMode::TaxInclusive, rounding),
                Currency::EUR,
            )
            .unwrap();
            assert_eq!(out.gross, eur("5.47"), "{rounding:?}");
            assert_eq!(out.net.checked_add(out.tax).unwrap(), out.gross);
        }
    }

    #[test]
    fn many_small_lines_round_differently_per_line_and_per_invoice() {
        // Ten lines of 0.10 at 19% VAT, tax-exclusive: 0.019 each.
        let lines: Vec<TaxInput> = (0..10).map(|_| input("0.10", "standard")).collect();
        let per_line = compute(
            &lines,
            &table(),
            &policy(PriceMode::TaxExclusive, TaxRounding::PerLine),
            Currency::EUR,
        )
        .unwrap();
        let per_invoice = compute(
            &lines,
            &table(),
            &policy(PriceMode::TaxExclusive, TaxRounding::PerInvoice),
            Currency::EUR,
        )
        .unwrap();
        assert_eq!(per_line.tax, eur("0.20"));
        assert_eq!(per_invoice.tax, eur("0.19"));
        // Per invoice, the lines still add up to the invoice's tax.
        let line_sum = Money::sum(Currency::EUR, per_invoice.lines.iter().map(|l| &l.tax)).unwrap();
        assert_eq!(line_sum, per_invoice.tax);
        assert_eq!(per_invoice.by_rate[0].tax, eur("0.19"));
    }

    #[test]
    fn negative_refund_lines_mirror_the_sale() {
        let sale = compute(
            &[input("9.99", "standard")],
            &table(),
            &policy(PriceMode::TaxInclusive, TaxRounding::PerLine),
            Currency::EUR,
        )
        .unwrap();
        let refund = compute(
            &[input("-9.99", "standard")],
            &table(),
            &policy(PriceMode::TaxInclusive, TaxRounding::PerLine),
            Currency::EUR,
        )
        .unwrap();
        assert_eq!(refund.tax, sale.tax.negate());
        assert_eq!(refund.net, sale.net.negate());
    }

    #[test]
    fn a_sale_and_its_refund_in_one_document_net_to_zero_tax() {
        let out = compute(
            &[input("9.99", "standard"), input("-9.99", "standard")],
            &table(),
            &policy(PriceMode::TaxInclusive, TaxRounding::PerInvoice),
            Currency::EUR,
        )
        .unwrap();
        assert!(out.tax.is_zero());
        assert_eq!(out.lines[0].tax, out.lines[1].tax.negate());
    }

    #[test]
    fn two_rates_on_one_line_are_each_reported() {
        let out = compute(
            &[input("10.00", "us-general")],
            &table(),
            &policy(PriceMode::TaxExclusive, TaxRounding::PerLine),
            Currency::EUR,
        )
        .unwrap();
        let rates: Vec<(String, Money)> = out
            .by_rate
            .iter()
            .map(|r| (r.name.clone(), r.tax))
            .collect();
        assert_eq!(
            rates,
            vec![
                ("City 2%".to_owned(), eur("0.20")),
                ("State 6.25%".to_owned(), eur("0.63"))
            ]
        );
        assert_eq!(out.gross, eur("10.83"));
    }

    #[test]
    fn unknown_category_is_a_clear_error() {
        let err = compute(
            &[input("1.00", "luxury")],
            &table(),
            &policy(PriceMode::TaxInclusive, TaxRounding::PerLine),
            Currency::EUR,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tax category `luxury` is not set up in this store"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn category() -> impl Strategy<Value = &'static str> {
            prop_oneof![
                Just("standard"),
                Just("food"),
                Just("us-general"),
                Just("exempt")
            ]
        }

        proptest! {
            #[test]
            fn figures_always_add_up(
                lines in proptest::collection::vec((-50_000i64..200_000, category()), 1..40),
                inclusive in any::<bool>(),
                per_line in any::<bool>(),
            ) {
                let inputs: Vec<TaxInput> = lines
                    .iter()
                    .map(|(minor, cat)| TaxInput {
                        amount: Money::from_minor(*minor, Currency::EUR),
                        category: TaxCategoryId::new(*cat),
                    })
                    .collect();
                let policy = policy(
                    if inclusive { PriceMode::TaxInclusive } else { PriceMode::TaxExclusive },
                    if per_line { TaxRounding::PerLine } else { TaxRounding::PerInvoice },
                );
                let out = compute(&inputs, &table(), &policy, Currency::EUR).unwrap();
                let amounts = Money::sum(Currency::EUR, inputs.iter().map(|l| &l.amount)).unwrap();
                // Inclusive: the customer pays exactly the shelf prices. Exclusive: the sum of
                // the lines plus the tax.
                if inclusive {
                    prop_assert_eq!(out.gross, amounts);
                } else {
                    prop_assert_eq!(out.net, amounts);
                }
                prop_assert_eq!(out.net.checked_add(out.tax).unwrap(), out.gross);
                let rate_tax = Money::sum(Currency::EUR, out.by_rate.iter().map(|r| &r.tax)).unwrap();
                prop_assert_eq!(rate_tax, out.tax);
                for line in &out.lines {
                    prop_assert!(line.tax.is_settled() && line.net.is_settled());
                    prop_assert_eq!(line.net.checked_add(line.tax).unwrap(), line.gross);
                }
            }
        }
    }
}
