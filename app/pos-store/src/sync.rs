//! What sync asks of the store: the journal as the outbox in the wire's shape, and the
//! changes pulled from the fleet applied to the read tables together with the pull cursor.
//!
//! Pulled changes are the fleet's decisions, not this terminal's business events: they update
//! the read tables directly and are never appended to the journal (which would send them back
//! up). A page of changes and its cursor are written in one transaction, so a page is applied
//! once: a crash before the commit pulls the same page again, a crash after it pulls the next.
//!
//! It never decides a conflict: the fleet has merged every record before sending it (see
//! `docs/sync.md`), so a record is applied as it comes. The one rule kept here is when a
//! scheduled price takes effect ([`pos_sync::rules::effective_price`]).

use pos_core::clock::Timestamp;
use pos_core::id::ProductId;
use pos_core::money::Money;
use pos_sync::hlc::HlcTime as WireHlc;
use pos_sync::rules::{Origin, ScheduledPrice, Stamp, effective_price};
use pos_sync::wire::{self, Change, ChangeBody};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::journal::{self, JournalEntry};
use crate::store::{self, Store};

/// Where the next pull starts.
pub const CURSOR_SETTING: &str = "sync.cursor";
/// Scheduled prices are kept as settings under this prefix, one per schedule.
pub const PRICE_SCHEDULE_PREFIX: &str = "sync.price_schedule.";
/// Settings the fleet publishes are kept under this prefix, so that a fleet key can never
/// overwrite the terminal's own configuration.
pub const FLEET_SETTING_PREFIX: &str = "fleet.";

/// What one page of pulled changes did, for the sync status and the tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub products: u32,
    pub prices_scheduled: u32,
    pub prices_now_in_effect: u32,
    pub staff: u32,
    pub roles: u32,
    pub settings: u32,
    pub customers: u32,
    pub points_movements: u32,
    pub stock_movements: u32,
    /// Stock movements this store already had (its own, come back through another path).
    pub stock_movements_known: u32,
    /// Transfer steps another store took, newer than what this terminal had.
    pub transfers: u32,
    /// Goods receipts taken on another till of the store.
    pub goods_receipts: u32,
    /// The tenant's feature switches, as the fleet operator set them.
    pub tenant_features: u32,
    /// Stores of the tenant, new or renamed.
    pub stores: u32,
    /// Changes of a kind this version does not know, or for no record it can hold.
    pub skipped: u32,
}

impl Applied {
    /// Whether the till must take up its shop's setup again: what the tenant allows, the
    /// loyalty programme or a setting changed.
    pub fn changes_the_till(&self) -> bool {
        self.tenant_features > 0 || self.settings > 0
    }
}

/// A scheduled price as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSchedule {
    product: ProductId,
    price: Money,
    effective_at: Timestamp,
    hlc: WireHlc,
}

impl Store {
    /// The outbox from `from_seq` on, at most `limit` entries, in the wire's shape.
    pub fn outbox_from(&self, from_seq: u64, limit: u32) -> Result<Vec<wire::JournalEntry>> {
        journal::entries_after(&self.connection, from_seq.saturating_sub(1), limit)?
            .iter()
            .map(wire_entry)
            .collect()
    }

    /// The sequence number of the newest journal entry (0 for an empty journal).
    pub fn outbox_last_seq(&self) -> Result<u64> {
        Ok(journal::head(&self.connection)?.next_seq - 1)
    }

    /// The pull cursor stored with the last applied page (0 before the first).
    pub fn sync_cursor(&self) -> Result<u64> {
        match self.setting(CURSOR_SETTING)? {
            None => Ok(0),
            Some(text) => text.parse().map_err(|_| {
                StoreError::Decode(format!("the stored sync cursor `{text}` is not a number"))
            }),
        }
    }

