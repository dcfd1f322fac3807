//! A stored refresh token is encrypted (ChaCha20-Poly1305, a fresh nonce each time) with a key
//! from the configuration: a copy of the database alone does not give access to the mailbox.

use anyhow::{Context as _, Result, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

/// The key from its base64 form (32 bytes).
pub fn key(encoded: &str) -> Result<Vec<u8>> {
    let key = STANDARD.decode(encoded.trim()).context("oauth2.token_key is not base64")?;
    anyhow::ensure!(key.len() == 32, "oauth2.token_key must be 32 bytes (it is {})", key.len());
    Ok(key)
}

/// `nonce ‖ ciphertext`, base64.
pub fn seal(key: &[u8], plain: &str) -> Result<String> {
    let cipher = ChaCha20Poly1305::new_from_slice(key).map_err(|_| anyhow!("the token key must be 32 bytes"))?;
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher.encrypt(&nonce, plain.as_bytes()).map_err(|_| anyhow!("encrypting the token failed"))?;
    Ok(STANDARD.encode([&nonce[..], &sealed].concat()))
}

pub fn open(key: &[u8], sealed: &str) -> Result<String> {
    let cipher = ChaCha20Poly1305::new_from_slice(key).map_err(|_| anyhow!("the token key must be 32 bytes"))?;
    let bytes = STANDARD.decode(sealed).context("the stored token is damaged")?;
    anyhow::ensure!(bytes.len() > 12, "the stored token is damaged");
    let (nonce, data) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().context("the stored token is damaged")?;
    let plain = cipher
        .decrypt(&Nonce::from(nonce), data)
        .map_err(|_| anyhow!("the stored token cannot be read with this oauth2.token_key"))?;
    String::from_utf8(plain).context("the stored token is damaged")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_with_their_key_only() {
        let k = [7u8; 32];
        let sealed = seal(&k, "1//refresh-token").expect("seals");
        assert!(!sealed.contains("refresh"));
        assert_ne!(sealed, seal(&k, "1//refresh-token").expect("seals"), "a fresh nonce each time");
        assert_eq!(open(&k, &sealed).expect("opens"), "1//refresh-token");
        assert!(open(&[8u8; 32], &sealed).is_err(), "another key cannot read it");
        assert!(key("c2hvcnQ=").is_err(), "a short key is refused");
    }
}
