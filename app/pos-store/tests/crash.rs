//! Power-cut safety: a writer process records sales and is killed with SIGKILL at random
//! moments, many times. After each kill the store opens, the journal chain verifies, every
//! sale is whole or absent, stock equals the sum of its movements, and every sale the writer
//! reported as committed is there.
//!
//! 12 kills by default (a few seconds); `POS_SLOW_TESTS=1` runs 200.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use pos_core::id::SaleId;
use rust_decimal::Decimal;
use support::{open, raw};

fn kills() -> u64 {
    if std::env::var_os("POS_SLOW_TESTS").is_some() {
        200
    } else {
        12
    }
}

/// xorshift64: enough randomness for kill times, reproducible from the printed seed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[test]
fn sales_survive_being_killed_at_random_points() {
    let seed = std::env::var("POS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test seed {seed} (set POS_CRASH_SEED to repeat)");
    let mut dice = Dice(seed);
    let dir = tempfile::tempdir().unwrap();
    // Make the store (and its key) before the first kill.
    drop(open(dir.path()));
    let mut reported_total = 0;
    for round in 0..kills() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store-crash-writer"))
            .arg(dir.path())
            .arg("T1")
            .arg((round * 1_000_000 + 1).to_string())
            .arg("100000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map(Result::unwrap)
                .collect::<Vec<String>>()
        });
        std::thread::sleep(Duration::from_millis(20 + dice.below(200)));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let reported = reader.join().unwrap();
        if status.success() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("the writer finished before it was killed: {stderr}");
        }
        reported_total += reported.len();

        let store = open(dir.path());
        let chain = store.verify_journal().unwrap();
        assert!(chain.is_intact(), "round {round}: {:?}", chain.first_break);
        for id in &reported {
            assert!(
                store.sale(&SaleId::new(id.as_str())).unwrap().is_some(),
                "round {round}: sale {id} was reported committed but is missing"
            );
        }
        drop(store);
        assert_whole_or_absent(&raw(dir.path()), round);
    }
    assert!(
        reported_total > 0,
        "no sale was ever committed before a kill"
    );
    println!("{reported_total} sales committed over {} kills", kills());
}

fn assert_whole_or_absent(connection: &rusqlite::Connection, round: u64) {
    let count = |sql: &str| {
        connection
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let sales = count("SELECT count(*) FROM sale");
    assert_eq!(
        count("SELECT count(*) FROM sale_line"),
        sales * 5,
        "round {round}: lines"
    );
    assert_eq!(
        count("SELECT count(*) FROM sale_tender"),
        sales,
        "round {round}: tenders"
    );
    assert_eq!(
        count("SELECT count(*) FROM stock_movement"),
        sales * 5,
        "round {round}: movements"
    );
    assert_eq!(
        count("SELECT count(*) FROM journal WHERE kind = 'sale_completed'"),
        sales
    );
    assert_eq!(
        count("SELECT count(*) FROM journal WHERE kind = 'stock_moved'"),
        sales * 5
    );
    assert_eq!(
        count("SELECT count(*) FROM journal WHERE kind = 'drawer_opened'"),
        sales
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM sale s WHERE (SELECT count(*) FROM sale_line l WHERE l.sale = s.id) <> 5"
        ),
        0,
        "round {round}: a sale with missing lines"
    );
    // Stock is the sum of its movements, to the last unit.
    let mut sums: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut statement = connection
        .prepare("SELECT store, product, quantity FROM stock_movement")
        .unwrap();
    let mut rows = statement.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let quantity: Decimal = row.get::<_, String>(2).unwrap().parse().unwrap();
        *sums
            .entry((row.get(0).unwrap(), row.get(1).unwrap()))
            .or_default() += quantity;
    }
    let mut levels: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut statement = connection
        .prepare("SELECT store, product, quantity FROM stock_level")
        .unwrap();
    let mut rows = statement.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let quantity: Decimal = row.get::<_, String>(2).unwrap().parse().unwrap();
        *levels
            .entry((row.get(0).unwrap(), row.get(1).unwrap()))
            .or_default() += quantity;
    }
    assert_eq!(
        levels, sums,
        "round {round}: stock levels differ from the sum of movements"
    );
}
