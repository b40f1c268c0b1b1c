//! Update bundles: a root filesystem image packed into a signed RAUC bundle in verity format,
//! and the checks every bundle passes before it leaves the build: Debian's `rauc` reads it
//! and verifies its signature against the terminals' keyring, its compatible string is the
//! terminals' own, and its payload matches the signed verity root hash.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use pos_bundle::{Bundle, BundleFormat};

use crate::pki::Pki;
use crate::run_quiet;

/// RAUC's configuration on the terminal, the single source for the image and the Yocto layer.
pub const SYSTEM_CONF: &str = "image/rauc/system.conf";

/// How the bundle's squashfs is compressed. Terminals' kernels need `CONFIG_SQUASHFS_ZSTD`
/// (Debian's has it; the Yocto layer's `pos.cfg` turns it on).
pub const BUNDLE_SQUASHFS_ARGS: &str = "-comp zstd -Xcompression-level 3";

/// What goes into a bundle.
pub struct BundleSpec<'a> {
    pub rootfs: &'a Path,
    pub version: &'a str,
    pub compatible: &'a str,
    pub build: &'a str,
    /// Verity for every bundle that ships. Plain only where the kernel has no device-mapper
    /// to open a verity bundle, as on a CI host; terminals refuse plain bundles.
    pub format: BundleFormat,
}

/// The compatible string terminals are configured with.
pub fn system_compatible(system_conf: &str) -> Result<String> {
    system_conf
        .lines()
        .find_map(|line| line.trim().strip_prefix("compatible="))
        .map(|c| c.trim().to_owned())
        .context("system.conf has no compatible= line")
}

/// The compatible string of the workspace's `system.conf`: every terminal's.
pub fn terminals_compatible() -> Result<String> {
    let path = crate::workspace_root().join(SYSTEM_CONF);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    system_compatible(&text)
}

/// Builds a signed verity bundle at `out` from `spec`, signed by `pki`. A root filesystem
/// whose os-release names a version must name the bundle's: a terminal reports the version
/// its os-release names, and its update agent takes any other as an update that did not start.
pub fn build(spec: &BundleSpec<'_>, pki: &Pki, work: &Path, out: &Path) -> Result<()> {
    if let Some(inside) = os_release_of(spec.rootfs)?
        .as_deref()
        .and_then(|text| os_release_field(text, "VERSION_ID"))
        && inside != spec.version
    {
        bail!(
            "{} is version {inside} (VERSION_ID in its os-release), not {}: a terminal would \
             report {inside} after installing it and count the update as failed",
            spec.rootfs.display(),
            spec.version
        );
    }
    let content = work.join("bundle-content");
    crate::empty_dir(&content)?;
    std::fs::copy(spec.rootfs, content.join("rootfs.ext4"))
        .with_context(|| format!("copying {}", spec.rootfs.display()))?;
    let format = match spec.format {
        BundleFormat::Plain => "plain",
        BundleFormat::Verity => "verity",
        BundleFormat::Crypt => {
            bail!("encrypted bundles are made from verity ones with `rauc encrypt`")
        }
    };
    let manifest = format!(
        "[update]\ncompatible={}\nversion={}\ndescription=Open POS terminal\nbuild={}\n\n\
         [bundle]\nformat={format}\n\n[image.rootfs]\nfilename=rootfs.ext4\n",
        spec.compatible, spec.version, spec.build
    );
    std::fs::write(content.join("manifest.raucm"), manifest)?;
    if out.exists() {
        std::fs::remove_file(out)?;
    }
    run_quiet(
        Command::new("rauc")
            .arg("bundle")
            .arg("--cert")
            .arg(pki.signing_cert())
            .arg("--key")
            .arg(pki.signing_key())
            .arg("--intermediate")
            .arg(pki.intermediate_cert())
            // zstd at a low level: as small as squashfs' default gzip, built in seconds
            // instead of a minute, and quicker for the till to unpack.
            .arg(format!("--mksquashfs-args={BUNDLE_SQUASHFS_ARGS}"))
            .arg(&content)
            .arg(out),
    )
    .context("rauc could not build the bundle")?;
    std::fs::remove_dir_all(&content)?;
    Ok(())
}

/// The os-release of the ext4 root filesystem image `rootfs` (`/etc/os-release`, else
/// `/usr/lib/os-release`, where Debian's link points), if it has one.
pub fn os_release_of(rootfs: &Path) -> Result<Option<String>> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        // `cat` of a missing file or of a link prints nothing on standard output.
        if let Ok(text) = debugfs(rootfs, &[&format!("cat {path}")], false)
            && !text.trim().is_empty()
        {
            return Ok(Some(text));
        }
    }
    Ok(None)
}

/// The value of `name` in os-release `text`, without quotes.
pub fn os_release_field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .map(|value| value.trim().trim_matches('"').to_owned())
}

