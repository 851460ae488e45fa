//! `cargo xtask <task>`: the project's developer tasks.
//!
//! - `cargo xtask dev [-- <serve args>]`: run the embedded default (`tempaccess serve`)
//!   on `127.0.0.1:8080` with its data in `target/dev-data`.
//! - `cargo xtask test [--quick]`: everything CI checks, stopping at the first failure;
//!   `--quick` skips the format and lint steps.

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use anyhow::{Context, Result, bail};

mod infra;
mod publish;
mod site;
mod tools;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  dev [-- <serve args>]   run `tempaccess serve` locally (default --addr 127.0.0.1:8080,
                          data in target/dev-data)
  test [--quick]          fmt check, clippy, build the binary, run every test;
                          --quick skips fmt and clippy
  site [--with-browser]   install the pinned trunk, wasm-bindgen-cli and binaryen when
                          missing and build the site (with Chromium for its tests)
  bench-site              build the site and print its wasm + js sizes, raw and gzip
  publish-site [--stack NAME]
                          build the site, write its config.json from the stack's
                          outputs, sync it to the site bucket, invalidate CloudFront
  bench-functions         the size of each function's bootstrap, raw and compressed
                          (after the `sam build` step of `cargo xtask test`)
  moto                    run the AWS emulator in the foreground and print the
                          TEMPACCESS_MOTO_URL to export for `cargo test`";

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match task.as_str() {
        "dev" => dev(rest),
        "test" => test(rest),
        "moto" => moto(),
        "site" => site::task(rest),
        "bench-site" => site::bench(),
        "publish-site" => publish::run(&Workspace::locate()?, rest),
        "check-bootstraps" => infra::check_bootstraps(&Workspace::locate()?),
        "bench-functions" => infra::bench(&Workspace::locate()?),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

// ---------------------------------------------------------------------------
// dev

fn dev(args: &[String]) -> Result<()> {
    let ws = Workspace::locate()?;
    let serve_args: Vec<String> = match args.split_first() {
        Some((first, rest)) if first == "--" => rest.to_vec(),
        _ => args.to_vec(),
    };
    build_site(&ws)?;
    serve(&ws, &serve_args)
}

/// Builds the static site before the server starts (`serve --site` serves it).
fn build_site(ws: &Workspace) -> Result<()> {
    site::build(ws).map(drop)
}

fn serve(ws: &Workspace, extra: &[String]) -> Result<()> {
    let data = ws.root.join("target").join("dev-data");
    std::fs::create_dir_all(&data)
        .with_context(|| format!("creating the data directory {}", data.display()))?;

    let mut cmd = ws.cargo();
    cmd.args([
        "run",
        "-p",
        "tempaccess-local",
        "--bin",
        "tempaccess",
        "--",
        "serve",
    ]);
    if !extra
        .iter()
        .any(|a| a == "--addr" || a.starts_with("--addr="))
    {
        cmd.args(["--addr", "127.0.0.1:8080"]);
    }
    if !extra
        .iter()
        .any(|a| a == "--data" || a.starts_with("--data="))
    {
        cmd.arg("--data").arg(&data);
    }
    if !extra
        .iter()
        .any(|a| a == "--site" || a.starts_with("--site="))
    {
        cmd.arg("--site").arg(site::dist_dir(ws));
    }
    cmd.args(extra);
    println!(
        "xtask dev: serving the embedded default (data in {})",
        data.display()
    );
    run(cmd)
}

// ---------------------------------------------------------------------------
// moto

/// Runs the AWS emulator until Ctrl-C, for running single tests by hand.
fn moto() -> Result<()> {
    let moto = tools::Moto::start()?;
    println!("export TEMPACCESS_MOTO_URL={}", moto.url);
    println!("(Ctrl-C to stop)");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

// ---------------------------------------------------------------------------
// test

/// One step of `cargo xtask test`. Steps run in order; the first failure stops the run.
struct Step {
    name: &'static str,
    /// Whether `--quick` runs this step too.
    quick: bool,
    /// Whether the step runs tests whose results count toward the closing line.
    counts_tests: bool,
    command: Command,
}

/// Tests passed and failed over every counting step, from cargo's `test result:` lines.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn read(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(n)) = (words.next(), words.next()) else {
                continue;
            };
            let n: u64 = n.parse().unwrap_or(0);
            match label {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                _ => {}
            }
        }
    }
}

fn test(args: &[String]) -> Result<()> {
    let mut quick = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            other => bail!("unknown option `{other}` for `cargo xtask test`\n\n{USAGE}"),
        }
    }
    let ws = Workspace::locate()?;
    // The AWS adapters are tested over the wire against the emulator.
    let moto = tools::Moto::start()?;
    let steps: Vec<Step> = test_steps(&ws, &moto.url)?
        .into_iter()
        .filter(|s| s.quick || !quick)
        .collect();
    let total = steps.len();
    let mut tally = Tally::default();
    for (i, step) in steps.into_iter().enumerate() {
        println!("\n==> [{}/{total}] {}", i + 1, step.name);
        let outcome = if step.counts_tests {
            run_counting(step.command, &mut tally)
        } else {
            run(step.command)
        };
        outcome.with_context(|| format!("step failed: {}", step.name))?;
    }
    println!("\n==> all {total} steps passed");
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

