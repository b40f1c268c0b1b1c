//! Project automation, run as `cargo xtask <task>`: the command line over the `xtask` library.
//!
//! Build and check logic lives here, in Rust, so that CI and a developer run exactly the same
//! steps; `.ci/run` is only a thin wrapper that calls these tasks.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use xtask::{bundle, image, installer, pki, postgres, qemu, workspace_root, yocto};

/// Debian packages the workspace needs to build and test.
///
/// `pkg-config` and `libudev-dev` are needed by `serialport` (and through it the printer
/// drivers) at build time; `perl` and `make` build the OpenSSL that `pos-store`'s bundled
/// SQLCipher links; `mount` and `util-linux` (`unshare`) run its full-disk and read-only
/// tests; `rauc`, `squashfs-tools`, `e2fsprogs` and `openssl` build, sign and check update
/// bundles; `dbus-daemon` gives the RAUC service a private bus in the tests; `poppler-utils`
/// (pdftotext) reads receipt and report PDFs back in the tests; `zbar-tools` (zbarimg) scans
/// the barcodes and QR codes of printed receipts in the tests; `libfontconfig1-dev` and
/// `libfreetype-dev` are linked by Slint's text layout in `pos-ui`, and `libinput-dev` and
/// `libxkbcommon-dev` by its full-screen backend (the terminal's `kms` feature); `postgresql` is the server
/// the fleet's tests also run on (a private cluster that `test` starts) and gives `psql`;
/// `chromium` is the headless browser the fleet's dashboard tests drive over the DevTools
/// protocol. The
/// disk image
/// (`image`, `qemu-test`) needs `mmdebstrap` (the root filesystem from Debian packages),
/// `systemd` (`systemctl --root` and `systemd-sysusers` on that root), `grub-efi-amd64-bin` and
/// `grub-common` (GRUB's EFI program, `grub-editenv` in the tests), `dosfstools` and `mtools`
/// (the EFI system partition in a file), `fdisk` (`sfdisk`), `bmap-tools` (the `.bmap` for
/// flashing), and `qemu-system-x86` with `ovmf` (the UEFI firmware) to boot it, with `socat`
/// carrying each of the guest's connections to the fleet on the host.
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "libudev-dev",
    "perl",
    "make",
    "mount",
    "util-linux",
    "rauc",
    "squashfs-tools",
    "e2fsprogs",
    "openssl",
    "dbus-daemon",
    "poppler-utils",
    "zbar-tools",
    "libfontconfig1-dev",
    "libfreetype-dev",
    "libinput-dev",
    "libxkbcommon-dev",
    "postgresql",
    "chromium",
    "tzdata",
    "mmdebstrap",
    "systemd",
    "grub-efi-amd64-bin",
    "grub-common",
    "dosfstools",
    "mtools",
    "fdisk",
    "bmap-tools",
    "qemu-system-x86",
    "ovmf",
    "socat",
];

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci            install missing Debian packages, then format check, clippy with warnings
                denied, the Yocto layer lint and the whole test suite: what CI runs
  test          the whole test suite only, with a private PostgreSQL cluster on 127.0.0.1
                for the fleet's tests (POS_FLEET_POSTGRES_URL)
  deps          install the Debian packages the build and the tests need (root, or sudo)
  pki [--out DIR]
                create a development signing PKI for update bundles (default target/pki)
  bundle --rootfs IMAGE --version VERSION [--pki DIR] [--out FILE]
                pack a root filesystem image into a signed verity bundle and check it as a
                terminal would (default PKI target/pki, default output target/bundle/)
  image [--test] [--out FILE] [--pki DIR] [--mirror URL] [--version VERSION]
                build the terminal's bootable disk image (GPT: ESP with GRUB, root slots A
                and B, data) from Debian packages and image/; --test adds the serial-port
                status report qemu-test reads; VERSION (default the workspace's) goes into
                its os-release. Needs root (mmdebstrap). Default output
                target/image/open-pos-{product,test}.img, with a .bmap beside it
  installer [--test] [--image FILE] [--out FILE]
                make the USB installer stick that writes the disk image (default
                target/image/open-pos-{product,test}.img) onto a box's internal disk; default
                output target/image/open-pos-{product,test}-installer.img
  qemu-test [--image FILE] [--pki DIR] [--screenshot PNG]
                boot the test image in QEMU (OVMF, KVM if it works, else TCG) and check the
                lockdown, slot A, the switch to slot B and the fallback to A
  qemu-installer-test [--image FILE] [--stick FILE]
                boot the test installer stick on a QEMU box with a blank disk, check the disk
                it wrote, and boot the box from it
  yocto-crates  regenerate the Yocto layer's crates include from Cargo.lock
  lint-yocto    lint the Yocto layer with oelint-adv (installed from PyPI into target/)
";

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("ci") => ci(),
        Some("test") => test(),
        Some("deps") => deps(),
        Some("pki") => make_pki(),
        Some("bundle") => make_bundle(),
        Some("image") => make_image(image_variant_from_args()).map(|_| ()),
        Some("qemu-test") => qemu_test(),
        Some("installer") => make_installer(image_variant_from_args()).map(|_| ()),
        Some("qemu-installer-test") => qemu_installer_test(),
        Some("yocto-crates") => yocto_crates(),
        Some("lint-yocto") => lint_yocto(),
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
    lint_yocto()?;
    test()?;
    // The whole box: the test image built from Debian packages and booted in QEMU. Disks,
    // bundles and sticks take gigabytes, so what a passed step leaves behind goes first.
    let root = workspace_root();
    report_free_disk("after the tests");
    remove_test_programs(&root.join("target/debug/deps"))?;
    let started = std::time::Instant::now();
    make_image(image::Variant::Test)?;
    report_free_disk("after the image");
    qemu_test()?;
    xtask::remove_dir_if_present(&root.join("target/qemu"))?;
    make_installer(image::Variant::Test)?;
    report_free_disk("after the installer stick");
    qemu_installer_test()?;
    eprintln!("image and qemu-test took {} s", started.elapsed().as_secs());
    Ok(())
}

