//! [`FleetStorage`] on PostgreSQL, for chains that outgrow one machine: several fleet
//! processes can serve the same database, and the database can live on its own host.
//!
//! It owns the fleet's tables in the database (or in the schema that the URL's
//! `options=-csearch_path=…` names) and their migrations, `migrations/postgres/*.sql`, embedded
//! in the binary. It must mean exactly what [`crate::sqlite::SqliteStorage`] means: the same
//! HTTP test suites run against both.
//!
//! Key decisions:
//! - The synchronous `postgres` crate with an `r2d2` pool. [`FleetStorage`] is synchronous and
//!   the HTTP layer already calls it on tokio's blocking pool, so the code reads like the
//!   SQLite backend, with no bridge between async and sync; each pooled connection drives its
//!   socket on its own small runtime, so it never runs on (or blocks) a server worker thread.
//!   It must not be called from inside an async task: the callers use `spawn_blocking`.
//!   Each connection keeps the statements it prepared, so a statement costs one round trip.
//! - Each tenant has a clock row (`tenant_clocks`). Every write to a tenant's records or change
//!   feed locks that row first (`SELECT … FOR UPDATE`) and holds it until commit. That gives,
//!   per tenant, what SQLite's single writer gives globally: the tenant's hybrid logical clock
//!   never goes back or repeats across processes, last-writer-wins merges cannot lose an
//!   update, and the change feed's numbers are assigned in commit order, so a pull cursor never
//!   steps over a change that commits late. Different tenants write in parallel.
//! - A transaction that PostgreSQL aborts for a deadlock or a serialisation failure, or a push
//!   that lost a race for an event id to another tenant's push, is run again from the start;
//!   nothing of the failed attempt remains.

mod receipts;

use std::collections::HashMap;
use std::time::Duration;

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
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement, Transaction};
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

/// Schema versions in order; append-only, like the files they embed.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_initial.sql")),
    (2, include_str!("../migrations/postgres/0002_updates.sql")),
    (3, include_str!("../migrations/postgres/0003_receipts.sql")),
    (
        4,
        include_str!("../migrations/postgres/0004_store_clock.sql"),
    ),
    (
        5,
        include_str!("../migrations/postgres/0005_relayed_terminals.sql"),
    ),
    (
        6,
        include_str!("../migrations/postgres/0006_store_time_zone.sql"),
    ),
    (
        7,
        include_str!("../migrations/postgres/0007_login_failures.sql"),
    ),
    (
        8,
        include_str!("../migrations/postgres/0008_enrolment_retry.sql"),
    ),
    (
        9,
        include_str!("../migrations/postgres/0009_tenant_stores_and_features.sql"),
    ),
];

/// The advisory lock that two fleet processes starting at once take, so the schema is
/// migrated once ("posfleet" in ASCII).
const MIGRATION_LOCK: i64 = 0x706f_7366_6c65_6574;

/// Connections kept by one fleet process. Requests beyond this wait for a free one.
pub const POOL_SIZE_DEFAULT: u32 = 16;

/// How long a request waits for a connection before it is refused as a database failure.
const POOL_WAIT: Duration = Duration::from_secs(15);

/// A transaction is tried at most this often when PostgreSQL aborts it for a conflict with
/// another one.
const TRANSACTION_ATTEMPTS: u32 = 8;

type Pool = r2d2::Pool<Manager>;

/// Statements a connection has prepared, by their text.
type Prepared = HashMap<&'static str, Statement>;

/// A pooled connection and the statements prepared on it.
struct Connection {
    client: Client,
    prepared: Prepared,
}

/// Opens connections for the pool.
struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.config.connect(NoTls)?,
            prepared: Prepared::new(),
        })
    }

    fn is_valid(&self, connection: &mut Connection) -> Result<(), postgres::Error> {
        connection.client.simple_query("").map(drop)
    }

    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.client.is_closed()
    }
}

/// A transaction that prepares each statement once per connection.
pub(crate) struct Tx<'a> {
    inner: Transaction<'a>,
    prepared: &'a mut Prepared,
}

pub(crate) type Params<'p> = [&'p (dyn ToSql + Sync)];

impl Tx<'_> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.inner.prepare(sql)?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.inner.execute(&statement, params)
    }

    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.inner.query(&statement, params)
    }

    pub(crate) fn query_one(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        self.inner.query_one(&statement, params)
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.inner.query_opt(&statement, params)
    }
}

pub struct PostgresStorage {
    pool: Pool,
}

