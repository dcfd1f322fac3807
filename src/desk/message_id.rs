//! routedesk's own Message-IDs carry an HMAC, so its own mail coming back (a forward, a loop
//! through a robot, a misconfigured alias) is recognised — and an id that merely looks like ours,
//! without the right signature, is not.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct MessageIds {
    key: Vec<u8>,
    domain: String,
}

const TAG_HEX: usize = 20;

impl MessageIds {
    /// `key` is secret and shared by every instance (kept in the database's settings).
    pub fn new(key: &[u8], domain: &str) -> MessageIds {
        MessageIds { key: key.to_vec(), domain: domain.to_string() }
    }

    fn tag(&self, nonce: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(nonce.as_bytes());
        mac.finalize().into_bytes().iter().take(TAG_HEX / 2).map(|b| format!("{b:02x}")).collect()
    }

    /// A fresh id, without brackets: `rd.<nonce>.<tag>@<domain>`.
    pub fn new_id(&self) -> String {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        format!("rd.{nonce}.{}@{}", self.tag(&nonce), self.domain)
    }

    /// Whether `id` was made by routedesk with this key.
    pub fn is_ours(&self, id: &str) -> bool {
        let local = id.trim_matches(['<', '>']).split('@').next().unwrap_or_default();
        let mut parts = local.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("rd"), Some(nonce), Some(tag), None) if tag.len() == TAG_HEX => {
                let expected = self.tag(nonce);
                expected.len() == tag.len() && expected.bytes().zip(tag.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MessageIds;

    #[test]
    fn own_ids_verify_and_forgeries_do_not() {
        let ids = MessageIds::new(b"secret key", "gjovik.kommune.no");
        let id = ids.new_id();
        assert!(id.starts_with("rd.") && id.ends_with("@gjovik.kommune.no"), "{id}");
        assert!(ids.is_ours(&id));
        assert!(ids.is_ours(&format!("<{id}>")));
        // The tag's last digit changed (to one it is not: the test must not depend on the nonce).
        let at = id.find('@').unwrap_or(0);
        let other = if id[..at].ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{other}@gjovik.kommune.no", &id[..at - 1]);
        assert!(!ids.is_ours(&forged), "a changed tag is not ours");
        assert!(!MessageIds::new(b"other key", "gjovik.kommune.no").is_ours(&id), "another key's id is not ours");
        assert!(!ids.is_ours("CAF=abc@mail.gmail.com"));
    }
}
