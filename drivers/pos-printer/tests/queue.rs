//! The print queue against the simulated printer: every failure a cashier meets (paper out,
//! cover open, printer unplugged, paper running out mid-receipt, a restart) ends with each
//! receipt printed once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use pos_core::receipt::{Align, Block, Document, Style};
use pos_printer::drawer::DrawerKick;
use pos_printer::encode::{Paper, PrinterProfile};
use pos_printer::error::{Error, ErrorKind};
use pos_printer::queue::{Enqueued, PrintJob, PrintQueue, PumpSettings, Resolution};
use pos_printer::simulated::{Cable, HardwareEvent, SimulatedPrinter};
use pos_printer::status::{DrawerSense, PrinterStatus};
use pos_printer::transport::{ReturnChannel, Transport};

fn job(id: &str) -> PrintJob {
    PrintJob {
        id: id.to_owned(),
        document: Document {
            blocks: vec![
                Block::Text {
                    text: format!("Receipt {id}"),
                    align: Align::Center,
                    style: Style::BOLD,
                },
                Block::Pair {
                    left: "TOTAL EUR".to_owned(),
                    right: "4.20".to_owned(),
                    style: Style::TOTAL,
                },
                Block::Cut,
            ],
        },
        kick: Some(DrawerKick::default()),
    }
}

fn settings() -> PumpSettings {
    PumpSettings {
        profile: PrinterProfile::new(Paper::MM58),
        drawer_sense: DrawerSense::OpenWhenHigh,
        status_timeout: Duration::from_millis(50),
    }
}

struct Shop {
    _dir: tempfile::TempDir,
    queue_dir: std::path::PathBuf,
    paper_dir: std::path::PathBuf,
}

fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    Shop {
        queue_dir: dir.path().join("queue"),
        paper_dir: dir.path().join("paper"),
        _dir: dir,
    }
}

fn printed_texts(paper_dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(paper_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn paper_out_holds_the_receipt_until_a_new_roll_is_in() {
    let shop = shop();
    let mut printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM58).unwrap();
    printer.set_status(PrinterStatus {
        paper_out: true,
        paper_near_end: true,
        ..PrinterStatus::READY
    });
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    queue.enqueue(&job("sale-1")).unwrap();

    let report = queue.pump(&mut printer, &settings()).unwrap();
    let waiting = report.waiting.unwrap();
    assert_eq!(waiting.kind(), ErrorKind::PaperOut);
    assert_eq!(
        waiting.to_string(),
        "The receipt printer is out of paper. Load a new roll; the receipt prints then."
    );
    assert_eq!(queue.pending().unwrap(), vec!["sale-1"]);
    assert_eq!(printer.receipts_filed(), 0);

    // A part-used roll goes in: it prints, and the near-end sensor warns.
    printer.set_status(PrinterStatus {
        paper_near_end: true,
        ..PrinterStatus::READY
    });
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-1"]);
    assert!(report.waiting.is_none());
    assert_eq!(
        report.warning,
        Some("The receipt roll is nearly used up. Have a new roll ready.")
    );
    assert_eq!(printer.receipts_filed(), 1);
    // Nothing more to print: a second pump sends nothing.
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert!(report.printed.is_empty());
    assert_eq!(printer.receipts_filed(), 1);
}

#[test]
fn an_open_cover_is_named_and_the_receipt_waits() {
    let shop = shop();
    let mut printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM58).unwrap();
    printer.set_status(PrinterStatus {
        cover_open: true,
        online: false,
        ..PrinterStatus::READY
    });
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    queue.enqueue(&job("sale-1")).unwrap();
    let waiting = queue
        .pump(&mut printer, &settings())
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.kind(), ErrorKind::CoverOpen);
    assert!(waiting.to_string().contains("cover is open"));
    assert_eq!(queue.pending().unwrap(), vec!["sale-1"]);
}

#[test]
fn an_unplugged_printer_keeps_the_queue_and_prints_when_plugged_back() {
    let shop = shop();
    let mut printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM58).unwrap();
    printer.set_cable(Cable::Unplugged);
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    queue.enqueue(&job("sale-1")).unwrap();
    queue.enqueue(&job("sale-2")).unwrap();
    let waiting = queue
        .pump(&mut printer, &settings())
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.kind(), ErrorKind::Disconnected);
    assert!(waiting.to_string().contains("Plug it back in"));
    printer.set_cable(Cable::Plugged);
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-1", "sale-2"]);
    let texts = printed_texts(&shop.paper_dir);
    assert!(texts[0].contains("Receipt sale-1") && texts[1].contains("Receipt sale-2"));
}

