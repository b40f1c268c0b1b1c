//! The label printer `[label_printer]` names, as the back office's
//! [`LabelPrinter`](pos_backoffice::LabelPrinter): a job of ZPL, TSPL or ESC/POS bytes sent
//! whole over raw TCP (port 9100), a serial line or a device file through `pos_printer`'s
//! transports, or, with no printer configured, filed by the simulated label printer in
//! `<data>/labels/` as it would have been sent.
//!
//! Owns only the line to the printer. Which labels to print and in which language they are
//! spelled are the back office's and `pos-label`'s.
//!
//! Key decision: labels are printed on demand by a manager who waits for the answer, so a job
//! is sent at once and its failure said on screen (nothing is queued to print later,
//! unlike receipts, which must never be lost).

use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::Duration;

use pos_backoffice::LabelPrinter;
use pos_label::Language;
use pos_printer::transport::{DeviceFileTransport, SerialTransport, TcpTransport, Transport};

/// How long a network label printer gets to accept the connection and each write.
pub const LABEL_PRINTER_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the label printer hangs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelLine {
    /// The desktop demo: each job is filed in `folder` (`<data>/labels` when `None`).
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
    DeviceFile {
        path: String,
    },
    /// No label printer: printing is refused with a message.
    None,
}

/// The checked `[label_printer]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelPrinterSettings {
    pub language: Language,
    pub line: LabelLine,
}

impl Default for LabelPrinterSettings {
    /// The simulated label printer, speaking ZPL.
    fn default() -> LabelPrinterSettings {
        LabelPrinterSettings {
            language: Language::Zpl,
            line: LabelLine::Simulated { folder: None },
        }
    }
}

/// The terminal's label printer for the back office, or `None` when the configuration says
/// there is none.
pub fn label_printer(
    settings: &LabelPrinterSettings,
    data: &crate::terminal::DataDir,
) -> Option<Box<dyn LabelPrinter>> {
    let line = match &settings.line {
        LabelLine::None => return None,
        LabelLine::Simulated { folder } => LabelLine::Simulated {
            folder: Some(folder.clone().unwrap_or_else(|| data.root.join("labels"))),
        },
        other => other.clone(),
    };
    Some(Box::new(ConfiguredLabelPrinter {
        language: settings.language,
        line,
    }))
}

struct ConfiguredLabelPrinter {
    language: Language,
    line: LabelLine,
}

impl ConfiguredLabelPrinter {
    fn extension(&self) -> &'static str {
        match self.language {
            Language::Zpl => "zpl",
            Language::Tspl => "tspl",
            Language::EscPos => "escpos",
        }
    }

    fn file(&self, folder: &std::path::Path, job: &[u8]) -> Result<String, String> {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("the folder {} cannot be made: {e}", folder.display()))?;
        // Jobs are numbered in the order they came, after those already there.
        let filed = std::fs::read_dir(folder)
            .map(|entries| entries.filter_map(Result::ok).count())
            .unwrap_or(0);
        let path = folder.join(format!("label-job-{:05}.{}", filed + 1, self.extension()));
        std::fs::write(&path, job)
            .map_err(|e| format!("{} cannot be written: {e}", path.display()))?;
        Ok(format!(
            "to the simulated label printer ({})",
            path.display()
        ))
    }
}

impl LabelPrinter for ConfiguredLabelPrinter {
    fn language(&self) -> Language {
        self.language
    }

    fn describe(&self) -> String {
        let language = self.language.name();
        match &self.line {
            LabelLine::Simulated { .. } => format!("Simulated label printer ({language})"),
            LabelLine::Tcp { address } => format!("Label printer at {address} ({language})"),
            LabelLine::Serial { path, .. } | LabelLine::DeviceFile { path } => {
                format!("Label printer on {path} ({language})")
            }
            LabelLine::None => "No label printer".to_owned(),
        }
    }

    fn send(&self, job: &[u8]) -> Result<String, String> {
        let mut transport: Box<dyn Transport> = match &self.line {
            LabelLine::Simulated { folder } => {
                let folder = folder.clone().unwrap_or_else(|| PathBuf::from("labels"));
                return self.file(&folder, job);
            }
            LabelLine::None => return Err("no label printer is set up".to_owned()),
            LabelLine::Tcp { address } => {
                let peer = address
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut found| found.next())
                    .ok_or_else(|| format!("the address {address} cannot be found"))?;
                Box::new(
                    TcpTransport::connect(peer, LABEL_PRINTER_TIMEOUT)
                        .map_err(|e| e.to_string())?,
                )
            }
            LabelLine::Serial { path, baud } => {
                Box::new(SerialTransport::open(path, *baud).map_err(|e| e.to_string())?)
            }
            LabelLine::DeviceFile { path } => {
                Box::new(DeviceFileTransport::open(path).map_err(|e| e.to_string())?)
            }
        };
        transport.write_all(job).map_err(|e| e.to_string())?;
        Ok(format!("to {}", transport.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_label_printer_files_each_job_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let data = crate::terminal::DataDir::new(dir.path());
        let printer = label_printer(&LabelPrinterSettings::default(), &data).unwrap();
        assert_eq!(printer.describe(), "Simulated label printer (ZPL)");
        let first = printer.send(b"^XA^XZ").unwrap();
        printer.send(b"^XA^PQ2^XZ").unwrap();
        let folder = dir.path().join("labels");
        assert!(first.contains("label-job-00001.zpl"), "{first}");
        assert_eq!(
            std::fs::read(folder.join("label-job-00002.zpl")).unwrap(),
            b"^XA^PQ2^XZ"
        );
        let none = LabelPrinterSettings {
            language: Language::Zpl,
            line: LabelLine::None,
        };
        assert!(label_printer(&none, &data).is_none());
    }
}
