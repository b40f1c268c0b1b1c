//! Two terminals sell while the fleet is out of reach, then reconnect: each drives the real
//! sync state machine through the reqwest adapter against a real fleet on loopback. The fleet
//! shows every sale exactly once and stock as the sum of both terminals' movements, and each
//! terminal pulls the other's movements and the fleet's catalogue changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use pos_core::id::{DeviceId, StoreId};
use pos_sync::http::{FleetClient, Journal, RunOutcome, run_until_caught_up};
use pos_sync::machine::{ResumePoint, SyncConfig, SyncMachine};
use pos_sync::sample::SampleTill;
use pos_sync::wire::{Change, ChangeBody, JournalEntry};
use serde_json::json;

use common::Backend;

backend_tests!(
    two_terminals_sell_offline_reconnect_and_the_fleet_counts_every_sale_once,
    a_price_change_made_at_the_fleet_reaches_a_terminal_through_pull,
);

/// The terminal's store, in memory: the journal, the recorded mark, the pull cursor and what
/// was applied.
#[derive(Default)]
struct MemoryJournal {
    entries: Vec<JournalEntry>,
    acked: u64,
    cursor: u64,
    applied: Vec<Change>,
}

impl Journal for MemoryJournal {
    type Error = Infallible;

    fn load(&mut self, from_seq: u64, entries_max: usize) -> Result<Vec<JournalEntry>, Infallible> {
        Ok(self
            .entries
            .iter()
            .filter(|e| e.seq >= from_seq)
            .take(entries_max)
            .cloned()
            .collect())
    }

    fn acknowledged(&mut self, high_water_seq: u64) -> Result<(), Infallible> {
        assert!(high_water_seq > self.acked);
        self.acked = high_water_seq;
        Ok(())
    }

    fn apply(&mut self, changes: Vec<Change>, next_cursor: u64) -> Result<(), Infallible> {
        self.applied.extend(changes);
        self.cursor = next_cursor;
        Ok(())
    }
}

impl MemoryJournal {
    fn resume(&self) -> ResumePoint {
        ResumePoint {
            acked_seq: self.acked,
            outbox_last_seq: self.entries.last().map_or(0, |e| e.seq),
            cursor: self.cursor,
        }
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn fast_config(device: &DeviceId, seed: u64) -> SyncConfig {
    SyncConfig {
        batch_entries_max: 7,
        backoff_ms_base: 5,
        backoff_ms_max: 20,
        ..SyncConfig::new(device.clone(), seed)
    }
}

async fn two_terminals_sell_offline_reconnect_and_the_fleet_counts_every_sale_once(
    backend: Backend,
) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    for id in ["milk", "cola", "batteries"] {
        fleet.add_product(&acme.owner, &acme.id, id).await;
    }
    let store = StoreId::new(acme.store.clone());
    let t1 = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let t2 = fleet.enrol(&acme.owner, &acme.store, "Till 2").await;

    // The network goes down. While it is down the fleet archives the batteries, and both
    // tills keep selling: 12 sales on till 1, 9 on till 2, both selling milk.
    let mut batteries = common::demo_product("batteries");
    batteries.active = false;
    let (status, _) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/products", acme.id),
            Some(&acme.owner),
            Some(serde_json::to_value(&batteries).unwrap()),
        )
        .await;
    assert!(status.is_success());
    let (milk, cola) = (common::demo_product("milk"), common::demo_product("cola"));
    let mut journals = [MemoryJournal::default(), MemoryJournal::default()];
    let mut tills = [
        SampleTill::new(t1.device.as_str(), &store),
        SampleTill::new(t2.device.as_str(), &store),
    ];
    let start = now_ms();
    for i in 0..12 {
        let product = if i % 3 == 0 { &milk } else { &cola };
        journals[0]
            .entries
            .extend(tills[0].sell(product, 1, start + i).unwrap());
    }
    for i in 0..9 {
        let product = if i == 8 {
            &common::demo_product("batteries")
        } else {
            &milk
        };
        journals[1]
            .entries
            .extend(tills[1].sell(product, 2, start + i).unwrap());
    }

    // Till 1 tries while the fleet is unreachable: nothing is acknowledged, nothing lost.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut offline = SyncMachine::new(fast_config(&t1.device, 1), journals[0].resume());
    let unreachable = FleetClient::new(fleet.client.clone(), &dead_url, &t1.token);
    let outcome =
        run_until_caught_up(&mut offline, &mut journals[0], &unreachable, now_ms, 12).await;
    assert!(outcome.is_err(), "it cannot catch up while offline");
    assert!(offline.failures() >= 2);
    assert_eq!(journals[0].acked, 0);

