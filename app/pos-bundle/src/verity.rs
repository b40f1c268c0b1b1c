//! The dm-verity hash tree as RAUC builds it for a bundle: SHA-256 over `salt || block` for
//! 4 KiB data blocks, hashes packed 128 to a zero-padded 4 KiB block, level upon level until
//! one block is left; the root hash is that block's hash. The tree is stored top level first.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::BundleError;

const BLOCK_LEN: usize = 4096;

pub struct HashTree {
    pub root: [u8; 32],
    /// The levels as stored in the bundle, top level first.
    pub tree: Vec<u8>,
}

fn salted_hash(salt: &[u8], block: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(block);
    hasher.finalize().into()
}

/// Packs hashes into zero-padded blocks.
fn pack(hashes: &[[u8; 32]]) -> Vec<u8> {
    let mut packed = hashes.concat();
    let padded_len = packed.len().div_ceil(BLOCK_LEN) * BLOCK_LEN;
    packed.resize(padded_len, 0);
    packed
}

/// The tree over `data_len` bytes of `data`, which must be whole blocks.
pub fn hash_tree(
    data: &mut impl Read,
    data_len: u64,
    salt: &[u8],
) -> Result<HashTree, BundleError> {
    if data_len == 0 || !data_len.is_multiple_of(BLOCK_LEN as u64) {
        return Err(BundleError::Inconsistent(
            "the payload is not a whole number of 4 KiB blocks",
        ));
    }
    let mut hashes = Vec::new();
    let mut block = vec![0u8; BLOCK_LEN];
    for _ in 0..data_len / BLOCK_LEN as u64 {
        data.read_exact(&mut block)?;
        hashes.push(salted_hash(salt, &block));
    }
    let mut levels: Vec<Vec<u8>> = Vec::new();
    loop {
        let level = pack(&hashes);
        hashes = level
            .chunks(BLOCK_LEN)
            .map(|block| salted_hash(salt, block))
            .collect();
        levels.push(level);
        if hashes.len() == 1 {
            break;
        }
    }
    levels.reverse();
    Ok(HashTree {
        root: hashes[0],
        tree: levels.concat(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(data: &[u8]) -> HashTree {
        hash_tree(&mut &data[..], data.len() as u64, b"salt").unwrap()
    }

    #[test]
    fn one_level_for_up_to_128_blocks_and_two_above() {
        let small = vec![7u8; 128 * BLOCK_LEN];
        assert_eq!(tree_of(&small).tree.len(), BLOCK_LEN);
        let large = vec![7u8; 129 * BLOCK_LEN];
        // Two bottom blocks of hashes, one top block.
        let tree = tree_of(&large);
        assert_eq!(tree.tree.len(), 3 * BLOCK_LEN);
        assert_eq!(tree.root, salted_hash(b"salt", &tree.tree[..BLOCK_LEN]));
    }

    #[test]
    fn any_changed_byte_changes_the_root() {
        let data: Vec<u8> = (0..3 * BLOCK_LEN).map(|i| (i % 251) as u8).collect();
        let root = tree_of(&data).root;
        for position in [0, BLOCK_LEN - 1, BLOCK_LEN, 3 * BLOCK_LEN - 1] {
            let mut changed = data.clone();
            changed[position] ^= 1;
            assert_ne!(tree_of(&changed).root, root, "byte {position}");
        }
    }

    #[test]
    fn a_partial_block_is_refused() {
        let data = vec![0u8; BLOCK_LEN + 1];
        assert!(hash_tree(&mut &data[..], data.len() as u64, b"").is_err());
    }
}