/// Prints the space left where the build writes, so a full disk is seen coming in the log.
fn report_free_disk(when: &str) {
    let target = workspace_root().join("target");
    let free = Command::new("df")
        .args(["--output=avail", "--block-size=M"])
        .arg(&target)
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .nth(1)
                .map(|line| line.trim().to_owned())
        });
    eprintln!(
        "free disk {when}: {}",
        free.as_deref().unwrap_or("unknown (df failed)")
    );
}

/// Removes the test programs `cargo test` linked (several GiB); what later steps run, the
/// examples and the libraries, stays.
fn remove_test_programs(deps: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut removed = 0u64;
    for entry in std::fs::read_dir(deps).with_context(|| format!("reading {}", deps.display()))? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        let is_program = metadata.is_file()
            && metadata.permissions().mode() & 0o111 != 0
            && Path::new(&entry.file_name()).extension().is_none();
        if is_program {
            std::fs::remove_file(entry.path())?;
            removed += metadata.len();
        }
    }
    eprintln!("removed the passed test programs: {} MiB", removed >> 20);
    Ok(())
}

/// The whole suite; the fleet's tests run on SQLite and on a PostgreSQL cluster started for
/// the run and stopped after it, whatever the outcome.
fn test() -> Result<()> {
    let cluster = postgres::Cluster::start()?;
    eprintln!(
        "PostgreSQL for the fleet's tests on {}",
        cluster.url.split('@').nth(1).unwrap_or("127.0.0.1")
    );
    let cargo_path = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let tested = run(Command::new(cargo_path)
        .args(["test", "--workspace", "--locked"])
        .env("POS_FLEET_POSTGRES_URL", &cluster.url));
    let stopped = cluster.stop();
    tested?;
    stopped
}

/// The value after `--name` on the command line.
fn option(name: &str) -> Option<String> {
    std::env::args().skip_while(|arg| arg != name).nth(1)
}

fn make_pki() -> Result<()> {
    let dir = option("--out").map_or_else(|| workspace_root().join("target/pki"), PathBuf::from);
    let pki = pki::Pki::create(&dir, "Open POS development")?;
    println!(
        "development PKI in {}; terminals trust {}",
        pki.dir.display(),
        pki.keyring().display()
    );
    Ok(())
}

