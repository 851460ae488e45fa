//! The one typed client of the API (`/v1`), over the wire types the server uses.
//!
//! Signed-in calls carry the session's bearer token; a Cognito token about to expire
//! is refreshed first, silently. A 401 signs the person out.

use std::fmt;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tempaccess_core::wire::{
    CancelBody, DecisionBody, DecisionPage, EntryList, ErrorBody, ErrorCode, ErrorDetail,
    LoginBody, LookupBody, MailView, Me, NewRequestBody, RequestDetail, RequestList, RequestView,
    RequestsQuery, SecretView, TokenDecisionBody, TokenView,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use yew::Callback;

use crate::auth::{self, Session, pkce};
use crate::config::{AuthConfig, SiteConfig};

/// Why a call did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The server answered with an error body.
    Status {
        /// The HTTP status.
        status: u16,
        /// The error body.
        detail: ErrorDetail,
    },
    /// The server could not be reached.
    Network(String),
    /// The answer was not what the contract says.
    Decode(String),
}

impl ApiError {
    /// The HTTP status, for answers from the server.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error body, for answers from the server.
    pub fn detail(&self) -> Option<&ErrorDetail> {
        match self {
            Self::Status { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// The input field the server names, if any.
    pub fn field(&self) -> Option<&str> {
        self.detail().and_then(|d| d.field.as_deref())
    }

    /// Whether trying the same call again may help: the network, the server's own
    /// failures and throttling; never a refusal or a wrong input.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Decode(_) => false,
        }
    }

    fn network(e: JsValue) -> Self {
        let text = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| format!("{e:?}"));
        Self::Network(text)
    }
}

/// The server's message as a sentence: a capital first letter, a full stop.
pub fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => crate::case::upper(first.encode_utf8(&mut [0; 4])) + chars.as_str(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// What a "not found" answer means for people: "request not found" → "This request
/// does not exist, or you may not see it."
fn not_found(message: &str) -> String {
    match message.strip_suffix(" not found") {
        Some(what) if !what.contains(' ') || what == "decision link" => {
            format!("This {what} does not exist, or you may not see it.")
        }
        _ => sentence(message),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, detail } => match status {
                401 => write!(f, "Your sign-in has ended. Sign in again."),
                404 => write!(f, "{}", not_found(&detail.message)),
                429 => write!(
                    f,
                    "Too many requests just now. Wait a moment and try again."
                ),
                s if *s >= 500 => write!(
                    f,
                    "The server could not do this just now ({s}). Try again in a moment."
                ),
                // Refusals (403), conflicts (409) and wrong input: the server's words.
                _ => write!(f, "{}", sentence(&detail.message)),
            },
            Self::Network(_) => write!(
                f,
                "The server could not be reached. Check your connection and try again."
            ),
            Self::Decode(e) => write!(f, "The server's answer could not be read ({e})."),
        }
    }
}

/// The event the site sends itself after each change it makes (a request sent,
/// decided, cancelled or revoked), so that what shows counts (the navigation's count
/// of waiting requests) reads again at once rather than at its next poll.
pub const CHANGED_EVENT: &str = "tempaccess:changed";

fn changed() {
    if let (Some(w), Ok(e)) = (web_sys::window(), web_sys::Event::new(CHANGED_EVENT)) {
        let _ = w.dispatch_event(&e);
    }
}

/// Tells the page a change was made, when it was.
fn after_change<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if result.is_ok() {
        changed();
    }
    result
}

/// The API, as one person (or nobody) sees it.
#[derive(Clone)]
pub struct Api {
    base: Rc<str>,
    config: Rc<SiteConfig>,
    session: Option<Rc<Session>>,
    on_session: Callback<Option<Session>>,
}

impl PartialEq for Api {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base && self.session == other.session
    }
}

/// A raw answer: status, body, headers.
struct Answer {
    status: u16,
    body: String,
    headers: web_sys::Headers,
}

impl Api {
    /// A client for `config`'s API as `session`; `on_session` hears of refreshed
    /// tokens (`Some`) and of an ended sign-in (`None`).
    pub fn new(
        config: Rc<SiteConfig>,
        session: Option<Rc<Session>>,
        on_session: Callback<Option<Session>>,
    ) -> Self {
        Self {
            base: config.api_url.trim_end_matches('/').into(),
            config,
            session,
            on_session,
        }
    }

    /// The same API with another bearer token (right after sign-in).
    pub fn with_token(&self, token: &str) -> Self {
        let me = Me {
            id: String::new(),
            email: String::new(),
            name: String::new(),
            roles: vec![],
        };
        Self {
            session: Some(Rc::new(Session {
                token: token.to_owned(),
                refresh_token: None,
                expires_at: None,
                me,
            })),
            on_session: Callback::noop(),
            ..self.clone()
        }
    }

    // -- the calls -----------------------------------------------------------------

    /// `GET /v1/me`.
    pub async fn me(&self) -> Result<Me, ApiError> {
        self.get("/v1/me").await
    }

    /// `GET /v1/entries`.
    pub async fn entries(&self) -> Result<EntryList, ApiError> {
        self.get("/v1/entries").await
    }

