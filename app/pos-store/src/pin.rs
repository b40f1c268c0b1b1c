//! How a PIN is kept: an argon2id hash with a fresh salt, never the PIN itself. The till
//! checks sign-ins against it, the back office writes new ones, and the fleet hands the same
//! hashes to the other terminals of the store.

/// Why a PIN could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("the PIN could not be protected: {0}")]
pub struct PinError(String);

/// An argon2id hash of `pin` with a fresh salt, as the store keeps it.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0_u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PinError(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PinError(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PinError(e.to_string()))
}

/// Whether `pin` matches a stored hash; a damaged hash matches nothing.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok()
    })
}
