//! Sign-in for the embedded default: `POST /v1/dev/login` issues a token signed with a
//! key kept in the data directory; a middleware turns a valid token into the same
//! request context API Gateway's JWT authorizer would give a Lambda.

use std::path::Path;

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tempaccess_core::entry::Caller;
use tempaccess_http::caller::{caller_from_claims, claims_of, context_with_claims};

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks dev tokens.
#[derive(Clone)]
pub struct DevAuth {
    key: [u8; 32],
}

impl DevAuth {
    /// The key kept in `path`, created on first use.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let key = match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            Ok(_) => anyhow::bail!("{} is not a 32-byte key", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
                std::fs::write(path, &key)?;
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

    /// A token carrying the caller's claims.
    pub fn issue(&self, caller: &Caller) -> String {
        let payload = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims_of(caller)).expect("claims serialize"));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("dev.{payload}.{sig}")
    }

    /// The caller a token speaks for, if it is genuine.
    pub fn verify(&self, token: &str) -> Option<Caller> {
        let rest = token.strip_prefix("dev.")?;
        let (payload, sig) = rest.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        caller_from_claims(&claims)
    }
}

/// Puts the claims of a valid bearer token where API Gateway puts them.
pub async fn authorize(auth: DevAuth, mut request: Request, next: Next) -> Response {
    let caller = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| auth.verify(t.trim()));
    if let Some(caller) = caller {
        request
            .extensions_mut()
            .insert(context_with_claims(claims_of(&caller)));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempaccess_core::ids::Email;

    #[test]
    fn tokens_verify_and_tampering_fails() {
        let dir = std::env::temp_dir().join(format!("tempaccess-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let auth = DevAuth::open(&dir.join("key")).unwrap();
        let carol = Caller {
            email: Email::parse("carol@example.com").unwrap(),
            name: "Carol".into(),
            roles: vec!["admin".into()],
        };
        let token = auth.issue(&carol);
        assert_eq!(auth.verify(&token), Some(carol.clone()));
        let forged = token.replacen("dev.", "dev.x", 1);
        assert_eq!(auth.verify(&forged), None);
        let other = DevAuth::open(&dir.join("other-key")).unwrap();
        assert_eq!(other.verify(&token), None);
    }
}
