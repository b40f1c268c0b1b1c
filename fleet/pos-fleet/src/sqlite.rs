//! [`FleetStorage`] on one SQLite file (WAL) in the data directory: the default, so one
//! command runs a fleet with nothing else installed.
//!
//! One connection behind a mutex: SQLite takes one writer at a time anyway, and a store's
//! sync traffic (a few requests a minute per terminal) is far below what one connection
//! serves. Schema changes are an append-only list of migrations keyed by `user_version`,
//! applied in one transaction at open.

mod hub;
mod receipts;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use pos_core::access::Features;
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{DeviceId, EventId, ProductId, StoreId, TenantId, UserId};
use pos_core::money::{Currency, Money};
use pos_core::quantity::Quantity;
use pos_sync::hlc::{HlcClock, HlcTime};
use pos_sync::ingest::{Fate, StoredEntry, advance_high_water, check_batch, fate};
use pos_sync::rules::{Anomaly, LwwDocument, Origin, Stamp, sale_anomalies};
use pos_sync::wire::{
    Change, ChangeBody, JournalEntry, PROTOCOL, PullResponse, PushAck, PushBatch, RecordedBy, Scope,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::UtcOffset;

use crate::auth::random_id;
use crate::dashboard::{
    self,
    data::{Grouping, ProductSales, SalesBucket, Span, StockLevel, TenderSales, TerminalStatus},
};
use crate::lockout::FailureRow;
use crate::shared_records::{self, RecordEdit};
use crate::storage::{
    Account, AccountRole, AnomalyRow, FleetStorage, NewAccount, PriceSchedule,
    RELAYED_TERMINALS_MAX, RecordKind, SaleRow, StockRow, StorageError, StoreRecord, TenantRecord,
    TerminalRecord, no_credential, relayed_elsewhere, relayed_terminal, too_many_relayed,
};

/// The most a terminal's clock may run ahead of the fleet's before its times are not taken
/// into the fleet's clock (its entries are still stored, and an anomaly is recorded).
const CLOCK_DRIFT_MS_MAX: i64 = 5 * 60_000;

/// Append-only: never edit a migration once released; add the next one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE tenants (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, features TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE stores (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
    currency TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    role TEXT NOT NULL, tenant TEXT REFERENCES tenants(id), store TEXT REFERENCES stores(id),
    created_at INTEGER NOT NULL);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(id),
    expires_at INTEGER NOT NULL);
CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY, store TEXT NOT NULL REFERENCES stores(id),
    expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE terminals (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),
    store TEXT NOT NULL REFERENCES stores(id), name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, enrolled_at INTEGER NOT NULL, revoked_at INTEGER,
    high_water_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE journal (
    event_id TEXT PRIMARY KEY, device TEXT NOT NULL REFERENCES terminals(id),
    seq INTEGER NOT NULL, hlc_ms INTEGER NOT NULL, hlc_counter INTEGER NOT NULL,
    actor TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
    received_at INTEGER NOT NULL, UNIQUE (device, seq));
CREATE TABLE sales (
    sale_id TEXT PRIMARY KEY, event_id TEXT NOT NULL REFERENCES journal(event_id),
    tenant TEXT NOT NULL, store TEXT NOT NULL, device TEXT NOT NULL,
    receipt_number TEXT NOT NULL, total TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX sales_by_store ON sales (store, at);
CREATE TABLE stock_movements (
    movement_id TEXT PRIMARY KEY, event_id TEXT NOT NULL REFERENCES journal(event_id),
    store TEXT NOT NULL, product TEXT NOT NULL, quantity TEXT NOT NULL, device TEXT NOT NULL,
    at INTEGER NOT NULL);
CREATE INDEX stock_by_store ON stock_movements (store, product);
CREATE TABLE records (
    tenant TEXT NOT NULL, store TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    document TEXT NOT NULL, PRIMARY KEY (tenant, store, kind, key));
CREATE TABLE changes (
    server_seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, store TEXT,
    origin_device TEXT, hlc_ms INTEGER NOT NULL, hlc_counter INTEGER NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX changes_by_tenant ON changes (tenant, server_seq);
CREATE TABLE anomalies (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, store TEXT, device TEXT,
    kind TEXT NOT NULL, detail TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE fleet_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), wall_ms INTEGER NOT NULL, counter INTEGER NOT NULL);
"#,
    r#"
-- Version 2: each store's clock (seconds east of UTC), for its days and hours on the
-- dashboard.
ALTER TABLE stores ADD COLUMN utc_offset_seconds INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Version 3: an entry a store hub relays keeps the terminal behind the hub that recorded it,
-- and the fleet knows that terminal (relayed by the hub, with no credential of its own).
ALTER TABLE journal ADD COLUMN recorded_by TEXT;
ALTER TABLE journal ADD COLUMN recorded_by_name TEXT;
ALTER TABLE terminals ADD COLUMN relayed_by TEXT REFERENCES terminals(id);
"#,
    r#"
-- Version 4: a store's time zone (`Europe/Zurich`), whose rules give its offset at each
-- instant. Stores set up before keep their fixed offset, which stays the fallback.
ALTER TABLE stores ADD COLUMN time_zone TEXT;
"#,
    r#"
-- Version 5: wrong passwords counted per account and client address, so a login lock
-- survives a restart.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL, locked_until_ms INTEGER);
CREATE INDEX login_failures_by_last ON login_failures (last_ms);
"#,
    r#"
-- Version 6: an enrolment code remembers the terminal it made and a hash of the key that
-- terminal sent, so the same terminal retrying after a lost answer gets its credential.
ALTER TABLE enrolment_codes ADD COLUMN enrolment_key_hash TEXT;
ALTER TABLE enrolment_codes ADD COLUMN terminal TEXT;
"#,
    r#"
-- Version 7: the tenant's stores and feature switches travel down as changes of their own
-- kinds (`tenant_store`, `tenant_features`). Tenants and stores made before are published
-- once here, as they are now, so their terminals learn them too.
INSERT INTO changes (tenant, store, origin_device, hlc_ms, hlc_counter, body)
    SELECT tenant, NULL, NULL, created_at, 0,
           json_object('type', 'tenant_store',
                       'data', json_object('store', json_object('id', id, 'name', name)))
    FROM stores ORDER BY created_at, id;
INSERT INTO changes (tenant, store, origin_device, hlc_ms, hlc_counter, body)
    SELECT id, NULL, NULL, created_at, 0,
           json_object('type', 'tenant_features',
                       'data', json_object('features', json(features)))
    FROM tenants ORDER BY created_at, id;
"#,
];

pub const DATABASE_FILE: &str = "fleet.sqlite3";

/// Prepared statements kept compiled on the connection.
const STATEMENTS_CACHED: usize = 64;

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    clock: HlcClock,
}

pub struct SqliteStorage {
    inner: Mutex<Inner>,
}

fn db(e: rusqlite::Error) -> StorageError {
    StorageError::Database(e.to_string())
}

