//! The cashier's screen: a Slint UI over the till session, full screen on the framebuffer on
//! the appliance (`kms` feature: LinuxKMS with the software renderer and libinput) and a
//! window on a PC (`desktop` feature: winit).
//!
//! It owns layout, drawing, focus and keyboard shortcuts, and nothing else: every figure and
//! every decision comes from `pos-till`'s view model, and every tap becomes a `pos-till`
//! intent. It never touches storage, drivers or the network, and holds no retail rule.
//!
//! Key decision: the `.slint` pages bind only to a few `global` adapters (`SessionAdapter`,
//! `CartAdapter`, `PaymentAdapter`, `HeldAdapter`, `StatusAdapter`) that carry sample data
//! as defaults, so each page renders in the previewer and in tests; [`TillScreen`] is the one
//! place that copies a `TillView` into those globals and turns their callbacks into intents.
//! Only the UI thread touches the UI: other threads hand scans to it with
//! `slint::invoke_from_event_loop`.

slint::include_modules!();

mod controller;

pub use controller::{DeviceStatus, TillScreen};

use pos_core::clock::Timestamp;

/// Why the screen could not start.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("the screen could not start: {0}")]
    Platform(#[from] slint::PlatformError),
    #[error("the demo shop could not be built: {0}")]
    Demo(#[from] pos_till::DemoError),
    #[error("no translation for language `{0}`; English is shown")]
    Language(String),
}

/// Shows the screen in `language` ("en" or "de").
pub fn select_language(language: &str) -> Result<(), UiError> {
    slint::select_bundled_translation(language).map_err(|_| UiError::Language(language.to_owned()))
}

/// The system clock as the till's time. Only binaries and this edge read it.
pub fn system_now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix_ms(ms)
}

/// Opens the screen over `till` with the system clock and runs until the window closes.
/// The status bar's clock and held carts' ages refresh every second.
pub fn run(till: pos_till::Till) -> Result<(), UiError> {
    let window = AppWindow::new()?;
    let screen = TillScreen::new(&window, till, system_now);
    let ticker = slint::Timer::default();
    let refresher = screen.clone();
    ticker.start(
        slint::TimerMode::Repeated,
        std::time::Duration::from_secs(1),
        move || refresher.refresh(),
    );
    window.run()?;
    Ok(())
}

/// Opens the screen over the demo shop's till in a window (or full screen on the appliance).
pub fn run_desktop() -> Result<(), UiError> {
    run(pos_till::demo_till(system_now())?)
}
