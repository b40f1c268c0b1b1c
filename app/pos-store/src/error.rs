//! The store's errors, worded for the technician who reads them on the service screen.

use std::path::PathBuf;

/// What went wrong, coarsely, so the terminal can react (show a service screen, ask for
/// space, refuse to start) without matching on messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The database cannot be decrypted with this device's key, or the key is missing.
    Key,
    /// The file is damaged or is not this terminal's store.
    Corrupt,
    /// The database was written by a newer version of the software.
    SchemaTooNew,
    /// The disk is full.
    DiskFull,
    /// The data directory cannot be written.
    ReadOnly,
    /// The caller asked for something the data does not allow (a sale recorded twice…).
    Refused,
    /// Bad input in an import file.
    Import,
    /// Anything else from the filesystem or SQLite.
    Io,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store {path} cannot be decrypted with this terminal's key: the device secret was \
         replaced or belongs to another terminal, or the file is damaged. The file was left \
         untouched; restore the matching device secret or the data partition from a backup"
    )]
    WrongKey { path: PathBuf },
    #[error(
        "the device secret {secret} is missing but the store {path} exists: without the secret \
         the sales in it cannot be read. The file was left untouched; restore the secret from a \
         backup of the data partition"
    )]
    KeyMissing { path: PathBuf, secret: PathBuf },
    #[error("the device secret {path} is damaged ({reason}); the store was left untouched")]
    KeyDamaged { path: PathBuf, reason: String },
    #[error(
        "the store {path} is damaged ({reason}). The file was left untouched; restore the data \
         partition from a backup or send the terminal for service"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the store {path} is a plain, unencrypted SQLite file, not this terminal's encrypted \
         store; it was left untouched"
    )]
    NotEncrypted { path: PathBuf },
    #[error(
        "the store was written by a newer software version (schema {found}, this software knows \
         up to {supported}); update the terminal software instead of rolling it back. The data \
         was left untouched"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error(
        "upgrading the store to schema version {version} ({name}) failed, nothing was changed: {source}"
    )]
    Migration {
        version: u32,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the disk is full: the last change was not saved, everything saved before is safe. Free space on the data partition"
    )]
    DiskFull,
    #[error(
        "the data directory {path} cannot be written ({reason}); check that the data partition is mounted read-write"
    )]
    ReadOnly { path: PathBuf, reason: String },
    #[error("sale {0} is already recorded; it was not recorded twice")]
    DuplicateSale(String),
    #[error("receipt number {0} is already used by another sale")]
    DuplicateReceipt(String),
    #[error("{0}")]
    Refused(String),
    #[error("import refused, nothing was imported: {} bad row(s); first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Import(Vec<crate::csv_io::RowError>),
    #[error("a stored value is unreadable: {0}")]
    Decode(String),
    #[error("file error on {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::WrongKey { .. }
            | StoreError::KeyMissing { .. }
            | StoreError::KeyDamaged { .. } => ErrorKind::Key,
            StoreError::Corrupt { .. }
            | StoreError::NotEncrypted { .. }
            | StoreError::Decode(_) => ErrorKind::Corrupt,
            StoreError::SchemaTooNew { .. } => ErrorKind::SchemaTooNew,
            StoreError::DiskFull => ErrorKind::DiskFull,
            StoreError::ReadOnly { .. } => ErrorKind::ReadOnly,
            StoreError::DuplicateSale(_)
            | StoreError::DuplicateReceipt(_)
            | StoreError::Refused(_) => ErrorKind::Refused,
            StoreError::Import(_) => ErrorKind::Import,
            StoreError::Migration { source, .. } => sqlite_kind(source),
            StoreError::Sqlite(source) => sqlite_kind(source),
            StoreError::File { source, .. } => match source.raw_os_error() {
                Some(ENOSPC) => ErrorKind::DiskFull,
                Some(EROFS | EACCES) => ErrorKind::ReadOnly,
                _ => ErrorKind::Io,
            },
        }
    }
}

// errno values on Linux, the only platform the terminal runs on.
pub(crate) const ENOSPC: i32 = 28;
pub(crate) const EROFS: i32 = 30;
pub(crate) const EACCES: i32 = 13;

fn sqlite_kind(error: &rusqlite::Error) -> ErrorKind {
    use rusqlite::ffi::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => ErrorKind::DiskFull,
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            ErrorKind::ReadOnly
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => ErrorKind::Corrupt,
        _ => ErrorKind::Io,
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        // Disk full is the one SQLite failure a cashier can act on; name it plainly.
        if error.sqlite_error_code() == Some(rusqlite::ffi::ErrorCode::DiskFull) {
            return StoreError::DiskFull;
        }
        StoreError::Sqlite(error)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> StoreError {
        StoreError::Decode(error.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
