//! The update agent inside the terminal: `pos_update`'s [`DdiAdapter`] and its state machine
//! on a background thread, polling the fleet (when `[update]` names one) and installing the
//! signed bundles a USB stick left in the import directory, through RAUC on the system bus.
//!
//! Owns the `[update]` settings, the [`Host`] the agent asks about the till and the time, the
//! [`UpdateStatus`] snapshot the status bar and the service screen show, and the manager's
//! postponement. The till's side is pushed in from the UI thread as a [`TillActivity`] after
//! each change; the agent never reads the till itself and never blocks the UI.
//!
//! Rules kept here, each with a test:
//! - the till counts as busy (no restart) while a cart has lines, a payment is being taken,
//!   a refund or exchange is open, an approval is awaited or the drawer is being counted,
//!   until the screen has reported at all, and until it has been idle for
//!   [`IDLE_BEFORE_RESTART`] (or `idle_before_restart_s`);
//! - only a role allowed [`POSTPONE_PERMISSION`] (a manager, who also closes the day) puts a
//!   restart off;
//! - a USB bundle is installed only with the import's record, and is removed from the import
//!   directory once it was installed or refused, so a bad stick is refused once, not forever.
//!
//! It must not decide what the agent decides (when to retry, what to verify, when to restart)
//! and must not touch the store or the screen.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pos_core::access::Role;
use pos_core::clock::Timestamp;
use pos_till::view::{Screen, TillView};
use pos_update::agent::{MaintenanceWindow, Notice, Now, Phase};
use pos_update::ddi::{DdiAdapter, DdiConfig, Host, LocalBundle, LocalRefusal};
use pos_update::rauc::{Bus, Rauc};
use serde::Deserialize;
use time::UtcOffset;

/// The permission that lets someone put off the restart into an installed update: the
/// person who may close the day (`reports.*`: managers and above) decides when it restarts.
pub const POSTPONE_PERMISSION: &str = "reports.z";
/// Where the USB import puts verified bundles and their records.
pub const IMPORTS_DIR_DEFAULT: &str = "/data/updates";
/// The running system's version is `VERSION_ID` here.
pub const OS_RELEASE_DEFAULT: &str = "/etc/os-release";
/// The file the terminal creates to have the box restarted (`pos-reboot.path`; the service
/// screen asks for its reboots the same way).
pub const REBOOT_REQUEST_FILE: &str = "reboot.request";
/// How long the till must have been idle before the agent may restart it: a cashier who has
/// just finished a sale is likely to start the next one, and the screen reports once a second.
pub const IDLE_BEFORE_RESTART: Duration = Duration::from_secs(30);
/// How often the agent looks at the till, the import directory and its commands.
const TICK: Duration = Duration::from_secs(2);
/// How long to wait before polling again after the fleet could not be reached.
const POLL_RETRY: Duration = Duration::from_secs(60);
/// How long to wait before trying RAUC's D-Bus service again.
const RAUC_RETRY: Duration = Duration::from_secs(30);

/// The `[update]` section of `terminal.toml`, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawUpdate {
    /// The fleet's URL; without it only USB sticks bring updates.
    pub fleet: Option<String>,
    pub tenant: Option<String>,
    /// The terminal's id from enrolment.
    pub controller_id: Option<String>,
    /// The file holding the terminal's credential from enrolment (its `TargetToken`).
    pub token_file: Option<PathBuf>,
    /// "02:00-05:00", the store's local time; the restart waits for it.
    pub window: Option<String>,
    pub imports: Option<PathBuf>,
    pub os_release: Option<PathBuf>,
    /// "system" (the default) or a D-Bus address.
    pub bus: Option<String>,
    /// Seconds the till must have been idle before it restarts into an update (30 when not
    /// set; 5 to 3600).
    pub idle_before_restart_s: Option<u64>,
}

/// The checked `[update]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateSettings {
    pub fleet: Option<FleetLink>,
    pub window: Option<MaintenanceWindow>,
    pub imports: PathBuf,
    pub os_release: PathBuf,
    /// `None` is the system bus.
    pub bus_address: Option<String>,
    pub idle_before_restart: Duration,
}

/// Where the fleet's device API is and who this terminal is to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetLink {
    pub url: String,
    pub tenant: String,
    pub controller_id: String,
    pub token: FleetToken,
}

/// Where the terminal's `TargetToken` comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum FleetToken {
    /// A file holding it (`token_file` of `[update]`), read when the agent starts.
    File(PathBuf),
    /// The credential the terminal got when it enrolled for sync: the same one.
    Enrolled(String),
}

impl std::fmt::Debug for FleetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FleetToken::File(path) => f.debug_tuple("File").field(path).finish(),
            // A credential never goes into a log.
            FleetToken::Enrolled(_) => f.write_str("Enrolled(…)"),
        }
    }
}

impl Default for UpdateSettings {
    /// No fleet, no window: USB sticks, the system bus, the image's paths.
    fn default() -> UpdateSettings {
        UpdateSettings {
            fleet: None,
            window: None,
            imports: PathBuf::from(IMPORTS_DIR_DEFAULT),
            os_release: PathBuf::from(OS_RELEASE_DEFAULT),
            bus_address: None,
            idle_before_restart: IDLE_BEFORE_RESTART,
        }
    }
}

