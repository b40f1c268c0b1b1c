//! The cart being rung up, and its pricing.
//!
//! A cart holds what the cashier did (lines, quantities, manual discounts, the customer); the
//! money figures are always derived by [`Cart::price`], so a cart can never show a total that
//! disagrees with its lines. Lines keep the order they were added in and a line number that
//! never changes, so the receipt, the screen and a refund all name lines the same way.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::access::{self, Actor, Authorization, Features, Override, permission};
use crate::catalog::{Product, ProductLookup};
use crate::clock::{LocalTime, Timestamp};
use crate::id::CustomerId;
use crate::loyalty::Tier;
use crate::money::{Currency, Money, MoneyError, RoundingMode};
use crate::promotion::{self, AppliedDiscount, DiscountSource, Promotion, WorkingLine};
use crate::quantity::{QUANTITY_DECIMALS_MAX, Quantity, QuantityError, Unit};
use crate::tax::{self, LineTax, RateAmount, TaxError, TaxInput, TaxPolicy, TaxTable};
use crate::tenant::DiscountPolicy;

/// A line's number in its cart: 1, 2, 3… in the order lines were added. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LineNo(pub u32);

impl std::fmt::Display for LineNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A discount typed by the cashier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    /// 10 means 10% off.
    Percent(Decimal),
    Amount(Money),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualDiscount {
    pub kind: DiscountKind,
    pub reason: Option<String>,
    /// Set when a manager approved a discount above the cashier's limit.
    pub approval: Option<Override>,
}

impl ManualDiscount {
    fn label(&self, currency_base: &str) -> String {
        let what = match &self.kind {
            DiscountKind::Percent(p) => format!("Discount {}%", p.normalize()),
            DiscountKind::Amount(_) => currency_base.to_owned(),
        };
        match &self.reason {
            Some(reason) => format!("{what} ({reason})"),
            None => what,
        }
    }
}

/// The customer attached to a cart, as the till shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedCustomer {
    pub id: CustomerId,
    pub name: String,
    pub tier: Tier,
    pub points: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub line_no: LineNo,
    /// The product as it was when scanned: a price change later does not reprice the line.
    pub product: Product,
    pub quantity: Quantity,
    pub discount: Option<ManualDiscount>,
    pub note: Option<String>,
    /// Set once the line was shown on a printed document; removing it then needs a permission.
    pub printed: bool,
    /// The batch (lot) the item was scanned with, for the sale's stock movement. Kept with the
    /// line so a held cart resumes with it.
    #[serde(default)]
    pub lot: Option<String>,
    /// What one item sold takes off the shelf when that is not the item itself: a pack of a
    /// weighed product priced by its label sells as one piece but takes its weight (in the
    /// product's own unit of weight).
    #[serde(default)]
    pub shelf_quantity_each: Option<Quantity>,
}

impl CartLine {
    /// What this line takes off the shelf: its quantity, or its items times what each weighs.
    pub fn shelf_quantity(&self) -> Quantity {
        match self.shelf_quantity_each {
            // Any weighed unit: three decimals, fractions allowed.
            Some(each) => Quantity::of(
                (self.quantity.value() * each.value()).round_dp(QUANTITY_DECIMALS_MAX),
                Unit::Kilogram,
            )
            .unwrap_or(self.quantity),
            None => self.quantity,
        }
    }
}

/// Who is asking for a guarded cart change, and whether a manager approved it.
pub struct Authority<'a> {
    pub features: &'a Features,
    pub actor: &'a Actor,
    pub approver: Option<&'a Actor>,
    pub at: Timestamp,
}

impl Authority<'_> {
    fn check(&self, permission: &str) -> Result<Authorization, CartError> {
        Ok(access::authorize(
            self.features,
            self.actor,
            self.approver,
            permission,
            self.at,
        )?)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("nothing is known under the code {0}; check the barcode or search by name")]
    UnknownCode(String),
    #[error("{0} is no longer sold (archived)")]
    Inactive(String),
    #[error("there is no line {0} in this cart")]
    NoSuchLine(LineNo),
    #[error("the cart is empty")]
    Empty,
    #[error("a discount of {0}% is not possible; enter between 0 and 100")]
    DiscountOutOfRange(Decimal),
    #[error("a discount cannot be negative ({0})")]
    NegativeDiscount(Money),
    #[error(
        "a {percent}% discount is above the {limit}% a cashier may give; a manager must approve it"
    )]
    ApprovalRequired { percent: Decimal, limit: Decimal },
    #[error("a cart holds at most {0} lines; start a second sale")]
    TooManyLines(usize),
    #[error(transparent)]
    Quantity(#[from] QuantityError),
    #[error(transparent)]
    Access(#[from] access::AccessError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Tax(#[from] TaxError),
}

/// A till's receipts do not get longer than this; it bounds every loop over lines.
pub const CART_LINES_MAX: usize = 500;

/// A record of lines taken out of a cart (or a whole cart voided), for the shift report and
/// the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    pub lines: Vec<CartLine>,
    pub by: crate::id::UserId,
    pub approval: Option<Override>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    currency: Currency,
    lines: Vec<CartLine>,
    next_line: u32,
    customer: Option<AttachedCustomer>,
    discount: Option<ManualDiscount>,
    note: Option<String>,
}

