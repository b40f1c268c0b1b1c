//! The setup page's controller: copies the form between `SetupAdapter` and [`SetupForm`],
//! checks each step as the technician taps Next, reads the provisioning file, and runs the
//! enrolment off the UI thread before writing everything at the end.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use pos_ui::{AppWindow, SetupAdapter, SetupStep, Tone};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::complete::{
    self, CompleteError, EnrolError, Enroller, Enrolment, SetupState, SetupTarget,
};
use crate::network_settings;
use crate::provision;
use crate::setup::{self, SetupForm, Step, TIME_ZONES};

/// Where slow work runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Background {
    /// On a thread of its own, the answer handed back to the UI thread (the terminal).
    Thread,
    /// Right away on the calling thread (tests, which have no running event loop).
    Inline,
}

pub struct SetupSettings {
    pub data_dir: PathBuf,
    /// Where the USB import leaves a provisioning file.
    pub provisioning_file: PathBuf,
    /// Where the system's time zones are.
    pub zoneinfo: PathBuf,
    pub enroller: Arc<dyn Enroller + Send + Sync>,
    pub background: Background,
    /// Milliseconds since the Unix epoch.
    pub clock: fn() -> i64,
}

/// What runs once the technician starts the till.
type StartTill = Box<dyn FnOnce(SetupState)>;

struct Inner {
    window: slint::Weak<AppWindow>,
    settings: SetupSettings,
    target: RefCell<Box<dyn SetupTarget>>,
    done: RefCell<Option<SetupState>>,
    on_start: RefCell<Option<StartTill>>,
}

/// The setup page over `window`. Cheap to clone.
#[derive(Clone)]
pub struct SetupScreen {
    inner: Rc<Inner>,
}

impl SetupScreen {
    /// Shows the setup page over the till, with `form` as the starting values (a provisioning
    /// file already imported is read into it).
    pub fn show(
        window: &AppWindow,
        settings: SetupSettings,
        target: Box<dyn SetupTarget>,
        mut form: SetupForm,
    ) -> SetupScreen {
        // A setup shown again keeps the network applied the first time.
        if let Some(saved) = network_settings::load_saved(&settings.data_dir) {
            form.network = saved.form;
        }
        let screen = SetupScreen {
            inner: Rc::new(Inner {
                window: window.as_weak(),
                settings,
                target: RefCell::new(target),
                done: RefCell::new(None),
                on_start: RefCell::new(None),
            }),
        };
        let adapter = window.global::<SetupAdapter>();
        adapter.set_provisioning_path(
            screen
                .inner
                .settings
                .provisioning_file
                .display()
                .to_string()
                .into(),
        );
        write_form(&adapter, &form);
        adapter.set_step(SetupStep::Fleet);
        adapter.set_message(SharedString::new());
        adapter.set_busy(false);
        adapter.set_active(true);
        if screen.inner.settings.provisioning_file.is_file() {
            screen.load_provisioning();
        }
        let weak = Rc::downgrade(&screen.inner);
        let with = move |action: fn(&SetupScreen)| {
            let weak = weak.clone();
            move || {
                if let Some(inner) = weak.upgrade() {
                    action(&SetupScreen { inner });
                }
            }
        };
        adapter.on_load_provisioning(with(SetupScreen::load_provisioning));
        adapter.on_open_network(with(SetupScreen::open_network));
        adapter.on_next(with(SetupScreen::next));
        adapter.on_back(with(SetupScreen::back));
        adapter.on_previous_time_zone(with(|s| s.cycle_time_zone(-1)));
        adapter.on_next_time_zone(with(|s| s.cycle_time_zone(1)));
        adapter.on_finish(with(SetupScreen::finish));
        adapter.on_start_till(with(SetupScreen::start_till));
        screen
    }

    /// Called once the technician taps "Start the till" after a completed setup.
    pub fn on_start(&self, start: impl FnOnce(SetupState) + 'static) {
        *self.inner.on_start.borrow_mut() = Some(Box::new(start));
    }

    /// The completed setup, once it is.
    pub fn completed(&self) -> Option<SetupState> {
        self.inner.done.borrow().clone()
    }

