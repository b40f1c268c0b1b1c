//! Stock rules a back-office user relies on: first-expiry-first-out picking, transfers between
//! stores, counts with a variance report, low stock, reorder suggestions, expiry lists, and
//! returns that go back on the shelf only when they can be sold again.
#![allow(clippy::unwrap_used)]

mod common;

use common::Till;
use pos_core::clock::Timestamp;
use pos_core::id::{BatchId, MovementId, ProductId, StoreId, TransferId, UserId};
use pos_core::quantity::Quantity;
use pos_core::refund::{self, ReasonCode, RefundDestination, RefundRequest};
use pos_core::stock::{
    self, Batch, CountedItem, MovementReason, StockLevels, StockMovement, count_variances,
    post_count,
};
use pos_core::tender::TenderKind;
use time::macros::date;

fn movement(
    id: &str,
    store: &str,
    batch: Option<&str>,
    quantity: i64,
    reason: MovementReason,
) -> StockMovement {
    StockMovement {
        id: MovementId::new(id),
        product: ProductId::new("yoghurt"),
        store: StoreId::new(store),
        batch: batch.map(BatchId::new),
        quantity: Quantity::pieces(quantity),
        reason,
        at: Timestamp::from_unix_ms(0),
        by: UserId::new("marc"),
    }
}

fn batch(id: &str, expiry: Option<time::Date>) -> Batch {
    Batch {
        id: BatchId::new(id),
        product: ProductId::new("yoghurt"),
        lot: id.to_uppercase(),
        expiry,
    }
}

fn received(reference: &str) -> MovementReason {
    MovementReason::GoodsReceipt {
        reference: Some(reference.into()),
    }
}

#[test]
fn first_expiry_is_sold_first_and_undated_stock_last() {
    let in_stock = vec![
        (
            batch("late", Some(date!(2026 - 03 - 20))),
            Quantity::pieces(5),
        ),
        (batch("undated", None), Quantity::pieces(10)),
        (
            batch("early", Some(date!(2026 - 03 - 05))),
            Quantity::pieces(5),
        ),
        (batch("empty", Some(date!(2026 - 03 - 01))), Quantity::ZERO),
    ];
    let picks = stock::pick_first_expiry(&in_stock, Quantity::pieces(12));
    let picks: Vec<(Option<&str>, Quantity)> = picks
        .iter()
        .map(|(b, q)| (b.as_ref().map(BatchId::as_str), *q))
        .collect();
    assert_eq!(
        picks,
        vec![
            (Some("early"), Quantity::pieces(5)),
            (Some("late"), Quantity::pieces(5)),
            (Some("undated"), Quantity::pieces(2)),
        ]
    );
}

#[test]
fn a_sale_beyond_the_batches_on_record_is_not_refused() {
    let in_stock = vec![(
        batch("only", Some(date!(2026 - 03 - 05))),
        Quantity::pieces(2),
    )];
    let picks = stock::pick_first_expiry(&in_stock, Quantity::pieces(3));
    assert_eq!(
        picks,
        vec![
            (Some(BatchId::new("only")), Quantity::pieces(2)),
            (None, Quantity::pieces(1)),
        ]
    );
}

#[test]
fn a_transfer_moves_stock_between_stores_and_creates_none() {
    let transfer = TransferId::new("t-1");
    let movements = [
        movement("m1", "north", None, 40, received("PO-7")),
        movement(
            "m2",
            "north",
            None,
            -15,
            MovementReason::TransferOut(transfer.clone()),
        ),
        movement(
            "m3",
            "south",
            None,
            15,
            MovementReason::TransferIn(transfer),
        ),
    ];
    let levels = StockLevels::from_movements(&movements);
    let yoghurt = ProductId::new("yoghurt");
    assert_eq!(
        levels.level(&StoreId::new("north"), &yoghurt),
        Quantity::pieces(25)
    );
    assert_eq!(
        levels.level(&StoreId::new("south"), &yoghurt),
        Quantity::pieces(15)
    );
}

