//! Automatic promotions and the order they apply in.
//!
//! The order, documented for retailers and fixed in code:
//! 1. **Quantity breaks**: the more units of the group in the cart, the larger the percentage
//!    off every one of them.
//! 2. **Buy X get Y**: units of the group are ranked from dearest to cheapest and taken in
//!    groups of X + Y; the Y cheapest of each group get the discount (100% = free). Units that
//!    formed a group are used up for later unit-based deals.
//! 3. **Mix and match**: any N still-unused units of the group for a fixed price; the saving is
//!    spread over the units by value.
//! 4. **Percentage off**, typically with a time window (happy hour).
//!
//! Within a step, promotions apply in the order the store lists them. Each step works on what
//! is left of a line after the steps before it and never takes a line below zero. Only pieces
//! count as units; weighed lines take part in percentage deals only. Manual line discounts and
//! then the cart discount come after all promotions (see [`crate::cart`]).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use time::Weekday;

use crate::catalog::Product;
use crate::clock::LocalTime;
use crate::id::{CategoryId, ProductId, PromotionId};
use crate::money::{Money, RoundingMode};

/// Which products a promotion is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductGroup {
    Products(Vec<ProductId>),
    Categories(Vec<CategoryId>),
    Everything,
}

impl ProductGroup {
    pub fn contains(&self, product: &Product) -> bool {
        match self {
            ProductGroup::Products(ids) => {
                ids.contains(&product.id)
                    || product.parent.as_ref().is_some_and(|p| ids.contains(p))
            }
            ProductGroup::Categories(ids) => {
                product.category.as_ref().is_some_and(|c| ids.contains(c))
            }
            ProductGroup::Everything => true,
        }
    }
}

/// When a promotion runs, on the shop's wall clock. An empty weekday list means every day; an
/// end before the start wraps past midnight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub weekdays: Vec<Weekday>,
    pub start_minute: u16,
    pub end_minute: u16,
}