fn json_err(e: serde_json::Error) -> StorageError {
    StorageError::Database(format!("a stored record could not be read: {e}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(json_err)
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(json_err)
}

fn seq_to_sql(seq: u64) -> Result<i64, StorageError> {
    i64::try_from(seq)
        .map_err(|_| StorageError::Invalid(format!("sequence number {seq} is too large")))
}

fn seq_from_sql(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

fn scope_store(scope: &Scope) -> &str {
    match scope {
        Scope::Tenant => "",
        Scope::Store(store) => store.as_str(),
    }
}

impl SqliteStorage {
    /// Opens (creating if need be) the fleet database in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<SqliteStorage, StorageError> {
        SqliteStorage::open_file(&data_dir.join(DATABASE_FILE))
    }

    /// Opens (creating it and its directory if need be) the fleet database at `path`.
    pub fn open_file(path: &Path) -> Result<SqliteStorage, StorageError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Database(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        // Acknowledged batches must survive a power cut: one fsync per commit.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        // A push runs some twenty statements per entry and per batch; each is compiled once.
        conn.set_prepared_statement_cache_capacity(STATEMENTS_CACHED);
        migrate(&mut conn)?;
        crate::updates::sqlite::migrate(&mut conn)?;
        crate::dashboard::sqlite::migrate(&mut conn)?;
        receipts::migrate(&conn)?;
        let last: Option<(i64, i64)> = conn
            .query_row(
                "SELECT wall_ms, counter FROM fleet_clock WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        let last = last.map_or(HlcTime::ZERO, |(wall_ms, counter)| {
            HlcTime::new(wall_ms, u32::try_from(counter).unwrap_or(u32::MAX))
        });
        Ok(SqliteStorage {
            inner: Mutex::new(Inner {
                conn,
                clock: HlcClock::resume(last, CLOCK_DRIFT_MS_MAX),
            }),
        })
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Inner>, StorageError> {
        self.inner
            .lock()
            .map_err(|_| StorageError::Database("the database lock was poisoned by a crash".into()))
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db)?;
    let applied = usize::try_from(version).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "the database is at schema version {applied}, newer than this fleet server \
             ({}); run the newer server",
            MIGRATIONS.len()
        )));
    }
    let tx = conn.transaction().map_err(db)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql).map_err(db)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// Stamps a fleet write and persists the clock in the same transaction.
fn fleet_stamp(
    tx: &Transaction<'_>,
    clock: &mut HlcClock,
    now: Timestamp,
) -> Result<Stamp, StorageError> {
    let hlc = clock
        .tick(now.unix_ms())
        .map_err(|e| StorageError::Database(e.to_string()))?;
    save_clock(tx, clock)?;
    Ok(Stamp {
        hlc,
        origin: Origin::Fleet,
    })
}

fn save_clock(tx: &Transaction<'_>, clock: &HlcClock) -> Result<(), StorageError> {
    let last = clock.last();
    tx.execute(
        "INSERT INTO fleet_clock (id, wall_ms, counter) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET wall_ms = ?1, counter = ?2",
        params![last.wall_ms, last.counter],
    )
    .map_err(db)?;
    Ok(())
}

fn publish(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    store: Option<&StoreId>,
    origin_device: Option<&DeviceId>,
    hlc: HlcTime,
    body: &ChangeBody,
) -> Result<(), StorageError> {
    let body = to_json(body)?;
    tx.prepare_cached(
        "INSERT INTO changes (tenant, store, origin_device, hlc_ms, hlc_counter, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            tenant.as_str(),
            store.map(StoreId::as_str),
            origin_device.map(DeviceId::as_str),
            hlc.wall_ms,
            hlc.counter,
            body
        ])
    })
    .map_err(db)?;
    Ok(())
}

fn load_record(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    store: &str,
    kind: &str,
    key: &str,
) -> Result<LwwDocument, StorageError> {
    let text: Option<String> = tx
        .prepare_cached(
            "SELECT document FROM records WHERE tenant = ?1 AND store = ?2 AND kind = ?3 AND key = ?4",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![tenant.as_str(), store, kind, key], |r| r.get(0))
                .optional()
        })
        .map_err(db)?;
    text.map_or(Ok(LwwDocument::default()), |t| from_json(&t))
}

fn save_doc(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    store: &str,
    kind: &str,
    key: &str,
    doc: &LwwDocument,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO records (tenant, store, kind, key, document) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant, store, kind, key) DO UPDATE SET document = ?5",
        params![tenant.as_str(), store, kind, key, to_json(doc)?],
    )
    .map_err(db)?;
    Ok(())
}

/// Writes fields into a record by last-writer-wins; returns the merged record.
/// Merges `fields` into a product's tenant-wide record and publishes the merged product to
/// every terminal. A record that is not yet a whole product (a price for a product the fleet
/// has not seen) is kept for later merges but not published.
fn merge_product(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    product_id: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
    stamp: &Stamp,
    hlc: HlcTime,
) -> Result<(), StorageError> {
    let merged = write_record(
        tx,
        tenant,
        &Scope::Tenant,
        "product",
        product_id,
        fields,
        stamp,
    )?;
    if let Ok(product) = serde_json::from_value(merged) {
        publish(
            tx,
            tenant,
            None,
            None,
            hlc,
            &ChangeBody::Product {
                scope: Scope::Tenant,
                product,
            },
        )?;
    }
    Ok(())
}

/// A till's edit of a record every till of its store shares (a person, a PIN, a role, the
/// loyalty programme), merged where the record lives and published to the tills it concerns:
/// see [`shared_records`].
fn merge_shared(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    store: &StoreId,
    edit: &RecordEdit,
    stamp: &Stamp,
    hlc: HlcTime,
) -> Result<(), StorageError> {
    let tenant_wide = load_record(tx, tenant, "", edit.kind, &edit.key)?
        .latest()
        .is_some();
    let scope = if tenant_wide {
        Scope::Tenant
    } else {
        Scope::Store(store.clone())
    };
    let merged = write_record(
        tx,
        tenant,
        &scope,
        edit.kind,
        &edit.key,
        &edit.fields,
        stamp,
    )?;
    if let Some(body) = shared_records::change_of(edit.kind, merged) {
        publish(
            tx,
            tenant,
            (!tenant_wide).then_some(store),
            None,
            hlc,
            &body,
        )?;
    }
    Ok(())
}

fn write_record(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    scope: &Scope,
    kind: &str,
    key: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
    stamp: &Stamp,
) -> Result<serde_json::Value, StorageError> {
    let store = scope_store(scope);
    let mut doc = load_record(tx, tenant, store, kind, key)?;
    doc.write(fields, stamp);
    save_doc(tx, tenant, store, kind, key, &doc)?;
    Ok(serde_json::Value::Object(doc.document()))
}

fn product_fields(
    product: &Product,
) -> Result<serde_json::Map<String, serde_json::Value>, StorageError> {
    match serde_json::to_value(product).map_err(json_err)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(StorageError::Invalid(
            "a product must be a JSON object".into(),
        )),
    }
}

fn record_anomaly(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    store: Option<&StoreId>,
    device: Option<&DeviceId>,
    kind: &str,
    detail: &serde_json::Value,
    now: Timestamp,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO anomalies (tenant, store, device, kind, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            tenant.as_str(),
            store.map(StoreId::as_str),
            device.map(DeviceId::as_str),
            kind,
            detail.to_string(),
            now.unix_ms()
        ],
    )
    .map_err(db)?;
    Ok(())
}

