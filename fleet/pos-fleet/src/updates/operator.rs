//! The operator side of updates under `/api/v1`: bundle upload (super-admin only), rollouts
//! (create, status, cancel) and store maintenance windows. Each change is a function of its
//! own (`accept_bundle`, `start_rollout`, `stop_rollout`, `set_store_window`) that checks the
//! account's role and tenant itself, so the dashboard's forms take the same path.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use futures_util::{Stream, StreamExt};
use md5::Md5;
use pos_core::id::{DeviceId, StoreId, TenantId};
use pos_sync::wire::ErrorCode;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::bundle::{self, BundleRefusal};
use super::rollout::{self, Decision, Plan, StageTally, Window};
use super::storage::{
    ActionRecord, BundleRecord, FeedbackNote, RolloutRecord, RolloutState, Target,
};
use super::{UpdatesState, blocking};
use crate::api::{self, ApiError, now};
use crate::auth;
use crate::storage::{Account, AccountRole, StoreRecord, TerminalRecord};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MalformedRequest,
        message,
    )
}

/// The body streamed to a file in the bundles directory, with its size and hashes.
struct Received {
    path: std::path::PathBuf,
    size: u64,
    sha1: String,
    md5: String,
    sha256: String,
}

/// A size in words: `2 GiB`, `300 KiB`, `512 bytes`.
pub(crate) fn size_text(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let tenths = bytes * 10 / size;
            return if tenths.is_multiple_of(10) {
                format!("{} {unit}", tenths / 10)
            } else {
                format!("{}.{} {unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{bytes} bytes")
}

async fn receive<E: std::fmt::Display>(
    state: &UpdatesState,
    mut chunks: impl Stream<Item = Result<Bytes, E>> + Unpin,
    max: u64,
) -> Result<Received, ApiError> {
    let failed = |e: std::io::Error| {
        eprintln!("pos-fleet: cannot store an uploaded bundle: {e}");
        ApiError::internal("the fleet could not store the upload; nothing was kept, try again")
    };
    tokio::fs::create_dir_all(&state.bundles_dir)
        .await
        .map_err(failed)?;
    let name = auth::random_id("upload").map_err(|e| ApiError::internal(e.to_string()))?;
    let path = state.bundles_dir.join(format!("{name}.part"));
    let mut file = tokio::fs::File::create(&path).await.map_err(failed)?;
    let (mut sha1, mut md5, mut sha256) = (Sha1::new(), Md5::new(), Sha256::new());
    let mut size = 0u64;
    let outcome: Result<(), ApiError> = async {
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::bad_request(format!("the upload was interrupted: {e}; send it again"))
            })?;
            size += chunk.len() as u64;
            if size > max {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::BodyTooLarge,
                    format!(
                        "the file is larger than the fleet accepts for a bundle ({})",
                        size_text(max)
                    ),
                ));
            }
            sha1.update(&chunk);
            md5.update(&chunk);
            sha256.update(&chunk);
            file.write_all(&chunk).await.map_err(failed)?;
        }
        file.sync_all().await.map_err(failed)
    }
    .await;
    if let Err(error) = outcome {
        remove(&path).await;
        return Err(error);
    }
    Ok(Received {
        path,
        size,
        sha1: hex(&sha1.finalize()),
        md5: hex(&md5.finalize()),
        sha256: hex(&sha256.finalize()),
    })
}

async fn remove(path: &std::path::Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        eprintln!("pos-fleet: cannot remove {}: {e}", path.display());
    }
}

