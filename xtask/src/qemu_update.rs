//! The updates the QEMU suite ships to its box through the host's fleet, as an operator would:
//! signed bundles of the disk image's own slot A root filesystem, one that only says it is a
//! newer version, and one whose terminal program cannot start. Owns how those root filesystems
//! differ from the image's (changed in place with `debugfs`, no root needed); `bundle` makes
//! and checks the bundles, `qemu` boots them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::host_fleet::HostFleet;
use crate::image;
use crate::qemu::{Machine, Report};

/// One bundle for the suite.
pub struct SuiteBundle {
    pub bundle: PathBuf,
    /// Its version, which is also the `VERSION_ID` of its root filesystem.
    pub version: String,
}

/// What the suite rolls out.
pub struct SuiteBundles {
    /// The image's software as a newer version.
    pub newer: SuiteBundle,
    /// A version whose terminal program exits at once: it never passes the health check.
    pub broken: SuiteBundle,
}

/// What the broken version has in place of the terminal program.
const BROKEN_TERMINAL: &str = "#!/bin/sh\n\
    echo 'pos-terminal: this build is broken on purpose (the QEMU suite rolls it back)' >&2\n\
    exit 70\n";

/// Makes both bundles from slot A of `disk`, signed by the PKI in `pki` for `compatible`.
pub fn make(disk: &Path, pki: &Path, compatible: &str, work: &Path) -> Result<SuiteBundles> {
    crate::empty_dir(work)?;
    let layout = image::partitions();
    let slot_a = work.join("slot-a.ext4");
    image::extract_partition(disk, image::partition(&layout, "root-a")?, &slot_a)?;
    let os_release =
        crate::bundle::os_release_of(&slot_a)?.context("the image's slot A has no os-release")?;
    let field = |name: &str| {
        crate::bundle::os_release_field(&os_release, name)
            .with_context(|| format!("the image's os-release has no {name}: {os_release}"))
    };
    let (version, build) = (field("VERSION_ID")?, field("BUILD_ID")?);
    let pki = crate::pki::Pki::open(pki)?;
    let one = |suffix: &str, terminal: Option<&str>| -> Result<SuiteBundle> {
        let version = format!("{version}-{suffix}");
        let rootfs = work.join(format!("rootfs-{suffix}.ext4"));
        crate::run_quiet(
            Command::new("cp")
                .arg("--sparse=always")
                .arg(&slot_a)
                .arg(&rootfs),
        )?;
        replace_file(
            &rootfs,
            "/usr/lib/os-release",
            &image::os_release(&version, &build)?,
            0o644,
            work,
        )?;
        if let Some(program) = terminal {
            replace_file(&rootfs, "/usr/bin/pos-terminal", program, 0o755, work)?;
        }
        let bundle = work.join(format!("open-pos-{version}.raucb"));
        crate::bundle::build(
            &crate::bundle::BundleSpec {
                rootfs: &rootfs,
                version: &version,
                compatible,
                build: &build,
                format: pos_bundle::BundleFormat::Verity,
            },
            &pki,
            work,
            &bundle,
        )?;
        std::fs::remove_file(&rootfs)?;
        Ok(SuiteBundle { bundle, version })
    };
    let bundles = SuiteBundles {
        newer: one("update", None)?,
        broken: one("broken", Some(BROKEN_TERMINAL))?,
    };
    std::fs::remove_file(&slot_a)?;
    Ok(bundles)
}

/// How long the box may take from its boot to running an update the fleet offers, or back on
/// its slot after a broken one: polls, the download, RAUC's install, the idle wait before the
/// restart and the next boot, all under TCG.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(900);
/// How long the fleet may take to hear how an update went once the box runs again.
const FEEDBACK_TIMEOUT: Duration = Duration::from_secs(180);