impl UpdateSettings {
    /// Checks the section; the error names the setting and what it should look like.
    pub fn from_raw(raw: RawUpdate) -> Result<UpdateSettings, String> {
        let fleet = match raw.fleet.filter(|url| !url.trim().is_empty()) {
            None => None,
            Some(url) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!(
                        "update fleet = \"{url}\": use the fleet's address, like \"https://fleet.example.com\""
                    ));
                }
                let needed = |value: Option<String>, what: &str, example: &str| {
                    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                        format!("update fleet = \"{url}\" needs {what}, like {example}")
                    })
                };
                FleetLink {
                    tenant: needed(raw.tenant, "tenant", "tenant = \"tenant-3f9a…\"")?,
                    controller_id: needed(
                        raw.controller_id,
                        "controller_id (the terminal's id from enrolment)",
                        "controller_id = \"term-5c1e…\"",
                    )?,
                    token: raw.token_file.map(FleetToken::File).ok_or_else(|| {
                        format!(
                            "update fleet = \"{url}\" needs token_file (the credential from enrolment), like token_file = \"/data/pos/fleet-token\""
                        )
                    })?,
                    url,
                }
                .into()
            }
        };
        let window = raw
            .window
            .map(|text| {
                parse_window(&text).ok_or_else(|| {
                    format!("update window = \"{text}\": use the store's local hours, like \"02:00-05:00\"")
                })
            })
            .transpose()?;
        let bus_address = match raw.bus.as_deref() {
            None | Some("system") => None,
            Some(address) if address.contains('=') => Some(address.to_owned()),
            Some(other) => {
                return Err(format!(
                    "update bus = \"{other}\": use \"system\" or a D-Bus address like \"unix:path=/run/dbus/system_bus_socket\""
                ));
            }
        };
        let idle_before_restart = match raw.idle_before_restart_s {
            None => IDLE_BEFORE_RESTART,
            Some(seconds @ 5..=3600) => Duration::from_secs(seconds),
            Some(other) => {
                return Err(format!(
                    "update idle_before_restart_s = {other}: use 5 to 3600 seconds, like idle_before_restart_s = 30"
                ));
            }
        };
        Ok(UpdateSettings {
            fleet,
            window,
            imports: raw
                .imports
                .unwrap_or_else(|| PathBuf::from(IMPORTS_DIR_DEFAULT)),
            os_release: raw
                .os_release
                .unwrap_or_else(|| PathBuf::from(OS_RELEASE_DEFAULT)),
            bus_address,
            idle_before_restart,
        })
    }
}

/// "02:00-05:00" as minutes after midnight; it may wrap ("22:00-04:00"), but not be empty.
pub fn parse_window(text: &str) -> Option<MaintenanceWindow> {
    let (start, end) = text.split_once('-')?;
    let minute = |hhmm: &str| -> Option<u16> {
        let (h, m) = hhmm.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
    };
    let (start_minute, end_minute) = (minute(start)?, minute(end)?);
    (start_minute != end_minute).then_some(MaintenanceWindow {
        start_minute,
        end_minute,
    })
}

/// What the agent needs to know of the till, from its view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TillActivity {
    /// A sale, refund, approval or drawer count is under way: no restart now.
    pub busy: bool,
    /// No shift is open (the Z report is done, or the day has not begun).
    pub shift_closed: bool,
}

impl TillActivity {
    pub fn of(view: &TillView) -> TillActivity {
        let sale_complete = view
            .payment
            .as_ref()
            .is_some_and(|payment| payment.receipt_number.is_some());
        let selling = !sale_complete && (!view.cart.lines.is_empty() || view.payment.is_some());
        let busy = selling
            || view.refund.is_some()
            || view.exchange.is_some()
            || view.approval.is_some()
            || view.screen == Screen::ShiftClose;
        TillActivity {
            busy,
            shift_closed: view.shift.summary.is_empty(),
        }
    }
}

/// Where the update stands, for the status bar and the service screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateStage {
    /// Nothing to do.
    Idle,
    Downloading {
        version: String,
        percent: u8,
    },
    Installing {
        version: String,
    },
    /// Installed in the other slot; restarts when the till is idle (and in the window).
    ReadyToRestart {
        version: String,
        postponed_until: Option<Timestamp>,
    },
    Restarting {
        version: String,
    },
    /// Running the new version; checking it before keeping it.
    Checking {
        version: String,
    },
    RollingBack {
        version: String,
    },
}

impl UpdateStage {
    pub fn of(phase: &Phase) -> UpdateStage {
        match phase {
            Phase::Idle => UpdateStage::Idle,
            Phase::CheckingSpace { deployment } => UpdateStage::Downloading {
                version: deployment.version.clone(),
                percent: 0,
            },
            Phase::Downloading {
                deployment,
                bytes_so_far,
                ..
            } => UpdateStage::Downloading {
                version: deployment.version.clone(),
                percent: u8::try_from(
                    bytes_so_far.saturating_mul(100) / deployment.size_bytes.max(1),
                )
                .unwrap_or(100)
                .min(100),
            },
            Phase::Installing { deployment } => UpdateStage::Installing {
                version: deployment.version.clone(),
            },
            Phase::AwaitingReboot {
                deployment,
                postponed_until_unix_ms,
            } => UpdateStage::ReadyToRestart {
                version: deployment.version.clone(),
                postponed_until: postponed_until_unix_ms
                    .and_then(|ms| i64::try_from(ms).ok())
                    .map(Timestamp::from_unix_ms),
            },
            Phase::Rebooting { deployment } => UpdateStage::Restarting {
                version: deployment.version.clone(),
            },
            Phase::Confirming { deployment, .. } => UpdateStage::Checking {
                version: deployment.version.clone(),
            },
            Phase::RollingBack { deployment, .. } => UpdateStage::RollingBack {
                version: deployment.version.clone(),
            },
        }
    }
}

