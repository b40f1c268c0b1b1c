//! What only the PostgreSQL backend has: its schema versions, several fleet processes on one
//! database, and connection errors a technician can act on. Each test runs in a schema of
//! its own when `POS_FLEET_POSTGRES_URL` is set (required in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use pos_core::access::Features;
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use pos_fleet::postgres::PostgresStorage;
use pos_fleet::storage::{FleetStorage, TerminalRecord};
use pos_sync::hlc::HlcTime;
use pos_sync::wire::{ChangeBody, Scope, TenantStore};

use common::Backend;

/// A new schema and a configuration whose connections use it. `None` without PostgreSQL.
fn schema() -> Option<(common::Schema, postgres::Config)> {
    let Backend::Postgres(url) = Backend::postgres()? else {
        return None;
    };
    let schema = common::Schema::create(&url);
    let mut config: postgres::Config = url.parse().unwrap();
    config.options(&format!("-csearch_path={}", schema.name));
    Some((schema, config))
}

/// The times of the tenant's changes, as one of its terminals pulls them.
fn pulled_hlcs(storage: &PostgresStorage, tenant: &TenantId) -> Vec<HlcTime> {
    let terminal = TerminalRecord {
        id: DeviceId::new("term-reader"),
        tenant: tenant.clone(),
        store: StoreId::new("no-store"),
        name: "reader".into(),
        enrolled_at: Timestamp::from_unix_ms(0),
        revoked_at: None,
        high_water_seq: 0,
        relayed_by: None,
    };
    storage
        .pull(&terminal, 0, 100)
        .unwrap()
        .changes
        .iter()
        .map(|change| change.hlc)
        .collect()
}

#[test]
fn a_database_from_a_newer_server_is_refused_with_a_reason() {
    let Some((_schema, config)) = schema() else {
        return;
    };
    drop(PostgresStorage::open_config(config.clone(), 2).unwrap());
    let mut client = config.connect(postgres::NoTls).unwrap();
    client
        .execute("INSERT INTO fleet_schema (version) VALUES (99)", &[])
        .unwrap();
    let Err(err) = PostgresStorage::open_config(config, 2) else {
        panic!("a newer schema must be refused")
    };
    assert!(
        err.to_string()
            .contains("schema version 99, newer than this fleet server"),
        "{err}"
    );
}

#[test]
fn an_upgrade_publishes_the_stores_and_switches_of_tenants_made_before() {
    let Some((_schema, config)) = schema() else {
        return;
    };
    drop(PostgresStorage::open_config(config.clone(), 2).unwrap());
    // A version-8 fleet's tenant with a switch off and a store, never sent down as such.
    let mut client = config.connect(postgres::NoTls).unwrap();
    client
        .batch_execute(
            r#"INSERT INTO tenants (id, name, features, created_at)
                   VALUES ('tnt-1', 'Acme', '{"disabled":["loyalty"]}', 1000);
               INSERT INTO stores (id, tenant, name, currency, created_at)
                   VALUES ('str-1', 'tnt-1', 'Acme Mitte', '"EUR"', 2000);
               DELETE FROM fleet_schema WHERE version = 9;"#,
        )
        .unwrap();
    let storage = PostgresStorage::open_config(config, 2).unwrap();
    let terminal = TerminalRecord {
        id: DeviceId::new("term-1"),
        tenant: TenantId::new("tnt-1"),
        store: StoreId::new("str-1"),
        name: "Till 1".into(),
        enrolled_at: Timestamp::from_unix_ms(3_000),
        revoked_at: None,
        high_water_seq: 0,
        relayed_by: None,
    };
    let bodies: Vec<ChangeBody> = storage
        .pull(&terminal, 0, 100)
        .unwrap()
        .changes
        .into_iter()
        .map(|change| change.body)
        .collect();
    assert_eq!(
        bodies,
        [
            ChangeBody::TenantStore {
                store: TenantStore {
                    id: StoreId::new("str-1"),
                    name: "Acme Mitte".into(),
                },
            },
            ChangeBody::TenantFeatures {
                features: Features::all_enabled().disable("loyalty"),
            },
        ]
    );
}

#[test]
fn fleet_processes_started_at_once_migrate_the_schema_once_and_share_it() {
    let Some((_schema, config)) = schema() else {
        return;
    };
    let opened: Vec<PostgresStorage> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PostgresStorage::open_config(config.clone(), 2).unwrap()))
            .collect();
        starts.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let mut client = config.connect(postgres::NoTls).unwrap();
    let versions: Vec<i32> = client
        .query("SELECT version FROM fleet_schema ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let tenant = opened[0]
        .create_tenant("Acme", Timestamp::from_unix_ms(1_000))
        .unwrap();
    assert_eq!(opened[3].tenants().unwrap(), [tenant]);
}

#[test]
fn the_tenants_clock_moves_on_across_restarts_and_processes_even_when_the_wall_clock_goes_back() {
    let Some((_schema, config)) = schema() else {
        return;
    };
    let first = PostgresStorage::open_config(config.clone(), 2).unwrap();
    let tenant = first
        .create_tenant("Acme", Timestamp::from_unix_ms(5_000))
        .unwrap();
    let footer = serde_json::json!("Thanks");
    first
        .set_setting(
            &tenant.id,
            &Scope::Tenant,
            "receipt_footer",
            &footer,
            Timestamp::from_unix_ms(9_000),
        )
        .unwrap();
    // A second process, and the first one restarted, with wall clocks behind.
    let second = PostgresStorage::open_config(config.clone(), 2).unwrap();
    second
        .set_setting(
            &tenant.id,
            &Scope::Tenant,
            "receipt_footer",
            &footer,
            Timestamp::from_unix_ms(7_000),
        )
        .unwrap();
    drop(first);
    let restarted = PostgresStorage::open_config(config, 2).unwrap();
    restarted
        .set_setting(
            &tenant.id,
            &Scope::Tenant,
            "receipt_footer",
            &footer,
            Timestamp::from_unix_ms(6_000),
        )
        .unwrap();
    assert_eq!(
        pulled_hlcs(&restarted, &tenant.id),
        [
            HlcTime::new(9_000, 0),
            HlcTime::new(9_000, 1),
            HlcTime::new(9_000, 2)
        ]
    );
}

#[test]
fn a_wrong_password_or_address_is_reported_without_the_password() {
    let Some((_schema, config)) = schema() else {
        return;
    };
    let mut wrong_password = config.clone();
    wrong_password.password("not-the-password-42");
    let Err(err) = PostgresStorage::open_config(wrong_password, 2) else {
        panic!("a wrong password must be refused")
    };
    let message = err.to_string();
    assert!(
        message.starts_with("the fleet database failed: cannot connect to PostgreSQL at "),
        "{message}"
    );
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("not-the-password-42"), "{message}");

    let Err(err) = PostgresStorage::open("postgres://fleet:secret-9@127.0.0.1:1/fleet") else {
        panic!("nothing listens on port 1")
    };
    let message = err.to_string();
    assert!(
        message.contains("cannot connect to PostgreSQL at 127.0.0.1:1, database fleet: "),
        "{message}"
    );
    assert!(!message.contains("secret-9"), "{message}");

    let Err(err) = PostgresStorage::open("postgres://fleet@db.example:notaport/fleet") else {
        panic!("a bad URL must be refused")
    };
    assert!(
        err.to_string()
            .starts_with("the database URL is not a PostgreSQL URL"),
        "{err}"
    );
}
