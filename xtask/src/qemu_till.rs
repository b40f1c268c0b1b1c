//! The till in QEMU used as a person and its peripherals would use it: what the virtual display
//! shows is compared with kept pictures, taps come from a USB tablet and scans from a USB
//! keyboard plugged in at run time (both through QMP), and receipts come out of the third
//! serial port into a printer emulated on the host, which answers the terminal's status
//! queries as a ready printer does and keeps every byte for decoding.
//!
//! Owns the pictures' comparison, the printer emulator, the places on the 1280×800 screen
//! that are tapped, and the checks of the printed receipt; `qemu` owns the machine.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pos_printer::decode::{Decoder, Event};
use pos_printer::status::{DrawerSense, PrinterStatus};

/// A pixel counts as changed when one of its channels moved by more than this (the same rule
/// as the screenshot tests of `pos-screen-checks`).
pub const CHANNEL_DIFF_MAX: u8 = 48;
/// The share of compared pixels that may change before the screen counts as different: a
/// blinking text cursor fits, a line in the cart or another page does not.
pub const CHANGED_PIXELS_FRACTION_MAX: f64 = 0.001;

/// A rectangle of the screen, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub const fn new(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.x + self.width && y >= self.y && y < self.y + self.height
    }
}

/// The login page's header but for the store's name and the service button: network and
/// printer state, sync backlog, version and clock, which change by themselves.
pub const LOGIN_STATUS: Rect = Rect::new(430, 0, 795, 52);
/// On the till's pages the header's middle: network and printer state, sync backlog, software
/// version (which names the build) and clock, which all change by themselves. The store's name
/// and the signed-in cashier stay checked.
pub const TILL_STATUS: Rect = Rect::new(430, 0, 650, 52);

/// How a screen differs from its kept picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenDiff {
    pub changed: u64,
    pub compared: u64,
    /// Where the changed pixels are: the smallest rectangle around them.
    pub within: Option<Rect>,
}

impl ScreenDiff {
    pub fn fraction(&self) -> f64 {
        if self.compared == 0 {
            return 1.0;
        }
        self.changed as f64 / self.compared as f64
    }

    pub fn is_same(&self) -> bool {
        self.fraction() <= CHANGED_PIXELS_FRACTION_MAX
    }
}

/// Compares two RGBA pictures of `width` × `height`, leaving out the `ignore` rectangles.
pub fn diff_pixels(
    expected: &[u8],
    actual: &[u8],
    width: u32,
    height: u32,
    ignore: &[Rect],
) -> ScreenDiff {
    let mut diff = ScreenDiff {
        changed: 0,
        compared: 0,
        within: None,
    };
    let (mut left, mut top, mut right, mut bottom) = (u32::MAX, u32::MAX, 0, 0);
    for (index, (a, b)) in expected
        .chunks_exact(4)
        .zip(actual.chunks_exact(4))
        .enumerate()
    {
        let index = index as u32;
        let (x, y) = (index % width, index / width);
        if y >= height || ignore.iter().any(|r| r.contains(x, y)) {
            continue;
        }
        diff.compared += 1;
        if a.iter()
            .zip(b.iter())
            .take(3)
            .any(|(p, q)| p.abs_diff(*q) > CHANNEL_DIFF_MAX)
        {
            diff.changed += 1;
            left = left.min(x);
            top = top.min(y);
            right = right.max(x);
            bottom = bottom.max(y);
        }
    }
    if diff.changed > 0 {
        diff.within = Some(Rect::new(left, top, right - left + 1, bottom - top + 1));
    }
    diff
}

