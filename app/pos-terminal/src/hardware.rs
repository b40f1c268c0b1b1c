//! This terminal's hardware as the back office's settings edit it: the printer, drawer and
//! scanner part of `terminal.toml`, read through [`TerminalConfig`] and written back key by
//! key, so every other setting and section of the file stays as the technician wrote it;
//! then put to use on the running terminal ([`LiveHardware`]).
//!
//! A change is checked by parsing the whole new file with [`TerminalConfig::parse`] before
//! anything is written, and the file is replaced whole (written beside it, synced, renamed),
//! so a refused or interrupted save leaves the old file working.
//!
//! Key decision: saved settings are used at once, even with a sale open at the till. That is
//! safe because nothing of a sale lives in the hardware: the printer worker takes the new
//! line between two jobs (a receipt is never split between printers), receipts waiting in
//! the persistent queue print on the new printer, and the sale's drawer kick goes to the
//! drawer now configured. Scanners are let go and looked for again; the manager saving is at
//! the till's screen, so no scan is under way.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use pos_backoffice::settings::{HardwareError, HardwareSettings, TerminalHardware};
use pos_printer::drawer::DrawerPin;
use pos_printer::encode::Paper;

use crate::config::{PrinterLine, TerminalConfig};
use crate::peripherals::{PeripheralService, PeripheralSettings};
use crate::scanner::Scanners;
use crate::terminal::DataDir;

/// `terminal.toml` at `path` (it need not exist yet: the desktop demo has none).
pub struct ConfigFile {
    path: PathBuf,
}

impl ConfigFile {
    pub fn new(path: impl Into<PathBuf>) -> ConfigFile {
        ConfigFile { path: path.into() }
    }

    fn text(&self) -> Result<String, HardwareError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(error) => Err(HardwareError(format!(
                "the configuration {} cannot be read: {error}",
                self.path.display()
            ))),
        }
    }
}

fn paper_name(paper: Paper) -> &'static str {
    if paper == Paper::MM58 {
        "58mm"
    } else if paper == Paper::MM80_48 {
        "80mm-48"
    } else {
        "80mm"
    }
}

/// A number as typed, for the setting called `what`.
fn number(what: &str, typed: &str) -> Result<i64, HardwareError> {
    typed
        .trim()
        .parse()
        .map_err(|_| HardwareError(format!("{what}: “{}” is not a whole number", typed.trim())))
}

/// `0x04b8` or `1208`.
fn usb_id(typed: &str) -> Result<i64, HardwareError> {
    let typed = typed.trim();
    let parsed = match typed.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => i64::from_str_radix(typed, 16),
    };
    parsed.map_err(|_| {
        HardwareError(format!(
            "a USB printer is named by its vendor and product id, like 04b8:0202, not “{typed}”"
        ))
    })
}

fn section<'a>(
    file: &'a mut toml::Table,
    name: &str,
) -> Result<&'a mut toml::Table, HardwareError> {
    file.entry(name)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| HardwareError(format!("[{name}] in the configuration is not a section")))
}

impl ConfigFile {
    /// The configuration as it is in the file now.
    pub fn config(&self) -> Result<TerminalConfig, HardwareError> {
        TerminalConfig::parse(&self.text()?, &self.path)
            .map_err(|error| HardwareError(error.to_string()))
    }

