//! The dashboard's summary tables on PostgreSQL: the same tables and meanings as
//! [`super::sqlite`] (`dash_*`, their own version in `dash_schema`), filled in the push's
//! transaction, and the same queries.
//!
//! Must not touch the sync tables: it only reads `sales`, `stock_movements`, `changes` and
//! `terminals`. The update service keeps no tables on PostgreSQL yet, so no version is shown.

use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{DeviceId, ProductId, StoreId};
use pos_core::quantity::Quantity;
use pos_sync::wire::JournalEntry;
use postgres::{Client, GenericClient, Transaction};

use super::data::{
    Grouping, ProductSales, SaleFacts, SalesBucket, Span, StockLevel, TenderSales, TerminalStatus,
    store_clock, thousandths,
};
use super::sqlite::CHANGES_WAITING_COUNTED_MAX;
use crate::storage::{StorageError, TerminalRecord, clock_at};

/// Schema versions in order; append-only.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE dash_hourly (
    store TEXT NOT NULL, hour BIGINT NOT NULL, sales BIGINT NOT NULL,
    total_minor BIGINT NOT NULL, PRIMARY KEY (store, hour));
CREATE TABLE dash_daily (
    store TEXT NOT NULL, day BIGINT NOT NULL, sales BIGINT NOT NULL,
    total_minor BIGINT NOT NULL, PRIMARY KEY (store, day));
CREATE TABLE dash_tenders (
    store TEXT NOT NULL, day BIGINT NOT NULL, tender TEXT NOT NULL,
    amount_minor BIGINT NOT NULL, PRIMARY KEY (store, day, tender));
CREATE TABLE dash_products_daily (
    store TEXT NOT NULL, day BIGINT NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL, amount_minor BIGINT NOT NULL,
    PRIMARY KEY (store, day, product));
CREATE TABLE dash_products_monthly (
    store TEXT NOT NULL, month BIGINT NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL, amount_minor BIGINT NOT NULL,
    PRIMARY KEY (store, month, product));
CREATE TABLE dash_stock (
    store TEXT NOT NULL, product TEXT NOT NULL, level_milli BIGINT NOT NULL,
    PRIMARY KEY (store, product));
CREATE INDEX dash_changes_by_store ON changes (tenant, store, server_seq);
CREATE TABLE dash_terminal_contact (
    device TEXT PRIMARY KEY, last_seen BIGINT NOT NULL, pulled_to BIGINT NOT NULL DEFAULT 0);
"#];

/// The advisory lock two fleet processes starting at once take, so the dashboard's tables are
/// created once ("posdash" in ASCII).
const MIGRATION_LOCK: i64 = 0x0070_6f73_6461_7368;

fn db(e: postgres::Error) -> StorageError {
    StorageError::Database(e.to_string())
}

fn u64_from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Creates or upgrades the summary tables, filling new ones from what is already stored.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS dash_schema (version INTEGER NOT NULL)")
        .map_err(db)?;
    let applied: Option<i32> = tx
        .query_opt("SELECT version FROM dash_schema", &[])
        .map_err(db)?
        .map(|row| row.try_get(0))
        .transpose()
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
        return tx.commit().map_err(db);
    }
    for sql in MIGRATIONS.iter().skip(applied) {
        tx.batch_execute(sql).map_err(db)?;
    }
    if applied == 0 {
        backfill(&mut tx)?;
    }
    let version = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM dash_schema", &[]).map_err(db)?;
    tx.execute("INSERT INTO dash_schema (version) VALUES ($1)", &[&version])
        .map_err(db)?;
    tx.commit().map_err(db)
}

fn backfill(tx: &mut Transaction<'_>) -> Result<(), StorageError> {
    add_stored_sales(tx, None).map_err(db)?;
    let rows = tx
        .query("SELECT store, product, quantity FROM stock_movements", &[])
        .map_err(db)?;
    for row in rows {
        let store: String = row.try_get(0).map_err(db)?;
        let product: String = row.try_get(1).map_err(db)?;
        let quantity: String = row.try_get(2).map_err(db)?;
        if let Ok(quantity) = serde_json::from_str::<Quantity>(&quantity) {
            add_stock(tx, &store, &product, thousandths(quantity)).map_err(db)?;
        }
    }
    Ok(())
}

