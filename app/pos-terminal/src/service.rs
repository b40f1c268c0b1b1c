//! The terminal's side of first-boot setup and the service screen: `pos-service`'s traits over
//! this terminal's configuration file, store and printer service.
//!
//! Owns how setup writes `terminal.toml` (checked by [`crate::config`] before it is written)
//! and the first administrator (a user with an argon2id PIN hash in the store), and where the
//! service screen finds the sync backlog and the printer. Decides nothing the setup or service
//! logic decides.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use pos_core::access::Role;
use pos_core::id::{DeviceId, RoleId, UserId};
use pos_service::complete::{FleetEnroller, SetupState, SetupTarget, write_atomically};
use pos_service::diagnose::SyncStatus;
use pos_service::setup::{AdminAccount, SetupForm, ZONEINFO_DIR};
use pos_service::{Background, ServiceData, ServiceHardware, SetupSettings};
use pos_store::Store;

use crate::config::{CONFIG_FILE, TerminalConfig};
use crate::peripherals::{PeripheralService, Peripherals};
use crate::ports::{SharedStore, hash_pin};
use crate::terminal::DataDir;

/// The role the first administrator gets.
pub const ADMIN_ROLE: &str = "admin";

/// Setup writes into the data directory: the configuration file and the store.
pub struct TerminalSetupTarget {
    pub data: DataDir,
}

impl SetupTarget for TerminalSetupTarget {
    fn write_config(&mut self, text: &str) -> Result<(), String> {
        let path = self.data.config_file();
        TerminalConfig::parse(text, &path).map_err(|error| error.to_string())?;
        write_atomically(&path, text.as_bytes(), 0o640).map_err(|error| error.to_string())
    }

    fn create_admin(&mut self, admin: &AdminAccount) -> Result<(), String> {
        let config = TerminalConfig::load(&self.data.config_file()).map_err(|e| e.to_string())?;
        let mut store = Store::open(&self.data.root, DeviceId::new(&config.device))
            .map_err(|e| e.to_string())?;
        for role in Role::defaults() {
            store.save_role(&role).map_err(|e| e.to_string())?;
        }
        let hash = hash_pin(&admin.pin).map_err(|e| e.to_string())?;
        store
            .save_user(
                &UserId::new(&admin.user),
                &admin.name,
                &RoleId::new(ADMIN_ROLE),
                Some(&hash),
            )
            .map_err(|e| e.to_string())
    }
}

/// Where the image's USB import leaves a provisioning file, for a data directory at
/// `/data/pos`; elsewhere, `provisioning/incoming.json` beside the data directory.
pub fn provisioning_file(data: &DataDir) -> PathBuf {
    let base = data.root.parent().unwrap_or(Path::new("/"));
    base.join(pos_service::provision::IMPORTED_FILE)
}

/// How the terminal's setup screen is set up: the real fleet, enrolment on a thread.
pub fn setup_settings(data: &DataDir) -> SetupSettings {
    SetupSettings {
        data_dir: data.root.clone(),
        provisioning_file: provisioning_file(data),
        zoneinfo: PathBuf::from(ZONEINFO_DIR),
        enroller: Arc::new(FleetEnroller::new(&data.root)),
        background: Background::Thread,
        clock: || pos_ui::system_now().unix_ms(),
    }
}

/// The form the setup screen starts with.
pub fn starting_form() -> SetupForm {
    SetupForm::default()
}

/// The sync backlog from the store's journal.
pub struct StoreServiceData {
    pub store: SharedStore,
    pub data_dir: PathBuf,
    /// The sync agent's news, when it runs: when the fleet last took everything.
    pub sync: Option<crate::sync_agent::SyncStatusHandle>,
}

impl ServiceData for StoreServiceData {
    fn sync_status(&self) -> Result<SyncStatus, String> {
        let store = self.store.borrow();
        let last = store
            .journal_tail(1)
            .map_err(|e| e.to_string())?
            .last()
            .map(|entry| entry.seq)
            .unwrap_or(0);
        let acknowledged = store.acknowledged_seq().map_err(|e| e.to_string())?;
        let enrolled = matches!(
            SetupState::load(&self.data_dir),
            Ok(Some(SetupState {
                enrolment: Some(_),
                ..
            }))
        );
        let mut status = SyncStatus::from_journal(last, acknowledged, enrolled);
        if let Some(agent) = &self.sync {
            let news = agent.snapshot();
            status.last_sync_ms = news.last_success.map(|at| at.unix_ms());
            status.enrolled |= news.device.is_some();
        }
        Ok(status)
    }
}