#[test]
fn the_queue_survives_a_restart_and_never_prints_a_job_twice() {
    let shop = shop();
    let mut printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM58).unwrap();
    {
        let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
        queue.enqueue(&job("sale-1")).unwrap();
        queue.pump(&mut printer, &settings()).unwrap();
        printer.set_cable(Cable::Unplugged);
        queue.enqueue(&job("sale-2")).unwrap();
        queue.pump(&mut printer, &settings()).unwrap();
    }
    // The terminal restarts; the printer is back.
    printer.set_cable(Cable::Plugged);
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    assert_eq!(queue.pending().unwrap(), vec!["sale-2"]);
    // A retry of the first sale after the crash is recognised, not queued again.
    assert_eq!(
        queue.enqueue(&job("sale-1")).unwrap(),
        Enqueued::AlreadyKnown
    );
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-2"]);
    assert_eq!(printer.receipts_filed(), 2);
    assert_eq!(queue.printed().unwrap(), vec!["sale-1", "sale-2"]);
}

/// A printer whose roll runs out while the receipt is printing: ready before, paper out after.
struct PaperRunsOutMidReceipt(SimulatedPrinter);

impl Transport for PaperRunsOutMidReceipt {
    fn name(&self) -> String {
        self.0.name()
    }
    fn return_channel(&self) -> ReturnChannel {
        ReturnChannel::Bidirectional
    }
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0.write_all(bytes)?;
        if bytes.len() > 3 {
            self.0.set_status(PrinterStatus {
                paper_out: true,
                ..PrinterStatus::READY
            });
        }
        Ok(())
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        self.0.read(buf, timeout)
    }
}

#[test]
fn a_receipt_cut_short_by_paper_out_is_never_resent_without_the_cashier() {
    let shop = shop();
    let printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM58).unwrap();
    let mut printer = PaperRunsOutMidReceipt(printer);
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    queue.enqueue(&job("sale-1")).unwrap();
    queue.enqueue(&job("sale-2")).unwrap();
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.uncertain, vec!["sale-1"]);
    assert_eq!(report.waiting.unwrap().kind(), ErrorKind::PaperOut);

    // New roll; the terminal even restarts. The uncertain job stays out of the way.
    printer.0.set_status(PrinterStatus::READY);
    let mut printer = printer.0;
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    assert_eq!(queue.uncertain().unwrap(), vec!["sale-1"]);
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-2"]);

    // The cashier sees the torn receipt and asks for it again: printed once more, drawer shut.
    printer.take_events();
    queue.resolve("sale-1", Resolution::PrintAgain).unwrap();
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-1"]);
    let events = printer.take_events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, HardwareEvent::DrawerKicked(_)))
    );
    assert!(queue.uncertain().unwrap().is_empty());
    let err = queue.resolve("sale-1", Resolution::WasPrinted).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Request);
}

#[test]
fn any_printed_receipt_can_be_reprinted_as_a_marked_copy() {
    let shop = shop();
    let mut printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM58).unwrap();
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    queue.enqueue(&job("sale-7")).unwrap();
    queue.pump(&mut printer, &settings()).unwrap();
    printer.take_events();

    let copy = queue.reprint("sale-7").unwrap();
    assert_eq!(copy, "sale-7-copy1");
    assert_eq!(queue.reprint("sale-7").unwrap(), "sale-7-copy2");
    let report = queue.pump(&mut printer, &settings()).unwrap();
    assert_eq!(report.printed, vec!["sale-7-copy1", "sale-7-copy2"]);
    let texts = printed_texts(&shop.paper_dir);
    assert!(!texts[0].contains("COPY"));
    assert!(texts[1].starts_with("  *** COPY ***\n"), "{}", texts[1]);
    assert!(texts[1].contains("Receipt sale-7"));
    // A copy never opens the drawer.
    assert!(
        !printer
            .take_events()
            .iter()
            .any(|e| matches!(e, HardwareEvent::DrawerKicked(_)))
    );
    let err = queue.reprint("sale-unknown").unwrap_err();
    assert!(
        err.to_string()
            .contains("no printed receipt `sale-unknown`")
    );
}

#[test]
fn a_cash_sale_reports_the_drawer_kick_to_the_ui() {
    let shop = shop();
    let mut printer = SimulatedPrinter::new(&shop.paper_dir, Paper::MM80_48).unwrap();
    let mut queue = PrintQueue::open(&shop.queue_dir).unwrap();
    queue.enqueue(&job("sale-1")).unwrap();
    let settings = PumpSettings {
        profile: PrinterProfile::new(Paper::MM80_48),
        ..settings()
    };
    queue.pump(&mut printer, &settings).unwrap();
    let events = printer.take_events();
    assert_eq!(
        events[0],
        HardwareEvent::DrawerKicked(DrawerKick::default())
    );
    let HardwareEvent::ReceiptPrinted { text, png } = &events[1] else {
        panic!("expected a receipt, got {events:?}");
    };
    assert!(std::fs::read_to_string(text).unwrap().contains("TOTAL EUR"));
    let image = image::open(png).unwrap();
    assert_eq!(image.width(), 576);
    assert!(printer.status().drawer_open);
}
