//! `tempaccess serve`: every route of every function in one axum server — on SQLite
//! with the timer, the mailbox and demo data, or on the AWS adapters — with dev
//! sign-in and the built site.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tempaccess_core::ids::Email;
use tempaccess_core::ports::Clock;
use tempaccess_core::service::{Service, Settings};
use tempaccess_core::system::SystemClock;
use tempaccess_core::wire::{ErrorCode, LoginBody, MailView, TokenView};
use tempaccess_http::extract::JsonBody;
use tempaccess_http::{ApiError, AppState};

use crate::backend::{self, Backend};
use crate::clock::TestClock;
use crate::dev_auth::{self, DevAuth};
use crate::timer::Timer;

/// How `tempaccess serve` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Where to listen (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The data directory (database, keys, credentials).
    #[arg(long, default_value = ".tempaccess")]
    pub data: PathBuf,
    /// The built site to serve at `/`.
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// The public URL of the site, for decision links (default: the listening address).
    #[arg(long)]
    pub site_url: Option<String>,
    /// A clock that `POST /v1/dev/clock` moves forward (for tests).
    #[arg(long)]
    pub test_clock: bool,
    /// Seconds between sweeps (overdue grants, expiries, mail retries).
    #[arg(long, default_value_t = 30)]
    pub sweep_seconds: u64,
    /// Which adapters to run on (aws: the standard AWS environment; set
    /// AWS_ENDPOINT_URL for an emulator).
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    /// Take decisions by a mailed link alone, with nobody signed in (for approvers
    /// without an account): whoever holds the mail can then decide.
    #[arg(long)]
    pub link_decisions: bool,
    /// Offer the password-less demo sign-in (`/v1/dev/*`) even on the AWS backend or
    /// on an address other than loopback: anyone who reaches the port can then act as
    /// anyone, admins included. Never against real data.
    #[arg(long)]
    pub insecure_dev_login: bool,
}

impl ServeArgs {
    /// Whether the demo sign-in is offered: by default only on SQLite (demo data) and
    /// a loopback address (this machine alone).
    pub fn dev_login(&self) -> bool {
        self.insecure_dev_login || (self.backend == Backend::Sqlite && self.addr.ip().is_loopback())
    }
}

#[derive(Clone)]
struct Local {
    service: Service,
    mailbox: Option<crate::mailbox::Mailbox>,
    auth: DevAuth,
    test_clock: Option<Arc<TestClock>>,
    timer: Arc<Timer>,
}

