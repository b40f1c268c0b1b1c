//! First-boot setup as pure steps: the form a technician fills in (typed, or from a
//! provisioning file), the checks of each step with messages a technician understands in
//! English or German, and the plan those checks produce. Nothing here touches a file or the
//! network; [`crate::complete`] carries a plan out.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The screen's languages.
pub const LOCALES: [&str; 2] = ["en", "de"];

/// Time zones offered on the screen; a provisioning file may name any zone the system knows.
pub const TIME_ZONES: [&str; 12] = [
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Paris",
    "Europe/Luxembourg",
    "Europe/Copenhagen",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/London",
    "UTC",
];

/// Where the system keeps its time zones.
pub const ZONEINFO_DIR: &str = "/usr/share/zoneinfo";

/// The printer lines a technician can pick on the screen.
pub const PRINTER_TRANSPORTS: [&str; 5] = ["simulated", "tcp", "serial", "device-file", "none"];

/// The shortest and longest PIN the till accepts.
pub const PIN_DIGITS_MIN: usize = 4;
pub const PIN_DIGITS_MAX: usize = 8;

/// Everything the setup screen asks, as typed. Fields are text so the screen can show
/// exactly what was typed next to the message about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupForm {
    pub fleet_url: String,
    pub enrolment_code: String,
    /// Finish without the fleet and enrol later.
    pub offline: bool,
    /// How the fleet lists this terminal ("Till 1").
    pub terminal_name: String,
    /// The terminal's short id on receipts ("T1").
    pub device: String,
    pub store_name: String,
    pub time_zone: String,
    pub locale: String,
    pub printer_transport: String,
    /// `host:port` for tcp, a device path for serial and device-file.
    pub printer_address: String,
    /// `58mm`, `80mm` or `80mm-48`.
    pub paper: String,
    /// `2` or `5`.
    pub drawer_pin: String,
    pub scanner: bool,
    pub admin_name: String,
    pub admin_pin: String,
    pub admin_pin_again: String,
    /// The wired network, applied from its own page (reached from the fleet step) or from a
    /// provisioning file, before enrolment needs it.
    #[serde(default)]
    pub network: crate::network_settings::NetworkForm,
}

impl Default for SetupForm {
    fn default() -> SetupForm {
        SetupForm {
            fleet_url: String::new(),
            enrolment_code: String::new(),
            offline: false,
            terminal_name: "Till 1".to_owned(),
            device: "T1".to_owned(),
            store_name: String::new(),
            time_zone: "Europe/Berlin".to_owned(),
            locale: "en".to_owned(),
            printer_transport: "simulated".to_owned(),
            printer_address: String::new(),
            paper: "80mm".to_owned(),
            drawer_pin: "2".to_owned(),
            scanner: false,
            admin_name: String::new(),
            admin_pin: String::new(),
            admin_pin_again: String::new(),
            network: crate::network_settings::NetworkForm::default(),
        }
    }
}

/// The setup's steps, in the order the screen shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Fleet,
    Store,
    Hardware,
    Admin,
}

/// What is wrong with the form, one thing at a time, in words for the technician.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("Type the fleet's address, like https://fleet.example.com, or choose to enrol later.")]
    FleetUrlMissing,
    #[error("“{0}” is not a fleet address: it starts with https:// (or http:// on a test bench).")]
    FleetUrlInvalid(String),
    #[error("Type the enrolment code from the fleet's store page.")]
    CodeMissing,
    #[error("Give the terminal a name of 1 to 40 characters, like “Till 1”.")]
    TerminalNameInvalid,
    #[error("The terminal id “{0}” must be 1 to 16 letters, digits, - or _, like T1.")]
    DeviceInvalid(String),
    #[error("Type the store's name (or enrol with the fleet, which knows it).")]
    StoreNameMissing,
    #[error("The time zone “{0}” is not known to this terminal; pick one from the list.")]
    TimeZoneUnknown(String),
    #[error("The language “{0}” is not available; choose English (en) or German (de).")]
    LocaleUnknown(String),
    #[error("The printer line “{0}” is not one this terminal knows.")]
    PrinterTransportUnknown(String),
    #[error("A network printer needs its address as host:port, like 192.168.1.50:9100.")]
    PrinterAddressInvalid,
    #[error("A {0} printer needs its device path, like /dev/ttyUSB0.")]
    PrinterPathMissing(String),
    #[error("The paper “{0}” is not known; use 58mm, 80mm or 80mm-48.")]
    PaperUnknown(String),
    #[error("The cash drawer hangs on pin 2 or pin 5, not “{0}”.")]
    DrawerPinInvalid(String),
    #[error("Type the first administrator's name.")]
    AdminNameMissing,
    #[error("The PIN must be 4 to 8 digits.")]
    PinInvalid,
    #[error("The two PINs are not the same; type the PIN twice again.")]
    PinsDiffer,
}

