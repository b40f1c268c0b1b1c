//! [`UpdateStorage`] on the fleet's SQLite file, in tables of its own (`update_*`) with their own
//! schema version in `update_schema`, so they change independently of the sync tables.

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::rollout::{ActionStatus, FeedbackOn, Window, apply_feedback};
use super::storage::{
    ActionRecord, BundleRecord, ConfigMode, FeedbackNote, RolloutRecord, RolloutState,
    TerminalReport, TerminalUpdate, UpdateStorage,
};
use crate::sqlite::SqliteStorage;
use crate::storage::StorageError;

/// Append-only, like the fleet's own migrations.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE update_bundles (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, version TEXT NOT NULL, compatible TEXT NOT NULL,
    format TEXT NOT NULL, size INTEGER NOT NULL, sha1 TEXT NOT NULL, md5 TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE, uploaded_at INTEGER NOT NULL, uploaded_by TEXT NOT NULL);
CREATE TABLE update_rollouts (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, bundle TEXT NOT NULL REFERENCES update_bundles(id),
    target TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL, current_stage INTEGER NOT NULL,
    halt_reason TEXT, created_at INTEGER NOT NULL, created_by TEXT NOT NULL);
CREATE INDEX update_rollouts_by_tenant ON update_rollouts (tenant, created_at);
CREATE TABLE update_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, rollout TEXT NOT NULL REFERENCES update_rollouts(id),
    terminal TEXT NOT NULL, store TEXT NOT NULL, stage INTEGER NOT NULL, status TEXT NOT NULL,
    last_feedback TEXT, updated_at INTEGER NOT NULL);
CREATE INDEX update_actions_by_terminal ON update_actions (terminal, status);
CREATE INDEX update_actions_by_rollout ON update_actions (rollout, stage);
CREATE TABLE update_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, action INTEGER NOT NULL REFERENCES update_actions(id),
    note TEXT NOT NULL);
CREATE TABLE update_terminal_reports (
    terminal TEXT PRIMARY KEY, attributes TEXT NOT NULL, requested INTEGER NOT NULL,
    updated_at INTEGER);
CREATE TABLE update_store_windows (store TEXT PRIMARY KEY, window TEXT NOT NULL);
"#];

fn db(e: rusqlite::Error) -> StorageError {
    StorageError::Database(e.to_string())
}

fn json_err(e: serde_json::Error) -> StorageError {
    StorageError::Database(format!("a stored update record could not be read: {e}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(json_err)
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(json_err)
}

fn to_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Creates or upgrades the update tables; called when the fleet database is opened.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction().map_err(db)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS update_schema (version INTEGER NOT NULL)")
        .map_err(db)?;
    let applied: Option<i64> = tx
        .query_row("SELECT version FROM update_schema", [], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "the update tables are at schema version {applied}, newer than this fleet server \
             ({}); run the newer server",
            MIGRATIONS.len()
        )));
    }
    for sql in MIGRATIONS.iter().skip(applied) {
        tx.execute_batch(sql).map_err(db)?;
    }
    let version = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    tx.execute("DELETE FROM update_schema", []).map_err(db)?;
    tx.execute("INSERT INTO update_schema (version) VALUES (?1)", [version])
        .map_err(db)?;
    tx.commit().map_err(db)
}

const BUNDLE_COLUMNS: &str =
    "id, filename, version, compatible, format, size, sha1, md5, sha256, uploaded_at, uploaded_by";

fn bundle_from_row(r: &Row<'_>) -> rusqlite::Result<BundleRecord> {
    Ok(BundleRecord {
        id: r.get(0)?,
        filename: r.get(1)?,
        version: r.get(2)?,
        compatible: r.get(3)?,
        format: r.get(4)?,
        size: from_sql(r.get(5)?),
        sha1: r.get(6)?,
        md5: r.get(7)?,
        sha256: r.get(8)?,
        uploaded_at: Timestamp::from_unix_ms(r.get(9)?),
        uploaded_by: r.get(10)?,
    })
}

const ROLLOUT_COLUMNS: &str =
    "id, tenant, bundle, target, plan, state, current_stage, halt_reason, created_at, created_by";

type RawRollout = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    i64,
    String,
);

fn raw_rollout(r: &Row<'_>) -> rusqlite::Result<RawRollout> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn rollout_from_raw(raw: RawRollout) -> Result<RolloutRecord, StorageError> {
    let (id, tenant, bundle, target, plan, state, stage, reason, created_at, created_by) = raw;
    Ok(RolloutRecord {
        id,
        tenant: TenantId::new(tenant),
        bundle,
        target: from_json(&target)?,
        plan: from_json(&plan)?,
        state: RolloutState::parse(&state)
            .ok_or_else(|| StorageError::Database(format!("unknown rollout state {state}")))?,
        current_stage: u32::try_from(stage).unwrap_or(0),
        halt_reason: reason,
        created_at: Timestamp::from_unix_ms(created_at),
        created_by,
    })
}

