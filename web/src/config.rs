//! The site's settings, read at start from `config.json` beside `index.html`, so one
//! build serves every deployment.
//!
//! ```json
//! {"api_url": "", "auth": {"kind": "dev", "demo_users": [...]}}
//! {"api_url": "https://api.example.com",
//!  "auth": {"kind": "cognito", "domain": "https://login.example.com", "client_id": "…"}}
//! ```

use serde::{Deserialize, Serialize};

/// Where the settings live, beside `index.html`.
pub const CONFIG_PATH: &str = "/config.json";

/// The site's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteConfig {
    /// The API's base URL without `/v1`; empty for the site's own origin.
    #[serde(default)]
    pub api_url: String,
    /// How people sign in.
    pub auth: AuthConfig,
}

impl SiteConfig {
    /// Whether this is the embedded default (dev sign-in, mailbox).
    pub fn is_dev(&self) -> bool {
        matches!(self.auth, AuthConfig::Dev { .. })
    }
}

/// How people sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuthConfig {
    /// The embedded default: pick a demo user (`POST /v1/dev/login`).
    Dev {
        /// The people offered on the sign-in page.
        #[serde(default)]
        demo_users: Vec<DemoUser>,
    },
    /// Cognito's hosted UI, authorization code with PKCE.
    Cognito(CognitoConfig),
    /// No sign-in here (a local server on real data without the demo sign-in): only
    /// what anyone may call works, such as a decision link's page.
    None,
}

/// A demo person of the embedded default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    /// What `POST /v1/dev/login` takes: a name or an email.
    pub user: String,
    /// Their display name.
    pub name: String,
    /// What they do in the demo ("requester", "approver", "admin").
    #[serde(default)]
    pub role: String,
}

/// The Cognito app client the site signs in with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitoConfig {
    /// The hosted UI's base URL, e.g. `https://tempaccess.auth.us-east-1.amazoncognito.com`.
    pub domain: String,
    /// The app client id (a public client: no secret).
    pub client_id: String,
    /// The scopes asked for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_kinds() {
        let dev: SiteConfig = serde_json::from_str(
            r#"{"api_url":"","auth":{"kind":"dev","demo_users":[{"user":"alice","name":"Alice","role":"requester"}]}}"#,
        )
        .unwrap();
        assert!(dev.is_dev());
        let cognito: SiteConfig = serde_json::from_str(
            r#"{"api_url":"https://api.example.com","auth":{"kind":"cognito","domain":"https://login.example.com","client_id":"abc"}}"#,
        )
        .unwrap();
        match cognito.auth {
            AuthConfig::Cognito(c) => assert_eq!(c.scopes, ["openid", "email", "profile"]),
            other => panic!("{other:?}"),
        }
    }
}