impl SetupError {
    /// The step the screen goes back to so the technician can fix this.
    pub fn step(&self) -> Step {
        use SetupError::*;
        match self {
            FleetUrlMissing | FleetUrlInvalid(_) | CodeMissing | TerminalNameInvalid
            | DeviceInvalid(_) => Step::Fleet,
            StoreNameMissing | TimeZoneUnknown(_) | LocaleUnknown(_) => Step::Store,
            PrinterTransportUnknown(_)
            | PrinterAddressInvalid
            | PrinterPathMissing(_)
            | PaperUnknown(_)
            | DrawerPinInvalid(_) => Step::Hardware,
            AdminNameMissing | PinInvalid | PinsDiffer => Step::Admin,
        }
    }

    /// The message in `locale` ("en" or "de"; anything else is English).
    pub fn message(&self, locale: &str) -> String {
        if locale != "de" {
            return self.to_string();
        }
        use SetupError::*;
        match self {
            FleetUrlMissing => "Geben Sie die Adresse der Flotte ein, etwa https://fleet.example.com, oder wählen Sie „Später anmelden“.".to_owned(),
            FleetUrlInvalid(url) => format!("„{url}“ ist keine Flottenadresse: Sie beginnt mit https:// (oder http:// auf dem Prüfstand)."),
            CodeMissing => "Geben Sie den Anmeldecode von der Filialseite der Flotte ein.".to_owned(),
            TerminalNameInvalid => "Geben Sie der Kasse einen Namen mit 1 bis 40 Zeichen, etwa „Kasse 1“.".to_owned(),
            DeviceInvalid(id) => format!("Die Kassen-ID „{id}“ besteht aus 1 bis 16 Buchstaben, Ziffern, - oder _, etwa T1."),
            StoreNameMissing => "Geben Sie den Namen der Filiale ein (oder melden Sie die Kasse bei der Flotte an, die ihn kennt).".to_owned(),
            TimeZoneUnknown(zone) => format!("Die Zeitzone „{zone}“ kennt diese Kasse nicht; wählen Sie eine aus der Liste."),
            LocaleUnknown(locale) => format!("Die Sprache „{locale}“ gibt es nicht; wählen Sie Englisch (en) oder Deutsch (de)."),
            PrinterTransportUnknown(line) => format!("Den Druckeranschluss „{line}“ kennt diese Kasse nicht."),
            PrinterAddressInvalid => "Ein Netzwerkdrucker braucht seine Adresse als Host:Port, etwa 192.168.1.50:9100.".to_owned(),
            PrinterPathMissing(line) => format!("Ein Drucker am Anschluss {line} braucht seinen Gerätepfad, etwa /dev/ttyUSB0."),
            PaperUnknown(paper) => format!("Das Papier „{paper}“ ist unbekannt; verwenden Sie 58mm, 80mm oder 80mm-48."),
            DrawerPinInvalid(pin) => format!("Die Kassenlade hängt an Pin 2 oder Pin 5, nicht an „{pin}“."),
            AdminNameMissing => "Geben Sie den Namen des ersten Administrators ein.".to_owned(),
            PinInvalid => "Die PIN besteht aus 4 bis 8 Ziffern.".to_owned(),
            PinsDiffer => "Die beiden PINs sind verschieden; geben Sie die PIN noch einmal zweimal ein.".to_owned(),
        }
    }
}

