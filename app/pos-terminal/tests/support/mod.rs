//! What the back-office tests share: the demo shop's day and codes, Slint's testing backend,
//! the back office opened over a real till's encrypted store ([`Desk`]), and what a person does
//! on a window ([`OnScreen`]: tap, type, read the message, sign in at the back office's door).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_backoffice::{BackOfficeScreen, SharedStore};
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, ProductId, StoreId};
use pos_core::quantity::Quantity;
use pos_store::Store;
use pos_terminal::backoffice::show_back_office;
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::ports::pin_gate;
use pos_terminal::terminal::{DataDir, OpenTerminal, open_terminal};
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
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
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

    /// The back office's banner.
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
        let peripherals = PeripheralService::start(
            PeripheralSettings::of(&DataDir::new(dir), &TerminalConfig::default()),
            |_| {},
        )
        .unwrap();
        let till = open_terminal(
            dir,
            DeviceId::new("T1"),
            GENERATED,
            Rc::new(peripherals),
            monday,
        )
        .unwrap();
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
        self.store().journal_tail(1).unwrap()[0].seq
    }

    /// The kinds of the journal entries recorded after entry `seq`, oldest first.
    pub fn kinds_since(&self, seq: u64) -> Vec<String> {
        let head = self.journal_head();
        self.store()
            .journal_tail(u32::try_from(head - seq).unwrap())
            .unwrap()
            .into_iter()
            .map(|entry| entry.kind)
            .collect()
    }

    /// The shop's stock of `product`.
    pub fn level(&self, product: &str) -> Quantity {
        self.store()
            .stock_level(&shop_id(), &ProductId::new(product))
            .unwrap()
    }
}
