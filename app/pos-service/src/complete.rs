//! Carrying out a checked setup plan: enrolment with the fleet (through [`Enroller`]), the
//! configuration and the first administrator (through [`SetupTarget`], which the terminal
//! implements over its config module and store), and last the setup state, written
//! atomically. Until that last rename the terminal is not set up, and the next start shows the
//! setup screen again; a step that fails leaves nothing of the setup state behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::setup::{AdminAccount, SetupPlan};

/// The setup state's file in the data directory.
pub const STATE_FILE: &str = "setup.json";
/// How long enrolment waits for the fleet before it says it cannot be reached.
pub const ENROL_TIMEOUT: Duration = Duration::from_secs(10);

/// What the fleet answered to an enrolment code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// The fleet's id for this terminal.
    pub device: String,
    pub tenant: String,
    pub store: String,
    /// The store's name as the fleet lists it, if it said.
    #[serde(default)]
    pub store_name: Option<String>,
    /// The terminal's bearer token. Kept only in the setup state (mode 0600).
    pub token: String,
}

impl std::fmt::Debug for Enrolment {
    /// Never prints the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("device", &self.device)
            .field("tenant", &self.tenant)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// A completed setup, as `setup.json` holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupState {
    pub completed_at_ms: i64,
    pub terminal_name: String,
    pub device: String,
    pub store_name: String,
    pub time_zone: String,
    pub locale: String,
    /// Empty when none was given.
    pub fleet_url: String,
    /// `None`: set up offline, to be enrolled later.
    pub enrolment: Option<Enrolment>,
    pub admin_user: String,
}

impl SetupState {
    /// The state in `data_dir`, or `None` when setup has not been completed there.
    pub fn load(data_dir: &Path) -> Result<Option<SetupState>, CompleteError> {
        let path = data_dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|error| {
                CompleteError::StateDamaged {
                    path,
                    detail: error.to_string(),
                }
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CompleteError::Write { path, source }),
        }
    }
}

/// Whether setup was completed in `data_dir`. A damaged state counts as not set up, so the
/// technician sees the setup screen rather than a till with half a configuration.
pub fn is_set_up(data_dir: &Path) -> bool {
    matches!(SetupState::load(data_dir), Ok(Some(_)))
}

/// Why enrolment failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    #[error(
        "The fleet at {url} cannot be reached ({detail}). Check the network cable and the address, or finish offline and enrol later."
    )]
    Unreachable { url: String, detail: String },
    #[error("The fleet refused the enrolment code: {0}")]
    Refused(String),
    #[error("The fleet's answer could not be read ({0}); is {1} really an Open POS fleet?")]
    BadAnswer(String, String),
}

impl EnrolError {
    /// The message in `locale`.
    pub fn message(&self, locale: &str) -> String {
        if locale != "de" {
            return self.to_string();
        }
        match self {
            EnrolError::Unreachable { url, detail } => format!(
                "Die Flotte unter {url} ist nicht erreichbar ({detail}). Prüfen Sie Netzwerkkabel und Adresse, oder schließen Sie offline ab und melden Sie die Kasse später an."
            ),
            EnrolError::Refused(reason) => {
                format!("Die Flotte hat den Anmeldecode abgelehnt: {reason}")
            }
            EnrolError::BadAnswer(detail, url) => format!(
                "Die Antwort der Flotte ist unlesbar ({detail}); ist {url} wirklich eine Open-POS-Flotte?"
            ),
        }
    }
}

/// Exchanges an enrolment code for the terminal's credential.
pub trait Enroller {
    fn enrol(&self, url: &str, code: &str, terminal_name: &str) -> Result<Enrolment, EnrolError>;
}