/// Where the fleet is and the code that enrols this terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetTarget {
    /// Without a trailing slash.
    pub url: String,
    pub code: String,
}

/// The first administrator.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminAccount {
    /// The login id, made from the name ("Jana Roth" → "jana-roth").
    pub user: String,
    pub name: String,
    pub pin: String,
}

impl std::fmt::Debug for AdminAccount {
    /// Never prints the PIN.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccount")
            .field("user", &self.user)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A checked form: what [`crate::complete::complete_setup`] carries out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupPlan {
    /// `None`: finish offline and enrol later.
    pub fleet: Option<FleetTarget>,
    /// The fleet's address even when enrolment waits (empty when none was typed).
    pub fleet_url: String,
    pub terminal_name: String,
    pub device: String,
    /// May be empty when the fleet will name the store.
    pub store_name: String,
    pub time_zone: String,
    pub locale: String,
    /// The text of `terminal.toml`.
    pub terminal_toml: String,
    pub admin: AdminAccount,
}

/// Checks one step of the form. `zoneinfo` is where the system's time zones are (a zone not
/// in [`TIME_ZONES`] is accepted when its file is there).
pub fn check_step(form: &SetupForm, step: Step, zoneinfo: &Path) -> Result<(), SetupError> {
    match step {
        Step::Fleet => check_fleet(form).map(|_| ()),
        Step::Store => check_store(form, zoneinfo),
        Step::Hardware => terminal_toml(form).map(|_| ()),
        Step::Admin => check_admin(form).map(|_| ()),
    }
}

/// Checks the whole form, step by step, and gives the plan.
pub fn plan(form: &SetupForm, zoneinfo: &Path) -> Result<SetupPlan, SetupError> {
    let fleet = check_fleet(form)?;
    check_store(form, zoneinfo)?;
    let terminal_toml = terminal_toml(form)?;
    let admin = check_admin(form)?;
    Ok(SetupPlan {
        fleet,
        fleet_url: normalise_url(&form.fleet_url),
        terminal_name: form.terminal_name.trim().to_owned(),
        device: form.device.trim().to_owned(),
        store_name: form.store_name.trim().to_owned(),
        time_zone: form.time_zone.trim().to_owned(),
        locale: form.locale.trim().to_owned(),
        terminal_toml,
        admin,
    })
}

fn normalise_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

fn check_fleet(form: &SetupForm) -> Result<Option<FleetTarget>, SetupError> {
    let name = form.terminal_name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(SetupError::TerminalNameInvalid);
    }
    let device = form.device.trim();
    if device.is_empty()
        || device.len() > 16
        || !device
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(SetupError::DeviceInvalid(device.to_owned()));
    }
    let url = normalise_url(&form.fleet_url);
    if !url.is_empty() {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.map(|r| r.split('/').next().unwrap_or_default());
        if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
            return Err(SetupError::FleetUrlInvalid(url));
        }
    }
    if form.offline {
        return Ok(None);
    }
    if url.is_empty() {
        return Err(SetupError::FleetUrlMissing);
    }
    let code = form.enrolment_code.trim();
    if code.is_empty() {
        return Err(SetupError::CodeMissing);
    }
    Ok(Some(FleetTarget {
        url,
        code: code.to_owned(),
    }))
}

fn check_store(form: &SetupForm, zoneinfo: &Path) -> Result<(), SetupError> {
    // Enrolment names the store; offline, it has to be typed.
    if form.offline && form.store_name.trim().is_empty() {
        return Err(SetupError::StoreNameMissing);
    }
    let zone = form.time_zone.trim();
    if !(TIME_ZONES.contains(&zone)
        || crate::zone::is_zone_name(zone) && zoneinfo.join(zone).is_file())
    {
        return Err(SetupError::TimeZoneUnknown(zone.to_owned()));
    }
    let locale = form.locale.trim();
    if !LOCALES.contains(&locale) {
        return Err(SetupError::LocaleUnknown(locale.to_owned()));
    }
    Ok(())
}