/// Taps on the 1280×800 screen: the service screen from the login screen, for the
/// administrator set up at first boot.
const LOGIN_SERVICE: (u32, u32) = (1251, 26);
const SERVICE_FIRST_PERSON: (u32, u32) = (482, 161);
const SERVICE_KEYS: [(u32, u32); 10] = [
    (1108, 339),
    (1004, 165),
    (1108, 165),
    (1211, 165),
    (1004, 223),
    (1108, 223),
    (1211, 223),
    (1004, 281),
    (1108, 281),
    (1211, 281),
];
const SERVICE_OPEN: (u32, u32) = (1211, 339);
const SERVICE_SOFTWARE: (u32, u32) = (737, 35);
const SERVICE_CLOSE: (u32, u32) = (1205, 35);

/// How the updates went, for the summary.
#[derive(Debug, Clone)]
pub struct UpdateFigures {
    pub bundle_mib: u64,
    /// From the boot that found the rollout to the newer version's report.
    pub newer_running: Duration,
    /// From then to the fleet listing the terminal on the newer version, succeeded.
    pub newer_in_fleet: Duration,
    /// From the broken version's rollout to the box running the newer one again.
    pub broken_rolled_back: Duration,
}

/// With `bundles.newer` rolled out before `machine` booted on slot A: the box installs it
/// into B, restarts when idle, runs it and marks it good, the fleet hears so, and the service
/// screen shows it. Then the broken version: installed into A, started once, failed its
/// health check, given up, the box back on B with its sales, and the fleet hears of the
/// failure. The last report, from B.
pub fn update_and_roll_back(
    machine: &mut Machine,
    fleet: &mut HostFleet,
    bundles: &SuiteBundles,
    work: &Path,
    seen: usize,
) -> Result<(Report, UpdateFigures)> {
    let bundle_mib = std::fs::metadata(&bundles.newer.bundle)?.len() >> 20;
    let newer = &bundles.newer.version;
    let (running, passed) = machine.wait_for_later_report(
        seen,
        UPDATE_TIMEOUT,
        "a boot of slot B with the update",
        |report| report.get("rauc_booted") == "B",
    )?;
    let newer_running = machine.started.elapsed();
    expect_booted(&running, &passed, "B", newer, "the update")?;
    let feedback = Instant::now();
    wait_for_fleet(fleet, newer, "succeeded", "the update")?;
    let newer_in_fleet = feedback.elapsed();
    eprintln!(
        "update: {newer} ran {:.0} s after the boot that found it; the fleet knew {:.0} s later",
        newer_running.as_secs_f64(),
        newer_in_fleet.as_secs_f64()
    );
    look_at_software(machine, work, "qemu-service-updated")?;

    let seen = machine.reports_so_far();
    let broken = Instant::now();
    fleet.roll_out(&bundles.broken.bundle)?;
    let (back, passed) = machine.wait_for_later_report(
        seen,
        UPDATE_TIMEOUT,
        "slot B again after the broken update",
        |report| report.get("rauc_booted") == "B",
    )?;
    let broken_rolled_back = broken.elapsed();
    expect_booted(
        &back,
        &[],
        "B",
        newer,
        "the fallback from the broken update",
    )?;
    if passed.iter().any(|report| report.get("rauc_booted") != "A") {
        bail!("between the broken update and the fallback the box booted {passed:?}, not A once");
    }
    let said = back.get("slot_log");
    for expected in [
        "open-pos health: pos-terminal.service keeps stopping",
        "open-pos slot: the update in slot A failed its health check",
    ] {
        if !said.contains(expected) {
            bail!(
                "the broken update was not given up by its health check: the log says {said:?}, not {expected:?}"
            );
        }
    }
    wait_for_fleet(fleet, newer, "failed", "the broken update")?;
    eprintln!(
        "broken update {}: back on {newer} {:.0} s after its rollout",
        bundles.broken.version,
        broken_rolled_back.as_secs_f64()
    );
    look_at_software(machine, work, "qemu-service-rolled-back")?;
    Ok((
        back,
        UpdateFigures {
            bundle_mib,
            newer_running,
            newer_in_fleet,
            broken_rolled_back,
        },
    ))
}