pub(crate) async fn upload_bundle(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<BundleRecord>), ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    let record = accept_bundle(&state, &account, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Takes a bundle upload for `account`: streams it to disk with its hashes, checks it and
/// records it; a refused one leaves nothing behind. The API and the dashboard's form both
/// come through here.
pub(crate) async fn accept_bundle<E: std::fmt::Display>(
    state: &UpdatesState,
    account: &Account,
    chunks: impl Stream<Item = Result<Bytes, E>> + Unpin,
) -> Result<BundleRecord, ApiError> {
    if account.role != AccountRole::SuperAdmin {
        return Err(ApiError::forbidden(
            "only the fleet operator (super-admin) uploads update bundles",
        ));
    }
    let config = state.config.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            "this fleet has no update keyring configured; start it with --update-keyring",
        )
    })?;
    let received = receive(state, chunks, config.bundle_bytes_max).await?;
    let path = received.path.clone();
    let work = state.bundles_dir.join(format!(
        "{}.check",
        path.file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default()
    ));
    let policy = config.policy.clone();
    let checked = {
        let (path, work) = (path.clone(), work.clone());
        tokio::task::spawn_blocking(move || {
            let result = bundle::check(&path, &policy, &work);
            if let Err(e) = std::fs::remove_dir_all(&work) {
                eprintln!("pos-fleet: cannot remove {}: {e}", work.display());
            }
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("the check was interrupted: {e}")))?
    };
    let checked = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            remove(&path).await;
            return Err(match refusal {
                BundleRefusal::Checker(_) => {
                    eprintln!("pos-fleet: {refusal}");
                    ApiError::internal(refusal.to_string())
                }
                refusal => unprocessable(refusal.to_string()),
            });
        }
    };
    let id = auth::random_id("bundle").map_err(|e| ApiError::internal(e.to_string()))?;
    let record = BundleRecord {
        id,
        filename: format!("{}-{}.raucb", checked.compatible, checked.version),
        version: checked.version,
        compatible: checked.compatible,
        format: checked.format.to_owned(),
        size: received.size,
        sha1: received.sha1,
        md5: received.md5,
        sha256: received.sha256.clone(),
        uploaded_at: now(),
        uploaded_by: account.id.clone(),
    };
    // Named by content: a second upload of the same bytes lands on the same, identical file.
    let final_path = state.bundles_dir.join(format!("{}.raucb", received.sha256));
    if let Err(e) = tokio::fs::rename(&path, &final_path).await {
        remove(&path).await;
        eprintln!("pos-fleet: cannot keep an uploaded bundle: {e}");
        return Err(ApiError::internal(
            "the fleet could not store the upload; nothing was kept, try again",
        ));
    }
    let saved = record.clone();
    blocking(state, move |s| s.save_bundle(&saved)).await?;
    Ok(record)
}

pub(crate) async fn list_bundles(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
) -> Result<Json<Vec<BundleRecord>>, ApiError> {
    api::operator(&state.api, &headers).await?;
    Ok(Json(blocking(&state, |s| s.bundles()).await?))
}

/// What a rollout is asked to be: the API's JSON body, or the dashboard's form.
#[derive(Debug, Deserialize)]
pub(crate) struct NewRollout {
    pub(crate) bundle: String,
    pub(crate) target: Target,
    #[serde(flatten)]
    pub(crate) plan: Plan,
}

/// A terminal's line in a rollout's status.
#[derive(Serialize)]
struct TerminalLine {
    terminal: DeviceId,
    store: StoreId,
    stage: u32,
    action: u64,
    status: String,
    /// What the terminal last reported running (config data `version`).
    installed_version: Option<String>,
    /// The slots as the terminal last reported them (config data `slot.*`).
    slots: serde_json::Map<String, serde_json::Value>,
    last_feedback: Option<FeedbackNote>,
}

#[derive(Serialize)]
pub(crate) struct RolloutStatus {
    #[serde(flatten)]
    pub(crate) rollout: RolloutRecord,
    pub(crate) stages: Vec<StageTally>,
    terminals: Vec<TerminalLine>,
}

fn tallies(plan: &Plan, actions: &[ActionRecord]) -> Vec<StageTally> {
    let mut tallies = vec![StageTally::default(); usize::try_from(plan.stage_count()).unwrap_or(0)];
    for action in actions {
        if let Some(tally) = tallies.get_mut(usize::try_from(action.stage).unwrap_or(usize::MAX)) {
            tally.add(action.status);
        }
    }
    tallies
}

/// Moves a running rollout on as far as its actions allow: next stage, halt or finish.
pub(crate) async fn progress(state: &UpdatesState, rollout_id: &str) -> Result<(), ApiError> {
    let id = rollout_id.to_owned();
    blocking(state, move |s| {
        // Each turn either stops or moves the rollout one stage; there are few stages.
        for _ in 0..=u8::MAX {
            let Some(rollout) = s.rollout(&id)? else {
                return Ok(());
            };
            if rollout.state != RolloutState::Running {
                return Ok(());
            }
            let actions = s.rollout_actions(&id)?;
            let current = rollout.current_stage;
            let moved =
                match rollout::decide(&rollout.plan, current, &tallies(&rollout.plan, &actions)) {
                    Decision::Wait => return Ok(()),
                    Decision::Advance { to } => {
                        s.advance_rollout(&id, current, RolloutState::Running, to, None)?
                    }
                    Decision::Halt { reason } => {
                        s.advance_rollout(
                            &id,
                            current,
                            RolloutState::Halted,
                            current,
                            Some(&reason),
                        )?;
                        return Ok(());
                    }
                    Decision::Finish => {
                        s.advance_rollout(&id, current, RolloutState::Finished, current, None)?;
                        return Ok(());
                    }
                };
            if !moved {
                return Ok(());
            }
        }
        Ok(())
    })
    .await
}

