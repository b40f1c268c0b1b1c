//! The terminal's bootable disk image: a GPT disk with an EFI system partition (GRUB), two root
//! filesystem slots for RAUC (A and B) and a data partition, built from Debian packages with
//! mmdebstrap, the files under `image/` and the release build of the terminal program.
//!
//! This module owns the disk layout, the package list, the kernel command line and GRUB's
//! environment block; what runs on the terminal is in the files under `image/`. It never touches
//! a real block device: every filesystem is made in a file (`mkfs.ext4 -d`, `mkfs.vfat` and
//! mtools, `sfdisk` on the disk file). Only mmdebstrap needs root, to give the files of the root
//! filesystem their owners.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run_quiet;

/// The Debian release the image is made from.
pub const SUITE: &str = "bookworm";

/// Where the image's packages come from, unless `--mirror` says otherwise.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// The files that go onto the disk, relative to the workspace root.
pub const IMAGE_DIR: &str = "image";

pub const MIB: u64 = 1024 * 1024;

/// GPT partition type GUIDs.
pub(crate) const TYPE_ESP: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
pub(crate) const TYPE_ROOT_X86_64: &str = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
pub(crate) const TYPE_LINUX_DATA: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

/// One partition of the disk. `name` is its GPT name, which `system.conf`, `fstab` and the
/// kernel command line refer to as `/dev/disk/by-partlabel/<name>` or `PARTLABEL=<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub name: &'static str,
    pub type_guid: &'static str,
    pub start_mib: u64,
    pub size_mib: u64,
}

/// Which image: the product, or the test image that also reports its state on a serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Product,
    Test,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Product => "product",
            Variant::Test => "test",
        }
    }
}

/// The disk layout. GRUB's `grub.cfg` names the root slots by position (`gpt2`, `gpt3`), so
/// their order here is fixed.
pub fn partitions() -> Vec<Partition> {
    lay_out(&[
        ("esp", TYPE_ESP, 64),
        ("root-a", TYPE_ROOT_X86_64, SLOT_MIB),
        ("root-b", TYPE_ROOT_X86_64, SLOT_MIB),
        ("data", TYPE_LINUX_DATA, 256),
    ])
}

/// Partitions `(name, type, MiB)` one after the other from the first MiB.
pub fn lay_out(layout: &[(&'static str, &'static str, u64)]) -> Vec<Partition> {
    let mut start_mib = 1;
    layout
        .iter()
        .map(|&(name, type_guid, size_mib)| {
            let partition = Partition {
                name,
                type_guid,
                start_mib,
                size_mib,
            };
            start_mib += size_mib;
            partition
        })
        .collect()
}

/// Each root slot's size: the root filesystem and room for later releases to grow into.
pub const SLOT_MIB: u64 = 1024;

/// The disk's size: every partition plus 1 MiB in front (protective MBR, GPT) and 1 MiB behind
/// (the backup GPT).
pub fn disk_size_mib(partitions: &[Partition]) -> u64 {
    partitions
        .iter()
        .map(|p| p.start_mib + p.size_mib)
        .max()
        .unwrap_or(1)
        + 1
}

/// The partition table as an `sfdisk` script, in 512-byte sectors.
pub fn sfdisk_script(partitions: &[Partition]) -> String {
    let sectors_per_mib = MIB / 512;
    let mut script = String::from("label: gpt\nunit: sectors\n");
    for p in partitions {
        script.push_str(&format!(
            "start={}, size={}, type={}, name=\"{}\"\n",
            p.start_mib * sectors_per_mib,
            p.size_mib * sectors_per_mib,
            p.type_guid,
            p.name
        ));
    }
    script
}

/// The kernel command line after `root=… ro rauc.slot=…`, which `grub.cfg` adds itself.
///
/// The product keeps the screen quiet and its console on the display only. The test image also
/// puts the console on the first serial port, which the host records.
pub fn kernel_cmdline(variant: Variant) -> String {
    let quiet = "quiet loglevel=3 systemd.show_status=false rd.udev.log_level=3 \
                 vt.global_cursor_default=0 panic=10";
    match variant {
        Variant::Product => format!("console=tty1 {quiet}"),
        Variant::Test => format!("console=tty1 console=ttyS0,115200 {quiet}"),
    }
}

/// `grub.cfg` with the kernel command line filled in.
pub fn grub_cfg(template: &str, cmdline: &str) -> Result<String> {
    if !template.contains("@CMDLINE@") {
        bail!("the grub.cfg template has no @CMDLINE@ to put the kernel command line in");
    }
    Ok(template.replace("@CMDLINE@", cmdline))
}

