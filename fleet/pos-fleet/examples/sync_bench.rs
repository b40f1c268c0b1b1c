//! Benchmark: offline sales from one or many terminals reach the fleet over loopback.
//!
//! A real fleet server (plain HTTP on 127.0.0.1) over SQLite in a temporary directory (the
//! same `synchronous=FULL` as in production) or over PostgreSQL (in a schema of its own that
//! is dropped afterwards), and enrolled terminals whose journals hold the sales (each sale is
//! two journal entries: the sale and its stock movement), made through `pos-core` as a till
//! makes them. Every terminal's sync machine then pushes at the same time through the reqwest
//! adapter until the fleet has acknowledged everything.
//!
//! ```text
//! cargo run --release -p pos-fleet --example sync_bench -- [SALES [BATCH_ENTRIES]]
//!     [--terminals N] [--tenants N] [--database postgres://user:password@host/db]
//! ```
//! SALES is the total over all terminals (default 10,000); the terminals are spread evenly
//! over the tenants (default one tenant, one terminal).
//! Not run in CI: figures come from here, never from timed assertions in tests.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use pos_core::clock::Timestamp;
use pos_core::id::{ProductId, StoreId};
use pos_fleet::postgres::PostgresStorage;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::storage::FleetStorage;
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

struct Options {
    sales: usize,
    batch_entries: usize,
    terminals: usize,
    tenants: usize,
    database: Option<String>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        sales: 10_000,
        batch_entries: 500,
        terminals: 1,
        tenants: 1,
        database: None,
    };
    let mut positional = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize> {
            args.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} must be a number"))
        };
        match arg.as_str() {
            "--terminals" => options.terminals = number("--terminals")?,
            "--tenants" => options.tenants = number("--tenants")?,
            "--database" => options.database = Some(args.next().context("--database needs a URL")?),
            text if positional == 0 => {
                options.sales = text.parse().context("SALES must be a number")?;
                positional += 1;
            }
            text if positional == 1 => {
                options.batch_entries = text.parse().context("BATCH_ENTRIES must be a number")?;
                positional += 1;
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if options.terminals == 0 || options.tenants == 0 || options.tenants > options.terminals {
        bail!("give at least one terminal per tenant");
    }
    Ok(options)
}

/// The fleet's storage: SQLite in `dir`, or a new schema in the PostgreSQL database (its
/// name returned so it can be dropped).
fn open_storage(
    database: Option<&str>,
    dir: &std::path::Path,
    pool_size: u32,
) -> Result<(Arc<dyn FleetStorage>, Option<String>)> {
    let Some(url) = database else {
        return Ok((Arc::new(SqliteStorage::open(dir)?), None));
    };
    let schema = format!("sync_bench_{}", std::process::id());
    let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
    admin.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
    let mut config: postgres::Config = url.parse()?;
    config.options(&format!("-csearch_path={schema}"));
    Ok((
        Arc::new(PostgresStorage::open_config(config, pool_size)?),
        Some(schema),
    ))
}

fn drop_schema(url: &str, schema: &str) -> Result<()> {
    let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
    Ok(())
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value> {
    let mut request = client.post(url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let value: serde_json::Value = response.json().await?;
    if !status.is_success() {
        bail!("the fleet answered {status}: {value}");
    }
    Ok(value)
}

/// One terminal's sales, made on the till, and its sync afterwards.
struct Terminal {
    store: String,
    enrolled: pos_sync::wire::EnrolResponse,
    journal: MemoryJournal,
}

#[tokio::main]
async fn main() -> Result<()> {
    let Options {
        sales,
        batch_entries,
        terminals,
        tenants,
        database,
    } = options()?;

    let dir = tempfile::tempdir()?;
    let pool_size = u32::try_from(terminals.clamp(4, 32)).unwrap_or(32);
    let (db, dir_path) = (database.clone(), dir.path().to_path_buf());
    let (storage, schema) = tokio::task::spawn_blocking(move || -> Result<_> {
        let (storage, schema) = open_storage(db.as_deref(), &dir_path, pool_size)?;
        server::add_operator(
            storage.as_ref(),
            "ops@bench.example",
            "bench-password",
            Timestamp::from_unix_ms(0),
        )?;
        Ok((storage, schema))
    })
    .await??;
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
    let token = login["token"].as_str().context("login token")?.to_owned();
    let mut stores = Vec::new();
    for n in 0..tenants {
        let tenant = post(
            &client,
            format!("{base}/api/v1/tenants"),
            &token,
            Some(json!({"name": format!("Bench {n}")})),
        )
        .await?;
        let tenant_id = tenant["id"].as_str().context("tenant id")?;
        let store = post(
            &client,
            format!("{base}/api/v1/tenants/{tenant_id}/stores"),
            &token,
            Some(json!({"name": "Bench store", "currency": "EUR"})),
        )
        .await?;
        stores.push(store["id"].as_str().context("store id")?.to_owned());
    }

    let catalogue = pos_core::demo::catalog()?;
    let products: Vec<_> = ["milk", "cola", "butter", "batteries"]
        .iter()
        .filter_map(|id| catalogue.get(&ProductId::new(*id)).cloned())
        .collect();
    let made = Instant::now();
    let start = now_ms();
    let mut fleet_terminals = Vec::new();
    let mut entry_count = 0;
    let mut bytes = 0;
    for n in 0..terminals {
        let store = stores[n % tenants].clone();
        let code = post(
            &client,
            format!("{base}/api/v1/stores/{store}/enrolment-codes"),
            &token,
            None,
        )
        .await?;
        let enrolled = pos_sync::http::enrol(
            &client,
            &base,
            code["code"].as_str().context("code")?,
            &format!("Bench till {n}"),
        )
        .await?;
        let mut till = SampleTill::new(enrolled.device.as_str(), &StoreId::new(store.clone()));
        // The first terminals take one more sale when SALES does not divide evenly.
        let own_sales = sales / terminals + usize::from(n < sales % terminals);
        let mut entries = Vec::new();
        for i in 0..own_sales {
            let product = &products[i % products.len()];
            entries.extend(till.sell(product, 1, start + i64::try_from(i)?)?);
        }
        entry_count += entries.len();
        bytes += entries
            .iter()
            .map(|e| serde_json::to_vec(e).map_or(0, |b| b.len()))
            .sum::<usize>();
        fleet_terminals.push(Terminal {
            store,
            enrolled,
            journal: MemoryJournal {
                entries,
                acked: 0,
                cursor: 0,
            },
        });
    }
    let made_s = made.elapsed().as_secs_f64();

    let synced = Instant::now();
    let mut syncs = Vec::new();
    for mut terminal in fleet_terminals {
        let client = client.clone();
        let base = base.clone();
        syncs.push(tokio::spawn(async move {
            let resume = ResumePoint {
                acked_seq: 0,
                outbox_last_seq: u64::try_from(terminal.journal.entries.len()).unwrap_or(u64::MAX),
                cursor: 0,
            };
            let mut machine = SyncMachine::new(
                SyncConfig {
                    batch_entries_max: batch_entries,
                    ..SyncConfig::new(terminal.enrolled.device.clone(), 1)
                },
                resume,
            );
            let fleet = FleetClient::new(client, &base, &terminal.enrolled.token);
            let outcome =
                run_until_caught_up(&mut machine, &mut terminal.journal, &fleet, now_ms, 100_000)
                    .await?;
            anyhow::ensure!(
                outcome == RunOutcome::CaughtUp,
                "sync did not catch up: {outcome:?}"
            );
            anyhow::ensure!(
                terminal.journal.acked == resume.outbox_last_seq,
                "not everything was acknowledged"
            );
            Ok(terminal.store)
        }));
    }
    for sync in syncs {
        sync.await??;
    }
    let sync_s = synced.elapsed().as_secs_f64();

    let mut listed = 0;
    for store in &stores {
        let page: Vec<serde_json::Value> = client
            .get(format!("{base}/api/v1/stores/{store}/sales"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        listed += page.len();
    }
    anyhow::ensure!(
        listed == sales,
        "the fleet lists {listed} sales, expected {sales}"
    );
    if let (Some(url), Some(schema)) = (database.clone(), schema) {
        tokio::task::spawn_blocking(move || drop_schema(&url, &schema)).await??;
    }

    let backend = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("database:         {backend}");
    println!("terminals:        {terminals} pushing at once, over {tenants} tenant(s)");
    println!("sales:            {sales}");
    println!(
        "journal entries:  {entry_count} ({:.1} MiB of JSON)",
        bytes as f64 / 1_048_576.0
    );
    println!("batch entries:    {batch_entries}");
    println!("made on the tills: {made_s:.2} s (not part of the sync figure)");
    println!(
        "sync to fleet:    {sync_s:.2} s = {:.0} sales/s, {:.0} events/s",
        sales as f64 / sync_s,
        entry_count as f64 / sync_s
    );
    println!("fleet lists:      {listed} sales");
    Ok(())
}