async fn status(state: &UpdatesState, rollout_id: &str) -> Result<RolloutStatus, ApiError> {
    let id = rollout_id.to_owned();
    blocking(state, move |s| {
        let rollout = s
            .rollout(&id)?
            .ok_or_else(|| crate::storage::StorageError::NotFound(format!("no rollout {id}")))?;
        let actions = s.rollout_actions(&id)?;
        let mut terminals = Vec::with_capacity(actions.len());
        for action in &actions {
            let report = s.terminal_report(&action.terminal)?;
            terminals.push(TerminalLine {
                terminal: action.terminal.clone(),
                store: action.store.clone(),
                stage: action.stage,
                action: action.id,
                status: action.status.as_str().to_owned(),
                installed_version: installed_version(&report.attributes),
                slots: slots(&report.attributes),
                last_feedback: action.last_feedback.clone(),
            });
        }
        Ok(RolloutStatus {
            stages: tallies(&rollout.plan, &actions),
            rollout,
            terminals,
        })
    })
    .await
}

/// The rollout, when the account manages its tenant.
async fn own_rollout(
    state: &UpdatesState,
    account: &Account,
    rollout_id: &str,
) -> Result<RolloutRecord, ApiError> {
    let id = rollout_id.to_owned();
    let missing = || ApiError::not_found(format!("no rollout {rollout_id} among those you manage"));
    let rollout = blocking(state, move |s| s.rollout(&id))
        .await?
        .ok_or_else(missing)?;
    api::owned_tenant(&state.api, account, &rollout.tenant)
        .await
        .map_err(|_| missing())?;
    Ok(rollout)
}

async fn target_terminals(
    state: &UpdatesState,
    tenant: &TenantId,
    target: &Target,
) -> Result<Vec<(DeviceId, StoreId)>, ApiError> {
    let storage = std::sync::Arc::clone(&state.api.storage);
    let tenant = tenant.clone();
    let target = target.clone();
    let live = |t: &TerminalRecord| t.revoked_at.is_none();
    tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let store_terminals = |store: &StoreRecord| -> Result<Vec<(DeviceId, StoreId)>, ApiError> {
            Ok(storage
                .terminals(&store.id)?
                .into_iter()
                .filter(live)
                .map(|t| (t.id, t.store))
                .collect())
        };
        let mut out = Vec::new();
        match target {
            Target::Tenant => {
                for store in storage.stores(&tenant)? {
                    out.extend(store_terminals(&store)?);
                }
            }
            Target::Stores(stores) => {
                for id in stores {
                    let store = storage
                        .store(&id)?
                        .filter(|s| s.tenant == tenant)
                        .ok_or_else(|| {
                            ApiError::not_found(format!("no store {id} in tenant {tenant}"))
                        })?;
                    out.extend(store_terminals(&store)?);
                }
            }
            Target::Terminals(terminals) => {
                for id in terminals {
                    let terminal = storage
                        .terminal(&id)?
                        .filter(|t| t.tenant == tenant && live(t))
                        .ok_or_else(|| {
                            ApiError::not_found(format!(
                                "no enrolled terminal {id} in tenant {tenant}"
                            ))
                        })?;
                    out.push((terminal.id, terminal.store));
                }
            }
        }
        out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        out.dedup();
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the request was interrupted: {e}")))?
}

pub(crate) async fn create_rollout(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<RolloutStatus>), ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    let tenant = TenantId::new(tenant);
    // Who may is said before what was sent is judged, as on every other call.
    api::owned_tenant(&state.api, &account, &tenant).await?;
    let request: NewRollout = api::parse(&api::body(raw)?)?;
    let started = start_rollout(&state, &account, tenant, request).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// Starts a rollout in `tenant` for `account`, which must manage the tenant (the operator or
/// its owner). The API and the dashboard's form both come through here.
pub(crate) async fn start_rollout(
    state: &UpdatesState,
    account: &Account,
    tenant: TenantId,
    request: NewRollout,
) -> Result<RolloutStatus, ApiError> {
    api::owned_tenant(&state.api, account, &tenant).await?;
    let bundle_id = request.bundle.clone();
    blocking(state, move |s| s.bundle(&bundle_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no bundle {}", request.bundle)))?;
    let terminals = target_terminals(state, &tenant, &request.target).await?;
    if let Some(canary) = &request.plan.canary_store
        && !terminals.iter().any(|(_, store)| store == canary)
    {
        return Err(ApiError::bad_request(format!(
            "the canary store {canary} has no terminal in this rollout"
        )));
    }
    let actions = rollout::assign_stages(&request.plan, &terminals)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let id = auth::random_id("rollout").map_err(|e| ApiError::internal(e.to_string()))?;
    let at = now();
    let record = RolloutRecord {
        id: id.clone(),
        tenant,
        bundle: request.bundle,
        target: request.target,
        plan: request.plan,
        state: RolloutState::Running,
        current_stage: 0,
        halt_reason: None,
        created_at: at,
        created_by: account.id.clone(),
    };
    blocking(state, move |s| s.create_rollout(&record, &actions, at)).await?;
    progress(state, &id).await?;
    status(state, &id).await
}

pub(crate) async fn list_rollouts(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<RolloutRecord>>, ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    let tenant = TenantId::new(tenant);
    api::owned_tenant(&state.api, &account, &tenant).await?;
    Ok(Json(blocking(&state, move |s| s.rollouts(&tenant)).await?))
}

pub(crate) async fn rollout_status(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(rollout_id): Path<String>,
) -> Result<Json<RolloutStatus>, ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    own_rollout(&state, &account, &rollout_id).await?;
    progress(&state, &rollout_id).await?;
    Ok(Json(status(&state, &rollout_id).await?))
}

pub(crate) async fn cancel_rollout(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(rollout_id): Path<String>,
) -> Result<Json<RolloutStatus>, ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    Ok(Json(stop_rollout(&state, &account, &rollout_id).await?))
}