const ACTION_COLUMNS: &str =
    "id, rollout, terminal, store, stage, status, last_feedback, updated_at";

type RawAction = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    i64,
);

fn raw_action(r: &Row<'_>) -> rusqlite::Result<RawAction> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn action_from_raw(raw: RawAction) -> Result<ActionRecord, StorageError> {
    let (id, rollout, terminal, store, stage, status, feedback, updated_at) = raw;
    Ok(ActionRecord {
        id: from_sql(id),
        rollout,
        terminal: DeviceId::new(terminal),
        store: StoreId::new(store),
        stage: u32::try_from(stage).unwrap_or(0),
        status: ActionStatus::parse(&status)
            .ok_or_else(|| StorageError::Database(format!("unknown action status {status}")))?,
        last_feedback: feedback.as_deref().map(from_json).transpose()?,
        updated_at: Timestamp::from_unix_ms(updated_at),
    })
}

fn load_action(conn: &Connection, id: u64) -> Result<Option<ActionRecord>, StorageError> {
    conn.query_row(
        &format!("SELECT {ACTION_COLUMNS} FROM update_actions WHERE id = ?1"),
        [to_sql(id)],
        raw_action,
    )
    .optional()
    .map_err(db)?
    .map(action_from_raw)
    .transpose()
}

fn load_rollout(conn: &Connection, id: &str) -> Result<Option<RolloutRecord>, StorageError> {
    conn.query_row(
        &format!("SELECT {ROLLOUT_COLUMNS} FROM update_rollouts WHERE id = ?1"),
        [id],
        raw_rollout,
    )
    .optional()
    .map_err(db)?
    .map(rollout_from_raw)
    .transpose()
}

