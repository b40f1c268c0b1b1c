//! Project automation, run as `cargo xtask <task>`.
//!
//! Build and check logic lives here, in Rust, so that CI and a developer run exactly the same
//! steps; `.ci/run` is only a thin wrapper that calls these tasks.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Debian packages the workspace needs to build and test.
///
/// `pkg-config` and `libudev-dev` are needed by `serialport` (and through it the printer
/// drivers) at build time.
const APT_PACKAGES: &[&str] = &["pkg-config", "libudev-dev"];

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci      format check, clippy with warnings denied, and the whole test suite
  test    the whole test suite only
  deps    install the Debian packages the build and the tests need (needs root)
";

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("ci") => ci(),
        Some("test") => test(),
        Some("deps") => deps(),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

fn ci() -> Result<()> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    test()
}

fn test() -> Result<()> {
    cargo(&["test", "--workspace", "--locked"])
}

fn deps() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|package| !is_installed(package))
        .collect();
    if missing.is_empty() {
        println!("all Debian packages present: {}", APT_PACKAGES.join(" "));
        return Ok(());
    }
    run(Command::new("apt-get").arg("update").arg("-q"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(Command::new(cargo).args(args))
}

fn run(command: &mut Command) -> Result<()> {
    eprintln!("$ {command:?}");
    let status = command
        .status()
        .with_context(|| format!("could not start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}
