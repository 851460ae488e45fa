//! `cargo xtask bench-setup`: how long the README's two commands take on a fresh
//! machine and again once warm, as BENCHMARKS.md records them.
//!
//! Cold means a fresh clone of the committed tree, an empty build directory, an empty
//! tools directory, empty cargo, pip and npm caches, and no wasm target (it is removed
//! from a copy of the toolchain in a `RUSTUP_HOME` of the fresh state's own, as on a
//! machine that had `stable` before this project; the machine's toolchain, and any
//! build running on it meanwhile, keep theirs). Each
//! cold figure starts from such a state of its own; each warm figure repeats the same
//! command at once, with nothing changed.
//!
//! - `cargo xtask dev`: from the command to the first page served (`GET /` answers the
//!   built site);
//! - `cargo xtask test`: the whole run.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::Workspace;
use crate::site::WASM_TARGET;

/// A fresh machine's state for the project, in a folder of its own.
struct Fresh {
    root: PathBuf,
    clone: PathBuf,
}

impl Fresh {
    /// Clones the committed tree and removes the wasm target.
    fn new(ws: &Workspace, name: &str) -> Result<Self> {
        let root =
            std::env::temp_dir().join(format!("tempaccess-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)?;
        let clone = root.join("clone");
        let status = Command::new("git")
            .args(["clone", "--quiet"])
            .arg(&ws.root)
            .arg(&clone)
            .status()
            .context("git clone")?;
        if !status.success() {
            bail!("git clone failed");
        }
        let fresh = Self { root, clone };
        fresh.own_toolchain()?;
        // rustup says so when the target is not installed: that is fine.
        let _ = Command::new("rustup")
            .current_dir(&fresh.clone)
            .args(["target", "remove", WASM_TARGET])
            .env("RUSTUP_HOME", fresh.rustup_home())
            .stderr(Stdio::null())
            .status();
        Ok(fresh)
    }

    fn rustup_home(&self) -> PathBuf {
        self.root.join("rustup-home")
    }

    /// A `RUSTUP_HOME` holding the machine's default toolchain: its files hard-linked
    /// (removing a target unlinks them, leaving the machine's own), the files rustup
    /// rewrites in place copied.
    fn own_toolchain(&self) -> Result<()> {
        let machine = std::env::var_os("RUSTUP_HOME").map_or_else(
            || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".rustup"),
            PathBuf::from,
        );
        let home = self.rustup_home();
        std::fs::create_dir_all(home.join("toolchains"))?;
        let settings = std::fs::read_to_string(machine.join("settings.toml"))
            .context("reading rustup's settings.toml")?;
        std::fs::write(home.join("settings.toml"), &settings)?;
        let toolchain = settings
            .lines()
            .find_map(|l| l.strip_prefix("default_toolchain = "))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .context("rustup has no default toolchain")?;
        let from = machine.join("toolchains").join(&toolchain);
        let to = home.join("toolchains").join(&toolchain);
        let status = Command::new("cp")
            .arg("-al")
            .arg(&from)
            .arg(&to)
            .status()
            .context("cp -al")?;
        if !status.success() {
            bail!("could not link {} into {}", from.display(), to.display());
        }
        let rustlib = to.join("lib/rustlib");
        for file in std::fs::read_dir(&rustlib)? {
            let path = file?.path();
            if path.is_file() {
                let bytes = std::fs::read(&path)?;
                std::fs::remove_file(&path)?;
                std::fs::write(&path, bytes)?;
            }
        }
        Ok(())
    }

    /// `cargo xtask <args>` in the clone, with every cache of this fresh state.
    fn xtask(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&self.clone)
            .arg("xtask")
            .args(args)
            .env_remove("CARGO")
            .env_remove("CARGO_MANIFEST_DIR")
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .env("CARGO_HOME", self.root.join("cargo-home"))
            .env("RUSTUP_HOME", self.rustup_home())
            .env("TEMPACCESS_TOOLS", self.root.join("tools"))
            .env("PIP_CACHE_DIR", self.root.join("pip-cache"))
            .env("npm_config_cache", self.root.join("npm-cache"));
        cmd
    }
}

/// Runs `cargo xtask dev` until its first page is served; returns how long that took.
fn time_dev(fresh: &Fresh, log: &Path) -> Result<Duration> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let data = fresh.root.join("dev-data");
    let started = Instant::now();
    let mut child = fresh
        .xtask(&["dev", "--", "--addr", &addr, "--data"])
        .arg(&data)
        .stdout(std::fs::File::create(log)?)
        .stderr(std::fs::File::create(log.with_extension("err"))?)
        .process_group(0)
        .spawn()
        .context("starting cargo xtask dev")?;
    let outcome = loop {
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!(
                "cargo xtask dev stopped with {status} (see {})",
                log.display()
            ));
        }
        if first_page(port) {
            break Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(3600) {
            break Err(anyhow::anyhow!("no page within an hour"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // The whole group: cargo, xtask and the server.
    let _ = Command::new("kill")
        .args(["-s", "TERM", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    outcome
}

/// Whether `GET /` answers the built site (its loader script).
fn first_page(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") && answer.contains("src=\"/loader-")
}

fn time_test(fresh: &Fresh, log: &Path) -> Result<Duration> {
    let started = Instant::now();
    let status = fresh
        .xtask(&["test"])
        .stdout(std::fs::File::create(log)?)
        .stderr(std::fs::File::create(log.with_extension("err"))?)
        .status()
        .context("running cargo xtask test")?;
    if !status.success() {
        bail!("cargo xtask test failed (see {})", log.display());
    }
    Ok(started.elapsed())
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The task: `--dev-only` skips the two test runs, `--test-only` the two dev runs.
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let (mut with_dev, mut with_test) = (true, true);
    for arg in args {
        match arg.as_str() {
            "--dev-only" => with_test = false,
            "--test-only" => with_dev = false,
            other => bail!("unknown option `{other}` for `cargo xtask bench-setup`"),
        }
    }
    let logs = ws.target_dir.join("bench-setup");
    std::fs::create_dir_all(&logs)?;
    let mut rows = Vec::new();

    if with_dev {
        let dev = Fresh::new(ws, "dev")?;
        println!(
            "cold `cargo xtask dev` in {} (logs in {})",
            dev.clone.display(),
            logs.display()
        );
        let cold = time_dev(&dev, &logs.join("dev-cold.log"))?;
        rows.push(("`cargo xtask dev`, cold, to the first page", cold));
        let warm = time_dev(&dev, &logs.join("dev-warm.log"))?;
        rows.push(("`cargo xtask dev`, warm", warm));
        let _ = std::fs::remove_dir_all(&dev.root);
    }

    if with_test {
        let test = Fresh::new(ws, "test")?;
        println!("cold `cargo xtask test` in {}", test.clone.display());
        let cold = time_test(&test, &logs.join("test-cold.log"))?;
        rows.push(("`cargo xtask test`, cold", cold));
        let warm = time_test(&test, &logs.join("test-warm.log"))?;
        rows.push(("`cargo xtask test`, warm, nothing changed", warm));
        let _ = std::fs::remove_dir_all(&test.root);
    }

    println!("\n| what | measured |\n|---|---:|");
    for (what, took) in rows {
        println!("| {what} | {} |", minutes(took));
    }
    Ok(())
}