fn load_report(conn: &Connection, terminal: &DeviceId) -> Result<TerminalReport, StorageError> {
    let row: Option<(String, bool, Option<i64>)> = conn
        .prepare_cached(
            "SELECT attributes, requested, updated_at FROM update_terminal_reports \
             WHERE terminal = ?1",
        )
        .and_then(|mut s| {
            s.query_row([terminal.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(db)?;
    match row {
        // A terminal that never reported is asked to.
        None => Ok(TerminalReport {
            requested: true,
            ..TerminalReport::default()
        }),
        Some((attributes, requested, at)) => Ok(TerminalReport {
            attributes: from_json(&attributes)?,
            requested,
            updated_at: at.map(Timestamp::from_unix_ms),
        }),
    }
}

const UNFINISHED: &str = "status NOT IN ('succeeded', 'failed', 'canceled')";

impl UpdateStorage for SqliteStorage {
    fn save_bundle(&self, bundle: &BundleRecord) -> Result<(), StorageError> {
        let inner = self.lock()?;
        let existing: Option<String> = inner
            .conn
            .query_row(
                "SELECT id FROM update_bundles WHERE sha256 = ?1",
                [&bundle.sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        if let Some(id) = existing {
            return Err(StorageError::Conflict(format!(
                "this bundle was uploaded already, as {id}"
            )));
        }
        inner
            .conn
            .execute(
                &format!(
                    "INSERT INTO update_bundles ({BUNDLE_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    bundle.id,
                    bundle.filename,
                    bundle.version,
                    bundle.compatible,
                    bundle.format,
                    to_sql(bundle.size),
                    bundle.sha1,
                    bundle.md5,
                    bundle.sha256,
                    bundle.uploaded_at.unix_ms(),
                    bundle.uploaded_by
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn bundle(&self, id: &str) -> Result<Option<BundleRecord>, StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .query_row(
                &format!("SELECT {BUNDLE_COLUMNS} FROM update_bundles WHERE id = ?1"),
                [id],
                bundle_from_row,
            )
            .optional()
            .map_err(db)
    }

    fn bundles(&self) -> Result<Vec<BundleRecord>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(&format!(
                "SELECT {BUNDLE_COLUMNS} FROM update_bundles ORDER BY uploaded_at, id"
            ))
            .map_err(db)?;
        let rows = statement
            .query_map([], bundle_from_row)
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        Ok(rows)
    }

    fn create_rollout(
        &self,
        rollout: &RolloutRecord,
        actions: &[(DeviceId, StoreId, u32)],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        for (terminal, _, _) in actions {
            let busy: Option<String> = tx
                .query_row(
                    &format!(
                        "SELECT rollout FROM update_actions WHERE terminal = ?1 AND {UNFINISHED} \
                         LIMIT 1"
                    ),
                    [terminal.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if let Some(other) = busy {
                return Err(StorageError::Conflict(format!(
                    "terminal {terminal} is still in rollout {other}; wait for it to finish or \
                     cancel it first"
                )));
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO update_rollouts ({ROLLOUT_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                rollout.id,
                rollout.tenant.as_str(),
                rollout.bundle,
                to_json(&rollout.target)?,
                to_json(&rollout.plan)?,
                rollout.state.as_str(),
                i64::from(rollout.current_stage),
                rollout.halt_reason,
                rollout.created_at.unix_ms(),
                rollout.created_by
            ],
        )
        .map_err(db)?;
        for (terminal, store, stage) in actions {
            tx.execute(
                "INSERT INTO update_actions (rollout, terminal, store, stage, status, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                params![
                    rollout.id,
                    terminal.as_str(),
                    store.as_str(),
                    i64::from(*stage),
                    now.unix_ms()
                ],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn rollout(&self, id: &str) -> Result<Option<RolloutRecord>, StorageError> {
        let inner = self.lock()?;
        load_rollout(&inner.conn, id)
    }

    fn rollouts(&self, tenant: &TenantId) -> Result<Vec<RolloutRecord>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(&format!(
                "SELECT {ROLLOUT_COLUMNS} FROM update_rollouts WHERE tenant = ?1 \
                 ORDER BY created_at, id"
            ))
            .map_err(db)?;
        let raws = statement
            .query_map([tenant.as_str()], raw_rollout)
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        raws.into_iter().map(rollout_from_raw).collect()
    }

    fn rollout_actions(&self, rollout: &str) -> Result<Vec<ActionRecord>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(&format!(
                "SELECT {ACTION_COLUMNS} FROM update_actions WHERE rollout = ?1 \
                 ORDER BY stage, terminal"
            ))
            .map_err(db)?;
        let raws = statement
            .query_map([rollout], raw_action)
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        raws.into_iter().map(action_from_raw).collect()
    }

    fn advance_rollout(
        &self,
        rollout: &str,
        from_stage: u32,
        state: RolloutState,
        stage: u32,
        reason: Option<&str>,
    ) -> Result<bool, StorageError> {
        let inner = self.lock()?;
        let changed = inner
            .conn
            .execute(
                "UPDATE update_rollouts SET state = ?1, current_stage = ?2, halt_reason = ?3 \
                 WHERE id = ?4 AND state = 'running' AND current_stage = ?5",
                params![
                    state.as_str(),
                    i64::from(stage),
                    reason,
                    rollout,
                    i64::from(from_stage)
                ],
            )
            .map_err(db)?;
        Ok(changed == 1)
    }

    fn cancel_rollout(&self, rollout: &str, now: Timestamp) -> Result<(), StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        let changed = tx
            .execute(
                "UPDATE update_rollouts SET state = 'canceled' \
                 WHERE id = ?1 AND state IN ('running', 'halted')",
                [rollout],
            )
            .map_err(db)?;
        if changed == 0 {
            return Err(StorageError::Conflict(format!(
                "rollout {rollout} is already finished or cancelled"
            )));
        }
        tx.execute(
            "UPDATE update_actions SET status = 'canceled', updated_at = ?2 \
             WHERE rollout = ?1 AND status = 'pending' AND last_feedback IS NULL",
            params![rollout, now.unix_ms()],
        )
        .map_err(db)?;
        tx.execute(
            &format!(
                "UPDATE update_actions SET status = 'canceling', updated_at = ?2 \
                 WHERE rollout = ?1 AND {UNFINISHED}"
            ),
            params![rollout, now.unix_ms()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn open_actions(
        &self,
        terminal: &DeviceId,
    ) -> Result<Vec<(ActionRecord, RolloutRecord)>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare(&format!(
                "SELECT {ACTION_COLUMNS} FROM update_actions WHERE terminal = ?1 AND {UNFINISHED} \
                 ORDER BY id"
            ))
            .map_err(db)?;
        let raws = statement
            .query_map([terminal.as_str()], raw_action)
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        let mut out = Vec::new();
        for raw in raws {
            let action = action_from_raw(raw)?;
            let rollout = load_rollout(&inner.conn, &action.rollout)?.ok_or_else(|| {
                StorageError::Database(format!("action {} has no rollout", action.id))
            })?;
            out.push((action, rollout));
        }
        Ok(out)
    }

    fn action(&self, id: u64) -> Result<Option<ActionRecord>, StorageError> {
        let inner = self.lock()?;
        load_action(&inner.conn, id)
    }

    fn terminal_updates(
        &self,
        terminals: &[DeviceId],
    ) -> Result<Vec<TerminalUpdate>, StorageError> {
        let inner = self.lock()?;
        let mut latest = inner
            .conn
            .prepare_cached(&format!(
                "SELECT {ACTION_COLUMNS} FROM update_actions WHERE terminal = ?1 \
                 ORDER BY id DESC LIMIT 1"
            ))
            .map_err(db)?;
        let mut out = Vec::with_capacity(terminals.len());
        for terminal in terminals {
            let action = latest
                .query_row([terminal.as_str()], raw_action)
                .optional()
                .map_err(db)?
                .map(action_from_raw)
                .transpose()?;
            out.push(TerminalUpdate {
                terminal: terminal.clone(),
                report: load_report(&inner.conn, terminal)?,
                action,
            });
        }
        Ok(out)
    }

    fn record_feedback(
        &self,
        action: u64,
        on: FeedbackOn,
        note: &FeedbackNote,
    ) -> Result<ActionRecord, StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        let current = load_action(&tx, action)?
            .ok_or_else(|| StorageError::NotFound(format!("no action {action}")))?;
        let status = apply_feedback(current.status, on, note.execution, note.finished);
        let text = to_json(note)?;
        tx.execute(
            "INSERT INTO update_feedback (action, note) VALUES (?1, ?2)",
            params![to_sql(action), text],
        )
        .map_err(db)?;
        tx.execute(
            "UPDATE update_actions SET status = ?1, last_feedback = ?2, updated_at = ?3 \
             WHERE id = ?4",
            params![status.as_str(), text, note.at.unix_ms(), to_sql(action)],
        )
        .map_err(db)?;
        let updated = load_action(&tx, action)?
            .ok_or_else(|| StorageError::NotFound(format!("no action {action}")))?;
        tx.commit().map_err(db)?;
        Ok(updated)
    }

    fn feedback_history(&self, action: u64) -> Result<Vec<FeedbackNote>, StorageError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare("SELECT note FROM update_feedback WHERE action = ?1 ORDER BY id")
            .map_err(db)?;
        let texts = statement
            .query_map([to_sql(action)], |r| r.get::<_, String>(0))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        texts.iter().map(|t| from_json(t)).collect()
    }

    fn terminal_report(&self, terminal: &DeviceId) -> Result<TerminalReport, StorageError> {
        let inner = self.lock()?;
        load_report(&inner.conn, terminal)
    }

    fn save_config_data(
        &self,
        terminal: &DeviceId,
        mode: ConfigMode,
        data: &serde_json::Map<String, serde_json::Value>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction().map_err(db)?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT attributes FROM update_terminal_reports WHERE terminal = ?1",
                [terminal.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let mut attributes: serde_json::Map<String, serde_json::Value> = match stored {
            Some(text) => from_json(&text)?,
            None => serde_json::Map::new(),
        };
        match mode {
            ConfigMode::Replace => attributes = data.clone(),
            ConfigMode::Merge => attributes.extend(data.clone()),
            ConfigMode::Remove => attributes.retain(|key, _| !data.contains_key(key)),
        }
        tx.execute(
            "INSERT INTO update_terminal_reports (terminal, attributes, requested, updated_at) \
             VALUES (?1, ?2, 0, ?3) ON CONFLICT (terminal) DO UPDATE SET \
             attributes = excluded.attributes, requested = 0, updated_at = excluded.updated_at",
            params![terminal.as_str(), to_json(&attributes)?, now.unix_ms()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn request_config_data(&self, terminal: &DeviceId) -> Result<(), StorageError> {
        let inner = self.lock()?;
        inner
            .conn
            .execute(
                "INSERT INTO update_terminal_reports (terminal, attributes, requested) \
                 VALUES (?1, '{}', 1) ON CONFLICT (terminal) DO UPDATE SET requested = 1",
                [terminal.as_str()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn set_store_window(
        &self,
        store: &StoreId,
        window: Option<&Window>,
    ) -> Result<(), StorageError> {
        let inner = self.lock()?;
        match window {
            None => inner
                .conn
                .execute(
                    "DELETE FROM update_store_windows WHERE store = ?1",
                    [store.as_str()],
                )
                .map_err(db)?,
            Some(window) => inner
                .conn
                .execute(
                    "INSERT INTO update_store_windows (store, window) VALUES (?1, ?2) \
                     ON CONFLICT (store) DO UPDATE SET window = excluded.window",
                    params![store.as_str(), to_json(window)?],
                )
                .map_err(db)?,
        };
        Ok(())
    }

    fn store_window(&self, store: &StoreId) -> Result<Option<Window>, StorageError> {
        let inner = self.lock()?;
        let text: Option<String> = inner
            .conn
            .query_row(
                "SELECT window FROM update_store_windows WHERE store = ?1",
                [store.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        text.as_deref().map(from_json).transpose()
    }
}
