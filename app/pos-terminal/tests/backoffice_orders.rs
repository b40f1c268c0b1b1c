//! Purchase orders and transfers driven through the back office's screen (taps and typed
//! fields on Slint's testing backend) over the same encrypted store as a real till: orders are
//! made from the reorder report in one step, one is sent and received in part with a lot and
//! expiry, the stock and the expiring list follow, more than ordered needs confirming, a
//! cancelled order takes nothing, and the order is exported for the vendor; a transfer of
//! several products is requested line by line and cancelled, another store's request is
//! refused with a reason or sent; a mistyped store id and a person without the permissions are
//! refused with a message and change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use pos_core::access::Grant;
use pos_core::event::DomainEvent;
use pos_core::id::{ProductId, StoreId, TransferId, UserId};
use pos_core::purchase::OrderState;
use pos_core::quantity::Quantity;
use pos_core::transfer::{Transfer, TransferState};
use pos_store::Store;
use pos_ui::{Orders, Stock};
use slint::{ComponentHandle, Model};
use support::{BUTTER, COLA, Desk, MILK, OnScreen, monday, shop_id};

/// The demo shop with the back office at its sign-in, `setup` done to the store first, in a
/// window tall enough that every line of an order is on screen.
fn start(dir: &Path, setup: impl FnOnce(&mut Store)) -> Desk {
    let desk = Desk::open(dir, setup);
    desk.tall(2400);
    desk
}

/// Milk is made to run low: its threshold raised over its stock.
fn milk_runs_low(store: &mut Store) {
    let mut milk = store.product(&ProductId::new("milk")).unwrap().unwrap();
    milk.low_stock_threshold = Some(Quantity::pieces(1_000));
    store
        .record(
            &UserId::new("marc"),
            monday(),
            &[DomainEvent::ProductSaved(milk)],
        )
        .unwrap();
}

