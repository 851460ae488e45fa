//! Each function as Lambda runs it: its `bootstrap` started as a process with only
//! the environment Lambda gives it (the template's variables, the runtime's own, the
//! role's credentials) and polling its own Lambda Runtime API, one invocation at a
//! time.
//!
//! Modelled: the Runtime API's `next`, `response`, `error` and `init/error` calls and
//! their headers; cold starts (the process starts on the first invocation and stays
//! warm); the function's timeout (the process is killed and the invocation fails,
//! as Lambda fails it); a process that exits (`Runtime.ExitError`); its memory size
//! (the peak resident memory is reported per invocation, and exceeding the size fails
//! the invocation and ends the environment); asynchronous invocations with Lambda's
//! two retries and the function's dead-letter queue.
//!
//! Left out: concurrency (one environment per function, invocations wait their turn),
//! payload size limits, the CPU share of the memory size, extensions, SnapStart.
//! `aarch64` bootstraps run under `qemu-aarch64` on another host, so their timings are
//! the emulator's, not Graviton's.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::deploy::FunctionSpec;
use crate::emulator::Emulator;

/// How a bootstrap is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// Directly: it is built for this machine.
    Native,
    /// Under `qemu-<arch>` with the target's C library (`-L <sysroot>`).
    Qemu {
        /// The emulator, e.g. `qemu-aarch64`.
        program: PathBuf,
        /// The target's root for its dynamic loader, e.g. `/usr/aarch64-linux-gnu`.
        sysroot: PathBuf,
    },
}

/// The architecture an ELF executable is built for (`aarch64`, `x86_64`).
pub fn elf_architecture(path: &Path) -> Result<&'static str> {
    let mut header = [0u8; 20];
    use std::io::Read;
    std::fs::File::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .read_exact(&mut header)
        .with_context(|| format!("reading {}", path.display()))?;
    if &header[..4] != b"\x7fELF" {
        bail!("{} is not an ELF executable", path.display());
    }
    Ok(match u16::from_le_bytes([header[18], header[19]]) {
        183 => "aarch64",
        62 => "x86_64",
        other => bail!("{}: unsupported machine {other}", path.display()),
    })
}

/// How to run an executable of `arch` on this machine.
pub fn runner_for(arch: &str) -> Result<Runner> {
    if arch == std::env::consts::ARCH {
        return Ok(Runner::Native);
    }
    let program = PathBuf::from(format!("qemu-{arch}"));
    let sysroot = PathBuf::from(format!("/usr/{arch}-linux-gnu"));
    if !sysroot.is_dir() {
        bail!(
            "{arch} bootstraps need {} (apt-get install qemu-user libc6-arm64-cross)",
            sysroot.display()
        );
    }
    Ok(Runner::Qemu { program, sysroot })
}

/// A failed invocation, as Lambda reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionError {
    /// `errorType`.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
}

impl FunctionError {
    fn new(error_type: &str, error_message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.to_owned(),
            error_message: error_message.into(),
        }
    }
}

/// One invocation, for the stack's journal.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// When it started (RFC 3339).
    pub at: String,
    /// The function's logical id.
    pub function: String,
    /// The invocation's request id.
    pub request_id: String,
    /// What invoked it: an API route key, a schedule's name, a retry.
    pub trigger: String,
    /// The event (scheduler and asynchronous invocations only; API events carry tokens).
    pub event: Option<Value>,
    /// Its result, when it succeeded (scheduler and asynchronous invocations only).
    pub result: Option<Value>,
    /// Its error, when it failed.
    pub error: Option<FunctionError>,
    /// How long it ran.
    pub duration_ms: u64,
    /// The cold start before it, if any.
    pub init_ms: Option<u64>,
    /// The environment's peak resident memory.
    pub max_memory_mb: u64,
}

/// Every invocation so far.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Record>>>);

impl Journal {
    fn push(&self, r: Record) {
        self.0.lock().expect("journal").push(r);
    }