/// Cancels a rollout of a tenant `account` manages. The API and the dashboard's button both
/// come through here.
pub(crate) async fn stop_rollout(
    state: &UpdatesState,
    account: &Account,
    rollout_id: &str,
) -> Result<RolloutStatus, ApiError> {
    own_rollout(state, account, rollout_id).await?;
    let id = rollout_id.to_owned();
    let at = now();
    blocking(state, move |s| s.cancel_rollout(&id, at)).await?;
    status(state, rollout_id).await
}

pub(crate) async fn set_window(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    let window: Option<Window> = api::parse(&api::body(raw)?)?;
    set_store_window(&state, &account, &StoreId::new(store), window).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets (or with `None` removes) the maintenance window of a store `account` manages. The API
/// and the dashboard's form both come through here.
pub(crate) async fn set_store_window(
    state: &UpdatesState,
    account: &Account,
    store: &StoreId,
    window: Option<Window>,
) -> Result<(), ApiError> {
    let store = api::managed_store(&state.api, account, store).await?;
    if let Some(window) = &window {
        window
            .validate()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    blocking(state, move |s| {
        s.set_store_window(&store.id, window.as_ref())
    })
    .await
}

/// A terminal as the update service sees it, with or without a rollout.
#[derive(Serialize)]
pub(crate) struct TerminalUpdates {
    terminal: DeviceId,
    name: String,
    /// What it last reported running (config data `version`).
    installed_version: Option<String>,
    slots: serde_json::Map<String, serde_json::Value>,
    /// Everything it last reported (config data).
    attributes: serde_json::Map<String, serde_json::Value>,
    reported_at: Option<pos_core::clock::Timestamp>,
    /// Its unfinished update, or else its last one: the rollout, the action's status and
    /// last feedback.
    rollout: Option<String>,
    status: Option<String>,
    last_feedback: Option<FeedbackNote>,
}

pub(crate) async fn store_updates(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<Json<Vec<TerminalUpdates>>, ApiError> {
    let account = api::operator(&state.api, &headers).await?;
    let store = api::managed_store(&state.api, &account, &StoreId::new(store)).await?;
    let fleet = std::sync::Arc::clone(&state.api.storage);
    let terminals = tokio::task::spawn_blocking(move || fleet.terminals(&store.id))
        .await
        .map_err(|e| ApiError::internal(format!("the request was interrupted: {e}")))??;
    let ids: Vec<DeviceId> = terminals.iter().map(|t| t.id.clone()).collect();
    let updates = blocking(&state, move |s| s.terminal_updates(&ids)).await?;
    Ok(Json(
        terminals
            .into_iter()
            .zip(updates)
            .map(|(terminal, update)| {
                let action = update.action;
                TerminalUpdates {
                    installed_version: installed_version(&update.report.attributes),
                    slots: slots(&update.report.attributes),
                    attributes: update.report.attributes,
                    reported_at: update.report.updated_at,
                    rollout: action.as_ref().map(|a| a.rollout.clone()),
                    status: action.as_ref().map(|a| a.status.as_str().to_owned()),
                    last_feedback: action.and_then(|a| a.last_feedback),
                    terminal: terminal.id,
                    name: terminal.name,
                }
            })
            .collect(),
    ))
}

/// What the terminal last reported running (config data `version`).
pub(crate) fn installed_version(
    attributes: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    attributes
        .get("version")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// The slots as the terminal last reported them (config data `slot.<name>`).
fn slots(
    attributes: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    attributes
        .iter()
        .filter(|(k, _)| k.starts_with("slot."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_in_the_largest_unit_they_fill() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(1 << 20), "1 MiB");
        assert_eq!(size_text(300 * 1024 + 512), "300.5 KiB");
        assert_eq!(size_text(2 << 30), "2 GiB");
    }
}
