//! Pinned tools the tests need, installed on first use into a shared directory
//! (`TEMPACCESS_TOOLS`, default `/var/tmp/tempaccess-tools`) and skipped when the pinned
//! version is already there; and the services the tests talk to.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The AWS emulator the adapters are tested against.
pub const MOTO_VERSION: &str = "5.2.5";

/// Where pinned tools live.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("TEMPACCESS_TOOLS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tempaccess-tools"))
}

/// A Python virtual environment with `moto[server]` at the pinned version.
pub fn ensure_moto() -> Result<PathBuf> {
    ensure_venv(
        "moto",
        MOTO_VERSION,
        &format!("moto[server]=={MOTO_VERSION}"),
        "moto_server",
    )
}

/// A virtual environment `<name>-<version>` in the tools directory with `requirement`
/// installed; returns the path of its `binary`. Skipped when already installed.
pub fn ensure_venv(name: &str, version: &str, requirement: &str, binary: &str) -> Result<PathBuf> {
    let venv = tools_dir().join(format!("{name}-{version}"));
    let program = venv.join("bin").join(binary);
    let marker = venv.join(".installed");
    if program.is_file() && marker.is_file() {
        return Ok(program);
    }
    println!("installing {requirement} into {}", venv.display());
    std::fs::create_dir_all(tools_dir())?;
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 -m venv (is python3 installed?)")?;
    if !status.success() {
        bail!("python3 -m venv {} failed", venv.display());
    }
    let status = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ])
        .status()
        .with_context(|| format!("running pip install {requirement}"))?;
    if !status.success() {
        bail!("pip install {requirement} failed");
    }
    std::fs::write(&marker, version)?;
    Ok(program)
}

/// Runs moto handling one request at a time: its threaded server copies and restores
/// tables around a DynamoDB transaction without a lock, so concurrent transactions
/// (which the tests race on purpose) are not isolated as they are in AWS.
const SERIAL_MOTO: &str = r#"
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.moto_server.utilities import RegexConverter  # noqa: F401 (registers converters)
from moto.server import MotoRequestHandler
app = DomainDispatcherApplication(create_backend_app)
run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=False, request_handler=MotoRequestHandler)
"#;

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> Result<Self> {
        let server = ensure_moto()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(tools_dir().join("moto.log"))?;
        let python = server.with_file_name("python");
        let child = Command::new(&python)
            .args(["-c", SERIAL_MOTO, &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting moto with {}", python.display()))?;
        let moto = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "moto did not start within 60 s (see {})",
                    tools_dir().join("moto.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("moto server {MOTO_VERSION} at {}", moto.url);
        Ok(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
