//! The terminal configured for a network printer (`transport = "tcp"` in `terminal.toml`):
//! a cash sale through the till reaches a printer on loopback as ESC/POS, drawer kick first,
//! and the bytes decode back to the receipt. The printer here is a small emulator that answers
//! status queries as a ready printer does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use pos_core::id::{DeviceId, UserId};
use pos_printer::decode::{Decoder, Event, to_text};
use pos_printer::status::{DrawerSense, PrinterStatus};
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::terminal::{DataDir, open_terminal};
use pos_till::{Intent, ReceiptIntent, ShiftIntent, TenderChoice};

/// What the emulated printer saw: whether a kick came, and each cut receipt's text.
enum Seen {
    Kick,
    Receipt(String),
}

/// A ready printer on a loopback port: answers `DLE EOT n`, reports kicks and receipts.
fn printer(columns: usize) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (sender, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut decoder = Decoder::new();
            let mut receipt = Vec::new();
            let mut buffer = [0_u8; 4096];
            // A read error or the end of the stream: the terminal hung up.
            while let Ok(count) = stream.read(&mut buffer) {
                if count == 0 {
                    break;
                }
                for event in decoder.feed(&buffer[..count]).unwrap() {
                    match event {
                        Event::StatusQuery(kind) => {
                            let answers = PrinterStatus::READY.to_bytes(DrawerSense::OpenWhenHigh);
                            stream.write_all(&[answers[kind as usize - 1]]).unwrap();
                        }
                        Event::DrawerKick(_) => {
                            sender.send(Seen::Kick).ok();
                        }
                        Event::Cut(_) => {
                            let text = to_text(&receipt, columns);
                            receipt.clear();
                            sender.send(Seen::Receipt(text)).ok();
                        }
                        other => receipt.push(other),
                    }
                }
            }
        }
    });
    (address, seen)
}

#[test]
fn a_cash_sale_prints_on_the_configured_network_printer_after_the_drawer_opens() {
    let (address, seen) = printer(32);
    let config = TerminalConfig::parse(
        &format!(
            "device = \"T7\"\n[printer]\ntransport = \"tcp\"\naddress = \"{address}\"\npaper = \"58mm\"\n[drawer]\npin = 5\n"
        ),
        Path::new("terminal.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let (reports, _printer_reports) = mpsc::channel();
    let peripherals = Rc::new(
        PeripheralService::start(
            PeripheralSettings {
                queue_dir: data.print_queue(),
                receipts_dir: data.receipts(),
                line: config.printer.line.clone(),
                paper: config.printer.paper,
                drawer: config.drawer,
                drawer_watch: config.drawer_watch,
            },
            move |report| {
                reports.send(report).ok();
            },
        )
        .unwrap(),
    );
    let mut open = open_terminal(
        &data.root,
        DeviceId::new(&config.device),
        0,
        peripherals,
        pos_ui::system_now,
    )
    .unwrap();
    let send = |open: &mut pos_terminal::terminal::OpenTerminal, intent| {
        open.till.handle(intent, pos_ui::system_now()).unwrap()
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

    let wait = || seen.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(matches!(wait(), Seen::Kick), "the drawer opens first");
    let Seen::Receipt(text) = wait() else {
        panic!("a second kick instead of the receipt")
    };
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