/// A snapshot of the update agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateStatus {
    /// The version the terminal runs.
    pub installed_version: String,
    pub stage: UpdateStage,
    /// The last thing that went wrong, in words for a cashier or a technician.
    pub last_error: Option<String>,
    /// The last news for the cashier ("Updated to 1.5.0").
    pub last_message: Option<String>,
}

impl UpdateStatus {
    /// One line for the service screen's software page: the stage, the last news while idle
    /// ("The update was undone …"), and the last problem until it is over.
    pub fn summary(&self) -> String {
        let mut line = self.stage_summary();
        if let (UpdateStage::Idle, Some(news)) = (&self.stage, &self.last_message) {
            line.push_str(" · ");
            line.push_str(news);
        }
        if let Some(problem) = &self.last_error {
            line.push_str(" · Problem: ");
            line.push_str(problem);
        }
        line
    }

    fn stage_summary(&self) -> String {
        match &self.stage {
            UpdateStage::Idle => format!("Version {}", self.installed_version),
            UpdateStage::Downloading { version, percent } => {
                format!("Downloading update {version} ({percent}%)")
            }
            UpdateStage::Installing { version } => format!("Installing update {version}"),
            UpdateStage::ReadyToRestart {
                version,
                postponed_until: Some(_),
            } => format!("Update {version} ready; restart postponed by a manager"),
            UpdateStage::ReadyToRestart { version, .. } => {
                format!("Update {version} ready; restarts when the till is idle")
            }
            UpdateStage::Restarting { version } => format!("Restarting into {version}"),
            UpdateStage::Checking { version } => format!("Checking update {version}"),
            UpdateStage::RollingBack { version } => {
                format!("Update {version} failed; going back")
            }
        }
    }

    /// A few words for the status bar while an update is under way; `None` when idle (the
    /// bar then shows the version and slot).
    pub fn status_bar(&self) -> Option<String> {
        Some(match &self.stage {
            UpdateStage::Idle => return None,
            UpdateStage::Downloading { version, percent } => {
                format!("Update {version} · {percent}%")
            }
            UpdateStage::Installing { version } => format!("Installing {version}"),
            UpdateStage::ReadyToRestart { version, .. } => format!("Update {version} ready"),
            UpdateStage::Restarting { version } => format!("Restarting · {version}"),
            UpdateStage::Checking { version } => format!("Checking {version}"),
            UpdateStage::RollingBack { version } => format!("Update {version} failed"),
        })
    }
}

/// Why a postponement was not taken.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PostponeError {
    #[error("{role} may not postpone an update; ask a manager")]
    NotAllowed { role: String },
    #[error("no installed update is waiting to restart")]
    NothingWaiting,
    #[error("the update agent is not running")]
    AgentStopped,
}

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum UpdateStartError {
    #[error("the update agent's thread could not start: {0}")]
    Thread(std::io::Error),
}

enum Command {
    Postpone { until_unix_ms: u64 },
}

/// What the UI thread and the agent's thread share.
struct Shared {
    busy: AtomicBool,
    /// Since when the screen has reported the till idle without a break; `None` while busy.
    idle_since: Mutex<Option<std::time::Instant>>,
    shift_closed: AtomicBool,
    status: Mutex<UpdateStatus>,
    idle_before_restart: Duration,
}

impl Shared {
    /// Busy unless the screen has reported the till idle for `idle_before_restart`.
    fn till_busy(&self, now: std::time::Instant) -> bool {
        let idle_since = *self
            .idle_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.busy.load(Ordering::SeqCst)
            || idle_since.is_none_or(|since| now.duration_since(since) < self.idle_before_restart)
    }

    fn status(&self) -> MutexGuard<'_, UpdateStatus> {
        // A panic elsewhere while holding it leaves a snapshot that is still worth showing.
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The terminal's hold on the running agent: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct UpdateHandle {
    shared: Arc<Shared>,
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
}

impl UpdateHandle {
    pub fn status(&self) -> UpdateStatus {
        self.shared.status().clone()
    }

    /// Tells the agent what the till is doing; the UI thread calls it after each change.
    pub fn report_till(&self, activity: TillActivity) {
        self.shared.busy.store(activity.busy, Ordering::SeqCst);
        let mut idle_since = self
            .shared
            .idle_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *idle_since = match (*idle_since, activity.busy) {
            (_, true) => None,
            (Some(since), false) => Some(since),
            (None, false) => Some(std::time::Instant::now()),
        };
        self.shared
            .shift_closed
            .store(activity.shift_closed, Ordering::SeqCst);
    }

    /// Puts the restart into an installed update off until `until`, for someone in `role`.
    pub fn postpone(&self, role: &Role, until: Timestamp) -> Result<(), PostponeError> {
        if !role.allows(POSTPONE_PERMISSION) {
            return Err(PostponeError::NotAllowed {
                role: role.name.clone(),
            });
        }
        if !matches!(self.status().stage, UpdateStage::ReadyToRestart { .. }) {
            return Err(PostponeError::NothingWaiting);
        }
        self.commands
            .send(Command::Postpone {
                until_unix_ms: u64::try_from(until.unix_ms()).unwrap_or(0),
            })
            .map_err(|_| PostponeError::AgentStopped)
    }
}

/// The terminal as the agent sees it.
struct TerminalHost {
    shared: Arc<Shared>,
    utc_offset: UtcOffset,
    os_release: PathBuf,
    reboot_request: PathBuf,
    health: Box<dyn FnMut() -> Vec<String> + Send>,
}

fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Host for TerminalHost {
    fn now(&self) -> Now {
        let unix_ms = unix_ms_now();
        let local = Timestamp::from_unix_ms(i64::try_from(unix_ms).unwrap_or(i64::MAX))
            .local(self.utc_offset);
        Now {
            unix_ms,
            local_minute: local.minute_of_day,
        }
    }

    fn wait(&mut self, ms: u64) -> impl std::future::Future<Output = ()> + Send {
        tokio::time::sleep(Duration::from_millis(ms))
    }

    fn till_busy(&self) -> bool {
        self.shared.till_busy(std::time::Instant::now())
    }

    fn shift_closed(&self) -> bool {
        self.shared.shift_closed.load(Ordering::SeqCst)
    }

    fn running_version(&self) -> String {
        running_version(&self.os_release)
    }

    fn reboot(&mut self) {
        // systemd's path unit takes it from here; a desktop has none and keeps running.
        if let Err(error) = std::fs::write(&self.reboot_request, b"update\n") {
            self.shared.status().last_error = Some(format!(
                "the restart could not be requested ({}): {error}",
                self.reboot_request.display()
            ));
        }
    }

    fn health_check(&mut self) -> Vec<String> {
        (self.health)()
    }

    fn notice(&mut self, notice: Notice) {
        let text = match notice {
            Notice::UpdateReady { version } => {
                format!("Update {version} is ready; the till restarts when it is idle")
            }
            Notice::Restarting { version } => format!("Restarting into {version}"),
            Notice::Updated { version } => format!("Updated to {version}"),
            Notice::RolledBack { version, reason } => {
                format!("The update was undone ({reason}); running {version}")
            }
        };
        eprintln!("pos-terminal: update: {text}");
        self.shared.status().last_message = Some(text);
    }

    fn phase_changed(&mut self, phase: &Phase) {
        self.shared.status().stage = UpdateStage::of(phase);
    }
}

/// `VERSION_ID` of an os-release file, or this program's version when there is none.
pub fn running_version(os_release: &Path) -> String {
    std::fs::read_to_string(os_release)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("VERSION_ID="))
                .map(|value| value.trim().trim_matches('"').to_owned())
        })
        .filter(|version| !version.is_empty())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
}

/// A bundle in the import directory, or why its record cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    Ready(LocalBundle),
    Unreadable {
        path: PathBuf,
        name: String,
        reason: String,
    },
}

#[derive(Deserialize)]
struct ImportRecord {
    name: String,
    size: u64,
    sha256: String,
    info: ImportInfo,
}

#[derive(Deserialize)]
struct ImportInfo {
    compatible: String,
    #[serde(default)]
    version: Option<String>,
}

/// The import record's file beside a bundle.
fn record_path(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(".import");
    PathBuf::from(name)
}

/// The bundles the USB import left in `dir` with their records, oldest name first. A bundle
/// without a record is still being imported and is left for later.
pub fn pending_imports(dir: &Path) -> Vec<Imported> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut bundles: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "raucb"))
        .filter(|path| record_path(path).is_file())
        .collect();
    bundles.sort();
    bundles
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let record = std::fs::read(record_path(&path))
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<ImportRecord>(&bytes).map_err(|e| e.to_string())
                });
            match record {
                Err(reason) => Imported::Unreadable {
                    path: path.clone(),
                    name,
                    reason: format!("its import record cannot be read: {reason}"),
                },
                Ok(record) => match parse_sha256(&record.sha256) {
                    None => Imported::Unreadable {
                        path: path.clone(),
                        name,
                        reason: "its import record has no valid SHA-256".to_owned(),
                    },
                    Some(sha256) => Imported::Ready(LocalBundle {
                        path,
                        name: record.name,
                        version: record.info.version.unwrap_or_default(),
                        compatible: record.info.compatible,
                        size_bytes: record.size,
                        sha256,
                    }),
                },
            }
        })
        .collect()
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Removes a bundle and its record from the import directory.
fn remove_import(bundle: &Path) -> Result<(), String> {
    for path in [bundle.to_path_buf(), record_path(bundle)] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{} cannot be removed: {e}", path.display())),
        }
    }
    Ok(())
}

/// How long the health check after an update waits for the fleet to answer before it lets
/// the new version go on without it (the shop's network may be down; that is no reason to
/// roll back). Counted from the start of the check.
pub const FLEET_GRACE: Duration = Duration::from_secs(120);
/// How long the health check asks a configured receipt printer before it gives up: after the
/// restart the printer may still be powering up, or its USB adapter still being found.
pub const PRINTER_GRACE: Duration = Duration::from_secs(60);
/// How long the check waits between two questions to a printer that did not answer.
const PRINTER_ASK_INTERVAL: Duration = Duration::from_secs(2);
/// How long one question may take at the least: the printer worker may be between two jobs,
/// and the four status queries take up to [`crate::peripherals::PRINTER_TIMEOUT`] each.
const PRINTER_ANSWER_WAIT_MIN: Duration = Duration::from_secs(5);

// The agent gives the check HEALTH_CHECK_MS_MAX before it rolls back on its own; the check
// must have said something by then.
const _: () = assert!(
    FLEET_GRACE.as_millis() < pos_update::agent::HEALTH_CHECK_MS_MAX as u128
        && PRINTER_GRACE.as_millis() + PRINTER_ANSWER_WAIT_MIN.as_millis()
            < pos_update::agent::HEALTH_CHECK_MS_MAX as u128
);

/// How long the health check waits for the parts that may still be coming up after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthGrace {
    pub printer: Duration,
    pub fleet: Duration,
}

impl HealthGrace {
    /// The appliance's: [`PRINTER_GRACE`] and [`FLEET_GRACE`].
    pub const APPLIANCE: HealthGrace = HealthGrace {
        printer: PRINTER_GRACE,
        fleet: FLEET_GRACE,
    };
}