/// Adds the stored sales of every store, or of one, on each store's clock.
fn add_stored_sales(
    tx: &mut Transaction<'_>,
    only: Option<&StoreId>,
) -> Result<(), postgres::Error> {
    let only = only.map(StoreId::as_str);
    let rows = tx.query(
        "SELECT s.store, j.payload, st.utc_offset_seconds, st.time_zone FROM sales s
         JOIN journal j ON j.event_id = s.event_id JOIN stores st ON st.id = s.store
         WHERE $1::TEXT IS NULL OR s.store = $1",
        &[&only],
    )?;
    for row in rows {
        let store: String = row.try_get(0)?;
        let payload: String = row.try_get(1)?;
        let offset: i32 = row.try_get(2)?;
        let zone: Option<String> = row.try_get(3)?;
        if let Ok(DomainEvent::SaleCompleted(sale)) = serde_json::from_str(&payload) {
            let offset = clock_at(store_clock(offset), zone.as_deref(), sale.at);
            add_sale(tx, &StoreId::new(store), &SaleFacts::of(&sale, offset))?;
        }
    }
    Ok(())
}

/// The store's sales counted again on its clock (after it changed): its time-bound summary
/// rows are dropped and made anew (stock levels do not depend on the clock).
pub(crate) fn recount_store(
    tx: &mut Transaction<'_>,
    store: &StoreId,
) -> Result<(), postgres::Error> {
    for table in [
        "dash_hourly",
        "dash_daily",
        "dash_tenders",
        "dash_products_daily",
        "dash_products_monthly",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE store = $1"),
            &[&store.as_str()],
        )?;
    }
    add_stored_sales(tx, Some(store))
}

fn add_sale(
    tx: &mut impl GenericClient,
    store: &StoreId,
    facts: &SaleFacts,
) -> Result<(), postgres::Error> {
    let store = store.as_str();
    tx.execute(
        "INSERT INTO dash_hourly (store, hour, sales, total_minor) VALUES ($1, $2, 1, $3)
         ON CONFLICT (store, hour) DO UPDATE
         SET sales = dash_hourly.sales + 1,
             total_minor = dash_hourly.total_minor + EXCLUDED.total_minor",
        &[&store, &facts.hour, &facts.total_minor],
    )?;
    tx.execute(
        "INSERT INTO dash_daily (store, day, sales, total_minor) VALUES ($1, $2, 1, $3)
         ON CONFLICT (store, day) DO UPDATE
         SET sales = dash_daily.sales + 1,
             total_minor = dash_daily.total_minor + EXCLUDED.total_minor",
        &[&store, &facts.day, &facts.total_minor],
    )?;
    for (tender, amount) in &facts.tenders {
        tx.execute(
            "INSERT INTO dash_tenders (store, day, tender, amount_minor) VALUES ($1, $2, $3, $4)
             ON CONFLICT (store, day, tender) DO UPDATE
             SET amount_minor = dash_tenders.amount_minor + EXCLUDED.amount_minor",
            &[&store, &facts.day, tender, amount],
        )?;
    }
    for line in &facts.lines {
        let product = line.product.as_str();
        tx.execute(
            "INSERT INTO dash_products_daily
                 (store, day, product, name, quantity_milli, amount_minor)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (store, day, product) DO UPDATE
             SET name = EXCLUDED.name,
                 quantity_milli = dash_products_daily.quantity_milli + EXCLUDED.quantity_milli,
                 amount_minor = dash_products_daily.amount_minor + EXCLUDED.amount_minor",
            &[
                &store,
                &facts.day,
                &product,
                &line.name,
                &line.quantity_milli,
                &line.amount_minor,
            ],
        )?;
        tx.execute(
            "INSERT INTO dash_products_monthly
                 (store, month, product, name, quantity_milli, amount_minor)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (store, month, product) DO UPDATE
             SET name = EXCLUDED.name,
                 quantity_milli = dash_products_monthly.quantity_milli + EXCLUDED.quantity_milli,
                 amount_minor = dash_products_monthly.amount_minor + EXCLUDED.amount_minor",
            &[
                &store,
                &facts.month,
                &product,
                &line.name,
                &line.quantity_milli,
                &line.amount_minor,
            ],
        )?;
    }
    Ok(())
}

