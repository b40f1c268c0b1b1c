//! The back office's settings driven through the screen (taps and typed fields on Slint's
//! testing backend) on the terminal as it starts for real (`screen::start_till`: the till's
//! screen, the simulated printer, the back office in the same window): a manager switches to
//! prices without tax, rounds cash to 0.05 and adds a receipt line, and the very next sale at
//! the till is priced, rounded and printed that way without a restart; bad input and a role
//! without the permission change nothing; the settings are there after a restart; a saved
//! loyalty programme counts from the next sale; a retired person is brought back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use pos_core::id::{DeviceId, UserId};
use pos_terminal::seed::shop_setup;
use pos_till::view::Screen;
use pos_till::{Intent, ReceiptIntent, TenderChoice};
use pos_ui::{CartAdapter, Settings};
use slint::ComponentHandle;
use support::{MILK, OnScreen, Terminal};

/// Waits for the simulated printer to file `name` in the receipts folder, and reads it.
fn filed(dir: &Path, name: &str) -> String {
    let path: PathBuf = dir.join("receipts").join(name);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the printer never filed {}", path.display());
}

#[test]
fn tax_mode_cash_rounding_and_receipt_header_changed_in_the_back_office_apply_to_the_next_sale() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::start(dir.path());

    // Before: shelf prices include tax; milk is 1.19 at the till. Anna has one in her cart
    // as she steps away.
    terminal.at_till("anna", "1234");
    terminal.send(Intent::Scan(MILK.to_owned()));
    assert_eq!(terminal.running.screen().view().cart.total, "1.19");
    terminal.send(Intent::Lock);

    let journal = terminal.journal_head();
    terminal.back_office("Marc", "9999");
    terminal.tap("Settings");
    assert_eq!(terminal.field("Store name"), "Corner Market Mitte");
    terminal.tap("Tax and rounding");
    assert_eq!(terminal.field("VAT 7%"), "7");
    terminal.tap("Tax is added at the till");
    terminal.type_into("Cash rounding step", "0.05");
    terminal.tap("Save tax and rounding");
    assert_eq!(
        terminal.message(),
        "tax and rounding are saved; the till uses them from the next sale"
    );
    terminal.tap("Receipt text");
    assert_eq!(terminal.field("Header line 1"), "Open daily 7-22");
    terminal.type_into("Header line 2", "Happy hour 17-18 every Friday");
    terminal.tap("Save receipt");
    assert_eq!(
        terminal.message(),
        "the receipt is saved; the till prints it from the next sale"
    );
    assert_eq!(
        terminal.kinds_since(journal),
        ["store_settings_saved", "store_settings_saved"]
    );
    terminal.leave();

    // The sale under way finishes as it started.
    terminal.at_till("anna", "1234");
    assert_eq!(terminal.running.screen().view().cart.total, "1.19");
    terminal.send(Intent::StartPayment);
    terminal.send(Intent::AddTender {
        kind: TenderChoice::Card,
        amount: String::new(),
        reference: "AUTH-1".to_owned(),
    });
    terminal.send(Intent::NextCustomer);

    // The next sale, with no restart: milk (1.19 before 7% tax) is 1.27, paid in cash 1.25.
    terminal.send(Intent::Scan(MILK.to_owned()));
    let cart = terminal.running.screen().view().cart;
    assert_eq!(cart.total, "1.27");
    assert_eq!(cart.taxes, [("VAT 7%".to_owned(), "0.08".to_owned())]);
    assert_eq!(terminal.window.global::<CartAdapter>().get_total(), "1.27");
    terminal.send(Intent::StartPayment);
    terminal.send(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "5.00".to_owned(),
        reference: String::new(),
    });
    let payment = terminal.running.screen().view().payment.unwrap();
    assert_eq!(payment.change, "3.75", "cash is rounded to 0.05");
    terminal.send(Intent::Receipt(ReceiptIntent::Print));
    let receipt = filed(dir.path(), "receipt-00001.txt");
    assert!(
        receipt.contains("Happy hour 17-18 every Friday"),
        "{receipt}"
    );
    assert!(receipt.contains("Open daily 7-22"), "{receipt}");
}

