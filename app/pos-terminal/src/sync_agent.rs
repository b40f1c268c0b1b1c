//! The terminal's sync agent: a background thread that runs `pos_sync`'s state machine with
//! the reqwest adapter against the fleet (or the store's hub), pushing the store's journal and
//! applying the changes it pulls, while the cashier keeps selling.
//!
//! It owns the `[sync]` part of `terminal.toml`, the terminal's credential file in the data
//! directory and its own connection to the store (SQLite in WAL mode lets it write pulled
//! changes while the till writes sales; a busy store makes either wait, never fail). It never
//! records a business event and never touches the screen: the screen reads a [`SyncStatus`]
//! snapshot when it wants one.
//!
//! ```toml
//! [sync]
//! url = "https://fleet.example.com"   # the fleet, or the store's hub: http://192.168.1.10:8080
//! enrolment_code = "ABCD-EFGH-IJKL"   # used once, when no credential is stored yet
//! name = "Till 1"                     # how the fleet lists this terminal
//! pull_interval_s = 30
//! ```
//!
//! No `[sync]` section means an offline terminal: it sells and keeps its journal, and sends it
//! once sync is configured.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use pos_store::Store;
use pos_sync::http::{FleetClient, HttpError, enrol_with_key, enrolment_key};
use pos_sync::machine::{Output, ResumePoint, SyncConfig, SyncMachine};
use serde::{Deserialize, Serialize};

/// The credential from enrolment, inside the data directory (mode 0600).
pub const CREDENTIAL_FILE: &str = "sync-credential.json";
/// How often the agent looks for new journal entries while it waits.
const OUTBOX_POLL: Duration = Duration::from_millis(200);
/// Enrolment retries back off up to this.
const ENROL_RETRY_MAX: Duration = Duration::from_secs(60);

/// `[sync]` as written in `terminal.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSync {
    url: Option<String>,
    enrolment_code: Option<String>,
    name: Option<String>,
    pull_interval_s: Option<u64>,
    request_timeout_s: Option<u64>,
}

/// The checked `[sync]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSettings {
    /// The fleet's or the hub's base URL.
    pub url: String,
    /// A one-time code from the fleet, exchanged for the credential on first start.
    pub enrolment_code: Option<String>,
    pub name: String,
    pub pull_interval: Duration,
    /// A request that has not been answered by then counts as lost.
    pub request_timeout: Duration,
    /// The first retry after a failure; doubles up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl SyncSettings {
    pub fn new(url: &str, name: &str) -> SyncSettings {
        SyncSettings {
            url: url.trim_end_matches('/').to_owned(),
            enrolment_code: None,
            name: name.to_owned(),
            pull_interval: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }

    /// Checks `[sync]`; `device` names the terminal when the file gives no name.
    pub fn from_raw(raw: RawSync, device: &str) -> Result<Option<SyncSettings>, String> {
        let Some(url) = raw.url.map(|u| u.trim().to_owned()) else {
            if raw.enrolment_code.is_some() {
                return Err("[sync] has an enrolment_code but no url of the fleet".to_owned());
            }
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "[sync] url = \"{url}\": write the fleet's address with its scheme, like \
                 \"https://fleet.example.com\" or \"http://192.168.1.10:8080\" for a hub"
            ));
        }
        let mut settings = SyncSettings::new(&url, raw.name.as_deref().unwrap_or(device));
        settings.enrolment_code = raw.enrolment_code.filter(|c| !c.trim().is_empty());
        if let Some(seconds) = raw.pull_interval_s {
            settings.pull_interval = Duration::from_secs(seconds.clamp(1, 3_600));
        }
        if let Some(seconds) = raw.request_timeout_s {
            settings.request_timeout = Duration::from_secs(seconds.clamp(1, 600));
        }
        Ok(Some(settings))
    }
}

