//! Hub mode: the same server on a PC in the store. Terminals enrol with and sync to the hub on
//! the LAN, so they keep syncing with each other while the internet is down; the hub relays
//! their journals upstream, and the upstream's changes down to them, when the link is there.
//!
//! Upstream the hub is one terminal of its store: it enrols once with a code from the cloud
//! fleet and pushes every journal entry its terminals pushed, in the order it stored them,
//! renumbered 1, 2, 3… (the relay outbox, filled in the same transaction as each push), each
//! naming the till that recorded it (`recorded_by`), so the cloud counts its sales for that
//! till and not for the hub. Event ids travel unchanged, so the cloud counts every sale once
//! whichever way it arrives, and a resent batch is a duplicate there like anywhere else. What it pulls it publishes to its
//! terminals as it came. The relay is the terminal's state machine (`pos_sync::machine`)
//! driven by the same reqwest adapter, so a hub retries, backs off and resumes exactly as a
//! till does.
//!
//! It owns the hub's credential file and the relay thread. A hub keeps its records on SQLite:
//! it is one machine in one shop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pos_core::id::{DeviceId, StoreId, TenantId};
use pos_core::money::Currency;
use pos_sync::http::{FleetClient, Journal, RunOutcome, enrol, run_until_caught_up};
use pos_sync::machine::{ResumePoint, SyncConfig, SyncMachine};
use pos_sync::wire::{Change, JournalEntry};
use serde::{Deserialize, Serialize};

use crate::server::{Database, FleetConfig, RunningFleet};
use crate::sqlite::SqliteStorage;
use crate::storage::StorageError;

/// The hub's upstream credential, inside the data directory (mode 0600).
pub const CREDENTIAL_FILE: &str = "hub-credential.json";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubConfig {
    /// The cloud fleet's base URL.
    pub upstream: String,
    /// A one-time code from the cloud fleet for this store, used on the first start.
    pub enrolment_code: Option<String>,
    pub name: String,
    /// The store's currency until the cloud's setting arrives.
    pub currency: Currency,
    /// How often the hub pulls when nothing else happens.
    pub pull_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub request_timeout: Duration,
}

