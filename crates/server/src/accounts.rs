//! Web passwords: hashed with argon2id (a random salt per password, the PHC string stored)
//! and checked against that hash. The SIP digest hashes (HA1) of the same password are kept
//! beside it, because a phone's digest login needs them; the web login never uses them.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use konferenz_sip::digest::Ha1;
use konferenz_store::SipUser;

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

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify_web_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A plausible address (one `@`, a dot in the domain, no spaces); mail delivery is the
/// real check.
pub fn parse_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    let ok = text.len() <= 254
        && !text.chars().any(char::is_whitespace)
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(text.to_owned())
    } else {
        Err("not an e-mail address like anna@example.org".into())
    }
}

pub fn parse_email_or_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Ok(String::new())
    } else {
        parse_email(text)
    }
}

pub fn parse_number(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_.".contains(c));
    if ok {
        Ok(text.to_owned())
    } else {
        Err("use 1-32 digits, letters, '+', '-', '_' or '.'".into())
    }
}

/// A user with the password hashed both ways: HA1 for the phone, argon2id for the web.
pub fn new_user(
    number: &str,
    name: &str,
    realm: &str,
    password: &str,
) -> Result<SipUser, HashError> {
    let ha1 = Ha1::compute(number, realm, password);
    Ok(SipUser {
        number: number.to_owned(),
        name: name.to_owned(),
        realm: realm.to_owned(),
        ha1_md5: ha1.md5,
        ha1_sha256: ha1.sha256,
        email: None,
        web_password: Some(hash_web_password(password)?),
        admin: false,
        organiser: false,
    })
}

/// `user` with a new password: the phone's HA1 hashes (for `realm`) and the web hash, the
/// rest of the record as it was.
pub fn with_password(user: SipUser, realm: &str, password: &str) -> Result<SipUser, HashError> {
    let fresh = new_user(&user.number, &user.name, realm, password)?;
    Ok(SipUser {
        realm: fresh.realm,
        ha1_md5: fresh.ha1_md5,
        ha1_sha256: fresh.ha1_sha256,
        web_password: fresh.web_password,
        ..user
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
