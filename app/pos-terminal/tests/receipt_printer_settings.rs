//! The receipt printer as the back office's settings change it, through the screen (taps and
//! typed fields on Slint's testing backend) on the terminal as it starts for real
//! (`screen::start_till`): a logo saved with the receipt's text is printed, dithered for the
//! paper, at the top of every receipt that follows, and after a restart; a printer changed
//! under Hardware takes the next receipt without a restart, even for a sale that was open
//! while it changed; a printer that does not answer is named in a manager's words, and the
//! receipt waiting for it prints on the next printer set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pos_printer::decode::{Decoder, Event, to_text};
use pos_printer::encode::Paper;
use pos_printer::raster::Raster;
use pos_terminal::terminal::DataDir;
use pos_till::{Intent, ReceiptIntent};
use support::{MILK, OnScreen, Terminal, cut_receipts, printed};
use tests::printer_emulator::PrinterEmulator;

/// The terminal started with `config` as its `terminal.toml`.
fn start_with(dir: &Path, config: &str) -> Terminal {
    std::fs::write(DataDir::new(dir).config_file(), config).unwrap();
    Terminal::start(dir)
}

/// From the till's login page into the back office's settings, signed in as Marc.
fn settings(terminal: &Terminal) {
    terminal.back_office("Marc", "9999");
    terminal.tap("Settings");
}

/// Sara, a supervisor who may refund, at the till with her shift open.
fn sara(terminal: &Terminal) {
    terminal.at_till("sara", "5555");
}

/// Milk paid in cash; returns the receipt number.
fn sell_milk(terminal: &Terminal) -> String {
    sara(terminal);
    terminal.send(Intent::Scan(MILK.to_owned()));
    terminal.pay_cash()
}

/// A printer on a device file: an empty file the terminal writes ESC/POS into.
fn printer_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, b"").unwrap();
    path
}

/// The receipts cut so far in the bytes of `path`, once there are `count`.
fn receipts(path: &Path, count: usize) -> Vec<Vec<Event>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut decoder = Decoder::new();
        let cut = cut_receipts(&decoder.feed(&std::fs::read(path).unwrap()).unwrap());
        if cut.len() >= count {
            return cut;
        }
        assert!(
            Instant::now() < deadline,
            "{} printed {} receipts, not {count}",
            path.display(),
            cut.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pictures a receipt printed.
fn images(receipt: &[Event]) -> Vec<&Raster> {
    receipt
        .iter()
        .filter_map(|event| match event {
            Event::Raster { raster, .. } => Some(raster),
            _ => None,
        })
        .collect()
}

/// A 500 × 100 logo: a grey ramp from black to white with a black bar across, so the
/// dithering and the scaling both show.
fn logo_png() -> Vec<u8> {
    let image = image::GrayImage::from_fn(500, 100, |x, y| {
        if (40..60).contains(&y) {
            image::Luma([0])
        } else {
            image::Luma([u8::try_from(x * 255 / 499).unwrap()])
        }
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    png.into_inner()
}

#[test]
fn the_logo_saved_with_the_receipt_is_printed_dithered_for_the_paper_on_every_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let printer = printer_file(dir.path(), "printer.bin");
    let config = format!(
        "[printer]\ntransport = \"device-file\"\npath = \"{}\"\npaper = \"58mm\"\n",
        printer.display()
    );
    let terminal = start_with(dir.path(), &config);

    // No logo set: the receipt has no picture.
    sell_milk(&terminal);
    terminal.send(Intent::Receipt(ReceiptIntent::Print));
    let first = receipts(&printer, 1);
    assert!(images(&first[0]).is_empty(), "{}", to_text(&first[0], 32));

    terminal.send(Intent::Lock);
    settings(&terminal);
    terminal.tap("Receipt text");
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, logo_png()).unwrap();
    terminal.type_into(
        "Logo file on the USB stick (PNG)",
        &logo.display().to_string(),
    );
    terminal.tap("Check logo");
    assert_eq!(
        terminal.message(),
        "500×100 pixels: it fits. Save the receipt to print it."
    );
    terminal.tap("Save receipt");
    assert_eq!(
        terminal.message(),
        "the receipt is saved; the till prints it from the next sale"
    );
    terminal.leave();

    // The logo on 58 mm paper: scaled to its 384 dots and dithered, the printer's way.
    let expected = Raster::from_png(&logo_png(), Paper::MM58.width_dots).unwrap();
    assert_eq!((expected.width_dots, expected.height_dots), (384, 76));
    let receipt = sell_milk(&terminal);
    terminal.send(Intent::Receipt(ReceiptIntent::Gift));
    terminal.send(Intent::Receipt(ReceiptIntent::Print));
    terminal.send(Intent::Receipt(ReceiptIntent::ReprintLast));
    // The sale's receipt scanned at the checkout opens its refund.
    terminal.send(Intent::Scan(receipt.clone()));
    assert!(terminal.running.screen().view().refund.is_some());
    terminal.send(Intent::ReturnReason("changed_mind".to_owned()));
    terminal.send(Intent::ConfirmRefund);
    let printed = receipts(&printer, 5);
    let texts: Vec<String> = printed.iter().map(|r| to_text(r, 32)).collect();
    assert!(texts[1].contains("GIFT RECEIPT"), "{}", texts[1]);
    assert!(texts[3].contains("COPY"), "{}", texts[3]);
    assert!(texts[4].contains("REFUND"), "{}", texts[4]);
    for (receipt, text) in printed[1..].iter().zip(&texts[1..]) {
        assert_eq!(images(receipt), [&expected], "{text}");
        // The logo comes first, above the store's name.
        let logo_at = receipt
            .iter()
            .position(|e| matches!(e, Event::Raster { .. }));
        let name_at = receipt
            .iter()
            .position(|e| matches!(e, Event::Line(line) if line.text == "Corner Market Mitte"));
        assert!(logo_at < name_at, "{text}");
    }

    // After a restart the printer has the logo from its first receipt.
    drop(terminal);
    let printer = printer_file(dir.path(), "printer-after-restart.bin");
    let config = format!(
        "[printer]\ntransport = \"device-file\"\npath = \"{}\"\npaper = \"80mm\"\n",
        printer.display()
    );
    let terminal = start_with(dir.path(), &config);
    sell_milk(&terminal);
    terminal.send(Intent::Receipt(ReceiptIntent::Print));
    let after = receipts(&printer, 1);
    let on_80mm = Raster::from_png(&logo_png(), Paper::MM80_42.width_dots).unwrap();
    assert_eq!((on_80mm.width_dots, on_80mm.height_dots), (504, 100));
    assert_eq!(images(&after[0]), [&on_80mm]);
}

/// A loopback address where nothing listens.
fn silent_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

fn filed_receipts(folder: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|path| path.extension().is_some_and(|e| e == "txt"));
    found.sort();
    found
}

