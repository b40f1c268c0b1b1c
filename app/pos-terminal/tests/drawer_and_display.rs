//! The drawer left open and the customer's pole display, as the terminal runs them: the
//! printer worker reads the drawer sensor (`DLE EOT`) of the simulated printer and raises,
//! then clears, the checkout's alert; the pole display on a pseudo-terminal receives what
//! the customer should see while a sale is rung up and paid, decoded back from its bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pos_core::clock::Timestamp;
use pos_core::id::UserId;
use pos_printer::drawer::DrawerKick;
use pos_printer::encode::Paper;
use pos_terminal::config::{DrawerWatchSettings, PrinterLine};
use pos_terminal::peripherals::{
    PeripheralService, PeripheralSettings, Peripherals, PrinterReport, drawer_alert_text,
};
use pos_terminal::pole::{CustomerDisplay, DisplayLine, DisplaySettings, customer_screen};
use pos_till::{Intent, ShiftIntent, TenderChoice};
use serialport::{SerialPort, TTYPort};

fn wait_for(
    reports: &mpsc::Receiver<PrinterReport>,
    what: &str,
    wanted: impl Fn(&PrinterReport) -> bool,
) -> PrinterReport {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Ok(report) = reports.recv_timeout(left)
            && wanted(&report)
        {
            return report;
        }
    }
    panic!("no report with {what} within 10 s");
}

#[test]
fn a_drawer_left_open_raises_the_alert_until_it_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (sender, reports) = mpsc::channel();
    let limit = Duration::from_millis(600);
    let service = PeripheralService::start(
        PeripheralSettings {
            queue_dir: dir.path().join("queue"),
            receipts_dir: dir.path().join("receipts"),
            line: PrinterLine::Simulated { folder: None },
            paper: Paper::MM80_42,
            drawer: DrawerKick::default(),
            drawer_watch: DrawerWatchSettings {
                open_alert: limit,
                // The simulated cashier shuts the drawer after two seconds.
                simulated_close: Some(Duration::from_secs(2)),
            },
        },
        move |report| {
            sender.send(report).ok();
        },
    )
    .unwrap();
    wait_for(&reports, "a ready printer", |r| r.state.is_ready());
    let kicked = Instant::now();
    service.open_drawer();
    let open = wait_for(&reports, "the drawer open", |r| r.drawer_open);
    assert_eq!(
        open.drawer_alert, None,
        "not yet: the drawer was just opened"
    );
    let alerted = wait_for(&reports, "the alert", |r| r.drawer_alert.is_some());
    assert!(kicked.elapsed() >= limit, "not before the limit");
    assert_eq!(
        alerted.drawer_alert.as_deref(),
        Some(
            "The cash drawer has been open for more than 1 s. Close it; if it will not shut, call a supervisor."
        )
    );
    let closed = wait_for(&reports, "the alert cleared", |r| r.drawer_alert.is_none());
    assert!(!closed.drawer_open);
    assert!(kicked.elapsed() >= Duration::from_secs(2));
    drop(service);
}

#[test]
fn alert_texts_name_the_limit_in_words() {
    assert_eq!(
        drawer_alert_text(Duration::from_secs(120)),
        "The cash drawer has been open for more than 2 min. Close it; if it will not shut, call a supervisor."
    );
    assert!(drawer_alert_text(Duration::from_secs(45)).contains("more than 45 s"));
}

/// The two 20-character lines of every frame the display received: each frame clears the
/// display (0x0C), writes line 1, moves to line 2 (`US $ 1 2`) and writes line 2.
fn frames(bytes: &[u8]) -> Vec<[String; 2]> {
    let body = bytes
        .strip_prefix(&[0x1B, b'@', 0x1B, b't', 19][..])
        .unwrap();
    body.split(|b| *b == 0x0C)
        .filter(|frame| !frame.is_empty())
        .map(|frame| {
            let at = frame
                .windows(4)
                .position(|w| w == [0x1F, b'$', 1, 2])
                .unwrap();
            let text = |part: &[u8]| part.iter().map(|b| char::from(*b)).collect::<String>();
            [text(&frame[..at]), text(&frame[at + 4..])]
        })
        .collect()
}

#[test]
fn the_pole_display_follows_the_sale_over_a_serial_line() {
    let (mut master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    let display = CustomerDisplay::start(&DisplaySettings {
        line: DisplayLine::Serial { path, baud: 9600 },
        welcome: "Welcome!".to_owned(),
    })
    .unwrap()
    .unwrap();

    let now = Timestamp::from_unix_ms(1_772_445_600_000);
    let mut till = pos_till::demo_till(now).unwrap();
    let show = |till: &pos_till::Till| display.show(customer_screen(&till.view(), "Welcome!"));
    show(&till);
    till.handle(
        Intent::Login {
            user: UserId::new("anna"),
            pin: "1234".to_owned(),
        },
        now,
    )
    .unwrap();
    till.handle(
        Intent::Shift(ShiftIntent::Open {
            total: "100".to_owned(),
        }),
        now,
    )
    .unwrap();
    show(&till); // still nobody served: nothing new is sent
    for code in ["4006381333931", "4006581020013"] {
        till.handle(Intent::Scan(code.to_owned()), now).unwrap();
        show(&till);
    }
    till.handle(Intent::StartPayment, now).unwrap();
    till.handle(
        Intent::AddTender {
            kind: TenderChoice::Cash,
            amount: "20".to_owned(),
            reference: String::new(),
        },
        now,
    )
    .unwrap();
    show(&till);
    till.handle(Intent::NextCustomer, now).unwrap();
    show(&till);
    drop(display); // the worker writes what is queued, then stops

    master.set_timeout(Duration::from_millis(50)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0_u8; 512];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && got.len() < 5 + 5 * 45 {
        if let Ok(n) = master.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    drop(slave);
    let line = |a: &str, b: &str| [a.to_owned(), b.to_owned()];
    assert_eq!(
        frames(&got),
        vec![
            line("Welcome!            ", "                    "),
            line("Whole milk 1 L  1.19", "Total EUR       1.19"),
            line("Coffee beans 1 14.99", "Total EUR      16.18"),
            line("Paid           20.00", "Change EUR      3.82"),
            line("Welcome!            ", "                    "),
        ]
    );
}
