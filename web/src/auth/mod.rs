//! Sign-in: the session kept in `sessionStorage`, and Cognito's authorization code
//! flow with PKCE ([`pkce`]).

pub mod pkce;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tempaccess_core::wire::Me;

/// Where the session is kept: `sessionStorage`, so it ends with the tab.
pub const SESSION_KEY: &str = "tempaccess.session";

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token (Cognito: the ID token).
    pub token: String,
    /// Cognito's refresh token, for a silent refresh.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the bearer token expires (Unix seconds), when known.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Who they are, from `GET /v1/me`.
    pub me: Me,
}

impl Session {
    /// Whether they are an admin.
    pub fn is_admin(&self) -> bool {
        self.me.roles.iter().any(|r| r == "admin" || r == "admins")
    }

    /// Whether the token should be refreshed before use at `now` (Unix seconds).
    pub fn needs_refresh(&self, now: i64) -> bool {
        self.refresh_token.is_some() && self.expires_at.is_some_and(|exp| exp - now < 120)
    }
}

/// The `exp` claim of a JWT (Unix seconds), read without checking the signature:
/// the API checks tokens, the site only times the refresh.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Reads a JSON value from `sessionStorage`.
pub fn load<T: for<'de> Deserialize<'de>>(key: &str) -> Option<T> {
    let text = storage()?.get_item(key).ok()??;
    serde_json::from_str(&text).ok()
}

/// Writes a JSON value to `sessionStorage`.
pub fn store<T: Serialize>(key: &str, value: &T) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &text);
    }
}

/// Removes a value from `sessionStorage`.
pub fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_expiry_of_a_jwt() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"x","exp":1900000000}"#);
        assert_eq!(jwt_expiry(&format!("h.{payload}.s")), Some(1_900_000_000));
        assert_eq!(jwt_expiry("not-a-jwt"), None);
    }

    #[test]
    fn refreshes_shortly_before_expiry() {
        let me = Me {
            id: "a@example.com".into(),
            email: "a@example.com".into(),
            name: "A".into(),
            roles: vec![],
        };
        let mut session = Session {
            token: "t".into(),
            refresh_token: Some("r".into()),
            expires_at: Some(1000),
            me,
        };
        assert!(!session.needs_refresh(800));
        assert!(session.needs_refresh(900));
        session.refresh_token = None;
        assert!(!session.needs_refresh(900));
    }
}