/// The `terminal.toml` the hardware step stands for (read back by the terminal's config).
pub fn terminal_toml(form: &SetupForm) -> Result<String, SetupError> {
    let transport = form.printer_transport.trim();
    let address = form.printer_address.trim();
    let mut printer = format!("transport = \"{transport}\"\n");
    match transport {
        "simulated" | "none" => {}
        "tcp" => {
            let valid = address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.contains(['"', '\\', ' '])
                    && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !valid {
                return Err(SetupError::PrinterAddressInvalid);
            }
            printer.push_str(&format!("address = \"{address}\"\n"));
        }
        "serial" | "device-file" => {
            if !address.starts_with('/') || address.contains(['"', '\\']) {
                return Err(SetupError::PrinterPathMissing(transport.to_owned()));
            }
            printer.push_str(&format!("path = \"{address}\"\n"));
        }
        other => return Err(SetupError::PrinterTransportUnknown(other.to_owned())),
    }
    let paper = form.paper.trim();
    if !matches!(paper, "58mm" | "80mm" | "80mm-48") {
        return Err(SetupError::PaperUnknown(paper.to_owned()));
    }
    printer.push_str(&format!("paper = \"{paper}\"\n"));
    let pin = form.drawer_pin.trim();
    if !matches!(pin, "2" | "5") {
        return Err(SetupError::DrawerPinInvalid(pin.to_owned()));
    }
    let device = form.device.trim();
    let locale = form.locale.trim();
    Ok(format!(
        "# Written by the terminal's first-boot setup.\ndevice = \"{device}\"\nlanguage = \"{locale}\"\n\n[printer]\n{printer}\n[drawer]\npin = {pin}\n\n[scanner]\nenabled = {}\n",
        form.scanner
    ))
}

fn check_admin(form: &SetupForm) -> Result<AdminAccount, SetupError> {
    let name = form.admin_name.trim();
    let user = login_id(name);
    if name.is_empty() || user.is_empty() {
        return Err(SetupError::AdminNameMissing);
    }
    let pin = form.admin_pin.as_str();
    if !(PIN_DIGITS_MIN..=PIN_DIGITS_MAX).contains(&pin.len())
        || !pin.chars().all(|c| c.is_ascii_digit())
    {
        return Err(SetupError::PinInvalid);
    }
    if form.admin_pin != form.admin_pin_again {
        return Err(SetupError::PinsDiffer);
    }
    Ok(AdminAccount {
        user,
        name: name.to_owned(),
        pin: pin.to_owned(),
    })
}

