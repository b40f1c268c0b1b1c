//! Taking payment: any split of cash, card, mobile wallet, gift card, store credit and loyalty
//! points.
//!
//! Rules a cashier can rely on:
//! - Only cash gives change, so only cash may exceed what is owed; a card, wallet, gift card,
//!   store credit or points tender larger than the balance is refused.
//! - Cash rounding (to 0.05, say) applies only when cash settles the balance, and only to that
//!   cash part; the adjustment is recorded so the books still balance.
//! - When a payment is complete, the applied tenders add up exactly to the total plus the cash
//!   rounding adjustment.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};
use crate::tenant::CashRounding;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    Cash,
    Card,
    MobileWallet,
    GiftCard,
    StoreCredit,
    LoyaltyPoints,
}

impl TenderKind {
    pub const ALL: [TenderKind; 6] = [
        TenderKind::Cash,
        TenderKind::Card,
        TenderKind::MobileWallet,
        TenderKind::GiftCard,
        TenderKind::StoreCredit,
        TenderKind::LoyaltyPoints,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TenderKind::Cash => "Cash",
            TenderKind::Card => "Card",
            TenderKind::MobileWallet => "Mobile wallet",
            TenderKind::GiftCard => "Gift card",
            TenderKind::StoreCredit => "Store credit",
            TenderKind::LoyaltyPoints => "Loyalty points",
        }
    }

    /// Only cash can be handed back as change.
    pub fn gives_change(self) -> bool {
        self == TenderKind::Cash
    }

    /// Whether taking this tender opens the cash drawer (cash only, by default).
    pub fn opens_drawer(self) -> bool {
        self == TenderKind::Cash
    }
}

/// One payment taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tender {
    pub kind: TenderKind,
    /// The part of the sale this tender pays.
    pub applied: Money,
    /// What the customer handed over (cash) or what was charged (others).
    pub received: Money,
    /// Card terminal approval code, wallet transaction id, gift card number.
    pub reference: Option<String>,
    /// Points spent, for a points tender.
    pub points: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenderError {
    #[error("{kind} cannot pay more than the {remaining} still owed; only cash gives change")]
    OverTender {
        kind: &'static str,
        remaining: Money,
    },
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("the sale is already paid")]
    AlreadyPaid,
    #[error("{remaining} is still owed; take another payment")]
    Short { remaining: Money },
    #[error("the gift card or credit holds {balance}; it cannot pay {requested}")]
    InsufficientBalance { requested: Money, balance: Money },
    #[error("there is no payment number {0} to remove")]
    NoSuchTender(usize),
    #[error("a payment holds at most {0} tenders")]
    TooManyTenders(usize),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A sale is never split more ways than this.
pub const TENDERS_MAX: usize = 20;

/// A payment in progress for a total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    total: Money,
    cash_rounding: Option<CashRounding>,
    tenders: Vec<Tender>,
    rounding: Money,
}

/// A completed payment, as the receipt and the books show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSummary {
    pub total: Money,
    /// Cash rounding: the amount due minus the total (negative when rounded down).
    pub rounding: Money,
    pub tenders: Vec<Tender>,
    /// Cash handed back.
    pub change: Money,
}

impl PaymentSummary {
    /// What was actually collected: the total plus the rounding.
    pub fn amount_due(&self) -> Result<Money, MoneyError> {
        self.total.checked_add(self.rounding)
    }

    /// The applied amount of each tender kind, in a fixed order.
    pub fn by_kind(&self) -> Result<Vec<(TenderKind, Money)>, MoneyError> {
        let currency = self.total.currency();
        let mut out = Vec::new();
        for kind in TenderKind::ALL {
            let of_kind: Vec<Money> = self
                .tenders
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| t.applied)
                .collect();
            if !of_kind.is_empty() {
                out.push((kind, Money::sum(currency, &of_kind)?));
            }
        }
        Ok(out)
    }
}

impl Payment {
    pub fn new(total: Money, cash_rounding: Option<CashRounding>) -> Payment {
        Payment {
            total,
            cash_rounding,
            tenders: Vec::new(),
            rounding: Money::zero(total.currency()),
        }
    }

    pub fn currency(&self) -> Currency {
        self.total.currency()
    }

    pub fn total(&self) -> Money {
        self.total
    }

    pub fn tenders(&self) -> &[Tender] {
        &self.tenders
    }

    /// What is still owed before cash rounding.
    pub fn remaining(&self) -> Money {
        let paid = self
            .tenders
            .iter()
            .fold(self.total.amount(), |left, t| left - t.applied.amount());
        Money::new(paid + self.rounding.amount(), self.currency())
    }

