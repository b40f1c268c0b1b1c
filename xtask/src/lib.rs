//! The project's automation: what `cargo xtask` runs, as a library so that integration tests
//! build real artefacts (signing keys, bundles) with exactly the code a release uses.
//!
//! It drives host tools (openssl, rauc, mkfs, mmdebstrap, QEMU, oelint-adv, PostgreSQL's server)
//! and never ships on a terminal, so it reports failures with `anyhow` like the binary it serves.

pub mod bundle;
pub mod host_fleet;
pub mod image;
pub mod installer;
pub mod pki;
pub mod postgres;
pub mod qemu;
pub mod qemu_till;
pub mod qemu_update;
pub mod yocto;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The root of the workspace this crate is in.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Removes `dir` and everything in it, if it is there.
pub fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Makes `dir` empty: what an earlier run left there is removed.
pub fn empty_dir(dir: &Path) -> Result<()> {
    remove_dir_if_present(dir)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Runs `command` with its output captured, shown only when it fails.
pub fn run_quiet(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("could not start {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
