//! The worked examples: sales, a refund and a shift a retailer would recognise. The core's
//! scenario tests check their figures and text; the printer's tests print the same receipts,
//! so both speak of exactly the same documents.

use pos_core::cart::{AttachedCustomer, Cart, DiscountKind};
use pos_core::id::{CustomerId, DeviceId, ProductId, ShiftId, UserId};
use pos_core::loyalty::Tier;
use pos_core::quantity::{Quantity, Unit};
use pos_core::refund::{self, ReasonCode, Refund, RefundDestination, RefundRequest};
use pos_core::sale::Sale;
use pos_core::shift::{self, CashCount, CashDirection, CashMovement, Shift, ShiftReport};
use pos_core::tender::TenderKind;
use rust_decimal_macros::dec;

use super::{Till, eur};

fn kg(text: &str) -> Quantity {
    Quantity::parse(text, Unit::Kilogram).unwrap()
}

/// Milk ×3, butter, weighed apples and bananas, colas "3 for 2", bread; 30.00 in cash.
pub fn supermarket_basket(till: &mut Till) -> (Cart, Sale) {
    let mut cart = till.cart();
    for code in [
        "4006381333931",
        "4006381333931",
        "4006381333931",
        "4008452011236",
    ] {
        cart.add_by_code(&till.catalog, code, Quantity::ONE)
            .unwrap();
    }
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
    let sale = till.sell(&cart, |payment| {
        payment.add_cash(eur("30.00")).unwrap();
    });
    (cart, sale)
}

/// Two tee variants for a Silver member paying 500 points and the rest by card.
pub fn boutique_with_points(till: &mut Till) -> Sale {
    let mut cart = till.cart();
    for id in ["tee-m-navy", "tee-l-sand"] {
        let tee = till.catalog.get(&ProductId::new(id)).unwrap().clone();
        cart.add(&tee, Quantity::ONE).unwrap();
    }
    cart.attach_customer(AttachedCustomer {
        id: CustomerId::new("c-42"),
        name: "Lena Fischer".to_owned(),
        tier: Tier::Silver,
        points: 1_200,
    });
    let program = till.loyalty.clone();
    till.sell(&cart, |payment| {
        let value = program.redeem(500, 1_200).unwrap();
        payment.add_points(500, value).unwrap();
        let rest = payment.remaining();
        payment
            .add_electronic(TenderKind::Card, rest, Some("AUTH 4411".to_owned()))
            .unwrap();
    })
}

/// Three bags of coffee at 15% off (a damaged box) and a chocolate bar by card; then one bag
/// of coffee comes back.
pub fn refund_of_a_discounted_line(till: &mut Till) -> (Sale, Refund) {
    let mut cart = till.cart();
    let coffee = till.catalog.get(&ProductId::new("coffee")).unwrap().clone();
    let line = cart.add(&coffee, Quantity::pieces(3)).unwrap();
    let policy = till.store.discounts.clone();
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
    (sale, refund)
}

/// A shift with a cash sale, a card sale, a refund of a defective item, a bank drop, and a
/// drawer counted 2.35 short: its X report before the count and its Z report after.
pub fn shift_with_a_discrepancy(till: &mut Till) -> (ShiftReport, ShiftReport) {
    let shift_id = ShiftId::new("shift-1");
    till.shift = Some(shift_id.clone());
    let mut shift = Shift::open(
        shift_id,
        till.store.id.clone(),
        DeviceId::new("T1"),
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
    (x, z)
}
