//! Shifts: open with a float, cash in and out with reasons, close with a counted amount.
//!
//! The X report (mid-shift) and the Z report (at close) come from one function,
//! [`report`], over the same inputs, so they cannot drift: a Z is an X plus the count.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cart::Void;
use crate::clock::Timestamp;
use crate::id::{DeviceId, ShiftId, StoreId, UserId};
use crate::money::{Currency, Money, MoneyError};
use crate::refund::Refund;
use crate::sale::Sale;
use crate::tax::RateAmount;
use crate::tender::TenderKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashDirection {
    In,
    Out,
}

/// Cash put in or taken out of the drawer outside a sale (change top-up, bank drop, petty cash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMovement {
    pub direction: CashDirection,
    pub amount: Money,
    pub reason: String,
    pub at: Timestamp,
    pub by: UserId,
}

/// A count of the drawer by denomination: (face value, how many).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCount {
    pub currency: Currency,
    pub denominations: Vec<(Decimal, u32)>,
}

impl CashCount {
    pub fn total(&self) -> Money {
        let sum: Decimal = self
            .denominations
            .iter()
            .map(|(value, count)| *value * Decimal::from(*count))
            .sum();
        Money::new(sum, self.currency)
    }
}

/// Whether a denomination is a note or a coin, as the count screen groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Piece {
    Note,
    Coin,
}

