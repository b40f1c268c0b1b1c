//! Finding input devices as they come and go: a directory of `event*` nodes, listed and
//! compared with the previous listing.
//!
//! Polling at a bounded interval rather than inotify: `/dev/input` nodes appear before udev
//! has set their permissions, so a node that fails to open must be retried anyway, and a
//! listing every half second costs nothing next to a till's work.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::DeviceError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceChange {
    Added(PathBuf),
    Removed(PathBuf),
}

/// Remembers the `event*` entries of one directory.
#[derive(Debug)]
pub struct DirectoryWatcher {
    directory: PathBuf,
    known: BTreeSet<PathBuf>,
    /// Nodes left out for the device limit, reported once each.
    refused: BTreeSet<PathBuf>,
    device_count_max: usize,
}

impl DirectoryWatcher {
    pub fn new(directory: impl Into<PathBuf>, device_count_max: usize) -> DirectoryWatcher {
        DirectoryWatcher {
            directory: directory.into(),
            known: BTreeSet::new(),
            refused: BTreeSet::new(),
            device_count_max,
        }
    }

    /// Drops `path` from what is known, so that the next listing reports it as added if it
    /// is still there.
    pub fn forget(&mut self, path: &Path) {
        self.known.remove(path);
    }

    /// Lists the directory and returns what changed since the last call (removals first,
    /// then additions, each in path order). Devices beyond `device_count_max` are reported
    /// as errors once and left out, so a flood of nodes cannot grow the reader without bound.
    pub fn poll(&mut self) -> Result<(Vec<DeviceChange>, Vec<DeviceError>), DeviceError> {
        let entries = std::fs::read_dir(&self.directory).map_err(|source| DeviceError::Watch {
            path: self.directory.clone(),
            source,
        })?;
        let mut current = BTreeSet::new();
        for entry in entries {
            let entry = entry.map_err(|source| DeviceError::Watch {
                path: self.directory.clone(),
                source,
            })?;
            if entry.file_name().to_string_lossy().starts_with("event") {
                current.insert(entry.path());
            }
        }
        let mut changes: Vec<DeviceChange> = self
            .known
            .difference(&current)
            .cloned()
            .map(DeviceChange::Removed)
            .collect();
        self.known.retain(|path| current.contains(path));
        self.refused.retain(|path| current.contains(path));
        let mut refused = Vec::new();
        for path in current {
            if self.known.contains(&path) {
                continue;
            }
            if self.known.len() >= self.device_count_max {
                if self.refused.insert(path.clone()) {
                    refused.push(DeviceError::TooManyDevices {
                        path,
                        limit: self.device_count_max,
                    });
                }
                continue;
            }
            self.refused.remove(&path);
            self.known.insert(path.clone());
            changes.push(DeviceChange::Added(path));
        }
        Ok((changes, refused))
    }
}
