//! Purchase orders and transfers driven through the back office's screen (taps and typed
//! fields on Slint's testing backend) over the same encrypted store as a real till: orders are
//! made from the reorder report in one step, one is sent and received in part with a lot and
//! expiry, the stock and the expiring list follow, more than ordered needs confirming, a
//! cancelled order takes nothing, and the order is exported for the vendor; a transfer of
//! several products is requested line by line from a store picked by name and cancelled,
//! another store's request is refused with a reason or sent; goods that arrive damaged are
//! partly sent back with a reason and the sending store books the return in; a request to no
//! store and a person without the permissions are refused with a message and change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use pos_core::access::Grant;
use pos_core::event::DomainEvent;
use pos_core::id::{EventId, ProductId, StoreId, TransferId, UserId};
use pos_core::purchase::OrderState;
use pos_core::quantity::Quantity;
use pos_core::transfer::{Arrival, SentLot, Transfer, TransferState};
use pos_store::Store;
use pos_sync::hlc::HlcTime;
use pos_sync::wire::{Change, ChangeBody, TenantStore};
use pos_ui::{Orders, Stock};
use slint::{ComponentHandle, Model};
use support::{BUTTER, COLA, Desk, MILK, MONDAY_10AM, OnScreen, monday, shop_id};

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

/// The fleet has sent the tenant's stores down: this one, Altona and Ottensen.
fn tenant_has_three_stores(store: &mut Store) {
    let listed = |seq: u64, id: &str, name: &str| Change {
        server_seq: seq,
        hlc: HlcTime::new(MONDAY_10AM, 0),
        body: ChangeBody::TenantStore {
            store: TenantStore {
                id: StoreId::new(id),
                name: name.to_owned(),
            },
        },
    };
    store
        .apply_pulled(
            &[
                listed(1, shop_id().as_str(), "Acme Mitte"),
                listed(2, "str-altona", "Acme Altona"),
                listed(3, "str-ottensen", "Acme Ottensen"),
            ],
            3,
            monday(),
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
    let office = start(dir.path(), tenant_has_three_stores);
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

    // The other stores are offered by name, this one left out; a request to none is refused
    // and records nothing.
    assert!(office.shows("Ask store Acme Altona") && office.shows("Ask store Acme Ottensen"));
    assert!(!office.shows("Ask store Acme Mitte"));
    office.tap("Request transfer");
    assert_eq!(office.message(), "choose the store to ask for the goods");
    assert_eq!(office.journal_head(), before);

    office.tap("Ask store Acme Altona");
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
    // The list and the open transfer name the store, not its id.
    let row = office
        .window
        .global::<Orders>()
        .get_transfers()
        .row_data(0)
        .unwrap();
    assert_eq!(row.other, "Acme Altona");
    assert_eq!(
        office.window.global::<Orders>().get_transfer_route(),
        "Acme Altona → Acme Mitte"
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
        tenant_has_three_stores(store);
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
    office.tap("Ask store Acme Altona");
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

/// Another store's transfer step as the fleet passes it on.
fn pulled_step(store: &mut Store, seq: u64, body: ChangeBody) {
    store
        .apply_pulled(
            &[Change {
                server_seq: seq,
                hlc: HlcTime::new(MONDAY_10AM, 0),
                body,
            }],
            seq,
            monday(),
        )
        .unwrap();
}

#[test]
fn damaged_goods_are_sent_back_with_a_reason_and_the_sending_store_books_the_return_in() {
    let dir = tempfile::tempdir().unwrap();
    let altona = StoreId::new("str-altona");
    let office = start(dir.path(), |store| {
        tenant_has_three_stores(store);
        // Altona sent ten milk this store asked for.
        let milk = store.product(&ProductId::new("milk")).unwrap().unwrap();
        let mut arriving = Transfer::request(
            TransferId::new("tr-in"),
            altona.clone(),
            shop_id(),
            &[(milk, Quantity::pieces(10))],
            monday(),
            UserId::new("marc"),
        )
        .unwrap();
        let lots = vec![SentLot {
            batch: None,
            quantity: Quantity::pieces(10),
        }];
        arriving
            .send(&altona, vec![(ProductId::new("milk"), lots)], monday())
            .unwrap();
        pulled_step(
            store,
            4,
            ChangeBody::Transfer {
                event_id: EventId::new("ev-sent"),
                transfer: arriving,
            },
        );
        altona_asks_for_milk(store, "tr-out", 5);
    });
    office.sign_in("Marc", "9999");
    open_transfers(&office);
    let (before, milk_before) = (office.journal_head(), office.level("milk"));

    // Three arrive crushed: sent back, but not without saying why.
    office.tap("Open transfer tr-in");
    office.type_into("Sent back", "3");
    office.tap("Receive transfer");
    assert_eq!(
        office.message(),
        "say why Whole milk 1 L is refused, so the sending store knows (for example: damaged, wrong goods)"
    );
    office.type_into("Sent back", "11");
    office.type_into("Why sent back", "crushed boxes");
    office.tap("Receive transfer");
    assert_eq!(
        office.message(),
        "only 10 of Whole milk 1 L were sent, so no more than that can be refused, not 11"
    );
    assert_eq!(office.journal_head(), before, "nothing was recorded");
    office.type_into("Sent back", "3");
    office.tap("Receive transfer");
    assert_eq!(
        office.message(),
        "transfer tr-in received, the rest sent back"
    );
    // The seven taken in are on the shelf; the three sent back never were.
    assert_eq!(office.level("milk"), milk_before + Quantity::pieces(7));
    assert_eq!(
        office.kinds_since(before),
        ["transfer_return_sent", "stock_moved"]
    );
    let received = office
        .store()
        .transfer(&TransferId::new("tr-in"))
        .unwrap()
        .unwrap();
    assert_eq!(received.state, TransferState::ReturnSent);
    assert_eq!(received.lines[0].received, Some(Quantity::pieces(7)));
    assert_eq!(received.lines[0].refused, Some(Quantity::pieces(3)));
    assert_eq!(
        office.window.global::<Orders>().get_transfer_note(),
        "Sent back: 3 × Whole milk 1 L (crushed boxes). The sending store books them in when they arrive."
    );
    assert!(!office.shows("Receive transfer") && !office.shows("Book return in"));

    // This store sends Altona five; Altona sends two back in the wrong size.
    office.tap("Close transfer");
    office.tap("Open transfer tr-out");
    office.tap("Send transfer");
    let after_sending = office.level("milk");
    let mut returned = office
        .store()
        .transfer(&TransferId::new("tr-out"))
        .unwrap()
        .unwrap();
    returned
        .receive_with_returns(
            &altona,
            &[Arrival {
                product: ProductId::new("milk"),
                accepted: Quantity::pieces(3),
                refused: Quantity::pieces(2),
                reason: "wrong size".to_owned(),
            }],
            monday(),
        )
        .unwrap();
    pulled_step(
        &mut office.till.store.borrow_mut(),
        5,
        ChangeBody::TransferReturn {
            event_id: EventId::new("ev-return"),
            transfer: returned,
        },
    );
    office.tap("Close transfer");
    office.tap("Open transfer tr-out");
    assert_eq!(
        office.window.global::<Orders>().get_transfer_note(),
        "Sent back: 2 × Whole milk 1 L (wrong size). Book them in when they arrive."
    );
    // One of the two came back: it goes back on the shelf, the other is kept as missing.
    let head = office.journal_head();
    office.type_into("Came back", "1");
    office.tap("Book return in");
    assert_eq!(office.message(), "transfer tr-out return booked in");
    assert_eq!(office.level("milk"), after_sending + Quantity::pieces(1));
    assert_eq!(
        office.kinds_since(head),
        ["transfer_return_received", "stock_moved"]
    );
    let booked = office
        .store()
        .transfer(&TransferId::new("tr-out"))
        .unwrap()
        .unwrap();
    assert_eq!(booked.state, TransferState::ReturnReceived);
    assert_eq!(
        booked.lines[0].return_difference(),
        Some(Quantity::pieces(-1))
    );
    let row = office
        .window
        .global::<Orders>()
        .get_transfer_lines()
        .row_data(0)
        .unwrap();
    assert_eq!(row.refused, "2 (1 back)");
    assert!(!office.shows("Book return in"));
}
