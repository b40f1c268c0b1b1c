//! The dashboard's summary tables on the fleet's SQLite file (`dash_*`, with their own schema
//! version in `dash_schema`, like the update service's tables), filled as sales and stock
//! movements are stored, and the queries the pages make.
//!
//! Must not touch the sync tables: it only reads `sales`, `stock_movements`, `changes` and
//! `terminals`, and the update service's terminal reports for the software version.

use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{DeviceId, ProductId, StoreId};
use pos_core::quantity::Quantity;
use pos_sync::wire::JournalEntry;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::data::{
    Grouping, ProductSales, SaleFacts, SalesBucket, Span, StockLevel, TenderSales, TerminalStatus,
    store_clock, thousandths,
};
use crate::storage::{StorageError, TerminalRecord, clock_at};

/// Append-only, like the fleet's own migrations.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE dash_hourly (
    store TEXT NOT NULL, hour INTEGER NOT NULL, sales INTEGER NOT NULL,
    total_minor INTEGER NOT NULL, PRIMARY KEY (store, hour)) WITHOUT ROWID;
CREATE TABLE dash_daily (
    store TEXT NOT NULL, day INTEGER NOT NULL, sales INTEGER NOT NULL,
    total_minor INTEGER NOT NULL, PRIMARY KEY (store, day)) WITHOUT ROWID;
CREATE TABLE dash_tenders (
    store TEXT NOT NULL, day INTEGER NOT NULL, tender TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, PRIMARY KEY (store, day, tender)) WITHOUT ROWID;
CREATE TABLE dash_products_daily (
    store TEXT NOT NULL, day INTEGER NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL,
    quantity_milli INTEGER NOT NULL, amount_minor INTEGER NOT NULL,
    PRIMARY KEY (store, day, product)) WITHOUT ROWID;
CREATE TABLE dash_products_monthly (
    store TEXT NOT NULL, month INTEGER NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL,
    quantity_milli INTEGER NOT NULL, amount_minor INTEGER NOT NULL,
    PRIMARY KEY (store, month, product)) WITHOUT ROWID;
CREATE TABLE dash_stock (
    store TEXT NOT NULL, product TEXT NOT NULL, level_milli INTEGER NOT NULL,
    PRIMARY KEY (store, product)) WITHOUT ROWID;
CREATE INDEX dash_changes_by_store ON changes (tenant, store, server_seq);
CREATE TABLE dash_terminal_contact (
    device TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, pulled_to INTEGER NOT NULL DEFAULT 0);
"#];

/// Counting the changes a terminal has yet to pull stops here: the page says "more than".
pub const CHANGES_WAITING_COUNTED_MAX: u64 = 10_000;

fn db(e: rusqlite::Error) -> StorageError {
    StorageError::Database(e.to_string())
}

fn u64_from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Creates or upgrades the summary tables, and fills them from the sales and movements already
/// stored when they are new; called when the fleet database is opened.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction().map_err(db)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS dash_schema (version INTEGER NOT NULL)")
        .map_err(db)?;
    let applied: Option<i64> = tx
        .query_row("SELECT version FROM dash_schema", [], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "the dashboard tables are at schema version {applied}, newer than this fleet \
             server ({}); run the newer server",
            MIGRATIONS.len()
        )));
    }
    if applied == MIGRATIONS.len() {
        return Ok(());
    }
    for sql in MIGRATIONS.iter().skip(applied) {
        tx.execute_batch(sql).map_err(db)?;
    }
    if applied == 0 {
        backfill(&tx)?;
    }
    tx.execute("DELETE FROM dash_schema", []).map_err(db)?;
    tx.execute(
        "INSERT INTO dash_schema (version) VALUES (?1)",
        params![i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)],
    )
    .map_err(db)?;
    tx.commit().map_err(db)
}

/// A fleet that stored sales before it had a dashboard gets their figures once.
fn backfill(tx: &Transaction<'_>) -> Result<(), StorageError> {
    add_stored_sales(tx, None)?;
    let mut movements = Vec::new();
    {
        let mut statement = tx
            .prepare("SELECT store, product, quantity FROM stock_movements")
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
        for row in rows {
            let (store, product, quantity) = row.map_err(db)?;
            if let Ok(quantity) = serde_json::from_str::<Quantity>(&quantity) {
                movements.push((store, product, thousandths(quantity)));
            }
        }
    }
    for (store, product, milli) in movements {
        add_stock(tx, &store, &product, milli)?;
    }
    Ok(())
}

