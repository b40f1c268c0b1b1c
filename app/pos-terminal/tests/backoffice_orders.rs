//! Purchase orders driven through the back office's screen (taps and typed fields on Slint's
//! testing backend) over the same encrypted store as a real till: orders are made from the
//! reorder report in one step, one is sent and received in part with a lot and expiry, the
//! stock and the expiring list follow, more than ordered needs confirming, a cancelled order
//! takes nothing, and the order is exported for the vendor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_backoffice::{BackOfficeScreen, SharedStore};
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{DeviceId, ProductId, StoreId, UserId};
use pos_core::purchase::OrderState;
use pos_core::quantity::Quantity;
use pos_store::Store;
use pos_terminal::backoffice::show_back_office;
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::ports::pin_gate;
use pos_terminal::terminal::{DataDir, OpenTerminal, open_terminal};
use pos_ui::{AppWindow, Office, Orders, Stock};
use slint::{ComponentHandle, Model};

/// Monday 2026-03-02 10:00 UTC, 11:00 in Berlin.
const MONDAY_10AM: i64 = 1_772_445_600_000;

fn monday() -> Timestamp {
    Timestamp::from_unix_ms(MONDAY_10AM)
}

fn shop_id() -> StoreId {
    StoreId::new("berlin-mitte")
}

struct Desk {
    window: AppWindow,
    _screen: BackOfficeScreen<SharedStore>,
    till: OpenTerminal,
}

fn start(dir: &Path, setup: impl FnOnce(&mut Store)) -> Desk {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let peripherals = PeripheralService::start(
        PeripheralSettings::of(&DataDir::new(dir), &TerminalConfig::default()),
        |_| {},
    )
    .unwrap();
    let till = open_terminal(dir, DeviceId::new("T1"), 20, Rc::new(peripherals), monday).unwrap();
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
    // Tall enough that every line of an order is on screen: the testing backend finds only
    // what is, and a finger would scroll.
    window
        .window()
        .set_size(slint::PhysicalSize::new(1280, 2400));
    let desk = Desk {
        window,
        _screen: screen,
        till,
    };
    desk.window
        .global::<pos_ui::SessionAdapter>()
        .set_page(pos_ui::Page::Login);
    desk.tap("Back office");
    desk
}

impl Desk {
    fn tap(&self, label: &str) {
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(&self.window, label)
                .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
                .collect();
        assert!(!found.is_empty(), "no button labelled {label:?} on screen");
        found[0].invoke_accessible_default_action();
    }

    /// Types into the `nth` field labelled `label` (0 for the first).
    fn type_nth(&self, label: &str, nth: usize, text: &str) {
        let field = ElementHandle::find_by_accessible_label(&self.window, label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .nth(nth)
            .unwrap_or_else(|| panic!("no field {nth} labelled {label:?} on screen"));
        field.set_accessible_value(text);
    }

    fn type_into(&self, label: &str, text: &str) {
        self.type_nth(label, 0, text);
    }

    fn message(&self) -> String {
        self.window.global::<Office>().get_message().into()
    }

    fn sign_in(&self, person: &str, pin: &str) {
        self.tap(person);
        self.type_into("PIN", pin);
        self.tap("Sign in");
    }

    fn store(&self) -> std::cell::Ref<'_, Store> {
        self.till.store.borrow()
    }

    fn level(&self, product: &str) -> Quantity {
        self.store()
            .stock_level(&shop_id(), &ProductId::new(product))
            .unwrap()
    }
}

/// Milk is made to run low: its threshold raised over its stock.
fn milk_runs_low(store: &mut Store) {
    let mut milk = store.product(&ProductId::new("milk")).unwrap().unwrap();
    milk.low_stock_threshold = Some(Quantity::pieces(1_000));
    store
        .record(
            &UserId::new("marc"),
            monday(),
            &[DomainEvent::ProductSaved(milk)],
        )
        .unwrap();
}

