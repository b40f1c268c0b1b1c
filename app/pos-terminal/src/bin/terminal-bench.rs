//! `terminal-bench`: the terminal as a cashier sees it, measured. The real window (`AppWindow`)
//! is rendered offscreen at 1280×800 by Slint's software renderer, over the terminal's own
//! start (`screen::start_till`: the encrypted store, the till, the status bar, the simulated
//! printer) and a catalogue of generated products.
//!
//! ```text
//! cargo run --release -p pos-terminal --bin terminal-bench -- [--products N] [--scans N] [--sales N] [--data DIR] [--frames LIST]
//! ```
//!
//! Frames are drawn in one or more of these ways (`--frames`, comma-separated; all by default),
//! each in its own run:
//! - `snapshot`: the testing backend's `take_snapshot`, as the screenshot tests take them:
//!   every pixel into a new buffer, then converted from premultiplied alpha;
//! - `new`, `swapped`, `reused`: the window's own software renderer (a `MinimalSoftwareWindow`)
//!   into XRGB8888 buffers kept from frame to frame, as Slint's LinuxKMS backend hands them
//!   to it on the appliance, with the `RepaintBufferType` it picks from the buffer's age:
//!   `new` redraws every pixel (DRM dumb buffers: LinuxKMS rotates three, so each comes back
//!   three frames old), `swapped` what changed in this and the frame before (two buffers),
//!   `reused` only what changed (the legacy framebuffer: one buffer, copied out).
//!
//! A new store is seeded first (the demo shop, then `--products` generated products with
//! opening stock through the CSV import, 100,000 per transaction); everything else runs in a
//! fresh process on it, as a terminal starts after a reboot:
//! 1. cold start: from starting the process to the login screen's first rendered frame;
//! 2. `--scans` scans (sales of 20 lines, paid in cash), each handed over exactly as the
//!    scanner thread hands a scan to the UI thread, then the event loop's turn and a rendered
//!    frame; a scan counts as shown when the cart's model has the new line, its row lies
//!    inside the cart list's visible area and the frame has the row's text in that place;
//! 3. the time to render each frame of the checkout after a change (and, for kept buffers,
//!    the share of the window redrawn);
//! 4. an hour-like session of `--sales` sales (scans, searches typed letter by letter, holds
//!    and resumes, card and cash, printed receipts, a refund every 100 sales), a frame rendered
//!    after every step, then VmRSS and VmHWM from `/proc/self/status`.
//!
//! Figures only; nothing is asserted beyond the script working. CI builds it, never runs it.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_core::cart::LineNo;
use pos_core::id::{DeviceId, HeldCartId, UserId};
use pos_core::quantity::Quantity;
use pos_store::Store;
use pos_store::csv_io::{ImportMode, ImportOptions};
use pos_store::sample::{ean13, import_catalogue};
use pos_terminal::config::TerminalConfig;
use pos_terminal::scanner::Delivery;
use pos_terminal::screen::{Running, deliver_scan, start_till};
use pos_terminal::seed::{SETUP_USER, seed_demo_shop};
use pos_terminal::terminal::DataDir;
use pos_till::view::Screen;
use pos_till::{Intent, ReceiptIntent, ShiftIntent, TenderChoice};
use pos_ui::{AppWindow, CartAdapter, Page, SessionAdapter, system_now};
use slint::platform::software_renderer::{
    MinimalSoftwareWindow, PremultipliedRgbaColor, RepaintBufferType, TargetPixel,
};
use slint::platform::{EventLoopProxy, Platform, WindowAdapter};
use slint::{ComponentHandle, EventLoopError, Model, PlatformError, Rgba8Pixel, SharedPixelBuffer};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;
/// Lines per sale while scans are timed.
const LINES_PER_TIMED_SALE: u64 = 20;
/// What the child prints the moment the login screen's first frame is rendered.
const FIRST_FRAME: &str = "first frame rendered";

/// How the window's frames are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frames {
    /// The testing backend's `take_snapshot`: every pixel into a new buffer, then converted
    /// from premultiplied alpha.
    Snapshot,
    /// The window's own software renderer into buffers kept from frame to frame, as the
    /// LinuxKMS backend drives it.
    Kept(RepaintBufferType),
}