impl TimeWindow {
    pub fn contains(&self, at: &LocalTime) -> bool {
        if !self.weekdays.is_empty() && !self.weekdays.contains(&at.weekday()) {
            return false;
        }
        let minute = at.minute_of_day;
        if self.start_minute <= self.end_minute {
            (self.start_minute..self.end_minute).contains(&minute)
        } else {
            minute >= self.start_minute || minute < self.end_minute
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityTier {
    pub quantity_min: Decimal,
    /// 10 means 10% off.
    pub percent_off: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    QuantityBreak {
        tiers: Vec<QuantityTier>,
    },
    BuyXGetY {
        buy: u32,
        get: u32,
        percent_off: Decimal,
    },
    MixAndMatch {
        quantity: u32,
        bundle_price: Money,
    },
    PercentOff {
        percent: Decimal,
    },
}

impl PromotionKind {
    fn step(&self) -> u8 {
        match self {
            PromotionKind::QuantityBreak { .. } => 0,
            PromotionKind::BuyXGetY { .. } => 1,
            PromotionKind::MixAndMatch { .. } => 2,
            PromotionKind::PercentOff { .. } => 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: PromotionId,
    /// Printed on the receipt under the line it reduced.
    pub name: String,
    pub group: ProductGroup,
    pub kind: PromotionKind,
    pub window: Option<TimeWindow>,
}

/// Where a discount on a line came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountSource {
    Promotion(PromotionId),
    ManualLine,
    ManualCart,
}

/// One discount on one line, as the receipt shows it. `amount` is the reduction (positive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    pub source: DiscountSource,
    pub label: String,
    pub amount: Money,
    /// The manager override that allowed a manual discount above the cashier's limit.
    pub approval: Option<crate::access::Override>,
}

/// A line while promotions are worked out.
pub(crate) struct WorkingLine<'a> {
    pub product: &'a Product,
    pub quantity: Decimal,
    pub remaining: Money,
    pub units_used: Decimal,
    pub discounts: Vec<AppliedDiscount>,
}

impl WorkingLine<'_> {
    fn counts_units(&self) -> bool {
        !self.product.unit.is_weighed()
    }

    /// Takes up to `amount` off the line, never below zero, and records it.
    pub(crate) fn reduce(&mut self, amount: Money, source: DiscountSource, label: &str) {
        self.reduce_approved(amount, source, label, None);
    }

    pub(crate) fn reduce_approved(
        &mut self,
        amount: Money,
        source: DiscountSource,
        label: &str,
        approval: Option<crate::access::Override>,
    ) {
        let amount = amount.round(RoundingMode::HalfUp);
        let capped = if amount.amount() > self.remaining.amount() {
            self.remaining
        } else {
            amount
        };
        if !capped.is_positive() {
            return;
        }
        self.remaining = Money::new(
            self.remaining.amount() - capped.amount(),
            self.remaining.currency(),
        );
        self.discounts.push(AppliedDiscount {
            source,
            label: label.to_owned(),
            amount: capped,
            approval,
        });
    }
}

/// Applies every active promotion to `lines`, in the documented order.
pub(crate) fn apply(promotions: &[Promotion], lines: &mut [WorkingLine<'_>], now: &LocalTime) {
    let mut ordered: Vec<&Promotion> = promotions
        .iter()
        .filter(|p| p.window.as_ref().is_none_or(|w| w.contains(now)))
        .collect();
    ordered.sort_by_key(|p| p.kind.step());
    for promotion in ordered {
        let source = DiscountSource::Promotion(promotion.id.clone());
        let in_group: Vec<usize> = (0..lines.len())
            .filter(|&i| promotion.group.contains(lines[i].product))
            .collect();
        match &promotion.kind {
            PromotionKind::QuantityBreak { tiers } => {
                let units: Decimal = in_group
                    .iter()
                    .filter(|&&i| lines[i].counts_units())
                    .map(|&i| lines[i].quantity)
                    .sum();
                let best = tiers
                    .iter()
                    .filter(|t| t.quantity_min <= units)
                    .max_by_key(|t| t.quantity_min);
                if let Some(tier) = best {
                    let counted: Vec<usize> = in_group
                        .iter()
                        .copied()
                        .filter(|&i| lines[i].counts_units())
                        .collect();
                    for i in counted {
                        let off = lines[i]
                            .remaining
                            .times(tier.percent_off / Decimal::ONE_HUNDRED);
                        lines[i].reduce(off, source.clone(), &promotion.name);
                    }
                }
            }
            PromotionKind::BuyXGetY {
                buy,
                get,
                percent_off,
            } => {
                let size = buy + get;
                let rate = *percent_off / Decimal::ONE_HUNDRED;
                unit_groups(lines, &in_group, size, |group, lines| {
                    let mut off = vec![Decimal::ZERO; lines.len()];
                    for &(line, value) in group.iter().skip(*buy as usize) {
                        off[line] += value * rate;
                    }
                    off
                })
                .into_iter()
                .enumerate()
                .for_each(|(i, off)| {
                    let currency = lines[i].remaining.currency();
                    lines[i].reduce(Money::new(off, currency), source.clone(), &promotion.name);
                });
            }
            PromotionKind::MixAndMatch {
                quantity,
                bundle_price,
            } => {
                let bundle = bundle_price.amount();
                unit_groups(lines, &in_group, *quantity, |group, lines| {
                    let mut off = vec![Decimal::ZERO; lines.len()];
                    let value: Decimal = group.iter().map(|(_, v)| *v).sum();
                    let saving = value - bundle;
                    if saving > Decimal::ZERO && !value.is_zero() {
                        for &(line, unit_value) in group {
                            off[line] += saving * unit_value / value;
                        }
                    }
                    off
                })
                .into_iter()
                .enumerate()
                .for_each(|(i, off)| {
                    let currency = lines[i].remaining.currency();
                    lines[i].reduce(Money::new(off, currency), source.clone(), &promotion.name);
                });
            }
            PromotionKind::PercentOff { percent } => {
                for &i in &in_group {
                    let off = lines[i].remaining.times(*percent / Decimal::ONE_HUNDRED);
                    lines[i].reduce(off, source.clone(), &promotion.name);
                }
            }
        }
    }
}

/// Ranks the unused units of the group's piece lines from dearest to cheapest (ties by line
/// order), cuts them into complete groups of `size`, marks those units used and returns, per
/// line, the total reduction `discount` computed for the groups.
fn unit_groups(
    lines: &mut [WorkingLine<'_>],
    in_group: &[usize],
    size: u32,
    discount: impl Fn(&[(usize, Decimal)], &[WorkingLine<'_>]) -> Vec<Decimal>,
) -> Vec<Decimal> {
    let mut total = vec![Decimal::ZERO; lines.len()];
    if size == 0 {
        return total;
    }
    let mut units: Vec<(usize, Decimal)> = Vec::new();
    for &i in in_group.iter().filter(|&&i| lines[i].counts_units()) {
        let line = &lines[i];
        let free = (line.quantity - line.units_used).trunc();
        if free <= Decimal::ZERO || line.quantity.is_zero() {
            continue;
        }
        let value = line.remaining.amount() / line.quantity;
        // Bounded by the cart: quantities of pieces a till can hold.
        let count = free.to_usize().unwrap_or(0).min(10_000);
        units.extend(std::iter::repeat_n((i, value), count));
    }
    units.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for group in units.chunks_exact(size as usize) {
        for (i, off) in discount(group, lines).into_iter().enumerate() {
            total[i] += off;
        }
        for &(line, _) in group {
            lines[line].units_used += Decimal::ONE;
        }
    }
    total
}
