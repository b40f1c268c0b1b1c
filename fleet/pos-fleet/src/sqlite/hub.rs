//! What a store hub keeps on SQLite beside a fleet's tables: the relay outbox (every journal
//! entry its terminals pushed, numbered 1, 2, 3… in the order the hub stored them, filled by a
//! trigger in the same transaction as the push) and the upstream mark and pull cursor.

use pos_core::access::Features;
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, EventId, StoreId, TenantId, UserId};
use pos_core::money::Currency;
use pos_sync::hlc::HlcTime;
use pos_sync::wire::{Change, ChangeBody, JournalEntry, RecordedBy, Scope};
use rusqlite::params;

use super::{SqliteStorage, db, from_json, publish, seq_from_sql, seq_to_sql, to_json};
use crate::storage::StorageError;

impl SqliteStorage {
    /// Makes this database a hub of `store`: the tenant and store under the upstream's ids,
    /// and the relay outbox, filled with what is already stored. Idempotent.
    pub fn become_hub(
        &self,
        tenant: &TenantId,
        store: &StoreId,
        currency: Currency,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS hub_outbox (
                 seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE REFERENCES journal(event_id));
             CREATE TABLE IF NOT EXISTS hub_state (
                 id INTEGER PRIMARY KEY CHECK (id = 1), acked_seq INTEGER NOT NULL,
                 cursor INTEGER NOT NULL);
             INSERT OR IGNORE INTO hub_state (id, acked_seq, cursor) VALUES (1, 0, 0);
             CREATE TRIGGER IF NOT EXISTS hub_relays_every_entry AFTER INSERT ON journal BEGIN
                 INSERT INTO hub_outbox (event_id) VALUES (new.event_id);
             END;
             INSERT OR IGNORE INTO hub_outbox (event_id)
                 SELECT event_id FROM journal ORDER BY received_at, device, seq;",
        )
        .map_err(db)?;
        tx.execute(
            "INSERT OR IGNORE INTO tenants (id, name, features, created_at) VALUES (?1, ?1, ?2, ?3)",
            params![tenant.as_str(), to_json(&Features::all_enabled())?, now.unix_ms()],
        )
        .map_err(db)?;
        tx.execute(
            "INSERT OR IGNORE INTO stores (id, tenant, name, currency, created_at)
             VALUES (?1, ?2, ?1, ?3, ?4)",
            params![
                store.as_str(),
                tenant.as_str(),
                to_json(&currency)?,
                now.unix_ms()
            ],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// (the upstream's high-water mark recorded, the pull cursor, the relay outbox's last).
    pub fn hub_position(&self) -> Result<(u64, u64, u64), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .query_row(
                "SELECT acked_seq, cursor, (SELECT coalesce(max(seq), 0) FROM hub_outbox)
                 FROM hub_state WHERE id = 1",
                [],
                |r| {
                    Ok((
                        seq_from_sql(r.get(0)?),
                        seq_from_sql(r.get(1)?),
                        seq_from_sql(r.get(2)?),
                    ))
                },
            )
            .map_err(db)
    }

    /// Relay outbox entries from `from_seq` on, renumbered in the hub's order, each with the
    /// terminal that pushed it to the hub as its recorder.
    pub fn hub_outbox(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare_cached(
                "SELECT o.seq, j.event_id, j.hlc_ms, j.hlc_counter, j.actor, j.kind, j.payload,
                        j.device, t.name
                 FROM hub_outbox o JOIN journal j ON j.event_id = o.event_id
                 JOIN terminals t ON t.id = j.device
                 WHERE o.seq >= ?1 ORDER BY o.seq LIMIT ?2",
            )
            .map_err(db)?;
        let rows = statement
            .query_map(
                params![
                    seq_to_sql(from_seq)?,
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                },
            )
            .map_err(db)?;
        let mut entries = Vec::new();
        for row in rows {
            let (seq, event_id, wall_ms, counter, actor, kind, payload, device, name) =
                row.map_err(db)?;
            entries.push(JournalEntry {
                event_id: EventId::new(event_id),
                seq: seq_from_sql(seq),
                hlc: HlcTime::new(wall_ms, u32::try_from(counter).unwrap_or(u32::MAX)),
                actor: UserId::new(actor),
                kind,
                payload: from_json(&payload)?,
                recorded_by: Some(RecordedBy {
                    device: DeviceId::new(device),
                    name,
                }),
            });
        }
        Ok(entries)
    }

    pub fn hub_acknowledged(&self, high_water_seq: u64) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "UPDATE hub_state SET acked_seq = max(acked_seq, ?1) WHERE id = 1",
                params![seq_to_sql(high_water_seq)?],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Publishes the upstream's changes to the hub's terminals as they came, with the cursor,
    /// in one transaction. A stock movement keeps its terminal as origin, so that terminal is
    /// not sent its own movement back.
    pub fn hub_apply(
        &self,
        tenant: &TenantId,
        changes: &[Change],
        cursor: u64,
    ) -> Result<(), StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        for change in changes {
            let store = match &change.body {
                ChangeBody::Product { scope, .. }
                | ChangeBody::PriceScheduled { scope, .. }
                | ChangeBody::TaxRate { scope, .. }
                | ChangeBody::Setting { scope, .. } => match scope {
                    Scope::Store(store) => Some(store.clone()),
                    Scope::Tenant => None,
                },
                ChangeBody::Unknown => continue,
                _ => None,
            };
            let origin: Option<DeviceId> = match &change.body {
                ChangeBody::StockMoved { device, .. } => Some(device.clone()),
                _ => None,
            };
            publish(
                &tx,
                tenant,
                store.as_ref(),
                origin.as_ref(),
                change.hlc,
                &change.body,
            )?;
        }
        tx.execute(
            "UPDATE hub_state SET cursor = ?1 WHERE id = 1",
            params![seq_to_sql(cursor)?],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }
}
