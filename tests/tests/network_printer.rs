//! A network receipt printer (raw TCP 9100) played by the loopback emulator: a receipt goes
//! through the real queue, encoder and TCP transport, and each failure a cashier can meet on
//! the line ends with the receipt printed exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod worked;

use std::time::Duration;

use pos_printer::decode::{Event, to_text};
use pos_printer::drawer::DrawerKick;
use pos_printer::encode::{Paper, PrinterProfile};
use pos_printer::error::ErrorKind;
use pos_printer::queue::{PrintJob, PrintQueue, PumpSettings, Resolution};
use pos_printer::status::{DrawerSense, PrinterStatus};
use pos_printer::transport::{Reconnecting, ReturnChannel, TcpTransport};
use tests::printer_emulator::PrinterEmulator;

fn settings() -> PumpSettings {
    PumpSettings {
        profile: PrinterProfile::new(Paper::MM80_42),
        drawer_sense: DrawerSense::OpenWhenHigh,
        status_timeout: Duration::from_millis(500),
    }
}

fn supermarket_job() -> PrintJob {
    let example = worked::examples().into_iter().next().unwrap();
    PrintJob {
        id: "sale-T1-00001".to_owned(),
        document: example.document,
        kick: Some(DrawerKick::default()),
    }
}

fn connect(emulator: &PrinterEmulator) -> TcpTransport {
    TcpTransport::connect(emulator.addr(), Duration::from_secs(2)).unwrap()
}

/// Waits (bounded) until the emulator has decoded `count` cuts.
fn wait_for_cuts(emulator: &PrinterEmulator, count: usize) {
    assert!(
        emulator.wait_until(Duration::from_secs(1), |state| state.cuts() >= count),
        "the printer saw {} cuts, expected {count}",
        emulator.state().cuts()
    );
}

#[test]
fn a_cash_sale_prints_over_the_network_with_the_drawer_kick() {
    let emulator = PrinterEmulator::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut queue = PrintQueue::open(dir.path()).unwrap();
    queue.enqueue(&supermarket_job()).unwrap();
    let report = queue.pump(&mut connect(&emulator), &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-T1-00001"]);
    wait_for_cuts(&emulator, 1);
    let state = emulator.state();
    assert!(state.errors.is_empty(), "{:?}", state.errors);
    let text = to_text(&state.events, 42);
    assert!(text.starts_with("[drawer kick Pin2 100 ms on 200 ms off]\n"));
    assert!(text.contains(&format!("TOTAL EUR{}17.30", " ".repeat(42 - 9 - 5))));
    assert!(text.contains("[barcode T1-00001]"));
}

#[test]
fn paper_out_on_the_network_printer_waits_then_prints_once() {
    let emulator = PrinterEmulator::start().unwrap();
    emulator.state().status = PrinterStatus {
        paper_out: true,
        paper_near_end: true,
        ..PrinterStatus::READY
    };
    let dir = tempfile::tempdir().unwrap();
    let mut queue = PrintQueue::open(dir.path()).unwrap();
    queue.enqueue(&supermarket_job()).unwrap();
    let mut line = connect(&emulator);
    let report = queue.pump(&mut line, &settings()).unwrap();
    assert_eq!(report.waiting.unwrap().kind(), ErrorKind::PaperOut);
    assert!(report.printed.is_empty());

    emulator.state().status = PrinterStatus::READY;
    let report = queue.pump(&mut line, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-T1-00001"]);
    queue.pump(&mut line, &settings()).unwrap();
    wait_for_cuts(&emulator, 1);
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(emulator.state().cuts(), 1);
}

#[test]
fn an_open_cover_on_the_network_printer_is_named() {
    let emulator = PrinterEmulator::start().unwrap();
    emulator.state().status = PrinterStatus {
        cover_open: true,
        online: false,
        ..PrinterStatus::READY
    };
    let dir = tempfile::tempdir().unwrap();
    let mut queue = PrintQueue::open(dir.path()).unwrap();
    queue.enqueue(&supermarket_job()).unwrap();
    let waiting = queue
        .pump(&mut connect(&emulator), &settings())
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.kind(), ErrorKind::CoverOpen);
    assert_eq!(
        waiting.to_string(),
        "The receipt printer's cover is open. Close it; the receipt prints then."
    );
    assert_eq!(queue.pending().unwrap(), vec!["sale-T1-00001"]);
}

#[test]
fn a_connection_dropped_mid_receipt_asks_the_cashier_and_prints_once_more_on_request() {
    let emulator = PrinterEmulator::start().unwrap();
    // The four status queries are 12 bytes; the line drops 200 bytes into the receipt.
    emulator.state().drop_after_bytes = Some(212);
    let dir = tempfile::tempdir().unwrap();
    let mut queue = PrintQueue::open(dir.path()).unwrap();
    queue.enqueue(&supermarket_job()).unwrap();
    let report = queue.pump(&mut connect(&emulator), &settings()).unwrap();
    assert_eq!(report.uncertain, vec!["sale-T1-00001"]);
    let reason = report.waiting.unwrap();
    assert!(
        matches!(reason.kind(), ErrorKind::Disconnected | ErrorKind::Timeout),
        "{reason}"
    );

    // Reconnected: the torn receipt is not resent by itself.
    let mut line = connect(&emulator);
    let report = queue.pump(&mut line, &settings()).unwrap();
    assert!(report.printed.is_empty() && report.waiting.is_none());
    assert_eq!(emulator.state().cuts(), 0);

    queue
        .resolve("sale-T1-00001", Resolution::PrintAgain)
        .unwrap();
    let report = queue.pump(&mut line, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-T1-00001"]);
    wait_for_cuts(&emulator, 1);
    let state = emulator.state();
    assert_eq!(state.connections, 2);
    // The drawer opened with the first attempt only.
    let kicks = state
        .events
        .iter()
        .filter(|e| matches!(e, Event::DrawerKick(_)))
        .count();
    assert_eq!(kicks, 1);
}

#[test]
fn a_printer_switched_off_prints_the_queue_once_it_is_back_on() {
    let emulator = PrinterEmulator::start().unwrap();
    let addr = emulator.addr();
    let mut line = Reconnecting::new("receipt printer", ReturnChannel::Bidirectional, || {
        TcpTransport::connect(addr, Duration::from_millis(500))
    });
    let dir = tempfile::tempdir().unwrap();
    let mut queue = PrintQueue::open(dir.path()).unwrap();
    queue.enqueue(&supermarket_job()).unwrap();
    let report = queue.pump(&mut line, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-T1-00001"]);

    // Switched off: the next receipt waits, with a message the cashier understands.
    drop(emulator);
    let mut second = supermarket_job();
    second.id = "sale-T1-00002".to_owned();
    queue.enqueue(&second).unwrap();
    let waiting = queue.pump(&mut line, &settings()).unwrap().waiting.unwrap();
    assert_eq!(waiting.kind(), ErrorKind::Disconnected);
    assert!(waiting.to_string().contains("Plug it back in"), "{waiting}");
    assert!(!line.is_connected());
    assert_eq!(queue.pending().unwrap(), vec!["sale-T1-00002"]);

    // Back on, same address: the queue prints by itself, the first receipt not again.
    let emulator = PrinterEmulator::start_on(addr).unwrap();
    let report = queue.pump(&mut line, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-T1-00002"]);
    wait_for_cuts(&emulator, 1);
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(emulator.state().cuts(), 1);
}
