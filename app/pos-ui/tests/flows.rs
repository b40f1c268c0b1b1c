//! The cashier's flows driven through the real UI: taps on the elements a person would tap,
//! keys typed as the scanner and keyboard type them, on Slint's testing backend with the
//! software renderer. Each test runs on its own thread with its own backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_core::clock::Timestamp;
use pos_ui::{
    AppWindow, CartAdapter, HeldAdapter, Page, PaymentAdapter, SessionAdapter, TillScreen,
};
use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, Model};

/// Monday 2026-03-02 10:00 UTC.
const MONDAY_10AM: i64 = 1_772_445_600_000;

struct Ui {
    window: AppWindow,
    screen: TillScreen,
}

fn start() -> Ui {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let now = Timestamp::from_unix_ms(MONDAY_10AM);
    let till = pos_till::demo_till(now).unwrap();
    let window = AppWindow::new().unwrap();
    let screen = TillScreen::new(&window, till, move || now);
    window.show().unwrap();
    Ui { window, screen }
}

impl Ui {
    fn tap(&self, label: &str) {
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(&self.window, label)
                .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
                .collect();
        assert!(!found.is_empty(), "no button labelled {label:?} on screen");
        found[0].invoke_accessible_default_action();
    }

    fn type_text(&self, text: &str) {
        for ch in text.chars() {
            self.key(ch.into());
        }
    }

    fn key(&self, text: slint::SharedString) {
        let window = self.window.window();
        window.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
        window.dispatch_event(WindowEvent::KeyReleased { text });
    }

    fn press(&self, key: Key) {
        self.key(key.into());
    }

    fn page(&self) -> Page {
        self.window.global::<SessionAdapter>().get_page()
    }

    fn message(&self) -> String {
        self.window.global::<SessionAdapter>().get_message().into()
    }

    fn login_as_anna(&self) {
        self.tap("Anna");
        for digit in ["1", "2", "3", "4"] {
            self.tap(digit);
        }
        self.tap("Log in");
    }

    /// Types a code the way a scanner does: fast keys, then Enter.
    fn scan(&self, code: &str) {
        self.type_text(code);
        self.press(Key::Return);
    }
}

#[test]
fn login_with_the_pin_pad() {
    let ui = start();
    assert_eq!(ui.page(), Page::Login);
    ui.tap("Anna");
    for digit in ["1", "1", "1", "1"] {
        ui.tap(digit);
    }
    ui.tap("Log in");
    assert_eq!(ui.page(), Page::Login);
    assert_eq!(
        ui.message(),
        "Wrong PIN for Anna; 2 tries left before the till locks Anna out"
    );
    // The keyboard works on the PIN pad too.
    ui.type_text("1234");
    ui.press(Key::Return);
    assert_eq!(ui.page(), Page::Checkout);
    assert_eq!(
        ui.window.global::<pos_ui::StatusAdapter>().get_cashier(),
        "Anna"
    );
}

#[test]
fn scan_to_pay_with_cash_and_change() {
    let ui = start();
    ui.login_as_anna();
    ui.scan("4006381333931");
    ui.scan("4006381333931");
    ui.scan("4006581020013");
    let cart = ui.window.global::<CartAdapter>();
    assert_eq!(cart.get_total(), "17.37");
    assert_eq!(cart.get_item_count(), 3);

    ui.scan("123");
    assert_eq!(
        ui.message(),
        "Nothing is known under the code 123; check the barcode or search by name"
    );
    assert_eq!(cart.get_total(), "17.37");
    assert_eq!(
        ui.screen.take_last_error(),
        Some(pos_till::TillError::UnknownCode("123".to_owned()))
    );

    ui.press(Key::F12);
    assert_eq!(ui.page(), Page::Payment);
    let payment = ui.window.global::<PaymentAdapter>();
    assert_eq!(payment.get_due(), "17.37");
    ui.type_text("20");
    ui.press(Key::Return);
    assert_eq!(payment.get_change(), "2.63");
    assert_eq!(payment.get_receipt_number(), "T1-00002");
    let change: Vec<ElementHandle> =
        ElementHandle::find_by_accessible_label(&ui.window, "Change").collect();
    assert!(
        change
            .iter()
            .any(|e| e.accessible_value().as_deref() == Some("2.63")),
        "the change is on screen"
    );

    // The next scan starts the next sale.
    ui.scan("4008452011231");
    assert_eq!(ui.page(), Page::Checkout);
    assert_eq!(cart.get_total(), "2.49");
    assert!(ui.screen.take_last_error().is_none());
}

#[test]
fn split_payment_with_card_then_quick_cash() {
    let ui = start();
    ui.login_as_anna();
    ui.scan("4006581020013");
    ui.tap("Pay 14.99");
    ui.tap("Card");
    ui.tap("1");
    ui.tap("0");
    ui.type_text("AUTH-42");
    ui.tap("Approved");
    let payment = ui.window.global::<PaymentAdapter>();
    assert_eq!(payment.get_due(), "4.99");
    ui.tap("Cash");
    ui.tap("5.00");
    assert_eq!(payment.get_change(), "0.01");
    assert_eq!(payment.get_tenders().row_count(), 2);
}

#[test]
fn hold_and_resume() {
    let ui = start();
    ui.login_as_anna();
    ui.scan("4006581020013");
    ui.type_text("Red coat");
    ui.tap("Hold");
    let cart = ui.window.global::<CartAdapter>();
    assert_eq!(cart.get_lines().row_count(), 0);
    assert_eq!(cart.get_held_count(), 1);
    assert_eq!(
        ui.message(),
        "Held as “Red coat”; ready for the next customer"
    );

    ui.press(Key::F9);
    assert_eq!(ui.page(), Page::Held);
    let held = ui.window.global::<HeldAdapter>().get_carts();
    assert_eq!(held.row_count(), 1);
    ui.tap("Resume Red coat");
    assert_eq!(ui.page(), Page::Checkout);
    assert_eq!(cart.get_total(), "14.99");
}

#[test]
fn a_big_discount_waits_for_the_manager() {
    let ui = start();
    ui.login_as_anna();
    ui.scan("4008452011231");
    ui.type_text("20");
    ui.press(Key::F6);
    let session = ui.window.global::<SessionAdapter>();
    assert_eq!(session.get_approval(), "A 20% discount on Butter 250 g");
    ui.tap("Marc");
    ui.type_text("9999");
    ui.tap("Approve");
    assert_eq!(session.get_approval(), "");
    assert_eq!(ui.window.global::<CartAdapter>().get_total(), "1.99");
    assert_eq!(ui.message(), "Approved by Marc");
    // The scan field has the keyboard again; the second butter is a new line at full price.
    ui.scan("4008452011231");
    assert_eq!(ui.window.global::<CartAdapter>().get_total(), "4.48");
}