impl Cart {
    pub fn new(currency: Currency) -> Cart {
        Cart {
            currency,
            lines: Vec::new(),
            next_line: 1,
            customer: None,
            discount: None,
            note: None,
        }
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn customer(&self) -> Option<&AttachedCustomer> {
        self.customer.as_ref()
    }

    pub fn discount(&self) -> Option<&ManualDiscount> {
        self.discount.as_ref()
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Adds `quantity` of `product`. Scanning the same undiscounted item again adds to its line
    /// instead of starting a new one; weighed items always get their own line.
    pub fn add(&mut self, product: &Product, quantity: Quantity) -> Result<LineNo, CartError> {
        if !product.active {
            return Err(CartError::Inactive(product.display_name()));
        }
        if product.price.currency() != self.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: product.price.currency(),
            }
            .into());
        }
        let quantity = Quantity::positive(quantity.value(), product.unit)?;
        if !product.unit.is_weighed()
            && let Some(line) = self.lines.iter_mut().find(|l| {
                l.product == *product
                    && l.discount.is_none()
                    && l.note.is_none()
                    && !l.printed
                    && l.lot.is_none()
                    && l.shelf_quantity_each.is_none()
            })
        {
            line.quantity += quantity;
            return Ok(line.line_no);
        }
        if self.lines.len() >= CART_LINES_MAX {
            return Err(CartError::TooManyLines(CART_LINES_MAX));
        }
        let line_no = LineNo(self.next_line);
        self.next_line += 1;
        self.lines.push(CartLine {
            line_no,
            product: product.clone(),
            quantity,
            discount: None,
            note: None,
            printed: false,
            lot: None,
            shelf_quantity_each: None,
        });
        Ok(line_no)
    }

    /// Adds one of whatever `code` (a barcode or SKU) names.
    pub fn add_by_code(
        &mut self,
        catalog: &impl ProductLookup,
        code: &str,
        quantity: Quantity,
    ) -> Result<LineNo, CartError> {
        let product = catalog
            .product_by_code(code)
            .ok_or_else(|| CartError::UnknownCode(code.trim().to_owned()))?;
        self.add(&product, quantity)
    }

    fn line_mut(&mut self, line_no: LineNo) -> Result<&mut CartLine, CartError> {
        self.lines
            .iter_mut()
            .find(|l| l.line_no == line_no)
            .ok_or(CartError::NoSuchLine(line_no))
    }

    pub fn line(&self, line_no: LineNo) -> Result<&CartLine, CartError> {
        self.lines
            .iter()
            .find(|l| l.line_no == line_no)
            .ok_or(CartError::NoSuchLine(line_no))
    }

    pub fn set_quantity(&mut self, line_no: LineNo, quantity: Quantity) -> Result<(), CartError> {
        let line = self.line_mut(line_no)?;
        line.quantity = Quantity::positive(quantity.value(), line.product.unit)?;
        Ok(())
    }

    pub fn set_note(&mut self, line_no: LineNo, note: &str) -> Result<(), CartError> {
        let line = self.line_mut(line_no)?;
        line.note = Some(note.trim().to_owned()).filter(|n| !n.is_empty());
        Ok(())
    }

    /// Records the batch the line's item was scanned with.
    pub fn set_lot(&mut self, line_no: LineNo, lot: &str) -> Result<(), CartError> {
        let line = self.line_mut(line_no)?;
        line.lot = Some(lot.trim().to_owned()).filter(|l| !l.is_empty());
        Ok(())
    }

    /// Records what one item of the line takes off the shelf (see
    /// [`CartLine::shelf_quantity_each`]).
    pub fn set_shelf_quantity_each(
        &mut self,
        line_no: LineNo,
        each: Quantity,
    ) -> Result<(), CartError> {
        self.line_mut(line_no)?.shelf_quantity_each = Some(each);
        Ok(())
    }

    pub fn set_cart_note(&mut self, note: &str) {
        self.note = Some(note.trim().to_owned()).filter(|n| !n.is_empty());
    }

    /// Marks every line as printed (a pro-forma or a kitchen ticket went out).
    pub fn mark_printed(&mut self) {
        for line in &mut self.lines {
            line.printed = true;
        }
    }

    /// Removes a line. A line already printed needs `sales.line.remove_printed`, from the
    /// cashier or an approving manager.
    pub fn remove(
        &mut self,
        line_no: LineNo,
        authority: &Authority<'_>,
    ) -> Result<Void, CartError> {
        let line = self.line(line_no)?;
        let approval = if line.printed {
            authority
                .check(permission::LINE_REMOVE_PRINTED)?
                .override_record()
                .cloned()
        } else {
            None
        };
        let index = self
            .lines
            .iter()
            .position(|l| l.line_no == line_no)
            .ok_or(CartError::NoSuchLine(line_no))?;
        let removed = self.lines.remove(index);
        Ok(Void {
            lines: vec![removed],
            by: authority.actor.user.clone(),
            approval,
            at: authority.at,
        })
    }

    /// Empties the cart (the customer walked away). Needs `sales.void`.
    pub fn void(&mut self, authority: &Authority<'_>) -> Result<Void, CartError> {
        if self.lines.is_empty() {
            return Err(CartError::Empty);
        }
        let approval = authority
            .check(permission::VOID)?
            .override_record()
            .cloned();
        let lines = std::mem::take(&mut self.lines);
        self.discount = None;
        self.customer = None;
        Ok(Void {
            lines,
            by: authority.actor.user.clone(),
            approval,
            at: authority.at,
        })
    }

    pub fn attach_customer(&mut self, customer: AttachedCustomer) {
        self.customer = Some(customer);
    }

    pub fn detach_customer(&mut self) {
        self.customer = None;
    }

    /// Sets or clears (`None`) a manual discount on one line.
    pub fn set_line_discount(
        &mut self,
        line_no: LineNo,
        discount: Option<(DiscountKind, Option<String>)>,
        policy: &DiscountPolicy,
        authority: &Authority<'_>,
    ) -> Result<(), CartError> {
        let line = self.line(line_no)?;
        let base = line_base(line);
        let discount = match discount {
            Some((kind, reason)) => {
                Some(authorize_discount(kind, reason, base, policy, authority)?)
            }
            None => None,
        };
        self.line_mut(line_no)?.discount = discount;
        Ok(())
    }

    /// Sets or clears (`None`) a discount on the whole cart.
    pub fn set_cart_discount(
        &mut self,
        discount: Option<(DiscountKind, Option<String>)>,
        policy: &DiscountPolicy,
        authority: &Authority<'_>,
    ) -> Result<(), CartError> {
        let base = Money::sum(
            self.currency,
            self.lines.iter().map(line_base).collect::<Vec<_>>().iter(),
        )?;
        self.discount = match discount {
            Some((kind, reason)) => {
                Some(authorize_discount(kind, reason, base, policy, authority)?)
            }
            None => None,
        };
        Ok(())
    }

    /// Works out every figure of the cart: promotions, manual discounts, tax and total.
    pub fn price(&self, context: &PricingContext<'_>) -> Result<PricedCart, CartError> {
        let currency = self.currency;
        let mut working: Vec<WorkingLine<'_>> = self
            .lines
            .iter()
            .map(|line| WorkingLine {
                product: &line.product,
                quantity: line.quantity.value(),
                remaining: line_base(line),
                units_used: Decimal::ZERO,
                discounts: Vec::new(),
            })
            .collect();
        promotion::apply(context.promotions, &mut working, &context.local_time);

        for (line, work) in self.lines.iter().zip(working.iter_mut()) {
            if let Some(discount) = &line.discount {
                let off = discount_amount(&discount.kind, work.remaining);
                work.reduce_approved(
                    off,
                    DiscountSource::ManualLine,
                    &discount.label("Discount"),
                    discount.approval.clone(),
                );
            }
        }
        if let Some(discount) = &self.discount {
            let remaining: Vec<Money> = working.iter().map(|w| w.remaining).collect();
            let base = Money::sum(currency, &remaining)?;
            let off = discount_amount(&discount.kind, base);
            let weights: Vec<Decimal> = remaining.iter().map(Money::amount).collect();
            let label = discount.label("Cart discount");
            for (work, share) in working.iter_mut().zip(off.allocate(&weights)) {
                work.reduce_approved(
                    share,
                    DiscountSource::ManualCart,
                    &label,
                    discount.approval.clone(),
                );
            }
        }

        let inputs: Vec<TaxInput> = self
            .lines
            .iter()
            .zip(&working)
            .map(|(line, work)| TaxInput {
                amount: work.remaining,
                category: line.product.tax_category.clone(),
            })
            .collect();
        let taxes = tax::compute(&inputs, context.taxes, context.tax_policy, currency)?;

        let mut lines = Vec::with_capacity(self.lines.len());
        for ((line, work), tax) in self.lines.iter().zip(working).zip(taxes.lines) {
            lines.push(PricedLine {
                line_no: line.line_no,
                product: line.product.clone(),
                quantity: line.quantity,
                unit_price: line.product.price,
                base: line_base(line),
                discounts: work.discounts,
                amount: work.remaining,
                tax,
                note: line.note.clone(),
            });
        }
        let subtotal = Money::sum(currency, lines.iter().map(|l| &l.base))?;
        let amounts = Money::sum(currency, lines.iter().map(|l| &l.amount))?;
        let discount_total = subtotal.checked_sub(amounts)?;
        Ok(PricedCart {
            currency,
            lines,
            subtotal,
            discount_total,
            taxes: taxes.by_rate,
            net: taxes.net,
            tax: taxes.tax,
            total: taxes.gross,
            customer: self.customer.clone(),
        })
    }
}

