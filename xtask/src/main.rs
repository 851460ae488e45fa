//! `cargo xtask <task>`: the project's developer tasks. Each installs what it needs
//! (pinned, prebuilt) on a fresh machine with Rust, and stops at once with one line
//! when a prerequisite it cannot install is missing.

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use anyhow::{Context, Result, bail};

mod bench;
mod bench_first;
mod bench_init;
mod bench_setup;
mod dev;
mod fuzz;
mod infra;
mod publish;
mod site;
mod site_config;
mod soak;
mod stack;
mod test;
mod tools;
mod wasm_sizes;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  dev [-- <serve args>]   build the site and run `tempaccess serve` (the embedded default)
                          on http://127.0.0.1:8080, data in target/dev-data
  test [--quick] [--only <stage>[,<stage>…]]
                          every check CI runs, stopping at the first failure. Stages, in
                          order: lint, unit, e2e, browser, aws, infra, package, stack.
                          --quick runs unit, e2e and browser (no lint, no emulator, no
                          template checks, no Lambda packages); --only runs the stages named
  site [--with-browser] [--breakdown]
                          build the site into <target>/site (with Chromium and axe-core
                          for its tests); --breakdown: build it with names kept into
                          <target>/site-names and print its code by crate and function
  publish-site [--stack NAME]
                          build the site, write its config.json from the stack's
                          outputs, sync it to the site bucket, invalidate CloudFront
  bench [--print] [--runs N] [--beside DIR] [packages|site|tti|calls|init|first|reports|usecases]…
                          measure each function's package (`sam build` first when the
                          sources changed), the site's wasm + js, the site's first page
                          on a throttled Fast 3G network, the AWS calls, capacity and
                          cost of each operation (on the emulator), each function's init
                          beside a hello-world function's and each route's first
                          invocation after init (on the emulator), reports over 100,000
                          requests, the use cases in process, and rewrite their tables in
                          BENCHMARKS.md (--print: only print them; --runs: of each
                          binary for init, 20 by default, and of the workflow for
                          first, 5; --beside: also the bootstraps in DIR/<function>/,
                          another build's, in the same run)
  bench-setup [--dev-only | --test-only]
                          time `cargo xtask dev` (to the first page) and `cargo xtask test`
                          on a fresh clone with empty build, tools and caches and no wasm
                          target, then again warm (the table in BENCHMARKS.md)
  check-bootstraps        fail unless every `sam build` bootstrap is an arm64 executable
  soak [--kills N] [--fault-workflows N] [--race-rounds N] [--load-seconds N] [--aws]
                          the long runs behind RELIABILITY.md: the server SIGKILLed N
                          times under load (25), a seeded fault schedule over N workflows
                          (2000), the races N times (20), the load for N seconds (60);
                          --aws runs the races and the load on the emulator too
  fuzz [--cases N] [--seconds S]
                          the property targets of the suite (arbitrary bodies, query
                          strings and ids against each router; the CSV report and the
                          mails from arbitrary text) run long: N cases a round (10000),
                          rounds for S seconds per target (60), from a fresh seed
  moto                    run the AWS emulator in the foreground and print the
                          TEMPACCESS_MOTO_URL to export for `cargo test`
  stack [--port N] [--rate-speed N] [--no-build]
                          the deployed stack on this machine: infra/template.yaml on the
                          AWS emulator, the sam-built functions (under qemu), the HTTP
                          API, hosted UI and site at http://localhost:8400 (API on N+1,
                          hosted UI on N+2, mail and invocations on N+3), schedules
                          firing; prints the demo people";

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
        "dev" => dev::run(&Workspace::locate()?, rest),
        "test" => test::run(&Workspace::locate()?, rest),
        "moto" => moto(),
        "stack" => stack::task(&Workspace::locate()?, rest),
        "site" => site::task(rest),
        "publish-site" => publish::run(&Workspace::locate()?, rest),
        "check-bootstraps" => infra::check_bootstraps(&Workspace::locate()?),
        "bench" => bench::run(&Workspace::locate()?, rest),
        "bench-setup" => bench_setup::run(&Workspace::locate()?, rest),
        "soak" => soak::run_soak(&Workspace::locate()?, rest),
        "fuzz" => fuzz::run_fuzz(&Workspace::locate()?, rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// Runs the AWS emulator until Ctrl-C, for running single tests by hand.
fn moto() -> Result<()> {
    let moto = tools::Moto::start()?;
    println!("export TEMPACCESS_MOTO_URL={}", moto.url);
    println!("(Ctrl-C to stop)");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// One step of a task: a command, and whether it runs tests whose results count
/// toward the closing line of `cargo xtask test`.
pub struct Step {
    name: &'static str,
    command: Command,
    counts_tests: bool,
}

impl Step {
    /// A step that runs `command`.
    pub fn new(name: &'static str, command: Command) -> Self {
        Self {
            name,
            command,
            counts_tests: false,
        }
    }

    /// A step whose `test result:` lines are counted.
    pub fn tests(name: &'static str, command: Command) -> Self {
        Self {
            name,
            command,
            counts_tests: true,
        }
    }
}

/// The workspace: its root and its build directory.
pub struct Workspace {
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
    ///
    /// Without the variables `cargo run` set for xtask itself (its manifest, its
    /// package): build scripts that read them would otherwise see another crate than
    /// in a cargo command typed by hand, and build again each time.
    fn cargo(&self) -> Command {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.root);
        for (var, _) in env::vars_os() {
            let var = var.to_string_lossy();
            if var.starts_with("CARGO_MANIFEST_") || var.starts_with("CARGO_PKG_") {
                cmd.env_remove(var.as_ref());
            }
        }
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

/// The command as a shell-like line, with the environment it sets.
fn describe(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter(|(k, _)| *k != "PATH")
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
