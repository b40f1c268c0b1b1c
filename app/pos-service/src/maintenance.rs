//! The service mode's heavy actions: factory reset and starting the other slot.
//!
//! A factory reset is a request file in the terminal's data directory. The image acts on it
//! (`pos-factory-reset.path` reboots, and `pos-factory-reset.service` empties `/data` before
//! anything else uses it on the next boot): the program running as the unprivileged `pos`
//! user never deletes the data itself, and the software on the root slots is kept. The same
//! goes for a reboot: `reboot.request` asks the image's `pos-reboot.path` for one.
//!
//! Starting the other slot goes through RAUC (`mark active other`) behind [`SlotControl`].

use std::path::{Path, PathBuf};

use crate::complete::write_atomically;

/// The request file in the data directory that the image's factory-reset units act on.
pub const FACTORY_RESET_REQUEST: &str = "factory-reset.request";
/// The request file that the image's reboot unit acts on.
pub const REBOOT_REQUEST: &str = "reboot.request";
/// What the technician types to confirm a factory reset.
pub const RESET_WORD: &str = "RESET";
/// The permission the approving person needs.
pub const RESET_PERMISSION: &str = "service.reset";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResetRefused {
    #[error("Type RESET in capitals to confirm the factory reset.")]
    NotConfirmed,
    #[error("A manager must approve the factory reset with their PIN.")]
    NoApproval,
    #[error("The request could not be saved: {0}")]
    Write(String),
}

impl ResetRefused {
    pub fn message(&self, locale: &str) -> String {
        match (self, locale) {
            (ResetRefused::NotConfirmed, "de") => {
                "Geben Sie RESET in Großbuchstaben ein, um das Zurücksetzen zu bestätigen."
                    .to_owned()
            }
            (ResetRefused::NoApproval, "de") => {
                "Ein Manager muss das Zurücksetzen mit seiner PIN freigeben.".to_owned()
            }
            (ResetRefused::Write(detail), "de") => {
                format!("Der Auftrag konnte nicht gespeichert werden: {detail}")
            }
            (other, _) => other.to_string(),
        }
    }
}

/// Asks for a factory reset: refused unless `typed` is [`RESET_WORD`] and `approver` (the
/// manager whose PIN was checked) is given. Writes the request with who approved it and when.
pub fn request_factory_reset(
    data_dir: &Path,
    typed: &str,
    approver: Option<&str>,
    now_ms: i64,
) -> Result<PathBuf, ResetRefused> {
    if typed.trim() != RESET_WORD {
        return Err(ResetRefused::NotConfirmed);
    }
    let Some(approver) = approver else {
        return Err(ResetRefused::NoApproval);
    };
    let path = data_dir.join(FACTORY_RESET_REQUEST);
    let body = format!("approved_by={approver}\nrequested_at_ms={now_ms}\n");
    write_atomically(&path, body.as_bytes(), 0o600)
        .map_err(|error| ResetRefused::Write(error.to_string()))?;
    Ok(path)
}

/// Asks the image for a reboot.
pub fn request_reboot(data_dir: &Path, reason: &str) -> Result<PathBuf, String> {
    let path = data_dir.join(REBOOT_REQUEST);
    write_atomically(&path, format!("{reason}\n").as_bytes(), 0o600)
        .map_err(|error| error.to_string())?;
    Ok(path)
}

/// The A/B slots, as far as the service screen needs them.
pub trait SlotControl {
    /// The slot running now and one line per slot.
    fn status(&self) -> Result<(Option<String>, Vec<String>), String>;
    /// Makes the other slot the one the next boot starts; returns RAUC's message.
    fn activate_other(&self) -> Result<String, String>;
}

/// RAUC on a D-Bus bus, through `pos-update`'s client.
pub struct RaucSlots {
    /// `None`: the system bus.
    pub bus_address: Option<String>,
}

impl RaucSlots {
    fn call<T>(
        &self,
        work: impl AsyncFnOnce(&pos_update::rauc::Rauc) -> Result<T, pos_update::rauc::RaucError>,
    ) -> Result<T, String> {
        use pos_update::rauc::{Bus, Rauc};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let bus = match &self.bus_address {
                Some(address) => Bus::Address(address),
                None => Bus::System,
            };
            let rauc = Rauc::connect(bus).await.map_err(|e| e.to_string())?;
            work(&rauc).await.map_err(|e| e.to_string())
        })
    }
}

impl SlotControl for RaucSlots {
    fn status(&self) -> Result<(Option<String>, Vec<String>), String> {
        self.call(async |rauc| {
            let booted = rauc.boot_slot().await?;
            let slots = rauc.slots().await?;
            let lines = slots
                .iter()
                .map(|slot| {
                    format!(
                        "{} ({}): {}, {}, {}",
                        slot.name,
                        slot.bootname.as_deref().unwrap_or("-"),
                        slot.state,
                        slot.boot_status.as_deref().unwrap_or("-"),
                        slot.bundle_version.as_deref().unwrap_or("-"),
                    )
                })
                .collect();
            Ok((Some(booted), lines))
        })
    }

    fn activate_other(&self) -> Result<String, String> {
        self.call(async |rauc| rauc.mark(pos_update::rauc::Mark::Active, "other").await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_needs_the_word_and_a_manager() {
        let data = tempfile::tempdir().unwrap();
        assert_eq!(
            request_factory_reset(data.path(), "reset", Some("marc"), 1),
            Err(ResetRefused::NotConfirmed)
        );
        assert_eq!(
            request_factory_reset(data.path(), "RESET", None, 1),
            Err(ResetRefused::NoApproval)
        );
        assert!(!data.path().join(FACTORY_RESET_REQUEST).exists());
        let marker = request_factory_reset(data.path(), "RESET", Some("marc"), 7).unwrap();
        let body = std::fs::read_to_string(marker).unwrap();
        assert_eq!(body, "approved_by=marc\nrequested_at_ms=7\n");
    }
}
