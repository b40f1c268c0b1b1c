//! A tenant's Updates page: the bundles the fleet holds (and the upload form, for the fleet
//! operator), the rollouts with each stage's terminals by phase (and the forms to start and
//! cancel one, for those who manage the tenant), the stores' maintenance windows, and each
//! terminal's installed version, slots and last feedback.
//!
//! Every change goes through the same functions as the operator API (`updates::operator`), so
//! the bundle checks, the permissions and the refusals are the API's; a refusal is shown on the
//! page as a notice and nothing is changed.

use std::pin::pin;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use futures_util::StreamExt;
use pos_core::id::{DeviceId, StoreId};
use serde::Deserialize;

use super::Dashboard;
use super::html::{self, Tab, escape, url_part};
use super::web::{
    Refusal, Visible, clock_name, clock_of, store_clock_name, tenant_clock, tenant_path,
    visible_for, when,
};
use crate::api::{self, ApiError, now};
use crate::storage::{AccountRole, StoreRecord, TerminalRecord};
use crate::updates::operator::{self, NewRollout, size_text};
use crate::updates::rollout::{ActionStatus, Execution, Finished, Plan, Window};
use crate::updates::storage::{
    ActionRecord, BundleRecord, FeedbackNote, RolloutRecord, RolloutState, Target, TerminalUpdate,
};
use crate::updates::{self, UpdatesState};

/// Rollouts shown on the page, newest first; the API lists them all.
const ROLLOUTS_SHOWN: usize = 20;
/// Parts of an upload form read before giving up on finding the file.
const FORM_PARTS_MAX: usize = 8;

/// The Updates page's state: the dashboard's, and the update service it shows.
#[derive(Clone)]
pub(super) struct UpdatesPage {
    dashboard: Dashboard,
    updates: UpdatesState,
}

pub(super) fn router(dashboard: Dashboard, updates: UpdatesState) -> Router {
    Router::new()
        .route("/ui/t/{tenant}/updates", get(page))
        // A bundle is far larger than a form: its size is limited as it streams to disk.
        .route(
            "/ui/t/{tenant}/updates/bundles",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/ui/t/{tenant}/updates/rollouts", post(start))
        .route(
            "/ui/t/{tenant}/updates/rollouts/{rollout}/cancel",
            post(cancel),
        )
        .route("/ui/t/{tenant}/updates/windows", post(set_window))
        .with_state(UpdatesPage { dashboard, updates })
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn page(
    State(page): State<UpdatesPage>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(query): Query<Saved>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&page.dashboard, &headers, &tenant).await?;
    let notice = query.saved.map(|m| (true, m));
    render(&page, &visible, notice, StatusCode::OK).await
}

/// Back to the page with `message` shown, after a change.
fn done(visible: &Visible, message: &str) -> Response {
    Redirect::to(&format!(
        "{}/updates?saved={}",
        tenant_path(visible),
        url_part(message)
    ))
    .into_response()
}

/// The page again with the refusal, its status the API's.
async fn refused(
    page: &UpdatesPage,
    visible: &Visible,
    nothing: &str,
    error: &ApiError,
) -> Result<Response, Refusal> {
    let message = format!("{nothing}: {}", html::sentence(error.message()));
    render(page, visible, Some((false, message)), error.status()).await
}

// ---------------------------------------------------------------------------------------------
// Changes

async fn upload(
    State(page): State<UpdatesPage>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&page.dashboard, &headers, &tenant).await?;
    match receive_bundle(&page.updates, &visible, form).await {
        Ok(bundle) => Ok(done(
            &visible,
            &format!(
                "Bundle {} for {} was checked and stored ({}).",
                bundle.version,
                bundle.compatible,
                size_text(bundle.size)
            ),
        )),
        Err(error) => refused(&page, &visible, "Nothing was stored", &error).await,
    }
}

