//! A full disk and a read-only data partition, on real filesystems: each test re-runs itself
//! inside a private mount namespace (`unshare -m`) where it mounts a small tmpfs, so nothing
//! outside the test sees the mounts. Needs root (CI runs as root); elsewhere it says it
//! skipped and why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;

use pos_core::id::{DeviceId, SaleId};
use pos_store::{ErrorKind, Store};
use support::sale;

const INSIDE: &str = "POS_STORE_TEST_IN_MOUNT_NAMESPACE";

/// Returns true when the caller is inside the namespace and should run the test body.
fn inside_private_mount_namespace(test: &str) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return true;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"));
    if !root {
        println!("SKIPPED {test}: mounting a small tmpfs needs root (CI runs as root)");
        return false;
    }
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "{test} failed inside the mount namespace"
    );
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run inside the namespace"
    );
    false
}

fn mount(args: &[&str], target: &Path) {
    let status = Command::new("mount")
        .args(args)
        .arg(target)
        .status()
        .unwrap();
    assert!(status.success(), "mount {args:?} {}", target.display());
}

#[test]
fn a_full_disk_is_reported_and_loses_nothing_committed() {
    if !inside_private_mount_namespace("a_full_disk_is_reported_and_loses_nothing_committed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    mount(&["-t", "tmpfs", "-o", "size=2m", "tmpfs"], dir.path());
    let mut store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    let mut committed = Vec::new();
    let mut failure = None;
    for n in 1..=5_000 {
        let (sale, movements) = sale(n);
        match store.complete_sale(&sale, &movements) {
            Ok(_) => committed.push(sale.id.clone()),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let error = failure.expect("2 MiB filled up");
    assert_eq!(error.kind(), ErrorKind::DiskFull, "{error}");
    assert_eq!(
        error.to_string(),
        "the disk is full: the last change was not saved, everything saved before is safe. Free space on the data partition"
    );
    assert!(committed.len() > 5, "only {} sales fitted", committed.len());
    // Still readable on the same connection and after reopening, with everything committed.
    for id in &committed {
        assert!(store.sale(id).unwrap().is_some());
    }
    drop(store);
    let store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    for id in &committed {
        assert!(store.sale(id).unwrap().is_some(), "sale {id} lost");
    }
    assert!(store.verify_journal().unwrap().is_intact());
    assert_eq!(
        store
            .sale(&SaleId::new(format!("T1-sale-{}", committed.len() + 1)))
            .unwrap(),
        None
    );
    drop(store);
    // Space freed: selling goes on.
    mount(&["-o", "remount,size=16m"], dir.path());
    let mut store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    let (sale, movements) = sale(9_999);
    store.complete_sale(&sale, &movements).unwrap();
    drop(store);
}

#[test]
fn a_read_only_data_partition_is_reported() {
    if !inside_private_mount_namespace("a_read_only_data_partition_is_reported") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    mount(&["-t", "tmpfs", "-o", "size=8m", "tmpfs"], dir.path());
    let (sale, movements) = sale(1);
    Store::open(dir.path(), DeviceId::new("T1"))
        .unwrap()
        .complete_sale(&sale, &movements)
        .unwrap();
    mount(&["-o", "remount,ro"], dir.path());
    let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::ReadOnly, "{error}");
    assert!(
        error.to_string().starts_with(&format!(
            "the data directory {} cannot be written",
            dir.path().display()
        )),
        "{error}"
    );
    assert!(error.to_string().contains("mounted read-write"));
    // A fresh terminal on a read-only partition gets the same message, not a half-made store.
    let empty = dir.path().join("new");
    let error = Store::open(&empty, DeviceId::new("T2")).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::ReadOnly, "{error}");
    mount(&["-o", "remount,rw"], dir.path());
    let store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    assert_eq!(store.sale(&sale.id).unwrap(), Some(sale));
}
