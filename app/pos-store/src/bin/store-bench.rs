//! Store benchmark: a generated catalogue of a million products, then barcode lookups, name
//! searches, durable sale commits (encrypted and plain), journal-only commits, opening time
//! and CSV import speed. Prints figures; asserts nothing.
//!
//! `cargo run --release -p pos-store --bin store-bench -- [--products N] [--sales N] [--dir PATH]`
//!
//! The directory must be on the disk being measured (not tmpfs, where fsync is free); it is
//! emptied first. Default: `target/store-bench`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, DrawerReason};
use pos_core::id::{DeviceId, StoreId, UserId};
use pos_core::money::Currency;
use pos_store::csv_io::{ImportMode, ImportOptions};
use pos_store::sample::{IMPORT_CHUNK, SaleMaker, ean13, import_catalogue, product};
use pos_store::{Encryption, Store};

struct Args {
    products: u64,
    sales: u64,
    dir: PathBuf,
}

fn args() -> Result<Args> {
    let mut args = Args {
        products: 1_000_000,
        sales: 3_000,
        dir: PathBuf::from("target/store-bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--products" => args.products = value.parse()?,
            "--sales" => args.sales = value.parse()?,
            "--dir" => args.dir = PathBuf::from(value),
            other => bail!("unknown option {other}"),
        }
    }
    Ok(args)
}

/// xorshift64, seeded: the same queries every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

struct Stats(Vec<Duration>);

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
        sorted.get(rank - 1).copied().unwrap_or_default()
    }

    fn line(&self, what: &str) -> String {
        format!(
            "| {what} | {} | {} | {} | {} |",
            self.0.len(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            ms(self.percentile(1.0))
        )
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1_000.0)
}

fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration)> {
    let start = Instant::now();
    let value = f()?;
    Ok((value, start.elapsed()))
}

fn fresh_dir(path: &Path) -> Result<()> {
    if path.exists() {
        fs::remove_dir_all(path).with_context(|| format!("empty {}", path.display()))?;
    }
    fs::create_dir_all(path)?;
    Ok(())
}

fn device() -> DeviceId {
    DeviceId::new("BENCH")
}

fn import_options() -> ImportOptions {
    ImportOptions {
        currency: Currency::EUR,
        store: StoreId::new("berlin-mitte"),
        actor: UserId::new("bench"),
        now: Timestamp::from_unix_ms(1_780_000_000_000),
        mode: ImportMode::AllOrNothing,
    }
}

fn build_catalogue(store: &mut Store, products: u64) -> Result<()> {
    let took = import_catalogue(store, 0..products, None, &import_options())?;
    if let Some(first) = took.first() {
        println!(
            "| CSV import of {} products (empty catalogue, one transaction) | {:.2} s |",
            products.min(IMPORT_CHUNK),
            first.as_secs_f64()
        );
    }
    Ok(())
}

