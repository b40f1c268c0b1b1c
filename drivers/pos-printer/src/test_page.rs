//! The printer test page a technician prints from the service screen: who printed it, a ruler
//! across the paper's columns, every text style, the code page's accented letters and euro sign,
//! a barcode, a QR code and a cut.
//!
//! It is written with the `escpos` crate's command builder, not with [`crate::encode`]: a page
//! from a second, independent encoder shows that the printer understands standard ESC/POS and
//! not only the subset our receipts use, and the tests read it back with [`crate::decode`], so
//! our decoder is checked against bytes it did not help write. The crate maps no code pages
//! (see [`crate::encode`]), so text that may hold other letters than ASCII (the shop's name, the
//! sample letters) goes through [`CodePage::encode`] and the crate's `custom` command.

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol, UnderlineMode};

use crate::codepage::CodePage;
use crate::encode::Paper;
use crate::error::Error;

/// What the test page says about the terminal that printed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestPageInfo {
    pub store: String,
    pub terminal: String,
    pub software_version: String,
    /// When, already in the shop's format ("2026-11-29 10:42").
    pub printed_at: String,
    pub paper: Paper,
    pub code_page: CodePage,
}

/// The barcode on the test page: a valid EAN-13 that any scanner reads.
pub const TEST_BARCODE: &str = "4006381333931";

/// Letters a receipt in a European shop needs, printed through the configured code page.
pub const TEST_LETTERS: &str = "€ äöü ÄÖÜ ß éèê àç ñ ø å";

/// The test page's ESC/POS bytes.
pub fn test_page(info: &TestPageInfo) -> Result<Vec<u8>, Error> {
    let buffer = Buffer::default();
    let mut printer = Printer::new(buffer.clone(), Protocol::default(), None);
    build(&mut printer, info).map_err(|error| Error::Request(format!("test page: {error}")))?;
    Ok(buffer.take())
}

fn build(printer: &mut Printer<Buffer>, info: &TestPageInfo) -> escpos::errors::Result<()> {
    let line = |text: &str| {
        let mut bytes = info.code_page.encode(text);
        bytes.push(b'\n');
        bytes
    };
    printer
        .init()?
        .custom(&[0x1B, b't', info.code_page.esc_t()])?
        .justify(JustifyMode::CENTER)?
        .bold(true)?
        .size(2, 2)?
        .writeln("PRINTER TEST")?
        .reset_size()?
        .bold(false)?
        .custom(&line(&info.store))?
        .justify(JustifyMode::LEFT)?
        .custom(&line(&format!("Terminal  {}", info.terminal)))?
        .custom(&line(&format!("Software  {}", info.software_version)))?
        .custom(&line(&format!("Printed   {}", info.printed_at)))?
        .writeln(&format!(
            "Paper     {} columns, {} dots",
            info.paper.columns, info.paper.width_dots
        ))?
        .writeln(&format!("Code page {:?}", info.code_page))?
        .writeln(&ruler(info.paper.columns))?
        .bold(true)?
        .writeln("Bold")?
        .bold(false)?
        .underline(UnderlineMode::Single)?
        .writeln("Underlined")?
        .underline(UnderlineMode::None)?
        .size(2, 1)?
        .writeln("Double width")?
        .size(1, 2)?
        .writeln("Double height")?
        .reset_size()?
        .custom(&line(TEST_LETTERS))?
        .justify(JustifyMode::CENTER)?
        .ean13(TEST_BARCODE)?
        .qrcode(&format!("Open POS test page {}", info.terminal))?
        .feeds(4)?
        // A full cut: the crate's `partial_cut` sends `GS V 65 1`, which the ESC/POS manual
        // defines as feed-and-full-cut (66 is the partial one).
        .cut()?
        .print()?;
    Ok(())
}

/// "1234567890123…" up to the paper's width: a missing or wrapped digit shows a wrong setting.
fn ruler(columns: usize) -> String {
    (1..=columns)
        .map(|column| char::from(b'0' + u8::try_from(column % 10).unwrap_or(0)))
        .collect()
}

/// The `escpos` driver that keeps what the page would send, for our own transports.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Buffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl Driver for Buffer {
    fn name(&self) -> String {
        "test page buffer".to_owned()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}