/// Adds the stored sales of every store, or of one, on each store's clock.
fn add_stored_sales(tx: &Transaction<'_>, only: Option<&StoreId>) -> Result<(), StorageError> {
    let mut sales = Vec::new();
    {
        let mut statement = tx
            .prepare(
                "SELECT s.store, j.payload, st.utc_offset_seconds, st.time_zone FROM sales s
                 JOIN journal j ON j.event_id = s.event_id JOIN stores st ON st.id = s.store
                 WHERE ?1 IS NULL OR s.store = ?1",
            )
            .map_err(db)?;
        let rows = statement
            .query_map(params![only.map(StoreId::as_str)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i32>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(db)?;
        for row in rows {
            let (store, payload, offset, zone) = row.map_err(db)?;
            if let Ok(DomainEvent::SaleCompleted(sale)) = serde_json::from_str(&payload) {
                let offset = clock_at(store_clock(offset), zone.as_deref(), sale.at);
                sales.push((StoreId::new(store), SaleFacts::of(&sale, offset)));
            }
        }
    }
    for (store, facts) in &sales {
        add_sale(tx, store, facts)?;
    }
    Ok(())
}

/// The store's sales counted again on its clock (after it changed): its time-bound summary
/// rows are dropped and made anew (stock levels do not depend on the clock).
pub(crate) fn recount_store(tx: &Transaction<'_>, store: &StoreId) -> Result<(), StorageError> {
    for table in [
        "dash_hourly",
        "dash_daily",
        "dash_tenders",
        "dash_products_daily",
        "dash_products_monthly",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE store = ?1"),
            params![store.as_str()],
        )
        .map_err(db)?;
    }
    add_stored_sales(tx, Some(store))
}

fn add_sale(tx: &Transaction<'_>, store: &StoreId, facts: &SaleFacts) -> Result<(), StorageError> {
    let store = store.as_str();
    tx.prepare_cached(
        "INSERT INTO dash_hourly (store, hour, sales, total_minor) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (store, hour) DO UPDATE
         SET sales = sales + 1, total_minor = total_minor + excluded.total_minor",
    )
    .and_then(|mut s| s.execute(params![store, facts.hour, facts.total_minor]))
    .map_err(db)?;
    tx.prepare_cached(
        "INSERT INTO dash_daily (store, day, sales, total_minor) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (store, day) DO UPDATE
         SET sales = sales + 1, total_minor = total_minor + excluded.total_minor",
    )
    .and_then(|mut s| s.execute(params![store, facts.day, facts.total_minor]))
    .map_err(db)?;
    for (tender, amount) in &facts.tenders {
        tx.prepare_cached(
            "INSERT INTO dash_tenders (store, day, tender, amount_minor) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (store, day, tender) DO UPDATE
             SET amount_minor = amount_minor + excluded.amount_minor",
        )
        .and_then(|mut s| s.execute(params![store, facts.day, tender, amount]))
        .map_err(db)?;
    }
    for line in &facts.lines {
        for (table, column, bucket) in [
            ("dash_products_daily", "day", facts.day),
            ("dash_products_monthly", "month", facts.month),
        ] {
            tx.prepare_cached(&format!(
                "INSERT INTO {table} (store, {column}, product, name, quantity_milli, amount_minor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (store, {column}, product) DO UPDATE
                 SET name = excluded.name,
                     quantity_milli = quantity_milli + excluded.quantity_milli,
                     amount_minor = amount_minor + excluded.amount_minor"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    store,
                    bucket,
                    line.product.as_str(),
                    line.name,
                    line.quantity_milli,
                    line.amount_minor
                ])
            })
            .map_err(db)?;
        }
    }
    Ok(())
}

fn add_stock(
    tx: &Transaction<'_>,
    store: &str,
    product: &str,
    milli: i64,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO dash_stock (store, product, level_milli) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, product) DO UPDATE SET level_milli = level_milli + excluded.level_milli",
    )
    .and_then(|mut s| s.execute(params![store, product, milli]))
    .map_err(db)?;
    Ok(())
}