/// A login id from a person's name: lower-case letters and digits joined by `-`.
pub fn login_id(name: &str) -> String {
    let mut id = String::new();
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !id.is_empty() {
            id.push('-');
        }
        id.extend(word.chars().flat_map(char::to_lowercase).map(|c| match c {
            'ä' => 'a',
            'ö' => 'o',
            'ü' => 'u',
            'ß' => 's',
            other => other,
        }));
    }
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> SetupForm {
        SetupForm {
            fleet_url: "https://fleet.example.com/".to_owned(),
            enrolment_code: "ABCD-1234".to_owned(),
            store_name: "Corner Market".to_owned(),
            admin_name: "Jana Röth".to_owned(),
            admin_pin: "4711".to_owned(),
            admin_pin_again: "4711".to_owned(),
            ..SetupForm::default()
        }
    }

    fn no_zoneinfo() -> &'static Path {
        Path::new("/nonexistent-zoneinfo")
    }

    #[test]
    fn a_filled_form_gives_a_plan() {
        let plan = plan(&filled(), no_zoneinfo()).unwrap();
        assert_eq!(
            plan.fleet,
            Some(FleetTarget {
                url: "https://fleet.example.com".to_owned(),
                code: "ABCD-1234".to_owned()
            })
        );
        assert_eq!(plan.admin.user, "jana-roth");
        assert!(plan.terminal_toml.contains("device = \"T1\""));
        assert!(!format!("{:?}", plan.admin).contains("4711"));
    }

    #[test]
    fn each_mistake_points_at_its_step_with_a_message() {
        let cases: Vec<(SetupForm, SetupError)> = vec![
            (
                SetupForm {
                    fleet_url: String::new(),
                    ..filled()
                },
                SetupError::FleetUrlMissing,
            ),
            (
                SetupForm {
                    fleet_url: "fleet.example.com".to_owned(),
                    ..filled()
                },
                SetupError::FleetUrlInvalid("fleet.example.com".to_owned()),
            ),
            (
                SetupForm {
                    enrolment_code: " ".to_owned(),
                    ..filled()
                },
                SetupError::CodeMissing,
            ),
            (
                SetupForm {
                    device: "till one".to_owned(),
                    ..filled()
                },
                SetupError::DeviceInvalid("till one".to_owned()),
            ),
            (
                SetupForm {
                    time_zone: "Mars/Olympus".to_owned(),
                    ..filled()
                },
                SetupError::TimeZoneUnknown("Mars/Olympus".to_owned()),
            ),
            (
                SetupForm {
                    locale: "fr".to_owned(),
                    ..filled()
                },
                SetupError::LocaleUnknown("fr".to_owned()),
            ),
            (
                SetupForm {
                    printer_transport: "tcp".to_owned(),
                    printer_address: "10.0.0.5".to_owned(),
                    ..filled()
                },
                SetupError::PrinterAddressInvalid,
            ),
            (
                SetupForm {
                    drawer_pin: "3".to_owned(),
                    ..filled()
                },
                SetupError::DrawerPinInvalid("3".to_owned()),
            ),
            (
                SetupForm {
                    admin_pin: "12".to_owned(),
                    admin_pin_again: "12".to_owned(),
                    ..filled()
                },
                SetupError::PinInvalid,
            ),
            (
                SetupForm {
                    admin_pin_again: "4712".to_owned(),
                    ..filled()
                },
                SetupError::PinsDiffer,
            ),
        ];
        for (form, expected) in cases {
            let error = plan(&form, no_zoneinfo()).unwrap_err();
            assert_eq!(error, expected);
            assert_eq!(
                check_step(&form, error.step(), no_zoneinfo()),
                Err(error.clone())
            );
            assert_ne!(error.message("de"), error.message("en"));
        }
    }

    #[test]
    fn offline_needs_the_store_name_but_no_code() {
        let offline = SetupForm {
            offline: true,
            fleet_url: String::new(),
            enrolment_code: String::new(),
            ..filled()
        };
        assert_eq!(plan(&offline, no_zoneinfo()).unwrap().fleet, None);
        let unnamed = SetupForm {
            store_name: String::new(),
            ..offline
        };
        assert_eq!(
            plan(&unnamed, no_zoneinfo()).unwrap_err(),
            SetupError::StoreNameMissing
        );
    }

    #[test]
    fn a_zone_the_system_knows_is_accepted_and_paths_out_of_it_are_not() {
        let zoneinfo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(zoneinfo.path().join("America")).unwrap();
        std::fs::write(zoneinfo.path().join("America/Toronto"), b"TZif").unwrap();
        let toronto = SetupForm {
            time_zone: "America/Toronto".to_owned(),
            ..filled()
        };
        assert!(plan(&toronto, zoneinfo.path()).is_ok());
        let escape = SetupForm {
            time_zone: "../../etc/passwd".to_owned(),
            ..filled()
        };
        assert!(plan(&escape, zoneinfo.path()).is_err());
    }

    #[test]
    fn login_ids_are_plain() {
        assert_eq!(login_id("Jana Röth"), "jana-roth");
        assert_eq!(login_id("  Marc-André  O'Neil "), "marc-andr-o-neil");
        assert_eq!(login_id("Jürgen Groß"), "jurgen-gros");
    }
}
