//! The fleet server the QEMU suite's appliance enrols with and syncs to: a real fleet on an
//! SQLite file on loopback, seeded with the demo shop's catalogue and its cashier Anna, with an
//! enrolment code for the store. QEMU's user network forwards the guest's fleet address here.
//!
//! ```text
//! cargo run -p tests --example qemu_fleet -- DIR KEYRING COMPATIBLE
//! ```
//!
//! Its update service trusts bundles that chain to `KEYRING` and carry `COMPATIBLE`. Prints one
//! JSON line `{"addr", "code", "tenant", "store"}` once it serves, then answers commands on
//! standard input, one JSON line each, until standard input closes:
//! - `sales`: the store's sales as the fleet holds them;
//! - `terminals`: the store's terminals as `[id, name]` pairs;
//! - `roll-out PATH`: uploads the bundle file at `PATH` as the operator and rolls it out to the
//!   whole tenant in one stage; the rollout, or `{"error"}` when the fleet refused either;
//! - `updates`: the store's terminals as the update service sees them (installed version,
//!   slots, the last action's status and feedback).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, Write};

use pos_fleet::updates::UpdatesConfig;
use pos_fleet::updates::bundle::BundlePolicy;
use serde_json::json;
use support::Fleet;

/// The demo cashier the suite logs in as, sent down by the fleet like any member of staff.
const CASHIER: (&str, &str, &str) = ("anna", "Anna", "1234");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, keyring, compatible] = args.as_slice() else {
        panic!("usage: qemu_fleet DIR KEYRING COMPATIBLE");
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut updates = UpdatesConfig::new(BundlePolicy {
        keyring: keyring.into(),
        compatible: compatible.clone(),
        plain_allowed: false,
    });
    // The box asks often: the suite waits for it.
    updates.polling_sleep_secs = 10;
    let fleet = Fleet::start_with_updates(&dir, updates);
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
    let ready =
        json!({"addr": fleet.addr.to_string(), "code": code, "tenant": tenant, "store": store});
    writeln!(out, "{ready}").unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let answer = match line.trim().split_once(' ') {
            None if line.trim() == "sales" => json!(fleet.sales(&store)),
            None if line.trim() == "terminals" => json!(fleet.terminals(&store)),
            None if line.trim() == "updates" => answer(fleet.call(
                "GET",
                &format!("/api/v1/stores/{store}/updates"),
                &fleet.operator,
                None,
            )),
            Some(("roll-out", path)) => roll_out(&fleet, &tenant, std::path::Path::new(path)),
            _ => json!({"error": format!("unknown command {line:?}")}),
        };
        writeln!(out, "{answer}").unwrap();
        out.flush().unwrap();
    }
}

/// The fleet's answer, or `{"error"}` with its status when it refused.
fn answer((status, body): (u16, serde_json::Value)) -> serde_json::Value {
    if (200..300).contains(&status) {
        body
    } else {
        json!({"error": format!("{status}: {body}")})
    }
}

/// Uploads `bundle` and rolls it out to every terminal of `tenant` at once.
fn roll_out(fleet: &Fleet, tenant: &str, bundle: &std::path::Path) -> serde_json::Value {
    let uploaded = answer(fleet.upload_bundle(bundle));
    if uploaded.get("error").is_some() {
        return uploaded;
    }
    answer(fleet.call(
        "POST",
        &format!("/api/v1/tenants/{tenant}/rollouts"),
        &fleet.operator,
        Some(json!({
            "bundle": uploaded["id"], "target": "tenant", "stages": [100],
            "failure_threshold_percent": 100,
        })),
    ))
}