    /// The hardware part of the file, as the settings page shows it.
    pub fn read(&self) -> Result<HardwareSettings, HardwareError> {
        let config = self.config()?;
        let (transport, address) = match &config.printer.line {
            PrinterLine::Simulated { folder } => (
                "simulated",
                folder
                    .as_ref()
                    .map(|folder| folder.display().to_string())
                    .unwrap_or_default(),
            ),
            PrinterLine::Tcp { address } => ("tcp", address.clone()),
            PrinterLine::Serial { path, .. } => ("serial", path.clone()),
            PrinterLine::DeviceFile { path } => ("device-file", path.clone()),
            PrinterLine::Usb {
                vendor_id,
                product_id,
            } => ("usb", format!("{vendor_id:04x}:{product_id:04x}")),
            PrinterLine::None => ("none", String::new()),
        };
        let gap = config
            .scanner
            .as_ref()
            .map(|s| s.rules.burst.key_gap_ms_max)
            .unwrap_or(pos_scanner::ScannerConfig::default().burst.key_gap_ms_max);
        Ok(HardwareSettings {
            printer_transport: transport.to_owned(),
            printer_address: address,
            paper: paper_name(config.printer.paper).to_owned(),
            drawer_pin: match config.drawer.pin {
                DrawerPin::Pin2 => "2",
                DrawerPin::Pin5 => "5",
            }
            .to_owned(),
            drawer_pulse_ms: config.drawer.on_ms.to_string(),
            scanner_enabled: config.scanner.is_some(),
            scanner_key_gap_ms: gap.to_string(),
        })
    }

    /// Writes the hardware part of `settings` into the file, checked first.
    pub fn write(&self, settings: &HardwareSettings) -> Result<(), HardwareError> {
        let old = self.text()?;
        let mut file: toml::Table = toml::from_str(&old).map_err(|error| {
            HardwareError(format!(
                "the configuration {} cannot be read: {error}",
                self.path.display()
            ))
        })?;
        let transport = settings.printer_transport.trim().to_lowercase();
        let address = settings.printer_address.trim().to_owned();
        let printer = section(&mut file, "printer")?;
        for stale in ["address", "path", "vendor_id", "product_id", "folder"] {
            printer.remove(stale);
        }
        printer.insert("transport".into(), transport.clone().into());
        match transport.as_str() {
            // Where the simulated printer files receipts; none: the data directory's own.
            "simulated" if !address.is_empty() => {
                printer.insert("folder".into(), address.into());
            }
            "tcp" => {
                printer.insert("address".into(), address.into());
            }
            "serial" | "device-file" => {
                printer.insert("path".into(), address.into());
            }
            "usb" => {
                let (vendor, product) = address.split_once(':').unwrap_or((&address, ""));
                printer.insert("vendor_id".into(), usb_id(vendor)?.into());
                printer.insert("product_id".into(), usb_id(product)?.into());
            }
            "simulated" | "none" => {}
            other => {
                return Err(HardwareError(format!(
                    "“{other}” is not a printer connection; use simulated, tcp, serial, usb, device-file or none"
                )));
            }
        }
        printer.insert("paper".into(), settings.paper.trim().into());
        let drawer = section(&mut file, "drawer")?;
        drawer.insert(
            "pin".into(),
            number("the drawer pin", &settings.drawer_pin)?.into(),
        );
        drawer.insert(
            "pulse_ms".into(),
            number("the drawer pulse", &settings.drawer_pulse_ms)?.into(),
        );
        let gap = number(
            "the gap between a scan's keys",
            &settings.scanner_key_gap_ms,
        )?;
        if !(5..=500).contains(&gap) {
            return Err(HardwareError(format!(
                "a scanner types its keys at most 5 to 500 ms apart, not {gap}"
            )));
        }
        let scanner = section(&mut file, "scanner")?;
        scanner.insert("enabled".into(), settings.scanner_enabled.into());
        if settings.scanner_enabled {
            let rules = scanner
                .entry("rules")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| HardwareError("[scanner] rules is not a section".to_owned()))?;
            let burst = rules
                .entry("burst")
                .or_insert_with(|| {
                    toml::Value::try_from(pos_scanner::ScannerConfig::default().burst)
                        .unwrap_or_else(|_| toml::Value::Table(toml::Table::new()))
                })
                .as_table_mut()
                .ok_or_else(|| {
                    HardwareError("[scanner.rules] burst is not a section".to_owned())
                })?;
            burst.insert("key_gap_ms_max".into(), gap.into());
        }
        let text = toml::to_string(&file).map_err(|error| HardwareError(error.to_string()))?;
        TerminalConfig::parse(&text, &self.path)
            .map_err(|error| HardwareError(error.to_string()))?;
        replace(&self.path, &text).map_err(|error| {
            HardwareError(format!(
                "the configuration {} cannot be written: {error}",
                self.path.display()
            ))
        })
    }
}

