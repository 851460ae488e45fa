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
    let venv = tools_dir().join(format!("moto-{MOTO_VERSION}"));
    let server = venv.join("bin").join("moto_server");
    let marker = venv.join(".installed");
    if server.is_file() && marker.is_file() {
        return Ok(server);
    }
    println!("installing moto {MOTO_VERSION} into {}", venv.display());
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
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("moto[server]=={MOTO_VERSION}"))
        .status()
        .context("running pip install moto")?;
    if !status.success() {
        bail!("pip install moto[server]=={MOTO_VERSION} failed");
    }
    std::fs::write(&marker, MOTO_VERSION)?;
    Ok(server)
}

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
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
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