/// What the health check found out about the receipt printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterHealth {
    NotConfigured,
    /// It answered its status queries. Any answer, "out of paper" or "cover open" too, proves
    /// the new software drives it.
    Answered {
        printer: String,
        status: pos_printer::status::PrinterStatus,
    },
    /// Its line carries no answers (a device file) and it opened: all there is to check.
    Connected {
        printer: String,
    },
    /// It did not answer within the grace.
    Silent {
        printer: String,
        waited: Duration,
    },
    /// The printer worker took no question within the grace.
    WorkerSilent {
        waited: Duration,
    },
}

impl PrinterHealth {
    pub fn passed(&self) -> bool {
        !matches!(
            self,
            PrinterHealth::Silent { .. } | PrinterHealth::WorkerSilent { .. }
        )
    }
}

impl std::fmt::Display for PrinterHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterHealth::NotConfigured => f.write_str("no receipt printer is configured"),
            PrinterHealth::Answered { printer, status } => write!(
                f,
                "{printer} answered: {}",
                crate::peripherals::PrinterState::of_status(status)
                    .label()
                    .to_lowercase()
            ),
            PrinterHealth::Connected { printer } => {
                write!(f, "{printer} is connected (its line reports no status)")
            }
            PrinterHealth::Silent { printer, waited } => write!(
                f,
                "{printer} did not answer in {} s; check that it is switched on and its cable is in",
                waited.as_secs()
            ),
            PrinterHealth::WorkerSilent { waited } => write!(
                f,
                "the receipt printer was not asked: the terminal's printer worker did not take the question in {} s",
                waited.as_secs()
            ),
        }
    }
}

/// Asks the printer through the printer worker until it answers or `grace` has passed.
pub fn printer_health(
    printer: &crate::peripherals::PrinterProbe,
    grace: Duration,
) -> PrinterHealth {
    use crate::peripherals::PrinterAnswer;
    let started = std::time::Instant::now();
    let mut silent = None;
    let asks_max = grace.as_millis() / PRINTER_ASK_INTERVAL.as_millis() + 1;
    for _ in 0..asks_max {
        let left = grace.saturating_sub(started.elapsed());
        match printer.ask(left.max(PRINTER_ANSWER_WAIT_MIN)) {
            Some(PrinterAnswer::NotConfigured) => return PrinterHealth::NotConfigured,
            Some(PrinterAnswer::Status { printer, status }) => {
                return PrinterHealth::Answered { printer, status };
            }
            Some(PrinterAnswer::Connected { printer }) => {
                return PrinterHealth::Connected { printer };
            }
            Some(PrinterAnswer::Silent { printer, error }) => silent = Some((printer, error)),
            Some(PrinterAnswer::CannotStart { printer }) => {
                silent = Some((printer, "it cannot start".to_owned()));
            }
            None => {}
        }
        let left = grace.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(PRINTER_ASK_INTERVAL.min(left));
    }
    match silent {
        Some((printer, error)) => {
            eprintln!("pos-terminal: health: {printer} does not answer: {error}");
            PrinterHealth::Silent {
                printer,
                waited: grace,
            }
        }
        None => PrinterHealth::WorkerSilent { waited: grace },
    }
}

/// What the health check after a restart into a new version looks at.
pub struct HealthParts {
    pub data: crate::terminal::DataDir,
    pub device: pos_core::id::DeviceId,
    pub printer: crate::peripherals::PrinterProbe,
    /// `None` when the terminal does not sync.
    pub sync: Option<crate::sync_agent::SyncStatusHandle>,
}

/// The health check after a restart into a new version, run on the agent's thread once the
/// screen is up: the store opens (and migrates) in a connection of its own, its journal
/// verifies and its sales read back; a configured receipt printer answers within
/// `grace.printer` (asked through the printer worker, which owns its line); and, when the
/// terminal syncs, the fleet answers or `grace.fleet` passes. Returns the problems, in words
/// for the fleet's operator; what it found goes to the log, a line a part.
pub fn health_check(
    parts: HealthParts,
    grace: HealthGrace,
) -> Box<dyn FnMut() -> Vec<String> + Send> {
    Box::new(move || {
        let started = std::time::Instant::now();
        let mut problems = Vec::new();
        match crate::terminal::check_store(&parts.data, parts.device.clone()) {
            Ok(found) => {
                if let Some(at) = found.journal_break {
                    problems.push(format!("the store's journal does not verify: {at}"));
                }
            }
            Err(error) => problems.push(error.to_string()),
        }
        let printer = printer_health(&parts.printer, grace.printer);
        eprintln!("pos-terminal: health: {printer}");
        if !printer.passed() {
            problems.push(printer.to_string());
        }
        if let Some(sync) = &parts.sync {
            while started.elapsed() < grace.fleet {
                let status = sync.snapshot();
                // A fleet that answers, even to refuse, is reachable.
                if status.online || status.halted.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        problems
    })
}

/// Starts the agent on its own thread. `health` is the check run after a restart into a new
/// version (the screen and the store are up by the time the agent starts); `data_dir` holds
/// the download, the agent's state and the restart request.
pub fn spawn(
    settings: UpdateSettings,
    data_dir: &Path,
    utc_offset: UtcOffset,
    health: Box<dyn FnMut() -> Vec<String> + Send>,
) -> Result<UpdateHandle, UpdateStartError> {
    let shared = Arc::new(Shared {
        // Busy until the screen says otherwise: never restart on a guess.
        busy: AtomicBool::new(true),
        idle_since: Mutex::new(None),
        shift_closed: AtomicBool::new(false),
        idle_before_restart: settings.idle_before_restart,
        status: Mutex::new(UpdateStatus {
            installed_version: running_version(&settings.os_release),
            stage: UpdateStage::Idle,
            last_error: None,
            last_message: None,
        }),
    });
    let (commands, receiver) = tokio::sync::mpsc::unbounded_channel();
    let host = TerminalHost {
        shared: shared.clone(),
        utc_offset,
        os_release: settings.os_release.clone(),
        reboot_request: data_dir.join(REBOOT_REQUEST_FILE),
        health,
    };
    let data_dir = data_dir.to_path_buf();
    std::thread::Builder::new()
        .name("update-agent".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    host.shared.status().last_error =
                        Some(format!("the update agent could not start: {error}"));
                    return;
                }
            };
            runtime.block_on(run(settings, data_dir, host, receiver));
        })
        .map_err(UpdateStartError::Thread)?;
    Ok(UpdateHandle { shared, commands })
}

