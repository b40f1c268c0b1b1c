//! The receipt printer and the cash drawer as a service the till's events drive: receipts go
//! through `pos_printer`'s persistent [`PrintQueue`] to the configured transport (on a
//! desktop the [`SimulatedPrinter`], which files each receipt as PNG and text), and the drawer
//! is kicked with the full `ESC p` command on the printer's line. The same code runs for the
//! simulated and the real printer from the encoder down.
//!
//! Owns the printer worker thread, the queue folder and what the status bar says about the
//! printer. Never decides what to print or when the drawer opens: the till does, as
//! `pos_till::Effect`s, and [`EffectRunner`] is the one place that carries them out.
//!
//! Key decision: all printer IO happens on one worker thread, so a slow or absent printer
//! never holds the cashier's screen; the worker reports back through a callback (the screen
//! forwards it to the UI thread). New hardware settings ([`PeripheralService::apply`]) and
//! the shop's logo ([`PeripheralService::set_logo`]) reach the worker as commands between
//! two pieces of work: a receipt is never split between two printers, and what waits in the
//! queue prints on the printer set last. The logo is dithered there once for the paper's
//! width, not for every receipt.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::rc::Rc;

use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, ReceiptDestination};
use pos_core::id::SaleId;
use pos_core::receipt::Document;
use pos_printer::drawer::{DrawerAlert, DrawerConnection, DrawerKick, DrawerWatch, open_drawer};
use pos_printer::encode::{Paper, PrinterProfile};
use pos_printer::error::{Error as PrinterError, ErrorKind as PrinterErrorKind};
use pos_printer::queue::{Enqueued, PrintJob, PrintQueue, PumpReport, PumpSettings};
use pos_printer::raster::Raster;
use pos_printer::simulated::{HardwareEvent, SimulatedPrinter};
use pos_printer::status::{DrawerSense, PrinterStatus};
use pos_printer::transport::{
    DeviceFileTransport, Reconnecting, ReturnChannel, SerialTransport, TcpTransport, Transport,
    query_status,
};
use pos_till::{Effect, PrintPurpose};

use crate::config::{DrawerWatchSettings, PrinterLine};
use crate::ports::SharedStore;

/// How long the worker waits for work before it retries waiting jobs and asks the printer's
/// status again.
pub const IDLE_POLL: Duration = Duration::from_secs(2);
/// How long the status bar says the drawer is open after a kick (the simulated drawer is
/// pushed shut by then).
pub const DRAWER_NOTICE: Duration = Duration::from_secs(6);
/// How long the printer gets to answer a status query or accept a connection.
pub const PRINTER_TIMEOUT: Duration = Duration::from_millis(800);
/// How often the drawer sensor is read (`DLE EOT 1`) while the drawer is open.
pub const DRAWER_POLL: Duration = Duration::from_millis(250);

/// What the till asks of the hardware.
pub trait Peripherals {
    /// Prints `document` once: `job_id` (letters, digits, `-`, `_`) names the job, so asking
    /// again with the same id prints nothing more.
    fn print(&self, job_id: &str, document: Document);
    fn open_drawer(&self);
}

/// Carries out the till's effects: prints and drawer openings through the [`Peripherals`],
/// and a receipt asked for by email as a `ReceiptRequested` event in the store's journal, the
/// outbox the fleet sends it from once the till is online.
pub struct EffectRunner {
    peripherals: Rc<dyn Peripherals>,
    store: SharedStore,
    clock: fn() -> Timestamp,
}

impl EffectRunner {
    pub fn new(
        peripherals: Rc<dyn Peripherals>,
        store: SharedStore,
        clock: fn() -> Timestamp,
    ) -> EffectRunner {
        EffectRunner {
            peripherals,
            store,
            clock,
        }
    }

    /// Carries out one effect. A receipt that cannot be queued for email is reported in the
    /// log; the sale itself is already safe in the store.
    pub fn run(&self, effect: Effect) {
        match effect {
            Effect::OpenDrawer => self.peripherals.open_drawer(),
            Effect::Print { document, purpose } => {
                // A job id of its own for every print the till asks for: a copy printed later
                // is a new job, and the queue never prints one job twice.
                let now = (self.clock)().unix_ms();
                let unique = pos_store::journal::ulid(now).unwrap_or_else(|_| now.to_string());
                self.peripherals
                    .print(&format!("{}-{unique}", job_kind(purpose)), document);
            }
            Effect::EmailReceipt { sale, address } => {
                if let Err(error) = self.request_receipt(&sale, &address) {
                    eprintln!(
                        "pos-terminal: the email receipt of sale {sale} was not queued: {error}"
                    );
                }
            }
        }
    }