/// The hardware settings of the running terminal: `terminal.toml`, and the printer service
/// and scanners that use it, told of every save.
pub struct LiveHardware {
    pub file: ConfigFile,
    pub data: DataDir,
    pub peripherals: Rc<PeripheralService>,
    pub scanners: Rc<RefCell<Scanners>>,
}

impl TerminalHardware for LiveHardware {
    fn read(&self) -> Result<HardwareSettings, HardwareError> {
        self.file.read()
    }

    fn write(&self, settings: &HardwareSettings) -> Result<(), HardwareError> {
        self.file.write(settings)
    }

    /// Hands the file's printer, drawer and scanner settings to the printer worker and the
    /// scanner thread; neither blocks the screen. The printer's answer comes in its report.
    fn apply(&self) -> Result<(), HardwareError> {
        let config = self.file.config()?;
        self.peripherals
            .apply(PeripheralSettings::of(&self.data, &config));
        self.scanners
            .borrow_mut()
            .apply(config.scanner)
            .map_err(|error| HardwareError(error.to_string()))
    }
}

/// Writes `text` beside `path`, syncs it and renames it over `path`.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let temporary = path.with_extension("toml.new");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_is_written_into_the_file_and_the_rest_of_it_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terminal.toml");
        std::fs::write(
            &path,
            "device = \"T7\"\nlanguage = \"de\"\n\n[display]\nwelcome = \"Hallo\"\n",
        )
        .unwrap();
        let file = ConfigFile::new(&path);
        let mut settings = file.read().unwrap();
        assert_eq!(settings.printer_transport, "simulated");
        assert_eq!(settings.paper, "80mm");
        settings.printer_transport = "tcp".to_owned();
        settings.printer_address = "192.168.1.50:9100".to_owned();
        settings.paper = "58mm".to_owned();
        settings.drawer_pin = "5".to_owned();
        settings.scanner_enabled = true;
        settings.scanner_key_gap_ms = "40".to_owned();
        file.write(&settings).unwrap();

        let config = TerminalConfig::load(&path).unwrap();
        assert_eq!(config.device, "T7");
        assert_eq!(config.language, "de");
        assert_eq!(config.display.welcome, "Hallo");
        assert_eq!(
            config.printer.line,
            PrinterLine::Tcp {
                address: "192.168.1.50:9100".to_owned()
            }
        );
        assert_eq!(config.printer.paper, Paper::MM58);
        assert_eq!(config.drawer.pin, DrawerPin::Pin5);
        assert_eq!(config.scanner.unwrap().rules.burst.key_gap_ms_max, 40);
        assert_eq!(file.read().unwrap(), settings);
    }

    #[test]
    fn a_setting_the_terminal_cannot_use_is_refused_and_the_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terminal.toml");
        std::fs::write(&path, "device = \"T7\"\n").unwrap();
        let file = ConfigFile::new(&path);
        let mut settings = file.read().unwrap();
        settings.drawer_pin = "3".to_owned();
        assert_eq!(
            file.write(&settings).unwrap_err().to_string(),
            format!(
                "the configuration {} is not valid: drawer pin = 3: a drawer hangs on pin 2 or pin 5",
                path.display()
            )
        );
        settings.drawer_pin = "2".to_owned();
        settings.printer_transport = "tcp".to_owned();
        settings.printer_address = String::new();
        assert!(file.write(&settings).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "device = \"T7\"\n");
    }
}
