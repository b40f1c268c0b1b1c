//! A till over the demo store, for scenario tests: it scans, prices and completes sales the way
//! the terminal does, with ids and time handed in.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod worked;

use pos_core::access::{Actor, Features, Role};
use pos_core::cart::{Authority, Cart, PricedCart, PricingContext};
use pos_core::catalog::Catalog;
use pos_core::clock::Timestamp;
use pos_core::demo;
use pos_core::id::{DeviceId, ReceiptNumber, RefundId, SaleId, ShiftId};
use pos_core::loyalty::LoyaltyProgram;
use pos_core::money::{Currency, Money};
use pos_core::promotion::Promotion;
use pos_core::refund::RefundContext;
use pos_core::sale::{Sale, SaleContext};
use pos_core::tenant::Store;
use pos_core::tender::Payment;

/// Monday 2026-03-02 10:00 UTC.
pub const MONDAY_10AM: i64 = 1_772_445_600_000;

pub fn eur(text: &str) -> Money {
    Money::parse(text, Currency::EUR).unwrap()
}

pub fn role(id: &str) -> Role {
    Role::defaults()
        .into_iter()
        .find(|r| r.id.as_str() == id)
        .unwrap()
}

pub struct Till {
    pub store: Store,
    pub catalog: Catalog,
    pub promotions: Vec<Promotion>,
    pub loyalty: LoyaltyProgram,
    pub features: Features,
    pub cashier: Actor,
    pub manager: Actor,
    pub now: Timestamp,
    pub shift: Option<ShiftId>,
    counter: u32,
}

impl Till {
    pub fn new() -> Till {
        Till {
            store: demo::store().unwrap(),
            catalog: demo::catalog().unwrap(),
            promotions: demo::promotions(),
            loyalty: demo::loyalty(),
            features: Features::all_enabled(),
            cashier: Actor::new("anna", "Anna", role("cashier")),
            manager: Actor::new("marc", "Marc", role("manager")),
            now: Timestamp::from_unix_ms(MONDAY_10AM),
            shift: None,
            counter: 0,
        }
    }

    pub fn cart(&self) -> Cart {
        Cart::new(self.store.currency)
    }

    pub fn authority(&self) -> Authority<'_> {
        Authority {
            features: &self.features,
            actor: &self.cashier,
            approver: None,
            at: self.now,
        }
    }

    pub fn approved_by_manager(&self) -> Authority<'_> {
        Authority {
            approver: Some(&self.manager),
            ..self.authority()
        }
    }

    pub fn manager_authority(&self) -> Authority<'_> {
        Authority {
            actor: &self.manager,
            ..self.authority()
        }
    }

    pub fn price(&self, cart: &Cart) -> PricedCart {
        cart.price(&PricingContext {
            taxes: &self.store.taxes,
            tax_policy: &self.store.tax_policy,
            promotions: &self.promotions,
            local_time: self.now.local(self.store.utc_offset),
        })
        .unwrap()
    }

    pub fn payment(&self, priced: &PricedCart) -> Payment {
        Payment::new(priced.total, self.store.cash_rounding)
    }

    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.now = self.now.plus_ms(60_000);
        self.counter
    }

    pub fn sale_context(&mut self) -> SaleContext {
        let n = self.next();
        SaleContext {
            id: SaleId::new(format!("sale-{n}")),
            receipt_number: ReceiptNumber::new(format!("T1-{n:05}")),
            store: self.store.id.clone(),
            device: DeviceId::new("T1"),
            cashier: self.cashier.user.clone(),
            shift: self.shift.clone(),
            at: self.now,
        }
    }

    pub fn refund_context(&mut self) -> RefundContext {
        let n = self.next();
        RefundContext {
            id: RefundId::new(format!("refund-{n}")),
            receipt_number: ReceiptNumber::new(format!("T1-R{n:05}")),
            store: self.store.id.clone(),
            device: DeviceId::new("T1"),
            shift: self.shift.clone(),
            at: self.now,
        }
    }

    /// Completes `cart` with `pay` filling the payment.
    pub fn sell(&mut self, cart: &Cart, pay: impl FnOnce(&mut Payment)) -> Sale {
        let priced = self.price(cart);
        let mut payment = self.payment(&priced);
        pay(&mut payment);
        let summary = payment.finish().unwrap();
        let context = self.sale_context();
        Sale::complete(priced, summary, context, Some(&self.loyalty)).unwrap()
    }

    pub fn receipt(&self, sale: &Sale) -> String {
        pos_core::receipt::sale(
            &self.store,
            sale,
            pos_core::receipt::ReceiptStyle::Normal,
            42,
        )
    }
}
