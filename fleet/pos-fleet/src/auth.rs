//! Secrets: passwords (argon2id), bearer tokens and enrolment codes (random, stored only as
//! SHA-256 hashes, so a copy of the database lets no one act as a terminal or an operator).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's random number source failed: {0}")]
    Random(String),
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

impl From<SecretError> for StorageError {
    fn from(e: SecretError) -> StorageError {
        StorageError::Database(e.to_string())
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An id such as `term-3f9a0c1d2e4b5a69`: a kind prefix and 64 random bits.
pub fn random_id(prefix: &str) -> Result<String, SecretError> {
    Ok(format!("{prefix}-{}", hex(&random_bytes::<8>()?)))
}

/// A bearer token: 256 random bits, hex.
pub fn random_token() -> Result<String, SecretError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// What is stored of a token or a code.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Letters a technician cannot misread (Crockford's base 32: no I, L, O, U).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS: usize = 12;

/// A one-time enrolment code such as `7QK2-M9XD-4TPA`: 60 random bits, typed on the
/// terminal's set-up screen.
pub fn enrolment_code() -> Result<String, SecretError> {
    let bytes = random_bytes::<CODE_CHARS>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A code as typed: case, spaces and dashes do not matter, and the letters people confuse
/// with digits are read as those digits.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| SecretError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// True when `password` matches the stored hash. A malformed hash matches nothing.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hose", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn codes_are_grouped_readable_and_survive_sloppy_typing() {
        let code = enrolment_code().unwrap();
        assert_eq!(code.len(), 14);
        assert!(
            code.chars()
                .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8)))
        );
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalise_code(&typed), normalise_code(&code));
        assert_eq!(normalise_code("o1l-I"), "0111");
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
