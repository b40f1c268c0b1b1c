//! [`UpdateStorage`] on PostgreSQL, in the `update_*` tables of
//! `migrations/postgres/0002_updates.sql`: the same records and the same answers as
//! [`super::sqlite`], so the update test suites run against both.
//!
//! Several fleet processes may share the database, so what SQLite's single writer gives for
//! free is asked of PostgreSQL explicitly: a partial unique index keeps a terminal in one
//! unfinished rollout even when two rollouts are created at once; feedback and config data
//! lock their row before reading it, so two answers from the same terminal cannot lose one
//! another; a rollout moves on from a stage only if it is still at that stage.
//!
//! It must not touch the fleet's own tables: terminals, stores and accounts stay
//! [`crate::storage::FleetStorage`]'s.

use std::collections::HashMap;

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use postgres::Row;

use super::rollout::{FeedbackOn, Window, apply_feedback};
use super::storage::{
    ActionRecord, BundleRecord, ConfigMode, FeedbackNote, RolloutRecord, RolloutState,
    TerminalReport, TerminalUpdate, UpdateStorage,
};
use crate::postgres::{PostgresStorage, Step, Tx, UniqueRace};
use crate::storage::StorageError;

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

fn stage_to_sql(stage: u32) -> i32 {
    i32::try_from(stage).unwrap_or(i32::MAX)
}

fn stage_from_sql(stage: i32) -> u32 {
    u32::try_from(stage).unwrap_or(0)
}

fn bundle_from_row(r: &Row) -> Step<BundleRecord> {
    Ok(BundleRecord {
        id: r.try_get(0)?,
        filename: r.try_get(1)?,
        version: r.try_get(2)?,
        compatible: r.try_get(3)?,
        format: r.try_get(4)?,
        size: from_sql(r.try_get(5)?),
        sha1: r.try_get(6)?,
        md5: r.try_get(7)?,
        sha256: r.try_get(8)?,
        uploaded_at: Timestamp::from_unix_ms(r.try_get(9)?),
        uploaded_by: r.try_get(10)?,
    })
}

fn rollout_from_row(r: &Row) -> Step<RolloutRecord> {
    let state: String = r.try_get(5)?;
    Ok(RolloutRecord {
        id: r.try_get(0)?,
        tenant: TenantId::new(r.try_get::<_, String>(1)?),
        bundle: r.try_get(2)?,
        target: from_json(&r.try_get::<_, String>(3)?)?,
        plan: from_json(&r.try_get::<_, String>(4)?)?,
        state: RolloutState::parse(&state)
            .ok_or_else(|| StorageError::Database(format!("unknown rollout state {state}")))?,
        current_stage: stage_from_sql(r.try_get(6)?),
        halt_reason: r.try_get(7)?,
        created_at: Timestamp::from_unix_ms(r.try_get(8)?),
        created_by: r.try_get(9)?,
    })
}

fn action_from_row(r: &Row) -> Step<ActionRecord> {
    let status: String = r.try_get(5)?;
    let feedback: Option<String> = r.try_get(6)?;
    Ok(ActionRecord {
        id: from_sql(r.try_get(0)?),
        rollout: r.try_get(1)?,
        terminal: DeviceId::new(r.try_get::<_, String>(2)?),
        store: StoreId::new(r.try_get::<_, String>(3)?),
        stage: stage_from_sql(r.try_get(4)?),
        status: super::rollout::ActionStatus::parse(&status)
            .ok_or_else(|| StorageError::Database(format!("unknown action status {status}")))?,
        last_feedback: feedback.as_deref().map(from_json).transpose()?,
        updated_at: Timestamp::from_unix_ms(r.try_get(7)?),
    })
}

/// The report of a terminal that never reported: it is asked to.
fn unreported() -> TerminalReport {
    TerminalReport {
        requested: true,
        ..TerminalReport::default()
    }
}

/// A report from `attributes, requested, updated_at` starting at column `first`.
fn report_from_row(r: &Row, first: usize) -> Step<TerminalReport> {
    Ok(TerminalReport {
        attributes: from_json(&r.try_get::<_, String>(first)?)?,
        requested: r.try_get(first + 1)?,
        updated_at: r
            .try_get::<_, Option<i64>>(first + 2)?
            .map(Timestamp::from_unix_ms),
    })
}

fn rows<T>(found: &[Row], read: impl Fn(&Row) -> Step<T>) -> Step<Vec<T>> {
    found.iter().map(read).collect()
}

const SELECT_BUNDLE: &str = "SELECT id, filename, version, compatible, format, size, sha1, md5, \
     sha256, uploaded_at, uploaded_by FROM update_bundles";