#[test]
fn an_order_from_the_reorder_report_is_received_in_part_with_a_lot_that_then_expires() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path(), milk_runs_low);
    office.sign_in("Marc", "9999");
    let before = office.level("milk");
    office.tap("Stock");
    office.tap("Orders");
    office.tap("Order from reorder report");
    assert!(
        office
            .message()
            .contains("draft orders made from the reorder report")
            || office.message().contains("draft order made"),
        "{}",
        office.message()
    );
    // One order per vendor: milk's is the dairy's, for what the report says to order.
    let orders = office.store().purchase_orders(&shop_id(), 50).unwrap();
    let vendors: Vec<_> = orders.iter().map(|o| o.vendor.clone()).collect();
    let mut unique = vendors.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), vendors.len(), "one order per vendor");
    let order = orders
        .iter()
        .find(|o| o.lines.iter().any(|l| l.product.as_str() == "milk"))
        .expect("milk is on an order")
        .clone();
    assert_eq!(order.vendor.as_ref().unwrap().as_str(), "alpenhof");
    assert_eq!(order.state, OrderState::Draft);
    let milk_line = order
        .lines
        .iter()
        .position(|l| l.product.as_str() == "milk")
        .unwrap();
    let ordered = order.lines[milk_line].ordered;
    assert!(ordered >= Quantity::pieces(1_000) - before, "{ordered}");

    office.tap(&format!("Open order {}", order.id));
    // A draft cannot be received yet: it goes to the vendor first.
    assert!(!office.shows("Book delivery"));
    office.tap("Send to vendor");
    assert_eq!(
        office.message(),
        format!("order {} sent to the vendor", order.id)
    );

    // Ten come, with a lot that is best before Friday.
    office.type_nth("Delivered", milk_line, "10");
    office.type_nth("Lot", milk_line, "L-0901");
    office.type_nth("Best before", milk_line, "06.03.2026");
    office.type_into("Delivery note", "LS-4711");
    office.tap("Book delivery");
    let message = office.message();
    assert!(
        message.starts_with("delivery booked against order"),
        "{message}"
    );
    assert!(message.contains("still to come"), "{message}");
    assert_eq!(office.level("milk"), before + Quantity::pieces(10));
    let stored = office.store().purchase_order(&order.id).unwrap().unwrap();
    assert_eq!(stored.state, OrderState::PartlyReceived);
    assert_eq!(stored.lines[milk_line].received, Quantity::pieces(10));
    let short: String = office
        .window
        .global::<Orders>()
        .get_lines()
        .row_data(milk_line)
        .unwrap()
        .short
        .into();
    assert_eq!(short, (ordered - Quantity::pieces(10)).to_string());

    // The lot and its expiry are in the journal, with the receipt.
    let received = office
        .store()
        .journal_events_since("goods_received", monday().minus_days(1))
        .unwrap();
    assert_eq!(received.len(), 1);
    match received[0].event().unwrap() {
        DomainEvent::GoodsReceived(receipt) => {
            assert_eq!(receipt.order.as_ref(), Some(&order.id));
            assert_eq!(receipt.reference.as_deref(), Some("LS-4711"));
            let batch = receipt.lines[0].batch.as_ref().unwrap();
            assert_eq!(batch.lot, "L-0901");
            assert_eq!(batch.expiry.unwrap().to_string(), "2026-03-06");
        }
        other => panic!("expected a goods receipt, got {other:?}"),
    }

    // More than ordered is refused until confirmed, and changes nothing.
    let far_too_many = (ordered + Quantity::pieces(5)).to_string();
    office.type_nth("Delivered", milk_line, &far_too_many);
    office.tap("Book delivery");
    assert!(
        office.message().contains("Confirm the over-delivery"),
        "{}",
        office.message()
    );
    assert_eq!(office.level("milk"), before + Quantity::pieces(10));

    // A negative quantity is refused.
    office.type_nth("Delivered", milk_line, "-3");
    office.tap("Book delivery");
    assert!(
        office.message().contains("below zero"),
        "{}",
        office.message()
    );
    assert_eq!(office.level("milk"), before + Quantity::pieces(10));

    // The order exported for the vendor.
    let stick = tempfile::tempdir().unwrap();
    office
        .window
        .global::<Orders>()
        .set_folder(stick.path().display().to_string().into());
    office.tap("Export order as CSV");
    let csv = std::fs::read_to_string(
        stick
            .path()
            .join(format!("purchase-order-{}.csv", order.id)),
    )
    .unwrap();
    assert!(csv.contains("Whole milk 1 L"), "{csv}");

    // The new lot shows among the batches expiring this week.
    office.tap("Stock");
    office.tap("Expiring");
    office.type_into("Within days", "7");
    office.tap("Show");
    let expiring = office.window.global::<Stock>().get_expiring();
    let row = expiring
        .iter()
        .find(|r| r.lot == "L-0901")
        .expect("the delivered lot is in the expiring list");
    assert_eq!(row.level, "10");
    assert_eq!(row.expiry, "2026-03-06");

    // Cancelled, the rest is no longer expected and nothing more can come in against it.
    office.tap("Orders");
    office.tap(&format!("Open order {}", order.id));
    office.tap("Cancel order");
    assert_eq!(office.message(), format!("order {} cancelled", order.id));
    assert!(!office.shows("Book delivery"));
    assert_eq!(
        office
            .store()
            .purchase_order(&order.id)
            .unwrap()
            .unwrap()
            .state,
        OrderState::Cancelled
    );
}

/// Another store (`str-altona`) asks this one for `quantity` milk; the fleet has passed the
/// request on.
fn altona_asks_for_milk(store: &mut Store, id: &str, quantity: i64) {
    let milk = store.product(&ProductId::new("milk")).unwrap().unwrap();
    let request = Transfer::request(
        TransferId::new(id),
        shop_id(),
        StoreId::new("str-altona"),
        &[(milk, Quantity::pieces(quantity))],
        monday(),
        UserId::new("ole"),
    )
    .unwrap();
    store
        .record(
            &UserId::new("ole"),
            monday(),
            &[DomainEvent::TransferRequested(request)],
        )
        .unwrap();
}

fn open_transfers(office: &Desk) {
    office.tap("Stock");
    office.tap("Orders");
    office.tap("Transfers");
}