/// Why a step inside a transaction failed: a database error keeps its SQLSTATE until the
/// transaction is over, so that a conflict between transactions can be retried.
pub(crate) enum Failure {
    Database(postgres::Error),
    Storage(StorageError),
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Failure {
        Failure::Database(e)
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Failure {
        Failure::Storage(e)
    }
}

impl From<pos_sync::ingest::BatchError> for Failure {
    fn from(e: pos_sync::ingest::BatchError) -> Failure {
        Failure::Storage(e.into())
    }
}

impl From<Failure> for StorageError {
    fn from(f: Failure) -> StorageError {
        match f {
            Failure::Database(e) => db(e),
            Failure::Storage(e) => e,
        }
    }
}

pub(crate) type Step<T> = Result<T, Failure>;

pub(crate) fn db(e: postgres::Error) -> StorageError {
    StorageError::Database(explain(&e))
}

/// The error with what the server said: the crate shows a server's refusal only as "db error".
fn explain(e: &postgres::Error) -> String {
    if let Some(refusal) = e.as_db_error() {
        let mut text = format!("{}: {}", refusal.severity(), refusal.message());
        if let Some(detail) = refusal.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        return text;
    }
    match std::error::Error::source(e) {
        Some(cause) if !e.to_string().contains(&cause.to_string()) => format!("{e}: {cause}"),
        _ => e.to_string(),
    }
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

fn hlc_from_sql(wall_ms: i64, counter: i64) -> HlcTime {
    HlcTime::new(wall_ms, u32::try_from(counter).unwrap_or(u32::MAX))
}

fn scope_store(scope: &Scope) -> &str {
    match scope {
        Scope::Tenant => "",
        Scope::Store(store) => store.as_str(),
    }
}

fn scope_store_id(scope: &Scope) -> Option<&StoreId> {
    match scope {
        Scope::Tenant => None,
        Scope::Store(store) => Some(store),
    }
}

fn has_state(e: &postgres::Error, state: &SqlState) -> bool {
    e.code() == Some(state)
}

/// A conflict with a concurrent transaction: running the transaction again resolves it.
fn is_transient(e: &postgres::Error, unique_races: bool) -> bool {
    has_state(e, &SqlState::T_R_SERIALIZATION_FAILURE)
        || has_state(e, &SqlState::T_R_DEADLOCK_DETECTED)
        || (unique_races && has_state(e, &SqlState::UNIQUE_VIOLATION))
}

/// Whether a transaction that loses a race for a unique key runs again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UniqueRace {
    /// The key was taken by a transaction that committed meanwhile; the next attempt sees it
    /// and decides (a push finds the entry stored and judges it a duplicate or a conflict).
    Retry,
    /// A taken key is the answer (an e-mail already in use).
    Refuse,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`),
    /// migrates it, and keeps a pool of [`POOL_SIZE_DEFAULT`] connections.
    pub fn open(url: &str) -> Result<PostgresStorage, StorageError> {
        let config: postgres::Config = url.parse().map_err(|e| {
            StorageError::Invalid(format!(
                "the database URL is not a PostgreSQL URL like \
                 postgres://user:password@host:5432/database: {e}"
            ))
        })?;
        PostgresStorage::open_config(config, POOL_SIZE_DEFAULT)
    }

    /// Connects with a parsed configuration and a pool of `pool_size` connections.
    pub fn open_config(
        config: postgres::Config,
        pool_size: u32,
    ) -> Result<PostgresStorage, StorageError> {
        let place = describe(&config);
        // One connection first, so that a wrong address or password is reported as itself
        // rather than as a pool that timed out.
        let mut client = config.connect(NoTls).map_err(|e| {
            StorageError::Database(format!(
                "cannot connect to PostgreSQL at {place}: {}",
                explain(&e)
            ))
        })?;
        migrate(&mut client)?;
        dashboard::postgres::migrate(&mut client)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(POOL_WAIT)
            .build(Manager { config })
            .map_err(|e| {
                StorageError::Database(format!("cannot connect to PostgreSQL at {place}: {e}"))
            })?;
        Ok(PostgresStorage { pool })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>, StorageError> {
        self.pool.get().map_err(|e| {
            StorageError::Database(format!("no connection to PostgreSQL is available: {e}"))
        })
    }

    /// Runs `work` in one transaction and commits it; runs it again from the start when
    /// PostgreSQL aborted it for a conflict with another transaction.
    pub(crate) fn transaction<T>(
        &self,
        unique_race: UniqueRace,
        mut work: impl FnMut(&mut Tx<'_>) -> Step<T>,
    ) -> Result<T, StorageError> {
        let mut attempt = 1;
        loop {
            let mut connection = self.connection()?;
            match attempt_once(&mut connection, &mut work) {
                Err(Failure::Database(e))
                    if attempt < TRANSACTION_ATTEMPTS
                        && is_transient(&e, unique_race == UniqueRace::Retry) =>
                {
                    attempt += 1;
                }
                other => return other.map_err(StorageError::from),
            }
        }
    }

    /// Runs a read on a pooled connection.
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Step<T>,
    ) -> Result<T, StorageError> {
        let mut connection = self.connection()?;
        work(&mut connection.client).map_err(StorageError::from)
    }
}

fn attempt_once<T>(
    connection: &mut Connection,
    work: &mut impl FnMut(&mut Tx<'_>) -> Step<T>,
) -> Step<T> {
    let Connection { client, prepared } = connection;
    let mut tx = Tx {
        inner: client.transaction()?,
        prepared,
    };
    let value = work(&mut tx)?;
    tx.inner.commit()?;
    Ok(value)
}

/// Host, port and database of a configuration, for messages: never the password.
fn describe(config: &postgres::Config) -> String {
    let host = config.get_hosts().first().map_or_else(
        || "localhost".to_owned(),
        |host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        },
    );
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or("(the user's database)");
    format!("{host}:{port}, database {database}")
}

fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS fleet_schema (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .map_err(db)?;
    let applied: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM fleet_schema", &[])
        .and_then(|row| row.try_get(0))
        .map_err(db)?;
    let latest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    if applied > latest {
        return Err(StorageError::Database(format!(
            "the database is at schema version {applied}, newer than this fleet server \
             ({latest}); run the newer server"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
        tx.batch_execute(sql).map_err(|e| {
            StorageError::Database(format!(
                "migration to schema version {version} failed: {}",
                explain(&e)
            ))
        })?;
        tx.execute("INSERT INTO fleet_schema (version) VALUES ($1)", &[version])
            .map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// Locks the tenant's clock row for the rest of the transaction and returns its clock.
fn lock_tenant(tx: &mut Tx<'_>, tenant: &TenantId) -> Step<HlcClock> {
    // Creates the row on the tenant's first write; the update locks it either way.
    let row = tx.query_one(
        "INSERT INTO tenant_clocks (tenant, wall_ms, counter) VALUES ($1, 0, 0)
         ON CONFLICT (tenant) DO UPDATE SET tenant = EXCLUDED.tenant
         RETURNING wall_ms, counter",
        &[&tenant.as_str()],
    )?;
    let last = hlc_from_sql(row.try_get(0)?, row.try_get(1)?);
    Ok(HlcClock::resume(last, CLOCK_DRIFT_MS_MAX))
}

fn save_clock(tx: &mut Tx<'_>, tenant: &TenantId, clock: &HlcClock) -> Step<()> {
    let last = clock.last();
    tx.execute(
        "UPDATE tenant_clocks SET wall_ms = $2, counter = $3 WHERE tenant = $1",
        &[&tenant.as_str(), &last.wall_ms, &i64::from(last.counter)],
    )?;
    Ok(())
}

/// Locks the tenant, stamps a fleet write and keeps the clock, all in this transaction.
fn fleet_stamp(tx: &mut Tx<'_>, tenant: &TenantId, now: Timestamp) -> Step<Stamp> {
    let mut clock = lock_tenant(tx, tenant)?;
    let hlc = clock
        .tick(now.unix_ms())
        .map_err(|e| StorageError::Database(e.to_string()))?;
    save_clock(tx, tenant, &clock)?;
    Ok(Stamp {
        hlc,
        origin: Origin::Fleet,
    })
}

fn publish(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    store: Option<&StoreId>,
    origin_device: Option<&DeviceId>,
    hlc: HlcTime,
    body: &ChangeBody,
) -> Step<()> {
    tx.execute(
        "INSERT INTO changes (tenant, store, origin_device, hlc_ms, hlc_counter, body)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &tenant.as_str(),
            &store.map(StoreId::as_str),
            &origin_device.map(DeviceId::as_str),
            &hlc.wall_ms,
            &i64::from(hlc.counter),
            &to_json(body)?,
        ],
    )?;
    Ok(())
}

fn load_record(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    store: &str,
    kind: &str,
    key: &str,
) -> Step<LwwDocument> {
    let row = tx.query_opt(
        "SELECT document FROM records WHERE tenant = $1 AND store = $2 AND kind = $3 AND key = $4",
        &[&tenant.as_str(), &store, &kind, &key],
    )?;
    match row {
        Some(row) => Ok(from_json(row.try_get::<_, &str>(0)?)?),
        None => Ok(LwwDocument::default()),
    }
}

/// Writes fields into a record by last-writer-wins; returns the merged record. The caller
/// holds the tenant's lock, so no other write to the record can interleave.
/// Writes a setting (last writer wins per key) and publishes it to the tills of its scope.
fn put_setting(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    scope: &Scope,
    key: &str,
    value: &serde_json::Value,
    stamp: &Stamp,
) -> Step<()> {
    let mut fields = serde_json::Map::new();
    fields.insert("value".into(), value.clone());
    write_record(tx, tenant, scope, "setting", key, &fields, stamp)?;
    publish(
        tx,
        tenant,
        scope_store_id(scope),
        None,
        stamp.hlc,
        &ChangeBody::Setting {
            scope: scope.clone(),
            key: key.into(),
            value: value.clone(),
        },
    )
}

fn write_record(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    scope: &Scope,
    kind: &str,
    key: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
    stamp: &Stamp,
) -> Step<serde_json::Value> {
    let store = scope_store(scope);
    let mut doc = load_record(tx, tenant, store, kind, key)?;
    doc.write(fields, stamp);
    tx.execute(
        "INSERT INTO records (tenant, store, kind, key, document) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, store, kind, key) DO UPDATE SET document = EXCLUDED.document",
        &[&tenant.as_str(), &store, &kind, &key, &to_json(&doc)?],
    )?;
    Ok(serde_json::Value::Object(doc.document()))
}

/// A till's edit of a record every till of its store shares (a person, a PIN, a role, the
/// loyalty programme), merged where the record lives and published to the tills it concerns:
/// see [`shared_records`]. The caller holds the tenant's lock.
fn merge_shared(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    store: &StoreId,
    edit: &RecordEdit,
    stamp: &Stamp,
    hlc: HlcTime,
) -> Step<()> {
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

/// Merges `fields` into a product's tenant-wide record and publishes the merged product to
/// every terminal. A record that is not yet a whole product (a price for a product the fleet
/// has not seen) is kept for later merges but not published.
fn merge_product(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    product_id: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
    stamp: &Stamp,
    hlc: HlcTime,
) -> Step<()> {
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
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    store: Option<&StoreId>,
    device: Option<&DeviceId>,
    kind: &str,
    detail: &serde_json::Value,
    now: Timestamp,
) -> Step<()> {
    tx.execute(
        "INSERT INTO anomalies (tenant, store, device, kind, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &tenant.as_str(),
            &store.map(StoreId::as_str),
            &device.map(DeviceId::as_str),
            &kind,
            &detail.to_string(),
            &now.unix_ms(),
        ],
    )?;
    Ok(())
}

fn anomaly_kind(anomaly: &Anomaly) -> &'static str {
    match anomaly {
        Anomaly::NegativeStock { .. } => "negative_stock",
        Anomaly::SoldWhileArchived { .. } => "sold_while_archived",
        Anomaly::SoldUnknownProduct { .. } => "sold_unknown_product",
    }
}

fn stored_entry_from_row(row: &Row) -> Step<StoredEntry> {
    Ok(StoredEntry {
        device: DeviceId::new(row.try_get::<_, String>(1)?),
        entry: JournalEntry {
            event_id: EventId::new(row.try_get::<_, String>(0)?),
            seq: seq_from_sql(row.try_get(2)?),
            hlc: hlc_from_sql(row.try_get(3)?, row.try_get(4)?),
            actor: UserId::new(row.try_get::<_, String>(5)?),
            kind: row.try_get(6)?,
            payload: from_json(row.try_get::<_, &str>(7)?)?,
            recorded_by: row
                .try_get::<_, Option<String>>(8)?
                .map(|device| -> Step<RecordedBy> {
                    Ok(RecordedBy {
                        device: DeviceId::new(device),
                        name: row.try_get::<_, Option<String>>(9)?.unwrap_or_default(),
                    })
                })
                .transpose()?,
        },
    })
}

/// The terminal an entry counts for: the pushing terminal, or for an entry a store hub
/// relays, the terminal behind the hub that recorded it, known to the fleet from its first
/// relayed entry on. A terminal of the fleet's own, or one behind another hub, cannot be
/// named by a hub: the batch is refused.
fn recorder(
    tx: &mut Tx<'_>,
    pusher: &TerminalRecord,
    entry: &JournalEntry,
    now: Timestamp,
) -> Step<TerminalRecord> {
    let Some(by) = &entry.recorded_by else {
        return Ok(pusher.clone());
    };
    let found = tx.query_opt(
        "SELECT id, tenant, store, name, enrolled_at, revoked_at, high_water_seq, relayed_by
         FROM terminals WHERE id = $1",
        &[&by.device.as_str()],
    )?;
    match found.map(|row| terminal_from_row(&row)).transpose()? {
        Some(terminal) if terminal.relayed_by.as_ref() == Some(&pusher.id) => Ok(terminal),
        Some(_) => Err(StorageError::Invalid(relayed_elsewhere(entry, pusher)).into()),
        None => {
            let relayed: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM terminals WHERE relayed_by = $1",
                    &[&pusher.id.as_str()],
                )?
                .try_get(0)?;
            if u64::try_from(relayed).unwrap_or(0) >= RELAYED_TERMINALS_MAX {
                return Err(StorageError::Invalid(too_many_relayed(pusher)).into());
            }
            let terminal = relayed_terminal(pusher, by, now);
            tx.execute(
                "INSERT INTO terminals (id, tenant, store, name, token_hash, enrolled_at, relayed_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &terminal.id.as_str(),
                    &terminal.tenant.as_str(),
                    &terminal.store.as_str(),
                    &terminal.name,
                    &no_credential(pusher, by),
                    &now.unix_ms(),
                    &pusher.id.as_str(),
                ],
            )?;
            Ok(terminal)
        }
    }
}

fn product_of_store(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    store: &StoreId,
    product: &ProductId,
) -> Step<Option<Product>> {
    // The store's own record first, then the tenant's (store '').
    let rows = tx.query(
        "SELECT document FROM records
         WHERE tenant = $1 AND kind = 'product' AND key = $3 AND store IN ($2, '')
         ORDER BY store DESC",
        &[&tenant.as_str(), &store.as_str(), &product.as_str()],
    )?;
    for row in rows {
        let doc: LwwDocument = from_json(row.try_get::<_, &str>(0)?)?;
        if doc.latest().is_some() {
            return Ok(serde_json::from_value(serde_json::Value::Object(doc.document())).ok());
        }
    }
    Ok(None)
}

fn stock_level(tx: &mut Tx<'_>, store: &StoreId, product: &ProductId) -> Step<Quantity> {
    let rows = tx.query(
        "SELECT quantity FROM stock_movements WHERE store = $1 AND product = $2",
        &[&store.as_str(), &product.as_str()],
    )?;
    let mut level = Quantity::ZERO;
    for row in rows {
        level += from_json::<Quantity>(row.try_get::<_, &str>(0)?)?;
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
    tx: &mut Tx<'_>,
    pusher: &TerminalRecord,
    terminal: &TerminalRecord,
    entry: &JournalEntry,
    event: &DomainEvent,
    stock_taken: &mut Vec<ProductId>,
    now: Timestamp,
) -> Step<()> {
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
            tx.execute(
                "INSERT INTO sales (sale_id, event_id, tenant, store, device, receipt_number, total, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sale_id) DO NOTHING",
                &[
                    &sale.id.as_str(),
                    &entry.event_id.as_str(),
                    &tenant.as_str(),
                    &terminal.store.as_str(),
                    &device.as_str(),
                    &sale.receipt_number.as_str(),
                    &to_json(&sale.total)?,
                    &sale.at.unix_ms(),
                ],
            )?;
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
            let inserted = tx.execute(
                "INSERT INTO stock_movements (movement_id, event_id, store, product, quantity, device, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (movement_id) DO NOTHING",
                &[
                    &movement.id.as_str(),
                    &entry.event_id.as_str(),
                    &terminal.store.as_str(),
                    &movement.product.as_str(),
                    &to_json(&movement.quantity)?,
                    &device.as_str(),
                    &movement.at.unix_ms(),
                ],
            )?;
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
            let known = match other {
                Some(store) => tx
                    .query_opt(
                        "SELECT 1 FROM stores WHERE id = $1 AND tenant = $2",
                        &[&store.as_str(), &tenant.as_str()],
                    )?
                    .is_some(),
                None => false,
            };
            match other {
                Some(store) if known => publish(
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
    dashboard::postgres::take_in(&mut tx.inner, terminal, entry, event)?;
    Ok(())
}

const TERMINAL_COLUMNS: &str =
    "id, tenant, store, name, enrolled_at, revoked_at, high_water_seq, relayed_by";

fn terminal_from_row(row: &Row) -> Step<TerminalRecord> {
    Ok(TerminalRecord {
        id: DeviceId::new(row.try_get::<_, String>(0)?),
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        store: StoreId::new(row.try_get::<_, String>(2)?),
        name: row.try_get(3)?,
        enrolled_at: Timestamp::from_unix_ms(row.try_get(4)?),
        revoked_at: row
            .try_get::<_, Option<i64>>(5)?
            .map(Timestamp::from_unix_ms),
        high_water_seq: seq_from_sql(row.try_get(6)?),
        relayed_by: row.try_get::<_, Option<String>>(7)?.map(DeviceId::new),
    })
}

fn account_from_row(row: &Row) -> Step<(Account, String)> {
    let role: &str = row.try_get(2)?;
    Ok((
        Account {
            id: row.try_get(0)?,
            email: row.try_get(1)?,
            role: AccountRole::parse(role).unwrap_or(AccountRole::StoreManager),
            tenant: row.try_get::<_, Option<String>>(3)?.map(TenantId::new),
            store: row.try_get::<_, Option<String>>(4)?.map(StoreId::new),
        },
        row.try_get(5)?,
    ))
}

/// Reads a row of `SELECT id, tenant, name, currency, utc_offset_seconds, time_zone FROM
/// stores`.
fn store_from_row(row: &Row) -> Step<StoreRecord> {
    Ok(StoreRecord {
        id: StoreId::new(row.try_get::<_, String>(0)?),
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        name: row.try_get(2)?,
        currency: from_json(row.try_get::<_, &str>(3)?)?,
        utc_offset: dashboard::data::store_clock(row.try_get(4)?),
        time_zone: row.try_get(5)?,
    })
}

fn tenant_from_row(row: &Row) -> Step<TenantRecord> {
    Ok(TenantRecord {
        id: TenantId::new(row.try_get::<_, String>(0)?),
        name: row.try_get(1)?,
        features: from_json(row.try_get::<_, &str>(2)?)?,
    })
}

impl FleetStorage for PostgresStorage {
    fn create_account(&self, account: NewAccount, now: Timestamp) -> Result<Account, StorageError> {
        let id = random_id("acct")?;
        let mut connection = self.connection()?;
        let result = connection.client.execute(
            "INSERT INTO accounts (id, email, password_hash, role, tenant, store, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id,
                &account.email,
                &account.password_hash,
                &account.role.as_str(),
                &account.tenant.as_ref().map(TenantId::as_str),
                &account.store.as_ref().map(StoreId::as_str),
                &now.unix_ms(),
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
            Err(e) if has_state(&e, &SqlState::UNIQUE_VIOLATION) => {
                Err(StorageError::Conflict(format!(
                    "an account with the e-mail {} already exists",
                    account.email
                )))
            }
            Err(e) if has_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) => Err(
                StorageError::NotFound("the account's tenant or store does not exist".into()),
            ),
            Err(e) => Err(db(e)),
        }
    }

    fn account_by_email(&self, email: &str) -> Result<Option<(Account, String)>, StorageError> {
        self.read(|client| {
            client
                .query_opt(
                    "SELECT id, email, role, tenant, store, password_hash FROM accounts
                     WHERE email = $1",
                    &[&email],
                )?
                .map(|row| account_from_row(&row))
                .transpose()
        })
    }

    fn create_session(
        &self,
        token_hash: &str,
        account: &str,
        expires_at: Timestamp,
    ) -> Result<(), StorageError> {
        self.read(|client| {
            client.execute(
                "INSERT INTO sessions (token_hash, account, expires_at) VALUES ($1, $2, $3)",
                &[&token_hash, &account, &expires_at.unix_ms()],
            )?;
            Ok(())
        })
    }

    fn session_account(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Account>, StorageError> {
        self.read(|client| {
            client
                .query_opt(
                    "SELECT a.id, a.email, a.role, a.tenant, a.store, a.password_hash
                     FROM sessions s JOIN accounts a ON a.id = s.account
                     WHERE s.token_hash = $1 AND s.expires_at > $2",
                    &[&token_hash, &now.unix_ms()],
                )?
                .map(|row| account_from_row(&row).map(|(account, _)| account))
                .transpose()
        })
    }

    fn create_tenant(&self, name: &str, now: Timestamp) -> Result<TenantRecord, StorageError> {
        let tenant = TenantRecord {
            id: TenantId::new(random_id("tnt")?),
            name: name.to_owned(),
            features: Features::all_enabled(),
        };
        let features = to_json(&tenant.features)?;
        self.read(|client| {
            client.execute(
                "INSERT INTO tenants (id, name, features, created_at) VALUES ($1, $2, $3, $4)",
                &[&tenant.id.as_str(), &tenant.name, &features, &now.unix_ms()],
            )?;
            Ok(())
        })?;
        Ok(tenant)
    }

    fn tenants(&self) -> Result<Vec<TenantRecord>, StorageError> {
        self.read(|client| {
            client
                .query("SELECT id, name, features FROM tenants ORDER BY name COLLATE \"C\", id COLLATE \"C\"", &[])?
                .iter()
                .map(tenant_from_row)
                .collect()
        })
    }

    fn tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        self.read(|client| {
            client
                .query_opt(
                    "SELECT id, name, features FROM tenants WHERE id = $1",
                    &[&id.as_str()],
                )?
                .map(|row| tenant_from_row(&row))
                .transpose()
        })
    }

    fn set_tenant_features(
        &self,
        id: &TenantId,
        features: &Features,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let features_json = to_json(features)?;
        self.transaction(UniqueRace::Refuse, |tx| {
            let stamp = fleet_stamp(tx, id, now)?;
            let updated = tx.execute(
                "UPDATE tenants SET features = $2 WHERE id = $1",
                &[&id.as_str(), &features_json],
            )?;
            if updated == 0 {
                return Err(StorageError::NotFound(format!("no tenant {id}")).into());
            }
            publish(
                tx,
                id,
                None,
                None,
                stamp.hlc,
                &ChangeBody::TenantFeatures {
                    features: features.clone(),
                },
            )
        })
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
        let store = StoreRecord {
            id: StoreId::new(random_id("str")?),
            tenant: tenant.clone(),
            name: name.to_owned(),
            currency,
            utc_offset,
            time_zone,
        };
        let currency_json = to_json(&currency)?;
        let currency_value = serde_json::to_value(currency).map_err(json_err)?;
        self.transaction(UniqueRace::Refuse, |tx| {
            let stamp = fleet_stamp(tx, tenant, now)?;
            tx.execute(
                "INSERT INTO stores (id, tenant, name, currency, utc_offset_seconds, time_zone,
                                     created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &store.id.as_str(),
                    &tenant.as_str(),
                    &name,
                    &currency_json,
                    &utc_offset.whole_seconds(),
                    &store.time_zone,
                    &now.unix_ms(),
                ],
            )?;
            publish(
                tx,
                tenant,
                None,
                None,
                stamp.hlc,
                &crate::storage::store_change(&store),
            )?;
            let scope = Scope::Store(store.id.clone());
            for (key, value) in [
                ("name", serde_json::json!(name)),
                ("currency", currency_value.clone()),
            ] {
                put_setting(tx, tenant, &scope, key, &value, &stamp)?;
            }
            Ok(())
        })?;
        Ok(store)
    }

