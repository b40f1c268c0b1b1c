//! Schema migrations: SQL files in the repository's `migrations/` folder, embedded in the
//! binary, applied in order, one transaction per version, the version kept in
//! `PRAGMA user_version`. The list is append-only: a released file never changes.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};

/// One schema version: its number (1, 2, …), a short name and its SQL.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every version this software knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "customer_history",
        sql: include_str!("../../../migrations/0002_customer_history.sql"),
    },
    Migration {
        version: 3,
        name: "label_layouts",
        sql: include_str!("../../../migrations/0003_label_layouts.sql"),
    },
    Migration {
        version: 4,
        name: "orders_and_transfers",
        sql: include_str!("../../../migrations/0004_orders_and_transfers.sql"),
    },
    Migration {
        version: 5,
        name: "tenant_stores",
        sql: include_str!("../../../migrations/0005_tenant_stores.sql"),
    },
];

/// The newest schema this software writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

pub fn schema_version(connection: &Connection) -> Result<u32> {
    Ok(connection.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the database to the newest version in `migrations`. A database from a newer
/// version is refused untouched; a failing version is rolled back, leaving the previous
/// version's schema and data as they were. Returns the versions applied.
pub fn apply(connection: &mut Connection, migrations: &[Migration]) -> Result<Vec<u32>> {
    apply_up_to(connection, migrations, u32::MAX)
}

/// As [`apply`], stopping at `target` (tests build databases at every earlier version).
pub fn apply_up_to(
    connection: &mut Connection,
    migrations: &[Migration],
    target: u32,
) -> Result<Vec<u32>> {
    let current = schema_version(connection)?;
    let supported = migrations.last().map_or(0, |m| m.version);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    let mut applied = Vec::new();
    for migration in migrations
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            name: migration.name,
            source,
        };
        // IMMEDIATE: take the write lock first, so the version read above cannot go stale.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        transaction.execute_batch(migration.sql).map_err(failed)?;
        transaction
            .pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        transaction.commit().map_err(failed)?;
        applied.push(migration.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_one_by_one_and_match_their_files() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1);
            assert!(!migration.sql.trim().is_empty());
        }
        let mut files: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|name| name.ends_with(".sql"))
                .collect();
        files.sort();
        let expected: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(
            files, expected,
            "every file in migrations/ is embedded, in order"
        );
    }
}
