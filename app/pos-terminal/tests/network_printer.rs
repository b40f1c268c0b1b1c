//! The terminal configured for a network printer (`transport = "tcp"` in `terminal.toml`):
//! a cash sale through the till reaches a printer on loopback as ESC/POS, drawer kick first,
//! and the bytes decode back to the receipt. The printer here is the cross-crate tests'
//! emulator, answering status queries as a ready printer does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use pos_core::id::UserId;
use pos_printer::decode::{Event, to_text};
use pos_terminal::config::TerminalConfig;
use pos_till::{Intent, ReceiptIntent, ShiftIntent, TenderChoice};
use support::{open_till, printed};
use tests::printer_emulator::PrinterEmulator;

#[test]
fn a_cash_sale_prints_on_the_configured_network_printer_after_the_drawer_opens() {
    let printer = PrinterEmulator::start().unwrap();
    let address = printer.addr();
    let config = TerminalConfig::parse(
        &format!(
            "device = \"T7\"\n[printer]\ntransport = \"tcp\"\naddress = \"{address}\"\npaper = \"58mm\"\n[drawer]\npin = 5\n"
        ),
        Path::new("terminal.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_peripherals, mut open) = open_till(dir.path(), &config);
    let send = |open: &mut pos_terminal::terminal::OpenTerminal, intent| {
        open.till.handle(intent, support::monday()).unwrap()
    };
    send(
        &mut open,
        Intent::Login {
            user: UserId::new("sara"),
            pin: "5555".to_owned(),
        },
    );
    // The day's first login opens the shift; its float's drawer opening is not this test's.
    send(
        &mut open,
        Intent::Shift(ShiftIntent::Open {
            total: "100".to_owned(),
        }),
    );
    open.till.take_effects();
    send(&mut open, Intent::Scan("4006381333931".to_owned()));
    send(&mut open, Intent::StartPayment);
    send(
        &mut open,
        Intent::AddTender {
            kind: TenderChoice::Cash,
            amount: "5".to_owned(),
            reference: String::new(),
        },
    );
    send(&mut open, Intent::Receipt(ReceiptIntent::Print));
    open.run_effects();

    let receipt = printed(&printer, 1).remove(0);
    let kick_at = receipt
        .iter()
        .position(|e| matches!(e, Event::DrawerKick(_)));
    let first_line_at = receipt.iter().position(|e| matches!(e, Event::Line(_)));
    assert!(
        kick_at.is_some() && kick_at < first_line_at,
        "the drawer opens first"
    );
    let text = to_text(&receipt, 32);
    assert!(text.contains("T7-000001"), "{text}");
    assert!(text.contains("1.19"), "{text}");
    assert!(text.contains("3.81"), "the change is printed: {text}");
    // Text rows fit 58 mm paper; `[barcode …]` and `[qr …]` stand for printed symbols.
    assert!(
        text.lines()
            .filter(|line| !line.starts_with('['))
            .all(|line| line.chars().count() <= 32),
        "{text}"
    );
    assert!(text.contains("[barcode T7-000001]"), "{text}");
    assert!(
        !dir.path().join("receipts").exists(),
        "nothing is filed as a simulated receipt when a real printer is configured"
    );
}
