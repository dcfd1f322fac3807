//! Secrets staff and programs hold: argon2id password hashes, random tokens (sessions, CSRF, API,
//! the Message-ID key), the hashes under which tokens are stored, and comparing secrets in constant
//! time. Used by the web view, the command line and the desk alike.

use argon2::{Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use sha2::{Digest, Sha256};

/// An argon2id PHC string (m=19456 KiB, t=2, p=1: the OWASP minimum) with a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    if password.chars().count() < 10 {
        anyhow::bail!("a password needs at least 10 characters");
    }
    hash_with_current_parameters(password)
}

/// The hash of today's parameters, whatever the password's length: an old, shorter password is
/// still rehashed when its stored hash is upgraded.
fn hash_with_current_parameters(password: &str) -> anyhow::Result<String> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// What checking a password against its stored hash found.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    Wrong,
    Right,
    /// Right, and the stored hash is weaker than today's: here is the password hashed anew.
    RightUpgraded(String),
}

/// Checks `password` against `phc`; a right one whose hash is weaker than today's comes back with
/// a new hash, so a hash from an older release (or an older algorithm) is replaced at sign-in.
/// Takes as long as the hash asks: call it off the async executor.
pub fn check_password(password: &str, phc: &str) -> PasswordCheck {
    if !verify_password(password, phc) {
        return PasswordCheck::Wrong;
    }
    if !weaker_than_current(phc) {
        return PasswordCheck::Right;
    }
    match hash_with_current_parameters(password) {
        Ok(new) => PasswordCheck::RightUpgraded(new),
        // The sign-in still holds; the upgrade waits for the next one.
        Err(_) => PasswordCheck::Right,
    }
}

/// Whether `phc` is anything but argon2id, version 0x13, with at least today's memory, time and
/// parallelism.
pub fn weaker_than_current(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return true };
    let Ok(params) = Params::try_from(&hash) else { return true };
    let current = Params::DEFAULT;
    hash.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str()
        || hash.version != Some(argon2::Version::V0x13.into())
        || params.m_cost() < current.m_cost()
        || params.t_cost() < current.t_cost()
        || params.p_cost() < current.p_cost()
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

    /// `password` hashed with `algorithm` and the given costs.
    fn legacy(algorithm: argon2::Algorithm, m: u32, t: u32, password: &str) -> String {
        use argon2::PasswordHasher as _;
        let params = argon2::Params::new(m, t, 1, None).expect("params");
        argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
            .hash_password(password.as_bytes())
            .expect("hash")
            .to_string()
    }

    #[test]
    fn weaker_hashes_are_upgraded_when_the_password_is_right() {
        use super::{PasswordCheck, check_password, weaker_than_current};
        let current = super::hash_password("correct horse battery").expect("hash");
        assert!(!weaker_than_current(&current));
        assert_eq!(check_password("correct horse battery", &current), PasswordCheck::Right);
        for weak in [
            legacy(argon2::Algorithm::Argon2id, 4096, 1, "short"),
            legacy(argon2::Algorithm::Argon2id, 19456, 1, "short"),
            legacy(argon2::Algorithm::Argon2i, 19456, 2, "short"),
        ] {
            assert!(weaker_than_current(&weak), "{weak}");
            assert_eq!(check_password("wrong", &weak), PasswordCheck::Wrong, "a wrong password upgrades nothing");
            let PasswordCheck::RightUpgraded(new) = check_password("short", &weak) else {
                panic!("{weak} is not upgraded")
            };
            assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}");
            assert!(super::verify_password("short", &new));
        }
        let stronger = legacy(argon2::Algorithm::Argon2id, 65536, 3, "short");
        assert!(!weaker_than_current(&stronger), "stronger than today's is kept");
        assert!(weaker_than_current("not a hash"));
    }
}
