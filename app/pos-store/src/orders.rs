//! Purchase orders, goods receipts and transfers between stores: how their events land in the
//! read tables, and the back office's lists of them; and the tenant's stores a transfer can
//! name, as the fleet sends them down.
//!
//! Each table keeps the whole record as its event last carried it. A goods receipt and a
//! transfer also write the lots they carry into `batch`, so the expiring list knows a lot
//! whether it came in here, on another till of the store, or from another store.

use pos_core::id::{PurchaseOrderId, StoreId, TransferId};
use pos_core::purchase::{GoodsReceipt, PurchaseOrder};
use pos_core::stock::Batch;
use pos_core::transfer::Transfer;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::read::LIST_ROWS_MAX;

impl Store {
    /// The store's purchase orders, the ones still open first, then newest first.
    pub fn purchase_orders(&self, store: &StoreId, limit: u32) -> Result<Vec<PurchaseOrder>> {
        self.records(
            "SELECT record FROM purchase_order WHERE store = ?1 \
             ORDER BY state IN ('received', 'cancelled'), updated_ms DESC, id LIMIT ?2",
            params![store.as_str(), limit.min(LIST_ROWS_MAX)],
        )
    }

    pub fn purchase_order(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>> {
        Ok(self
            .records(
                "SELECT record FROM purchase_order WHERE id = ?1",
                params![id.as_str()],
            )?
            .pop())
    }

    /// The receipts taken against an order, oldest first.
    pub fn receipts_for_order(&self, id: &PurchaseOrderId) -> Result<Vec<GoodsReceipt>> {
        self.records(
            "SELECT record FROM goods_receipt WHERE purchase_order = ?1 ORDER BY at_ms, id",
            params![id.as_str()],
        )
    }

    /// Transfers from or to `store`, the unfinished first, then newest first.
    pub fn transfers(&self, store: &StoreId, limit: u32) -> Result<Vec<Transfer>> {
        self.records(
            "SELECT record FROM stock_transfer WHERE from_store = ?1 OR to_store = ?1 \
             ORDER BY state IN ('received', 'cancelled', 'refused', 'return_received'), \
             updated_ms DESC, id LIMIT ?2",
            params![store.as_str(), limit.min(LIST_ROWS_MAX)],
        )
    }

    pub fn transfer(&self, id: &TransferId) -> Result<Option<Transfer>> {
        Ok(self
            .records(
                "SELECT record FROM stock_transfer WHERE id = ?1",
                params![id.as_str()],
            )?
            .pop())
    }

    /// The tenant's stores the fleet sent down (this one among them), by name.
    pub fn tenant_stores(&self) -> Result<Vec<TenantStore>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id, name FROM tenant_store ORDER BY name COLLATE NOCASE, id")?;
        let rows = statement.query_map([], |row| {
            Ok(TenantStore {
                id: StoreId::new(row.get::<_, String>(0)?),
                name: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn records<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        parameters: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let mut rows = statement.query(parameters)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(serde_json::from_str(&row.get::<_, String>(0)?)?);
        }
        Ok(out)
    }
}

/// A store of the tenant, as a transfer names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantStore {
    pub id: StoreId,
    pub name: String,
}

pub(crate) fn save_tenant_store(
    transaction: &Transaction<'_>,
    id: &StoreId,
    name: &str,
) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO tenant_store (id, name) VALUES (?1, ?2) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        )?
        .execute(params![id.as_str(), name])?;
    Ok(())
}

pub(crate) fn save_order(transaction: &Transaction<'_>, order: &PurchaseOrder) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO purchase_order (id, store, vendor, state, created_ms, updated_ms, record) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO UPDATE SET \
             vendor = excluded.vendor, state = excluded.state, updated_ms = excluded.updated_ms, \
             record = excluded.record",
        )?
        .execute(params![
            order.id.as_str(),
            order.store.as_str(),
            order.vendor.as_ref().map(|v| v.as_str()),
            order.state.code(),
            order.created_at.unix_ms(),
            order.updated_at.unix_ms(),
            serde_json::to_string(order)?,
        ])?;
    Ok(())
}

/// A receipt and its lots. Recorded here it is refused a second time; pulled from another
/// till of the store ([`Pulled::Yes`]) a receipt already held is left as it is. Returns whether
/// it was new.
pub(crate) fn save_receipt(
    transaction: &Transaction<'_>,
    receipt: &GoodsReceipt,
    pulled: Pulled,
) -> Result<bool> {
    let inserted = transaction
        .prepare_cached(
            "INSERT OR IGNORE INTO goods_receipt (id, store, purchase_order, at_ms, record) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            receipt.id.as_str(),
            receipt.store.as_str(),
            receipt.order.as_ref().map(|o| o.as_str()),
            receipt.at.unix_ms(),
            serde_json::to_string(receipt)?,
        ])?;
    if inserted == 0 {
        return match pulled {
            Pulled::Yes => Ok(false),
            Pulled::No => Err(StoreError::Refused(format!(
                "goods receipt {} is already recorded",
                receipt.id
            ))),
        };
    }
    for batch in receipt.lines.iter().filter_map(|l| l.batch.as_ref()) {
        save_batch(transaction, batch)?;
    }
    Ok(true)
}

/// Whether a record came from the fleet rather than from this terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pulled {
    Yes,
    No,
}

/// Keeps the furthest step of a transfer, and the lots it carries. Returns whether the record
/// changed.
pub(crate) fn save_transfer(transaction: &Transaction<'_>, transfer: &Transfer) -> Result<bool> {
    let current: Option<String> = transaction
        .prepare_cached("SELECT record FROM stock_transfer WHERE id = ?1")?
        .query_row([transfer.id.as_str()], |row| row.get(0))
        .optional()?;
    if let Some(text) = current {
        let current: Transfer = serde_json::from_str(&text)?;
        if !transfer.newer_than(&current) {
            return Ok(false);
        }
    }
    let updated = transfer.updated_at();
    transaction
        .prepare_cached(
            "INSERT INTO stock_transfer (id, from_store, to_store, state, updated_ms, record) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET \
             state = excluded.state, updated_ms = excluded.updated_ms, record = excluded.record",
        )?
        .execute(params![
            transfer.id.as_str(),
            transfer.from.as_str(),
            transfer.to.as_str(),
            transfer.state.code(),
            updated.unix_ms(),
            serde_json::to_string(transfer)?,
        ])?;
    for batch in transfer.batches() {
        save_batch(transaction, batch)?;
    }
    Ok(true)
}

/// A lot with its expiry. A lot of a product this terminal does not have yet is skipped: the
/// batch table refers to the catalogue, and the lot comes again with the product's next step.
fn save_batch(transaction: &Transaction<'_>, batch: &Batch) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO batch (id, product, lot, expiry) \
             SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM product WHERE id = ?2) \
             ON CONFLICT(id) DO UPDATE SET lot = excluded.lot, expiry = excluded.expiry",
        )?
        .execute(params![
            batch.id.as_str(),
            batch.product.as_str(),
            batch.lot,
            batch.expiry.map(|d| d.to_string()),
        ])?;
    Ok(())
}
