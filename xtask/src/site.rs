//! The site (`web/`): its pinned build tools, its offline trunk build, the browsers
//! its tests drive, and its bundle size.
//!
//! Tools go to [`tools::tools_dir`] and are skipped when the pinned version is there:
//! - trunk [`TRUNK_VERSION`] (`cargo install --locked`);
//! - wasm-bindgen-cli at the `wasm-bindgen` version of `Cargo.lock` (without
//!   `--locked`: its own lockfile pins a crate the registry no longer serves); it also
//!   brings `wasm-bindgen-test-runner` for the component tests;
//! - binaryen [`BINARYEN_VERSION`] from npm, whose `wasm-opt` trunk accepts as `version_132`;
//! - Chromium and chromedriver from apt, for the browser tests.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::tools::tools_dir;
use crate::{Step, Workspace, run};

/// The trunk that builds the site (newer ones need a newer rustc).
pub const TRUNK_VERSION: &str = "0.21.14";
/// The binaryen whose `wasm-opt` shrinks the wasm.
pub const BINARYEN_VERSION: &str = "132.0.0";
/// Where apt puts the browser and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where apt puts chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The zone the component tests' browser runs in: not UTC, with summer time.
pub const TEST_TZ: &str = "America/New_York";

/// `cargo xtask site [--with-browser]`: installs what is missing and builds the site.
pub fn task(args: &[String]) -> Result<()> {
    let ws = Workspace::locate()?;
    let mut browser = false;
    for arg in args {
        match arg.as_str() {
            "--with-browser" => browser = true,
            other => bail!("unknown option `{other}` for `cargo xtask site`"),
        }
    }
    if browser {
        ensure_chromium()?;
    }
    build(&ws)?;
    Ok(())
}

/// Where the built site goes: `<target>/site`.
pub fn dist_dir(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("site")
}

pub(crate) fn cargo_bin() -> PathBuf {
    tools_dir().join("cargo").join("bin")
}

fn binaryen_dir() -> PathBuf {
    tools_dir().join(format!("binaryen-{BINARYEN_VERSION}"))
}

/// `PATH` with the pinned tools first.
pub fn tool_path() -> Result<OsString> {
    let mut dirs = vec![
        cargo_bin(),
        binaryen_dir().join("node_modules").join(".bin"),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).context("building PATH for the site tools")
}

/// Whether `program --version` prints `expected`.
pub(crate) fn has_version(program: &Path, expected: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(expected))
}

/// The `wasm-bindgen` version in `Cargo.lock`: the CLI must be the same.
pub fn wasm_bindgen_version(ws: &Workspace) -> Result<String> {
    let lock = std::fs::read_to_string(ws.root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            let version = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
                .context("no version after wasm-bindgen in Cargo.lock")?;
            return Ok(version.to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen: is web/ in the workspace?")
}

/// `cargo install` into the tools dir, in a throwaway build dir (never the shared one).
pub(crate) fn cargo_install(
    ws: &Workspace,
    krate: &str,
    version: &str,
    locked: bool,
) -> Result<()> {
    let root = tools_dir().join("cargo");
    std::fs::create_dir_all(&root)?;
    println!("installing {krate} {version} into {}", root.display());
    let mut cmd = ws.cargo();
    cmd.current_dir(tools_dir())
        .env_remove("CARGO_TARGET_DIR")
        .args(["install", krate, "--version", version, "--root"])
        .arg(&root);
    if locked {
        cmd.arg("--locked");
    }
    let started = std::time::Instant::now();
    run(cmd)?;
    println!("installed {krate} {version} in {:.0?}", started.elapsed());
    Ok(())
}

fn ensure_trunk(ws: &Workspace) -> Result<()> {
    if has_version(
        &cargo_bin().join("trunk"),
        &format!("trunk {TRUNK_VERSION}"),
    ) {
        return Ok(());
    }
    cargo_install(ws, "trunk", TRUNK_VERSION, true)
}

fn ensure_wasm_bindgen(ws: &Workspace) -> Result<()> {
    let version = wasm_bindgen_version(ws)?;
    let wanted = format!("wasm-bindgen {version}");
    if has_version(&cargo_bin().join("wasm-bindgen"), &wanted)
        && cargo_bin().join("wasm-bindgen-test-runner").is_file()
    {
        return Ok(());
    }
    cargo_install(ws, "wasm-bindgen-cli", &version, false)
}

fn ensure_binaryen() -> Result<()> {
    let dir = binaryen_dir();
    let wasm_opt = dir.join("node_modules").join(".bin").join("wasm-opt");
    let major = BINARYEN_VERSION
        .split('.')
        .next()
        .unwrap_or(BINARYEN_VERSION);
    if has_version(&wasm_opt, &format!("version_{major}")) {
        return Ok(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        apt_install(&["npm"])?;
    }
    std::fs::create_dir_all(&dir)?;
    println!(
        "installing binaryen {BINARYEN_VERSION} from npm into {}",
        dir.display()
    );
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("binaryen@{BINARYEN_VERSION}"));
    run(npm)
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update).context("apt-get update (the tools need root and the Debian mirror)")?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y"]).args(packages);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// Chromium and chromedriver for the browser and component tests.
pub fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// Every tool the site's build and tests need.
pub fn ensure_tools(ws: &Workspace) -> Result<()> {
    ensure_trunk(ws)?;
    ensure_wasm_bindgen(ws)?;
    ensure_binaryen()
}

/// Builds the site with trunk (release, offline) into [`dist_dir`] and returns it.
pub fn build(ws: &Workspace) -> Result<PathBuf> {
    ensure_tools(ws)?;
    let version = wasm_bindgen_version(ws)?;
    let trunk_toml = std::fs::read_to_string(ws.root.join("web").join("Trunk.toml"))
        .context("reading web/Trunk.toml")?;
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{version}\"")) {
        bail!("web/Trunk.toml must pin wasm_bindgen = \"{version}\", the version in Cargo.lock");
    }
    let dist = dist_dir(ws);
    let mut trunk = Command::new(cargo_bin().join("trunk"));
    trunk
        .current_dir(ws.root.join("web"))
        .env("PATH", tool_path()?)
        .env("CARGO_TARGET_DIR", &ws.target_dir)
        // wasm-bindgen reads the wasm features rustc enabled from a custom section that
        // the workspace's `strip = true` would remove; wasm-opt strips it afterwards.
        .env("CARGO_PROFILE_RELEASE_STRIP", "false")
        .args(["build", "--release", "--dist"])
        .arg(&dist);
    let started = std::time::Instant::now();
    run(trunk)?;
    println!(
        "built the site into {} in {:.0?}",
        dist.display(),
        started.elapsed()
    );
    Ok(dist)
}

