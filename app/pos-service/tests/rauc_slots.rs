//! Starting the other slot from the service screen goes through the real RAUC service
//! (Debian's `rauc`) on a private D-Bus, with files as the A and B slots and a bootloader
//! backend that keeps its state in files: the slots are listed as RAUC reports them, and
//! `mark active other` makes B the slot the next boot starts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pos_service::maintenance::{RaucSlots, SlotControl};

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

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

#[test]
fn the_other_slot_is_made_active_through_rauc() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let pki = xtask::pki::Pki::create(&root.join("pki"), "Open POS").unwrap();
    for slot in ["slot-a.img", "slot-b.img"] {
        std::fs::write(root.join(slot), vec![0u8; 1 << 20]).unwrap();
    }
    let backend = root.join("backend.sh");
    std::fs::write(&backend, BACKEND).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&backend, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::create_dir_all(root.join("mnt")).unwrap();
    let conf = format!(
        "[system]\ncompatible=open-pos-x86_64\nbootloader=custom\ndata-directory={data}\nmountprefix={mnt}\n\
         bundle-formats=plain\n\n[handlers]\nbootloader-custom-backend={backend}\n\n\
         [keyring]\npath={keyring}\ncheck-purpose=codesign\n\n\
         [slot.rootfs.0]\ndevice={a}\ntype=raw\nbootname=A\n\n\
         [slot.rootfs.1]\ndevice={b}\ntype=raw\nbootname=B\n",
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
    let _children = Children(vec![service, bus]);

    let slots = RaucSlots {
        bus_address: Some(address),
    };
    // The service takes its bus name a moment after it starts.
    let mut status = slots.status();
    for _ in 0..100 {
        if status.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        status = slots.status();
    }
    let (booted, lines) = status.unwrap();
    assert_eq!(booted.as_deref(), Some("A"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("rootfs.0 (A): booted")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("rootfs.1 (B): inactive")),
        "{lines:?}"
    );

    let message = slots.activate_other().unwrap();
    assert!(message.contains("rootfs.1"), "{message}");
    let primary = std::fs::read_to_string(root.join("primary")).unwrap();
    assert_eq!(primary.trim(), "B", "the next boot starts slot B");
}