/// How the terminal syncs: `[sync]` of its configuration, or else the fleet it was enrolled
/// with at setup. The credential setup got is handed to the sync agent the first time, so a
/// terminal set up on the screen syncs without a `[sync]` section.
pub fn sync_settings(
    data: &DataDir,
    config: &TerminalConfig,
) -> Option<crate::sync_agent::SyncSettings> {
    if let Some(settings) = config.sync.clone() {
        return Some(settings);
    }
    let state = match SetupState::load(&data.root) {
        Ok(Some(state)) => state,
        Ok(None) => return None,
        Err(error) => {
            eprintln!("pos-terminal: the setup state cannot be read, so sync is off: {error}");
            return None;
        }
    };
    let enrolment = state.enrolment?;
    match crate::sync_agent::Credential::load(&data.root) {
        Ok(Some(_)) => {}
        Ok(None) => {
            let credential = crate::sync_agent::Credential {
                url: state.fleet_url.trim_end_matches('/').to_owned(),
                device: DeviceId::new(&enrolment.device),
                tenant: pos_core::id::TenantId::new(&enrolment.tenant),
                store: pos_core::id::StoreId::new(&enrolment.store),
                token: enrolment.token,
            };
            if let Err(error) = credential.save(&data.root) {
                eprintln!("pos-terminal: sync is off: {error}");
                return None;
            }
        }
        Err(error) => {
            eprintln!("pos-terminal: sync is off: {error}");
            return None;
        }
    }
    Some(crate::sync_agent::SyncSettings::new(
        &state.fleet_url,
        &state.terminal_name,
    ))
}

/// RAUC's configuration: present on the appliance, and only there can the agent install.
pub const RAUC_SYSTEM_CONF: &str = "/etc/rauc/system.conf";

/// What the update agent does: `[update]` of the configuration, which without a fleet of its
/// own polls the fleet the terminal enrolled with; or, on an enrolled appliance (where RAUC is
/// configured) without the section, the defaults with that fleet. The agent uses the
/// credential the terminal got when it enrolled, so a terminal set up on its screen gets the
/// fleet's updates with nothing written by hand. `None`: no agent.
pub fn update_settings(
    data: &DataDir,
    config: &TerminalConfig,
    rauc_system_conf: &Path,
) -> Option<crate::update_agent::UpdateSettings> {
    let enrolled = match crate::sync_agent::Credential::load(&data.root) {
        Ok(credential) => credential,
        Err(error) => {
            eprintln!("pos-terminal: updates do not come from the fleet: {error}");
            None
        }
    };
    let mut settings = match (&config.update, &enrolled) {
        (Some(settings), _) => settings.clone(),
        (None, Some(_)) if rauc_system_conf.exists() => {
            crate::update_agent::UpdateSettings::default()
        }
        (None, _) => return None,
    };
    if settings.fleet.is_none()
        && let Some(credential) = enrolled
    {
        settings.fleet = Some(crate::update_agent::FleetLink {
            url: credential.url,
            tenant: credential.tenant.as_str().to_owned(),
            controller_id: credential.device.as_str().to_owned(),
            token: crate::update_agent::FleetToken::Enrolled(credential.token),
        });
    }
    Some(settings)
}

/// The printer service, for the service screen; `status` is the status bar's printer text,
/// kept up to date by the screen.
pub struct PeripheralHardware {
    pub peripherals: Rc<PeripheralService>,
    pub status: Rc<RefCell<String>>,
}

impl ServiceHardware for PeripheralHardware {
    fn print_raw(&self, job_id: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.peripherals.print_raw(job_id, bytes);
        Ok(())
    }

    fn kick_drawer(&self) -> Result<(), String> {
        self.peripherals.open_drawer();
        Ok(())
    }

    fn printer_status(&self) -> String {
        self.status.borrow().clone()
    }
}

/// The files a log export copies, redacted: the configuration and the setup state.
pub fn exported_config_files(data: &DataDir) -> Vec<PathBuf> {
    vec![
        data.root.join(CONFIG_FILE),
        data.root.join(pos_service::complete::STATE_FILE),
    ]
}

