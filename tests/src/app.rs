//! End-to-end harness: runs the real `tempaccess serve` binary as a child process on a
//! fresh data directory and a test clock, and drives it over HTTP.
//!
//! ```text
//! let app = TestApp::spawn().await;
//! let alice = app.login("alice").await;
//! let created = app.submit_request(&alice, &body).await.expect_json(201);
//! ```
//!
//! The binary is found through `TEMPACCESS_BIN`, or next to the test executable
//! (`target/debug/deps/<test>` → `target/debug/tempaccess`). `cargo xtask test` builds it
//! and sets the variable.
//!
//! With `TEMPACCESS_E2E_BACKEND=aws` the same suites run against `serve --backend aws`
//! on the AWS emulator (`TEMPACCESS_MOTO_URL`): each app bootstraps its own table,
//! schedule group and sender with `tempaccess aws bootstrap --demo`, and its mailbox is
//! what SES recorded from that sender.

use std::{
    ffi::OsStr,
    fmt,
    fs::{File, OpenOptions},
    future::Future,
    path::{Path, PathBuf},
    process::Stdio,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use chrono::{DateTime, Utc};
use reqwest::{
    Client, Method, RequestBuilder, StatusCode,
    header::{HeaderMap, HeaderValue},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The one line the server prints on stdout once it accepts connections.
pub const READY_PREFIX: &str = "tempaccess listening on ";
/// How long the server gets to print [`READY_PREFIX`].
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`TestApp::eventually`] polls before giving up.
pub const EVENTUALLY_TIMEOUT: Duration = Duration::from_secs(10);

pub const ALICE: &str = "alice@example.com";
pub const BOB: &str = "bob@example.com";
pub const CAROL: &str = "carol@example.com";
pub const DAVE: &str = "dave@example.com";

pub const PROD_DB: &str = "prod-db";
pub const PAYROLL_RDP: &str = "payroll-rdp";
pub const BILLING_API_KEY: &str = "billing-api-key";
pub const VIEW_PASSWORD_EXECUTE: &str = "view-password-execute";
pub const OPERATOR: &str = "operator";

/// A running server with its own data directory.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash. Changes on [`TestApp::restart`].
    pub base_url: String,
    pub client: Client,
    bin: PathBuf,
    dir: ScratchDir,
    child: Child,
    /// The built site served at `/` (`serve --site`), for browser tests.
    site: Option<PathBuf>,
    /// The environment of `serve --backend aws`, when the suites run on AWS.
    aws: Option<AwsEnv>,
    /// More arguments of `serve`.
    extra: Vec<String>,
}

/// The AWS backend's environment for one app.
#[derive(Debug, Clone)]
struct AwsEnv {
    vars: Vec<(String, String)>,
    mail_from: String,
}

