//! The back office's questions about the catalogue and stock: the product list with its
//! filters and levels, stock per batch, what sold recently (for reorder quantities) and who
//! owns a code. Answers are core types or small view types.
//!
//! Reads only: products are written with `ProductSaved`/`PriceChanged` events and stock with
//! `StockMoved` events through [`Store::record`], so every change is journalled and synced.

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::{BatchId, CategoryId, ProductId, StoreId};
use pos_core::quantity::Quantity;
use pos_core::stock::{Batch, is_low};
use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::error::Result;
use crate::read::{LIST_ROWS_MAX, parse_date};
use crate::store::quantity_from;

/// Which products a list shows by their active flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProductStatus {
    #[default]
    Active,
    Archived,
    All,
}

/// The back office's product list filters; the default lists every active product.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Part of a name or SKU, or a whole barcode; empty for all.
    pub text: String,
    pub category: Option<CategoryId>,
    pub status: ProductStatus,
    /// Only products at or below their low-stock threshold.
    pub low_stock_only: bool,
}

/// A product in the back office's list, with its stock in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductListing {
    pub product: Product,
    pub level: Quantity,
    pub low: bool,
}

/// Stock of one batch of a product (or of the unbatched part, `batch: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchLevel {
    pub batch: Option<Batch>,
    pub level: Quantity,
}

impl Store {
    /// Products matching `filter`, by name then SKU, with their levels in `store`; at most
    /// `limit` (and [`LIST_ROWS_MAX`]).
    pub fn product_list(
        &self,
        store: &StoreId,
        filter: &ProductFilter,
        limit: u32,
    ) -> Result<Vec<ProductListing>> {
        let text = filter.text.trim();
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let (active_min, active_max) = match filter.status {
            ProductStatus::Active => (1, 1),
            ProductStatus::Archived => (0, 0),
            ProductStatus::All => (0, 1),
        };
        let mut statement = self.connection.prepare_cached(
            "SELECT p.id FROM product p \
             WHERE (?1 = '' OR p.name LIKE ?2 ESCAPE '\\' OR p.sku LIKE ?2 ESCAPE '\\' \
                    OR EXISTS (SELECT 1 FROM barcode b WHERE b.product = p.id AND b.code = ?1)) \
             AND (?3 IS NULL OR p.category = ?3) AND p.active BETWEEN ?4 AND ?5 \
             ORDER BY p.name, p.sku",
        )?;
        let mut rows = statement.query(params![
            text,
            pattern,
            filter.category.as_ref().map(CategoryId::as_str),
            active_min,
            active_max
        ])?;
        let limit = limit.min(LIST_ROWS_MAX) as usize;
        let mut listed = Vec::new();
        while let Some(row) = rows.next()? {
            if listed.len() >= limit {
                break;
            }
            let id = ProductId::new(row.get::<_, String>(0)?);
            let Some(product) = self.product(&id)? else {
                continue;
            };
            let level = self.stock_level(store, &id)?;
            let low = is_low(level, product.low_stock_threshold);
            if filter.low_stock_only && !low {
                continue;
            }
            listed.push(ProductListing {
                product,
                level,
                low,
            });
        }
        Ok(listed)
    }

    /// A batch by id.
    pub fn batch(&self, id: &BatchId) -> Result<Option<Batch>> {
        let row: Option<(String, String, Option<String>)> = self
            .connection
            .prepare_cached("SELECT product, lot, expiry FROM batch WHERE id = ?1")?
            .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((product, lot, expiry)) = row else {
            return Ok(None);
        };
        Ok(Some(Batch {
            id: id.clone(),
            product: ProductId::new(product),
            lot,
            expiry: expiry.as_deref().map(parse_date).transpose()?,
        }))
    }

    /// A product's stock in `store` per batch, soonest expiry first, the unbatched part last.
    /// Batches whose stock is gone are left out.
    pub fn stock_by_batch(&self, store: &StoreId, product: &ProductId) -> Result<Vec<BatchLevel>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT l.batch, l.quantity FROM stock_level l LEFT JOIN batch b ON b.id = l.batch \
             WHERE l.store = ?1 AND l.product = ?2 \
             ORDER BY l.batch = '', b.expiry IS NULL, b.expiry, l.batch LIMIT ?3",
        )?;
        let mut rows = statement.query(params![store.as_str(), product.as_str(), LIST_ROWS_MAX])?;
        let mut levels = Vec::new();
        while let Some(row) = rows.next()? {
            let batch_id: String = row.get(0)?;
            let level = quantity_from(&row.get::<_, String>(1)?)?;
            if batch_id.is_empty() {
                if !level.is_zero() {
                    levels.push(BatchLevel { batch: None, level });
                }
                continue;
            }
            if level.is_zero() {
                continue;
            }
            let batch = self.batch(&BatchId::new(batch_id.clone()))?;
            levels.push(BatchLevel {
                batch: Some(batch.unwrap_or(Batch {
                    id: BatchId::new(batch_id),
                    product: product.clone(),
                    lot: String::new(),
                    expiry: None,
                })),
                level,
            });
        }
        Ok(levels)
    }

    /// How much of a product left `store` through sales since `since`, net of nothing else:
    /// the recent demand a reorder quantity is based on.
    pub fn sold_since(
        &self,
        store: &StoreId,
        product: &ProductId,
        since: Timestamp,
    ) -> Result<Quantity> {
        let mut statement = self.connection.prepare_cached(
            "SELECT quantity FROM stock_movement \
             WHERE store = ?1 AND product = ?2 AND at_ms >= ?3 AND reason LIKE '{\"sale\":%'",
        )?;
        let mut rows =
            statement.query(params![store.as_str(), product.as_str(), since.unix_ms()])?;
        let mut sold = Quantity::ZERO;
        while let Some(row) = rows.next()? {
            sold += quantity_from(&row.get::<_, String>(0)?)?.negate();
        }
        Ok(sold)
    }

    /// The product a SKU belongs to.
    pub fn sku_owner(&self, sku: &str) -> Result<Option<ProductId>> {
        let id: Option<String> = self
            .connection
            .prepare_cached("SELECT id FROM product WHERE sku = ?1")?
            .query_row([sku.trim()], |r| r.get(0))
            .optional()?;
        Ok(id.map(ProductId::new))
    }

    /// The product a barcode belongs to.
    pub fn barcode_owner(&self, code: &str) -> Result<Option<ProductId>> {
        let id: Option<String> = self
            .connection
            .prepare_cached("SELECT product FROM barcode WHERE code = ?1")?
            .query_row([code.trim()], |r| r.get(0))
            .optional()?;
        Ok(id.map(ProductId::new))
    }

    /// The highest barcode of `length` characters starting with `prefix`: where the next
    /// in-store barcode continues from.
    pub fn highest_barcode_with_prefix(&self, prefix: &str, length: u32) -> Result<Option<String>> {
        let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
        Ok(self
            .connection
            .prepare_cached(
                "SELECT max(code) FROM barcode WHERE code LIKE ?1 AND length(code) = ?2",
            )?
            .query_row(params![pattern, length], |r| r.get(0))?)
    }
}