fn anomaly_kind(anomaly: &Anomaly) -> &'static str {
    match anomaly {
        Anomaly::NegativeStock { .. } => "negative_stock",
        Anomaly::SoldWhileArchived { .. } => "sold_while_archived",
        Anomaly::SoldUnknownProduct { .. } => "sold_unknown_product",
    }
}

fn stored_entry(
    tx: &Transaction<'_>,
    event_id: &EventId,
) -> Result<Option<StoredEntry>, StorageError> {
    type Row = (
        String,
        i64,
        i64,
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = tx
        .prepare_cached(
            "SELECT device, seq, hlc_ms, hlc_counter, actor, kind, payload, recorded_by,
                    recorded_by_name
             FROM journal WHERE event_id = ?1",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![event_id.as_str()], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })
                .optional()
        })
        .map_err(db)?;
    let Some((device, seq, hlc_ms, hlc_counter, actor, kind, payload, by, by_name)) = row else {
        return Ok(None);
    };
    Ok(Some(StoredEntry {
        device: DeviceId::new(device),
        entry: JournalEntry {
            event_id: event_id.clone(),
            seq: seq_from_sql(seq),
            hlc: HlcTime::new(hlc_ms, u32::try_from(hlc_counter).unwrap_or(u32::MAX)),
            actor: UserId::new(actor),
            kind,
            payload: from_json(&payload)?,
            recorded_by: by.map(|device| RecordedBy {
                device: DeviceId::new(device),
                name: by_name.unwrap_or_default(),
            }),
        },
    }))
}

/// The terminal an entry counts for: the pushing terminal, or for an entry a store hub
/// relays, the terminal behind the hub that recorded it, known to the fleet from its first
/// relayed entry on. A terminal of the fleet's own, or one behind another hub, cannot be
/// named by a hub: the batch is refused.
fn recorder(
    tx: &Transaction<'_>,
    pusher: &TerminalRecord,
    entry: &JournalEntry,
    now: Timestamp,
) -> Result<TerminalRecord, StorageError> {
    let Some(by) = &entry.recorded_by else {
        return Ok(pusher.clone());
    };
    let found = tx
        .prepare_cached(&format!(
            "SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = ?1"
        ))
        .and_then(|mut statement| {
            statement
                .query_row(params![by.device.as_str()], terminal_from_row)
                .optional()
        })
        .map_err(db)?;
    match found {
        Some(terminal) if terminal.relayed_by.as_ref() == Some(&pusher.id) => Ok(terminal),
        Some(_) => Err(StorageError::Invalid(relayed_elsewhere(entry, pusher))),
        None => {
            let relayed: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM terminals WHERE relayed_by = ?1",
                    params![pusher.id.as_str()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if u64::try_from(relayed).unwrap_or(0) >= RELAYED_TERMINALS_MAX {
                return Err(StorageError::Invalid(too_many_relayed(pusher)));
            }
            let terminal = relayed_terminal(pusher, by, now);
            tx.execute(
                "INSERT INTO terminals (id, tenant, store, name, token_hash, enrolled_at, relayed_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    terminal.id.as_str(),
                    terminal.tenant.as_str(),
                    terminal.store.as_str(),
                    terminal.name,
                    no_credential(pusher, by),
                    now.unix_ms(),
                    pusher.id.as_str()
                ],
            )
            .map_err(db)?;
            Ok(terminal)
        }
    }
}

fn product_of_store(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    store: &StoreId,
    product: &ProductId,
) -> Result<Option<Product>, StorageError> {
    for scope_key in [store.as_str(), ""] {
        let doc = load_record(tx, tenant, scope_key, "product", product.as_str())?;
        if doc.latest().is_some() {
            return Ok(serde_json::from_value(serde_json::Value::Object(doc.document())).ok());
        }
    }
    Ok(None)
}

fn stock_level(
    tx: &Transaction<'_>,
    store: &StoreId,
    product: &ProductId,
) -> Result<Quantity, StorageError> {
    let mut statement = tx
        .prepare_cached("SELECT quantity FROM stock_movements WHERE store = ?1 AND product = ?2")
        .map_err(db)?;
    let rows = statement
        .query_map(params![store.as_str(), product.as_str()], |r| {
            r.get::<_, String>(0)
        })
        .map_err(db)?;
    let mut level = Quantity::ZERO;
    for row in rows {
        level += from_json::<Quantity>(&row.map_err(db)?)?;
    }
    Ok(level)
}