/// Adds a freshly stored entry to the figures. Called after the sync tables took the entry in,
/// so a sale or movement stored earlier under another event id (counted then) is skipped.
pub(crate) fn take_in(
    tx: &Transaction<'_>,
    terminal: &TerminalRecord,
    entry: &JournalEntry,
    event: &DomainEvent,
) -> Result<(), StorageError> {
    match event {
        DomainEvent::SaleCompleted(sale) => {
            let stored_by: Option<String> = tx
                .prepare_cached("SELECT event_id FROM sales WHERE sale_id = ?1")
                .and_then(|mut s| {
                    s.query_row(params![sale.id.as_str()], |r| r.get(0))
                        .optional()
                })
                .map_err(db)?;
            if stored_by.as_deref() == Some(entry.event_id.as_str()) {
                let (offset, zone): (i32, Option<String>) = tx
                    .prepare_cached(
                        "SELECT utc_offset_seconds, time_zone FROM stores WHERE id = ?1",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![terminal.store.as_str()], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                    })
                    .map_err(db)?;
                let offset = clock_at(store_clock(offset), zone.as_deref(), sale.at);
                add_sale(tx, &terminal.store, &SaleFacts::of(sale, offset))?;
            }
        }
        DomainEvent::StockMoved(movement) => {
            let stored_by: Option<String> = tx
                .prepare_cached("SELECT event_id FROM stock_movements WHERE movement_id = ?1")
                .and_then(|mut s| {
                    s.query_row(params![movement.id.as_str()], |r| r.get(0))
                        .optional()
                })
                .map_err(db)?;
            if stored_by.as_deref() == Some(entry.event_id.as_str()) {
                add_stock(
                    tx,
                    terminal.store.as_str(),
                    movement.product.as_str(),
                    thousandths(movement.quantity),
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub(crate) fn note_contact(
    conn: &Connection,
    device: &DeviceId,
    at: Timestamp,
    pulled_to: Option<u64>,
) -> Result<(), StorageError> {
    let pulled_to = pulled_to.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    conn.prepare_cached(
        "INSERT INTO dash_terminal_contact (device, last_seen, pulled_to)
         VALUES (?1, ?2, COALESCE(?3, 0))
         ON CONFLICT (device) DO UPDATE
         SET last_seen = MAX(last_seen, excluded.last_seen),
             pulled_to = MAX(pulled_to, COALESCE(?3, pulled_to))",
    )
    .and_then(|mut s| s.execute(params![device.as_str(), at.unix_ms(), pulled_to]))
    .map_err(db)?;
    Ok(())
}

pub(crate) fn sales(
    conn: &Connection,
    stores: &[StoreId],
    span: Span,
    grouping: Grouping,
) -> Result<Vec<SalesBucket>, StorageError> {
    let (table, column) = grouping.source(span);
    let mut out = Vec::new();
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {} AS bucket, SUM(sales), SUM(total_minor) FROM {table}
             WHERE store = ?1 AND {column} >= ?2 AND {column} < ?3 GROUP BY bucket ORDER BY bucket",
            grouping.sql_over(column)
        ))
        .map_err(db)?;
    for store in stores {
        let rows = statement
            .query_map(params![store.as_str(), span.from, span.to], |r| {
                Ok(SalesBucket {
                    store: store.clone(),
                    bucket: r.get(0)?,
                    sales: u64_from_sql(r.get(1)?),
                    total_minor: r.get(2)?,
                })
            })
            .map_err(db)?;
        for row in rows {
            out.push(row.map_err(db)?);
        }
    }
    Ok(out)
}

pub(crate) fn tenders(
    conn: &Connection,
    stores: &[StoreId],
    span: Span,
) -> Result<Vec<TenderSales>, StorageError> {
    let days = span.days();
    let mut out = Vec::new();
    let mut statement = conn
        .prepare_cached(
            "SELECT tender, SUM(amount_minor) FROM dash_tenders
             WHERE store = ?1 AND day >= ?2 AND day < ?3 GROUP BY tender ORDER BY tender",
        )
        .map_err(db)?;
    for store in stores {
        let rows = statement
            .query_map(params![store.as_str(), days.from, days.to], |r| {
                Ok(TenderSales {
                    store: store.clone(),
                    tender: r.get(0)?,
                    amount_minor: r.get(1)?,
                })
            })
            .map_err(db)?;
        for row in rows {
            out.push(row.map_err(db)?);
        }
    }
    Ok(out)
}

pub(crate) fn products(
    conn: &Connection,
    stores: &[StoreId],
    span: Span,
) -> Result<Vec<ProductSales>, StorageError> {
    let (head, months, tail) = span.split_months();
    let mut statement = conn
        .prepare_cached(
            "SELECT product, MAX(name), SUM(q), SUM(a) FROM (
                 SELECT product, name, quantity_milli AS q, amount_minor AS a
                 FROM dash_products_daily WHERE store = ?1 AND day >= ?2 AND day < ?3
                 UNION ALL
                 SELECT product, name, quantity_milli, amount_minor
                 FROM dash_products_monthly WHERE store = ?1 AND month >= ?4 AND month < ?5
                 UNION ALL
                 SELECT product, name, quantity_milli, amount_minor
                 FROM dash_products_daily WHERE store = ?1 AND day >= ?6 AND day < ?7)
             GROUP BY product",
        )
        .map_err(db)?;
    let mut out = Vec::new();
    for store in stores {
        let rows = statement
            .query_map(
                params![
                    store.as_str(),
                    head.from,
                    head.to,
                    months.from,
                    months.to,
                    tail.from,
                    tail.to
                ],
                |r| {
                    Ok(ProductSales {
                        store: store.clone(),
                        product: ProductId::new(r.get::<_, String>(0)?),
                        name: r.get(1)?,
                        quantity_milli: r.get(2)?,
                        amount_minor: r.get(3)?,
                    })
                },
            )
            .map_err(db)?;
        for row in rows {
            out.push(row.map_err(db)?);
        }
    }
    Ok(out)
}

pub(crate) fn stock(
    conn: &Connection,
    stores: &[StoreId],
) -> Result<Vec<StockLevel>, StorageError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT product, level_milli FROM dash_stock WHERE store = ?1 ORDER BY product",
        )
        .map_err(db)?;
    let mut out = Vec::new();
    for store in stores {
        let rows = statement
            .query_map(params![store.as_str()], |r| {
                Ok(StockLevel {
                    store: store.clone(),
                    product: ProductId::new(r.get::<_, String>(0)?),
                    level_milli: r.get(1)?,
                })
            })
            .map_err(db)?;
        for row in rows {
            out.push(row.map_err(db)?);
        }
    }
    Ok(out)
}