/// GRUB's environment at the factory: A first, both slots good and untried (B holds the same
/// root filesystem as A until the first update replaces it).
pub fn factory_grubenv() -> BTreeMap<String, String> {
    [
        ("ORDER", "A B"),
        ("A_OK", "1"),
        ("B_OK", "1"),
        ("A_TRY", "0"),
        ("B_TRY", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The size of GRUB's environment block file.
pub const GRUBENV_SIZE: usize = 1024;
const GRUBENV_HEADER: &str = "# GRUB Environment Block\n";

/// GRUB's environment block (`grubenv`) holding `vars`, in the format `grub-editenv` writes:
/// a header line, `key=value` lines, and `#` padding to exactly 1024 bytes.
pub fn grubenv_block(vars: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let mut block = String::from(GRUBENV_HEADER);
    block.push_str("# WARNING: Do not edit this file by tools other than grub-editenv!!!\n");
    for (key, value) in vars {
        if key.is_empty() || key.contains(['=', '\n']) || value.contains('\n') {
            bail!("`{key}={value}` cannot be stored in GRUB's environment block");
        }
        block.push_str(&format!("{key}={value}\n"));
    }
    if block.len() > GRUBENV_SIZE {
        bail!("GRUB's environment does not fit in {GRUBENV_SIZE} bytes");
    }
    let mut bytes = block.into_bytes();
    bytes.resize(GRUBENV_SIZE, b'#');
    Ok(bytes)
}

/// The variables in a GRUB environment block.
pub fn parse_grubenv(block: &[u8]) -> Result<BTreeMap<String, String>> {
    let text = std::str::from_utf8(block).context("GRUB's environment block is not text")?;
    if !text.starts_with(GRUBENV_HEADER) {
        bail!("not a GRUB environment block (its first line is not `{GRUBENV_HEADER}`)");
    }
    Ok(text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// Whether the terminal's manifest offers a `kms` feature (the full-screen UI on the display),
/// read from its `[features]` table.
pub fn has_kms_feature(cargo_toml: &str) -> bool {
    let mut in_features = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features
            && line
                .split_once('=')
                .is_some_and(|(name, _)| name.trim() == "kms")
        {
            return true;
        }
    }
    false
}

/// The libraries a program loads, from `ldd`'s output (`name => /path (address)` lines).
pub fn shared_libraries(ldd_output: &str) -> Vec<PathBuf> {
    ldd_output
        .lines()
        .filter_map(|line| line.split_once("=>"))
        .filter_map(|(_, rest)| rest.split_whitespace().next())
        .filter(|path| path.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// The package that `dpkg -S` names as the owner of a file (`package:arch: /path`).
pub fn owning_package(dpkg_search_output: &str) -> Option<String> {
    let line = dpkg_search_output.lines().next()?;
    let (packages, _) = line.split_once(": ")?;
    // A diverted or shared file lists several packages, comma-separated; any of them has it.
    let first = packages.split(',').next()?.trim();
    Some(first.split(':').next().unwrap_or(first).to_owned())
}

/// Debian packages every image has, besides what the terminal program links to.
pub const BASE_PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "udev",
    "dbus",
    "linux-image-amd64",
    "initramfs-tools",
    // RAUC, and grub-editenv (in grub-common) which RAUC calls to change grubenv.
    "rauc",
    "grub-common",
    // The zone files the store's time zone (summer time included) is read from.
    "tzdata",
    // mkfs.ext4 for the data partition's first boot; loadkeys for the console keymap.
    "e2fsprogs",
    "kbd",
    // The display, touch screen and keys for the UI (LinuxKMS with libinput and xkbcommon).
    "libinput10",
    "libxkbcommon0",
    "xkb-data",
];

/// Files dpkg leaves out of the image: documentation, translations, and kernel modules for
/// hardware a till does not have (sound, wireless, cameras and TV, InfiniBand, discrete GPUs;
/// Intel graphics stay, as many till PCs have them). Debian 12's kernel packages ship their
/// modules under /lib, which dpkg matches even though /lib links to /usr/lib.
pub const DPKG_EXCLUDES: &[&str] = &[
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    "/lib/modules/*/kernel/sound/*",
    "/lib/modules/*/kernel/drivers/net/wireless/*",
    "/lib/modules/*/kernel/drivers/media/*",
    "/lib/modules/*/kernel/drivers/infiniband/*",
    "/lib/modules/*/kernel/drivers/gpu/drm/amd/*",
    "/lib/modules/*/kernel/drivers/gpu/drm/nouveau/*",
    "/lib/modules/*/kernel/drivers/gpu/drm/radeon/*",
    "/lib/modules/*/kernel/net/wireless/*",
    "/lib/modules/*/kernel/net/mac80211/*",
    "/lib/modules/*/kernel/net/bluetooth/*",
];

/// Units enabled in every image (they are under `image/rootfs/etc/systemd/system`).
pub const ENABLED_UNITS: &[&str] = &[
    "pos-terminal.service",
    "pos-data-layout.service",
    "pos-health.service",
    "rauc.service",
    "rauc-mark-good.service",
    "pos-console-keys.service",
    "pos-factory-reset.service",
    "pos-factory-reset.path",
    "pos-reboot.path",
    "pos-network.service",
    "pos-network.path",
    // Wired network by DHCP (`/usr/lib/systemd/network/80-open-pos-wired.network`) for the
    // fleet; nothing waits for it, so a till without a cable starts as fast.
    "systemd-networkd.service",
];

/// Units enabled in the test image only (under `image/test-rootfs`).
pub const TEST_UNITS: &[&str] = &["pos-diagnostics.service", "pos-diagnostics-log.service"];

/// Units masked so that nothing offers a person a login or a shell, no key combination
/// (Ctrl+Alt+Del, Alt+Up) starts anything, and nothing tries to change the system behind
/// the update's back.
pub const MASKED_UNITS: &[&str] = &[
    "getty@.service",
    "serial-getty@.service",
    "autovt@.service",
    "console-getty.service",
    "container-getty@.service",
    "getty.target",
    "getty-static.service",
    "debug-shell.service",
    "rescue.service",
    "emergency.service",
    "ctrl-alt-del.target",
    // Alt+Up on the console asks init for kbrequest.target, which would start a rescue shell.
    "kbrequest.target",
    // Debian's package housekeeping: the root filesystem is read-only and only a signed
    // bundle changes it, so these would only wake the till up to fail.
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "dpkg-db-backup.timer",
];

/// GRUB modules in the EFI program: enough to read the GPT, FAT and ext4, the environment
/// block, and to run `grub.cfg`.
const GRUB_MODULES: &[&str] = &[
    "part_gpt",
    "fat",
    "ext2",
    "normal",
    "linux",
    "configfile",
    "loadenv",
    "test",
    "echo",
    "regexp",
    "sleep",
    "reboot",
    "all_video",
    "efi_gop",
];

/// Everything one build needs.
pub struct ImageSpec<'a> {
    pub variant: Variant,
    /// The terminal program (a release build).
    pub terminal: &'a Path,
    /// The certificate terminals trust for update bundles.
    pub keyring: &'a Path,
    /// The software's version (`VERSION_ID` of the image's os-release, which the terminal
    /// shows and reports to the fleet) and the build it comes from.
    pub version: &'a str,
    pub build: &'a str,
    pub mirror: &'a str,
    /// Extra Debian packages: the libraries the terminal program links to.
    pub extra_packages: &'a [String],
    /// Scratch space; emptied first.
    pub work: &'a Path,
    /// The disk image to write.
    pub out: &'a Path,
}

/// What was built.
pub struct Built {
    pub disk: PathBuf,
    /// Bytes the disk image would take if flashed as is.
    pub disk_bytes: u64,
    /// Bytes of the disk image that hold data (its allocated blocks; the rest is sparse).
    pub allocated_bytes: u64,
    /// Bytes used in the root filesystem.
    pub rootfs_bytes: u64,
}

/// Builds the disk image described by `spec`.
pub fn build(spec: &ImageSpec<'_>) -> Result<Built> {
    let root = crate::workspace_root();
    let image_dir = root.join(IMAGE_DIR);
    crate::empty_dir(spec.work)?;
    let rootfs = spec.work.join("rootfs");

    bootstrap(spec, &rootfs)?;
    customise(spec, &image_dir, &rootfs)?;
    let rootfs_bytes = directory_bytes(&rootfs)?;

    let root_image = spec.work.join("rootfs.ext4");
    run_quiet(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "rootfs", "-b", "4096", "-d"])
            .arg(&rootfs)
            .arg(&root_image)
            .arg(format!("{SLOT_MIB}M")),
    )?;
    // Packed into rootfs.ext4 (kept: a bundle is made from it); the tree is half a GiB.
    crate::remove_dir_if_present(&rootfs)?;

    let esp_image = spec.work.join("esp.vfat");
    let template = std::fs::read_to_string(image_dir.join("grub/grub.cfg"))
        .context("reading image/grub/grub.cfg")?;
    let layout = partitions();
    make_esp(
        &grub_cfg(&template, &kernel_cmdline(spec.variant))?,
        Some(&grubenv_block(&factory_grubenv())?),
        partition(&layout, "esp")?.size_mib,
        spec.work,
        &esp_image,
    )?;
    assemble(
        &layout,
        &[
            ("esp", &esp_image),
            ("root-a", &root_image),
            ("root-b", &root_image),
        ],
        spec.out,
    )?;
    let disk_bytes = std::fs::metadata(spec.out)?.len();
    Ok(Built {
        disk: spec.out.to_path_buf(),
        disk_bytes,
        allocated_bytes: allocated_bytes(spec.out)?,
        rootfs_bytes,
    })
}

fn bootstrap(spec: &ImageSpec<'_>, rootfs: &Path) -> Result<()> {
    let mut packages: Vec<String> = BASE_PACKAGES.iter().map(|p| (*p).to_owned()).collect();
    packages.extend(spec.extra_packages.iter().cloned());
    packages.sort();
    packages.dedup();
    let mut mmdebstrap = Command::new("mmdebstrap");
    mmdebstrap
        .args(["--variant=apt", "--mode=root", "--quiet"])
        .arg(format!("--include={}", packages.join(",")));
    for pattern in DPKG_EXCLUDES {
        mmdebstrap.arg(format!("--dpkgopt=path-exclude={pattern}"));
    }
    // Keep the copyright files: the image is distributed, and they say under which terms.
    mmdebstrap.arg("--dpkgopt=path-include=/usr/share/doc/*/copyright");
    mmdebstrap.arg(SUITE).arg(rootfs).arg(spec.mirror);
    eprintln!("$ {mmdebstrap:?}");
    run_quiet(&mut mmdebstrap).context("mmdebstrap could not build the root filesystem")
}

fn customise(spec: &ImageSpec<'_>, image_dir: &Path, rootfs: &Path) -> Result<()> {
    copy_tree(&image_dir.join("rootfs"), rootfs)?;
    if spec.variant == Variant::Test {
        copy_tree(&image_dir.join("test-rootfs"), rootfs)?;
    }
    std::fs::copy(image_dir.join("fstab"), rootfs.join("etc/fstab"))?;
    std::fs::create_dir_all(rootfs.join("etc/rauc"))?;
    std::fs::copy(
        image_dir.join("rauc/system.conf"),
        rootfs.join("etc/rauc/system.conf"),
    )?;
    std::fs::copy(spec.keyring, rootfs.join("etc/rauc/keyring.pem"))
        .with_context(|| format!("copying the keyring {}", spec.keyring.display()))?;
    // Debian's /etc/os-release points here; the system is Open POS, of this version.
    let os_release_path = rootfs.join("usr/lib/os-release");
    if os_release_path.symlink_metadata().is_ok() {
        std::fs::remove_file(&os_release_path)?;
    }
    std::fs::write(&os_release_path, os_release(spec.version, spec.build)?)?;
    let terminal = rootfs.join("usr/bin/pos-terminal");
    std::fs::copy(spec.terminal, &terminal)
        .with_context(|| format!("copying {}", spec.terminal.display()))?;
    run_quiet(Command::new("chmod").arg("0755").arg(&terminal))?;

    // Mount points, and the state that lives on /data.
    for dir in ["data", "boot/efi"] {
        std::fs::create_dir_all(rootfs.join(dir))?;
    }
    for dir in ["var/log", "var/lib/systemd"] {
        crate::empty_dir(&rootfs.join(dir))?;
    }
    // dbus reads the machine id here; tmpfiles cannot make the link on a read-only root.
    let dbus_id = rootfs.join("var/lib/dbus/machine-id");
    if dbus_id.symlink_metadata().is_ok() {
        std::fs::remove_file(&dbus_id)?;
    }
    std::fs::create_dir_all(rootfs.join("var/lib/dbus"))?;
    std::os::unix::fs::symlink("/etc/machine-id", &dbus_id)?;
    // An empty machine-id: systemd gives each boot one, as a read-only root cannot keep it.
    std::fs::write(rootfs.join("etc/machine-id"), "")?;
    std::fs::write(rootfs.join("etc/hostname"), "open-pos\n")?;
    // No root password and no shell for anyone: nobody logs in.
    run_quiet(Command::new("systemd-sysusers").arg(format!("--root={}", rootfs.display())))?;

    let systemctl_root = format!("--root={}", rootfs.display());
    let mut enabled: Vec<&str> = ENABLED_UNITS.to_vec();
    if spec.variant == Variant::Test {
        enabled.extend_from_slice(TEST_UNITS);
    }
    run_quiet(
        Command::new("systemctl")
            .arg(&systemctl_root)
            .arg("enable")
            .args(&enabled),
    )?;
    run_quiet(
        Command::new("systemctl")
            .arg(&systemctl_root)
            .arg("mask")
            .args(MASKED_UNITS),
    )?;

    // Apt's lists and caches are of no use on a read-only root.
    for dir in ["var/lib/apt/lists", "var/cache/apt"] {
        let path = rootfs.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
            std::fs::create_dir_all(&path)?;
        }
    }
    for link in ["vmlinuz", "initrd.img"] {
        if !rootfs.join(link).exists() {
            bail!("the root filesystem has no /{link} for GRUB to start");
        }
    }
    Ok(())
}

/// Copies `from` over `into`, keeping modes (`cp -a`).
fn copy_tree(from: &Path, into: &Path) -> Result<()> {
    run_quiet(
        Command::new("cp")
            .arg("-a")
            .arg("--no-preserve=ownership")
            .arg(format!("{}/.", from.display()))
            .arg(into),
    )
}

/// Makes the EFI system partition's filesystem: GRUB's EFI program with `grub_cfg` and, for
/// the A/B disk, GRUB's environment block.
pub fn make_esp(
    grub_cfg: &str,
    grubenv: Option<&[u8]>,
    size_mib: u64,
    work: &Path,
    esp_image: &Path,
) -> Result<()> {
    let grub_efi = work.join("BOOTX64.EFI");
    run_quiet(
        Command::new("grub-mkimage")
            .args(["-O", "x86_64-efi", "-p", "/EFI/BOOT", "-o"])
            .arg(&grub_efi)
            .args(GRUB_MODULES),
    )
    .context("grub-mkimage (package grub-efi-amd64-bin) could not make GRUB's EFI program")?;
    let cfg = work.join("grub.cfg");
    std::fs::write(&cfg, grub_cfg)?;
    let mut files = vec![grub_efi, cfg];
    if let Some(block) = grubenv {
        let env = work.join("grubenv");
        std::fs::write(&env, block)?;
        files.push(env);
    }

    if esp_image.exists() {
        std::fs::remove_file(esp_image)?;
    }
    // 4 KiB clusters: GRUB rewrites grubenv in place and needs its 1 KiB in one cluster.
    run_quiet(
        Command::new("mkfs.vfat")
            .args(["-C", "-n", "ESP", "-s", "8"])
            .arg(esp_image)
            .arg((size_mib * 1024).to_string()),
    )?;
    let image = esp_image.display().to_string();
    run_quiet(Command::new("mmd").args(["-i", &image, "::EFI", "::EFI/BOOT"]))?;
    run_quiet(
        Command::new("mcopy")
            .args(["-i", &image])
            .args(&files)
            .arg("::EFI/BOOT/"),
    )
}

/// Writes a sparse disk: the partition table of `layout`, and each filesystem of `contents`
/// into the partition it names. Partitions without contents stay empty (the product's data
/// partition is formatted on first boot).
pub fn assemble(layout: &[Partition], contents: &[(&str, &Path)], out: &Path) -> Result<()> {
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if out.exists() {
        std::fs::remove_file(out)?;
    }
    let disk = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    disk.set_len(disk_size_mib(layout) * MIB)?;
    drop(disk);
    let mut sfdisk = Command::new("sfdisk");
    sfdisk
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(out);
    pipe_into(&mut sfdisk, sfdisk_script(layout).as_bytes())?;

    let mut disk = std::fs::OpenOptions::new().write(true).open(out)?;
    for (name, source) in contents {
        let partition = partition(layout, name)?;
        let bytes = std::fs::metadata(source)?.len();
        if bytes > partition.size_mib * MIB {
            bail!(
                "{} ({bytes} bytes) does not fit in partition {} ({} MiB)",
                source.display(),
                partition.name,
                partition.size_mib
            );
        }
        copy_sparse(source, &mut disk, partition.start_mib * MIB)?;
    }
    disk.sync_all()?;
    Ok(())
}

/// Copies `source` into `disk` at `offset`, skipping blocks of zeros so the disk stays sparse.
pub fn copy_sparse(source: &Path, disk: &mut File, offset: u64) -> Result<()> {
    let mut input = File::open(source).with_context(|| format!("opening {}", source.display()))?;
    let mut buffer = vec![0u8; MIB as usize];
    let mut position = offset;
    loop {
        let read = read_full(&mut input, &mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        for chunk in buffer[..read].chunks(64 * 1024) {
            if chunk.iter().any(|byte| *byte != 0) {
                disk.seek(SeekFrom::Start(position))?;
                disk.write_all(chunk)?;
            }
            position += chunk.len() as u64;
        }
    }
}

fn read_full(input: &mut File, buffer: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = input.read(&mut buffer[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

fn pipe_into(command: &mut Command, input: &[u8]) -> Result<()> {
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {command:?}"))?;
    child.stdin.take().context("no stdin")?.write_all(input)?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "{command:?} failed with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn directory_bytes(dir: &Path) -> Result<u64> {
    let output = Command::new("du")
        .args(["-s", "-B1", "--apparent-size"])
        .arg(dir)
        .output()?;
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .context("du gave no size")
}

/// Bytes of `file` that hold data (a sparse file's holes take none).
pub fn allocated_bytes(file: &Path) -> Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata(file)?.blocks() * 512)
}

/// Copies one partition of `disk` into its own file, sparse.
pub fn extract_partition(disk: &Path, partition: &Partition, out: &Path) -> Result<()> {
    run_quiet(
        Command::new("dd")
            .arg(format!("if={}", disk.display()))
            .arg(format!("of={}", out.display()))
            .arg("bs=1M")
            .arg(format!("skip={}", partition.start_mib))
            .arg(format!("count={}", partition.size_mib))
            .arg("conv=sparse")
            .arg("status=none"),
    )
    .with_context(|| format!("copying partition {} out of the image", partition.name))
}

/// The image's os-release: Open POS at `version` (also what its update bundles are called),
/// built from `build`, on Debian. `version` must be a valid `VERSION_ID`.
pub fn os_release(version: &str, build: &str) -> Result<String> {
    let allowed = |c: char| c.is_ascii_digit() || c.is_ascii_lowercase() || "._-".contains(c);
    if version.is_empty() || !version.chars().all(allowed) {
        bail!("the version {version:?} may hold only 0-9, a-z, '.', '_' and '-'");
    }
    if !build
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        bail!("the build {build:?} may hold only letters, digits, '.', '_' and '-'");
    }
    Ok(format!(
        "PRETTY_NAME=\"Open POS {version}\"\nNAME=\"Open POS\"\nID=open-pos\nID_LIKE=debian\n\
         VERSION=\"{version} ({build})\"\nVERSION_ID={version}\nBUILD_ID={build}\n"
    ))
}

/// The terminal program as it goes onto the disk: a release build, with only the full-screen
/// UI (`--no-default-features --features kms`, no desktop window) when the terminal has that
/// feature.
pub struct TerminalBuild {
    pub binary: PathBuf,
    pub kms: bool,
}

/// Builds the terminal program in release mode.
pub fn build_terminal() -> Result<TerminalBuild> {
    let root = crate::workspace_root();
    let manifest = std::fs::read_to_string(root.join("app/pos-terminal/Cargo.toml"))
        .context("reading app/pos-terminal/Cargo.toml")?;
    let kms = has_kms_feature(&manifest);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["build", "--release", "--locked", "-p", "pos-terminal"]);
    if kms {
        command.args(["--no-default-features", "--features", "kms"]);
    }
    eprintln!("$ {command:?}");
    let status = command.status().context("could not start cargo")?;
    if !status.success() {
        bail!("building the terminal program failed with {status}");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    Ok(TerminalBuild {
        binary: target.join("release/pos-terminal"),
        kms,
    })
}

/// The Debian packages that hold the libraries `binary` links to, found on this (Debian 12)
/// build machine with `ldd` and `dpkg -S`.
pub fn library_packages(binary: &Path) -> Result<Vec<String>> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .context("could not start ldd")?;
    if !output.status.success() {
        bail!(
            "ldd {}: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut packages = Vec::new();
    for library in shared_libraries(&String::from_utf8_lossy(&output.stdout)) {
        // dpkg knows a file by the path its package ships, which is /lib or /usr/lib.
        let mut candidates = vec![library.clone()];
        if let Ok(real) = std::fs::canonicalize(&library) {
            candidates.push(real);
        }
        let alternatives: Vec<PathBuf> = candidates
            .iter()
            .filter_map(|path| {
                let text = path.to_str()?;
                text.strip_prefix("/usr")
                    .map(PathBuf::from)
                    .or_else(|| Some(PathBuf::from(format!("/usr{text}"))))
            })
            .collect();
        candidates.extend(alternatives);
        let package = candidates.iter().find_map(|path| {
            let found = Command::new("dpkg").arg("-S").arg(path).output().ok()?;
            found
                .status
                .success()
                .then(|| owning_package(&String::from_utf8_lossy(&found.stdout)))
                .flatten()
        });
        match package {
            Some(package) => packages.push(package),
            None => bail!(
                "no Debian package holds {}, which the terminal links to",
                library.display()
            ),
        }
    }
    packages.sort();
    packages.dedup();
    Ok(packages)
}

/// The partition called `name` in `layout`.
pub fn partition<'a>(layout: &'a [Partition], name: &str) -> Result<&'a Partition> {
    layout
        .iter()
        .find(|p| p.name == name)
        .with_context(|| format!("the disk has no partition `{name}`"))
}

/// The path mtools takes for the ESP inside `disk` (`disk@@offset`).
fn esp_in_disk(disk: &Path) -> Result<String> {
    let esp = partition(&partitions(), "esp")?.clone();
    Ok(format!("{}@@{}", disk.display(), esp.start_mib * MIB))
}

/// GRUB's environment as stored on the ESP of `disk`, read without mounting anything.
pub fn read_grubenv(disk: &Path) -> Result<BTreeMap<String, String>> {
    let output = Command::new("mcopy")
        .args(["-n", "-i", &esp_in_disk(disk)?, "::EFI/BOOT/grubenv", "-"])
        .output()
        .context("could not start mcopy (package mtools)")?;
    if !output.status.success() {
        bail!(
            "reading grubenv from {}: {}",
            disk.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_grubenv(&output.stdout)
}

/// Replaces GRUB's environment on the ESP of `disk` with `vars`.
pub fn write_grubenv(disk: &Path, vars: &BTreeMap<String, String>, work: &Path) -> Result<()> {
    std::fs::create_dir_all(work)?;
    let block = work.join("grubenv");
    std::fs::write(&block, grubenv_block(vars)?)?;
    run_quiet(
        Command::new("mcopy")
            .args(["-o", "-n", "-i", &esp_in_disk(disk)?])
            .arg(&block)
            .arg("::EFI/BOOT/grubenv"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_release_names_the_version_the_terminal_reports() {
        let text = os_release("1.4.0", "e06b782").unwrap();
        assert!(text.lines().any(|line| line == "VERSION_ID=1.4.0"));
        assert!(text.lines().any(|line| line == "ID=open-pos"));
        for wrong in ["", "1.4 beta", "1.4.0+git", "V1"] {
            assert!(os_release(wrong, "x").is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn partitions_follow_each_other_and_the_slots_are_the_same_size() {
        let layout = partitions();
        let names: Vec<&str> = layout.iter().map(|p| p.name).collect();
        assert_eq!(names, ["esp", "root-a", "root-b", "data"]);
        for pair in layout.windows(2) {
            assert_eq!(pair[0].start_mib + pair[0].size_mib, pair[1].start_mib);
        }
        assert_eq!(layout[1].size_mib, layout[2].size_mib);
        assert_eq!(disk_size_mib(&layout), 1 + 64 + 2 * SLOT_MIB + 256 + 1);
    }

    #[test]
    fn sfdisk_script_names_every_partition_in_sectors() {
        let script = sfdisk_script(&partitions());
        assert!(script.starts_with("label: gpt\n"));
        assert!(script.contains(&format!(
            "start=2048, size=131072, type={TYPE_ESP}, name=\"esp\""
        )));
        assert!(script.contains("start=133120, size=2097152, type=4F68BCE3"));
        assert!(script.contains("name=\"data\""));
    }

    /// system.conf, fstab and grub.cfg must name the partitions the disk has.
    #[test]
    fn configuration_files_name_the_partitions_of_the_layout() {
        let root = crate::workspace_root().join(IMAGE_DIR);
        let system_conf = std::fs::read_to_string(root.join("rauc/system.conf")).unwrap();
        assert!(system_conf.contains("device=/dev/disk/by-partlabel/root-a"));
        assert!(system_conf.contains("device=/dev/disk/by-partlabel/root-b"));
        assert!(system_conf.contains("grubenv=/boot/efi/EFI/BOOT/grubenv"));
        assert!(system_conf.contains("data-directory=/data/"));
        let fstab = std::fs::read_to_string(root.join("fstab")).unwrap();
        assert!(fstab.contains("PARTLABEL=esp     /boot/efi"));
        assert!(fstab.contains("PARTLABEL=data    /data"));
        let grub = std::fs::read_to_string(root.join("grub/grub.cfg")).unwrap();
        let layout = partitions();
        assert_eq!(layout[1].name, "root-a");
        assert!(grub.contains("set part=gpt2\n    set label=root-a"));
        assert!(grub.contains("set part=gpt3\n    set label=root-b"));
    }

    #[test]
    fn grub_cfg_gets_the_command_line_or_an_error() {
        let cfg = grub_cfg("linux /vmlinuz ro @CMDLINE@\n", "quiet").unwrap();
        assert_eq!(cfg, "linux /vmlinuz ro quiet\n");
        assert!(grub_cfg("linux /vmlinuz\n", "quiet").is_err());
    }

    #[test]
    fn only_the_test_image_puts_a_console_on_the_serial_port() {
        assert!(!kernel_cmdline(Variant::Product).contains("ttyS"));
        assert!(kernel_cmdline(Variant::Test).contains("console=ttyS0"));
        assert!(kernel_cmdline(Variant::Product).contains("quiet"));
    }

    #[test]
    fn grubenv_round_trips_and_is_one_kibibyte() {
        let env = factory_grubenv();
        let block = grubenv_block(&env).unwrap();
        assert_eq!(block.len(), GRUBENV_SIZE);
        assert_eq!(parse_grubenv(&block).unwrap(), env);
        assert_eq!(env["ORDER"], "A B");
    }

    #[test]
    fn grubenv_refuses_what_grub_could_not_read() {
        let mut env = BTreeMap::new();
        env.insert("A".to_owned(), "x\ny".to_owned());
        assert!(grubenv_block(&env).is_err());
        env.clear();
        env.insert("BIG".to_owned(), "x".repeat(2000));
        assert!(grubenv_block(&env).is_err());
        assert!(parse_grubenv(b"ORDER=A B\n").is_err());
    }

    /// Our block is what grub-editenv itself writes and reads.
    #[test]
    fn grub_editenv_reads_our_block_and_we_read_its() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("grubenv");
        std::fs::write(&file, grubenv_block(&factory_grubenv()).unwrap()).unwrap();
        let listed = Command::new("grub-editenv")
            .arg(&file)
            .arg("list")
            .output()
            .unwrap();
        assert!(listed.status.success());
        let listed = String::from_utf8(listed.stdout).unwrap();
        assert!(listed.contains("ORDER=A B\n"), "{listed}");
        assert!(listed.contains("B_TRY=0\n"), "{listed}");
        let set = Command::new("grub-editenv")
            .arg(&file)
            .args(["set", "B_TRY=1", "ORDER=B A"])
            .status()
            .unwrap();
        assert!(set.success());
        let env = parse_grubenv(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(env["B_TRY"], "1");
        assert_eq!(env["ORDER"], "B A");
        assert_eq!(env["A_OK"], "1");
    }

    #[test]
    fn kms_feature_is_found_only_in_the_features_table() {
        assert!(has_kms_feature(
            "[package]\nname = \"x\"\n\n[features]\ndefault = []\nkms = [\"pos-ui/kms\"]\n"
        ));
        assert!(!has_kms_feature(
            "[package]\nname = \"x\"\n[dependencies]\nkms = \"1\"\n"
        ));
        assert!(!has_kms_feature("[features]\nkmsx = []\n"));
    }

    #[test]
    fn ldd_output_gives_library_paths() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibinput.so.10 => /lib/x86_64-linux-gnu/libinput.so.10 (0x00007f)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            shared_libraries(ldd),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libinput.so.10"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6")
            ]
        );
    }

    #[test]
    fn dpkg_search_output_gives_the_package() {
        assert_eq!(
            owning_package("libinput10:amd64: /usr/lib/x86_64-linux-gnu/libinput.so.10\n"),
            Some("libinput10".to_owned())
        );
        assert_eq!(
            owning_package("libc6:amd64, libc6-x:amd64: /lib/x.so\n"),
            Some("libc6".to_owned())
        );
        assert_eq!(owning_package(""), None);
    }

    #[test]
    fn sparse_copy_keeps_data_and_holes() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        let mut data = vec![0u8; 3 * 64 * 1024];
        data[70_000] = 7;
        data[3 * 64 * 1024 - 1] = 9;
        std::fs::write(&source, &data).unwrap();
        let disk_path = dir.path().join("disk");
        let mut disk = File::create(&disk_path).unwrap();
        disk.set_len(4 * MIB).unwrap();
        copy_sparse(&source, &mut disk, MIB).unwrap();
        let written = std::fs::read(&disk_path).unwrap();
        assert_eq!(&written[MIB as usize..MIB as usize + data.len()], &data[..]);
        assert!(written[..MIB as usize].iter().all(|b| *b == 0));
    }
}
