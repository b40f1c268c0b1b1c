//! Worked examples a retailer would recognise, printed as plain-text receipts and reports and
//! compared with committed snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Till, eur};
use pos_core::cart::{AttachedCustomer, DiscountKind};
use pos_core::id::{CustomerId, ProductId, ShiftId, UserId};
use pos_core::loyalty::Tier;
use pos_core::quantity::{Quantity, Unit};
use pos_core::refund::{self, ReasonCode, RefundDestination, RefundRequest};
use pos_core::shift::{self, CashCount, CashDirection, CashMovement, ReportKind, Shift};
use pos_core::tender::TenderKind;
use rust_decimal_macros::dec;

fn kg(text: &str) -> Quantity {
    Quantity::parse(text, Unit::Kilogram).unwrap()
}

#[test]
fn supermarket_basket_with_weighed_items_and_three_for_two() {
    let mut till = Till::new();
    let mut cart = till.cart();
    for code in ["4006381333931", "4006381333931", "4006381333931"] {
        cart.add_by_code(&till.catalog, code, Quantity::ONE)
            .unwrap();
    }
    cart.add_by_code(&till.catalog, "4008452011231", Quantity::ONE)
        .unwrap();
    let apples = till.catalog.get(&ProductId::new("apples")).unwrap().clone();
    cart.add(&apples, kg("1.235")).unwrap();
    let bananas = till
        .catalog
        .get(&ProductId::new("bananas"))
        .unwrap()
        .clone();
    cart.add(&bananas, kg("0.85")).unwrap();
    for _ in 0..3 {
        cart.add_by_code(&till.catalog, "5449000000996", Quantity::ONE)
            .unwrap();
    }
    cart.add_by_code(&till.catalog, "SKU-bread", Quantity::ONE)
        .unwrap();

    let priced = till.price(&cart);
    // Milk ×3 is one line; three colas pay for two.
    assert_eq!(priced.lines.len(), 6);
    let cola = priced
        .lines
        .iter()
        .find(|l| l.product.id.as_str() == "cola")
        .unwrap();
    assert_eq!(cola.amount, eur("2.58"));

    let sale = till.sell(&cart, |payment| {
        payment.add_cash(eur("30.00")).unwrap();
    });
    assert_eq!(sale.total, eur("17.30"));
    assert_eq!(sale.payment.change, eur("12.70"));
    assert!(sale.opens_drawer());
    insta::assert_snapshot!(till.receipt(&sale));
}

#[test]
fn boutique_sale_with_variants_and_a_loyalty_redemption() {
    let mut till = Till::new();
    let mut cart = till.cart();
    let medium_navy = till
        .catalog
        .get(&ProductId::new("tee-m-navy"))
        .unwrap()
        .clone();
    let large_sand = till
        .catalog
        .get(&ProductId::new("tee-l-sand"))
        .unwrap()
        .clone();
    cart.add(&medium_navy, Quantity::ONE).unwrap();
    cart.add(&large_sand, Quantity::ONE).unwrap();
    cart.attach_customer(AttachedCustomer {
        id: CustomerId::new("c-42"),
        name: "Lena Fischer".to_owned(),
        tier: Tier::Silver,
        points: 1_200,
    });
    let program = till.loyalty.clone();
    let sale = till.sell(&cart, |payment| {
        let value = program.redeem(500, 1_200).unwrap();
        payment.add_points(500, value).unwrap();
        let rest = payment.remaining();
        payment
            .add_electronic(TenderKind::Card, rest, Some("AUTH 4411".to_owned()))
            .unwrap();
    });
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
    let mut cart = till.cart();
    let coffee = till.catalog.get(&ProductId::new("coffee")).unwrap().clone();
    let line = cart.add(&coffee, Quantity::pieces(3)).unwrap();
    let policy = till.store.discounts;
    cart.set_line_discount(
        line,
        Some((DiscountKind::Percent(dec!(15)), Some("Damaged box".into()))),
        &policy,
        &till.approved_by_manager(),
    )
    .unwrap();
    cart.add_by_code(&till.catalog, "4000417025005", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |payment| {
        let due = payment.remaining();
        payment
            .add_electronic(TenderKind::Card, due, Some("AUTH 1234".into()))
            .unwrap();
    });
    // 3 × 14.99 = 44.97, less 15% (6.75) = 38.22, plus chocolate 1.49.
    assert_eq!(sale.total, eur("39.71"));

    let request = RefundRequest {
        lines: vec![(line, Quantity::ONE)],
        reason: ReasonCode::new("changed_mind", "Changed mind", true),
        destination: RefundDestination::OriginalTenders,
    };
    let context = till.refund_context();
    let refund = refund::refund(
        &sale,
        &[],
        &request,
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap();
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
    let shift_id = ShiftId::new("shift-1");
    till.shift = Some(shift_id.clone());
    let mut shift = Shift::open(
        shift_id,
        till.store.id.clone(),
        pos_core::id::DeviceId::new("T1"),
        UserId::new("anna"),
        eur("150.00"),
        till.now,
    )
    .unwrap();

    let mut sales = Vec::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    sales.push(till.sell(&cart, |p| {
        p.add_cash(eur("20.00")).unwrap();
    }));
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "5000394023031", Quantity::pieces(2))
        .unwrap();
    sales.push(till.sell(&cart, |p| {
        let due = p.remaining();
        p.add_electronic(TenderKind::Card, due, None).unwrap();
    }));
    let context = till.refund_context();
    let refunds = vec![
        refund::refund(
            &sales[0],
            &[],
            &RefundRequest {
                lines: vec![(sales[0].lines[0].line_no, Quantity::ONE)],
                reason: ReasonCode::new("defective", "Defective", false),
                destination: RefundDestination::OriginalTenders,
            },
            &till.manager_authority(),
            None,
            context,
        )
        .unwrap(),
    ];
    shift
        .move_cash(CashMovement {
            direction: CashDirection::Out,
            amount: eur("50.00"),
            reason: "Bank drop".into(),
            at: till.now,
            by: UserId::new("marc"),
        })
        .unwrap();

    let x = shift::report(&shift, &sales, &refunds, &[], till.now).unwrap();
    assert_eq!(x.kind, ReportKind::X);
    assert_eq!(x.expected_cash, eur("100.00"));

    // The drawer holds 97.65: 2.35 short.
    let count = CashCount {
        currency: till.store.currency,
        denominations: vec![
            (dec!(50), 1),
            (dec!(20), 2),
            (dec!(5), 1),
            (dec!(2), 1),
            (dec!(0.5), 1),
            (dec!(0.1), 1),
            (dec!(0.05), 1),
        ],
    };
    shift.close(count, UserId::new("marc"), till.now).unwrap();
    let z = shift::report(&shift, &sales, &refunds, &[], till.now).unwrap();
    assert_eq!(z.kind, ReportKind::Z);
    assert_eq!(z.counted_cash, Some(eur("97.65")));
    assert_eq!(z.discrepancy, Some(eur("-2.35")));
    // The Z is the X plus the count.
    assert_eq!(z.net_sales, x.net_sales);
    assert_eq!(z.tenders, x.tenders);
    insta::assert_snapshot!(pos_core::receipt::shift_report(&till.store, &z, 42));
}
