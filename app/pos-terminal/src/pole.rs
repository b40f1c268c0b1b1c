//! The customer display (a pole display on a serial port or a device file) as the terminal
//! drives it: the item just scanned with its price and the running total, the change after
//! payment, and a welcome text while the till is idle.
//!
//! Owns the display's worker thread and what it shows for a till view ([`customer_screen`],
//! pure). Never decides a figure: every amount is the one the cashier's screen shows.
//!
//! Key decision: the UI thread only hands a [`Screen`] to a bounded channel; the worker opens
//! the device and writes, reopening it on the next frame after a failure, so an unplugged
//! display never holds the cashier up.

use std::sync::mpsc;
use std::thread::JoinHandle;

use pos_core::money::{Currency, Money};
use pos_printer::codepage::CodePage;
use pos_printer::display::{PoleDisplay, Screen};
use pos_printer::transport::{DeviceFileTransport, SerialTransport};
use pos_till::view::TillView;

/// Frames waiting for the display; the newest matters, so a full queue drops the frame.
const FRAMES_QUEUED_MAX: usize = 8;
/// The code page the common pole displays have, with the euro sign.
const DISPLAY_CODE_PAGE: CodePage = CodePage::Pc858;

/// Where the pole display hangs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisplayLine {
    None,
    Serial { path: String, baud: u32 },
    DeviceFile { path: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplaySettings {
    pub line: DisplayLine,
    /// Shown while nobody is being served.
    pub welcome: String,
}

impl Default for DisplaySettings {
    fn default() -> DisplaySettings {
        DisplaySettings {
            line: DisplayLine::None,
            welcome: "Welcome".to_owned(),
        }
    }
}

/// What the customer sees while the cashier sees `view`: the change once the sale is paid,
/// the chosen (or last) line and the total while there is a cart, otherwise the welcome.
pub fn customer_screen(view: &TillView, welcome: &str) -> Screen {
    let welcome_screen = || Screen::Welcome(welcome.to_owned());
    let Ok(currency) = Currency::from_code(&view.cart.currency) else {
        return welcome_screen();
    };
    let money = |text: &str| Money::parse(text, currency).ok();
    if let Some(payment) = &view.payment
        && payment.receipt_number.is_some()
    {
        return match (money(&payment.paid), money(&payment.change)) {
            (Some(paid), Some(change)) => Screen::Change { paid, change },
            _ => welcome_screen(),
        };
    }
    let line = view
        .cart
        .selected
        .and_then(|chosen| view.cart.lines.iter().find(|l| l.line_no == chosen))
        .or_else(|| view.cart.lines.last());
    match line.and_then(|l| Some((l, money(&l.amount)?, money(&view.cart.total)?))) {
        Some((line, price, total)) => Screen::Item {
            name: line.name.clone(),
            price,
            total,
        },
        None => welcome_screen(),
    }
}

/// The pole display on its worker thread. Dropping it lets the worker write what is queued
/// and stop.
pub struct CustomerDisplay {
    sender: Option<mpsc::SyncSender<Screen>>,
    worker: Option<JoinHandle<()>>,
    shown: std::cell::RefCell<Option<Screen>>,
}

impl CustomerDisplay {
    /// Starts the worker; `None` when no display is configured.
    pub fn start(settings: &DisplaySettings) -> std::io::Result<Option<CustomerDisplay>> {
        if settings.line == DisplayLine::None {
            return Ok(None);
        }
        let (sender, receiver) = mpsc::sync_channel(FRAMES_QUEUED_MAX);
        let line = settings.line.clone();
        let worker = std::thread::Builder::new()
            .name("pole-display".to_owned())
            .spawn(move || run(&line, &receiver))?;
        Ok(Some(CustomerDisplay {
            sender: Some(sender),
            worker: Some(worker),
            shown: std::cell::RefCell::new(None),
        }))
    }

    /// Puts `screen` on the display unless it is already there.
    pub fn show(&self, screen: Screen) {
        if self.shown.borrow().as_ref() == Some(&screen) {
            return;
        }
        let Some(sender) = &self.sender else {
            return;
        };
        match sender.try_send(screen.clone()) {
            Ok(()) => *self.shown.borrow_mut() = Some(screen),
            Err(mpsc::TrySendError::Full(_)) => {
                eprintln!("pos-terminal: the customer display is behind; a frame was skipped");
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                eprintln!("pos-terminal: the customer display worker has stopped");
            }
        }
    }
}

impl Drop for CustomerDisplay {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            eprintln!("pos-terminal: the customer display worker stopped with a panic");
        }
    }
}

enum Device {
    Serial(PoleDisplay<SerialTransport>),
    File(PoleDisplay<DeviceFileTransport>),
}

impl Device {
    fn open(line: &DisplayLine) -> Result<Option<Device>, pos_printer::error::Error> {
        Ok(match line {
            DisplayLine::None => None,
            DisplayLine::Serial { path, baud } => Some(Device::Serial(PoleDisplay::open(
                SerialTransport::open(path, *baud)?,
                DISPLAY_CODE_PAGE,
            )?)),
            DisplayLine::DeviceFile { path } => Some(Device::File(PoleDisplay::open(
                DeviceFileTransport::open(path)?,
                DISPLAY_CODE_PAGE,
            )?)),
        })
    }

    fn show(&mut self, screen: &Screen) -> Result<(), pos_printer::error::Error> {
        match self {
            Device::Serial(display) => display.show(screen),
            Device::File(display) => display.show(screen),
        }
    }
}

fn run(line: &DisplayLine, frames: &mpsc::Receiver<Screen>) {
    let mut device: Option<Device> = None;
    let mut reported = false;
    while let Ok(screen) = frames.recv() {
        if device.is_none() {
            match Device::open(line) {
                Ok(opened) => {
                    device = opened;
                    reported = false;
                }
                Err(error) => {
                    if !reported {
                        eprintln!("pos-terminal: the customer display cannot be opened: {error}");
                        reported = true;
                    }
                    continue;
                }
            }
        }
        if let Some(open) = device.as_mut()
            && let Err(error) = open.show(&screen)
        {
            eprintln!("pos-terminal: the customer display stopped answering: {error}");
            device = None;
        }
    }
}