    /// `GET /v1/entries/{id}/secret`.
    pub async fn secret(&self, entry_id: &str) -> Result<SecretView, ApiError> {
        self.get(&format!("/v1/entries/{}/secret", segment(entry_id)))
            .await
    }

    /// `POST /v1/requests` with an `Idempotency-Key`, so a retried send makes one request.
    pub async fn submit(
        &self,
        body: &NewRequestBody,
        idempotency_key: &str,
    ) -> Result<RequestView, ApiError> {
        let answer = self
            .send(
                "POST",
                "/v1/requests",
                Some(json(body)?),
                "application/json",
                &[("Idempotency-Key", idempotency_key)],
            )
            .await?;
        after_change(decode(answer))
    }

    /// `GET /v1/requests` with filters and paging.
    pub async fn requests(&self, query: &RequestsQuery) -> Result<RequestList, ApiError> {
        self.get(&with_query("/v1/requests", query)).await
    }

    /// One page of the report as CSV, and the cursor of the next page.
    pub async fn requests_csv(
        &self,
        query: &RequestsQuery,
    ) -> Result<(String, Option<String>), ApiError> {
        let answer = self
            .send(
                "GET",
                &with_query("/v1/requests", query),
                None,
                "text/csv",
                &[],
            )
            .await?;
        let answer = check(answer)?;
        let next = answer.headers.get("x-next-cursor").ok().flatten();
        Ok((answer.body, next))
    }

    /// `GET /v1/requests/{id}`: the request and its timeline.
    pub async fn request_detail(&self, id: &str) -> Result<RequestDetail, ApiError> {
        self.get(&format!("/v1/requests/{}", segment(id))).await
    }

    /// `GET /v1/access`: grants active now, and with `upcoming` those that start later.
    pub async fn access_now(&self, upcoming: bool) -> Result<RequestList, ApiError> {
        self.get(if upcoming {
            "/v1/access?upcoming=true"
        } else {
            "/v1/access"
        })
        .await
    }

    /// `POST /v1/requests/{id}/decision` as the signed-in approver.
    pub async fn decide(&self, id: &str, body: &DecisionBody) -> Result<RequestView, ApiError> {
        after_change(
            self.post(&format!("/v1/requests/{}/decision", segment(id)), body)
                .await,
        )
    }

    /// `POST /v1/decisions/lookup`: what a decision link shows; changes nothing.
    pub async fn lookup(&self, token: &str) -> Result<DecisionPage, ApiError> {
        self.post(
            "/v1/decisions/lookup",
            &LookupBody {
                token: token.to_owned(),
            },
        )
        .await
    }

    /// `POST /v1/decisions/open`: what a decision link shows to the signed-in person
    /// (who must be the approver it was mailed to); changes nothing.
    pub async fn open_link(&self, token: &str) -> Result<DecisionPage, ApiError> {
        self.post(
            "/v1/decisions/open",
            &LookupBody {
                token: token.to_owned(),
            },
        )
        .await
    }

    /// `POST /v1/decisions`: decide with a link's token.
    pub async fn decide_by_link(&self, body: &TokenDecisionBody) -> Result<RequestView, ApiError> {
        after_change(self.post("/v1/decisions", body).await)
    }

    /// `POST /v1/requests/{id}/cancel`: cancel, end early, or revoke with a reason.
    pub async fn cancel(&self, id: &str, body: &CancelBody) -> Result<RequestView, ApiError> {
        after_change(
            self.post(&format!("/v1/requests/{}/cancel", segment(id)), body)
                .await,
        )
    }

    /// `POST /v1/dev/login` (embedded default).
    pub async fn dev_login(&self, user: &str) -> Result<TokenView, ApiError> {
        self.post(
            "/v1/dev/login",
            &LoginBody {
                user: user.to_owned(),
            },
        )
        .await
    }

    /// `GET /v1/dev/mail` (embedded default).
    pub async fn mail(&self) -> Result<Vec<MailView>, ApiError> {
        self.get("/v1/dev/mail").await
    }

    // -- plumbing ------------------------------------------------------------------

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        decode(
            self.send("GET", path, None, "application/json", &[])
                .await?,
        )
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        decode(
            self.send("POST", path, Some(json(body)?), "application/json", &[])
                .await?,
        )
    }

    /// The bearer token to send, refreshed first when it is about to expire.
    async fn bearer(&self) -> Option<String> {
        let session = self.session.as_ref()?;
        let now = crate::time::now().timestamp();
        if session.needs_refresh(now)
            && let AuthConfig::Cognito(cfg) = &self.config.auth
            && let Some(refresh_token) = &session.refresh_token
        {
            match refresh(cfg, refresh_token).await {
                Ok(tokens) => {
                    let next = Session {
                        expires_at: auth::jwt_expiry(&tokens.id_token)
                            .or(Some(now + tokens.expires_in)),
                        token: tokens.id_token,
                        refresh_token: tokens
                            .refresh_token
                            .or_else(|| session.refresh_token.clone()),
                        me: session.me.clone(),
                    };
                    let token = next.token.clone();
                    self.on_session.emit(Some(next));
                    return Some(token);
                }
                Err(_) => {
                    self.on_session.emit(None);
                    return None;
                }
            }
        }
        Some(session.token.clone())
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        accept: &str,
        extra: &[(&str, &str)],
    ) -> Result<Answer, ApiError> {
        let mut headers: Vec<(&str, String)> = vec![("Accept", accept.to_owned())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        if let Some(token) = self.bearer().await {
            headers.push(("Authorization", format!("Bearer {token}")));
        }
        headers.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let answer = fetch(method, &format!("{}{path}", self.base), body, &headers).await?;
        if answer.status == 401 && self.session.is_some() {
            self.on_session.emit(None);
        }
        Ok(answer)
    }
}

