//! RAUC's installer over D-Bus (`de.pengutronix.rauc.Installer` at `/`), as RAUC 1.8 (Debian)
//! and newer serve it: install a bundle into the other slot, read the slots, mark a slot good
//! or bad. Newer calls are used only when introspection shows the service has them.

use std::collections::HashMap;
use std::path::Path;

use futures_lite::StreamExt;
use zbus::zvariant::{OwnedValue, Value};

#[zbus::proxy(
    interface = "de.pengutronix.rauc.Installer",
    default_service = "de.pengutronix.rauc",
    default_path = "/"
)]
trait Installer {
    fn install_bundle(&self, source: &str, args: HashMap<&str, Value<'_>>) -> zbus::Result<()>;
    fn mark(&self, state: &str, slot_identifier: &str) -> zbus::Result<(String, String)>;
    fn get_slot_status(&self) -> zbus::Result<Vec<(String, HashMap<String, OwnedValue>)>>;
    fn get_primary(&self) -> zbus::Result<String>;
    #[zbus(signal)]
    fn completed(&self, result: i32) -> zbus::Result<()>;
    #[zbus(property)]
    fn operation(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn last_error(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn compatible(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn boot_slot(&self) -> zbus::Result<String>;
}

#[derive(Debug, thiserror::Error)]
pub enum RaucError {
    #[error("the update service (RAUC) cannot be reached: {0}")]
    Unreachable(zbus::Error),
    #[error("the update service (RAUC) failed a request: {0}")]
    Call(#[from] zbus::Error),
    #[error("the update service is busy with another install")]
    Busy,
    #[error("the install failed: {0}")]
    InstallFailed(String),
    #[error("the update service stopped reporting before the install finished")]
    NoCompletion,
}

/// Which bus the service is on: the system bus on a terminal, a private one in tests.
pub enum Bus<'a> {
    System,
    Address(&'a str),
}

/// A slot as RAUC reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// `rootfs.0`, `rootfs.1`, …
    pub name: String,
    pub class: String,
    pub bootname: Option<String>,
    /// `booted`, `active` or `inactive`.
    pub state: String,
    /// `good` or `bad`, as the bootloader sees it.
    pub boot_status: Option<String>,
    pub bundle_version: Option<String>,
    pub bundle_compatible: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Good,
    Bad,
    /// Make it the slot the next boot starts.
    Active,
}

impl Mark {
    fn as_str(self) -> &'static str {
        match self {
            Mark::Good => "good",
            Mark::Bad => "bad",
            Mark::Active => "active",
        }
    }
}

pub struct Rauc {
    installer: InstallerProxy<'static>,
}

impl Rauc {
    pub async fn connect(bus: Bus<'_>) -> Result<Rauc, RaucError> {
        let connection = match bus {
            Bus::System => zbus::Connection::system().await,
            Bus::Address(address) => match zbus::connection::Builder::address(address) {
                Ok(builder) => builder.build().await,
                Err(error) => Err(error),
            },
        }
        .map_err(RaucError::Unreachable)?;
        // Properties are read fresh each time: a cached `LastError` could be the previous
        // install's.
        let installer = InstallerProxy::builder(&connection)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(RaucError::Unreachable)?;
        Ok(Rauc { installer })
    }

    /// The compatible string of this system, from RAUC's configuration.
    pub async fn compatible(&self) -> Result<String, RaucError> {
        Ok(self.installer.compatible().await?)
    }

    /// The bootname of the slot the system booted from.
    pub async fn boot_slot(&self) -> Result<String, RaucError> {
        Ok(self.installer.boot_slot().await?)
    }

    /// Installs `bundle` (a local path) into the other slot and waits for RAUC to finish. RAUC
    /// checks the signature, the compatible string and, for verity bundles, every block it
    /// reads. The caller bounds how long it waits.
    pub async fn install(&self, bundle: &Path) -> Result<(), RaucError> {
        if self.installer.operation().await? != "idle" {
            return Err(RaucError::Busy);
        }
        // Subscribe before starting, so that a fast install cannot finish unseen.
        let mut completions = self.installer.receive_completed().await?;
        self.installer
            .install_bundle(&bundle.to_string_lossy(), HashMap::new())
            .await?;
        let completed = completions.next().await.ok_or(RaucError::NoCompletion)?;
        let result = completed.args()?.result;
        if result == 0 {
            return Ok(());
        }
        let reason = self.installer.last_error().await?;
        Err(RaucError::InstallFailed(if reason.is_empty() {
            format!("RAUC reported failure {result}")
        } else {
            reason
        }))
    }

    pub async fn slots(&self) -> Result<Vec<Slot>, RaucError> {
        let mut slots: Vec<Slot> = self
            .installer
            .get_slot_status()
            .await?
            .into_iter()
            .map(|(name, fields)| {
                let text = |key: &str| {
                    fields
                        .get(key)
                        .and_then(|value| String::try_from(value.clone()).ok())
                };
                Slot {
                    class: text("class").unwrap_or_default(),
                    bootname: text("bootname"),
                    state: text("state").unwrap_or_default(),
                    boot_status: text("boot-status"),
                    bundle_version: text("bundle.version"),
                    bundle_compatible: text("bundle.compatible"),
                    name,
                }
            })
            .collect();
        slots.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(slots)
    }

    /// Marks the booted slot (`booted`), the other one (`other`) or a named slot.
    pub async fn mark(&self, mark: Mark, slot: &str) -> Result<String, RaucError> {
        let (_, message) = self.installer.mark(mark.as_str(), slot).await?;
        Ok(message)
    }

    /// The slot the next boot starts (`rootfs.0`, `rootfs.1`, …).
    pub async fn primary(&self) -> Result<String, RaucError> {
        Ok(self.installer.get_primary().await?)
    }
}
