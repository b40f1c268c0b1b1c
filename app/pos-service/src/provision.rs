//! The provisioning file: what a technician prepares once per shop and brings on a USB stick
//! (`open-pos-provisioning.json`, taken by the image's USB import to
//! `/data/provisioning/incoming.json`) so the setup screen is filled in for them. Format in
//! `docs/provisioning.md`. It never holds a PIN: the first administrator types theirs.
//!
//! Pure: text in, form values or a message naming the wrong field out.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::setup::SetupForm;

/// The name on the USB stick that the image's import takes.
pub const STICK_FILE: &str = "open-pos-provisioning.json";
/// Where the image's USB import puts it, relative to `/data`.
pub const IMPORTED_FILE: &str = "provisioning/incoming.json";
/// The format this terminal reads.
pub const FORMAT: u32 = 1;
/// The largest file the import takes.
pub const FILE_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("no provisioning file at {0}; put {STICK_FILE} on a USB stick and plug it in")]
    Missing(PathBuf),
    #[error("the provisioning file {path} cannot be read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the provisioning file is not valid: {0}")]
    Invalid(String),
    #[error(
        "the provisioning file is format {0}; this terminal reads format {FORMAT}: update the terminal or write the file again"
    )]
    Format(u32),
}

/// The file as written. Every field but `format` may be left out; what is left out is typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ProvisioningFile {
    format: Option<u32>,
    fleet_url: Option<String>,
    enrolment_code: Option<String>,
    terminal_name: Option<String>,
    device: Option<String>,
    store_name: Option<String>,
    time_zone: Option<String>,
    locale: Option<String>,
    printer: PrinterPart,
    drawer: DrawerPart,
    scanner: ScannerPart,
    network: Option<NetworkPart>,
}

/// The wired network; what is left out keeps the form's value.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NetworkPart {
    mode: Option<String>,
    interface: Option<String>,
    address: Option<String>,
    gateway: Option<String>,
    dns: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PrinterPart {
    transport: Option<String>,
    address: Option<String>,
    path: Option<String>,
    paper: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DrawerPart {
    pin: Option<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScannerPart {
    enabled: Option<bool>,
}

/// Fills `form` from the text of a provisioning file; fields the file leaves out keep what
/// `form` had. The form is then checked like a typed one.
pub fn apply(text: &str, form: &mut SetupForm) -> Result<(), ProvisionError> {
    let file: ProvisioningFile =
        serde_json::from_str(text).map_err(|error| ProvisionError::Invalid(error.to_string()))?;
    match file.format {
        Some(FORMAT) => {}
        Some(other) => return Err(ProvisionError::Format(other)),
        None => {
            return Err(ProvisionError::Invalid(format!(
                "it has no \"format\": {FORMAT}"
            )));
        }
    }
    let set = |field: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *field = value;
        }
    };
    set(&mut form.fleet_url, file.fleet_url);
    set(&mut form.enrolment_code, file.enrolment_code);
    set(&mut form.terminal_name, file.terminal_name);
    set(&mut form.device, file.device);
    set(&mut form.store_name, file.store_name);
    set(&mut form.time_zone, file.time_zone);
    set(&mut form.locale, file.locale);
    set(&mut form.printer_transport, file.printer.transport);
    set(
        &mut form.printer_address,
        file.printer.address.or(file.printer.path),
    );
    set(&mut form.paper, file.printer.paper);
    set(&mut form.drawer_pin, file.drawer.pin.map(|p| p.to_string()));
    if let Some(enabled) = file.scanner.enabled {
        form.scanner = enabled;
    }
    if let Some(network) = file.network {
        set(&mut form.network.mode, network.mode);
        set(&mut form.network.interface, network.interface);
        set(&mut form.network.address, network.address);
        set(&mut form.network.gateway, network.gateway);
        set(
            &mut form.network.dns,
            network.dns.map(|servers| servers.join(", ")),
        );
    }
    if !form.fleet_url.is_empty() {
        form.offline = false;
    }
    Ok(())
}

