//! What the update service keeps, behind its own small trait, [`UpdateStorage`], beside
//! [`crate::storage::FleetStorage`] rather than inside it: bundles, rollouts, one action per
//! terminal and rollout, the feedback terminals send, what terminals report about themselves
//! (DDI config data) and each store's maintenance window.
//!
//! Like `FleetStorage`, methods are synchronous and every change that spans rows is one
//! transaction. Serving a file never calls this trait for more than a read.

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use serde::{Deserialize, Serialize};

use super::rollout::{ActionStatus, Execution, FeedbackOn, Finished, Plan, Window};
use crate::storage::StorageError;

/// A bundle the fleet accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRecord {
    pub id: String,
    /// The name terminals download it as.
    pub filename: String,
    pub version: String,
    pub compatible: String,
    /// `verity` or `plain`.
    pub format: String,
    pub size: u64,
    pub sha1: String,
    pub md5: String,
    pub sha256: String,
    pub uploaded_at: Timestamp,
    /// The account that uploaded it.
    pub uploaded_by: String,
}

/// Which terminals a rollout is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every terminal of the tenant.
    Tenant,
    /// Every terminal of these stores.
    Stores(Vec<StoreId>),
    Terminals(Vec<DeviceId>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    Running,
    /// Stopped by a stage's failure rate; terminals already updating finish, no others start.
    Halted,
    Canceled,
    Finished,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Running => "running",
            RolloutState::Halted => "halted",
            RolloutState::Canceled => "canceled",
            RolloutState::Finished => "finished",
        }
    }

    pub fn parse(text: &str) -> Option<RolloutState> {
        [
            RolloutState::Running,
            RolloutState::Halted,
            RolloutState::Canceled,
            RolloutState::Finished,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutRecord {
    pub id: String,
    pub tenant: TenantId,
    pub bundle: String,
    pub target: Target,
    pub plan: Plan,
    pub state: RolloutState,
    /// The stage whose terminals are offered the update (0 is the first).
    pub current_stage: u32,
    pub halt_reason: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// `status.result.progress` of DDI feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub cnt: u64,
    pub of: u64,
}

/// One feedback a terminal sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackNote {
    pub execution: Execution,
    pub finished: Finished,
    pub progress: Option<Progress>,
    pub details: Vec<String>,
    pub at: Timestamp,
}

/// One terminal's part in a rollout: the DDI action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub id: u64,
    pub rollout: String,
    pub terminal: DeviceId,
    pub store: StoreId,
    pub stage: u32,
    pub status: ActionStatus,
    pub last_feedback: Option<FeedbackNote>,
    pub updated_at: Timestamp,
}

/// What a terminal reported about itself through DDI config data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalReport {
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Whether the fleet wants the terminal to send its attributes again.
    pub requested: bool,
    pub updated_at: Option<Timestamp>,
}

/// A terminal as the update service sees it, with or without a rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalUpdate {
    pub terminal: DeviceId,
    pub report: TerminalReport,
    /// Its latest action: the unfinished one when there is one (a terminal is in one
    /// unfinished rollout at a time, so no action is newer), else how its last update ended.
    pub action: Option<ActionRecord>,
}

/// How config data changes the attributes (DDI's `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigMode {
    #[default]
    Merge,
    Replace,
    Remove,
}

pub trait UpdateStorage: Send + Sync + 'static {
    /// Refuses a bundle whose SHA-256 is already stored ([`StorageError::Conflict`]).
    fn save_bundle(&self, bundle: &BundleRecord) -> Result<(), StorageError>;
    fn bundle(&self, id: &str) -> Result<Option<BundleRecord>, StorageError>;
    fn bundles(&self) -> Result<Vec<BundleRecord>, StorageError>;

    /// Creates the rollout with one pending action per terminal and stage, in one transaction.
    /// Refuses ([`StorageError::Conflict`]) when a terminal has an unfinished action elsewhere.
    fn create_rollout(
        &self,
        rollout: &RolloutRecord,
        actions: &[(DeviceId, StoreId, u32)],
        now: Timestamp,
    ) -> Result<(), StorageError>;
    fn rollout(&self, id: &str) -> Result<Option<RolloutRecord>, StorageError>;
    fn rollouts(&self, tenant: &TenantId) -> Result<Vec<RolloutRecord>, StorageError>;
    fn rollout_actions(&self, rollout: &str) -> Result<Vec<ActionRecord>, StorageError>;
    /// Moves a running rollout on from `from_stage`; false when it was no longer running at
    /// that stage (another request moved it first).
    fn advance_rollout(
        &self,
        rollout: &str,
        from_stage: u32,
        state: RolloutState,
        stage: u32,
        reason: Option<&str>,
    ) -> Result<bool, StorageError>;
    /// Cancels the rollout: actions no terminal has answered are cancelled at once, the others
    /// wait for their terminal to confirm.
    fn cancel_rollout(&self, rollout: &str, now: Timestamp) -> Result<(), StorageError>;

    /// The terminal's unfinished actions with their rollouts, oldest first.
    fn open_actions(
        &self,
        terminal: &DeviceId,
    ) -> Result<Vec<(ActionRecord, RolloutRecord)>, StorageError>;
    fn action(&self, id: u64) -> Result<Option<ActionRecord>, StorageError>;
    /// What the update service knows of each of `terminals`, in the same order: its report
    /// and its latest action. One read for them all, for the store and dashboard views.
    fn terminal_updates(&self, terminals: &[DeviceId])
    -> Result<Vec<TerminalUpdate>, StorageError>;
    /// Stores the feedback and moves the action as [`super::rollout::apply_feedback`] says, in
    /// one transaction; returns the action as it now is.
    fn record_feedback(
        &self,
        action: u64,
        on: FeedbackOn,
        note: &FeedbackNote,
    ) -> Result<ActionRecord, StorageError>;
    /// Every feedback of an action, oldest first.
    fn feedback_history(&self, action: u64) -> Result<Vec<FeedbackNote>, StorageError>;

    fn terminal_report(&self, terminal: &DeviceId) -> Result<TerminalReport, StorageError>;
    fn save_config_data(
        &self,
        terminal: &DeviceId,
        mode: ConfigMode,
        data: &serde_json::Map<String, serde_json::Value>,
        now: Timestamp,
    ) -> Result<(), StorageError>;
    /// Asks the terminal to send its attributes again (after an update).
    fn request_config_data(&self, terminal: &DeviceId) -> Result<(), StorageError>;

    fn set_store_window(
        &self,
        store: &StoreId,
        window: Option<&Window>,
    ) -> Result<(), StorageError>;
    fn store_window(&self, store: &StoreId) -> Result<Option<Window>, StorageError>;
}