#[test]
fn bad_settings_and_a_role_without_the_permission_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::start(dir.path());
    let journal = terminal.journal_head();
    terminal.back_office("Marc", "9999");
    terminal.tap("Settings");

    terminal.tap("Tax and rounding");
    terminal.type_into("VAT 7%", "-7");
    terminal.tap("Save tax and rounding");
    assert_eq!(
        terminal.message(),
        "the tax rate VAT 7% cannot be below 0% (-7%)"
    );
    terminal.type_into("VAT 7%", "7");
    terminal.type_into("Cash rounding step", "0.003");
    terminal.tap("Save tax and rounding");
    assert_eq!(
        terminal.message(),
        "a cash rounding step of 0.003 EUR is not a whole number of the smallest coin (0.01 EUR); use for example 0.05"
    );
    terminal.type_into("Cash rounding step", "five cents");
    terminal.tap("Save tax and rounding");
    assert_eq!(
        terminal.message(),
        "the cash rounding step: “five cents” is not a number (for example 0.05)"
    );

    terminal.tap("Store");
    terminal.type_into("Store name", " ");
    terminal.tap("Save store details");
    assert_eq!(
        terminal.message(),
        "the store needs a name; it is printed on every receipt"
    );

    // Discount limits and feature switches are the administrator's.
    terminal.tap("Discounts");
    terminal.type_into("Store limit (%)", "50");
    terminal.tap("Save discount limits");
    assert_eq!(
        terminal.message(),
        "Marc (Manager) may not do this: it needs the permission “settings.discounts”. Ask the owner to add it to the role."
    );
    terminal.tap("Features");
    terminal.tap("Save switches");
    assert_eq!(
        terminal.message(),
        "Marc (Manager) may not do this: it needs the permission “settings.features”. Ask the owner to add it to the role."
    );
    assert_eq!(terminal.journal_head(), journal, "nothing was recorded");
    let shop = shop_setup(&terminal.store(), DeviceId::new("T1"))
        .unwrap()
        .store;
    assert_eq!(shop.name, "Corner Market Mitte");
    assert_eq!(shop.cash_rounding, None);
    assert_eq!(
        shop.discounts.percent_max_without_approval,
        rust_decimal::Decimal::from(10)
    );

    // Once the store has sold, its currency stays.
    terminal.leave();
    terminal.at_till("anna", "1234");
    terminal.send(Intent::Scan(MILK.to_owned()));
    terminal.send(Intent::StartPayment);
    terminal.send(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "5.00".to_owned(),
        reference: String::new(),
    });
    terminal.send(Intent::NextCustomer);
    terminal.send(Intent::Lock);
    let journal = terminal.journal_head();
    terminal.back_office("Olga", "2580");
    terminal.tap("Settings");
    terminal.tap("Store");
    terminal.type_into("Currency", "CHF");
    terminal.tap("Save store details");
    assert_eq!(
        terminal.message(),
        "the currency stays EUR: this store has recorded sales in it. A store changes currency only before its first sale"
    );
    assert_eq!(terminal.journal_head(), journal);
}

