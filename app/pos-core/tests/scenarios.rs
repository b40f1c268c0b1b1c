//! Worked examples a retailer would recognise, printed as plain-text receipts and reports and
//! compared with committed snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Till, eur, worked};
use pos_core::id::ProductId;
use pos_core::quantity::Quantity;
use pos_core::refund::{self, ReasonCode};
use pos_core::shift::ReportKind;
use pos_core::tender::TenderKind;

#[test]
fn supermarket_basket_with_weighed_items_and_three_for_two() {
    let mut till = Till::new();
    let (cart, sale) = worked::supermarket_basket(&mut till);
    let priced = till.price(&cart);
    // Milk ×3 is one line; three colas pay for two.
    assert_eq!(priced.lines.len(), 6);
    let cola = priced
        .lines
        .iter()
        .find(|l| l.product.id.as_str() == "cola")
        .unwrap();
    assert_eq!(cola.amount, eur("2.58"));
    assert_eq!(sale.total, eur("17.30"));
    assert_eq!(sale.payment.change, eur("12.70"));
    assert!(sale.opens_drawer());
    insta::assert_snapshot!(till.receipt(&sale));
}

#[test]
fn boutique_sale_with_variants_and_a_loyalty_redemption() {
    let mut till = Till::new();
    let sale = worked::boutique_with_points(&mut till);
    assert_eq!(sale.total, eur("51.80"));
    let loyalty = sale.loyalty.as_ref().unwrap();
    assert_eq!(loyalty.points_redeemed, 500);
    // Silver earns 1.5 points per euro on the 46.80 not paid with points.
    assert_eq!(loyalty.points_earned, 70);
    assert!(!sale.opens_drawer());
    insta::assert_snapshot!(till.receipt(&sale));
}

#[test]
fn refund_of_one_unit_of_a_discounted_line() {
    let mut till = Till::new();
    let (sale, refund) = worked::refund_of_a_discounted_line(&mut till);
    // 3 × 14.99 = 44.97, less 15% (6.75) = 38.22, plus chocolate 1.49.
    assert_eq!(sale.total, eur("39.71"));
    // One third of what was paid for the line, not the shelf price.
    assert_eq!(refund.total, eur("12.74"));
    assert_eq!(refund.tenders[0].kind, TenderKind::Card);
    assert_eq!(refund.tenders[0].applied, eur("12.74"));
    insta::assert_snapshot!(pos_core::receipt::refund(&till.store, &refund, 42));
}

#[test]
fn exchange_for_a_dearer_size_pays_the_difference_in_cash() {
    let mut till = Till::new();
    let mut cart = till.cart();
    let medium = till
        .catalog
        .get(&ProductId::new("tee-m-navy"))
        .unwrap()
        .clone();
    cart.add(&medium, Quantity::ONE).unwrap();
    let sale = till.sell(&cart, |payment| {
        payment.add_cash(eur("30.00")).unwrap();
    });

    let large = till
        .catalog
        .get(&ProductId::new("tee-l-navy"))
        .unwrap()
        .clone();
    let mut new_cart = till.cart();
    new_cart.add(&large, Quantity::ONE).unwrap();
    let new_priced = till.price(&new_cart);
    let context = till.refund_context();
    let (refund, mut payment) = refund::exchange(
        &sale,
        &[],
        &[(sale.lines[0].line_no, Quantity::ONE)],
        ReasonCode::new("wrong_size", "Wrong size or colour", true),
        new_priced.total,
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap();
    assert_eq!(refund.total, eur("24.90"));
    assert_eq!(payment.remaining(), eur("2.00"));
    let change = payment.add_cash(eur("5.00")).unwrap();
    assert_eq!(change, eur("3.00"));
    let summary = payment.finish().unwrap();
    let context = till.sale_context();
    let new_sale = pos_core::sale::Sale::complete(new_priced, summary, context, None).unwrap();
    let slips = format!(
        "{}\n{}",
        pos_core::receipt::refund(&till.store, &refund, 42),
        till.receipt(&new_sale)
    );
    insta::assert_snapshot!(slips);
}

#[test]
fn shift_close_with_a_cash_discrepancy() {
    let mut till = Till::new();
    let (x, z) = worked::shift_with_a_discrepancy(&mut till);
    assert_eq!(x.kind, ReportKind::X);
    assert_eq!(x.expected_cash, eur("100.00"));
    // The drawer holds 97.65: 2.35 short.
    assert_eq!(z.kind, ReportKind::Z);
    assert_eq!(z.counted_cash, Some(eur("97.65")));
    assert_eq!(z.discrepancy, Some(eur("-2.35")));
    // The Z is the X plus the count.
    assert_eq!(z.net_sales, x.net_sales);
    assert_eq!(z.tenders, x.tenders);
    insta::assert_snapshot!(pos_core::receipt::shift_report(&till.store, &z, 42));
}
