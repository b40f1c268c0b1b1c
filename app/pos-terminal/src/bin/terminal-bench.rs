//! `terminal-bench`: how fast the terminal starts and how much memory it holds with a
//! supermarket-sized catalogue, after a scripted session through the real till, store and
//! simulated printer.
//!
//! ```text
//! cargo run --release -p pos-terminal --bin terminal-bench -- [--products N] [--sales N] [--data DIR]
//! ```
//!
//! Figures: seeding time (once per store), then, in a fresh process as a terminal starts
//! after a reboot, cold start (open the encrypted store, build the till, draw its first view),
//! time per sale, resident memory (VmRSS) and its peak (VmHWM) after the session with every
//! receipt printed by the simulated printer.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pos_core::id::{DeviceId, UserId};
use pos_store::Store;
use pos_store::sample::ean13;
use pos_terminal::config::PrinterLine;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::seed::seed_demo_shop;
use pos_terminal::terminal::{DataDir, open_terminal};
use pos_till::{Intent, TenderChoice, Till};
use pos_ui::system_now;

struct Options {
    products: u64,
    sales: u64,
    data: Option<PathBuf>,
    /// Set in the child process that measures a start on an existing store.
    measure: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        products: 100_000,
        sales: 300,
        data: None,
        measure: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if flag == "--measure" {
            options.measure = true;
            continue;
        }
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--products" => options.products = value.parse().context("--products takes a count")?,
            "--sales" => options.sales = value.parse().context("--sales takes a count")?,
            "--data" => options.data = Some(PathBuf::from(value)),
            other => bail!("unknown argument `{other}`; use --products N --sales N --data DIR"),
        }
    }
    Ok(options)
}

/// A line of /proc/self/status in kB, such as VmRSS.
fn proc_status_kb(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("/proc/self/status has no {field}"))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// Logs Anna in and rings up `sales` cash sales of three products each; returns the time
/// taken and the slowest sale.
fn run_session(till: &mut Till, products: u64, sales: u64) -> anyhow::Result<(Duration, Duration)> {
    let mut send = |intent: Intent| {
        till.handle(intent, system_now())
            .map_err(|error| anyhow::anyhow!("{error}"))
    };
    send(Intent::Login {
        user: UserId::new("anna"),
        pin: "1234".to_owned(),
    })?;
    let session = Instant::now();
    let mut slowest = Duration::ZERO;
    for sale in 0..sales {
        let started = Instant::now();
        for line in 0..3 {
            // Spread over the catalogue so lookups do not all hit the same pages.
            let n = 1 + (sale * 7_919 + line * 104_729) % products.max(1);
            send(Intent::Scan(ean13(n)))?;
        }
        send(Intent::StartPayment)?;
        send(Intent::AddTender {
            kind: TenderChoice::Cash,
            amount: String::new(),
            reference: String::new(),
        })?;
        send(Intent::NextCustomer)?;
        slowest = slowest.max(started.elapsed());
    }
    Ok((session.elapsed(), slowest))
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    match &options.data {
        Some(dir) if options.measure => measure(&options, &DataDir::new(dir)),
        _ => seed_then_measure(&options),
    }
}

/// Seeds a new store, then measures a start on it in a fresh process, so neither the
/// seeding's memory nor its warm caches count.
fn seed_then_measure(options: &Options) -> anyhow::Result<()> {
    let data = match &options.data {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("terminal-bench-{}", std::process::id())),
    };
    if data.join(pos_store::DATABASE_FILE).exists() {
        bail!(
            "{} already holds a store; give an empty --data directory",
            data.display()
        );
    }
    let seeding = Instant::now();
    {
        let mut store = Store::open(&data, DeviceId::new("T1"))?;
        seed_demo_shop(&mut store, system_now(), options.products)?;
    }
    println!(
        "catalogue            {} generated products (+ the demo shop's own)",
        options.products
    );
    println!("seeding (once)       {:>9.0} ms", ms(seeding.elapsed()));
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("--measure")
        .args(["--products", &options.products.to_string()])
        .args(["--sales", &options.sales.to_string()])
        .arg("--data")
        .arg(&data)
        .status()?;
    if options.data.is_none() {
        std::fs::remove_dir_all(&data)
            .with_context(|| format!("cleaning up {}", data.display()))?;
    }
    if !status.success() {
        bail!("the measuring run failed: {status}");
    }
    Ok(())
}

/// Starts the terminal on the seeded store in `data`, sells, and reports.
fn measure(options: &Options, data: &DataDir) -> anyhow::Result<()> {
    let peripherals = Rc::new(PeripheralService::start(
        PeripheralSettings {
            queue_dir: data.print_queue(),
            receipts_dir: data.receipts(),
            line: PrinterLine::Simulated { folder: None },
            paper: pos_printer::encode::Paper::MM80_42,
            drawer: pos_printer::drawer::DrawerKick::default(),
            drawer_watch: pos_terminal::config::DrawerWatchSettings::default(),
        },
        |_| {},
    )?);
    let rss_before_start = proc_status_kb("VmRSS")?;
    let cold = Instant::now();
    let mut opened = open_terminal(
        &data.root,
        DeviceId::new("T1"),
        options.products,
        peripherals.clone(),
        system_now,
    )?;
    let first_view = opened.till.view();
    let cold = cold.elapsed();
    let rss_after_start = proc_status_kb("VmRSS")?;
    if first_view.login.people.is_empty() {
        bail!("the first view shows nobody to log in");
    }
    let (session, slowest) = run_session(&mut opened.till, options.products, options.sales)?;
    // Every receipt printed: the worker empties the queue before it stops.
    drop(opened);
    let printing = Instant::now();
    match Rc::try_unwrap(peripherals) {
        Ok(service) => drop(service),
        Err(_) => bail!("the printer service is still in use"),
    }
    let printing = printing.elapsed();
    let rss_after_session = proc_status_kb("VmRSS")?;
    let peak = proc_status_kb("VmHWM")?;

    let sales = options.sales.max(1) as f64;
    println!(
        "cold start           {:>9.1} ms  (open store, build till, first view)",
        ms(cold)
    );
    println!(
        "sales                {:>9} sales of 3 lines, cash; mean {:.1} ms, slowest {:.1} ms",
        options.sales,
        ms(session) / sales,
        ms(slowest)
    );
    println!(
        "printer catch-up     {:>9.0} ms after the last sale",
        ms(printing)
    );
    println!("VmRSS before start   {:>9} kB", rss_before_start);
    println!("VmRSS after start    {:>9} kB", rss_after_start);
    println!("VmRSS after session  {:>9} kB", rss_after_session);
    println!("VmHWM (peak)         {:>9} kB", peak);
    Ok(())
}
