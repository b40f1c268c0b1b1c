//! A transfer of stock between two stores of one tenant, end to end through a real fleet on
//! loopback: the receiving store's till requests goods, the fleet passes the request to the
//! sending store's till, which sends them by lot (its stock goes out), the fleet passes that
//! on, and the receiving till takes them in with one missing (its stock comes in, in the same
//! lot with its expiry, and the difference stays on the transfer). The fleet's stock per
//! store is the sum of both sides' movements. Goods that arrive damaged are partly sent back
//! from the receiving store's back office; the sending store's back office books in what came
//! back, and both stores' stock, the record and the journal say what happened and who did it.
//!
//! Each test runs on an SQLite fleet and, when `POS_FLEET_POSTGRES_URL` names a database, on a
//! PostgreSQL one (`NAME::sqlite`, `NAME::postgres`): the routing lives in each backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use std::time::Duration;

use pos_core::event::DomainEvent;
use pos_core::id::{BatchId, GoodsReceiptId, MovementId, ProductId, StoreId, TransferId, UserId};
use pos_core::purchase::{GoodsReceipt, ReceivedLine};
use pos_core::quantity::Quantity;
use pos_core::stock::{Batch, pick_first_expiry};
use pos_core::transfer::{SentLot, Transfer, TransferState};
use pos_store::sample::product;
use support::{Backend, Fleet, Terminal, back_office, now, quick_settings, set_up_till};

backend_tests!(
    stock_requested_by_one_store_leaves_the_other_and_arrives_by_lot,
    a_transfer_naming_a_store_the_tenant_does_not_have_goes_nowhere_and_is_flagged,
    goods_refused_on_arrival_travel_back_and_the_sending_store_books_them_in,
);

const LIMIT: Duration = Duration::from_secs(30);

/// Waits until `done`, at most [`LIMIT`].
fn wait_until(what: &str, done: impl FnMut() -> bool) {
    support::eventually(LIMIT, what, done);
}

/// A supplier's delivery of 20 of `product` to `store`, in `lot` if given, taken in by `by`:
/// the goods receipt and its stock movements, journalled on `till`.
fn deliver_twenty(
    till: &mut Terminal,
    store: &StoreId,
    product: &ProductId,
    lot: Option<Batch>,
    reference: Option<&str>,
    by: &str,
) {
    let receipt = GoodsReceipt {
        id: GoodsReceiptId::new("gr-1"),
        store: store.clone(),
        order: None,
        reference: reference.map(str::to_owned),
        lines: vec![ReceivedLine {
            product: product.clone(),
            quantity: Quantity::pieces(20),
            batch: lot,
            movement: MovementId::new("mv-in-1"),
        }],
        at: now(),
        by: UserId::new(by),
    };
    let mut events = vec![DomainEvent::GoodsReceived(receipt.clone())];
    events.extend(receipt.movements().into_iter().map(DomainEvent::StockMoved));
    till.store.record(&UserId::new(by), now(), &events).unwrap();
}