#[test]
fn a_printer_changed_under_hardware_takes_the_next_receipt_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::start(dir.path());

    // Sara has milk in her cart as she steps away.
    sara(&terminal);
    terminal.send(Intent::Scan(MILK.to_owned()));
    terminal.send(Intent::Lock);

    settings(&terminal);
    terminal.tap("Hardware");
    let counter = dir.path().join("counter-2");
    terminal.type_into("Printer connection", "simulated");
    terminal.type_into("Printer address or device", &counter.display().to_string());
    terminal.tap("Save hardware");
    assert_eq!(
        terminal.message(),
        "this terminal's hardware settings are saved and in use; asking the printer whether it answers…"
    );
    let file = std::fs::read_to_string(dir.path().join("terminal.toml")).unwrap();
    assert!(file.contains("folder = "), "{file}");
    terminal.leave();

    // The sale under way finishes as it started; its receipt goes to the new printer.
    sara(&terminal);
    assert_eq!(terminal.running.screen().view().cart.total, "1.19");
    let receipt = terminal.pay_cash();
    terminal.send(Intent::Receipt(ReceiptIntent::Print));
    let deadline = Instant::now() + Duration::from_secs(20);
    while filed_receipts(&counter).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let filed = filed_receipts(&counter);
    assert_eq!(filed.len(), 1, "{filed:?}");
    let text = std::fs::read_to_string(&filed[0]).unwrap();
    assert!(text.contains(&receipt), "{text}");
    assert!(text.contains("1.19"), "{text}");
    assert_eq!(
        filed_receipts(&dir.path().join("receipts")),
        Vec::<PathBuf>::new(),
        "nothing went to the printer set before"
    );
}

#[test]
fn a_printer_that_does_not_answer_is_named_and_its_receipt_waits_for_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::start_with_event_loop(dir.path());
    settings(&terminal);
    terminal.tap("Hardware");
    let silent = silent_address();
    terminal.type_into("Printer connection", "tcp");
    terminal.type_into("Printer address or device", &silent);
    terminal.tap("Save hardware");
    terminal.wait_for_message(&format!(
        "The receipt printer at {silent} does not answer. Check that it is switched on and its cable is in; receipts wait in the print queue until it answers."
    ));
    terminal.leave();

    // A sale while no printer answers: its receipt waits in the queue.
    let receipt = sell_milk(&terminal);
    terminal.send(Intent::Receipt(ReceiptIntent::Print));
    terminal.send(Intent::Lock);

    // The manager sets the printer that does answer; the waiting receipt prints there.
    let printer = PrinterEmulator::start().unwrap();
    let address = printer.addr().to_string();
    settings(&terminal);
    terminal.tap("Hardware");
    terminal.type_into("Printer address or device", &address);
    terminal.tap("Save hardware");
    terminal.wait_for_message(&format!(
        "The receipt printer at {address} answers; receipts print there from now on."
    ));
    let text = to_text(&printed(&printer, 1)[0], 42);
    assert!(text.contains(&receipt), "{text}");
}
