//! Many terminals at once, over real HTTP: pushes that overlap, a batch resent while its first
//! push is still running, and a terminal pulling while others push. On PostgreSQL these run
//! in parallel transactions, so they check that the fleet orders them as one writer would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use pos_core::id::StoreId;
use pos_sync::sample::SampleTill;
use pos_sync::wire::{JournalEntry, PushAck};
use reqwest::StatusCode;

use common::Backend;

backend_tests!(
    terminals_pushing_at_once_are_all_counted_and_a_puller_misses_none_of_their_movements,
    a_batch_resent_while_its_first_push_runs_is_stored_once,
);

const TERMINALS: usize = 8;
const PUSHES_PER_TERMINAL: i64 = 5;
const SALES_PER_PUSH: i64 = 4;

async fn push(
    fleet: &common::Fleet,
    token: &str,
    device: &str,
    entries: &[JournalEntry],
) -> PushAck {
    let (status, ack) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(token),
            Some(common::push_body(device, entries)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    serde_json::from_value(ack).unwrap()
}

/// Pulls from `cursor` until the fleet has nothing more; returns the stock movements' event
/// ids in the order they came and the new cursor.
async fn pull_movements(
    fleet: &common::Fleet,
    token: &str,
    device: &str,
    mut cursor: u64,
) -> (Vec<String>, u64) {
    let mut events = Vec::new();
    loop {
        let (status, page) = fleet
            .call(
                "POST",
                "/sync/v1/pull",
                Some(token),
                Some(common::pull_body(device, cursor, 7)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for change in page["changes"].as_array().unwrap() {
            let seq = change["server_seq"].as_u64().unwrap();
            assert!(seq > cursor, "changes come in increasing order");
            cursor = seq;
            if change["body"]["type"] == "stock_moved" {
                events.push(
                    change["body"]["data"]["event_id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
        }
        assert_eq!(page["next_cursor"].as_u64().unwrap(), cursor);
        if page["more"] == false {
            return (events, cursor);
        }
    }
}

async fn terminals_pushing_at_once_are_all_counted_and_a_puller_misses_none_of_their_movements(
    backend: Backend,
) {
    let fleet = Arc::new(common::start(&backend).await);
    let acme = fleet.tenant("Acme").await;
    let store = StoreId::new(acme.store.clone());
    let milk = common::demo_product("milk");
    let watcher = fleet.enrol(&acme.owner, &acme.store, "Back office").await;
    let mut tills = Vec::new();
    for n in 0..TERMINALS {
        let enrolled = fleet
            .enrol(&acme.owner, &acme.store, &format!("Till {n}"))
            .await;
        tills.push(enrolled);
    }

    let mut pushers = Vec::new();
    for enrolled in tills {
        let fleet = Arc::clone(&fleet);
        let (milk, store) = (milk.clone(), store.clone());
        pushers.push(tokio::spawn(async move {
            let device = enrolled.device.as_str().to_owned();
            let mut till = SampleTill::new(&device, &store);
            let mut movements = Vec::new();
            for push_number in 0..PUSHES_PER_TERMINAL {
                let mut entries = Vec::new();
                for sale in 0..SALES_PER_PUSH {
                    entries.extend(
                        till.sell(&milk, 1, 1_000 + push_number * 100 + sale)
                            .unwrap(),
                    );
                }
                movements.extend(
                    entries
                        .iter()
                        .filter(|e| e.kind == "stock_moved")
                        .map(|e| e.event_id.as_str().to_owned()),
                );
                let ack = push(&fleet, &enrolled.token, &device, &entries).await;
                assert_eq!(ack.stored as usize, entries.len());
                assert_eq!(ack.high_water_seq, entries.last().unwrap().seq);
            }
            movements
        }));
    }
    // The back office pulls while the tills push: whatever it has seen, a later pull must
    // never skip a movement that committed after it.
    let mut seen = Vec::new();
    let mut cursor = 0;
    while pushers.iter().any(|p| !p.is_finished()) {
        let (events, next) =
            pull_movements(&fleet, &watcher.token, watcher.device.as_str(), cursor).await;
        seen.extend(events);
        cursor = next;
    }
    let mut pushed = BTreeSet::new();
    for pusher in pushers {
        pushed.extend(pusher.await.unwrap());
    }
    let (events, _) = pull_movements(&fleet, &watcher.token, watcher.device.as_str(), cursor).await;
    seen.extend(events);

    let total = TERMINALS * usize::try_from(PUSHES_PER_TERMINAL * SALES_PER_PUSH).unwrap();
    assert_eq!(pushed.len(), total);
    assert_eq!(
        seen.len(),
        total,
        "every movement reaches the puller exactly once"
    );
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), pushed);
    assert_eq!(fleet.sales(&acme.owner, &acme.store).await.len(), total);
    assert_eq!(
        fleet.stock(&acme.owner, &acme.store, "milk").await,
        format!("-{total}")
    );
}

async fn a_batch_resent_while_its_first_push_runs_is_stored_once(backend: Backend) {
    let fleet = Arc::new(common::start(&backend).await);
    let acme = fleet.tenant("Acme").await;
    let enrolled = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let device = enrolled.device.as_str().to_owned();
    let mut till = SampleTill::new(&device, &StoreId::new(acme.store.clone()));
    let mut entries = Vec::new();
    for sale in 0..50 {
        entries.extend(
            till.sell(&common::demo_product("cola"), 2, 1_000 + sale)
                .unwrap(),
        );
    }
    let mut sends = Vec::new();
    for _ in 0..4 {
        let fleet = Arc::clone(&fleet);
        let (token, device, entries) = (enrolled.token.clone(), device.clone(), entries.clone());
        sends.push(tokio::spawn(async move {
            push(&fleet, &token, &device, &entries).await
        }));
    }
    let mut stored = 0;
    for send in sends {
        let ack = send.await.unwrap();
        assert_eq!(ack.high_water_seq, 100);
        assert_eq!(ack.stored + ack.duplicates, 100);
        stored += ack.stored;
    }
    assert_eq!(
        stored, 100,
        "one push stored the batch, the others found it stored"
    );
    assert_eq!(fleet.sales(&acme.owner, &acme.store).await.len(), 50);
    assert_eq!(fleet.stock(&acme.owner, &acme.store, "cola").await, "-100");
}
