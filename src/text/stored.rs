//! The stored form of what routedesk records as data (reasons, audit entries, set-aside reasons):
//! JSON, read back only when it is JSON — text stored before such things were data is kept and
//! shown as written.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` as stored. Serialising these plain enums and structs cannot fail; were it ever to, the
/// empty text reads back as "nothing recorded".
pub fn to_stored<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A stored value, or `None` for text that is not its stored form (written before, or a
/// person's or a server's own words).
pub fn from_stored<T: DeserializeOwned>(stored: &str) -> Option<T> {
    if !stored.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str(stored).ok()
}
