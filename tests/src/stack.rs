//! The deployed stack the `stack` suites run against: started by the `stack` stage of
//! `cargo xtask test` (as `cargo xtask stack` starts it), described in the JSON file
//! `TEMPACCESS_STACK` names. Signs people in as the site does, through the hosted-UI
//! front's authorization-code flow with PKCE, and reads what the stack recorded.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Method, redirect};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::app::Reply;
use crate::browser::Browser;

/// The site's callback path (the site's `pkce::CALLBACK_PATH`; the infra suite checks
/// the template registers it).
pub const CALLBACK_PATH: &str = "/auth/callback";

/// The running stack.
pub struct Stack {
    /// What `cargo xtask stack` wrote.
    pub info: Value,
    /// A client that does not follow redirects.
    pub http: Client,
}

/// The suite's tests run at once (the stage starts them together, so that the grant's
/// end and the sweep are waited for while the others run). A test that counts what
/// reached a function, empties a route's rate bucket or compares two reads of the whole
/// table runs alone: it holds [`alone`]; the others hold [`alongside`] while they call
/// the API.
static GATE: RwLock<()> = RwLock::const_new(());

/// Held while nothing else of the suite calls the API.
pub async fn alone() -> RwLockWriteGuard<'static, ()> {
    GATE.write().await
}

/// Held while calling the API beside the other tests that hold it, never beside one
/// that holds [`alone`].
pub async fn alongside() -> RwLockReadGuard<'static, ()> {
    GATE.read().await
}

/// Tokens from the hosted UI's token endpoint.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The ID token: the site's bearer.
    pub id_token: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
}

