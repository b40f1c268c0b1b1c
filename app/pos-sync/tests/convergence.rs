//! Convergence of the fleet's state: whatever order batches arrive in, however often, and
//! however the journal was cut into batches, the fleet ends up with the same sales, stock and
//! points. And the stock rule that makes this safe for money: two offline tills selling the
//! last item both keep their sale.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::catalog::Product;
use pos_core::id::{DeviceId, ProductId, StoreId};
use pos_core::quantity::Quantity;
use pos_core::stock::{MovementReason, StockMovement};
use pos_sync::ingest::Ledger;
use pos_sync::rules::{Anomaly, sale_anomalies, stock_alerts};
use pos_sync::sample::SampleTill;
use pos_sync::wire::{JournalEntry, PROTOCOL, PushBatch};
use proptest::prelude::*;

fn product(id: &str) -> Product {
    pos_core::demo::catalog()
        .unwrap()
        .get(&ProductId::new(id))
        .unwrap()
        .clone()
}

fn store() -> StoreId {
    StoreId::new("berlin-mitte")
}

fn batch(device: &str, entries: &[JournalEntry]) -> PushBatch {
    PushBatch {
        protocol: PROTOCOL,
        device: DeviceId::new(device),
        entries: entries.to_vec(),
    }
}

/// The journals of three tills: some sales each.
fn journals(sales: [usize; 3]) -> Vec<(&'static str, Vec<JournalEntry>)> {
    let products = [product("milk"), product("cola"), product("batteries")];
    ["T1", "T2", "T3"]
        .into_iter()
        .zip(sales)
        .map(|(device, count)| {
            let mut till = SampleTill::new(device, &store());
            let entries = (0..count)
                .flat_map(|i| {
                    till.sell(&products[i % 3], 1, 1_000 + i64::try_from(i).unwrap())
                        .unwrap()
                })
                .collect();
            (device, entries)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_duplication_or_reordering_of_batches_gives_the_same_fleet_state(
        sales in [0usize..6, 0usize..6, 0usize..6],
        cut in 1usize..5,
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let journals = journals(sales);
        // The reference: each journal in one batch, in order.
        let mut reference = Ledger::default();
        for (device, entries) in &journals {
            reference.ingest(&batch(device, entries), &DeviceId::new(*device)).unwrap();
        }
        // Batches of `cut` entries, then a delivery order chosen by `picks` (with repeats),
        // then every batch once more so that all arrive at least once.
        let batches: Vec<PushBatch> = journals
            .iter()
            .flat_map(|(device, entries)| entries.chunks(cut).map(|c| batch(device, c)))
            .collect();
        let mut delivered = Ledger::default();
        if !batches.is_empty() {
            for pick in &picks {
                let b = &batches[pick.index(batches.len())];
                delivered.ingest(b, &b.device).unwrap();
            }
        }
        for b in batches.iter().rev() {
            delivered.ingest(b, &b.device).unwrap();
        }
        prop_assert_eq!(delivered.summary(), reference.summary());
        prop_assert_eq!(delivered.summary().sales.len(), sales.iter().sum::<usize>());
    }
}

#[test]
fn two_offline_tills_selling_the_last_item_both_keep_their_sale_and_stock_shows_minus_one() {
    let milk = product("milk");
    let mut fleet = Ledger::default();
    // The store received one bottle of milk.
    let receipt = StockMovement {
        id: "mv-receipt".into(),
        product: milk.id.clone(),
        store: store(),
        batch: None,
        quantity: Quantity::pieces(1),
        reason: MovementReason::GoodsReceipt { reference: None },
        at: pos_core::clock::Timestamp::from_unix_ms(0),
        by: "marc".into(),
    };
    let receipt_entry = JournalEntry::from_envelope(
        1,
        pos_sync::hlc::HlcTime::new(1, 0),
        &pos_core::event::EventEnvelope {
            id: "office-ev-1".into(),
            device: "office".into(),
            actor: "marc".into(),
            at: pos_core::clock::Timestamp::from_unix_ms(0),
            event: pos_core::event::DomainEvent::StockMoved(receipt),
        },
    )
    .unwrap();
    fleet
        .ingest(&batch("office", &[receipt_entry]), &"office".into())
        .unwrap();
    // Both tills are offline and each sells "the last" bottle.
    for device in ["T1", "T2"] {
        let mut till = SampleTill::new(device, &store());
        let entries = till.sell(&milk, 1, 5_000).unwrap();
        fleet
            .ingest(&batch(device, &entries), &DeviceId::new(device))
            .unwrap();
    }
    let summary = fleet.summary();
    assert_eq!(summary.sales.len(), 2, "neither sale is lost");
    assert_eq!(
        summary.stock.level(&store(), &milk.id),
        Quantity::pieces(-1)
    );
    assert_eq!(
        stock_alerts(&summary.stock, &store(), [&milk.id]),
        [Anomaly::NegativeStock {
            store: store(),
            product: milk.id.clone(),
            level: Quantity::pieces(-1),
        }]
    );
}

#[test]
fn a_sale_of_a_product_archived_while_the_till_was_offline_is_kept_and_reported() {
    let mut batteries = product("batteries");
    let mut till = SampleTill::new("T1", &store());
    let entries = till.sell(&batteries, 2, 5_000).unwrap();
    // Meanwhile the fleet archived the product.
    batteries.active = false;
    let mut fleet = Ledger::default();
    let ack = fleet.ingest(&batch("T1", &entries), &"T1".into()).unwrap();
    assert_eq!(ack.high_water_seq, 2, "the sale is accepted");
    let Some(pos_core::event::DomainEvent::SaleCompleted(sale)) =
        entries[0].domain_event().unwrap()
    else {
        panic!("the first entry is the sale")
    };
    let anomalies = sale_anomalies(&sale, |id| (id == &batteries.id).then_some(&batteries));
    assert_eq!(
        anomalies,
        [Anomaly::SoldWhileArchived {
            product: batteries.id.clone()
        }]
    );
    let none_known = sale_anomalies(&sale, |_| None);
    assert_eq!(
        none_known,
        [Anomaly::SoldUnknownProduct {
            product: batteries.id.clone()
        }]
    );
}
