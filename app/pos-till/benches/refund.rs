//! How long a cashier waits for the till during a simple refund: the receipt scanned, the
//! reason tapped, the refund confirmed, each answered with a fresh view, in a till whose ledger
//! already holds a busy day of sales (the in-memory ledger looks sales up by reading its
//! journal, so this is its worst case). Run with `cargo bench -p pos-till --bench refund`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use pos_core::clock::Timestamp;
use pos_core::id::UserId;
use pos_till::{Intent, TenderChoice, Till};

const CODES: [&str; 5] = [
    "4006381333931",
    "4008452011236",
    "4006581020013",
    "5449000000996",
    "4000417025005",
];
const REFUNDS: usize = 200;

fn main() {
    let now = Timestamp::from_unix_ms(1_772_445_600_000);
    for sales in [100_usize, 1_000] {
        let mut till: Till = pos_till::demo_till(now).unwrap();
        let act = |till: &mut Till, intent: Intent| till.handle(intent, now).unwrap();
        act(
            &mut till,
            Intent::Login {
                user: UserId::new("sara"),
                pin: "5555".to_owned(),
            },
        );
        let mut receipts = Vec::with_capacity(sales);
        for _ in 0..sales {
            for code in CODES {
                act(&mut till, Intent::Scan(code.to_owned()));
            }
            act(&mut till, Intent::StartPayment);
            act(
                &mut till,
                Intent::AddTender {
                    kind: TenderChoice::Card,
                    amount: String::new(),
                    reference: "AUTH".to_owned(),
                },
            );
            receipts.push(till.view().payment.unwrap().receipt_number.unwrap());
            act(&mut till, Intent::NextCustomer);
        }
        let mut steps = [Duration::ZERO; 3];
        let mut worst = Duration::ZERO;
        for receipt in receipts
            .iter()
            .step_by((sales / REFUNDS).max(1))
            .take(REFUNDS)
        {
            for (index, intent) in [
                Intent::Scan(receipt.clone()),
                Intent::ToggleReturn(pos_core::cart::LineNo(3)),
                Intent::ReturnReason("changed_mind".to_owned()),
                Intent::ConfirmRefund,
            ]
            .into_iter()
            .enumerate()
            {
                let started = Instant::now();
                act(&mut till, intent);
                std::hint::black_box(till.view());
                let took = started.elapsed();
                worst = worst.max(took);
                let step = match index {
                    0 => 0,
                    1 | 2 => 1,
                    _ => 2,
                };
                steps[step] += took;
            }
            act(&mut till, Intent::NextCustomer);
        }
        let refunds = f64::from(u32::try_from(REFUNDS.min(sales)).unwrap());
        let mean = |d: Duration| d.as_secs_f64() * 1e6 / refunds;
        println!(
            "{sales:>5} sales in the ledger: scan receipt + view {:>8.1} µs, line and reason + views {:>8.1} µs, confirm + view {:>8.1} µs (means); worst step {:>8.1} µs ({refunds} refunds)",
            mean(steps[0]),
            mean(steps[1]),
            mean(steps[2]),
            worst.as_secs_f64() * 1e6,
        );
    }
}
