//! The drawer as the cashier meets it: kicked by a cash receipt, reported open by the
//! printer's status, and an alert when it is left open.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use pos_printer::drawer::{
    DrawerAlert, DrawerConnection, DrawerKick, DrawerPin, DrawerWatch, open_drawer,
};
use pos_printer::encode::Paper;
use pos_printer::simulated::{HardwareEvent, SimulatedPrinter};
use pos_printer::status::{DrawerSense, PrinterStatus};
use pos_printer::transport::query_status;

#[test]
fn a_drawer_opened_and_left_open_raises_an_alert_from_the_printer_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut printer = SimulatedPrinter::new(dir.path(), Paper::MM58).unwrap();
    let mut watch = DrawerWatch::new(60_000);
    let status = |printer: &mut SimulatedPrinter| {
        query_status(
            printer,
            DrawerSense::OpenWhenHigh,
            Duration::from_millis(10),
        )
        .unwrap()
        .unwrap()
    };
    assert!(!status(&mut printer).drawer_open);

    let kick = DrawerKick {
        pin: DrawerPin::Pin5,
        on_ms: 120,
        off_ms: 240,
    };
    open_drawer(&mut printer, &DrawerConnection::ThroughPrinter(kick)).unwrap();
    assert_eq!(
        printer.take_events(),
        vec![HardwareEvent::DrawerKicked(kick)]
    );

    // Polled every 15 s: the alert comes with the first reading past a minute.
    let mut alerts = Vec::new();
    for at_ms in (0..=90_000).step_by(15_000) {
        let open = status(&mut printer).drawer_open;
        alerts.extend(watch.observe(open, at_ms));
    }
    assert_eq!(
        alerts,
        vec![DrawerAlert::LeftOpen {
            open_since_ms: 0,
            open_for_ms: 75_000
        }]
    );

    // The cashier shuts it; the printer's sensor says so and the alert clears.
    printer.set_status(PrinterStatus::READY);
    let open = status(&mut printer).drawer_open;
    assert_eq!(
        watch.observe(open, 100_000),
        Some(DrawerAlert::ClosedAgain {
            open_for_ms: 100_000
        })
    );
}