#[test]
fn an_order_from_the_reorder_report_is_received_in_part_with_a_lot_that_then_expires() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path(), milk_runs_low);
    office.sign_in("Marc", "9999");
    let before = office.level("milk");
    office.tap("Stock");
    office.tap("Orders");
    office.tap("Order from reorder report");
    assert!(
        office
            .message()
            .contains("draft orders made from the reorder report")
            || office.message().contains("draft order made"),
        "{}",
        office.message()
    );
    // One order per vendor: milk's is the dairy's, for what the report says to order.
    let orders = office.store().purchase_orders(&shop_id(), 50).unwrap();
    let vendors: Vec<_> = orders.iter().map(|o| o.vendor.clone()).collect();
    let mut unique = vendors.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), vendors.len(), "one order per vendor");
    let order = orders
        .iter()
        .find(|o| o.lines.iter().any(|l| l.product.as_str() == "milk"))
        .expect("milk is on an order")
        .clone();
    assert_eq!(order.vendor.as_ref().unwrap().as_str(), "alpenhof");
    assert_eq!(order.state, OrderState::Draft);
    let milk_line = order
        .lines
        .iter()
        .position(|l| l.product.as_str() == "milk")
        .unwrap();
    let ordered = order.lines[milk_line].ordered;
    assert!(ordered >= Quantity::pieces(1_000) - before, "{ordered}");

    office.tap(&format!("Open order {}", order.id));
    // A draft cannot be received yet: it goes to the vendor first.
    assert!(
        ElementHandle::find_by_accessible_label(&office.window, "Book delivery")
            .next()
            .is_none()
    );
    office.tap("Send to vendor");
    assert_eq!(
        office.message(),
        format!("order {} sent to the vendor", order.id)
    );

    // Ten come, with a lot that is best before Friday.
    office.type_nth("Delivered", milk_line, "10");
    office.type_nth("Lot", milk_line, "L-0901");
    office.type_nth("Best before", milk_line, "06.03.2026");
    office.type_into("Delivery note", "LS-4711");
    office.tap("Book delivery");
    let message = office.message();
    assert!(
        message.starts_with("delivery booked against order"),
        "{message}"
    );
    assert!(message.contains("still to come"), "{message}");
    assert_eq!(office.level("milk"), before + Quantity::pieces(10));
    let stored = office.store().purchase_order(&order.id).unwrap().unwrap();
    assert_eq!(stored.state, OrderState::PartlyReceived);
    assert_eq!(stored.lines[milk_line].received, Quantity::pieces(10));
    let short: String = office
        .window
        .global::<Orders>()
        .get_lines()
        .row_data(milk_line)
        .unwrap()
        .short
        .into();
    assert_eq!(short, (ordered - Quantity::pieces(10)).to_string());

    // The lot and its expiry are in the journal, with the receipt.
    let received = office
        .store()
        .journal_events_since("goods_received", monday().minus_days(1))
        .unwrap();
    assert_eq!(received.len(), 1);
    match received[0].event().unwrap() {
        DomainEvent::GoodsReceived(receipt) => {
            assert_eq!(receipt.order.as_ref(), Some(&order.id));
            assert_eq!(receipt.reference.as_deref(), Some("LS-4711"));
            let batch = receipt.lines[0].batch.as_ref().unwrap();
            assert_eq!(batch.lot, "L-0901");
            assert_eq!(batch.expiry.unwrap().to_string(), "2026-03-06");
        }
        other => panic!("expected a goods receipt, got {other:?}"),
    }

    // More than ordered is refused until confirmed, and changes nothing.
    let far_too_many = (ordered + Quantity::pieces(5)).to_string();
    office.type_nth("Delivered", milk_line, &far_too_many);
    office.tap("Book delivery");
    assert!(
        office.message().contains("Confirm the over-delivery"),
        "{}",
        office.message()
    );
    assert_eq!(office.level("milk"), before + Quantity::pieces(10));

    // A negative quantity is refused.
    office.type_nth("Delivered", milk_line, "-3");
    office.tap("Book delivery");
    assert!(
        office.message().contains("below zero"),
        "{}",
        office.message()
    );
    assert_eq!(office.level("milk"), before + Quantity::pieces(10));

    // The order exported for the vendor.
    let stick = tempfile::tempdir().unwrap();
    office
        .window
        .global::<Orders>()
        .set_folder(stick.path().display().to_string().into());
    office.tap("Export order as CSV");
    let csv = std::fs::read_to_string(
        stick
            .path()
            .join(format!("purchase-order-{}.csv", order.id)),
    )
    .unwrap();
    assert!(csv.contains("Whole milk 1 L"), "{csv}");

    // The new lot shows among the batches expiring this week.
    office.tap("Stock");
    office.tap("Expiring");
    office.type_into("Within days", "7");
    office.tap("Show");
    let expiring = office.window.global::<Stock>().get_expiring();
    let row = expiring
        .iter()
        .find(|r| r.lot == "L-0901")
        .expect("the delivered lot is in the expiring list");
    assert_eq!(row.level, "10");
    assert_eq!(row.expiry, "2026-03-06");

    // Cancelled, the rest is no longer expected and nothing more can come in against it.
    office.tap("Orders");
    office.tap(&format!("Open order {}", order.id));
    office.tap("Cancel order");
    assert_eq!(office.message(), format!("order {} cancelled", order.id));
    assert!(
        ElementHandle::find_by_accessible_label(&office.window, "Book delivery")
            .next()
            .is_none()
    );
    assert_eq!(
        office
            .store()
            .purchase_order(&order.id)
            .unwrap()
            .unwrap()
            .state,
        OrderState::Cancelled
    );
}

#[test]
fn a_transfer_to_the_own_store_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path(), milk_runs_low);
    office.sign_in("Marc", "9999");
    office.tap("Stock");
    office.tap("Orders");
    office.tap("Transfers");
    office.type_into("Ask store", "berlin-mitte");
    office.type_into("Product to transfer", "4006381333931");
    office.type_into("Quantity to transfer", "6");
    office.tap("Request transfer");
    assert_eq!(
        office.message(),
        "a store cannot transfer goods to itself (berlin-mitte); choose another store"
    );
    assert!(office.store().transfers(&shop_id(), 10).unwrap().is_empty());
}