    fn adapter<R>(&self, work: impl FnOnce(&SetupAdapter<'_>) -> R) -> Option<R> {
        let window = self.inner.window.upgrade()?;
        let adapter = window.global::<SetupAdapter>();
        Some(work(&adapter))
    }

    fn say(&self, text: &str, tone: Tone) {
        self.adapter(|adapter| {
            adapter.set_message(text.into());
            adapter.set_message_tone(tone);
        });
    }

    fn load_provisioning(&self) {
        let Some(mut form) = self.adapter(read_form) else {
            return;
        };
        let path = &self.inner.settings.provisioning_file;
        let network_before = form.network.clone();
        match provision::load(path, &mut form) {
            Ok(()) => {
                self.adapter(|adapter| write_form(adapter, &form));
                // The network comes first: enrolment needs it.
                if form.network != network_before && !self.apply_network(&form) {
                    return;
                }
                let text = if form.locale == "de" {
                    format!(
                        "Aus {} gelesen: prüfen Sie jeden Schritt und tippen Sie auf Weiter.",
                        path.display()
                    )
                } else {
                    format!(
                        "Read from {}: check each step and tap Next.",
                        path.display()
                    )
                };
                self.say(&text, Tone::Success);
            }
            Err(error) => self.say(&error.to_string(), Tone::Problem),
        }
    }

    /// Shows the network page, with what is in force.
    fn open_network(&self) {
        let locale = self
            .adapter(|adapter| adapter.get_locale().to_string())
            .unwrap_or_default();
        let chosen = chosen_network(&self.inner.settings.data_dir, &locale);
        self.adapter(|adapter| {
            adapter.set_net_chosen(chosen.into());
            adapter.set_step(SetupStep::Network);
            adapter.set_message(SharedString::new());
        });
    }

    /// Checks the form's network settings and, when they are right, saves them for the image
    /// to apply. Says what happened; false when nothing was saved.
    fn apply_network(&self, form: &SetupForm) -> bool {
        let locale = form.locale.as_str();
        let settings = match network_settings::check(&form.network) {
            Ok(settings) => settings,
            Err(error) => {
                self.adapter(|adapter| adapter.set_step(SetupStep::Network));
                self.say(&error.message(locale), Tone::Problem);
                return false;
            }
        };
        let data_dir = &self.inner.settings.data_dir;
        let now = (self.inner.settings.clock)();
        match network_settings::save(data_dir, &form.network, &settings, "setup", now) {
            Ok(_) => {
                eprintln!(
                    "pos-service: network settings applied at setup: {}",
                    settings.describe("en")
                );
                let chosen = settings.describe(locale);
                let text = if locale == "de" {
                    format!("Netzwerk eingestellt: {chosen}.")
                } else {
                    format!("Network set: {chosen}.")
                };
                self.adapter(|adapter| adapter.set_net_chosen(chosen.as_str().into()));
                self.say(&text, Tone::Success);
                true
            }
            Err(error) => {
                self.say(&error.message(locale), Tone::Problem);
                false
            }
        }
    }

    fn next(&self) {
        let Some((form, step)) = self.adapter(|a| (read_form(a), a.get_step())) else {
            return;
        };
        if step == SetupStep::Network {
            if self.apply_network(&form) {
                self.adapter(|adapter| adapter.set_step(SetupStep::Fleet));
            }
            return;
        }
        let Some(current) = step_of(step) else {
            return;
        };
        match setup::check_step(&form, current, &self.inner.settings.zoneinfo) {
            Ok(()) => {
                let next = match current {
                    Step::Fleet => SetupStep::Store,
                    Step::Store => SetupStep::Hardware,
                    Step::Hardware | Step::Admin => SetupStep::Admin,
                };
                self.adapter(|adapter| {
                    adapter.set_step(next);
                    adapter.set_message(SharedString::new());
                });
            }
            Err(error) => self.say(&error.message(&form.locale), Tone::Problem),
        }
    }

    fn back(&self) {
        self.adapter(|adapter| {
            let previous = match adapter.get_step() {
                SetupStep::Store => SetupStep::Fleet,
                SetupStep::Hardware => SetupStep::Store,
                SetupStep::Admin => SetupStep::Hardware,
                SetupStep::Network => SetupStep::Fleet,
                other => other,
            };
            adapter.set_step(previous);
            adapter.set_message(SharedString::new());
        });
    }

    fn cycle_time_zone(&self, by: isize) {
        self.adapter(|adapter| {
            let zone = adapter.get_time_zone();
            let count = TIME_ZONES.len() as isize;
            let next = match TIME_ZONES.iter().position(|z| *z == zone.as_str()) {
                Some(index) => (index as isize + by).rem_euclid(count),
                None => 0,
            };
            if let Some(zone) = TIME_ZONES.get(next as usize) {
                adapter.set_time_zone((*zone).into());
            }
        });
    }

    fn finish(&self) {
        let Some(form) = self.adapter(read_form) else {
            return;
        };
        let plan = match setup::plan(&form, &self.inner.settings.zoneinfo) {
            Ok(plan) => plan,
            Err(error) => {
                self.adapter(|adapter| adapter.set_step(slint_step(error.step())));
                self.say(&error.message(&form.locale), Tone::Problem);
                return;
            }
        };
        if let Some(fleet) = &plan.fleet {
            let text = if form.locale == "de" {
                format!("Anmeldung bei {} …", fleet.url)
            } else {
                format!("Enrolling with {} …", fleet.url)
            };
            self.say(&text, Tone::Info);
        }
        self.adapter(|adapter| adapter.set_busy(true));
        let enroller = self.inner.settings.enroller.clone();
        match self.inner.settings.background {
            Background::Inline => {
                let enrolment = complete::enrol(&plan, enroller.as_ref());
                self.enrolled(&plan, enrolment);
            }
            Background::Thread => {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                let for_thread = plan.clone();
                let spawned = std::thread::Builder::new()
                    .name("enrolment".to_owned())
                    .spawn(move || {
                        let answer = complete::enrol(&for_thread, enroller.as_ref());
                        if sender.send(answer).is_err() {
                            eprintln!("pos-service: the setup screen closed during enrolment");
                        }
                    });
                if let Err(error) = spawned {
                    self.enrolled(
                        &plan,
                        Err(EnrolError::Unreachable {
                            url: plan.fleet_url.clone(),
                            detail: error.to_string(),
                        }),
                    );
                    return;
                }
                let this = self.clone();
                let waiting = slint::spawn_local(async move {
                    let answer = receiver.await.unwrap_or_else(|_| {
                        Err(EnrolError::Unreachable {
                            url: plan.fleet_url.clone(),
                            detail: "the enrolment stopped".to_owned(),
                        })
                    });
                    this.enrolled(&plan, answer);
                });
                if let Err(error) = waiting {
                    self.adapter(|adapter| adapter.set_busy(false));
                    self.say(&error.to_string(), Tone::Problem);
                }
            }
        }
    }

    fn enrolled(&self, plan: &setup::SetupPlan, enrolment: Result<Option<Enrolment>, EnrolError>) {
        self.adapter(|adapter| adapter.set_busy(false));
        let locale = plan.locale.as_str();
        let enrolment = match enrolment {
            Ok(enrolment) => enrolment,
            Err(error) => {
                self.adapter(|adapter| adapter.set_step(SetupStep::Fleet));
                self.say(&error.message(locale), Tone::Problem);
                return;
            }
        };
        let now = (self.inner.settings.clock)();
        let finished = complete::finish_setup(
            plan,
            enrolment,
            &self.inner.settings.data_dir,
            self.inner.target.borrow_mut().as_mut(),
            now,
        );
        match finished {
            Ok(state) => {
                let lines = summary(&state, locale);
                self.adapter(|adapter| {
                    adapter.set_summary(ModelRc::new(VecModel::from(lines)));
                    adapter.set_step(SetupStep::Done);
                    // The PINs leave the screen's memory.
                    adapter.set_admin_pin(SharedString::new());
                    adapter.set_admin_pin_again(SharedString::new());
                });
                let text = if locale == "de" {
                    "Die Kasse ist eingerichtet."
                } else {
                    "The terminal is set up."
                };
                self.say(text, Tone::Success);
                *self.inner.done.borrow_mut() = Some(state);
            }
            Err(error) => {
                let step = match error {
                    CompleteError::Config(_) => SetupStep::Hardware,
                    _ => SetupStep::Admin,
                };
                self.adapter(|adapter| adapter.set_step(step));
                self.say(&error.message(locale), Tone::Problem);
            }
        }
    }

    fn start_till(&self) {
        let Some(state) = self.completed() else {
            return;
        };
        self.adapter(|adapter| adapter.set_active(false));
        if let Some(start) = self.inner.on_start.borrow_mut().take() {
            start(state);
        }
    }
}

fn summary(state: &SetupState, locale: &str) -> Vec<SharedString> {
    let de = locale == "de";
    let mut lines = Vec::new();
    lines.push(match (&state.enrolment, de) {
        (Some(e), false) => format!(
            "Enrolled with {} as {} (fleet id {}).",
            state.fleet_url, state.terminal_name, e.device
        ),
        (Some(e), true) => format!(
            "Bei {} als {} angemeldet (Flotten-ID {}).",
            state.fleet_url, state.terminal_name, e.device
        ),
        (None, false) => "Not enrolled yet: the terminal sells offline; enrol it from the service screen once the network is up.".to_owned(),
        (None, true) => "Noch nicht angemeldet: Die Kasse verkauft offline; melden Sie sie über den Service an, sobald das Netzwerk da ist.".to_owned(),
    });
    let store = if de { "Filiale" } else { "Store" };
    lines.push(format!("{store}: {}", state.store_name));
    let zone = if de { "Zeitzone" } else { "Time zone" };
    lines.push(format!("{zone}: {} · {}", state.time_zone, state.locale));
    lines.push(format!("Administrator: {}", state.admin_user));
    lines.into_iter().map(SharedString::from).collect()
}

fn step_of(step: SetupStep) -> Option<Step> {
    match step {
        SetupStep::Fleet => Some(Step::Fleet),
        SetupStep::Store => Some(Step::Store),
        SetupStep::Hardware => Some(Step::Hardware),
        SetupStep::Admin => Some(Step::Admin),
        SetupStep::Done | SetupStep::Network => None,
    }
}

fn slint_step(step: Step) -> SetupStep {
    match step {
        Step::Fleet => SetupStep::Fleet,
        Step::Store => SetupStep::Store,
        Step::Hardware => SetupStep::Hardware,
        Step::Admin => SetupStep::Admin,
    }
}

/// The form as the page holds it.
pub fn read_form(adapter: &SetupAdapter<'_>) -> SetupForm {
    SetupForm {
        fleet_url: adapter.get_fleet_url().into(),
        enrolment_code: adapter.get_enrolment_code().into(),
        offline: adapter.get_offline(),
        terminal_name: adapter.get_terminal_name().into(),
        device: adapter.get_device().into(),
        store_name: adapter.get_store_name().into(),
        time_zone: adapter.get_time_zone().into(),
        locale: adapter.get_locale().into(),
        printer_transport: adapter.get_printer_transport().into(),
        printer_address: adapter.get_printer_address().into(),
        paper: adapter.get_paper().into(),
        drawer_pin: adapter.get_drawer_pin().into(),
        scanner: adapter.get_scanner(),
        admin_name: adapter.get_admin_name().into(),
        admin_pin: adapter.get_admin_pin().into(),
        admin_pin_again: adapter.get_admin_pin_again().into(),
        network: network_settings::NetworkForm {
            mode: adapter.get_net_mode().into(),
            interface: adapter.get_net_interface().into(),
            address: adapter.get_net_address().into(),
            gateway: adapter.get_net_gateway().into(),
            dns: adapter.get_net_dns().into(),
        },
    }
}

/// What is in force, in words: the last settings applied, or the image's default.
pub(crate) fn chosen_network(data_dir: &std::path::Path, locale: &str) -> String {
    let saved = network_settings::load_saved(data_dir)
        .and_then(|saved| network_settings::check(&saved.form).ok());
    match (saved, locale) {
        (Some(settings), _) => settings.describe(locale),
        (None, "de") => {
            "Automatisch (DHCP) auf allen kabelgebundenen Schnittstellen (Werkseinstellung)"
                .to_owned()
        }
        (None, _) => "Automatic (DHCP) on every wired interface (factory default)".to_owned(),
    }
}

fn write_form(adapter: &SetupAdapter<'_>, form: &SetupForm) {
    adapter.set_fleet_url(form.fleet_url.as_str().into());
    adapter.set_enrolment_code(form.enrolment_code.as_str().into());
    adapter.set_offline(form.offline);
    adapter.set_terminal_name(form.terminal_name.as_str().into());
    adapter.set_device(form.device.as_str().into());
    adapter.set_store_name(form.store_name.as_str().into());
    adapter.set_time_zone(form.time_zone.as_str().into());
    adapter.set_locale(form.locale.as_str().into());
    adapter.set_printer_transport(form.printer_transport.as_str().into());
    adapter.set_printer_address(form.printer_address.as_str().into());
    adapter.set_paper(form.paper.as_str().into());
    adapter.set_drawer_pin(form.drawer_pin.as_str().into());
    adapter.set_scanner(form.scanner);
    adapter.set_admin_name(form.admin_name.as_str().into());
    adapter.set_admin_pin(form.admin_pin.as_str().into());
    adapter.set_admin_pin_again(form.admin_pin_again.as_str().into());
    adapter.set_net_mode(form.network.mode.as_str().into());
    adapter.set_net_interface(form.network.interface.as_str().into());
    adapter.set_net_address(form.network.address.as_str().into());
    adapter.set_net_gateway(form.network.gateway.as_str().into());
    adapter.set_net_dns(form.network.dns.as_str().into());
}
