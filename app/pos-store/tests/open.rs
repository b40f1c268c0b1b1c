//! Opening the store: encryption at rest, and every way opening can fail, each with a clear
//! message and the file left untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use pos_core::id::DeviceId;
use pos_store::{ErrorKind, Store, StoreError};
use support::{file_bytes, open, raw, sale};

#[test]
fn the_file_on_disk_is_encrypted_and_holds_nothing_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, movements) = sale(1);
    {
        let mut store = open(dir.path());
        store.complete_sale(&sale, &movements).unwrap();
    }
    let bytes = file_bytes(dir.path());
    let wal = fs::read(dir.path().join("pos.db-wal")).unwrap_or_default();
    for content in [&bytes, &wal] {
        assert!(!content.starts_with(b"SQLite format 3"));
        let name = sale.lines[0].product.name.as_bytes();
        let total = sale.total.amount().to_string();
        for needle in [
            name,
            total.as_bytes(),
            sale.id.as_str().as_bytes(),
            b"sale_completed",
        ] {
            assert!(
                !content.windows(needle.len()).any(|w| w == needle),
                "found {:?} in clear",
                String::from_utf8_lossy(needle)
            );
        }
    }
    // Plain SQLite cannot read it.
    let plain = rusqlite::Connection::open(dir.path().join("pos.db")).unwrap();
    let error = plain
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_err();
    assert_eq!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase)
    );
    // With the key it reads back.
    let store = open(dir.path());
    assert_eq!(
        store.sale_by_receipt(&sale.receipt_number).unwrap(),
        Some(sale)
    );
}

#[test]
fn the_device_secret_is_made_once_private_and_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let secret = dir.path().join("device.secret");
    let first = fs::read(&secret).unwrap();
    assert_eq!(first.len(), 32);
    assert_eq!(
        fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    drop(open(dir.path()));
    assert_eq!(fs::read(&secret).unwrap(), first);
}

#[test]
fn a_wrong_key_is_refused_and_the_file_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, movements) = sale(1);
    open(dir.path()).complete_sale(&sale, &movements).unwrap();
    let before = file_bytes(dir.path());
    fs::remove_file(dir.path().join("device.secret")).unwrap();
    fs::write(dir.path().join("device.secret"), [7u8; 32]).unwrap();
    let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::Key);
    assert!(matches!(error, StoreError::WrongKey { .. }));
    assert!(
        error
            .to_string()
            .contains("cannot be decrypted with this terminal's key"),
        "{error}"
    );
    assert!(error.to_string().contains("left untouched"));
    assert_eq!(file_bytes(dir.path()), before);
}

#[test]
fn a_missing_key_is_refused_without_making_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, movements) = sale(1);
    open(dir.path()).complete_sale(&sale, &movements).unwrap();
    let before = file_bytes(dir.path());
    fs::remove_file(dir.path().join("device.secret")).unwrap();
    let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
    assert!(matches!(error, StoreError::KeyMissing { .. }), "{error}");
    assert!(error.to_string().contains("device secret"));
    assert!(
        !dir.path().join("device.secret").exists(),
        "no new secret over old data"
    );
    assert_eq!(file_bytes(dir.path()), before);
}

#[test]
fn a_truncated_file_is_reported_as_damaged() {
    for cut in [|len: u64| len / 2 / 4096 * 4096, |len: u64| len - 100] {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = open(dir.path());
            for n in 1..=30 {
                let (sale, movements) = sale(n);
                store.complete_sale(&sale, &movements).unwrap();
            }
        }
        let path = dir.path().join("pos.db");
        let length = fs::metadata(&path).unwrap().len();
        let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(cut(length)).unwrap();
        drop(file);
        let before = file_bytes(dir.path());
        let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
        assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
        assert!(error.to_string().contains("is damaged"), "{error}");
        assert_eq!(file_bytes(dir.path()), before);
    }
}

#[test]
fn a_plain_sqlite_file_is_not_taken_for_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let plain = rusqlite::Connection::open(dir.path().join("pos.db")).unwrap();
    plain
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(plain);
    let before = file_bytes(dir.path());
    let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
    assert!(matches!(error, StoreError::NotEncrypted { .. }), "{error}");
    assert_eq!(file_bytes(dir.path()), before);
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, movements) = sale(1);
    open(dir.path()).complete_sale(&sale, &movements).unwrap();
    let newer = pos_store::migrate::latest_version() + 1;
    raw(dir.path())
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let before = file_bytes(dir.path());
    let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::SchemaTooNew);
    assert_eq!(
        error.to_string(),
        format!(
            "the store was written by a newer software version (schema {newer}, this software knows up to {}); update the terminal software instead of rolling it back. The data was left untouched",
            newer - 1
        )
    );
    assert_eq!(file_bytes(dir.path()), before);
    assert_eq!(
        raw(dir.path())
            .query_row("SELECT count(*) FROM sale", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        1
    );
}

#[test]
fn rekeying_replaces_the_key_and_the_old_one_no_longer_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, movements) = sale(1);
    let old_secret;
    {
        let mut store = open(dir.path());
        store.complete_sale(&sale, &movements).unwrap();
        old_secret = fs::read(dir.path().join("device.secret")).unwrap();
        store.rekey().unwrap();
    }
    assert_ne!(
        fs::read(dir.path().join("device.secret")).unwrap(),
        old_secret
    );
    assert!(!dir.path().join("device.secret.next").exists());
    assert_eq!(
        open(dir.path())
            .sale_by_receipt(&sale.receipt_number)
            .unwrap(),
        Some(sale)
    );
    fs::remove_file(dir.path().join("device.secret")).unwrap();
    fs::write(dir.path().join("device.secret"), &old_secret).unwrap();
    assert!(matches!(
        Store::open(dir.path(), DeviceId::new("T1")),
        Err(StoreError::WrongKey { .. })
    ));
}

#[test]
fn a_rekey_cut_short_by_power_loss_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (sale, movements) = sale(1);
    open(dir.path()).complete_sale(&sale, &movements).unwrap();
    let secrets = pos_store::key::Secrets::new(dir.path());
    // Cut after the next secret was written, before the database used it.
    secrets.prepare_next().unwrap();
    let store = open(dir.path());
    assert!(store.sale(&sale.id).unwrap().is_some());
    assert!(!dir.path().join("device.secret.next").exists());
    drop(store);
    // Cut after the database was rekeyed, before the secret was promoted.
    let next = secrets.prepare_next().unwrap();
    raw(dir.path())
        .execute_batch(&format!("PRAGMA rekey = {};", next.pragma_literal()))
        .unwrap();
    let store = open(dir.path());
    assert!(store.sale(&sale.id).unwrap().is_some());
    assert_eq!(secrets.candidates().unwrap().len(), 1);
    assert_eq!(secrets.candidates().unwrap()[0].1, next);
}

#[test]
fn a_file_of_garbage_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let garbage: Vec<u8> = (0..8 * 4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(dir.path().join("pos.db"), &garbage).unwrap();
    let error = Store::open(dir.path(), DeviceId::new("T1")).err().unwrap();
    // Encrypted pages that fail their MAC cannot tell a wrong key from damage: the message
    // names both, and the file stays as it was for whoever investigates.
    assert_eq!(error.kind(), ErrorKind::Key);
    assert!(
        error.to_string().contains("or the file is damaged"),
        "{error}"
    );
    assert_eq!(file_bytes(dir.path()), garbage);
}