/// The notes and coins of `currency` a drawer holds, largest first, for counting it. Known
/// currencies list their circulating pieces (the large notes a till never holds are left out);
/// any other currency gets a 1-2-5 series from 100 down to its minor unit.
pub fn denominations(currency: Currency) -> Vec<(Decimal, Piece)> {
    let piece = |value: i64, scale: u32, kind: Piece| (Decimal::new(value, scale), kind);
    let series = |notes: &[i64], coins: &[(i64, u32)]| -> Vec<(Decimal, Piece)> {
        notes
            .iter()
            .map(|n| piece(*n, 0, Piece::Note))
            .chain(coins.iter().map(|(v, s)| piece(*v, *s, Piece::Coin)))
            .collect()
    };
    match currency.code() {
        "EUR" => series(
            &[200, 100, 50, 20, 10, 5],
            &[
                (2, 0),
                (1, 0),
                (50, 2),
                (20, 2),
                (10, 2),
                (5, 2),
                (2, 2),
                (1, 2),
            ],
        ),
        "USD" => series(
            &[100, 50, 20, 10, 5, 1],
            &[(25, 2), (10, 2), (5, 2), (1, 2)],
        ),
        "GBP" => series(
            &[50, 20, 10, 5],
            &[
                (2, 0),
                (1, 0),
                (50, 2),
                (20, 2),
                (10, 2),
                (5, 2),
                (2, 2),
                (1, 2),
            ],
        ),
        "CHF" => series(
            &[200, 100, 50, 20, 10],
            &[(5, 0), (2, 0), (1, 0), (50, 2), (20, 2), (10, 2), (5, 2)],
        ),
        "JPY" => series(
            &[10_000, 5_000, 1_000],
            &[(500, 0), (100, 0), (50, 0), (10, 0), (5, 0), (1, 0)],
        ),
        _ => {
            let minor = currency.minor_unit();
            let mut out = Vec::new();
            for exponent in (0..=2).rev() {
                for step in [5_i64, 2, 1] {
                    let value = Decimal::from(step * 10_i64.pow(exponent));
                    out.push((value, Piece::Note));
                }
            }
            let mut coin_unit = Decimal::ONE;
            while coin_unit > minor {
                coin_unit /= Decimal::from(10);
                for step in [5_i64, 2, 1] {
                    let value = Decimal::from(step) * coin_unit;
                    if value >= minor {
                        out.push((value.normalize(), Piece::Coin));
                    }
                }
            }
            out
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    pub by: UserId,
    pub at: Timestamp,
    pub count: CashCount,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub id: ShiftId,
    pub store: StoreId,
    pub device: DeviceId,
    pub opened_by: UserId,
    pub opened_at: Timestamp,
    pub float: Money,
    pub cash_movements: Vec<CashMovement>,
    pub closing: Option<Closing>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShiftError {
    #[error("the shift is already closed")]
    Closed,
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("say why cash goes in or out")]
    MissingReason,
    #[error("the opening float cannot be negative")]
    NegativeFloat,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Shift {
    pub fn open(
        id: ShiftId,
        store: StoreId,
        device: DeviceId,
        by: UserId,
        float: Money,
        at: Timestamp,
    ) -> Result<Shift, ShiftError> {
        if float.is_negative() {
            return Err(ShiftError::NegativeFloat);
        }
        Ok(Shift {
            id,
            store,
            device,
            opened_by: by,
            opened_at: at,
            float,
            cash_movements: Vec::new(),
            closing: None,
        })
    }

    pub fn is_open(&self) -> bool {
        self.closing.is_none()
    }

    pub fn move_cash(&mut self, movement: CashMovement) -> Result<(), ShiftError> {
        if !self.is_open() {
            return Err(ShiftError::Closed);
        }
        if !movement.amount.is_positive() {
            return Err(ShiftError::NotPositive);
        }
        if movement.reason.trim().is_empty() {
            return Err(ShiftError::MissingReason);
        }
        if movement.amount.currency() != self.float.currency() {
            return Err(MoneyError::CurrencyMismatch {
                left: self.float.currency(),
                right: movement.amount.currency(),
            }
            .into());
        }
        self.cash_movements.push(movement);
        Ok(())
    }

    /// Closes the shift with the counted drawer. The Z report is [`report`] on the closed shift.
    pub fn close(&mut self, count: CashCount, by: UserId, at: Timestamp) -> Result<(), ShiftError> {
        if !self.is_open() {
            return Err(ShiftError::Closed);
        }
        if count.currency != self.float.currency() {
            return Err(MoneyError::CurrencyMismatch {
                left: self.float.currency(),
                right: count.currency,
            }
            .into());
        }
        self.closing = Some(Closing { by, at, count });
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    X,
    Z,
}

/// The figures of a shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftReport {
    pub kind: ReportKind,
    pub shift: ShiftId,
    pub store: StoreId,
    pub device: DeviceId,
    pub opened_at: Timestamp,
    /// The close time for a Z, the time of the report for an X.
    pub at: Timestamp,
    pub sales_count: u32,
    /// Customers served: sales with at least one line.
    pub customers: u32,
    pub gross_sales: Money,
    pub discounts: Money,
    pub refunds_count: u32,
    pub refunds: Money,
    pub net_sales: Money,
    pub taxes: Vec<RateAmount>,
    /// Sales tenders minus refund tenders, per kind.
    pub tenders: Vec<(TenderKind, Money)>,
    pub cash_rounding: Money,
    pub voids_count: u32,
    pub voids: Money,
    pub float: Money,
    pub cash_in: Money,
    pub cash_out: Money,
    pub expected_cash: Money,
    /// Only on a Z.
    pub counted_cash: Option<Money>,
    /// Counted minus expected: negative when cash is missing.
    pub discrepancy: Option<Money>,
}

/// The one function behind X and Z reports. `sales`, `refunds` and `voids` are the shift's
/// own; anything else passed in is ignored. A closed shift gives a Z, an open one an X at
/// `now`.
pub fn report(
    shift: &Shift,
    sales: &[Sale],
    refunds: &[Refund],
    voids: &[Void],
    now: Timestamp,
) -> Result<ShiftReport, MoneyError> {
    let currency = shift.float.currency();
    let zero = Money::zero(currency);
    let sales: Vec<&Sale> = sales
        .iter()
        .filter(|s| s.shift.as_ref() == Some(&shift.id))
        .collect();
    let refunds: Vec<&Refund> = refunds
        .iter()
        .filter(|r| r.shift.as_ref() == Some(&shift.id))
        .collect();

    let gross_sales = Money::sum(currency, sales.iter().map(|s| &s.subtotal))?;
    let discounts = Money::sum(currency, sales.iter().map(|s| &s.discount_total))?;
    let sold = Money::sum(currency, sales.iter().map(|s| &s.total))?;
    let refunded = Money::sum(currency, refunds.iter().map(|r| &r.total))?;

    let mut taxes: Vec<RateAmount> = Vec::new();
    let sale_rates = sales
        .iter()
        .flat_map(|s| s.taxes.iter().map(|r| (r, false)));
    let refund_rates = refunds
        .iter()
        .flat_map(|r| r.taxes.iter().map(|t| (t, true)));
    for (rate, is_refund) in sale_rates.chain(refund_rates) {
        let (taxable, tax) = if is_refund {
            (rate.taxable.negate(), rate.tax.negate())
        } else {
            (rate.taxable, rate.tax)
        };
        match taxes.iter_mut().find(|r| r.rate_id == rate.rate_id) {
            Some(row) => {
                row.taxable = row.taxable.checked_add(taxable)?;
                row.tax = row.tax.checked_add(tax)?;
            }
            None => taxes.push(RateAmount {
                taxable,
                tax,
                ..rate.clone()
            }),
        }
    }
    taxes.sort_by(|a, b| a.rate_id.cmp(&b.rate_id));

    let mut tenders: Vec<(TenderKind, Money)> = Vec::new();
    for kind in TenderKind::ALL {
        let taken = Money::sum(
            currency,
            sales
                .iter()
                .flat_map(|s| &s.payment.tenders)
                .filter(|t| t.kind == kind)
                .map(|t| &t.applied),
        )?;
        let given = Money::sum(
            currency,
            refunds
                .iter()
                .flat_map(|r| &r.tenders)
                .filter(|t| t.kind == kind)
                .map(|t| &t.applied),
        )?;
        let used = sales
            .iter()
            .flat_map(|s| &s.payment.tenders)
            .chain(refunds.iter().flat_map(|r| &r.tenders))
            .any(|t| t.kind == kind);
        if used {
            tenders.push((kind, taken.checked_sub(given)?));
        }
    }
    let cash_rounding = Money::sum(
        currency,
        sales
            .iter()
            .map(|s| s.payment.rounding)
            .chain(refunds.iter().map(|r| r.rounding.negate()))
            .collect::<Vec<_>>()
            .iter(),
    )?;

    let cash_in = Money::sum(
        currency,
        shift
            .cash_movements
            .iter()
            .filter(|m| m.direction == CashDirection::In)
            .map(|m| &m.amount),
    )?;
    let cash_out = Money::sum(
        currency,
        shift
            .cash_movements
            .iter()
            .filter(|m| m.direction == CashDirection::Out)
            .map(|m| &m.amount),
    )?;
    let net_cash = tenders
        .iter()
        .find(|(kind, _)| *kind == TenderKind::Cash)
        .map_or(zero, |(_, amount)| *amount);
    let expected_cash = shift
        .float
        .checked_add(net_cash)?
        .checked_add(cash_in)?
        .checked_sub(cash_out)?;

    let void_amounts: Vec<Money> = voids
        .iter()
        .filter(|v| v.at >= shift.opened_at)
        .flat_map(|v| &v.lines)
        .map(|l| {
            l.product
                .price
                .times(l.quantity.value())
                .round(crate::money::RoundingMode::HalfUp)
        })
        .collect();
    let voids_count = voids.iter().filter(|v| v.at >= shift.opened_at).count();

    let (kind, at, counted_cash) = match &shift.closing {
        Some(closing) => (ReportKind::Z, closing.at, Some(closing.count.total())),
        None => (ReportKind::X, now, None),
    };
    let discrepancy = match counted_cash {
        Some(counted) => Some(counted.checked_sub(expected_cash)?),
        None => None,
    };
    Ok(ShiftReport {
        kind,
        shift: shift.id.clone(),
        store: shift.store.clone(),
        device: shift.device.clone(),
        opened_at: shift.opened_at,
        at,
        sales_count: count(sales.len()),
        customers: count(sales.iter().filter(|s| !s.lines.is_empty()).count()),
        gross_sales,
        discounts,
        refunds_count: count(refunds.len()),
        refunds: refunded,
        net_sales: sold.checked_sub(refunded)?,
        taxes,
        tenders,
        cash_rounding,
        voids_count: count(voids_count),
        voids: Money::sum(currency, &void_amounts)?,
        float: shift.float,
        cash_in,
        cash_out,
        expected_cash,
        counted_cash,
        discrepancy,
    })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_drawer_holds_notes_then_coins_down_to_a_cent() {
        let pieces = denominations(Currency::EUR);
        assert_eq!(pieces.len(), 14);
        assert_eq!(pieces[0], (Decimal::from(200), Piece::Note));
        assert_eq!(pieces[5], (Decimal::from(5), Piece::Note));
        assert_eq!(pieces[6], (Decimal::from(2), Piece::Coin));
        assert_eq!(pieces[13], (Decimal::new(1, 2), Piece::Coin));
    }

    #[test]
    fn other_currencies_count_down_to_their_minor_unit() {
        let kwd = denominations(Currency::KWD);
        assert_eq!(kwd.last().map(|p| p.0), Some(Decimal::new(1, 3)));
        let jpy = denominations(Currency::JPY);
        assert_eq!(jpy.last().map(|p| p.0), Some(Decimal::ONE));
        let values: Vec<Decimal> = kwd.iter().map(|p| p.0).collect();
        assert!(values.windows(2).all(|w| w[0] > w[1]), "largest first");
    }
}