fn sale_commits(store: &mut Store, count: u64, catalogue: u64, label: &str) -> Result<()> {
    let maker = SaleMaker::new("BENCH")?;
    let mut dice = Dice(0x5eed_0001);
    let mut samples = Vec::with_capacity(count as usize);
    let started = Instant::now();
    for n in 0..count {
        let products: Vec<_> = (0..5).map(|_| product(dice.below(catalogue))).collect();
        let at = Timestamp::from_unix_ms(1_780_000_000_000 + i64::try_from(n)? * 1_000);
        let (sale, movements) = maker.sale(n + 1, &products, at)?;
        let start = Instant::now();
        store.complete_sale(&sale, &movements)?;
        samples.push(start.elapsed());
    }
    let elapsed = started.elapsed();
    let committing: Duration = samples.iter().sum();
    println!("{}", Stats(samples).line(label));
    println!(
        "|   sustained, one writer: commits only / with the till's sale building | {:.0} / {:.0} sales/s |",
        count as f64 / committing.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn journal_only_commits(store: &mut Store, count: u64, label: &str) -> Result<()> {
    // Seven journal-only events: the same number of entries as a five-line cash sale.
    let events = vec![DomainEvent::DrawerOpened(DrawerReason::NoSale); 7];
    let mut samples = Vec::with_capacity(count as usize);
    for n in 0..count {
        let at = Timestamp::from_unix_ms(1_790_000_000_000 + i64::try_from(n)?);
        let start = Instant::now();
        store.record(&UserId::new("bench"), at, &events)?;
        samples.push(start.elapsed());
    }
    println!("{}", Stats(samples).line(label));
    Ok(())
}

fn fsync_probe(dir: &Path) -> Result<()> {
    let path = dir.join("fsync-probe");
    let mut file = fs::File::create(&path)?;
    let block = [0u8; 4096];
    let mut samples = Vec::new();
    for _ in 0..500 {
        let start = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(start.elapsed());
    }
    drop(file);
    fs::remove_file(&path)?;
    println!(
        "{}",
        Stats(samples).line("disk probe: 4 KiB append + fdatasync")
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = args()?;
    let encrypted_dir = args.dir.join("encrypted");
    let plain_dir = args.dir.join("plain");
    fresh_dir(&encrypted_dir)?;
    fresh_dir(&plain_dir)?;
    println!(
        "store-bench: {} products, {} sales, in {}",
        args.products,
        args.sales,
        args.dir.display()
    );
    println!();
    println!("| measurement | n | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    fsync_probe(&args.dir)?;

    let mut store = Store::open(&encrypted_dir, device())?;
    let (_, took) = timed(|| build_catalogue(&mut store, args.products))?;
    println!(
        "| catalogue of {} products built (CSV import, 100,000 per transaction) | {:.1} s |",
        args.products,
        took.as_secs_f64()
    );
    drop(store);
    let size = fs::metadata(encrypted_dir.join(pos_store::DATABASE_FILE))?.len();
    println!("| database size | {:.0} MB |", size as f64 / 1e6);

    let mut opens = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let store = Store::open(&encrypted_dir, device())?;
        let first = store.product_by_barcode(&ean13(args.products / 2))?;
        opens.push(start.elapsed());
        if first.is_none() {
            bail!("the catalogue lacks product {}", args.products / 2);
        }
    }
    println!(
        "{}",
        Stats(opens).line("open (key, schema check, migrations) + first barcode lookup")
    );

    let mut store = Store::open(&encrypted_dir, device())?;
    let mut dice = Dice(0x5eed_0002);
    let mut lookups = Vec::new();
    for _ in 0..20_000 {
        let code = ean13(dice.below(args.products));
        let start = Instant::now();
        let found = store.product_by_barcode(&code)?;
        lookups.push(start.elapsed());
        if found.is_none() {
            bail!("barcode {code} not found");
        }
    }
    println!(
        "{}",
        Stats(lookups).line(&format!(
            "barcode lookup → full product (random, {} catalogue)",
            args.products
        ))
    );

    let queries: &[(&str, &[&str])] = &[
        (
            "2-letter prefix",
            &["ka", "no", "bi", "so", "gr", "mi", "fr", "te"],
        ),
        (
            "3-letter prefix",
            &["kal", "nor", "alp", "son", "ber", "mir", "ter", "vit"],
        ),
        (
            "4-letter noun prefix",
            &[
                "choc", "coff", "yogh", "butt", "toma", "deter", "sham", "must",
            ],
        ),
        (
            "two prefixes",
            &[
                "kalih choc",
                "nord milk",
                "alpen org",
                "bio coff",
                "terra past",
                "vita crisp",
            ],
        ),
        (
            "brand + noun + size",
            &[
                "kalihof chocolate 100g",
                "nordgut milk 1l",
                "sonnenhof coffee 500g",
            ],
        ),
    ];
    for (kind, words) in queries {
        let mut samples = Vec::new();
        let mut hits = 0;
        for round in 0..400 {
            let query = words[round % words.len()];
            let start = Instant::now();
            hits += store.search_products(query, 20)?.len();
            samples.push(start.elapsed());
        }
        println!(
            "{}",
            Stats(samples).line(&format!(
                "name search, first 20, {kind} (avg {} hits)",
                hits / 400
            ))
        );
    }

    sale_commits(
        &mut store,
        args.sales,
        args.products,
        &format!(
            "sale commit, 5 lines + 7 journal entries, SQLCipher, {} catalogue",
            args.products
        ),
    )?;
    journal_only_commits(
        &mut store,
        args.sales / 3,
        "journal-only commit, 7 entries, SQLCipher",
    )?;
    drop(store);

    let mut plain = Store::open_with(&plain_dir, device(), Encryption::None)?;
    build_catalogue(&mut plain, 100_000)?;
    sale_commits(
        &mut plain,
        args.sales,
        100_000,
        "sale commit, same, plain SQLite (100k catalogue)",
    )?;
    journal_only_commits(
        &mut plain,
        args.sales / 3,
        "journal-only commit, 7 entries, plain SQLite",
    )?;
    drop(plain);

    let small_dir = args.dir.join("encrypted-small");
    fresh_dir(&small_dir)?;
    let mut small = Store::open(&small_dir, device())?;
    build_catalogue(&mut small, 100_000)?;
    sale_commits(
        &mut small,
        args.sales,
        100_000,
        "sale commit, same, SQLCipher (100k catalogue)",
    )?;
    Ok(())
}
