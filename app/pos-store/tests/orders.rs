//! Purchase orders, goods receipts and transfers in the real encrypted store: a receipt's lot
//! and expiry come with its journalled event, here or pulled from another till; a transfer
//! keeps its furthest step whatever order the steps arrive in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::event::DomainEvent;
use pos_core::id::{BatchId, EventId, GoodsReceiptId, MovementId, StoreId, TransferId, UserId};
use pos_core::purchase::{GoodsReceipt, ReceivedLine};
use pos_core::quantity::Quantity;
use pos_core::stock::Batch;
use pos_core::transfer::{SentLot, Transfer, TransferState};
use pos_store::sample::product;
use pos_sync::hlc::HlcTime;
use pos_sync::wire::{Change, ChangeBody, Scope};
use support::{at, open};

fn change(server_seq: u64, body: ChangeBody) -> Change {
    Change {
        server_seq,
        hlc: HlcTime::new(support::T0_MS + i64::try_from(server_seq).unwrap(), 0),
        body,
    }
}

#[test]
fn a_transfer_keeps_its_furthest_step_and_a_pulled_receipt_brings_its_lot_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let coffee = product(1);
    store
        .apply_pulled(
            &[change(
                1,
                ChangeBody::Product {
                    scope: Scope::Tenant,
                    product: coffee.clone(),
                },
            )],
            1,
            at(1),
        )
        .unwrap();
    let lot = Batch {
        id: BatchId::new("b1"),
        product: coffee.id.clone(),
        lot: "L-77".to_owned(),
        expiry: Some(time::macros::date!(2026 - 07 - 01)),
    };
    let receipt = GoodsReceipt {
        id: GoodsReceiptId::new("gr1"),
        store: StoreId::new("S1"),
        order: None,
        reference: None,
        lines: vec![ReceivedLine {
            product: coffee.id.clone(),
            quantity: Quantity::pieces(12),
            batch: Some(lot.clone()),
            movement: MovementId::new("mv1"),
        }],
        at: at(2),
        by: UserId::new("mia"),
    };
    let pulled = |n: u64| {
        change(
            n,
            ChangeBody::GoodsReceived {
                event_id: EventId::new("e-gr1"),
                receipt: receipt.clone(),
            },
        )
    };
    let applied = store
        .apply_pulled(&[pulled(2), pulled(3)], 3, at(3))
        .unwrap();
    assert_eq!(applied.goods_receipts, 1);
    let expiring = store
        .expiring_batches(&StoreId::new("S1"), time::macros::date!(2026 - 12 - 31), 10)
        .unwrap();
    // The lot is known; its stock comes with the movement, pulled on its own.
    assert!(expiring.is_empty());
    store
        .apply_pulled(
            &[change(
                4,
                ChangeBody::StockMoved {
                    event_id: EventId::new("e-mv1"),
                    device: pos_core::id::DeviceId::new("T2"),
                    movement: receipt.movements()[0].clone(),
                },
            )],
            4,
            at(4),
        )
        .unwrap();
    let expiring = store
        .expiring_batches(&StoreId::new("S1"), time::macros::date!(2026 - 12 - 31), 10)
        .unwrap();
    assert_eq!(expiring.len(), 1);
    assert_eq!(expiring[0].lot, "L-77");
    assert_eq!(expiring[0].level, Quantity::pieces(12));

    // This store asked; the sent step arrives, then a stale copy of the request.
    let id = TransferId::new("t1");
    let requested = Transfer::request(
        id.clone(),
        StoreId::new("S2"),
        StoreId::new("S1"),
        &[(coffee.clone(), Quantity::pieces(3))],
        at(5),
        UserId::new("mia"),
    )
    .unwrap();
    store
        .record(
            &UserId::new("mia"),
            at(5),
            &[DomainEvent::TransferRequested(requested.clone())],
        )
        .unwrap();
    let mut sent = requested.clone();
    sent.send(
        &StoreId::new("S2"),
        vec![(
            coffee.id.clone(),
            vec![SentLot {
                batch: None,
                quantity: Quantity::pieces(3),
            }],
        )],
        at(6),
    )
    .unwrap();
    let step = |n: u64, transfer: &Transfer| {
        change(
            n,
            ChangeBody::Transfer {
                event_id: EventId::new(format!("e-t{n}")),
                transfer: transfer.clone(),
            },
        )
    };
    let applied = store
        .apply_pulled(&[step(5, &sent), step(6, &requested)], 6, at(7))
        .unwrap();
    assert_eq!(applied.transfers, 1);
    let kept = store.transfer(&id).unwrap().unwrap();
    assert_eq!(kept.state, TransferState::Sent);
    assert_eq!(store.transfers(&StoreId::new("S1"), 10).unwrap().len(), 1);

    // Recording the same receipt twice here is refused and changes nothing.
    let mut events = vec![DomainEvent::GoodsReceived(GoodsReceipt {
        id: GoodsReceiptId::new("gr2"),
        ..receipt.clone()
    })];
    events.push(DomainEvent::GoodsReceived(GoodsReceipt {
        id: GoodsReceiptId::new("gr2"),
        ..receipt
    }));
    let refused = store
        .record(&UserId::new("mia"), at(8), &events)
        .unwrap_err();
    assert!(
        refused.to_string().contains("already recorded"),
        "{refused}"
    );
}

