//! Times the back-office reports over a year of generated sales and prints the figures
//! (see docs/benchmarks.md). A program, not a test: CI builds it but never runs it.
//!
//! Usage: `report-bench [--sales N] [--products N] [--runs N]`

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pos_core::clock::{MS_PER_DAY, Timestamp};
use pos_core::money::Currency;
use pos_reports::{Period, ReportData, ReportKind, csv, pdf, xlsx};
use pos_store::sample::{SaleMaker, product};
use time::macros::{date, offset};

struct Options {
    sales: u64,
    products: u64,
    runs: usize,
}

fn options() -> Result<Options> {
    let mut options = Options {
        sales: 100_000,
        products: 5_000,
        runs: 5,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sales" => options.sales = value.parse()?,
            "--products" => options.products = value.parse()?,
            "--runs" => options.runs = value.parse()?,
            other => bail!("unknown option {other}; see the usage in the source"),
        }
    }
    if options.products == 0 || options.runs == 0 {
        bail!("--products and --runs must be at least 1");
    }
    Ok(options)
}

/// A fixed sequence, so every run reports over the same sales.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn timed<T>(runs: usize, mut work: impl FnMut() -> Result<T>) -> Result<(Duration, Duration, T)> {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(work()?);
        times.push(started.elapsed());
    }
    let best = times.iter().min().copied().unwrap_or_default();
    let value = last.context("no run")?;
    Ok((best, median(times), value))
}

/// The process's peak resident memory, from Linux's `/proc/self/status`.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn main() -> Result<()> {
    let options = options()?;
    let catalogue: Vec<_> = (0..options.products).map(product).collect();
    let maker = SaleMaker::new("T1")?;
    let year_start = date!(2025 - 01 - 01);
    let period = Period::new(year_start, date!(2025 - 12 - 31), offset!(UTC))?;
    let spacing_ms = 365 * MS_PER_DAY / i64::try_from(options.sales.max(1))?;
    let mut random = Lcg(42);
    let mut data = ReportData::empty(Currency::EUR);
    let started = Instant::now();
    let mut lines = 0u64;
    for n in 0..options.sales {
        let count = 1 + random.below(5);
        let basket: Vec<_> = (0..count)
            .filter_map(|_| {
                let index = usize::try_from(random.below(options.products)).ok()?;
                catalogue.get(index).cloned()
            })
            .collect();
        lines += u64::try_from(basket.len())?;
        let at = Timestamp::from_unix_ms(period.start().unix_ms() + i64::try_from(n)? * spacing_ms);
        let (sale, _) = maker.sale(n, &basket, at)?;
        data.sales.push(sale);
    }
    println!(
        "generated {} sales ({lines} lines, {} products) over {} in {:.1} s",
        data.sales.len(),
        options.products,
        period.label(),
        started.elapsed().as_secs_f64()
    );

    if let Some(mib) = peak_memory_mib() {
        println!("peak memory with the sales in memory: {mib} MiB");
    }
    let (best, median, table) = timed(options.runs, || {
        Ok(ReportKind::SalesByProduct.build(&period, &data)?)
    })?;
    println!(
        "sales by product: {} rows, best {:.1} ms, median {:.1} ms of {} runs",
        table.rows.len(),
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        options.runs
    );
    for kind in ReportKind::ALL {
        let (best, _, built) = timed(options.runs, || Ok(kind.build(&period, &data)?))?;
        println!(
            "  {:<22} {:>6} rows  best {:>7.1} ms",
            kind.title(),
            built.rows.len(),
            best.as_secs_f64() * 1e3
        );
    }
    let (csv_time, _, csv_bytes) = timed(options.runs, || Ok(csv::to_csv(&table)?))?;
    let (xlsx_time, _, xlsx_bytes) = timed(options.runs, || Ok(xlsx::to_xlsx(&table)?))?;
    let (pdf_time, _, pdf_bytes) = timed(options.runs, || Ok(pdf::to_pdf(&table)))?;
    for (format, time, size) in [
        ("CSV", csv_time, csv_bytes.len()),
        ("XLSX", xlsx_time, xlsx_bytes.len()),
        ("PDF", pdf_time, pdf_bytes.len()),
    ] {
        println!(
            "export sales by product to {format:<4}: best {:>7.1} ms, {:>8} bytes",
            time.as_secs_f64() * 1e3,
            size
        );
    }
    Ok(())
}
