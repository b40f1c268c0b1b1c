//! What the terminal's screen tests share: the demo shop's day and codes, Slint's testing
//! backend, the demo shop's till with its printer worker ([`open_till`]), the back office
//! opened over it ([`Desk`]), the whole terminal in a window as `pos-terminal` starts it
//! ([`Terminal`]), what a person does on a window ([`OnScreen`]: tap, type, read the message,
//! sign in at the back office's door), and the receipts a printer cut ([`cut_receipts`]).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_backoffice::{BackOfficeScreen, SharedStore};
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, ProductId, StoreId, UserId};
use pos_core::quantity::Quantity;
use pos_printer::decode::Event;
use pos_store::Store;
use pos_terminal::backoffice::show_back_office;
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::ports::pin_gate;
use pos_terminal::screen::{Running, start_till};
use pos_terminal::terminal::{DataDir, OpenTerminal, open_terminal};
use pos_till::view::Screen;
use pos_till::{Intent, ShiftIntent, TenderChoice};
use pos_ui::{AppWindow, Office};
use slint::ComponentHandle;

/// Monday 2026-03-02 10:00 UTC, 11:00 in Berlin.
pub const MONDAY_10AM: i64 = 1_772_445_600_000;
pub const MILK: &str = "4006381333931";
pub const BUTTER: &str = "4008452011236";
pub const COLA: &str = "5449000000996";
/// Generated products the demo shop is seeded with besides its own.
pub const GENERATED: u64 = 20;

pub fn monday() -> Timestamp {
    Timestamp::from_unix_ms(MONDAY_10AM)
}

/// The demo shop's store id.
pub fn shop_id() -> StoreId {
    StoreId::new("berlin-mitte")
}

/// Slint's testing backend with the software renderer and a clock the test moves. Once per
/// test thread: a second call on the same thread (a test that opens the store again) is
/// refused by Slint and changes nothing.
pub fn testing_backend() {
    set_testing_backend(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    });
}

/// [`testing_backend`] with an event loop the test turns, so that news from other threads
/// (the printer worker's) reaches the screen. Slint takes work for the event loop from one
/// thread of a process only: one test of a file at most may use it.
pub fn testing_backend_with_event_loop() {
    set_testing_backend(TestingBackendOptions {
        mock_time: true,
        threading: true,
        renderer_name: Some("software".into()),
    });
}

fn set_testing_backend(options: TestingBackendOptions) {
    // Refused, and nothing changes, when this thread has one already.
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(options)));
}

/// The demo shop's till as `pos-terminal` opens it in `dir` with `config`: the printer worker
/// on the printer `config` names, and the encrypted store (seeded once), at [`monday`].
pub fn open_till(dir: &Path, config: &TerminalConfig) -> (Rc<PeripheralService>, OpenTerminal) {
    let data = DataDir::new(dir);
    let peripherals =
        Rc::new(PeripheralService::start(PeripheralSettings::of(&data, config), |_| {}).unwrap());
    let till = open_terminal(
        &data.root,
        DeviceId::new(&config.device),
        GENERATED,
        peripherals.clone(),
        monday,
    )
    .unwrap();
    (peripherals, till)
}

/// The newest journal entry's number in `store`: every recorded change moves it.
pub fn journal_head(store: &Store) -> u64 {
    store.journal_tail(1).unwrap()[0].seq
}

/// The kinds of the journal entries recorded in `store` after entry `seq`, oldest first.
pub fn kinds_since(store: &Store, seq: u64) -> Vec<String> {
    store
        .journal_tail(u32::try_from(journal_head(store) - seq).unwrap())
        .unwrap()
        .into_iter()
        .map(|entry| entry.kind)
        .collect()
}

/// The receipts in what a printer decoded, each its events up to and with its cut; what
/// follows the last cut is not a receipt yet.
pub fn cut_receipts(events: &[Event]) -> Vec<Vec<Event>> {
    events
        .split_inclusive(|event| matches!(event, Event::Cut(_)))
        .filter(|receipt| matches!(receipt.last(), Some(Event::Cut(_))))
        .map(<[Event]>::to_vec)
        .collect()
}