#[test]
fn a_cancelled_or_refused_request_is_listed_after_open_ones_and_a_late_copy_does_not_reopen_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let coffee = product(1);
    let (here, there) = (StoreId::new("S1"), StoreId::new("S2"));
    let request = |id: &str, minutes: i64| {
        Transfer::request(
            TransferId::new(id),
            there.clone(),
            here.clone(),
            &[(coffee.clone(), Quantity::pieces(2))],
            at(minutes),
            UserId::new("mia"),
        )
        .unwrap()
    };
    let (open_one, cancelled_one, refused_one) =
        (request("t1", 1), request("t2", 2), request("t3", 3));
    store
        .record(
            &UserId::new("mia"),
            at(3),
            &[
                DomainEvent::TransferRequested(open_one.clone()),
                DomainEvent::TransferRequested(cancelled_one.clone()),
                DomainEvent::TransferRequested(refused_one.clone()),
            ],
        )
        .unwrap();

    // This store withdraws one; the other store turns one down, and its refusal comes in.
    let mut cancelled = cancelled_one.clone();
    cancelled.cancel(&here, at(4)).unwrap();
    store
        .record(
            &UserId::new("mia"),
            at(4),
            &[DomainEvent::TransferCancelled(cancelled)],
        )
        .unwrap();
    let mut refused = refused_one.clone();
    refused.refuse(&there, "not in stock", at(5)).unwrap();
    let ended = |n: u64, transfer: &Transfer| {
        change(
            n,
            ChangeBody::TransferEnded {
                event_id: EventId::new(format!("e-end{n}")),
                transfer: transfer.clone(),
            },
        )
    };
    let stale = change(
        2,
        ChangeBody::Transfer {
            event_id: EventId::new("e-stale"),
            transfer: refused_one,
        },
    );
    let applied = store
        .apply_pulled(&[ended(1, &refused), stale], 2, at(6))
        .unwrap();
    assert_eq!(
        applied.transfers, 1,
        "the late copy of the request changes nothing"
    );

    let listed: Vec<(String, TransferState)> = store
        .transfers(&here, 10)
        .unwrap()
        .into_iter()
        .map(|t| (t.id.to_string(), t.state))
        .collect();
    assert_eq!(
        listed,
        [
            ("t1".to_owned(), TransferState::Requested),
            ("t3".to_owned(), TransferState::Refused),
            ("t2".to_owned(), TransferState::Cancelled),
        ]
    );
    let kept = store.transfer(&TransferId::new("t3")).unwrap().unwrap();
    assert_eq!(kept.reason.as_deref(), Some("not in stock"));
    assert_eq!(
        store
            .journal_events_since("transfer_cancelled", at(0))
            .unwrap()
            .len(),
        1,
        "the cancellation is journalled for the other store"
    );
}
