//! Benchmark: a bundle served to a terminal in HTTP Range pieces, as a resuming or streaming
//! client fetches it, and whole.
//!
//! A real fleet server (plain HTTP on 127.0.0.1, SQLite in a temporary directory) with one
//! enrolled terminal and one stored bundle of random bytes; the terminal fetches it through the
//! DDI artifact link with `Authorization: TargetToken`, first in pieces, then whole. It prints
//! requests per second and MiB/s, and checks that no range request wrote to the database.
//!
//! ```text
//! cargo run --release -p pos-fleet --example artifact_bench [-- BUNDLE_MIB [PIECE_KIB]]
//! ```
//! Not run in CI: figures come from here, never from timed assertions in tests.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pos_core::clock::Timestamp;
use pos_core::money::Currency;
use pos_fleet::auth;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::storage::FleetStorage;
use pos_fleet::updates::storage::{BundleRecord, UpdateStorage};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().context("arguments are whole numbers"))
        .collect::<Result<_>>()?;
    let bundle_mib = args.first().copied().unwrap_or(64);
    let piece_kib = args.get(1).copied().unwrap_or(128);

    let dir = tempfile::tempdir()?;
    let storage = Arc::new(SqliteStorage::open(dir.path())?);
    let now = Timestamp::from_unix_ms(1_800_000_000_000);
    let tenant = storage.create_tenant("Bench", now)?;
    let store = storage.create_store(
        &tenant.id,
        "Bench Mitte",
        Currency::EUR,
        time::UtcOffset::UTC,
        None,
        now,
    )?;
    storage.create_enrolment_code(&store.id, &auth::hash_token("CODE"), now.plus_ms(60_000))?;
    let token = auth::random_token()?;
    let terminal = storage.redeem_enrolment_code(
        &auth::hash_token("CODE"),
        "Till 1",
        &auth::hash_token(&token),
        None,
        now,
    )?;

    // A bundle of random bytes, stored as the upload path stores it.
    let len = usize::try_from(bundle_mib << 20)?;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let sha256 = hex(&Sha256::digest(&bytes));
    let bundles = dir.path().join(server::BUNDLES_DIR);
    std::fs::create_dir_all(&bundles)?;
    std::fs::write(bundles.join(format!("{sha256}.raucb")), &bytes)?;
    storage.save_bundle(&BundleRecord {
        id: "bundle-bench".into(),
        filename: "bench.raucb".into(),
        version: "1.0.0".into(),
        compatible: "open-pos-x86_64".into(),
        format: "verity".into(),
        size: bytes.len() as u64,
        sha1: String::new(),
        md5: String::new(),
        sha256,
        uploaded_at: now,
        uploaded_by: "bench".into(),
    })?;

    let config = FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let running =
        server::start_with_updates(&config, Transport::Plain, storage.clone(), storage.clone())
            .await?;
    let url = format!(
        "http://{}/{}/controller/v1/{}/softwaremodules/bundle-bench/artifacts/bench.raucb",
        running.addr,
        tenant.id.as_str(),
        terminal.id.as_str()
    );
    let client = reqwest::Client::new();
    let database = dir.path().join(pos_fleet::sqlite::DATABASE_FILE);
    let wal = dir
        .path()
        .join(format!("{}-wal", pos_fleet::sqlite::DATABASE_FILE));
    let size_of = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let before = (size_of(&database), size_of(&wal));

    let piece = usize::try_from(piece_kib << 10)?;
    let started = Instant::now();
    let mut assembled = Vec::with_capacity(len);
    let mut requests = 0u32;
    while assembled.len() < len {
        let first = assembled.len();
        let last = (first + piece - 1).min(len - 1);
        let response = client
            .get(&url)
            .header("authorization", format!("TargetToken {token}"))
            .header("range", format!("bytes={first}-{last}"))
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
            bail!("range request answered {}", response.status());
        }
        assembled.extend_from_slice(&response.bytes().await?);
        requests += 1;
    }
    let ranged = started.elapsed();
    if assembled != bytes {
        bail!("the pieces do not make the bundle");
    }

    let started = Instant::now();
    let whole = client
        .get(&url)
        .header("authorization", format!("TargetToken {token}"))
        .send()
        .await?
        .bytes()
        .await?;
    let single = started.elapsed();
    if whole.as_ref() != bytes.as_slice() {
        bail!("the whole download differs from the bundle");
    }
    let after = (size_of(&database), size_of(&wal));

    let mib = bundle_mib as f64;
    println!(
        "{bundle_mib} MiB in {requests} range requests of {piece_kib} KiB: {:.0} ms, \
         {:.0} requests/s, {:.0} MiB/s",
        ranged.as_secs_f64() * 1e3,
        f64::from(requests) / ranged.as_secs_f64(),
        mib / ranged.as_secs_f64()
    );
    println!(
        "{bundle_mib} MiB in one request: {:.0} ms, {:.0} MiB/s",
        single.as_secs_f64() * 1e3,
        mib / single.as_secs_f64()
    );
    println!(
        "database and WAL bytes before and after: {before:?} -> {after:?} ({})",
        if before == after {
            "no write"
        } else {
            "WRITTEN"
        }
    );
    Ok(())
}