    /// A copy of every record.
    pub fn records(&self) -> Vec<Record> {
        self.0.lock().expect("journal").clone()
    }
}

/// What the host needs besides the function's own definition.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The function's `bootstrap`.
    pub bootstrap: PathBuf,
    /// How to start it.
    pub runner: Runner,
    /// Variables every function gets from Lambda here: the region, the role's
    /// credentials, and `AWS_ENDPOINT_URL` for the emulator.
    pub platform_env: BTreeMap<String, String>,
    /// Where its log goes.
    pub log_dir: PathBuf,
    /// Lambda's asynchronous retry delays (1 and 2 minutes), divided by this.
    pub retry_speed: u32,
}

struct Job {
    event: Value,
    trigger: String,
    journal_event: bool,
    reply: oneshot::Sender<Result<Value, FunctionError>>,
}

/// A function, ready to be invoked.
pub struct FunctionHost {
    /// Its definition.
    pub spec: FunctionSpec,
    jobs: mpsc::Sender<Job>,
    options: HostOptions,
    emulator: Emulator,
    journal: Journal,
}

/// An event the runtime API hands to the process.
struct Pending {
    id: String,
    event: Value,
    deadline_ms: u128,
}

enum Outcome {
    Response(Value),
    Error(FunctionError),
}

#[derive(Default)]
struct RuntimeState {
    next: tokio::sync::Mutex<Option<mpsc::Receiver<Pending>>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<FunctionError>>,
    /// When the process first asked for an event: the end of its init phase.
    first_poll: Mutex<Option<Instant>>,
    arn: String,
}

impl FunctionHost {
    /// Starts the function's Runtime API and its invocation loop; the process itself
    /// starts on the first invocation (a cold start).
    pub async fn start(
        spec: FunctionSpec,
        options: HostOptions,
        emulator: Emulator,
        journal: Journal,
    ) -> Result<Arc<Self>> {
        std::fs::create_dir_all(&options.log_dir)?;
        let state = Arc::new(RuntimeState {
            arn: spec.arn.clone(),
            ..RuntimeState::default()
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        let (jobs, rx) = mpsc::channel(256);
        let host = Arc::new(Self {
            spec,
            jobs,
            options,
            emulator,
            journal,
        });
        let worker = Worker {
            host: host.clone(),
            state,
            runtime_api: api.to_string(),
            env: None,
            tail: Arc::new(Mutex::new(VecDeque::new())),
        };
        tokio::spawn(worker.run(rx));
        Ok(host)
    }

    /// A synchronous invocation (`RequestResponse`): the function's result or error.
    pub async fn invoke(&self, event: Value, trigger: &str) -> Result<Value, FunctionError> {
        self.invoke_recorded(event, trigger, false).await
    }

    async fn invoke_recorded(
        &self,
        event: Value,
        trigger: &str,
        journal_event: bool,
    ) -> Result<Value, FunctionError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            event,
            trigger: trigger.to_owned(),
            journal_event,
            reply,
        };
        if self.jobs.send(job).await.is_err() {
            return Err(FunctionError::new(
                "ServiceException",
                "the function host stopped",
            ));
        }
        rx.await
            .unwrap_or_else(|_| Err(FunctionError::new("ServiceException", "no answer")))
    }

