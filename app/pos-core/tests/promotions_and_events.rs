//! Automatic promotions in their documented order, and domain events as the journal sees them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MONDAY_10AM, Till, eur};
use pos_core::cart::DiscountKind;
use pos_core::clock::Timestamp;
use pos_core::event::{self, DomainEvent, EventEnvelope};
use pos_core::id::{EventId, ProductId, PromotionId, UserId};
use pos_core::promotion::{DiscountSource, ProductGroup, Promotion, PromotionKind};
use pos_core::quantity::Quantity;
use pos_core::sale::{Sale, SaleRecord};
use pos_core::stock;
use rust_decimal_macros::dec;

fn discounts_of(priced: &pos_core::cart::PricedCart, id: &str) -> Vec<(String, String)> {
    priced
        .lines
        .iter()
        .filter(|l| l.product.id.as_str() == id)
        .flat_map(|l| &l.discounts)
        .map(|d| (d.label.clone(), d.amount.display_amount()))
        .collect()
}

#[test]
fn buy_two_get_one_gives_the_cheapest_unit_free_across_variants() {
    let mut till = Till::new();
    till.promotions = vec![Promotion {
        id: PromotionId::new("tees"),
        name: "Tees 3 for 2".into(),
        group: ProductGroup::Products(vec![ProductId::new("tee")]),
        kind: PromotionKind::BuyXGetY {
            buy: 2,
            get: 1,
            percent_off: dec!(100),
        },
        window: None,
    }];
    let mut cart = till.cart();
    for id in ["tee-l-navy", "tee-m-navy", "tee-l-sand"] {
        let product = till.catalog.get(&ProductId::new(id)).unwrap().clone();
        cart.add(&product, Quantity::ONE).unwrap();
    }
    let priced = till.price(&cart);
    // The 24.90 medium is the cheapest of the three and is free; the larges pay full price.
    assert_eq!(
        discounts_of(&priced, "tee-m-navy"),
        vec![("Tees 3 for 2".into(), "24.90".into())]
    );
    assert!(discounts_of(&priced, "tee-l-navy").is_empty());
    assert_eq!(priced.total, eur("53.80"));
}

#[test]
fn mix_and_match_spreads_the_saving_and_leaves_extra_units_alone() {
    let till = Till::new();
    let mut cart = till.cart();
    let chocolate = till
        .catalog
        .get(&ProductId::new("chocolate"))
        .unwrap()
        .clone();
    cart.add(&chocolate, Quantity::pieces(4)).unwrap();
    let priced = till.price(&cart);
    // Three at 1.49 make 4.47, sold for 3.99: 0.48 off; the fourth pays 1.49.
    assert_eq!(
        discounts_of(&priced, "chocolate"),
        vec![("Any 3 chocolates 3.99".into(), "0.48".into())]
    );
    assert_eq!(priced.total, eur("5.48"));
}

#[test]
fn happy_hour_runs_only_in_its_window() {
    let mut till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4005906003236", Quantity::ONE)
        .unwrap();
    assert!(discounts_of(&till.price(&cart), "water").is_empty());
    // Monday 17:30.
    till.now = Timestamp::from_unix_ms(MONDAY_10AM + 7 * 3_600_000 + 30 * 60_000);
    assert_eq!(
        discounts_of(&till.price(&cart), "water"),
        vec![("Happy hour drinks -20%".into(), "0.14".into())]
    );
    // Saturday 17:30: weekdays only.
    till.now = Timestamp::from_unix_ms(MONDAY_10AM + 5 * 86_400_000 + 7 * 3_600_000);
    assert!(discounts_of(&till.price(&cart), "water").is_empty());
}

#[test]
fn promotions_then_line_discount_then_cart_discount() {
    let till = Till::new();
    let mut cart = till.cart();
    let milk = till.catalog.get(&ProductId::new("milk")).unwrap().clone();
    let line = cart.add(&milk, Quantity::pieces(3)).unwrap();
    let policy = till.store.discounts.clone();
    cart.set_line_discount(
        line,
        Some((DiscountKind::Percent(dec!(10)), None)),
        &policy,
        &till.authority(),
    )
    .unwrap();
    cart.set_cart_discount(
        Some((DiscountKind::Amount(eur("1.00")), Some("Regular".into()))),
        &policy,
        &till.approved_by_manager(),
    )
    .unwrap();
    let priced = till.price(&cart);
    let sources: Vec<&DiscountSource> = priced.lines[0]
        .discounts
        .iter()
        .map(|d| &d.source)
        .collect();
    assert_eq!(
        sources,
        vec![
            &DiscountSource::Promotion(PromotionId::new("dairy-3plus")),
            &DiscountSource::ManualLine,
            &DiscountSource::ManualCart,
        ]
    );
    // 3.57 − 0.36 (10% break) = 3.21 − 0.32 (10% line) = 2.89 − 1.00 = 1.89.
    assert_eq!(priced.total, eur("1.89"));
}

#[test]
fn a_discount_never_takes_a_line_below_zero() {
    let till = Till::new();
    let mut cart = till.cart();
    let line = cart
        .add_by_code(&till.catalog, "4005906003236", Quantity::ONE)
        .unwrap();
    cart.set_line_discount(
        line,
        Some((DiscountKind::Amount(eur("5.00")), None)),
        &till.store.discounts,
        &till.manager_authority(),
    )
    .unwrap();
    let priced = till.price(&cart);
    assert!(priced.total.is_zero());
    assert_eq!(priced.lines[0].discounts[0].amount, eur("0.69"));
}

#[test]
fn a_sale_yields_its_events_and_they_round_trip_as_json() {
    let mut till = Till::new();
    let mut cart = till.cart();
    let line = cart
        .add_by_code(&till.catalog, "4006581020013", Quantity::pieces(2))
        .unwrap();
    cart.set_line_discount(
        line,
        Some((DiscountKind::Percent(dec!(20)), None)),
        &till.store.discounts,
        &till.approved_by_manager(),
    )
    .unwrap();
    let sale = till.sell(&cart, |p| {
        p.add_cash(eur("50.00")).unwrap();
    });
    let mut n = 0;
    let movements = stock::movements_for_sale(
        &sale,
        |_, quantity| vec![(None, quantity)],
        || {
            n += 1;
            pos_core::id::MovementId::new(format!("m{n}"))
        },
    );
    let events = event::sale_events(&sale, &movements);
    let kinds: Vec<&str> = events.iter().map(DomainEvent::kind).collect();
    assert_eq!(
        kinds,
        vec![
            "sale_completed",
            "stock_moved",
            "override_approved",
            "drawer_opened"
        ]
    );
    let envelope = EventEnvelope {
        id: EventId::new("01J0000000000000000000000"),
        device: sale.device.clone(),
        actor: UserId::new("anna"),
        at: sale.at,
        event: events[0].clone(),
    };
    let json = serde_json::to_string(&envelope).unwrap();
    assert!(json.contains(r#""type":"sale_completed""#));
    assert!(json.contains(r#""total":{"amount":"23.98","currency":"EUR"}"#));
    let back: EventEnvelope = serde_json::from_str(&json).unwrap();
    assert_eq!(back, envelope);
}

#[test]
fn a_tampered_sale_record_is_refused() {
    let mut till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |p| {
        p.add_cash(eur("20.00")).unwrap();
    });
    let mut record: SaleRecord = sale.into();
    record.total = eur("1.00");
    let json = serde_json::to_string(&record).unwrap();
    let err = serde_json::from_str::<Sale>(&json).unwrap_err();
    assert!(
        err.to_string().contains("the sale's figures do not add up"),
        "{err}"
    );
}
