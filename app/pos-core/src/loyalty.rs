//! Customers and loyalty: points earned per spend, redeemed as a tender; tiers by rolling spend.
//!
//! Points are movements, never an overwritten balance: a customer's balance is the sum of their
//! ledger, so two terminals crediting the same customer offline both count.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{CustomerId, LoyaltyCard, ReceiptNumber, RefundId, SaleId};
use crate::money::{Money, MoneyError};
use crate::refund::Refund;
use crate::sale::Sale;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub card: Option<LoyaltyCard>,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[default]
    Member,
    Bronze,
    Silver,
    Gold,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Member => "Member",
            Tier::Bronze => "Bronze",
            Tier::Silver => "Silver",
            Tier::Gold => "Gold",
        }
    }
}

/// One tier's entry bar and earn rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRule {
    pub tier: Tier,
    /// Spend over the rolling window needed to reach the tier.
    pub spend_min: Money,
    /// Points per whole currency unit spent (1 = one point per euro).
    pub points_per_unit: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyProgram {
    /// Ordered from Member up.
    pub tiers: Vec<TierRule>,
    pub window_days: i64,
    /// What one point is worth when redeemed.
    pub point_value: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    #[error("the customer has {available} points; {requested} cannot be redeemed")]
    NotEnoughPoints { requested: i64, available: i64 },
    #[error("points must be a positive number, not {0}")]
    NotPositive(i64),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("the spend for {tier} cannot be below zero")]
    NegativeThreshold { tier: &'static str },
    #[error("the spend for {tier} must be more than the spend for {below}")]
    ThresholdOrder {
        tier: &'static str,
        below: &'static str,
    },
    #[error("the points per unit for {tier} cannot be below zero")]
    NegativeEarnRate { tier: &'static str },
    #[error("a point must be worth more than nothing")]
    PointValue,
    #[error("the spend that sets a tier is counted over 1 to {WINDOW_DAYS_MAX} days, not {0}")]
    Window(i64),
    #[error("the program needs one rule for each tier, Member first")]
    Tiers,
}

/// The longest rolling window a tier is counted over: ten years.
pub const WINDOW_DAYS_MAX: i64 = 3_650;

/// Something the customer bought or returned: a row of their history, and what rolling spend
/// counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub at: Timestamp,
    /// The sale's receipt, or the refund's own.
    pub receipt: ReceiptNumber,
    /// Negative for a refund.
    pub amount: Money,
}

/// A customer's purchase history, oldest first: their sales, and the refunds made against
/// those sales (a refund carries no customer of its own; it belongs to the original sale's).
pub fn purchase_history(
    customer: &CustomerId,
    sales: &[Sale],
    refunds: &[Refund],
) -> Vec<Purchase> {
    let theirs: Vec<&Sale> = sales
        .iter()
        .filter(|sale| {
            sale.loyalty
                .as_ref()
                .is_some_and(|loyalty| &loyalty.customer.id == customer)
        })
        .collect();
    let bought = theirs.iter().map(|sale| Purchase {
        at: sale.at,
        receipt: sale.receipt_number.clone(),
        amount: sale.total,
    });
    let returned = refunds
        .iter()
        .filter(|refund| {
            refund
                .original_sale
                .as_ref()
                .is_some_and(|id| theirs.iter().any(|sale| &sale.id == id))
        })
        .map(|refund| Purchase {
            at: refund.at,
            receipt: refund.receipt_number.clone(),
            amount: refund.total.negate(),
        });
    let mut history: Vec<Purchase> = bought.chain(returned).collect();
    history.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.receipt.cmp(&b.receipt)));
    history
}

impl LoyaltyProgram {
    /// Checks the program before it is saved: one rule per tier from Member up, bars that
    /// rise with the tier, earn rates not below zero, a point worth something and a
    /// sensible window.
    pub fn check(&self) -> Result<(), LoyaltyError> {
        let tiers: Vec<Tier> = self.tiers.iter().map(|rule| rule.tier).collect();
        if tiers.first() != Some(&Tier::Member) || tiers.windows(2).any(|w| w[0] >= w[1]) {
            return Err(LoyaltyError::Tiers);
        }
        for (index, rule) in self.tiers.iter().enumerate() {
            if rule.spend_min.is_negative() {
                return Err(LoyaltyError::NegativeThreshold {
                    tier: rule.tier.name(),
                });
            }
            if rule.points_per_unit.is_sign_negative() && !rule.points_per_unit.is_zero() {
                return Err(LoyaltyError::NegativeEarnRate {
                    tier: rule.tier.name(),
                });
            }
            if let Some(below) = index.checked_sub(1).and_then(|i| self.tiers.get(i))
                && rule.spend_min.amount() <= below.spend_min.amount()
            {
                return Err(LoyaltyError::ThresholdOrder {
                    tier: rule.tier.name(),
                    below: below.tier.name(),
                });
            }
        }
        if !self.point_value.is_positive() {
            return Err(LoyaltyError::PointValue);
        }
        if !(1..=WINDOW_DAYS_MAX).contains(&self.window_days) {
            return Err(LoyaltyError::Window(self.window_days));
        }
        Ok(())
    }

