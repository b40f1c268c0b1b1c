//! A shop for the report tests: the demo store (in UTC+1, so local days differ from UTC
//! days), its catalogue and promotions, cashiers and a manager; sales and refunds are made by
//! pos-core exactly as the till makes them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use pos_core::access::{Actor, Features, Role};
use pos_core::cart::{Authority, Cart, DiscountKind, LineNo, PricingContext};
use pos_core::catalog::Catalog;
use pos_core::clock::Timestamp;
use pos_core::demo;
use pos_core::id::{DeviceId, ProductId, ReceiptNumber, RefundId, SaleId, ShiftId};
use pos_core::money::Money;
use pos_core::promotion::Promotion;
use pos_core::quantity::Quantity;
use pos_core::refund::{self, ReasonCode, Refund, RefundContext, RefundDestination, RefundRequest};
use pos_core::sale::{Sale, SaleContext};
use pos_core::tender::{Payment, TenderKind};
use rust_decimal::Decimal;
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

pub const OFFSET: UtcOffset = time::macros::offset!(+1);

/// `hh:mm` on `day` on the shop's clock (UTC+1).
pub fn local(day: Date, hour: u8, minute: u8) -> Timestamp {
    let at =
        PrimitiveDateTime::new(day, Time::from_hms(hour, minute, 0).unwrap()).assume_offset(OFFSET);
    Timestamp::from_unix_ms(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap())
}

pub fn role(id: &str) -> Role {
    Role::defaults()
        .into_iter()
        .find(|r| r.id.as_str() == id)
        .unwrap()
}

/// How a sale is paid.
#[derive(Clone, Copy, Debug)]
pub enum Pay {
    Cash,
    Card,
    Wallet,
    /// This much on card, the rest in cash.
    CardThenCash(Money),
}

pub struct Shop {
    pub store: pos_core::tenant::Store,
    pub catalog: Catalog,
    pub promotions: Vec<Promotion>,
    pub features: Features,
    pub cashiers: Vec<Actor>,
    pub manager: Actor,
    counter: u32,
}

pub const PRODUCTS: &[&str] = &[
    "milk",
    "butter",
    "yoghurt",
    "bread",
    "coffee",
    "cola",
    "water",
    "chocolate",
    "batteries",
    "tee-s-navy",
    "tee-m-sand",
];

impl Shop {
    pub fn new() -> Shop {
        let mut store = demo::store().unwrap();
        store.utc_offset = OFFSET;
        Shop {
            store,
            catalog: demo::catalog().unwrap(),
            promotions: demo::promotions(),
            features: Features::all_enabled(),
            cashiers: vec![
                Actor::new("anna", "Anna Schmidt", role("cashier")),
                Actor::new("ben", "Ben Okafor", role("cashier")),
            ],
            manager: Actor::new("marc", "Marc Weber", role("manager")),
            counter: 0,
        }
    }

    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// Sells `items` (product id, pieces) rung up by cashier `who` at `at`, with an optional
    /// percent discount on one line (manager-approved above the cashier's limit).
    pub fn sell(
        &mut self,
        who: usize,
        at: Timestamp,
        shift: Option<&ShiftId>,
        items: &[(&str, i64)],
        line_discount: Option<(usize, u8)>,
        pay: Pay,
    ) -> Sale {
        let cashier = self.cashiers[who].clone();
        let mut cart = Cart::new(self.store.currency);
        let mut lines = Vec::new();
        for (id, pieces) in items {
            let product = self.catalog.get(&ProductId::new(*id)).unwrap().clone();
            lines.push(cart.add(&product, Quantity::pieces(*pieces)).unwrap());
        }
        if let Some((line, percent)) = line_discount {
            let authority = Authority {
                features: &self.features,
                actor: &cashier,
                approver: Some(&self.manager),
                at,
            };
            cart.set_line_discount(
                lines[line],
                Some((DiscountKind::Percent(Decimal::from(percent)), None)),
                &self.store.discounts,
                &authority,
            )
            .unwrap();
        }
        let priced = cart
            .price(&PricingContext {
                taxes: &self.store.taxes,
                tax_policy: &self.store.tax_policy,
                promotions: &self.promotions,
                local_time: at.local(self.store.utc_offset),
            })
            .unwrap();
        let mut payment = Payment::new(priced.total, self.store.cash_rounding);
        match pay {
            Pay::Cash => {
                payment.add_cash(priced.total).unwrap();
            }
            Pay::Card => payment
                .add_electronic(TenderKind::Card, priced.total, Some("AUTH".to_owned()))
                .unwrap(),
            Pay::Wallet => payment
                .add_electronic(TenderKind::MobileWallet, priced.total, None)
                .unwrap(),
            Pay::CardThenCash(on_card) => {
                payment
                    .add_electronic(TenderKind::Card, on_card, Some("AUTH".to_owned()))
                    .unwrap();
                let rest = payment.remaining();
                payment.add_cash(rest).unwrap();
            }
        }
        let summary = payment.finish().unwrap();
        let n = self.next();
        let context = SaleContext {
            id: SaleId::new(format!("sale-{n}")),
            receipt_number: ReceiptNumber::new(format!("T1-{n:05}")),
            store: self.store.id.clone(),
            device: DeviceId::new("T1"),
            cashier: cashier.user.clone(),
            shift: shift.cloned(),
            at,
        };
        Sale::complete(priced, summary, context, None).unwrap()
    }

    /// The manager refunds `pieces` of line `line` of `sale` to its original tenders.
    pub fn refund(
        &mut self,
        sale: &Sale,
        line: u32,
        pieces: i64,
        reason: ReasonCode,
        at: Timestamp,
        shift: Option<&ShiftId>,
    ) -> Refund {
        let n = self.next();
        refund::refund(
            sale,
            &[],
            &RefundRequest {
                lines: vec![(LineNo(line), Quantity::pieces(pieces))],
                reason,
                destination: RefundDestination::OriginalTenders,
            },
            &Authority {
                features: &self.features,
                actor: &self.manager,
                approver: None,
                at,
            },
            self.store.cash_rounding.as_ref(),
            RefundContext {
                id: RefundId::new(format!("refund-{n}")),
                receipt_number: ReceiptNumber::new(format!("T1-R{n:05}")),
                store: self.store.id.clone(),
                device: DeviceId::new("T1"),
                shift: shift.cloned(),
                at,
            },
        )
        .unwrap()
    }
}