/// Exchanges an authorization code for tokens at Cognito's token endpoint.
pub async fn exchange_code(
    cfg: &crate::config::CognitoConfig,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<pkce::TokenResponse, ApiError> {
    token_call(
        cfg,
        pkce::code_exchange_body(cfg, code, redirect_uri, verifier),
    )
    .await
}

async fn refresh(
    cfg: &crate::config::CognitoConfig,
    refresh_token: &str,
) -> Result<pkce::TokenResponse, ApiError> {
    token_call(cfg, pkce::refresh_body(cfg, refresh_token)).await
}

async fn token_call(
    cfg: &crate::config::CognitoConfig,
    body: String,
) -> Result<pkce::TokenResponse, ApiError> {
    let answer = fetch(
        "POST",
        &pkce::token_url(cfg),
        Some(body),
        &[
            ("Accept", "application/json".to_owned()),
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ],
    )
    .await?;
    if answer.status >= 400 {
        // The token endpoint's errors are OAuth errors, not the API's error body.
        return Err(ApiError::Status {
            status: answer.status,
            detail: ErrorDetail {
                code: ErrorCode::Unknown,
                message: "the sign-in could not be completed".to_owned(),
                field: None,
                current: None,
                decided_by: None,
                request_id: None,
            },
        });
    }
    serde_json::from_str(&answer.body).map_err(|e| ApiError::Decode(e.to_string()))
}

async fn fetch(
    method: &str,
    url: &str,
    body: Option<String>,
    headers: &[(&str, String)],
) -> Result<Answer, ApiError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let h = web_sys::Headers::new().map_err(ApiError::network)?;
    for (name, value) in headers {
        h.set(name, value).map_err(ApiError::network)?;
    }
    init.set_headers(&h);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(&body));
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(ApiError::network)?;
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(ApiError::network)?
        .dyn_into()
        .map_err(ApiError::network)?;
    if let Ok(Some(date)) = response.headers().get("date") {
        crate::time::note_server_date(&date);
    }
    let text = JsFuture::from(response.text().map_err(ApiError::network)?)
        .await
        .map_err(ApiError::network)?
        .as_string()
        .unwrap_or_default();
    Ok(Answer {
        status: response.status(),
        body: text,
        headers: response.headers(),
    })
}

fn check(answer: Answer) -> Result<Answer, ApiError> {
    if answer.status < 400 {
        return Ok(answer);
    }
    let detail = serde_json::from_str::<ErrorBody>(&answer.body)
        .map(|b| b.error)
        .unwrap_or_else(|_| ErrorDetail {
            code: ErrorCode::Unknown,
            message: format!("the server answered {}", answer.status),
            field: None,
            current: None,
            decided_by: None,
            request_id: None,
        });
    Err(ApiError::Status {
        status: answer.status,
        detail,
    })
}

fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, ApiError> {
    let answer = check(answer)?;
    serde_json::from_str(&answer.body).map_err(|e| ApiError::Decode(e.to_string()))
}

fn json<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::Decode(e.to_string()))
}

/// A path segment, percent-encoded.
fn segment(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

fn with_query(path: &str, query: &RequestsQuery) -> String {
    // Options, strings, numbers, times and unit variants: encoding cannot fail.
    match serde_urlencoded::to_string(query).unwrap_or_default() {
        q if q.is_empty() => path.to_owned(),
        q => format!("{path}?{q}"),
    }
}

/// Random bytes from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
}

/// A random id (for `Idempotency-Key` and the sign-in `state`).
pub fn random_id() -> String {
    hex_string(&random_bytes::<16>())
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, message: &str) -> ApiError {
        ApiError::Status {
            status,
            detail: ErrorDetail {
                code: ErrorCode::Unknown,
                message: message.to_owned(),
                field: None,
                current: None,
                decided_by: None,
                request_id: None,
            },
        }
    }

    #[test]
    fn errors_read_as_sentences_for_people() {
        assert_eq!(
            answer(404, "request not found").to_string(),
            "This request does not exist, or you may not see it."
        );
        assert_eq!(
            answer(403, "only admins may see every request").to_string(),
            "Only admins may see every request."
        );
        assert!(answer(503, "x").is_retryable());
        assert!(!answer(403, "x").is_retryable());
        assert!(ApiError::Network("down".into()).is_retryable());
    }
}
