//! Every mistake a cashier can make gets a typed error and a message they can act on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Till, eur};
use pos_core::access::AccessError;
use pos_core::cart::{CartError, DiscountKind};
use pos_core::held::{HeldCart, HeldCarts, HeldError};
use pos_core::id::{DeviceId, HeldCartId, ProductId, UserId};
use pos_core::money::{Currency, Money, MoneyError};
use pos_core::quantity::Quantity;
use pos_core::refund::{self, ReasonCode, RefundDestination, RefundError, RefundRequest};
use pos_core::sale::{Sale, SaleError};
use pos_core::shift::{CashDirection, CashMovement, Shift, ShiftError};
use pos_core::tender::{TenderError, TenderKind};
use rust_decimal_macros::dec;

fn changed_mind() -> ReasonCode {
    ReasonCode::new("changed_mind", "Changed mind", true)
}

#[test]
fn over_refund_across_partial_refunds() {
    let mut till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "5449000000996", Quantity::pieces(2))
        .unwrap();
    let sale = till.sell(&cart, |p| {
        p.add_cash(eur("5.00")).unwrap();
    });
    let line = sale.lines[0].line_no;
    let request = |n| RefundRequest {
        lines: vec![(line, Quantity::pieces(n))],
        reason: changed_mind(),
        destination: RefundDestination::OriginalTenders,
    };
    let context = till.refund_context();
    let first = refund::refund(
        &sale,
        &[],
        &request(1),
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap();
    let context = till.refund_context();
    let err = refund::refund(
        &sale,
        &[first],
        &request(2),
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap_err();
    assert!(matches!(err, RefundError::MoreThanSold { .. }));
    assert_eq!(
        err.to_string(),
        "line 1 sold 2; 1 already returned, so 2 more cannot be returned"
    );
}

#[test]
fn refund_without_permission_asks_for_a_manager() {
    let mut till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006381333931", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |p| {
        p.add_cash(eur("2.00")).unwrap();
    });
    let context = till.refund_context();
    let err = refund::refund(
        &sale,
        &[],
        &RefundRequest {
            lines: vec![(sale.lines[0].line_no, Quantity::ONE)],
            reason: changed_mind(),
            destination: RefundDestination::OriginalTenders,
        },
        &till.authority(),
        None,
        context,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Anna is not allowed to do this (sales.refund); a manager can approve it"
    );
    // With the manager's PIN it goes through and the override is on the refund.
    let context = till.refund_context();
    let refund = refund::refund(
        &sale,
        &[],
        &RefundRequest {
            lines: vec![(sale.lines[0].line_no, Quantity::ONE)],
            reason: changed_mind(),
            destination: RefundDestination::OriginalTenders,
        },
        &till.approved_by_manager(),
        None,
        context,
    )
    .unwrap();
    assert_eq!(refund.approval.unwrap().approved_by, UserId::new("marc"));
}

#[test]
fn tender_short_cannot_complete() {
    let till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    let priced = till.price(&cart);
    let mut payment = till.payment(&priced);
    payment.add_cash(eur("10.00")).unwrap();
    let err = payment.finish().unwrap_err();
    assert!(matches!(err, TenderError::Short { .. }));
    assert_eq!(
        err.to_string(),
        "4.99 EUR is still owed; take another payment"
    );
}

#[test]
fn card_over_tender_is_refused() {
    let till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    let priced = till.price(&cart);
    let mut payment = till.payment(&priced);
    let err = payment
        .add_electronic(TenderKind::Card, eur("20.00"), None)
        .unwrap_err();
    assert!(matches!(err, TenderError::OverTender { .. }));
}

#[test]
fn mixing_currencies_is_refused_everywhere() {
    let till = Till::new();
    let mut cart = till.cart();
    let mut imported = till.catalog.get(&ProductId::new("cola")).unwrap().clone();
    imported.price = Money::parse("1.50", Currency::USD).unwrap();
    let err = cart.add(&imported, Quantity::ONE).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot combine EUR and USD: amounts in different currencies"
    );
    cart.add_by_code(&till.catalog, "5449000000996", Quantity::ONE)
        .unwrap();
    let priced = till.price(&cart);
    let mut payment = till.payment(&priced);
    assert!(matches!(
        payment.add_cash(Money::parse("5", Currency::USD).unwrap()),
        Err(TenderError::Money(MoneyError::CurrencyMismatch { .. }))
    ));
}

