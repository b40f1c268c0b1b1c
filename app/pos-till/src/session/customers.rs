//! The customer on the cart and the discount on the whole cart: finding a loyalty customer
//! by name, phone or card as the cashier types, attaching and detaching them, and what the
//! cart shows about them (tier, points, how far to the next tier).
//!
//! The discount rules (the cashier's limit, the manager's override) are `pos-core`'s
//! `Cart::set_cart_discount`; this only reads what was typed.

use pos_core::cart::{AttachedCustomer, Authority, DiscountKind};
use pos_core::id::CustomerId;
use pos_core::money::Money;
use rust_decimal::Decimal;

use super::{Till, info};
use crate::error::TillError;
use crate::port::{CustomerMatch, SEARCH_RESULTS_MAX};
use crate::view::{CustomerTile, CustomerView, Message, Tone};

/// Characters typed before the customer search asks the catalogue: fewer find everybody.
pub const CUSTOMER_SEARCH_CHARS_MIN: usize = 2;

/// How a cart discount was typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CartDiscountKind {
    /// "10" is 10% off the cart.
    Percent,
    /// "5.00" off the cart, spread over its lines.
    Amount,
}

impl Till {
    pub(super) fn search_customers(&mut self, text: &str) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        self.customer_search = text.to_owned();
        self.customer_results = if text.trim().chars().count() < CUSTOMER_SEARCH_CHARS_MIN {
            Vec::new()
        } else {
            self.ports
                .catalogue
                .find_customers(text.trim(), SEARCH_RESULTS_MAX)
        };
        // Searching says nothing new: what the cashier was last told stays.
        Ok(self.message.clone())
    }

    pub(super) fn attach_by_id(&mut self, id: &CustomerId) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        let found = self
            .ports
            .catalogue
            .customer(id)
            .ok_or_else(|| TillError::UnknownCustomer(id.to_string()))?;
        Ok(Some(self.attach(found.customer)))
    }

    /// Attaches a customer and remembers how far they are from their next tier.
    pub(super) fn attach(&mut self, customer: AttachedCustomer) -> Message {
        let text = format!("{} ({}) is attached", customer.name, customer.tier.name());
        self.customer_progress = self
            .ports
            .catalogue
            .customer(&customer.id)
            .and_then(|m| m.next_tier);
        self.customer_search.clear();
        self.customer_results.clear();
        self.cart.attach_customer(customer);
        Message {
            text,
            tone: Tone::Success,
        }
    }

    pub(super) fn detach(&mut self) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        let Some(customer) = self.cart.customer().cloned() else {
            return Err(TillError::NoCustomer);
        };
        self.cart.detach_customer();
        self.customer_progress = None;
        Ok(Some(info(format!(
            "{} is no longer on this sale",
            customer.name
        ))))
    }

    pub(super) fn cart_discount(
        &mut self,
        kind: CartDiscountKind,
        typed: &str,
        authority: &Authority<'_>,
    ) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        if self.cart.is_empty() {
            return Err(TillError::EmptyCart);
        }
        let text = typed.trim().trim_end_matches('%').trim().replace(',', ".");
        let discount = match kind {
            CartDiscountKind::Percent => {
                let percent: Decimal = text
                    .parse()
                    .map_err(|_| TillError::BadPercent(typed.trim().to_owned()))?;
                (!percent.is_zero()).then_some(DiscountKind::Percent(percent))
            }
            CartDiscountKind::Amount => {
                let amount = Money::parse(&text, self.setup.store.currency)
                    .map_err(|_| TillError::BadAmount(typed.trim().to_owned()))?;
                let total = self.price()?.subtotal;
                if amount.amount() > total.amount() {
                    return Err(TillError::DiscountAboveTotal {
                        amount: amount.display_amount(),
                        total: total.display_amount(),
                    });
                }
                (!amount.is_zero()).then_some(DiscountKind::Amount(amount))
            }
        };
        let removed = discount.is_none();
        self.cart.set_cart_discount(
            discount.map(|d| (d, None)),
            &self.setup.store.discounts,
            authority,
        )?;
        Ok(Some(info(if removed {
            "The cart discount is taken off".to_owned()
        } else {
            format!("{} is taken off the cart", self.cart_discount_text())
        })))
    }

    /// "10%" or "5.00": the cart's manual discount as typed; empty without one.
    pub(super) fn cart_discount_text(&self) -> String {
        match self.cart.discount().map(|d| &d.kind) {
            Some(DiscountKind::Percent(percent)) => format!("{}%", percent.normalize()),
            Some(DiscountKind::Amount(amount)) => amount.display_amount(),
            None => String::new(),
        }
    }

    pub(super) fn customer_view(&self) -> Option<CustomerView> {
        let customer = self.cart.customer()?;
        let tiers = &self.setup.loyalty.tiers;
        let bar_of = |tier| {
            tiers
                .iter()
                .find(|rule| rule.tier == tier)
                .map(|rule| rule.spend_min.amount())
        };
        let (progress, progress_percent) = match &self.customer_progress {
            Some((next, missing)) => {
                let percent = match (bar_of(customer.tier), bar_of(*next)) {
                    (Some(from), Some(to)) if to > from => {
                        let spent = to - missing.amount() - from;
                        (spent * Decimal::ONE_HUNDRED / (to - from))
                            .round()
                            .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED)
                            .try_into()
                            .unwrap_or(0_u8)
                    }
                    _ => 0,
                };
                (
                    format!("{} more to {}", missing.display_amount(), next.name()),
                    percent,
                )
            }
            None => ("Top tier".to_owned(), 100),
        };
        Some(CustomerView {
            name: customer.name.clone(),
            tier: customer.tier.name().to_owned(),
            points: customer.points.to_string(),
            progress,
            progress_percent,
        })
    }

    pub(super) fn customer_tiles(&self) -> Vec<CustomerTile> {
        self.customer_results.iter().map(customer_tile).collect()
    }
}

fn customer_tile(found: &CustomerMatch) -> CustomerTile {
    let mut detail = vec![format!(
        "{} · {} points",
        found.customer.tier.name(),
        found.customer.points
    )];
    detail.extend(found.phone.clone());
    detail.extend(found.card.clone());
    CustomerTile {
        id: found.customer.id.clone(),
        name: found.customer.name.clone(),
        detail: detail.join(" · "),
    }
}