    fn request_receipt(&self, sale: &SaleId, address: &str) -> Result<(), String> {
        let destination = ReceiptDestination::email(address).map_err(|e| e.to_string())?;
        let mut store = self.store.borrow_mut();
        let sale = store
            .sale(sale)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the sale is not in the store".to_owned())?;
        store
            .record(
                &sale.cashier,
                (self.clock)(),
                &[DomainEvent::ReceiptRequested {
                    sale: sale.id.clone(),
                    receipt: sale.receipt_number.clone(),
                    destination,
                }],
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The first part of a print job's id: what it is, for a technician reading the queue folder.
fn job_kind(purpose: PrintPurpose) -> &'static str {
    match purpose {
        PrintPurpose::Receipt => "sale",
        PrintPurpose::GiftReceipt => "gift",
        PrintPurpose::Copy => "copy",
        PrintPurpose::XReport => "x-report",
        PrintPurpose::ZReport => "z-report",
        PrintPurpose::Refund => "refund",
    }
}

/// What the status bar shows about the printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterState {
    Ready,
    /// Printing, with something to get ready for ("The receipt roll is nearly used up").
    Warning(String),
    /// Not printing: paper out, cover open, jammed. Receipts wait in the queue.
    Problem(String),
    /// Nothing answers on the configured line. Receipts wait in the queue.
    NoPrinter,
}

impl PrinterState {
    /// The status bar's short text.
    pub fn label(&self) -> &str {
        match self {
            PrinterState::Ready => "Printer ready",
            PrinterState::Warning(_) => "Paper low",
            PrinterState::Problem(text) => text,
            PrinterState::NoPrinter => "No printer",
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self, PrinterState::Ready | PrinterState::Warning(_))
    }

    /// What a printer that answered `status` to its status queries is up to.
    pub fn of_status(status: &PrinterStatus) -> PrinterState {
        match (status.problem(), status.warning()) {
            (Some(problem), _) => {
                PrinterState::Problem(short_problem(&PrinterError::Printer(problem)))
            }
            (None, Some(warning)) => PrinterState::Warning(warning.to_owned()),
            (None, None) => PrinterState::Ready,
        }
    }
}

/// What the printer on the line said when the worker asked it how it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterAnswer {
    /// No receipt printer is configured.
    NotConfigured,
    /// It answered the real-time status queries (`DLE EOT 1..4`).
    Status {
        printer: String,
        status: PrinterStatus,
    },
    /// Its line carries no answers (a device file), and the line opened.
    Connected { printer: String },
    /// Nothing answered on the line; `error` says what the driver met, for the log.
    Silent { printer: String, error: String },
    /// The configured printer could not be set up at all (the simulated printer's folder).
    CannotStart { printer: String },
}

/// What the worker tells the screen after each piece of work, and when the printer's state
/// changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterReport {
    pub state: PrinterState,
    /// Set while the drawer is open: "Cash drawer open".
    pub drawer_open: bool,
    /// Jobs printed and confirmed by this piece of work.
    pub printed: Vec<String>,
    /// Jobs whose bytes went out unconfirmed: the cashier must say whether they printed.
    pub uncertain: Vec<String>,
    /// Receipts waiting for the printer.
    pub waiting: usize,
    /// Files the simulated printer wrote (text, PNG) for receipts just cut.
    pub filed: Vec<PathBuf>,
    /// Set while the drawer has been open longer than allowed, in the cashier's words.
    pub drawer_alert: Option<String>,
    /// What the worker found on the printer's line just after new hardware settings.
    pub check: Option<PrinterCheck>,
}

/// Whether the printer just set up answers, in a manager's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterCheck {
    /// "The receipt printer at 192.168.1.50:9100 answers; receipts print there from now on."
    Ready(String),
    /// "The receipt printer at /dev/ttyUSB0 does not answer. …": receipts wait in the queue.
    NotReady(String),
}

