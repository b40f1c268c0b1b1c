//! How long a cashier waits for the till: each scan answered with a fresh view of the whole
//! screen (cart priced with promotions and tax, totals, tiles, held list), for baskets of 5, 30
//! and 100 scans of eight everyday products (repeat scans add to their line, as at a real
//! till), then payment in cash. Run with `cargo bench -p pos-till`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use pos_core::clock::Timestamp;
use pos_core::id::UserId;
use pos_till::{Intent, TenderChoice, Till};

const CODES: [&str; 8] = [
    "4006381333931",
    "4008452011236",
    "4014400901238",
    "2000000000015",
    "4006581020013",
    "5449000000996",
    "4005906003236",
    "4000417025005",
];
const SALES: u32 = 200;

fn logged_in(now: Timestamp) -> Till {
    let mut till = pos_till::demo_till(now).unwrap();
    till.handle(
        Intent::Login {
            user: UserId::new("anna"),
            pin: "1234".to_owned(),
        },
        now,
    )
    .unwrap();
    till.handle(
        Intent::Shift(pos_till::ShiftIntent::Open {
            total: "150".to_owned(),
        }),
        now,
    )
    .unwrap();
    till
}

fn main() {
    let now = Timestamp::from_unix_ms(1_772_445_600_000);
    for lines in [5_usize, 30, 100] {
        let mut till = logged_in(now);
        let mut scan_total = Duration::ZERO;
        let mut scan_worst = Duration::ZERO;
        let mut pay_total = Duration::ZERO;
        for _ in 0..SALES {
            for index in 0..lines {
                let started = Instant::now();
                till.handle(Intent::Scan(CODES[index % CODES.len()].to_owned()), now)
                    .unwrap();
                let view = till.view();
                let took = started.elapsed();
                std::hint::black_box(&view);
                scan_total += took;
                scan_worst = scan_worst.max(took);
            }
            let started = Instant::now();
            till.handle(Intent::StartPayment, now).unwrap();
            till.handle(
                Intent::AddTender {
                    kind: TenderChoice::Cash,
                    amount: String::new(),
                    reference: String::new(),
                },
                now,
            )
            .unwrap();
            std::hint::black_box(till.view());
            pay_total += started.elapsed();
        }
        let scans = SALES * u32::try_from(lines).unwrap();
        println!(
            "{lines:>3} scans per sale: scan + view mean {:>7.1} µs, worst {:>7.1} µs; pay + view mean {:>7.1} µs ({SALES} sales)",
            scan_total.as_secs_f64() * 1e6 / f64::from(scans),
            scan_worst.as_secs_f64() * 1e6,
            pay_total.as_secs_f64() * 1e6 / f64::from(SALES),
        );
    }
}
