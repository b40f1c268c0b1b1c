//! Benchmark: how fast the owners' dashboard answers over a year of a chain's sales.
//!
//! A real fleet server (plain HTTP on 127.0.0.1) over SQLite in a temporary directory, one
//! tenant with STORES stores (default 20) and a terminal in each. Every store sells SALES
//! sales a day (default 60; one to three pieces of a demo product, card or cash, between
//! 08:00 and 20:00 UTC) on each of the last 365 days; the sales are made through `pos-core` as a
//! till makes them and taken in through the fleet's own push (the storage call the sync API
//! makes), so the dashboard's summary tables are filled exactly as in the field. Then the
//! owner logs in through the login form and every page is fetched over HTTP ROUNDS times
//! (default 20): the figures printed are wall-clock times per request as a browser would wait.
//!
//! ```text
//! cargo run --release -p pos-fleet --example dashboard_bench -- [--stores N] [--sales N]
//!     [--rounds N]
//! ```
//! Not run in CI: figures come from here, never from timed assertions in tests.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId};
use pos_core::tender::TenderKind;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::storage::FleetStorage;
use pos_sync::sample::SampleTill;
use pos_sync::wire::{PROTOCOL, PushBatch};
use serde_json::json;

const DAY_MS: i64 = 24 * 60 * 60 * 1_000;

struct Options {
    stores: usize,
    sales_per_day: usize,
    rounds: usize,
}

