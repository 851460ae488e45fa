//! `tempaccess-stack`: deploys `infra/template.yaml` into a running AWS emulator and
//! runs it — the five function binaries under the Lambda Runtime API, the HTTP API,
//! hosted-UI and site fronts, and the schedules — until stopped. `cargo xtask stack`
//! starts the emulator, builds what is needed, runs this and publishes the site.
//!
//! Prints one line `tempaccess-stack ready {json}` once everything listens: the
//! origins, the outputs, the people and where the logs are.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::extract::State;
use axum::routing::{any, get, post};
use clap::Parser;
use serde_json::{Value, json};
use tempaccess_stack::api::{self, ApiFront};
use tempaccess_stack::cdn::{self, SiteFront, ViewerFunction};
use tempaccess_stack::deploy::{self, Options};
use tempaccess_stack::emulator::Emulator;
use tempaccess_stack::hosted_ui::{self, HostedUi};
use tempaccess_stack::lambda::{self, FunctionHost, HostOptions, Journal};
use tempaccess_stack::schedules::{self, Delivery};
use tempaccess_stack::template::Template;
use tempaccess_stack::{parse_overrides, people, samconfig_parameters};
use tokio::net::TcpListener;

/// The line that says the stack is up.
const READY: &str = "tempaccess-stack ready ";

#[derive(Parser)]
#[command(
    name = "tempaccess-stack",
    about = "The deployed stack on this machine, on the AWS emulator"
)]
struct Args {
    /// The SAM template.
    #[arg(long, default_value = "infra/template.yaml")]
    template: PathBuf,
    /// The AWS emulator (moto server), e.g. http://127.0.0.1:5000.
    #[arg(long, env = "TEMPACCESS_MOTO_URL")]
    moto: String,
    /// `sam build`'s output: `<dir>/<Function>/bootstrap`.
    #[arg(long)]
    functions: PathBuf,
    /// The site bucket: the directory the site is published into.
    #[arg(long)]
    bucket: PathBuf,
    /// Where logs go.
    #[arg(long)]
    state: PathBuf,
    /// `samconfig.toml`, whose default environment gives the parameters.
    #[arg(long, default_value = "samconfig.toml")]
    samconfig: PathBuf,
    /// Parameters over samconfig's (`K=v K2="v 2"`).
    #[arg(long)]
    parameter_overrides: Option<String>,
    /// The stack's name.
    #[arg(long, default_value = "tempaccess")]
    stack_name: String,
    /// The region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The emulator's account.
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// Demo data: `tempaccess aws bootstrap --demo` with this `tempaccess` binary, and
    /// the demo people in the user pool.
    #[arg(long)]
    demo: Option<PathBuf>,
    /// Ports (0: any free one).
    #[arg(long, default_value_t = 0)]
    site_port: u16,
    /// The API's port.
    #[arg(long, default_value_t = 0)]
    api_port: u16,
    /// The hosted UI's port.
    #[arg(long, default_value_t = 0)]
    auth_port: u16,
    /// The port of the stack's own pages (mail, invocations, deliveries).
    #[arg(long, default_value_t = 0)]
    control_port: u16,
    /// rate() schedules fire this many times as often (a test clock for the sweep).
    #[arg(long, default_value_t = 1)]
    rate_speed: u32,
    /// Lambda's asynchronous retry delays are divided by this.
    #[arg(long, default_value_t = 1)]
    retry_speed: u32,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("tempaccess-stack: {e:#}");
        std::process::exit(1);
    }
}

async fn bind(port: u16) -> Result<(TcpListener, String)> {
    let l = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!(
                "listening on 127.0.0.1:{port} (in use? `cargo xtask stack --port 0` picks free ports)"
            )
        })?;
    let origin = format!("http://localhost:{}", l.local_addr()?.port());
    Ok((l, origin))
}

