//! The service page's controller: the PIN gate, then each test and action, with what the
//! terminal owns (printer, drawer, store, slots, log) reached through small traits.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use pos_core::clock::Timestamp;
use pos_core::id::UserId;
use pos_printer::codepage::CodePage;
use pos_printer::encode::Paper;
use pos_printer::test_page::{TestPageInfo, test_page};
use pos_scanner::decode::Decoder;
use pos_till::gate::{GateRefusal, PinGate};
use pos_ui::{AppWindow, ServiceAdapter, ServicePerson, ServiceTab, StatusAdapter, Tone};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use std::sync::Arc;

use crate::complete::{self, CompleteError, Enroller, SetupState};
use crate::diagnose::{SyncStatus, UpdateStatus, scan_report};
use crate::logs::{self, LogSource};
use crate::maintenance::{self, RESET_PERMISSION, SlotControl};
use crate::network_settings::{self, NETWORK_PERMISSION, NetworkForm};
use crate::setup_screen::Background;
use crate::{SERVICE_PERMISSION, network};

/// The printer and the drawer, as the terminal's printer service drives them.
pub trait ServiceHardware {
    /// Sends finished ESC/POS bytes (the test page) to the printer.
    fn print_raw(&self, job_id: &str, bytes: Vec<u8>) -> Result<(), String>;
    fn kick_drawer(&self) -> Result<(), String>;
    /// What the status bar says about the printer.
    fn printer_status(&self) -> String;
}

/// What the terminal's store knows about sync.
pub trait ServiceData {
    fn sync_status(&self) -> Result<SyncStatus, String>;
}

pub struct ServiceSettings {
    pub data_dir: PathBuf,
    pub store_name: String,
    pub terminal: String,
    pub paper: Paper,
    /// The screen's language for messages: "en" or "de".
    pub locale: String,
    pub decoder: Decoder,
    /// Who may sign in, with wrong PINs counted: shared with the back office's door.
    pub gate: Rc<PinGate>,
    pub hardware: Rc<dyn ServiceHardware>,
    pub data: Rc<dyn ServiceData>,
    pub slots: Box<dyn SlotControl>,
    /// Enrols a terminal set up offline.
    pub enroller: Arc<dyn Enroller + Send + Sync>,
    pub background: Background,
    pub log: Box<dyn LogSource>,
    /// Files exported, redacted, with the log.
    pub config_files: Vec<PathBuf>,
    pub clock: fn() -> Timestamp,
    /// The installed software's version, as the fleet knows it (`VERSION_ID` of the system's
    /// os-release on the appliance, which an update changes; [`crate::VERSION`] elsewhere).
    pub software_version: String,
}

struct Inner {
    window: slint::Weak<AppWindow>,
    settings: ServiceSettings,
    /// The slot status read last, for the status bar.
    update: RefCell<Option<UpdateStatus>>,
    /// What the terminal's update agent last said it is doing, when one runs.
    agent: RefCell<Option<String>>,
    /// The same in a few words for the status bar while an update is under way.
    agent_bar: RefCell<Option<String>>,
    /// Who unlocked the page: their role decides the network settings, and the change is
    /// logged with their name.
    unlocked: RefCell<Option<pos_core::access::Actor>>,
}

/// The service page over `window`. Cheap to clone.
#[derive(Clone)]
pub struct ServiceScreen {
    inner: Rc<Inner>,
}