fn make_bundle() -> Result<()> {
    let root = workspace_root();
    let rootfs = option("--rootfs").context("--rootfs IMAGE is required")?;
    let version = option("--version").context("--version VERSION is required")?;
    let pki_dir = option("--pki").map_or_else(|| root.join("target/pki"), PathBuf::from);
    let pki = pki::Pki::open(&pki_dir)?;
    let out = option("--out").map_or_else(
        || root.join(format!("target/bundle/open-pos-{version}.raucb")),
        PathBuf::from,
    );
    let work = root.join("target/bundle/work");
    std::fs::create_dir_all(&work)?;
    let system_conf = std::fs::read_to_string(root.join(bundle::SYSTEM_CONF))
        .with_context(|| format!("reading {}", bundle::SYSTEM_CONF))?;
    let build = git_revision().unwrap_or_else(|| "unknown".to_owned());
    let spec = bundle::BundleSpec {
        rootfs: Path::new(&rootfs),
        version: &version,
        compatible: &bundle::system_compatible(&system_conf)?,
        build: &build,
        format: pos_bundle::BundleFormat::Verity,
    };
    bundle::build(&spec, &pki, &work, &out)?;
    let checked = bundle::check(&out, &pki.keyring(), &system_conf, &work)?;
    println!(
        "{}: version {} for {}, signed and checked",
        out.display(),
        checked.version.as_deref().unwrap_or("?"),
        checked.compatible
    );
    Ok(())
}

fn image_variant_from_args() -> image::Variant {
    if std::env::args().any(|arg| arg == "--test") {
        image::Variant::Test
    } else {
        image::Variant::Product
    }
}

fn make_image(variant: image::Variant) -> Result<PathBuf> {
    let root = workspace_root();
    if !is_root() {
        bail!(
            "building the image needs root: mmdebstrap gives the root filesystem's files their \
             owners (run `sudo cargo xtask image`)"
        );
    }
    let pki_dir = option("--pki").map_or_else(|| root.join("target/pki"), PathBuf::from);
    let pki = if pki_dir.join("keyring.pem").exists() {
        pki::Pki::open(&pki_dir)?
    } else {
        eprintln!(
            "no signing PKI in {}: creating a development one",
            pki_dir.display()
        );
        pki::Pki::create(&pki_dir, "Open POS development")?
    };
    let out = option("--out").map_or_else(
        || root.join(format!("target/image/open-pos-{}.img", variant.name())),
        PathBuf::from,
    );
    let mirror = option("--mirror").unwrap_or_else(|| image::DEFAULT_MIRROR.to_owned());
    let started = std::time::Instant::now();
    let terminal = image::build_terminal()?;
    let libraries = image::library_packages(&terminal.binary)?;
    let version = option("--version").unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned());
    let build = git_revision().unwrap_or_else(|| "unknown".to_owned());
    let spec = image::ImageSpec {
        variant,
        terminal: &terminal.binary,
        keyring: &pki.keyring(),
        version: &version,
        build: &build,
        mirror: &mirror,
        extra_packages: &libraries,
        work: &root.join(format!("target/image/work-{}", variant.name())),
        out: &out,
    };
    let built = image::build(&spec)?;
    let bmap = out.with_extension("bmap");
    run(Command::new("bmaptool")
        .arg("create")
        .arg("-o")
        .arg(&bmap)
        .arg(&out))?;
    println!(
        "{}: {} image, terminal {} ({}), {} MiB disk, {} MiB of data, root filesystem {} MiB; \
         built in {} s",
        built.disk.display(),
        variant.name(),
        terminal.binary.display(),
        if terminal.kms {
            "full-screen UI"
        } else {
            "no UI feature"
        },
        built.disk_bytes / (1024 * 1024),
        built.allocated_bytes / (1024 * 1024),
        built.rootfs_bytes / (1024 * 1024),
        started.elapsed().as_secs()
    );
    Ok(out)
}

fn qemu_test() -> Result<()> {
    let root = workspace_root();
    let disk = option("--image").map_or_else(
        || root.join("target/image/open-pos-test.img"),
        PathBuf::from,
    );
    if !disk.exists() {
        bail!(
            "no test image at {}: build it with `cargo xtask image --test`",
            disk.display()
        );
    }
    let ui = has_ui_feature()?;
    let screenshot = option("--screenshot").map(PathBuf::from);
    let pki = option("--pki").map_or_else(|| root.join("target/pki"), PathBuf::from);
    let summary = qemu::run_suite(&qemu::SuiteSpec {
        disk: &disk,
        work: &root.join("target/qemu"),
        expect_ui: ui,
        screenshot: screenshot.as_deref(),
        pki: &pki,
    })?;
    println!("{summary}");
    Ok(())
}

