//! The receipt outbox on PostgreSQL: requests are the `receipt_requested` entries of the
//! journal; `receipt_deliveries` (migration 2) keeps how sending each one went.

use pos_core::clock::Timestamp;
use pos_core::id::{EventId, ReceiptNumber, SaleId, StoreId, TenantId};
use pos_core::sale::Sale;

use super::{PostgresStorage, from_json, to_json};
use crate::receipts::{job_from_entry, status_text};
use crate::storage::{DeliveryStatus, ReceiptDelivery, ReceiptJob, StorageError};

impl PostgresStorage {
    pub(super) fn receipt_requests_due_impl(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ReceiptJob>, StorageError> {
        self.read(|client| {
            let mut jobs = Vec::new();
            for row in client.query(
                "SELECT j.event_id, t.tenant, t.store, j.payload, coalesce(d.attempts, 0)
                 FROM journal j JOIN terminals t ON t.id = j.device
                 LEFT JOIN receipt_deliveries d ON d.event_id = j.event_id
                 WHERE j.kind = 'receipt_requested'
                   AND (d.event_id IS NULL OR (d.status = 'retrying' AND d.next_at <= $1))
                 ORDER BY j.received_at, j.event_id COLLATE \"C\" LIMIT $2",
                &[&now.unix_ms(), &i64::from(limit)],
            )? {
                let attempts: i32 = row.try_get(4)?;
                jobs.push(job_from_entry(
                    EventId::new(row.try_get::<_, String>(0)?),
                    TenantId::new(row.try_get::<_, String>(1)?),
                    StoreId::new(row.try_get::<_, String>(2)?),
                    &from_json(row.try_get::<_, &str>(3)?)?,
                    u32::try_from(attempts).unwrap_or(0),
                )?);
            }
            Ok(jobs)
        })
    }

    pub(super) fn receipt_sale_impl(
        &self,
        store: &StoreId,
        sale: &SaleId,
    ) -> Result<Option<Sale>, StorageError> {
        self.read(|client| {
            let row = client.query_opt(
                "SELECT j.payload FROM sales s JOIN journal j ON j.event_id = s.event_id
                 WHERE s.sale_id = $1 AND s.store = $2",
                &[&sale.as_str(), &store.as_str()],
            )?;
            match row {
                None => Ok(None),
                Some(row) => Ok(Some(crate::receipts::sale_from_payload(&from_json(
                    row.try_get::<_, &str>(0)?,
                )?)?)),
            }
        })
    }

    pub(super) fn record_receipt_delivery_impl(
        &self,
        delivery: &ReceiptDelivery,
        next_at: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        let destination = to_json(&delivery.destination)?;
        let attempts = i32::try_from(delivery.attempts).unwrap_or(i32::MAX);
        let next_at = next_at.map(Timestamp::unix_ms);
        self.read(|client| {
            client.execute(
                "INSERT INTO receipt_deliveries (event_id, tenant, store, sale, receipt,
                     destination, status, attempts, next_at, last_error, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (event_id) DO UPDATE SET status = excluded.status,
                     attempts = excluded.attempts, next_at = excluded.next_at,
                     last_error = excluded.last_error, updated_at = excluded.updated_at",
                &[
                    &delivery.event_id.as_str(),
                    &delivery.tenant.as_str(),
                    &delivery.store.as_str(),
                    &delivery.sale.as_str(),
                    &delivery.receipt.as_str(),
                    &destination,
                    &status_text(delivery.status),
                    &attempts,
                    &next_at,
                    &delivery.last_error,
                    &delivery.updated_at.unix_ms(),
                ],
            )?;
            Ok(())
        })
    }

    pub(super) fn receipt_deliveries_impl(
        &self,
        store: &StoreId,
    ) -> Result<Vec<ReceiptDelivery>, StorageError> {
        self.read(|client| {
            let mut out = Vec::new();
            for row in client.query(
                "SELECT event_id, tenant, store, sale, receipt, destination, status, attempts,
                     last_error, updated_at
                 FROM receipt_deliveries WHERE store = $1
                 ORDER BY updated_at DESC, event_id COLLATE \"C\" LIMIT 1000",
                &[&store.as_str()],
            )? {
                let attempts: i32 = row.try_get(7)?;
                out.push(ReceiptDelivery {
                    event_id: EventId::new(row.try_get::<_, String>(0)?),
                    tenant: TenantId::new(row.try_get::<_, String>(1)?),
                    store: StoreId::new(row.try_get::<_, String>(2)?),
                    sale: SaleId::new(row.try_get::<_, String>(3)?),
                    receipt: ReceiptNumber::new(row.try_get::<_, String>(4)?),
                    destination: from_json(row.try_get::<_, &str>(5)?)?,
                    status: DeliveryStatus::parse(row.try_get::<_, &str>(6)?)
                        .unwrap_or(DeliveryStatus::Failed),
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    last_error: row.try_get(8)?,
                    updated_at: Timestamp::from_unix_ms(row.try_get(9)?),
                });
            }
            Ok(out)
        })
    }
}