impl ServiceScreen {
    /// Wires the service page and the status bar's service button.
    pub fn new(window: &AppWindow, settings: ServiceSettings) -> ServiceScreen {
        let screen = ServiceScreen {
            inner: Rc::new(Inner {
                window: window.as_weak(),
                settings,
                update: RefCell::new(None),
                agent: RefCell::new(None),
                agent_bar: RefCell::new(None),
                unlocked: RefCell::new(None),
            }),
        };
        let weak = Rc::downgrade(&screen.inner);
        let upgrade = move || weak.upgrade().map(|inner| ServiceScreen { inner });
        let adapter = window.global::<ServiceAdapter>();
        let on = upgrade.clone();
        window.global::<StatusAdapter>().on_open_service(move || {
            if let Some(screen) = on() {
                screen.open();
            }
        });
        let on = upgrade.clone();
        adapter.on_unlock(move |user, pin| {
            if let Some(screen) = on() {
                screen.unlock(&user, &pin);
            }
        });
        let on = upgrade.clone();
        adapter.on_close(move || {
            if let Some(screen) = on() {
                screen.close();
            }
        });
        let on = upgrade.clone();
        adapter.on_test_scan(move |scan| {
            if let Some(screen) = on() {
                screen.test_scan(&scan);
            }
        });
        let on = upgrade.clone();
        adapter.on_print_test_page(move || {
            if let Some(screen) = on() {
                screen.print_test_page();
            }
        });
        let on = upgrade.clone();
        adapter.on_kick_drawer(move || {
            if let Some(screen) = on() {
                screen.kick_drawer();
            }
        });
        let on = upgrade.clone();
        adapter.on_refresh(move || {
            if let Some(screen) = on() {
                screen.refresh();
            }
        });
        let on = upgrade.clone();
        adapter.on_export_logs(move |folder| {
            if let Some(screen) = on() {
                screen.export_logs(&folder);
            }
        });
        let on = upgrade.clone();
        adapter.on_factory_reset(move |typed, manager, pin| {
            if let Some(screen) = on() {
                screen.factory_reset(&typed, &manager, &pin);
            }
        });
        let on = upgrade.clone();
        adapter.on_apply_network(move || {
            if let Some(screen) = on() {
                screen.apply_network();
            }
        });
        let on = upgrade.clone();
        adapter.on_boot_other_slot(move || {
            if let Some(screen) = on() {
                screen.boot_other_slot();
            }
        });
        adapter.on_enrol(move |url, code| {
            if let Some(screen) = upgrade() {
                screen.enrol(&url, &code);
            }
        });
        adapter.set_open(false);
        adapter.set_unlocked(false);
        adapter.set_message(SharedString::new());
        adapter.set_scan_title(SharedString::new());
        adapter.set_scan_details(ModelRc::default());
        screen
    }