#[test]
fn a_transfer_of_several_products_is_requested_line_by_line_and_cancelled_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path(), |_| {});
    office.sign_in("Marc", "9999");
    open_transfers(&office);
    let before = office.journal_head();
    for (code, quantity) in [(MILK, "6"), (BUTTER, "4"), (MILK, "2"), (COLA, "1")] {
        office.type_into("Product to transfer", code);
        office.type_into("Quantity to transfer", quantity);
        office.tap("Add line");
    }
    assert_eq!(office.message(), "1 × Cola 0.5 L added to the request");
    office.tap("Remove line Cola 0.5 L");
    let draft: Vec<(String, String)> = office
        .window
        .global::<Orders>()
        .get_transfer_draft()
        .iter()
        .map(|row| (row.name.to_string(), row.quantity.to_string()))
        .collect();
    assert_eq!(
        draft,
        [
            ("Whole milk 1 L".to_owned(), "8".to_owned()),
            ("Butter 250 g".to_owned(), "4".to_owned()),
        ]
    );
    // Lines that cannot be asked for are refused as they are typed.
    office.type_into("Product to transfer", MILK);
    office.type_into("Quantity to transfer", "0");
    office.tap("Add line");
    assert_eq!(
        office.message(),
        "the quantity of Whole milk 1 L must be more than zero, not 0"
    );

    // A mistyped store id, and this store itself, are refused; nothing is recorded.
    office.type_into("Ask store", "alt ona");
    office.tap("Request transfer");
    assert_eq!(
        office.message(),
        "“alt ona” is not a store id: type the other store's id as the fleet shows it, letters, digits and dashes only (for example str-4f2a9c01d3e5b677)"
    );
    office.type_into("Ask store", "berlin-mitte");
    office.tap("Request transfer");
    assert_eq!(
        office.message(),
        "a store cannot transfer goods to itself (berlin-mitte); choose another store"
    );
    assert_eq!(office.journal_head(), before);

    office.type_into("Ask store", " str-altona ");
    office.tap("Request transfer");
    let transfers = office.store().transfers(&shop_id(), 10).unwrap();
    assert_eq!(transfers.len(), 1);
    let transfer = transfers[0].clone();
    assert_eq!(
        office.message(),
        format!("transfer {} requested", transfer.id)
    );
    assert_eq!(
        (transfer.from.as_str(), transfer.to.as_str()),
        ("str-altona", "berlin-mitte")
    );
    let lines: Vec<(&str, Quantity)> = transfer
        .lines
        .iter()
        .map(|l| (l.product.as_str(), l.requested))
        .collect();
    assert_eq!(
        lines,
        [
            ("milk", Quantity::pieces(8)),
            ("butter", Quantity::pieces(4))
        ]
    );
    assert_eq!(
        office
            .window
            .global::<Orders>()
            .get_transfer_draft()
            .row_count(),
        0,
        "the next request starts empty"
    );
    // Only the other store can send or refuse it; this one may withdraw it.
    assert!(!office.shows("Send transfer") && !office.shows("Refuse transfer"));
    let milk_before = office.level("milk");
    office.tap("Cancel request");
    assert_eq!(
        office.message(),
        format!("transfer {} cancelled", transfer.id)
    );
    assert!(!office.shows("Cancel request"));
    let kept = office.store().transfer(&transfer.id).unwrap().unwrap();
    assert_eq!(kept.state, TransferState::Cancelled);
    assert_eq!(
        office.kinds_since(before),
        ["transfer_requested", "transfer_cancelled"]
    );
    assert_eq!(office.level("milk"), milk_before);
}

