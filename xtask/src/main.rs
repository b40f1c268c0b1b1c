//! Project automation, run as `cargo xtask <task>`.
//!
//! Build and check logic lives here, in Rust, so that CI and a developer run exactly the same
//! steps; `.ci/run` is only a thin wrapper that calls these tasks.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Debian packages the workspace needs to build and test.
///
/// `pkg-config` and `libudev-dev` are needed by `serialport` (and through it the printer
/// drivers) at build time. `libfontconfig1-dev` and `libfreetype-dev` are linked by Slint's
/// text layout in `pos-ui` (its tests and any binary that shows the screen).
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "libudev-dev",
    "libfontconfig1-dev",
    "libfreetype-dev",
];

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci      install missing Debian packages, then format check, clippy with warnings denied,
          and the whole test suite: what CI runs
  test    the whole test suite only
  deps    install the Debian packages the build and the tests need (root, or sudo)
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
    deps()?;
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
    eprintln!("installing Debian packages: {}", missing.join(" "));
    run(privileged("apt-get").arg("update").arg("-q"))?;
    run(privileged("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// `program` as root: directly when we are root, through sudo otherwise.
fn privileged(program: &str) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if is_root {
        Command::new(program)
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg(program);
        sudo
    }
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