#[test]
fn resuming_a_held_cart_twice() {
    let till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006381333931", Quantity::ONE)
        .unwrap();
    let mut held = HeldCarts::default();
    held.hold(HeldCart {
        id: HeldCartId::new("h1"),
        label: "Lady in red coat".into(),
        cart,
        held_at: till.now,
        held_by: UserId::new("anna"),
        device: DeviceId::new("T1"),
    })
    .unwrap();
    assert_eq!(held.list()[0].label, "Lady in red coat");
    held.resume(&HeldCartId::new("h1"), &DeviceId::new("T2"), till.now)
        .unwrap();
    let err = held
        .resume(&HeldCartId::new("h1"), &DeviceId::new("T1"), till.now)
        .unwrap_err();
    assert!(matches!(err, HeldError::AlreadyResumed { .. }));
    assert_eq!(
        err.to_string(),
        "held cart h1 was already resumed on terminal T2"
    );
    assert!(matches!(
        held.hold(HeldCart {
            id: HeldCartId::new("h2"),
            label: String::new(),
            cart: till.cart(),
            held_at: till.now,
            held_by: UserId::new("anna"),
            device: DeviceId::new("T1"),
        }),
        Err(HeldError::EmptyCart)
    ));
}

#[test]
fn unknown_barcode_adds_nothing() {
    let till = Till::new();
    let mut cart = till.cart();
    let err = cart
        .add_by_code(&till.catalog, "9999999999994", Quantity::ONE)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "nothing is known under the code 9999999999994; check the barcode or search by name"
    );
    assert!(cart.is_empty());
}

#[test]
fn archived_product_cannot_be_sold() {
    let till = Till::new();
    let mut cart = till.cart();
    let mut archived = till.catalog.get(&ProductId::new("cola")).unwrap().clone();
    archived.active = false;
    assert_eq!(
        cart.add(&archived, Quantity::ONE).unwrap_err().to_string(),
        "Cola 0.5 L is no longer sold (archived)"
    );
}

