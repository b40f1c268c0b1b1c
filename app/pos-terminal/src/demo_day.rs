//! A scripted day at the demo store: open a shift, sell, hold and resume a cart, refund,
//! take a bank drop, count the drawer and close with a Z report. Everything is printed as the
//! receipt printer would print it.

use pos_core::access::{Actor, Features, Role};
use pos_core::cart::{AttachedCustomer, Authority, Cart, DiscountKind, PricingContext};
use pos_core::catalog::Catalog;
use pos_core::clock::Timestamp;
use pos_core::demo;
use pos_core::held::{HeldCart, HeldCarts};
use pos_core::id::{
    CustomerId, DeviceId, HeldCartId, ProductId, ReceiptNumber, RefundId, SaleId, ShiftId, UserId,
};
use pos_core::loyalty::{LoyaltyProgram, Tier};
use pos_core::money::Money;
use pos_core::promotion::Promotion;
use pos_core::quantity::{Quantity, Unit};
use pos_core::receipt::{self, Document, ReceiptStyle};
use pos_core::refund::{self, ReasonCode, RefundDestination, RefundRequest};
use pos_core::sale::{Sale, SaleContext};
use pos_core::shift::{self, CashCount, CashDirection, CashMovement, Shift};
use pos_core::tenant::Store;
use pos_core::tender::{Payment, TenderKind};
use rust_decimal::Decimal;

/// Anything in the script that the core refused: the demo data and the script disagree.
#[derive(Debug, thiserror::Error)]
#[error("demo step `{step}` failed: {reason}")]
pub struct DemoError {
    step: &'static str,
    reason: String,
}

trait Step<T> {
    fn step(self, step: &'static str) -> Result<T, DemoError>;
}

impl<T, E: std::fmt::Display> Step<T> for Result<T, E> {
    fn step(self, step: &'static str) -> Result<T, DemoError> {
        self.map_err(|e| DemoError {
            step,
            reason: e.to_string(),
        })
    }
}

impl<T> Step<T> for Option<T> {
    fn step(self, step: &'static str) -> Result<T, DemoError> {
        self.ok_or(DemoError {
            step,
            reason: "not found in the demo data".to_owned(),
        })
    }
}

/// Monday 2026-03-02 08:00 UTC, when the shift opens.
const OPENING_MS: i64 = 1_772_438_400_000;

struct Day {
    store: Store,
    catalog: Catalog,
    promotions: Vec<Promotion>,
    loyalty: LoyaltyProgram,
    features: Features,
    cashier: Actor,
    manager: Actor,
    device: DeviceId,
    shift: ShiftId,
    now: Timestamp,
    counter: u32,
    printed: Vec<Document>,
}

impl Day {
    fn tick(&mut self, minutes: i64) -> u32 {
        self.now = self.now.plus_ms(minutes * 60_000);
        self.counter += 1;
        self.counter
    }

    fn authority<'a>(&'a self, approver: Option<&'a Actor>) -> Authority<'a> {
        Authority {
            features: &self.features,
            actor: &self.cashier,
            approver,
            at: self.now,
        }
    }

    fn price(&self, cart: &Cart) -> Result<pos_core::cart::PricedCart, DemoError> {
        cart.price(&PricingContext {
            taxes: &self.store.taxes,
            tax_policy: &self.store.tax_policy,
            promotions: &self.promotions,
            local_time: self.now.local(self.store.utc_offset),
        })
        .step("price the cart")
    }

    fn complete(&mut self, cart: &Cart, payment: Payment) -> Result<Sale, DemoError> {
        let priced = self.price(cart)?;
        let summary = payment.finish().step("finish the payment")?;
        let n = self.tick(3);
        let context = SaleContext {
            id: SaleId::new(format!("sale-{n}")),
            receipt_number: ReceiptNumber::new(format!("{}-{n:05}", self.device)),
            store: self.store.id.clone(),
            device: self.device.clone(),
            cashier: self.cashier.user.clone(),
            shift: Some(self.shift.clone()),
            at: self.now,
        };
        let sale = Sale::complete(priced, summary, context, Some(&self.loyalty))
            .step("complete the sale")?;
        self.printed.push(receipt::sale_document(
            &self.store,
            &sale,
            ReceiptStyle::Normal,
        ));
        Ok(sale)
    }

