//! The checkout's helpers driven through the real UI: scale labels and garbled scans typed as
//! a scanner types them, the weight prompt for loose goods, finding and attaching a customer
//! on the on-screen keyboard, a cart discount a manager approves, the drawer alert,
//! searching with the on-screen keyboard, and the newest cart line kept in full view.
//! Slint's testing backend, software renderer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_core::clock::Timestamp;
use pos_ui::{AppWindow, CartAdapter, CheckoutAdapter, Page, SessionAdapter, TillScreen};
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
    let ui = Ui { window, screen };
    ui.tap("Anna");
    ui.type_text("1234");
    ui.press(Key::Return);
    ui.tap("50 notes");
    ui.tap("3");
    ui.tap("Open shift");
    assert_eq!(ui.page(), Page::Checkout);
    ui
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

    /// Taps the last button labelled `label`: the one on the prompt over the page, whose
    /// keys share their labels with the keypad underneath.
    fn tap_on_prompt(&self, label: &str) {
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(&self.window, label)
                .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
                .collect();
        found
            .last()
            .unwrap_or_else(|| panic!("no button labelled {label:?} on screen"))
            .invoke_accessible_default_action();
    }

    fn shows(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .next()
            .is_some()
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

    fn scan(&self, code: &str) {
        self.type_text(code);
        self.press(Key::Return);
    }

    /// (name, quantity, amount) of the cart's lines.
    fn lines(&self) -> Vec<(String, String, String)> {
        self.window
            .global::<CartAdapter>()
            .get_lines()
            .iter()
            .map(|l| (l.name.into(), l.quantity.into(), l.amount.into()))
            .collect()
    }

    fn checkout(&self) -> CheckoutAdapter<'_> {
        self.window.global::<CheckoutAdapter>()
    }
}

fn line(name: &str, quantity: &str, amount: &str) -> (String, String, String) {
    (name.to_owned(), quantity.to_owned(), amount.to_owned())
}

#[test]
fn scale_labels_and_garbled_scans_at_the_scan_field() {
    let ui = start();
    // 21 00001 01235 9: apples weighed by the scale, 1.235 kg.
    ui.scan("2100001012359");
    assert_eq!(ui.lines(), vec![line("Apples Elstar", "1.235", "3.69")]);
    // The same label misread in its last digit.
    ui.scan("2100001012358");
    assert_eq!(
        ui.message(),
        "Barcode misread: EAN-13 check digit should be 9, read 8. Scan again."
    );
    assert_eq!(ui.lines().len(), 1, "nothing added");
    // A GS1 DataMatrix label past its date: added, and the cashier is warned.
    ui.scan("]d201040063813339311726022810L17");
    assert_eq!(ui.lines().len(), 2);
    assert_eq!(
        ui.message(),
        "Whole milk 1 L expired on 28.02.2026: check the pack and take it off the shelf"
    );
    assert_eq!(
        ui.window
            .global::<CartAdapter>()
            .get_lines()
            .row_data(1)
            .unwrap()
            .detail,
        "Batch L17 · use by 28.02.2026"
    );
}

#[test]
fn a_loose_product_from_the_grid_asks_for_its_weight() {
    let ui = start();
    ui.tap("Bananas");
    assert_eq!(ui.checkout().get_weighing_name(), "Bananas");
    assert!(ui.shows("Weight in kg"), "the prompt is open");
    assert!(ui.lines().is_empty());
    ui.type_text("1,2345");
    ui.press(Key::Return);
    assert!(ui.message().contains("is not a weight"), "{}", ui.message());
    assert_eq!(ui.checkout().get_weighing_name(), "Bananas", "still asking");
    // The prompt's own keypad.
    for key in ["0", ".", "7", "5"] {
        ui.tap_on_prompt(key);
    }
    ui.tap_on_prompt("Add");
    assert_eq!(ui.checkout().get_weighing_name(), "");
    assert_eq!(ui.lines(), vec![line("Bananas", "0.750", "1.49")]);

    ui.tap("Apples Elstar");
    assert_eq!(ui.checkout().get_weighing_name(), "Apples Elstar");
    ui.press(Key::Escape);
    assert_eq!(ui.checkout().get_weighing_name(), "");
    assert_eq!(ui.lines().len(), 1, "cancelled, nothing added");
}

