//! Shared by the store's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use pos_core::clock::Timestamp;
use pos_core::id::DeviceId;
use pos_core::sale::Sale;
use pos_core::stock::StockMovement;
use pos_store::Store;
use pos_store::key::Secrets;
use pos_store::sample::{SaleMaker, product};
use rusqlite::Connection;

pub const T0_MS: i64 = 1_780_000_000_000;

pub fn open(dir: &Path) -> Store {
    Store::open(dir, DeviceId::new("T1")).unwrap()
}

pub fn at(minutes: i64) -> Timestamp {
    Timestamp::from_unix_ms(T0_MS + minutes * 60_000)
}

/// Sale `n` of five generated products, with its stock movements.
pub fn sale(n: u64) -> (Sale, Vec<StockMovement>) {
    let products: Vec<_> = (0..5).map(|line| product(n * 5 + line)).collect();
    SaleMaker::new("T1")
        .unwrap()
        .sale(n, &products, at(i64::try_from(n).unwrap()))
        .unwrap()
}

/// A raw connection to the store's file with the device key, to look under the API.
pub fn raw(dir: &Path) -> Connection {
    let (_, key) = Secrets::new(dir).candidates().unwrap().remove(0);
    let connection = Connection::open(dir.join(pos_store::DATABASE_FILE)).unwrap();
    connection
        .execute_batch(&format!("PRAGMA key = {};", key.pragma_literal()))
        .unwrap();
    connection
}

pub fn file_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(pos_store::DATABASE_FILE)).unwrap()
}
