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
use tempaccess_sqlite::SqliteStore;

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
}

#[derive(Clone)]
struct Local {
    service: Service,
    mailbox: Option<SqliteStore>,
    auth: DevAuth,
    test_clock: Option<Arc<TestClock>>,
    timer: Arc<Timer>,
}

/// Opens the data directory, seeds the demo on first start, re-arms the timer and
/// serves until Ctrl-C. Prints `tempaccess listening on <url>` once ready.
pub async fn serve(opts: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.data)
        .with_context(|| format!("creating {}", opts.data.display()))?;
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
    let service = Service::new(opened.ports, Settings::new(site_url.clone()));
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
    let app = router(local, opts.site.as_deref());
    println!("tempaccess listening on http://{local_addr}");
    if opts.backend == Backend::Sqlite {
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
         then Mailbox shows bob's mail — follow its link and approve; back as alice, View password.\n  \
         Data in {} (delete it to start over). Ctrl-C stops.\n",
        people.join("\n"),
        data.display()
    )
}

fn router(local: Local, site: Option<&Path>) -> Router {
    let (api, _) = tempaccess_http::openapi::all_parts().split_for_parts();
    let api = api.with_state(AppState {
        service: local.service.clone(),
    });
    let dev = Router::new()
        .route("/v1/dev/login", post(login))
        .route("/v1/dev/mail", get(mail))
        .route("/v1/dev/clock", get(clock_now).post(advance_clock))
        .with_state(local.clone());
    let site = site.map(Path::to_path_buf);
    let app = tempaccess_http::harden(
        api.merge(dev)
            .fallback(move |request: Request| crate::site::fallback(site.clone(), request)),
        &local.service,
    );
    let auth = local.auth.clone();
    app.layer(middleware::from_fn(move |req: Request, next: Next| {
        dev_auth::authorize(auth.clone(), req, next)
    }))
    .layer(middleware::from_fn(log_request))
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
    let caller = tempaccess_core::entry::Caller {
        email: user.email,
        name: user.name,
        roles: user.roles,
    };
    Ok(Json(TokenView {
        token: local.auth.issue(&caller),
    }))
}

async fn mail(State(local): State<Local>) -> Result<Json<Vec<MailView>>, ApiError> {
    let Some(mailbox) = &local.mailbox else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "on the AWS backend mail goes to SES, not to a local mailbox",
        ));
    };
    let mails = mailbox
        .mailbox()
        .await
        .map_err(|e| tempaccess_core::Error::unavailable("reading the mailbox", e))?;
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
