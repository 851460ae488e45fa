//! `cargo xtask stack`: the deployed stack on this machine. Starts the AWS emulator,
//! runs `tempaccess-stack` (the `stack/` crate) on `infra/template.yaml` with the
//! functions `sam build` built (arm64, run under qemu-user), then publishes the site
//! into the local bucket with the `config.json` `cargo xtask publish-site` writes from
//! the stack's outputs, and prints where to go and who can sign in.
//!
//! The `stack` stage of `cargo xtask test` starts it the same way ([`start`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::tools::{self, Moto};
use crate::{Step, Workspace, infra, publish, site};

/// The line `tempaccess-stack` prints once it serves.
const READY: &str = "tempaccess-stack ready ";
/// The AWS CLI the query examples of docs/deploy.md are run with (v1: on PyPI).
pub const AWS_CLI_VERSION: &str = "1.46.3";
/// What `qemu-user` was tested at (Debian 12).
pub const QEMU_TESTED: &str = "1:7.2+dfsg-7+deb12u18";

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct Options {
    /// The site's port (the API on the next, the hosted UI on the one after, the
    /// stack's own pages on the fourth); 0 for free ports.
    pub port: u16,
    /// rate() schedules fire this many times as often.
    pub rate_speed: u32,
    /// Lambda's asynchronous retries wait this many times less.
    pub retry_speed: u32,
    /// Rebuild stale function packages (`sam build`) before starting.
    pub build: bool,
}

impl Options {
    /// What the test stage runs: free ports, the sweep every 30 s, stale packages are
    /// an error (the `package` stage built them just before).
    pub fn for_tests() -> Self {
        Self {
            port: 0,
            rate_speed: 10,
            retry_speed: 30,
            build: false,
        }
    }
}

/// A running stack: stopped (with its emulator) when dropped.
pub struct Running {
    child: Child,
    _moto: Moto,
    /// What `tempaccess-stack` reported, with the published site's config.
    pub info: Value,
    /// Where [`Running::info`] is written, for the test suites.
    pub info_file: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        // SIGTERM first: the stack stops its functions' processes on the way out.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the stack keeps its files: `<target>/stack`.
pub fn state_dir(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("stack")
}

/// `qemu-aarch64` and the aarch64 C library, from Debian, unless present.
pub fn ensure_qemu() -> Result<()> {
    let loader = Path::new("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1");
    if tools::prints_version(Path::new("qemu-aarch64"), &["--version"], "qemu-aarch64")
        && loader.is_file()
    {
        return Ok(());
    }
    println!("installing qemu-user and libc6-arm64-cross (tested with qemu-user {QEMU_TESTED})");
    tools::apt_install(&["qemu-user", "libc6-arm64-cross"])
}

/// The AWS CLI in its own virtual environment; returns its `aws`.
pub fn ensure_aws_cli() -> Result<PathBuf> {
    let bin = tools::ensure_venv(
        "awscli",
        AWS_CLI_VERSION,
        &[&format!("awscli=={AWS_CLI_VERSION}")],
    )?;
    Ok(bin.join("aws"))
}

/// Builds what the stack runs and starts it.
pub fn start(ws: &Workspace, options: &Options) -> Result<Running> {
    if let Some(why) = infra::packages_stale(ws) {
        if !options.build {
            bail!("{why}: run the `package` stage first (`cargo xtask test --only package,stack`)");
        }
        println!("{why}: running `sam build` (release, arm64; several minutes on a cold machine)");
        for step in infra::build_steps(ws)? {
            crate::run(step.command)?;
        }
    }
    if std::env::consts::ARCH != "aarch64" {
        ensure_qemu()?;
    }
    let dist = site::build(ws)?;
    let mut build = ws.cargo();
    build.args([
        "build",
        "--workspace",
        "--bin",
        "tempaccess",
        "--bin",
        "tempaccess-stack",
    ]);
    crate::run(build)?;

    let moto = Moto::start()?;
    let state = state_dir(ws);
    let bucket = state.join("bucket");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&bucket)?;
    let port = |offset: u16| {
        if options.port == 0 {
            "0".to_owned()
        } else {
            (options.port + offset).to_string()
        }
    };
    let mut cmd = Command::new(ws.bin("tempaccess-stack"));
    cmd.current_dir(&ws.root)
        .arg("--moto")
        .arg(&moto.url)
        .arg("--template")
        .arg(infra::TEMPLATE)
        .arg("--functions")
        .arg(infra::sam_build_dir(ws))
        .arg("--bucket")
        .arg(&bucket)
        .arg("--state")
        .arg(&state)
        .arg("--demo")
        .arg(ws.bin("tempaccess"))
        .args([
            "--site-port",
            &port(0),
            "--api-port",
            &port(1),
            "--auth-port",
            &port(2),
            "--control-port",
            &port(3),
        ])
        .args(["--rate-speed", &options.rate_speed.to_string()])
        .args(["--retry-speed", &options.retry_speed.to_string()])
        .stdout(Stdio::piped());
    println!("$ {}", crate::describe(&cmd));
    let mut child = cmd.spawn().context("starting tempaccess-stack")?;
    let stdout = child.stdout.take().context("the stack's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut info = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(json) = line.strip_prefix(READY) {
            info = Some(serde_json::from_str::<Value>(json)?);
            break;
        }
        println!("{line}");
    }
    let Some(mut info) = info else {
        let status = child.wait()?;
        bail!("tempaccess-stack stopped before it was ready ({status})");
    };
    // Keep echoing what the stack prints (function failures, schedules firing).
    std::thread::spawn(move || {
        for line in lines.map_while(std::result::Result::ok) {
            println!("{line}");
        }
    });

    // Publish the site as `cargo xtask publish-site` does, into the local bucket.
    let outputs: std::collections::HashMap<String, String> = info["outputs"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    let config = publish::publish_to_directory(&dist, &bucket, &outputs)?;
    info["site_config"] = config;
    let info_file = state.join("stack.json");
    std::fs::write(&info_file, serde_json::to_vec_pretty(&info)?)?;
    Ok(Running {
        child,
        _moto: moto,
        info,
        info_file,
    })
}

