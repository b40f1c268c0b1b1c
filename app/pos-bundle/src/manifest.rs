//! `manifest.raucm`: the INI text RAUC signs. Sections and keys this crate does not use
//! (`[hooks]`, `[handler]`, `[meta.*]`, newer keys) are skipped, so newer bundles still read.

use crate::BundleError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleFormat {
    Plain,
    Verity,
    /// A verity bundle whose payload is encrypted.
    Crypt,
}

/// What pins the payload: the root of its dm-verity hash tree (SHA-256, 4 KiB blocks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verity {
    pub root_hash: [u8; 32],
    pub salt: Vec<u8>,
    pub hash_tree_len: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestImage {
    /// The slot class it is for, such as `rootfs`.
    pub slot_class: String,
    pub filename: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub compatible: String,
    pub version: Option<String>,
    pub description: Option<String>,
    pub build: Option<String>,
    pub format: BundleFormat,
    pub verity: Option<Verity>,
    pub images: Vec<ManifestImage>,
}

fn bad(line: usize, reason: impl Into<String>) -> BundleError {
    BundleError::MalformedManifest {
        line,
        reason: reason.into(),
    }
}

fn hex(line: usize, key: &str, text: &str) -> Result<Vec<u8>, BundleError> {
    if !text.len().is_multiple_of(2) {
        return Err(bad(line, format!("{key} is not hexadecimal")));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| bad(line, format!("{key} is not hexadecimal")))
        })
        .collect()
}