/// What the status bar can show about sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// The last request got an answer.
    pub online: bool,
    /// Journal entries the fleet does not hold yet.
    pub backlog: u64,
    /// When the outbox was last fully acknowledged and the pulls caught up.
    pub last_success: Option<Timestamp>,
    /// Why the last attempt failed, in words for a technician; cleared by a success.
    pub last_error: Option<String>,
    /// The id the fleet knows this terminal by, once enrolled.
    pub device: Option<DeviceId>,
    /// Sync stopped for a reason retrying cannot cure (revoked, another protocol): what to do.
    pub halted: Option<String>,
    /// How many pulled pages changed what the till sells by (the tenant's switches, the
    /// loyalty programme, settings the fleet publishes): the screen takes them up when this
    /// moves.
    pub tenant_changes: u64,
}

/// A shared, always current [`SyncStatus`].
#[derive(Clone, Debug, Default)]
pub struct SyncStatusHandle(Arc<Mutex<SyncStatus>>);

impl SyncStatusHandle {
    pub fn snapshot(&self) -> SyncStatus {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, change: impl FnOnce(&mut SyncStatus)) {
        let mut status = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let before = (status.last_error.clone(), status.halted.clone());
        change(&mut status);
        // Each new trouble once in the log, for the technician who exports it.
        for (was, now) in [(&before.0, &status.last_error), (&before.1, &status.halted)] {
            if let Some(now) = now.as_ref().filter(|now| was.as_ref() != Some(*now)) {
                eprintln!("pos-terminal: sync: {now}");
            }
        }
    }
}

/// The credential a terminal got at enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The server that issued it: a credential is only good there.
    pub url: String,
    pub device: DeviceId,
    pub tenant: TenantId,
    pub store: StoreId,
    pub token: String,
}

impl Credential {
    pub fn load(data_dir: &Path) -> Result<Option<Credential>, SyncStartError> {
        let path = data_dir.join(CREDENTIAL_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| SyncStartError::Credential {
                        path,
                        detail: format!("it is not a credential this software wrote: {e}"),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SyncStartError::Credential {
                path,
                detail: e.to_string(),
            }),
        }
    }

    /// Writes the credential readable by the terminal's user only, through a temporary file so
    /// a power cut leaves the old one or the new one.
    pub fn save(&self, data_dir: &Path) -> Result<(), SyncStartError> {
        let path = data_dir.join(CREDENTIAL_FILE);
        let error = |e: std::io::Error| SyncStartError::Credential {
            path: path.clone(),
            detail: e.to_string(),
        };
        let temporary = data_dir.join(format!("{CREDENTIAL_FILE}.new"));
        let text = serde_json::to_vec_pretty(self).map_err(|e| SyncStartError::Credential {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary).map_err(error)?;
            file.write_all(&text).map_err(error)?;
            file.sync_all().map_err(error)?;
        }
        std::fs::rename(&temporary, &path).map_err(error)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncStartError {
    #[error("the sync credential {path} cannot be used: {detail}")]
    Credential { path: PathBuf, detail: String },
    #[error(
        "this terminal was enrolled at {enrolled} but is now configured for {configured}; \
         put an enrolment_code from the new server in [sync] and delete {file}"
    )]
    OtherServer {
        enrolled: String,
        configured: String,
        file: PathBuf,
    },
    #[error(
        "this terminal has no sync credential yet: put an enrolment_code from the fleet in \
         the [sync] section of terminal.toml"
    )]
    NotEnrolled,
    #[error("the store could not be opened for sync: {0}")]
    Store(#[from] pos_store::StoreError),
    #[error("the sync thread could not start: {0}")]
    Thread(std::io::Error),
}

/// The running agent. Dropping it stops the thread (after the request in flight, if any).
pub struct SyncAgent {
    status: SyncStatusHandle,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SyncAgent {
    /// Starts syncing the store in `data_dir`. Fails at once only for what no retry cures: an
    /// unreadable credential, a credential of another server, no credential and no code.
    pub fn start(
        data_dir: &Path,
        device: DeviceId,
        settings: SyncSettings,
    ) -> Result<SyncAgent, SyncStartError> {
        let credential = Credential::load(data_dir)?;
        match &credential {
            Some(found) if found.url != settings.url && settings.enrolment_code.is_none() => {
                return Err(SyncStartError::OtherServer {
                    enrolled: found.url.clone(),
                    configured: settings.url.clone(),
                    file: data_dir.join(CREDENTIAL_FILE),
                });
            }
            None if settings.enrolment_code.is_none() => return Err(SyncStartError::NotEnrolled),
            _ => {}
        }
        let store = Store::open(data_dir, device)?;
        let status = SyncStatusHandle::default();
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            data_dir: data_dir.to_path_buf(),
            settings,
            credential,
            store,
            status: status.clone(),
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name("pos-sync".into())
            .spawn(move || worker.run())
            .map_err(SyncStartError::Thread)?;
        Ok(SyncAgent {
            status,
            stop,
            thread: Some(thread),
        })
    }

    pub fn status(&self) -> SyncStatusHandle {
        self.status.clone()
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.halt_thread();
    }

    fn halt_thread(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            eprintln!("pos-terminal: the sync thread ended with a panic");
        }
    }
}