fn options() -> Result<Options> {
    let mut options = Options {
        stores: 20,
        sales_per_day: 60,
        rounds: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize> {
            let text = args
                .next()
                .with_context(|| format!("{name} needs a number"))?;
            text.parse()
                .with_context(|| format!("{name} {text}: not a number"))
        };
        match arg.as_str() {
            "--stores" => options.stores = number("--stores")?,
            "--sales" => options.sales_per_day = number("--sales")?,
            "--rounds" => options.rounds = number("--rounds")?,
            other => bail!("unknown argument {other}"),
        }
    }
    if options.stores == 0 || options.rounds == 0 {
        bail!("give at least one store and one round");
    }
    Ok(options)
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

/// A small deterministic sequence, so every run sells the same.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let storage: Arc<dyn FleetStorage> = {
        let path = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || -> Result<Arc<dyn FleetStorage>> {
            let storage: Arc<dyn FleetStorage> = Arc::new(SqliteStorage::open(&path)?);
            server::add_operator(
                storage.as_ref(),
                "ops@bench.example",
                "bench-password",
                Timestamp::from_unix_ms(0),
            )?;
            Ok(storage)
        })
        .await??
    };
    let config = FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let running = server::start_with(&config, Transport::Plain, storage.clone()).await?;
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
    let tenant = post(
        &client,
        format!("{base}/api/v1/tenants"),
        &token,
        Some(json!({"name": "Bench Chain"})),
    )
    .await?;
    let tenant_id = tenant["id"].as_str().context("tenant id")?.to_owned();
    post(
        &client,
        format!("{base}/api/v1/tenants/{tenant_id}/accounts"),
        &token,
        Some(json!({"email": "owner@bench.example", "password": "owner-password", "role": "tenant_owner"})),
    )
    .await?;
    let catalogue = pos_core::demo::catalog()?;
    let products: Vec<_> = catalogue
        .products()
        .filter(|p| p.parent.is_none() && !p.unit.is_weighed())
        .cloned()
        .collect();
    for product in &products {
        post(
            &client,
            format!("{base}/api/v1/tenants/{tenant_id}/products"),
            &token,
            Some(serde_json::to_value(product)?),
        )
        .await?;
    }
    let mut tills = Vec::new();
    for n in 0..options.stores {
        let store = post(
            &client,
            format!("{base}/api/v1/tenants/{tenant_id}/stores"),
            &token,
            Some(json!({"name": format!("Branch {:02}", n + 1), "currency": "EUR"})),
        )
        .await?;
        let store_id = store["id"].as_str().context("store id")?.to_owned();
        let code = post(
            &client,
            format!("{base}/api/v1/stores/{store_id}/enrolment-codes"),
            &token,
            None,
        )
        .await?;
        let code = code["code"].as_str().context("enrolment code")?;
        let enrolled = pos_sync::http::enrol(&client, &base, code, &format!("Till {}", n + 1))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tills.push((
            enrolled.device.clone(),
            SampleTill::new(enrolled.device.as_str(), &StoreId::new(store_id)),
        ));
    }

    // A year of trading, taken in day by day through the fleet's push.
    let now = pos_fleet::api::now().unix_ms();
    let first_day = (now / DAY_MS - 364) * DAY_MS;
    let started = Instant::now();
    let mut random = Lcg(7);
    let mut sales = 0usize;
    let mut entries_stored = 0usize;
    for day in 0..365 {
        let day_start = first_day + day * DAY_MS;
        let mut batches = Vec::new();
        for (device, till) in &mut tills {
            let mut entries = Vec::new();
            for k in 0..options.sales_per_day {
                let spread = 12 * 60 * 60 * 1_000 / i64::try_from(options.sales_per_day.max(1))?;
                let at = day_start
                    + 8 * 60 * 60 * 1_000
                    + i64::try_from(k)? * spread
                    + i64::try_from(random.next() % 60_000)?;
                if at > now {
                    break;
                }
                let product = &products[usize::try_from(random.next())? % products.len()];
                let quantity = i64::try_from(random.next() % 3 + 1)?;
                let tender = match random.next() % 10 {
                    0..=3 => TenderKind::Cash,
                    4 => TenderKind::MobileWallet,
                    _ => TenderKind::Card,
                };
                entries.extend(till.sell_paid(product, quantity, tender, at)?);
                sales += 1;
            }
            batches.push((device.clone(), entries));
        }
        let storage = storage.clone();
        entries_stored += tokio::task::spawn_blocking(move || -> Result<usize> {
            let mut stored = 0;
            for (device, entries) in batches {
                let terminal = storage
                    .terminal(&DeviceId::new(device.as_str()))?
                    .context("the enrolled terminal")?;
                for chunk in entries.chunks(500) {
                    let batch = PushBatch {
                        protocol: PROTOCOL,
                        device: device.clone(),
                        entries: chunk.to_vec(),
                    };
                    storage.push(&terminal, &batch, pos_fleet::api::now())?;
                    stored += chunk.len();
                }
            }
            Ok(stored)
        })
        .await??;
    }
    let filled = started.elapsed();
    let size = std::fs::metadata(dir.path().join(pos_fleet::sqlite::DATABASE_FILE))?.len();
    println!(
        "{} stores, {sales} sales ({entries_stored} journal entries) over 365 days taken in \
         through the push in {:.1} s; database {:.0} MiB",
        options.stores,
        filled.as_secs_f64(),
        size as f64 / 1024.0 / 1024.0
    );

    // The owner's pages, with the session cookie of the login form.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = browser
        .post(format!("{base}/ui/login"))
        .form(&[
            ("email", "owner@bench.example"),
            ("password", "owner-password"),
        ])
        .send()
        .await?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .context("the login set no cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let today = Timestamp::from_unix_ms(now).to_utc().date();
    let year_ago = today - time::Duration::days(364);
    let month_ago = today - time::Duration::days(29);
    let t = format!("/ui/t/{tenant_id}");
    let pages = [
        ("overview, last 7 days", t.clone()),
        (
            "overview, 30 days",
            format!("{t}?from={month_ago}&to={today}"),
        ),
        (
            "overview, a year",
            format!("{t}?from={year_ago}&to={today}"),
        ),
        (
            "overview JSON, a year",
            format!("{t}/overview.json?from={year_ago}&to={today}"),
        ),
        ("sales, last 7 days", format!("{t}/sales")),
        (
            "sales, a year",
            format!("{t}/sales?from={year_ago}&to={today}"),
        ),
        ("stock", format!("{t}/stock")),
        ("terminals", format!("{t}/terminals")),
        ("catalogue", format!("{t}/catalogue")),
        (
            "export branches.csv, a year",
            format!("{t}/export/branches.csv?from={year_ago}&to={today}"),
        ),
        (
            "export products.xlsx, a year",
            format!("{t}/export/products.xlsx?from={year_ago}&to={today}"),
        ),
        (
            "export daily.pdf, a year",
            format!("{t}/export/daily.pdf?from={year_ago}&to={today}"),
        ),
    ];
    println!(
        "{:<32} {:>9} {:>9} {:>9} {:>9}",
        "page", "median ms", "p95 ms", "max ms", "bytes"
    );
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(options.rounds);
        let mut bytes = 0;
        for _ in 0..options.rounds {
            let started = Instant::now();
            let response = browser
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            times.push(started.elapsed().as_secs_f64() * 1_000.0);
            if !status.is_success() {
                bail!(
                    "{path} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            bytes = body.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<32} {:>9.1} {:>9.1} {:>9.1} {bytes:>9}",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times.last().copied().unwrap_or(0.0)
        );
    }
    running.task.abort();
    Ok(())
}
