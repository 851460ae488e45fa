//! Pinned tools, installed on first use into a shared directory (`TEMPACCESS_TOOLS`,
//! default `/var/tmp/tempaccess-tools`) and skipped when the pinned version is already
//! there; the prerequisites that cannot be installed from here; and the services the
//! tests talk to.
//!
//! Every tool comes prebuilt: Python packages (wheels) into a virtual environment each,
//! npm packages into a folder each, Chromium from Debian's packages. Nothing is
//! compiled from source.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::run;

/// The AWS emulator the adapters are tested against.
pub const MOTO_VERSION: &str = "5.2.5";
/// Where Debian's package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's package puts chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where pinned tools live.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("TEMPACCESS_TOOLS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tempaccess-tools"))
}

/// Whether `program` runs at all.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops with `hint` (one line saying what to install) when `program` is missing.
pub fn require(program: &str, hint: &str) -> Result<()> {
    if runs(program, &["--version"]) {
        Ok(())
    } else {
        bail!("{hint}")
    }
}

/// Python 3 with its `venv` module: the emulator and the template's tools are
/// Python packages.
pub fn require_python() -> Result<()> {
    if runs("python3", &["-c", "import venv, ensurepip"]) {
        Ok(())
    } else {
        bail!("python3 with venv is missing: install it (apt-get install python3 python3-venv)")
    }
}

/// npm: binaryen comes from the npm registry.
pub fn require_npm() -> Result<()> {
    require(
        "npm",
        "npm is missing: install Node.js and npm (apt-get install nodejs npm)",
    )
}

/// Whether `program args…` prints `expected` on stdout.
pub fn prints_version(program: &Path, args: &[&str], expected: &str) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(expected))
}

/// A virtual environment `<name>-<version>` in the tools directory with
/// `requirements` installed (pip prefers prebuilt wheels); returns its `bin` directory. Skipped when a
/// previous install completed.
pub fn ensure_venv(name: &str, version: &str, requirements: &[&str]) -> Result<PathBuf> {
    let venv = tools_dir().join(format!("{name}-{version}"));
    let bin = venv.join("bin");
    let marker = venv.join(".installed");
    if marker.is_file() {
        return Ok(bin);
    }
    require_python()?;
    println!(
        "installing {} into {}",
        requirements.join(" "),
        venv.display()
    );
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(tools_dir())?;
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    run(create).context("creating a Python virtual environment")?;
    let mut pip = Command::new(bin.join("pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check"])
        .args(requirements);
    run(pip).with_context(|| format!("pip install {}", requirements.join(" ")))?;
    std::fs::write(&marker, version)?;
    println!("installed {name} {version} in {:.0?}", started.elapsed());
    Ok(bin)
}

/// An npm package into `dir` (its programs in `dir/node_modules/.bin`).
pub fn npm_install(dir: &Path, package: &str) -> Result<()> {
    require_npm()?;
    std::fs::create_dir_all(dir)?;
    println!("installing {package} from npm into {}", dir.display());
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .arg(package);
    run(npm)
}

/// Debian packages, as root.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update).context("apt-get update (installing needs root and the Debian mirror)")?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// Chromium and chromedriver for the browser tests, from Debian's packages.
pub fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// The accessibility engine the browser tests run in each page.
pub const AXE_CORE_VERSION: &str = "4.14.1";

/// Where axe-core's script lives once installed.
pub fn axe_core_script() -> PathBuf {
    tools_dir()
        .join(format!("axe-core-{AXE_CORE_VERSION}"))
        .join("node_modules")
        .join("axe-core")
        .join("axe.min.js")
}

/// axe-core from npm (its one script, run in the page by the browser tests), unless the
/// pinned version is there.
pub fn ensure_axe_core() -> Result<()> {
    let script = axe_core_script();
    let installed = script
        .parent()
        .map(|d| d.join("package.json"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|json| json.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")));
    if installed && script.is_file() {
        return Ok(());
    }
    let dir = tools_dir().join(format!("axe-core-{AXE_CORE_VERSION}"));
    npm_install(&dir, &format!("axe-core@{AXE_CORE_VERSION}"))
}

/// A Python virtual environment with `moto[server]` at the pinned version.
pub fn ensure_moto() -> Result<PathBuf> {
    ensure_venv(
        "moto",
        MOTO_VERSION,
        &[&format!("moto[server]=={MOTO_VERSION}")],
    )
}

/// Runs moto handling one request at a time: its threaded server copies and restores
/// tables around a DynamoDB transaction without a lock, so concurrent transactions
/// (which the tests race on purpose) are not isolated as they are in AWS.
///
/// One route is added: `GET /tempaccess/ses-messages[?source=…]`, the sent mail alone,
/// in the shape moto's `/moto-api/data.json` gives it under `ses.Message`. The tests
/// read mail often, and `data.json` serialises every model of every service, so it
/// slows down as the shared emulator fills.
const SERIAL_MOTO: &str = r#"
import json, sys
from urllib.parse import parse_qs
from werkzeug.serving import run_simple
from moto.core.model_instances import model_data
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.moto_server.utilities import RegexConverter  # noqa: F401 (registers converters)
from moto.server import MotoRequestHandler

def ses_messages(source):
    model = model_data.get("ses", {}).get("Message")
    found = []
    for message in (model.instances_tracked if model else []):
        item = {}
        for attr in dir(message):
            if attr.startswith("_"):
                continue
            try:
                value = getattr(message, attr)
                json.dumps(value)
            except (TypeError, AttributeError, ValueError):
                continue
            item[attr] = value
        if source is None or item.get("source") == source:
            found.append(item)
    return found

moto_app = DomainDispatcherApplication(create_backend_app)

def app(environ, start_response):
    if environ.get("PATH_INFO") == "/tempaccess/ses-messages":
        source = parse_qs(environ.get("QUERY_STRING", "")).get("source", [None])[0]
        body = json.dumps(ses_messages(source)).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    return moto_app(environ, start_response)

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
        let bin = ensure_moto()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log_path = tools_dir().join("moto.log");
        let log = std::fs::File::create(&log_path)?;
        let python = bin.join("python");
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
                    log_path.display()
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
