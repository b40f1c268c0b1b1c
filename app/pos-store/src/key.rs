//! The database key: a random device secret made on first start, kept in the data directory
//! (mode 0600), never in the image; the SQLCipher key is derived from it.
//!
//! KDF: `key = HMAC-SHA-256(device secret, "pos-store sqlcipher key v1")`, passed to SQLCipher
//! as a raw 256-bit key (`PRAGMA key = "x'…'"`). The secret is 32 random bytes, so one HMAC is
//! a sound derivation (the HKDF-expand step); SQLCipher's own PBKDF2 (256,000 rounds, ~150 ms)
//! exists to stretch weak passphrases and would only slow every start.
//!
//! Rekeying writes the next secret beside the current one before the database is rekeyed, and
//! replaces the current one after: a power cut at any point leaves a secret that opens the
//! database (see [`Secrets::candidates`]).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{EACCES, ENOSPC, EROFS, Result, StoreError};

pub const SECRET_FILE: &str = "device.secret";
pub const NEXT_SECRET_FILE: &str = "device.secret.next";
const SECRET_LEN: usize = 32;
const KDF_LABEL: &[u8] = b"pos-store sqlcipher key v1";

/// A raw 256-bit SQLCipher key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct RawKey([u8; 32]);

impl std::fmt::Debug for RawKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawKey(..)")
    }
}

impl RawKey {
    pub fn derive(secret: &[u8; SECRET_LEN]) -> RawKey {
        let mut key = [0u8; 32];
        // HMAC takes keys of any length; the error branch cannot be reached, and would leave
        // an all-zero key that opens nothing rather than a panic.
        if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
            mac.update(KDF_LABEL);
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        RawKey(key)
    }

    /// The value for `PRAGMA key` / `PRAGMA rekey`: a blob literal, so SQLCipher skips its KDF.
    pub fn pragma_literal(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }
}

/// The secret files of one data directory.
pub struct Secrets {
    dir: PathBuf,
}

impl Secrets {
    pub fn new(dir: &Path) -> Secrets {
        Secrets {
            dir: dir.to_path_buf(),
        }
    }

    pub fn current_path(&self) -> PathBuf {
        self.dir.join(SECRET_FILE)
    }

    fn next_path(&self) -> PathBuf {
        self.dir.join(NEXT_SECRET_FILE)
    }

    /// The keys that may open the database, most likely first: the current secret, then a
    /// secret left by a rekey that a power cut interrupted. `None` when no secret exists.
    pub fn candidates(&self) -> Result<Vec<(PathBuf, RawKey)>> {
        let mut keys = Vec::new();
        for path in [self.current_path(), self.next_path()] {
            if let Some(secret) = read_secret(&path)? {
                keys.push((path, RawKey::derive(&secret)));
            }
        }
        Ok(keys)
    }

    /// Makes the first secret of a new terminal. Refuses to replace an existing one.
    pub fn create(&self) -> Result<RawKey> {
        let secret = random_secret(&self.dir)?;
        write_secret(&self.current_path(), &secret)?;
        sync_dir(&self.dir)?;
        Ok(RawKey::derive(&secret))
    }

    /// Step 1 of a rekey: the next secret is made durable before the database uses it.
    pub fn prepare_next(&self) -> Result<RawKey> {
        let secret = random_secret(&self.dir)?;
        let next = self.next_path();
        remove_if_exists(&next)?;
        write_secret(&next, &secret)?;
        sync_dir(&self.dir)?;
        Ok(RawKey::derive(&secret))
    }

    /// Step 2 of a rekey, once the database uses the next key: it becomes the current one.
    pub fn promote_next(&self) -> Result<()> {
        let (next, current) = (self.next_path(), self.current_path());
        fs::rename(&next, &current).map_err(|source| StoreError::File { path: next, source })?;
        sync_dir(&self.dir)
    }

    /// Drops a next secret the database never started using.
    pub fn discard_next(&self) -> Result<()> {
        let next = self.next_path();
        if !next.exists() {
            return Ok(());
        }
        remove_if_exists(&next)?;
        sync_dir(&self.dir)
    }
}

fn random_secret(dir: &Path) -> Result<[u8; SECRET_LEN]> {
    let mut secret = [0u8; SECRET_LEN];
    getrandom::fill(&mut secret).map_err(|error| StoreError::File {
        path: dir.to_path_buf(),
        source: std::io::Error::other(format!("no randomness for the device secret: {error}")),
    })?;
    Ok(secret)
}

fn read_secret(path: &Path) -> Result<Option<[u8; SECRET_LEN]>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::File {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut bytes = Vec::with_capacity(SECRET_LEN);
    Read::take(&mut file, SECRET_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| StoreError::File {
            path: path.to_path_buf(),
            source,
        })?;
    let secret: [u8; SECRET_LEN] =
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::KeyDamaged {
                path: path.to_path_buf(),
                reason: format!("{} bytes instead of {SECRET_LEN}", bytes.len()),
            })?;
    Ok(Some(secret))
}

fn write_secret(path: &Path, secret: &[u8; SECRET_LEN]) -> Result<()> {
    let file_error = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    // create_new: an existing secret is never overwritten; 0600: only the terminal's user
    // can read it.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| writable_error(path, source))?;
    file.write_all(secret).map_err(file_error)?;
    file.sync_all().map_err(file_error)
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::File {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Makes a create or rename in `dir` survive a power cut.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::File {
            path: dir.to_path_buf(),
            source,
        })
}

pub(crate) fn writable_error(path: &Path, source: std::io::Error) -> StoreError {
    match source.raw_os_error() {
        Some(EROFS | EACCES) => StoreError::ReadOnly {
            path: path.parent().unwrap_or(path).to_path_buf(),
            reason: source.to_string(),
        },
        Some(ENOSPC) => StoreError::DiskFull,
        _ => StoreError::File {
            path: path.to_path_buf(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_stable_and_depends_on_the_secret() {
        let a = RawKey::derive(&[1; 32]);
        assert_eq!(a, RawKey::derive(&[1; 32]));
        assert_ne!(a, RawKey::derive(&[2; 32]));
        assert_eq!(format!("{a:?}"), "RawKey(..)");
        let literal = a.pragma_literal();
        assert!(
            literal.starts_with("\"x'") && literal.ends_with("'\""),
            "{literal}"
        );
        assert_eq!(literal.len(), 3 + 64 + 2);
    }

    #[test]
    fn the_secret_is_private_and_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::new(dir.path());
        let key = secrets.create().unwrap();
        let mode = fs::metadata(secrets.current_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(secrets.create().is_err());
        assert_eq!(secrets.candidates().unwrap()[0].1, key);
    }

    #[test]
    fn a_short_secret_is_reported_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SECRET_FILE), b"short").unwrap();
        let error = Secrets::new(dir.path()).candidates().unwrap_err();
        assert!(
            error.to_string().contains("5 bytes instead of 32"),
            "{error}"
        );
    }
}