/// What a new journal entry changes beyond the journal: the sales list, stock, what other
/// terminals pull, and anomalies for a manager.
/// `stock_taken` collects the products this batch took stock of, so that their levels are
/// checked once per batch rather than once per movement.
/// Takes in one fresh entry `pusher` sent, recorded by `terminal` (the pusher itself, or a
/// terminal behind it when the pusher is a store hub). What the entry publishes has the
/// pusher as origin: the pusher has it already, and so do the terminals behind a hub.
fn take_in(
    tx: &Transaction<'_>,
    pusher: &TerminalRecord,
    terminal: &TerminalRecord,
    entry: &JournalEntry,
    event: &DomainEvent,
    stock_taken: &mut Vec<ProductId>,
    now: Timestamp,
) -> Result<(), StorageError> {
    let device = &terminal.id;
    let origin = Some(&pusher.id);
    let tenant = &terminal.tenant;
    let device_stamp = Stamp {
        hlc: entry.hlc,
        origin: Origin::Device(device.clone()),
    };
    match event {
        DomainEvent::SaleCompleted(sale) => {
            // A sale id seen under another event id is the same sale: counted once.
            let total = to_json(&sale.total)?;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO sales (sale_id, event_id, tenant, store, device, receipt_number, total, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    sale.id.as_str(),
                    entry.event_id.as_str(),
                    tenant.as_str(),
                    terminal.store.as_str(),
                    device.as_str(),
                    sale.receipt_number.as_str(),
                    total,
                    sale.at.unix_ms()
                ])
            })
            .map_err(db)?;
            let mut products = Vec::new();
            for line in &sale.lines {
                products.push((
                    line.product.id.clone(),
                    product_of_store(tx, tenant, &terminal.store, &line.product.id)?,
                ));
            }
            let anomalies = sale_anomalies(sale, |id| {
                products
                    .iter()
                    .find(|(p, _)| p == id)
                    .and_then(|(_, found)| found.as_ref())
            });
            for anomaly in anomalies {
                let detail = serde_json::json!({"sale": sale.id, "anomaly": anomaly});
                record_anomaly(
                    tx,
                    tenant,
                    Some(&terminal.store),
                    Some(device),
                    anomaly_kind(&anomaly),
                    &detail,
                    now,
                )?;
            }
        }
        DomainEvent::StockMoved(movement) => {
            // Movements count in the store of the terminal that recorded them.
            let quantity = to_json(&movement.quantity)?;
            let inserted = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO stock_movements (movement_id, event_id, store, product, quantity, device, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        movement.id.as_str(),
                        entry.event_id.as_str(),
                        terminal.store.as_str(),
                        movement.product.as_str(),
                        quantity,
                        device.as_str(),
                        movement.at.unix_ms()
                    ])
                })
                .map_err(db)?;
            if inserted == 1 {
                publish(
                    tx,
                    tenant,
                    Some(&terminal.store),
                    origin,
                    entry.hlc,
                    &ChangeBody::StockMoved {
                        event_id: entry.event_id.clone(),
                        device: device.clone(),
                        movement: movement.clone(),
                    },
                )?;
                if movement.quantity.is_negative() && !stock_taken.contains(&movement.product) {
                    stock_taken.push(movement.product.clone());
                }
            }
        }
        DomainEvent::PointsMoved(movement) => publish(
            tx,
            tenant,
            None,
            origin,
            entry.hlc,
            &ChangeBody::PointsMoved {
                event_id: entry.event_id.clone(),
                movement: movement.clone(),
            },
        )?,
        DomainEvent::CustomerSaved(customer) => {
            let fields = match serde_json::to_value(customer).map_err(json_err)? {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            let merged = write_record(
                tx,
                tenant,
                &Scope::Tenant,
                "customer",
                customer.id.as_str(),
                &fields,
                &device_stamp,
            )?;
            if let Ok(customer) = serde_json::from_value(merged) {
                publish(
                    tx,
                    tenant,
                    None,
                    origin,
                    entry.hlc,
                    &ChangeBody::Customer { customer },
                )?;
            }
        }
        // A manager's till edited the catalogue offline: merged field by field; the fleet's
        // newer writes win, and every terminal (this one too) gets the merged result.
        DomainEvent::ProductSaved(product) => {
            merge_product(
                tx,
                tenant,
                product.id.as_str(),
                &product_fields(product)?,
                &device_stamp,
                entry.hlc,
            )?;
        }
        DomainEvent::PriceChanged { product, new, .. } => {
            let mut fields = serde_json::Map::new();
            fields.insert("price".into(), serde_json::to_value(new).map_err(json_err)?);
            merge_product(
                tx,
                tenant,
                product.as_str(),
                &fields,
                &device_stamp,
                entry.hlc,
            )?;
        }
        // The lots and expiry dates of a delivery reach the store's other tills.
        DomainEvent::GoodsReceived(receipt) => publish(
            tx,
            tenant,
            Some(&terminal.store),
            origin,
            entry.hlc,
            &ChangeBody::GoodsReceived {
                event_id: entry.event_id.clone(),
                receipt: receipt.clone(),
            },
        )?,
        DomainEvent::TransferRequested(transfer)
        | DomainEvent::TransferSent(transfer)
        | DomainEvent::TransferReceived(transfer)
        | DomainEvent::TransferCancelled(transfer)
        | DomainEvent::TransferRefused(transfer)
        | DomainEvent::TransferReturnSent(transfer)
        | DomainEvent::TransferReturnReceived(transfer) => {
            // A step taken at one end is passed down to the store at the other end.
            let other = crate::storage::transfer_destination(transfer, &terminal.store);
            let known: Option<i64> = match other {
                Some(store) => tx
                    .query_row(
                        "SELECT 1 FROM stores WHERE id = ?1 AND tenant = ?2",
                        params![store.as_str(), tenant.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db)?,
                None => None,
            };
            match (other, known) {
                (Some(store), Some(_)) => publish(
                    tx,
                    tenant,
                    Some(store),
                    origin,
                    entry.hlc,
                    &crate::storage::transfer_change(transfer, entry.event_id.clone()),
                )?,
                _ => record_anomaly(
                    tx,
                    tenant,
                    Some(&terminal.store),
                    Some(device),
                    "transfer_unroutable",
                    &serde_json::json!({"transfer": transfer.id, "from": transfer.from, "to": transfer.to}),
                    now,
                )?,
            }
        }
        DomainEvent::UserSaved(_)
        | DomainEvent::PinReset { .. }
        | DomainEvent::RoleSaved(_)
        | DomainEvent::LoyaltyProgramSaved(_) => {
            if let Some(edit) = shared_records::edit_of(event)? {
                merge_shared(tx, tenant, &terminal.store, &edit, &device_stamp, entry.hlc)?;
            }
        }
        _ => {}
    }
    crate::dashboard::sqlite::take_in(tx, terminal, entry, event)
}

fn terminal_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TerminalRecord> {
    Ok(TerminalRecord {
        id: DeviceId::new(r.get::<_, String>(0)?),
        tenant: TenantId::new(r.get::<_, String>(1)?),
        store: StoreId::new(r.get::<_, String>(2)?),
        name: r.get(3)?,
        enrolled_at: Timestamp::from_unix_ms(r.get(4)?),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_unix_ms),
        high_water_seq: seq_from_sql(r.get(6)?),
        relayed_by: r.get::<_, Option<String>>(7)?.map(DeviceId::new),
    })
}

const TERMINAL_COLUMNS: &str =
    "id, tenant, store, name, enrolled_at, revoked_at, high_water_seq, relayed_by";

fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Account, String)> {
    let role: String = r.get(2)?;
    Ok((
        Account {
            id: r.get(0)?,
            email: r.get(1)?,
            role: AccountRole::parse(&role).unwrap_or(AccountRole::StoreManager),
            tenant: r.get::<_, Option<String>>(3)?.map(TenantId::new),
            store: r.get::<_, Option<String>>(4)?.map(StoreId::new),
        },
        r.get(5)?,
    ))
}

/// The columns [`store_from_row`] reads.
const STORE_COLUMNS: &str = "id, tenant, name, currency, utc_offset_seconds, time_zone";

type StoreRow = (String, String, String, String, i32, Option<String>);

fn store_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoreRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn store_record(
    (id, tenant, name, currency, offset, time_zone): StoreRow,
) -> Result<StoreRecord, StorageError> {
    Ok(StoreRecord {
        id: StoreId::new(id),
        tenant: TenantId::new(tenant),
        name,
        currency: from_json(&currency)?,
        utc_offset: dashboard::data::store_clock(offset),
        time_zone,
    })
}

/// Writes a setting (last writer wins per key) and publishes it to the tills of its scope.
fn put_setting(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    scope: &Scope,
    key: &str,
    value: &serde_json::Value,
    stamp: &Stamp,
) -> Result<(), StorageError> {
    let mut fields = serde_json::Map::new();
    fields.insert("value".into(), value.clone());
    write_record(tx, tenant, scope, "setting", key, &fields, stamp)?;
    let store = match scope {
        Scope::Tenant => None,
        Scope::Store(store) => Some(store),
    };
    publish(
        tx,
        tenant,
        store,
        None,
        stamp.hlc,
        &ChangeBody::Setting {
            scope: scope.clone(),
            key: key.into(),
            value: value.clone(),
        },
    )
}

fn read_store(conn: &Connection, id: &StoreId) -> Result<Option<StoreRecord>, StorageError> {
    conn.query_row(
        &format!("SELECT {STORE_COLUMNS} FROM stores WHERE id = ?1"),
        params![id.as_str()],
        store_from_row,
    )
    .optional()
    .map_err(db)?
    .map(store_record)
    .transpose()
}