/// The update service's report of a terminal's version, when its tables exist.
fn reported_version(conn: &Connection, device: &DeviceId) -> Result<Option<String>, StorageError> {
    let has_reports: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'update_terminal_reports')",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    if !has_reports {
        return Ok(None);
    }
    let attributes: Option<String> = conn
        .prepare_cached("SELECT attributes FROM update_terminal_reports WHERE terminal = ?1")
        .and_then(|mut s| {
            s.query_row(params![device.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(db)?;
    Ok(attributes
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| {
            value
                .get("version")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        }))
}

pub(crate) fn terminal_status(
    conn: &Connection,
    terminals: Vec<TerminalRecord>,
) -> Result<Vec<TerminalStatus>, StorageError> {
    let mut out = Vec::with_capacity(terminals.len());
    for terminal in terminals {
        let contact: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT last_seen, pulled_to FROM dash_terminal_contact WHERE device = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![terminal.id.as_str()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(db)?;
        let pulled_to = contact.map_or(0, |(_, cursor)| cursor);
        let waiting: i64 = conn
            .prepare_cached(
                // Two ranges of one index (the store's changes, the tenant-wide ones) rather
                // than an OR that would scan every store's changes.
                "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM changes
                         WHERE tenant = ?1 AND store = ?3 AND server_seq > ?2
                           AND (origin_device IS NULL OR origin_device <> ?4) LIMIT ?5))
                      + (SELECT COUNT(*) FROM (SELECT 1 FROM changes
                         WHERE tenant = ?1 AND store IS NULL AND server_seq > ?2
                           AND (origin_device IS NULL OR origin_device <> ?4) LIMIT ?5))",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        terminal.tenant.as_str(),
                        pulled_to,
                        terminal.store.as_str(),
                        terminal.id.as_str(),
                        i64::try_from(CHANGES_WAITING_COUNTED_MAX + 1).unwrap_or(i64::MAX)
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(db)?;
        let version = reported_version(conn, &terminal.id)?;
        out.push(TerminalStatus {
            last_seen: contact.map(|(at, _)| Timestamp::from_unix_ms(at)),
            changes_waiting: u64_from_sql(waiting),
            version,
            terminal,
        });
    }
    Ok(out)
}
