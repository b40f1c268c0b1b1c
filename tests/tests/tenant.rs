//! What the fleet holds for a whole tenant reaches every terminal of it, over a real fleet on
//! loopback: the feature switches the operator sets (the till and the back office stop
//! offering what the tenant no longer allows, and offer it again once it does) and the list of
//! its stores, by which a transfer names the other store.
//!
//! Each test runs on an SQLite fleet and, when `POS_FLEET_POSTGRES_URL` names a database, on a
//! PostgreSQL one (`NAME::sqlite`, `NAME::postgres`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use std::time::Duration;

use pos_backoffice::{BackOffice, BackOfficeError, SharedStore};
use pos_core::id::StoreId;
use pos_store::sample::product;
use serde_json::json;
use support::{Backend, Fleet, Terminal, back_office, now, set_up_till};

backend_tests!(
    the_tenants_switches_reach_its_terminals_and_narrow_what_they_offer,
    a_transfer_asks_another_store_of_the_tenant_by_name,
);

const LIMIT: Duration = Duration::from_secs(30);

/// Waits until `done`, at most [`LIMIT`].
fn wait_until(what: &str, done: impl FnMut() -> bool) {
    support::eventually(LIMIT, what, done);
}

fn the_tenants_switches_reach_its_terminals_and_narrow_what_they_offer(backend: Backend) {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start_on(fleet_dir.path(), &backend);
    let (tenant, mitte) = fleet.tenant("Acme");
    let coffee = product(1);
    fleet.save_product(&tenant, &coffee);
    let mut till = set_up_till(&fleet, "T-MITTE", &tenant, &mitte, LIMIT);
    let office = back_office(&till);
    let refunds_switch = |office: &BackOffice<SharedStore>| {
        office
            .feature_switches()
            .unwrap()
            .into_iter()
            .find(|s| s.feature == "sales.refund")
            .map(|s| (s.on, s.off_by_tenant))
            .unwrap()
    };
    let till_features = |till: &Terminal| {
        pos_terminal::seed::shop_setup(&till.store, till.device.clone())
            .unwrap()
            .features
    };
    assert_eq!(refunds_switch(&office), (true, false));
    office.transfer_line(&coffee.sku.to_string(), "1").unwrap();

    // The operator switches refunds and transfers off for the whole tenant. (What the till
    // pulled when it enrolled, its store's settings, counts already.)
    let seen = till.status().tenant_changes;
    fleet.ok(
        "PUT",
        &format!("/api/v1/tenants/{tenant}/features"),
        &fleet.operator,
        Some(json!({"disabled": ["sales.refund", "inventory.transfer"]})),
    );
    wait_until("the switches reaching the till", || {
        till.status().tenant_changes > seen
    });
    assert!(
        till_features(&till)
            .blocking("sales.refund.create")
            .is_some()
    );
    // The settings show refunds off and locked, and cannot switch them on.
    assert_eq!(refunds_switch(&office), (false, true));
    let refused = office.transfer_line(&coffee.sku.to_string(), "1");
    assert!(
        matches!(&refused, Err(BackOfficeError::FeatureOffByTenant(f)) if f == "inventory.transfer"),
        "{refused:?}"
    );

    // Allowed again, the store's own choice (refunds on) holds again.
    let seen = till.status().tenant_changes;
    fleet.ok(
        "PUT",
        &format!("/api/v1/tenants/{tenant}/features"),
        &fleet.operator,
        Some(json!({"disabled": []})),
    );
    wait_until("the switches coming back", || {
        till.status().tenant_changes > seen
    });
    assert!(
        till_features(&till)
            .blocking("sales.refund.create")
            .is_none()
    );
    assert_eq!(refunds_switch(&office), (true, false));
    office.transfer_line(&coffee.sku.to_string(), "1").unwrap();
    till.stop_sync();
}

fn a_transfer_asks_another_store_of_the_tenant_by_name(backend: Backend) {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start_on(fleet_dir.path(), &backend);
    let (tenant, mitte) = fleet.tenant("Acme");
    let (_, rival) = fleet.tenant("Rival");
    let altona = fleet.add_store(&tenant, "Acme Altona");
    let coffee = product(1);
    fleet.save_product(&tenant, &coffee);
    let mut till = set_up_till(&fleet, "T-ALTONA", &tenant, &altona, LIMIT);
    let mut office = back_office(&till);

    // Mitte, by name; not Altona itself, nor another tenant's store.
    let others: Vec<(String, String)> = office
        .other_stores()
        .unwrap()
        .into_iter()
        .map(|s| (s.id.to_string(), s.name))
        .collect();
    assert_eq!(others, [(mitte.clone(), "Acme Mitte".to_owned())]);

    // A store opened later reaches the list too.
    let ottensen = fleet.add_store(&tenant, "Acme Ottensen");
    wait_until("the new store reaching the till", || {
        office.other_stores().unwrap().len() == 2
    });

    let line = office.transfer_line(&coffee.sku.to_string(), "4").unwrap();
    let refused = office
        .request_transfer(
            Some(&StoreId::new(rival.as_str())),
            std::slice::from_ref(&line),
        )
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "store {rival} is not one of the tenant's stores this terminal knows; \
             choose one from the list"
        )
    );
    let request = office
        .request_transfer(Some(&StoreId::new(ottensen.as_str())), &[line])
        .unwrap();
    assert_eq!(request.from.as_str(), ottensen);
    let names: Vec<String> = office
        .other_stores()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Acme Mitte", "Acme Ottensen"]);
    let after = now();
    till.wait_caught_up(LIMIT, after);
    let anomalies = fleet.ok(
        "GET",
        &format!("/api/v1/stores/{altona}/anomalies"),
        &fleet.operator,
        None,
    );
    assert_eq!(anomalies, json!([]), "the request was routed");
    till.stop_sync();
}