    fn rename_store(
        &self,
        store: &StoreId,
        name: &str,
        now: Timestamp,
    ) -> Result<StoreRecord, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let not_found = || StorageError::NotFound(format!("no store {store}"));
            // The tenant is locked first, as every fleet write does.
            let tenant: String = tx
                .query_opt(
                    "SELECT tenant FROM stores WHERE id = $1",
                    &[&store.as_str()],
                )?
                .ok_or_else(not_found)?
                .get(0);
            let stamp = fleet_stamp(tx, &TenantId::new(tenant), now)?;
            let row = tx
                .query_opt(
                    "UPDATE stores SET name = $2 WHERE id = $1
                     RETURNING id, tenant, name, currency, utc_offset_seconds, time_zone",
                    &[&store.as_str(), &name],
                )?
                .ok_or_else(not_found)?;
            let record = store_from_row(&row)?;
            publish(
                tx,
                &record.tenant,
                None,
                None,
                stamp.hlc,
                &crate::storage::store_change(&record),
            )?;
            put_setting(
                tx,
                &record.tenant,
                &Scope::Store(record.id.clone()),
                "name",
                &serde_json::json!(name),
                &stamp,
            )?;
            Ok(record)
        })
    }

    fn stores(&self, tenant: &TenantId) -> Result<Vec<StoreRecord>, StorageError> {
        self.read(|client| {
            client
                .query(
                    "SELECT id, tenant, name, currency, utc_offset_seconds, time_zone FROM stores
                     WHERE tenant = $1
                     ORDER BY name COLLATE \"C\", id COLLATE \"C\"",
                    &[&tenant.as_str()],
                )?
                .iter()
                .map(store_from_row)
                .collect()
        })
    }

    fn store(&self, id: &StoreId) -> Result<Option<StoreRecord>, StorageError> {
        self.read(|client| {
            client
                .query_opt(
                    "SELECT id, tenant, name, currency, utc_offset_seconds, time_zone FROM stores
                     WHERE id = $1",
                    &[&id.as_str()],
                )?
                .map(|row| store_from_row(&row))
                .transpose()
        })
    }

    fn set_store_clock(
        &self,
        store: &StoreId,
        utc_offset: UtcOffset,
        time_zone: Option<String>,
    ) -> Result<StoreRecord, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let row = tx
                .query_opt(
                    "UPDATE stores SET utc_offset_seconds = $2, time_zone = $3 WHERE id = $1
                     RETURNING id, tenant, name, currency, utc_offset_seconds, time_zone",
                    &[&store.as_str(), &utc_offset.whole_seconds(), &time_zone],
                )?
                .ok_or_else(|| StorageError::NotFound(format!("no store {store}")))?;
            dashboard::postgres::recount_store(&mut tx.inner, store)?;
            store_from_row(&row)
        })
    }

    fn set_setting(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        key: &str,
        value: &serde_json::Value,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let stamp = fleet_stamp(tx, tenant, now)?;
            put_setting(tx, tenant, scope, key, value, &stamp)
        })
    }

    fn create_enrolment_code(
        &self,
        store: &StoreId,
        code_hash: &str,
        expires_at: Timestamp,
    ) -> Result<(), StorageError> {
        self.read(|client| {
            client.execute(
                "INSERT INTO enrolment_codes (code_hash, store, expires_at) VALUES ($1, $2, $3)",
                &[&code_hash, &store.as_str(), &expires_at.unix_ms()],
            )?;
            Ok(())
        })
    }

    fn redeem_enrolment_code(
        &self,
        code_hash: &str,
        name: &str,
        token_hash: &str,
        key_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<TerminalRecord, StorageError> {
        let id = DeviceId::new(random_id("term")?);
        self.transaction(UniqueRace::Refuse, |tx| {
            // The row lock makes a code that two terminals present at once serve only one.
            let used = tx.execute(
                "UPDATE enrolment_codes SET used_at = $2, enrolment_key_hash = $3
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
                &[&code_hash, &now.unix_ms(), &key_hash],
            )?;
            if used != 1 {
                // The same terminal again (same key), soon after: its answer was lost. It gets
                // a fresh token for the terminal the code made; the lost one stops working.
                let Some(key_hash) = key_hash else {
                    return Err(StorageError::EnrolmentCodeRejected.into());
                };
                let retried = tx.query_opt(
                    "UPDATE terminals t SET token_hash = $4
                     FROM enrolment_codes c
                     WHERE c.code_hash = $1 AND c.enrolment_key_hash = $2 AND c.used_at > $3
                       AND t.id = c.terminal AND t.revoked_at IS NULL
                     RETURNING t.id, t.tenant, t.store, t.name, t.enrolled_at, t.revoked_at,
                               t.high_water_seq, t.relayed_by",
                    &[
                        &code_hash,
                        &key_hash,
                        &(now.unix_ms() - crate::storage::ENROLMENT_RETRY_MS),
                        &token_hash,
                    ],
                )?;
                return match retried {
                    Some(row) => terminal_from_row(&row),
                    None => Err(StorageError::EnrolmentCodeRejected.into()),
                };
            }
            let row = tx.query_one(
                "SELECT s.id, s.tenant FROM enrolment_codes c JOIN stores s ON s.id = c.store
                 WHERE c.code_hash = $1",
                &[&code_hash],
            )?;
            let terminal = TerminalRecord {
                id: id.clone(),
                tenant: TenantId::new(row.try_get::<_, String>(1)?),
                store: StoreId::new(row.try_get::<_, String>(0)?),
                name: name.to_owned(),
                enrolled_at: now,
                revoked_at: None,
                high_water_seq: 0,
                relayed_by: None,
            };
            tx.execute(
                "INSERT INTO terminals (id, tenant, store, name, token_hash, enrolled_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &terminal.id.as_str(),
                    &terminal.tenant.as_str(),
                    &terminal.store.as_str(),
                    &name,
                    &token_hash,
                    &now.unix_ms(),
                ],
            )?;
            tx.execute(
                "UPDATE enrolment_codes SET terminal = $2 WHERE code_hash = $1",
                &[&code_hash, &terminal.id.as_str()],
            )?;
            Ok(terminal)
        })
    }

    fn terminal_by_token(&self, token_hash: &str) -> Result<Option<TerminalRecord>, StorageError> {
        self.read(|client| {
            client
                .query_opt(
                    &format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE token_hash = $1"),
                    &[&token_hash],
                )?
                .map(|row| terminal_from_row(&row))
                .transpose()
        })
    }

    fn terminal(&self, id: &DeviceId) -> Result<Option<TerminalRecord>, StorageError> {
        self.read(|client| {
            client
                .query_opt(
                    &format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = $1"),
                    &[&id.as_str()],
                )?
                .map(|row| terminal_from_row(&row))
                .transpose()
        })
    }

    fn terminals(&self, store: &StoreId) -> Result<Vec<TerminalRecord>, StorageError> {
        self.read(|client| {
            client
                .query(
                    &format!(
                        "SELECT {TERMINAL_COLUMNS} FROM terminals WHERE store = $1
                         ORDER BY enrolled_at, id COLLATE \"C\""
                    ),
                    &[&store.as_str()],
                )?
                .iter()
                .map(terminal_from_row)
                .collect()
        })
    }

    fn revoke_terminal(&self, id: &DeviceId, now: Timestamp) -> Result<(), StorageError> {
        self.read(|client| {
            client.execute(
                "UPDATE terminals SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                &[&id.as_str(), &now.unix_ms()],
            )?;
            Ok(())
        })
    }

    fn push(
        &self,
        terminal: &TerminalRecord,
        batch: &PushBatch,
        now: Timestamp,
    ) -> Result<PushAck, StorageError> {
        let events = check_batch(batch, &terminal.id)?;
        let event_ids: Vec<&str> = batch.entries.iter().map(|e| e.event_id.as_str()).collect();
        let seqs = batch
            .entries
            .iter()
            .map(|e| seq_to_sql(e.seq))
            .collect::<Result<Vec<i64>, _>>()?;
        self.transaction(UniqueRace::Retry, |tx| {
            let tenant = &terminal.tenant;
            let mut clock = lock_tenant(tx, tenant)?;
            // What is stored already, in two queries for the whole batch.
            let mut stored = Vec::new();
            for row in tx.query(
                "SELECT event_id, device, seq, hlc_ms, hlc_counter, actor, kind, payload,
                        recorded_by, recorded_by_name
                 FROM journal WHERE event_id = ANY($1)",
                &[&event_ids],
            )? {
                stored.push(stored_entry_from_row(&row)?);
            }
            let mut at_seq = Vec::new();
            for row in tx.query(
                "SELECT seq, event_id FROM journal WHERE device = $1 AND seq = ANY($2)",
                &[&terminal.id.as_str(), &seqs],
            )? {
                at_seq.push((
                    seq_from_sql(row.try_get(0)?),
                    EventId::new(row.try_get::<_, String>(1)?),
                ));
            }
            let mut fresh = Vec::new();
            let mut duplicates = 0u32;
            for (entry, event) in batch.entries.iter().zip(&events) {
                let stored_with_id = stored.iter().find(|s| s.entry.event_id == entry.event_id);
                let id_at_seq = at_seq
                    .iter()
                    .find(|(seq, _)| *seq == entry.seq)
                    .map(|(_, id)| id);
                match fate(&terminal.id, entry, stored_with_id, id_at_seq)? {
                    Fate::New => fresh.push((entry, event)),
                    Fate::Duplicate => duplicates = duplicates.saturating_add(1),
                }
            }
            let mut clock_ahead = None;
            let mut stock_taken = Vec::new();
            for (entry, event) in &fresh {
                let recorder = recorder(tx, terminal, entry, now)?;
                tx.execute(
                    "INSERT INTO journal (event_id, device, seq, hlc_ms, hlc_counter, actor, kind,
                                          payload, received_at, recorded_by, recorded_by_name)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[
                        &entry.event_id.as_str(),
                        &terminal.id.as_str(),
                        &seq_to_sql(entry.seq)?,
                        &entry.hlc.wall_ms,
                        &i64::from(entry.hlc.counter),
                        &entry.actor.as_str(),
                        &entry.kind,
                        &entry.payload.as_str(),
                        &now.unix_ms(),
                        &entry.recorded_by.as_ref().map(|by| by.device.as_str()),
                        &entry.recorded_by.as_ref().map(|by| by.name.as_str()),
                    ],
                )?;
                if let Some(event) = event {
                    take_in(tx, terminal, &recorder, entry, event, &mut stock_taken, now)?;
                }
                // Keep the tenant's clock after what terminals did, unless a terminal's clock
                // is far ahead: then its entries are kept, and a manager is told.
                if let Err(refused) = clock.observe(entry.hlc, now.unix_ms()) {
                    clock_ahead = Some(refused.to_string());
                }
            }
            // Selling below zero is allowed (the sale happened); a manager is told.
            for product in &stock_taken {
                let level = stock_level(tx, &terminal.store, product)?;
                if level.is_negative() {
                    let anomaly = Anomaly::NegativeStock {
                        store: terminal.store.clone(),
                        product: product.clone(),
                        level,
                    };
                    let detail = serde_json::to_value(&anomaly).map_err(json_err)?;
                    record_anomaly(
                        tx,
                        tenant,
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
                    tx,
                    tenant,
                    Some(&terminal.store),
                    Some(&terminal.id),
                    "clock_ahead",
                    &detail,
                    now,
                )?;
            }
            save_clock(tx, tenant, &clock)?;
            let current: i64 = tx
                .query_one(
                    "SELECT high_water_seq FROM terminals WHERE id = $1",
                    &[&terminal.id.as_str()],
                )?
                .try_get(0)?;
            let current = seq_from_sql(current);
            // Bounded: the mark cannot move further than the entries that exist above it.
            let limit = i64::try_from(pos_sync::ingest::BATCH_ENTRIES_MAX * 8).unwrap_or(i64::MAX);
            let mut above = Vec::new();
            for row in tx.query(
                "SELECT seq FROM journal WHERE device = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&terminal.id.as_str(), &seq_to_sql(current)?, &limit],
            )? {
                above.push(seq_from_sql(row.try_get(0)?));
            }
            let high = advance_high_water(current, above);
            tx.execute(
                "UPDATE terminals SET high_water_seq = $2 WHERE id = $1",
                &[&terminal.id.as_str(), &seq_to_sql(high)?],
            )?;
            Ok(PushAck {
                protocol: PROTOCOL,
                device: terminal.id.clone(),
                high_water_seq: high,
                stored: u32::try_from(fresh.len()).unwrap_or(u32::MAX),
                duplicates,
            })
        })
    }

    fn pull(
        &self,
        terminal: &TerminalRecord,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StorageError> {
        let limit = limit.clamp(1, 5_000);
        let cursor_sql = seq_to_sql(cursor)?;
        let rows = self.read(|client| {
            Ok(client.query(
                "SELECT server_seq, hlc_ms, hlc_counter, body FROM changes
                 WHERE tenant = $1 AND server_seq > $2
                   AND (store IS NULL OR store = $3)
                   AND (origin_device IS NULL OR origin_device <> $4)
                 ORDER BY server_seq LIMIT $5",
                &[
                    &terminal.tenant.as_str(),
                    &cursor_sql,
                    &terminal.store.as_str(),
                    &terminal.id.as_str(),
                    &(i64::from(limit) + 1),
                ],
            )?)
        })?;
        let mut changes = Vec::new();
        let mut more = false;
        for row in &rows {
            if changes.len() == usize::try_from(limit).unwrap_or(usize::MAX) {
                more = true;
                break;
            }
            let change = (|| -> Step<Change> {
                Ok(Change {
                    server_seq: seq_from_sql(row.try_get(0)?),
                    hlc: hlc_from_sql(row.try_get(1)?, row.try_get(2)?),
                    body: from_json(row.try_get::<_, &str>(3)?)?,
                })
            })()?;
            changes.push(change);
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
        let fields = product_fields(product)?;
        self.transaction(UniqueRace::Refuse, |tx| {
            let stamp = fleet_stamp(tx, tenant, now)?;
            let merged = write_record(
                tx,
                tenant,
                scope,
                "product",
                product.id.as_str(),
                &fields,
                &stamp,
            )?;
            let merged: Product = serde_json::from_value(merged).map_err(json_err)?;
            publish(
                tx,
                tenant,
                scope_store_id(scope),
                None,
                stamp.hlc,
                &ChangeBody::Product {
                    scope: scope.clone(),
                    product: merged.clone(),
                },
            )?;
            Ok(merged)
        })
    }

    fn products(&self, tenant: &TenantId, scope: &Scope) -> Result<Vec<Product>, StorageError> {
        self.read(|client| {
            let mut out = Vec::new();
            for row in client.query(
                "SELECT document FROM records
                 WHERE tenant = $1 AND store = $2 AND kind = 'product' ORDER BY key COLLATE \"C\"",
                &[&tenant.as_str(), &scope_store(scope)],
            )? {
                let doc: LwwDocument = from_json(row.try_get::<_, &str>(0)?)?;
                // A record a till only partly described (a price for a product the fleet
                // never had) is not a product yet.
                if let Ok(product) =
                    serde_json::from_value(serde_json::Value::Object(doc.document()))
                {
                    out.push(product);
                }
            }
            Ok(out)
        })
    }

    fn schedule_price(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        schedule: &PriceSchedule,
        now: Timestamp,
    ) -> Result<String, StorageError> {
        let schedule_id = random_id("price")?;
        let fields = match serde_json::to_value(schedule).map_err(json_err)? {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        self.transaction(UniqueRace::Refuse, |tx| {
            let stamp = fleet_stamp(tx, tenant, now)?;
            write_record(
                tx,
                tenant,
                scope,
                "price_schedule",
                &schedule_id,
                &fields,
                &stamp,
            )?;
            publish(
                tx,
                tenant,
                scope_store_id(scope),
                None,
                stamp.hlc,
                &ChangeBody::PriceScheduled {
                    scope: scope.clone(),
                    schedule_id: schedule_id.clone(),
                    product: schedule.product.clone(),
                    price: schedule.price,
                    effective_at: schedule.effective_at,
                },
            )
        })?;
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
        self.transaction(UniqueRace::Refuse, |tx| {
            let stamp = fleet_stamp(tx, tenant, now)?;
            let merged = write_record(tx, tenant, scope, kind.as_str(), key, fields, &stamp)?;
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
            publish(tx, tenant, scope_store_id(scope), None, stamp.hlc, &body)
        })
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
        self.read(|client| {
            let mut rows = Vec::new();
            for key in keys {
                let row = client.query_opt(
                    "SELECT key, count, first_ms, last_ms, locked_until_ms FROM login_failures
                     WHERE key = $1",
                    &[key],
                )?;
                if let Some(row) = row {
                    rows.push(FailureRow {
                        key: row.try_get(0)?,
                        count: u32::try_from(row.try_get::<_, i32>(1)?).unwrap_or(0),
                        first_ms: row.try_get(2)?,
                        last_ms: row.try_get(3)?,
                        locked_until_ms: row.try_get(4)?,
                    });
                }
            }
            Ok(rows)
        })
    }

    fn save_login_failures(
        &self,
        keys: &[String],
        rows: &[FailureRow],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.transaction(UniqueRace::Retry, |tx| {
            for key in keys {
                tx.execute("DELETE FROM login_failures WHERE key = $1", &[key])?;
            }
            for row in rows {
                tx.execute(
                    "INSERT INTO login_failures (key, count, first_ms, last_ms, locked_until_ms)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (key) DO UPDATE SET count = EXCLUDED.count,
                         first_ms = EXCLUDED.first_ms, last_ms = EXCLUDED.last_ms,
                         locked_until_ms = EXCLUDED.locked_until_ms",
                    &[
                        &row.key,
                        &i32::try_from(row.count).unwrap_or(i32::MAX),
                        &row.first_ms,
                        &row.last_ms,
                        &row.locked_until_ms,
                    ],
                )?;
            }
            let now_ms = now.unix_ms();
            tx.execute(
                "DELETE FROM login_failures
                 WHERE (locked_until_ms IS NULL OR locked_until_ms <= $1) AND last_ms <= $2",
                &[&now_ms, &(now_ms - crate::lockout::WINDOW_MS)],
            )?;
            Ok(())
        })
    }

    fn sales(&self, store: &StoreId) -> Result<Vec<SaleRow>, StorageError> {
        self.read(|client| {
            let mut out = Vec::new();
            for row in client.query(
                "SELECT sale_id, receipt_number, device, total, at FROM sales
                 WHERE store = $1 ORDER BY at, sale_id COLLATE \"C\"",
                &[&store.as_str()],
            )? {
                out.push(SaleRow {
                    sale: row.try_get::<_, &str>(0)?.into(),
                    receipt_number: row.try_get(1)?,
                    device: DeviceId::new(row.try_get::<_, String>(2)?),
                    total: from_json::<Money>(row.try_get::<_, &str>(3)?)?,
                    at: Timestamp::from_unix_ms(row.try_get(4)?),
                });
            }
            Ok(out)
        })
    }

    fn stock(&self, store: &StoreId) -> Result<Vec<StockRow>, StorageError> {
        self.read(|client| {
            let mut out: Vec<StockRow> = Vec::new();
            // Ordered by the same byte order as SQLite's, so both list products alike.
            for row in client.query(
                "SELECT product, quantity FROM stock_movements WHERE store = $1
                 ORDER BY product COLLATE \"C\"",
                &[&store.as_str()],
            )? {
                let product: &str = row.try_get(0)?;
                let quantity: Quantity = from_json(row.try_get::<_, &str>(1)?)?;
                match out.last_mut() {
                    Some(last) if last.product.as_str() == product => last.level += quantity,
                    _ => out.push(StockRow {
                        product: ProductId::new(product),
                        level: quantity,
                    }),
                }
            }
            Ok(out)
        })
    }

    fn anomalies(&self, store: &StoreId) -> Result<Vec<AnomalyRow>, StorageError> {
        self.read(|client| {
            let mut out = Vec::new();
            for row in client.query(
                "SELECT kind, detail, device, at FROM anomalies WHERE store = $1 ORDER BY id",
                &[&store.as_str()],
            )? {
                out.push(AnomalyRow {
                    kind: row.try_get(0)?,
                    detail: from_json(row.try_get::<_, &str>(1)?)?,
                    device: row.try_get::<_, Option<String>>(2)?.map(DeviceId::new),
                    at: Timestamp::from_unix_ms(row.try_get(3)?),
                });
            }
            Ok(out)
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<(), StorageError> {
        self.read(|client| {
            client.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
            Ok(())
        })
    }

    fn note_terminal_contact(
        &self,
        device: &DeviceId,
        at: Timestamp,
        pulled_to: Option<u64>,
    ) -> Result<(), StorageError> {
        self.read(|client| {
            Ok(dashboard::postgres::note_contact(
                client, device, at, pulled_to,
            )?)
        })
    }

    fn dashboard_sales(
        &self,
        stores: &[StoreId],
        span: Span,
        grouping: Grouping,
    ) -> Result<Vec<SalesBucket>, StorageError> {
        self.read(|client| Ok(dashboard::postgres::sales(client, stores, span, grouping)?))
    }

    fn dashboard_tenders(
        &self,
        stores: &[StoreId],
        span: Span,
    ) -> Result<Vec<TenderSales>, StorageError> {
        self.read(|client| Ok(dashboard::postgres::tenders(client, stores, span)?))
    }

    fn dashboard_products(
        &self,
        stores: &[StoreId],
        span: Span,
    ) -> Result<Vec<ProductSales>, StorageError> {
        self.read(|client| Ok(dashboard::postgres::products(client, stores, span)?))
    }

    fn dashboard_stock(&self, stores: &[StoreId]) -> Result<Vec<StockLevel>, StorageError> {
        self.read(|client| Ok(dashboard::postgres::stock(client, stores)?))
    }

    fn dashboard_terminals(&self, stores: &[StoreId]) -> Result<Vec<TerminalStatus>, StorageError> {
        let mut terminals = Vec::new();
        for store in stores {
            terminals.extend(self.terminals(store)?);
        }
        self.read(|client| Ok(dashboard::postgres::terminal_status(client, terminals)?))
    }
}