    fn adapter<R>(&self, work: impl FnOnce(&ServiceAdapter<'_>) -> R) -> Option<R> {
        let window = self.inner.window.upgrade()?;
        let adapter = window.global::<ServiceAdapter>();
        Some(work(&adapter))
    }

    /// `en`, or `de` when the screen speaks German.
    fn text(&self, en: String, de: String) -> String {
        if self.inner.settings.locale == "de" {
            de
        } else {
            en
        }
    }

    fn say(&self, text: &str, tone: Tone) {
        self.adapter(|adapter| {
            adapter.set_message(text.into());
            adapter.set_message_tone(tone);
        });
    }

    /// People who may open the service page.
    fn service_people(&self) -> Vec<pos_core::access::Actor> {
        self.inner
            .settings
            .gate
            .people()
            .into_iter()
            .filter(|person| person.role.allows(SERVICE_PERMISSION))
            .collect()
    }

    /// Shows the PIN gate over the till.
    pub fn open(&self) {
        let people: Vec<ServicePerson> = self
            .service_people()
            .into_iter()
            .map(|person| ServicePerson {
                user: person.user.as_str().into(),
                name: person.name.as_str().into(),
            })
            .collect();
        self.adapter(|adapter| {
            adapter.set_people(ModelRc::new(VecModel::from(people)));
            adapter.set_unlocked(false);
            adapter.set_unlocked_by(SharedString::new());
            adapter.set_tab(ServiceTab::Hardware);
            adapter.set_message(SharedString::new());
            adapter.set_open(true);
        });
    }

    fn unlock(&self, user: &str, pin: &str) {
        let person = self
            .service_people()
            .into_iter()
            .find(|person| person.user.as_str() == user);
        let Some(person) = person else {
            let text = self.text(
                "Only a manager or technician can open the service screen.".to_owned(),
                "Nur Führungskräfte und Techniker können den Service öffnen.".to_owned(),
            );
            self.say(&text, Tone::Problem);
            return;
        };
        let settings = &self.inner.settings;
        if let Err(refused) = settings.gate.check(&person.user, pin, (settings.clock)()) {
            let text = self.text(refused.to_string(), gate_refusal_de(&refused));
            self.say(&text, Tone::Problem);
            return;
        }
        let network = network_settings::load_saved(&settings.data_dir)
            .map(|saved| saved.form)
            .unwrap_or_default();
        self.adapter(|adapter| {
            adapter.set_unlocked(true);
            adapter.set_unlocked_by(person.name.as_str().into());
            adapter.set_net_mode(network.mode.as_str().into());
            adapter.set_net_interface(network.interface.as_str().into());
            adapter.set_net_address(network.address.as_str().into());
            adapter.set_net_gateway(network.gateway.as_str().into());
            adapter.set_net_dns(network.dns.as_str().into());
            adapter.set_net_reach(SharedString::new());
            adapter.set_scan_title(SharedString::new());
            adapter.set_scan_details(ModelRc::default());
        });
        let text = self.text(
            format!("Service opened by {}.", person.name),
            format!("Service geöffnet von {}.", person.name),
        );
        *self.inner.unlocked.borrow_mut() = Some(person);
        self.say(&text, Tone::Info);
        self.refresh();
    }

    fn close(&self) {
        *self.inner.unlocked.borrow_mut() = None;
        self.adapter(|adapter| {
            adapter.set_open(false);
            adapter.set_unlocked(false);
        });
    }

    /// Whether the service page is open (scans then go to the scanner test).
    pub fn is_open(&self) -> bool {
        self.adapter(|adapter| adapter.get_open()).unwrap_or(false)
    }

    /// Shows what `scan` decodes to.
    pub fn test_scan(&self, scan: &str) {
        let today = (self.inner.settings.clock)().to_utc().date();
        let report = scan_report(&self.inner.settings.decoder, scan, today);
        let details: Vec<SharedString> = report.details.iter().map(|d| d.into()).collect();
        self.adapter(|adapter| {
            adapter.set_scan_ok(report.ok);
            adapter.set_scan_title(report.title.as_str().into());
            adapter.set_scan_details(ModelRc::new(VecModel::from(details)));
        });
    }

    fn print_test_page(&self) {
        let settings = &self.inner.settings;
        let now = (settings.clock)().to_utc();
        let info = TestPageInfo {
            store: settings.store_name.clone(),
            terminal: settings.terminal.clone(),
            software_version: settings.software_version.clone(),
            printed_at: format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute()
            ),
            paper: settings.paper,
            code_page: CodePage::Pc858,
        };
        let sent = test_page(&info)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                let job = format!("test-page-{}", (settings.clock)().unix_ms());
                settings.hardware.print_raw(&job, bytes)
            });
        match sent {
            Ok(()) => {
                let text = self.text(
                    "Test page sent to the printer. Check every line, the barcode and the cut."
                        .to_owned(),
                    "Testseite an den Drucker gesendet. Prüfen Sie jede Zeile, den Barcode und den Schnitt."
                        .to_owned(),
                );
                self.say(&text, Tone::Success);
            }
            Err(error) => {
                let text = self.text(
                    format!("The test page did not print: {error}"),
                    format!("Die Testseite wurde nicht gedruckt: {error}"),
                );
                self.say(&text, Tone::Problem);
            }
        }
        self.show_printer();
    }

    fn kick_drawer(&self) {
        match self.inner.settings.hardware.kick_drawer() {
            Ok(()) => {
                let text = self.text(
                    "Drawer kick sent. The drawer should open now.".to_owned(),
                    "Öffnungsimpuls gesendet. Die Lade sollte jetzt aufgehen.".to_owned(),
                );
                self.say(&text, Tone::Success);
            }
            Err(error) => {
                let text = self.text(
                    format!("The drawer did not open: {error}"),
                    format!("Die Lade hat sich nicht geöffnet: {error}"),
                );
                self.say(&text, Tone::Problem);
            }
        }
        self.show_printer();
    }

    fn show_printer(&self) {
        let status = self.inner.settings.hardware.printer_status();
        self.adapter(|adapter| adapter.set_printer_status(status.as_str().into()));
    }

    /// Reads the network, sync and slot status again.
    pub fn refresh(&self) {
        self.show_printer();
        let interfaces: Vec<SharedString> = match network::interfaces() {
            Ok(list) if list.is_empty() => vec![
                self.text(
                    "No network interface".to_owned(),
                    "Keine Netzwerkschnittstelle".to_owned(),
                )
                .into(),
            ],
            Ok(list) => list.iter().map(|i| i.line().into()).collect(),
            Err(error) => vec![
                self.text(
                    format!("The interfaces cannot be read: {error}"),
                    format!("Die Schnittstellen sind nicht lesbar: {error}"),
                )
                .into(),
            ],
        };
        let setup = SetupState::load(&self.inner.settings.data_dir)
            .ok()
            .flatten();
        let fleet = match &setup {
            Some(SetupState {
                enrolment: Some(e),
                fleet_url,
                terminal_name,
                ..
            }) => self.text(
                format!("{fleet_url} · enrolled as {terminal_name} ({})", e.device),
                format!(
                    "{fleet_url} · angemeldet als {terminal_name} ({})",
                    e.device
                ),
            ),
            Some(SetupState { fleet_url, .. }) if !fleet_url.is_empty() => self.text(
                format!("{fleet_url} · not enrolled yet"),
                format!("{fleet_url} · noch nicht angemeldet"),
            ),
            _ => self.text(
                "No fleet: this terminal works on its own".to_owned(),
                "Keine Flotte: Diese Kasse arbeitet für sich".to_owned(),
            ),
        };
        let (backlog, last) = match self.inner.settings.data.sync_status() {
            Ok(status) => (
                match status.backlog {
                    0 => self.text(
                        "Every event is with the fleet".to_owned(),
                        "Alle Ereignisse sind bei der Flotte".to_owned(),
                    ),
                    1 => self.text(
                        "1 event waits for the fleet".to_owned(),
                        "1 Ereignis wartet auf die Flotte".to_owned(),
                    ),
                    n => self.text(
                        format!("{n} events wait for the fleet"),
                        format!("{n} Ereignisse warten auf die Flotte"),
                    ),
                },
                match status.last_sync_ms {
                    Some(ms) => {
                        let at = Timestamp::from_unix_ms(ms).to_utc();
                        let at = format!("{:02}:{:02} UTC", at.hour(), at.minute());
                        self.text(format!("Last sync {at}"), format!("Letzter Abgleich {at}"))
                    }
                    None => self.text("No sync yet".to_owned(), "Noch kein Abgleich".to_owned()),
                },
            ),
            Err(error) => (
                self.text(
                    format!("The journal cannot be read: {error}"),
                    format!("Das Journal ist nicht lesbar: {error}"),
                ),
                String::new(),
            ),
        };
        let update = self.read_slots();
        let chosen = crate::setup_screen::chosen_network(
            &self.inner.settings.data_dir,
            &self.inner.settings.locale,
        );
        self.adapter(|adapter| {
            adapter.set_interfaces(ModelRc::new(VecModel::from(interfaces)));
            adapter.set_net_chosen(chosen.into());
            adapter.set_fleet(fleet.into());
            adapter.set_sync_backlog(backlog.into());
            adapter.set_last_sync(last.into());
            // Only a terminal set up offline enrols here; one without setup has no fleet.
            let waiting = setup.as_ref().filter(|state| state.enrolment.is_none());
            adapter.set_enrolled(waiting.is_none());
            if let Some(state) = waiting
                && adapter.get_enrol_url().is_empty()
            {
                adapter.set_enrol_url(state.fleet_url.as_str().into());
            }
            adapter.set_version(update.installed_version.as_str().into());
            adapter.set_booted_slot(update.booted_slot.clone().unwrap_or_default().into());
            let slots: Vec<SharedString> = update.slots.iter().map(|s| s.into()).collect();
            adapter.set_slots(ModelRc::new(VecModel::from(slots)));
            adapter.set_update_state(update.state.as_str().into());
        });
        self.show_status_bar();
    }

    fn read_slots(&self) -> UpdateStatus {
        let status = match self.inner.settings.slots.status() {
            Ok((booted, slots)) => UpdateStatus {
                installed_version: self.inner.settings.software_version.clone(),
                booted_slot: booted,
                slots,
                state: self.inner.agent.borrow().clone().unwrap_or_else(|| {
                    self.text(
                        "No update waiting".to_owned(),
                        "Kein Update wartet".to_owned(),
                    )
                }),
            },
            Err(error) => {
                let unknown = self.text(
                    format!("Slot status unknown: {error}"),
                    format!("Slot-Status unbekannt: {error}"),
                );
                UpdateStatus {
                    installed_version: self.inner.settings.software_version.clone(),
                    booted_slot: None,
                    slots: Vec::new(),
                    state: match self.inner.agent.borrow().as_deref() {
                        Some(agent) => format!("{agent} · {unknown}"),
                        None => unknown,
                    },
                }
            }
        };
        *self.inner.update.borrow_mut() = Some(status.clone());
        status
    }

    /// What the update agent is doing ("Downloading update 1.5.0 (40%)"), shown on the
    /// software page from its next refresh, and in a few words (`status_bar`, "Update 1.5.0 ·
    /// 40%") in the status bar instead of the version while an update is under way.
    pub fn show_update_activity(&self, activity: &str, status_bar: Option<&str>) {
        *self.inner.agent.borrow_mut() = Some(activity.to_owned());
        *self.inner.agent_bar.borrow_mut() = status_bar.map(str::to_owned);
    }

    /// Puts the sync backlog and the update status into the status bar. Slot status is read
    /// once and then on each refresh of the service page.
    pub fn show_status_bar(&self) {
        let sync = self.inner.settings.data.sync_status();
        let known = self.inner.update.borrow().clone();
        let update = known.unwrap_or_else(|| self.read_slots());
        let Some(window) = self.inner.window.upgrade() else {
            return;
        };
        let bar = window.global::<StatusAdapter>();
        match sync {
            Ok(status) => {
                bar.set_sync(status.compact().into());
                bar.set_sync_behind(status.backlog > 0);
            }
            Err(_) => {
                bar.set_sync("Sync ?".into());
                bar.set_sync_behind(true);
            }
        }
        let under_way = self.inner.agent_bar.borrow().clone();
        bar.set_update(under_way.unwrap_or_else(|| update.compact()).into());
    }

    fn export_logs(&self, folder: &str) {
        let settings = &self.inner.settings;
        let now = (settings.clock)().to_utc();
        let stamp = format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let exported = logs::export(
            settings.log.as_ref(),
            &settings.config_files,
            std::path::Path::new(folder.trim()),
            &stamp,
        );
        match exported {
            Ok(files) => {
                let names: Vec<String> = files
                    .iter()
                    .filter_map(|f| f.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .collect();
                let text = self.text(
                    format!("Exported to {}: {}", folder.trim(), names.join(", ")),
                    format!("Exportiert nach {}: {}", folder.trim(), names.join(", ")),
                );
                self.say(&text, Tone::Success);
            }
            Err(error) => {
                let text = self.text(error.to_string(), error.message_de());
                self.say(&text, Tone::Problem);
            }
        }
    }

    fn factory_reset(&self, typed: &str, manager: &str, pin: &str) {
        let settings = &self.inner.settings;
        let manager = UserId::new(manager);
        let approver = match settings.gate.check(&manager, pin, (settings.clock)()) {
            Ok(person) if person.role.allows(RESET_PERMISSION) => Some(manager.to_string()),
            Ok(_) => None,
            Err(refused @ GateRefusal::LockedOut { .. }) => {
                let text = self.text(refused.to_string(), gate_refusal_de(&refused));
                self.say(&text, Tone::Problem);
                return;
            }
            Err(_) => None,
        };
        let requested = maintenance::request_factory_reset(
            &settings.data_dir,
            typed,
            approver.as_deref(),
            (settings.clock)().unix_ms(),
        );
        match requested {
            Ok(_) => {
                let text = self.text(
                    "Factory reset requested: the terminal restarts, erases its data and shows the setup screen.".to_owned(),
                    "Zurücksetzen beauftragt: Die Kasse startet neu, löscht ihre Daten und zeigt die Einrichtung.".to_owned(),
                );
                self.say(&text, Tone::Success);
            }
            Err(refused) => self.say(&refused.message(&settings.locale), Tone::Problem),
        }
    }

    fn enrol(&self, url: &str, code: &str) {
        let settings = &self.inner.settings;
        let text = self.text(
            format!("Enrolling with {} …", url.trim()),
            format!("Anmeldung bei {} …", url.trim()),
        );
        self.say(&text, Tone::Info);
        match settings.background {
            Background::Inline => {
                let answer = complete::enrol_later(
                    &settings.data_dir,
                    settings.enroller.as_ref(),
                    url,
                    code,
                );
                self.enrolled(answer);
            }
            Background::Thread => {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                let (dir, enroller) = (settings.data_dir.clone(), settings.enroller.clone());
                let (url, code) = (url.to_owned(), code.to_owned());
                let spawned = std::thread::Builder::new()
                    .name("enrolment".to_owned())
                    .spawn(move || {
                        let answer = complete::enrol_later(&dir, enroller.as_ref(), &url, &code);
                        if sender.send(answer).is_err() {
                            eprintln!("pos-service: the service screen closed during enrolment");
                        }
                    });
                if let Err(error) = spawned {
                    self.say(&error.to_string(), Tone::Problem);
                    return;
                }
                let this = self.clone();
                let waiting = slint::spawn_local(async move {
                    match receiver.await {
                        Ok(answer) => this.enrolled(answer),
                        Err(_) => this.say("The enrolment stopped.", Tone::Problem),
                    }
                });
                if let Err(error) = waiting {
                    self.say(&error.to_string(), Tone::Problem);
                }
            }
        }
    }

    fn enrolled(&self, answer: Result<SetupState, CompleteError>) {
        match answer {
            Ok(state) => {
                self.refresh();
                let device = state.enrolment.map(|e| e.device).unwrap_or_default();
                let text = self.text(
                    format!("Enrolled with {} (fleet id {device}).", state.fleet_url),
                    format!("Bei {} angemeldet (Flotten-ID {device}).", state.fleet_url),
                );
                self.say(&text, Tone::Success);
            }
            Err(error) => {
                let text = error.message(&self.inner.settings.locale);
                self.say(&text, Tone::Problem);
            }
        }
    }

    /// Checks the network settings as typed and saves them for the image to apply (only for
    /// someone whose role holds [`NETWORK_PERMISSION`]), then tells whether the fleet answers.
    fn apply_network(&self) {
        let settings = &self.inner.settings;
        let Some(person) = self.inner.unlocked.borrow().clone() else {
            return;
        };
        if !person.role.allows(NETWORK_PERMISSION) {
            let text = self.text(
                format!("{} may not change the network settings; ask a manager.", person.name),
                format!(
                    "{} darf die Netzwerkeinstellungen nicht ändern; fragen Sie eine Führungskraft.",
                    person.name
                ),
            );
            self.say(&text, Tone::Problem);
            return;
        }
        let Some(form) = self.adapter(|adapter| NetworkForm {
            mode: adapter.get_net_mode().into(),
            interface: adapter.get_net_interface().into(),
            address: adapter.get_net_address().into(),
            gateway: adapter.get_net_gateway().into(),
            dns: adapter.get_net_dns().into(),
        }) else {
            return;
        };
        let checked = match network_settings::check(&form) {
            Ok(checked) => checked,
            Err(error) => {
                self.say(&error.message(&settings.locale), Tone::Problem);
                return;
            }
        };
        let now = (settings.clock)().unix_ms();
        let by = person.user.as_str();
        if let Err(error) = network_settings::save(&settings.data_dir, &form, &checked, by, now) {
            self.say(&error.message(&settings.locale), Tone::Problem);
            return;
        }
        eprintln!(
            "pos-service: network settings changed by {by}: {}",
            checked.describe("en")
        );
        let chosen = checked.describe(&settings.locale);
        self.adapter(|adapter| {
            adapter.set_net_chosen(chosen.as_str().into());
            adapter.set_net_reach(SharedString::new());
        });
        let text = self.text(
            format!("Network settings applied: {chosen}."),
            format!("Netzwerkeinstellungen übernommen: {chosen}."),
        );
        self.say(&text, Tone::Success);
        self.check_fleet();
    }

    /// Tells, on the network page, whether the fleet answers: once right away in tests, and
    /// for up to half a minute on the terminal while the network comes up with new settings.
    fn check_fleet(&self) {
        let settings = &self.inner.settings;
        let url = SetupState::load(&settings.data_dir)
            .ok()
            .flatten()
            .map(|state| state.fleet_url)
            .filter(|url| !url.is_empty());
        let Some(url) = url else {
            let text = self.text(
                "No fleet to reach: this terminal works on its own.".to_owned(),
                "Keine Flotte zu erreichen: Diese Kasse arbeitet für sich.".to_owned(),
            );
            self.show_reach(Ok(text));
            return;
        };
        match settings.background {
            Background::Inline => {
                let answer = network_settings::fleet_reachable(&url, 1, Duration::ZERO);
                self.fleet_answered(&url, answer);
            }
            Background::Thread => {
                self.adapter(|adapter| {
                    adapter.set_net_reach_ok(true);
                    adapter.set_net_reach(
                        self.text(
                            format!("Checking whether {url} answers …"),
                            format!("Prüfe, ob {url} antwortet …"),
                        )
                        .into(),
                    );
                });
                let (sender, receiver) = tokio::sync::oneshot::channel();
                let for_thread = url.clone();
                let spawned = std::thread::Builder::new()
                    .name("fleet-check".to_owned())
                    .spawn(move || {
                        let answer = network_settings::fleet_reachable(
                            &for_thread,
                            10,
                            Duration::from_secs(3),
                        );
                        if sender.send(answer).is_err() {
                            eprintln!(
                                "pos-service: the service screen closed during the fleet check"
                            );
                        }
                    });
                if let Err(error) = spawned {
                    self.fleet_answered(&url, Err(error.to_string()));
                    return;
                }
                let this = self.clone();
                let waiting = slint::spawn_local(async move {
                    let answer = receiver
                        .await
                        .unwrap_or_else(|_| Err("the check stopped".to_owned()));
                    this.fleet_answered(&url, answer);
                });
                if let Err(error) = waiting {
                    self.say(&error.to_string(), Tone::Problem);
                }
            }
        }
    }

    fn fleet_answered(&self, url: &str, answer: Result<String, String>) {
        let shown = match answer {
            Ok(endpoint) => Ok(self.text(
                format!("The fleet answers at {endpoint}."),
                format!("Die Flotte antwortet unter {endpoint}."),
            )),
            Err(error) => Err(self.text(
                format!("The fleet at {url} does not answer: {error}. Check the cable, the address and the gateway."),
                format!("Die Flotte unter {url} antwortet nicht: {error}. Prüfen Sie Kabel, Adresse und Gateway."),
            )),
        };
        self.show_reach(shown);
    }

    fn show_reach(&self, shown: Result<String, String>) {
        self.adapter(|adapter| {
            adapter.set_net_reach_ok(shown.is_ok());
            let (Ok(text) | Err(text)) = shown;
            adapter.set_net_reach(text.into());
        });
    }

    fn boot_other_slot(&self) {
        let settings = &self.inner.settings;
        let switched = settings.slots.activate_other().and_then(|message| {
            maintenance::request_reboot(&settings.data_dir, "start the other slot").map(|_| message)
        });
        match switched {
            Ok(message) => {
                let text = self.text(
                    format!("The other slot starts next ({message}); the terminal restarts now."),
                    format!(
                        "Als Nächstes startet der andere Slot ({message}); die Kasse startet jetzt neu."
                    ),
                );
                self.say(&text, Tone::Success);
            }
            Err(error) => {
                let text = self.text(
                    format!("The other slot cannot be started: {error}"),
                    format!("Der andere Slot kann nicht gestartet werden: {error}"),
                );
                self.say(&text, Tone::Problem);
            }
        }
    }
}

/// [`GateRefusal`]'s words in German.
fn gate_refusal_de(refused: &GateRefusal) -> String {
    match refused {
        GateRefusal::WrongPin { name, tries_left } => format!(
            "Falsche PIN für {name}; noch {tries_left} Versuche, dann muss {name} 5 Minuten warten."
        ),
        GateRefusal::LockedOut { name, minutes_left } => {
            format!("Zu viele falsche PINs für {name}; in {minutes_left} Min. wieder versuchen.")
        }
        GateRefusal::UnknownPerson(name) => format!("Niemand namens {name} arbeitet hier."),
    }
}