    /// Applies a page of pulled changes and stores `next_cursor`, in one transaction; then
    /// puts into effect the scheduled prices due at `now`.
    pub fn apply_pulled(
        &mut self,
        changes: &[Change],
        next_cursor: u64,
        now: Timestamp,
    ) -> Result<Applied> {
        let current = self.sync_cursor()?;
        if next_cursor < current {
            return Err(StoreError::Refused(format!(
                "the fleet's cursor {next_cursor} is behind the one already applied ({current})"
            )));
        }
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut applied = Applied::default();
        for change in changes {
            apply_change(&transaction, change, &mut applied)?;
        }
        put_setting(&transaction, CURSOR_SETTING, &next_cursor.to_string())?;
        applied.prices_now_in_effect = apply_due_prices(&transaction, now)?;
        transaction.commit()?;
        Ok(applied)
    }

    /// Puts into effect the scheduled prices due at `now` (a schedule pulled earlier for a
    /// later time). Returns how many products changed price.
    pub fn apply_due_prices(&mut self, now: Timestamp) -> Result<u32> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = apply_due_prices(&transaction, now)?;
        transaction.commit()?;
        Ok(changed)
    }
}

/// A stored entry as it travels: the payload is the bare domain event, as it was written.
fn wire_entry(entry: &JournalEntry) -> Result<wire::JournalEntry> {
    Ok(wire::JournalEntry {
        event_id: entry.id.clone(),
        seq: entry.seq,
        hlc: WireHlc::new(entry.hlc.wall_ms, entry.hlc.counter),
        actor: entry.actor.clone(),
        kind: entry.kind.clone(),
        payload: wire::Payload::from(entry.event_json()?.to_owned()),
        recorded_by: None,
    })
}

fn put_setting(transaction: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![key, value])?;
    Ok(())
}

fn apply_change(
    transaction: &Transaction<'_>,
    change: &Change,
    applied: &mut Applied,
) -> Result<()> {
    match &change.body {
        ChangeBody::Product { product, .. } => {
            store::upsert_product(transaction, product)?;
            applied.products += 1;
        }
        ChangeBody::PriceScheduled {
            schedule_id,
            product,
            price,
            effective_at,
            ..
        } => {
            let schedule = StoredSchedule {
                product: product.clone(),
                price: *price,
                effective_at: *effective_at,
                hlc: change.hlc,
            };
            put_setting(
                transaction,
                &format!("{PRICE_SCHEDULE_PREFIX}{schedule_id}"),
                &serde_json::to_string(&schedule)?,
            )?;
            applied.prices_scheduled += 1;
        }
        ChangeBody::TaxRate { rate, .. } => {
            transaction.execute(
                "INSERT INTO tax_rate (id, name, rate) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, rate = excluded.rate",
                params![rate.id.as_str(), rate.name, rate.rate.to_string()],
            )?;
        }
        ChangeBody::Role { role } => {
            store::upsert_role(transaction, role)?;
            applied.roles += 1;
        }
        ChangeBody::Staff { member } => {
            // A member whose role has not arrived yet gets an empty role of that id, which
            // grants nothing until the role itself is pulled.
            transaction.execute(
                "INSERT INTO role (id, name, grants) VALUES (?1, ?1, '[]') ON CONFLICT(id) DO NOTHING",
                [member.role.as_str()],
            )?;
            // A member without a PIN hash leaves this till's PIN as it is (the fleet may know
            // the person but not the PIN they were seeded with here); a retired one has none.
            transaction.execute(
                "INSERT INTO user (id, name, role, pin_hash, active) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role, \
                 pin_hash = CASE WHEN excluded.active \
                     THEN coalesce(excluded.pin_hash, user.pin_hash) END, \
                 active = excluded.active",
                params![
                    member.id.as_str(),
                    member.name,
                    member.role.as_str(),
                    member.pin_hash,
                    member.active
                ],
            )?;
            applied.staff += 1;
        }
        ChangeBody::PinReset { user, pin_hash } => {
            let changed = transaction
                .prepare_cached("UPDATE user SET pin_hash = ?2 WHERE id = ?1 AND active")?
                .execute(params![user.as_str(), pin_hash])?;
            if changed == 0 {
                // Someone this till does not have, or has retired: nobody to sign in here.
                applied.skipped += 1;
            } else {
                applied.staff += 1;
            }
        }
        ChangeBody::LoyaltyProgram { program } => {
            put_setting(
                transaction,
                crate::read::LOYALTY_SETTING,
                &serde_json::to_string(program)?,
            )?;
            applied.settings += 1;
        }
        ChangeBody::Setting { key, value, .. } => {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            put_setting(transaction, &format!("{FLEET_SETTING_PREFIX}{key}"), &text)?;
            applied.settings += 1;
        }
        ChangeBody::Customer { customer } => {
            store::upsert_customer(transaction, customer)?;
            applied.customers += 1;
        }
        ChangeBody::PointsMoved { movement, .. } => {
            let known: Option<i64> = transaction
                .prepare_cached("SELECT 1 FROM customer WHERE id = ?1")?
                .query_row([movement.customer.as_str()], |row| row.get(0))
                .optional()?;
            if known.is_none() {
                // Points of a customer this terminal has not pulled yet: the customer's own
                // change comes first in the fleet's order, so this is one of another store.
                applied.skipped += 1;
                return Ok(());
            }
            store::insert_points(transaction, movement)?;
            applied.points_movements += 1;
        }
        ChangeBody::StockMoved { movement, .. } => {
            let known: Option<i64> = transaction
                .prepare_cached("SELECT 1 FROM stock_movement WHERE id = ?1")?
                .query_row([movement.id.as_str()], |row| row.get(0))
                .optional()?;
            if known.is_some() {
                applied.stock_movements_known += 1;
            } else {
                store::insert_movement(transaction, movement)?;
                applied.stock_movements += 1;
            }
        }
        ChangeBody::TenantFeatures { features } => {
            put_setting(
                transaction,
                crate::read::TENANT_FEATURES_SETTING,
                &serde_json::to_string(features)?,
            )?;
            applied.tenant_features += 1;
        }
        ChangeBody::TenantStore { store } => {
            crate::orders::save_tenant_store(transaction, &store.id, &store.name)?;
            applied.stores += 1;
        }
        ChangeBody::Transfer { transfer, .. }
        | ChangeBody::TransferEnded { transfer, .. }
        | ChangeBody::TransferReturn { transfer, .. } => {
            if crate::orders::save_transfer(transaction, transfer)? {
                applied.transfers += 1;
            }
        }
        ChangeBody::GoodsReceived { receipt, .. } => {
            if crate::orders::save_receipt(transaction, receipt, crate::orders::Pulled::Yes)? {
                applied.goods_receipts += 1;
            }
        }
        ChangeBody::Unknown => applied.skipped += 1,
    }
    Ok(())
}

