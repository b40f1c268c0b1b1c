//! How long 10,000 sales made offline on one terminal take to reach the fleet over loopback:
//! a real encrypted store filled while sync is off, then the real sync agent started against
//! a fleet on an SQLite file. Prints the figures.
//!
//! ```text
//! cargo run --release -p tests --example offline_catch_up -- [SALES]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use pos_store::sample::product;
use support::{Fleet, Terminal, now, quick_settings};

fn main() {
    let sales: u64 = std::env::args()
        .nth(1)
        .map_or(10_000, |n| n.parse().expect("SALES is a number"));
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(fleet_dir.path());
    let (tenant, store) = fleet.tenant("Acme");
    let products: Vec<_> = (1..=20).map(product).collect();
    for p in &products {
        fleet.save_product(&tenant, p);
    }
    let mut till = Terminal::open("T1", &store);
    let filling = Instant::now();
    for n in 1..=sales {
        let start = usize::try_from(n % 18).unwrap();
        let (sale, moves) = till
            .maker
            .sale(n, &products[start..start + 2], now())
            .unwrap();
        till.store.complete_sale(&sale, &moves).unwrap();
    }
    let entries = till.store.outbox_last_seq().unwrap();
    let filled = filling.elapsed();

    let started = Instant::now();
    let since = now();
    let mut settings = quick_settings(&fleet.base(), "Till 1", Some(fleet.enrolment_code(&store)));
    settings.pull_interval = Duration::from_secs(30);
    till.start_sync(settings);
    till.wait_caught_up(Duration::from_secs(600), since);
    let took = started.elapsed();
    assert_eq!(fleet.sales(&store).len() as u64, sales);
    println!("offline sales:              {sales}");
    println!("journal entries:            {entries}");
    println!("recording them (till):      {:.1} s", filled.as_secs_f64());
    println!("catching up (sync agent):   {:.2} s", took.as_secs_f64());
    println!(
        "throughput:                 {:.0} sales/s, {:.0} entries/s",
        sales as f64 / took.as_secs_f64(),
        entries as f64 / took.as_secs_f64()
    );
}
