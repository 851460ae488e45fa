//! Sign-in: the session kept in `localStorage` (so every tab of the site shares it, and
//! signing out in one signs out all), and Cognito's authorization code flow with PKCE
//! ([`pkce`]), whose one-tab state stays in `sessionStorage`.

pub mod pkce;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tempaccess_core::wire::Me;

/// Where the session is kept, in `localStorage`: shared by the site's tabs, as people
/// expect of a signed-in site (a mail's link opened in a new tab stays signed in).
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

fn shared_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn read<T: for<'de> Deserialize<'de>>(storage: Option<web_sys::Storage>, key: &str) -> Option<T> {
    let text = storage?.get_item(key).ok()??;
    serde_json::from_str(&text).ok()
}

fn write<T: Serialize>(storage: Option<web_sys::Storage>, key: &str, value: &T) {
    if let (Some(storage), Ok(text)) = (storage, serde_json::to_string(value)) {
        let _ = storage.set_item(key, &text);
    }
}

/// Reads a JSON value from this tab's `sessionStorage`.
pub fn load<T: for<'de> Deserialize<'de>>(key: &str) -> Option<T> {
    read(storage(), key)
}

/// Writes a JSON value to this tab's `sessionStorage`.
pub fn store<T: Serialize>(key: &str, value: &T) {
    write(storage(), key, value);
}

/// Removes a value from this tab's `sessionStorage`.
pub fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

/// The session every tab shares, if someone is signed in.
pub fn load_session() -> Option<Session> {
    read(shared_storage(), SESSION_KEY)
}

/// Keeps the session for every tab.
pub fn keep_session(session: &Session) {
    write(shared_storage(), SESSION_KEY, session);
    // A session kept per tab by an older version of the site is no longer read.
    forget(SESSION_KEY);
}

/// Ends the session in every tab.
pub fn forget_session() {
    if let Some(storage) = shared_storage() {
        let _ = storage.remove_item(SESSION_KEY);
    }
    forget(SESSION_KEY);
}

/// The session a `storage` event from another tab carries: `Some(None)` when that tab
/// signed out, `None` when the event is about something else.
pub fn session_from_event(key: Option<&str>, new_value: Option<&str>) -> Option<Option<Session>> {
    match key {
        // `clear()` of the whole storage.
        None => Some(None),
        Some(SESSION_KEY) => Some(new_value.and_then(|v| serde_json::from_str(v).ok())),
        Some(_) => None,
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
    fn another_tabs_sign_in_and_out_are_read_from_its_storage_event() {
        let me = Me {
            id: "a@example.com".into(),
            email: "a@example.com".into(),
            name: "A".into(),
            roles: vec![],
        };
        let session = Session {
            token: "t".into(),
            refresh_token: None,
            expires_at: None,
            me,
        };
        let text = serde_json::to_string(&session).unwrap();
        assert_eq!(
            session_from_event(Some(SESSION_KEY), Some(&text)),
            Some(Some(session))
        );
        assert_eq!(session_from_event(Some(SESSION_KEY), None), Some(None));
        assert_eq!(session_from_event(None, None), Some(None));
        assert_eq!(session_from_event(Some("other"), Some("x")), None);
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