impl Frames {
    const ALL: [Frames; 4] = [
        Frames::Snapshot,
        Frames::Kept(RepaintBufferType::NewBuffer),
        Frames::Kept(RepaintBufferType::SwappedBuffers),
        Frames::Kept(RepaintBufferType::ReusedBuffer),
    ];

    fn name(self) -> &'static str {
        match self {
            Frames::Snapshot => "snapshot",
            Frames::Kept(RepaintBufferType::NewBuffer) => "new",
            Frames::Kept(RepaintBufferType::SwappedBuffers) => "swapped",
            Frames::Kept(RepaintBufferType::ReusedBuffer) => "reused",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Frames::Snapshot => {
                "whole frames by take_snapshot (a new buffer each time, converted from premultiplied alpha), as the screenshot tests take them"
            }
            Frames::Kept(RepaintBufferType::NewBuffer) => {
                "whole frames into a kept XRGB8888 buffer (RepaintBufferType::NewBuffer), as LinuxKMS draws on DRM dumb buffers (three, each three frames old when it comes back)"
            }
            Frames::Kept(RepaintBufferType::SwappedBuffers) => {
                "partial redraws into two kept XRGB8888 buffers in turn (RepaintBufferType::SwappedBuffers: what changed in this frame and the one before)"
            }
            Frames::Kept(RepaintBufferType::ReusedBuffer) => {
                "partial redraws into one kept XRGB8888 buffer (RepaintBufferType::ReusedBuffer: only what changed), as LinuxKMS draws on the legacy framebuffer"
            }
        }
    }

    fn parse(name: &str) -> anyhow::Result<Frames> {
        Frames::ALL
            .into_iter()
            .find(|frames| frames.name() == name)
            .with_context(|| {
                format!("--frames takes snapshot, new, swapped or reused, not `{name}`")
            })
    }
}

struct Options {
    products: u64,
    scans: u64,
    sales: u64,
    data: Option<PathBuf>,
    /// One run for each, in this order.
    frames: Vec<Frames>,
    /// Set in the child process that measures on the seeded store.
    measure: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        products: 100_000,
        scans: 1_000,
        sales: 300,
        data: None,
        frames: Frames::ALL.to_vec(),
        measure: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if flag == "--measure" {
            options.measure = true;
            continue;
        }
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        let count = || {
            value
                .parse::<u64>()
                .with_context(|| format!("{flag} takes a count"))
        };
        match flag.as_str() {
            "--products" => options.products = count()?.max(1),
            "--scans" => options.scans = count()?,
            "--sales" => options.sales = count()?,
            "--data" => options.data = Some(PathBuf::from(value)),
            "--frames" => {
                options.frames = value
                    .split(',')
                    .map(|name| Frames::parse(name.trim()))
                    .collect::<anyhow::Result<_>>()?;
            }
            other => {
                bail!(
                    "unknown argument `{other}`; use --products N --scans N --sales N --data DIR --frames snapshot,new,swapped,reused"
                )
            }
        }
    }
    Ok(options)
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let options = options()?;
    match &options.data {
        Some(dir) if options.measure => measure(&options, &DataDir::new(dir), started),
        _ => seed_then_measure(&options),
    }
}

/// A line of /proc/self/status in kB, such as VmRSS.
fn proc_status_kb(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("/proc/self/status has no {field}"))
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// Durations of one kind, reported as count, p50, p99 and max.
#[derive(Default)]
struct Samples(Vec<Duration>);

/// The value that a share `p` (0..=1) of `values` is at or below: `p = 0.5` the median.
fn percentile<T: Copy + Ord + Default>(values: &[T], p: f64) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

impl Samples {
    fn percentile(&self, p: f64) -> Duration {
        percentile(&self.0, p)
    }