fn stock_requested_by_one_store_leaves_the_other_and_arrives_by_lot(backend: Backend) {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start_on(fleet_dir.path(), &backend);
    let (tenant, mitte) = fleet.tenant("Acme");
    let altona = fleet.add_store(&tenant, "Acme Altona");
    let coffee = product(1);
    fleet.save_product(&tenant, &coffee);

    let mut sender = Terminal::open("T-MITTE", &mitte);
    let mut receiver = Terminal::open("T-ALTONA", &altona);
    let started = now();
    sender.start_sync(quick_settings(
        &fleet.base(),
        "Mitte 1",
        Some(fleet.enrolment_code(&mitte)),
    ));
    receiver.start_sync(quick_settings(
        &fleet.base(),
        "Altona 1",
        Some(fleet.enrolment_code(&altona)),
    ));
    sender.wait_caught_up(LIMIT, started);
    receiver.wait_caught_up(LIMIT, started);
    let mitte_id = StoreId::new(mitte.as_str());
    let altona_id = StoreId::new(altona.as_str());

    // Mitte has 20 in one lot with an expiry date.
    let lot = Batch {
        id: BatchId::new("lot-a"),
        product: coffee.id.clone(),
        lot: "C-2207".to_owned(),
        expiry: Some(time::macros::date!(2027 - 01 - 31)),
    };
    deliver_twenty(
        &mut sender,
        &mitte_id,
        &coffee.id,
        Some(lot.clone()),
        Some("LS-1"),
        "mia",
    );

    // Altona asks Mitte for 5; the request reaches Mitte's till.
    let id = TransferId::new("tr-1");
    let request = Transfer::request(
        id.clone(),
        mitte_id.clone(),
        altona_id.clone(),
        &[(coffee.clone(), Quantity::pieces(5))],
        now(),
        UserId::new("tom"),
    )
    .unwrap();
    receiver
        .store
        .record(
            &UserId::new("tom"),
            now(),
            &[DomainEvent::TransferRequested(request)],
        )
        .unwrap();
    wait_until("the request reaching the sending store", || {
        sender.store.transfer(&id).unwrap().is_some()
    });

    // Mitte sends them from its lot: its stock goes out.
    let mut transfer = sender.store.transfer(&id).unwrap().unwrap();
    let in_stock: Vec<(Batch, Quantity)> = sender
        .store
        .stock_by_batch(&mitte_id, &coffee.id)
        .unwrap()
        .into_iter()
        .filter_map(|level| level.batch.map(|b| (b, level.level)))
        .collect();
    let lots: Vec<SentLot> = pick_first_expiry(&in_stock, Quantity::pieces(5))
        .into_iter()
        .map(|(batch, quantity)| SentLot {
            batch: batch.map(|b| in_stock.iter().find(|(x, _)| x.id == b).unwrap().0.clone()),
            quantity,
        })
        .collect();
    assert_eq!(lots[0].batch.as_ref().unwrap().lot, "C-2207");
    transfer
        .send(&mitte_id, vec![(coffee.id.clone(), lots)], now())
        .unwrap();
    let mut n = 0;
    let out = transfer.out_movements(&UserId::new("mia"), || {
        n += 1;
        MovementId::new(format!("mv-out-{n}"))
    });
    let mut events = vec![DomainEvent::TransferSent(transfer.clone())];
    events.extend(out.into_iter().map(DomainEvent::StockMoved));
    sender
        .store
        .record(&UserId::new("mia"), now(), &events)
        .unwrap();
    assert_eq!(
        sender.store.stock_level(&mitte_id, &coffee.id).unwrap(),
        Quantity::pieces(15)
    );

    // Altona sees it sent, with the lot and its expiry, and counts 4 on arrival.
    wait_until("the sent transfer reaching the receiving store", || {
        receiver
            .store
            .transfer(&id)
            .unwrap()
            .is_some_and(|t| t.state == TransferState::Sent)
    });
    let mut arriving = receiver.store.transfer(&id).unwrap().unwrap();
    arriving
        .receive(
            &altona_id,
            &[(coffee.id.clone(), Quantity::pieces(4))],
            now(),
        )
        .unwrap();
    let into = arriving.in_movements(&UserId::new("tom"), || {
        n += 1;
        MovementId::new(format!("mv-in-t{n}"))
    });
    let mut events = vec![DomainEvent::TransferReceived(arriving.clone())];
    events.extend(into.into_iter().map(DomainEvent::StockMoved));
    receiver
        .store
        .record(&UserId::new("tom"), now(), &events)
        .unwrap();
    let levels = receiver
        .store
        .stock_by_batch(&altona_id, &coffee.id)
        .unwrap();
    assert_eq!(levels.len(), 1);
    let batch = levels[0]
        .batch
        .as_ref()
        .expect("the lot arrived with its record");
    assert_eq!(batch.lot, "C-2207");
    assert_eq!(batch.expiry, Some(time::macros::date!(2027 - 01 - 31)));
    assert_eq!(levels[0].level, Quantity::pieces(4));

    // Mitte learns the transfer arrived one short; the fleet counts each store's own stock.
    wait_until("the receipt reaching the sending store", || {
        sender
            .store
            .transfer(&id)
            .unwrap()
            .is_some_and(|t| t.state == TransferState::Received)
    });
    let done = sender.store.transfer(&id).unwrap().unwrap();
    assert_eq!(done.lines[0].difference(), Some(Quantity::pieces(-1)));
    let product_id = ProductId::new(coffee.id.as_str()).to_string();
    wait_until("the fleet's stock to count both sides", || {
        fleet.stock(&mitte) == vec![(product_id.clone(), "15".to_owned())]
            && fleet.stock(&altona) == vec![(product_id.clone(), "4".to_owned())]
    });
    sender.stop_sync();
    receiver.stop_sync();
}

fn a_transfer_naming_a_store_the_tenant_does_not_have_goes_nowhere_and_is_flagged(
    backend: Backend,
) {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start_on(fleet_dir.path(), &backend);
    let (tenant, mitte) = fleet.tenant("Acme");
    let (_, elsewhere) = fleet.tenant("Rival");
    let coffee = product(1);
    fleet.save_product(&tenant, &coffee);
    let mut till = Terminal::open("T-MITTE", &mitte);
    let started = now();
    till.start_sync(quick_settings(
        &fleet.base(),
        "Mitte 1",
        Some(fleet.enrolment_code(&mitte)),
    ));
    till.wait_caught_up(LIMIT, started);
    let request = Transfer::request(
        TransferId::new("tr-x"),
        StoreId::new(elsewhere.as_str()),
        StoreId::new(mitte.as_str()),
        &[(coffee, Quantity::pieces(1))],
        now(),
        UserId::new("tom"),
    )
    .unwrap();
    till.store
        .record(
            &UserId::new("tom"),
            now(),
            &[DomainEvent::TransferRequested(request)],
        )
        .unwrap();
    let after = now();
    till.wait_caught_up(LIMIT, after);
    let anomalies = fleet.ok(
        "GET",
        &format!("/api/v1/stores/{mitte}/anomalies"),
        &fleet.operator,
        None,
    );
    assert!(
        anomalies
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "transfer_unroutable"),
        "{anomalies}"
    );
    till.stop_sync();
}