#[test]
fn discount_above_the_limit_needs_a_manager() {
    let till = Till::new();
    let mut cart = till.cart();
    let line = cart
        .add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    let policy = till.store.discounts.clone();
    let err = cart
        .set_line_discount(
            line,
            Some((DiscountKind::Percent(dec!(25)), None)),
            &policy,
            &till.authority(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a 25% discount is above the 10% a cashier may give; a manager must approve it"
    );
    // An amount discount is judged by the percentage it makes: 5.00 of 14.99 is 33%.
    assert!(matches!(
        cart.set_line_discount(
            line,
            Some((DiscountKind::Amount(eur("5.00")), None)),
            &policy,
            &till.authority()
        ),
        Err(CartError::ApprovalRequired { .. })
    ));
    cart.set_line_discount(
        line,
        Some((DiscountKind::Percent(dec!(25)), None)),
        &policy,
        &till.approved_by_manager(),
    )
    .unwrap();
    assert!(
        cart.line(line)
            .unwrap()
            .discount
            .as_ref()
            .unwrap()
            .approval
            .is_some()
    );
    assert!(matches!(
        cart.set_line_discount(
            line,
            Some((DiscountKind::Percent(dec!(120)), None)),
            &policy,
            &till.approved_by_manager()
        ),
        Err(CartError::DiscountOutOfRange(_))
    ));
}

#[test]
fn removing_a_printed_line_needs_a_permission() {
    let till = Till::new();
    let mut cart = till.cart();
    let line = cart
        .add_by_code(&till.catalog, "4006381333931", Quantity::ONE)
        .unwrap();
    cart.mark_printed();
    let err = cart.remove(line, &till.authority()).unwrap_err();
    assert!(matches!(err, CartError::Access(AccessError::Denied { .. })));
    assert_eq!(cart.lines().len(), 1);
    let void = cart.remove(line, &till.approved_by_manager()).unwrap();
    assert!(void.approval.is_some());
    assert!(cart.is_empty());
}

#[test]
fn fractional_pieces_are_refused() {
    let till = Till::new();
    let mut cart = till.cart();
    let milk = till.catalog.get(&ProductId::new("milk")).unwrap().clone();
    let err = cart
        .add(
            &milk,
            Quantity::of(dec!(1.5), pos_core::quantity::Unit::Kilogram).unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a quantity of 1.5 pieces is not a whole number"
    );
}

#[test]
fn empty_cart_cannot_be_sold() {
    let mut till = Till::new();
    let cart = till.cart();
    let priced = till.price(&cart);
    let summary = pos_core::tender::Payment::new(priced.total, None)
        .finish()
        .unwrap();
    let context = till.sale_context();
    assert!(matches!(
        Sale::complete(priced, summary, context, None),
        Err(SaleError::EmptyCart)
    ));
}

#[test]
fn no_receipt_return_needs_its_own_permission() {
    let mut till = Till::new();
    let milk = till.catalog.get(&ProductId::new("milk")).unwrap().clone();
    let context = till.refund_context();
    let err = refund::no_receipt_return(
        &[(milk.clone(), Quantity::ONE)],
        changed_mind(),
        RefundDestination::StoreCredit,
        &till.store.taxes,
        &till.store.tax_policy,
        &till.authority(),
        None,
        context,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Anna is not allowed to do this (sales.refund.no_receipt); a manager can approve it"
    );
    let context = till.refund_context();
    let refund = refund::no_receipt_return(
        &[(milk, Quantity::ONE)],
        changed_mind(),
        RefundDestination::StoreCredit,
        &till.store.taxes,
        &till.store.tax_policy,
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap();
    assert_eq!(refund.total, eur("1.19"));
    assert_eq!(refund.tenders[0].kind, TenderKind::StoreCredit);
    assert!(refund.original_sale.is_none());
}

#[test]
fn refund_to_cash_of_a_card_sale_needs_a_permission() {
    let mut till = Till::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |p| {
        let due = p.remaining();
        p.add_electronic(TenderKind::Card, due, None).unwrap();
    });
    let mut supervisor = till.cashier.clone();
    supervisor.role.grants = vec![pos_core::access::Grant::new("sales.refund")];
    let context = till.refund_context();
    let authority = pos_core::cart::Authority {
        actor: &supervisor,
        ..till.authority()
    };
    let err = refund::refund(
        &sale,
        &[],
        &RefundRequest {
            lines: vec![(sale.lines[0].line_no, Quantity::ONE)],
            reason: changed_mind(),
            destination: RefundDestination::Cash,
        },
        &authority,
        None,
        context,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Anna is not allowed to do this (sales.refund.to_cash); a manager can approve it"
    );
}

#[test]
fn cash_out_needs_a_reason_and_a_closed_shift_takes_nothing() {
    let till = Till::new();
    let mut shift = Shift::open(
        pos_core::id::ShiftId::new("s"),
        till.store.id.clone(),
        DeviceId::new("T1"),
        UserId::new("anna"),
        eur("100.00"),
        till.now,
    )
    .unwrap();
    let movement = CashMovement {
        direction: CashDirection::Out,
        amount: eur("20.00"),
        reason: " ".into(),
        at: till.now,
        by: UserId::new("anna"),
    };
    assert_eq!(
        shift.move_cash(movement.clone()).unwrap_err().to_string(),
        "say why cash goes in or out"
    );
    shift
        .close(
            pos_core::shift::CashCount {
                currency: Currency::EUR,
                denominations: vec![],
            },
            UserId::new("marc"),
            till.now,
        )
        .unwrap();
    assert!(matches!(
        shift.move_cash(CashMovement {
            reason: "Bank".into(),
            ..movement
        }),
        Err(ShiftError::Closed)
    ));
}

#[test]
fn redeeming_more_points_than_held() {
    let till = Till::new();
    assert_eq!(
        till.loyalty.redeem(2_000, 1_500).unwrap_err().to_string(),
        "the customer has 1500 points; 2000 cannot be redeemed"
    );
}
