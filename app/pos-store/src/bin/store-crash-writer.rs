//! Fault-test helper: records sales in a loop and prints each sale id on stdout once its
//! commit has returned. The crash test kills it with SIGKILL at random moments and checks
//! that every printed sale is in the store, whole.
//!
//! Usage: `store-crash-writer <data-dir> <device> <first-sale-number> <sales-max>`

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use pos_core::clock::Timestamp;
use pos_core::id::DeviceId;
use pos_store::Store;
use pos_store::sample::{SaleMaker, product};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, device, first, count] = args.as_slice() else {
        anyhow::bail!(
            "usage: store-crash-writer <data-dir> <device> <first-sale-number> <sales-max>"
        );
    };
    let first: u64 = first.parse().context("first sale number")?;
    let count: u64 = count.parse().context("sales max")?;
    let mut store = Store::open(&PathBuf::from(dir), DeviceId::new(device.as_str()))?;
    let maker = SaleMaker::new(device)?;
    let stdout = std::io::stdout();
    for n in first..first + count {
        // Five lines from a small set of products, so stock levels are shared across sales.
        let products: Vec<_> = (0..5)
            .map(|line| product((n * 7 + line * 3) % 40))
            .collect();
        let at = Timestamp::from_unix_ms(1_780_000_000_000 + i64::try_from(n)? * 1_000);
        let (sale, movements) = maker.sale(n, &products, at)?;
        store.complete_sale(&sale, &movements)?;
        let mut out = stdout.lock();
        writeln!(out, "{}", sale.id)?;
        out.flush()?;
    }
    Ok(())
}