fn goods_refused_on_arrival_travel_back_and_the_sending_store_books_them_in(backend: Backend) {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start_on(fleet_dir.path(), &backend);
    let (tenant, mitte) = fleet.tenant("Acme");
    let altona = fleet.add_store(&tenant, "Acme Altona");
    let coffee = product(1);
    fleet.save_product(&tenant, &coffee);
    let mut sender = set_up_till(&fleet, "T-MITTE", &tenant, &mitte, LIMIT);
    let mut receiver = set_up_till(&fleet, "T-ALTONA", &tenant, &altona, LIMIT);
    let (mitte_id, altona_id) = (StoreId::new(mitte.as_str()), StoreId::new(altona.as_str()));
    let mut at_mitte = back_office(&sender);
    let mut at_altona = back_office(&receiver);

    // Mitte has 20 on the shelf.
    deliver_twenty(&mut sender, &mitte_id, &coffee.id, None, None, "marc");

    // Altona asks Mitte, picked by name, for 10; Mitte sends them.
    let mitte_listed = at_altona.other_stores().unwrap();
    assert_eq!(mitte_listed[0].name, "Acme Mitte");
    let line = at_altona
        .transfer_line(&coffee.sku.to_string(), "10")
        .unwrap();
    let id = at_altona
        .request_transfer(Some(&mitte_listed[0].id), &[line])
        .unwrap()
        .id;
    wait_until("the request reaching Mitte", || {
        sender.store.transfer(&id).unwrap().is_some()
    });
    at_mitte.send_transfer(&id).unwrap();
    assert_eq!(
        sender.store.stock_level(&mitte_id, &coffee.id).unwrap(),
        Quantity::pieces(10)
    );

    // Three arrive crushed: Altona takes seven in and sends three back, saying why.
    wait_until("the goods reaching Altona", || {
        receiver
            .store
            .transfer(&id)
            .unwrap()
            .is_some_and(|t| t.state == TransferState::Sent)
    });
    let refused = at_altona
        .receive_transfer(
            &id,
            &[pos_backoffice::orders::ArrivalLine {
                product: coffee.id.clone(),
                accepted: String::new(),
                refused: "3".to_owned(),
                reason: "crushed boxes".to_owned(),
            }],
        )
        .unwrap();
    assert_eq!(refused.state, TransferState::ReturnSent);
    assert_eq!(
        receiver.store.stock_level(&altona_id, &coffee.id).unwrap(),
        Quantity::pieces(7)
    );

    // Mitte learns what is coming back and why; its stock gets it only once booked in.
    wait_until("the return reaching Mitte", || {
        sender
            .store
            .transfer(&id)
            .unwrap()
            .is_some_and(|t| t.state == TransferState::ReturnSent)
    });
    let coming = sender.store.transfer(&id).unwrap().unwrap();
    assert_eq!(
        coming.lines[0].refusal_reason.as_deref(),
        Some("crushed boxes")
    );
    assert_eq!(
        sender.store.stock_level(&mitte_id, &coffee.id).unwrap(),
        Quantity::pieces(10)
    );
    let booked = at_mitte.book_transfer_return(&id, &[]).unwrap();
    assert_eq!(booked.state, TransferState::ReturnReceived);
    assert_eq!(
        sender.store.stock_level(&mitte_id, &coffee.id).unwrap(),
        Quantity::pieces(13)
    );
    // Who booked what back in, and why it moved, is in Mitte's journal.
    let journalled = sender
        .store
        .journal_events_since("transfer_return_received", started_day())
        .unwrap();
    assert_eq!(journalled.len(), 1);
    assert_eq!(journalled[0].actor.as_str(), "marc");

    // Both ends keep the same finished record; the fleet counts each store's own stock.
    wait_until("the booking reaching Altona", || {
        receiver
            .store
            .transfer(&id)
            .unwrap()
            .is_some_and(|t| t.state == TransferState::ReturnReceived)
    });
    assert_eq!(receiver.store.transfer(&id).unwrap().unwrap(), booked);
    let product_id = coffee.id.to_string();
    wait_until("the fleet's stock to count both sides", || {
        fleet.stock(&mitte) == vec![(product_id.clone(), "13".to_owned())]
            && fleet.stock(&altona) == vec![(product_id.clone(), "7".to_owned())]
    });
    sender.stop_sync();
    receiver.stop_sync();
}

/// A time before anything of the test was journalled.
fn started_day() -> pos_core::clock::Timestamp {
    pos_core::clock::Timestamp::from_unix_ms(now().unix_ms() - 86_400_000)
}
