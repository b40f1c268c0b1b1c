//! Refunds, exchanges and no-receipt returns.
//!
//! A refund points at the original sale and its lines. What can be returned is what was sold
//! minus what earlier refunds returned, line by line. The money follows the sale: a line's
//! refund is its share of what the customer actually paid for it, discounts included, and the
//! refund that returns the last unit returns exactly what is left of the line, so a line
//! refunded in several goes adds up to the cent. Money goes back to the original tenders by
//! default (cards and other non-cash first, then cash); cash instead needs a permission.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::access::{Override, permission};
use crate::cart::{Authority, CartError, LineNo};
use crate::catalog::Product;
use crate::clock::Timestamp;
use crate::id::{DeviceId, ReceiptNumber, RefundId, SaleId, ShiftId, StoreId, UserId};
use crate::money::{Currency, Money, MoneyError, RoundingMode};
use crate::quantity::Quantity;
use crate::sale::Sale;
use crate::tax::{self, LineTax, RateAmount, TaxInput, TaxPolicy, TaxTable};
use crate::tenant::CashRounding;
use crate::tender::{Payment, Tender, TenderError, TenderKind};

/// Why goods came back, and whether they go back on the shelf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCode {
    pub code: String,
    pub label: String,
    pub restock: bool,
}

impl ReasonCode {
    pub fn new(code: &str, label: &str, restock: bool) -> ReasonCode {
        ReasonCode {
            code: code.to_owned(),
            label: label.to_owned(),
            restock,
        }
    }

