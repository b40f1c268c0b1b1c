//! A development signing PKI for update bundles: an offline-style root, an intermediate, and a
//! code-signing key under the intermediate. Terminals trust only the root (`keyring.pem`);
//! bundles embed the intermediate. See `docs/signing.md` for how release keys differ.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run_quiet;

/// The certificate extensions of each tier.
const EXTENSIONS: &str = "\
[ req ]
distinguished_name = subject

[ subject ]

[ root ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ intermediate ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ signing ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// The files of a signing PKI.
#[derive(Clone, Debug)]
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    pub fn keyring(&self) -> PathBuf {
        self.dir.join("keyring.pem")
    }
    pub fn intermediate_cert(&self) -> PathBuf {
        self.dir.join("intermediate.pem")
    }
    pub fn signing_cert(&self) -> PathBuf {
        self.dir.join("signing.pem")
    }
    pub fn signing_key(&self) -> PathBuf {
        self.dir.join("signing.key")
    }

    /// Opens an existing PKI, checking its files are there.
    pub fn open(dir: &Path) -> Result<Pki> {
        let pki = Pki {
            dir: dir.to_path_buf(),
        };
        for file in [
            pki.keyring(),
            pki.intermediate_cert(),
            pki.signing_cert(),
            pki.signing_key(),
        ] {
            if !file.is_file() {
                bail!(
                    "{} is missing: create a development PKI with `cargo xtask pki --out {}`",
                    file.display(),
                    dir.display()
                );
            }
        }
        Ok(pki)
    }

    /// Creates a PKI in `dir`, named for `organisation`. Refuses to overwrite any key.
    pub fn create(dir: &Path, organisation: &str) -> Result<Pki> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let pki = Pki {
            dir: dir.to_path_buf(),
        };
        for key in ["root.key", "intermediate.key", "signing.key"] {
            if dir.join(key).exists() {
                bail!(
                    "{} already holds a key ({key}); keys are never overwritten",
                    dir.display()
                );
            }
        }
        let extensions = dir.join("extensions.cnf");
        std::fs::write(&extensions, EXTENSIONS)?;
        let subject = |tier: &str| format!("/O={organisation}/CN={organisation} {tier}");
        // The root signs itself; each other tier is signed by the one above.
        issue(
            dir,
            "root",
            &subject("update root"),
            None,
            7300,
            &extensions,
        )?;
        issue(
            dir,
            "intermediate",
            &subject("update intermediate"),
            Some("root"),
            3650,
            &extensions,
        )?;
        issue(
            dir,
            "signing",
            &subject("update signing"),
            Some("intermediate"),
            730,
            &extensions,
        )?;
        std::fs::copy(dir.join("root.pem"), pki.keyring())?;
        for key in ["root.key", "intermediate.key", "signing.key"] {
            restrict_to_owner(&dir.join(key))?;
        }
        Ok(pki)
    }
}

fn restrict_to_owner(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("restricting {}", path.display()))
}

/// Makes `<tier>.key` and `<tier>.pem`, signed by `issuer` (or self-signed).
fn issue(
    dir: &Path,
    tier: &str,
    subject: &str,
    issuer: Option<&str>,
    days: u32,
    extensions: &Path,
) -> Result<()> {
    let key = dir.join(format!("{tier}.key"));
    let cert = dir.join(format!("{tier}.pem"));
    let mut request = Command::new("openssl");
    request
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", subject, "-keyout"])
        .arg(&key);
    match issuer {
        None => {
            request
                .args(["-x509", "-days", &days.to_string(), "-extensions", tier])
                .arg("-config")
                .arg(extensions)
                .arg("-out")
                .arg(&cert);
            run_quiet(&mut request)
        }
        Some(issuer) => {
            let csr = dir.join(format!("{tier}.csr"));
            run_quiet(request.arg("-out").arg(&csr))?;
            run_quiet(
                Command::new("openssl")
                    .args(["x509", "-req", "-in"])
                    .arg(&csr)
                    .arg("-CA")
                    .arg(dir.join(format!("{issuer}.pem")))
                    .arg("-CAkey")
                    .arg(dir.join(format!("{issuer}.key")))
                    .args(["-CAcreateserial", "-days", &days.to_string()])
                    .arg("-extfile")
                    .arg(extensions)
                    .args(["-extensions", tier, "-out"])
                    .arg(&cert),
            )?;
            std::fs::remove_file(&csr)?;
            Ok(())
        }
    }
}