impl AwsEnv {
    /// Chosen by `TEMPACCESS_E2E_BACKEND=aws`; `None` runs the embedded default.
    fn from_env() -> Option<Self> {
        match std::env::var("TEMPACCESS_E2E_BACKEND").as_deref() {
            Ok("aws") => {}
            Ok("sqlite") | Err(_) => return None,
            Ok(other) => panic!("TEMPACCESS_E2E_BACKEND must be sqlite or aws, not {other}"),
        }
        let s = crate::aws_world::unique_settings();
        let vars = [
            ("AWS_ENDPOINT_URL", crate::moto::url()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("TEMPACCESS_TABLE", s.table_name.clone()),
            ("TEMPACCESS_SCHEDULE_GROUP", s.schedule_group.clone()),
            ("TEMPACCESS_MAIL_FROM", s.mail_from.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Some(Self {
            vars,
            mail_from: s.mail_from,
        })
    }

    async fn bootstrap(&self, bin: &Path) {
        let output = Command::new(bin)
            .args(["aws", "bootstrap", "--demo"])
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .await
            .expect("run tempaccess aws bootstrap");
        assert!(
            output.status.success(),
            "tempaccess aws bootstrap --demo failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl TestApp {
    /// Starts the server on a fresh data directory with the test clock.
    pub async fn spawn() -> TestApp {
        Self::spawn_serving(None, &[]).await
    }

    /// Starts the server as [`TestApp::spawn`] does, with more arguments of `serve`
    /// (`--link-decisions`, say).
    pub async fn spawn_with_args(args: &[&str]) -> TestApp {
        Self::spawn_serving(None, args).await
    }

    /// Starts the server as [`TestApp::spawn`] does, also serving the built site in
    /// `site` at `/` (`serve --site`), for browser tests.
    pub async fn spawn_with_site(site: &Path) -> TestApp {
        Self::spawn_serving(Some(site.to_path_buf()), &[]).await
    }

    async fn spawn_serving(site: Option<PathBuf>, args: &[&str]) -> TestApp {
        let extra: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let bin = server_binary();
        let dir = ScratchDir::new();
        std::fs::create_dir_all(dir.path().join("data")).expect("create the data directory");
        let aws = AwsEnv::from_env();
        if let Some(aws) = &aws {
            aws.bootstrap(&bin).await;
        }
        let (child, base_url) = start(&bin, &dir, aws.as_ref(), site.as_deref(), &extra).await;
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build the HTTP client");
        TestApp {
            base_url,
            client,
            bin,
            dir,
            child,
            aws,
            site,
            extra,
        }
    }

    /// Kills the server, waits for it to exit, and starts it again on the same data
    /// directory. The port may change; `base_url` follows.
    pub async fn restart(&mut self) {
        self.child
            .kill()
            .await
            .expect("kill the server before restarting it");
        let (child, base_url) = start(
            &self.bin,
            &self.dir,
            self.aws.as_ref(),
            self.site.as_deref(),
            &self.extra,
        )
        .await;
        self.child = child;
        self.base_url = base_url;
    }

    /// Whether the app runs on the AWS adapters (`TEMPACCESS_E2E_BACKEND=aws`).
    pub fn is_aws(&self) -> bool {
        self.aws.is_some()
    }

    /// Everything the server has logged so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.log_path()).unwrap_or_default()
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    // -- raw calls ---------------------------------------------------------------

    /// A request builder for `path`, with `Authorization: Bearer <token>` when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends a built request and reads the whole reply. `what` names it in failures.
    pub async fn send(&self, what: impl Into<String>, builder: RequestBuilder) -> Reply {
        let what = what.into();
        let response = builder
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading the body failed: {e}"));
        Reply {
            what,
            status,
            headers,
            body,
        }
    }

    /// One call with an optional bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let what = format!("{method} {path}");
        let mut builder = self.request(method, path, token);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        self.send(what, builder).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn get_anon(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn post_anon(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, None, Some(body)).await
    }

    /// POST of a body sent as is, with `Content-Type: application/json`.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<String>,
    ) -> Reply {
        let builder = self
            .request(Method::POST, path, token)
            .header("content-type", "application/json")
            .body(body.into());
        self.send(format!("POST {path} (raw body)"), builder).await
    }

    // -- domain helpers ----------------------------------------------------------

    /// Signs in a demo user (name or email) and returns the bearer token.
    pub async fn login(&self, user: &str) -> String {
        let reply = self
            .post_anon("/v1/dev/login", &json!({ "user": user }))
            .await;
        let body = reply.expect_json(200);
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {user}: no token in {body}"))
            .to_string()
    }

    /// The entry `id` from `GET /v1/entries`, as `token` sees it.
    pub async fn entry(&self, token: &str, id: &str) -> Value {
        let list = self.get("/v1/entries", token).await.expect_json(200);
        items(&list)
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no entry {id} in {list}"))
    }

    /// `POST /v1/requests`.
    pub async fn submit_request(&self, token: &str, body: &Value) -> Reply {
        self.post_json("/v1/requests", token, body).await
    }

    /// `POST /v1/requests` with an `Idempotency-Key`.
    pub async fn submit_request_with_key(&self, token: &str, key: &str, body: &Value) -> Reply {
        let builder = self
            .request(Method::POST, "/v1/requests", Some(token))
            .header("idempotency-key", key)
            .json(body);
        self.send("POST /v1/requests (Idempotency-Key)", builder)
            .await
    }

    /// Submits a request that must be accepted, waits for the approver's mail, and
    /// returns the created request and the decision token from that mail.
    pub async fn submit_and_get_link(&self, token: &str, body: &Value) -> (Value, String) {
        let before = self.mailbox_links().await.len();
        let created = self.submit_request(token, body).await.expect_json(201);
        let link = self
            .eventually("the approver's mail with a decision link", || async {
                self.mailbox_links().await.get(before).cloned()
            })
            .await;
        (created, link)
    }

    /// Submits a request that must be accepted and returns its id.
    pub async fn submit_ok(&self, token: &str, body: &Value) -> String {
        let created = self.submit_request(token, body).await.expect_json(201);
        str_field(&created, "id")
    }

    /// `GET /v1/requests/{id}` → `{request, events}`, which must succeed.
    pub async fn request_detail(&self, token: &str, id: &str) -> Value {
        self.get(&format!("/v1/requests/{id}"), token)
            .await
            .expect_json(200)
    }

    /// The request's status as the server reads it now.
    pub async fn status_of(&self, token: &str, id: &str) -> String {
        str_field(&self.request_detail(token, id).await["request"], "status")
    }

    /// The kinds of the request's timeline events, in order.
    pub async fn event_kinds(&self, token: &str, id: &str) -> Vec<String> {
        let detail = self.request_detail(token, id).await;
        detail["events"]
            .as_array()
            .unwrap_or_else(|| panic!("no events array in {detail}"))
            .iter()
            .map(|e| str_field(e, "kind"))
            .collect()
    }

    /// `POST /v1/requests/{id}/decision` as a signed-in approver.
    pub async fn decide(&self, token: &str, id: &str, body: &Value) -> Reply {
        self.post_json(&format!("/v1/requests/{id}/decision"), token, body)
            .await
    }

    /// `POST /v1/decisions/lookup` with a decision token (no sign-in).
    pub async fn lookup(&self, link_token: &str) -> Reply {
        self.post_anon("/v1/decisions/lookup", &json!({ "token": link_token }))
            .await
    }

    /// `POST /v1/decisions/open`: the decision page of a link, signed in.
    pub async fn open_link(&self, token: &str, link_token: &str) -> Reply {
        self.post_json("/v1/decisions/open", token, &json!({ "token": link_token }))
            .await
    }

    /// `POST /v1/decisions` with a decision token, as the person signed in with
    /// `token` (the approver the mail went to, normally), or signed out with `None`;
    /// `body` holds the decision and its options, the link's token is added.
    pub async fn decide_by_link(
        &self,
        token: Option<&str>,
        link_token: &str,
        body: &Value,
    ) -> Reply {
        let mut body = body.clone();
        body.as_object_mut()
            .expect("a decision body is a JSON object")
            .insert("token".into(), Value::String(link_token.to_string()));
        self.call(Method::POST, "/v1/decisions", token, Some(&body))
            .await
    }

    /// `POST /v1/requests/{id}/cancel`.
    pub async fn cancel(&self, token: &str, id: &str, body: &Value) -> Reply {
        self.post_json(&format!("/v1/requests/{id}/cancel"), token, body)
            .await
    }

    /// `GET /v1/entries/{entry}/secret`.
    pub async fn secret(&self, token: &str, entry: &str) -> Reply {
        self.get(&format!("/v1/entries/{entry}/secret"), token)
            .await
    }

    /// The ids of the requests in `GET /v1/requests?scope=...` (first page).
    pub async fn request_ids(&self, token: &str, scope: &str) -> Vec<String> {
        let list = self
            .get(&format!("/v1/requests?scope={scope}&limit=100"), token)
            .await
            .expect_json(200);
        items(&list).iter().map(|r| str_field(r, "id")).collect()
    }

    // -- mail ---------------------------------------------------------------------

    /// Every mail sent so far, oldest first.
    pub async fn mailbox(&self) -> Vec<Mail> {
        if let Some(aws) = &self.aws {
            return crate::aws_world::sent_mail_from(&aws.mail_from)
                .await
                .into_iter()
                .map(|m| {
                    // The emulator keeps the HTML part only: read the text from it.
                    let text = html_to_text(&m.body);
                    Mail {
                        to: m.to.first().cloned().unwrap_or_default(),
                        subject: m.subject,
                        text,
                        html: m.body,
                        sent_at: String::new(),
                    }
                })
                .collect();
        }
        let reply = self.get_anon("/v1/dev/mail").await;
        let body = reply.expect_json(200);
        serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("GET /v1/dev/mail: unexpected shape ({e}): {body}"))
    }

    /// The decision tokens of every link in the mailbox, oldest first.
    pub async fn mailbox_links(&self) -> Vec<String> {
        self.mailbox()
            .await
            .iter()
            .flat_map(|m| decision_tokens(&m.text))
            .collect()
    }

    /// The mails to `to`, oldest first.
    pub async fn mail_to(&self, to: &str) -> Vec<Mail> {
        self.mailbox()
            .await
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to))
            .collect()
    }

    /// Waits until the mailbox holds at least `count` mails to `to`, and returns them.
    pub async fn wait_for_mail_to(&self, to: &str, count: usize) -> Vec<Mail> {
        self.eventually(&format!("{count} mail(s) to {to}"), || async {
            let mails = self.mail_to(to).await;
            (mails.len() >= count).then_some(mails)
        })
        .await
    }

    // -- clock --------------------------------------------------------------------

    /// Moves the server's clock forward and runs its timer pass; returns the new now.
    pub async fn advance_clock(&self, seconds: i64) -> DateTime<Utc> {
        let body = self
            .post_anon("/v1/dev/clock", &json!({ "advance_seconds": seconds }))
            .await
            .expect_json(200);
        parse_time(&body["now"])
    }

    /// The server's clock.
    pub async fn now(&self) -> DateTime<Utc> {
        let body = self.get_anon("/v1/dev/clock").await.expect_json(200);
        parse_time(&body["now"])
    }

    // -- polling ------------------------------------------------------------------

    /// Polls `probe` until it returns `Some`, for at most [`EVENTUALLY_TIMEOUT`].
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + EVENTUALLY_TIMEOUT;
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out after {EVENTUALLY_TIMEOUT:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            self.dir.keep();
            eprintln!(
                "--- server log ({}) ---\n{}",
                self.dir.log_path().display(),
                log_tail(&self.dir.log_path())
            );
        }
    }
}