    pub fn defaults() -> Vec<ReasonCode> {
        vec![
            ReasonCode::new("changed_mind", "Changed mind", true),
            ReasonCode::new("wrong_size", "Wrong size or colour", true),
            ReasonCode::new("not_as_described", "Not as described", true),
            ReasonCode::new("damaged", "Damaged", false),
            ReasonCode::new("defective", "Defective", false),
            ReasonCode::new("expired", "Past its date", false),
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundDestination {
    OriginalTenders,
    Cash,
    StoreCredit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    pub lines: Vec<(LineNo, Quantity)>,
    pub reason: ReasonCode,
    pub destination: RefundDestination,
}

/// Ids and place of the refund, from the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundContext {
    pub id: RefundId,
    pub receipt_number: ReceiptNumber,
    pub store: StoreId,
    pub device: DeviceId,
    pub shift: Option<ShiftId>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    /// The line of the original sale; `None` for a no-receipt return.
    pub line_no: Option<LineNo>,
    pub product: Product,
    pub quantity: Quantity,
    /// What the customer gets back for the line (positive).
    pub tax: LineTax,
    pub restock: bool,
}

impl RefundLine {
    pub fn amount(&self) -> Money {
        self.tax.gross
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub receipt_number: ReceiptNumber,
    pub original_sale: Option<SaleId>,
    pub original_receipt: Option<ReceiptNumber>,
    pub store: StoreId,
    pub device: DeviceId,
    pub cashier: UserId,
    pub approval: Option<Override>,
    pub shift: Option<ShiftId>,
    pub at: Timestamp,
    pub currency: Currency,
    pub reason: ReasonCode,
    pub lines: Vec<RefundLine>,
    pub taxes: Vec<RateAmount>,
    pub net: Money,
    pub tax: Money,
    /// What is returned, before cash rounding (positive).
    pub total: Money,
    /// Cash rounding on the cash handed back.
    pub rounding: Money,
    /// Where the money goes (positive amounts).
    pub tenders: Vec<Tender>,
    /// Points given back to the customer (they had paid with them).
    pub points_returned: i64,
    /// Points taken back (they were earned on what is returned).
    pub points_reversed: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("line {line} of the sale does not exist")]
    NoSuchLine { line: LineNo },
    #[error(
        "line {line} sold {sold}; {already} already returned, so {requested} more cannot be returned"
    )]
    MoreThanSold {
        line: LineNo,
        sold: Quantity,
        already: Quantity,
        requested: Quantity,
    },
    #[error("choose at least one item to return")]
    NothingToReturn,
    #[error("a return quantity must be more than zero")]
    NotPositive,
    #[error("refund {0} belongs to another sale")]
    ForeignRefund(RefundId),
    #[error("the refund could not be matched to the original payments ({0} left over)")]
    Unallocated(Money),
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Tax(#[from] tax::TaxError),
    #[error(transparent)]
    Tender(#[from] TenderError),
}

/// Quantities of each line still returnable after `previous` refunds.
pub fn returnable(
    original: &Sale,
    previous: &[Refund],
) -> Result<Vec<(LineNo, Quantity)>, RefundError> {
    check_previous(original, previous)?;
    Ok(original
        .lines
        .iter()
        .map(|line| {
            let already = returned_of(previous, line.line_no);
            (line.line_no, line.quantity - already.0)
        })
        .collect())
}

fn check_previous(original: &Sale, previous: &[Refund]) -> Result<(), RefundError> {
    match previous
        .iter()
        .find(|r| r.original_sale.as_ref() != Some(&original.id))
    {
        Some(foreign) => Err(RefundError::ForeignRefund(foreign.id.clone())),
        None => Ok(()),
    }
}

/// Quantity and tax already returned for one line.
fn returned_of(previous: &[Refund], line_no: LineNo) -> (Quantity, Vec<LineTax>) {
    let lines: Vec<&RefundLine> = previous
        .iter()
        .flat_map(|r| &r.lines)
        .filter(|l| l.line_no == Some(line_no))
        .collect();
    (
        lines.iter().map(|l| l.quantity).sum(),
        lines.iter().map(|l| l.tax.clone()).collect(),
    )
}

/// Refunds part or all of `original`.
pub fn refund(
    original: &Sale,
    previous: &[Refund],
    request: &RefundRequest,
    authority: &Authority<'_>,
    cash_rounding: Option<&CashRounding>,
    context: RefundContext,
) -> Result<Refund, RefundError> {
    check_previous(original, previous)?;
    let approval = check(authority, permission::REFUND)?;
    let approval = match request.destination {
        RefundDestination::Cash
            if original
                .payment
                .tenders
                .iter()
                .any(|t| t.kind != TenderKind::Cash) =>
        {
            check(authority, permission::REFUND_TO_CASH)?.or(approval)
        }
        _ => approval,
    };
    let lines = refund_lines(original, previous, request)?;
    let mut refund = assemble(
        original.currency,
        lines,
        request.reason.clone(),
        authority,
        approval,
        context,
        Some(original),
    )?;
    let tenders = match request.destination {
        RefundDestination::OriginalTenders => {
            to_original_tenders(original, previous, refund.total, cash_rounding)?
        }
        RefundDestination::Cash => vec![cash_tender(refund.total, cash_rounding)],
        RefundDestination::StoreCredit => {
            vec![stored_tender(TenderKind::StoreCredit, refund.total)]
        }
    };
    finish_tenders(&mut refund, tenders, original, previous)?;
    Ok(refund)
}

fn check(authority: &Authority<'_>, permission: &str) -> Result<Option<Override>, RefundError> {
    Ok(crate::access::authorize(
        authority.features,
        authority.actor,
        authority.approver,
        permission,
        authority.at,
    )
    .map_err(CartError::from)?
    .override_record()
    .cloned())
}

fn refund_lines(
    original: &Sale,
    previous: &[Refund],
    request: &RefundRequest,
) -> Result<Vec<RefundLine>, RefundError> {
    if request.lines.is_empty() {
        return Err(RefundError::NothingToReturn);
    }
    let currency = original.currency;
    let mut out = Vec::with_capacity(request.lines.len());
    for (line_no, quantity) in &request.lines {
        let sold = original
            .lines
            .iter()
            .find(|l| l.line_no == *line_no)
            .ok_or(RefundError::NoSuchLine { line: *line_no })?;
        if quantity.value() <= Decimal::ZERO {
            return Err(RefundError::NotPositive);
        }
        // Earlier refunds plus the lines already taken in this request.
        let (mut already, mut taxes) = returned_of(previous, *line_no);
        for earlier in out
            .iter()
            .filter(|l: &&RefundLine| l.line_no == Some(*line_no))
        {
            already += earlier.quantity;
            taxes.push(earlier.tax.clone());
        }
        if already + *quantity > sold.quantity {
            return Err(RefundError::MoreThanSold {
                line: *line_no,
                sold: sold.quantity,
                already,
                requested: *quantity,
            });
        }
        let last = already + *quantity == sold.quantity;
        let share = |whole: Money, part_of: fn(&LineTax) -> Money| -> Result<Money, MoneyError> {
            if last {
                let returned = Money::sum(
                    currency,
                    taxes.iter().map(part_of).collect::<Vec<_>>().iter(),
                )?;
                whole.checked_sub(returned)
            } else {
                Ok(whole
                    .times(quantity.value() / sold.quantity.value())
                    .round(RoundingMode::HalfUp))
            }
        };
        let gross = share(sold.tax.gross, |t| t.gross)?;
        let tax = share(sold.tax.tax, |t| t.tax)?;
        let net = gross.checked_sub(tax)?;
        let weights: Vec<Decimal> = sold.tax.rates.iter().map(|r| r.tax.amount()).collect();
        let rate_parts = if weights.iter().all(Decimal::is_zero) {
            tax.allocate(&vec![Decimal::ONE; weights.len()])
        } else {
            tax.allocate(&weights)
        };
        let rates = sold
            .tax
            .rates
            .iter()
            .zip(rate_parts)
            .map(|(rate, part)| RateAmount {
                taxable: net,
                tax: part,
                ..rate.clone()
            })
            .collect();
        out.push(RefundLine {
            line_no: Some(*line_no),
            product: sold.product.clone(),
            quantity: *quantity,
            tax: LineTax {
                net,
                tax,
                gross,
                rates,
            },
            restock: request.reason.restock,
        });
    }
    Ok(out)
}

fn assemble(
    currency: Currency,
    lines: Vec<RefundLine>,
    reason: ReasonCode,
    authority: &Authority<'_>,
    approval: Option<Override>,
    context: RefundContext,
    original: Option<&Sale>,
) -> Result<Refund, RefundError> {
    let zero = Money::zero(currency);
    let mut taxes: Vec<RateAmount> = Vec::new();
    for rate in lines.iter().flat_map(|l| &l.tax.rates) {
        match taxes.iter_mut().find(|r| r.rate_id == rate.rate_id) {
            Some(row) => {
                row.taxable = row.taxable.checked_add(rate.taxable)?;
                row.tax = row.tax.checked_add(rate.tax)?;
            }
            None => taxes.push(rate.clone()),
        }
    }
    taxes.sort_by(|a, b| a.rate_id.cmp(&b.rate_id));
    let net = Money::sum(currency, lines.iter().map(|l| &l.tax.net))?;
    let tax = Money::sum(currency, lines.iter().map(|l| &l.tax.tax))?;
    let total = Money::sum(currency, lines.iter().map(|l| &l.tax.gross))?;
    Ok(Refund {
        id: context.id,
        receipt_number: context.receipt_number,
        original_sale: original.map(|s| s.id.clone()),
        original_receipt: original.map(|s| s.receipt_number.clone()),
        store: context.store,
        device: context.device,
        cashier: authority.actor.user.clone(),
        approval,
        shift: context.shift,
        at: context.at,
        currency,
        reason,
        lines,
        taxes,
        net,
        tax,
        total,
        rounding: zero,
        tenders: Vec::new(),
        points_returned: 0,
        points_reversed: 0,
    })
}

fn cash_tender(amount: Money, cash_rounding: Option<&CashRounding>) -> Tender {
    let applied = cash_rounding.map_or(amount, |r| r.apply(amount));
    Tender {
        kind: TenderKind::Cash,
        applied,
        received: applied,
        reference: None,
        points: None,
    }
}

fn stored_tender(kind: TenderKind, amount: Money) -> Tender {
    Tender {
        kind,
        applied: amount,
        received: amount,
        reference: None,
        points: None,
    }
}

/// Spreads `total` over what each original tender can still take back: non-cash first, in the
/// order they were taken, then cash.
fn to_original_tenders(
    original: &Sale,
    previous: &[Refund],
    total: Money,
    cash_rounding: Option<&CashRounding>,
) -> Result<Vec<Tender>, RefundError> {
    let currency = original.currency;
    let mut left = total;
    let mut out = Vec::new();
    let mut ordered: Vec<&Tender> = original.payment.tenders.iter().collect();
    ordered.sort_by_key(|t| t.kind == TenderKind::Cash);
    for tender in ordered {
        if !left.is_positive() {
            break;
        }
        let already = Money::sum(
            currency,
            previous
                .iter()
                .flat_map(|r| &r.tenders)
                .filter(|t| t.kind == tender.kind && t.reference == tender.reference)
                .map(|t| &t.applied),
        )?;
        let available = tender.applied.checked_sub(already)?;
        if !available.is_positive() {
            continue;
        }
        if tender.kind == TenderKind::Cash {
            // Cash is handed back rounded; the original cash was rounded the same way, so the
            // rounded amount still fits in what was paid.
            let cash = cash_tender(left, cash_rounding);
            let applied = cash.applied.min(available)?;
            out.push(Tender {
                applied,
                received: applied,
                ..cash
            });
            left = Money::zero(currency);
            break;
        }
        let take = left.min(available)?;
        let points = tender.points.map(|points| {
            (Decimal::from(points) * take.amount() / tender.applied.amount())
                .round()
                .to_i64()
                .unwrap_or(0)
        });
        out.push(Tender {
            kind: tender.kind,
            applied: take,
            received: take,
            reference: tender.reference.clone(),
            points,
        });
        left = left.checked_sub(take)?;
    }
    if left.is_positive() {
        return Err(RefundError::Unallocated(left));
    }
    Ok(out)
}

/// Records where the money goes, the cash rounding, and the loyalty points that move.
fn finish_tenders(
    refund: &mut Refund,
    tenders: Vec<Tender>,
    original: &Sale,
    previous: &[Refund],
) -> Result<(), RefundError> {
    let paid = Money::sum(refund.currency, tenders.iter().map(|t| &t.applied))?;
    refund.rounding = paid.checked_sub(refund.total)?;
    refund.points_returned = tenders.iter().filter_map(|t| t.points).sum();
    refund.tenders = tenders;
    if let Some(loyalty) = &original.loyalty
        && loyalty.points_earned > 0
        && original.total.is_positive()
    {
        let earned = Decimal::from(loyalty.points_earned);
        let already: i64 = previous.iter().map(|r| r.points_reversed).sum();
        let fully_returned = returnable(original, previous)?
            .iter()
            .all(|(line_no, left)| {
                let now: Quantity = refund
                    .lines
                    .iter()
                    .filter(|l| l.line_no == Some(*line_no))
                    .map(|l| l.quantity)
                    .sum();
                *left == now
            });
        refund.points_reversed = if fully_returned {
            loyalty.points_earned - already
        } else {
            (earned * refund.total.amount() / original.total.amount())
                .floor()
                .to_i64()
                .unwrap_or(0)
                .min(loyalty.points_earned - already)
        };
    }
    Ok(())
}

/// An exchange: items come back and new ones go out in one flow. The returned value pays for
/// the new items first (as exchange credit); anything left over goes back to the original
/// tenders. Returns the refund and the payment for the new sale, already credited, for the
/// cashier to complete with any further tender.
#[allow(clippy::too_many_arguments)]
pub fn exchange(
    original: &Sale,
    previous: &[Refund],
    returned: &[(LineNo, Quantity)],
    reason: ReasonCode,
    new_total: Money,
    authority: &Authority<'_>,
    cash_rounding: Option<&CashRounding>,
    context: RefundContext,
) -> Result<(Refund, Payment), RefundError> {
    check_previous(original, previous)?;
    let approval = check(authority, permission::REFUND)?;
    let request = RefundRequest {
        lines: returned.to_vec(),
        reason: reason.clone(),
        destination: RefundDestination::OriginalTenders,
    };
    let lines = refund_lines(original, previous, &request)?;
    let credit_reference = format!("exchange {}", context.receipt_number);
    let mut refund = assemble(
        original.currency,
        lines,
        reason,
        authority,
        approval,
        context,
        Some(original),
    )?;
    let credit = refund
        .total
        .min(new_total.max(Money::zero(new_total.currency()))?)?;
    let mut tenders = vec![Tender {
        kind: TenderKind::StoreCredit,
        applied: credit,
        received: credit,
        reference: Some(credit_reference.clone()),
        points: None,
    }];
    let rest = refund.total.checked_sub(credit)?;
    if rest.is_positive() {
        tenders.extend(to_original_tenders(
            original,
            previous,
            rest,
            cash_rounding,
        )?);
    }
    finish_tenders(&mut refund, tenders, original, previous)?;
    let mut payment = Payment::new(new_total, cash_rounding.copied());
    if credit.is_positive() {
        payment.add_electronic(TenderKind::StoreCredit, credit, Some(credit_reference))?;
    }
    Ok((refund, payment))
}

/// A return without a receipt: priced at today's price, paid in cash or store credit, and only
/// with `sales.refund.no_receipt`.
#[allow(clippy::too_many_arguments)]
pub fn no_receipt_return(
    items: &[(Product, Quantity)],
    reason: ReasonCode,
    destination: RefundDestination,
    taxes: &TaxTable,
    tax_policy: &TaxPolicy,
    authority: &Authority<'_>,
    cash_rounding: Option<&CashRounding>,
    context: RefundContext,
) -> Result<Refund, RefundError> {
    let approval = check(authority, permission::REFUND_NO_RECEIPT)?;
    let Some((first, _)) = items.first() else {
        return Err(RefundError::NothingToReturn);
    };
    let currency = first.price.currency();
    let mut inputs = Vec::with_capacity(items.len());
    for (product, quantity) in items {
        let quantity = Quantity::positive(quantity.value(), product.unit)
            .map_err(|e| RefundError::Cart(e.into()))?;
        inputs.push(TaxInput {
            amount: product
                .price
                .times(quantity.value())
                .round(RoundingMode::HalfUp),
            category: product.tax_category.clone(),
        });
    }
    let computed = tax::compute(&inputs, taxes, tax_policy, currency)?;
    let lines = items
        .iter()
        .zip(computed.lines)
        .map(|((product, quantity), tax)| RefundLine {
            line_no: None,
            product: product.clone(),
            quantity: *quantity,
            tax,
            restock: reason.restock,
        })
        .collect();
    let mut refund = assemble(currency, lines, reason, authority, approval, context, None)?;
    let tender = match destination {
        RefundDestination::StoreCredit => stored_tender(TenderKind::StoreCredit, refund.total),
        RefundDestination::Cash | RefundDestination::OriginalTenders => {
            cash_tender(refund.total, cash_rounding)
        }
    };
    let paid = tender.applied;
    refund.rounding = paid.checked_sub(refund.total)?;
    refund.tenders = vec![tender];
    Ok(refund)
}
