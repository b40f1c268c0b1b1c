//! The receipt outbox on SQLite: requests are the `receipt_requested` entries of the journal;
//! `receipt_deliveries` keeps how sending each one went.

use pos_core::clock::Timestamp;
use pos_core::id::{EventId, SaleId, StoreId, TenantId};
use pos_core::sale::Sale;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStorage, db, from_json, to_json};
use crate::receipts::{job_from_entry, status_text};
use crate::storage::{DeliveryStatus, ReceiptDelivery, ReceiptJob, StorageError};

/// Creates the table on first start (its own, so the main schema's versions stay as they are).
pub(super) fn migrate(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS receipt_deliveries (
             event_id TEXT PRIMARY KEY REFERENCES journal(event_id),
             tenant TEXT NOT NULL, store TEXT NOT NULL, sale TEXT NOT NULL,
             receipt TEXT NOT NULL, destination TEXT NOT NULL, status TEXT NOT NULL,
             attempts INTEGER NOT NULL, next_at INTEGER, last_error TEXT,
             updated_at INTEGER NOT NULL);
         CREATE INDEX IF NOT EXISTS receipt_deliveries_by_store
             ON receipt_deliveries (store, updated_at);
         CREATE INDEX IF NOT EXISTS journal_by_kind ON journal (kind, received_at);",
    )
    .map_err(db)
}

impl SqliteStorage {
    pub(super) fn receipt_requests_due_impl(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ReceiptJob>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare_cached(
                "SELECT j.event_id, t.tenant, t.store, j.payload, coalesce(d.attempts, 0)
                 FROM journal j JOIN terminals t ON t.id = j.device
                 LEFT JOIN receipt_deliveries d ON d.event_id = j.event_id
                 WHERE j.kind = 'receipt_requested'
                   AND (d.event_id IS NULL OR (d.status = 'retrying' AND d.next_at <= ?1))
                 ORDER BY j.received_at, j.event_id LIMIT ?2",
            )
            .map_err(db)?;
        let rows = statement
            .query_map(params![now.unix_ms(), i64::from(limit)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(db)?;
        let mut jobs = Vec::new();
        for row in rows {
            let (event_id, tenant, store, payload, attempts) = row.map_err(db)?;
            jobs.push(job_from_entry(
                EventId::new(event_id),
                TenantId::new(tenant),
                StoreId::new(store),
                &from_json(&payload)?,
                u32::try_from(attempts).unwrap_or(u32::MAX),
            )?);
        }
        Ok(jobs)
    }

    pub(super) fn receipt_sale_impl(
        &self,
        store: &StoreId,
        sale: &SaleId,
    ) -> Result<Option<Sale>, StorageError> {
        let inner = self.lock()?;
        let payload: Option<String> = inner
            .conn
            .query_row(
                "SELECT j.payload FROM sales s JOIN journal j ON j.event_id = s.event_id
                 WHERE s.sale_id = ?1 AND s.store = ?2",
                params![sale.as_str(), store.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        payload
            .map(|text| crate::receipts::sale_from_payload(&from_json(&text)?))
            .transpose()
    }

    pub(super) fn record_receipt_delivery_impl(
        &self,
        delivery: &ReceiptDelivery,
        next_at: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "INSERT INTO receipt_deliveries (event_id, tenant, store, sale, receipt,
                     destination, status, attempts, next_at, last_error, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (event_id) DO UPDATE SET status = excluded.status,
                     attempts = excluded.attempts, next_at = excluded.next_at,
                     last_error = excluded.last_error, updated_at = excluded.updated_at",
                params![
                    delivery.event_id.as_str(),
                    delivery.tenant.as_str(),
                    delivery.store.as_str(),
                    delivery.sale.as_str(),
                    delivery.receipt.as_str(),
                    to_json(&delivery.destination)?,
                    status_text(delivery.status),
                    i64::from(delivery.attempts),
                    next_at.map(Timestamp::unix_ms),
                    delivery.last_error,
                    delivery.updated_at.unix_ms()
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub(super) fn receipt_deliveries_impl(
        &self,
        store: &StoreId,
    ) -> Result<Vec<ReceiptDelivery>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare_cached(
                "SELECT event_id, tenant, store, sale, receipt, destination, status, attempts,
                     last_error, updated_at
                 FROM receipt_deliveries WHERE store = ?1
                 ORDER BY updated_at DESC, event_id LIMIT 1000",
            )
            .map_err(db)?;
        let rows = statement
            .query_map(params![store.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, i64>(9)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (event_id, tenant, store, sale, receipt, destination, status, attempts, error, at) =
                row.map_err(db)?;
            out.push(ReceiptDelivery {
                event_id: EventId::new(event_id),
                tenant: TenantId::new(tenant),
                store: StoreId::new(store),
                sale: SaleId::new(sale),
                receipt: pos_core::id::ReceiptNumber::new(receipt),
                destination: from_json(&destination)?,
                status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                last_error: error,
                updated_at: Timestamp::from_unix_ms(at),
            });
        }
        Ok(out)
    }
}