/// Compares the screenshot `actual` with the kept picture `expected`. A difference is an error
/// that says how many pixels changed where, and where the screenshot is kept.
pub fn compare_screen(actual: &Path, expected: &Path, ignore: &[Rect]) -> Result<()> {
    let name = expected
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let kept = image::open(expected)
        .with_context(|| {
            format!(
                "no kept picture {} to compare the screen with; run `UPDATE_SCREENSHOTS=1 cargo xtask qemu-test` to keep the current one",
                expected.display()
            )
        })?
        .to_rgba8();
    let shown = read_screenshot(actual)?;
    if kept.dimensions() != shown.dimensions() {
        bail!(
            "the screen is {:?} pixels, the kept picture {name} {:?}; the screenshot is {}",
            shown.dimensions(),
            kept.dimensions(),
            actual.display()
        );
    }
    let (width, height) = shown.dimensions();
    let diff = diff_pixels(kept.as_raw(), shown.as_raw(), width, height, ignore);
    if !diff.is_same() {
        let within = diff.within.unwrap_or(Rect::new(0, 0, width, height));
        bail!(
            "the screen differs from {name}: {} pixels ({:.2}%) changed within x {}..{}, y {}..{}; the screenshot is {}",
            diff.changed,
            diff.fraction() * 100.0,
            within.x,
            within.x + within.width,
            within.y,
            within.y + within.height,
            actual.display()
        );
    }
    Ok(())
}

/// The till's header: clock, sync backlog and printer state change by themselves.
pub const HEADER: Rect = Rect::new(0, 0, 1280, 52);
/// Pixels that must change for a tap to count as seen: one more PIN dot is a few hundred, a
/// text cursor's blink (left out by this) a few dozen.
pub const TAP_CHANGED_PIXELS_MIN: u64 = 80;

/// Whether the screenshots `before` and `after` differ by at least `changed_min` pixels
/// outside `ignore`.
pub fn screens_differ(
    before: &Path,
    after: &Path,
    ignore: &[Rect],
    changed_min: u64,
) -> Result<bool> {
    let (before, after) = (read_screenshot(before)?, read_screenshot(after)?);
    if before.dimensions() != after.dimensions() {
        return Ok(true);
    }
    let (width, height) = after.dimensions();
    let diff = diff_pixels(before.as_raw(), after.as_raw(), width, height, ignore);
    Ok(diff.changed >= changed_min)
}

fn read_screenshot(path: &Path) -> Result<image::RgbaImage> {
    image::open(path)
        .with_context(|| format!("reading the screenshot {}", path.display()))
        .map(|picture| picture.to_rgba8())
}

/// Whether the kept pictures are to be taken anew instead of compared (`UPDATE_SCREENSHOTS`).
pub fn updating_pictures() -> bool {
    std::env::var_os("UPDATE_SCREENSHOTS").is_some()
}

/// Where the pictures the QEMU suite compares with are kept.
pub fn kept_picture(name: &str) -> PathBuf {
    crate::workspace_root()
        .join("docs/screenshots")
        .join(format!("{name}-1280x800.png"))
}

/// QMP's absolute pointer range, 0 to 0x7fff on both axes, for a point of the screen.
pub fn pointer_position(x: u32, y: u32, width: u32, height: u32) -> (u32, u32) {
    let scale = |at: u32, size: u32| {
        let at = at.min(size.saturating_sub(1));
        // libinput maps the device's 0..=0x7fff onto the screen's width; the middle of the
        // pixel's share of that range lands on the pixel itself.
        ((u64::from(at) * 0x8000 + 0x4000) / u64::from(size.max(1))) as u32
    };
    (scale(x, width), scale(y, height))
}

/// The QMP commands of a tap at `(x, y)` on a `width` × `height` screen: move, press, release.
pub fn tap_commands(x: u32, y: u32, width: u32, height: u32) -> Vec<String> {
    let (ax, ay) = pointer_position(x, y, width, height);
    let send = |events: String| {
        format!(r#"{{"execute":"input-send-event","arguments":{{"events":[{events}]}}}}"#)
    };
    let button =
        |down: bool| format!(r#"{{"type":"btn","data":{{"down":{down},"button":"left"}}}}"#);
    vec![
        send(format!(
            r#"{{"type":"abs","data":{{"axis":"x","value":{ax}}}}},{{"type":"abs","data":{{"axis":"y","value":{ay}}}}}"#
        )),
        send(button(true)),
        send(button(false)),
    ]
}

/// The QMP commands that type `text` (digits) and Enter, one key press and release each.
pub fn barcode_commands(text: &str) -> Result<Vec<String>> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii_digit()) {
        bail!("only digits can be typed as a barcode, not {c:?}");
    }
    let mut commands = typing_commands(text)?;
    commands.push(key_command(&[], "ret"));
    Ok(commands)
}