/// The service screen over this terminal: its store, printer service, RAUC on the system bus
/// and the journal of its unit.
pub fn service_settings(
    data: &DataDir,
    config: &TerminalConfig,
    store: SharedStore,
    peripherals: Rc<PeripheralService>,
    printer_status: Rc<RefCell<String>>,
    sync: Option<crate::sync_agent::SyncStatusHandle>,
    gate: Rc<pos_till::gate::PinGate>,
) -> Result<pos_service::ServiceSettings, crate::screen::ScreenError> {
    // The scanner test decodes under the store's own rules, as the till does.
    let decoder = pos_scanner::decode::Decoder::new(config.barcodes.clone())
        .map_err(|error| crate::screen::ScreenError::Service(error.to_string()))?;
    let store_name = store
        .borrow()
        .setting(crate::seed::STORE_SETTING)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str::<pos_core::tenant::Store>(&json).ok())
        .map(|shop| shop.name)
        .unwrap_or_else(|| "Open POS".to_owned());
    Ok(pos_service::ServiceSettings {
        data_dir: data.root.clone(),
        store_name,
        terminal: config.device.clone(),
        paper: config.printer.paper,
        locale: config.language.clone(),
        decoder,
        gate,
        hardware: Rc::new(PeripheralHardware {
            peripherals,
            status: printer_status,
        }),
        data: Rc::new(StoreServiceData {
            store,
            data_dir: data.root.clone(),
            sync,
        }),
        slots: Box::new(pos_service::maintenance::RaucSlots { bus_address: None }),
        enroller: Arc::new(FleetEnroller::new(&data.root)),
        background: Background::Thread,
        log: Box::new(pos_service::logs::JournalLog::default()),
        config_files: exported_config_files(data),
        clock: pos_ui::system_now,
        software_version: crate::update_agent::running_version(config.update.as_ref().map_or(
            Path::new(crate::update_agent::OS_RELEASE_DEFAULT),
            |update| update.os_release.as_path(),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update_agent::{FleetToken, IMPORTS_DIR_DEFAULT};

    fn config(text: &str) -> TerminalConfig {
        TerminalConfig::parse(text, Path::new("terminal.toml")).unwrap()
    }

    fn enrolled(dir: &Path) {
        crate::sync_agent::Credential {
            url: "http://10.0.2.2:8080".to_owned(),
            device: DeviceId::new("term-7"),
            tenant: pos_core::id::TenantId::new("tenant-1"),
            store: pos_core::id::StoreId::new("store-1"),
            token: "secret".to_owned(),
        }
        .save(dir)
        .unwrap();
    }

    #[test]
    fn an_enrolled_appliance_takes_updates_from_its_fleet() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let rauc = dir.path().join("system.conf");
        std::fs::write(&rauc, "[system]\n").unwrap();
        // Not enrolled and no [update]: no agent, on the appliance or elsewhere.
        assert_eq!(update_settings(&data, &config(""), &rauc), None);
        let usb_only = update_settings(&data, &config("[update]\n"), &rauc).unwrap();
        assert_eq!(usb_only.fleet, None);
        assert_eq!(usb_only.imports, PathBuf::from(IMPORTS_DIR_DEFAULT));

        enrolled(dir.path());
        // A desktop without RAUC runs no agent without [update], enrolled or not.
        assert_eq!(
            update_settings(&data, &config(""), &dir.path().join("no-rauc.conf")),
            None
        );
        let fleet = update_settings(&data, &config(""), &rauc)
            .unwrap()
            .fleet
            .unwrap();
        assert_eq!(fleet.url, "http://10.0.2.2:8080");
        assert_eq!(fleet.tenant, "tenant-1");
        assert_eq!(fleet.controller_id, "term-7");
        assert_eq!(fleet.token, FleetToken::Enrolled("secret".to_owned()));
        // [update] keeps its window and takes the enrolment's fleet...
        let windowed = update_settings(
            &data,
            &config("[update]\nwindow = \"02:00-05:00\"\n"),
            &rauc,
        )
        .unwrap();
        assert!(windowed.window.is_some());
        assert_eq!(windowed.fleet.unwrap().controller_id, "term-7");
        // ...unless it names a fleet of its own.
        let own = config(
            "[update]\nfleet = \"https://other.example\"\ntenant = \"t\"\ncontroller_id = \"c\"\ntoken_file = \"/data/pos/fleet-token\"\n",
        );
        let settings = update_settings(&data, &own, &rauc).unwrap();
        assert_eq!(settings.fleet.unwrap().url, "https://other.example");
    }
}
