//! Benchmark: 10,000 offline sales from one terminal reach the fleet over loopback.
//!
//! A real fleet server (plain HTTP on 127.0.0.1, SQLite in a temporary directory, the same
//! `synchronous=FULL` as in production) and one enrolled terminal whose journal holds the
//! sales (each sale is two journal entries: the sale and its stock movement), made through
//! `pos-core` as a till makes them. The terminal's sync machine then pushes them through the
//! reqwest adapter until the fleet has acknowledged everything.
//!
//! ```text
//! cargo run --release -p pos-fleet --example sync_bench [-- SALES [BATCH_ENTRIES]]
//! ```
//! Not run in CI: figures come from here, never from timed assertions in tests.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use pos_core::clock::Timestamp;
use pos_core::id::{ProductId, StoreId};
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_sync::http::{FleetClient, Journal, RunOutcome, run_until_caught_up};
use pos_sync::machine::{ResumePoint, SyncConfig, SyncMachine};
use pos_sync::sample::SampleTill;
use pos_sync::wire::{Change, JournalEntry};
use serde_json::json;

struct MemoryJournal {
    entries: Vec<JournalEntry>,
    acked: u64,
    cursor: u64,
}

impl Journal for MemoryJournal {
    type Error = Infallible;

    fn load(&mut self, from_seq: u64, entries_max: usize) -> Result<Vec<JournalEntry>, Infallible> {
        // Entries are numbered from 1 with no gap: index directly.
        let start = usize::try_from(from_seq.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(self
            .entries
            .iter()
            .skip(start)
            .take(entries_max)
            .cloned()
            .collect())
    }

    fn acknowledged(&mut self, high_water_seq: u64) -> Result<(), Infallible> {
        self.acked = high_water_seq;
        Ok(())
    }

    fn apply(&mut self, _changes: Vec<Change>, next_cursor: u64) -> Result<(), Infallible> {
        self.cursor = next_cursor;
        Ok(())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let sales: i64 = args
        .next()
        .map_or(Ok(10_000), |a| a.parse())
        .context("SALES must be a number")?;
    let batch_entries: usize = args
        .next()
        .map_or(Ok(500), |a| a.parse())
        .context("BATCH_ENTRIES must be a number")?;

    let dir = tempfile::tempdir()?;
    let storage = Arc::new(SqliteStorage::open(dir.path())?);
    server::add_operator(
        storage.as_ref(),
        "ops@bench.example",
        "bench-password",
        Timestamp::from_unix_ms(0),
    )?;
    let config = FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let running = server::start_with(&config, Transport::Plain, storage).await?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();

    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"email": "ops@bench.example", "password": "bench-password"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("login token")?;
    let tenant: serde_json::Value = client
        .post(format!("{base}/api/v1/tenants"))
        .bearer_auth(token)
        .json(&json!({"name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let tenant_id = tenant["id"].as_str().context("tenant id")?;
    let store: serde_json::Value = client
        .post(format!("{base}/api/v1/tenants/{tenant_id}/stores"))
        .bearer_auth(token)
        .json(&json!({"name": "Bench store", "currency": "EUR"}))
        .send()
        .await?
        .json()
        .await?;
    let store_id = store["id"].as_str().context("store id")?;
    let code: serde_json::Value = client
        .post(format!("{base}/api/v1/stores/{store_id}/enrolment-codes"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let enrolled = pos_sync::http::enrol(
        &client,
        &base,
        code["code"].as_str().context("code")?,
        "Bench till",
    )
    .await?;

    let catalogue = pos_core::demo::catalog()?;
    let products: Vec<_> = ["milk", "cola", "butter", "batteries"]
        .iter()
        .filter_map(|id| catalogue.get(&ProductId::new(*id)).cloned())
        .collect();
    let made = Instant::now();
    let mut till = SampleTill::new(enrolled.device.as_str(), &StoreId::new(store_id));
    let start = now_ms();
    let mut entries = Vec::new();
    for i in 0..sales {
        let product = &products[usize::try_from(i).unwrap_or(0) % products.len()];
        entries.extend(till.sell(product, 1, start + i)?);
    }
    let made_s = made.elapsed().as_secs_f64();
    let entry_count = entries.len();
    let bytes: usize = entries
        .iter()
        .map(|e| serde_json::to_vec(e).map_or(0, |b| b.len()))
        .sum();

    let mut journal = MemoryJournal {
        entries,
        acked: 0,
        cursor: 0,
    };
    let resume = ResumePoint {
        acked_seq: 0,
        outbox_last_seq: u64::try_from(entry_count).unwrap_or(u64::MAX),
        cursor: 0,
    };
    let mut machine = SyncMachine::new(
        SyncConfig {
            batch_entries_max: batch_entries,
            ..SyncConfig::new(enrolled.device.clone(), 1)
        },
        resume,
    );
    let fleet = FleetClient::new(client.clone(), &base, &enrolled.token);
    let synced = Instant::now();
    let outcome = run_until_caught_up(&mut machine, &mut journal, &fleet, now_ms, 100_000).await?;
    let sync_s = synced.elapsed().as_secs_f64();
    anyhow::ensure!(
        outcome == RunOutcome::CaughtUp,
        "sync did not catch up: {outcome:?}"
    );
    anyhow::ensure!(
        journal.acked == resume.outbox_last_seq,
        "not everything was acknowledged"
    );

    let listed: Vec<serde_json::Value> = client
        .get(format!("{base}/api/v1/stores/{store_id}/sales"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        listed.len() == usize::try_from(sales).unwrap_or(0),
        "the fleet lists {} sales, expected {sales}",
        listed.len()
    );

    println!("sales:            {sales}");
    println!(
        "journal entries:  {entry_count} ({:.1} MiB of JSON)",
        bytes as f64 / 1_048_576.0
    );
    println!(
        "batch entries:    {batch_entries} ({} pushes)",
        entry_count.div_ceil(batch_entries)
    );
    println!("made on the till: {made_s:.2} s (not part of the sync figure)");
    println!(
        "sync to fleet:    {sync_s:.2} s = {:.0} sales/s, {:.0} entries/s",
        sales as f64 / sync_s,
        entry_count as f64 / sync_s
    );
    println!("fleet lists:      {} sales", listed.len());
    Ok(())
}
