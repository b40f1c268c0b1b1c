//! The image's factory reset (`image/rootfs/usr/lib/open-pos/factory-reset`) run on a data
//! partition like the box's: a tmpfs mounted in a mount namespace of the test's own
//! (`unshare`), holding a shop's store, configuration, logs and RAUC's state. With the request
//! the service screen writes, everything goes and the partition stays; without it, nothing is
//! touched; on a folder that is not a mounted partition it refuses, so a missing `/data` can
//! never make it erase the root filesystem's folder of the same name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pos_service::maintenance::{FACTORY_RESET_REQUEST, RESET_WORD, request_factory_reset};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../image/rootfs/usr/lib/open-pos/factory-reset")
}

/// A shop's data partition, as the appliance lays it out.
const SHOP_FILES: &[&str] = &[
    "pos/pos.db",
    "pos/pos.key",
    "pos/terminal.toml",
    "pos/receipts/T1-000001.bin",
    "rauc/central.raucs",
    "log/journal/system.journal",
    "updates/open-pos-1.5.0.raucb",
];

/// Runs the script on `data` after `prepare` (shell, in `data`), in a namespace where `data`
/// is a fresh tmpfs (`mounted`) or stays a plain folder; what is left in `data` afterwards
/// (sorted paths), whether the script succeeded, and what it said.
fn run(data: &Path, mounted: bool, request: Option<&str>) -> (Vec<String>, bool, String) {
    let mut prepare = String::new();
    for file in SHOP_FILES {
        prepare.push_str(&format!(
            "mkdir -p \"$(dirname '{file}')\" && echo data > '{file}' && "
        ));
    }
    if let Some(request) = request {
        prepare.push_str(&format!(
            "printf '%s' '{request}' > pos/{FACTORY_RESET_REQUEST} && "
        ));
    }
    let shell = format!(
        "set -e; {mount} cd \"$1\"; {prepare} true; \
         sh \"$2\" \"$1\" > \"$1.said\" 2>&1 && echo ok > \"$1.status\" || echo failed > \"$1.status\"; \
         find . -mindepth 1 | sort > \"$1.left\"",
        mount = if mounted {
            "mount -t tmpfs pos-data \"$1\";"
        } else {
            ""
        }
    );
    let output = Command::new("unshare")
        .args(["--map-root-user", "--mount", "sh", "-c", &shell, "sh"])
        .arg(data)
        .arg(script())
        .output()
        .expect("unshare (util-linux) runs the script in a mount namespace");
    assert!(
        output.status.success(),
        "the namespace could not be set up: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read =
        |suffix: &str| std::fs::read_to_string(format!("{}.{suffix}", data.display())).unwrap();
    let left = read("left")
        .lines()
        .map(|line| line.trim_start_matches("./").to_owned())
        .collect();
    (left, read("status").trim() == "ok", read("said"))
}

#[test]
fn a_requested_reset_empties_the_data_partition_and_keeps_it() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // The request exactly as the service screen writes it.
    let staging = tempfile::tempdir().unwrap();
    let request = request_factory_reset(staging.path(), RESET_WORD, Some("marc"), 1).unwrap();
    let request = std::fs::read_to_string(request).unwrap();

    let (left, ok, said) = run(&data, true, Some(&request));
    assert!(ok, "{said}");
    // The data directory itself stays (the terminal's unit needs it); nothing in it does.
    assert_eq!(left, ["pos"], "{said}");
    assert!(said.contains("approved_by=marc"), "{said}");
    assert!(said.contains("factory reset done"), "{said}");
}

#[test]
fn without_a_request_nothing_is_erased() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let (left, ok, said) = run(&data, true, None);
    assert!(ok, "{said}");
    for file in SHOP_FILES {
        assert!(
            left.iter().any(|path| path == file),
            "{file} was erased: {said}"
        );
    }
    assert!(said.contains("no factory reset was asked for"), "{said}");
}

#[test]
fn a_folder_that_is_not_the_mounted_partition_is_never_erased() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let (left, ok, said) = run(&data, false, Some("approved_by=marc\n"));
    assert!(!ok, "it must refuse: {said}");
    assert!(said.contains("is not mounted; not erasing"), "{said}");
    for file in SHOP_FILES {
        assert!(
            left.iter().any(|path| path == file),
            "{file} was erased: {said}"
        );
    }
}