/// Checks that `report` is a right boot of `slot` on `version`, with no boot in between.
fn expect_booted(
    report: &Report,
    passed: &[Report],
    slot: &str,
    version: &str,
    what: &str,
) -> Result<()> {
    let mut problems = crate::qemu::boot_problems(report, slot, true);
    if report.get("os_version") != version {
        problems.push(format!(
            "it runs version {:?}, not {version}",
            report.get("os_version")
        ));
    }
    if !passed.is_empty() {
        problems.push(format!(
            "{} other boot(s) came first: {passed:?}",
            passed.len()
        ));
    }
    if !problems.is_empty() {
        bail!(
            "after {what} the box is not as it must be:\n  - {}\nreport: {:?}",
            problems.join("\n  - "),
            report.0
        );
    }
    Ok(())
}

/// Waits until the fleet lists the one terminal on `version` with its last update `status`.
fn wait_for_fleet(fleet: &mut HostFleet, version: &str, status: &str, what: &str) -> Result<()> {
    let deadline = Instant::now() + FEEDBACK_TIMEOUT;
    loop {
        let terminals = fleet.updates()?;
        let right = |terminal: &Value| {
            terminal["installed_version"] == version && terminal["status"] == status
        };
        if terminals.len() == 1 && right(&terminals[0]) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "after {what} the fleet does not list the terminal on {version} with its update {status} within {} s: {terminals:?}",
                FEEDBACK_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// Opens the service screen's software page as the administrator, checks it shows `picture`,
/// and closes it again.
fn look_at_software(machine: &Machine, work: &Path, picture: &str) -> Result<()> {
    machine.tap_and_see(work, LOGIN_SERVICE)?;
    machine.tap_and_see(work, SERVICE_FIRST_PERSON)?;
    for digit in crate::qemu::ADMIN_PIN.chars() {
        let key = digit.to_digit(10).context("the PIN is digits")? as usize;
        machine.tap_and_see(work, SERVICE_KEYS[key])?;
    }
    machine.tap_and_see(work, SERVICE_OPEN)?;
    machine.tap_until_screen(work, SERVICE_SOFTWARE, picture, &[])?;
    machine.tap_and_see(work, SERVICE_CLOSE)?;
    Ok(())
}

/// Puts `content` at `path` in the ext4 image `filesystem`, owned by root with `mode`.
fn replace_file(
    filesystem: &Path,
    path: &str,
    content: &str,
    mode: u32,
    work: &Path,
) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let local = work.join("replacement");
    std::fs::write(&local, content)?;
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(mode))?;
    crate::bundle::debugfs(
        filesystem,
        &[
            &format!("rm {path}"),
            &format!("write {} {path}", local.display()),
            &format!("set_inode_field {path} mode 0100{mode:o}"),
            &format!("set_inode_field {path} uid 0"),
            &format!("set_inode_field {path} gid 0"),
        ],
        true,
    )?;
    std::fs::remove_file(&local)?;
    let written = crate::bundle::debugfs(filesystem, &[&format!("cat {path}")], false)?;
    if written != content {
        bail!("debugfs did not put {path} into {}", filesystem.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_inside_a_filesystem_with_its_mode_and_owner() {
        let work = tempfile::tempdir().unwrap();
        let filesystem = crate::bundle::ext4_image(
            &[
                ("usr/lib/os-release", b"VERSION_ID=1.0.0\n"),
                ("usr/bin/pos-terminal", b"\x7fELF"),
            ],
            8,
            work.path(),
            &work.path().join("root.ext4"),
        )
        .unwrap();
        replace_file(
            &filesystem,
            "/usr/bin/pos-terminal",
            BROKEN_TERMINAL,
            0o755,
            work.path(),
        )
        .unwrap();
        let stat =
            crate::bundle::debugfs(&filesystem, &["stat /usr/bin/pos-terminal"], false).unwrap();
        assert!(stat.contains("Mode:  0755"), "{stat}");
        assert!(stat.contains("User:     0   Group:     0"), "{stat}");
        assert_eq!(
            crate::bundle::debugfs(&filesystem, &["cat /usr/lib/os-release"], false).unwrap(),
            "VERSION_ID=1.0.0\n"
        );
        assert!(replace_file(&filesystem, "/no/such/dir/file", "x", 0o644, work.path()).is_err());
    }
}
