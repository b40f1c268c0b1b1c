//! The read model: what the till's screens ask for, answered as core types or small view
//! types, never as SQL rows.

use pos_core::access::{Actor, Role, User};
use pos_core::catalog::{Product, VariantAttribute};
use pos_core::clock::Timestamp;
use pos_core::held::HeldCart;
use pos_core::id::{
    Barcode, BatchId, CategoryId, CustomerId, DeviceId, LabelLayoutId, ProductId, ReceiptNumber,
    RoleId, SaleId, Sku, StoreId, TaxCategoryId, TaxRateId, UserId, VendorId,
};
use pos_core::loyalty::{Customer, LoyaltyProgram, PointsMovement};
use pos_core::money::Money;
use pos_core::quantity::Quantity;
use pos_core::sale::Sale;
use pos_core::shift::{Shift, ShiftReport};
use pos_core::stock::is_low;
use pos_core::tax::TaxRate;
use rusqlite::{OptionalExtension, Row, params};
use time::Date;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::store::{decimal_from, money_from, quantity_from, unit_from};

/// A product in a search result or a category list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductHit {
    pub id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub price: Money,
}

/// A sale in a list: enough to show a row and open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleSummary {
    pub id: SaleId,
    pub receipt_number: ReceiptNumber,
    pub at: Timestamp,
    pub cashier: UserId,
    pub total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowStock {
    pub product: ProductId,
    pub sku: Sku,
    pub name: String,
    pub level: Quantity,
    pub threshold: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiringBatch {
    pub batch: BatchId,
    pub product: ProductId,
    pub name: String,
    pub lot: String,
    pub expiry: Date,
    pub level: Quantity,
}

/// The store setting holding the loyalty program as JSON.
pub const LOYALTY_SETTING: &str = "shop.loyalty";
/// The store setting holding the shop's settings (`pos_core::tenant::Store`) as JSON.
pub const STORE_SETTING: &str = "shop.store";
/// The switches the tenant turned off for all its stores (`pos_core::access::Features` as
/// JSON), as the fleet sets them; without it the tenant allows everything.
pub const TENANT_FEATURES_SETTING: &str = "shop.tenant_features";

/// The most rows any list query returns, whatever the caller asks.
pub const LIST_ROWS_MAX: u32 = 1_000;

const PRODUCT_COLUMNS: &str = "p.id, p.sku, p.name, p.parent, p.variant, p.unit, p.currency, \
     p.cost, p.price, p.tax_category, p.category, p.vendor, p.active, p.low_stock_threshold";

impl Store {
    /// The product a scanned barcode belongs to.
    pub fn product_by_barcode(&self, barcode: &str) -> Result<Option<Product>> {
        let id: Option<String> = self
            .connection
            .prepare_cached("SELECT product FROM barcode WHERE code = ?1")?
            .query_row([barcode.trim()], |row| row.get(0))
            .optional()?;
        match id {
            Some(id) => self.product(&ProductId::new(id)),
            None => Ok(None),
        }
    }

    /// A product by a code typed at the till: a barcode, else a SKU.
    pub fn product_by_code(&self, code: &str) -> Result<Option<Product>> {
        if let Some(product) = self.product_by_barcode(code)? {
            return Ok(Some(product));
        }
        let id: Option<String> = self
            .connection
            .prepare_cached("SELECT id FROM product WHERE sku = ?1")?
            .query_row([code.trim()], |row| row.get(0))
            .optional()?;
        match id {
            Some(id) => self.product(&ProductId::new(id)),
            None => Ok(None),
        }
    }

    pub fn product(&self, id: &ProductId) -> Result<Option<Product>> {
        let row = self
            .connection
            .prepare_cached(&format!(
                "SELECT {PRODUCT_COLUMNS} FROM product p WHERE p.id = ?1"
            ))?
            .query_row([id.as_str()], ProductRow::from_row)
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let mut barcodes = Vec::new();
        let mut statement = self
            .connection
            .prepare_cached("SELECT code FROM barcode WHERE product = ?1 ORDER BY code")?;
        let mut rows = statement.query([id.as_str()])?;
        while let Some(code) = rows.next()? {
            barcodes.push(Barcode::new(code.get::<_, String>(0)?));
        }
        Ok(Some(row.into_product(barcodes)?))
    }

    /// Variants of a product, by SKU.
    pub fn variants_of(&self, parent: &ProductId) -> Result<Vec<Product>> {
        let ids = self.strings(
            "SELECT id FROM product WHERE parent = ?1 ORDER BY sku LIMIT ?2",
            params![parent.as_str(), LIST_ROWS_MAX],
        )?;
        let mut variants = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(product) = self.product(&ProductId::new(id))? {
                variants.push(product);
            }
        }
        Ok(variants)
    }

    /// Name or SKU search as the cashier types: every word is a prefix (`mil 1l` finds
    /// "Milk 1L"). At most `limit` hits, unranked: ranking short prefixes over a large
    /// catalogue costs more than the screen can wait.
    pub fn search_products(&self, text: &str, limit: u32) -> Result<Vec<ProductHit>> {
        let Some(query) = fts_prefix_query(text) else {
            return Ok(Vec::new());
        };
        let mut statement = self.connection.prepare_cached(
            "SELECT p.id, p.sku, p.name, p.price, p.currency FROM product_search s \
             JOIN product p ON p.rowid = s.rowid \
             WHERE product_search MATCH ?1 AND p.active LIMIT ?2",
        )?;
        let rows = statement.query(params![query, limit.min(LIST_ROWS_MAX)])?;
        collect_hits(rows)
    }

    /// A page of a category, by name; pass the last name seen to get the next page.
    pub fn products_in_category(
        &self,
        category: &CategoryId,
        after_name: &str,
        limit: u32,
    ) -> Result<Vec<ProductHit>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT p.id, p.sku, p.name, p.price, p.currency FROM product p \
             WHERE p.category = ?1 AND p.name > ?2 AND p.active ORDER BY p.name LIMIT ?3",
        )?;
        let rows = statement.query(params![
            category.as_str(),
            after_name,
            limit.min(LIST_ROWS_MAX)
        ])?;
        collect_hits(rows)
    }

    /// A sale by the number printed on its receipt, re-checked on the way out.
    pub fn sale_by_receipt(&self, receipt: &ReceiptNumber) -> Result<Option<Sale>> {
        let record: Option<String> = self
            .connection
            .prepare_cached("SELECT record FROM sale WHERE receipt_number = ?1")?
            .query_row([receipt.as_str()], |row| row.get(0))
            .optional()?;
        record.map(|r| Ok(serde_json::from_str(&r)?)).transpose()
    }

    pub fn sale(&self, id: &SaleId) -> Result<Option<Sale>> {
        let record: Option<String> = self
            .connection
            .prepare_cached("SELECT record FROM sale WHERE id = ?1")?
            .query_row([id.as_str()], |row| row.get(0))
            .optional()?;
        record.map(|r| Ok(serde_json::from_str(&r)?)).transpose()
    }

    /// Sales made in `[from, to)`, oldest first.
    pub fn sales_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<SaleSummary>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, receipt_number, at_ms, cashier, total, currency FROM sale \
             WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms LIMIT ?3",
        )?;
        let rows = statement.query(params![
            from.unix_ms(),
            to.unix_ms(),
            limit.min(LIST_ROWS_MAX)
        ])?;
        collect_sales(rows)
    }

    /// Sales paid with a tender whose approval reference is `reference` (any case), newest
    /// first: a card or wallet payment found from the customer's slip.
    pub fn sales_by_tender_reference(
        &self,
        reference: &str,
        limit: u32,
    ) -> Result<Vec<SaleSummary>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT DISTINCT s.id, s.receipt_number, s.at_ms, s.cashier, s.total, s.currency \
             FROM sale s JOIN sale_tender t ON t.sale = s.id \
             WHERE lower(t.reference) = lower(?1) ORDER BY s.at_ms DESC LIMIT ?2",
        )?;
        let rows = statement.query(params![reference.trim(), limit.min(LIST_ROWS_MAX)])?;
        collect_sales(rows)
    }

    /// Refunds already made against a sale, oldest first: what `pos_core::refund::returnable`
    /// needs to know what can still be returned.
    pub fn refunds_of_sale(&self, sale: &SaleId) -> Result<Vec<pos_core::refund::Refund>> {
        let records = self.strings(
            "SELECT record FROM refund WHERE original_sale = ?1 ORDER BY at_ms, id LIMIT ?2",
            params![sale.as_str(), LIST_ROWS_MAX],
        )?;
        records
            .iter()
            .map(|r| Ok(serde_json::from_str(r)?))
            .collect()
    }

    /// Every sale of a shift, oldest first, for its X and Z reports.
    pub fn sales_of_shift(&self, shift: &pos_core::id::ShiftId) -> Result<Vec<Sale>> {
        let records = self.strings(
            "SELECT record FROM sale WHERE shift = ?1 ORDER BY at_ms",
            [shift.as_str()],
        )?;
        records
            .iter()
            .map(|r| Ok(serde_json::from_str(r)?))
            .collect()
    }

    /// Every sale made in `[from, to)`, oldest first, whole: what the back-office reports
    /// add up. Unlike the lists above this has no row cap, so a report never silently drops a
    /// sale; the caller chooses the period.
    pub fn sale_records_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Sale>> {
        let records = self.strings(
            "SELECT record FROM sale WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id",
            params![from.unix_ms(), to.unix_ms()],
        )?;
        records
            .iter()
            .map(|r| Ok(serde_json::from_str(r)?))
            .collect()
    }

    /// Every refund issued in `[from, to)`, oldest first, with or without a receipt.
    pub fn refunds_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<pos_core::refund::Refund>> {
        let records = self.strings(
            "SELECT record FROM refund WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id",
            params![from.unix_ms(), to.unix_ms()],
        )?;
        records
            .iter()
            .map(|r| Ok(serde_json::from_str(r)?))
            .collect()
    }

    /// Shifts closed in `[from, to)` with the Z report recorded at their close, oldest
    /// first: the Z history.
    pub fn closed_shifts_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Shift, ShiftReport)>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT record, report FROM shift \
             WHERE closed_at >= ?1 AND closed_at < ?2 AND report IS NOT NULL \
             ORDER BY closed_at, id",
        )?;
        let mut rows = statement.query(params![from.unix_ms(), to.unix_ms()])?;
        let mut shifts = Vec::new();
        while let Some(row) = rows.next()? {
            let record: String = row.get(0)?;
            let report: String = row.get(1)?;
            shifts.push((
                serde_json::from_str(&record)?,
                serde_json::from_str(&report)?,
            ));
        }
        Ok(shifts)
    }

    /// A customer's purchases, newest first.
    pub fn customer_history(&self, customer: &CustomerId, limit: u32) -> Result<Vec<SaleSummary>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, receipt_number, at_ms, cashier, total, currency FROM sale \
             WHERE customer = ?1 ORDER BY at_ms DESC LIMIT ?2",
        )?;
        let rows = statement.query(params![customer.as_str(), limit.min(LIST_ROWS_MAX)])?;
        collect_sales(rows)
    }

    pub fn customer(&self, id: &CustomerId) -> Result<Option<(Customer, i64)>> {
        Ok(self
            .connection
            .prepare_cached(
                "SELECT id, name, email, phone, card, points FROM customer WHERE id = ?1",
            )?
            .query_row([id.as_str()], |row| {
                Ok((
                    Customer {
                        id: CustomerId::new(row.get::<_, String>(0)?),
                        name: row.get(1)?,
                        email: row.get(2)?,
                        phone: row.get(3)?,
                        card: row
                            .get::<_, Option<String>>(4)?
                            .map(pos_core::id::LoyaltyCard::new),
                    },
                    row.get(5)?,
                ))
            })
            .optional()?)
    }

    /// The customer a loyalty card belongs to, with their points balance.
    pub fn customer_by_card(&self, card: &str) -> Result<Option<(Customer, i64)>> {
        let id: Option<String> = self
            .connection
            .prepare_cached("SELECT id FROM customer WHERE card = ?1")?
            .query_row([card.trim()], |row| row.get(0))
            .optional()?;
        match id {
            Some(id) => self.customer(&CustomerId::new(id)),
            None => Ok(None),
        }
    }

    /// Customers whose name or card number contains `text` (any case), or whose phone number
    /// contains its digits ("0170 555" finds "0170-5550101"), by name, at most `limit`, each
    /// with their points balance. The customer table is a shop's regulars, so it is scanned.
    pub fn search_customers(&self, text: &str, limit: u32) -> Result<Vec<(Customer, i64)>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                other => vec![other],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        // No digits typed: the phone pattern matches nothing.
        let phone_pattern = if digits.is_empty() {
            String::new()
        } else {
            format!("%{digits}%")
        };
        let ids = {
            let mut statement = self.connection.prepare_cached(
                "SELECT id FROM customer \
                 WHERE name LIKE ?1 ESCAPE '\\' OR card LIKE ?1 ESCAPE '\\' \
                    OR (?2 <> '' AND replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '/', ''), \
                       '(', ''), ')', '') LIKE ?2) \
                 ORDER BY name, id LIMIT ?3",
            )?;
            let rows = statement.query_map(
                params![pattern, phone_pattern, limit.min(LIST_ROWS_MAX)],
                |row| row.get::<_, String>(0),
            )?;
            rows.collect::<std::result::Result<Vec<String>, _>>()?
        };
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.customer(&CustomerId::new(id))?);
        }
        Ok(found)
    }

    /// The customer list: everyone by name when `text` is empty, else [`Self::search_customers`].
    pub fn customer_list(&self, text: &str, limit: u32) -> Result<Vec<(Customer, i64)>> {
        if !text.trim().is_empty() {
            return self.search_customers(text, limit);
        }
        let ids = self.strings(
            "SELECT id FROM customer ORDER BY name, id LIMIT ?1",
            [limit.min(LIST_ROWS_MAX)],
        )?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.customer(&CustomerId::new(id))?);
        }
        Ok(found)
    }

    /// A customer's points ledger, newest first.
    pub fn points_ledger(&self, customer: &CustomerId, limit: u32) -> Result<Vec<PointsMovement>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT points, reason, at_ms FROM points_movement WHERE customer = ?1 \
             ORDER BY at_ms DESC, seq DESC LIMIT ?2",
        )?;
        let mut rows = statement.query(params![customer.as_str(), limit.min(LIST_ROWS_MAX)])?;
        let mut ledger = Vec::new();
        while let Some(row) = rows.next()? {
            ledger.push(PointsMovement {
                customer: customer.clone(),
                points: row.get(0)?,
                reason: serde_json::from_str(&row.get::<_, String>(1)?)?,
                at: Timestamp::from_unix_ms(row.get(2)?),
            });
        }
        Ok(ledger)
    }

    /// Stock of a product in a store, all batches together.
    pub fn stock_level(&self, store: &StoreId, product: &ProductId) -> Result<Quantity> {
        let texts = self.strings(
            "SELECT quantity FROM stock_level WHERE store = ?1 AND product = ?2",
            params![store.as_str(), product.as_str()],
        )?;
        let mut level = Quantity::ZERO;
        for text in texts {
            level += quantity_from(&text)?;
        }
        Ok(level)
    }

    /// Products at or below their low-stock threshold in a store.
    pub fn low_stock(&self, store: &StoreId, limit: u32) -> Result<Vec<LowStock>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT p.id, p.sku, p.name, p.low_stock_threshold, \
             (SELECT group_concat(l.quantity, ' ') FROM stock_level l \
              WHERE l.store = ?1 AND l.product = p.id) \
             FROM product p WHERE p.low_stock_threshold IS NOT NULL AND p.active ORDER BY p.name",
        )?;
        let mut rows = statement.query([store.as_str()])?;
        let mut low = Vec::new();
        while let Some(row) = rows.next()? {
            if low.len() >= limit.min(LIST_ROWS_MAX) as usize {
                break;
            }
            let threshold = quantity_from(&row.get::<_, String>(3)?)?;
            let mut level = Quantity::ZERO;
            for part in row
                .get::<_, Option<String>>(4)?
                .unwrap_or_default()
                .split_whitespace()
            {
                level += quantity_from(part)?;
            }
            if is_low(level, Some(threshold)) {
                low.push(LowStock {
                    product: ProductId::new(row.get::<_, String>(0)?),
                    sku: Sku::new(row.get::<_, String>(1)?),
                    name: row.get(2)?,
                    level,
                    threshold,
                });
            }
        }
        Ok(low)
    }

    /// Batches in stock in `store` that expire on or before `by`, soonest first.
    pub fn expiring_batches(
        &self,
        store: &StoreId,
        by: Date,
        limit: u32,
    ) -> Result<Vec<ExpiringBatch>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT b.id, b.product, p.name, b.lot, b.expiry, l.quantity FROM batch b \
             JOIN product p ON p.id = b.product \
             JOIN stock_level l ON l.store = ?1 AND l.product = b.product AND l.batch = b.id \
             WHERE b.expiry IS NOT NULL AND b.expiry <= ?2 ORDER BY b.expiry, b.id",
        )?;
        let mut rows = statement.query(params![store.as_str(), by.to_string()])?;
        let mut batches = Vec::new();
        while let Some(row) = rows.next()? {
            if batches.len() >= limit.min(LIST_ROWS_MAX) as usize {
                break;
            }
            let level = quantity_from(&row.get::<_, String>(5)?)?;
            if level.value() <= rust_decimal::Decimal::ZERO {
                continue;
            }
            let expiry_text: String = row.get(4)?;
            batches.push(ExpiringBatch {
                batch: BatchId::new(row.get::<_, String>(0)?),
                product: ProductId::new(row.get::<_, String>(1)?),
                name: row.get(2)?,
                lot: row.get(3)?,
                expiry: parse_date(&expiry_text)?,
                level,
            });
        }
        Ok(batches)
    }

    /// Carts parked on any terminal, oldest first; they survive restarts and power cuts.
    pub fn held_carts(&self) -> Result<Vec<HeldCart>> {
        let records = self.strings(
            "SELECT record FROM held_cart ORDER BY held_at, id LIMIT ?1",
            params![LIST_ROWS_MAX],
        )?;
        records
            .iter()
            .map(|r| Ok(serde_json::from_str(r)?))
            .collect()
    }

    pub fn shift(&self, id: &pos_core::id::ShiftId) -> Result<Option<Shift>> {
        let record: Option<String> = self
            .connection
            .prepare_cached("SELECT record FROM shift WHERE id = ?1")?
            .query_row([id.as_str()], |row| row.get(0))
            .optional()?;
        record.map(|r| Ok(serde_json::from_str(&r)?)).transpose()
    }

    /// The shift open on a terminal, if any.
    pub fn open_shift(&self, device: &DeviceId) -> Result<Option<Shift>> {
        let record: Option<String> = self
            .connection
            .prepare_cached(
                "SELECT record FROM shift WHERE device = ?1 AND closed_at IS NULL \
                 ORDER BY opened_at DESC LIMIT 1",
            )?
            .query_row([device.as_str()], |row| row.get(0))
            .optional()?;
        record.map(|r| Ok(serde_json::from_str(&r)?)).transpose()
    }

    // ---- Configuration: users, roles, settings, tax rates, categories ----------------------

    pub fn save_role(&mut self, role: &Role) -> Result<()> {
        crate::store::upsert_role(&self.connection, role)
    }

    /// Takes a person off the till: no tile, no PIN. Their past sales keep their name.
    pub fn retire_user(&mut self, user: &UserId) -> Result<()> {
        self.connection.execute(
            "UPDATE user SET active = 0, pin_hash = NULL WHERE id = ?1",
            params![user.as_str()],
        )?;
        Ok(())
    }

    /// Saves a user with their role (which must be saved first) and PIN hash.
    pub fn save_user(
        &mut self,
        user: &UserId,
        name: &str,
        role: &RoleId,
        pin_hash: Option<&str>,
    ) -> Result<()> {
        self.connection
            .execute(
                "INSERT INTO user (id, name, role, pin_hash) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role, \
                 pin_hash = excluded.pin_hash",
                params![user.as_str(), name, role.as_str(), pin_hash],
            )
            .map_err(|error| {
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
                    StoreError::Refused(format!(
                        "role {role} does not exist; save it before the user"
                    ))
                } else {
                    error.into()
                }
            })?;
        Ok(())
    }

    /// A user with their role, as the access rules need them.
    pub fn actor(&self, user: &UserId) -> Result<Option<Actor>> {
        let found: Option<(String, String, String, String)> = self
            .connection
            .prepare_cached(
                "SELECT u.name, r.id, r.name, r.grants FROM user u JOIN role r ON r.id = u.role \
                 WHERE u.id = ?1 AND u.active",
            )?
            .query_row([user.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .optional()?;
        let Some((name, role_id, role_name, grants)) = found else {
            return Ok(None);
        };
        let grants: Vec<String> = serde_json::from_str(&grants)?;
        let grants: Vec<&str> = grants.iter().map(String::as_str).collect();
        Ok(Some(Actor {
            user: user.clone(),
            name,
            role: Role::new(&role_id, &role_name, &grants),
        }))
    }

    /// Active users with their roles, by name: the people shown on the login screen.
    pub fn users(&self) -> Result<Vec<Actor>> {
        let ids = self.strings(
            "SELECT id FROM user WHERE active ORDER BY name, id LIMIT ?1",
            [LIST_ROWS_MAX],
        )?;
        let mut actors = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(actor) = self.actor(&UserId::new(id))? {
                actors.push(actor);
            }
        }
        Ok(actors)
    }

    /// The stored PIN hash of an active user; `None` for unknown or inactive users and for
    /// users without a PIN.
    pub fn pin_hash(&self, user: &UserId) -> Result<Option<String>> {
        Ok(self
            .connection
            .prepare_cached("SELECT pin_hash FROM user WHERE id = ?1 AND active")?
            .query_row([user.as_str()], |row| row.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// Every role, by name.
    pub fn roles(&self) -> Result<Vec<Role>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id, name, grants FROM role ORDER BY name, id LIMIT ?1")?;
        let mut rows = statement.query([LIST_ROWS_MAX])?;
        let mut roles = Vec::new();
        while let Some(row) = rows.next()? {
            let grants: Vec<String> = serde_json::from_str(&row.get::<_, String>(2)?)?;
            let grants: Vec<&str> = grants.iter().map(String::as_str).collect();
            roles.push(Role::new(
                &row.get::<_, String>(0)?,
                &row.get::<_, String>(1)?,
                &grants,
            ));
        }
        Ok(roles)
    }

    /// Everyone on the staff list, retired people too, by name.
    pub fn staff(&self) -> Result<Vec<User>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id, name, role, active FROM user ORDER BY name, id LIMIT ?1")?;
        let rows = statement.query_map([LIST_ROWS_MAX], |row| {
            Ok(User {
                id: UserId::new(row.get::<_, String>(0)?),
                name: row.get(1)?,
                role: RoleId::new(row.get::<_, String>(2)?),
                active: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<User>, _>>()?)
    }

    /// The saved label layouts by name: (id, name, the label driver's JSON).
    pub fn label_layouts(&self) -> Result<Vec<(LabelLayoutId, String, String)>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, name, layout FROM label_layout ORDER BY name COLLATE NOCASE",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                LabelLayoutId::new(row.get::<_, String>(0)?),
                row.get(1)?,
                row.get(2)?,
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The loyalty program the shop runs, if one was saved.
    pub fn loyalty_program(&self) -> Result<Option<LoyaltyProgram>> {
        self.setting(LOYALTY_SETTING)?
            .map(|text| Ok(serde_json::from_str(&text)?))
            .transpose()
    }

    /// The shop's settings, if they were saved.
    pub fn store_settings(&self) -> Result<Option<pos_core::tenant::Store>> {
        self.setting(STORE_SETTING)?
            .map(|text| Ok(serde_json::from_str(&text)?))
            .transpose()
    }

    /// What the tenant switched off for every store; nothing when the fleet set nothing.
    pub fn tenant_features(&self) -> Result<pos_core::access::Features> {
        Ok(self
            .setting(TENANT_FEATURES_SETTING)?
            .map(|text| serde_json::from_str(&text))
            .transpose()?
            .unwrap_or_default())
    }

    /// Whether any sale was ever recorded here: a store's currency is fixed from its first.
    pub fn has_sales(&self) -> Result<bool> {
        Ok(self
            .connection
            .query_row("SELECT EXISTS (SELECT 1 FROM sale)", [], |row| row.get(0))?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.connection.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .connection
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    pub fn save_tax_rate(&mut self, rate: &TaxRate) -> Result<()> {
        self.connection.execute(
            "INSERT INTO tax_rate (id, name, rate) VALUES (?1, ?2, ?3) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, rate = excluded.rate",
            params![rate.id.as_str(), rate.name, rate.rate.to_string()],
        )?;
        Ok(())
    }

    pub fn tax_rates(&self) -> Result<Vec<TaxRate>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id, name, rate FROM tax_rate ORDER BY id")?;
        let mut rows = statement.query([])?;
        let mut rates = Vec::new();
        while let Some(row) = rows.next()? {
            rates.push(TaxRate {
                id: TaxRateId::new(row.get::<_, String>(0)?),
                name: row.get(1)?,
                rate: decimal_from(&row.get::<_, String>(2)?)?,
            });
        }
        Ok(rates)
    }

    pub fn save_category(
        &mut self,
        id: &CategoryId,
        name: &str,
        parent: Option<&CategoryId>,
    ) -> Result<()> {
        self.connection.execute(
            "INSERT INTO category (id, name, parent) VALUES (?1, ?2, ?3) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, parent = excluded.parent",
            params![id.as_str(), name, parent.map(CategoryId::as_str)],
        )?;
        Ok(())
    }

    /// Categories as (id, name), by name.
    pub fn categories(&self) -> Result<Vec<(CategoryId, String)>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id, name FROM category ORDER BY name LIMIT ?1")?;
        let mut rows = statement.query([LIST_ROWS_MAX])?;
        let mut categories = Vec::new();
        while let Some(row) = rows.next()? {
            categories.push((CategoryId::new(row.get::<_, String>(0)?), row.get(1)?));
        }
        Ok(categories)
    }

    fn strings(&self, sql: &str, parameters: impl rusqlite::Params) -> Result<Vec<String>> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let mut rows = statement.query(parameters)?;
        let mut values = Vec::new();
        while let Some(row) = rows.next()? {
            values.push(row.get(0)?);
        }
        Ok(values)
    }
}

/// Turns typed text into an FTS5 query of quoted prefixes, dropping FTS syntax characters,
/// so nothing a cashier types is an error.
fn fts_prefix_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(8)
        .map(|word| format!("\"{word}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

fn collect_hits(mut rows: rusqlite::Rows<'_>) -> Result<Vec<ProductHit>> {
    let mut hits = Vec::new();
    while let Some(row) = rows.next()? {
        hits.push(ProductHit {
            id: ProductId::new(row.get::<_, String>(0)?),
            sku: Sku::new(row.get::<_, String>(1)?),
            name: row.get(2)?,
            price: money_from(&row.get::<_, String>(3)?, &row.get::<_, String>(4)?)?,
        });
    }
    Ok(hits)
}

fn collect_sales(mut rows: rusqlite::Rows<'_>) -> Result<Vec<SaleSummary>> {
    let mut sales = Vec::new();
    while let Some(row) = rows.next()? {
        sales.push(SaleSummary {
            id: SaleId::new(row.get::<_, String>(0)?),
            receipt_number: ReceiptNumber::new(row.get::<_, String>(1)?),
            at: Timestamp::from_unix_ms(row.get(2)?),
            cashier: UserId::new(row.get::<_, String>(3)?),
            total: money_from(&row.get::<_, String>(4)?, &row.get::<_, String>(5)?)?,
        });
    }
    Ok(sales)
}

pub(crate) fn parse_date(text: &str) -> Result<Date> {
    let bad = || StoreError::Decode(format!("`{text}` is not a date (YYYY-MM-DD)"));
    let mut parts = text.splitn(3, '-');
    let mut next = || parts.next().ok_or_else(bad);
    let (year, month, day) = (next()?, next()?, next()?);
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u8 = month.parse().map_err(|_| bad())?;
    let day: u8 = day.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

/// A product row as stored, before its barcodes are attached.
struct ProductRow {
    id: String,
    sku: String,
    name: String,
    parent: Option<String>,
    variant: String,
    unit: String,
    currency: String,
    cost: String,
    price: String,
    tax_category: String,
    category: Option<String>,
    vendor: Option<String>,
    active: bool,
    low_stock_threshold: Option<String>,
}

impl ProductRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<ProductRow> {
        Ok(ProductRow {
            id: row.get(0)?,
            sku: row.get(1)?,
            name: row.get(2)?,
            parent: row.get(3)?,
            variant: row.get(4)?,
            unit: row.get(5)?,
            currency: row.get(6)?,
            cost: row.get(7)?,
            price: row.get(8)?,
            tax_category: row.get(9)?,
            category: row.get(10)?,
            vendor: row.get(11)?,
            active: row.get(12)?,
            low_stock_threshold: row.get(13)?,
        })
    }

    fn into_product(self, barcodes: Vec<Barcode>) -> Result<Product> {
        let unit = unit_from(&self.unit).ok_or_else(|| {
            StoreError::Decode(format!("unit `{}` of product {}", self.unit, self.id))
        })?;
        let variant: Vec<VariantAttribute> = serde_json::from_str(&self.variant)?;
        Ok(Product {
            id: ProductId::new(self.id),
            sku: Sku::new(self.sku),
            name: self.name,
            barcodes,
            parent: self.parent.map(ProductId::new),
            variant,
            unit,
            cost: money_from(&self.cost, &self.currency)?,
            price: money_from(&self.price, &self.currency)?,
            tax_category: TaxCategoryId::new(self.tax_category),
            category: self.category.map(CategoryId::new),
            vendor: self.vendor.map(VendorId::new),
            active: self.active,
            low_stock_threshold: self
                .low_stock_threshold
                .as_deref()
                .map(quantity_from)
                .transpose()?,
        })
    }
}