    fn row(&self, what: &str) -> String {
        format!(
            "| {what} | {} | {} | {} | {} |",
            self.0.len(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            ms(self.percentile(1.0))
        )
    }
}

/// Seeds a new store, then measures in a fresh process on it, so neither the seeding's memory
/// nor its warm caches count, and the start is a process start.
fn seed_then_measure(options: &Options) -> anyhow::Result<()> {
    let data = match &options.data {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("terminal-bench-{}", std::process::id())),
    };
    if data.join(pos_store::DATABASE_FILE).exists() {
        bail!(
            "{} already holds a store; give an empty --data directory",
            data.display()
        );
    }
    let seeding = Instant::now();
    {
        let now = system_now();
        let mut store = Store::open(&data, DeviceId::new("T1"))?;
        seed_demo_shop(&mut store, now, 0)?;
        let shop = pos_core::demo::store().map_err(|error| anyhow::anyhow!("{error}"))?;
        let import = ImportOptions {
            currency: shop.currency,
            store: shop.id,
            actor: UserId::new(SETUP_USER),
            now,
            mode: ImportMode::AllOrNothing,
        };
        import_catalogue(
            &mut store,
            1..options.products + 1,
            Some(Quantity::pieces(40)),
            &import,
        )?;
    }
    let size = std::fs::metadata(data.join(pos_store::DATABASE_FILE))?.len();
    println!(
        "terminal-bench: the demo shop and {} generated products with opening stock, seeded in {:.1} s ({:.0} MB); {WIDTH}×{HEIGHT}, software renderer",
        options.products,
        seeding.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    let mut measured = Ok(());
    for frames in &options.frames {
        measured = measure_in_child(options, &data, *frames);
        if measured.is_err() {
            break;
        }
    }
    if options.data.is_none() {
        std::fs::remove_dir_all(&data)
            .with_context(|| format!("cleaning up {}", data.display()))?;
    }
    measured
}

/// One measuring run on the seeded store in `data`, in a fresh process, its frames drawn as
/// `frames` says. Each run sells on from where the last one stopped.
fn measure_in_child(
    options: &Options,
    data: &std::path::Path,
    frames: Frames,
) -> anyhow::Result<()> {
    println!();
    println!("### frames: {}", frames.what());
    println!();
    let spawned = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--measure")
        .args(["--products", &options.products.to_string()])
        .args(["--scans", &options.scans.to_string()])
        .args(["--sales", &options.sales.to_string()])
        .args(["--frames", frames.name()])
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()?;
    let output = child
        .stdout
        .take()
        .context("the measuring run has no output")?;
    for line in BufReader::new(output).lines() {
        let line = line?;
        if line == FIRST_FRAME {
            println!(
                "| cold start: process started → login screen's first frame rendered | {} |",
                ms(spawned.elapsed())
            );
        } else {
            println!("{line}");
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("the measuring run ({}) failed: {status}", frames.name());
    }
    Ok(())
}

/// The terminal on the offscreen window, and what was measured so far.
struct Bench {
    window: AppWindow,
    running: Running,
    canvas: Canvas,
    /// Rendering one frame, by screen.
    checkout_frames: Samples,
    other_frames: Samples,
    /// The share of the window's pixels each checkout frame redrew, in per mille.
    checkout_redrawn_permille: Vec<u32>,
    /// Steps after which nothing on screen had changed, so no frame was drawn.
    unchanged: u64,
    /// Sales made; refunds are made of these.
    receipts: Vec<String>,
}

/// Where frames are drawn, and the last one drawn.
enum Canvas {
    Snapshot {
        last: SharedPixelBuffer<Rgba8Pixel>,
    },
    Kept {
        window: Rc<MinimalSoftwareWindow>,
        /// One buffer, or two drawn in turn (`SwappedBuffers`).
        buffers: Vec<Vec<Xrgb8888>>,
        /// The buffer on screen: the one drawn last.
        shown: usize,
    },
}

impl Canvas {
    fn new(frames: Frames, window: Option<Rc<MinimalSoftwareWindow>>) -> anyhow::Result<Canvas> {
        let pixels = (WIDTH * HEIGHT) as usize;
        Ok(match (frames, window) {
            (Frames::Snapshot, _) => Canvas::Snapshot {
                last: SharedPixelBuffer::new(WIDTH, HEIGHT),
            },
            (Frames::Kept(kind), Some(window)) => Canvas::Kept {
                window,
                buffers: vec![
                    vec![Xrgb8888(0); pixels];
                    if kind == RepaintBufferType::SwappedBuffers {
                        2
                    } else {
                        1
                    }
                ],
                shown: 0,
            },
            (Frames::Kept(_), None) => bail!("kept buffers need the window they are drawn from"),
        })
    }

    /// The colour of the pixel at `x`, `y` of the frame on screen.
    fn rgb(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= WIDTH || y >= HEIGHT {
            return None;
        }
        let at = (y * WIDTH + x) as usize;
        match self {
            Canvas::Snapshot { last } => last.as_slice().get(at).map(|p| [p.r, p.g, p.b]),
            Canvas::Kept { buffers, shown, .. } => buffers
                .get(*shown)
                .and_then(|buffer| buffer.get(at))
                .map(|p| {
                    let [_, r, g, b] = p.0.to_be_bytes();
                    [r, g, b]
                }),
        }
    }
}

/// A pixel of the appliance's DRM dumb buffer (`Xrgb8888`, as LinuxKMS's software renderer
/// writes it: blended through premultiplied RGBA).
#[derive(Clone, Copy)]
struct Xrgb8888(u32);

impl From<Xrgb8888> for PremultipliedRgbaColor {
    fn from(pixel: Xrgb8888) -> PremultipliedRgbaColor {
        let [alpha, red, green, blue] = pixel.0.to_be_bytes();
        PremultipliedRgbaColor {
            red,
            green,
            blue,
            alpha,
        }
    }
}

impl TargetPixel for Xrgb8888 {
    fn blend(&mut self, color: PremultipliedRgbaColor) {
        let mut mixed = PremultipliedRgbaColor::from(*self);
        mixed.blend(color);
        *self = Xrgb8888(u32::from_be_bytes([
            mixed.alpha,
            mixed.red,
            mixed.green,
            mixed.blue,
        ]));
    }

    fn from_rgb(red: u8, green: u8, blue: u8) -> Xrgb8888 {
        Xrgb8888(u32::from_be_bytes([0xff, red, green, blue]))
    }

    fn background() -> Xrgb8888 {
        Xrgb8888(0)
    }
}

/// A platform with one window drawn by its own software renderer into buffers the benchmark
/// keeps (the LinuxKMS backend's way, without the display), and an event loop that runs what
/// other threads hand to it as the testing backend's does.
struct KeptBuffers {
    window: Rc<MinimalSoftwareWindow>,
    queue: LoopQueue,
}

enum LoopEvent {
    Quit,
    Run(Box<dyn FnOnce() + Send>),
}

#[derive(Clone)]
struct LoopQueue {
    events: Arc<Mutex<VecDeque<LoopEvent>>>,
    ui_thread: std::thread::Thread,
}

impl LoopQueue {
    fn push(&self, event: LoopEvent) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(event);
        self.ui_thread.unpark();
    }

    fn pop(&self) -> Option<LoopEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

impl EventLoopProxy for LoopQueue {
    fn quit_event_loop(&self) -> Result<(), EventLoopError> {
        self.push(LoopEvent::Quit);
        Ok(())
    }

    fn invoke_from_event_loop(
        &self,
        event: Box<dyn FnOnce() + Send>,
    ) -> Result<(), EventLoopError> {
        self.push(LoopEvent::Run(event));
        Ok(())
    }
}

impl Platform for KeptBuffers {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn run_event_loop(&self) -> Result<(), PlatformError> {
        loop {
            slint::platform::update_timers_and_animations();
            match self.queue.pop() {
                Some(LoopEvent::Quit) => return Ok(()),
                Some(LoopEvent::Run(event)) => event(),
                None => match slint::platform::duration_until_next_timer_update() {
                    Some(wait) => std::thread::park_timeout(wait),
                    None => std::thread::park(),
                },
            }
        }
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(self.queue.clone()))
    }
}

/// Lets the event loop run what is waiting (a scan from the scanner thread, the printer's
/// news, the status bar's timer), as it does before each frame.
fn event_loop_turn() -> anyhow::Result<()> {
    slint::quit_event_loop()?;
    slint::run_event_loop()?;
    Ok(())
}

impl Bench {
    /// One frame of the window as it is now, after the event loop's turn: the whole window,
    /// or with kept buffers what changed (nothing at all when nothing did).
    fn frame(&mut self) -> anyhow::Result<()> {
        event_loop_turn()?;
        let started = Instant::now();
        let redrawn_pixels = match &mut self.canvas {
            Canvas::Snapshot { last } => {
                *last = self.window.window().take_snapshot()?;
                if (last.width(), last.height()) != (WIDTH, HEIGHT) {
                    bail!("the frame is {}×{}", last.width(), last.height());
                }
                Some(u64::from(WIDTH * HEIGHT))
            }
            Canvas::Kept {
                window,
                buffers,
                shown,
            } => {
                let next = (*shown + 1) % buffers.len();
                let mut redrawn = None;
                if let Some(buffer) = buffers.get_mut(next) {
                    window.draw_if_needed(|renderer| {
                        let region = renderer.render(buffer, WIDTH as usize);
                        redrawn = Some(
                            region
                                .iter()
                                .map(|(_, size)| u64::from(size.width) * u64::from(size.height))
                                .sum(),
                        );
                    });
                }
                if redrawn.is_some() {
                    *shown = next;
                }
                redrawn
            }
        };
        let took = started.elapsed();
        let Some(redrawn_pixels) = redrawn_pixels else {
            self.unchanged += 1;
            return Ok(());
        };
        match self.window.global::<SessionAdapter>().get_page() {
            Page::Checkout => {
                self.checkout_frames.0.push(took);
                let permille = redrawn_pixels * 1_000 / u64::from(WIDTH * HEIGHT);
                self.checkout_redrawn_permille
                    .push(u32::try_from(permille).unwrap_or(u32::MAX));
            }
            _ => self.other_frames.0.push(took),
        }
        Ok(())
    }