/// The QMP commands that type `text` (ASCII letters, digits and spaces) on a US keyboard, a
/// key press and release each; capitals with Shift held.
pub fn typing_commands(text: &str) -> Result<Vec<String>> {
    text.chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => Ok(key_command(&[], &c.to_string())),
            'A'..='Z' => Ok(key_command(&["shift"], &c.to_ascii_lowercase().to_string())),
            ' ' => Ok(key_command(&[], "spc")),
            other => bail!("{other:?} cannot be typed on the test keyboard"),
        })
        .collect()
}

/// One `input-send-event` that presses `held` keys and `key`, then lets them go in reverse.
fn key_command(held: &[&str], key: &str) -> String {
    let event = |key: &str, down: bool| {
        format!(
            r#"{{"type":"key","data":{{"down":{down},"key":{{"type":"qcode","data":"{key}"}}}}}}"#
        )
    };
    let mut events: Vec<String> = held.iter().map(|k| event(k, true)).collect();
    events.push(event(key, true));
    events.push(event(key, false));
    events.extend(held.iter().rev().map(|k| event(k, false)));
    format!(
        r#"{{"execute":"input-send-event","arguments":{{"events":[{}]}}}}"#,
        events.join(",")
    )
}

/// A receipt printer on the host at the far end of a QEMU serial port: answers each status
/// query (`DLE EOT n`) as a ready printer with its drawer shut, and keeps every byte.
pub struct PrinterEmulator {
    received: Arc<Mutex<Vec<u8>>>,
    /// Set when the machine is gone: an emulator still waiting for its QEMU's socket must not
    /// take the next QEMU's (a QEMU serves one client; the next emulator would hear nothing).
    stopped: Arc<AtomicBool>,
}

impl Drop for PrinterEmulator {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

impl PrinterEmulator {
    /// Connects to QEMU's socket at `socket` (QEMU is the server; it makes the socket when it
    /// starts) and serves it on a thread until QEMU closes it. Every byte also goes to
    /// `capture`.
    pub fn start(socket: PathBuf, capture: PathBuf) -> PrinterEmulator {
        let received = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (kept, stop) = (received.clone(), stopped.clone());
        std::thread::spawn(move || {
            if let Err(error) = serve(&socket, &capture, &kept, &stop) {
                eprintln!(
                    "the emulated printer on {} stopped: {error:#}",
                    socket.display()
                );
            }
        });
        PrinterEmulator { received, stopped }
    }

    /// Every byte the terminal sent so far.
    pub fn received(&self) -> Vec<u8> {
        self.received
            .lock()
            .map(|bytes| bytes.clone())
            .unwrap_or_default()
    }
}

fn serve(
    socket: &Path,
    capture: &Path,
    received: &Mutex<Vec<u8>>,
    stopped: &AtomicBool,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        if stopped.load(Ordering::Relaxed) {
            return Ok(());
        }
        match UnixStream::connect(socket) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => {
                return Err(error).with_context(|| format!("connecting to {}", socket.display()));
            }
        }
    };
    let mut file = std::fs::File::create(capture)?;
    let mut decoder = Decoder::new();
    let answers = PrinterStatus::READY.to_bytes(DrawerSense::OpenWhenHigh);
    let mut buffer = [0_u8; 4096];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        let bytes = &buffer[..read];
        file.write_all(bytes)?;
        if let Ok(mut kept) = received.lock() {
            kept.extend_from_slice(bytes);
        }
        match decoder.feed(bytes) {
            Ok(events) => {
                for event in events {
                    if let Event::StatusQuery(kind) = event {
                        stream.write_all(&[answers[kind as usize - 1]])?;
                    }
                }
            }
            Err(error) => {
                // Something the decoder does not know: answer no query from inside it, and
                // start afresh with the next bytes. The check of the receipt says what it was.
                eprintln!("the emulated printer could not read what it was sent: {error}");
                decoder = Decoder::new();
            }
        }
    }
}

