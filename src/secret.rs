//! Secrets staff and programs hold: argon2id password hashes, random tokens (sessions, CSRF, API,
//! the Message-ID key), the hashes under which tokens are stored, and comparing secrets in constant
//! time. Used by the web view, the command line and the desk alike.

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use sha2::{Digest, Sha256};

/// An argon2id PHC string (m=19456 KiB, t=2, p=1: the OWASP minimum) with a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    if password.chars().count() < 10 {
        anyhow::bail!("a password needs at least 10 characters");
    }
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// A random token (244 bits) for cookies, CSRF and API use.
pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Only hashes of session ids and tokens are stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        let phc = super::hash_password("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(super::verify_password("correct horse battery", &phc));
        assert!(!super::verify_password("Correct horse battery", &phc));
        assert!(super::hash_password("short").is_err(), "short passwords are refused");
    }
}