    /// A tap or a key: the intent the screen's callback sends, then a frame.
    fn step(&mut self, intent: Intent) -> anyhow::Result<()> {
        let what = format!("{intent:?}");
        self.running
            .screen()
            .send(intent)
            .with_context(|| format!("the till refused {what}"))?;
        self.frame()?;
        Ok(())
    }

    /// A scan as the scanner thread hands it over, up to the first frame that shows its
    /// line; returns that time and how many frames it took.
    fn scan(&mut self, code: &str) -> anyhow::Result<(Duration, u32)> {
        let lines_before = self.lines();
        let started = Instant::now();
        deliver_scan(&self.window.as_weak(), Delivery::Code(code.to_owned()));
        let mut frames = 0;
        loop {
            self.frame()?;
            let took = started.elapsed();
            frames += 1;
            match self.shown(lines_before) {
                None => return Ok((took, frames)),
                Some(problem) if frames == 3 => {
                    let kept = std::env::temp_dir().join("terminal-bench-frame.ppm");
                    std::fs::write(&kept, ppm(&self.canvas))?;
                    bail!(
                        "scan {code}, 3 frames later: {problem}; the frame is in {}",
                        kept.display()
                    )
                }
                Some(_) => {}
            }
        }
    }

    fn lines(&self) -> usize {
        self.window.global::<CartAdapter>().get_lines().row_count()
    }