    /// The customer's spend over the window ending at `now`.
    pub fn rolling_spend(&self, history: &[Purchase], now: Timestamp) -> Result<Money, MoneyError> {
        let since = now.minus_days(self.window_days);
        Money::sum(
            self.point_value.currency(),
            history
                .iter()
                .filter(|p| p.at > since && p.at <= now)
                .map(|p| &p.amount),
        )
    }

    /// The highest tier whose bar the spend reaches.
    pub fn tier_for(&self, spend: Money) -> Tier {
        self.tiers
            .iter()
            .filter(|rule| rule.spend_min.amount() <= spend.amount())
            .map(|rule| rule.tier)
            .max()
            .unwrap_or(Tier::Member)
    }

    /// The next tier and how much more spend reaches it, or `None` at the top.
    pub fn progress(&self, spend: Money) -> Option<(Tier, Money)> {
        let current = self.tier_for(spend);
        self.tiers
            .iter()
            .filter(|rule| rule.tier > current)
            .min_by_key(|rule| rule.tier)
            .map(|rule| {
                (
                    rule.tier,
                    Money::new(rule.spend_min.amount() - spend.amount(), spend.currency()),
                )
            })
    }

    /// Whole points earned on `spend` at `tier` (fractions are dropped, never rounded up).
    pub fn points_earned(&self, tier: Tier, spend: Money) -> i64 {
        let rate = self
            .tiers
            .iter()
            .find(|rule| rule.tier == tier)
            .map(|rule| rule.points_per_unit)
            .unwrap_or(Decimal::ZERO);
        (spend.amount() * rate).floor().to_i64().unwrap_or(0).max(0)
    }

    /// The money value of `points`.
    pub fn value_of(&self, points: i64) -> Money {
        self.point_value.times(Decimal::from(points))
    }

    /// Checks a redemption against the balance and returns its value.
    pub fn redeem(&self, points: i64, balance: i64) -> Result<Money, LoyaltyError> {
        if points <= 0 {
            return Err(LoyaltyError::NotPositive(points));
        }
        if points > balance {
            return Err(LoyaltyError::NotEnoughPoints {
                requested: points,
                available: balance,
            });
        }
        Ok(self.value_of(points))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointsReason {
    Earned(SaleId),
    Redeemed(SaleId),
    /// Points given back (redeemed on a refunded sale) or taken back (earned on it).
    Refund(RefundId),
    Adjustment(String),
}

/// One change to a customer's points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsMovement {
    pub customer: CustomerId,
    pub points: i64,
    pub reason: PointsReason,
    pub at: Timestamp,
}

/// A customer's balance: the sum of their movements.
pub fn balance(movements: &[PointsMovement], customer: &CustomerId) -> i64 {
    movements
        .iter()
        .filter(|m| &m.customer == customer)
        .map(|m| m.points)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{eur, loyalty_program};

    #[test]
    fn tiers_follow_rolling_spend() {
        let program = loyalty_program();
        let now = Timestamp::from_unix_ms(400 * crate::clock::MS_PER_DAY);
        let history = vec![
            Purchase {
                at: now.minus_days(400),
                receipt: ReceiptNumber::new("R1"),
                amount: eur("5000.00"),
            },
            Purchase {
                at: now.minus_days(30),
                receipt: ReceiptNumber::new("R2"),
                amount: eur("450.00"),
            },
            Purchase {
                at: now.minus_days(2),
                receipt: ReceiptNumber::new("R3"),
                amount: eur("120.00"),
            },
        ];
        let spend = program.rolling_spend(&history, now).unwrap();
        assert_eq!(spend, eur("570.00"));
        assert_eq!(program.tier_for(spend), Tier::Silver);
        assert_eq!(program.progress(spend), Some((Tier::Gold, eur("430.00"))));
        assert_eq!(program.points_earned(Tier::Silver, eur("19.99")), 29);
    }

    #[test]
    fn cannot_redeem_more_points_than_held() {
        let program = loyalty_program();
        assert_eq!(
            program.redeem(500, 120).unwrap_err().to_string(),
            "the customer has 120 points; 500 cannot be redeemed"
        );
        assert_eq!(program.redeem(100, 120).unwrap(), eur("1.00"));
    }

    #[test]
    fn a_program_is_checked_before_it_is_saved() {
        let program = loyalty_program();
        assert_eq!(program.check(), Ok(()));
        let mut backwards = program.clone();
        backwards.tiers[2].spend_min = eur("50.00");
        assert_eq!(
            backwards.check().unwrap_err().to_string(),
            "the spend for Silver must be more than the spend for Bronze"
        );
        let mut free = program.clone();
        free.point_value = eur("0.00");
        assert_eq!(free.check(), Err(LoyaltyError::PointValue));
        let mut negative = program.clone();
        negative.tiers[1].points_per_unit = Decimal::new(-1, 0);
        assert_eq!(
            negative.check(),
            Err(LoyaltyError::NegativeEarnRate { tier: "Bronze" })
        );
        let mut forever = program;
        forever.window_days = 0;
        assert_eq!(forever.check(), Err(LoyaltyError::Window(0)));
    }
}
