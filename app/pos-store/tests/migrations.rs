//! Upgrades from every earlier schema version keep every row and value; a failing version
//! changes nothing; the embedded list matches the files.
//!
//! Each version N has a fixture `tests/fixtures/vNNNN.sql` inserting data as a version-N
//! terminal wrote it. For every starting version the test builds a database the way a real
//! terminal's history would (migrate to 1, add v1 data, migrate to 2, add v2 data, …), then
//! opens it with the current software and compares. Appending a migration needs only its
//! fixture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use pos_core::id::{CustomerId, DeviceId};
use pos_store::key::Secrets;
use pos_store::migrate::{self, MIGRATIONS, Migration};
use pos_store::{DATABASE_FILE, Store, StoreError};
use rusqlite::Connection;
use rusqlite::types::Value;

type Snapshot = BTreeMap<String, (Vec<String>, Vec<Vec<Value>>)>;

fn fixture(version: u32) -> String {
    let path = format!(
        "{}/tests/fixtures/v{version:04}.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("add {path}: data as a version-{version} terminal writes it"))
}

fn keyed(dir: &Path) -> Connection {
    let key = match Secrets::new(dir).candidates().unwrap().pop() {
        Some((_, key)) => key,
        None => Secrets::new(dir).create().unwrap(),
    };
    let connection = Connection::open(dir.join(DATABASE_FILE)).unwrap();
    connection
        .execute_batch(&format!("PRAGMA key = {};", key.pragma_literal()))
        .unwrap();
    connection
}

/// Every row of every table (search index shadow tables aside, they are derived).
fn snapshot(connection: &Connection) -> Snapshot {
    let mut tables = connection
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'product_search%'",
        )
        .unwrap();
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut snapshot = Snapshot::new();
    for name in names {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM \"{name}\""))
            .unwrap();
        let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows: Vec<Vec<Value>> = statement
            .query_map([], |row| {
                (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        snapshot.insert(name, (columns, rows));
    }
    snapshot
}

/// Every table of `old` is in `new` with the same rows on the old columns.
fn assert_kept(old: &Snapshot, new: &Snapshot, from: u32) {
    for (table, (old_columns, old_rows)) in old {
        let (new_columns, new_rows) = new
            .get(table)
            .unwrap_or_else(|| panic!("upgrading from {from} lost table {table}"));
        let positions: Vec<usize> = old_columns
            .iter()
            .map(|c| {
                new_columns
                    .iter()
                    .position(|n| n == c)
                    .unwrap_or_else(|| panic!("{table}.{c} lost"))
            })
            .collect();
        let mut projected: Vec<Vec<Value>> = new_rows
            .iter()
            .map(|row| positions.iter().map(|&i| row[i].clone()).collect())
            .collect();
        projected.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(
            &projected, old_rows,
            "rows of {table} changed upgrading from version {from}"
        );
    }
}

#[test]
fn upgrading_from_every_earlier_version_keeps_every_row() {
    let latest = migrate::latest_version();
    let versions: Vec<u32> = MIGRATIONS.iter().map(|m| m.version).collect();
    for &start in &versions {
        let dir = tempfile::tempdir().unwrap();
        let mut connection = keyed(dir.path());
        for &version in versions.iter().filter(|&&v| v <= start) {
            migrate::apply_up_to(&mut connection, MIGRATIONS, version).unwrap();
            connection.execute_batch(&fixture(version)).unwrap();
        }
        assert_eq!(migrate::schema_version(&connection).unwrap(), start);
        let before = snapshot(&connection);
        drop(connection);

        let store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
        drop(store);
        let connection = keyed(dir.path());
        assert_eq!(migrate::schema_version(&connection).unwrap(), latest);
        assert_kept(&before, &snapshot(&connection), start);
    }
}

#[test]
fn version_two_fills_in_the_customer_of_earlier_sales() {
    let dir = tempfile::tempdir().unwrap();
    let mut connection = keyed(dir.path());
    migrate::apply_up_to(&mut connection, MIGRATIONS, 1).unwrap();
    connection.execute_batch(&fixture(1)).unwrap();
    drop(connection);
    let store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    let history = store.customer_history(&CustomerId::new("c1"), 10).unwrap();
    assert_eq!(
        history.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["s1"]
    );
}

#[test]
fn a_failing_migration_leaves_the_previous_version_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut connection = keyed(dir.path());
    migrate::apply_up_to(&mut connection, MIGRATIONS, 1).unwrap();
    connection.execute_batch(&fixture(1)).unwrap();
    let before = snapshot(&connection);
    let broken = [
        MIGRATIONS[0],
        Migration {
            version: 2,
            name: "broken",
            sql: "ALTER TABLE sale ADD COLUMN note TEXT;
                  UPDATE sale SET note = 'changed';
                  DELETE FROM held_cart;
                  CREATE TABLE half_done (;",
        },
    ];
    let error = migrate::apply(&mut connection, &broken).unwrap_err();
    assert!(matches!(
        error,
        StoreError::Migration {
            version: 2,
            name: "broken",
            ..
        }
    ));
    assert!(error.to_string().starts_with(
        "upgrading the store to schema version 2 (broken) failed, nothing was changed"
    ));
    assert_eq!(migrate::schema_version(&connection).unwrap(), 1);
    assert_eq!(snapshot(&connection), before);
}