/// A reply read in full.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The call it answers, e.g. `POST /v1/requests`.
    pub what: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}: {}", self.what, self.status, self.body)
    }
}

impl Reply {
    /// The body as JSON; panics (showing the reply) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self}"))
    }

    /// Asserts the status and returns the reply.
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status.as_u16(), status, "unexpected status: {self}");
        self
    }

    /// Asserts the status and returns the JSON body.
    pub fn expect_json(self, status: u16) -> Value {
        self.expect(status).json()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    }

    /// `error.code` of an error body.
    pub fn error_code(&self) -> Option<String> {
        self.error_part("code")
    }

    /// `error.field` of an error body.
    pub fn error_field(&self) -> Option<String> {
        self.error_part("field")
    }

    /// `error.current` of a conflict body.
    pub fn error_current(&self) -> Option<String> {
        self.error_part("current")
    }

    /// `error.message` of an error body.
    pub fn error_message(&self) -> Option<String> {
        self.error_part("message")
    }

    fn error_part(&self, part: &str) -> Option<String> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        body["error"][part].as_str().map(str::to_string)
    }

    /// Asserts an error reply: status, `error.code`, and `error.field` when given.
    pub fn expect_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "unexpected status: {self}");
        assert_eq!(
            self.error_code().as_deref(),
            Some(code),
            "unexpected error code: {self}"
        );
        assert!(
            self.error_message().is_some_and(|m| !m.is_empty()),
            "an error has a message: {self}"
        );
        if let Some(field) = field {
            assert_eq!(
                self.error_field().as_deref(),
                Some(field),
                "unexpected error field: {self}"
            );
        }
    }

    /// Asserts a 409 conflict whose `error.current` is `current`.
    pub fn expect_conflict(&self, current: &str) {
        self.expect_error(409, "conflict", None);
        assert_eq!(
            self.error_current().as_deref(),
            Some(current),
            "unexpected current state: {self}"
        );
    }
}