    fn product(&self, id: &str) -> Result<pos_core::catalog::Product, DemoError> {
        self.catalog
            .get(&ProductId::new(id))
            .cloned()
            .step("find a demo product")
    }
}

/// Runs the day and returns everything printed as plain text for `width` columns, receipts
/// separated by cut marks.
pub fn run(width: usize) -> Result<String, DemoError> {
    let mut printout = String::new();
    for document in documents()? {
        printout.push_str(&document.to_text(width));
        printout.push_str("\n~~~~~~~~ cut ~~~~~~~~\n\n");
    }
    Ok(printout)
}

/// Runs the day and returns every receipt and report it printed, in order.
pub fn documents() -> Result<Vec<Document>, DemoError> {
    let roles = Role::defaults();
    let role = |id: &str| roles.iter().find(|r| r.id.as_str() == id).cloned();
    let mut day = Day {
        store: demo::store().step("load the demo store")?,
        catalog: demo::catalog().step("load the demo catalogue")?,
        promotions: demo::promotions(),
        loyalty: demo::loyalty(),
        features: Features::all_enabled(),
        cashier: Actor::new("anna", "Anna", role("cashier").step("cashier role")?),
        manager: Actor::new("marc", "Marc", role("manager").step("manager role")?),
        device: DeviceId::new("T1"),
        shift: ShiftId::new("T1-shift-1"),
        now: Timestamp::from_unix_ms(OPENING_MS),
        counter: 0,
        printed: Vec::new(),
    };
    let currency = day.store.currency;
    let eur = |minor: i64| Money::from_minor(minor, currency);

    let mut shift = Shift::open(
        day.shift.clone(),
        day.store.id.clone(),
        day.device.clone(),
        day.cashier.user.clone(),
        eur(15_000),
        day.now,
    )
    .step("open the shift")?;

    // 1. A grocery basket: three milks and butter (dairy deal), weighed apples, three colas
    //    (3 for 2), paid in cash.
    let mut cart = Cart::new(currency);
    for code in [
        "4006381333931",
        "4006381333931",
        "4006381333931",
        "4008452011236",
    ] {
        cart.add_by_code(&day.catalog, code, Quantity::ONE)
            .step("scan groceries")?;
    }
    let apples = day.product("apples")?;
    let weight = Quantity::parse("1.235", Unit::Kilogram).step("weigh apples")?;
    cart.add(&apples, weight).step("add apples")?;
    for _ in 0..3 {
        cart.add_by_code(&day.catalog, "5449000000996", Quantity::ONE)
            .step("scan cola")?;
    }
    let priced = day.price(&cart)?;
    let mut payment = Payment::new(priced.total, day.store.cash_rounding);
    payment.add_cash(eur(2_000)).step("take cash")?;
    let mut sales = vec![day.complete(&cart, payment)?];

    // 2. A customer is still choosing: hold her cart, serve the next one, resume it.
    let mut held = HeldCarts::default();
    let mut waiting = Cart::new(currency);
    waiting
        .add(&day.product("tee-m-navy")?, Quantity::ONE)
        .step("add tee")?;
    held.hold(HeldCart {
        id: HeldCartId::new("held-1"),
        label: "Tee, trying a size".to_owned(),
        cart: waiting,
        held_at: day.now,
        held_by: day.cashier.user.clone(),
        device: day.device.clone(),
    })
    .step("hold the cart")?;

    let mut next = Cart::new(currency);
    next.add_by_code(&day.catalog, "4006581020013", Quantity::ONE)
        .step("scan coffee")?;
    let line = next
        .add_by_code(&day.catalog, "5000394023031", Quantity::ONE)
        .step("scan batteries")?;
    // Dented packaging: 25% off, above the cashier's 10% limit, so the manager approves.
    let manager = day.manager.clone();
    let policy = day.store.discounts.clone();
    next.set_line_discount(
        line,
        Some((
            DiscountKind::Percent(Decimal::from(25)),
            Some("dented".to_owned()),
        )),
        &policy,
        &day.authority(Some(&manager)),
    )
    .step("discount the batteries")?;
    let priced = day.price(&next)?;
    let mut payment = Payment::new(priced.total, day.store.cash_rounding);
    payment
        .add_electronic(
            TenderKind::Card,
            priced.total,
            Some("AUTH 882104".to_owned()),
        )
        .step("card payment")?;
    sales.push(day.complete(&next, payment)?);

    let resumed = held
        .resume(&HeldCartId::new("held-1"), &day.device, day.now)
        .step("resume the held cart")?;
    let mut cart = resumed.cart;
    cart.add(&day.product("tee-l-sand")?, Quantity::ONE)
        .step("add a second tee")?;
    cart.attach_customer(AttachedCustomer {
        id: CustomerId::new("c-1042"),
        name: "Lena Fischer".to_owned(),
        tier: Tier::Silver,
        points: 1_200,
    });
    let priced = day.price(&cart)?;
    let mut payment = Payment::new(priced.total, day.store.cash_rounding);
    let value = day.loyalty.redeem(500, 1_200).step("redeem points")?;
    payment.add_points(500, value).step("pay with points")?;
    let rest = payment.remaining();
    payment
        .add_electronic(
            TenderKind::MobileWallet,
            rest,
            Some("WALLET 7731".to_owned()),
        )
        .step("wallet payment")?;
    sales.push(day.complete(&cart, payment)?);

    // 3. The first customer returns one cola: it was one of the free ones, so the refund is
    //    its share of what she actually paid.
    let first = sales.first().step("first sale")?.clone();
    let cola_line = first
        .lines
        .iter()
        .find(|l| l.product.id.as_str() == "cola")
        .step("cola line")?
        .line_no;
    let n = day.tick(20);
    let refund = refund::refund(
        &first,
        &[],
        &RefundRequest {
            lines: vec![(cola_line, Quantity::ONE)],
            reason: ReasonCode::new("changed_mind", "Changed mind", true),
            destination: RefundDestination::OriginalTenders,
        },
        &day.authority(Some(&manager)),
        day.store.cash_rounding.as_ref(),
        refund::RefundContext {
            id: RefundId::new(format!("refund-{n}")),
            receipt_number: ReceiptNumber::new(format!("T1-R{n:05}")),
            store: day.store.id.clone(),
            device: day.device.clone(),
            shift: Some(day.shift.clone()),
            at: day.now,
        },
    )
    .step("refund a cola")?;
    day.printed
        .push(receipt::refund_document(&day.store, &refund));

    // 4. A bank drop, then the close: the drawer is counted note by note.
    day.tick(240);
    shift
        .move_cash(CashMovement {
            direction: CashDirection::Out,
            amount: eur(10_000),
            reason: "Bank drop".to_owned(),
            at: day.now,
            by: manager.user.clone(),
        })
        .step("bank drop")?;
    let x = shift::report(&shift, &sales, std::slice::from_ref(&refund), &[], day.now)
        .step("X report")?;
    day.printed
        .push(receipt::shift_report_document(&day.store, &x));

    day.tick(480);
    let count = CashCount {
        currency,
        denominations: vec![
            (Decimal::from(20), 2),
            (Decimal::from(10), 1),
            (Decimal::from(5), 2),
            (Decimal::new(50, 2), 1),
        ],
    };
    shift
        .close(count, UserId::new("marc"), day.now)
        .step("close the shift")?;
    let z = shift::report(&shift, &sales, std::slice::from_ref(&refund), &[], day.now)
        .step("Z report")?;
    day.printed
        .push(receipt::shift_report_document(&day.store, &z));
    Ok(day.printed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_day_balances_except_for_the_counted_shortfall() {
        let printout = super::run(42).unwrap();
        assert!(printout.contains("Z REPORT (shift closed)"));
        // 60.86 expected in the drawer, 60.50 counted.
        assert!(printout.contains("SHORT                              -0.36"));
        insta::assert_snapshot!(printout);
    }
}
