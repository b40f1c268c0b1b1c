//! The cashier's screen over the real till: the Slint window (or the full screen on the
//! appliance), the printer worker reporting into the status bar, and scanners typing into
//! the scan field.
//!
//! Owns the UI thread's wiring. Only the UI thread touches the window: the printer and
//! scanner threads hand their news over with `slint::Weak::upgrade_in_event_loop`.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pos_backoffice::{BackOfficeScreen, SharedStore};
use pos_core::id::DeviceId;
use pos_service::{ServiceScreen, SetupScreen};
use pos_till::Intent;
use pos_ui::{AppWindow, CartAdapter, DeviceStatus, TillScreen, Tone, system_now};
use slint::ComponentHandle;

use crate::config::TerminalConfig;
use crate::hardware::{ConfigFile, LiveHardware};
use crate::peripherals::{PeripheralService, PeripheralSettings, PrinterCheck, PrinterReport};
use crate::pole::{CustomerDisplay, customer_screen};
use crate::scanner::{Delivery, Scanners};
use crate::seed::GENERATED_PRODUCTS;
use crate::terminal::{DataDir, open_terminal, stored_logo};

/// What news from other threads reaches on the UI thread.
struct OnScreen {
    till: TillScreen,
    /// The status bar's printer text, which the service screen shows too.
    printer: Rc<RefCell<String>>,
    /// Where a manager who saved hardware settings reads whether the printer answers.
    back_office: BackOfficeScreen<SharedStore>,
}

thread_local! {
    /// Set while the window runs.
    static SCREEN: RefCell<Option<OnScreen>> = const { RefCell::new(None) };
}

