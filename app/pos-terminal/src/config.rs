//! The terminal's configuration file (`terminal.toml`): which device this is, which printer
//! it prints on and how, how the cash drawer is kicked, and whether scanners are read from
//! `/dev/input`. A missing file means the desktop demo: simulated printer and drawer, the
//! keyboard as the scanner.
//!
//! Owns parsing and checking the file, with errors that say which setting is wrong and what
//! it should look like. Never opens a device itself.
//!
//! ```toml
//! device = "T1"
//! language = "en"
//! auto_lock_min = 5             # the till locks itself after this long untouched; 0: never
//!
//! [printer]
//! transport = "tcp"          # simulated | tcp | serial | usb | device-file | none
//! address = "192.168.1.50:9100"
//! paper = "80mm"             # 58mm | 80mm | 80mm-48
//!
//! [label_printer]           # shelf labels from the back office; no section: simulated
//! language = "zpl"           # zpl | tspl | escpos
//! transport = "tcp"          # simulated | tcp | serial | device-file | none
//! address = "192.168.1.51:9100"
//!
//! [drawer]
//! pin = 2                    # 2 or 5
//! pulse_ms = 100
//! open_alert_s = 60          # the checkout warns when the drawer stays open longer
//! simulated_close_s = 5      # the simulated drawer shuts itself; 0: it stays open
//!
//! [display]                  # the customer's pole display
//! transport = "serial"       # serial | device-file | none
//! path = "/dev/ttyUSB1"
//! baud = 9600
//! welcome = "Welcome"
//!
//! [scanner]
//! enabled = true
//! input_dir = "/dev/input"
//!
//! [update]                   # see update_agent; an enrolled appliance runs it without one
//! fleet = "https://fleet.example.com"
//! tenant = "tenant-3f9a…"
//! controller_id = "term-5c1e…"
//! token_file = "/data/pos/fleet-token"
//! window = "02:00-05:00"
//! idle_before_restart_s = 30  # how long the till must be idle before it restarts into one
//! [[barcodes.embedded]]      # scale labels; the defaults read 02, 20 (price), 21-29 (weight)
//! prefix = "22"
//! kind = "weight"
//! item_code_start = 2
//! item_code_length = 5
//! value_start = 7
//! value_length = 5
//! value_decimals = 3
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use pos_printer::drawer::{DrawerKick, DrawerPin};
use pos_printer::encode::Paper;
use pos_scanner::{DecodeRules, ScannerConfig};

use crate::label_printer::{LabelLine, LabelPrinterSettings};
use crate::pole::{DisplayLine, DisplaySettings};
use serde::Deserialize;

/// The configuration file's name inside the data directory.
pub const CONFIG_FILE: &str = "terminal.toml";
/// The baud rate of most serial receipt printers out of the box.
pub const SERIAL_BAUD_DEFAULT: u32 = 19_200;
/// The pulse a drawer solenoid gets unless the file says otherwise.
pub const DRAWER_PULSE_MS_DEFAULT: u16 = 100;
/// The longest pulse ESC/POS can express (255 units of 2 ms).
pub const DRAWER_PULSE_MS_MAX: u16 = 510;
/// How long the drawer may stay open before the checkout says so, unless configured.
pub const DRAWER_OPEN_ALERT_S_DEFAULT: u64 = 60;
/// When the simulated drawer pushes itself shut after a kick, unless configured.
pub const SIMULATED_DRAWER_CLOSE_S_DEFAULT: u64 = 5;
/// The baud rate pole displays ship with.
pub const DISPLAY_BAUD_DEFAULT: u32 = 9_600;
/// A pole display line.
pub const DISPLAY_COLUMNS: usize = 20;

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration {path} is not valid: {detail}")]
    Syntax { path: PathBuf, detail: String },
    #[error("the configuration {path} is not valid: {detail}")]
    Setting { path: PathBuf, detail: String },
}

