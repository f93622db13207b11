//! What a session carries besides its tokens' state: the metadata given at login (a client
//! label, IP address, user agent, the application's own data) and the session's claims
//! (the login's extra claims, changed by `update_session`). Kept by every store away from
//! what a validate reads, so a validate never pays for it.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Longest `label` and `user_agent`, in bytes.
pub const MAX_TEXT_BYTES: usize = 256;
/// Largest `data`, and largest change of `update_session`, serialised as JSON, in bytes.
pub const MAX_DATA_BYTES: usize = 4096;
/// Largest a session's claims may grow to through `update_session`, as JSON, in bytes
/// (a login's own extra claims are bounded by `max_token_bytes`).
pub const MAX_CLAIMS_BYTES: usize = 64 * 1024;

/// Metadata given at login and kept with the session.
///
/// ```
/// use keyfob::session::SessionMeta;
///
/// let meta = SessionMeta {
///     label: Some("Firefox on macOS".into()),
///     ip: Some("203.0.113.7".parse().unwrap()),
///     ..SessionMeta::default()
/// };
/// assert!(meta.check().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionMeta {
    /// The client as a person would name it ("Firefox on macOS").
    pub label: Option<String>,
    /// The address the login came from.
    pub ip: Option<IpAddr>,
    /// The login request's `User-Agent`.
    pub user_agent: Option<String>,
    /// The application's own data: a JSON object of at most [`MAX_DATA_BYTES`] serialised.
    pub data: Map<String, Value>,
}

impl SessionMeta {
    /// Whether nothing is set (a store keeps nothing for such a session).
    pub fn is_empty(&self) -> bool {
        self.label.is_none()
            && self.ip.is_none()
            && self.user_agent.is_none()
            && self.data.is_empty()
    }

    /// The bounds: text fields of at most [`MAX_TEXT_BYTES`] with no control characters,
    /// `data` of at most [`MAX_DATA_BYTES`] serialised.
    pub fn check(&self) -> Result<()> {
        check_text("label", self.label.as_deref())?;
        check_text("user_agent", self.user_agent.as_deref())?;
        check_json_size("data", &self.data)
    }
}

fn check_text(what: &str, text: Option<&str>) -> Result<()> {
    let Some(text) = text else { return Ok(()) };
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::InvalidArgument(format!(
            "{what} must be at most {MAX_TEXT_BYTES} bytes"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

/// `map` serialised fits in [`MAX_DATA_BYTES`].
pub(crate) fn check_json_size(what: &str, map: &Map<String, Value>) -> Result<()> {
    check_json_bound(what, map, MAX_DATA_BYTES)
}

/// `map`, a session's merged claims, serialised fits in [`MAX_CLAIMS_BYTES`].
pub(crate) fn check_claims_size(map: &Map<String, Value>) -> Result<()> {
    check_json_bound("the session's claims", map, MAX_CLAIMS_BYTES)
}

fn check_json_bound(what: &str, map: &Map<String, Value>, bound: usize) -> Result<()> {
    // Most logins carry no data: nothing to measure.
    if !map.is_empty() && json_len(map) > bound {
        return Err(Error::InvalidArgument(format!(
            "{what} must be at most {bound} bytes as JSON"
        )));
    }
    Ok(())
}

fn json_len(map: &Map<String, Value>) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a map of JSON values into a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, map);
    count.0
}

/// Parse an IP address given as text (C and Python pass strings).
pub fn parse_ip(text: &str) -> Result<IpAddr> {
    text.trim().parse().map_err(|_| {
        Error::InvalidArgument(format!("ip must be an IPv4 or IPv6 address, got {text:?}"))
    })
}

/// What a store keeps with a session besides its state: the login's metadata and the
/// session's current claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDetails {
    /// Given at login.
    pub meta: SessionMeta,
    /// The claims every new token of the session carries: the login's extra claims, as
    /// changed since by `update_session`.
    pub claims: Map<String, Value>,
}

impl SessionDetails {
    /// Whether there is nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty() && self.claims.is_empty()
    }
}

/// Merge `changes` into `claims`: a `null` value removes the claim.
pub fn merge_claims(claims: &mut Map<String, Value>, changes: &Map<String, Value>) {
    for (k, v) in changes {
        if v.is_null() {
            claims.remove(k);
        } else {
            claims.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounds_are_checked() {
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let meta = SessionMeta {
            label: Some(long),
            ..SessionMeta::default()
        };
        assert!(matches!(meta.check(), Err(Error::InvalidArgument(m)) if m.contains("label")));
        let meta = SessionMeta {
            user_agent: Some("a\nb".into()),
            ..SessionMeta::default()
        };
        assert!(meta.check().is_err());
        let mut data = Map::new();
        data.insert("k".into(), json!("v".repeat(MAX_DATA_BYTES)));
        let meta = SessionMeta {
            data,
            ..SessionMeta::default()
        };
        assert!(matches!(meta.check(), Err(Error::InvalidArgument(m)) if m.contains("data")));
        assert!(SessionMeta::default().check().is_ok());
        assert!(SessionMeta::default().is_empty());
    }

    #[test]
    fn ips_parse_or_are_refused() {
        assert_eq!(parse_ip("::1").unwrap().to_string(), "::1");
        assert_eq!(parse_ip("10.0.0.1").unwrap().to_string(), "10.0.0.1");
        assert!(parse_ip("not an ip").is_err());
    }

    #[test]
    fn null_removes_a_claim() {
        let mut claims = json!({"role": "admin", "team": 1})
            .as_object()
            .unwrap()
            .clone();
        let changes = json!({"role": null, "plan": "pro"})
            .as_object()
            .unwrap()
            .clone();
        merge_claims(&mut claims, &changes);
        assert_eq!(Value::Object(claims), json!({"team": 1, "plan": "pro"}));
    }
}