#[test]
fn a_partial_count_reports_variances_and_posting_makes_the_books_match() {
    let store = StoreId::new("north");
    let yoghurt = ProductId::new("yoghurt");
    let mut movements = vec![
        movement("m1", "north", Some("b1"), 12, received("PO-7")),
        movement("m2", "north", Some("b2"), 8, received("PO-8")),
        movement(
            "m3",
            "north",
            Some("b1"),
            -2,
            MovementReason::Adjustment {
                reason: "broken".into(),
            },
        ),
    ];
    let levels = StockLevels::from_movements(&movements);
    let counted = [
        CountedItem {
            product: yoghurt.clone(),
            batch: Some(BatchId::new("b1")),
            counted: Quantity::pieces(9),
        },
        CountedItem {
            product: yoghurt.clone(),
            batch: Some(BatchId::new("b2")),
            counted: Quantity::pieces(8),
        },
    ];
    let variances = count_variances(&levels, &store, &counted);
    assert_eq!(variances[0].expected, Quantity::pieces(10));
    assert_eq!(variances[0].difference, Quantity::pieces(-1));
    assert!(variances[1].difference.is_zero());

    let mut ids = (100..).map(|n| MovementId::new(format!("m{n}")));
    let corrections = post_count(
        &variances,
        &store,
        &UserId::new("marc"),
        Timestamp::from_unix_ms(5),
        || ids.next().unwrap(),
    );
    // Only the batch that differs gets a correction, and it is recorded as one.
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0].reason, MovementReason::CountCorrection);
    movements.extend(corrections);
    let levels = StockLevels::from_movements(&movements);
    assert_eq!(
        levels.batch_level(&store, &yoghurt, &BatchId::new("b1")),
        Quantity::pieces(9)
    );
    assert_eq!(levels.level(&store, &yoghurt), Quantity::pieces(17));
}

#[test]
fn low_stock_is_at_or_below_the_threshold_and_needs_one() {
    let five = Some(Quantity::pieces(5));
    assert!(stock::is_low(Quantity::pieces(5), five));
    assert!(stock::is_low(Quantity::pieces(-1), five));
    assert!(!stock::is_low(Quantity::pieces(6), five));
    assert!(!stock::is_low(Quantity::ZERO, None));
}

#[test]
fn reorder_covers_lead_time_and_cover_days_from_recent_sales() {
    // 14 sold in 7 days is 2 a day; 2 days' lead and 5 days' cover need 14 on top of the
    // threshold of 5, and 3 are on the shelf.
    let order = stock::reorder_quantity(
        Quantity::pieces(3),
        Quantity::pieces(5),
        Quantity::pieces(14),
        7,
        2,
        5,
    );
    assert_eq!(order, Quantity::pieces(16));
    // Well stocked: nothing to order, never a negative order.
    let order = stock::reorder_quantity(
        Quantity::pieces(80),
        Quantity::pieces(5),
        Quantity::pieces(14),
        7,
        2,
        5,
    );
    assert_eq!(order, Quantity::ZERO);
}

#[test]
fn expiring_lists_expired_and_soon_expiring_batches_with_stock_soonest_first() {
    let batches = vec![
        (
            batch("next-week", Some(date!(2026 - 03 - 09))),
            Quantity::pieces(4),
        ),
        (
            batch("expired", Some(date!(2026 - 02 - 27))),
            Quantity::pieces(1),
        ),
        (
            batch("sold-out", Some(date!(2026 - 03 - 03))),
            Quantity::ZERO,
        ),
        (
            batch("next-month", Some(date!(2026 - 04 - 02))),
            Quantity::pieces(9),
        ),
        (batch("undated", None), Quantity::pieces(9)),
    ];
    let soon = stock::expiring(&batches, date!(2026 - 03 - 02), 7);
    let ids: Vec<&str> = soon.iter().map(|(b, _)| b.id.as_str()).collect();
    assert_eq!(ids, ["expired", "next-week"]);
}

#[test]
fn returned_goods_go_back_on_the_shelf_unless_damaged() {
    let mut till = Till::new();
    let mut cart = till.cart();
    let coffee = till.catalog.get(&ProductId::new("coffee")).unwrap().clone();
    let line = cart.add(&coffee, Quantity::pieces(2)).unwrap();
    let sale = till.sell(&cart, |payment| {
        let due = payment.remaining();
        payment.add_electronic(TenderKind::Card, due, None).unwrap();
    });
    let mut refunds = Vec::new();
    for reason in [
        ReasonCode::new("changed_mind", "Changed mind", true),
        ReasonCode::new("damaged", "Damaged", false),
    ] {
        let request = RefundRequest {
            lines: vec![(line, Quantity::ONE)],
            reason,
            destination: RefundDestination::OriginalTenders,
        };
        let context = till.refund_context();
        refunds.push(
            refund::refund(
                &sale,
                &refunds,
                &request,
                &till.manager_authority(),
                None,
                context,
            )
            .unwrap(),
        );
    }
    let mut ids = (0..).map(|n| MovementId::new(format!("r{n}")));
    let back_on_shelf = stock::movements_for_refund(&refunds[0], || ids.next().unwrap());
    let damaged = stock::movements_for_refund(&refunds[1], || ids.next().unwrap());
    assert_eq!(back_on_shelf.len(), 1);
    assert_eq!(back_on_shelf[0].quantity, Quantity::ONE);
    assert!(damaged.is_empty(), "a damaged return must not be restocked");
}