/// The checked configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct TerminalConfig {
    /// The terminal's id in the store and on receipts, such as `T1`.
    pub device: String,
    /// "en" or "de".
    pub language: String,
    pub printer: PrinterSettings,
    /// The label printer the back office prints shelf labels on.
    pub label_printer: LabelPrinterSettings,
    pub drawer: DrawerKick,
    pub scanner: Option<ScannerSettings>,
    /// Where the journal syncs to; `None` for an offline terminal.
    pub sync: Option<crate::sync_agent::SyncSettings>,
    /// The update agent (`[update]`); none without the section.
    pub update: Option<crate::update_agent::UpdateSettings>,
    /// How long the drawer may stay open, and how the simulated one behaves.
    pub drawer_watch: DrawerWatchSettings,
    pub display: DisplaySettings,
    /// The store's rules for scale labels, for the till and the scanners alike.
    pub barcodes: DecodeRules,
    /// How long the till may stay untouched before it locks itself; `None`: never.
    pub auto_lock: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawerWatchSettings {
    pub open_alert: Duration,
    /// `None`: the simulated drawer stays open until the program stops.
    pub simulated_close: Option<Duration>,
}

impl Default for DrawerWatchSettings {
    fn default() -> DrawerWatchSettings {
        DrawerWatchSettings {
            open_alert: Duration::from_secs(DRAWER_OPEN_ALERT_S_DEFAULT),
            simulated_close: Some(Duration::from_secs(SIMULATED_DRAWER_CLOSE_S_DEFAULT)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterSettings {
    pub line: PrinterLine,
    pub paper: Paper,
}

/// Where the receipt printer hangs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterLine {
    /// The desktop demo: receipts are filed as PNG and text in this folder.
    Simulated {
        folder: Option<PathBuf>,
    },
    Tcp {
        address: String,
    },
    Serial {
        path: String,
        baud: u32,
    },
    Usb {
        vendor_id: u16,
        product_id: u16,
    },
    DeviceFile {
        path: String,
    },
    /// No printer: receipts wait in the queue.
    None,
}

/// Reading scanners from the kernel's input devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannerSettings {
    pub input_dir: PathBuf,
    pub poll_interval: Duration,
    pub rules: ScannerConfig,
}

impl Default for TerminalConfig {
    /// The desktop demo: terminal T1, English, a simulated 80 mm printer, the default kick.
    fn default() -> TerminalConfig {
        TerminalConfig {
            device: "T1".to_owned(),
            language: "en".to_owned(),
            printer: PrinterSettings {
                line: PrinterLine::Simulated { folder: None },
                paper: Paper::MM80_42,
            },
            label_printer: LabelPrinterSettings::default(),
            drawer: DrawerKick::default(),
            scanner: None,
            update: None,
            drawer_watch: DrawerWatchSettings::default(),
            display: DisplaySettings::default(),
            barcodes: pos_till::session::default_rules(),
            sync: None,
            auto_lock: Some(Duration::from_millis(
                pos_till::session::AUTO_LOCK_AFTER_MS_DEFAULT.unsigned_abs(),
            )),
        }
    }
}

/// The file as written; checked into [`TerminalConfig`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    device: Option<String>,
    language: Option<String>,
    auto_lock_min: Option<u64>,
    printer: RawPrinter,
    label_printer: RawLabelPrinter,
    drawer: RawDrawer,
    scanner: RawScanner,
    sync: crate::sync_agent::RawSync,
    update: Option<crate::update_agent::RawUpdate>,
    display: RawDisplay,
    barcodes: Option<DecodeRules>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawDisplay {
    transport: Option<String>,
    path: Option<String>,
    baud: Option<u32>,
    welcome: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawPrinter {
    transport: Option<String>,
    folder: Option<PathBuf>,
    address: Option<String>,
    path: Option<String>,
    baud: Option<u32>,
    vendor_id: Option<u16>,
    product_id: Option<u16>,
    paper: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLabelPrinter {
    language: Option<String>,
    transport: Option<String>,
    folder: Option<PathBuf>,
    address: Option<String>,
    path: Option<String>,
    baud: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawDrawer {
    pin: Option<u8>,
    pulse_ms: Option<u16>,
    open_alert_s: Option<u64>,
    simulated_close_s: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawScanner {
    enabled: bool,
    input_dir: Option<PathBuf>,
    poll_ms: Option<u64>,
    rules: Option<ScannerConfig>,
}

impl TerminalConfig {
    /// Reads `path`; a file that does not exist gives the desktop demo's configuration.
    pub fn load(path: &Path) -> Result<TerminalConfig, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => TerminalConfig::parse(&text, path),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(TerminalConfig::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Checks the text of a configuration file; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<TerminalConfig, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            path: path.to_path_buf(),
            detail: error.to_string().trim().to_owned(),
        })?;
        let wrong = |detail: String| ConfigError::Setting {
            path: path.to_path_buf(),
            detail,
        };
        let defaults = TerminalConfig::default();
        let device = raw.device.unwrap_or(defaults.device);
        if device.is_empty()
            || device.len() > 16
            || !device
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(wrong(format!(
                "device = \"{device}\": use 1 to 16 letters, digits, - or _, like \"T1\""
            )));
        }
        let language = raw.language.unwrap_or(defaults.language);
        if !matches!(language.as_str(), "en" | "de") {
            return Err(wrong(format!(
                "language = \"{language}\": the screen speaks \"en\" or \"de\""
            )));
        }
        let auto_lock = match raw.auto_lock_min {
            None => defaults.auto_lock,
            Some(0) => None,
            Some(minutes @ 1..=240) => Some(Duration::from_secs(minutes * 60)),
            Some(minutes) => {
                return Err(wrong(format!(
                    "auto_lock_min = {minutes}: use 1 to 240 minutes, or 0 to never lock"
                )));
            }
        };
        let barcodes = raw.barcodes.unwrap_or(defaults.barcodes);
        pos_scanner::Decoder::new(barcodes.clone())
            .map_err(|error| wrong(format!("[barcodes]: {error}")))?;
        let mut scanner = scanner(raw.scanner);
        if let Some(scanner) = scanner.as_mut() {
            // One set of rules: what the scanner reports is what the till reads.
            scanner.rules.decode = barcodes.clone();
        }
        Ok(TerminalConfig {
            language,
            printer: printer(raw.printer).map_err(wrong)?,
            label_printer: label_printer(raw.label_printer).map_err(wrong)?,
            drawer_watch: drawer_watch(&raw.drawer).map_err(wrong)?,
            drawer: drawer(raw.drawer).map_err(wrong)?,
            update: raw
                .update
                .map(crate::update_agent::UpdateSettings::from_raw)
                .transpose()
                .map_err(wrong)?,
            scanner,
            display: display(raw.display).map_err(wrong)?,
            barcodes,
            auto_lock,
            sync: crate::sync_agent::SyncSettings::from_raw(raw.sync, &device).map_err(wrong)?,
            device,
        })
    }
}

fn printer(raw: RawPrinter) -> Result<PrinterSettings, String> {
    let paper = match raw.paper.as_deref() {
        None | Some("80mm") => Paper::MM80_42,
        Some("80mm-48") => Paper::MM80_48,
        Some("58mm") => Paper::MM58,
        Some(other) => {
            return Err(format!(
                "printer paper = \"{other}\": use \"58mm\", \"80mm\" (42 columns) or \"80mm-48\""
            ));
        }
    };
    let needs = |what: &str, example: &str, value: Option<String>| {
        value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            format!(
                "printer transport = \"{}\" needs {what}, like {example}",
                raw.transport.as_deref().unwrap_or_default()
            )
        })
    };
    let line = match raw.transport.as_deref() {
        None | Some("simulated") => PrinterLine::Simulated { folder: raw.folder },
        Some("tcp") => {
            let address = needs(
                "address = \"host:port\"",
                "address = \"192.168.1.50:9100\"",
                raw.address.clone(),
            )?;
            PrinterLine::Tcp { address }
        }
        Some("serial") => PrinterLine::Serial {
            path: needs("a path", "path = \"/dev/ttyUSB0\"", raw.path.clone())?,
            baud: raw.baud.unwrap_or(SERIAL_BAUD_DEFAULT),
        },
        Some("device-file") => PrinterLine::DeviceFile {
            path: needs("a path", "path = \"/dev/usb/lp0\"", raw.path.clone())?,
        },
        Some("usb") => match (raw.vendor_id, raw.product_id) {
            (Some(vendor_id), Some(product_id)) => PrinterLine::Usb {
                vendor_id,
                product_id,
            },
            _ => {
                return Err("printer transport = \"usb\" needs vendor_id and product_id, like vendor_id = 0x04b8 and product_id = 0x0202".to_owned());
            }
        },
        Some("none") => PrinterLine::None,
        Some(other) => {
            return Err(format!(
                "printer transport = \"{other}\": use simulated, tcp, serial, usb, device-file or none"
            ));
        }
    };
    Ok(PrinterSettings { line, paper })
}

fn label_printer(raw: RawLabelPrinter) -> Result<LabelPrinterSettings, String> {
    let language = match raw.language.as_deref() {
        None | Some("zpl") => pos_label::Language::Zpl,
        Some("tspl") => pos_label::Language::Tspl,
        Some("escpos") => pos_label::Language::EscPos,
        Some(other) => {
            return Err(format!(
                "label_printer language = \"{other}\": use \"zpl\" (Zebra and alike), \"tspl\" (TSC and alike) or \"escpos\""
            ));
        }
    };
    let needs = |what: &str, value: Option<String>| {
        value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            format!(
                "label_printer transport = \"{}\" needs {what}",
                raw.transport.as_deref().unwrap_or_default()
            )
        })
    };
    let line = match raw.transport.as_deref() {
        None | Some("simulated") => LabelLine::Simulated { folder: raw.folder },
        Some("tcp") => LabelLine::Tcp {
            address: needs(
                "address = \"host:port\", like address = \"192.168.1.51:9100\"",
                raw.address.clone(),
            )?,
        },
        Some("serial") => LabelLine::Serial {
            path: needs("a path, like path = \"/dev/ttyUSB2\"", raw.path.clone())?,
            baud: raw.baud.unwrap_or(SERIAL_BAUD_DEFAULT),
        },
        Some("device-file") => LabelLine::DeviceFile {
            path: needs("a path, like path = \"/dev/usb/lp1\"", raw.path.clone())?,
        },
        Some("none") => LabelLine::None,
        Some(other) => {
            return Err(format!(
                "label_printer transport = \"{other}\": use simulated, tcp, serial, device-file or none"
            ));
        }
    };
    Ok(LabelPrinterSettings { language, line })
}

