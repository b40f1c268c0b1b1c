//! The cashier's screen over the real till: the Slint window (or the full screen on the
//! appliance), the printer worker reporting into the status bar, and scanners typing into
//! the scan field.
//!
//! Owns the UI thread's wiring. Only the UI thread touches the window: the printer and
//! scanner threads hand their news over with `slint::Weak::upgrade_in_event_loop`.

use std::cell::RefCell;
use std::rc::Rc;

use pos_core::id::DeviceId;
use pos_till::Intent;
use pos_ui::{AppWindow, CartAdapter, DeviceStatus, TillScreen, system_now};
use slint::ComponentHandle;

use crate::config::TerminalConfig;
use crate::peripherals::{PeripheralService, PeripheralSettings, PrinterReport};
use crate::pole::{CustomerDisplay, customer_screen};
use crate::scanner::Delivery;
use crate::seed::GENERATED_PRODUCTS;
use crate::terminal::{DataDir, open_terminal};

thread_local! {
    /// The screen, for news arriving from other threads; set while the window runs.
    static SCREEN: RefCell<Option<TillScreen>> = const { RefCell::new(None) };
}

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

/// Runs the cashier's screen over the store in `data` until the window closes.
pub fn run(data: &DataDir, config: &TerminalConfig) -> Result<(), ScreenError> {
    // English is the screen's own language; only others come from a translation.
    if config.language != "en"
        && let Err(error) = pos_ui::select_language(&config.language)
    {
        eprintln!("pos-terminal: {error}");
    }
    let window = AppWindow::new()?;
    let for_printer = window.as_weak();
    let peripherals = Rc::new(PeripheralService::start(
        PeripheralSettings {
            queue_dir: data.print_queue(),
            receipts_dir: data.receipts(),
            line: config.printer.line.clone(),
            paper: config.printer.paper,
            drawer: config.drawer,
            drawer_watch: config.drawer_watch,
        },
        move |report: PrinterReport| {
            for file in report
                .filed
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "txt"))
            {
                eprintln!("pos-terminal: receipt filed at {}", file.display());
            }
            let status = device_status(&report);
            let alert = report.drawer_alert.clone();
            let shown = for_printer.upgrade_in_event_loop(move |_| {
                SCREEN.with(|screen| {
                    if let Some(screen) = screen.borrow().as_ref() {
                        screen.set_status(status);
                        screen.set_drawer_alert(alert);
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
    let _sync = config.sync.clone().and_then(|settings| {
        crate::sync_agent::SyncAgent::start(&data.root, DeviceId::new(&config.device), settings)
            .map_err(|error| eprintln!("pos-terminal: sync is off: {error}"))
            .ok()
    });
    let effects = opened.effects;
    let mut till = opened.till;
    // Checked when the configuration was read; the defaults stay if not.
    if let Err(error) = till.set_scan_rules(config.barcodes.clone()) {
        eprintln!("pos-terminal: the barcode rules are not used: {error}");
    }
    let screen = TillScreen::new(&window, till, system_now);
    screen.on_effects(move |effect| effects.run(effect));
    if let Some(display) = CustomerDisplay::start(&config.display).map_err(ScreenError::Display)? {
        let welcome = config.display.welcome.clone();
        screen.on_view(move |view| display.show(customer_screen(view, &welcome)));
    }
    SCREEN.with(|slot| *slot.borrow_mut() = Some(screen.clone()));
    // The agent starts once the screen and the store are up: that is its health check after
    // a restart into a new version.
    let updates = match &config.update {
        Some(settings) => Some(crate::update_agent::spawn(
            settings.clone(),
            &data.root,
            utc_offset,
            Box::new(Vec::new),
        )?),
        None => None,
    };
    let ticker = slint::Timer::default();
    let refresher = screen.clone();
    ticker.start(
        slint::TimerMode::Repeated,
        std::time::Duration::from_secs(1),
        move || {
            refresher.refresh();
            if let Some(updates) = &updates {
                updates.report_till(crate::update_agent::TillActivity::of(&refresher.view()));
            }
        },
    );
    if let Some(settings) = config.scanner.clone() {
        let for_scanner = window.as_weak();
        crate::scanner::spawn(settings, move |delivery| {
            let typed = for_scanner.upgrade_in_event_loop(move |window| match delivery {
                Delivery::Code(code) => window.global::<CartAdapter>().invoke_scan(code.into()),
                Delivery::Refused(refusal) => SCREEN.with(|screen| {
                    if let Some(screen) = screen.borrow().as_ref()
                        && let Err(shown) = screen.send(Intent::ScanRefused(refusal))
                    {
                        // The refusal is on screen as the message; the log keeps it too.
                        eprintln!("pos-terminal: {shown}");
                    }
                }),
            });
            if let Err(error) = typed {
                eprintln!("pos-terminal: a scan could not reach the screen: {error}");
            }
        })?;
    }
    let result = window.run();
    SCREEN.with(|slot| slot.borrow_mut().take());
    drop(screen);
    result?;
    Ok(())
}