    /// An asynchronous invocation (`Event`), as EventBridge Scheduler makes them:
    /// accepted at once; a failure is retried twice (after 1 and 2 minutes), then the
    /// event goes to the function's dead-letter queue.
    pub fn invoke_async(self: &Arc<Self>, event: Value, trigger: String) {
        let host = self.clone();
        tokio::spawn(async move {
            let delays = [60u64, 120];
            let mut last = None;
            for attempt in 0..=delays.len() {
                if attempt > 0 {
                    let wait = delays[attempt - 1] / u64::from(host.options.retry_speed.max(1));
                    tokio::time::sleep(Duration::from_secs(wait.max(1))).await;
                }
                let label = if attempt == 0 {
                    trigger.clone()
                } else {
                    format!("{trigger} (retry {attempt})")
                };
                match host.invoke_recorded(event.clone(), &label, true).await {
                    Ok(_) => return,
                    Err(e) => last = Some(e),
                }
            }
            let error = last.expect("at least one attempt");
            println!(
                "[{}] asynchronous invocation failed three times ({}: {})",
                host.spec.logical, error.error_type, error.error_message
            );
            if let Some(dlq) = &host.spec.dead_letter_queue
                && let Err(e) = send_to_queue(&host.emulator, dlq, &event, &error).await
            {
                println!(
                    "[{}] could not reach its dead-letter queue: {e:#}",
                    host.spec.logical
                );
            }
        });
    }
}

/// Sends a failed event to an SQS queue (by ARN), with Lambda's error attributes.
pub async fn send_to_queue(
    emulator: &Emulator,
    queue_arn: &str,
    event: &Value,
    error: &FunctionError,
) -> Result<()> {
    let name = queue_arn.rsplit(':').next().unwrap_or_default();
    let url = emulator
        .json("sqs", "GetQueueUrl", &json!({"QueueName": name}))
        .await?["QueueUrl"]
        .as_str()
        .context("no queue URL")?
        .to_owned();
    let attribute = |v: &str| json!({"DataType": "String", "StringValue": v});
    emulator
        .json(
            "sqs",
            "SendMessage",
            &json!({
                "QueueUrl": url,
                "MessageBody": event.to_string(),
                "MessageAttributes": {
                    "ErrorCode": attribute(&error.error_type),
                    "ErrorMessage": attribute(&error.error_message),
                },
            }),
        )
        .await?;
    Ok(())
}

/// A running environment: the process and when it started.
struct Environment {
    child: tokio::process::Child,
    started: Instant,
}

