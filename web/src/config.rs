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
#[serde(tag = "kind", rename_all = "snake_case", try_from = "AuthFields")]
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

/// `auth` as `config.json` writes it, read as one plain struct and then sorted by its
/// `kind`: serde's internally tagged enums buffer the whole object first, code that
/// costs the wasm about 10 KB.
#[derive(Deserialize)]
struct AuthFields {
    kind: String,
    #[serde(default)]
    demo_users: Vec<DemoUser>,
    domain: Option<String>,
    client_id: Option<String>,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
}

impl TryFrom<AuthFields> for AuthConfig {
    type Error = String;

    fn try_from(fields: AuthFields) -> Result<Self, String> {
        match fields.kind.as_str() {
            "dev" => Ok(Self::Dev {
                demo_users: fields.demo_users,
            }),
            "cognito" => Ok(Self::Cognito(CognitoConfig {
                domain: fields.domain.ok_or("missing field `domain`")?,
                client_id: fields.client_id.ok_or("missing field `client_id`")?,
                scopes: fields.scopes,
            })),
            "none" => Ok(Self::None),
            other => Err(format!(
                "unknown variant `{other}`, expected one of `dev`, `cognito`, `none`"
            )),
        }
    }
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
        let none: SiteConfig = serde_json::from_str(r#"{"auth":{"kind":"none"}}"#).unwrap();
        assert_eq!(none.auth, AuthConfig::None);
        assert_eq!(none.api_url, "");
    }

    #[test]
    fn what_the_server_writes_reads_back() {
        for auth in [
            AuthConfig::Dev {
                demo_users: vec![DemoUser {
                    user: "bob".into(),
                    name: "Bob".into(),
                    role: "approver".into(),
                }],
            },
            AuthConfig::Cognito(CognitoConfig {
                domain: "https://login.example.com".into(),
                client_id: "abc".into(),
                scopes: vec!["openid".into()],
            }),
            AuthConfig::None,
        ] {
            let config = SiteConfig {
                api_url: "https://api.example.com".into(),
                auth,
            };
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(serde_json::from_str::<SiteConfig>(&json).unwrap(), config);
        }
    }

    #[test]
    fn a_wrong_kind_or_a_missing_field_is_refused() {
        for (json, says) in [
            (r#"{"auth":{"kind":"saml"}}"#, "unknown variant `saml`"),
            (r#"{"auth":{}}"#, "missing field `kind`"),
            (
                r#"{"auth":{"kind":"cognito","domain":"https://login.example.com"}}"#,
                "missing field `client_id`",
            ),
            (r#"{"api_url":""}"#, "missing field `auth`"),
        ] {
            let err = serde_json::from_str::<SiteConfig>(json).unwrap_err();
            assert!(err.to_string().contains(says), "{json}: {err}");
        }
    }
}
