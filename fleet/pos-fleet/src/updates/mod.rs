//! Over-the-air updates: signed RAUC bundles uploaded by the fleet operator, rollouts that
//! offer a bundle to a tenant's terminals stage by stage, and the device API terminals poll,
//! in the shape of Eclipse hawkBit's DDI (`/{tenant}/controller/v1/{controllerId}`), so the
//! terminal's agent and stock hawkBit clients (rauc-hawkbit-updater, SWUpdate) both work.
//!
//! - [`bundle`]: the checks an upload passes (real `rauc info` against the fleet's keyring,
//!   compatible string, verity payload);
//! - [`rollout`]: the pure rules (stages, halting, windows, feedback), no IO;
//! - [`artifact`]: Range, ETag and Last-Modified over a file streamed from disk;
//! - [`ddi`]: the device API; `operator` the operator API under `/api/v1`, whose steps
//!   (upload, start, cancel, window) the dashboard's Updates page calls too;
//! - [`storage`]: the [`storage::UpdateStorage`] trait, [`sqlite`] its implementation on
//!   the fleet's SQLite file and [`postgres`] on PostgreSQL, in tables of their own.
//!
//! It must not change the sync API or `FleetStorage`: it reads terminals, stores and accounts
//! through `FleetStorage` and keeps everything else behind its own trait.

pub mod artifact;
pub mod bundle;
pub mod ddi;
pub(crate) mod operator;
pub mod postgres;
pub mod rollout;
pub mod sqlite;
pub mod storage;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};

use crate::api::{ApiError, AppState};
use crate::storage::StorageError;
use bundle::BundlePolicy;
use storage::UpdateStorage;

/// How often terminals are told to poll when nothing else is said.
pub const POLLING_SLEEP_SECS_DEFAULT: u64 = 5 * 60;
/// The largest bundle the fleet takes.
pub const BUNDLE_BYTES_MAX_DEFAULT: u64 = 2 * 1024 * 1024 * 1024;

/// The update service's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdatesConfig {
    pub policy: BundlePolicy,
    pub polling_sleep_secs: u64,
    pub bundle_bytes_max: u64,
}

impl UpdatesConfig {
    pub fn new(policy: BundlePolicy) -> UpdatesConfig {
        UpdatesConfig {
            policy,
            polling_sleep_secs: POLLING_SLEEP_SECS_DEFAULT,
            bundle_bytes_max: BUNDLE_BYTES_MAX_DEFAULT,
        }
    }
}

/// What the update handlers share.
#[derive(Clone)]
pub struct UpdatesState {
    pub(crate) api: AppState,
    pub(crate) updates: Arc<dyn UpdateStorage>,
    /// `None` when no keyring is configured: terminals can poll, uploads are refused.
    pub(crate) config: Option<Arc<UpdatesConfig>>,
    pub(crate) bundles_dir: PathBuf,
    /// `https` or `http`, for the links handed to terminals.
    pub(crate) scheme: &'static str,
}

impl UpdatesState {
    pub fn new(
        api: AppState,
        updates: Arc<dyn UpdateStorage>,
        config: Option<UpdatesConfig>,
        bundles_dir: PathBuf,
        tls: bool,
    ) -> UpdatesState {
        UpdatesState {
            api,
            updates,
            config: config.map(Arc::new),
            bundles_dir,
            scheme: if tls { "https" } else { "http" },
        }
    }

    /// The largest bundle taken; past it an upload is refused.
    pub(crate) fn bundle_bytes_max(&self) -> u64 {
        self.config
            .as_ref()
            .map_or(BUNDLE_BYTES_MAX_DEFAULT, |c| c.bundle_bytes_max)
    }

    fn polling_sleep_secs(&self) -> u64 {
        self.config
            .as_ref()
            .map_or(POLLING_SLEEP_SECS_DEFAULT, |c| c.polling_sleep_secs)
    }
}

/// Runs an update-storage call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &UpdatesState,
    call: impl FnOnce(&dyn UpdateStorage) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    let storage = Arc::clone(&state.updates);
    tokio::task::spawn_blocking(move || call(storage.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("the request was interrupted: {e}")))?
        .map_err(ApiError::from)
}

/// The update routes: the operator API and the DDI device API.
pub fn router(state: UpdatesState) -> Router {
    const CONTROLLER: &str = "/{tenant}/controller/v1/{controller}";
    Router::new()
        .route(
            "/api/v1/bundles",
            post(operator::upload_bundle).get(operator::list_bundles),
        )
        .route(
            "/api/v1/tenants/{tenant}/rollouts",
            post(operator::create_rollout).get(operator::list_rollouts),
        )
        .route("/api/v1/rollouts/{rollout}", get(operator::rollout_status))
        .route(
            "/api/v1/rollouts/{rollout}/cancel",
            post(operator::cancel_rollout),
        )
        .route(
            "/api/v1/stores/{store}/update-window",
            put(operator::set_window),
        )
        .route(
            "/api/v1/stores/{store}/updates",
            get(operator::store_updates),
        )
        .route(CONTROLLER, get(ddi::poll))
        .route(
            &format!("{CONTROLLER}/deploymentBase/{{action}}"),
            get(ddi::deployment_base),
        )
        .route(
            &format!("{CONTROLLER}/deploymentBase/{{action}}/feedback"),
            post(ddi::deployment_feedback),
        )
        .route(
            &format!("{CONTROLLER}/cancelAction/{{action}}"),
            get(ddi::cancel_action),
        )
        .route(
            &format!("{CONTROLLER}/cancelAction/{{action}}/feedback"),
            post(ddi::cancel_feedback),
        )
        .route(&format!("{CONTROLLER}/configData"), put(ddi::config_data))
        .route(
            &format!("{CONTROLLER}/softwaremodules/{{module}}/artifacts/{{filename}}"),
            get(ddi::download).head(ddi::download_head),
        )
        .with_state(state)
}
