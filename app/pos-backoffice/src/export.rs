//! Where exported reports go: a directory (the USB stick's mount point on the appliance)
//! behind [`ExportTarget`], and the three formats `pos-reports` writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use pos_reports::{ReportError, Table};

/// A file format a report can be exported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Pdf,
}

impl ExportFormat {
    /// The format a page's export buttons name by number: 1 Excel, 2 PDF, anything else CSV.
    pub fn from_choice(choice: i32) -> ExportFormat {
        match choice {
            1 => ExportFormat::Xlsx,
            2 => ExportFormat::Pdf,
            _ => ExportFormat::Csv,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Pdf => "pdf",
        }
    }

    pub fn bytes(self, table: &Table) -> Result<Vec<u8>, ReportError> {
        match self {
            ExportFormat::Csv => pos_reports::csv::to_csv(table),
            ExportFormat::Xlsx => pos_reports::xlsx::to_xlsx(table),
            ExportFormat::Pdf => Ok(pos_reports::pdf::to_pdf(table)),
        }
    }
}

/// Somewhere a finished file can be written.
pub trait ExportTarget {
    /// Writes `bytes` as `name`; where it went.
    fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf>;
    /// Where this is, as the person exporting knows it.
    fn describe(&self) -> String;
}

/// An existing directory, such as a mounted USB stick. Nothing is created when it is missing
/// (a stick that is not plugged in is not a folder to make), and a file appears whole or not
/// at all: it is written under a temporary name, synced, then renamed.
pub struct Directory {
    path: PathBuf,
}

impl Directory {
    pub fn new(path: impl Into<PathBuf>) -> Directory {
        Directory { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ExportTarget for Directory {
    fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        if !self.path.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the folder is not there; is the USB stick plugged in?",
            ));
        }
        let target = self.path.join(name);
        let partial = self.path.join(format!(".{name}.part"));
        let mut file = fs::File::create(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&partial, &target)?;
        Ok(target)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}
