//! Updates from a USB stick, with real parts: the image's own import script
//! (`image/rootfs/usr/lib/open-pos/usb-import`) reads a stick's directory with the real `rauc`
//! and records what it keeps; the terminal's agent takes the records and installs through the
//! real `rauc service` on a private D-Bus into a file-backed slot, and restarts only when the
//! till is idle. A tampered bundle is refused at the stick, a foreign one and one changed after
//! the import are refused by the terminal, each with a sentence that says why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../pos-update/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pos_terminal::update_agent::{ImportOutcome, pending_imports, take_import};
use pos_update::agent::{Execution, Notice, Now, Outcome, Phase};
use pos_update::ddi::{DdiAdapter, DdiConfig, Host};
use support::{Service, compatible, contains, slot_image};

struct TillHost {
    busy: bool,
    version: String,
    reboots: u32,
    notices: Vec<Notice>,
}

impl Host for TillHost {
    fn now(&self) -> Now {
        Now {
            unix_ms: 1_800_000_000_000,
            local_minute: 180,
        }
    }

    fn wait(&mut self, _ms: u64) -> impl std::future::Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn till_busy(&self) -> bool {
        self.busy
    }

    fn shift_closed(&self) -> bool {
        true
    }

    fn running_version(&self) -> String {
        self.version.clone()
    }

    fn reboot(&mut self) {
        self.reboots += 1;
    }

    fn health_check(&mut self) -> Vec<String> {
        Vec::new()
    }

    fn notice(&mut self, notice: Notice) {
        self.notices.push(notice);
    }
}

struct Terminal {
    dir: tempfile::TempDir,
}

impl Terminal {
    fn imports(&self) -> PathBuf {
        self.dir.path().join("updates")
    }

    async fn adapter(&self, service: &Service, version: &str, busy: bool) -> DdiAdapter<TillHost> {
        let host = TillHost {
            busy,
            version: version.into(),
            reboots: 0,
            notices: Vec::new(),
        };
        // No fleet: this terminal takes its updates from sticks only.
        let config = DdiConfig {
            server: String::new(),
            tenant: String::new(),
            controller_id: String::new(),
            token: String::new(),
            download_path: self.dir.path().join("update.raucb"),
            state_path: self.dir.path().join("update-state.json"),
            window: None,
        };
        DdiAdapter::new(config, service.client().await.unwrap(), host, 7).unwrap()
    }

    /// Runs the image's import script over `stick` as `pos-usb-import@.service` would over a
    /// mounted stick; its log lines.
    fn import(&self, service: &Service, stick: &Path) -> Vec<String> {
        let script = xtask::workspace_root().join("image/rootfs/usr/lib/open-pos/usb-import");
        std::fs::create_dir_all(self.imports()).unwrap();
        std::fs::create_dir_all(self.dir.path().join("provisioning")).unwrap();
        let output = Command::new("sh")
            .arg(script)
            .arg("--directory")
            .arg(stick)
            .env("OPEN_POS_RAUC_CONF", service.dir.path().join("system.conf"))
            .env("OPEN_POS_KEYRING", service.pki.keyring())
            .env("OPEN_POS_UPDATES", self.imports())
            .env(
                "OPEN_POS_PROVISIONING",
                self.dir.path().join("provisioning"),
            )
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let mut lines: Vec<String> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }
}

fn stick_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let stick = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(stick.path().join(name), bytes).unwrap();
    }
    stick
}