fn drawer(raw: RawDrawer) -> Result<DrawerKick, String> {
    let pin = match raw.pin {
        None | Some(2) => DrawerPin::Pin2,
        Some(5) => DrawerPin::Pin5,
        Some(other) => {
            return Err(format!(
                "drawer pin = {other}: a drawer hangs on pin 2 or pin 5"
            ));
        }
    };
    let on_ms = raw.pulse_ms.unwrap_or(DRAWER_PULSE_MS_DEFAULT);
    if !(2..=DRAWER_PULSE_MS_MAX).contains(&on_ms) {
        return Err(format!(
            "drawer pulse_ms = {on_ms}: use 2 to {DRAWER_PULSE_MS_MAX} ms (most drawers want 50 to 200)"
        ));
    }
    Ok(DrawerKick {
        pin,
        on_ms,
        off_ms: on_ms.saturating_mul(2).min(DRAWER_PULSE_MS_MAX),
    })
}

fn drawer_watch(raw: &RawDrawer) -> Result<DrawerWatchSettings, String> {
    let open_alert_s = raw.open_alert_s.unwrap_or(DRAWER_OPEN_ALERT_S_DEFAULT);
    if !(5..=3_600).contains(&open_alert_s) {
        return Err(format!(
            "drawer open_alert_s = {open_alert_s}: use 5 to 3600 seconds (a minute is usual)"
        ));
    }
    let close_s = raw
        .simulated_close_s
        .unwrap_or(SIMULATED_DRAWER_CLOSE_S_DEFAULT);
    Ok(DrawerWatchSettings {
        open_alert: Duration::from_secs(open_alert_s),
        simulated_close: (close_s > 0).then(|| Duration::from_secs(close_s)),
    })
}

