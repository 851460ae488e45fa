//! Sign-in for the embedded default: `POST /v1/dev/login` issues a token signed with a
//! key kept in the data directory; a middleware turns a valid token into the same
//! request context API Gateway's JWT authorizer would give a Lambda.
//!
//! A token names a person and when it expires (by the wall clock, whatever a test
//! clock says); what they may do is read from the store on every call, so a role taken
//! away takes effect at once.

use std::path::Path;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tempaccess_core::entry::Caller;
use tempaccess_core::ids::Email;
use tempaccess_core::ports::Store;
use tempaccess_http::caller::{claims_of, context_with_claims};

type HmacSha256 = Hmac<Sha256>;

/// How long a dev token lasts.
pub const TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(12);

/// What a dev token says.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    email: Email,
    /// Unix seconds.
    exp: i64,
}

/// Signs and checks dev tokens.
#[derive(Clone)]
pub struct DevAuth {
    key: [u8; 32],
}

impl DevAuth {
    /// The key kept in `path` (`0600`), created on first use.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let key = match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => {
                crate::files::restrict(path)?;
                bytes
            }
            Ok(_) => anyhow::bail!("{} is not a 32-byte key", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
                crate::files::write_private(path, &key)?;
                key
            }
            Err(e) => return Err(e.into()),
        };
        let mut k = [0u8; 32];
        k.copy_from_slice(&key);
        Ok(Self { key: k })
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// A token for `email`, valid for [`TOKEN_LIFETIME`] from `now`.
    pub fn issue(&self, email: &Email, now: DateTime<Utc>) -> String {
        let claims = Claims {
            email: email.clone(),
            exp: (now + TOKEN_LIFETIME).timestamp(),
        };
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("dev.{payload}.{sig}")
    }

    /// The person a token names, if it is genuine and not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Email> {
        let rest = token.strip_prefix("dev.")?;
        let (payload, sig) = rest.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (now.timestamp() < claims.exp).then_some(claims.email)
    }
}

/// Puts the claims of a valid bearer token where API Gateway puts them, as the person
/// is now in the store (a token of someone no longer there signs nobody in).
pub async fn authorize(
    auth: DevAuth,
    store: Arc<dyn Store>,
    mut request: Request,
    next: Next,
) -> Response {
    let email = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| auth.verify(t.trim(), Utc::now()));
    if let Some(email) = email {
        match store.user(&email).await {
            Ok(Some(user)) => {
                let caller = Caller {
                    email: user.email,
                    name: user.name,
                    roles: user.roles,
                };
                request
                    .extensions_mut()
                    .insert(context_with_claims(claims_of(&caller)));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the signed-in person"),
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_tampering_fails() {
        let dir = std::env::temp_dir().join(format!("tempaccess-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let auth = DevAuth::open(&dir.join("key")).unwrap();
        let carol = Email::parse("carol@example.com").unwrap();
        let now = Utc::now();
        let token = auth.issue(&carol, now);
        assert_eq!(auth.verify(&token, now), Some(carol.clone()));
        assert_eq!(
            auth.verify(&token, now + TOKEN_LIFETIME - TimeDelta::seconds(1)),
            Some(carol.clone())
        );
        assert_eq!(auth.verify(&token, now + TOKEN_LIFETIME), None, "expired");
        let forged = token.replacen("dev.", "dev.x", 1);
        assert_eq!(auth.verify(&forged, now), None);
        let other = DevAuth::open(&dir.join("other-key")).unwrap();
        assert_eq!(other.verify(&token, now), None);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's alone");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