/// Runs `requests` with debugfs on `filesystem` (`-w`: writable); its standard output.
pub fn debugfs(filesystem: &Path, requests: &[&str], writable: bool) -> Result<String> {
    let mut command = Command::new("debugfs");
    if writable {
        command.arg("-w");
    }
    // One request as an argument, so that standard output is only its answer; several as a
    // script (whose requests debugfs echoes).
    let script = filesystem.with_extension("debugfs");
    if let [request] = requests {
        command.arg("-R").arg(request);
    } else {
        std::fs::write(&script, requests.join("\n") + "\n")?;
        command.arg("-f").arg(&script);
    }
    let output = command.arg(filesystem).output();
    if script.exists() {
        std::fs::remove_file(&script)?;
    }
    let output = output.context("could not start debugfs (package e2fsprogs)")?;
    let errors = String::from_utf8_lossy(&output.stderr);
    // debugfs prints its banner on standard error, and reports a failed request there without
    // failing.
    let failed: Vec<&str> = errors
        .lines()
        .filter(|line| !line.starts_with("debugfs ") && !line.trim().is_empty())
        .filter(|line| !line.starts_with("Allocated inode"))
        .collect();
    if !output.status.success() || !failed.is_empty() {
        bail!(
            "debugfs {} on {}: {}",
            requests.join("; "),
            filesystem.display(),
            failed.join(" / ")
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What a bundle that passed every check says about itself.
#[derive(Debug)]
pub struct Checked {
    pub compatible: String,
    pub version: Option<String>,
}

/// Checks `bundle` as a terminal configured with `system_conf` and trusting `keyring` would.
pub fn check(bundle: &Path, keyring: &Path, system_conf: &str, work: &Path) -> Result<Checked> {
    let conf = work.join("check-system.conf");
    let data = work.join("check-data");
    std::fs::create_dir_all(&data)?;
    std::fs::write(&conf, conf_for_checks(system_conf, keyring, &data))?;
    let output = Command::new("rauc")
        .arg("info")
        .arg("--conf")
        .arg(&conf)
        .arg(bundle)
        .output()
        .context("could not run rauc (Debian package `rauc`)")?;
    if !output.status.success() {
        let reason = String::from_utf8_lossy(&output.stderr);
        let reason: Vec<&str> = reason
            .lines()
            .filter(|line| !line.contains("rauc-Message"))
            .collect();
        bail!("rauc refused the bundle: {}", reason.join(" / "));
    }
    let mut file =
        std::fs::File::open(bundle).with_context(|| format!("opening {}", bundle.display()))?;
    let read = Bundle::read(&mut file)?;
    let expected = system_compatible(system_conf)?;
    if read.manifest.compatible != expected {
        bail!(
            "the bundle is for '{}', but terminals are '{expected}': it would be refused on install",
            read.manifest.compatible
        );
    }
    read.check_payload(&mut file)?;
    Ok(Checked {
        compatible: read.manifest.compatible,
        version: read.manifest.version,
    })
}

/// `system_conf` with its keyring and data directory pointed at `keyring` and `data`.
fn conf_for_checks(system_conf: &str, keyring: &Path, data: &Path) -> String {
    let mut section = "";
    let mut out = String::new();
    for line in system_conf.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
        }
        let replaced = if section == "[keyring]" && trimmed.starts_with("path=") {
            format!("path={}", keyring.display())
        } else if section == "[system]" && trimmed.starts_with("data-directory=") {
            format!("data-directory={}", data.display())
        } else {
            line.to_owned()
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    out
}

/// An ext4 image of `size_mib` holding `files`: a root filesystem to bundle.
pub fn ext4_image(
    files: &[(&str, &[u8])],
    size_mib: u32,
    work: &Path,
    out: &Path,
) -> Result<PathBuf> {
    let tree = work.join("rootfs-tree");
    crate::remove_dir_if_present(&tree)?;
    for (path, content) in files {
        let file = tree.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, content)?;
    }
    if out.exists() {
        std::fs::remove_file(out)?;
    }
    run_quiet(
        Command::new("mkfs.ext4")
            .args(["-q", "-d"])
            .arg(&tree)
            .arg(out)
            .arg(format!("{size_mib}M")),
    )?;
    std::fs::remove_dir_all(&tree)?;
    Ok(out.to_path_buf())
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    fn system_conf() -> String {
        std::fs::read_to_string(crate::workspace_root().join(SYSTEM_CONF)).unwrap()
    }

    /// One development PKI for all tests, and a second, untrusted one.
    fn pkis() -> &'static (tempfile::TempDir, Pki, Pki) {
        static PKIS: OnceLock<(tempfile::TempDir, Pki, Pki)> = OnceLock::new();
        PKIS.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let trusted = Pki::create(&dir.path().join("trusted"), "Open POS").unwrap();
            let stranger = Pki::create(&dir.path().join("stranger"), "Someone Else").unwrap();
            (dir, trusted, stranger)
        })
    }

    #[test]
    fn a_root_filesystem_of_another_version_is_not_bundled_under_this_one() {
        let work = tempfile::tempdir().unwrap();
        let rootfs = ext4_image(
            &[(
                "usr/lib/os-release",
                b"NAME=\"Open POS\"\nVERSION_ID=1.4.0\n",
            )],
            8,
            work.path(),
            &work.path().join("rootfs.ext4"),
        )
        .unwrap();
        assert_eq!(
            os_release_of(&rootfs)
                .unwrap()
                .and_then(|text| os_release_field(&text, "VERSION_ID")),
            Some("1.4.0".to_owned())
        );
        let spec = BundleSpec {
            rootfs: &rootfs,
            version: "1.5.0",
            compatible: "open-pos-x86_64",
            build: "test",
            format: BundleFormat::Verity,
        };
        let signer = Pki::create(&work.path().join("pki"), "Test").unwrap();
        let out = work.path().join("update.raucb");
        let error = build(&spec, &signer, work.path(), &out).unwrap_err();
        assert!(error.to_string().contains("is version 1.4.0"), "{error:#}");
        assert!(!out.exists());
    }

    /// A bundle of a small root filesystem with enough data that squashfs cannot shrink it to
    /// one block (RAUC needs more than 4 KiB).
    fn bundle(work: &Path, compatible: &str, signer: &Pki) -> PathBuf {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let rootfs = ext4_image(
            &[
                ("etc/os-release", b"NAME=Open POS\n"),
                ("usr/lib/pos/data", &noise),
            ],
            16,
            work,
            &work.join("rootfs.ext4"),
        )
        .unwrap();
        let spec = BundleSpec {
            rootfs: &rootfs,
            version: "1.4.0",
            compatible,
            build: "test",
            format: BundleFormat::Verity,
        };
        let out = work.join("update.raucb");
        build(&spec, signer, work, &out).unwrap();
        out
    }

    fn refusal(bundle: &Path, work: &Path) -> String {
        check(bundle, &pkis().1.keyring(), &system_conf(), work)
            .unwrap_err()
            .to_string()
    }

    fn rewrite(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
        let mut bytes = std::fs::read(path).unwrap();
        change(&mut bytes);
        std::fs::write(path, bytes).unwrap();
    }

    fn signature_len(bytes: &[u8]) -> usize {
        let trailer: [u8; 8] = bytes[bytes.len() - 8..].try_into().unwrap();
        usize::try_from(u64::from_be_bytes(trailer)).unwrap()
    }

    #[test]
    fn a_bundle_we_build_is_read_by_rauc_and_passes_every_check() {
        let work = tempfile::tempdir().unwrap();
        let compatible = system_compatible(&system_conf()).unwrap();
        let bundle = bundle(work.path(), &compatible, &pkis().1);
        let checked = check(&bundle, &pkis().1.keyring(), &system_conf(), work.path()).unwrap();
        assert_eq!(checked.compatible, "open-pos-x86_64");
        assert_eq!(checked.version.as_deref(), Some("1.4.0"));
    }

    #[test]
    fn a_changed_payload_byte_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let compatible = system_compatible(&system_conf()).unwrap();
        let bundle = bundle(work.path(), &compatible, &pkis().1);
        // Well inside the squashfs data, away from its header and from the hash tree.
        rewrite(&bundle, |bytes| {
            let at = bytes.len() / 3;
            bytes[at] ^= 0x01;
        });
        let reason = refusal(&bundle, work.path());
        assert!(reason.contains("changed after signing"), "{reason}");
    }

    #[test]
    fn a_changed_signature_is_refused_by_rauc() {
        let work = tempfile::tempdir().unwrap();
        let compatible = system_compatible(&system_conf()).unwrap();
        let bundle = bundle(work.path(), &compatible, &pkis().1);
        rewrite(&bundle, |bytes| {
            let at = bytes.len() - 8 - signature_len(bytes) / 2;
            bytes[at] ^= 0x01;
        });
        let reason = refusal(&bundle, work.path());
        assert!(reason.starts_with("rauc refused the bundle"), "{reason}");
    }

    #[test]
    fn an_unsigned_bundle_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let compatible = system_compatible(&system_conf()).unwrap();
        let bundle = bundle(work.path(), &compatible, &pkis().1);
        rewrite(&bundle, |bytes| {
            let signed_len = bytes.len() - 8 - signature_len(bytes);
            bytes.truncate(signed_len);
            bytes.extend_from_slice(&0u64.to_be_bytes());
        });
        let reason = refusal(&bundle, work.path());
        assert!(reason.contains("Signature size is 0"), "{reason}");
    }

    #[test]
    fn a_bundle_signed_by_an_untrusted_key_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let compatible = system_compatible(&system_conf()).unwrap();
        let bundle = bundle(work.path(), &compatible, &pkis().2);
        let reason = refusal(&bundle, work.path());
        assert!(reason.contains("signature verification failed"), "{reason}");
    }

    #[test]
    fn a_bundle_for_another_device_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let bundle = bundle(work.path(), "coffee-machine-arm64", &pkis().1);
        let reason = refusal(&bundle, work.path());
        assert!(
            reason.contains("for 'coffee-machine-arm64', but terminals are 'open-pos-x86_64'"),
            "{reason}"
        );
    }

    #[test]
    fn keys_are_never_overwritten() {
        let error = Pki::create(&pkis().1.dir, "Open POS")
            .unwrap_err()
            .to_string();
        assert!(error.contains("keys are never overwritten"), "{error}");
    }
}
