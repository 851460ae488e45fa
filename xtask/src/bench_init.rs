//! Init time per function: each `sam build` bootstrap started against a loopback Lambda
//! Runtime API, from exec to its first `next` poll, beside a hello-world
//! `lambda_runtime` function built the same way (`bench/hello`). Runs alternate between
//! the binaries so that the machine's noise falls on all of them; the figure to read is
//! each median's ratio to the hello-world's.
//!
//! The stub answers the one call a function makes during init (the DynamoDB read that
//! warms its connection) with an error, as for a missing item's table: the connection is
//! made and a request sent, as in Lambda, without an emulator in the measure.
//!
//! On a host that is not aarch64 the bootstraps run under `qemu-aarch64`: the absolute
//! times are the emulator's, the ratios still compare like with like.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{Workspace, infra, stack};

/// Runs per binary.
pub const RUNS: usize = 20;

/// The hello-world function's crate and binary.
const HELLO: &str = "tempaccess-bench-hello";

/// Builds the hello-world function as `sam build` builds the functions (cargo lambda,
/// release, arm64); returns its bootstrap.
fn build_hello(ws: &Workspace) -> Result<PathBuf> {
    let mut build = ws.cargo();
    build
        .args([
            "lambda",
            "build",
            "--release",
            "--arm64",
            "--package",
            HELLO,
            "--bin",
            HELLO,
        ])
        .env("PATH", infra::lambda_tool_path()?)
        .env("CARGO_TARGET_DIR", &ws.target_dir);
    crate::run(build)?;
    let bootstrap = ws.target_dir.join("lambda").join(HELLO).join("bootstrap");
    if !bootstrap.is_file() {
        bail!("cargo lambda wrote no {}", bootstrap.display());
    }
    Ok(bootstrap)
}

/// A loopback Lambda Runtime API that reports each `next` poll and answers anything
/// else (the functions' DynamoDB warm-up) with an error.
struct RuntimeApi {
    address: String,
    polls: mpsc::Receiver<Instant>,
}

impl RuntimeApi {
    fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let (tx, polls) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                std::thread::spawn(move || serve(stream, &tx));
            }
        });
        Ok(Self { address, polls })
    }
}

/// One connection: requests in turn until the peer closes or polls for an event (the
/// poll is held open: the measure ends there).
fn serve(stream: TcpStream, polls: &mpsc::Sender<Instant>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if request_line.contains("/runtime/invocation/next") {
            let _ = polls.send(Instant::now());
            // Held until the process is stopped.
            let _ = reader.read_to_end(&mut Vec::new());
            return;
        }
        let answer = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#;
        let reply = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The command that runs `bootstrap` here: itself, or under qemu on another host.
fn runner(bootstrap: &Path) -> Command {
    if std::env::consts::ARCH == "aarch64" {
        Command::new(bootstrap)
    } else {
        let mut cmd = Command::new("qemu-aarch64");
        cmd.args(["-L", "/usr/aarch64-linux-gnu"]).arg(bootstrap);
        cmd
    }
}

/// Starts `bootstrap` with a Lambda environment (the template's settings, with made-up
/// names) against `api`.
fn start(bootstrap: &Path, name: &str, api: &RuntimeApi) -> Result<Child> {
    let endpoint = format!("http://{}", api.address);
    let mut cmd = runner(bootstrap);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("TEMPACCESS_TABLE", "tempaccess-bench")
        .env("TEMPACCESS_MAIL_FROM", "tempaccess@example.com")
        .env("TEMPACCESS_SCHEDULE_GROUP", "tempaccess-bench")
        .env(
            "TEMPACCESS_SCHEDULER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/tempaccess-bench",
        )
        .env(
            "TEMPACCESS_REVOKE_FUNCTION_ARN",
            "arn:aws:lambda:us-east-1:123456789012:function:tempaccess-bench",
        )
        .env("TEMPACCESS_SITE_URL", "https://tempaccess.example.com")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn()
        .with_context(|| format!("starting {}", bootstrap.display()))
}

/// Exec to first poll, once.
fn once(bootstrap: &Path, name: &str, api: &RuntimeApi) -> Result<Duration> {
    while api.polls.try_recv().is_ok() {}
    let started = Instant::now();
    let mut child = start(bootstrap, name, api)?;
    let polled = api.polls.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let polled = polled.with_context(|| format!("{name} did not poll for an event within 60 s"))?;
    Ok(polled - started)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// The section's table: each function's median init and its ratio to the hello-world's.
pub fn table(ws: &Workspace, runs: usize) -> Result<String> {
    if std::env::consts::ARCH != "aarch64" {
        stack::ensure_qemu()?;
    }
    let hello = build_hello(ws)?;
    let mut binaries: Vec<(String, PathBuf)> = vec![("hello-world".to_owned(), hello)];
    for function in infra::FUNCTIONS {
        binaries.push((
            function.to_owned(),
            infra::sam_build_dir(ws).join(function).join("bootstrap"),
        ));
    }
    let api = RuntimeApi::start()?;
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); binaries.len()];
    for run in 0..runs {
        for (i, (name, bootstrap)) in binaries.iter().enumerate() {
            times[i].push(once(bootstrap, name, &api)?);
        }
        println!("init: run {} of {runs}", run + 1);
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    let floor = medians[0].as_secs_f64();
    let under = if std::env::consts::ARCH == "aarch64" {
        String::new()
    } else {
        " (under qemu-aarch64)".to_owned()
    };
    let mut table = format!(
        "| binary | median exec → first poll, {runs} runs{under} | ÷ hello-world |\n|---|---:|---:|\n"
    );
    for ((name, _), m) in binaries.iter().zip(&medians) {
        table += &format!(
            "| {name} | {:.1} ms | {:.2}× |\n",
            m.as_secs_f64() * 1000.0,
            m.as_secs_f64() / floor
        );
    }
    Ok(table)
}
