//! Barcode scanners on the appliance: `pos_scanner`'s evdev transport and hotplug watcher on
//! a background thread, handing each scan to a callback (the screen passes it to the UI
//! thread, where it arrives exactly like a code typed into the scan field).
//!
//! Owns the scanner thread and which devices' scans are forwarded. Never interprets a code:
//! the till looks it up. A burst a scanner sent but that was no whole scan (too short,
//! interrupted) is forwarded as a refusal, so the cashier reads why nothing was added.
//!
//! Key decision: only devices classified as scanners (grabbed, so their keys never type into
//! the UI) are forwarded. A watched keyboard's fast burst already reached the focused scan
//! field as typing; forwarding it too would scan the item twice.
//!
//! New settings (from the back office) reach the running thread through [`Scanners::apply`]:
//! it lets go of every device first, so the next watcher can grab them again.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use pos_scanner::transport::{ScannerEvent, watch_devices};
use pos_scanner::{Decoder, DeviceRole, ScanError};
use tokio::sync::{mpsc, watch};

use crate::config::ScannerSettings;

/// Scanner events waiting for the forwarding loop; scans are seconds apart.
const EVENTS_QUEUED_MAX: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ScannerStartError {
    #[error("the scanner rules are not valid: {0}")]
    Rules(String),
    #[error("the scanner thread could not start: {0}")]
    Thread(std::io::Error),
}

/// What a scanner sent, for the till.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A code, exactly as if typed into the scan field.
    Code(String),
    /// A scan the codec refused, with its reason.
    Refused(ScanError),
}

/// What the forwarding loop keeps between events: which device paths are scanners.
#[derive(Debug, Default)]
pub struct ScanForwarder {
    scanners: BTreeSet<PathBuf>,
}

impl ScanForwarder {
    /// What to hand to the till for `event`, if anything; notes which devices are scanners.
    pub fn handle(&mut self, event: ScannerEvent) -> Option<Delivery> {
        match event {
            ScannerEvent::Connected {
                path,
                identity,
                role,
            } => {
                if matches!(role, DeviceRole::Scanner { .. }) {
                    eprintln!(
                        "pos-terminal: scanner {} at {}",
                        identity.name,
                        path.display()
                    );
                    self.scanners.insert(path);
                } else {
                    self.scanners.remove(&path);
                }
                None
            }
            ScannerEvent::Disconnected { path } => {
                if self.scanners.remove(&path) {
                    eprintln!("pos-terminal: scanner at {} unplugged", path.display());
                }
                None
            }
            ScannerEvent::Scanned { path, scan, .. } => {
                let code = scan.text.trim().to_owned();
                let taken = self.scanners.contains(&path) && !code.is_empty();
                if taken {
                    // One line per scan: what a tech reads when a cashier says a scan did nothing.
                    eprintln!("pos-terminal: scanned {code} on {}", path.display());
                }
                taken.then_some(Delivery::Code(code))
            }
            ScannerEvent::Rejected { path, error, text } => {
                eprintln!(
                    "pos-terminal: scan from {} refused ({error}): {}",
                    path.display(),
                    text.unwrap_or_default()
                );
                // A watched keyboard's refused burst was a person typing, not a scan.
                self.scanners
                    .contains(&path)
                    .then_some(Delivery::Refused(error))
            }
            ScannerEvent::DeviceFailed { path, error } => {
                eprintln!("pos-terminal: input device {}: {error}", path.display());
                None
            }
        }
    }
}

/// Where each scan goes: the screen hands it to the UI thread.
pub type Deliver = Arc<dyn Fn(Delivery) + Send + Sync>;

/// The scanners read from `/dev/input` on a background thread, started the first time they
/// are switched on. Dropping it stops the thread, which lets go of the devices.
pub struct Scanners {
    deliver: Deliver,
    /// The settings the thread reads with (`None`: it reads none); `None` before it started.
    thread: Option<watch::Sender<Option<ScannerSettings>>>,
}

impl Scanners {
    /// No scanners read yet; `deliver` gets every scan once they are.
    pub fn new(deliver: impl Fn(Delivery) + Send + Sync + 'static) -> Scanners {
        Scanners {
            deliver: Arc::new(deliver),
            thread: None,
        }
    }

    /// Reads scanners with `settings` from now on, or none with `None`. Settings the thread
    /// already reads with change nothing; others make it let go of the devices and look for
    /// them again.
    pub fn apply(&mut self, settings: Option<ScannerSettings>) -> Result<(), ScannerStartError> {
        if let Some(settings) = &settings {
            Decoder::new(settings.rules.decode.clone())
                .map_err(|error| ScannerStartError::Rules(error.to_string()))?;
        }
        match &self.thread {
            Some(thread) => {
                thread.send_if_modified(|current| {
                    let changed = *current != settings;
                    *current = settings;
                    changed
                });
            }
            None if settings.is_none() => {}
            None => {
                let (sender, receiver) = watch::channel(settings);
                let deliver = self.deliver.clone();
                std::thread::Builder::new()
                    .name("scanners".to_owned())
                    .spawn(move || read_scanners(receiver, &deliver))
                    .map_err(ScannerStartError::Thread)?;
                self.thread = Some(sender);
            }
        }
        Ok(())
    }
}

