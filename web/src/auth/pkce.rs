//! Cognito's hosted UI with the authorization code flow and PKCE (RFC 7636): the
//! verifier, its challenge, the URLs and the token endpoint's form bodies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::CognitoConfig;

/// Where the verifier waits while the browser is at the hosted UI.
pub const PENDING_KEY: &str = "tempaccess.pkce";

/// The site's path Cognito sends the browser back to after signing in (the app
/// client's `CallbackURLs` must list the site's origin with it).
pub const CALLBACK_PATH: &str = "/auth/callback";

/// The site's path Cognito sends the browser back to after signing out (the app
/// client's `LogoutURLs` must list the site's origin with it).
pub const LOGOUT_PATH: &str = "/";

/// A sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The random `state` sent to the hosted UI; the callback must bring it back.
    pub state: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to go once signed in.
    pub next: String,
}

/// A code verifier from 32 random bytes: 43 characters of base64url.
pub fn verifier(random: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// The S256 code challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn base(cfg: &CognitoConfig) -> &str {
    cfg.domain.trim_end_matches('/')
}

/// The hosted UI's authorize URL.
pub fn authorize_url(
    cfg: &CognitoConfig,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    let scope = cfg.scopes.join(" ");
    format!(
        "{}/oauth2/authorize?{}",
        base(cfg),
        form(&[
            ("response_type", "code"),
            ("client_id", &cfg.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", &scope),
            ("state", state),
            ("code_challenge_method", "S256"),
            ("code_challenge", challenge),
        ])
    )
}

/// The token endpoint.
pub fn token_url(cfg: &CognitoConfig) -> String {
    format!("{}/oauth2/token", base(cfg))
}

/// The form body exchanging an authorization code for tokens.
pub fn code_exchange_body(
    cfg: &CognitoConfig,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> String {
    form(&[
        ("grant_type", "authorization_code"),
        ("client_id", &cfg.client_id),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ])
}

/// The form body of a silent refresh.
pub fn refresh_body(cfg: &CognitoConfig, refresh_token: &str) -> String {
    form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &cfg.client_id),
        ("refresh_token", refresh_token),
    ])
}

/// The hosted UI's sign-out URL, returning to `logout_uri`.
pub fn logout_url(cfg: &CognitoConfig, logout_uri: &str) -> String {
    format!(
        "{}/logout?{}",
        base(cfg),
        form(&[("client_id", &cfg.client_id), ("logout_uri", logout_uri)])
    )
}

/// The token endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenResponse {
    /// The ID token: the bearer the API takes (it carries `email` and the groups).
    pub id_token: String,
    /// The access token (unused by the API).
    #[serde(default)]
    pub access_token: String,
    /// Present on a code exchange; absent on a refresh.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds until the tokens expire.
    #[serde(default)]
    pub expires_in: i64,
}

/// The callback's query: `?code=…&state=…` or `?error=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Callback {
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// The state sent to the hosted UI.
    #[serde(default)]
    pub state: Option<String>,
    /// An error code from the hosted UI.
    #[serde(default)]
    pub error: Option<String>,
    /// Its description.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl Callback {
    /// The code, if the callback belongs to the pending sign-in.
    pub fn code_for(&self, pending: &Pending) -> Result<String, String> {
        if let Some(error) = &self.error {
            return Err(self
                .error_description
                .clone()
                .unwrap_or_else(|| error.clone()));
        }
        if self.state.as_deref() != Some(pending.state.as_str()) {
            return Err("the sign-in answer does not match the sign-in started here".into());
        }
        self.code
            .clone()
            .ok_or_else(|| "the sign-in answer has no code".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> CognitoConfig {
        CognitoConfig {
            domain: "https://login.example.com/".into(),
            client_id: "client1".into(),
            scopes: vec!["openid".into(), "email".into()],
        }
    }

    #[test]
    fn challenge_matches_rfc_7636_appendix_b() {
        let random: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let v = verifier(&random);
        assert_eq!(v, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(challenge(&v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_are_43_url_safe_characters() {
        let v = verifier(&[255; 32]);
        assert_eq!(v.len(), 43);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn authorize_url_carries_the_challenge() {
        let url = authorize_url(&cfg(), "https://site.example.com/auth/callback", "st", "ch");
        assert_eq!(
            url,
            "https://login.example.com/oauth2/authorize?response_type=code&client_id=client1\
             &redirect_uri=https%3A%2F%2Fsite.example.com%2Fauth%2Fcallback&scope=openid+email\
             &state=st&code_challenge_method=S256&code_challenge=ch"
        );
    }

    #[test]
    fn token_bodies_are_form_encoded() {
        assert_eq!(token_url(&cfg()), "https://login.example.com/oauth2/token");
        assert_eq!(
            code_exchange_body(&cfg(), "c0de", "https://s/cb", "ver"),
            "grant_type=authorization_code&client_id=client1&code=c0de\
             &redirect_uri=https%3A%2F%2Fs%2Fcb&code_verifier=ver"
        );
        assert_eq!(
            refresh_body(&cfg(), "r/t"),
            "grant_type=refresh_token&client_id=client1&refresh_token=r%2Ft"
        );
        assert_eq!(
            logout_url(&cfg(), "https://s/"),
            "https://login.example.com/logout?client_id=client1&logout_uri=https%3A%2F%2Fs%2F"
        );
    }

    #[test]
    fn callbacks_must_match_the_pending_sign_in() {
        let pending = Pending {
            state: "abc".into(),
            verifier: "v".into(),
            next: "/".into(),
        };
        let ok = Callback {
            code: Some("c".into()),
            state: Some("abc".into()),
            ..Callback::default()
        };
        assert_eq!(ok.code_for(&pending), Ok("c".into()));
        let forged = Callback {
            state: Some("other".into()),
            ..ok.clone()
        };
        assert!(forged.code_for(&pending).is_err());
        let denied = Callback {
            error: Some("access_denied".into()),
            ..Callback::default()
        };
        assert_eq!(denied.code_for(&pending), Err("access_denied".into()));
        let response: TokenResponse = serde_json::from_str(
            r#"{"id_token":"i","access_token":"a","expires_in":3600,"token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(response.refresh_token, None);
    }
}
