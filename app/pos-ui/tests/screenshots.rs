//! Every screen, rendered offscreen by the software renderer with the embedded font, compared
//! with the pictures kept in `docs/screenshots/`. An accidental visual change fails here.
//!
//! After an intended change, regenerate them and look at every picture before committing:
//! `UPDATE_SCREENSHOTS=1 cargo test -p pos-ui --test screenshots`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use pos_core::cart::LineNo;
use pos_core::clock::Timestamp;
use pos_core::id::{ReceiptNumber, UserId};
use pos_till::{CartDiscountKind, Intent, ShiftIntent, TenderChoice};
use pos_ui::{AppWindow, DeviceStatus, RefundAdapter, TillScreen};
use slint::{ComponentHandle, Model};

/// Monday 2026-03-02 10:00 UTC.
const MONDAY_10AM: i64 = 1_772_445_600_000;

const SIZES: [(u32, u32); 2] = [(1280, 800), (800, 480)];

/// What the terminal shows while the drawer is left open (its words are the terminal's).
const DRAWER_ALERT: &str = "The cash drawer has been open for more than 1 min. Close it; if it will not shut, call a supervisor.";

struct Shots {
    window: AppWindow,
    screen: TillScreen,
    width: u32,
    height: u32,
    failures: Vec<String>,
}

impl Shots {
    fn send(&self, intent: Intent) {
        // Some steps are refused on purpose (a wrong PIN); the message is part of the picture.
        let _refused = self.screen.send(intent);
    }

    /// Taps the button labelled `label`, for what only the screen holds (the email keyboard).
    fn tap(&self, label: &str) {
        let button =
            i_slint_backend_testing::ElementHandle::find_by_accessible_label(&self.window, label)
                .find(|e| {
                    e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button)
                })
                .unwrap_or_else(|| panic!("no button labelled {label:?}"));
        button.invoke_accessible_default_action();
    }

    fn shoot(&mut self, name: &str) {
        let file = format!("{name}-{}x{}.png", self.width, self.height);
        if let Err(failure) = pos_screen_checks::compare_window(
            self.window.window(),
            &file,
            (self.width, self.height),
            "cargo test -p pos-ui --test screenshots",
        ) {
            self.failures.push(failure);
        }
    }
}

fn user(id: &str) -> UserId {
    UserId::new(id)
}

