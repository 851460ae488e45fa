//! The hosted-UI front: the user pool domain's OAuth 2.0 endpoints
//! (`/oauth2/authorize`, `/login`, `/oauth2/token`, `/logout`, `/error`) as Cognito
//! documents them, issuing the emulator's own tokens (the emulator has no hosted UI).
//!
//! Modelled:
//! - `/oauth2/authorize` checks the app client as the emulator holds it: a
//!   `redirect_uri` not in its `CallbackURLs` (exact match) is refused with a redirect
//!   to `/error?error=redirect_mismatch`, never to the site; a response type, flow or
//!   scope the client does not allow goes back to the site as `error=…`; a PKCE
//!   challenge must use `S256`; with a sign-in session (a cookie on this domain) it
//!   answers with a code at once, else it sends the browser to `/login`;
//! - `/login` checks the password with the emulator (`AdminInitiateAuth`) and answers
//!   with a one-time code (5 minutes) bound to the client, the `redirect_uri` and the
//!   challenge;
//! - `/oauth2/token` redeems a code (the same `redirect_uri`, the PKCE verifier) or a
//!   refresh token for the emulator's ID, access and refresh tokens; errors are
//!   `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
//!   `unsupported_grant_type`; it answers any origin (browsers call it directly);
//! - `/logout` requires a `logout_uri` in the client's `LogoutURLs`, ends the session
//!   and returns there.
//!
//! Left out: the managed-login pages' look, sign-up, forgotten passwords, MFA, new-
//! password challenges, federated identity providers, the implicit grant, `nonce`,
//! the `userInfo` endpoint. Token contents and lifetimes are the emulator's (it signs
//! every pool's tokens with one published key and issues hour-long tokens whatever
//! the client's validity settings say).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::emulator::{Emulator, ServiceError};

/// How long an authorization code may be redeemed.
const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// How long a hosted-UI sign-in session lasts.
const SESSION_LIFETIME: Duration = Duration::from_secs(3600);
/// The session cookie.
const COOKIE: &str = "cognito";

/// The front's state.
pub struct HostedUi {
    emulator: Emulator,
    pool_id: String,
    sessions: Mutex<HashMap<String, Session>>,
    codes: Mutex<HashMap<String, Grant>>,
}

#[derive(Clone)]
struct Session {
    client_id: String,
    refresh_token: String,
    since: Instant,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    refresh_token: String,
    issued: Instant,
}

/// The parameters of `/oauth2/authorize` and `/login`.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_challenge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_challenge_method: Option<String>,
}

impl HostedUi {
    /// A hosted UI for the user pool `pool_id`.
    pub fn new(emulator: Emulator, pool_id: String) -> Self {
        Self {
            emulator,
            pool_id,
            sessions: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
        }
    }

    async fn client(&self, client_id: &str) -> Option<Value> {
        self.emulator
            .json(
                "cognito-idp",
                "DescribeUserPoolClient",
                &json!({"UserPoolId": self.pool_id, "ClientId": client_id}),
            )
            .await
            .ok()
            .map(|v| v["UserPoolClient"].clone())
    }

    /// Tokens for a session's user, freshly issued by the emulator.
    async fn tokens(&self, client_id: &str, refresh_token: &str) -> anyhow::Result<Value> {
        let got = self
            .emulator
            .json(
                "cognito-idp",
                "AdminInitiateAuth",
                &json!({
                    "UserPoolId": self.pool_id,
                    "ClientId": client_id,
                    "AuthFlow": "REFRESH_TOKEN_AUTH",
                    "AuthParameters": {"REFRESH_TOKEN": refresh_token},
                }),
            )
            .await?;
        Ok(got["AuthenticationResult"].clone())
    }
}