async fn run(
    settings: UpdateSettings,
    data_dir: PathBuf,
    host: TerminalHost,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<Command>,
) {
    let shared = host.shared.clone();
    let report_error = |error: String| {
        eprintln!("pos-terminal: update: {error}");
        shared.status().last_error = Some(error);
    };
    let rauc = loop {
        let bus = match &settings.bus_address {
            None => Bus::System,
            Some(address) => Bus::Address(address),
        };
        match Rauc::connect(bus).await {
            Ok(rauc) => break rauc,
            Err(error) => {
                report_error(error.to_string());
                tokio::time::sleep(RAUC_RETRY).await;
            }
        }
    };
    let token = |fleet: &FleetLink| {
        match &fleet.token {
        FleetToken::Enrolled(token) => Ok(token.clone()),
        FleetToken::File(path) => std::fs::read_to_string(path)
            .map(|token| token.trim().to_owned())
            .map_err(|error| {
                format!(
                    "the fleet credential {} cannot be read ({error}); updates come only from USB sticks",
                    path.display()
                )
            }),
    }
    };
    let (server, tenant, controller_id, token) = match &settings.fleet {
        None => Default::default(),
        Some(fleet) => match token(fleet) {
            Ok(token) => (
                fleet.url.clone(),
                fleet.tenant.clone(),
                fleet.controller_id.clone(),
                token,
            ),
            Err(error) => {
                report_error(error);
                Default::default()
            }
        },
    };
    let polls_fleet = !server.is_empty();
    let config = DdiConfig {
        server,
        tenant,
        controller_id,
        token,
        download_path: data_dir.join("update.raucb"),
        state_path: data_dir.join("update-state.json"),
        window: settings.window,
    };
    let seed = unix_ms_now() ^ u64::from(std::process::id());
    let mut adapter = match DdiAdapter::new(config, rauc, host, seed) {
        Ok(adapter) => adapter,
        Err(error) => {
            report_error(error.to_string());
            return;
        }
    };
    if let Err(error) = adapter.start().await {
        report_error(error.to_string());
    }
    // The fleet learns the running version at every start, also after an update from a USB
    // stick, which it did not offer and so does not ask about.
    if polls_fleet && let Err(error) = adapter.send_attributes().await {
        report_error(error.to_string());
    }
    let mut next_poll = std::time::Instant::now();
    loop {
        for imported in pending_imports(&settings.imports) {
            if let ImportOutcome::Refused(reason) = take_import(&mut adapter, imported).await {
                // News rather than a problem: the next poll of the fleet must not hide it.
                eprintln!("pos-terminal: update: {reason}");
                shared.status().last_message = Some(reason);
            }
        }
        if polls_fleet && std::time::Instant::now() >= next_poll {
            next_poll = std::time::Instant::now()
                + match adapter.poll().await {
                    Ok(polled) => {
                        // The fleet answered: what went wrong before is over.
                        shared.status().last_error = None;
                        Duration::from_secs(polled.sleep_secs.max(10))
                    }
                    Err(error) => {
                        report_error(error.to_string());
                        POLL_RETRY
                    }
                };
        } else if let Err(error) = adapter.run().await {
            report_error(error.to_string());
        }
        // The stage on the screen follows the agent through `TerminalHost::phase_changed`.
        if let Ok(Some(Command::Postpone { until_unix_ms })) =
            tokio::time::timeout(TICK, commands.recv()).await
        {
            match adapter.postpone(until_unix_ms).await {
                Ok(true) => {}
                Ok(false) => report_error(PostponeError::NothingWaiting.to_string()),
                Err(error) => report_error(error.to_string()),
            }
        }
    }
}

/// What became of a bundle from the import directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Installed in the other slot; the till restarts into it when idle.
    Installed { version: String },
    /// Refused, with the reason for the cashier or the technician; the bundle is gone.
    Refused(String),
    /// Another update is in progress; the bundle stays for later.
    Waiting,
}