/// Unit price × quantity, rounded to the currency.
fn line_base(line: &CartLine) -> Money {
    line.product
        .price
        .times(line.quantity.value())
        .round(RoundingMode::HalfUp)
}

fn discount_amount(kind: &DiscountKind, base: Money) -> Money {
    match kind {
        DiscountKind::Percent(percent) => base
            .times(*percent / Decimal::ONE_HUNDRED)
            .round(RoundingMode::HalfUp),
        DiscountKind::Amount(amount) => *amount,
    }
}

fn authorize_discount(
    kind: DiscountKind,
    reason: Option<String>,
    base: Money,
    policy: &DiscountPolicy,
    authority: &Authority<'_>,
) -> Result<ManualDiscount, CartError> {
    let percent = match &kind {
        DiscountKind::Percent(p) => {
            if *p < Decimal::ZERO || *p > Decimal::ONE_HUNDRED {
                return Err(CartError::DiscountOutOfRange(*p));
            }
            *p
        }
        DiscountKind::Amount(amount) => {
            if amount.is_negative() {
                return Err(CartError::NegativeDiscount(*amount));
            }
            if amount.currency() != base.currency() {
                return Err(MoneyError::CurrencyMismatch {
                    left: base.currency(),
                    right: amount.currency(),
                }
                .into());
            }
            if base.is_zero() {
                Decimal::ZERO
            } else {
                (amount.amount() / base.amount() * Decimal::ONE_HUNDRED).round_dp(2)
            }
        }
    };
    authority.check(permission::DISCOUNT_MANUAL)?;
    let limit = policy.limit_for(&authority.actor.role.id);
    let approval = if percent > limit {
        match authority.check(permission::DISCOUNT_ABOVE_LIMIT) {
            Ok(auth) => auth.override_record().cloned(),
            Err(CartError::Access(access::AccessError::Denied { .. })) => {
                return Err(CartError::ApprovalRequired { percent, limit });
            }
            Err(other) => return Err(other),
        }
    } else {
        None
    };
    Ok(ManualDiscount {
        kind,
        reason,
        approval,
    })
}

/// What pricing needs besides the cart: the store's taxes and promotions and the wall clock.
pub struct PricingContext<'a> {
    pub taxes: &'a TaxTable,
    pub tax_policy: &'a TaxPolicy,
    pub promotions: &'a [Promotion],
    pub local_time: LocalTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub line_no: LineNo,
    pub product: Product,
    pub quantity: Quantity,
    pub unit_price: Money,
    /// Unit price × quantity, before discounts.
    pub base: Money,
    pub discounts: Vec<AppliedDiscount>,
    /// What the customer pays for the line, in the store's price mode.
    pub amount: Money,
    pub tax: LineTax,
    pub note: Option<String>,
}

/// Every figure of a cart, ready to show, pay and record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCart {
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    /// Sum of the lines before discounts.
    pub subtotal: Money,
    pub discount_total: Money,
    pub taxes: Vec<RateAmount>,
    pub net: Money,
    pub tax: Money,
    /// What the customer owes.
    pub total: Money,
    pub customer: Option<AttachedCustomer>,
}