/// Reads the provisioning file at `path` into `form`.
pub fn load(path: &Path, form: &mut SetupForm) -> Result<(), ProvisionError> {
    let read_error = |source| ProvisionError::Read {
        path: path.to_path_buf(),
        source,
    };
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ProvisionError::Missing(path.to_path_buf()));
        }
        Err(error) => return Err(read_error(error)),
    };
    if size > FILE_BYTES_MAX {
        return Err(ProvisionError::Invalid(format!(
            "it is {size} bytes; a provisioning file has at most {FILE_BYTES_MAX}"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    apply(&text, form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_file_fills_the_form() {
        let mut form = SetupForm::default();
        apply(
            r#"{
                "format": 1,
                "fleet_url": "https://fleet.example.com",
                "enrolment_code": "K7Q2-PX9M",
                "terminal_name": "Kasse 2",
                "device": "T2",
                "store_name": "Eckladen Mitte",
                "time_zone": "Europe/Vienna",
                "locale": "de",
                "printer": { "transport": "tcp", "address": "192.168.1.50:9100", "paper": "58mm" },
                "drawer": { "pin": 5 },
                "scanner": { "enabled": true }
            }"#,
            &mut form,
        )
        .unwrap();
        assert_eq!(form.fleet_url, "https://fleet.example.com");
        assert_eq!(form.enrolment_code, "K7Q2-PX9M");
        assert_eq!(form.device, "T2");
        assert_eq!(form.locale, "de");
        assert_eq!(form.printer_address, "192.168.1.50:9100");
        assert_eq!(form.drawer_pin, "5");
        assert!(form.scanner);
        assert_eq!(form.admin_pin, "", "a PIN never comes from a file");
    }

    #[test]
    fn a_file_may_carry_the_network() {
        let mut form = SetupForm::default();
        apply(
            r#"{"format": 1, "network": {"mode": "static", "address": "10.20.0.15/16",
                "gateway": "10.20.0.1", "dns": ["10.20.0.1", "9.9.9.9"]}}"#,
            &mut form,
        )
        .unwrap();
        assert_eq!(form.network.mode, "static");
        assert_eq!(form.network.address, "10.20.0.15/16");
        assert_eq!(form.network.dns, "10.20.0.1, 9.9.9.9");
        assert_eq!(
            form.network.interface, "",
            "left out: every wired interface"
        );
        let unknown = apply(r#"{"format": 1, "network": {"ssid": "shop"}}"#, &mut form);
        assert!(unknown.unwrap_err().to_string().contains("ssid"));
    }

    #[test]
    fn a_partial_file_keeps_the_rest() {
        let mut form = SetupForm {
            store_name: "typed".to_owned(),
            ..SetupForm::default()
        };
        apply(
            r#"{"format": 1, "fleet_url": "https://f.example"}"#,
            &mut form,
        )
        .unwrap();
        assert_eq!(form.store_name, "typed");
        assert_eq!(form.fleet_url, "https://f.example");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let cases = [
            ("{", "not valid"),
            (r#"{"fleet_url": "x"}"#, "\"format\": 1"),
            (r#"{"format": 2}"#, "format 2"),
            (r#"{"format": 1, "admin_pin": "1234"}"#, "admin_pin"),
            (r#"{"format": 1, "drawer": {"pin": "two"}}"#, "not valid"),
        ];
        for (text, hint) in cases {
            let mut form = SetupForm::default();
            let before = form.clone();
            let error = apply(text, &mut form).unwrap_err().to_string();
            assert!(error.contains(hint), "{text}: {error}");
            assert_eq!(form, before, "{text}: nothing taken from a bad file");
        }
        let missing = load(
            Path::new("/nonexistent/incoming.json"),
            &mut SetupForm::default(),
        );
        assert!(matches!(missing, Err(ProvisionError::Missing(_))));
    }
}