#[tokio::test]
async fn a_signed_bundle_on_a_stick_installs_and_bad_ones_are_refused_with_a_reason() {
    let service = Service::start().await;
    let good = std::fs::read(service.bundle("1.5.0", &compatible(), &service.pki)).unwrap();
    let foreign =
        std::fs::read(service.bundle("1.5.0", "coffee-machine-arm64", &service.pki)).unwrap();
    let mut tampered = good.clone();
    tampered[good.len() / 3] ^= 0x55;
    let terminal = Terminal {
        dir: tempfile::tempdir().unwrap(),
    };

    // The stick: a signed bundle, one for another device, one changed after signing, and a
    // file that is not for the terminal at all.
    let stick = stick_with(&[
        ("foreign.raucb", &foreign),
        ("tampered.raucb", &tampered),
        ("notes.txt", b"hello"),
    ]);
    assert_eq!(
        terminal.import(&service, stick.path()),
        [
            "usb-import: accepted update bundle foreign.raucb",
            "usb-import: ignored notes.txt",
            "usb-import: refused tampered.raucb: not signed by a key this terminal trusts",
        ]
    );
    let mut adapter = terminal.adapter(&service, "1.4.0", false).await;
    let found = pending_imports(&terminal.imports());
    assert_eq!(found.len(), 1, "only the signed bundle is kept: {found:?}");
    let outcome = take_import(&mut adapter, found.into_iter().next().unwrap()).await;
    assert_eq!(
        outcome,
        ImportOutcome::Refused(format!(
            "foreign.raucb: the update on the stick is for 'coffee-machine-arm64', but this \
             terminal is '{}'",
            compatible()
        ))
    );
    assert_eq!(std::fs::read_dir(terminal.imports()).unwrap().count(), 0);
    assert!(!contains(
        &slot_image(&service, "slot-b.img"),
        b"VERSION_ID=1.5.0"
    ));

    // A bundle changed on the data partition after the import checked it.
    let stick = stick_with(&[("update.raucb", &good)]);
    terminal.import(&service, stick.path());
    let kept = terminal.imports().join("update.raucb");
    let mut bytes = std::fs::read(&kept).unwrap();
    bytes.push(0);
    std::fs::write(&kept, bytes).unwrap();
    let found = pending_imports(&terminal.imports());
    let ImportOutcome::Refused(reason) =
        take_import(&mut adapter, found.into_iter().next().unwrap()).await
    else {
        panic!("a changed bundle must be refused");
    };
    assert!(
        reason.starts_with("update.raucb: the update on the stick was refused: the bundle changed after the stick was checked"),
        "{reason}"
    );
    assert_eq!(adapter.phase(), &Phase::Idle);
    let last = adapter.local_feedback().unwrap();
    assert_eq!(
        (last.execution, last.result),
        (Execution::Closed, Outcome::Failure)
    );

    // The same bundle as it was signed: installed while a sale is under way, but the till is
    // not restarted until it is idle.
    let mut adapter = terminal.adapter(&service, "1.4.0", true).await;
    terminal.import(&service, stick.path());
    let found = pending_imports(&terminal.imports());
    let outcome = take_import(&mut adapter, found.into_iter().next().unwrap()).await;
    assert_eq!(
        outcome,
        ImportOutcome::Installed {
            version: "1.5.0".into()
        }
    );
    assert!(contains(
        &slot_image(&service, "slot-b.img"),
        b"VERSION_ID=1.5.0"
    ));
    assert_eq!(std::fs::read_dir(terminal.imports()).unwrap().count(), 0);
    assert!(matches!(adapter.phase(), Phase::AwaitingReboot { .. }));
    assert_eq!(
        adapter.host().notices,
        [Notice::UpdateReady {
            version: "1.5.0".into()
        }]
    );
    adapter.run().await.unwrap();
    assert_eq!(adapter.host().reboots, 0, "never during a sale");
    // Another stick while this one waits for its restart waits too.
    terminal.import(&service, stick.path());
    let found = pending_imports(&terminal.imports());
    assert_eq!(
        take_import(&mut adapter, found.into_iter().next().unwrap()).await,
        ImportOutcome::Waiting
    );
    assert_eq!(pending_imports(&terminal.imports()).len(), 1);

    adapter.host_mut().busy = false;
    adapter.run().await.unwrap();
    assert_eq!(adapter.host().reboots, 1);
    assert!(matches!(adapter.phase(), Phase::Rebooting { .. }));
    drop(adapter);

    // After the restart the new version runs, passes its check and is kept.
    let mut adapter = terminal.adapter(&service, "1.5.0", false).await;
    adapter.start().await.unwrap();
    assert_eq!(adapter.phase(), &Phase::Idle);
    assert_eq!(
        adapter.host().notices,
        [Notice::Updated {
            version: "1.5.0".into()
        }]
    );
    let last = adapter.local_feedback().unwrap();
    assert_eq!(
        (last.execution, last.result),
        (Execution::Closed, Outcome::Success)
    );
}
