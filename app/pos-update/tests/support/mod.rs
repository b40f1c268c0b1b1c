//! The real RAUC service (Debian's `rauc`) on a private D-Bus, with files as the A and B slots
//! and a bootloader backend that keeps its state in files; and bundles built and signed with
//! xtask's helpers, which the service trusts.
//!
//! The host kernel here has no device-mapper, which verity bundles need to be opened, so these
//! bundles are plain; the D-Bus calls, the checks and the slot handling are the same.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pos_bundle::BundleFormat;
use pos_update::rauc::{Bus, Rauc, RaucError};
use xtask::bundle::{BundleSpec, ext4_image};
use xtask::pki::Pki;

/// A bootloader backend in RAUC's custom-backend protocol, keeping its state in files.
const BACKEND: &str = r#"#!/bin/sh
dir=$(dirname "$0")
case "$1" in
  get-primary) cat "$dir/primary" 2>/dev/null || echo A ;;
  set-primary) echo "$2" > "$dir/primary" ;;
  get-state) cat "$dir/state-$2" 2>/dev/null || echo good ;;
  set-state) echo "$3" > "$dir/state-$2" ;;
  get-current) echo A ;;
  *) exit 1 ;;
esac
"#;

pub struct Service {
    pub dir: tempfile::TempDir,
    pub pki: Pki,
    pub address: String,
    children: Vec<Child>,
}

impl Drop for Service {
    fn drop(&mut self) {
        for child in &mut self.children {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

pub fn compatible() -> String {
    let conf =
        std::fs::read_to_string(xtask::workspace_root().join(xtask::bundle::SYSTEM_CONF)).unwrap();
    xtask::bundle::system_compatible(&conf).unwrap()
}

impl Service {
    pub async fn start() -> Service {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let pki = Pki::create(&root.join("pki"), "Open POS").unwrap();
        for slot in ["slot-a.img", "slot-b.img"] {
            std::fs::write(root.join(slot), vec![0u8; 16 << 20]).unwrap();
        }
        let backend = root.join("backend.sh");
        std::fs::write(&backend, BACKEND).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&backend, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("mnt")).unwrap();
        let conf = format!(
            "[system]\ncompatible={}\nbootloader=custom\ndata-directory={data}\nmountprefix={mnt}\n\
             bundle-formats=plain\n\n[handlers]\nbootloader-custom-backend={backend}\n\n\
             [keyring]\npath={keyring}\ncheck-purpose=codesign\n\n\
             [slot.rootfs.0]\ndevice={a}\ntype=raw\nbootname=A\n\n\
             [slot.rootfs.1]\ndevice={b}\ntype=raw\nbootname=B\n",
            compatible(),
            data = root.join("data").display(),
            mnt = root.join("mnt").display(),
            backend = backend.display(),
            keyring = pki.keyring().display(),
            a = root.join("slot-a.img").display(),
            b = root.join("slot-b.img").display(),
        );
        std::fs::write(root.join("system.conf"), conf).unwrap();

        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus) must be installed");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        let service = Command::new("rauc")
            .arg("service")
            .arg(format!("--conf={}", root.join("system.conf").display()))
            .arg("--override-boot-slot=A")
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("DBUS_STARTER_BUS_TYPE", "session")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rauc (Debian package rauc) must be installed");
        let service = Service {
            dir,
            pki,
            address,
            children: vec![service, bus],
        };
        // The service takes its bus name a moment after it starts.
        for _ in 0..100 {
            if let Ok(rauc) = service.client().await
                && rauc.compatible().await.is_ok()
            {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the RAUC service did not come up on the private bus");
    }

    pub async fn client(&self) -> Result<Rauc, RaucError> {
        Rauc::connect(Bus::Address(&self.address)).await
    }

    pub fn bundle(&self, version: &str, compatible: &str, signer: &Pki) -> PathBuf {
        let work = self.dir.path().join(format!("work-{version}-{compatible}"));
        std::fs::create_dir_all(&work).unwrap();
        let release = format!("VERSION_ID={version}\n");
        // Random data, so that the bundle is large enough to be fetched in several pieces.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..300_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let rootfs = ext4_image(
            &[
                ("etc/os-release", release.as_bytes()),
                ("usr/lib/pos/data", &noise),
            ],
            16,
            &work,
            &work.join("rootfs.ext4"),
        )
        .unwrap();
        let out = work.join("update.raucb");
        let spec = BundleSpec {
            rootfs: &rootfs,
            version,
            compatible,
            build: "test",
            format: BundleFormat::Plain,
        };
        xtask::bundle::build(&spec, signer, &work, &out).unwrap();
        out
    }
}

pub fn slot_image(service: &Service, name: &str) -> Vec<u8> {
    std::fs::read(service.dir.path().join(name)).unwrap()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