    /// Why the last scan's line is not in the frame on screen, if it is not.
    fn shown(&self, lines_before: usize) -> Option<String> {
        let lines = self.window.global::<CartAdapter>().get_lines();
        if lines.row_count() != lines_before + 1 {
            let message = self.window.global::<SessionAdapter>().get_message();
            return Some(format!(
                "the cart went from {lines_before} to {} lines ({message})",
                lines.row_count()
            ));
        }
        let Some(name) = lines.row_data(lines_before).map(|line| line.name) else {
            return Some("the new line cannot be read".to_owned());
        };
        let Some(list) =
            ElementHandle::find_by_element_id(&self.window, "CheckoutPage::cart-list").next()
        else {
            return Some("the checkout's cart list is not on screen".to_owned());
        };
        let Some(row) = list
            .query_descendants()
            .match_accessible_role(AccessibleRole::ListItem)
            .find_all()
            .into_iter()
            .filter(|row| row.accessible_label().as_deref() == Some(name.as_str()))
            .max_by(|a, b| a.absolute_position().y.total_cmp(&b.absolute_position().y))
        else {
            return Some(format!("no row of the cart list shows {name}"));
        };
        let (top, bottom) = (
            list.absolute_position().y,
            list.absolute_position().y + list.size().height,
        );
        let (y, height) = (row.absolute_position().y, row.size().height);
        if y < top - 0.5 || y + height > bottom + 0.5 {
            return Some(format!(
                "the line is at y {y}–{} outside the list's {top}–{bottom}",
                y + height
            ));
        }
        let x = row.absolute_position().x;
        let inked = ink(
            &self.canvas,
            x as u32,
            y as u32,
            row.size().width as u32,
            height as u32,
        );
        (inked < 200).then(|| format!("the line's row has only {inked} pixels of text"))
    }
}

/// The frame on screen as a binary PPM picture, to look at when a line is not shown.
fn ppm(canvas: &Canvas) -> Vec<u8> {
    let mut picture = format!("P6 {WIDTH} {HEIGHT} 255\n").into_bytes();
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            picture.extend(canvas.rgb(x, y).unwrap_or_default());
        }
    }
    picture
}