    // The network is back. Each till's machine restarts from what its store recorded.
    for (index, enrolled) in [&t1, &t2].into_iter().enumerate() {
        let journal = &mut journals[index];
        let mut machine = SyncMachine::new(
            fast_config(&enrolled.device, index as u64),
            journal.resume(),
        );
        let client = FleetClient::new(fleet.client.clone(), &fleet.base, &enrolled.token);
        let outcome = run_until_caught_up(&mut machine, journal, &client, now_ms, 200)
            .await
            .unwrap();
        assert_eq!(outcome, RunOutcome::CaughtUp);
        assert_eq!(journal.acked, journal.entries.last().unwrap().seq);
    }
    // Till 1 pulls again to see till 2's movements, which arrived after its first pull.
    {
        let mut machine = SyncMachine::new(fast_config(&t1.device, 3), journals[0].resume());
        let client = FleetClient::new(fleet.client.clone(), &fleet.base, &t1.token);
        assert_eq!(
            run_until_caught_up(&mut machine, &mut journals[0], &client, now_ms, 50)
                .await
                .unwrap(),
            RunOutcome::CaughtUp
        );
    }

    // Every sale exactly once, from both tills.
    let sales = fleet.sales(&acme.owner, &acme.store).await;
    assert_eq!(sales.len(), 21);
    let mut ids: Vec<&str> = sales.iter().map(|s| s["sale"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 21);
    // Stock is the sum of both tills' movements: milk 4×1 (till 1) + 8×2 (till 2).
    assert_eq!(fleet.stock(&acme.owner, &acme.store, "milk").await, "-20");
    assert_eq!(fleet.stock(&acme.owner, &acme.store, "cola").await, "-8");
    assert_eq!(
        fleet.stock(&acme.owner, &acme.store, "batteries").await,
        "-2"
    );
    // A manager is told about negative stock and the archived product sold offline.
    let (_, anomalies) = fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/anomalies", acme.store),
            Some(&acme.owner),
            None,
        )
        .await;
    let kinds: Vec<&str> = anomalies
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"negative_stock"), "{anomalies}");
    assert!(kinds.contains(&"sold_while_archived"), "{anomalies}");

    // Each till pulled the other's stock movements (never its own) and the catalogue.
    for (index, other) in [(0, &t2.device), (1, &t1.device)] {
        let applied = &journals[index].applied;
        let moved_by: Vec<&DeviceId> = applied
            .iter()
            .filter_map(|c| match &c.body {
                ChangeBody::StockMoved { device, .. } => Some(device),
                _ => None,
            })
            .collect();
        let expected = if index == 0 { 9 } else { 12 };
        assert_eq!(moved_by.len(), expected, "till {}", index + 1);
        assert!(moved_by.iter().all(|d| *d == other));
        let archived = applied.iter().any(|c| matches!(&c.body, ChangeBody::Product { product, .. } if product.id.as_str() == "batteries" && !product.active));
        assert!(
            archived,
            "till {} learns the batteries were archived",
            index + 1
        );
    }

    // Pushing everything again (a terminal restored from a backup of its outbox) changes nothing.
    let (status, ack) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&t2.token),
            Some(common::push_body(t2.device.as_str(), &journals[1].entries)),
        )
        .await;
    assert!(status.is_success());
    assert_eq!(ack["duplicates"], journals[1].entries.len());
    assert_eq!(fleet.sales(&acme.owner, &acme.store).await.len(), 21);
    assert_eq!(fleet.stock(&acme.owner, &acme.store, "milk").await, "-20");
}

async fn a_price_change_made_at_the_fleet_reaches_a_terminal_through_pull(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let mut milk = fleet.add_product(&acme.owner, &acme.id, "milk").await;
    let till = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    milk.price = pos_core::money::Money::from_minor(119, pos_core::money::Currency::EUR);
    let (status, _) = fleet
        .call(
            "POST",
            &format!("/api/v1/stores/{}/products", acme.store),
            Some(&acme.owner),
            Some(serde_json::to_value(&milk).unwrap()),
        )
        .await;
    assert!(status.is_success());
    let (status, _) = fleet
        .call("POST", &format!("/api/v1/stores/{}/prices", acme.store), Some(&acme.owner), Some(json!({"product": "milk", "price": {"amount": "0.89", "currency": "EUR"}, "effective_at": 4_102_444_800_000i64})))
        .await;
    assert!(status.is_success());

    let mut journal = MemoryJournal::default();
    let mut machine = SyncMachine::new(fast_config(&till.device, 9), journal.resume());
    let client = FleetClient::new(fleet.client.clone(), &fleet.base, &till.token);
    assert_eq!(
        run_until_caught_up(&mut machine, &mut journal, &client, now_ms, 50)
            .await
            .unwrap(),
        RunOutcome::CaughtUp
    );
    let store_price = journal.applied.iter().rev().find_map(|c| match &c.body {
        ChangeBody::Product {
            scope: pos_sync::wire::Scope::Store(_),
            product,
        } => Some(product.price),
        _ => None,
    });
    assert_eq!(store_price, Some(milk.price));
    let scheduled = journal.applied.iter().find_map(|c| match &c.body {
        ChangeBody::PriceScheduled {
            price,
            effective_at,
            ..
        } => Some((*price, *effective_at)),
        _ => None,
    });
    assert_eq!(
        scheduled,
        Some((
            pos_core::money::Money::from_minor(89, pos_core::money::Currency::EUR),
            pos_core::clock::Timestamp::from_unix_ms(4_102_444_800_000)
        ))
    );
    assert!(journal.cursor > 0);
}
