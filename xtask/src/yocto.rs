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

    /// The recipe and append files of the layer, with their paths.
    fn layer_recipes() -> Vec<(std::path::PathBuf, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path
                    .extension()
                    .is_some_and(|ext| ext == "bb" || ext == "bbappend")
                {
                    out.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        walk(&crate::workspace_root().join("yocto-layer"), &mut paths);
        paths
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                (path, text)
            })
            .collect()
    }

    /// The layer shares its system.conf, units, lockdown files, fstab and grub.cfg with the
    /// Debian image by path: a file moved in `image/` must not break a board build that this
    /// machine cannot run.
    #[test]
    fn every_file_the_layer_takes_from_the_tree_exists() {
        let root = crate::workspace_root();
        let expand = |value: &str, recipe: &std::path::Path| {
            value
                .replace(
                    "${POS_IMAGE_TREE}",
                    &root.join("image").display().to_string(),
                )
                .replace("${POS_SOURCE_TREE}", &root.display().to_string())
                .replace(
                    "${THISDIR}",
                    &recipe.parent().unwrap().display().to_string(),
                )
        };
        let mut missing = Vec::new();
        for (recipe, text) in layer_recipes() {
            let mut search: Vec<std::path::PathBuf> = Vec::new();
            for line in text.lines().filter(|l| l.starts_with("FILESEXTRAPATHS")) {
                let value = line.split('"').nth(1).unwrap();
                for dir in value.split(':').filter(|d| !d.is_empty()) {
                    // The keyring is made by `cargo xtask pki` or comes from the release CA.
                    if !dir.contains("${POS_RAUC_KEYRING_DIR}") {
                        search.push(expand(dir, &recipe).into());
                    }
                }
            }
            for line in text.lines().filter(|l| !l.starts_with("FILESEXTRAPATHS")) {
                // Every recipe's license is the project's own, at the top of the tree.
                let licence = line.starts_with("LIC_FILES_CHKSUM");
                for token in line.split_whitespace() {
                    let token = token.trim_matches(|c| c == '"' || c == '\\');
                    if let Some(name) = token.strip_prefix("file://") {
                        let name = name.split(';').next().unwrap().trim_end_matches('/');
                        let found = if licence {
                            root.join(name).exists()
                        } else {
                            name.contains("${") || search.iter().any(|dir| dir.join(name).exists())
                        };
                        if !found {
                            missing.push(format!("{}: file://{name}", recipe.display()));
                        }
                    }
                    if let Some(start) = token.find("${POS_IMAGE_TREE}/") {
                        let path: String = token[start..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || "/.-_${}".contains(*c))
                            .collect();
                        let path = expand(&path, &recipe);
                        if !std::path::Path::new(&path).exists() {
                            missing.push(format!("{}: {path}", recipe.display()));
                        }
                    }
                }
            }
            for line in text.lines().filter(|l| l.starts_with("SYSTEMD_SERVICE")) {
                for unit in line.split('"').nth(1).unwrap().split_whitespace() {
                    if !root
                        .join("image/rootfs/etc/systemd/system")
                        .join(unit)
                        .exists()
                    {
                        missing.push(format!("{}: unit {unit}", recipe.display()));
                    }
                }
            }
        }
        // base-files already fetches `file://fstab`; the append only adds where to find it.
        if !root.join("image/fstab").exists() {
            missing.push("base-files_%.bbappend: image/fstab".to_owned());
        }
        assert!(
            missing.is_empty(),
            "the layer names files that are not there: {missing:#?}"
        );
    }

    /// pos-boot adapts the Debian grub.cfg with `sed`; a pattern that no longer matches would
    /// leave a board that cannot find its kernel.
    #[test]
    fn the_grub_configuration_still_has_what_the_yocto_build_rewrites() {
        let grub = workspace_file("image/grub/grub.cfg");
        for pattern in ["@CMDLINE@", "/vmlinuz ", "rauc.slot=$slot", "save_env"] {
            assert!(
                grub.contains(pattern),
                "image/grub/grub.cfg lost `{pattern}`"
            );
        }
        let (_, recipe) = layer_recipes()
            .into_iter()
            .find(|(path, _)| path.ends_with("pos-boot_1.0.bb"))
            .unwrap();
        assert!(recipe.contains("s|@CMDLINE@|") && recipe.contains("s|/vmlinuz |"));
    }

    #[test]
    fn the_bundle_recipe_builds_verity_bundles_and_takes_the_compatible_from_system_conf() {
        let (_, recipe) = layer_recipes()
            .into_iter()
            .find(|(path, _)| path.ends_with("pos-bundle_1.0.bb"))
            .unwrap();
        assert!(recipe.contains("RAUC_BUNDLE_FORMAT = \"verity\""));
        assert!(recipe.contains("RAUC_BUNDLE_COMPATIBLE = \"${@pos_compatible(d)}\""));
        assert!(recipe.contains("${POS_IMAGE_TREE}/rauc/system.conf"));
        assert!(recipe.contains("--intermediate="));
    }
}