/// Pixels in the rectangle that differ clearly from its background (taken just inside its
/// left edge, past the selection bar): the text drawn there.
fn ink(canvas: &Canvas, x: u32, y: u32, width: u32, height: u32) -> usize {
    let Some(background) = canvas.rgb(x + 10, y + 2) else {
        return 0;
    };
    let mut count = 0;
    for py in y..(y + height).min(HEIGHT) {
        for px in x..(x + width).min(WIDTH) {
            if let Some(p) = canvas.rgb(px, py) {
                let differs = p
                    .iter()
                    .zip(background)
                    .any(|(channel, behind)| channel.abs_diff(behind) > 64);
                count += usize::from(differs);
            }
        }
    }
    count
}

/// xorshift64, seeded: the same products every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Random generated products, each one once in a run, so every scan adds a line (a second
/// scan of a product counts up its line instead) and finds it in no cache.
struct Products {
    dice: Dice,
    catalogue: u64,
    used: HashSet<u64>,
}

impl Products {
    fn new(catalogue: u64) -> Products {
        Products {
            dice: Dice(0x5eed_7e11),
            catalogue,
            used: HashSet::new(),
        }
    }

    /// The barcode of a product not used yet (any, once all were).
    fn next_code(&mut self) -> String {
        loop {
            let n = 1 + self.dice.below(self.catalogue);
            if self.used.insert(n) || self.used.len() as u64 >= self.catalogue {
                return ean13(n);
            }
        }
    }

    /// Notes a product added otherwise (from a search), by its id `p0001234`.
    fn mark_used(&mut self, id: &str) {
        if let Some(n) = id.strip_prefix('p').and_then(|n| n.parse().ok()) {
            self.used.insert(n);
        }
    }
}