/// How often the status bar's sync backlog is read from the store.
const STATUS_BAR_SYNC_SECONDS: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error(transparent)]
    Ui(#[from] pos_ui::UiError),
    /// The platform's own words say what is missing (a display, a GPU device); they are the
    /// message, not a cause to print again.
    #[error("the screen could not start: {0}")]
    Platform(slint::PlatformError),
    #[error(transparent)]
    Start(#[from] crate::terminal::StartError),
    #[error("the receipt printer could not be set up: {0}")]
    Peripherals(#[from] crate::peripherals::PeripheralError),
    #[error(transparent)]
    Scanner(#[from] crate::scanner::ScannerStartError),
    #[error(transparent)]
    Seed(#[from] crate::seed::SeedError),
    #[error(transparent)]
    Update(#[from] crate::update_agent::UpdateStartError),
    #[error("the customer display could not be set up: {0}")]
    Display(std::io::Error),
    #[error("the scanner test cannot start: {0}")]
    Service(String),
}

impl From<slint::PlatformError> for ScreenError {
    fn from(error: slint::PlatformError) -> ScreenError {
        ScreenError::Platform(error)
    }
}

/// The status bar's view of the printer report.
pub fn device_status(report: &PrinterReport) -> DeviceStatus {
    DeviceStatus {
        online: false,
        printer_ready: report.state.is_ready(),
        printer: report.status_text(),
    }
}

/// Runs the cashier's screen over the store in `data` until the window closes. With
/// `first_boot_setup`, a data directory without a completed setup shows the setup screen
/// first, and the till starts with the configuration it wrote.
pub fn run(
    data: &DataDir,
    config_file: &Path,
    config: &TerminalConfig,
    first_boot_setup: bool,
) -> Result<(), ScreenError> {
    // English is the screen's own language; only others come from a translation.
    select_language(&config.language);
    let window = AppWindow::new()?;
    let _watchdog = crate::watchdog::start();
    let running: Rc<RefCell<Option<Running>>> = Rc::new(RefCell::new(None));
    let setup = if first_boot_setup && !pos_service::complete::is_set_up(&data.root) {
        let setup = SetupScreen::show(
            &window,
            crate::service::setup_settings(data),
            Box::new(crate::service::TerminalSetupTarget { data: data.clone() }),
            crate::service::starting_form(),
        );
        let (for_till, data, config_file) =
            (window.as_weak(), data.clone(), config_file.to_path_buf());
        let slot = running.clone();
        setup.on_start(move |_state| {
            let Some(window) = for_till.upgrade() else {
                return;
            };
            let started = TerminalConfig::load(&config_file)
                .map_err(|error| error.to_string())
                .and_then(|config| {
                    select_language(&config.language);
                    start_till(&window, &data, &config_file, &config)
                        .map_err(|error| error.to_string())
                });
            match started {
                Ok(till) => *slot.borrow_mut() = Some(till),
                Err(error) => {
                    eprintln!("pos-terminal: the till could not start after setup: {error}");
                    if let Err(error) = slint::quit_event_loop() {
                        eprintln!("pos-terminal: {error}");
                    }
                }
            }
        });
        Some(setup)
    } else {
        *running.borrow_mut() = Some(start_till(&window, data, config_file, config)?);
        None
    };
    let result = window.run();
    SCREEN.with(|slot| slot.borrow_mut().take());
    drop(setup);
    running.borrow_mut().take();
    result?;
    Ok(())
}

fn select_language(language: &str) {
    if language != "en"
        && let Err(error) = pos_ui::select_language(language)
    {
        eprintln!("pos-terminal: {error}");
    }
}

/// What keeps the till running while the window is open.
pub struct Running {
    _sync: Option<crate::sync_agent::SyncAgent>,
    screen: TillScreen,
    _service: ServiceScreen,
    _back_office: BackOfficeScreen<SharedStore>,
    _ticker: slint::Timer,
    _peripherals: Rc<PeripheralService>,
    _scanners: Rc<RefCell<Scanners>>,
}

impl Running {
    /// The till on the window, for a benchmark that drives it as a cashier would.
    pub fn screen(&self) -> &TillScreen {
        &self.screen
    }
}

/// Starts the printer service, opens the store and shows the till in `window`: the
/// terminal's own start, which `terminal-bench` measures. The status bar and held carts'
/// ages refresh each second on a timer of the event loop. `config_file` is where `config`
/// came from: the back office's hardware settings write it.
pub fn start_till(
    window: &AppWindow,
    data: &DataDir,
    config_file: &Path,
    config: &TerminalConfig,
) -> Result<Running, ScreenError> {
    let for_printer = window.as_weak();
    let printer_status = Rc::new(RefCell::new(String::new()));
    // Whether the fleet answered the sync agent's last request; the status bar's online dot.
    let online = Arc::new(AtomicBool::new(false));
    let online_for_printer = online.clone();
    let peripherals = Rc::new(PeripheralService::start_with_logo(
        PeripheralSettings::of(data, config),
        stored_logo(&data.root, DeviceId::new(&config.device)),
        move |report: PrinterReport| {
            for file in report
                .filed
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "txt"))
            {
                eprintln!("pos-terminal: receipt filed at {}", file.display());
            }
            let mut status = device_status(&report);
            status.online = online_for_printer.load(Ordering::Relaxed);
            let alert = report.drawer_alert.clone();
            let check = report.check.clone();
            let shown = for_printer.upgrade_in_event_loop(move |_| {
                SCREEN.with(|screen| {
                    if let Some(shown) = screen.borrow().as_ref() {
                        *shown.printer.borrow_mut() = status.printer.clone();
                        shown.till.set_status(status);
                        shown.till.set_drawer_alert(alert);
                        match check {
                            Some(PrinterCheck::Ready(message)) => {
                                shown.back_office.hardware_checked(&message, Tone::Success)
                            }
                            Some(PrinterCheck::NotReady(message)) => {
                                shown.back_office.hardware_checked(&message, Tone::Problem)
                            }
                            None => {}
                        }
                    }
                });
            });
            if let Err(error) = shown {
                eprintln!("pos-terminal: the printer status could not reach the screen: {error}");
            }
        },
    )?);
    let opened = open_terminal(
        &data.root,
        DeviceId::new(&config.device),
        GENERATED_PRODUCTS,
        peripherals.clone(),
        system_now,
    )?;
    let utc_offset =
        crate::seed::shop_setup(&opened.store.borrow(), DeviceId::new(&config.device))?
            .store
            .utc_offset;
    // Sync runs beside the till on its own thread; a terminal that cannot sync still sells.
    let sync = crate::service::sync_settings(data, config).and_then(|settings| {
        crate::sync_agent::SyncAgent::start(&data.root, DeviceId::new(&config.device), settings)
            .map_err(|error| eprintln!("pos-terminal: sync is off: {error}"))
            .ok()
    });
    let sync_news = sync.as_ref().map(crate::sync_agent::SyncAgent::status);
    let effects = opened.effects;
    let mut till = opened.till;
    // Checked when the configuration was read; the defaults stay if not.
    if let Err(error) = till.set_scan_rules(config.barcodes.clone()) {
        eprintln!("pos-terminal: the barcode rules are not used: {error}");
    }
    till.set_auto_lock(
        config
            .auto_lock
            .map(|after| i64::try_from(after.as_millis()).unwrap_or(i64::MAX)),
    );
    let screen = TillScreen::new(window, till, system_now);
    screen.on_effects(move |effect| effects.run(effect));
    if let Some(display) = CustomerDisplay::start(&config.display).map_err(ScreenError::Display)? {
        let welcome = config.display.welcome.clone();
        screen.on_view(move |view| display.show(customer_screen(view, &welcome)));
    }
    // One count of wrong PINs for every door beside the till.
    let gate = crate::ports::pin_gate(opened.store.clone());
    let service = ServiceScreen::new(
        window,
        crate::service::service_settings(
            data,
            config,
            opened.store.clone(),
            peripherals.clone(),
            printer_status.clone(),
            sync_news.clone(),
            gate.clone(),
        )?,
    );
    service.show_status_bar();
    let back_office = crate::backoffice::show_back_office(
        window,
        opened.store.clone(),
        &DeviceId::new(&config.device),
        system_now,
        gate,
    )?;
    if let Some(printer) = crate::label_printer::label_printer(&config.label_printer, data) {
        back_office.set_label_printer(printer);
    }
    let for_scanner = window.as_weak();
    let scanners = Rc::new(RefCell::new(Scanners::new(move |delivery| {
        deliver_scan(&for_scanner, delivery)
    })));
    scanners.borrow_mut().apply(config.scanner.clone())?;
    back_office.attach_hardware(LiveHardware {
        file: ConfigFile::new(config_file),
        data: data.clone(),
        peripherals: peripherals.clone(),
        scanners: scanners.clone(),
    });
    // Settings and loyalty saved in the back office count from the till's next sale; the
    // receipt's logo from the next receipt printed.
    let (for_till, store) = (screen.clone(), opened.store.clone());
    let for_printer = peripherals.clone();
    let device = DeviceId::new(&config.device);
    back_office.on_shop_saved(move || {
        match crate::seed::shop_setup(&store.borrow(), device.clone()) {
            Ok(setup) => {
                for_printer.set_logo(setup.store.receipt.logo_png.clone());
                for_till.update_shop(setup);
            }
            Err(error) => eprintln!("pos-terminal: the till keeps its settings: {error}"),
        }
    });
    SCREEN.with(|slot| {
        *slot.borrow_mut() = Some(OnScreen {
            till: screen.clone(),
            printer: printer_status,
            back_office: back_office.clone(),
        })
    });
    // The agent starts once the screen, the store and the printer worker are up: that is its
    // health check after a restart into a new version.
    let update_settings =
        crate::service::update_settings(data, config, Path::new(crate::service::RAUC_SYSTEM_CONF));
    let updates = match update_settings {
        Some(settings) => Some(crate::update_agent::spawn(
            settings,
            &data.root,
            utc_offset,
            crate::update_agent::health_check(
                crate::update_agent::HealthParts {
                    data: data.clone(),
                    device: DeviceId::new(&config.device),
                    printer: peripherals.probe(),
                    sync: sync_news.clone(),
                },
                crate::update_agent::HealthGrace::APPLIANCE,
            ),
        )?),
        None => None,
    };
    // What the tenant allows, the loyalty programme and settings, changed through the fleet,
    // hold from the till's next sale and on the back office's settings at once.
    let (for_till, store, for_office) = (screen.clone(), opened.store.clone(), back_office.clone());
    let device = DeviceId::new(&config.device);
    let take_up_tenant = move || {
        match crate::seed::shop_setup(&store.borrow(), device.clone()) {
            Ok(setup) => for_till.update_shop(setup),
            Err(error) => eprintln!("pos-terminal: the till keeps its switches: {error}"),
        }
        for_office.tenant_changed();
    };
    let mut tenant_changes_seen = 0_u64;
    let ticker = slint::Timer::default();
    let refresher = screen.clone();
    let status_bar = service.clone();
    let mut seconds = 0_u32;
    ticker.start(
        slint::TimerMode::Repeated,
        std::time::Duration::from_secs(1),
        move || {
            refresher.refresh();
            if let Some(news) = &sync_news {
                let snapshot = news.snapshot();
                if snapshot.tenant_changes != tenant_changes_seen {
                    tenant_changes_seen = snapshot.tenant_changes;
                    take_up_tenant();
                }
                let now = snapshot.online;
                if online.swap(now, Ordering::Relaxed) != now {
                    refresher.set_online(now);
                }
            }
            if let Some(updates) = &updates {
                updates.report_till(crate::update_agent::TillActivity::of(&refresher.view()));
            }
            seconds = seconds.wrapping_add(1);
            if seconds.is_multiple_of(STATUS_BAR_SYNC_SECONDS) {
                if let Some(updates) = &updates {
                    let status = updates.status();
                    status_bar
                        .show_update_activity(&status.summary(), status.status_bar().as_deref());
                }
                status_bar.show_status_bar();
            }
        },
    );
    Ok(Running {
        _sync: sync,
        screen,
        _service: service,
        _back_office: back_office,
        _ticker: ticker,
        _peripherals: peripherals,
        _scanners: scanners,
    })
}

/// Hands what a scanner sent to the UI thread, where it arrives as a code typed into the scan
/// field (or into the scanner test while the service screen is open). Called on the scanner
/// thread; the scan is applied when the event loop runs it.
pub fn deliver_scan(window: &slint::Weak<AppWindow>, delivery: Delivery) {
    let typed = window.upgrade_in_event_loop(move |window| match delivery {
        // While the service screen is open, scans go to its scanner test.
        Delivery::Code(code) if window.global::<pos_ui::ServiceAdapter>().get_open() => window
            .global::<pos_ui::ServiceAdapter>()
            .invoke_test_scan(code.into()),
        // While the back office is open, scans look products up there.
        Delivery::Code(code) if window.global::<pos_ui::Office>().get_open() => window
            .global::<pos_ui::Office>()
            .invoke_scanned(code.into()),
        Delivery::Code(code) => window.global::<CartAdapter>().invoke_scan(code.into()),
        Delivery::Refused(refusal) => SCREEN.with(|screen| {
            if let Some(screen) = screen.borrow().as_ref()
                && let Err(shown) = screen.till.send(Intent::ScanRefused(refusal))
            {
                // The refusal is on screen as the message; the log keeps it too.
                eprintln!("pos-terminal: {shown}");
            }
        }),
    });
    if let Err(error) = typed {
        eprintln!("pos-terminal: a scan could not reach the screen: {error}");
    }
}
