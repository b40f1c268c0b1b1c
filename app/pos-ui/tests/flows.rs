//! The cashier's flows driven through the real UI: taps on the elements a person would tap,
//! keys typed as the scanner and keyboard type them, on Slint's testing backend with the
//! software renderer. Each test runs on its own thread with its own backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_core::clock::Timestamp;
use pos_till::{Effect, PrintPurpose};
use pos_ui::{
    AppWindow, CartAdapter, HeldAdapter, Page, PaymentAdapter, RefundAdapter, RefundStep,
    SessionAdapter, ShiftAdapter, TillScreen,
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

    /// The first login of the day opens the shift: three 50 notes in the drawer.
    fn open_shift_with_150(&self) {
        assert_eq!(self.page(), Page::ShiftOpen);
        self.tap("50 notes");
        self.tap("3");
        assert_eq!(self.window.global::<ShiftAdapter>().get_counted(), "150.00");
        self.tap("Open shift");
        assert_eq!(self.page(), Page::Checkout);
        assert_eq!(self.screen.take_effects(), vec![Effect::OpenDrawer]);
    }

    fn start_the_day(&self) {
        self.login_as_anna();
        self.open_shift_with_150();
    }

    /// The accessible value of the text labelled `label`.
    fn value_of(&self, label: &str) -> String {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find_map(|e| e.accessible_value())
            .map(String::from)
            .unwrap_or_else(|| panic!("no value labelled {label:?} on screen"))
    }

    /// Types a code the way a scanner does: fast keys, then Enter.
    fn scan(&self, code: &str) {
        self.type_text(code);
        self.press(Key::Return);
    }
}

#[test]
fn the_header_says_online_until_the_fleet_stops_answering() {
    let ui = start();
    let bar = ui.window.global::<pos_ui::StatusAdapter>();
    assert!(!bar.get_online(), "nobody has answered yet");
    ui.screen.set_online(true);
    // The till redraws every second; the header must stay as the sync agent last said.
    ui.screen.refresh();
    ui.screen.refresh();
    assert!(bar.get_online());
    ui.screen.set_online(false);
    ui.screen.refresh();
    assert!(!bar.get_online());
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
    assert_eq!(ui.page(), Page::ShiftOpen, "the day starts with the float");
    assert_eq!(
        ui.window.global::<pos_ui::StatusAdapter>().get_cashier(),
        "Anna"
    );
}

#[test]
fn scan_to_pay_with_cash_and_change() {
    let ui = start();
    ui.start_the_day();
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

    // The terminal's drawer and printer get their requests as the intent completes.
    let delivered = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ui.screen.on_effects({
        let delivered = delivered.clone();
        move |effect| delivered.borrow_mut().push(effect)
    });

    ui.press(Key::F12);
    assert_eq!(ui.page(), Page::Payment);
    let payment = ui.window.global::<PaymentAdapter>();
    assert_eq!(payment.get_due(), "17.37");
    ui.type_text("20");
    ui.press(Key::Return);
    assert_eq!(payment.get_change(), "2.63");
    assert_eq!(payment.get_receipt_number(), "T1-00004");
    assert_eq!(*delivered.borrow(), vec![Effect::OpenDrawer]);
    assert!(ui.screen.take_effects().is_empty(), "nothing left waiting");
    let change: Vec<ElementHandle> =
        ElementHandle::find_by_accessible_label(&ui.window, "Change").collect();
    assert!(
        change
            .iter()
            .any(|e| e.accessible_value().as_deref() == Some("2.63")),
        "the change is on screen"
    );

    // The next scan starts the next sale.
    ui.scan("4008452011236");
    assert_eq!(ui.page(), Page::Checkout);
    assert_eq!(cart.get_total(), "2.49");
    assert!(ui.screen.take_last_error().is_none());
}