/// The form's `bundle` file through the API's upload path. A refused file is read to its end
/// all the same (up to the size limit), so the browser gets the page that says why instead of
/// a broken connection.
async fn receive_bundle(
    updates: &UpdatesState,
    visible: &Visible,
    form: Result<Multipart, MultipartRejection>,
) -> Result<BundleRecord, ApiError> {
    let unreadable =
        |e: String| ApiError::bad_request(format!("the upload could not be read ({e}); try again"));
    let no_file = || ApiError::bad_request("choose a bundle file (.raucb) to upload");
    let mut form = form.map_err(|e| unreadable(e.body_text()))?;
    for _ in 0..FORM_PARTS_MAX {
        let field = form
            .next_field()
            .await
            .map_err(|e| unreadable(e.body_text()))?
            .ok_or_else(no_file)?;
        if field.name() != Some("bundle") {
            continue;
        }
        if field.file_name().is_none_or(str::is_empty) {
            return Err(no_file());
        }
        let mut field = pin!(field);
        let accepted = operator::accept_bundle(updates, &visible.account, field.as_mut()).await;
        if accepted.is_err() {
            // Up to as much again as the limit; a client still sending after that is cut off.
            let mut left = updates.bundle_bytes_max();
            while let Some(Ok(chunk)) = field.next().await {
                left = left.saturating_sub(chunk.len() as u64);
                if left == 0 {
                    break;
                }
            }
        }
        return accepted;
    }
    Err(no_file())
}

async fn start(
    State(page): State<UpdatesPage>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&page.dashboard, &headers, &tenant).await?;
    let started = match rollout_from_form(&form) {
        Ok(request) => {
            operator::start_rollout(
                &page.updates,
                &visible.account,
                visible.tenant.id.clone(),
                request,
            )
            .await
        }
        Err(message) => Err(ApiError::bad_request(message)),
    };
    match started {
        Ok(status) => {
            let terminals: u32 = status.stages.iter().map(|s| s.total).sum();
            Ok(done(
                &visible,
                &format!(
                    "Rollout {} started: {terminals} terminal{} in {} stage{}.",
                    status.rollout.id,
                    plural(terminals),
                    status.stages.len(),
                    plural(status.stages.len())
                ),
            ))
        }
        Err(error) => refused(&page, &visible, "Nothing was started", &error).await,
    }
}

async fn cancel(
    State(page): State<UpdatesPage>,
    headers: HeaderMap,
    Path((tenant, rollout)): Path<(String, String)>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&page.dashboard, &headers, &tenant).await?;
    match operator::stop_rollout(&page.updates, &visible.account, &rollout).await {
        Ok(_) => Ok(done(
            &visible,
            &format!(
                "Rollout {rollout} was cancelled: terminals that had not started will not be \
                 offered it; those already installing finish and report."
            ),
        )),
        Err(error) => refused(&page, &visible, "Nothing was cancelled", &error).await,
    }
}

#[derive(Deserialize)]
pub(super) struct WindowForm {
    store: String,
    window: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

async fn set_window(
    State(page): State<UpdatesPage>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Form(form): Form<WindowForm>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&page.dashboard, &headers, &tenant).await?;
    let set = match visible.stores.iter().find(|s| s.id.as_str() == form.store) {
        None => Err(ApiError::not_found(format!(
            "no store {} among those you manage",
            form.store
        ))),
        Some(store) => {
            let offset = store.offset_at(now()).whole_minutes();
            match window_from_form(&form, i32::from(offset)) {
                Ok(window) => {
                    let text = describe_window(window.as_ref());
                    operator::set_store_window(&page.updates, &visible.account, &store.id, window)
                        .await
                        .map(|()| format!("{} now takes updates {text}.", store.name))
                }
                Err(message) => Err(ApiError::bad_request(message)),
            }
        }
    };
    match set {
        Ok(message) => Ok(done(&visible, &message)),
        Err(error) => refused(&page, &visible, "Nothing was changed", &error).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Forms, pure

fn plural<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "" } else { "s" }
}

/// The rollout the form asks for. Stores ticked make it a rollout to those stores, terminals
/// chosen one to those terminals, neither one to every terminal of the tenant. Errors are
/// sentences for the person at the form.
pub(super) fn rollout_from_form(form: &[(String, String)]) -> Result<NewRollout, String> {
    let one = |key: &str| {
        form.iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.trim())
    };
    let all = |key: &str| -> Vec<String> {
        form.iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let bundle = one("bundle");
    if bundle.is_empty() {
        return Err("choose the bundle to roll out".into());
    }
    let (stores, terminals) = (all("store"), all("terminal"));
    let target = match (stores.is_empty(), terminals.is_empty()) {
        (true, true) => Target::Tenant,
        (false, true) => Target::Stores(stores.into_iter().map(StoreId::new).collect()),
        (true, false) => Target::Terminals(terminals.into_iter().map(DeviceId::new).collect()),
        (false, false) => {
            return Err(
                "choose stores or terminals, not both (or neither, for every terminal)".into(),
            );
        }
    };
    let stages = one("stages")
        .split([',', ' ', ';'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.trim_end_matches('%').parse::<u8>().map_err(|_| {
                format!("'{part}' is not a percentage; write the stages like 10, 50, 100")
            })
        })
        .collect::<Result<Vec<u8>, String>>()?;
    let threshold = one("failure_threshold_percent");
    let failure_threshold_percent = threshold
        .trim_end_matches('%')
        .parse::<u8>()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| {
            format!("the failure threshold is a percentage from 0 to 100, not '{threshold}'")
        })?;
    let canary = one("canary_store");
    Ok(NewRollout {
        bundle: bundle.to_owned(),
        target,
        plan: Plan {
            canary_store: (!canary.is_empty()).then(|| StoreId::new(canary)),
            stages,
            failure_threshold_percent,
        },
    })
}