#[test]
fn a_customer_found_on_the_screen_keyboard_is_attached_and_removed() {
    let ui = start();
    ui.scan("4006581020013");
    ui.tap("Customer");
    assert!(ui.shows("Find a customer"));
    for key in ["v", "o", "g"] {
        ui.tap(key);
    }
    let found = ui.checkout().get_customers();
    assert_eq!(found.row_count(), 1);
    assert_eq!(found.row_data(0).unwrap().name, "Lena Vogel");
    ui.tap("Lena Vogel");
    assert!(!ui.shows("Find a customer"), "the search closes");
    let checkout = ui.checkout();
    assert_eq!(checkout.get_customer_name(), "Lena Vogel");
    assert_eq!(checkout.get_customer_tier(), "Silver");
    assert_eq!(checkout.get_customer_points(), "1250");
    assert_eq!(checkout.get_customer_progress(), "155.40 more to Gold");
    assert_eq!(checkout.get_customer_progress_percent(), 69);
    assert_eq!(ui.message(), "Lena Vogel (Silver) is attached");

    ui.tap("Take the customer off the sale");
    assert_eq!(ui.checkout().get_customer_name(), "");
    assert_eq!(ui.message(), "Lena Vogel is no longer on this sale");

    // By phone, with the real keyboard, and Enter takes the only match.
    ui.press(Key::F3);
    ui.type_text("0151");
    ui.press(Key::Return);
    assert_eq!(ui.checkout().get_customer_name(), "Jonas Weber");
}

#[test]
fn a_cart_discount_above_the_limit_waits_for_the_manager() {
    let ui = start();
    ui.scan("4006581020013");
    ui.scan("4006381333931");
    ui.type_text("5");
    ui.tap("Discount on the whole cart in percent");
    assert_eq!(ui.checkout().get_cart_discount(), "5%");
    assert_eq!(ui.window.global::<CartAdapter>().get_total(), "15.37");

    ui.type_text("20");
    ui.press(Key::F5);
    assert_eq!(
        ui.window.global::<SessionAdapter>().get_approval(),
        "A 20% discount on the whole cart"
    );
    ui.tap("Marc");
    ui.type_text("9999");
    ui.tap("Approve");
    assert_eq!(ui.checkout().get_cart_discount(), "20%");
    assert_eq!(ui.window.global::<CartAdapter>().get_total(), "12.94");

    ui.type_text("1");
    ui.tap("Amount off the whole cart");
    assert_eq!(ui.checkout().get_cart_discount(), "1.00");
    assert_eq!(ui.window.global::<CartAdapter>().get_total(), "15.18");
}

#[test]
fn the_drawer_alert_shows_until_the_drawer_closes() {
    let ui = start();
    let alert = "The cash drawer has been open for 2 min. Close it.";
    ui.screen.set_drawer_alert(Some(alert.to_owned()));
    assert_eq!(ui.checkout().get_drawer_alert(), alert);
    assert!(ui.shows(alert), "the alert is on the checkout");
    ui.screen.set_drawer_alert(None);
    assert!(!ui.shows(alert));
}

#[test]
fn searching_on_the_screen_keyboard() {
    let ui = start();
    ui.tap("Keyboard");
    for key in ["c", "h", "o"] {
        ui.tap(key);
    }
    let results = ui.window.global::<CartAdapter>().get_search_results();
    assert_eq!(results.row_count(), 1);
    assert_eq!(results.row_data(0).unwrap().name, "Dark chocolate 100 g");
    ui.tap("Dark chocolate 100 g");
    assert_eq!(ui.lines(), vec![line("Dark chocolate 100 g", "1", "1.49")]);
    ui.tap("Space");
    ui.tap("Erase");
    ui.tap("⌨");
    assert!(ui.shows("Quantity"), "the keypad is back");
}

#[test]
fn the_newest_line_stays_in_full_view_when_the_list_gets_shorter() {
    let ui = start();
    ui.window
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
    let newest_line_in_view = |step: &str| {
        // A frame, as the screen draws after each step.
        ui.window.window().take_snapshot().unwrap();
        let newest = ui.lines().last().unwrap().0.clone();
        let list = ElementHandle::find_by_element_id(&ui.window, "CheckoutPage::cart-list")
            .next()
            .unwrap();
        let row = ElementHandle::find_by_accessible_label(&ui.window, &newest)
            .find(|e| e.accessible_role() == Some(AccessibleRole::ListItem))
            .unwrap();
        let list_bottom = list.absolute_position().y + list.size().height;
        let row_bottom = row.absolute_position().y + row.size().height;
        assert!(
            row_bottom <= list_bottom + 0.5,
            "after {step}: {newest} ends at {row_bottom}, below the list's end at {list_bottom}"
        );
    };
    // More lines than the small screen's list holds: it scrolls to each new one.
    for code in [
        "4006381333931",
        "4008452011236",
        "4014400901238",
        "2000000000015",
        "4006581020013",
    ] {
        ui.scan(code);
        newest_line_in_view(code);
    }
    // The customer's loyalty card: their panel above the list makes it shorter.
    ui.scan("9900000000017");
    assert_eq!(ui.checkout().get_customer_name(), "Lena Vogel");
    newest_line_in_view("the loyalty card");
    ui.screen
        .set_drawer_alert(Some("The cash drawer has been open for 2 min.".to_owned()));
    newest_line_in_view("the drawer alert");
}