#[test]
fn split_payment_with_card_then_quick_cash() {
    let ui = start();
    ui.start_the_day();
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
    ui.start_the_day();
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
    ui.start_the_day();
    ui.scan("4008452011236");
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
    ui.scan("4008452011236");
    assert_eq!(ui.window.global::<CartAdapter>().get_total(), "4.48");
}

/// The printed text of every print request, with what it was for.
fn printed(effects: &[Effect]) -> Vec<(PrintPurpose, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Print { document, purpose } => Some((*purpose, document.to_text(42))),
            _ => None,
        })
        .collect()
}

#[test]
fn closing_the_shift_with_a_drawer_036_short() {
    let ui = start();
    ui.login_as_anna();
    // The float typed as a total on the keyboard this time.
    ui.tap("Type the total");
    ui.type_text("150");
    assert_eq!(ui.value_of("Float typed"), "150");
    ui.press(Key::Return);
    assert_eq!(ui.page(), Page::Checkout);
    ui.screen.take_effects();

    // A cash sale; Enter on the change screen prints the receipt.
    ui.scan("4006381333931");
    ui.scan("4006381333931");
    ui.scan("4006581020013");
    ui.press(Key::F12);
    ui.type_text("20");
    ui.press(Key::Return);
    assert_eq!(ui.window.global::<PaymentAdapter>().get_change(), "2.63");
    ui.press(Key::Return);
    assert_eq!(ui.page(), Page::Checkout);
    let effects = ui.screen.take_effects();
    assert_eq!(effects[0], Effect::OpenDrawer);
    let receipt = printed(&effects);
    assert_eq!(receipt[0].0, PrintPurpose::Receipt);
    assert!(receipt[0].1.contains("17.37"));

    // The shift page shows the X figures: 150 + 17.37 in cash.
    ui.press(Key::F10);
    assert_eq!(ui.page(), Page::Shift);
    assert_eq!(ui.value_of("Expected"), "167.37");
    // Cash in from the keyboard: the amount, Enter, the reason, F5; Marc approves.
    ui.type_text("5");
    ui.press(Key::Return);
    ui.type_text("Coins from the bank");
    ui.press(Key::F5);
    assert_eq!(
        ui.window.global::<SessionAdapter>().get_approval(),
        "Cash in 5.00"
    );
    ui.tap("Marc");
    ui.type_text("9999");
    ui.tap("Approve");
    assert_eq!(
        ui.message(),
        "Approved by Marc. Cash in 5.00: Coins from the bank"
    );
    assert_eq!(ui.screen.take_effects(), vec![Effect::OpenDrawer]);
    assert_eq!(ui.value_of("Expected"), "172.37");
    ui.press(Key::F5);
    assert_eq!(
        ui.message(),
        "`` is not an amount; type it like 12.50",
        "the fields were cleared after the approved cash in"
    );
    ui.press(Key::Escape);
    assert_eq!(ui.page(), Page::Checkout);
    ui.tap("Shift");
    assert_eq!(ui.page(), Page::Shift);

    // Close: 100 + 50 + 10 + 2 × 5 + 2 + 0.01 = 172.01 in the drawer, 172.37 expected.
    ui.tap("Close shift");
    assert_eq!(ui.page(), Page::ShiftClose);
    for (tile, count) in [
        ("100 notes", "1"),
        ("50 notes", "1"),
        ("10 notes", "1"),
        ("5 notes", "2"),
        ("2 coins", "1"),
        ("0.01 coins", "1"),
    ] {
        ui.tap(tile);
        ui.tap(count);
    }
    // A slip of the finger, taken back with Backspace.
    ui.type_text("7");
    assert_eq!(ui.value_of("Counted"), "172.17", "17 one-cent coins");
    ui.press(Key::Backspace);
    assert_eq!(ui.value_of("Counted"), "172.01");
    assert_eq!(ui.value_of("Expected"), "172.37");
    assert_eq!(ui.value_of("Short"), "-0.36");

    // Anna may not close alone: Marc approves.
    ui.press(Key::Return);
    let session = ui.window.global::<SessionAdapter>();
    assert_eq!(session.get_approval(), "Closing the shift");
    ui.tap("Marc");
    ui.type_text("9999");
    ui.tap("Approve");
    assert_eq!(session.get_approval(), "");
    assert_eq!(ui.page(), Page::ShiftOpen);
    assert_eq!(
        ui.message(),
        "Approved by Marc. Shift closed: counted 172.01, expected 172.37, 0.36 short. \
         The Z report is printing"
    );
    let z = printed(&ui.screen.take_effects());
    assert_eq!(z.len(), 1);
    assert_eq!(z[0].0, PrintPurpose::ZReport);
    let short = z[0].1.lines().find(|l| l.contains("SHORT")).unwrap();
    assert!(short.ends_with("-0.36"), "{short}");
}

