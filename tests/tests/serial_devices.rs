//! Serial devices over a pseudo-terminal pair: the driver opens the pty's slave side by its
//! path as it would open `/dev/ttyUSB0`, and the test plays the device on the master side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::time::{Duration, Instant};

use pos_core::money::{Currency, Money};
use pos_core::receipt::{Align, Block, Document, Style};
use pos_printer::codepage::CodePage;
use pos_printer::decode::to_text;
use pos_printer::display::{PoleDisplay, Screen};
use pos_printer::encode::{Paper, PrinterProfile};
use pos_printer::queue::{PrintJob, PrintQueue, PumpSettings};
use pos_printer::status::DrawerSense;
use pos_printer::transport::SerialTransport;
use serialport::{SerialPort, TTYPort};
use tests::printer_emulator::SerialPrinterEmulator;

fn pty() -> (TTYPort, String) {
    let (master, slave, path) = tests::printer_emulator::pty().unwrap();
    // The slave stays open in the test so the master does not see a hang-up between opens.
    std::mem::forget(slave);
    (master, path)
}

/// Reads from the master side until `done` says so or two seconds pass.
fn read_until(master: &mut TTYPort, mut done: impl FnMut(&[u8]) -> bool) -> Vec<u8> {
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut got = Vec::new();
    let mut buf = [0_u8; 1024];
    while Instant::now() < deadline && !done(&got) {
        if let Ok(n) = master.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    got
}

#[test]
fn the_pole_display_shows_the_item_then_the_change() {
    let (mut master, path) = pty();
    let transport = SerialTransport::open(&path, 9600).unwrap();
    let mut display = PoleDisplay::open(transport, CodePage::Pc858).unwrap();
    let eur = |minor| Money::from_minor(minor, Currency::EUR);
    display
        .show(&Screen::Item {
            name: "Crème fraîche".to_owned(),
            price: eur(149),
            total: eur(1_730),
        })
        .unwrap();
    display
        .show(&Screen::Change {
            paid: eur(2_000),
            change: eur(270),
        })
        .unwrap();
    let expected_len = 5 + 2 * (1 + 20 + 4 + 20);
    let got = read_until(&mut master, |got| got.len() >= expected_len);

    let mut expected = vec![0x1B, b'@', 0x1B, b't', 19];
    expected.push(0x0C);
    expected.extend(b"Cr\x8ame fra\x8cche   1.49");
    expected.extend([0x1F, b'$', 1, 2]);
    expected.extend(b"Total EUR      17.30");
    expected.push(0x0C);
    expected.extend(b"Paid           20.00");
    expected.extend([0x1F, b'$', 1, 2]);
    expected.extend(b"Change EUR      2.70");
    assert_eq!(got, expected);
}

#[test]
fn a_serial_receipt_printer_answers_status_and_prints_the_job() {
    let printer = SerialPrinterEmulator::start().unwrap();
    let mut transport = SerialTransport::open(printer.path(), 19_200).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut queue = PrintQueue::open(dir.path()).unwrap();
    queue
        .enqueue(&PrintJob {
            id: "sale-1".to_owned(),
            document: Document {
                blocks: vec![
                    Block::Text {
                        text: "Serial receipt".to_owned(),
                        align: Align::Center,
                        style: Style::BOLD,
                    },
                    Block::Cut,
                ],
            },
            kick: None,
        })
        .unwrap();
    let settings = PumpSettings {
        profile: PrinterProfile::new(Paper::MM58),
        drawer_sense: DrawerSense::OpenWhenHigh,
        status_timeout: Duration::from_millis(500),
    };
    let report = queue.pump(&mut transport, &settings).unwrap();
    assert_eq!(report.printed, vec!["sale-1"], "{:?}", report.waiting);
    assert!(
        printer.wait_until(Duration::from_secs(3), |state| state.cuts() == 1),
        "the printer never cut"
    );
    let state = printer.state();
    assert!(state.errors.is_empty(), "{:?}", state.errors);
    assert_eq!(
        to_text(&state.events, 32),
        "         Serial receipt\n\n\n\n\n[partial cut]\n"
    );
}

#[test]
fn a_serial_printer_that_never_answers_is_a_timeout_with_a_clear_message() {
    let (_master, path) = pty();
    let mut transport = SerialTransport::open(&path, 9600).unwrap();
    let err = pos_printer::transport::query_status(
        &mut transport,
        DrawerSense::OpenWhenHigh,
        Duration::from_millis(50),
    )
    .unwrap_err();
    assert_eq!(err.kind(), pos_printer::error::ErrorKind::Timeout);
    assert!(err.to_string().contains("did not answer within 50 ms"));
}

#[test]
fn a_serial_port_that_does_not_exist_is_not_found() {
    let err = SerialTransport::open("/dev/ttyUSB-missing", 9600)
        .err()
        .unwrap();
    assert_eq!(err.kind(), pos_printer::error::ErrorKind::NotFound);
    assert!(err.to_string().contains("/dev/ttyUSB-missing"));
}

#[test]
fn a_serial_cash_drawer_gets_its_open_command() {
    let (mut master, path) = pty();
    let mut transport = SerialTransport::open(&path, 9600).unwrap();
    let drawer = pos_printer::drawer::DrawerConnection::Serial {
        open_command: vec![0x07],
    };
    pos_printer::drawer::open_drawer(&mut transport, &drawer).unwrap();
    assert_eq!(read_until(&mut master, |got| !got.is_empty()), vec![0x07]);
}