/// Walks a morning at the till and photographs each screen on the way.
fn walk(window: AppWindow, width: u32, height: u32, failures: &mut Vec<String>) -> AppWindow {
    let now = Timestamp::from_unix_ms(MONDAY_10AM);
    let till = pos_till::demo_till(now).unwrap();
    let screen = TillScreen::new(&window, till, move || now);
    screen.set_status(DeviceStatus {
        online: true,
        printer_ready: true,
        printer: "Printer ready".to_owned(),
    });
    window
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
    window.show().unwrap();
    let mut shots = Shots {
        window,
        screen,
        width,
        height,
        failures: Vec::new(),
    };

    for pin in ["1111", "2222", "3333"] {
        shots.send(Intent::Login {
            user: user("tom"),
            pin: pin.to_owned(),
        });
    }
    shots.shoot("login");

    shots.send(Intent::Login {
        user: user("anna"),
        pin: "1234".to_owned(),
    });
    // The float: 2 × 50, 2 × 20, 1 × 10, the 20s being counted.
    for (index, count) in [(2, "2"), (3, "2"), (4, "1")] {
        shots.send(Intent::Shift(ShiftIntent::Count {
            index,
            count: count.to_owned(),
        }));
    }
    shots.shoot("shift-open");
    shots.send(Intent::Shift(ShiftIntent::Open {
        total: String::new(),
    }));
    for code in [
        "4006381333931",
        "4006381333931",
        "4006581020013",
        "4008452011236",
        "4008452011236",
        "4008452011236",
        "5449000000996",
    ] {
        shots.send(Intent::Scan(code.to_owned()));
    }
    shots.send(Intent::AddProduct(pos_core::id::ProductId::new("bananas")));
    shots.shoot("weight");
    shots.send(Intent::EnterWeight("0.750".to_owned()));
    shots.tap("Customer");
    for key in ["v", "o", "g"] {
        shots.tap(key);
    }
    shots.shoot("customer-search");
    shots.tap("Lena Vogel");
    shots.shoot("checkout");

    shots.send(Intent::Search("tee".to_owned()));
    shots.shoot("search");
    shots.send(Intent::Back);

    shots.send(Intent::LineDiscount {
        line: LineNo(2),
        percent: "25".to_owned(),
    });
    shots.shoot("approval");
    shots.send(Intent::Back);

    shots.send(Intent::CartDiscount {
        kind: CartDiscountKind::Percent,
        value: "5".to_owned(),
    });
    shots.shoot("cart-discount");
    shots.send(Intent::CartDiscount {
        kind: CartDiscountKind::Percent,
        value: "0".to_owned(),
    });
    shots.screen.set_drawer_alert(Some(DRAWER_ALERT.to_owned()));
    shots.shoot("drawer-alert");
    shots.screen.set_drawer_alert(None);
    shots.tap("Keyboard");
    for key in ["t", "e"] {
        shots.tap(key);
    }
    shots.shoot("search-keyboard");
    shots.tap("⌨");
    shots.send(Intent::Back);

    shots.send(Intent::StartPayment);
    shots.send(Intent::AddTender {
        kind: TenderChoice::Card,
        amount: "10".to_owned(),
        reference: "AUTH-4711".to_owned(),
    });
    shots.shoot("payment");
    shots.send(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "20".to_owned(),
        reference: String::new(),
    });
    shots.shoot("change");
    shots.tap("Email");
    shots.shoot("email");
    shots.tap("Cancel");

    shots.send(Intent::Scan("4006581020013".to_owned()));
    shots.send(Intent::Scan("4006381333931".to_owned()));
    shots.send(Intent::Hold {
        label: "Lady in red coat".to_owned(),
    });
    shots.send(Intent::Scan("5000394023031".to_owned()));
    shots.send(Intent::Hold {
        label: String::new(),
    });
    shots.send(Intent::ShowHeld);
    shots.shoot("held");

    shots.send(Intent::Back);
    shots.send(Intent::Shift(ShiftIntent::Show));
    shots.shoot("shift");
    // Closing: 100 + 3 × 20 + 5 + 1 + 0.20 + 0.05 + 0.02, the drawer 0.36 short of 166.63.
    shots.send(Intent::Shift(ShiftIntent::StartClose));
    for (index, count) in [
        (1, "1"),
        (3, "3"),
        (5, "1"),
        (7, "1"),
        (9, "1"),
        (11, "1"),
        (12, "1"),
    ] {
        shots.send(Intent::Shift(ShiftIntent::Count {
            index,
            count: count.to_owned(),
        }));
    }
    shots.shoot("shift-close");
    shots.send(Intent::Back);

    // The morning's sale comes back: two of the three discounted butters, damaged.
    shots.send(Intent::Back);
    shots.send(Intent::StartRefund);
    shots.shoot("refund-find");
    let receipt = shots
        .window
        .global::<RefundAdapter>()
        .get_found()
        .row_data(0)
        .unwrap()
        .receipt;
    shots.send(Intent::OpenSale(ReceiptNumber::new(receipt.as_str())));
    shots.send(Intent::ReturnQuantity {
        line: LineNo(3),
        quantity: "2".to_owned(),
    });
    shots.send(Intent::ReturnReason("damaged".to_owned()));
    shots.shoot("refund");
    shots.send(Intent::ConfirmRefund);
    shots.send(Intent::Approve {
        manager: user("marc"),
        pin: "9999".to_owned(),
    });
    shots.shoot("refund-done");

    // The coffee of the same receipt is exchanged for a tee: its credit waits on the checkout.
    shots.send(Intent::NextCustomer);
    shots.send(Intent::Scan(receipt.to_string()));
    shots.send(Intent::ToggleReturn(LineNo(2)));
    shots.send(Intent::ReturnReason("changed_mind".to_owned()));
    shots.send(Intent::StartExchange);
    shots.send(Intent::Approve {
        manager: user("marc"),
        pin: "9999".to_owned(),
    });
    shots.send(Intent::Scan("4260000000059".to_owned()));
    shots.shoot("exchange");

    failures.append(&mut shots.failures);
    shots.window
}