fn load_rollout(tx: &mut Tx<'_>, id: &str) -> Step<Option<RolloutRecord>> {
    tx.query_opt(
        "SELECT id, tenant, bundle, target, plan, state, current_stage, halt_reason, created_at, \
         created_by FROM update_rollouts WHERE id = $1",
        &[&id],
    )?
    .as_ref()
    .map(rollout_from_row)
    .transpose()
}

fn load_action(tx: &mut Tx<'_>, id: u64, for_update: bool) -> Step<Option<ActionRecord>> {
    let sql = if for_update {
        "SELECT id, rollout, terminal, store, stage, status, last_feedback, updated_at \
         FROM update_actions WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT id, rollout, terminal, store, stage, status, last_feedback, updated_at \
         FROM update_actions WHERE id = $1"
    };
    tx.query_opt(sql, &[&to_sql(id)])?
        .as_ref()
        .map(action_from_row)
        .transpose()
}

impl UpdateStorage for PostgresStorage {
    fn save_bundle(&self, bundle: &BundleRecord) -> Result<(), StorageError> {
        self.transaction(UniqueRace::Retry, |tx| {
            let existing = tx.query_opt(
                "SELECT id FROM update_bundles WHERE sha256 = $1",
                &[&bundle.sha256],
            )?;
            if let Some(row) = existing {
                let id: String = row.try_get(0)?;
                return Err(StorageError::Conflict(format!(
                    "this bundle was uploaded already, as {id}"
                ))
                .into());
            }
            tx.execute(
                "INSERT INTO update_bundles (id, filename, version, compatible, format, size, \
                 sha1, md5, sha256, uploaded_at, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &bundle.id,
                    &bundle.filename,
                    &bundle.version,
                    &bundle.compatible,
                    &bundle.format,
                    &to_sql(bundle.size),
                    &bundle.sha1,
                    &bundle.md5,
                    &bundle.sha256,
                    &bundle.uploaded_at.unix_ms(),
                    &bundle.uploaded_by,
                ],
            )?;
            Ok(())
        })
    }

    fn bundle(&self, id: &str) -> Result<Option<BundleRecord>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            tx.query_opt(
                "SELECT id, filename, version, compatible, format, size, sha1, md5, sha256, \
                 uploaded_at, uploaded_by FROM update_bundles WHERE id = $1",
                &[&id],
            )?
            .as_ref()
            .map(bundle_from_row)
            .transpose()
        })
    }

    fn bundles(&self) -> Result<Vec<BundleRecord>, StorageError> {
        self.read(|client| {
            let found = client.query(&format!("{SELECT_BUNDLE} ORDER BY uploaded_at, id"), &[])?;
            rows(&found, bundle_from_row)
        })
    }

    fn create_rollout(
        &self,
        rollout: &RolloutRecord,
        actions: &[(DeviceId, StoreId, u32)],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let target = to_json(&rollout.target)?;
        let plan = to_json(&rollout.plan)?;
        // A race with another rollout for the same terminal ends in the unique index; the
        // next attempt finds that rollout and refuses with its name.
        self.transaction(UniqueRace::Retry, |tx| {
            for (terminal, _, _) in actions {
                let busy = tx.query_opt(
                    "SELECT rollout FROM update_actions WHERE terminal = $1 \
                     AND status NOT IN ('succeeded', 'failed', 'canceled') LIMIT 1",
                    &[&terminal.as_str()],
                )?;
                if let Some(row) = busy {
                    let other: String = row.try_get(0)?;
                    return Err(StorageError::Conflict(format!(
                        "terminal {terminal} is still in rollout {other}; wait for it to finish \
                         or cancel it first"
                    ))
                    .into());
                }
            }
            tx.execute(
                "INSERT INTO update_rollouts (id, tenant, bundle, target, plan, state, \
                 current_stage, halt_reason, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    &rollout.id,
                    &rollout.tenant.as_str(),
                    &rollout.bundle,
                    &target,
                    &plan,
                    &rollout.state.as_str(),
                    &stage_to_sql(rollout.current_stage),
                    &rollout.halt_reason,
                    &rollout.created_at.unix_ms(),
                    &rollout.created_by,
                ],
            )?;
            for (terminal, store, stage) in actions {
                tx.execute(
                    "INSERT INTO update_actions (rollout, terminal, store, stage, status, \
                     updated_at) VALUES ($1, $2, $3, $4, 'pending', $5)",
                    &[
                        &rollout.id,
                        &terminal.as_str(),
                        &store.as_str(),
                        &stage_to_sql(*stage),
                        &now.unix_ms(),
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn rollout(&self, id: &str) -> Result<Option<RolloutRecord>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| load_rollout(tx, id))
    }

    fn rollouts(&self, tenant: &TenantId) -> Result<Vec<RolloutRecord>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let found = tx.query(
                "SELECT id, tenant, bundle, target, plan, state, current_stage, halt_reason, \
                 created_at, created_by FROM update_rollouts WHERE tenant = $1 \
                 ORDER BY created_at, id",
                &[&tenant.as_str()],
            )?;
            rows(&found, rollout_from_row)
        })
    }

    fn rollout_actions(&self, rollout: &str) -> Result<Vec<ActionRecord>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let found = tx.query(
                "SELECT id, rollout, terminal, store, stage, status, last_feedback, updated_at \
                 FROM update_actions WHERE rollout = $1 ORDER BY stage, terminal",
                &[&rollout],
            )?;
            rows(&found, action_from_row)
        })
    }

    fn advance_rollout(
        &self,
        rollout: &str,
        from_stage: u32,
        state: RolloutState,
        stage: u32,
        reason: Option<&str>,
    ) -> Result<bool, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let changed = tx.execute(
                "UPDATE update_rollouts SET state = $1, current_stage = $2, halt_reason = $3 \
                 WHERE id = $4 AND state = 'running' AND current_stage = $5",
                &[
                    &state.as_str(),
                    &stage_to_sql(stage),
                    &reason,
                    &rollout,
                    &stage_to_sql(from_stage),
                ],
            )?;
            Ok(changed == 1)
        })
    }

    fn cancel_rollout(&self, rollout: &str, now: Timestamp) -> Result<(), StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let changed = tx.execute(
                "UPDATE update_rollouts SET state = 'canceled' \
                 WHERE id = $1 AND state IN ('running', 'halted')",
                &[&rollout],
            )?;
            if changed == 0 {
                return Err(StorageError::Conflict(format!(
                    "rollout {rollout} is already finished or cancelled"
                ))
                .into());
            }
            tx.execute(
                "UPDATE update_actions SET status = 'canceled', updated_at = $2 \
                 WHERE rollout = $1 AND status = 'pending' AND last_feedback IS NULL",
                &[&rollout, &now.unix_ms()],
            )?;
            tx.execute(
                "UPDATE update_actions SET status = 'canceling', updated_at = $2 \
                 WHERE rollout = $1 AND status NOT IN ('succeeded', 'failed', 'canceled')",
                &[&rollout, &now.unix_ms()],
            )?;
            Ok(())
        })
    }

    fn open_actions(
        &self,
        terminal: &DeviceId,
    ) -> Result<Vec<(ActionRecord, RolloutRecord)>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let found = tx.query(
                "SELECT id, rollout, terminal, store, stage, status, last_feedback, updated_at \
                 FROM update_actions WHERE terminal = $1 \
                 AND status NOT IN ('succeeded', 'failed', 'canceled') ORDER BY id",
                &[&terminal.as_str()],
            )?;
            let mut out = Vec::new();
            for action in rows(&found, action_from_row)? {
                let rollout = load_rollout(tx, &action.rollout)?.ok_or_else(|| {
                    StorageError::Database(format!("action {} has no rollout", action.id))
                })?;
                out.push((action, rollout));
            }
            Ok(out)
        })
    }

    fn action(&self, id: u64) -> Result<Option<ActionRecord>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| load_action(tx, id, false))
    }

    fn terminal_updates(
        &self,
        terminals: &[DeviceId],
    ) -> Result<Vec<TerminalUpdate>, StorageError> {
        let ids: Vec<&str> = terminals.iter().map(DeviceId::as_str).collect();
        self.transaction(UniqueRace::Refuse, |tx| {
            let mut reports = HashMap::new();
            for row in tx.query(
                "SELECT terminal, attributes, requested, updated_at FROM update_terminal_reports \
                 WHERE terminal = ANY($1)",
                &[&ids],
            )? {
                let terminal: String = row.try_get(0)?;
                reports.insert(terminal, report_from_row(&row, 1)?);
            }
            let mut actions = HashMap::new();
            for row in tx.query(
                "SELECT DISTINCT ON (terminal) id, rollout, terminal, store, stage, status, \
                 last_feedback, updated_at FROM update_actions WHERE terminal = ANY($1) \
                 ORDER BY terminal, id DESC",
                &[&ids],
            )? {
                let action = action_from_row(&row)?;
                actions.insert(action.terminal.clone(), action);
            }
            Ok(terminals
                .iter()
                .map(|terminal| TerminalUpdate {
                    terminal: terminal.clone(),
                    report: reports
                        .get(terminal.as_str())
                        .cloned()
                        .unwrap_or_else(unreported),
                    action: actions.get(terminal).cloned(),
                })
                .collect())
        })
    }

    fn record_feedback(
        &self,
        action: u64,
        on: FeedbackOn,
        note: &FeedbackNote,
    ) -> Result<ActionRecord, StorageError> {
        let text = to_json(note)?;
        self.transaction(UniqueRace::Refuse, |tx| {
            // Locked, so that two answers of the same terminal apply one after the other.
            let current = load_action(tx, action, true)?
                .ok_or_else(|| StorageError::NotFound(format!("no action {action}")))?;
            let status = apply_feedback(current.status, on, note.execution, note.finished);
            tx.execute(
                "INSERT INTO update_feedback (action, note) VALUES ($1, $2)",
                &[&to_sql(action), &text],
            )?;
            tx.execute(
                "UPDATE update_actions SET status = $1, last_feedback = $2, updated_at = $3 \
                 WHERE id = $4",
                &[&status.as_str(), &text, &note.at.unix_ms(), &to_sql(action)],
            )?;
            Ok(ActionRecord {
                status,
                last_feedback: Some(note.clone()),
                updated_at: note.at,
                ..current
            })
        })
    }

    fn feedback_history(&self, action: u64) -> Result<Vec<FeedbackNote>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let found = tx.query(
                "SELECT note FROM update_feedback WHERE action = $1 ORDER BY id",
                &[&to_sql(action)],
            )?;
            rows(&found, |row| Ok(from_json(&row.try_get::<_, String>(0)?)?))
        })
    }

    fn terminal_report(&self, terminal: &DeviceId) -> Result<TerminalReport, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let row = tx.query_opt(
                "SELECT attributes, requested, updated_at FROM update_terminal_reports \
                 WHERE terminal = $1",
                &[&terminal.as_str()],
            )?;
            Ok(match row {
                None => unreported(),
                Some(row) => report_from_row(&row, 0)?,
            })
        })
    }

    fn save_config_data(
        &self,
        terminal: &DeviceId,
        mode: ConfigMode,
        data: &serde_json::Map<String, serde_json::Value>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.transaction(UniqueRace::Retry, |tx| {
            tx.execute(
                "INSERT INTO update_terminal_reports (terminal, attributes, requested) \
                 VALUES ($1, '{}', TRUE) ON CONFLICT (terminal) DO NOTHING",
                &[&terminal.as_str()],
            )?;
            // Locked, so that two reports merged at once both count.
            let stored: String = tx
                .query_one(
                    "SELECT attributes FROM update_terminal_reports WHERE terminal = $1 \
                     FOR UPDATE",
                    &[&terminal.as_str()],
                )?
                .try_get(0)?;
            let mut attributes: serde_json::Map<String, serde_json::Value> = from_json(&stored)?;
            match mode {
                ConfigMode::Replace => attributes = data.clone(),
                ConfigMode::Merge => attributes.extend(data.clone()),
                ConfigMode::Remove => attributes.retain(|key, _| !data.contains_key(key)),
            }
            tx.execute(
                "UPDATE update_terminal_reports SET attributes = $2, requested = FALSE, \
                 updated_at = $3 WHERE terminal = $1",
                &[&terminal.as_str(), &to_json(&attributes)?, &now.unix_ms()],
            )?;
            Ok(())
        })
    }

    fn request_config_data(&self, terminal: &DeviceId) -> Result<(), StorageError> {
        self.transaction(UniqueRace::Retry, |tx| {
            tx.execute(
                "INSERT INTO update_terminal_reports (terminal, attributes, requested) \
                 VALUES ($1, '{}', TRUE) ON CONFLICT (terminal) DO UPDATE SET requested = TRUE",
                &[&terminal.as_str()],
            )?;
            Ok(())
        })
    }

    fn set_store_window(
        &self,
        store: &StoreId,
        window: Option<&Window>,
    ) -> Result<(), StorageError> {
        let text = window.map(to_json).transpose()?;
        self.transaction(UniqueRace::Retry, |tx| {
            match &text {
                None => tx.execute(
                    "DELETE FROM update_store_windows WHERE store = $1",
                    &[&store.as_str()],
                )?,
                Some(text) => tx.execute(
                    "INSERT INTO update_store_windows (store, store_window) VALUES ($1, $2) \
                     ON CONFLICT (store) DO UPDATE SET store_window = EXCLUDED.store_window",
                    &[&store.as_str(), text],
                )?,
            };
            Ok(())
        })
    }

    fn store_window(&self, store: &StoreId) -> Result<Option<Window>, StorageError> {
        self.transaction(UniqueRace::Refuse, |tx| {
            let row = tx.query_opt(
                "SELECT store_window FROM update_store_windows WHERE store = $1",
                &[&store.as_str()],
            )?;
            Ok(row
                .map(|row| row.try_get::<_, String>(0))
                .transpose()?
                .as_deref()
                .map(from_json)
                .transpose()?)
        })
    }
}