/// One message from the embedded mailbox.
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: String,
}

impl Mail {
    /// Whether the subject or the text contains `needle`, ignoring case.
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.subject.to_lowercase().contains(&needle) || self.text.to_lowercase().contains(&needle)
    }

    /// The decision tokens of the links in the text.
    pub fn decision_tokens(&self) -> Vec<String> {
        decision_tokens(&self.text)
    }
}

/// The text of an HTML mail body: tags dropped (a link's target kept), entities decoded.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut tag = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
                if let Some(href) = tag
                    .split("href=\"")
                    .nth(1)
                    .and_then(|h| h.split('"').next())
                {
                    text.push_str(href);
                    text.push(' ');
                }
            }
            c if in_tag => tag.push(c),
            c => text.push(c),
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every `<token>` of `decide#token=<token>` in `text` (token chars: `A-Za-z0-9_-`).
pub fn decision_tokens(text: &str) -> Vec<String> {
    const MARK: &str = "decide#token=";
    text.match_indices(MARK)
        .filter_map(|(at, _)| {
            let token: String = text[at + MARK.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            (!token.is_empty()).then_some(token)
        })
        .collect()
}

/// `value[key]` as a string; panics showing the value when it is missing.
pub fn str_field(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{key}` in {value}"))
        .to_string()
}

/// The id of a user given either as a string or as an object with an `id`.
pub fn user_id(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("user without an id: {value}"))
            .to_string(),
        other => panic!("not a user: {other}"),
    }
}

/// `list.items` of a list reply.
pub fn items(list: &Value) -> &Vec<Value> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array in {list}"))
}

/// An RFC 3339 time from a JSON string.
pub fn parse_time(value: &Value) -> DateTime<Utc> {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time string: {value}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {s}"))
        .with_timezone(&Utc)
}

/// A time as the API takes it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A valid request body for `prod-db`, approved by bob, for `duration_seconds`.
pub fn prod_db_request(duration_seconds: i64, message: &str) -> Value {
    json!({
        "entry_id": PROD_DB,
        "permission_set": VIEW_PASSWORD_EXECUTE,
        "approver_id": BOB,
        "duration_seconds": duration_seconds,
        "message": message,
    })
}

/// A request body for payroll-rdp (approvers bob and dave; a message is required) to bob.
pub fn payroll_request(duration_seconds: i64, message: &str) -> Value {
    json!({
        "entry_id": PAYROLL_RDP,
        "permission_set": VIEW_PASSWORD_EXECUTE,
        "approver_id": BOB,
        "duration_seconds": duration_seconds,
        "message": message,
    })
}

// -- process ----------------------------------------------------------------------

/// A binary of the workspace built by `cargo build` (the Lambda functions, say): beside
/// `TEMPACCESS_BIN`, else beside the test executable.
pub fn built_binary(name: &str) -> PathBuf {
    let dir = server_binary()
        .parent()
        .expect("the server binary has a directory")
        .to_path_buf();
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (`cargo xtask test` does)",
        path.display()
    );
    path
}

/// The `tempaccess` binary: `TEMPACCESS_BIN`, else beside the test executable.
fn server_binary() -> PathBuf {
    let path = match std::env::var_os("TEMPACCESS_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            let exe = std::env::current_exe().expect("the test executable's path");
            // target/<profile>/deps/<test> → target/<profile>/tempaccess
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("the test executable lives in target/<profile>/deps");
            profile_dir.join(format!("tempaccess{}", std::env::consts::EXE_SUFFIX))
        }
    };
    assert!(
        path.is_file(),
        "the server binary {} is missing: run `cargo build -p tempaccess-cli` first \
         (`cargo xtask test` does), or set TEMPACCESS_BIN",
        path.display()
    );
    path
}

/// Starts `tempaccess serve` and waits for its ready line; returns the child and base URL.
async fn start(
    bin: &Path,
    dir: &ScratchDir,
    aws: Option<&AwsEnv>,
    site: Option<&Path>,
    extra: &[String],
) -> (Child, String) {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.log_path())
        .expect("open the server log");
    let addr = if extra.iter().any(|a| a == "--addr") {
        None
    } else {
        Some("127.0.0.1:0")
    };
    let mut child = Command::new(bin)
        .arg("serve")
        .args(addr.iter().flat_map(|a| ["--addr", a]))
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--test-clock")
        .args(
            site.iter()
                .flat_map(|s| [OsStr::new("--site"), s.as_os_str()]),
        )
        // The suites sign in with the demo sign-in on the AWS backend too: on an
        // emulator, with nothing real behind it.
        .args(
            aws.map(|_| ["--backend", "aws", "--insecure-dev-login"])
                .into_iter()
                .flatten(),
        )
        .args(extra)
        .envs(aws.iter().flat_map(|a| a.vars.iter().map(|(k, v)| (k, v))))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));

    let stdout = child.stdout.take().expect("the server's stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let waited = tokio::time::timeout(READY_TIMEOUT, async {
        let mut other = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix(READY_PREFIX) {
                return Ok(url.trim().trim_end_matches('/').to_string());
            }
            other.push(line);
        }
        Err(other)
    })
    .await;

    let failure = match waited {
        Ok(Ok(url)) if url.starts_with("http://") => {
            // Keep draining stdout so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, url);
        }
        Ok(Ok(url)) => format!("it printed an unexpected address `{url}`"),
        Ok(Err(other)) => format!(
            "it closed stdout without the ready line; stdout was:\n{}",
            other.join("\n")
        ),
        Err(_) => format!("no ready line within {READY_TIMEOUT:?}"),
    };
    let exited = match tokio::time::timeout(Duration::from_secs(1), child.wait()).await {
        Ok(Ok(status)) => format!(" ({status})"),
        _ => String::new(),
    };
    let _ = child.kill().await;
    dir.keep();
    panic!(
        "the server did not start{exited}: {failure}\n--- server log ({}) ---\n{}",
        dir.log_path().display(),
        log_tail(&dir.log_path())
    );
}

fn log_tail(path: &Path) -> String {
    const KEEP: usize = 20_000;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    match text.len().checked_sub(KEEP) {
        Some(start) => {
            let start = (start..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            format!("[…]{}", &text[start..])
        }
        None => text,
    }
}

/// A temporary directory holding the server's `data/` and `server.log`; removed on drop
/// unless a test failed (then it is kept and its path printed).
struct ScratchDir {
    path: PathBuf,
    keep: AtomicBool,
}

impl ScratchDir {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "tempaccess-e2e-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        // Touch the log so it exists even if the server never writes to it.
        File::create(path.join("server.log")).expect("create the server log");
        Self {
            path,
            keep: AtomicBool::new(false),
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn log_path(&self) -> PathBuf {
        self.path.join("server.log")
    }

    fn keep(&self) {
        self.keep.store(true, Ordering::Relaxed);
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep.load(Ordering::Relaxed) {
            eprintln!("kept the test's files in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