struct Worker {
    host: Arc<FunctionHost>,
    state: Arc<RuntimeState>,
    runtime_api: String,
    env: Option<Environment>,
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let (tx_next, rx_next) = mpsc::channel::<Pending>(1);
        *self.state.next.lock().await = Some(rx_next);
        while let Some(job) = rx.recv().await {
            let started = Instant::now();
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let id = uuid();
            let (outcome, init_ms, memory) = self.one(&job, &id, &tx_next).await;
            let duration_ms =
                (started.elapsed().as_millis() as u64).saturating_sub(init_ms.unwrap_or(0));
            let spec = &self.host.spec;
            let report = format!(
                "REPORT RequestId: {id}\tDuration: {duration_ms} ms\tBilled Duration: {duration_ms} ms\t\
                 Memory Size: {} MB\tMax Memory Used: {memory} MB{}",
                spec.memory_mb,
                init_ms.map_or_else(String::new, |i| format!("\tInit Duration: {i} ms"))
            );
            self.log(&report).await;
            if let Err(e) = &outcome {
                println!(
                    "[{}] {} failed: {}: {}",
                    spec.logical, job.trigger, e.error_type, e.error_message
                );
            }
            self.host.journal.push(Record {
                at,
                function: spec.logical.clone(),
                request_id: id,
                trigger: job.trigger.clone(),
                event: job.journal_event.then(|| job.event.clone()),
                result: match (&outcome, job.journal_event) {
                    (Ok(v), true) => Some(v.clone()),
                    _ => None,
                },
                error: outcome.as_ref().err().cloned(),
                duration_ms,
                init_ms,
                max_memory_mb: memory,
            });
            let _ = job.reply.send(outcome);
        }
    }

    /// Runs one invocation: (outcome, cold start in ms, peak memory in MB).
    async fn one(
        &mut self,
        job: &Job,
        id: &str,
        tx_next: &mpsc::Sender<Pending>,
    ) -> (Result<Value, FunctionError>, Option<u64>, u64) {
        let spec = self.host.spec.clone();
        let cold = self.env.is_none();
        if cold && let Err(e) = self.spawn().await {
            return (
                Err(FunctionError::new(
                    "Runtime.InvalidEntrypoint",
                    format!("{e:#}"),
                )),
                None,
                0,
            );
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        self.state
            .waiting
            .lock()
            .expect("waiting")
            .insert(id.to_owned(), reply_tx);
        let deadline = Instant::now() + spec.timeout;
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            + spec.timeout.as_millis();
        let _ = tx_next
            .send(Pending {
                id: id.to_owned(),
                event: job.event.clone(),
                deadline_ms,
            })
            .await;
        let env = self.env.as_mut().expect("spawned");
        let outcome = tokio::select! {
            reply = reply_rx => match reply {
                Ok(Outcome::Response(v)) => Ok(v),
                Ok(Outcome::Error(e)) => Err(e),
                Err(_) => Err(FunctionError::new("ServiceException", "the runtime API lost the invocation")),
            },
            status = env.child.wait() => {
                let init = self.state.init_error.lock().expect("init").take();
                Err(init.unwrap_or_else(|| FunctionError::new(
                    "Runtime.ExitError",
                    format!(
                        "RequestId: {id} Error: Runtime exited with error: {}",
                        status.map_or_else(|e| e.to_string(), |s| s.to_string())
                    ),
                )))
            }
            _ = tokio::time::sleep_until(deadline.into()) => Err(FunctionError::new(
                "Sandbox.Timedout",
                format!("RequestId: {id} Error: Task timed out after {:.2} seconds", spec.timeout.as_secs_f64()),
            )),
        };
        self.state.waiting.lock().expect("waiting").remove(id);
        let env = self.env.as_mut().expect("spawned");
        let init_ms = cold.then(|| {
            let polled = self
                .state
                .first_poll
                .lock()
                .expect("poll")
                .unwrap_or_else(Instant::now);
            polled.saturating_duration_since(env.started).as_millis() as u64
        });
        let memory = env.child.id().map_or(0, peak_memory_mb);
        let mut outcome = outcome;
        if memory > spec.memory_mb {
            outcome = Err(FunctionError::new(
                "Runtime.OutOfMemory",
                format!(
                    "RequestId: {id} Error: Runtime exited with error: signal: killed (used {memory} MB of {} MB)",
                    spec.memory_mb
                ),
            ));
        }
        if outcome.is_err() {
            let failed_for_good = matches!(
                outcome.as_ref().err().map(|e| e.error_type.as_str()),
                Some("Sandbox.Timedout" | "Runtime.ExitError" | "Runtime.OutOfMemory")
            ) || self.state.init_error.lock().expect("init").is_some()
                || self
                    .env
                    .as_mut()
                    .is_some_and(|e| e.child.try_wait().ok().flatten().is_some());
            if failed_for_good {
                self.stop().await;
                let tail: Vec<String> = self.tail.lock().expect("tail").iter().cloned().collect();
                if !tail.is_empty() {
                    println!(
                        "[{}] last lines of its log:\n  {}",
                        spec.logical,
                        tail.join("\n  ")
                    );
                }
            }
        }
        (outcome, init_ms, memory)
    }

    async fn spawn(&mut self) -> Result<()> {
        let spec = &self.host.spec;
        let o = &self.host.options;
        let mut cmd = match &o.runner {
            Runner::Native => tokio::process::Command::new(&o.bootstrap),
            Runner::Qemu { program, sysroot } => {
                let mut c = tokio::process::Command::new(program);
                c.arg("-L").arg(sysroot).arg(&o.bootstrap);
                c
            }
        };
        let task_root = o.bootstrap.parent().unwrap_or(Path::new("/"));
        cmd.env_clear()
            .envs(&o.platform_env)
            .envs(&spec.environment)
            .envs(lambda_env(spec, &self.runtime_api))
            .current_dir(task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        *self.state.init_error.lock().expect("init") = None;
        *self.state.first_poll.lock().expect("poll") = None;
        // Events a killed process never took are not handed to the next one.
        if let Some(rx) = self.state.next.lock().await.as_mut() {
            while rx.try_recv().is_ok() {}
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", o.bootstrap.display()))?;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let path = self.log_path();
            let tail = self.tail.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .await
                    .ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(f) = file.as_mut() {
                        let _ = f.write_all(format!("{line}\n").as_bytes()).await;
                    }
                    let mut t = tail.lock().expect("tail");
                    if t.len() >= 20 {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        self.env = Some(Environment {
            child,
            started: Instant::now(),
        });
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(mut env) = self.env.take() {
            let _ = env.child.kill().await;
        }
    }

    fn log_path(&self) -> PathBuf {
        let group = self
            .host
            .spec
            .log_group
            .trim_start_matches('/')
            .replace('/', "_");
        self.host.options.log_dir.join(format!("{group}.log"))
    }

    async fn log(&self, line: &str) {
        if let Ok(mut f) = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .await
        {
            let _ = f.write_all(format!("{line}\n").as_bytes()).await;
        }
    }
}

/// The variables Lambda itself sets for a function (`provided.al2023`).
fn lambda_env(spec: &FunctionSpec, runtime_api: &str) -> Vec<(String, String)> {
    let stream = format!(
        "{}/[$LATEST]{}",
        chrono::Utc::now().format("%Y/%m/%d"),
        uuid().replace('-', "")
    );
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The peak resident memory of a process (`VmHWM`), in MB.
fn peak_memory_mb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb.div_ceil(1024))
}

/// A random UUID (v4 layout).
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    state
        .first_poll
        .lock()
        .expect("poll")
        .get_or_insert_with(Instant::now);
    let mut guard = state.next.lock().await;
    let Some(rx) = guard.as_mut() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let Some(p) = rx.recv().await else {
        return StatusCode::GONE.into_response();
    };
    drop(guard);
    let mut headers = HeaderMap::new();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = v.parse() {
            headers.insert(k, v);
        }
    };
    set("lambda-runtime-aws-request-id", p.id.clone());
    set("lambda-runtime-deadline-ms", p.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", state.arn.clone());
    set(
        "lambda-runtime-trace-id",
        format!(
            "Root=1-{:08x}-{};Parent={};Sampled=1",
            chrono::Utc::now().timestamp(),
            &uuid().replace('-', "")[..24],
            &uuid().replace('-', "")[..16]
        ),
    );
    set("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, p.event.to_string()).into_response()
}

async fn response(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    match state.waiting.lock().expect("waiting").remove(&id) {
        Some(tx) => {
            let _ = tx.send(Outcome::Response(value));
            (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
        )
            .into_response(),
    }
}

fn function_error(headers: &HeaderMap, body: &str) -> FunctionError {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    FunctionError {
        error_type: v["errorType"]
            .as_str()
            .or_else(|| {
                headers
                    .get("lambda-runtime-function-error-type")?
                    .to_str()
                    .ok()
            })
            .unwrap_or("Unhandled")
            .to_owned(),
        error_message: v["errorMessage"].as_str().unwrap_or(body).to_owned(),
    }
}

async fn error(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let e = function_error(&headers, &body);
    match state.waiting.lock().expect("waiting").remove(&id) {
        Some(tx) => {
            let _ = tx.send(Outcome::Error(e));
            (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            r#"{"errorType":"InvalidRequestID"}"#,
        )
            .into_response(),
    }
}

async fn init_error(
    State(state): State<Arc<RuntimeState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut e = function_error(&headers, &body);
    if !e.error_type.starts_with("Runtime.") {
        e.error_type = format!("Runtime.InitError ({})", e.error_type);
    }
    *state.init_error.lock().expect("init") = Some(e);
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}