/// Starts the terminal on the seeded store in `data` in this fresh process, and measures.
fn measure(options: &Options, data: &DataDir, started: Instant) -> anyhow::Result<()> {
    let frames = match options.frames.as_slice() {
        [frames] => *frames,
        _ => bail!("a measuring run draws its frames one way: give --frames one name"),
    };
    let kept_window = match frames {
        Frames::Snapshot => {
            slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
                mock_time: false,
                threading: true,
                renderer_name: Some("software".into()),
            })))
            .map_err(|error| anyhow::anyhow!("the offscreen platform: {error}"))?;
            None
        }
        Frames::Kept(kind) => {
            let window = MinimalSoftwareWindow::new(kind);
            slint::platform::set_platform(Box::new(KeptBuffers {
                window: window.clone(),
                queue: LoopQueue {
                    events: Arc::default(),
                    ui_thread: std::thread::current(),
                },
            }))
            .map_err(|error| anyhow::anyhow!("the offscreen platform: {error}"))?;
            Some(window)
        }
    };
    let rss_at_main = proc_status_kb("VmRSS")?;
    let window = AppWindow::new()?;
    window
        .window()
        .set_size(slint::PhysicalSize::new(WIDTH, HEIGHT));
    let opening = Instant::now();
    let running = start_till(
        &window,
        data,
        &data.config_file(),
        &TerminalConfig::default(),
    )?;
    let opened = opening.elapsed();
    window.show()?;
    // A window that was never drawn has everything to draw.
    window.window().request_redraw();
    let mut bench = Bench {
        window,
        running,
        canvas: Canvas::new(frames, kept_window)?,
        checkout_frames: Samples::default(),
        other_frames: Samples::default(),
        checkout_redrawn_permille: Vec::new(),
        unchanged: 0,
        receipts: Vec::new(),
    };
    bench.frame()?;
    let cold = started.elapsed();
    println!("{FIRST_FRAME}");
    std::io::stdout().flush()?;
    let login = bench.window.global::<SessionAdapter>();
    if login.get_page() != Page::Login || login.get_people().row_count() == 0 {
        bail!("the first frame is not the login screen with its people");
    }
    let first_frame = bench.other_frames.0.first().copied().unwrap_or_default();
    let rss_after_start = proc_status_kb("VmRSS")?;
    println!(
        "| cold start in the process: main → first frame (of which opening the store and the till: {}, rendering: {}) | {} |",
        ms(opened),
        ms(first_frame),
        ms(cold)
    );

    bench.step(Intent::Login {
        user: UserId::new("sara"),
        pin: "5555".to_owned(),
    })?;
    if bench.running.screen().view().screen == Screen::ShiftOpen {
        bench.step(Intent::Shift(ShiftIntent::Open {
            total: "150.00".to_owned(),
        }))?;
    }

    let mut products = Products::new(options.products);
    let scans = timed_scans(&mut bench, &mut products, options)?;
    let checkout_frames = std::mem::take(&mut bench.checkout_frames);
    let scan_redrawn = redrawn(&std::mem::take(&mut bench.checkout_redrawn_permille));
    let session = Instant::now();
    let counts = hour_session(&mut bench, &mut products, options)?;
    let session = session.elapsed();
    let rss_after_session = proc_status_kb("VmRSS")?;
    let peak = proc_status_kb("VmHWM")?;

    println!();
    println!("| measurement | n | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    println!(
        "{}",
        scans.row(&format!(
            "scan → its cart line in the rendered frame ({} products)",
            options.products
        ))
    );
    println!(
        "{}",
        checkout_frames.row(&format!(
            "rendering the checkout during the timed scans ({})",
            frames.name()
        ))
    );
    println!(
        "{}",
        bench.checkout_frames.row(&format!(
            "rendering the checkout, every step of the session ({})",
            frames.name()
        ))
    );
    println!(
        "{}",
        bench
            .other_frames
            .row("rendering the other screens (login, payment, held, refund)")
    );
    println!();
    if let Frames::Kept(_) = frames {
        println!(
            "share of the window redrawn per checkout frame (p50 / p99 / max): during the timed scans {scan_redrawn}; in the session {}",
            redrawn(&bench.checkout_redrawn_permille)
        );
        println!(
            "steps after which nothing had changed on screen, so no frame was drawn: {}",
            bench.unchanged
        );
    }
    println!(
        "session: {} sales ({} lines, {} searches of {} letters, {} holds and resumes, {} refunds) in {:.1} s",
        counts.sales,
        counts.lines,
        counts.searches,
        counts.letters,
        counts.holds,
        counts.refunds,
        session.as_secs_f64()
    );
    println!("| resident memory ({} products) | |", options.products);
    println!("|---|---|");
    println!("| VmRSS at start of main | {} |", mib(rss_at_main));
    println!(
        "| VmRSS on the login screen (first frame) | {} |",
        mib(rss_after_start)
    );
    println!("| VmRSS after the session | {} |", mib(rss_after_session));
    println!("| VmHWM (peak) | {} |", mib(peak));
    Ok(())
}

/// p50, p99 and max of shares in per mille, as percentages.
fn redrawn(permille: &[u32]) -> String {
    let percent = |p: f64| format!("{:.1} %", f64::from(percentile(permille, p)) / 10.0);
    format!("{} / {} / {}", percent(0.5), percent(0.99), percent(1.0))
}

/// `--scans` scans in sales of [`LINES_PER_TIMED_SALE`] lines, each paid in cash; returns
/// the time from each scan to the frame showing its line.
fn timed_scans(
    bench: &mut Bench,
    products: &mut Products,
    options: &Options,
) -> anyhow::Result<Samples> {
    let mut samples = Samples::default();
    let mut late = 0;
    for n in 0..options.scans {
        let (took, frames) = bench.scan(&products.next_code())?;
        samples.0.push(took);
        late += u32::from(frames > 1);
        if (n + 1) % LINES_PER_TIMED_SALE == 0 || n + 1 == options.scans {
            pay(bench, TenderChoice::Cash)?;
            bench.step(Intent::NextCustomer)?;
        }
    }
    if late > 0 {
        println!(
            "{late} of {} scans showed their line only in a later frame",
            options.scans
        );
    }
    Ok(samples)
}