/// The receipts the emulated `printer` cut, once there are `count` (20 s at most).
pub fn printed(
    printer: &tests::printer_emulator::PrinterEmulator,
    count: usize,
) -> Vec<Vec<Event>> {
    let cut = printer.wait_until(Duration::from_secs(20), |state| state.cuts() >= count);
    let state = printer.state();
    assert!(
        cut,
        "the printer cut {} receipts, not {count}",
        state.cuts()
    );
    assert!(state.errors.is_empty(), "{:?}", state.errors);
    cut_receipts(&state.events)
}

/// Taps the first button labelled `label` in `window`.
pub fn tap(window: &AppWindow, label: &str) {
    ElementHandle::find_by_accessible_label(window, label)
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .unwrap_or_else(|| panic!("no button labelled {label:?} on screen"))
        .invoke_accessible_default_action();
}

/// What a person does on a window: the testing backend finds only what is on screen.
pub trait OnScreen {
    fn window(&self) -> &AppWindow;

    fn tap(&self, label: &str) {
        tap(self.window(), label);
    }

    /// Types into the `nth` field labelled `label` (0 for the first).
    fn type_nth(&self, label: &str, nth: usize, text: &str) {
        ElementHandle::find_by_accessible_label(self.window(), label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .nth(nth)
            .unwrap_or_else(|| panic!("no field {nth} labelled {label:?} on screen"))
            .set_accessible_value(text);
    }

    fn type_into(&self, label: &str, text: &str) {
        self.type_nth(label, 0, text);
    }

    fn field(&self, label: &str) -> String {
        ElementHandle::find_by_accessible_label(self.window(), label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .and_then(|e| e.accessible_value())
            .map(String::from)
            .unwrap_or_else(|| panic!("no field labelled {label:?} on screen"))
    }

    /// Whether a button labelled `label` is on screen.
    fn shows(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(self.window(), label)
            .any(|e| e.accessible_role() == Some(AccessibleRole::Button))
    }

    /// The banner of the screen on top: the back office's unless said otherwise.
    fn message(&self) -> String {
        self.window().global::<Office>().get_message().into()
    }

    /// Through the back office's door on the till's login page, to its sign-in.
    fn enter_back_office(&self) {
        self.window()
            .global::<pos_ui::SessionAdapter>()
            .set_page(pos_ui::Page::Login);
        self.tap("Back office");
    }

    fn sign_in(&self, person: &str, pin: &str) {
        self.tap(person);
        self.type_into("PIN", pin);
        self.tap("Sign in");
    }
}

/// The demo shop's till over its encrypted store, and the back office in the same window,
/// at its sign-in.
pub struct Desk {
    pub window: AppWindow,
    pub screen: BackOfficeScreen<SharedStore>,
    pub till: OpenTerminal,
}

impl OnScreen for Desk {
    fn window(&self) -> &AppWindow {
        &self.window
    }
}

impl Desk {
    /// The demo shop in `dir` (seeded once), with `setup` done to its store before the back
    /// office opens.
    pub fn open(dir: &Path, setup: impl FnOnce(&mut Store)) -> Desk {
        testing_backend();
        let (_, till) = open_till(dir, &TerminalConfig::default());
        setup(&mut till.store.borrow_mut());
        let window = AppWindow::new().unwrap();
        let screen = show_back_office(
            &window,
            till.store.clone(),
            &DeviceId::new("T1"),
            monday,
            pin_gate(till.store.clone()),
        )
        .unwrap();
        window.show().unwrap();
        let desk = Desk {
            window,
            screen,
            till,
        };
        desk.enter_back_office();
        desk
    }

    /// A window `height` pixels tall, so that long pages are on screen whole: the testing
    /// backend finds only what is, and a finger would scroll.
    pub fn tall(&self, height: u32) {
        self.window
            .window()
            .set_size(slint::PhysicalSize::new(1280, height));
    }

    pub fn store(&self) -> std::cell::Ref<'_, Store> {
        self.till.store.borrow()
    }

    /// The newest journal entry's number: every recorded change moves it.
    pub fn journal_head(&self) -> u64 {
        journal_head(&self.store())
    }

    /// The kinds of the journal entries recorded after entry `seq`, oldest first.
    pub fn kinds_since(&self, seq: u64) -> Vec<String> {
        kinds_since(&self.store(), seq)
    }

    /// The shop's stock of `product`.
    pub fn level(&self, product: &str) -> Quantity {
        self.store()
            .stock_level(&shop_id(), &ProductId::new(product))
            .unwrap()
    }
}

/// The terminal in a window, as `pos-terminal` starts it (`screen::start_till`: the till's
/// screen, the printer worker, the back office in the same window) with the `terminal.toml`
/// in its data directory, or without one.
pub struct Terminal {
    pub window: AppWindow,
    pub running: Running,
    pub data: DataDir,
}

impl OnScreen for Terminal {
    fn window(&self) -> &AppWindow {
        &self.window
    }
}

impl Terminal {
    /// The terminal on a platform whose event loop never runs: news from the printer's thread
    /// does not reach the screen.
    pub fn start(dir: &Path) -> Terminal {
        testing_backend();
        Terminal::open(dir)
    }

