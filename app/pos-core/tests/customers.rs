//! A customer's purchase history: what the back office lists and what their tier is based on.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Till, eur};
use pos_core::cart::AttachedCustomer;
use pos_core::id::{CustomerId, ProductId};
use pos_core::loyalty::{self, Tier};
use pos_core::quantity::Quantity;
use pos_core::refund::{self, ReasonCode, RefundDestination, RefundRequest};
use pos_core::sale::Sale;
use pos_core::tender::TenderKind;

fn sell_coffee(till: &mut Till, customer: Option<&str>, count: i64) -> Sale {
    let mut cart = till.cart();
    let coffee = till.catalog.get(&ProductId::new("coffee")).unwrap().clone();
    cart.add(&coffee, Quantity::pieces(count)).unwrap();
    if let Some(id) = customer {
        cart.attach_customer(AttachedCustomer {
            id: CustomerId::new(id),
            name: id.to_owned(),
            tier: Tier::Member,
            points: 0,
        });
    }
    till.sell(&cart, |payment| {
        let due = payment.remaining();
        payment.add_electronic(TenderKind::Card, due, None).unwrap();
    })
}

#[test]
fn history_lists_a_customers_sales_and_refunds_and_nobody_elses() {
    let mut till = Till::new();
    let first = sell_coffee(&mut till, Some("lena"), 2);
    let stranger = sell_coffee(&mut till, None, 1);
    let other = sell_coffee(&mut till, Some("omar"), 1);
    let second = sell_coffee(&mut till, Some("lena"), 1);
    let request = RefundRequest {
        lines: vec![(first.lines[0].line_no, Quantity::ONE)],
        reason: ReasonCode::new("changed_mind", "Changed mind", true),
        destination: RefundDestination::OriginalTenders,
    };
    let context = till.refund_context();
    let returned = refund::refund(
        &first,
        &[],
        &request,
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap();

    let sales = [first.clone(), stranger, other, second.clone()];
    let history = loyalty::purchase_history(
        &CustomerId::new("lena"),
        &sales,
        std::slice::from_ref(&returned),
    );
    let rows: Vec<(&str, pos_core::money::Money)> = history
        .iter()
        .map(|p| (p.receipt.as_str(), p.amount))
        .collect();
    assert_eq!(
        rows,
        vec![
            (first.receipt_number.as_str(), eur("29.98")),
            (second.receipt_number.as_str(), eur("14.99")),
            (returned.receipt_number.as_str(), eur("-14.99")),
        ]
    );
    // Rolling spend counts the refund against the customer.
    let spend = till.loyalty.rolling_spend(&history, till.now).unwrap();
    assert_eq!(spend, eur("29.98"));
    assert!(loyalty::purchase_history(&CustomerId::new("nobody"), &sales, &[returned]).is_empty());
}