#[test]
fn email_receipt_typed_on_the_screen_keyboard() {
    let ui = start();
    ui.start_the_day();
    ui.scan("4006581020013");
    ui.press(Key::F12);
    ui.tap("Card");
    ui.type_text("AUTH-9");
    ui.press(Key::Return);
    assert_ne!(
        ui.window.global::<PaymentAdapter>().get_receipt_number(),
        ""
    );
    ui.tap("Gift receipt");
    assert_eq!(
        printed(&ui.screen.take_effects())[0].0,
        PrintPurpose::GiftReceipt
    );

    ui.tap("Email");
    for key in ["a", "n", "n", "a"] {
        ui.tap(key);
    }
    ui.tap("Send receipt");
    assert_eq!(
        ui.message(),
        "`anna` is not an email address; type it like name@example.com"
    );
    assert_eq!(
        ui.page(),
        Page::Payment,
        "nothing lost: the address can be fixed"
    );
    for key in ["@", "b"] {
        ui.tap(key);
    }
    ui.tap(".de");
    ui.press(Key::Return);
    assert_eq!(ui.page(), Page::Checkout);
    let effects = ui.screen.take_effects();
    assert!(
        matches!(&effects[..], [Effect::EmailReceipt { address, .. }] if address == "anna@b.de"),
        "{effects:?}"
    );
}

/// A refund of a discounted line, end to end by taps and keys. The refund itself takes three
/// actions on a one-line receipt: scan the receipt's barcode (its only line is chosen), tap the
/// reason, tap Refund; a receipt with several lines needs one tap per line coming back. Here a
/// manager's approval follows, because a cashier may not refund alone.
#[test]
fn a_discounted_line_is_refunded_by_scanning_the_receipt() {
    let ui = start();
    ui.start_the_day();
    ui.scan("4008452011236");
    ui.type_text("20");
    ui.press(Key::F6);
    ui.tap("Marc");
    ui.type_text("9999");
    ui.tap("Approve");
    ui.tap("Pay 1.99");
    ui.tap("Card");
    ui.type_text("AUTH-9");
    ui.tap("Approved");
    let receipt: String = ui
        .window
        .global::<PaymentAdapter>()
        .get_receipt_number()
        .into();
    assert!(!receipt.is_empty(), "{}", ui.message());
    ui.press(Key::Return);
    assert_eq!(ui.page(), Page::Checkout);

    // 1. The receipt's barcode, scanned at the empty checkout.
    ui.scan(&receipt);
    assert_eq!(ui.page(), Page::Refund);
    let refund = ui.window.global::<RefundAdapter>();
    assert_eq!(refund.get_step(), RefundStep::Lines);
    let line = refund.get_lines().row_data(0).unwrap();
    assert_eq!(line.name, "Butter 250 g");
    assert_eq!(line.full_price, "2.49");
    assert_eq!(line.paid, "1.99", "what was paid after the discount");
    assert_eq!(line.chosen, "1");
    assert_eq!(refund.get_total(), "1.99");
    assert_eq!(refund.get_paid_with(), "Card 1.99 (AUTH-9)");
    // 2. The reason. 3. Refund.
    ui.tap("Defective");
    assert!(refund.get_ready());
    ui.tap("Refund 1.99");
    let session = ui.window.global::<SessionAdapter>();
    assert_eq!(
        session.get_approval(),
        format!("A refund of 1.99 for receipt {receipt}")
    );
    ui.tap("Marc");
    ui.type_text("9999");
    ui.tap("Approve");
    assert_eq!(session.get_approval(), "");
    assert_eq!(refund.get_step(), RefundStep::Done);
    let made: String = refund.get_refund_receipt().into();
    assert!(!made.is_empty());
    let back = refund.get_tenders().row_data(0).unwrap();
    assert_eq!((back.kind.as_str(), back.amount.as_str()), ("Card", "1.99"));
    assert!(
        ui.message()
            .ends_with(&format!("Refund {made} made: 1.99 back to Card")),
        "{}",
        ui.message()
    );
    // Enter: the next customer.
    ui.press(Key::Return);
    assert_eq!(ui.page(), Page::Checkout);
}

