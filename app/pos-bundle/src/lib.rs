//! The RAUC bundle format, as the fleet server, the update agent and the build read it.
//!
//! A verity bundle is `[squashfs payload][verity hash tree][CMS signature, DER][signature
//! length, u64 big-endian]`. The CMS signature carries the manifest inline: the compatible
//! string, the version, and the verity root hash and salt that pin every payload block.
//!
//! This crate splits a bundle into those parts, reads the manifest, and checks the payload and
//! the hash tree against the signed root hash. It does not check the signature itself: RAUC does
//! that (`rauc info` on a build or upload host, the RAUC service on the terminal), and RAUC 1.8's
//! `info` checks only the signature, leaving a tampered payload to be found by dm-verity at
//! install time. Checking it here lets the fleet refuse such a bundle at upload and the agent
//! refuse it before it touches a slot.
//!
//! It owns no files and no network: it reads from whatever `Read + Seek` it is given, in bounded
//! chunks, so a bundle of any size is checked in constant memory apart from the hash tree.

mod der;
mod manifest;
mod verity;

use std::io::{Read, Seek, SeekFrom};

pub use manifest::{BundleFormat, Manifest, ManifestImage, Verity};

/// The largest CMS signature accepted: a chain of a few certificates is a few KiB.
pub const SIGNATURE_LEN_MAX: u64 = 1024 * 1024;

/// The squashfs magic every bundle payload starts with.
const SQUASHFS_MAGIC: &[u8; 4] = b"hsqs";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("this file is not an update bundle (it does not start like one)")]
    NotABundle,
    #[error("the bundle is not signed; only signed bundles can be installed")]
    Unsigned,
    #[error(
        "the bundle's signature claims {len} bytes, more than the file or the {max}-byte limit"
    )]
    SignatureTooLarge { len: u64, max: u64 },
    #[error("the bundle's signature is damaged: {0}")]
    MalformedSignature(&'static str),
    #[error("the bundle's manifest is not valid: line {line}: {reason}")]
    MalformedManifest { line: usize, reason: String },
    #[error("the bundle is in the old 'plain' format; only 'verity' bundles are accepted")]
    NotVerity,
    #[error("the bundle's contents were changed after signing")]
    PayloadTampered,
    #[error("the bundle's hash tree was changed after signing")]
    HashTreeTampered,
    #[error("the bundle's sizes do not add up: {0}")]
    Inconsistent(&'static str),
    #[error("reading the bundle failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Where the parts of a bundle lie, in bytes from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The squashfs image and its verity hash tree (for verity bundles).
    pub signed_len: u64,
    pub signature_len: u64,
}

/// A bundle's layout and the manifest its signature carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    pub layout: Layout,
    pub manifest: Manifest,
}

impl Bundle {
    /// Reads the layout and the manifest. The payload is not read: see [`Bundle::check_payload`].
    pub fn read(reader: &mut (impl Read + Seek)) -> Result<Bundle, BundleError> {
        let total_len = reader.seek(SeekFrom::End(0))?;
        if total_len < 8 + SQUASHFS_MAGIC.len() as u64 {
            return Err(BundleError::NotABundle);
        }
        reader.seek(SeekFrom::Start(0))?;
        let mut magic = [0u8; 4];
        reader.read_exact(&mut magic)?;
        if &magic != SQUASHFS_MAGIC {
            return Err(BundleError::NotABundle);
        }
        reader.seek(SeekFrom::End(-8))?;
        let mut trailer = [0u8; 8];
        reader.read_exact(&mut trailer)?;
        let signature_len = u64::from_be_bytes(trailer);
        if signature_len == 0 {
            return Err(BundleError::Unsigned);
        }
        let room = total_len - 8 - SQUASHFS_MAGIC.len() as u64;
        if signature_len > SIGNATURE_LEN_MAX || signature_len > room {
            return Err(BundleError::SignatureTooLarge {
                len: signature_len,
                max: SIGNATURE_LEN_MAX.min(room),
            });
        }
        let signed_len = total_len - 8 - signature_len;
        reader.seek(SeekFrom::Start(signed_len))?;
        let mut signature = vec![0u8; usize::try_from(signature_len).unwrap_or(usize::MAX)];
        reader.read_exact(&mut signature)?;
        let manifest_text = der::signed_content(&signature)?;
        let manifest = Manifest::parse(&String::from_utf8_lossy(manifest_text))?;
        if let Some(verity) = &manifest.verity
            && verity.hash_tree_len > signed_len
        {
            return Err(BundleError::Inconsistent(
                "the hash tree is larger than the bundle",
            ));
        }
        Ok(Bundle {
            layout: Layout {
                signed_len,
                signature_len,
            },
            manifest,
        })
    }

    /// Checks every payload block and the stored hash tree against the root hash the signature
    /// covers. A plain-format bundle is refused: it has no root hash to check against.
    pub fn check_payload(&self, reader: &mut (impl Read + Seek)) -> Result<(), BundleError> {
        let verity = self
            .manifest
            .verity
            .as_ref()
            .ok_or(BundleError::NotVerity)?;
        let data_len = self.layout.signed_len - verity.hash_tree_len;
        reader.seek(SeekFrom::Start(0))?;
        let computed = verity::hash_tree(&mut reader.take(data_len), data_len, &verity.salt)?;
        if computed.root != verity.root_hash {
            return Err(BundleError::PayloadTampered);
        }
        reader.seek(SeekFrom::Start(data_len))?;
        let mut stored = Vec::with_capacity(computed.tree.len());
        reader.take(verity.hash_tree_len).read_to_end(&mut stored)?;
        if stored != computed.tree {
            return Err(BundleError::HashTreeTampered);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn read(bytes: Vec<u8>) -> Result<Bundle, BundleError> {
        Bundle::read(&mut Cursor::new(bytes))
    }

    fn with_signature(signature: &[u8], claimed_len: u64) -> Vec<u8> {
        let mut bytes = b"hsqs".to_vec();
        bytes.resize(8192, 0);
        bytes.extend_from_slice(signature);
        bytes.extend_from_slice(&claimed_len.to_be_bytes());
        bytes
    }

    #[test]
    fn files_that_are_not_signed_bundles_are_named_for_what_they_are() {
        let zip = b"PK\x03\x04 some archive".repeat(10);
        assert!(matches!(read(zip), Err(BundleError::NotABundle)));
        assert!(matches!(
            read(b"hsqs".to_vec()),
            Err(BundleError::NotABundle)
        ));
        assert!(matches!(
            read(with_signature(b"", 0)),
            Err(BundleError::Unsigned)
        ));
        assert!(matches!(
            read(with_signature(b"", 1 << 40)),
            Err(BundleError::SignatureTooLarge { .. })
        ));
        assert!(matches!(
            read(with_signature(b"not DER at all", 14)),
            Err(BundleError::MalformedSignature(_))
        ));
        let message = read(with_signature(b"", 0)).unwrap_err().to_string();
        assert_eq!(
            message,
            "the bundle is not signed; only signed bundles can be installed"
        );
    }
}