impl PrinterReport {
    /// The status bar's printer text, the drawer first while it is open.
    pub fn status_text(&self) -> String {
        let mut text = if self.drawer_open {
            format!("Cash drawer open · {}", self.state.label())
        } else {
            self.state.label().to_owned()
        };
        if self.waiting > 0 {
            text.push_str(&format!(" · {} waiting", self.waiting));
        }
        if !self.uncertain.is_empty() {
            text.push_str(" · check the last receipt");
        }
        text
    }
}

/// Where the queue lives and what it prints on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeripheralSettings {
    pub queue_dir: PathBuf,
    /// Where the simulated printer files receipts unless the configuration names a folder.
    pub receipts_dir: PathBuf,
    pub line: PrinterLine,
    pub paper: Paper,
    pub drawer: DrawerKick,
    /// When the checkout warns about an open drawer; when the simulated drawer shuts.
    pub drawer_watch: DrawerWatchSettings,
}

impl PeripheralSettings {
    /// The printer, drawer and drawer watch `config` names, with the print queue and filed
    /// receipts in `data`.
    pub fn of(data: &crate::terminal::DataDir, config: &crate::config::TerminalConfig) -> Self {
        PeripheralSettings {
            queue_dir: data.print_queue(),
            receipts_dir: data.receipts(),
            line: config.printer.line.clone(),
            paper: config.printer.paper,
            drawer: config.drawer,
            drawer_watch: config.drawer_watch,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeripheralError {
    #[error(transparent)]
    Queue(#[from] PrinterError),
    #[error("the printer worker could not start: {0}")]
    Thread(std::io::Error),
}

enum Command {
    Print(PrintJob),
    OpenDrawer,
    Raw {
        job_id: String,
        bytes: Vec<u8>,
    },
    /// The shop's logo (a PNG) for every receipt from now on; `None`: no logo.
    Logo(Option<Vec<u8>>),
    /// New printer and drawer settings; the queue stays where it is.
    Apply(Box<PeripheralSettings>),
    /// Ask the printer how it is and send its answer back.
    AskStatus(mpsc::Sender<PrinterAnswer>),
    /// Finish the work in hand and end the worker.
    Stop,
}

/// The printer and drawer on their worker thread. Dropping it lets the worker finish what
/// it is doing and stop, whether or not [`PrinterProbe`]s are still around.
pub struct PeripheralService {
    sender: mpsc::Sender<Command>,
    worker: Option<JoinHandle<()>>,
}

/// Asks the printer worker, from any thread, how the printer is. The worker owns the line:
/// a serial port is opened exclusively and many network printers take one connection at a
/// time, so nobody else may open it to ask.
#[derive(Clone)]
pub struct PrinterProbe {
    sender: mpsc::Sender<Command>,
}

impl PrinterProbe {
    /// The printer's answer, or `None` when the worker did not send one within `wait`
    /// (it was busy printing, or has stopped).
    pub fn ask(&self, wait: Duration) -> Option<PrinterAnswer> {
        let (reply, answer) = mpsc::channel();
        self.sender.send(Command::AskStatus(reply)).ok()?;
        answer.recv_timeout(wait).ok()
    }
}

impl PeripheralService {
    /// Opens the queue (jobs from the last run are printed first) and starts the worker;
    /// `report` is called on the worker thread.
    pub fn start(
        settings: PeripheralSettings,
        report: impl Fn(PrinterReport) + Send + 'static,
    ) -> Result<PeripheralService, PeripheralError> {
        PeripheralService::start_with_logo(settings, None, report)
    }

    /// [`PeripheralService::start`] with the shop's logo (a PNG) on every receipt from the
    /// first, those left in the queue from the last run included.
    pub fn start_with_logo(
        settings: PeripheralSettings,
        logo_png: Option<Vec<u8>>,
        report: impl Fn(PrinterReport) + Send + 'static,
    ) -> Result<PeripheralService, PeripheralError> {
        let queue = PrintQueue::open(&settings.queue_dir)?;
        let (sender, receiver) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("printer".to_owned())
            .spawn(move || {
                let mut worker = Worker::new(settings, queue);
                worker.set_logo(logo_png);
                worker.run(&receiver, &report)
            })
            .map_err(PeripheralError::Thread)?;
        Ok(PeripheralService {
            sender,
            worker: Some(worker),
        })
    }

    /// A handle that asks the worker how the printer is, usable from any thread.
    pub fn probe(&self) -> PrinterProbe {
        PrinterProbe {
            sender: self.sender.clone(),
        }
    }

    /// Prints `png` (the shop's logo, checked by the back office) at the top of every
    /// receipt from now on, receipts already waiting included; `None` prints none.
    pub fn set_logo(&self, png: Option<Vec<u8>>) {
        self.send(Command::Logo(png));
    }

    /// Prints and kicks the drawer as `settings` say from the next piece of work on: the
    /// printer's line is opened anew and asked whether it answers (the next report carries
    /// the [`PrinterCheck`]), and receipts waiting in the queue print there. The queue's
    /// folder stays the one the service started with.
    pub fn apply(&self, settings: PeripheralSettings) {
        self.send(Command::Apply(Box::new(settings)));
    }

    /// Sends finished ESC/POS bytes (the service screen's test page) to the printer as they
    /// are, outside the print queue.
    pub fn print_raw(&self, job_id: &str, bytes: Vec<u8>) {
        self.send(Command::Raw {
            job_id: job_id.to_owned(),
            bytes,
        });
    }

    fn send(&self, command: Command) {
        if self.sender.send(command).is_err() {
            eprintln!("pos-terminal: the printer worker has stopped; the job was not taken");
        }
    }
}

impl Peripherals for PeripheralService {
    fn print(&self, job_id: &str, document: Document) {
        self.send(Command::Print(PrintJob {
            id: job_id.to_owned(),
            document,
            kick: None,
        }));
    }

    fn open_drawer(&self) {
        self.send(Command::OpenDrawer);
    }
}

impl Drop for PeripheralService {
    fn drop(&mut self) {
        // Probes hold the channel open, so the worker is told to stop rather than left to
        // notice the channel close. It stops after the commands already sent.
        self.send(Command::Stop);
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            eprintln!("pos-terminal: the printer worker stopped with a panic");
        }
    }
}

/// The printer's line as the worker holds it.
enum Line {
    Simulated(Box<SimulatedPrinter>),
    Device(Box<dyn Transport + Send>),
    /// Configured, but it could not be set up.
    Absent,
    NotConfigured,
}

impl Line {
    fn open(settings: &PeripheralSettings) -> Line {
        match &settings.line {
            PrinterLine::Simulated { folder } => {
                let folder = folder
                    .clone()
                    .unwrap_or_else(|| settings.receipts_dir.clone());
                match SimulatedPrinter::new(&folder, settings.paper) {
                    Ok(printer) => Line::Simulated(Box::new(printer)),
                    Err(error) => {
                        eprintln!("pos-terminal: the simulated printer cannot start: {error}");
                        Line::Absent
                    }
                }
            }
            PrinterLine::Tcp { address } => {
                let address = address.clone();
                Line::Device(Box::new(Reconnecting::new(
                    &format!("tcp {address}"),
                    ReturnChannel::Bidirectional,
                    move || connect_tcp(&address),
                )))
            }
            PrinterLine::Serial { path, baud } => {
                let (path, baud) = (path.clone(), *baud);
                Line::Device(Box::new(Reconnecting::new(
                    &path.clone(),
                    ReturnChannel::Bidirectional,
                    move || SerialTransport::open(&path, baud),
                )))
            }
            PrinterLine::DeviceFile { path } => {
                let path = path.clone();
                Line::Device(Box::new(Reconnecting::new(
                    &path.clone(),
                    ReturnChannel::WriteOnly,
                    move || DeviceFileTransport::open(&path),
                )))
            }
            PrinterLine::Usb {
                vendor_id,
                product_id,
            } => {
                use pos_printer::transport::usb::{UsbSelector, UsbTransport};
                let selector = UsbSelector::VidPid {
                    vendor_id: *vendor_id,
                    product_id: *product_id,
                };
                Line::Device(Box::new(Reconnecting::new(
                    &format!("USB {vendor_id:04x}:{product_id:04x}"),
                    ReturnChannel::Bidirectional,
                    move || UsbTransport::open(selector, PRINTER_TIMEOUT),
                )))
            }
            PrinterLine::None => Line::NotConfigured,
        }
    }

    fn transport(&mut self) -> Option<&mut dyn Transport> {
        match self {
            Line::Simulated(printer) => Some(printer.as_mut()),
            Line::Device(transport) => Some(transport.as_mut()),
            Line::Absent | Line::NotConfigured => None,
        }
    }
}

fn connect_tcp(address: &str) -> Result<TcpTransport, PrinterError> {
    use std::net::ToSocketAddrs;
    let not_found = |detail: String| PrinterError::NotFound {
        device: format!("tcp {address}"),
        detail,
    };
    let peer = address
        .to_socket_addrs()
        .map_err(|e| not_found(e.to_string()))?
        .next()
        .ok_or_else(|| not_found("the name has no address".to_owned()))?;
    TcpTransport::connect(peer, PRINTER_TIMEOUT)
}

/// The printer as the worker thread owns it.
struct Worker {
    queue: PrintQueue,
    line: Line,
    pump: PumpSettings,
    kick: DrawerKick,
    state: PrinterState,
    drawer_open_since: Option<Instant>,
    last_report: Option<PrinterReport>,
    watch: DrawerWatch,
    watch_settings: DrawerWatchSettings,
    /// The drawer watch's clock: milliseconds since the worker started.
    started: Instant,
    drawer_alert: Option<String>,
    /// The shop's logo as given; `pump.profile.logo` is it dithered for the paper.
    logo_png: Option<Vec<u8>>,
    /// What the last change of settings found, for the next report.
    check: Option<PrinterCheck>,
    /// The printer on the line, as a manager recognises it.
    printer: String,
}

impl Worker {
    fn new(settings: PeripheralSettings, queue: PrintQueue) -> Worker {
        Worker {
            queue,
            line: Line::open(&settings),
            pump: PumpSettings {
                profile: PrinterProfile::new(settings.paper),
                drawer_sense: DrawerSense::OpenWhenHigh,
                status_timeout: PRINTER_TIMEOUT,
            },
            kick: settings.drawer,
            state: PrinterState::NoPrinter,
            drawer_open_since: None,
            last_report: None,
            watch: DrawerWatch::new(
                i64::try_from(settings.drawer_watch.open_alert.as_millis()).unwrap_or(i64::MAX),
            ),
            watch_settings: settings.drawer_watch,
            started: Instant::now(),
            drawer_alert: None,
            logo_png: None,
            check: None,
            printer: printer_name(&settings),
        }
    }

    /// One reading of the drawer sensor into the watch, raising or clearing the alert.
    fn observe_drawer(&mut self, open: bool) {
        let now_ms = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match self.watch.observe(open, now_ms) {
            Some(DrawerAlert::LeftOpen { .. }) => {
                self.drawer_alert = Some(drawer_alert_text(self.watch_settings.open_alert));
            }
            Some(DrawerAlert::ClosedAgain { .. }) => self.drawer_alert = None,
            None => {}
        }
    }

    /// Read the sensor often while the drawer is open, so the alert comes on time.
    fn poll_interval(&self) -> Duration {
        if self.watch.is_open() || self.drawer_open_since.is_some() {
            DRAWER_POLL
        } else {
            IDLE_POLL
        }
    }

    fn run(mut self, commands: &mpsc::Receiver<Command>, report: &dyn Fn(PrinterReport)) {
        // Jobs left from the last run print first.
        let mut work = self.pump_now();
        loop {
            self.send(work, report);
            work = match commands.recv_timeout(self.poll_interval()) {
                Ok(Command::Print(job)) => self.print(&job),
                Ok(Command::OpenDrawer) => self.kick(),
                Ok(Command::Raw { job_id, bytes }) => self.raw(&job_id, &bytes),
                Ok(Command::Logo(png)) => {
                    self.set_logo(png);
                    Work::default()
                }
                Ok(Command::Apply(settings)) => self.apply(*settings),
                Ok(Command::AskStatus(reply)) => {
                    // An asker that stopped waiting needs the answer no more.
                    reply.send(self.ask()).ok();
                    self.collect(Work::default())
                }
                Ok(Command::Stop) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => self.idle(),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
        }
    }

    /// Reports work done, and changes of state even when nothing was printed.
    fn send(&mut self, work: Work, report: &dyn Fn(PrinterReport)) {
        let next = PrinterReport {
            state: self.state.clone(),
            drawer_open: self.drawer_open_since.is_some() || self.watch.is_open(),
            printed: work.printed,
            uncertain: work.uncertain,
            waiting: self.queue.pending().map(|p| p.len()).unwrap_or(0),
            filed: work.filed,
            drawer_alert: self.drawer_alert.clone(),
            check: self.check.take(),
        };
        let quiet = next.printed.is_empty()
            && next.uncertain.is_empty()
            && next.filed.is_empty()
            && next.check.is_none();
        if quiet && self.last_report.as_ref() == Some(&next) {
            return;
        }
        self.last_report = Some(next.clone());
        report(next);
    }

    fn print(&mut self, job: &PrintJob) -> Work {
        match self.queue.enqueue(job) {
            Ok(Enqueued::Added | Enqueued::AlreadyKnown) => self.pump_now(),
            Err(error) => {
                eprintln!(
                    "pos-terminal: receipt {} could not be queued: {error}",
                    job.id
                );
                self.state = PrinterState::Problem("Print queue full or unwritable".to_owned());
                Work::default()
            }
        }
    }

    fn kick(&mut self) -> Work {
        let connection = DrawerConnection::ThroughPrinter(self.kick);
        let Some(transport) = self.line.transport() else {
            self.state = PrinterState::NoPrinter;
            return Work::default();
        };
        match open_drawer(transport, &connection) {
            Ok(()) => self.drawer_open_since = Some(Instant::now()),
            Err(error) => {
                eprintln!("pos-terminal: the cash drawer did not open: {error}");
                self.state = state_of(&error);
            }
        }
        self.collect(Work::default())
    }

    /// Sends finished bytes (the service screen's test page) straight to the line, outside
    /// the queue: a test page is never reprinted after a restart.
    fn raw(&mut self, job_id: &str, bytes: &[u8]) -> Work {
        let Some(transport) = self.line.transport() else {
            self.state = PrinterState::NoPrinter;
            return Work::default();
        };
        match transport.write_all(bytes) {
            Ok(()) => self.state = PrinterState::Ready,
            Err(error) => {
                eprintln!("pos-terminal: {job_id} did not print: {error}");
                self.state = state_of(&error);
            }
        }
        self.collect(Work::default())
    }

    /// Retries waiting jobs, or just asks the printer how it is (the drawer sensor with it);
    /// lets the drawer notice go.
    fn idle(&mut self) -> Work {
        let simulated = matches!(self.line, Line::Simulated(_));
        // A real drawer reports itself through the sensor; the notice only covers lines
        // without one. The simulated drawer shuts when configured to.
        let notice = if simulated {
            self.watch_settings.simulated_close
        } else {
            Some(DRAWER_NOTICE)
        };
        if let Some(since) = self.drawer_open_since
            && notice.is_some_and(|after| since.elapsed() >= after)
        {
            self.drawer_open_since = None;
            if let Line::Simulated(printer) = &mut self.line {
                // The simulated cashier pushes the drawer shut.
                let mut status = printer.status();
                status.drawer_open = false;
                printer.set_status(status);
            }
        }
        let waiting = self.queue.pending().map(|p| !p.is_empty()).unwrap_or(false);
        if waiting {
            return self.pump_now();
        }
        self.ask();
        self.collect(Work::default())
    }

    /// Asks the printer on the line how it is (`DLE EOT 1..4`; on a line that carries no
    /// answers, whether it opens) and notes its state and the drawer's.
    fn ask(&mut self) -> PrinterAnswer {
        let printer = self.printer.clone();
        let Some(transport) = self.line.transport() else {
            self.state = PrinterState::NoPrinter;
            return match self.line {
                Line::NotConfigured => PrinterAnswer::NotConfigured,
                _ => PrinterAnswer::CannotStart { printer },
            };
        };
        let answer = match query_status(transport, self.pump.drawer_sense, self.pump.status_timeout)
        {
            // A write-only line cannot answer; opening it is all there is to check.
            Ok(None) => transport.write_all(&[]).map(|()| None),
            other => other,
        };
        match answer {
            Ok(Some(status)) => {
                self.observe_drawer(status.drawer_open);
                self.state = PrinterState::of_status(&status);
                PrinterAnswer::Status { printer, status }
            }
            Ok(None) => {
                self.state = PrinterState::Ready;
                PrinterAnswer::Connected { printer }
            }
            Err(error) => {
                self.state = state_of(&error);
                PrinterAnswer::Silent {
                    printer,
                    error: error.to_string(),
                }
            }
        }
    }

    /// Takes the shop's logo; a logo it already has is not dithered again.
    fn set_logo(&mut self, png: Option<Vec<u8>>) {
        if png != self.logo_png {
            self.logo_png = png;
            self.pump.profile.logo = self.dithered_logo();
        }
    }

    /// The logo dithered for the paper: scaled down to its width when wider.
    fn dithered_logo(&self) -> Option<Raster> {
        let png = self.logo_png.as_deref()?;
        Raster::from_png(png, self.pump.profile.paper.width_dots)
            .map_err(|error| eprintln!("pos-terminal: the receipt logo is not printed: {error}"))
            .ok()
    }

    /// Opens the line `settings` name instead of the current one, takes their paper and
    /// drawer, checks the line and prints what waits.
    fn apply(&mut self, settings: PeripheralSettings) -> Work {
        // The old connection is closed before the new one opens: the same USB printer or
        // serial port may be named again.
        self.line = Line::Absent;
        self.line = Line::open(&settings);
        if settings.paper != self.pump.profile.paper {
            self.pump.profile = PrinterProfile::new(settings.paper);
            self.pump.profile.logo = self.dithered_logo();
        }
        self.kick = settings.drawer;
        if settings.drawer_watch.open_alert != self.watch_settings.open_alert {
            self.watch = DrawerWatch::new(
                i64::try_from(settings.drawer_watch.open_alert.as_millis()).unwrap_or(i64::MAX),
            );
            self.drawer_alert = None;
        }
        self.watch_settings = settings.drawer_watch;
        self.printer = printer_name(&settings);
        self.check = Some(self.check_line());
        let waiting = self.queue.pending().map(|p| !p.is_empty()).unwrap_or(false);
        if waiting {
            self.pump_now()
        } else {
            self.collect(Work::default())
        }
    }

    /// Asks the printer on the line whether it is there and ready, in a manager's words.
    fn check_line(&mut self) -> PrinterCheck {
        match self.ask() {
            PrinterAnswer::NotConfigured => PrinterCheck::Ready(
                "No receipt printer is set: receipts wait in the print queue.".to_owned(),
            ),
            PrinterAnswer::CannotStart { printer } => PrinterCheck::NotReady(format!(
                "{printer} cannot start; receipts wait in the print queue."
            )),
            PrinterAnswer::Status { printer, status } => match status.problem() {
                Some(problem) => PrinterCheck::NotReady(format!(
                    "{printer} answers but is not ready ({}); receipts wait in the print queue until it is.",
                    short_problem(&PrinterError::Printer(problem)).to_lowercase()
                )),
                None => PrinterCheck::Ready(format!(
                    "{printer} answers; receipts print there from now on."
                )),
            },
            PrinterAnswer::Connected { printer } => PrinterCheck::Ready(format!(
                "{printer} is connected; receipts print there from now on."
            )),
            PrinterAnswer::Silent { printer, error } => {
                eprintln!("pos-terminal: {printer} does not answer: {error}");
                PrinterCheck::NotReady(format!(
                    "{printer} does not answer. Check that it is switched on and its cable is in; receipts wait in the print queue until it answers."
                ))
            }
        }
    }

    fn pump_now(&mut self) -> Work {
        let Some(transport) = self.line.transport() else {
            self.state = PrinterState::NoPrinter;
            return Work::default();
        };
        match self.queue.pump(transport, &self.pump) {
            Ok(report) => {
                self.state = state_of_pump(&report);
                let work = Work {
                    printed: report.printed,
                    uncertain: report.uncertain,
                    filed: Vec::new(),
                };
                self.collect(work)
            }
            Err(error) => {
                eprintln!("pos-terminal: the print queue failed: {error}");
                self.state = state_of(&error);
                Work::default()
            }
        }
    }

    /// Picks up what the simulated printer filed and whether it saw a kick.
    fn collect(&mut self, mut work: Work) -> Work {
        if let Line::Simulated(printer) = &mut self.line {
            for event in printer.take_events() {
                match event {
                    HardwareEvent::ReceiptPrinted { text, png } => {
                        work.filed.push(text);
                        work.filed.push(png);
                    }
                    HardwareEvent::DrawerKicked(_) => {
                        self.drawer_open_since = Some(Instant::now());
                    }
                }
            }
        }
        work
    }
}

/// "The receipt printer at 192.168.1.50:9100", as a manager or technician recognises it
/// (the label printer is another).
fn printer_name(settings: &PeripheralSettings) -> String {
    match &settings.line {
        PrinterLine::Simulated { folder } => format!(
            "The simulated receipt printer filing receipts in {}",
            folder.as_ref().unwrap_or(&settings.receipts_dir).display()
        ),
        PrinterLine::Tcp { address } => format!("The receipt printer at {address}"),
        PrinterLine::Serial { path, .. } | PrinterLine::DeviceFile { path } => {
            format!("The receipt printer at {path}")
        }
        PrinterLine::Usb {
            vendor_id,
            product_id,
        } => format!("The USB receipt printer {vendor_id:04x}:{product_id:04x}"),
        PrinterLine::None => "No receipt printer".to_owned(),
    }
}

/// "The cash drawer has been open for more than 1 min. …": the checkout's alert.
pub fn drawer_alert_text(limit: Duration) -> String {
    let seconds = limit.as_secs().max(1);
    let limit = if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    };
    format!(
        "The cash drawer has been open for more than {limit}. Close it; if it will not shut, call a supervisor."
    )
}

#[derive(Default)]
struct Work {
    printed: Vec<String>,
    uncertain: Vec<String>,
    filed: Vec<PathBuf>,
}

fn state_of_pump(report: &PumpReport) -> PrinterState {
    match (&report.waiting, report.warning) {
        (Some(error), _) => state_of(error),
        (None, Some(warning)) => PrinterState::Warning(warning.to_owned()),
        (None, None) => PrinterState::Ready,
    }
}

fn state_of(error: &PrinterError) -> PrinterState {
    match error.kind() {
        PrinterErrorKind::Timeout | PrinterErrorKind::Disconnected | PrinterErrorKind::NotFound => {
            PrinterState::NoPrinter
        }
        _ => PrinterState::Problem(short_problem(error)),
    }
}

/// The status bar has room for a few words; the long sentence goes to the log.
fn short_problem(error: &PrinterError) -> String {
    match error.kind() {
        PrinterErrorKind::PaperOut => "Paper out".to_owned(),
        PrinterErrorKind::CoverOpen => "Printer cover open".to_owned(),
        PrinterErrorKind::Offline => "Printer offline".to_owned(),
        PrinterErrorKind::Fault => "Printer fault".to_owned(),
        PrinterErrorKind::Storage => "Print queue unwritable".to_owned(),
        PrinterErrorKind::Timeout | PrinterErrorKind::Disconnected | PrinterErrorKind::NotFound => {
            "No printer".to_owned()
        }
        PrinterErrorKind::Request => "Printer error".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_text_leads_with_the_drawer_and_counts_waiting_receipts() {
        let mut report = PrinterReport {
            state: PrinterState::Ready,
            drawer_open: true,
            printed: Vec::new(),
            uncertain: Vec::new(),
            waiting: 0,
            filed: Vec::new(),
            drawer_alert: None,
            check: None,
        };
        assert_eq!(report.status_text(), "Cash drawer open · Printer ready");
        report.drawer_open = false;
        report.state = PrinterState::Problem("Paper out".to_owned());
        report.waiting = 2;
        assert_eq!(report.status_text(), "Paper out · 2 waiting");
        assert!(!report.state.is_ready());
        report.state = PrinterState::NoPrinter;
        report.waiting = 0;
        report.uncertain = vec!["sale-T1-000001".to_owned()];
        assert_eq!(report.status_text(), "No printer · check the last receipt");
    }
}