fn add_stock(
    tx: &mut impl GenericClient,
    store: &str,
    product: &str,
    milli: i64,
) -> Result<(), postgres::Error> {
    tx.execute(
        "INSERT INTO dash_stock (store, product, level_milli) VALUES ($1, $2, $3)
         ON CONFLICT (store, product) DO UPDATE
         SET level_milli = dash_stock.level_milli + EXCLUDED.level_milli",
        &[&store, &product, &milli],
    )?;
    Ok(())
}

/// Adds a freshly stored entry to the figures, in the push's transaction; a sale or movement
/// stored earlier under another event id was counted then and is skipped.
pub(crate) fn take_in(
    tx: &mut Transaction<'_>,
    terminal: &TerminalRecord,
    entry: &JournalEntry,
    event: &DomainEvent,
) -> Result<(), postgres::Error> {
    match event {
        DomainEvent::SaleCompleted(sale) => {
            let stored_by: Option<String> = tx
                .query_opt(
                    "SELECT event_id FROM sales WHERE sale_id = $1",
                    &[&sale.id.as_str()],
                )?
                .map(|row| row.try_get(0))
                .transpose()?;
            if stored_by.as_deref() == Some(entry.event_id.as_str()) {
                let row = tx.query_one(
                    "SELECT utc_offset_seconds, time_zone FROM stores WHERE id = $1",
                    &[&terminal.store.as_str()],
                )?;
                let (offset, zone): (i32, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
                let offset = clock_at(store_clock(offset), zone.as_deref(), sale.at);
                add_sale(tx, &terminal.store, &SaleFacts::of(sale, offset))?;
            }
        }
        DomainEvent::StockMoved(movement) => {
            let stored_by: Option<String> = tx
                .query_opt(
                    "SELECT event_id FROM stock_movements WHERE movement_id = $1",
                    &[&movement.id.as_str()],
                )?
                .map(|row| row.try_get(0))
                .transpose()?;
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
    client: &mut Client,
    device: &DeviceId,
    at: Timestamp,
    pulled_to: Option<u64>,
) -> Result<(), postgres::Error> {
    let pulled_to = pulled_to.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    client.execute(
        "INSERT INTO dash_terminal_contact (device, last_seen, pulled_to)
         VALUES ($1, $2, COALESCE($3::BIGINT, 0))
         ON CONFLICT (device) DO UPDATE
         SET last_seen = GREATEST(dash_terminal_contact.last_seen, EXCLUDED.last_seen),
             pulled_to = GREATEST(dash_terminal_contact.pulled_to,
                                  COALESCE($3::BIGINT, dash_terminal_contact.pulled_to))",
        &[&device.as_str(), &at.unix_ms(), &pulled_to],
    )?;
    Ok(())
}

pub(crate) fn sales(
    client: &mut Client,
    stores: &[StoreId],
    span: Span,
    grouping: Grouping,
) -> Result<Vec<SalesBucket>, postgres::Error> {
    let (table, column) = grouping.source(span);
    let sql = format!(
        "SELECT {} AS bucket, SUM(sales)::BIGINT, SUM(total_minor)::BIGINT FROM {table}
         WHERE store = $1 AND {column} >= $2 AND {column} < $3 GROUP BY bucket ORDER BY bucket",
        grouping.sql_over(column)
    );
    let statement = client.prepare(&sql)?;
    let mut out = Vec::new();
    for store in stores {
        for row in client.query(&statement, &[&store.as_str(), &span.from, &span.to])? {
            out.push(SalesBucket {
                store: store.clone(),
                bucket: row.try_get(0)?,
                sales: u64_from_sql(row.try_get(1)?),
                total_minor: row.try_get(2)?,
            });
        }
    }
    Ok(out)
}

pub(crate) fn tenders(
    client: &mut Client,
    stores: &[StoreId],
    span: Span,
) -> Result<Vec<TenderSales>, postgres::Error> {
    let days = span.days();
    let mut out = Vec::new();
    for store in stores {
        for row in client.query(
            "SELECT tender, SUM(amount_minor)::BIGINT FROM dash_tenders
             WHERE store = $1 AND day >= $2 AND day < $3 GROUP BY tender ORDER BY tender",
            &[&store.as_str(), &days.from, &days.to],
        )? {
            out.push(TenderSales {
                store: store.clone(),
                tender: row.try_get(0)?,
                amount_minor: row.try_get(1)?,
            });
        }
    }
    Ok(out)
}

pub(crate) fn products(
    client: &mut Client,
    stores: &[StoreId],
    span: Span,
) -> Result<Vec<ProductSales>, postgres::Error> {
    let (head, months, tail) = span.split_months();
    let mut out = Vec::new();
    for store in stores {
        for row in client.query(
            "SELECT product, MAX(name), SUM(q)::BIGINT, SUM(a)::BIGINT FROM (
                 SELECT product, name, quantity_milli AS q, amount_minor AS a
                 FROM dash_products_daily WHERE store = $1 AND day >= $2 AND day < $3
                 UNION ALL
                 SELECT product, name, quantity_milli, amount_minor
                 FROM dash_products_monthly WHERE store = $1 AND month >= $4 AND month < $5
                 UNION ALL
                 SELECT product, name, quantity_milli, amount_minor
                 FROM dash_products_daily WHERE store = $1 AND day >= $6 AND day < $7) AS sold
             GROUP BY product",
            &[
                &store.as_str(),
                &head.from,
                &head.to,
                &months.from,
                &months.to,
                &tail.from,
                &tail.to,
            ],
        )? {
            out.push(ProductSales {
                store: store.clone(),
                product: ProductId::new(row.try_get::<_, String>(0)?),
                name: row.try_get(1)?,
                quantity_milli: row.try_get(2)?,
                amount_minor: row.try_get(3)?,
            });
        }
    }
    Ok(out)
}

pub(crate) fn stock(
    client: &mut Client,
    stores: &[StoreId],
) -> Result<Vec<StockLevel>, postgres::Error> {
    let mut out = Vec::new();
    for store in stores {
        for row in client.query(
            "SELECT product, level_milli FROM dash_stock WHERE store = $1 ORDER BY product",
            &[&store.as_str()],
        )? {
            out.push(StockLevel {
                store: store.clone(),
                product: ProductId::new(row.try_get::<_, String>(0)?),
                level_milli: row.try_get(1)?,
            });
        }
    }
    Ok(out)
}

pub(crate) fn terminal_status(
    client: &mut Client,
    terminals: Vec<TerminalRecord>,
) -> Result<Vec<TerminalStatus>, postgres::Error> {
    let mut out = Vec::with_capacity(terminals.len());
    let limit = i64::try_from(CHANGES_WAITING_COUNTED_MAX + 1).unwrap_or(i64::MAX);
    for terminal in terminals {
        let contact = client
            .query_opt(
                "SELECT last_seen, pulled_to FROM dash_terminal_contact WHERE device = $1",
                &[&terminal.id.as_str()],
            )?
            .map(|row| Ok::<_, postgres::Error>((row.try_get::<_, i64>(0)?, row.try_get(1)?)))
            .transpose()?;
        let pulled_to: i64 = contact.map_or(0, |(_, cursor)| cursor);
        let waiting: i64 = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM changes
                         WHERE tenant = $1 AND store = $3 AND server_seq > $2
                           AND (origin_device IS NULL OR origin_device <> $4) LIMIT $5) AS own)
                      + (SELECT COUNT(*) FROM (SELECT 1 FROM changes
                         WHERE tenant = $1 AND store IS NULL AND server_seq > $2
                           AND (origin_device IS NULL OR origin_device <> $4) LIMIT $5) AS all_stores)",
                &[
                    &terminal.tenant.as_str(),
                    &pulled_to,
                    &terminal.store.as_str(),
                    &terminal.id.as_str(),
                    &limit,
                ],
            )?
            .try_get(0)?;
        out.push(TerminalStatus {
            last_seen: contact.map(|(at, _)| Timestamp::from_unix_ms(at)),
            changes_waiting: u64_from_sql(waiting),
            version: None,
            terminal,
        });
    }
    Ok(out)
}
