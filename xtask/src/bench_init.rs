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

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{Workspace, infra, stack};

/// Runs per binary.
pub const RUNS: usize = 20;

/// The hello-world function's crate and binary.
const HELLO: &str = "tempaccess-bench-hello";

/// Builds the hello-world function as `sam build` builds the functions (cargo lambda,
/// release, arm64); returns its bootstrap.
pub fn build_hello(ws: &Workspace) -> Result<PathBuf> {
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

/// What the loopback Runtime API saw, in order.
#[derive(Debug)]
pub enum Seen {
    /// A `next` poll, when it arrived.
    Polled(Instant),
    /// An armed event written in answer to a poll, when the last byte went out.
    Handed(Instant),
    /// The function's response to that event: when it arrived, and its body.
    Responded(Instant, String),
}

/// A loopback Lambda Runtime API that reports each `next` poll, answers it with the
/// next armed event (or holds it open when none is armed), takes the function's
/// response, and answers anything else (the functions' DynamoDB warm-up when their
/// endpoint is this stub) with an error.
pub struct RuntimeApi {
    /// `127.0.0.1:PORT`.
    pub address: String,
    seen: mpsc::Receiver<Seen>,
    armed: Arc<Mutex<VecDeque<String>>>,
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let (tx, seen) = mpsc::channel();
        let armed = Arc::new(Mutex::new(VecDeque::new()));
        let events = Arc::clone(&armed);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                let events = Arc::clone(&events);
                std::thread::spawn(move || serve(stream, &tx, &events));
            }
        });
        Ok(Self {
            address,
            seen,
            armed,
        })
    }

    /// Forgets what was seen and armed before.
    pub fn reset(&self) {
        while self.seen.try_recv().is_ok() {}
        self.armed.lock().expect("the armed events").clear();
    }

    /// The next poll answers with `event` (an invocation's payload).
    pub fn arm(&self, event: String) {
        self.armed
            .lock()
            .expect("the armed events")
            .push_back(event);
    }

    /// The next thing seen, within `limit`.
    pub fn next_seen(&self, limit: Duration) -> Option<Seen> {
        self.seen.recv_timeout(limit).ok()
    }
}

/// One request read off a connection: its request line and body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return None;
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
    reader.read_exact(&mut body).ok()?;
    Some((request_line, body))
}

/// One connection: requests in turn until the peer closes or polls with nothing armed
/// (that poll is held open until the process is stopped).
fn serve(stream: TcpStream, seen: &mpsc::Sender<Seen>, armed: &Mutex<VecDeque<String>>) {
    // Each answer is one write; with Nagle off it leaves at once.
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some((request_line, body)) = read_request(&mut reader) {
        let reply = if request_line.contains("/runtime/invocation/next") {
            let _ = seen.send(Seen::Polled(Instant::now()));
            let event = armed.lock().map(|mut a| a.pop_front()).ok().flatten();
            let Some(event) = event else {
                let _ = reader.read_to_end(&mut Vec::new());
                return;
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                + 60_000;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: bench-invocation\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                 content-length: {}\r\n\r\n{event}",
                event.len()
            );
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
            let _ = seen.send(Seen::Handed(Instant::now()));
            continue;
        } else if request_line.contains("/runtime/invocation/") {
            let _ = seen.send(Seen::Responded(
                Instant::now(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_owned()
        } else {
            let answer = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#;
            format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            )
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The command that runs `bootstrap` here: itself, or under qemu on another host.
pub fn runner(bootstrap: &Path) -> Command {
    if std::env::consts::ARCH == "aarch64" {
        Command::new(bootstrap)
    } else {
        let mut cmd = Command::new("qemu-aarch64");
        cmd.args(["-L", "/usr/aarch64-linux-gnu"]).arg(bootstrap);
        cmd
    }
}

/// Starts `bootstrap` with a Lambda environment (the template's settings, with made-up
/// names) against `api`, its AWS endpoint the stub itself.
fn start(bootstrap: &Path, name: &str, api: &RuntimeApi) -> Result<Child> {
    start_with(
        bootstrap,
        name,
        api,
        &format!("http://{}", api.address),
        &[],
    )
}

/// Starts `bootstrap` with a Lambda environment against `api`, its AWS endpoint at
/// `endpoint`, with `extra` variables besides.
pub fn start_with(
    bootstrap: &Path,
    name: &str,
    api: &RuntimeApi,
    endpoint: &str,
    extra: &[(&str, &str)],
) -> Result<Child> {
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
        .env("AWS_ENDPOINT_URL", endpoint)
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
        .envs(extra.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn()
        .with_context(|| format!("starting {}", bootstrap.display()))
}

/// Exec to first poll, once.
fn once(bootstrap: &Path, name: &str, api: &RuntimeApi) -> Result<Duration> {
    api.reset();
    let started = Instant::now();
    let mut child = start(bootstrap, name, api)?;
    let polled = first_poll(api);
    let _ = child.kill();
    let _ = child.wait();
    let polled = polled.with_context(|| format!("{name} did not poll for an event within 60 s"))?;
    Ok(polled - started)
}

/// When the first poll arrives, within a minute.
pub fn first_poll(api: &RuntimeApi) -> Option<Instant> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        if let Seen::Polled(at) = api.next_seen(left)? {
            return Some(at);
        }
    }
}

pub fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// The section's table: each function's median init and its ratio to the hello-world's.
/// With `beside`, a directory laid out as `sam build`'s (`<function>/bootstrap`, another
/// build's packages), those bootstraps run in the same rounds, as rows of their own.
pub fn table(ws: &Workspace, runs: usize, beside: Option<&Path>) -> Result<String> {
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
        if let Some(dir) = beside {
            binaries.push((
                format!("{function} ({})", dir.display()),
                dir.join(function).join("bootstrap"),
            ));
        }
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
