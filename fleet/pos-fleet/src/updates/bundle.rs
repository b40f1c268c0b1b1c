//! The checks an uploaded bundle passes before the fleet offers it to any terminal: it is a
//! signed RAUC bundle; the real `rauc info` verifies its signature against the fleet's keyring
//! (the terminals' root of trust) with the same purpose check terminals use; its compatible
//! string is the terminals'; and for verity bundles every payload block matches the signed
//! root hash (RAUC 1.8's `info` does not read the payload). Plain bundles, whose detached
//! signature `rauc info` checks over the whole file, are accepted only when configured.

use std::path::{Path, PathBuf};
use std::process::Command;

use pos_bundle::{Bundle, BundleError, BundleFormat};

/// What the fleet accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundlePolicy {
    /// The terminals' keyring: the root certificate(s) bundles must chain to.
    pub keyring: PathBuf,
    /// The terminals' compatible string (`compatible=` of their `system.conf`).
    pub compatible: String,
    /// Plain-format bundles too; only for test rigs whose kernel cannot open verity bundles.
    pub plain_allowed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleRefusal {
    #[error("this file is not an update bundle: {0}")]
    NotABundle(String),
    #[error("the bundle's signature was not accepted: {0}")]
    Signature(String),
    #[error("the bundle is for '{found}', but this fleet's terminals are '{expected}'")]
    WrongCompatible { found: String, expected: String },
    #[error("the bundle was changed after it was signed: {0}")]
    Tampered(String),
    #[error("the bundle is in RAUC's old 'plain' format; terminals install only 'verity' bundles")]
    Plain,
    #[error("the bundle has no version in its manifest; set `version=` when building it")]
    NoVersion,
    #[error("the fleet could not check the bundle: {0}")]
    Checker(String),
}

/// What a bundle that passed says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub compatible: String,
    pub version: String,
    pub format: &'static str,
}

/// Runs every check on the bundle at `path`. `work` is a scratch directory.
pub fn check(path: &Path, policy: &BundlePolicy, work: &Path) -> Result<Checked, BundleRefusal> {
    let io = |e: std::io::Error| BundleRefusal::Checker(e.to_string());
    let mut file = std::fs::File::open(path).map_err(io)?;
    // A verity bundle carries its manifest inside the signature; a plain one's signature is
    // detached, so its manifest is only read by RAUC below.
    let inline = match Bundle::read(&mut file) {
        Ok(bundle) => Some(bundle),
        Err(e @ (BundleError::NotABundle | BundleError::Unsigned)) => {
            return Err(BundleRefusal::NotABundle(e.to_string()));
        }
        Err(BundleError::Io(e)) => return Err(io(e)),
        Err(_) => None,
    };
    let (compatible, version) = rauc_info(path, policy, work)?;
    if compatible != policy.compatible {
        return Err(BundleRefusal::WrongCompatible {
            found: compatible,
            expected: policy.compatible.clone(),
        });
    }
    let version = version
        .filter(|v| !v.trim().is_empty())
        .ok_or(BundleRefusal::NoVersion)?;
    let format = match inline {
        Some(bundle) if bundle.manifest.format != BundleFormat::Plain => {
            bundle
                .check_payload(&mut file)
                .map_err(|e| BundleRefusal::Tampered(e.to_string()))?;
            "verity"
        }
        _ if policy.plain_allowed => "plain",
        _ => return Err(BundleRefusal::Plain),
    };
    Ok(Checked {
        compatible,
        version,
        format,
    })
}

/// `rauc info` with a configuration that trusts only the fleet's keyring; the compatible
/// string and version it read from the verified manifest.
fn rauc_info(
    bundle: &Path,
    policy: &BundlePolicy,
    work: &Path,
) -> Result<(String, Option<String>), BundleRefusal> {
    let checker = |e: std::io::Error| BundleRefusal::Checker(e.to_string());
    std::fs::create_dir_all(work).map_err(checker)?;
    let conf = work.join("system.conf");
    // Both formats here: which one the fleet accepts is decided after, with its own message.
    let formats = "plain verity";
    std::fs::write(
        &conf,
        format!(
            "[system]\ncompatible={}\nbootloader=noop\nbundle-formats={formats}\n\
             data-directory={}\n\n[keyring]\npath={}\ncheck-purpose=codesign\n",
            policy.compatible,
            work.display(),
            policy.keyring.display()
        ),
    )
    .map_err(checker)?;
    let output = Command::new("rauc")
        .arg("info")
        .arg("--conf")
        .arg(&conf)
        .arg("--output-format=json")
        .arg(bundle)
        .output()
        .map_err(|e| {
            BundleRefusal::Checker(format!("rauc (Debian package `rauc`) could not run: {e}"))
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.contains("rauc-Message") && !line.trim().is_empty())
            .collect();
        return Err(BundleRefusal::Signature(reason.join(" / ")));
    }
    let info: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| BundleRefusal::Checker(format!("rauc info printed no JSON: {e}")))?;
    let text = |key: &str| info.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let compatible = text("compatible")
        .ok_or_else(|| BundleRefusal::Checker("rauc info named no compatible string".into()))?;
    Ok((compatible, text("version")))
}