/// What a newcomer needs to know, printed once the stack is up.
fn summary(info: &Value) -> String {
    let mut out = String::new();
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    out.push_str(&format!(
        "\nThe stack of infra/template.yaml runs on the AWS emulator ({}).\n\n",
        s(&info["moto_url"])
    ));
    out.push_str(&format!("  open the site:  {}\n", s(&info["site_url"])));
    out.push_str(&format!("  the HTTP API:   {}\n", s(&info["api_url"])));
    out.push_str(&format!(
        "  the hosted UI:  {}\n",
        s(&info["hosted_ui_url"])
    ));
    out.push_str(&format!(
        "  mail sent:      {}/mail\n",
        s(&info["control_url"])
    ));
    out.push_str(&format!(
        "  invocations:    {}/invocations\n",
        s(&info["control_url"])
    ));
    out.push_str(&format!("  logs:           {}\n\n", s(&info["log_dir"])));
    out.push_str("Sign in (\"Sign in\" on the site, then the hosted UI) as:\n");
    for p in info["people"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<20} {:<16} {:<10} {}\n",
            s(&p["email"]),
            s(&p["password"]),
            s(&p["role"]),
            s(&p["name"])
        ));
    }
    out.push_str(
        "\nSES delivers nothing here: the emulator keeps every mail (the \"mail sent\" page \
         lists them with their links).\nThe table, pool and schedules are the emulator's; \
         `tempaccess report --backend aws` reads the table with AWS_ENDPOINT_URL set to the \
         emulator and TEMPACCESS_TABLE to the TableName output (in stack.json).\n(Ctrl-C to stop)\n",
    );
    out
}

/// The task: runs the stack in the foreground.
pub fn task(ws: &Workspace, args: &[String]) -> Result<()> {
    let mut options = Options {
        port: 8400,
        rate_speed: 1,
        retry_speed: 1,
        build: true,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                options.port = rest
                    .next()
                    .context("--port needs a number")?
                    .parse()
                    .context("--port needs a number")?
            }
            "--rate-speed" => {
                options.rate_speed = rest
                    .next()
                    .context("--rate-speed needs a number")?
                    .parse()
                    .context("--rate-speed needs a number")?
            }
            "--no-build" => options.build = false,
            other => bail!("unknown option `{other}` for `cargo xtask stack`"),
        }
    }
    let mut running = start(ws, &options)?;
    print!("{}", summary(&running.info));
    println!("(stack details in {})", running.info_file.display());
    let status = running.child.wait()?;
    bail!("tempaccess-stack stopped ({status})")
}

/// The test stage's steps, against a running stack.
pub fn test_steps(ws: &Workspace, running: &Running) -> Result<Vec<Step>> {
    tools::ensure_chromium()?;
    let aws = ensure_aws_cli()?;
    let mut cmd = ws.cargo();
    // One stack for every test, all started at once: the grant's end and the sweep are
    // waited for while the browser and the fronts are tested. A test that counts what
    // reached a function runs alone (`tempaccess_tests::stack::alone`).
    cmd.args([
        "test",
        "--workspace",
        "--test",
        "stack",
        "--",
        "--test-threads=16",
    ])
    .env("TEMPACCESS_BIN", ws.bin("tempaccess"))
    .env("TEMPACCESS_STACK", &running.info_file)
    .env(
        "TEMPACCESS_MOTO_URL",
        running.info["moto_url"].as_str().unwrap_or_default(),
    )
    .env("TEMPACCESS_AWS_CLI", aws);
    site::browser_env(&mut cmd, ws);
    Ok(vec![Step::tests(
        "the deployed stack: the workflow in Chromium, the fronts, reports and queries",
        cmd,
    )])
}