    /// What the customer pays if they settle the rest in cash (after cash rounding).
    pub fn remaining_in_cash(&self) -> Money {
        let remaining = self.remaining();
        match &self.cash_rounding {
            Some(rounding) => rounding.apply(remaining),
            None => remaining,
        }
    }

    pub fn is_complete(&self) -> bool {
        !self.remaining().is_positive()
    }

    fn guard(&self, amount: Money) -> Result<Money, TenderError> {
        if self.is_complete() {
            return Err(TenderError::AlreadyPaid);
        }
        if self.tenders.len() >= TENDERS_MAX {
            return Err(TenderError::TooManyTenders(TENDERS_MAX));
        }
        if !amount.is_positive() {
            return Err(TenderError::NotPositive);
        }
        if amount.currency() != self.currency() {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency(),
                right: amount.currency(),
            }
            .into());
        }
        Ok(self.remaining())
    }

    /// Takes `received` in cash and returns the change due.
    pub fn add_cash(&mut self, received: Money) -> Result<Money, TenderError> {
        let remaining = self.guard(received)?;
        let settles = self.remaining_in_cash();
        let (applied, rounding) = if received.amount() >= settles.amount() {
            (settles, settles.checked_sub(remaining)?)
        } else {
            (received, Money::zero(self.currency()))
        };
        self.rounding = self.rounding.checked_add(rounding)?;
        self.tenders.push(Tender {
            kind: TenderKind::Cash,
            applied,
            received,
            reference: None,
            points: None,
        });
        Ok(received.checked_sub(applied)?)
    }

    /// Takes a non-cash tender of exactly `amount`. It may not exceed the balance.
    pub fn add_electronic(
        &mut self,
        kind: TenderKind,
        amount: Money,
        reference: Option<String>,
    ) -> Result<(), TenderError> {
        let remaining = self.guard(amount)?;
        if kind.gives_change() {
            // Cash goes through add_cash so change and rounding are worked out.
            self.add_cash(amount)?;
            return Ok(());
        }
        if amount.amount() > remaining.amount() {
            return Err(TenderError::OverTender {
                kind: kind.name(),
                remaining,
            });
        }
        self.tenders.push(Tender {
            kind,
            applied: amount,
            received: amount,
            reference,
            points: None,
        });
        Ok(())
    }

    /// Takes a gift card or store credit with a known `balance`.
    pub fn add_stored_value(
        &mut self,
        kind: TenderKind,
        amount: Money,
        balance: Money,
        reference: String,
    ) -> Result<(), TenderError> {
        if amount.amount() > balance.amount() {
            return Err(TenderError::InsufficientBalance {
                requested: amount,
                balance,
            });
        }
        self.add_electronic(kind, amount, Some(reference))
    }

    /// Takes loyalty points worth `value` (see [`crate::loyalty::LoyaltyProgram::redeem`]).
    pub fn add_points(&mut self, points: i64, value: Money) -> Result<(), TenderError> {
        self.add_electronic(TenderKind::LoyaltyPoints, value, None)?;
        if let Some(last) = self.tenders.last_mut() {
            last.points = Some(points);
        }
        Ok(())
    }

    /// Takes back a tender before the sale completes (the card was declined after all).
    pub fn remove(&mut self, index: usize) -> Result<Tender, TenderError> {
        if index >= self.tenders.len() {
            return Err(TenderError::NoSuchTender(index));
        }
        let tender = self.tenders.remove(index);
        // Rounding belongs to the cash that settled; recompute it from what is left.
        if tender.kind == TenderKind::Cash {
            self.rounding = Money::zero(self.currency());
        }
        Ok(tender)
    }

    /// Closes the payment. Fails while anything is owed.
    pub fn finish(self) -> Result<PaymentSummary, TenderError> {
        let remaining = self.remaining();
        let mut rounding = self.rounding;
        if remaining.is_positive() {
            // Less than half a rounding increment left: settled "in cash" at zero.
            if self.cash_rounding.is_none() || self.remaining_in_cash().is_positive() {
                return Err(TenderError::Short { remaining });
            }
            rounding = rounding.checked_sub(remaining)?;
        }
        let currency = self.currency();
        let change = Money::sum(
            currency,
            self.tenders
                .iter()
                .map(|t| t.received.checked_sub(t.applied))
                .collect::<Result<Vec<_>, _>>()?
                .iter(),
        )?;
        let summary = PaymentSummary {
            total: self.total,
            rounding,
            tenders: self.tenders,
            change,
        };
        debug_assert_eq!(
            Money::sum(currency, summary.tenders.iter().map(|t| &t.applied)).ok(),
            summary.amount_due().ok(),
            "tenders must add up to the amount due"
        );
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::RoundingMode;
    use crate::testing::eur;
    use rust_decimal_macros::dec;

    fn chf(text: &str) -> Money {
        Money::parse(text, Currency::CHF).unwrap()
    }

    fn five_cents() -> Option<CashRounding> {
        Some(CashRounding {
            increment: dec!(0.05),
            mode: RoundingMode::HalfUp,
        })
    }

    #[test]
    fn cash_over_tender_gives_change() {
        let mut payment = Payment::new(eur("17.35"), None);
        let change = payment.add_cash(eur("20.00")).unwrap();
        assert_eq!(change, eur("2.65"));
        let summary = payment.finish().unwrap();
        assert_eq!(summary.change, eur("2.65"));
        assert_eq!(summary.tenders[0].applied, eur("17.35"));
    }

    #[test]
    fn a_card_cannot_be_over_tendered() {
        let mut payment = Payment::new(eur("17.35"), None);
        let err = payment
            .add_electronic(TenderKind::Card, eur("20.00"), Some("A1".into()))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Card cannot pay more than the 17.35 EUR still owed; only cash gives change"
        );
    }

    #[test]
    fn cash_rounding_applies_only_to_the_cash_that_settles() {
        let mut payment = Payment::new(chf("10.02"), five_cents());
        payment
            .add_electronic(TenderKind::Card, chf("5.01"), None)
            .unwrap();
        // 5.01 left; cash settles at 5.00.
        assert_eq!(payment.remaining_in_cash(), chf("5.00"));
        let change = payment.add_cash(chf("10.00")).unwrap();
        assert_eq!(change, chf("5.00"));
        let summary = payment.finish().unwrap();
        assert_eq!(summary.rounding, chf("-0.01"));
        assert_eq!(summary.amount_due().unwrap(), chf("10.01"));
    }

    #[test]
    fn card_payments_are_not_rounded() {
        let mut payment = Payment::new(chf("10.02"), five_cents());
        payment
            .add_electronic(TenderKind::Card, chf("10.02"), None)
            .unwrap();
        let summary = payment.finish().unwrap();
        assert!(summary.rounding.is_zero());
    }

    #[test]
    fn short_payment_cannot_finish() {
        let mut payment = Payment::new(eur("30.00"), None);
        payment.add_cash(eur("20.00")).unwrap();
        assert_eq!(
            payment.finish().unwrap_err().to_string(),
            "10.00 EUR is still owed; take another payment"
        );
    }

    #[test]
    fn gift_card_balance_is_checked() {
        let mut payment = Payment::new(eur("30.00"), None);
        let err = payment
            .add_stored_value(
                TenderKind::GiftCard,
                eur("25.00"),
                eur("10.00"),
                "GC-1".into(),
            )
            .unwrap_err();
        assert!(matches!(err, TenderError::InsufficientBalance { .. }));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Cash(i64),
            Card(i64),
            Wallet(i64),
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (1i64..5_000).prop_map(Step::Cash),
                (1i64..5_000).prop_map(Step::Card),
                (1i64..5_000).prop_map(Step::Wallet),
            ]
        }

        proptest! {
            #[test]
            fn tenders_sum_to_the_amount_due_and_change_is_cash_only(
                total in 1i64..20_000,
                steps in proptest::collection::vec(step(), 1..8),
                rounded in any::<bool>(),
            ) {
                let rounding = if rounded { five_cents() } else { None };
                let mut payment = Payment::new(Money::from_minor(total, Currency::CHF), rounding);
                for step in steps {
                    let result = match step {
                        Step::Cash(m) => payment.add_cash(Money::from_minor(m, Currency::CHF)).map(|change| {
                            assert!(!change.is_negative());
                        }),
                        Step::Card(m) => payment.add_electronic(TenderKind::Card, Money::from_minor(m, Currency::CHF), None),
                        Step::Wallet(m) => payment.add_electronic(TenderKind::MobileWallet, Money::from_minor(m, Currency::CHF), None),
                    };
                    if result.is_err() {
                        continue;
                    }
                }
                // Settle whatever is left in cash, as a cashier would.
                if !payment.is_complete() {
                    let due = payment.remaining_in_cash();
                    if due.is_positive() {
                        payment.add_cash(due).unwrap();
                    }
                }
                let summary = payment.finish().unwrap();
                let applied = Money::sum(Currency::CHF, summary.tenders.iter().map(|t| &t.applied)).unwrap();
                prop_assert_eq!(applied, summary.amount_due().unwrap());
                prop_assert!(!summary.change.is_negative());
                for tender in &summary.tenders {
                    if tender.kind != TenderKind::Cash {
                        prop_assert_eq!(tender.applied, tender.received);
                    }
                }
                // Rounding never moves the amount by half an increment or more.
                prop_assert!(summary.rounding.amount().abs() < dec!(0.03));
                if !rounded {
                    prop_assert!(summary.rounding.is_zero());
                }
            }
        }
    }
}