#[test]
fn another_stores_request_is_refused_with_a_reason_or_sent_from_the_shelf() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path(), |store| {
        altona_asks_for_milk(store, "tr-altona-1", 12);
        altona_asks_for_milk(store, "tr-altona-2", 3);
    });
    office.sign_in("Marc", "9999");
    open_transfers(&office);
    let (before, milk_before) = (office.journal_head(), office.level("milk"));

    office.tap("Open transfer tr-altona-1");
    // The store that asked may cancel; this one sends or refuses.
    assert!(!office.shows("Cancel request"));
    office.tap("Refuse transfer");
    assert_eq!(
        office.message(),
        "say why the transfer is refused, so the other store knows (for example: not in stock)"
    );
    assert_eq!(office.journal_head(), before);
    office.type_into("Reason for refusing", "not in stock until Friday");
    office.tap("Refuse transfer");
    assert_eq!(office.message(), "transfer tr-altona-1 refused");
    assert_eq!(
        office.window.global::<Orders>().get_transfer_note(),
        "Refused: not in stock until Friday"
    );
    assert!(!office.shows("Send transfer") && !office.shows("Refuse transfer"));
    let refused = office
        .store()
        .transfer(&TransferId::new("tr-altona-1"))
        .unwrap()
        .unwrap();
    assert_eq!(refused.state, TransferState::Refused);
    assert_eq!(refused.reason.as_deref(), Some("not in stock until Friday"));
    assert_eq!(office.kinds_since(before), ["transfer_refused"]);
    assert_eq!(office.level("milk"), milk_before, "nothing left the shelf");

    // The other request is sent: its milk leaves this store's stock.
    office.tap("Close transfer");
    office.tap("Open transfer tr-altona-2");
    office.tap("Send transfer");
    assert_eq!(office.message(), "transfer tr-altona-2 sent");
    assert_eq!(office.level("milk"), milk_before - Quantity::pieces(3));
    assert_eq!(
        office.kinds_since(before)[1..],
        ["transfer_sent", "stock_moved"]
    );
}

#[test]
fn a_cashier_without_the_order_and_transfer_permissions_cannot_make_or_send_one_and_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path(), |store| {
        milk_runs_low(store);
        altona_asks_for_milk(store, "tr-altona-1", 12);
        // Anna's role lets her look at stock, nothing more in the back office.
        let mut cashier = store
            .roles()
            .unwrap()
            .into_iter()
            .find(|r| r.id.as_str() == "cashier")
            .unwrap();
        cashier.grants.push(Grant::new("inventory.view"));
        store.save_role(&cashier).unwrap();
    });
    office.sign_in("Anna", "1234");
    assert_eq!(office.message(), "", "Anna may look at stock");
    let (before, milk_before) = (office.journal_head(), office.level("milk"));
    office.tap("Stock");
    office.tap("Orders");
    office.tap("Order from reorder report");
    assert_eq!(
        office.message(),
        "Anna (Cashier) may not do this: it needs the permission “inventory.orders”. Ask the owner to add it to the role."
    );
    office.type_into("Product to order", MILK);
    office.type_into("Quantity to order", "6");
    office.tap("Add to order");
    assert!(
        office.message().contains("“inventory.orders”"),
        "{}",
        office.message()
    );

    office.tap("Transfers");
    office.type_into("Ask store", "str-altona");
    office.type_into("Product to transfer", MILK);
    office.type_into("Quantity to transfer", "6");
    office.tap("Add line");
    let refusal = "Anna (Cashier) may not do this: it needs the permission “inventory.transfer”. Ask the owner to add it to the role.";
    assert_eq!(office.message(), refusal);
    assert_eq!(
        office
            .window
            .global::<Orders>()
            .get_transfer_draft()
            .row_count(),
        0
    );
    // She sees the other store's request, but cannot send it.
    office.tap("Open transfer tr-altona-1");
    office.tap("Send transfer");
    assert_eq!(office.message(), refusal);
    office.type_into("Reason for refusing", "no time");
    office.tap("Refuse transfer");
    assert_eq!(office.message(), refusal);

    assert_eq!(office.journal_head(), before, "nothing was recorded");
    assert_eq!(office.level("milk"), milk_before);
    assert!(
        office
            .store()
            .purchase_orders(&shop_id(), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        office
            .store()
            .transfer(&TransferId::new("tr-altona-1"))
            .unwrap()
            .unwrap()
            .state,
        TransferState::Requested
    );
}