fn make_installer(variant: image::Variant) -> Result<PathBuf> {
    let root = workspace_root();
    let disk = option("--image").map_or_else(
        || root.join(format!("target/image/open-pos-{}.img", variant.name())),
        PathBuf::from,
    );
    let out = option("--out").map_or_else(
        || {
            root.join(format!(
                "target/image/open-pos-{}-installer.img",
                variant.name()
            ))
        },
        PathBuf::from,
    );
    let started = std::time::Instant::now();
    let version = git_revision().unwrap_or_else(|| "unknown".to_owned());
    let built = installer::build(&installer::InstallerSpec {
        variant,
        image: &disk,
        work: &root.join(format!("target/image/work-installer-{}", variant.name())),
        out: &out,
        version: &version,
    })?;
    println!(
        "{}: installer stick of {} ({} MiB; {} MiB of the image to write), built in {} s",
        built.stick.display(),
        disk.display(),
        built.stick_bytes / (1024 * 1024),
        built.mapped_bytes / (1024 * 1024),
        started.elapsed().as_secs()
    );
    Ok(out)
}

fn qemu_installer_test() -> Result<()> {
    let root = workspace_root();
    let image = option("--image").map_or_else(
        || root.join("target/image/open-pos-test.img"),
        PathBuf::from,
    );
    let stick = option("--stick").map_or_else(
        || root.join("target/image/open-pos-test-installer.img"),
        PathBuf::from,
    );
    if !stick.exists() {
        bail!(
            "no installer stick at {}: make it with `cargo xtask installer --test`",
            stick.display()
        );
    }
    let pki = option("--pki").map_or_else(|| root.join("target/pki"), PathBuf::from);
    let summary = qemu::run_installer_suite(&qemu::InstallerSuiteSpec {
        stick: &stick,
        image: &image,
        work: &root.join("target/qemu-installer"),
        expect_ui: has_ui_feature()?,
        pki: &pki,
    })?;
    println!("{summary}");
    Ok(())
}

fn has_ui_feature() -> Result<bool> {
    let manifest = std::fs::read_to_string(workspace_root().join("app/pos-terminal/Cargo.toml"))
        .context("reading app/pos-terminal/Cargo.toml")?;
    Ok(image::has_kms_feature(&manifest))
}

fn git_revision() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(workspace_root())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn yocto_crates() -> Result<()> {
    let root = workspace_root();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let include = yocto::crates_include(&lock)?;
    std::fs::write(root.join(yocto::CRATES_INCLUDE), include)
        .with_context(|| format!("writing {}", yocto::CRATES_INCLUDE))?;
    println!("wrote {}", yocto::CRATES_INCLUDE);
    Ok(())
}

/// The Yocto release the layer is written for (`LAYERSERIES_COMPAT` in its `layer.conf`).
const YOCTO_RELEASE: &str = "scarthgap";

/// The oelint-adv release the layer is checked with; a newer one may add rules.
const OELINT_ADV: &str = "oelint_adv==9.11.2";

fn lint_yocto() -> Result<()> {
    let root = workspace_root();
    let venv = root.join("target/tools/oelint");
    let oelint = venv.join("bin/oelint-adv");
    if !oelint.is_file() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
        run(Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            OELINT_ADV,
        ]))?;
    }
    let mut files = Vec::new();
    collect_recipes(&root.join("yocto-layer"), &mut files)?;
    files.sort();
    // Any finding, even a warning or an info, fails the lint. The project has no public web
    // home yet: HOMEPAGE and BUGTRACKER are waived until it has one (and the reachability check
    // of HOMEPAGE could not run offline anyway).
    run(Command::new(oelint)
        .args(["--quiet", "--release", YOCTO_RELEASE, "--mode", "all"])
        .args(["--suppress", "oelint.var.mandatoryvar.HOMEPAGE"])
        .args(["--suppress", "oelint.var.suggestedvar.BUGTRACKER"])
        .args(&files)
        // After the files: both options take several values. meta-rauc's variables are known
        // to oelint as the `rauc` layer; the constants file names the rest the layer uses.
        .arg("--constantmods")
        .arg(format!(
            "+{}",
            root.join("yocto-layer/oelint-constants.json").display()
        ))
        .args(["--extra-layer", "rauc"]))
}

fn collect_recipes(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_recipes(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "bb" || ext == "bbappend" || ext == "inc")
        {
            out.push(path);
        }
    }
    Ok(())
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

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// `program` as root: directly when we are root, through sudo otherwise.
fn privileged(program: &str) -> Command {
    if is_root() {
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