/// The test steps of the site: its build (with the browsers) before the workspace's
/// tests, which then find it through [`browser_env`].
pub fn build_step(ws: &Workspace) -> Step {
    let mut cmd = ws.cargo();
    cmd.args(["xtask", "site", "--with-browser"]);
    Step {
        name: "build the site (installing trunk, wasm-bindgen, binaryen, Chromium when missing)",
        quick: true,
        counts_tests: false,
        command: cmd,
    }
}

/// What the browser tests read: the built site and the browser.
pub fn browser_env(cmd: &mut Command, ws: &Workspace) {
    cmd.env("TEMPACCESS_SITE_DIR", dist_dir(ws))
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("CHROMIUM", CHROMIUM);
}

/// The site's own checks: clippy for wasm32, and the component tests in headless
/// Chromium (`wasm-bindgen-test-runner`, the runner `.cargo/config.toml` names).
pub fn wasm_steps(ws: &Workspace) -> Vec<Step> {
    let mut clippy = ws.cargo();
    clippy.args([
        "clippy",
        "-p",
        "tempaccess-web",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    let mut tests = ws.cargo();
    tests
        .args([
            "test",
            "-p",
            "tempaccess-web",
            "--target",
            "wasm32-unknown-unknown",
            "--tests",
        ])
        .env("PATH", tool_path().unwrap_or_default())
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("TZ", TEST_TZ)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    vec![
        Step {
            name: "clippy for the site (wasm32)",
            quick: false,
            counts_tests: false,
            command: clippy,
        },
        Step {
            name: "site component tests (wasm-bindgen-test in headless Chromium)",
            quick: true,
            counts_tests: true,
            command: tests,
        },
    ]
}

/// `cargo xtask bench-site`: builds the site and prints the wasm and JavaScript sizes,
/// raw and gzip (`gzip -9`), as the table in BENCHMARKS.md.
pub fn bench() -> Result<()> {
    let ws = Workspace::locate()?;
    let dist = build(&ws)?;
    let mut rows = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dist)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js")))
        .collect();
    files.sort();
    let (mut raw_total, mut gz_total) = (0u64, 0u64);
    for file in &files {
        let raw = std::fs::metadata(file)?.len();
        let output = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(file)
            .output()
            .context("running gzip")?;
        if !output.status.success() {
            bail!("gzip failed on {}", file.display());
        }
        let gz = output.stdout.len() as u64;
        raw_total += raw;
        gz_total += gz;
        let kind = if file.extension().is_some_and(|e| e == "wasm") {
            "wasm"
        } else {
            "js"
        };
        rows.push(format!("| {kind} | {} | {} |", kib(raw), kib(gz)));
    }
    println!("\n| file | raw | gzip -9 |\n|---|---:|---:|");
    for row in rows {
        println!("{row}");
    }
    println!("| wasm + js | {} | {} |", kib(raw_total), kib(gz_total));
    Ok(())
}

fn kib(bytes: u64) -> String {
    format!("{bytes} B ({:.1} KiB)", bytes as f64 / 1024.0)
}