/// The window the form asks for, on a clock `utc_offset_minutes` from UTC; `None` for any time.
pub(super) fn window_from_form(
    form: &WindowForm,
    utc_offset_minutes: i32,
) -> Result<Option<Window>, String> {
    match form.window.as_str() {
        "any" => Ok(None),
        "after_z_close" => Ok(Some(Window::AfterZClose)),
        "daily" => Ok(Some(Window::Daily {
            start: form.start.trim().to_owned(),
            end: form.end.trim().to_owned(),
            utc_offset_minutes,
        })),
        other => Err(format!("'{other}' is not a kind of window")),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the records, pure

/// Where a terminal's update stands, as the page counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Pending,
    Downloading,
    Installing,
    Installed,
    Failed,
    Cancelled,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::Pending,
        Phase::Downloading,
        Phase::Installing,
        Phase::Installed,
        Phase::Failed,
        Phase::Cancelled,
    ];

    fn name(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Downloading => "downloading",
            Phase::Installing => "installing",
            Phase::Installed => "installed",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }

    /// An unfinished action is downloading until the terminal says the download is done
    /// (`downloaded`), then installing until it confirms the new version (`closed`).
    pub(super) fn of(action: &ActionRecord) -> Phase {
        match action.status {
            ActionStatus::Pending => Phase::Pending,
            ActionStatus::Running | ActionStatus::Canceling => {
                match action.last_feedback.as_ref().map(|f| f.execution) {
                    Some(Execution::Downloaded | Execution::Scheduled) => Phase::Installing,
                    _ => Phase::Downloading,
                }
            }
            ActionStatus::Succeeded => Phase::Installed,
            ActionStatus::Failed => Phase::Failed,
            ActionStatus::Canceled => Phase::Cancelled,
        }
    }
}

/// How many of each stage's terminals are in each phase, in [`Phase::ALL`]'s order.
pub(super) fn stage_counts(plan: &Plan, actions: &[ActionRecord]) -> Vec<[u32; 6]> {
    let stages = usize::try_from(plan.stage_count()).unwrap_or(0);
    let mut counts = vec![[0u32; 6]; stages];
    for action in actions {
        let column = Phase::ALL.iter().position(|p| *p == Phase::of(action));
        if let (Some(row), Some(column)) = (
            counts.get_mut(usize::try_from(action.stage).unwrap_or(usize::MAX)),
            column,
        ) {
            row[column] += 1;
        }
    }
    counts
}

/// A stage in words: the canary store, or the share of the (other) terminals it reaches.
fn stage_name(plan: &Plan, stage: u32, store_name: &dyn Fn(&StoreId) -> String) -> String {
    match (&plan.canary_store, stage) {
        (Some(canary), 0) => format!("Canary: {}", store_name(canary)),
        (canary, n) => {
            let index = n - u32::from(canary.is_some());
            let percent = plan
                .stages
                .get(usize::try_from(index).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or(100);
            let whom = if canary.is_some() {
                "the others"
            } else {
                "the terminals"
            };
            format!("{percent}% of {whom}")
        }
    }
}

fn state_name(state: RolloutState) -> &'static str {
    match state {
        RolloutState::Running => "running",
        RolloutState::Halted => "halted",
        RolloutState::Canceled => "cancelled",
        RolloutState::Finished => "finished",
    }
}

pub(super) fn describe_window(window: Option<&Window>) -> String {
    match window {
        None => "at any time".to_owned(),
        Some(Window::AfterZClose) => "after the Z report closes the shift".to_owned(),
        Some(Window::Daily {
            start,
            end,
            utc_offset_minutes,
        }) => {
            let offset = time::UtcOffset::from_whole_seconds(utc_offset_minutes * 60)
                .unwrap_or(time::UtcOffset::UTC);
            format!("every day from {start} to {end} ({})", clock_name(offset))
        }
    }
}