async fn run(args: Args) -> Result<()> {
    let template = Template::load(&args.template)?;
    let emulator = Emulator::new(&args.moto, &args.region);
    let (site_l, site_origin) = bind(args.site_port).await?;
    let (api_l, api_origin) = bind(args.api_port).await?;
    let (auth_l, auth_origin) = bind(args.auth_port).await?;
    let (control_l, control_origin) = bind(args.control_port).await?;

    let mut parameters = match std::fs::read_to_string(&args.samconfig) {
        Ok(text) => samconfig_parameters(&text, "default")?,
        Err(_) => BTreeMap::new(),
    };
    if let Some(o) = &args.parameter_overrides {
        parameters.extend(parse_overrides(o)?);
    }
    let options = Options {
        stack_name: args.stack_name.clone(),
        region: args.region.clone(),
        account: args.account.clone(),
        parameters,
        local_origins: BTreeMap::from([
            ("site", site_origin.clone()),
            ("api", api_origin.clone()),
            ("hosted UI", auth_origin.clone()),
        ]),
    };
    let mut deployed = deploy::deploy(&template, &emulator, &options).await?;
    for f in &mut deployed.functions {
        for value in f.environment.values_mut() {
            *value = deploy::resolve_dynamic(&emulator, value).await?;
        }
    }
    println!(
        "deployed {} from {}:",
        args.stack_name,
        args.template.display()
    );
    for r in &deployed.resources {
        println!("  {:<24} {:<40} {}", r.logical, r.kind, r.what);
    }

    let platform_env: BTreeMap<String, String> = [
        ("AWS_REGION", args.region.clone()),
        ("AWS_DEFAULT_REGION", args.region.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_SESSION_TOKEN", "testing".to_owned()),
        ("AWS_ENDPOINT_URL", args.moto.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let mut people_list = Vec::new();
    if let Some(cli) = &args.demo {
        let env = &deployed
            .functions
            .first()
            .context("the template has no function")?
            .environment;
        let output = tokio::process::Command::new(cli)
            .args(["aws", "bootstrap", "--demo"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&platform_env)
            .envs(env)
            .output()
            .await
            .with_context(|| format!("running {} aws bootstrap --demo", cli.display()))?;
        if !output.status.success() {
            bail!(
                "tempaccess aws bootstrap --demo failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        people_list = people::demo();
        people::create(
            &emulator,
            &deployed.cognito.pool_id,
            &deployed.cognito.groups,
            &deployed.cognito.password_policy,
            &people_list,
        )
        .await?;
        println!(
            "demo data written by `tempaccess aws bootstrap --demo`; demo people created in the user pool"
        );
    }

    let journal = Journal::default();
    let log_dir = args.state.join("logs");
    std::fs::create_dir_all(&log_dir)?;
    let mut hosts: BTreeMap<String, Arc<FunctionHost>> = BTreeMap::new();
    let mut runners = Vec::new();
    for f in &deployed.functions {
        let bootstrap = args.functions.join(&f.logical).join("bootstrap");
        let arch = lambda::elf_architecture(&bootstrap).with_context(|| {
            format!(
                "{} has no bootstrap: run `sam build` first (`cargo xtask stack` does)",
                f.logical
            )
        })?;
        let template_arch = if f.architecture == "arm64" {
            "aarch64"
        } else {
            "x86_64"
        };
        if arch != template_arch {
            bail!(
                "{}: the template deploys {} but {} is built for {arch}",
                f.logical,
                f.architecture,
                bootstrap.display()
            );
        }
        let runner = lambda::runner_for(arch)?;
        runners.push(json!({
            "function": f.logical,
            "name": f.name,
            "bootstrap": bootstrap,
            "architecture": arch,
            "runner": match &runner { lambda::Runner::Native => "native".to_owned(), lambda::Runner::Qemu { program, .. } => program.display().to_string() },
            "memory_mb": f.memory_mb,
            "timeout_s": f.timeout.as_secs(),
            "variables": f.environment.keys().collect::<Vec<_>>(),
        }));
        let host = FunctionHost::start(
            f.clone(),
            HostOptions {
                bootstrap,
                runner,
                platform_env: platform_env.clone(),
                log_dir: log_dir.clone(),
                retry_speed: args.retry_speed,
            },
            emulator.clone(),
            journal.clone(),
        )
        .await?;
        hosts.insert(f.logical.clone(), host);
    }

    let front = Arc::new(ApiFront::new(
        deployed.api.clone(),
        hosts.clone(),
        emulator.clone(),
        args.account.clone(),
        log_dir.join("api-access.log"),
    ));
    let api_app = Router::new().fallback(any(api::handle)).with_state(front);
    tokio::spawn(async move {
        axum::serve(
            api_l,
            api_app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let ui = Arc::new(HostedUi::new(
        emulator.clone(),
        deployed.cognito.pool_id.clone(),
    ));
    let auth_app = Router::new()
        .route("/oauth2/authorize", get(hosted_ui::authorize))
        .route("/login", get(hosted_ui::login_page).post(hosted_ui::login))
        .route(
            "/oauth2/token",
            post(hosted_ui::token).options(hosted_ui::token_preflight),
        )
        .route("/logout", get(hosted_ui::logout))
        .route("/error", get(hosted_ui::error_page))
        .with_state(ui);
    tokio::spawn(async move { axum::serve(auth_l, auth_app).await });

    std::fs::create_dir_all(&args.bucket)?;
    let function = deployed
        .site
        .viewer_request
        .as_deref()
        .map(ViewerFunction::start)
        .transpose()?;
    let site = Arc::new(SiteFront {
        spec: deployed.site.clone(),
        bucket: args.bucket.clone(),
        function,
    });
    let site_app = Router::new().fallback(any(cdn::handle)).with_state(site);
    tokio::spawn(async move { axum::serve(site_l, site_app).await });

    let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    tokio::spawn(schedules::run(
        emulator.clone(),
        hosts.clone(),
        args.rate_speed,
        deliveries.clone(),
    ));

    let info = json!({
        "stack_name": args.stack_name,
        "region": args.region,
        "site_url": site_origin,
        "api_url": api_origin,
        "hosted_ui_url": auth_origin,
        "control_url": control_origin,
        "moto_url": args.moto,
        "origins": deployed.origins.all().iter().map(|o| json!({"role": o.role, "public": o.public, "local": o.local})).collect::<Vec<_>>(),
        "outputs": deployed.outputs,
        "parameters": deployed.context.parameters,
        "user_pool_id": deployed.cognito.pool_id,
        "issuer": deployed.cognito.issuer,
        "clients": deployed.cognito.clients,
        "functions": runners,
        "people": people_list,
        "log_dir": log_dir,
        "content_security_policy": deployed.site.headers.headers.iter().find(|h| h.0 == "content-security-policy").map(|h| h.1.clone()),
    });
    let control = Control {
        moto: args.moto.clone(),
        journal,
        deliveries,
        info: info.clone(),
    };
    let control_app = Router::new()
        .route("/invocations", get(invocations))
        .route("/deliveries", get(deliveries_of))
        .route("/stack", get(stack_info))
        .route("/mail", get(mail))
        .with_state(Arc::new(control));
    tokio::spawn(async move { axum::serve(control_l, control_app).await });

    println!("{READY}{info}");
    wait_for_stop().await;
    println!("stopping the stack");
    Ok(())
}

/// What the control endpoint shows (for tests and the curious).
struct Control {
    moto: String,
    journal: Journal,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    info: Value,
}

async fn invocations(State(c): State<Arc<Control>>) -> axum::Json<Value> {
    axum::Json(json!(c.journal.records()))
}

async fn deliveries_of(State(c): State<Arc<Control>>) -> axum::Json<Value> {
    axum::Json(json!(*c.deliveries.lock().expect("deliveries")))
}

async fn stack_info(State(c): State<Arc<Control>>) -> axum::Json<Value> {
    axum::Json(c.info.clone())
}

/// The mail SES holds in the emulator (it delivers nothing), newest first, with the
/// links each carries: where a person reads bob's decision link.
async fn mail(State(c): State<Arc<Control>>) -> axum::response::Html<String> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let data: Value = match reqwest::get(format!("{}/moto-api/data.json", c.moto)).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    let mut items = String::new();
    for m in data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
    {
        let body = m["body"].as_str().unwrap_or_default();
        let links: String = body
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|href| {
                let href = href.replace("&amp;", "&");
                format!("<li><a href=\"{0}\">{0}</a></li>", escape(&href))
            })
            .collect();
        items.push_str(&format!(
            "<article><h2>{}</h2><p>To {}</p><ul>{links}</ul></article>",
            escape(m["subject"].as_str().unwrap_or_default()),
            escape(&m["destinations"].to_string()),
        ));
    }
    axum::response::Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mail in the emulator</title></head>\
         <body><h1>Mail sent through SES (held by the emulator)</h1>{items}</body></html>"
    ))
}

async fn wait_for_stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