impl FleetStorage for SqliteStorage {
    fn create_account(&self, account: NewAccount, now: Timestamp) -> Result<Account, StorageError> {
        let inner = self.lock()?;
        let id = random_id("acct")?;
        let result = inner.conn.execute(
            "INSERT INTO accounts (id, email, password_hash, role, tenant, store, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                account.email,
                account.password_hash,
                account.role.as_str(),
                account.tenant.as_ref().map(TenantId::as_str),
                account.store.as_ref().map(StoreId::as_str),
                now.unix_ms()
            ],
        );
        match result {
            Ok(_) => Ok(Account {
                id,
                email: account.email,
                role: account.role,
                tenant: account.tenant,
                store: account.store,
            }),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StorageError::Conflict(format!(
                    "an account with the e-mail {} already exists",
                    account.email
                )))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn account_by_email(&self, email: &str) -> Result<Option<(Account, String)>, StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .query_row(
                "SELECT id, email, role, tenant, store, password_hash FROM accounts WHERE email = ?1",
                params![email],
                account_from_row,
            )
            .optional()
            .map_err(db)
    }

    fn create_session(
        &self,
        token_hash: &str,
        account: &str,
        expires_at: Timestamp,
    ) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "INSERT INTO sessions (token_hash, account, expires_at) VALUES (?1, ?2, ?3)",
                params![token_hash, account, expires_at.unix_ms()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn session_account(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Account>, StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .query_row(
                "SELECT a.id, a.email, a.role, a.tenant, a.store, a.password_hash
                 FROM sessions s JOIN accounts a ON a.id = s.account
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, now.unix_ms()],
                account_from_row,
            )
            .optional()
            .map(|found| found.map(|(account, _)| account))
            .map_err(db)
    }

    fn create_tenant(&self, name: &str, now: Timestamp) -> Result<TenantRecord, StorageError> {
        let inner = self.lock()?;
        let tenant = TenantRecord {
            id: TenantId::new(random_id("tnt")?),
            name: name.to_owned(),
            features: Features::all_enabled(),
        };
        inner
            .conn
            .execute(
                "INSERT INTO tenants (id, name, features, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    tenant.id.as_str(),
                    tenant.name,
                    to_json(&tenant.features)?,
                    now.unix_ms()
                ],
            )
            .map_err(db)?;
        Ok(tenant)
    }

    fn tenants(&self) -> Result<Vec<TenantRecord>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare("SELECT id, name, features FROM tenants ORDER BY name, id")
            .map_err(db)?;
        let rows = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, features) = row.map_err(db)?;
            out.push(TenantRecord {
                id: TenantId::new(id),
                name,
                features: from_json(&features)?,
            });
        }
        Ok(out)
    }

    fn tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        let inner = self.lock()?;
        let row: Option<(String, String)> = inner
            .conn
            .query_row(
                "SELECT name, features FROM tenants WHERE id = ?1",
                params![id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(name, features)| {
            Ok(TenantRecord {
                id: id.clone(),
                name,
                features: from_json(&features)?,
            })
        })
        .transpose()
    }

    fn set_tenant_features(
        &self,
        id: &TenantId,
        features: &Features,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let updated = tx
            .execute(
                "UPDATE tenants SET features = ?2 WHERE id = ?1",
                params![id.as_str(), to_json(features)?],
            )
            .map_err(db)?;
        if updated == 0 {
            return Err(StorageError::NotFound(format!("no tenant {id}")));
        }
        let stamp = fleet_stamp(&tx, clock, now)?;
        publish(
            &tx,
            id,
            None,
            None,
            stamp.hlc,
            &ChangeBody::TenantFeatures {
                features: features.clone(),
            },
        )?;
        tx.commit().map_err(db)
    }

    fn create_store(
        &self,
        tenant: &TenantId,
        name: &str,
        currency: Currency,
        utc_offset: UtcOffset,
        time_zone: Option<String>,
        now: Timestamp,
    ) -> Result<StoreRecord, StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let store = StoreRecord {
            id: StoreId::new(random_id("str")?),
            tenant: tenant.clone(),
            name: name.to_owned(),
            currency,
            utc_offset,
            time_zone,
        };
        tx.execute(
            "INSERT INTO stores (id, tenant, name, currency, utc_offset_seconds, time_zone,
                                 created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                store.id.as_str(),
                tenant.as_str(),
                name,
                to_json(&currency)?,
                utc_offset.whole_seconds(),
                store.time_zone,
                now.unix_ms()
            ],
        )
        .map_err(db)?;
        let stamp = fleet_stamp(&tx, clock, now)?;
        publish(
            &tx,
            tenant,
            None,
            None,
            stamp.hlc,
            &crate::storage::store_change(&store),
        )?;
        let scope = Scope::Store(store.id.clone());
        for (key, value) in [
            ("name", serde_json::json!(name)),
            (
                "currency",
                serde_json::to_value(currency).map_err(json_err)?,
            ),
        ] {
            put_setting(&tx, tenant, &scope, key, &value, &stamp)?;
        }
        tx.commit().map_err(db)?;
        Ok(store)
    }

    fn rename_store(
        &self,
        store: &StoreId,
        name: &str,
        now: Timestamp,
    ) -> Result<StoreRecord, StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let changed = tx
            .execute(
                "UPDATE stores SET name = ?2 WHERE id = ?1",
                params![store.as_str(), name],
            )
            .map_err(db)?;
        if changed == 0 {
            return Err(StorageError::NotFound(format!("no store {store}")));
        }
        let record = read_store(&tx, store)?
            .ok_or_else(|| StorageError::NotFound(format!("no store {store}")))?;
        let stamp = fleet_stamp(&tx, clock, now)?;
        publish(
            &tx,
            &record.tenant,
            None,
            None,
            stamp.hlc,
            &crate::storage::store_change(&record),
        )?;
        put_setting(
            &tx,
            &record.tenant,
            &Scope::Store(record.id.clone()),
            "name",
            &serde_json::json!(name),
            &stamp,
        )?;
        tx.commit().map_err(db)?;
        Ok(record)
    }

    fn stores(&self, tenant: &TenantId) -> Result<Vec<StoreRecord>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(&format!(
                "SELECT {STORE_COLUMNS} FROM stores WHERE tenant = ?1 ORDER BY name, id"
            ))
            .map_err(db)?;
        let rows = statement
            .query_map(params![tenant.as_str()], store_from_row)
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(store_record(row.map_err(db)?)?);
        }
        Ok(out)
    }

    fn store(&self, id: &StoreId) -> Result<Option<StoreRecord>, StorageError> {
        read_store(&self.lock()?.conn, id)
    }

    fn set_store_clock(
        &self,
        store: &StoreId,
        utc_offset: UtcOffset,
        time_zone: Option<String>,
    ) -> Result<StoreRecord, StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        let changed = tx
            .execute(
                "UPDATE stores SET utc_offset_seconds = ?2, time_zone = ?3 WHERE id = ?1",
                params![store.as_str(), utc_offset.whole_seconds(), time_zone],
            )
            .map_err(db)?;
        if changed == 0 {
            return Err(StorageError::NotFound(format!("no store {store}")));
        }
        dashboard::sqlite::recount_store(&tx, store)?;
        let record = read_store(&tx, store)?
            .ok_or_else(|| StorageError::NotFound(format!("no store {store}")))?;
        tx.commit().map_err(db)?;
        Ok(record)
    }

    fn set_setting(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        key: &str,
        value: &serde_json::Value,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let stamp = fleet_stamp(&tx, clock, now)?;
        put_setting(&tx, tenant, scope, key, value, &stamp)?;
        tx.commit().map_err(db)
    }

    fn create_enrolment_code(
        &self,
        store: &StoreId,
        code_hash: &str,
        expires_at: Timestamp,
    ) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "INSERT INTO enrolment_codes (code_hash, store, expires_at) VALUES (?1, ?2, ?3)",
                params![code_hash, store.as_str(), expires_at.unix_ms()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn redeem_enrolment_code(
        &self,
        code_hash: &str,
        name: &str,
        token_hash: &str,
        key_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<TerminalRecord, StorageError> {
        let mut guard = self.lock()?;
        let tx = guard.conn.transaction().map_err(db)?;
        let used = tx
            .execute(
                "UPDATE enrolment_codes SET used_at = ?2, enrolment_key_hash = ?3
                 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![code_hash, now.unix_ms(), key_hash],
            )
            .map_err(db)?;
        if used != 1 {
            // The same terminal again (same key), soon after: its answer was lost. It gets a
            // fresh token for the terminal the code made; the lost one stops working.
            let Some(key_hash) = key_hash else {
                return Err(StorageError::EnrolmentCodeRejected);
            };
            let terminal: Option<String> = tx
                .query_row(
                    "SELECT c.terminal FROM enrolment_codes c JOIN terminals t ON t.id = c.terminal
                     WHERE c.code_hash = ?1 AND c.enrolment_key_hash = ?2 AND c.used_at > ?3
                       AND t.revoked_at IS NULL",
                    params![
                        code_hash,
                        key_hash,
                        now.unix_ms() - crate::storage::ENROLMENT_RETRY_MS
                    ],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let Some(terminal) = terminal else {
                return Err(StorageError::EnrolmentCodeRejected);
            };
            tx.execute(
                "UPDATE terminals SET token_hash = ?2 WHERE id = ?1",
                params![terminal, token_hash],
            )
            .map_err(db)?;
            let record = tx
                .query_row(
                    &format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = ?1"),
                    params![terminal],
                    terminal_from_row,
                )
                .map_err(db)?;
            tx.commit().map_err(db)?;
            return Ok(record);
        }
        let (store, tenant): (String, String) = tx
            .query_row(
                "SELECT s.id, s.tenant FROM enrolment_codes c JOIN stores s ON s.id = c.store WHERE c.code_hash = ?1",
                params![code_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db)?;
        let terminal = TerminalRecord {
            id: DeviceId::new(random_id("term")?),
            tenant: TenantId::new(tenant),
            store: StoreId::new(store),
            name: name.to_owned(),
            enrolled_at: now,
            revoked_at: None,
            high_water_seq: 0,
            relayed_by: None,
        };
        tx.execute(
            "INSERT INTO terminals (id, tenant, store, name, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![terminal.id.as_str(), terminal.tenant.as_str(), terminal.store.as_str(), name, token_hash, now.unix_ms()],
        )
        .map_err(db)?;
        tx.execute(
            "UPDATE enrolment_codes SET terminal = ?2 WHERE code_hash = ?1",
            params![code_hash, terminal.id.as_str()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(terminal)
    }

    fn terminal_by_token(&self, token_hash: &str) -> Result<Option<TerminalRecord>, StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .query_row(
                &format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE token_hash = ?1"),
                params![token_hash],
                terminal_from_row,
            )
            .optional()
            .map_err(db)
    }

    fn terminal(&self, id: &DeviceId) -> Result<Option<TerminalRecord>, StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .query_row(
                &format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = ?1"),
                params![id.as_str()],
                terminal_from_row,
            )
            .optional()
            .map_err(db)
    }

    fn terminals(&self, store: &StoreId) -> Result<Vec<TerminalRecord>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(&format!(
                "SELECT {TERMINAL_COLUMNS} FROM terminals WHERE store = ?1 ORDER BY enrolled_at, id"
            ))
            .map_err(db)?;
        let rows = statement
            .query_map(params![store.as_str()], terminal_from_row)
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn revoke_terminal(&self, id: &DeviceId, now: Timestamp) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "UPDATE terminals SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![id.as_str(), now.unix_ms()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn push(
        &self,
        terminal: &TerminalRecord,
        batch: &PushBatch,
        now: Timestamp,
    ) -> Result<PushAck, StorageError> {
        let events = check_batch(batch, &terminal.id)?;
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let mut fresh = Vec::new();
        let mut duplicates = 0u32;
        for (entry, event) in batch.entries.iter().zip(&events) {
            let stored = stored_entry(&tx, &entry.event_id)?;
            let seq = seq_to_sql(entry.seq)?;
            let at_seq: Option<EventId> = tx
                .prepare_cached("SELECT event_id FROM journal WHERE device = ?1 AND seq = ?2")
                .and_then(|mut statement| {
                    statement
                        .query_row(params![terminal.id.as_str(), seq], |r| {
                            r.get::<_, String>(0)
                        })
                        .optional()
                })
                .map_err(db)?
                .map(EventId::new);
            match fate(&terminal.id, entry, stored.as_ref(), at_seq.as_ref())? {
                Fate::New => fresh.push((entry, event)),
                Fate::Duplicate => duplicates = duplicates.saturating_add(1),
            }
        }
        let mut clock_ahead = None;
        let mut stock_taken = Vec::new();
        for (entry, event) in &fresh {
            let recorder = recorder(&tx, terminal, entry, now)?;
            let seq = seq_to_sql(entry.seq)?;
            tx.prepare_cached(
                "INSERT INTO journal (event_id, device, seq, hlc_ms, hlc_counter, actor, kind, payload,
                                      received_at, recorded_by, recorded_by_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    entry.event_id.as_str(),
                    terminal.id.as_str(),
                    seq,
                    entry.hlc.wall_ms,
                    entry.hlc.counter,
                    entry.actor.as_str(),
                    entry.kind,
                    entry.payload.as_str(),
                    now.unix_ms(),
                    entry.recorded_by.as_ref().map(|by| by.device.as_str()),
                    entry.recorded_by.as_ref().map(|by| by.name.as_str())
                ])
            })
            .map_err(db)?;
            if let Some(event) = event {
                take_in(
                    &tx,
                    terminal,
                    &recorder,
                    entry,
                    event,
                    &mut stock_taken,
                    now,
                )?;
            }
            // Keep the fleet's clock after what terminals did, unless a terminal's clock is
            // far ahead: then its entries are kept, and a manager is told.
            if let Err(refused) = clock.observe(entry.hlc, now.unix_ms()) {
                clock_ahead = Some(refused.to_string());
            }
        }
        // Selling below zero is allowed (the sale happened); a manager is told.
        for product in &stock_taken {
            let level = stock_level(&tx, &terminal.store, product)?;
            if level.is_negative() {
                let anomaly = Anomaly::NegativeStock {
                    store: terminal.store.clone(),
                    product: product.clone(),
                    level,
                };
                let detail = serde_json::to_value(&anomaly).map_err(json_err)?;
                record_anomaly(
                    &tx,
                    &terminal.tenant,
                    Some(&terminal.store),
                    Some(&terminal.id),
                    anomaly_kind(&anomaly),
                    &detail,
                    now,
                )?;
            }
        }
        if let Some(message) = clock_ahead {
            let detail = serde_json::json!({ "message": message });
            record_anomaly(
                &tx,
                &terminal.tenant,
                Some(&terminal.store),
                Some(&terminal.id),
                "clock_ahead",
                &detail,
                now,
            )?;
        }
        save_clock(&tx, clock)?;
        let current: i64 = tx
            .query_row(
                "SELECT high_water_seq FROM terminals WHERE id = ?1",
                params![terminal.id.as_str()],
                |r| r.get(0),
            )
            .map_err(db)?;
        let current = seq_from_sql(current);
        let mut above = Vec::new();
        {
            let mut statement = tx
                .prepare(
                    "SELECT seq FROM journal WHERE device = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(db)?;
            // Bounded: the mark cannot move further than the entries that exist above it.
            let limit = i64::try_from(pos_sync::ingest::BATCH_ENTRIES_MAX * 8).unwrap_or(i64::MAX);
            let rows = statement
                .query_map(
                    params![terminal.id.as_str(), seq_to_sql(current)?, limit],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(db)?;
            for row in rows {
                above.push(seq_from_sql(row.map_err(db)?));
            }
        }
        let high = advance_high_water(current, above);
        tx.execute(
            "UPDATE terminals SET high_water_seq = ?2 WHERE id = ?1",
            params![terminal.id.as_str(), seq_to_sql(high)?],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(PushAck {
            protocol: PROTOCOL,
            device: terminal.id.clone(),
            high_water_seq: high,
            stored: u32::try_from(fresh.len()).unwrap_or(u32::MAX),
            duplicates,
        })
    }

    fn pull(
        &self,
        terminal: &TerminalRecord,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StorageError> {
        let limit = limit.clamp(1, 5_000);
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare_cached(
                "SELECT server_seq, hlc_ms, hlc_counter, body FROM changes
                 WHERE tenant = ?1 AND server_seq > ?2
                   AND (store IS NULL OR store = ?3)
                   AND (origin_device IS NULL OR origin_device <> ?4)
                 ORDER BY server_seq LIMIT ?5",
            )
            .map_err(db)?;
        let rows = statement
            .query_map(
                params![
                    terminal.tenant.as_str(),
                    seq_to_sql(cursor)?,
                    terminal.store.as_str(),
                    terminal.id.as_str(),
                    i64::from(limit) + 1
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .map_err(db)?;
        let mut changes = Vec::new();
        let mut more = false;
        for row in rows {
            let (seq, hlc_ms, hlc_counter, body) = row.map_err(db)?;
            if changes.len() == usize::try_from(limit).unwrap_or(usize::MAX) {
                more = true;
                break;
            }
            changes.push(Change {
                server_seq: seq_from_sql(seq),
                hlc: HlcTime::new(hlc_ms, u32::try_from(hlc_counter).unwrap_or(u32::MAX)),
                body: from_json(&body)?,
            });
        }
        let next_cursor = changes.last().map_or(cursor, |c| c.server_seq);
        Ok(PullResponse {
            protocol: PROTOCOL,
            changes,
            next_cursor,
            more,
        })
    }

    fn save_product(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        product: &Product,
        now: Timestamp,
    ) -> Result<Product, StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let stamp = fleet_stamp(&tx, clock, now)?;
        let merged = write_record(
            &tx,
            tenant,
            scope,
            "product",
            product.id.as_str(),
            &product_fields(product)?,
            &stamp,
        )?;
        let merged: Product = serde_json::from_value(merged).map_err(json_err)?;
        let store = match scope {
            Scope::Tenant => None,
            Scope::Store(store) => Some(store),
        };
        publish(
            &tx,
            tenant,
            store,
            None,
            stamp.hlc,
            &ChangeBody::Product {
                scope: scope.clone(),
                product: merged.clone(),
            },
        )?;
        tx.commit().map_err(db)?;
        Ok(merged)
    }

    fn products(&self, tenant: &TenantId, scope: &Scope) -> Result<Vec<Product>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare("SELECT document FROM records WHERE tenant = ?1 AND store = ?2 AND kind = 'product' ORDER BY key")
            .map_err(db)?;
        let rows = statement
            .query_map(params![tenant.as_str(), scope_store(scope)], |r| {
                r.get::<_, String>(0)
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let doc: LwwDocument = from_json(&row.map_err(db)?)?;
            // A record a till only partly described (a price for a product the fleet never
            // had) is not a product yet.
            if let Ok(product) = serde_json::from_value(serde_json::Value::Object(doc.document())) {
                out.push(product);
            }
        }
        Ok(out)
    }

    fn schedule_price(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        schedule: &PriceSchedule,
        now: Timestamp,
    ) -> Result<String, StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let stamp = fleet_stamp(&tx, clock, now)?;
        let schedule_id = random_id("price")?;
        let fields = match serde_json::to_value(schedule).map_err(json_err)? {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        write_record(
            &tx,
            tenant,
            scope,
            "price_schedule",
            &schedule_id,
            &fields,
            &stamp,
        )?;
        let store = match scope {
            Scope::Tenant => None,
            Scope::Store(store) => Some(store),
        };
        publish(
            &tx,
            tenant,
            store,
            None,
            stamp.hlc,
            &ChangeBody::PriceScheduled {
                scope: scope.clone(),
                schedule_id: schedule_id.clone(),
                product: schedule.product.clone(),
                price: schedule.price,
                effective_at: schedule.effective_at,
            },
        )?;
        tx.commit().map_err(db)?;
        Ok(schedule_id)
    }

    fn save_record(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        kind: RecordKind,
        key: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut guard = self.lock()?;
        let Inner { conn, clock } = &mut *guard;
        let tx = conn.transaction().map_err(db)?;
        let stamp = fleet_stamp(&tx, clock, now)?;
        let merged = write_record(&tx, tenant, scope, kind.as_str(), key, fields, &stamp)?;
        let invalid = |e: serde_json::Error| {
            StorageError::Invalid(format!(
                "the {} is not complete: {e}",
                kind.as_str().replace('_', " ")
            ))
        };
        let body = match kind {
            RecordKind::TaxRate => ChangeBody::TaxRate {
                scope: scope.clone(),
                rate: serde_json::from_value(merged).map_err(invalid)?,
            },
            RecordKind::Staff => ChangeBody::Staff {
                member: serde_json::from_value(merged).map_err(invalid)?,
            },
            RecordKind::Role => ChangeBody::Role {
                role: serde_json::from_value(merged).map_err(invalid)?,
            },
        };
        let store = match scope {
            Scope::Tenant => None,
            Scope::Store(store) => Some(store),
        };
        publish(&tx, tenant, store, None, stamp.hlc, &body)?;
        tx.commit().map_err(db)
    }

    fn receipt_requests_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::storage::ReceiptJob>, StorageError> {
        self.receipt_requests_due_impl(now, limit)
    }

    fn receipt_sale(
        &self,
        store: &StoreId,
        sale: &pos_core::id::SaleId,
    ) -> Result<Option<pos_core::sale::Sale>, StorageError> {
        self.receipt_sale_impl(store, sale)
    }

    fn record_receipt_delivery(
        &self,
        delivery: &crate::storage::ReceiptDelivery,
        next_at: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        self.record_receipt_delivery_impl(delivery, next_at)
    }

    fn receipt_deliveries(
        &self,
        store: &StoreId,
    ) -> Result<Vec<crate::storage::ReceiptDelivery>, StorageError> {
        self.receipt_deliveries_impl(store)
    }

    fn login_failures(&self, keys: &[String]) -> Result<Vec<FailureRow>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare_cached(
                "SELECT key, count, first_ms, last_ms, locked_until_ms FROM login_failures
                 WHERE key = ?1",
            )
            .map_err(db)?;
        let mut rows = Vec::new();
        for key in keys {
            let row = statement
                .query_row(params![key], |r| {
                    Ok(FailureRow {
                        key: r.get(0)?,
                        count: r.get(1)?,
                        first_ms: r.get(2)?,
                        last_ms: r.get(3)?,
                        locked_until_ms: r.get(4)?,
                    })
                })
                .optional()
                .map_err(db)?;
            rows.extend(row);
        }
        Ok(rows)
    }

    fn save_login_failures(
        &self,
        keys: &[String],
        rows: &[FailureRow],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        for key in keys {
            tx.execute("DELETE FROM login_failures WHERE key = ?1", params![key])
                .map_err(db)?;
        }
        for row in rows {
            tx.execute(
                "INSERT INTO login_failures (key, count, first_ms, last_ms, locked_until_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    row.key,
                    row.count,
                    row.first_ms,
                    row.last_ms,
                    row.locked_until_ms
                ],
            )
            .map_err(db)?;
        }
        let now_ms = now.unix_ms();
        tx.execute(
            "DELETE FROM login_failures
             WHERE (locked_until_ms IS NULL OR locked_until_ms <= ?1) AND last_ms <= ?2",
            params![now_ms, now_ms - crate::lockout::WINDOW_MS],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn sales(&self, store: &StoreId) -> Result<Vec<SaleRow>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare("SELECT sale_id, receipt_number, device, total, at FROM sales WHERE store = ?1 ORDER BY at, sale_id")
            .map_err(db)?;
        let rows = statement
            .query_map(params![store.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (sale, receipt_number, device, total, at) = row.map_err(db)?;
            out.push(SaleRow {
                sale: sale.as_str().into(),
                receipt_number,
                device: DeviceId::new(device),
                total: from_json::<Money>(&total)?,
                at: Timestamp::from_unix_ms(at),
            });
        }
        Ok(out)
    }

    fn stock(&self, store: &StoreId) -> Result<Vec<StockRow>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(
                "SELECT product, quantity FROM stock_movements WHERE store = ?1 ORDER BY product",
            )
            .map_err(db)?;
        let rows = statement
            .query_map(params![store.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?;
        let mut out: Vec<StockRow> = Vec::new();
        for row in rows {
            let (product, quantity) = row.map_err(db)?;
            let quantity: Quantity = from_json(&quantity)?;
            match out.last_mut() {
                Some(last) if last.product.as_str() == product => last.level += quantity,
                _ => out.push(StockRow {
                    product: ProductId::new(product),
                    level: quantity,
                }),
            }
        }
        Ok(out)
    }

    fn anomalies(&self, store: &StoreId) -> Result<Vec<AnomalyRow>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare("SELECT kind, detail, device, at FROM anomalies WHERE store = ?1 ORDER BY id")
            .map_err(db)?;
        let rows = statement
            .query_map(params![store.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, detail, device, at) = row.map_err(db)?;
            out.push(AnomalyRow {
                kind,
                detail: from_json(&detail)?,
                device: device.map(DeviceId::new),
                at: Timestamp::from_unix_ms(at),
            });
        }
        Ok(out)
    }

    fn end_session(&self, token_hash: &str) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                params![token_hash],
            )
            .map_err(db)?;
        Ok(())
    }

    fn note_terminal_contact(
        &self,
        device: &DeviceId,
        at: Timestamp,
        pulled_to: Option<u64>,
    ) -> Result<(), StorageError> {
        let inner = self.lock()?;
        dashboard::sqlite::note_contact(&inner.conn, device, at, pulled_to)
    }

    fn dashboard_sales(
        &self,
        stores: &[StoreId],
        span: Span,
        grouping: Grouping,
    ) -> Result<Vec<SalesBucket>, StorageError> {
        dashboard::sqlite::sales(&self.lock()?.conn, stores, span, grouping)
    }

    fn dashboard_tenders(
        &self,
        stores: &[StoreId],
        span: Span,
    ) -> Result<Vec<TenderSales>, StorageError> {
        dashboard::sqlite::tenders(&self.lock()?.conn, stores, span)
    }

    fn dashboard_products(
        &self,
        stores: &[StoreId],
        span: Span,
    ) -> Result<Vec<ProductSales>, StorageError> {
        dashboard::sqlite::products(&self.lock()?.conn, stores, span)
    }

    fn dashboard_stock(&self, stores: &[StoreId]) -> Result<Vec<StockLevel>, StorageError> {
        dashboard::sqlite::stock(&self.lock()?.conn, stores)
    }

    fn dashboard_terminals(&self, stores: &[StoreId]) -> Result<Vec<TerminalStatus>, StorageError> {
        let mut terminals = Vec::new();
        for store in stores {
            terminals.extend(self.terminals(store)?);
        }
        dashboard::sqlite::terminal_status(&self.lock()?.conn, terminals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_a_newer_server_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStorage::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let Err(err) = SqliteStorage::open(dir.path()) else {
            panic!("a newer schema must be refused")
        };
        assert!(
            err.to_string()
                .contains("schema version 99, newer than this fleet server")
        );
    }

    #[test]
    fn an_upgrade_publishes_the_stores_and_switches_of_tenants_made_before() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStorage::open(dir.path()).unwrap());
        // A version-6 fleet's tenant with a switch off and a store, never sent down as such.
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(
            r#"INSERT INTO tenants (id, name, features, created_at)
                   VALUES ('tnt-1', 'Acme', '{"disabled":["loyalty"]}', 1000);
               INSERT INTO stores (id, tenant, name, currency, created_at)
                   VALUES ('str-1', 'tnt-1', 'Acme Mitte', '"EUR"', 2000);
               PRAGMA user_version = 6;"#,
        )
        .unwrap();
        drop(conn);
        let storage = SqliteStorage::open(dir.path()).unwrap();
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
                    store: pos_sync::wire::TenantStore {
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
    fn reopening_keeps_data_and_the_clock_moves_on() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let tenant = storage
            .create_tenant("Acme", Timestamp::from_unix_ms(5_000))
            .unwrap();
        storage
            .set_setting(
                &tenant.id,
                &Scope::Tenant,
                "receipt_footer",
                &serde_json::json!("Thanks"),
                Timestamp::from_unix_ms(9_000),
            )
            .unwrap();
        drop(storage);
        let storage = SqliteStorage::open(dir.path()).unwrap();
        assert_eq!(storage.tenants().unwrap(), [tenant]);
        // The wall clock went back, yet the fleet's clock continues after what it issued.
        assert!(storage.lock().unwrap().clock.last() >= HlcTime::new(9_000, 0));
    }
}