/// One reported slot: `slot.rootfs.0` = `booted good 1.5.0` (RAUC's state, the bootloader's
/// good or bad, the bundle version in it).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SlotReport {
    pub(super) name: String,
    pub(super) state: String,
    pub(super) boot_status: String,
    pub(super) version: String,
}

impl SlotReport {
    /// The slots in the terminal's reported attributes, by name.
    pub(super) fn all(attributes: &serde_json::Map<String, serde_json::Value>) -> Vec<SlotReport> {
        let mut slots: Vec<SlotReport> = attributes
            .iter()
            .filter_map(|(key, value)| {
                let name = key.strip_prefix("slot.")?;
                let mut words = value.as_str()?.split_whitespace();
                let mut next = || words.next().unwrap_or("unknown").to_owned();
                Some(SlotReport {
                    name: name.to_owned(),
                    state: next(),
                    boot_status: next(),
                    version: next(),
                })
            })
            .collect();
        slots.sort_by(|a, b| a.name.cmp(&b.name));
        slots
    }

    fn text(&self) -> String {
        let version = if self.version == "-" {
            "no version"
        } else {
            &self.version
        };
        format!("{} · {} · {version}", self.name, self.boot_status)
    }
}

/// A feedback in words: `closed · success · 40%: installed in the other slot`.
pub(super) fn feedback_text(note: &FeedbackNote) -> String {
    let execution = serde_json::to_value(note.execution)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let result = match note.finished {
        Finished::Success => "success",
        Finished::Failure => "failure",
        Finished::None => "",
    };
    let mut text = execution;
    if !result.is_empty() {
        text.push_str(&format!(" · {result}"));
    }
    if let Some(progress) = note.progress.filter(|p| p.of > 0) {
        text.push_str(&format!(
            " · {}%",
            progress.cnt.min(progress.of) * 100 / progress.of
        ));
    }
    if !note.details.is_empty() {
        text.push_str(&format!(": {}", note.details.join("; ")));
    }
    text
}

