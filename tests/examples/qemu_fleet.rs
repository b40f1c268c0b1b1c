//! The fleet server the QEMU suite's appliance enrols with and syncs to: a real fleet on an
//! SQLite file on loopback, seeded with the demo shop's catalogue and its cashier Anna, with an
//! enrolment code for the store. QEMU's user network forwards the guest's fleet address here.
//!
//! ```text
//! cargo run -p tests --example qemu_fleet -- DIR
//! ```
//!
//! Prints one JSON line `{"addr", "code", "tenant", "store"}` once it serves, then answers
//! commands on standard input, one JSON line each, until standard input closes:
//! - `sales`: the store's sales as the fleet holds them;
//! - `terminals`: the store's terminals as `[id, name]` pairs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, Write};

use serde_json::json;
use support::Fleet;

/// The demo cashier the suite logs in as, sent down by the fleet like any member of staff.
const CASHIER: (&str, &str, &str) = ("anna", "Anna", "1234");

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: qemu_fleet DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let fleet = Fleet::start(&dir);
    let (tenant, store) = fleet.tenant("Corner Market");
    for product in pos_core::demo::catalog().unwrap().products() {
        fleet.save_product(&tenant, product);
    }
    let (id, name, pin) = CASHIER;
    fleet.ok(
        "PUT",
        &format!("/api/v1/tenants/{tenant}/staff/{id}"),
        &fleet.operator,
        Some(json!({
            "id": id,
            "name": name,
            "role": "cashier",
            "pin_hash": pos_store::pin::hash_pin(pin).unwrap(),
            "active": true,
        })),
    );
    let code = fleet.enrolment_code(&store);
    let mut out = std::io::stdout().lock();
    let ready = json!({"addr": fleet.addr.to_string(), "code": code, "tenant": tenant, "store": store});
    writeln!(out, "{ready}").unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let answer = match line.unwrap().trim() {
            "sales" => json!(fleet.sales(&store)),
            "terminals" => json!(fleet.terminals(&store)),
            other => json!({"error": format!("unknown command {other:?}")}),
        };
        writeln!(out, "{answer}").unwrap();
        out.flush().unwrap();
    }
}