/// A `302 Found` to `to`, as Cognito redirects.
fn found(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::FOUND, [("location", v)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("random");
    URL_SAFE_NO_PAD.encode(b)
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let q = serde_urlencoded::to_string(pairs).unwrap_or_default();
    if base.contains('?') {
        format!("{base}&{q}")
    } else {
        format!("{base}?{q}")
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// What `/oauth2/authorize` decides about a request before anyone signs in.
enum Check {
    /// Go on to sign-in (or answer at once with a session).
    Proceed,
    /// Send the browser here.
    Redirect(String),
}

async fn check(ui: &HostedUi, p: &AuthorizeParams) -> Check {
    let error_page = |error: &str| {
        Check::Redirect(with_query(
            "/error",
            &[("error", error), ("client_id", p.client_id.as_str())],
        ))
    };
    let Some(client) = ui.client(&p.client_id).await else {
        return error_page("invalid_request");
    };
    // Checked before anything is sent back to the redirect URI.
    if !strings(&client["CallbackURLs"]).contains(&p.redirect_uri) {
        return error_page("redirect_mismatch");
    }
    let back = |error: &str| {
        let mut pairs = vec![("error", error)];
        if let Some(s) = &p.state {
            pairs.push(("state", s.as_str()));
        }
        Check::Redirect(with_query(&p.redirect_uri, &pairs))
    };
    let flow = match p.response_type.as_str() {
        "code" => "code",
        "token" => "implicit",
        _ => return back("unsupported_response_type"),
    };
    if client["AllowedOAuthFlowsUserPoolClient"] != true
        || !strings(&client["AllowedOAuthFlows"])
            .iter()
            .any(|f| f == flow)
    {
        return back("unauthorized_client");
    }
    if flow == "implicit" {
        return back("unsupported_response_type");
    }
    if !strings(&client["SupportedIdentityProviders"])
        .iter()
        .any(|i| i == "COGNITO")
    {
        return back("unauthorized_client");
    }
    let allowed = strings(&client["AllowedOAuthScopes"]);
    if let Some(scope) = &p.scope
        && !scope
            .split_whitespace()
            .all(|s| allowed.iter().any(|a| a == s))
    {
        return back("invalid_scope");
    }
    if p.code_challenge.is_some() && p.code_challenge_method.as_deref() != Some("S256") {
        return back("invalid_request");
    }
    Check::Proceed
}

fn session_of(ui: &HostedUi, headers: &HeaderMap) -> Option<(String, Session)> {
    let cookies = headers.get("cookie")?.to_str().ok()?;
    let id = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)?
        .1
        .to_owned();
    let sessions = ui.sessions.lock().expect("sessions");
    let s = sessions.get(&id)?;
    (s.since.elapsed() < SESSION_LIFETIME).then(|| (id.clone(), s.clone()))
}

fn issue_code(ui: &HostedUi, p: &AuthorizeParams, refresh_token: &str) -> String {
    let code = random_token(24);
    ui.codes.lock().expect("codes").insert(
        code.clone(),
        Grant {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            challenge: p.code_challenge.clone(),
            refresh_token: refresh_token.to_owned(),
            issued: Instant::now(),
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &p.state {
        pairs.push(("state", s.as_str()));
    }
    with_query(&p.redirect_uri, &pairs)
}

/// `GET /oauth2/authorize`.
pub async fn authorize(
    State(ui): State<Arc<HostedUi>>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    if let Check::Redirect(to) = check(&ui, &p).await {
        return found(&to);
    }
    if let Some((_, s)) = session_of(&ui, &headers)
        && s.client_id == p.client_id
    {
        return found(&issue_code(&ui, &p, &s.refresh_token));
    }
    let q = serde_urlencoded::to_string(&p).unwrap_or_default();
    found(&format!("/login?{q}"))
}

/// `GET /login`: the sign-in form.
pub async fn login_page(
    State(ui): State<Arc<HostedUi>>,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    if let Check::Redirect(to) = check(&ui, &p).await {
        return found(&to);
    }
    Html(login_form(&p, None)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn login_form(p: &AuthorizeParams, error: Option<&str>) -> String {
    let hidden: String = serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(&k),
                escape(&v)
            )
        })
        .collect();
    let error = error.map_or_else(String::new, |e| {
        format!(
            "<p id=\"loginErrorMessage\" role=\"alert\">{}</p>",
            escape(e)
        )
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signin</title></head>\
         <body><main><h1>Sign in with your email and password</h1>\
         <p>The local stack's stand-in for the Cognito hosted UI: the password is checked by the AWS emulator's user pool.</p>\
         {error}<form method=\"post\" action=\"/login\">{hidden}\
         <label for=\"signInFormUsername\">Email</label>\
         <input id=\"signInFormUsername\" name=\"username\" type=\"text\" autocomplete=\"username\" required>\
         <label for=\"signInFormPassword\">Password</label>\
         <input id=\"signInFormPassword\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\" name=\"signInSubmitButton\">Sign in</button></form></main></body></html>"
    )
}

/// `POST /login`: checks the password and answers with a code.
pub async fn login(State(ui): State<Arc<HostedUi>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let p: AuthorizeParams = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if let Check::Redirect(to) = check(&ui, &p).await {
        return found(&to);
    }
    let username = form
        .get("username")
        .map(|u| u.trim().to_owned())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let attempt = ui
        .emulator
        .json(
            "cognito-idp",
            "AdminInitiateAuth",
            &json!({
                "UserPoolId": ui.pool_id,
                "ClientId": p.client_id,
                "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }),
        )
        .await;
    let result = match attempt {
        Ok(v) if v["AuthenticationResult"]["RefreshToken"].is_string() => {
            v["AuthenticationResult"].clone()
        }
        Ok(v) => {
            let challenge = v["ChallengeName"].as_str().unwrap_or("a challenge");
            return Html(login_form(
                &p,
                Some(&format!(
                    "This sign-in needs {challenge}, which the local stack does not model."
                )),
            ))
            .into_response();
        }
        Err(e)
            if ServiceError::is(&e, "NotAuthorizedException")
                || ServiceError::is(&e, "UserNotFoundException") =>
        {
            return (
                StatusCode::OK,
                Html(login_form(&p, Some("Incorrect username or password."))),
            )
                .into_response();
        }
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("the user pool could not be reached: {e:#}"),
            )
                .into_response();
        }
    };
    let refresh = result["RefreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let session = random_token(24);
    ui.sessions.lock().expect("sessions").insert(
        session.clone(),
        Session {
            client_id: p.client_id.clone(),
            refresh_token: refresh.clone(),
            since: Instant::now(),
        },
    );
    let mut r = found(&issue_code(&ui, &p, &refresh));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
    )) {
        r.headers_mut().insert("set-cookie", v);
    }
    r
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "error": error }).to_string(),
    )
        .into_response()
}

