//! The device API in the shape of hawkBit's DDI, under `/{tenant}/controller/v1/{controllerId}`,
//! with hawkBit's JSON field names: the poll (`config.polling.sleep`, `_links`), the
//! deployment (`deploymentBase`: one chunk, part `os`, one artifact with `sha1`, `md5`,
//! `sha256`, `size` and download links), feedback, `cancelAction`, `configData` and the
//! artifact download.
//!
//! A terminal authenticates with `Authorization: TargetToken <credential>`, the credential the
//! fleet issued at enrolment; the controller id is the terminal's id. Every refusal is the
//! fleet's JSON error body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use pos_core::id::DeviceId;
use pos_sync::wire::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::artifact::{self, Served};
use super::operator::progress;
use super::rollout::{ActionStatus, Execution, FeedbackOn, Finished};
use super::storage::{
    ActionRecord, ConfigMode, FeedbackNote, Progress, RolloutRecord, RolloutState,
};
use super::{UpdatesState, blocking};
use crate::api::{self, ApiError, now};
use crate::auth;
use crate::storage::TerminalRecord;

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        message,
    )
}

/// The terminal behind the `TargetToken`, when it is the controller of the path.
async fn controller(
    state: &UpdatesState,
    headers: &HeaderMap,
    tenant: &str,
    controller: &str,
) -> Result<TerminalRecord, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("TargetToken "))
        .map(str::trim)
        .ok_or_else(|| {
            unauthorized(
                "no target token was sent: send `Authorization: TargetToken <credential>` with \
                 the credential the terminal received at enrolment",
            )
        })?;
    let hash = auth::hash_token(token);
    let storage = std::sync::Arc::clone(&state.api.storage);
    let found = tokio::task::spawn_blocking(move || storage.terminal_by_token(&hash))
        .await
        .map_err(|e| ApiError::internal(format!("the request was interrupted: {e}")))??;
    let terminal = found.ok_or_else(|| {
        unauthorized("this target token is unknown to the fleet; enrol the terminal again")
    })?;
    if let Some(at) = terminal.revoked_at {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::CredentialRevoked,
            format!(
                "terminal {} was revoked at {}; enrol it again with a new code",
                terminal.id,
                at.to_utc()
            ),
        ));
    }
    if terminal.id.as_str() != controller || terminal.tenant.as_str() != tenant {
        return Err(unauthorized(format!(
            "this target token belongs to another controller, not {tenant}/{controller}"
        )));
    }
    Ok(terminal)
}

fn base_url(state: &UpdatesState, headers: &HeaderMap, terminal: &TerminalRecord) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!(
        "{}://{host}/{}/controller/v1/{}",
        state.scheme,
        terminal.tenant.as_str(),
        terminal.id.as_str()
    )
}

/// Whether the terminal is offered this action's deployment now.
fn offered(action: &ActionRecord, rollout: &RolloutRecord) -> bool {
    match action.status {
        ActionStatus::Running => true,
        ActionStatus::Pending => {
            rollout.state == RolloutState::Running && action.stage <= rollout.current_stage
        }
        _ => false,
    }
}