fn display(raw: RawDisplay) -> Result<DisplaySettings, String> {
    let welcome = raw.welcome.unwrap_or_else(|| "Welcome".to_owned());
    if welcome.chars().count() > DISPLAY_COLUMNS {
        return Err(format!(
            "display welcome = \"{welcome}\": the display shows {DISPLAY_COLUMNS} characters a line"
        ));
    }
    let path = |example: &str| {
        raw.path
            .clone()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| {
                format!(
                    "display transport = \"{}\" needs a path, like path = \"{example}\"",
                    raw.transport.as_deref().unwrap_or_default()
                )
            })
    };
    let line = match raw.transport.as_deref() {
        None | Some("none") => DisplayLine::None,
        Some("serial") => DisplayLine::Serial {
            path: path("/dev/ttyUSB1")?,
            baud: raw.baud.unwrap_or(DISPLAY_BAUD_DEFAULT),
        },
        Some("device-file") => DisplayLine::DeviceFile {
            path: path("/dev/ttyACM0")?,
        },
        Some(other) => {
            return Err(format!(
                "display transport = \"{other}\": use serial, device-file or none"
            ));
        }
    };
    Ok(DisplaySettings { line, welcome })
}

fn scanner(raw: RawScanner) -> Option<ScannerSettings> {
    raw.enabled.then(|| ScannerSettings {
        input_dir: raw.input_dir.unwrap_or_else(|| PathBuf::from("/dev/input")),
        poll_interval: Duration::from_millis(raw.poll_ms.unwrap_or(1_000).max(100)),
        rules: raw.rules.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TerminalConfig, ConfigError> {
        TerminalConfig::parse(text, Path::new("terminal.toml"))
    }

    #[test]
    fn a_missing_file_is_the_simulated_desktop() {
        let dir = tempfile::tempdir().unwrap();
        let config = TerminalConfig::load(&dir.path().join(CONFIG_FILE)).unwrap();
        assert_eq!(config, TerminalConfig::default());
        assert_eq!(config.printer.line, PrinterLine::Simulated { folder: None });
        assert_eq!(config.scanner, None);
    }

    #[test]
    fn every_printer_transport_reads() {
        let tcp = parse(
            "device = \"T2\"\n[printer]\ntransport = \"tcp\"\naddress = \"10.0.0.5:9100\"\npaper = \"58mm\"\n",
        )
        .unwrap();
        assert_eq!(tcp.device, "T2");
        assert_eq!(
            tcp.printer,
            PrinterSettings {
                line: PrinterLine::Tcp {
                    address: "10.0.0.5:9100".to_owned()
                },
                paper: Paper::MM58,
            }
        );
        let serial = parse("[printer]\ntransport = \"serial\"\npath = \"/dev/ttyUSB0\"\n").unwrap();
        assert_eq!(
            serial.printer.line,
            PrinterLine::Serial {
                path: "/dev/ttyUSB0".to_owned(),
                baud: SERIAL_BAUD_DEFAULT
            }
        );
        let usb =
            parse("[printer]\ntransport = \"usb\"\nvendor_id = 0x04b8\nproduct_id = 0x0202\n")
                .unwrap();
        assert_eq!(
            usb.printer.line,
            PrinterLine::Usb {
                vendor_id: 0x04b8,
                product_id: 0x0202
            }
        );
        let file =
            parse("[printer]\ntransport = \"device-file\"\npath = \"/dev/usb/lp0\"\n").unwrap();
        assert_eq!(
            file.printer.line,
            PrinterLine::DeviceFile {
                path: "/dev/usb/lp0".to_owned()
            }
        );
    }

    #[test]
    fn the_label_printer_section_reads() {
        let config = parse(
            "[label_printer]\nlanguage = \"tspl\"\ntransport = \"tcp\"\naddress = \"10.0.0.7:9100\"\n",
        )
        .unwrap();
        assert_eq!(
            config.label_printer,
            LabelPrinterSettings {
                language: pos_label::Language::Tspl,
                line: LabelLine::Tcp {
                    address: "10.0.0.7:9100".to_owned()
                },
            }
        );
        let serial =
            parse("[label_printer]\ntransport = \"serial\"\npath = \"/dev/ttyUSB2\"\n").unwrap();
        assert_eq!(
            serial.label_printer.line,
            LabelLine::Serial {
                path: "/dev/ttyUSB2".to_owned(),
                baud: SERIAL_BAUD_DEFAULT
            }
        );
        assert_eq!(serial.label_printer.language, pos_label::Language::Zpl);
        assert_eq!(
            TerminalConfig::default().label_printer.line,
            LabelLine::Simulated { folder: None }
        );
    }

    #[test]
    fn drawer_and_scanner_settings_read() {
        let config = parse(
            "[drawer]\npin = 5\npulse_ms = 120\n[scanner]\nenabled = true\npoll_ms = 500\n[scanner.rules]\nscanner_name_patterns = [\"acme\"]\n",
        )
        .unwrap();
        assert_eq!(
            config.drawer,
            DrawerKick {
                pin: DrawerPin::Pin5,
                on_ms: 120,
                off_ms: 240
            }
        );
        let scanner = config.scanner.unwrap();
        assert_eq!(scanner.input_dir, PathBuf::from("/dev/input"));
        assert_eq!(scanner.poll_interval, Duration::from_millis(500));
        assert_eq!(scanner.rules.scanner_name_patterns, ["acme"]);
    }

    #[test]
    fn mistakes_name_the_setting_and_the_fix() {
        let cases = [
            ("[printer]\ntransport = \"tcp\"\n", "address"),
            ("[printer]\ntransport = \"parallel\"\n", "simulated, tcp"),
            (
                "[printer]\ntransport = \"usb\"\nvendor_id = 1\n",
                "product_id",
            ),
            ("[printer]\npaper = \"110mm\"\n", "58mm"),
            ("[drawer]\npin = 3\n", "pin 2 or pin 5"),
            ("[drawer]\npulse_ms = 2000\n", "2 to 510"),
            ("device = \"till one\"\n", "like \"T1\""),
            ("language = \"fr\"\n", "\"en\" or \"de\""),
            ("[printer]\nspeed = 3\n", "speed"),
            ("device = \n", "terminal.toml"),
            ("[display]\ntransport = \"serial\"\n", "needs a path"),
            (
                "[display]\ntransport = \"usb\"\n",
                "serial, device-file or none",
            ),
            (
                "[display]\nwelcome = \"Welcome to the Corner Market\"\n",
                "20 characters",
            ),
            ("[drawer]\nopen_alert_s = 1\n", "5 to 3600"),
            ("[label_printer]\nlanguage = \"epl\"\n", "\"zpl\""),
            ("[label_printer]\ntransport = \"tcp\"\n", "needs address"),
            (
                "[label_printer]\ntransport = \"usb\"\n",
                "simulated, tcp, serial, device-file or none",
            ),
            ("auto_lock_min = 500\n", "1 to 240 minutes"),
            (
                "[[barcodes.embedded]]\nprefix = \"2x\"\nkind = \"price\"\nitem_code_start = 2\nitem_code_length = 5\nvalue_start = 7\nvalue_length = 5\nvalue_decimals = 2\n",
                "[barcodes]",
            ),
        ];
        for (text, hint) in cases {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(hint), "{text:?} gave {error}");
            assert!(error.contains("terminal.toml"), "{error}");
        }
    }

    #[test]
    fn display_drawer_watch_and_barcode_rules_read() {
        let config = parse(
            "[display]\ntransport = \"serial\"\npath = \"/dev/ttyUSB1\"\nwelcome = \"Hallo\"\n[drawer]\nopen_alert_s = 90\nsimulated_close_s = 0\n[scanner]\nenabled = true\n[[barcodes.embedded]]\nprefix = \"23\"\nkind = \"price\"\nitem_code_start = 2\nitem_code_length = 5\nvalue_start = 7\nvalue_length = 5\nvalue_decimals = 2\n",
        )
        .unwrap();
        assert_eq!(
            config.display,
            DisplaySettings {
                line: DisplayLine::Serial {
                    path: "/dev/ttyUSB1".to_owned(),
                    baud: DISPLAY_BAUD_DEFAULT
                },
                welcome: "Hallo".to_owned()
            }
        );
        assert_eq!(
            config.drawer_watch,
            DrawerWatchSettings {
                open_alert: Duration::from_secs(90),
                simulated_close: None
            }
        );
        let prefixes: Vec<&str> = config
            .barcodes
            .embedded
            .iter()
            .map(|r| r.prefix.as_str())
            .collect();
        assert_eq!(prefixes, ["23"]);
        assert_eq!(config.scanner.unwrap().rules.decode, config.barcodes);
        let defaults = TerminalConfig::default();
        assert_eq!(defaults.display.line, DisplayLine::None);
        assert_eq!(defaults.barcodes, pos_till::session::default_rules());
    }
}