fn describe_target(target: &Target, store_name: &dyn Fn(&StoreId) -> String) -> String {
    match target {
        Target::Tenant => "every terminal".to_owned(),
        Target::Stores(stores) => {
            let names: Vec<String> = stores.iter().map(store_name).collect();
            format!("the terminals of {}", names.join(", "))
        }
        Target::Terminals(terminals) => format!(
            "{} chosen terminal{}",
            terminals.len(),
            plural(terminals.len())
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The page

/// What the page shows, read in two calls to storage.
struct Records {
    bundles: Vec<BundleRecord>,
    /// The newest first, with their actions; empty for those who cannot see rollouts.
    rollouts: Vec<(RolloutRecord, Vec<ActionRecord>)>,
    windows: Vec<Option<Window>>,
    /// The visible stores' enrolled terminals and what the update service knows of each.
    terminals: Vec<(TerminalRecord, TerminalUpdate)>,
}

async fn records(page: &UpdatesPage, visible: &Visible) -> Result<Records, Refusal> {
    let stores = visible.store_ids();
    let terminals: Vec<TerminalRecord> = api::blocking(&page.dashboard.app, move |s| {
        let mut out = Vec::new();
        for store in &stores {
            out.extend(
                s.terminals(store)?
                    .into_iter()
                    .filter(|t| t.revoked_at.is_none()),
            );
        }
        Ok(out)
    })
    .await?;
    let ids: Vec<DeviceId> = terminals.iter().map(|t| t.id.clone()).collect();
    let stores = visible.store_ids();
    let tenant = visible.may_edit_tenant().then(|| visible.tenant.id.clone());
    let (bundles, rollouts, windows, updates) = updates::blocking(&page.updates, move |s| {
        let mut rollouts = Vec::new();
        if let Some(tenant) = tenant {
            for rollout in s.rollouts(&tenant)?.into_iter().rev().take(ROLLOUTS_SHOWN) {
                let actions = s.rollout_actions(&rollout.id)?;
                rollouts.push((rollout, actions));
            }
        }
        let windows = stores
            .iter()
            .map(|store| s.store_window(store))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((s.bundles()?, rollouts, windows, s.terminal_updates(&ids)?))
    })
    .await?;
    Ok(Records {
        bundles: bundles.into_iter().rev().collect(),
        rollouts,
        windows,
        terminals: terminals.into_iter().zip(updates).collect(),
    })
}

async fn render(
    page: &UpdatesPage,
    visible: &Visible,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Result<Response, Refusal> {
    let records = records(page, visible).await?;
    let store_name = |id: &StoreId| {
        visible
            .stores
            .iter()
            .find(|s| &s.id == id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let base = tenant_path(visible);
    let mut body = notice.map_or_else(String::new, |(ok, m)| html::notice(ok, &m));
    body.push_str(&bundles_card(visible, &records.bundles, &base));
    let manages = visible.may_edit_tenant();
    body.push_str(r#"<div class="grid2">"#);
    if manages {
        body.push_str(&rollout_form(visible, &records, &base));
    }
    body.push_str(&windows_card(visible, &records.windows, &base));
    body.push_str("</div>");
    if manages {
        body.push_str(&rollouts_card(
            visible,
            &records.rollouts,
            &records.bundles,
            &store_name,
            &base,
        ));
    }
    body.push_str(&terminals_card(visible, &records.terminals, &store_name));
    let html = visible.page("Updates", Tab::Updates, &body);
    Ok((status, Html(html)).into_response())
}

fn bundles_card(visible: &Visible, bundles: &[BundleRecord], base: &str) -> String {
    let clock = tenant_clock(visible);
    let mut rows = String::new();
    for bundle in bundles {
        rows.push_str(&format!(
            r#"<tr data-bundle="{}"><td class="version">{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td><code class="hash">{}</code></td><td>{}</td></tr>"#,
            escape(&bundle.id),
            escape(&bundle.version),
            escape(&bundle.compatible),
            escape(&bundle.format),
            size_text(bundle.size),
            escape(&bundle.sha256),
            when(Some(bundle.uploaded_at), clock)
        ));
    }
    if bundles.is_empty() {
        rows.push_str(
            r#"<tr><td colspan="6" class="muted">No bundle has been uploaded yet.</td></tr>"#,
        );
    }
    let upload = if visible.account.role == AccountRole::SuperAdmin {
        format!(
            r#"<form method="post" action="{base}/updates/bundles" enctype="multipart/form-data" id="bundle-form" class="form-grid">
<label>Bundle file (.raucb)<input type="file" name="bundle" id="bundle-file" accept=".raucb" required></label>
<button type="submit" id="upload-bundle">Upload and check</button></form>
<p class="muted">The fleet checks the signature against the terminals' keyring with rauc, the compatible string and every block of the payload before it keeps a bundle; a refused file is not kept.</p>"#
        )
    } else {
        r#"<p class="muted">Bundles are uploaded by the fleet operator.</p>"#.to_owned()
    };
    format!(
        r#"<section class="card" id="bundles"><h2>Bundles</h2><table id="bundle-list"><thead><tr><th>Version</th><th>Compatible</th><th>Format</th><th class="num">Size</th><th>SHA-256</th><th>Uploaded</th></tr></thead><tbody>{rows}</tbody></table>{upload}</section>"#
    )
}

fn rollout_form(visible: &Visible, records: &Records, base: &str) -> String {
    let mut bundles = String::new();
    for bundle in &records.bundles {
        bundles.push_str(&format!(
            r#"<option value="{}">{} ({}, {})</option>"#,
            escape(&bundle.id),
            escape(&bundle.version),
            escape(&bundle.compatible),
            size_text(bundle.size)
        ));
    }
    let mut canary = String::from(r#"<option value="">none</option>"#);
    let mut stores = String::new();
    for store in &visible.stores {
        canary.push_str(&store_option(store));
        stores.push_str(&format!(
            r#"<label class="check"><input type="checkbox" name="store" value="{}"> {}</label>"#,
            escape(store.id.as_str()),
            escape(&store.name)
        ));
    }
    let mut terminals = String::new();
    for (terminal, _) in &records.terminals {
        terminals.push_str(&format!(
            r#"<option value="{}">{} ({})</option>"#,
            escape(terminal.id.as_str()),
            escape(&terminal.name),
            escape(terminal.id.as_str())
        ));
    }
    format!(
        r#"<section class="card" id="new-rollout"><h2>New rollout</h2>
<p class="muted">The canary store's terminals update first, alone; then the stages, as rising shares of the other terminals, the last one 100. A stage whose failed share is above the threshold halts the rollout.</p>
<form method="post" action="{base}/updates/rollouts" id="rollout-form" class="form-grid">
<label>Bundle<select name="bundle" id="rollout-bundle" required>{bundles}</select></label>
<label>Canary store<select name="canary_store" id="rollout-canary">{canary}</select></label>
<label>Stages (% of the others)<input name="stages" id="rollout-stages" value="10, 50, 100"></label>
<label>Halt above (% failed)<input name="failure_threshold_percent" id="rollout-threshold" type="number" min="0" max="100" value="10"></label>
<fieldset class="wide"><legend>Only these stores</legend>{stores}</fieldset>
<label class="wide">or only these terminals<select name="terminal" id="rollout-terminals" multiple size="4">{terminals}</select></label>
<p class="muted wide">Choose neither to update every terminal of {tenant}.</p>
<button type="submit" id="start-rollout">Start rollout</button></form></section>"#,
        tenant = escape(&visible.tenant.name)
    )
}

fn store_option(store: &StoreRecord) -> String {
    format!(
        r#"<option value="{}">{}</option>"#,
        escape(store.id.as_str()),
        escape(&store.name)
    )
}

fn windows_card(visible: &Visible, windows: &[Option<Window>], base: &str) -> String {
    let mut rows = String::new();
    let mut options = String::new();
    for (store, window) in visible.stores.iter().zip(windows) {
        rows.push_str(&format!(
            r#"<tr data-store="{}"><td>{}</td><td class="window">{}</td></tr>"#,
            escape(store.id.as_str()),
            escape(&store.name),
            escape(&describe_window(window.as_ref()))
        ));
        options.push_str(&store_option(store));
    }
    let clocks: Vec<String> = visible
        .stores
        .iter()
        .map(|s| format!("{}: {}", s.name, store_clock_name(s)))
        .collect();
    format!(
        r#"<section class="card" id="windows"><h2>Maintenance windows</h2>
<p class="muted">A store's terminals install and restart only inside its window, for every rollout, and never while a sale is open. Times are on the store's clock as it is now ({}); set a window again after a change to or from summer time.</p>
<table id="store-windows"><thead><tr><th>Store</th><th>Takes updates</th></tr></thead><tbody>{rows}</tbody></table>
<form method="post" action="{base}/updates/windows" id="window-form" class="form-grid">
<label>Store<select name="store" id="window-store">{options}</select></label>
<label>When<select name="window" id="window-kind"><option value="daily">every day between</option><option value="after_z_close">after the Z report</option><option value="any">at any time</option></select></label>
<label>From<input type="time" name="start" id="window-start" value="02:00"></label>
<label>To<input type="time" name="end" id="window-end" value="05:00"></label>
<button type="submit" id="set-window">Set window</button></form></section>"#,
        escape(&clocks.join(", "))
    )
}

fn rollouts_card(
    visible: &Visible,
    rollouts: &[(RolloutRecord, Vec<ActionRecord>)],
    bundles: &[BundleRecord],
    store_name: &dyn Fn(&StoreId) -> String,
    base: &str,
) -> String {
    let clock = tenant_clock(visible);
    let mut cards = String::new();
    for (rollout, actions) in rollouts {
        let counts = stage_counts(&rollout.plan, actions);
        let mut rows = String::new();
        for (stage, row) in counts.iter().enumerate() {
            let stage = u32::try_from(stage).unwrap_or(u32::MAX);
            let total: u32 = row.iter().sum();
            let current = stage == rollout.current_stage && rollout.state == RolloutState::Running;
            let mut cells = String::new();
            for (phase, count) in Phase::ALL.iter().zip(row) {
                cells.push_str(&format!(r#"<td class="num {}">{count}</td>"#, phase.name()));
            }
            rows.push_str(&format!(
                r#"<tr data-stage="{stage}"{}><td>{}{}</td><td class="num total">{total}</td>{cells}</tr>"#,
                if current { r#" class="current""# } else { "" },
                escape(&stage_name(&rollout.plan, stage, store_name)),
                if current { " (now)" } else { "" }
            ));
        }
        let mut head = String::new();
        for phase in Phase::ALL {
            head.push_str(&format!(r#"<th class="num">{}</th>"#, phase.name()));
        }
        let halt = rollout
            .halt_reason
            .as_ref()
            .map_or_else(String::new, |reason| {
                format!(
                    r#"<p class="notice error halt">Halted: {}.</p>"#,
                    escape(reason)
                )
            });
        let cancel = if matches!(rollout.state, RolloutState::Running | RolloutState::Halted) {
            format!(
                r#"<form method="post" action="{base}/updates/rollouts/{}/cancel" class="cancel"><button type="submit" class="danger" id="cancel-{}">Cancel rollout</button></form>"#,
                url_part(&rollout.id),
                escape(&rollout.id)
            )
        } else {
            String::new()
        };
        let version = bundles
            .iter()
            .find(|b| b.id == rollout.bundle)
            .map_or_else(|| rollout.bundle.clone(), |b| b.version.clone());
        cards.push_str(&format!(
            r#"<article class="rollout" data-rollout="{id}"><h3>{id} <span class="state {state}">{state}</span></h3>
<p class="muted">Bundle {version} to {target}, started {started}; halts above {threshold}% failed.</p>{halt}
<table class="stages"><thead><tr><th>Stage</th><th class="num">terminals</th>{head}</tr></thead><tbody>{rows}</tbody></table>{cancel}</article>"#,
            id = escape(&rollout.id),
            state = state_name(rollout.state),
            version = escape(&version),
            target = escape(&describe_target(&rollout.target, store_name)),
            started = when(Some(rollout.created_at), clock),
            threshold = rollout.plan.failure_threshold_percent,
        ));
    }
    if rollouts.is_empty() {
        cards.push_str(r#"<p class="muted">No rollout yet.</p>"#);
    }
    format!(r#"<section class="card" id="rollouts"><h2>Rollouts</h2>{cards}</section>"#)
}

fn terminals_card(
    visible: &Visible,
    terminals: &[(TerminalRecord, TerminalUpdate)],
    store_name: &dyn Fn(&StoreId) -> String,
) -> String {
    let mut rows = String::new();
    for (terminal, update) in terminals {
        let clock = clock_of(visible, &terminal.store);
        let attributes = &update.report.attributes;
        let slots = SlotReport::all(attributes);
        let booted = slots
            .iter()
            .find(|s| s.state == "booted")
            .map_or_else(|| "not reported".to_owned(), SlotReport::text);
        let others: Vec<String> = slots
            .iter()
            .filter(|s| s.state != "booted")
            .map(SlotReport::text)
            .collect();
        let (phase, feedback) = match &update.action {
            None => ("no update yet".to_owned(), "–".to_owned()),
            Some(action) => (
                format!(
                    "{}{} ({})",
                    Phase::of(action).name(),
                    if action.status == ActionStatus::Canceling {
                        ", being cancelled"
                    } else {
                        ""
                    },
                    action.rollout
                ),
                action.last_feedback.as_ref().map_or_else(
                    || "none yet".to_owned(),
                    |note| format!("{} — {}", feedback_text(note), when(Some(note.at), clock)),
                ),
            ),
        };
        rows.push_str(&format!(
            r#"<tr data-terminal="{}"><td>{}</td><td>{}</td><td class="version">{}</td><td class="booted">{}</td><td class="other-slots">{}</td><td class="update">{}</td><td class="feedback">{}</td></tr>"#,
            escape(terminal.id.as_str()),
            escape(&terminal.name),
            escape(&store_name(&terminal.store)),
            escape(operator::installed_version(attributes).as_deref().unwrap_or("not reported")),
            escape(&booted),
            escape(&if others.is_empty() { "–".to_owned() } else { others.join("; ") }),
            escape(&phase),
            escape(&feedback),
        ));
    }
    if terminals.is_empty() {
        rows.push_str(
            r#"<tr><td colspan="7" class="muted">No terminal is enrolled yet.</td></tr>"#,
        );
    }
    format!(
        r#"<section class="card" id="terminal-updates"><h2>Terminals</h2><table id="terminal-update-list"><thead><tr><th>Terminal</th><th>Store</th><th>Installed</th><th>Booted slot</th><th>Other slots</th><th>Update</th><th>Last feedback</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">As each terminal last reported: the version it runs, its slots (good or bad as the bootloader sees them, and the version in each), and the last step of its current or last update.</p></section>"#
    )
}

#[cfg(test)]
mod tests {
    use pos_core::clock::Timestamp;

    use super::*;
    use crate::updates::storage::Progress;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_rollout_form_targets_stores_terminals_or_the_whole_tenant() {
        let base = [
            ("bundle", "bundle-1"),
            ("canary_store", ""),
            ("stages", "10, 50 100%"),
            ("failure_threshold_percent", "20"),
        ];
        let tenant = rollout_from_form(&pairs(&base)).unwrap();
        assert_eq!(tenant.target, Target::Tenant);
        assert_eq!(tenant.plan.stages, vec![10, 50, 100]);
        assert_eq!(tenant.plan.canary_store, None);
        let mut stores = pairs(&base);
        stores.extend(pairs(&[("store", "store-1"), ("store", "store-2")]));
        assert_eq!(
            rollout_from_form(&stores).unwrap().target,
            Target::Stores(vec![StoreId::new("store-1"), StoreId::new("store-2")])
        );
        let mut both = stores.clone();
        both.extend(pairs(&[("terminal", "term-1")]));
        assert!(rollout_from_form(&both).unwrap_err().contains("not both"));
        let mut bad = pairs(&base);
        bad[2].1 = "10, half".into();
        assert_eq!(
            rollout_from_form(&bad).unwrap_err(),
            "'half' is not a percentage; write the stages like 10, 50, 100"
        );
        bad[2].1 = "100".into();
        bad[3].1 = "150".into();
        assert!(
            rollout_from_form(&bad)
                .unwrap_err()
                .contains("from 0 to 100")
        );
    }

    #[test]
    fn a_slot_report_is_read_into_its_parts() {
        let attributes = serde_json::json!({
            "version": "1.5.0",
            "slot.rootfs.1": "booted good 1.5.0",
            "slot.rootfs.0": "inactive bad -",
        });
        let slots = SlotReport::all(attributes.as_object().unwrap());
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[0].text(), "rootfs.0 · bad · no version");
        assert_eq!(slots[1].state, "booted");
        assert_eq!(slots[1].text(), "rootfs.1 · good · 1.5.0");
    }

    fn action(status: ActionStatus, execution: Option<Execution>, stage: u32) -> ActionRecord {
        ActionRecord {
            id: 1,
            rollout: "rollout-1".into(),
            terminal: DeviceId::new("term-1"),
            store: StoreId::new("store-1"),
            stage,
            status,
            last_feedback: execution.map(|execution| FeedbackNote {
                execution,
                finished: Finished::None,
                progress: Some(Progress { cnt: 2, of: 5 }),
                details: vec!["downloading".into()],
                at: Timestamp::from_unix_ms(0),
            }),
            updated_at: Timestamp::from_unix_ms(0),
        }
    }

    #[test]
    fn stages_count_their_terminals_by_phase() {
        let plan = Plan {
            canary_store: Some(StoreId::new("store-1")),
            stages: vec![50, 100],
            failure_threshold_percent: 10,
        };
        let actions = [
            action(ActionStatus::Succeeded, Some(Execution::Closed), 0),
            action(ActionStatus::Running, Some(Execution::Proceeding), 1),
            action(ActionStatus::Running, Some(Execution::Downloaded), 1),
            action(ActionStatus::Failed, Some(Execution::Closed), 1),
            action(ActionStatus::Pending, None, 2),
        ];
        assert_eq!(
            stage_counts(&plan, &actions),
            vec![[0, 0, 0, 1, 0, 0], [0, 1, 1, 0, 1, 0], [1, 0, 0, 0, 0, 0]]
        );
        let name = |id: &StoreId| format!("Store {id}");
        assert_eq!(stage_name(&plan, 0, &name), "Canary: Store store-1");
        assert_eq!(stage_name(&plan, 2, &name), "100% of the others");
        let no_canary = Plan {
            canary_store: None,
            ..plan.clone()
        };
        assert_eq!(stage_name(&no_canary, 0, &name), "50% of the terminals");
        assert_eq!(
            feedback_text(actions[1].last_feedback.as_ref().unwrap()),
            "proceeding · 40%: downloading"
        );
    }

    #[test]
    fn a_window_from_the_form_is_on_the_store_clock() {
        let form = |window: &str, start: &str| WindowForm {
            store: "store-1".into(),
            window: window.into(),
            start: start.into(),
            end: "05:00".into(),
        };
        let daily = window_from_form(&form("daily", "02:00"), 60).unwrap();
        assert_eq!(
            describe_window(daily.as_ref()),
            "every day from 02:00 to 05:00 (UTC+01:00)"
        );
        assert_eq!(window_from_form(&form("any", ""), 0).unwrap(), None);
        assert_eq!(
            describe_window(
                window_from_form(&form("after_z_close", ""), 0)
                    .unwrap()
                    .as_ref()
            ),
            "after the Z report closes the shift"
        );
        assert!(window_from_form(&form("weekly", ""), 0).is_err());
    }
}