#[test]
fn every_screen_looks_as_kept() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let mut failures = Vec::new();
    for (width, height) in SIZES {
        let window = AppWindow::new().unwrap();
        let window = walk(window, width, height, &mut failures);
        window.hide().unwrap();
    }

    // The German checkout, through the bundled translation.
    pos_ui::select_language("de").unwrap();
    let window = AppWindow::new().unwrap();
    let now = Timestamp::from_unix_ms(MONDAY_10AM);
    let screen = TillScreen::new(&window, pos_till::demo_till(now).unwrap(), move || now);
    window
        .window()
        .set_size(slint::PhysicalSize::new(1280, 800));
    window.show().unwrap();
    let mut shots = Shots {
        window,
        screen,
        width: 1280,
        height: 800,
        failures: Vec::new(),
    };
    shots.send(Intent::Login {
        user: user("anna"),
        pin: "1234".to_owned(),
    });
    shots.send(Intent::Shift(ShiftIntent::Open {
        total: "150".to_owned(),
    }));
    shots.send(Intent::Scan("4006581020013".to_owned()));
    shots.shoot("checkout-de");
    let pay: Vec<_> = i_slint_backend_testing::ElementHandle::find_by_accessible_label(
        &shots.window,
        "Bezahlen 14.99",
    )
    .collect();
    assert!(!pay.is_empty(), "the pay button speaks German");
    // The closing count in German: 149.64 counted of 150.00.
    shots.send(Intent::Hold {
        label: String::new(),
    });
    shots.send(Intent::Shift(ShiftIntent::StartClose));
    for (index, count) in [
        (1, "1"),
        (3, "2"),
        (5, "1"),
        (6, "2"),
        (8, "1"),
        (10, "1"),
        (12, "2"),
    ] {
        shots.send(Intent::Shift(ShiftIntent::Count {
            index,
            count: count.to_owned(),
        }));
    }
    shots.shoot("shift-close-de");
    failures.append(&mut shots.failures);

    // The German refund screen on the small panel, where the longer words are tightest.
    let small = {
        let till = pos_till::demo_till(now).unwrap();
        let window = AppWindow::new().unwrap();
        let screen = TillScreen::new(&window, till, move || now);
        screen.set_status(DeviceStatus {
            online: true,
            printer_ready: true,
            printer: "Printer ready".to_owned(),
        });
        window.window().set_size(slint::PhysicalSize::new(800, 480));
        window.show().unwrap();
        let mut shots = Shots {
            window,
            screen,
            width: 800,
            height: 480,
            failures: Vec::new(),
        };
        shots.send(Intent::Login {
            user: user("sara"),
            pin: "5555".to_owned(),
        });
        shots.send(Intent::Shift(ShiftIntent::Open {
            total: "150".to_owned(),
        }));
        for code in ["4008452011236", "4008452011236", "4008452011236"] {
            shots.send(Intent::Scan(code.to_owned()));
        }
        shots.send(Intent::StartPayment);
        shots.send(Intent::AddTender {
            kind: TenderChoice::Cash,
            amount: String::new(),
            reference: String::new(),
        });
        let receipt = shots
            .window
            .global::<pos_ui::PaymentAdapter>()
            .get_receipt_number();
        shots.send(Intent::NextCustomer);
        shots.send(Intent::Scan(receipt.to_string()));
        shots.send(Intent::ReturnReason("wrong_size".to_owned()));
        shots.shoot("refund-de");
        failures.append(&mut shots.failures);
        shots.window
    };
    small.hide().unwrap();
    pos_ui::select_language("en").unwrap();

    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