/// Opens the data directory, seeds the demo on first start, re-arms the timer and
/// serves until Ctrl-C. Prints `tempaccess listening on <url>` once ready.
pub async fn serve(opts: ServeArgs) -> anyhow::Result<()> {
    crate::files::private_dir(&opts.data)?;
    let dev_login = opts.dev_login();
    if opts.insecure_dev_login {
        eprintln!(
            "WARNING: --insecure-dev-login: anyone who reaches {} can sign in as anyone, \
             admins included, without a password",
            opts.addr
        );
    } else if !dev_login {
        eprintln!(
            "tempaccess: no demo sign-in here ({}): only the routes anyone may call answer",
            if opts.backend == Backend::Aws {
                "the AWS backend holds real people"
            } else {
                "the address is not loopback"
            }
        );
    }
    let test_clock = if opts.test_clock {
        Some(Arc::new(TestClock::open(opts.data.join("test-clock"))?))
    } else {
        None
    };
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .with_context(|| format!("binding {}", opts.addr))?;
    let local_addr = listener.local_addr()?;
    let site_url = opts
        .site_url
        .clone()
        .unwrap_or_else(|| format!("http://{local_addr}"));
    let opened = backend::open(opts.backend, &opts.data, clock, true).await?;
    let timer = opened.timer;
    let mut settings = Settings::new(site_url.clone());
    settings.link_decisions = opts.link_decisions;
    let service = Service::new(opened.ports, settings);
    timer.rearm(&service).await?;
    let sweep_every = Duration::from_secs(opts.sweep_seconds.max(1));
    tokio::spawn(timer.clone().run(service.clone(), sweep_every));

    let local = Local {
        service,
        mailbox: opened.mailbox,
        auth: DevAuth::open(&opts.data.join("dev-signing.key"))?,
        test_clock,
        timer,
    };
    let hosts = Hosts::new(local_addr, &site_url);
    let app = router(local, opts.site.as_deref(), dev_login, hosts);
    println!("tempaccess listening on http://{local_addr}");
    if opts.backend == Backend::Sqlite && dev_login {
        println!("{}", welcome(&site_url, &opts.data, opts.site.is_some()));
    }
    tracing::info!(%local_addr, data = %opts.data.display(), backend = ?opts.backend, "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// What a newcomer reads once the server is up: where to go, who to be, what to try.
fn welcome(url: &str, data: &Path, with_site: bool) -> String {
    let entries = crate::demo::entries();
    let people: Vec<String> = crate::demo::users()
        .into_iter()
        .map(|u| {
            let short = u
                .email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned();
            let approves: Vec<&str> = entries
                .iter()
                .filter(|e| e.is_approver(&u.email))
                .map(|e| e.id.as_str())
                .collect();
            let does = if u
                .roles
                .iter()
                .any(|r| r == tempaccess_core::entry::ADMIN_ROLE)
            {
                "admin: every request, revokes, exports CSV".to_owned()
            } else if approves.is_empty() {
                "requests access".to_owned()
            } else {
                format!("approves {}", approves.join(", "))
            };
            format!("    {short:<6} {:<16} {does}", u.name)
        })
        .collect();
    let start = if with_site {
        format!("Open {url} and sign in as one of the demo people:")
    } else {
        format!("The API is at {url}/v1 (no site given: see README.md for curl); demo people:")
    };
    format!(
        "\n  {start}\n{}\n\n  Try first: as alice, Entries → Production database → Request Temporary Access;\n  \
         then Mailbox shows bob's mail — follow its link, sign in as bob and approve;\n  back as alice, View password.\n  \
         Data in {} (delete it to start over). Ctrl-C stops.\n",
        people.join("\n"),
        data.display()
    )
}

fn router(local: Local, site: Option<&Path>, dev_login: bool, hosts: Hosts) -> Router {
    let (api, _) = tempaccess_http::openapi::all_parts().split_for_parts();
    let api = api.with_state(AppState {
        service: local.service.clone(),
    });
    let mut app = api;
    if dev_login {
        let dev = Router::new()
            .route("/v1/dev/login", post(login))
            .route("/v1/dev/mail", get(mail))
            .route("/v1/dev/clock", get(clock_now).post(advance_clock))
            .with_state(local.clone());
        app = app.merge(dev);
    }
    let site = site.map(Path::to_path_buf);
    let app = tempaccess_http::harden(
        app.fallback(move |request: Request| {
            crate::site::fallback(site.clone(), dev_login, request)
        }),
        &local.service,
    );
    let app = if dev_login {
        let auth = local.auth.clone();
        let store = local.service.store().clone();
        app.layer(middleware::from_fn(move |req: Request, next: Next| {
            dev_auth::authorize(auth.clone(), store.clone(), req, next)
        }))
    } else {
        app
    };
    app.layer(middleware::from_fn(move |req: Request, next: Next| {
        check_host(hosts.clone(), req, next)
    }))
    .layer(middleware::from_fn(log_request))
}

/// The `Host`s this server answers: the address it listens on, loopback names with
/// its port, and the site's public URL. Any other is a request meant for someone else
/// (or a page elsewhere rebinding a name to this machine) and gets 421.
#[derive(Debug, Clone)]
pub struct Hosts(Arc<Vec<String>>);

impl Hosts {
    /// The hosts of a server on `addr` whose site is at `site_url`.
    pub fn new(addr: SocketAddr, site_url: &str) -> Self {
        let port = addr.port();
        let mut hosts = vec![
            addr.to_string(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        if let Some(authority) = site_url
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        {
            let authority = authority.to_ascii_lowercase();
            // A default port may be left out of `Host`, or written in.
            for (scheme, default) in [("http://", ":80"), ("https://", ":443")] {
                if site_url.starts_with(scheme) {
                    match authority.strip_suffix(default) {
                        Some(bare) => hosts.push(bare.to_owned()),
                        None if !authority.contains(':') || authority.ends_with(']') => {
                            hosts.push(format!("{authority}{default}"));
                        }
                        None => {}
                    }
                }
            }
            hosts.push(authority);
        }
        Self(Arc::new(hosts))
    }

    /// Whether `host` (a `Host` header) is one of them.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.0.contains(&host)
    }
}

async fn check_host(hosts: Hosts, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    match host {
        Some(host) if hosts.allows(host) => next.run(request).await,
        _ => {
            use axum::response::IntoResponse;
            ApiError::new(
                ErrorCode::Misdirected,
                "this server answers only for its own address",
            )
            .into_response()
        }
    }
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    // The path only: no query string reaches the log.
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "http");
    response
}

async fn login(
    State(local): State<Local>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<TokenView>, ApiError> {
    let raw = body.user.trim().to_ascii_lowercase();
    let email = if raw.contains('@') {
        raw
    } else {
        format!("{raw}@example.com")
    };
    let email = Email::parse_field(&email, "user")?;
    let user = local
        .service
        .store()
        .user(&email)
        .await
        .map_err(|e| tempaccess_core::Error::unavailable("reading the user", e))?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such user"))?;
    Ok(Json(TokenView {
        token: local.auth.issue(&user.email, Utc::now()),
    }))
}

async fn mail(State(local): State<Local>) -> Result<Json<Vec<MailView>>, ApiError> {
    let Some(mailbox) = &local.mailbox else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "on the AWS backend mail goes to SES, not to a local mailbox",
        ));
    };
    let mails = mailbox.mails();
    Ok(Json(
        mails
            .into_iter()
            .map(|(m, sent_at)| MailView {
                to: m.to.to_string(),
                subject: m.subject,
                text: m.text,
                html: m.html,
                sent_at,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
struct ClockView {
    now: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    advance_seconds: i64,
}

async fn clock_now(State(local): State<Local>) -> Json<ClockView> {
    Json(ClockView {
        now: local.service.now(),
    })
}

/// Moves the test clock forward, then runs the timer's work (ends, expiries, mail)
/// before answering, so tests see its effects at once.
async fn advance_clock(
    State(local): State<Local>,
    JsonBody(body): JsonBody<AdvanceBody>,
) -> Result<Json<ClockView>, ApiError> {
    let Some(clock) = &local.test_clock else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "the clock moves only under `serve --test-clock`",
        ));
    };
    if !(0..=366 * 24 * 3600).contains(&body.advance_seconds) {
        return Err(ApiError::invalid(
            "advance_seconds",
            "must be 0 to one year",
        ));
    }
    let now = clock
        .advance(TimeDelta::seconds(body.advance_seconds))
        .map_err(|e| tempaccess_core::Error::unavailable("moving the clock", e))?;
    local.service.sweep().await?;
    local.timer.poke();
    Ok(Json(ClockView { now }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_servers_own_names_are_answered() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let hosts = Hosts::new(addr, "http://127.0.0.1:8080");
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1:9090",
            "localhost",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        let public = Hosts::new(addr, "https://access.example.com/");
        assert!(public.allows("access.example.com"));
        assert!(public.allows("access.example.com:443"));
    }

    fn args(extra: &[&str]) -> ServeArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let mut argv = vec!["serve"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).serve
    }

    #[test]
    fn the_demo_sign_in_is_offered_only_on_loopback_sqlite_unless_forced() {
        assert!(args(&[]).dev_login());
        assert!(args(&["--addr", "[::1]:8080"]).dev_login());
        assert!(!args(&["--addr", "0.0.0.0:8080"]).dev_login());
        assert!(!args(&["--addr", "192.168.1.5:8080"]).dev_login());
        assert!(!args(&["--backend", "aws"]).dev_login());
        assert!(args(&["--backend", "aws", "--insecure-dev-login"]).dev_login());
        assert!(args(&["--addr", "0.0.0.0:8080", "--insecure-dev-login"]).dev_login());
    }

    #[test]
    fn the_welcome_names_the_url_and_every_demo_person() {
        let text = welcome("http://127.0.0.1:8080", Path::new("/tmp/d"), true);
        assert!(text.contains("Open http://127.0.0.1:8080 and sign in"));
        for who in ["alice", "bob", "dave", "carol"] {
            assert!(text.contains(&format!("    {who}")), "{who} in {text}");
        }
        assert!(text.contains("approves prod-db, payroll-rdp"), "{text}");
        assert!(text.contains("/tmp/d"));
    }
}