fn pay(bench: &mut Bench, kind: TenderChoice) -> anyhow::Result<()> {
    bench.step(Intent::StartPayment)?;
    bench.step(Intent::AddTender {
        kind,
        amount: String::new(),
        reference: match kind {
            TenderChoice::Cash => String::new(),
            _ => format!("AUTH-{}", bench.receipts.len()),
        },
    })?;
    let receipt = bench
        .running
        .screen()
        .view()
        .payment
        .and_then(|p| p.receipt_number)
        .context("a paid sale has no receipt number")?;
    bench.receipts.push(receipt);
    Ok(())
}

#[derive(Default)]
struct SessionCounts {
    sales: u64,
    lines: u64,
    searches: u64,
    letters: u64,
    holds: u64,
    refunds: u64,
}

/// Searches typed on the checkout, letter by letter.
const SEARCHES: [&str; 4] = [
    "kalihof choc",
    "nordgut milk",
    "sonnen coffee",
    "vita crisps",
];

/// An hour at a busy till: `--sales` sales of 3 to 15 scanned lines; every 4th sale has an item
/// found by a search typed letter by letter, every 10th is held while the next customer is
/// served and then resumed, every 3rd receipt is printed, every other sale is paid by card,
/// and every 100th sale is followed by the refund of a line of an earlier sale (its receipt
/// scanned). A frame is rendered after every step.
fn hour_session(
    bench: &mut Bench,
    products: &mut Products,
    options: &Options,
) -> anyhow::Result<SessionCounts> {
    let mut counts = SessionCounts::default();
    for sale in 0..options.sales {
        let lines = 3 + products.dice.below(13);
        for _ in 0..lines {
            bench.scan(&products.next_code())?;
        }
        counts.lines += lines;
        if sale % 4 == 1 {
            let query = SEARCHES[(sale / 4) as usize % SEARCHES.len()];
            for end in 1..=query.len() {
                bench.step(Intent::Search(query[..end].to_owned()))?;
                counts.letters += 1;
            }
            let found = bench.running.screen().view().search_results;
            if let Some(tile) = found.first() {
                products.mark_used(tile.id.as_str());
                bench.step(Intent::AddProduct(tile.id.clone()))?;
                counts.lines += 1;
            }
            bench.step(Intent::Search(String::new()))?;
            counts.searches += 1;
        }
        if sale % 10 == 5 {
            bench.step(Intent::Hold {
                label: format!("Customer {sale}"),
            })?;
            for _ in 0..2 {
                bench.scan(&products.next_code())?;
            }
            counts.lines += 2;
            pay(bench, TenderChoice::Cash)?;
            bench.step(Intent::NextCustomer)?;
            counts.sales += 1;
            bench.step(Intent::ShowHeld)?;
            let held = bench.running.screen().view().held;
            let id: HeldCartId = held
                .first()
                .context("the held cart is not listed")?
                .id
                .clone();
            bench.step(Intent::Resume(id))?;
            counts.holds += 1;
        }
        pay(
            bench,
            if sale % 2 == 0 {
                TenderChoice::Cash
            } else {
                TenderChoice::Card
            },
        )?;
        if sale % 3 == 0 {
            bench.step(Intent::Receipt(ReceiptIntent::Print))?;
        }
        bench.step(Intent::NextCustomer)?;
        counts.sales += 1;
        if sale % 100 == 99 {
            refund(bench)?;
            counts.refunds += 1;
        }
    }
    Ok(counts)
}

/// The receipt of a sale made earlier in the session scanned on the checkout, its first line
/// taken back (changed mind), refunded to how it was paid.
fn refund(bench: &mut Bench) -> anyhow::Result<()> {
    let receipt = bench
        .receipts
        .get(bench.receipts.len() / 2)
        .cloned()
        .context("no sale to refund")?;
    deliver_scan(&bench.window.as_weak(), Delivery::Code(receipt.clone()));
    bench.frame()?;
    let view = bench.running.screen().view();
    let refund = view
        .refund
        .with_context(|| format!("scanning receipt {receipt} opened no refund"))?;
    if refund.lines.len() > 1 {
        bench.step(Intent::ToggleReturn(LineNo(1)))?;
    }
    bench.step(Intent::ReturnReason("changed_mind".to_owned()))?;
    bench.step(Intent::ConfirmRefund)?;
    bench.step(Intent::NextCustomer)
}