impl Stack {
    /// The stack of this test run.
    pub fn get() -> &'static Stack {
        static STACK: OnceLock<Stack> = OnceLock::new();
        STACK.get_or_init(|| {
            let path = std::env::var("TEMPACCESS_STACK").expect(
                "TEMPACCESS_STACK is not set: the stack suites run in the `stack` stage of \
                 `cargo xtask test` (`cargo xtask test --only stack`)",
            );
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            Stack {
                info: serde_json::from_str(&text).expect("stack.json is JSON"),
                http: Client::builder()
                    .redirect(redirect::Policy::none())
                    .timeout(Duration::from_secs(60))
                    // The tests run at once, each on a runtime of its own: a pooled
                    // connection would be driven by the runtime that opened it, and die
                    // with its test.
                    .pool_max_idle_per_host(0)
                    .build()
                    .expect("an HTTP client"),
            }
        })
    }

    fn s(&self, key: &str) -> String {
        self.info[key]
            .as_str()
            .unwrap_or_else(|| panic!("stack.json has no {key}"))
            .to_owned()
    }

    /// `http://localhost:PORT` of the site.
    pub fn site_url(&self) -> String {
        self.s("site_url")
    }

    /// The HTTP API.
    pub fn api_url(&self) -> String {
        self.s("api_url")
    }

    /// The hosted UI.
    pub fn hosted_ui_url(&self) -> String {
        self.s("hosted_ui_url")
    }

    /// The emulator.
    pub fn moto_url(&self) -> String {
        self.s("moto_url")
    }

    /// The user pool.
    pub fn pool_id(&self) -> String {
        self.s("user_pool_id")
    }

    /// A stack output.
    pub fn output(&self, name: &str) -> String {
        self.info["outputs"][name]
            .as_str()
            .unwrap_or_else(|| panic!("the stack has no output {name}"))
            .to_owned()
    }

    /// The site's app client.
    pub fn client_id(&self) -> String {
        self.output("UserPoolClientId")
    }

    /// A demo person's email and password, by first name (`alice`).
    pub fn person(&self, who: &str) -> (String, String) {
        let p = self.info["people"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                p["email"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(&format!("{who}@")))
            })
            .unwrap_or_else(|| panic!("no demo person {who}"));
        (
            p["email"].as_str().unwrap().to_owned(),
            p["password"].as_str().unwrap().to_owned(),
        )
    }

    /// The `/oauth2/authorize` URL the site builds, for a client and redirect URI.
    pub fn authorize_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
    ) -> String {
        format!(
            "{}/oauth2/authorize?{}",
            self.hosted_ui_url(),
            serde_urlencoded::to_string([
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("scope", "openid email profile"),
                ("state", state),
                ("code_challenge_method", "S256"),
                ("code_challenge", challenge),
            ])
            .unwrap()
        )
    }

    /// Signs `who` in with the site's client, as the site does it.
    pub async fn sign_in(&self, who: &str) -> Tokens {
        let (email, password) = self.person(who);
        let redirect = format!("{}{CALLBACK_PATH}", self.site_url());
        self.sign_in_with(&self.client_id(), &redirect, &email, &password)
            .await
            .unwrap_or_else(|e| panic!("signing in {who}: {e}"))
    }

    /// The authorization-code flow with PKCE against the hosted-UI front.
    pub async fn sign_in_with(
        &self,
        client_id: &str,
        redirect_uri: &str,
        username: &str,
        password: &str,
    ) -> Result<Tokens, String> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).unwrap();
        let verifier = URL_SAFE_NO_PAD.encode(random);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = "st4te";
        let authorize = self.authorize_url(client_id, redirect_uri, state, &challenge);
        let r = self
            .http
            .get(&authorize)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let to_login = location(&r).ok_or(format!("authorize answered {}", r.status()))?;
        if !to_login.starts_with("/login?") {
            return Err(format!("authorize sent the browser to {to_login}"));
        }
        let mut form: Vec<(String, String)> =
            serde_urlencoded::from_str(to_login.trim_start_matches("/login?")).unwrap();
        form.push(("username".into(), username.into()));
        form.push(("password".into(), password.into()));
        let r = self
            .http
            .post(format!("{}/login", self.hosted_ui_url()))
            .form(&form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let back = location(&r).ok_or(format!("login answered {}", r.status()))?;
        let query = back
            .strip_prefix(&format!("{redirect_uri}?"))
            .ok_or(format!("login sent the browser to {back}"))?;
        let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("state").as_deref(), Some(state), "the state comes back");
        let code = get("code").ok_or(format!("no code in {back}"))?;
        let r = self
            .http
            .post(format!("{}/oauth2/token", self.hosted_ui_url()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &verifier),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("the token endpoint answered {status}: {body}"));
        }
        let s = |k: &str| {
            body[k]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("no {k} in {body}"))
        };
        Ok(Tokens {
            id_token: s("id_token")?,
            access_token: s("access_token")?,
            refresh_token: s("refresh_token")?,
        })
    }

    /// A call to the HTTP API.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut b = self
            .http
            .request(method.clone(), format!("{}{path}", self.api_url()));
        if let Some(t) = token {
            b = b.bearer_auth(t);
        }
        if let Some(body) = body {
            b = b.json(body);
        }
        let r = b
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        Reply {
            what: format!("{method} {path}"),
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    /// Every function invocation so far.
    pub async fn invocations(&self) -> Vec<Value> {
        self.control("/invocations").await
    }

    /// Every schedule delivery so far.
    pub async fn deliveries(&self) -> Vec<Value> {
        self.control("/deliveries").await
    }

    /// The stack's page of the mail SES holds.
    pub async fn mail_page(&self) -> String {
        self.http
            .get(format!("{}/mail", self.s("control_url")))
            .send()
            .await
            .expect("the stack's mail page")
            .text()
            .await
            .expect("text")
    }

    async fn control(&self, path: &str) -> Vec<Value> {
        self.http
            .get(format!("{}{path}", self.s("control_url")))
            .send()
            .await
            .expect("the stack's control endpoint")
            .json::<Vec<Value>>()
            .await
            .expect("a JSON list")
    }

    /// The environment `tempaccess … --backend aws` needs to reach this stack's table
    /// (as an admin would export it from the stack's outputs).
    pub fn cli_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.moto_url()),
            ("AWS_REGION", self.s("region")),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("TEMPACCESS_TABLE", self.output("TableName")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A call to the emulator in a service's JSON protocol.
    pub async fn aws(&self, service: &str, target: &str, body: &Value) -> Value {
        let (prefix, ct) = match service {
            "cognito-idp" => (
                "AWSCognitoIdentityProviderService",
                "application/x-amz-json-1.1",
            ),
            "secretsmanager" => ("secretsmanager", "application/x-amz-json-1.1"),
            "dynamodb" => ("DynamoDB_20120810", "application/x-amz-json-1.0"),
            other => panic!("no protocol for {other}"),
        };
        let r = self
            .http
            .post(format!("{}/", self.moto_url()))
            .header("x-amz-target", format!("{prefix}.{target}"))
            .header("content-type", ct)
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
                    self.s("region")
                ),
            )
            .body(body.to_string())
            .send()
            .await
            .expect("the emulator");
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{service} {target}: {status} {v}");
        v
    }

    /// The sender every mail comes from (the template's `MailFrom` parameter).
    pub fn mail_from(&self) -> String {
        self.info["parameters"]["MailFrom"]
            .as_str()
            .expect("stack.json has the MailFrom parameter")
            .to_owned()
    }
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Signs in on the site through the hosted UI, as a person does: "Sign in", the
/// hosted UI's form, back to the site signed in.
pub async fn browser_sign_in(b: &Browser, who: &str) {
    b.goto("/sign-in").await;
    browser_sign_in_here(b, who).await;
}

/// Signs `who` in from the site's sign-in page the browser is on: its button, the
/// hosted UI's form, and back on the site signed in (on the page sign-in was asked
/// from).
pub async fn browser_sign_in_here(b: &Browser, who: &str) {
    let (email, password) = Stack::get().person(who);
    b.click_button("Sign in").await;
    b.by_id("signInFormUsername").await;
    b.type_into("signInFormUsername", &email).await;
    b.type_into("signInFormPassword", &password).await;
    b.screenshot(&format!("hosted-ui-{who}")).await;
    b.click_button("Sign in").await;
    b.wait_for(fantoccini::Locator::XPath(
        "//button[normalize-space(.)='Sign out']",
    ))
    .await;
    let path = b.path().await;
    assert!(
        !path.starts_with(CALLBACK_PATH),
        "still on the callback: {path}"
    );
}

/// Signs out on the site (and at the hosted UI's `/logout`), back on the site's root
/// signed out.
pub async fn browser_sign_out(b: &Browser) {
    b.click_button("Sign out").await;
    b.wait_for(fantoccini::Locator::XPath(
        "//h1[normalize-space(.)='Sign in to continue']",
    ))
    .await;
    assert_eq!(
        b.path().await,
        "/",
        "the hosted UI sends the browser back to the site's root"
    );
}