/// The packages whose binaries the tests run: the local binary and the five functions.
const BINARIES: [&str; 6] = [
    "tempaccess-local",
    "tempaccess-request",
    "tempaccess-decide",
    "tempaccess-cancel",
    "tempaccess-report",
    "tempaccess-revoke",
];

/// The HTTP end-to-end suites, run on every backend.
const E2E_SUITES: [&str; 4] = ["e2e_workflow", "e2e_rules", "e2e_authz", "e2e_input"];

/// The steps of `cargo xtask test`, in order. New checks are appended here.
fn test_steps(ws: &Workspace, moto_url: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();

    let mut fmt = ws.cargo();
    fmt.args(["fmt", "--all", "--check"]);
    steps.push(Step {
        name: "format check",
        quick: false,
        counts_tests: false,
        command: fmt,
    });

    let mut clippy = ws.cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    steps.push(Step {
        name: "clippy",
        quick: false,
        counts_tests: false,
        command: clippy,
    });

    let mut build = ws.cargo();
    build.args(["build"]);
    for package in BINARIES {
        build.args(["-p", package]);
    }
    steps.push(Step {
        name: "build the tempaccess binary and the Lambda functions",
        quick: true,
        counts_tests: false,
        command: build,
    });

    steps.push(site::build_step(ws));

    let mut tests = ws.cargo();
    tests.args(["test", "--workspace"]);
    site::browser_env(&mut tests, ws);
    tests.env("TEMPACCESS_BIN", ws.bin("tempaccess"));
    tests.env("TEMPACCESS_MOTO_URL", moto_url);
    steps.push(Step {
        name: "tests",
        quick: true,
        counts_tests: true,
        command: tests,
    });
    steps.extend(site::wasm_steps(ws));

    // The same HTTP end-to-end suites, on `serve --backend aws` against the emulator.
    let mut e2e_aws = ws.cargo();
    e2e_aws.args(["test", "-p", "tempaccess-tests"]);
    for suite in E2E_SUITES {
        e2e_aws.args(["--test", suite]);
    }
    e2e_aws.env("TEMPACCESS_BIN", ws.bin("tempaccess"));
    e2e_aws.env("TEMPACCESS_MOTO_URL", moto_url);
    e2e_aws.env("TEMPACCESS_E2E_BACKEND", "aws");
    steps.push(Step {
        name: "end-to-end suites on the AWS adapters (moto)",
        quick: true,
        counts_tests: true,
        command: e2e_aws,
    });

    steps.extend(infra::steps(ws)?);
    steps.extend(infra::build_steps(ws)?);

    Ok(steps)
}

// ---------------------------------------------------------------------------
// helpers

struct Workspace {
    root: PathBuf,
    target_dir: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Self> {
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .context("CARGO_MANIFEST_DIR is not set: run this through `cargo xtask`")?;
        let root = manifest_dir
            .parent()
            .context("xtask is expected to live one level below the workspace root")?
            .to_path_buf();
        let target_dir = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => root.join(dir),
            _ => root.join("target"),
        };
        Ok(Self { root, target_dir })
    }

    /// A `cargo` command run from the workspace root.
    fn cargo(&self) -> Command {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.root);
        cmd
    }

    /// Path of a binary built by `cargo build` (dev profile).
    fn bin(&self, name: &str) -> PathBuf {
        self.target_dir
            .join("debug")
            .join(format!("{name}{}", env::consts::EXE_SUFFIX))
    }
}

fn run(mut cmd: Command) -> Result<()> {
    println!("$ {}", describe(&cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", describe(&cmd)))?;
    if !status.success() {
        bail!("`{}` exited with {status}", describe(&cmd));
    }
    Ok(())
}

/// Runs a test command, echoing its output and counting its results.
fn run_counting(mut cmd: Command, tally: &mut Tally) -> Result<()> {
    use std::io::{BufRead, BufReader};
    println!("$ {}", describe(&cmd));
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{}`", describe(&cmd)))?;
    let stdout = child.stdout.take().context("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        tally.read(&line);
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{}` exited with {status}", describe(&cmd));
    }
    Ok(())
}

/// The command as a shell-like line, with the environment it sets.
fn describe(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    let program = Path::new(cmd.get_program());
    let program = if program.file_stem().is_some_and(|s| s == "cargo") {
        "cargo".to_string()
    } else {
        program.display().to_string()
    };
    parts.push(program);
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