/// Why one watcher stopped.
enum Stopped {
    /// The settings changed: watch again with the new ones.
    Changed,
    /// Nobody gives settings any more: the thread ends.
    Closed,
    /// Nothing is watched (scanners switched off, or the watcher gave up when its directory
    /// went away) until the settings change.
    Waiting,
}

/// The scanner thread: a watcher with the current settings, again with each new set, none
/// while scanners are switched off.
fn read_scanners(mut settings: watch::Receiver<Option<ScannerSettings>>, deliver: &Deliver) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pos-terminal: scanners are not read: {error}");
            return;
        }
    };
    runtime.block_on(async move {
        loop {
            let current = settings.borrow_and_update().clone();
            let stopped = match current {
                Some(current) => watch_once(current, &mut settings, deliver).await,
                None => Stopped::Waiting,
            };
            match stopped {
                Stopped::Changed => {}
                Stopped::Closed => return,
                Stopped::Waiting => {
                    if settings.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// Watches `settings.input_dir` for scanners and forwards what they scan until the settings
/// change; returns once the watcher has let go of every device.
async fn watch_once(
    settings: ScannerSettings,
    changes: &mut watch::Receiver<Option<ScannerSettings>>,
    deliver: &Deliver,
) -> Stopped {
    let decoder = match Decoder::new(settings.rules.decode.clone()) {
        Ok(decoder) => decoder,
        Err(error) => {
            eprintln!("pos-terminal: scanners are not read: {error}");
            return Stopped::Waiting;
        }
    };
    let (sender, mut events) = mpsc::channel(EVENTS_QUEUED_MAX);
    let watcher = tokio::spawn(async move {
        watch_devices(
            &settings.input_dir,
            settings.poll_interval,
            settings.rules,
            decoder,
            sender,
        )
        .await
    });
    let mut forwarder = ScanForwarder::default();
    let stopped = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(delivery) = forwarder.handle(event) {
                        deliver(delivery);
                    }
                }
                None => break Stopped::Waiting,
            },
            changed = changes.changed() => break match changed {
                Ok(()) => Stopped::Changed,
                Err(_) => Stopped::Closed,
            },
        }
    };
    // With nobody listening the watcher stops at its next look at the devices, and lets go
    // of them.
    drop(events);
    match watcher.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => eprintln!("pos-terminal: scanners are no longer read: {error}"),
        Err(error) => eprintln!("pos-terminal: the scanner watcher stopped: {error}"),
    }
    // The watcher aborted its devices' tasks as it stopped; they close their devices (and
    // release their grab) when the runtime drops them, before this task runs again.
    tokio::task::yield_now().await;
    stopped
}

#[cfg(test)]
mod tests {
    use pos_scanner::{DeviceIdentity, Layout, Scan, Symbology};

    use super::*;

    fn connected(path: &str, role: DeviceRole) -> ScannerEvent {
        ScannerEvent::Connected {
            path: PathBuf::from(path),
            identity: DeviceIdentity {
                name: "Honeywell Scanner".to_owned(),
                vendor_id: 0x0c2e,
                product_id: 0x0b61,
                types_digits: true,
            },
            role,
        }
    }

    fn scanned(path: &str, text: &str) -> ScannerEvent {
        ScannerEvent::Scanned {
            path: PathBuf::from(path),
            scan: Scan {
                text: text.to_owned(),
                started_at_us: 0,
                duration_us: 12_000,
            },
            decoded: pos_scanner::Decoded::Text {
                text: text.to_owned(),
                symbology: Symbology::Code128,
            },
        }
    }

    #[test]
    fn only_grabbed_scanners_are_forwarded_and_only_while_plugged_in() {
        let mut forwarder = ScanForwarder::default();
        let scanner = DeviceRole::Scanner {
            layout: Layout::Us,
            evidence: pos_scanner::device::ScannerEvidence::Name,
        };
        assert_eq!(
            forwarder.handle(connected("/dev/input/event3", scanner)),
            None
        );
        assert_eq!(
            forwarder.handle(connected(
                "/dev/input/event1",
                DeviceRole::WatchedKeyboard { layout: Layout::Us }
            )),
            None
        );
        assert_eq!(
            forwarder.handle(scanned("/dev/input/event3", "4006381333931\n")),
            Some(Delivery::Code("4006381333931".to_owned()))
        );
        let too_short = ScanError::TooShort {
            length: 2,
            length_min: 6,
        };
        let refused = |path: &str| ScannerEvent::Rejected {
            path: PathBuf::from(path),
            error: too_short.clone(),
            text: Some("40".to_owned()),
        };
        assert_eq!(
            forwarder.handle(refused("/dev/input/event3")),
            Some(Delivery::Refused(too_short.clone()))
        );
        assert_eq!(forwarder.handle(refused("/dev/input/event1")), None);
        // A keyboard's fast burst already typed into the scan field.
        assert_eq!(
            forwarder.handle(scanned("/dev/input/event1", "4006381333931")),
            None
        );
        assert_eq!(
            forwarder.handle(ScannerEvent::Disconnected {
                path: PathBuf::from("/dev/input/event3")
            }),
            None
        );
        assert_eq!(
            forwarder.handle(scanned("/dev/input/event3", "4006381333931")),
            None
        );
    }
}
