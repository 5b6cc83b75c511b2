//! Web passwords: hashed with argon2id (a random salt per password, the PHC string stored)
//! and checked against that hash. The SIP digest hashes (HA1) of the same password are kept
//! beside it, because a phone's digest login needs them; the web login never uses them.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Why a password could not be hashed (never shows the password).
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// The argon2id PHC string of `password` (default parameters of the argon2 crate).
pub fn hash_web_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC string (false for a malformed one). Used by
/// the web login, which comes next (issue 10); tested here already.
#[cfg_attr(not(test), allow(dead_code))]
pub fn verify_web_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let hash = hash_web_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_web_password(&hash, "correct horse"));
        assert!(!verify_web_password(&hash, "correct hors"));
        assert!(!verify_web_password("not a hash", "correct horse"));
        let again = hash_web_password("correct horse").unwrap();
        assert_ne!(hash, again, "a fresh salt each time");
    }
}