#[test]
fn settings_are_there_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let terminal = Terminal::start(dir.path());
        terminal.back_office("Olga", "2580");
        terminal.tap("Settings");
        terminal.tap("Store");
        terminal.type_into("Phone", "030 1234567");
        terminal.tap("Save store details");
        assert_eq!(terminal.message(), "the store details are saved");
        terminal.tap("Discounts");
        terminal.type_into("Cashier limit (%)", "5");
        terminal.tap("Save discount limits");
        assert_eq!(terminal.message(), "the discount limits are saved");
        terminal.tap("Features");
        let returns =
            ElementHandle::find_by_accessible_label(&terminal.window, "Returns without a receipt")
                .find(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
                .unwrap();
        returns.invoke_accessible_default_action();
        terminal.tap("Save switches");
        assert_eq!(
            terminal.message(),
            "the switches are saved; the till follows them from the next sale"
        );
    }
    let terminal = Terminal::start(dir.path());
    let setup = shop_setup(&terminal.store(), DeviceId::new("T1")).unwrap();
    assert_eq!(setup.store.phone.as_deref(), Some("030 1234567"));
    assert_eq!(
        setup
            .store
            .discounts
            .limit_for(&pos_core::id::RoleId::new("cashier")),
        rust_decimal::Decimal::from(5)
    );
    assert!(
        setup.features.blocking("sales.refund.no_receipt").is_some(),
        "the till no longer takes returns without a receipt"
    );
    terminal.back_office("Olga", "2580");
    terminal.tap("Settings");
    terminal.tap("Store");
    assert_eq!(terminal.field("Phone"), "030 1234567");
    let features = terminal.window.global::<Settings>().get_features();
    let off: Vec<String> = slint::Model::iter(&features)
        .filter(|row| !row.on)
        .map(|row| row.label.to_string())
        .collect();
    assert_eq!(off, ["Returns without a receipt"]);
}

#[test]
fn a_loyalty_programme_saved_in_the_back_office_counts_from_the_next_sale() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::start(dir.path());
    terminal.back_office("Olga", "2580");
    terminal.tap("Customers");
    terminal.tap("Loyalty settings");
    terminal.type_into("Member: points per EUR", "5");
    terminal.tap("Save loyalty settings");
    assert_eq!(
        terminal.message(),
        "the loyalty settings are saved; the till uses them from the next sale"
    );
    terminal.leave();

    // Mira has no points yet: 2 × milk earns her five points per euro now.
    terminal.at_till("anna", "1234");
    terminal.send(Intent::AttachCustomer {
        card: "9900000000031".to_owned(),
    });
    terminal.send(Intent::Scan(MILK.to_owned()));
    terminal.send(Intent::Scan(MILK.to_owned()));
    terminal.send(Intent::StartPayment);
    terminal.send(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "5.00".to_owned(),
        reference: String::new(),
    });
    let store = terminal.store();
    let sale = store
        .sale_by_receipt(&pos_core::id::ReceiptNumber::new("T1-000001"))
        .unwrap()
        .unwrap();
    assert_eq!(sale.total.display_amount(), "2.38");
    assert_eq!(
        sale.loyalty.as_ref().unwrap().points_earned,
        11,
        "5 × 2.38, rounded down"
    );
}

#[test]
fn a_retired_person_is_brought_back_with_a_new_pin() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::start(dir.path());
    terminal.back_office("Olga", "2580");
    terminal.tap("People");
    terminal.tap("Tom");
    terminal.tap("Retire");
    assert_eq!(
        terminal.message(),
        "Tom is retired and can no longer sign in"
    );
    let journal = terminal.journal_head();
    terminal.tap("Bring back");
    assert_eq!(
        terminal.message(),
        "type a new PIN for Tom twice (4 to 8 digits): the old one was cleared when they were retired"
    );
    assert_eq!(terminal.journal_head(), journal);
    terminal.type_into("New PIN", "1357");
    terminal.type_into("PIN again", "1357");
    terminal.tap("Bring back");
    assert_eq!(
        terminal.message(),
        "Tom is back and signs in with the new PIN"
    );
    assert_eq!(terminal.kinds_since(journal), ["user_saved", "pin_reset"]);
    terminal.leave();
    terminal.send(Intent::Login {
        user: UserId::new("tom"),
        pin: "1357".to_owned(),
    });
    assert_ne!(terminal.running.screen().view().screen, Screen::Login);
}
