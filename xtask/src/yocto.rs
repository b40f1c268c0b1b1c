//! The Yocto layer's crates include: every crates.io package in `Cargo.lock` as a `crate://`
//! fetch with its checksum, so BitBake fetches them before compiling and the build needs no
//! network. It is the same shape oe-core's `cargo-update-recipe-crates` class writes.

use anyhow::{Context, Result, bail};

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

pub const CRATES_INCLUDE: &str = "yocto-layer/recipes-pos/pos-terminal/pos-terminal-crates.inc";

struct LockedCrate {
    name: String,
    version: String,
    checksum: String,
}

/// The include for the crates.io packages of `lock` (the text of `Cargo.lock`), sorted as the
/// lock file sorts them.
pub fn crates_include(lock: &str) -> Result<String> {
    let crates = registry_crates(lock)?;
    let mut out = String::from(
        "# Generated from Cargo.lock by `cargo xtask yocto-crates`; do not edit.\n\
         # A test fails when this file and Cargo.lock disagree.\n\n\
         SRC_URI += \"\\\n",
    );
    for krate in &crates {
        out.push_str(&format!(
            "    crate://crates.io/{}/{} \\\n",
            krate.name, krate.version
        ));
    }
    out.push_str("\"\n\n");
    for krate in &crates {
        out.push_str(&format!(
            "SRC_URI[{}-{}.sha256sum] = \"{}\"\n",
            krate.name, krate.version, krate.checksum
        ));
    }
    Ok(out)
}

fn registry_crates(lock: &str) -> Result<Vec<LockedCrate>> {
    let mut crates = Vec::new();
    for (index, block) in lock.split("[[package]]").skip(1).enumerate() {
        let field = |key: &str| -> Option<String> {
            block.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_owned())
            })
        };
        let Some(source) = field("source") else {
            continue; // a workspace member
        };
        let name = field("name").with_context(|| format!("package {index} has no name"))?;
        if source != CRATES_IO {
            bail!("{name} comes from {source}: the Yocto build can only fetch crates.io packages");
        }
        crates.push(LockedCrate {
            version: field("version").with_context(|| format!("{name} has no version"))?,
            checksum: field("checksum").with_context(|| format!("{name} has no checksum"))?,
            name,
        });
    }
    Ok(crates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_file(path: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::read_to_string(root.join(path)).unwrap()
    }

    #[test]
    fn the_committed_crates_include_matches_cargo_lock() {
        let expected = crates_include(&workspace_file("Cargo.lock")).unwrap();
        assert!(
            workspace_file(CRATES_INCLUDE) == expected,
            "{CRATES_INCLUDE} is out of date with Cargo.lock: run `cargo xtask yocto-crates`"
        );
    }

    #[test]
    fn only_registry_crates_are_listed_with_their_checksums() {
        let lock = r#"
version = 4

[[package]]
name = "pos-core"
version = "0.0.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.228"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e"
"#;
        let include = crates_include(lock).unwrap();
        assert!(include.contains("    crate://crates.io/serde/1.0.228 \\\n"));
        assert!(include.contains(
            "SRC_URI[serde-1.0.228.sha256sum] = \"9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e\""
        ));
        assert!(!include.contains("pos-core"));
    }

    #[test]
    fn a_git_dependency_is_refused_with_the_reason() {
        let lock = r#"
[[package]]
name = "escpos"
version = "0.20.1"
source = "git+https://example.org/escpos?rev=1#1"
"#;
        let error = crates_include(lock).unwrap_err().to_string();
        assert!(error.contains("escpos comes from git+"), "{error}");
    }
}