impl HubConfig {
    pub fn new(upstream: &str) -> HubConfig {
        HubConfig {
            upstream: upstream.trim_end_matches('/').to_owned(),
            enrolment_code: None,
            name: "Store hub".to_owned(),
            currency: Currency::EUR,
            pull_interval: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubCredential {
    pub upstream: String,
    pub device: DeviceId,
    pub tenant: TenantId,
    pub store: StoreId,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(
        "a store hub keeps its records on SQLite in its data directory; remove --database {0:?}"
    )]
    NotSqlite(Database),
    #[error(
        "the hub has no upstream credential yet: give --enrolment-code with a code from the \
         cloud fleet for this store (the first start needs the link to the cloud)"
    )]
    NotEnrolled,
    #[error("the hub could not enrol with {upstream}: {detail}")]
    Enrolment { upstream: String, detail: String },
    #[error("the hub credential {path} cannot be used: {detail}")]
    Credential { path: PathBuf, detail: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Fleet(#[from] crate::server::FleetError),
}

fn credential_error(path: &Path, detail: impl ToString) -> HubError {
    HubError::Credential {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

fn load_credential(path: &Path) -> Result<Option<HubCredential>, HubError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| credential_error(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(credential_error(path, e)),
    }
}

fn save_credential(path: &Path, credential: &HubCredential) -> Result<(), HubError> {
    use std::io::Write;
    let text = serde_json::to_vec_pretty(credential).map_err(|e| credential_error(path, e))?;
    let temporary = path.with_extension("json.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .map_err(|e| credential_error(path, e))?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .map_err(|e| credential_error(path, e))?;
    std::fs::rename(&temporary, path).map_err(|e| credential_error(path, e))
}

/// A running hub: the server its terminals talk to, and the relay thread.
pub struct RunningHub {
    pub fleet: RunningFleet,
    pub credential: HubCredential,
    pub storage: Arc<SqliteStorage>,
    stop: Arc<AtomicBool>,
    relay: Option<std::thread::JoinHandle<()>>,
}

impl RunningHub {
    /// Stops relaying (after the request in flight) and waits for the relay thread.
    pub fn stop_relay(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(relay) = self.relay.take()
            && relay.join().is_err()
        {
            eprintln!("pos-fleet hub: the relay thread ended with a panic");
        }
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        self.stop_relay();
    }
}

/// Enrols upstream on the first start, makes the database the store's hub, serves the
/// terminals and starts relaying.
pub async fn start(config: &FleetConfig, hub: HubConfig) -> Result<RunningHub, HubError> {
    let Database::Sqlite(path) = &config.database else {
        return Err(HubError::NotSqlite(config.database.clone()));
    };
    let path = path.clone();
    let storage = tokio::task::spawn_blocking(move || SqliteStorage::open_file(&path))
        .await
        .map_err(|e| StorageError::Database(format!("opening the database stopped: {e}")))??;
    let storage = Arc::new(storage);
    let credential_path = config.data_dir.join(CREDENTIAL_FILE);
    let credential = match load_credential(&credential_path)? {
        Some(credential) if credential.upstream == hub.upstream => credential,
        found => {
            let Some(code) = hub.enrolment_code.as_deref() else {
                return Err(match found {
                    Some(other) => credential_error(
                        &credential_path,
                        format!(
                            "it was issued by {}, not {}; give a new --enrolment-code",
                            other.upstream, hub.upstream
                        ),
                    ),
                    None => HubError::NotEnrolled,
                });
            };
            let client = reqwest::Client::builder()
                .timeout(hub.request_timeout)
                .build()
                .map_err(|e| HubError::Enrolment {
                    upstream: hub.upstream.clone(),
                    detail: e.to_string(),
                })?;
            let enrolled = enrol(&client, &hub.upstream, code, &hub.name)
                .await
                .map_err(|e| HubError::Enrolment {
                    upstream: hub.upstream.clone(),
                    detail: e.to_string(),
                })?;
            let credential = HubCredential {
                upstream: hub.upstream.clone(),
                device: enrolled.device,
                tenant: enrolled.tenant,
                store: enrolled.store,
                token: enrolled.token,
            };
            save_credential(&credential_path, &credential)?;
            credential
        }
    };
    let adopting = Arc::clone(&storage);
    let (tenant, store, currency) = (
        credential.tenant.clone(),
        credential.store.clone(),
        hub.currency,
    );
    tokio::task::spawn_blocking(move || {
        adopting.become_hub(&tenant, &store, currency, crate::api::now())
    })
    .await
    .map_err(|e| StorageError::Database(format!("preparing the hub stopped: {e}")))??;
    let transport = crate::server::transport(config)?;
    let fleet = crate::server::start_with(config, transport, storage.clone()).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let relay = Relay {
        storage: Arc::clone(&storage),
        credential: credential.clone(),
        hub,
        stop: Arc::clone(&stop),
    };
    let relay = std::thread::Builder::new()
        .name("pos-hub-relay".into())
        .spawn(move || relay.run())
        .map_err(|e| StorageError::Database(format!("the relay thread could not start: {e}")))?;
    Ok(RunningHub {
        fleet,
        credential,
        storage,
        stop,
        relay: Some(relay),
    })
}

struct Relay {
    storage: Arc<SqliteStorage>,
    credential: HubCredential,
    hub: HubConfig,
    stop: Arc<AtomicBool>,
}

/// The relay outbox as the sync adapter's journal.
struct HubJournal<'a> {
    storage: &'a SqliteStorage,
    tenant: &'a TenantId,
}

impl Journal for HubJournal<'_> {
    type Error = StorageError;

    fn load(
        &mut self,
        from_seq: u64,
        entries_max: usize,
    ) -> Result<Vec<JournalEntry>, StorageError> {
        self.storage.hub_outbox(from_seq, entries_max)
    }

    fn acknowledged(&mut self, high_water_seq: u64) -> Result<(), StorageError> {
        self.storage.hub_acknowledged(high_water_seq)
    }

    fn apply(&mut self, changes: Vec<Change>, next_cursor: u64) -> Result<(), StorageError> {
        self.storage.hub_apply(self.tenant, &changes, next_cursor)
    }
}

fn now_ms() -> i64 {
    crate::api::now().unix_ms()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Relay {
    fn run(self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("pos-fleet hub: the relay could not start: {e}");
                return;
            }
        };
        runtime.block_on(self.relay());
    }

    async fn pause(&self, duration: Duration) {
        let step = Duration::from_millis(50);
        let mut left = duration;
        while !left.is_zero() && !self.stop.load(Ordering::SeqCst) {
            tokio::time::sleep(left.min(step)).await;
            left = left.saturating_sub(step);
        }
    }

    async fn relay(&self) {
        let client = match reqwest::Client::builder()
            .timeout(self.hub.request_timeout)
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                eprintln!("pos-fleet hub: the relay's HTTP client failed: {e}");
                return;
            }
        };
        let upstream = FleetClient::new(client, &self.hub.upstream, &self.credential.token);
        let mut machine = None;
        while !self.stop.load(Ordering::SeqCst) {
            let (acked, cursor, last) = match self.storage.hub_position() {
                Ok(position) => position,
                Err(e) => {
                    eprintln!("pos-fleet hub: the relay outbox cannot be read: {e}");
                    self.pause(self.hub.backoff_max).await;
                    continue;
                }
            };
            let machine = machine.get_or_insert_with(|| {
                let device = self.credential.device.clone();
                SyncMachine::new(
                    SyncConfig {
                        pull_interval_ms: millis(self.hub.pull_interval),
                        backoff_ms_base: millis(self.hub.backoff_base),
                        backoff_ms_max: millis(self.hub.backoff_max),
                        ..SyncConfig::new(device, 0x6875_6221)
                    },
                    ResumePoint {
                        acked_seq: acked,
                        outbox_last_seq: last,
                        cursor,
                    },
                )
            });
            machine.handle_outbox_appended(last);
            let mut journal = HubJournal {
                storage: &self.storage,
                tenant: &self.credential.tenant,
            };
            match run_until_caught_up(machine, &mut journal, &upstream, now_ms, 64).await {
                Ok(RunOutcome::CaughtUp) => {
                    // Caught up: look again soon for what the terminals pushed meanwhile.
                    self.pause(Duration::from_millis(100)).await;
                }
                Ok(RunOutcome::Halted(halt)) => {
                    eprintln!(
                        "pos-fleet hub: relaying stopped: {halt} ({:?})",
                        halt.kind()
                    );
                    self.pause(self.hub.backoff_max).await;
                }
                Err(pos_sync::http::HttpError::StepsExhausted(_)) => {}
                Err(e) => {
                    eprintln!("pos-fleet hub: relaying failed: {e}");
                    self.pause(self.hub.backoff_base).await;
                }
            }
        }
    }
}