/// Sets every product with a schedule in effect to the price [`effective_price`] picks.
fn apply_due_prices(transaction: &Transaction<'_>, now: Timestamp) -> Result<u32> {
    let mut schedules: Vec<StoredSchedule> = Vec::new();
    {
        let mut statement =
            transaction.prepare_cached("SELECT value FROM setting WHERE key >= ?1 AND key < ?2")?;
        let upper = format!("{}\u{10FFFF}", PRICE_SCHEDULE_PREFIX);
        let mut rows = statement.query(params![PRICE_SCHEDULE_PREFIX, upper])?;
        while let Some(row) = rows.next()? {
            schedules.push(serde_json::from_str(&row.get::<_, String>(0)?)?);
        }
    }
    schedules.sort_by(|a, b| a.product.cmp(&b.product));
    let mut changed = 0;
    for group in schedules.chunk_by(|a, b| a.product == b.product) {
        let product = &group[0].product;
        let current: Option<(String, String)> = transaction
            .prepare_cached("SELECT price, currency FROM product WHERE id = ?1")?
            .query_row([product.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((price, currency)) = current else {
            continue;
        };
        let base = store::money_from(&price, &currency)?;
        let scheduled: Vec<ScheduledPrice> = group
            .iter()
            .filter(|s| s.price.currency() == base.currency())
            .map(|s| ScheduledPrice {
                price: s.price,
                effective_at: s.effective_at,
                stamp: Stamp {
                    hlc: s.hlc,
                    origin: Origin::Fleet,
                },
            })
            .collect();
        let price = effective_price(base, &scheduled, now);
        if price != base {
            transaction
                .prepare_cached("UPDATE product SET price = ?2 WHERE id = ?1")?
                .execute(params![product.as_str(), store::money_text(&price)])?;
            changed += 1;
        }
    }
    Ok(changed)
}