#[test]
fn the_refund_button_lists_todays_sales_and_a_wrong_quantity_is_explained() {
    let ui = start();
    ui.start_the_day();
    ui.scan("4008452011236");
    ui.scan("4008452011236");
    ui.press(Key::F12);
    ui.press(Key::Return);
    ui.press(Key::Return);

    ui.tap("Refund");
    assert_eq!(ui.page(), Page::Refund);
    let refund = ui.window.global::<RefundAdapter>();
    assert_eq!(refund.get_step(), RefundStep::Find);
    let sale = refund.get_found().row_data(0).unwrap();
    assert_eq!(sale.total, "4.98");
    ui.tap(&format!("Open {}", sale.receipt));
    assert_eq!(refund.get_step(), RefundStep::Lines);
    // Three typed, then the line tapped: only two were sold.
    ui.type_text("3");
    ui.tap("Butter 250 g");
    assert_eq!(ui.message(), "Only 2 of Butter 250 g can still be returned");
    ui.type_text("1");
    ui.tap("Butter 250 g");
    assert_eq!(refund.get_lines().row_data(0).unwrap().chosen, "1");
    assert_eq!(refund.get_total(), "2.49");
    assert!(!refund.get_ready(), "no reason yet");
    // Esc goes back to the list, then to the checkout.
    ui.press(Key::Escape);
    assert_eq!(refund.get_step(), RefundStep::Find);
    ui.press(Key::Escape);
    assert_eq!(ui.page(), Page::Checkout);
}

#[test]
fn an_exchange_credits_the_returned_item_on_the_next_payment() {
    let ui = start();
    ui.tap("Sara");
    ui.type_text("5555");
    ui.press(Key::Return);
    ui.open_shift_with_150();
    ui.scan("4260000000035");
    ui.tap("Pay 24.90");
    ui.tap("Card");
    ui.type_text("AUTH-2");
    ui.press(Key::Return);
    let receipt: String = ui
        .window
        .global::<PaymentAdapter>()
        .get_receipt_number()
        .into();
    ui.press(Key::Return);

    ui.scan(&receipt);
    ui.tap("Wrong size or colour");
    ui.press(Key::F11);
    assert_eq!(ui.page(), Page::Checkout);
    let refund = ui.window.global::<RefundAdapter>();
    assert_eq!(refund.get_exchange_credit(), "24.90");
    // The large tee costs 2.00 more: the credit pays the rest of it.
    ui.scan("4260000000059");
    ui.press(Key::F12);
    let payment = ui.window.global::<PaymentAdapter>();
    assert_eq!(payment.get_due(), "2.00");
    assert_eq!(
        payment.get_tenders().row_data(0).unwrap().kind,
        "Store credit"
    );
    ui.tap("2.00");
    assert!(!payment.get_receipt_number().is_empty());
    assert_eq!(refund.get_exchange_credit(), "", "the exchange is settled");
}
