//! Log export: the terminal's log and a redacted copy of its configuration and setup state,
//! written to a folder a technician chose (a USB stick's mount point). The log comes through
//! [`LogSource`] (systemd's journal on the appliance) so tests can use a file.

use std::path::{Path, PathBuf};

/// Where the terminal's log comes from.
pub trait LogSource {
    fn read_log(&self) -> Result<String, std::io::Error>;
}

/// The journal of the terminal's unit, read with `journalctl`.
#[derive(Clone, Debug)]
pub struct JournalLog {
    pub unit: String,
    pub lines_max: u32,
}

impl Default for JournalLog {
    fn default() -> JournalLog {
        JournalLog {
            unit: "pos-terminal.service".to_owned(),
            lines_max: 20_000,
        }
    }
}

impl LogSource for JournalLog {
    fn read_log(&self) -> Result<String, std::io::Error> {
        let output = std::process::Command::new("journalctl")
            .args(["--no-pager", "-o", "short-iso", "-u", &self.unit, "-n"])
            .arg(self.lines_max.to_string())
            .output()?;
        if !output.status.success() {
            return Err(std::io::Error::other(format!(
                "journalctl failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// A log kept in a file (the desktop, or a test).
#[derive(Clone, Debug)]
pub struct FileLog(pub PathBuf);

impl LogSource for FileLog {
    fn read_log(&self) -> Result<String, std::io::Error> {
        std::fs::read_to_string(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the log could not be read: {0}")]
    Log(std::io::Error),
    #[error("{0} is not a folder this terminal can write to; plug in the USB stick and try again")]
    Destination(PathBuf),
    #[error("{path} could not be written: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ExportError {
    /// The message in German.
    pub fn message_de(&self) -> String {
        match self {
            ExportError::Log(error) => format!("Das Protokoll ist nicht lesbar: {error}"),
            ExportError::Destination(path) => format!(
                "In {} kann diese Kasse nicht schreiben; stecken Sie den USB-Stick ein und versuchen Sie es noch einmal",
                path.display()
            ),
            ExportError::Write { path, source } => {
                format!(
                    "{} konnte nicht geschrieben werden: {source}",
                    path.display()
                )
            }
        }
    }
}

/// Keys whose values never leave the terminal.
const SECRET_KEYS: [&str; 5] = ["token", "password", "secret", "code", "pin"];

/// Replaces the value of every `key = value` (TOML) or `"key": value` (JSON) line whose key
/// names a secret with `"<redacted>"`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let key_end = line.find([':', '=']);
        let secret = key_end.is_some_and(|end| {
            let key = line[..end].trim().trim_matches('"').to_ascii_lowercase();
            SECRET_KEYS.iter().any(|s| key.contains(s))
        });
        match key_end {
            Some(end) if secret => {
                let comma = if line.trim_end().ends_with(',') {
                    ","
                } else {
                    ""
                };
                out.push_str(&line[..=end]);
                out.push_str(" \"<redacted>\"");
                out.push_str(comma);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Writes `pos-log-<stamp>.txt` and `pos-config-<stamp>.txt` (the configuration and setup
/// state, redacted) into `destination`; returns the files written.
pub fn export(
    log: &dyn LogSource,
    config_files: &[PathBuf],
    destination: &Path,
    stamp: &str,
) -> Result<Vec<PathBuf>, ExportError> {
    if !destination.is_dir() {
        return Err(ExportError::Destination(destination.to_path_buf()));
    }
    let text = log.read_log().map_err(ExportError::Log)?;
    let log_file = destination.join(format!("pos-log-{stamp}.txt"));
    let mut config = String::new();
    for file in config_files {
        config.push_str(&format!("# {}\n", file.display()));
        match std::fs::read_to_string(file) {
            Ok(text) => config.push_str(&redact(&text)),
            Err(error) => config.push_str(&format!("(not readable: {error})\n")),
        }
        config.push('\n');
    }
    let config_file = destination.join(format!("pos-config-{stamp}.txt"));
    for (path, body) in [(&log_file, text), (&config_file, config)] {
        std::fs::write(path, body).map_err(|source| ExportError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(vec![log_file, config_file])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let text = "device = \"T1\"\n  \"token\": \"abc123\",\n\"enrolment_code\": \"X\"\naddress = \"10.0.0.5:9100\"\n";
        let redacted = redact(text);
        assert!(!redacted.contains("abc123"));
        assert!(!redacted.contains("\"X\""));
        assert!(redacted.contains("\"token\": \"<redacted>\","));
        assert!(redacted.contains("10.0.0.5:9100"));
        assert!(redacted.contains("device = \"T1\""));
    }

    #[test]
    fn export_writes_the_log_and_the_redacted_config() {
        let data = tempfile::tempdir().unwrap();
        let stick = tempfile::tempdir().unwrap();
        let log = data.path().join("terminal.log");
        std::fs::write(&log, "pos-terminal: started\n").unwrap();
        let state = data.path().join("setup.json");
        std::fs::write(&state, "{\n  \"token\": \"s3cret\"\n}\n").unwrap();
        let files = export(&FileLog(log), &[state], stick.path(), "20260302-1000").unwrap();
        assert_eq!(files.len(), 2);
        let log_copy = std::fs::read_to_string(&files[0]).unwrap();
        assert_eq!(log_copy, "pos-terminal: started\n");
        let config = std::fs::read_to_string(&files[1]).unwrap();
        assert!(
            config.contains("<redacted>") && !config.contains("s3cret"),
            "{config}"
        );
        let gone = export(
            &FileLog(PathBuf::from("/nonexistent")),
            &[],
            &stick.path().join("unplugged"),
            "x",
        );
        assert!(matches!(gone, Err(ExportError::Destination(_))));
    }
}