#[derive(Default)]
struct VerityKeys {
    hash: Option<(usize, Vec<u8>)>,
    salt: Option<Vec<u8>>,
    size: Option<u64>,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, BundleError> {
        let mut section = String::new();
        let mut compatible = None;
        let mut version = None;
        let mut description = None;
        let mut build = None;
        let mut format = BundleFormat::Plain;
        let mut verity = VerityKeys::default();
        let mut images: Vec<ManifestImage> = Vec::new();
        let mut last_line = 0;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            last_line = line;
            let raw = raw.trim();
            if raw.is_empty() || raw.starts_with('#') || raw.starts_with(';') {
                continue;
            }
            if let Some(name) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                section = name.to_owned();
                if let Some(class) = section.strip_prefix("image.") {
                    images.push(ManifestImage {
                        slot_class: class.split('.').next().unwrap_or(class).to_owned(),
                        filename: String::new(),
                        sha256: None,
                        size: None,
                    });
                }
                continue;
            }
            let (key, value) = raw
                .split_once('=')
                .ok_or_else(|| bad(line, "expected `key=value`"))?;
            let (key, value) = (key.trim(), value.trim().to_owned());
            match (section.as_str(), key) {
                ("update", "compatible") => compatible = Some(value),
                ("update", "version") => version = Some(value),
                ("update", "description") => description = Some(value),
                ("update", "build") => build = Some(value),
                ("bundle", "format") => {
                    format = match value.as_str() {
                        "plain" => BundleFormat::Plain,
                        "verity" => BundleFormat::Verity,
                        "crypt" => BundleFormat::Crypt,
                        other => return Err(bad(line, format!("unknown bundle format '{other}'"))),
                    }
                }
                ("bundle", "verity-hash") => verity.hash = Some((line, hex(line, key, &value)?)),
                ("bundle", "verity-salt") => verity.salt = Some(hex(line, key, &value)?),
                ("bundle", "verity-size") => {
                    verity.size = Some(
                        value
                            .parse()
                            .map_err(|_| bad(line, "verity-size is not a number"))?,
                    )
                }
                (image, key) if image.starts_with("image.") => {
                    let Some(current) = images.last_mut() else {
                        continue;
                    };
                    match key {
                        "filename" => current.filename = value,
                        "sha256" => current.sha256 = Some(value),
                        "size" => {
                            current.size = Some(
                                value
                                    .parse()
                                    .map_err(|_| bad(line, "an image size is not a number"))?,
                            )
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        let compatible = compatible
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad(last_line, "[update] has no compatible"))?;
        let verity = match format {
            BundleFormat::Plain => None,
            BundleFormat::Verity | BundleFormat::Crypt => Some(verity_of(verity, last_line)?),
        };
        if let Some(image) = images.iter().find(|image| image.filename.is_empty()) {
            return Err(bad(
                last_line,
                format!("the image for {} has no filename", image.slot_class),
            ));
        }
        Ok(Manifest {
            compatible,
            version,
            description,
            build,
            format,
            verity,
            images,
        })
    }
}

fn verity_of(keys: VerityKeys, last_line: usize) -> Result<Verity, BundleError> {
    let (line, hash) = keys
        .hash
        .ok_or_else(|| bad(last_line, "a verity bundle needs verity-hash"))?;
    let root_hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| bad(line, "verity-hash is not a SHA-256 hash"))?;
    Ok(Verity {
        root_hash,
        salt: keys
            .salt
            .ok_or_else(|| bad(last_line, "a verity bundle needs verity-salt"))?,
        hash_tree_len: keys
            .size
            .ok_or_else(|| bad(last_line, "a verity bundle needs verity-size"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str = "\
[update]
compatible=open-pos-x86_64
version=1.2.0
build=20261125

[bundle]
format=verity
verity-hash=0cedd32985b7e71c134652fc886e531ba32b4936a2776d4569d826a01dbe64c1
verity-salt=b3f411a07f5f2503bac6bb66c928d5f6f40875b3fb06d63d87de71df1cb75f7c
verity-size=4096

[meta.release]
channel=stable

[image.rootfs]
sha256=75931d3b3bff44d8ea2710a2665866fe9a5dd4fa409aec7ad6e5ac57b32a9575
size=8388608
filename=rootfs.ext4
";

    #[test]
    fn a_verity_manifest_reads_whole() {
        let manifest = Manifest::parse(SIGNED).unwrap();
        assert_eq!(manifest.compatible, "open-pos-x86_64");
        assert_eq!(manifest.version.as_deref(), Some("1.2.0"));
        assert_eq!(manifest.build.as_deref(), Some("20261125"));
        assert_eq!(manifest.format, BundleFormat::Verity);
        let verity = manifest.verity.unwrap();
        assert_eq!(verity.root_hash[0], 0x0c);
        assert_eq!(verity.salt.len(), 32);
        assert_eq!(verity.hash_tree_len, 4096);
        assert_eq!(
            manifest.images,
            [ManifestImage {
                slot_class: "rootfs".into(),
                filename: "rootfs.ext4".into(),
                sha256: Some(
                    "75931d3b3bff44d8ea2710a2665866fe9a5dd4fa409aec7ad6e5ac57b32a9575".into()
                ),
                size: Some(8_388_608),
            }]
        );
    }

    #[test]
    fn what_is_missing_or_wrong_is_named_with_its_line() {
        let check = |text: &str, expected: &str| {
            let error = Manifest::parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        };
        check(
            &SIGNED.replace("compatible=open-pos-x86_64\n", ""),
            "has no compatible",
        );
        check(
            &SIGNED.replace("verity-size=4096\n", ""),
            "needs verity-size",
        );
        check(
            &SIGNED.replace("verity-hash=0c", "verity-hash=zz"),
            "line 8: verity-hash is not hexadecimal",
        );
        check(
            &SIGNED.replace("verity-hash=0c", "verity-hash="),
            "line 8: verity-hash is not",
        );
        check(
            &SIGNED.replace("format=verity", "format=zip"),
            "line 7: unknown bundle format",
        );
        check(
            &SIGNED.replace("channel=stable", "channel"),
            "line 13: expected `key=value`",
        );
        check(
            &SIGNED.replace("filename=rootfs.ext4", ""),
            "the image for rootfs has no filename",
        );
    }
}