fn cors(headers: &HeaderMap, mut r: Response) -> Response {
    if let Some(origin) = headers.get("origin").cloned() {
        r.headers_mut()
            .insert("access-control-allow-origin", origin);
        r.headers_mut().insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
    }
    r
}

/// `OPTIONS /oauth2/token`.
pub async fn token_preflight(headers: HeaderMap) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        "access-control-allow-methods",
        HeaderValue::from_static("POST, OPTIONS"),
    );
    r.headers_mut().insert(
        "access-control-allow-headers",
        HeaderValue::from_static("authorization, content-type, accept"),
    );
    cors(&headers, r)
}

/// `POST /oauth2/token`.
pub async fn token(State(ui): State<Arc<HostedUi>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = token_answer(&ui, &headers, &body).await;
    cors(&headers, answer)
}

async fn token_answer(ui: &HostedUi, headers: &HeaderMap, body: &Bytes) -> Response {
    let form_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let client_id = get("client_id");
    let Some(client) = ui.client(client_id).await else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    };
    if client["ClientSecret"].is_string() {
        // A confidential client must authenticate; the site's client is public.
        let sent = form.get("client_secret").cloned().or_else(|| {
            let basic = headers
                .get("authorization")?
                .to_str()
                .ok()?
                .strip_prefix("Basic ")?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(basic)
                .ok()?;
            Some(
                String::from_utf8(decoded)
                    .ok()?
                    .split_once(':')?
                    .1
                    .to_owned(),
            )
        });
        if sent.as_deref() != client["ClientSecret"].as_str() {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
        }
    }
    let tokens = match get("grant_type") {
        "authorization_code" => {
            if !strings(&client["AllowedOAuthFlows"])
                .iter()
                .any(|f| f == "code")
            {
                return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
            }
            let Some(grant) = ui.codes.lock().expect("codes").remove(get("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if grant.issued.elapsed() > CODE_LIFETIME
                || grant.client_id != client_id
                || grant.redirect_uri != get("redirect_uri")
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            if let Some(challenge) = &grant.challenge {
                let verifier = get("code_verifier");
                if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
            }
            match ui.tokens(client_id, &grant.refresh_token).await {
                Ok(t) => json!({
                    "id_token": t["IdToken"],
                    "access_token": t["AccessToken"],
                    "refresh_token": grant.refresh_token,
                    "expires_in": t["ExpiresIn"],
                    "token_type": "Bearer",
                }),
                Err(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        "refresh_token" => match ui.tokens(client_id, get("refresh_token")).await {
            Ok(t) if t["IdToken"].is_string() => json!({
                "id_token": t["IdToken"],
                "access_token": t["AccessToken"],
                "expires_in": t["ExpiresIn"],
                "token_type": "Bearer",
            }),
            _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
        },
        "client_credentials" => return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client"),
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    (
        StatusCode::OK,
        [
            ("content-type", "application/json"),
            (
                "cache-control",
                "no-cache, no-store, max-age=0, must-revalidate",
            ),
            ("pragma", "no-cache"),
        ],
        tokens.to_string(),
    )
        .into_response()
}

/// The parameters of `/logout`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LogoutParams {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    logout_uri: Option<String>,
}

/// `GET /logout`.
pub async fn logout(
    State(ui): State<Arc<HostedUi>>,
    headers: HeaderMap,
    Query(p): Query<LogoutParams>,
) -> Response {
    let error = |e: &str| {
        found(&with_query(
            "/error",
            &[("error", e), ("client_id", &p.client_id)],
        ))
    };
    let Some(client) = ui.client(&p.client_id).await else {
        return error("invalid_request");
    };
    let Some(uri) = p.logout_uri.as_deref() else {
        return error("invalid_request");
    };
    if !strings(&client["LogoutURLs"]).iter().any(|u| u == uri) {
        return error("redirect_mismatch");
    }
    if let Some((id, _)) = session_of(&ui, &headers) {
        ui.sessions.lock().expect("sessions").remove(&id);
    }
    let mut r = found(uri);
    r.headers_mut().insert(
        "set-cookie",
        HeaderValue::from_static("cognito=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    r
}

/// The parameters of `/error`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ErrorParams {
    #[serde(default)]
    error: String,
}

/// `GET /error`: the page Cognito shows instead of redirecting.
pub async fn error_page(Query(p): Query<ErrorParams>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head>\
             <body><main><h1>An error was encountered with the requested page.</h1>\
             <p id=\"errorCode\">{}</p></main></body></html>",
            escape(&p.error)
        )),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_what_it_carries() {
        let p = AuthorizeParams {
            response_type: "code".into(),
            client_id: "c".into(),
            redirect_uri: "http://localhost:1/auth/callback".into(),
            state: Some("\"><script>".into()),
            ..AuthorizeParams::default()
        };
        let html = login_form(&p, Some("<b>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
        assert!(html.contains("&lt;b&gt;"));
    }

    #[test]
    fn redirects_keep_their_query() {
        assert_eq!(
            with_query("http://x/cb", &[("code", "a b")]),
            "http://x/cb?code=a+b"
        );
        assert_eq!(
            with_query("http://x/cb?k=1", &[("e", "x")]),
            "http://x/cb?k=1&e=x"
        );
    }
}