/// What a printed receipt must show.
pub struct ReceiptExpectation<'a> {
    /// Text on the item's line, such as the product's name.
    pub item: &'a str,
    /// The total as printed, such as `2.38`.
    pub total: &'a str,
}

/// Checks the printer's byte stream: it decodes as ESC/POS, holds a receipt with the item and
/// the total, is cut, and kicked the cash drawer. Returns the receipt's text lines.
pub fn check_receipt(bytes: &[u8], expected: &ReceiptExpectation<'_>) -> Result<Vec<String>> {
    let events = pos_printer::decode::decode(bytes)
        .map_err(|error| anyhow::anyhow!("the printer's byte stream is not ESC/POS: {error}"))?;
    let lines: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            Event::Line(line) => Some(line.text.clone()),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    if !lines.iter().any(|line| line.contains(expected.item)) {
        problems.push(format!("no line with `{}`", expected.item));
    }
    if !lines
        .iter()
        .any(|line| line.to_lowercase().contains("total") && line.contains(expected.total))
    {
        problems.push(format!("no total line with {}", expected.total));
    }
    if !events.iter().any(|event| matches!(event, Event::Cut(_))) {
        problems.push("the paper was never cut".to_owned());
    }
    if !events
        .iter()
        .any(|event| matches!(event, Event::DrawerKick(_)))
    {
        problems.push("no drawer kick (ESC p) in the byte stream".to_owned());
    }
    if !problems.is_empty() {
        bail!(
            "the printed receipt is not right: {}\nprinted:\n{}",
            problems.join("; "),
            lines.join("\n")
        );
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_pixel_outside_the_ignored_parts_is_found_and_located() {
        let (width, height) = (10, 10);
        let blank = vec![255_u8; 4 * 100];
        let mut moved = blank.clone();
        // A pixel at (7, 2), in the "clock", and one at (3, 8).
        moved[4 * (2 * 10 + 7)] = 0;
        moved[4 * (8 * 10 + 3) + 1] = 100;
        let clock = Rect::new(6, 0, 4, 4);
        let diff = diff_pixels(&blank, &moved, width, height, &[clock]);
        assert_eq!(diff.changed, 1);
        assert_eq!(diff.compared, 100 - 16);
        assert_eq!(diff.within, Some(Rect::new(3, 8, 1, 1)));
        assert!(!diff.is_same());
        let all = diff_pixels(&blank, &moved, width, height, &[]);
        assert_eq!(all.changed, 2);
        assert_eq!(all.within, Some(Rect::new(3, 2, 5, 7)));
        // Small differences (antialiasing, colour rounding) are no change.
        let mut faint = blank.clone();
        faint[0] = 255 - CHANNEL_DIFF_MAX;
        assert!(diff_pixels(&blank, &faint, width, height, &[]).is_same());
    }

    #[test]
    fn a_different_screen_names_where_and_keeps_the_screenshot() {
        let dir = tempfile::tempdir().unwrap();
        let expected = dir.path().join("kept.png");
        let actual = dir.path().join("shown.png");
        let mut picture = image::RgbaImage::from_pixel(40, 20, image::Rgba([240, 240, 240, 255]));
        picture.save(&expected).unwrap();
        picture.save(&actual).unwrap();
        compare_screen(&actual, &expected, &[]).unwrap();
        for x in 10..20 {
            picture.put_pixel(x, 5, image::Rgba([0, 0, 0, 255]));
        }
        picture.save(&actual).unwrap();
        let error = compare_screen(&actual, &expected, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("10 pixels"), "{error}");
        assert!(error.contains("x 10..20, y 5..6"), "{error}");
        assert!(error.contains(&actual.display().to_string()), "{error}");
        compare_screen(&actual, &expected, &[Rect::new(0, 0, 40, 10)]).unwrap();
    }

    #[test]
    fn a_tap_counts_as_seen_only_when_enough_changed_outside_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let (before, after) = (dir.path().join("before.png"), dir.path().join("after.png"));
        let mut picture = image::RgbaImage::from_pixel(100, 100, image::Rgba([240, 240, 240, 255]));
        picture.save(&before).unwrap();
        // The clock in the header moved: not the tap's doing.
        for x in 0..50 {
            for y in 0..10 {
                picture.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
            }
        }
        picture.save(&after).unwrap();
        let header = [Rect::new(0, 0, 100, 10)];
        assert!(!screens_differ(&before, &after, &header, 80).unwrap());
        // A PIN dot appeared.
        for x in 40..50 {
            for y in 40..50 {
                picture.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
            }
        }
        picture.save(&after).unwrap();
        assert!(screens_differ(&before, &after, &header, 80).unwrap());
        assert!(!screens_differ(&before, &after, &header, 101).unwrap());
    }

    #[test]
    fn taps_land_on_the_pixel_libinput_maps_them_to() {
        for (x, size) in [(0, 1280), (237, 1280), (1279, 1280), (400, 800)] {
            let (ax, _) = pointer_position(x, 0, size, 1);
            // libinput: screen = value * size / (0x7fff + 1).
            assert_eq!(u64::from(ax) * u64::from(size) / 0x8000, u64::from(x));
            assert!(ax <= 0x7fff);
        }
        let tap = tap_commands(237, 245, 1280, 800);
        assert_eq!(tap.len(), 3);
        assert!(tap[1].contains(r#""down":true"#));
    }

    #[test]
    fn a_barcode_is_typed_as_digit_keys_and_enter() {
        let keys = barcode_commands("40").unwrap();
        assert_eq!(keys.len(), 3);
        assert!(keys[0].contains(r#""data":"4""#));
        assert!(keys[2].contains(r#""data":"ret""#));
        assert!(barcode_commands("4a").is_err());
    }

    #[test]
    fn capitals_are_typed_with_shift_held() {
        let keys = typing_commands("Jo 2").unwrap();
        assert_eq!(keys.len(), 4);
        let shift = keys[0].find(r#""data":"shift""#).unwrap();
        let j = keys[0].find(r#""data":"j""#).unwrap();
        assert!(shift < j, "{}", keys[0]);
        assert!(keys[0].ends_with(r#""down":false,"key":{"type":"qcode","data":"shift"}}}]}}"#));
        assert!(keys[2].contains(r#""data":"spc""#));
        assert!(typing_commands("a-b").is_err());
    }

    #[test]
    fn a_receipt_with_item_total_cut_and_kick_passes_and_one_without_a_kick_does_not() {
        use pos_printer::drawer::DrawerKick;
        let mut bytes = vec![0x1b, b'@'];
        bytes.extend_from_slice(b"Whole milk 1 L        2.38\nTOTAL                 2.38\n");
        bytes.extend_from_slice(&[0x1d, b'V', 0x00]);
        let printed = check_receipt(
            &bytes,
            &ReceiptExpectation {
                item: "Whole milk",
                total: "2.38",
            },
        );
        let error = printed.unwrap_err().to_string();
        assert!(error.contains("no drawer kick"), "{error}");
        bytes.extend_from_slice(&DrawerKick::default().bytes());
        let lines = check_receipt(
            &bytes,
            &ReceiptExpectation {
                item: "Whole milk",
                total: "2.38",
            },
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
    }
}