    /// The terminal on a platform whose event loop the test turns
    /// ([`testing_backend_with_event_loop`]).
    pub fn start_with_event_loop(dir: &Path) -> Terminal {
        testing_backend_with_event_loop();
        Terminal::open(dir)
    }

    fn open(dir: &Path) -> Terminal {
        let data = DataDir::new(dir);
        let window = AppWindow::new().unwrap();
        let running = start_till(
            &window,
            &data,
            &data.config_file(),
            &TerminalConfig::load(&data.config_file()).unwrap(),
        )
        .unwrap();
        window.show().unwrap();
        // Tall enough for the longest settings tab: the testing backend finds only what is on
        // screen, and a finger would scroll.
        window
            .window()
            .set_size(slint::PhysicalSize::new(1280, 1600));
        Terminal {
            window,
            running,
            data,
        }
    }

    /// From the till's login page into the back office, signed in as `person`.
    pub fn back_office(&self, person: &str, pin: &str) {
        self.enter_back_office();
        self.sign_in(person, pin);
        assert_eq!(self.message(), "", "{person} is in");
    }

    /// Out of the back office, back to the till.
    pub fn leave(&self) {
        self.tap("Sign out");
        self.tap("Back to the till");
    }

    pub fn send(&self, intent: Intent) {
        self.running
            .screen()
            .send(intent)
            .unwrap_or_else(|e| panic!("the till refused: {e}"));
    }

    /// `user` at the till, logged in with `pin` and the shift open.
    pub fn at_till(&self, user: &str, pin: &str) {
        if self.running.screen().view().screen == Screen::Login {
            self.send(Intent::Login {
                user: UserId::new(user),
                pin: pin.to_owned(),
            });
        }
        if self.running.screen().view().screen == Screen::ShiftOpen {
            self.send(Intent::Shift(ShiftIntent::Open {
                total: "150.00".to_owned(),
            }));
        }
    }

    /// Pays the cart with a 5.00 note; returns the receipt number.
    pub fn pay_cash(&self) -> String {
        self.send(Intent::StartPayment);
        self.send(Intent::AddTender {
            kind: TenderChoice::Cash,
            amount: "5.00".to_owned(),
            reference: String::new(),
        });
        self.running
            .screen()
            .view()
            .payment
            .and_then(|p| p.receipt_number)
            .unwrap()
    }

    /// The till's store, opened beside the running terminal.
    pub fn store(&self) -> Store {
        Store::open(&self.data.root, DeviceId::new("T1")).unwrap()
    }

    pub fn journal_head(&self) -> u64 {
        journal_head(&self.store())
    }

    pub fn kinds_since(&self, seq: u64) -> Vec<String> {
        kinds_since(&self.store(), seq)
    }

    /// Lets the event loop run what other threads handed to it, until the back office says
    /// `wanted` (see [`Terminal::start_with_event_loop`]).
    pub fn wait_for_message(&self, wanted: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            slint::quit_event_loop().unwrap();
            slint::run_event_loop().unwrap();
            if self.message() == wanted {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the back office never said {wanted:?}; it says {:?}",
            self.message()
        );
    }
}