/// hawkBit's `?c=` query: changes when the action does, so caches never serve an old one.
fn cache_buster(action: &ActionRecord) -> String {
    let digest = Sha256::digest(format!("{}:{}", action.id, action.status.as_str()).as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

fn sleep_text(seconds: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

pub(crate) async fn poll(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path((tenant, controller_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let terminal = controller(&state, &headers, &tenant, &controller_id).await?;
    let base = base_url(&state, &headers, &terminal);
    let id = terminal.id.clone();
    let (actions, report) = blocking(&state, move |s| {
        Ok((s.open_actions(&id)?, s.terminal_report(&id)?))
    })
    .await?;
    let mut links = serde_json::Map::new();
    if let Some((action, _)) = actions
        .iter()
        .find(|(a, _)| a.status == ActionStatus::Canceling)
    {
        links.insert(
            "cancelAction".into(),
            json!({"href": format!("{base}/cancelAction/{}?c={}", action.id, cache_buster(action))}),
        );
    } else if let Some((action, _)) = actions.iter().find(|(a, r)| offered(a, r)) {
        links.insert(
            "deploymentBase".into(),
            json!({"href": format!("{base}/deploymentBase/{}?c={}", action.id, cache_buster(action))}),
        );
    }
    if report.requested {
        links.insert(
            "configData".into(),
            json!({"href": format!("{base}/configData")}),
        );
    }
    Ok(Json(json!({
        "config": {"polling": {"sleep": sleep_text(state.polling_sleep_secs())}},
        "_links": links,
    })))
}

/// The action, when it is this terminal's.
async fn own_action(
    state: &UpdatesState,
    terminal: &TerminalRecord,
    action: &str,
) -> Result<(ActionRecord, RolloutRecord), ApiError> {
    let missing = || ApiError::not_found(format!("this terminal has no action {action}"));
    let id: u64 = action.parse().map_err(|_| missing())?;
    let found = blocking(state, move |s| {
        let Some(action) = s.action(id)? else {
            return Ok(None);
        };
        let rollout = s.rollout(&action.rollout)?;
        Ok(rollout.map(|r| (action, r)))
    })
    .await?;
    match found {
        Some((action, rollout)) if action.terminal == terminal.id => Ok((action, rollout)),
        _ => Err(missing()),
    }
}

pub(crate) async fn deployment_base(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path((tenant, controller_id, action_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let terminal = controller(&state, &headers, &tenant, &controller_id).await?;
    let (action, rollout) = own_action(&state, &terminal, &action_id).await?;
    if !offered(&action, &rollout) {
        return Err(ApiError::not_found(format!(
            "action {} is not offered to this terminal (it is {})",
            action.id,
            action.status.as_str()
        )));
    }
    let bundle_id = rollout.bundle.clone();
    let store = action.store.clone();
    let device = terminal.id.clone();
    let (bundle, window, report) = blocking(&state, move |s| {
        Ok((
            s.bundle(&bundle_id)?,
            s.store_window(&store)?,
            s.terminal_report(&device)?,
        ))
    })
    .await?;
    let bundle = bundle.ok_or_else(|| ApiError::internal("the rollout's bundle is missing"))?;
    let shift_closed = report
        .attributes
        .get("shift")
        .and_then(Value::as_str)
        .is_some_and(|s| s == "closed");
    let window_open = window
        .as_ref()
        .is_none_or(|w| w.is_open(now().unix_ms(), shift_closed));
    let href = format!(
        "{}/softwaremodules/{}/artifacts/{}",
        base_url(&state, &headers, &terminal),
        bundle.id,
        bundle.filename
    );
    let mut deployment = json!({
        "download": "forced",
        "update": if window_open { "forced" } else { "skip" },
        "chunks": [{
            "part": "os",
            "version": bundle.version,
            "name": bundle.compatible,
            "artifacts": [{
                "filename": bundle.filename,
                "hashes": {"sha1": bundle.sha1, "md5": bundle.md5, "sha256": bundle.sha256},
                "size": bundle.size,
                "_links": {"download": {"href": href}, "download-http": {"href": href}},
            }],
        }],
    });
    if window.is_some() {
        deployment["maintenanceWindow"] = json!(if window_open {
            "available"
        } else {
            "unavailable"
        });
    }
    let mut body = json!({"id": action.id.to_string(), "deployment": deployment});
    if let Some(last) = &action.last_feedback {
        body["actionHistory"] = json!({
            "status": serde_json::to_value(last.execution).unwrap_or(Value::Null),
            "messages": last.details,
        });
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
struct FeedbackBody {
    status: FeedbackStatus,
}

#[derive(Deserialize)]
struct FeedbackStatus {
    execution: Execution,
    result: FeedbackResult,
    #[serde(default)]
    details: Vec<String>,
}

#[derive(Deserialize)]
struct FeedbackResult {
    finished: Finished,
    #[serde(default)]
    progress: Option<Progress>,
}

async fn feedback(
    state: UpdatesState,
    headers: HeaderMap,
    tenant: String,
    controller_id: String,
    action_id: String,
    on: FeedbackOn,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let terminal = controller(&state, &headers, &tenant, &controller_id).await?;
    let body: FeedbackBody = api::parse(&api::body(raw)?)?;
    let (action, rollout) = own_action(&state, &terminal, &action_id).await?;
    if action.status.is_finished() {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::Conflict,
            format!(
                "action {} is closed ({}); it takes no more feedback",
                action.id,
                action.status.as_str()
            ),
        ));
    }
    let note = FeedbackNote {
        execution: body.status.execution,
        finished: body.status.result.finished,
        progress: body.status.result.progress,
        details: body.status.details,
        at: now(),
    };
    let id = action.id;
    let device = terminal.id.clone();
    blocking(&state, move |s| {
        let updated = s.record_feedback(id, on, &note)?;
        if updated.status == ActionStatus::Succeeded {
            // hawkBit asks for the attributes again after an update: the version changed.
            s.request_config_data(&device)?;
        }
        Ok(())
    })
    .await?;
    progress(&state, &rollout.id).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn deployment_feedback(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path((tenant, controller_id, action_id)): Path<(String, String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    feedback(
        state,
        headers,
        tenant,
        controller_id,
        action_id,
        FeedbackOn::Deployment,
        raw,
    )
    .await
}

pub(crate) async fn cancel_action(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path((tenant, controller_id, action_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let terminal = controller(&state, &headers, &tenant, &controller_id).await?;
    let (action, _) = own_action(&state, &terminal, &action_id).await?;
    if action.status != ActionStatus::Canceling {
        return Err(ApiError::not_found(format!(
            "action {} is not being cancelled",
            action.id
        )));
    }
    Ok(Json(json!({
        "id": action.id.to_string(),
        "cancelAction": {"stopId": action.id.to_string()},
    })))
}

pub(crate) async fn cancel_feedback(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path((tenant, controller_id, action_id)): Path<(String, String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    feedback(
        state,
        headers,
        tenant,
        controller_id,
        action_id,
        FeedbackOn::Cancel,
        raw,
    )
    .await
}

#[derive(Deserialize, Serialize)]
struct ConfigDataBody {
    #[serde(default)]
    mode: ConfigMode,
    data: serde_json::Map<String, Value>,
}

pub(crate) async fn config_data(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path((tenant, controller_id)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let terminal = controller(&state, &headers, &tenant, &controller_id).await?;
    let body: ConfigDataBody = api::parse(&api::body(raw)?)?;
    if let Some((key, _)) = body.data.iter().find(|(_, v)| !v.is_string()) {
        return Err(ApiError::bad_request(format!(
            "config data values are strings; '{key}' is not"
        )));
    }
    let at = now();
    let id: DeviceId = terminal.id;
    blocking(&state, move |s| {
        s.save_config_data(&id, body.mode, &body.data, at)
    })
    .await?;
    Ok(StatusCode::OK)
}

async fn serve_artifact(
    state: UpdatesState,
    headers: HeaderMap,
    (tenant, controller_id, module, filename): (String, String, String, String),
    head: bool,
) -> Result<Response, ApiError> {
    controller(&state, &headers, &tenant, &controller_id).await?;
    let bundle = blocking(&state, move |s| s.bundle(&module))
        .await?
        .filter(|b| b.filename == filename)
        .ok_or_else(|| ApiError::not_found("no such artifact on this fleet"))?;
    let path = state.bundles_dir.join(format!("{}.raucb", bundle.sha256));
    let len = tokio::fs::metadata(&path)
        .await
        .map_err(|e| {
            eprintln!("pos-fleet: cannot read {}: {e}", path.display());
            ApiError::internal("the fleet cannot read this bundle's file; tell the fleet operator")
        })?
        .len();
    let uploaded = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(
            u64::try_from(bundle.uploaded_at.unix_ms()).unwrap_or(0),
        );
    let served = Served {
        len,
        etag: format!("\"{}\"", bundle.sha256),
        last_modified: httpdate::fmt_http_date(uploaded),
    };
    Ok(artifact::respond(&path, &served, &headers, head).await)
}

pub(crate) async fn download(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(path): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    serve_artifact(state, headers, path, false).await
}

pub(crate) async fn download_head(
    State(state): State<UpdatesState>,
    headers: HeaderMap,
    Path(path): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    serve_artifact(state, headers, path, true).await
}