impl Drop for SyncAgent {
    fn drop(&mut self) {
        self.halt_thread();
    }
}

struct Worker {
    data_dir: PathBuf,
    settings: SyncSettings,
    credential: Option<Credential>,
    store: Store,
    status: SyncStatusHandle,
    stop: Arc<AtomicBool>,
}

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_ms(ms)
}

/// A different jitter per terminal, so tills that lost the network together do not all
/// retry in the same millisecond.
fn jitter_seed(device: &DeviceId) -> u64 {
    device
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

impl Worker {
    fn run(mut self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                self.status.update(|s| {
                    s.last_error = Some(format!("the sync thread could not start: {e}"));
                });
                return;
            }
        };
        runtime.block_on(self.drive());
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps up to `duration`, waking early to stop.
    async fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(OUTBOX_POLL)).await;
        }
    }

    fn client(&self) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .timeout(self.settings.request_timeout)
            .connect_timeout(self.settings.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {e}"))
    }

    async fn drive(&mut self) {
        let client = match self.client() {
            Ok(client) => client,
            Err(message) => {
                self.status.update(|s| s.last_error = Some(message));
                return;
            }
        };
        let Some(credential) = self.credential(&client).await else {
            return;
        };
        self.status
            .update(|s| s.device = Some(credential.device.clone()));
        let fleet = FleetClient::new(client, &credential.url, &credential.token);
        if let Err(message) = self.sync(&fleet, &credential.device).await {
            self.status.update(|s| {
                s.online = false;
                s.last_error = Some(message);
            });
        }
    }

    /// The stored credential, or one got by enrolling (retried until it works or stops).
    async fn credential(&mut self, client: &reqwest::Client) -> Option<Credential> {
        if let Some(credential) = self
            .credential
            .clone()
            .filter(|c| c.url == self.settings.url)
        {
            return Some(credential);
        }
        let code = self.settings.enrolment_code.clone()?;
        let key = enrolment_key(&self.data_dir);
        let mut wait = self.settings.backoff_base;
        while !self.stopping() {
            let enrolled = enrol_with_key(
                client,
                &self.settings.url,
                &code,
                &self.settings.name,
                key.as_deref(),
            )
            .await;
            match enrolled {
                Ok(enrolled) => {
                    let credential = Credential {
                        url: self.settings.url.clone(),
                        device: enrolled.device,
                        tenant: enrolled.tenant,
                        store: enrolled.store,
                        token: enrolled.token,
                    };
                    if let Err(e) = credential.save(&self.data_dir) {
                        self.status.update(|s| s.last_error = Some(e.to_string()));
                        return None;
                    }
                    self.status.update(|s| {
                        s.online = true;
                        s.last_error = None;
                    });
                    return Some(credential);
                }
                Err(HttpError::Refused {
                    status: 401,
                    message,
                }) => {
                    // A used or wrong code stays wrong: say so and stop.
                    self.status.update(|s| {
                        s.online = true;
                        s.halted = Some(format!(
                            "enrolment refused: {message}; put a new code in [sync]"
                        ));
                    });
                    return None;
                }
                Err(e) => {
                    self.status.update(|s| {
                        s.online = !matches!(e, HttpError::Unreachable(_));
                        s.last_error = Some(e.to_string());
                    });
                    self.pause(wait).await;
                    wait = (wait * 2).min(ENROL_RETRY_MAX);
                }
            }
        }
        None
    }

    fn backlog(&self, acked: u64) -> Result<u64, String> {
        let last = self
            .store
            .outbox_last_seq()
            .map_err(|e| format!("the store could not be read: {e}"))?;
        Ok(last.saturating_sub(acked))
    }

    /// Runs the machine until stopped. `Err` only when the store fails.
    async fn sync(&mut self, fleet: &FleetClient, device: &DeviceId) -> Result<(), String> {
        let store_error = |e: pos_store::StoreError| format!("the store failed during sync: {e}");
        let resume = ResumePoint {
            acked_seq: self.store.acknowledged_seq().map_err(store_error)?,
            outbox_last_seq: self.store.outbox_last_seq().map_err(store_error)?,
            cursor: self.store.sync_cursor().map_err(store_error)?,
        };
        let config = SyncConfig {
            pull_interval_ms: millis(self.settings.pull_interval),
            backoff_ms_base: millis(self.settings.backoff_base),
            backoff_ms_max: millis(self.settings.backoff_max),
            ..SyncConfig::new(device.clone(), jitter_seed(device))
        };
        let mut machine = SyncMachine::new(config, resume);
        while !self.stopping() {
            machine.handle_outbox_appended(self.store.outbox_last_seq().map_err(store_error)?);
            let now_ms = now().unix_ms();
            let backlog = self.backlog(machine.acked_seq())?;
            self.status.update(|s| s.backlog = backlog);
            let Some(output) = machine.poll_output(now_ms) else {
                // Halted and reported: wait to be stopped.
                self.pause(OUTBOX_POLL).await;
                continue;
            };
            match output {
                Output::LoadOutbox {
                    from_seq,
                    entries_max,
                } => {
                    let limit = u32::try_from(entries_max).unwrap_or(u32::MAX);
                    let entries = self
                        .store
                        .outbox_from(from_seq, limit)
                        .map_err(store_error)?;
                    machine.handle_outbox_entries(entries);
                }
                Output::Send { id, request } => match fleet.send(&request).await {
                    Ok(response) => {
                        let server_trouble = matches!(
                            &response,
                            pos_sync::machine::Response::Refused { status, .. } if *status >= 500
                        );
                        if let pos_sync::machine::Response::Refused { error, status } = &response {
                            let message = format!("the fleet answered {status}: {}", error.message);
                            self.status.update(|s| s.last_error = Some(message));
                        }
                        self.status.update(|s| s.online = !server_trouble);
                        machine.handle_response(id, response, now().unix_ms());
                    }
                    Err(e) => {
                        self.status.update(|s| {
                            s.online = false;
                            s.last_error = Some(format!("the fleet could not be reached: {e}"));
                        });
                        machine.handle_transport_error(id, now().unix_ms());
                    }
                },
                Output::Acknowledged { high_water_seq } => {
                    self.store
                        .acknowledge(high_water_seq)
                        .map_err(store_error)?;
                }
                Output::Apply {
                    changes,
                    next_cursor,
                } => {
                    let applied = self
                        .store
                        .apply_pulled(&changes, next_cursor, now())
                        .map_err(store_error)?;
                    if applied.changes_the_till() {
                        self.status.update(|s| s.tenant_changes += 1);
                    }
                }
                Output::WaitUntil { at_ms } => {
                    if machine.is_caught_up() && machine.failures() == 0 {
                        self.status.update(|s| {
                            s.online = true;
                            s.last_success = Some(now());
                            s.last_error = None;
                        });
                    }
                    self.store.apply_due_prices(now()).map_err(store_error)?;
                    // Wake at the machine's time, or as soon as the till journals something.
                    let seen = self.store.outbox_last_seq().map_err(store_error)?;
                    let until = Instant::now()
                        + Duration::from_millis(
                            u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0),
                        );
                    while !self.stopping() && Instant::now() < until {
                        tokio::time::sleep(
                            until
                                .saturating_duration_since(Instant::now())
                                .min(OUTBOX_POLL),
                        )
                        .await;
                        if machine.failures() == 0
                            && self.store.outbox_last_seq().map_err(store_error)? > seen
                        {
                            break;
                        }
                    }
                }
                Output::Halted(halt) => {
                    let message = format!("{halt} ({:?})", halt.kind());
                    self.status.update(|s| s.halted = Some(message));
                }
            }
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