/// Installs one bundle from the import directory through the agent, or says why not; removes
/// it (and its record) unless it has to wait for another update to finish.
pub async fn take_import<H: Host>(
    adapter: &mut DdiAdapter<H>,
    imported: Imported,
) -> ImportOutcome {
    let (path, outcome) = match imported {
        Imported::Unreadable { path, name, reason } => (
            Some(path),
            ImportOutcome::Refused(format!(
                "the update {name} on the USB stick was refused: {reason}"
            )),
        ),
        Imported::Ready(bundle) => {
            let path = bundle.path.clone();
            let (name, version) = (bundle.name.clone(), bundle.version.clone());
            match adapter.install_local(bundle).await {
                Ok(()) => (Some(path), ImportOutcome::Installed { version }),
                Err(LocalRefusal::Busy) => return ImportOutcome::Waiting,
                Err(refusal) => (
                    Some(path),
                    ImportOutcome::Refused(format!("{name}: {refusal}")),
                ),
            }
        }
    };
    if let Some(path) = path
        && let Err(error) = remove_import(&path)
    {
        return ImportOutcome::Refused(error);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawUpdate {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_status_bar_names_an_update_only_while_it_is_under_way() {
        let status = |stage| UpdateStatus {
            installed_version: "1.4.0".to_owned(),
            stage,
            last_error: None,
            last_message: None,
        };
        assert_eq!(status(UpdateStage::Idle).status_bar(), None);
        let downloading = status(UpdateStage::Downloading {
            version: "1.5.0".to_owned(),
            percent: 40,
        });
        assert_eq!(
            downloading.status_bar().as_deref(),
            Some("Update 1.5.0 · 40%")
        );
        assert_eq!(downloading.summary(), "Downloading update 1.5.0 (40%)");
        let failed = status(UpdateStage::RollingBack {
            version: "1.5.0".to_owned(),
        });
        assert_eq!(failed.status_bar().as_deref(), Some("Update 1.5.0 failed"));
    }

    #[test]
    fn the_software_page_keeps_the_last_news_and_names_a_problem_until_it_is_over() {
        let mut status = UpdateStatus {
            installed_version: "1.4.0".to_owned(),
            stage: UpdateStage::Idle,
            last_error: None,
            last_message: Some(
                "The update was undone (health check failed); running 1.4.0".to_owned(),
            ),
        };
        assert_eq!(
            status.summary(),
            "Version 1.4.0 · The update was undone (health check failed); running 1.4.0"
        );
        status.last_error = Some("the fleet could not be reached".to_owned());
        status.stage = UpdateStage::Downloading {
            version: "1.5.0".to_owned(),
            percent: 40,
        };
        // Old news is not mixed into an update under way; the problem is.
        assert_eq!(
            status.summary(),
            "Downloading update 1.5.0 (40%) · Problem: the fleet could not be reached"
        );
    }

    #[test]
    fn windows_read_as_the_store_writes_them() {
        assert_eq!(
            parse_window("02:00-05:00"),
            Some(MaintenanceWindow {
                start_minute: 120,
                end_minute: 300
            })
        );
        assert_eq!(
            parse_window("22:30 - 04:00"),
            Some(MaintenanceWindow {
                start_minute: 1350,
                end_minute: 240
            })
        );
        for wrong in [
            "02:00",
            "25:00-03:00",
            "02:00-02:00",
            "2am-5am",
            "02:60-03:00",
        ] {
            assert_eq!(parse_window(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn the_section_names_what_is_missing() {
        let usb_only = UpdateSettings::from_raw(raw("window = \"02:00-05:00\"")).unwrap();
        assert_eq!(usb_only.fleet, None);
        assert_eq!(usb_only.imports, PathBuf::from(IMPORTS_DIR_DEFAULT));
        assert_eq!(usb_only.bus_address, None);
        assert_eq!(usb_only.idle_before_restart, IDLE_BEFORE_RESTART);
        let patient = UpdateSettings::from_raw(raw("idle_before_restart_s = 120")).unwrap();
        assert_eq!(patient.idle_before_restart, Duration::from_secs(120));
        let fleet = UpdateSettings::from_raw(raw(
            "fleet = \"https://fleet.example.com\"\ntenant = \"t1\"\ncontroller_id = \"term-1\"\ntoken_file = \"/data/pos/fleet-token\"\n",
        ))
        .unwrap();
        assert_eq!(
            fleet.fleet.unwrap().token,
            FleetToken::File(PathBuf::from("/data/pos/fleet-token"))
        );
        let cases = [
            ("fleet = \"fleet.example.com\"", "https://fleet.example.com"),
            (
                "fleet = \"https://f\"\ntenant = \"t\"\ntoken_file = \"x\"",
                "controller_id",
            ),
            (
                "fleet = \"https://f\"\ntenant = \"t\"\ncontroller_id = \"c\"",
                "token_file",
            ),
            ("window = \"2-5\"", "\"02:00-05:00\""),
            ("bus = \"session\"", "\"system\" or a D-Bus address"),
            ("idle_before_restart_s = 1", "5 to 3600 seconds"),
        ];
        for (text, hint) in cases {
            let error = UpdateSettings::from_raw(raw(text)).unwrap_err();
            assert!(error.contains(hint), "{text:?} gave {error}");
        }
    }

    #[test]
    fn the_health_check_opens_the_store_and_names_one_that_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let data = crate::terminal::DataDir::new(dir.path());
        let device = pos_core::id::DeviceId::new("T1");
        drop(pos_store::Store::open(dir.path(), device.clone()).unwrap());
        let no_printer = crate::peripherals::PeripheralService::start(
            crate::peripherals::PeripheralSettings {
                line: crate::config::PrinterLine::None,
                ..crate::peripherals::PeripheralSettings::of(
                    &data,
                    &crate::config::TerminalConfig::default(),
                )
            },
            |_| {},
        )
        .unwrap();
        let no_wait = HealthGrace {
            printer: Duration::ZERO,
            fleet: Duration::ZERO,
        };
        let mut check = health_check(
            HealthParts {
                data,
                device: device.clone(),
                printer: no_printer.probe(),
                sync: Some(crate::sync_agent::SyncStatusHandle::default()),
            },
            no_wait,
        );
        assert_eq!(check(), Vec::<String>::new());

        let broken = tempfile::tempdir().unwrap();
        std::fs::write(
            broken.path().join(pos_store::DATABASE_FILE),
            b"not a database, garbage garbage garbage garbage garbage garbage garbage",
        )
        .unwrap();
        let problems = health_check(
            HealthParts {
                data: crate::terminal::DataDir::new(broken.path()),
                device,
                printer: no_printer.probe(),
                sync: None,
            },
            no_wait,
        )();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("cannot be opened"), "{problems:?}");
    }

    #[test]
    fn the_version_comes_from_os_release() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("os-release");
        std::fs::write(&file, "NAME=\"Open POS\"\nVERSION_ID=\"1.5.0\"\n").unwrap();
        assert_eq!(running_version(&file), "1.5.0");
        assert_eq!(
            running_version(&dir.path().join("missing")),
            env!("CARGO_PKG_VERSION")
        );
    }

    #[test]
    fn only_managers_postpone_and_only_an_update_that_waits() {
        let roles = Role::defaults();
        let role = |id: &str| roles.iter().find(|r| r.id.as_str() == id).unwrap().clone();
        let (commands, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let handle = UpdateHandle {
            shared: Arc::new(Shared {
                busy: AtomicBool::new(true),
                idle_since: Mutex::new(None),
                shift_closed: AtomicBool::new(false),
                idle_before_restart: IDLE_BEFORE_RESTART,
                status: Mutex::new(UpdateStatus {
                    installed_version: "1.4.0".into(),
                    stage: UpdateStage::Idle,
                    last_error: None,
                    last_message: None,
                }),
            }),
            commands,
        };
        let later = Timestamp::from_unix_ms(1_800_000_000_000);
        assert_eq!(
            handle.postpone(&role("manager"), later),
            Err(PostponeError::NothingWaiting)
        );
        handle.shared.status().stage = UpdateStage::ReadyToRestart {
            version: "1.5.0".into(),
            postponed_until: None,
        };
        for id in ["cashier", "supervisor"] {
            let refused = handle.postpone(&role(id), later).unwrap_err();
            assert!(refused.to_string().contains("ask a manager"), "{refused}");
        }
        assert!(receiver.try_recv().is_err(), "a refusal sends nothing");
        for id in ["manager", "admin"] {
            handle.postpone(&role(id), later).unwrap();
            let Ok(Command::Postpone { until_unix_ms }) = receiver.try_recv() else {
                panic!("the agent was not told");
            };
            assert_eq!(until_unix_ms, 1_800_000_000_000);
        }
        drop(receiver);
        assert_eq!(
            handle.postpone(&role("manager"), later),
            Err(PostponeError::AgentStopped)
        );
    }

    #[test]
    fn the_till_counts_as_idle_only_after_half_a_minute_without_a_sale() {
        let (commands, _receiver) = tokio::sync::mpsc::unbounded_channel();
        let handle = UpdateHandle {
            shared: Arc::new(Shared {
                busy: AtomicBool::new(true),
                idle_since: Mutex::new(None),
                shift_closed: AtomicBool::new(false),
                idle_before_restart: IDLE_BEFORE_RESTART,
                status: Mutex::new(UpdateStatus {
                    installed_version: "1.4.0".into(),
                    stage: UpdateStage::Idle,
                    last_error: None,
                    last_message: None,
                }),
            }),
            commands,
        };
        let start = std::time::Instant::now();
        assert!(handle.shared.till_busy(start), "nothing reported yet");
        let idle = TillActivity {
            busy: false,
            shift_closed: false,
        };
        handle.report_till(idle);
        assert!(handle.shared.till_busy(start + Duration::from_secs(5)));
        handle.report_till(idle);
        assert!(
            !handle
                .shared
                .till_busy(start + IDLE_BEFORE_RESTART + Duration::from_secs(1))
        );
        // A sale in between starts the half minute again.
        handle.report_till(TillActivity { busy: true, ..idle });
        assert!(handle.shared.till_busy(start + Duration::from_secs(60)));
        handle.report_till(idle);
        let restarted = std::time::Instant::now();
        assert!(handle.shared.till_busy(restarted + Duration::from_secs(29)));
        assert!(!handle.shared.till_busy(restarted + Duration::from_secs(31)));
    }

    #[test]
    fn imports_need_their_record_and_a_broken_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let sha = "ab".repeat(32);
        std::fs::write(dir.path().join("a.raucb"), b"bundle").unwrap();
        std::fs::write(
            dir.path().join("a.raucb.import"),
            format!(
                "{{\"name\":\"a.raucb\",\"size\":6,\"sha256\":\"{sha}\",\"info\":{{\"compatible\":\"open-pos-x86_64\",\"version\":\"1.5.0\",\"hooks\":[]}}}}"
            ),
        )
        .unwrap();
        // Still being copied: no record yet.
        std::fs::write(dir.path().join("b.raucb"), b"half").unwrap();
        std::fs::write(dir.path().join("c.raucb"), b"bundle").unwrap();
        std::fs::write(dir.path().join("c.raucb.import"), b"{\"name\":").unwrap();
        let found = pending_imports(dir.path());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0],
            Imported::Ready(LocalBundle {
                path: dir.path().join("a.raucb"),
                name: "a.raucb".into(),
                version: "1.5.0".into(),
                compatible: "open-pos-x86_64".into(),
                size_bytes: 6,
                sha256: [0xab; 32],
            })
        );
        let Imported::Unreadable { name, reason, .. } = &found[1] else {
            panic!("{:?}", found[1]);
        };
        assert_eq!(name, "c.raucb");
        assert!(reason.contains("import record cannot be read"), "{reason}");
        remove_import(&dir.path().join("c.raucb")).unwrap();
        assert!(!dir.path().join("c.raucb.import").exists());
        assert_eq!(pending_imports(&dir.path().join("missing")), []);
    }
}