/// Enrols over HTTP with the sync protocol's enrolment exchange (`POST /sync/v1/enrol`), with
/// the enrolment key the terminal keeps in its data directory (the one its sync agent sends):
/// an answer lost on the way after the fleet took the code is asked for again with the same
/// code and key, and the fleet hands this terminal its credential instead of refusing the
/// used code. Blocking: call it off the UI thread.
#[derive(Clone, Debug)]
pub struct FleetEnroller {
    data_dir: PathBuf,
}

/// How many times a lost answer is asked for again before the technician is told (who can
/// then try again with the same code).
const LOST_ANSWER_RETRIES: u32 = 1;

impl FleetEnroller {
    /// Enrols the terminal whose data directory is `data_dir`.
    pub fn new(data_dir: &Path) -> FleetEnroller {
        FleetEnroller {
            data_dir: data_dir.to_path_buf(),
        }
    }
}

impl Enroller for FleetEnroller {
    fn enrol(&self, url: &str, code: &str, terminal_name: &str) -> Result<Enrolment, EnrolError> {
        let unreachable = |detail: String| EnrolError::Unreachable {
            url: url.to_owned(),
            detail,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        let client = reqwest::Client::builder()
            .timeout(ENROL_TIMEOUT)
            .connect_timeout(ENROL_TIMEOUT)
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        use pos_sync::http::{HttpError, enrol_with_key, enrolment_key};
        let key = enrolment_key(&self.data_dir);
        let mut retries = 0;
        let answer = loop {
            let answer = runtime.block_on(enrol_with_key(
                &client,
                url,
                code,
                terminal_name,
                key.as_deref(),
            ));
            match answer {
                // The request left but no answer came back: the fleet may have taken the code.
                // With the key, asking again is safe; without it, it would only be refused.
                Err(HttpError::Unreachable(error))
                    if key.is_some() && !error.is_connect() && retries < LOST_ANSWER_RETRIES =>
                {
                    retries += 1;
                }
                answer => break answer,
            }
        };
        match answer {
            Ok(answer) => Ok(Enrolment {
                device: answer.device.to_string(),
                tenant: answer.tenant.to_string(),
                store: answer.store.to_string(),
                store_name: answer.store_name,
                token: answer.token,
            }),
            Err(HttpError::Unreachable(error)) => Err(unreachable(short_cause(&error))),
            Err(HttpError::Refused { message, .. }) => Err(EnrolError::Refused(message)),
            Err(other) => Err(EnrolError::BadAnswer(other.to_string(), url.to_owned())),
        }
    }
}

/// The innermost cause of a connection error ("Connection refused (os error 111)"), which
/// says more to a technician than reqwest's outer wrapper.
fn short_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// What setup writes besides its own state: the terminal implements it over its config
/// module and its store.
pub trait SetupTarget {
    /// Checks and writes `terminal.toml` (atomically).
    fn write_config(&mut self, text: &str) -> Result<(), String>;
    /// Saves the first administrator with a hash of their PIN.
    fn create_admin(&mut self, admin: &AdminAccount) -> Result<(), String>;
}

#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    #[error(transparent)]
    Enrol(#[from] EnrolError),
    #[error("The terminal's configuration could not be saved: {0}")]
    Config(String),
    #[error("The administrator could not be saved: {0}")]
    Admin(String),
    #[error("{path} could not be written: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the setup state {path} is damaged ({detail})")]
    StateDamaged { path: PathBuf, detail: String },
}

impl CompleteError {
    pub fn message(&self, locale: &str) -> String {
        match (self, locale) {
            (CompleteError::Enrol(error), _) => error.message(locale),
            (CompleteError::Config(detail), "de") => {
                format!("Die Einstellungen der Kasse konnten nicht gespeichert werden: {detail}")
            }
            (CompleteError::Admin(detail), "de") => {
                format!("Der Administrator konnte nicht gespeichert werden: {detail}")
            }
            (other, _) => other.to_string(),
        }
    }
}

/// Carries out `plan`: enrols (unless the plan is offline), writes the configuration, saves
/// the administrator, and last writes the setup state. `now_ms` is the completion time.
pub fn complete_setup(
    plan: &SetupPlan,
    data_dir: &Path,
    enroller: &dyn Enroller,
    target: &mut dyn SetupTarget,
    now_ms: i64,
) -> Result<SetupState, CompleteError> {
    let enrolment = enrol(plan, enroller)?;
    finish_setup(plan, enrolment, data_dir, target, now_ms)
}

/// The network part of setup: enrols unless the plan is offline. Blocking; the screen runs it
/// off the UI thread.
pub fn enrol(plan: &SetupPlan, enroller: &dyn Enroller) -> Result<Option<Enrolment>, EnrolError> {
    match &plan.fleet {
        Some(fleet) => enroller
            .enrol(&fleet.url, &fleet.code, &plan.terminal_name)
            .map(Some),
        None => Ok(None),
    }
}

/// The local part of setup, after [`enrol`]: the configuration, the administrator, and last the
/// setup state.
pub fn finish_setup(
    plan: &SetupPlan,
    enrolment: Option<Enrolment>,
    data_dir: &Path,
    target: &mut dyn SetupTarget,
    now_ms: i64,
) -> Result<SetupState, CompleteError> {
    let store_name = match (&enrolment, plan.store_name.as_str()) {
        (Some(enrolment), "") => enrolment
            .store_name
            .clone()
            .unwrap_or_else(|| enrolment.store.clone()),
        (_, typed) => typed.to_owned(),
    };
    target
        .write_config(&plan.terminal_toml)
        .map_err(CompleteError::Config)?;
    target
        .create_admin(&plan.admin)
        .map_err(CompleteError::Admin)?;
    let state = SetupState {
        completed_at_ms: now_ms,
        terminal_name: plan.terminal_name.clone(),
        device: plan.device.clone(),
        store_name,
        time_zone: plan.time_zone.clone(),
        locale: plan.locale.clone(),
        fleet_url: plan.fleet_url.clone(),
        enrolment,
        admin_user: plan.admin.user.clone(),
    };
    let json = serde_json::to_vec_pretty(&state).map_err(|error| CompleteError::Write {
        path: data_dir.join(STATE_FILE),
        source: std::io::Error::other(error),
    })?;
    write_atomically(&data_dir.join(STATE_FILE), &json, 0o600)?;
    Ok(state)
}

/// Enrols a terminal that was set up offline: the fleet's answer goes into the setup state,
/// written atomically. Refused when the terminal has no completed setup.
pub fn enrol_later(
    data_dir: &Path,
    enroller: &dyn Enroller,
    url: &str,
    code: &str,
) -> Result<SetupState, CompleteError> {
    let Some(mut state) = SetupState::load(data_dir)? else {
        return Err(CompleteError::StateDamaged {
            path: data_dir.join(STATE_FILE),
            detail: "the terminal is not set up yet".to_owned(),
        });
    };
    let url = url.trim().trim_end_matches('/');
    let enrolment = enroller.enrol(url, code.trim(), &state.terminal_name)?;
    state.fleet_url = url.to_owned();
    state.enrolment = Some(enrolment);
    let json = serde_json::to_vec_pretty(&state).map_err(|error| CompleteError::Write {
        path: data_dir.join(STATE_FILE),
        source: std::io::Error::other(error),
    })?;
    write_atomically(&data_dir.join(STATE_FILE), &json, 0o600)?;
    Ok(state)
}

/// Writes `bytes` to `path` so that a reader sees the old file or the whole new one, never
/// part of it: a temporary file beside it, synced, renamed over it, and the folder synced.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CompleteError> {
    use std::os::unix::fs::OpenOptionsExt;
    let write_error = |source| CompleteError::Write {
        path: path.to_path_buf(),
        source,
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(write_error)?;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&partial)
        .map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    drop(file);
    std::fs::rename(&partial, path).map_err(write_error)?;
    std::fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(write_error)?;
    Ok(())
}
