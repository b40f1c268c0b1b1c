//! Completed sales. A [`Sale`] is made once, from a priced cart and a finished payment, and
//! never changes: corrections are refunds that point back to it.

use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::cart::{AttachedCustomer, PricedCart, PricedLine};
use crate::clock::Timestamp;
use crate::id::{DeviceId, ReceiptNumber, SaleId, ShiftId, StoreId, UserId};
use crate::loyalty::LoyaltyProgram;
use crate::money::{Currency, Money, MoneyError};
use crate::tax::RateAmount;
use crate::tender::{PaymentSummary, TenderKind};

/// Who, where and when a sale is made; ids come from the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleContext {
    pub id: SaleId,
    pub receipt_number: ReceiptNumber,
    pub store: StoreId,
    pub device: DeviceId,
    pub cashier: UserId,
    pub shift: Option<ShiftId>,
    pub at: Timestamp,
}

/// The loyalty side of a sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyOutcome {
    pub customer: AttachedCustomer,
    pub points_earned: i64,
    pub points_redeemed: i64,
}

/// Every field of a completed sale, as stored and sent. Build a [`Sale`] from it with
/// [`Sale::from_record`], which checks that its figures agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecord {
    pub id: SaleId,
    pub receipt_number: ReceiptNumber,
    pub store: StoreId,
    pub device: DeviceId,
    pub cashier: UserId,
    pub shift: Option<ShiftId>,
    pub at: Timestamp,
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub taxes: Vec<RateAmount>,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    pub payment: PaymentSummary,
    pub loyalty: Option<LoyaltyOutcome>,
}

/// A completed, immutable sale. Read its fields through `Deref` to [`SaleRecord`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SaleRecord", into = "SaleRecord")]
pub struct Sale(SaleRecord);

impl Deref for Sale {
    type Target = SaleRecord;
    fn deref(&self) -> &SaleRecord {
        &self.0
    }
}

impl From<Sale> for SaleRecord {
    fn from(sale: Sale) -> SaleRecord {
        sale.0
    }
}

impl TryFrom<SaleRecord> for Sale {
    type Error = SaleError;
    fn try_from(record: SaleRecord) -> Result<Sale, SaleError> {
        Sale::from_record(record)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaleError {
    #[error("the cart is empty; scan an item first")]
    EmptyCart,
    #[error("the payment is for {paid}, but the cart totals {total}")]
    PaymentMismatch { total: Money, paid: Money },
    #[error("the sale's figures do not add up: {0}")]
    Inconsistent(&'static str),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Sale {
    /// Completes a sale. `loyalty` gives the program when a customer is attached, so points
    /// are earned on what they paid other than with points.
    pub fn complete(
        cart: PricedCart,
        payment: PaymentSummary,
        context: SaleContext,
        loyalty: Option<&LoyaltyProgram>,
    ) -> Result<Sale, SaleError> {
        if cart.lines.is_empty() {
            return Err(SaleError::EmptyCart);
        }
        if payment.total != cart.total {
            return Err(SaleError::PaymentMismatch {
                total: cart.total,
                paid: payment.total,
            });
        }
        let outcome = match (&cart.customer, loyalty) {
            (Some(customer), Some(program)) => {
                let redeemed: i64 = payment.tenders.iter().filter_map(|t| t.points).sum();
                let paid_with_points = Money::sum(
                    cart.currency,
                    payment
                        .tenders
                        .iter()
                        .filter(|t| t.kind == TenderKind::LoyaltyPoints)
                        .map(|t| &t.applied),
                )?;
                let earning_spend = cart.total.checked_sub(paid_with_points)?;
                Some(LoyaltyOutcome {
                    customer: customer.clone(),
                    points_earned: program.points_earned(customer.tier, earning_spend),
                    points_redeemed: redeemed,
                })
            }
            _ => None,
        };
        Sale::from_record(SaleRecord {
            id: context.id,
            receipt_number: context.receipt_number,
            store: context.store,
            device: context.device,
            cashier: context.cashier,
            shift: context.shift,
            at: context.at,
            currency: cart.currency,
            lines: cart.lines,
            subtotal: cart.subtotal,
            discount_total: cart.discount_total,
            taxes: cart.taxes,
            net: cart.net,
            tax: cart.tax,
            total: cart.total,
            payment,
            loyalty: outcome,
        })
    }

    /// Accepts a stored or received record after checking that its figures agree: lines add up
    /// to the total, tax adds up, and the tenders pay exactly the amount due.
    pub fn from_record(record: SaleRecord) -> Result<Sale, SaleError> {
        let currency = record.currency;
        let amounts = Money::sum(currency, record.lines.iter().map(|l| &l.amount))?;
        let bases = Money::sum(currency, record.lines.iter().map(|l| &l.base))?;
        if bases != record.subtotal {
            return Err(SaleError::Inconsistent(
                "lines do not add up to the subtotal",
            ));
        }
        if bases.checked_sub(amounts)? != record.discount_total {
            return Err(SaleError::Inconsistent("discounts do not add up"));
        }
        if record.net.checked_add(record.tax)? != record.total {
            return Err(SaleError::Inconsistent("net plus tax is not the total"));
        }
        let line_gross = Money::sum(currency, record.lines.iter().map(|l| &l.tax.gross))?;
        if line_gross != record.total {
            return Err(SaleError::Inconsistent(
                "line totals do not add up to the total",
            ));
        }
        let rate_tax = Money::sum(currency, record.taxes.iter().map(|r| &r.tax))?;
        if rate_tax != record.tax {
            return Err(SaleError::Inconsistent("tax by rate does not add up"));
        }
        let applied = Money::sum(currency, record.payment.tenders.iter().map(|t| &t.applied))?;
        if applied != record.payment.amount_due()? || record.payment.total != record.total {
            return Err(SaleError::Inconsistent("tenders do not pay the total"));
        }
        Ok(Sale(record))
    }

    /// Tender kinds used, for deciding whether the drawer opens.
    pub fn opens_drawer(&self) -> bool {
        self.payment.tenders.iter().any(|t| t.kind.opens_drawer())
    }
}
