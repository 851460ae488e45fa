//! `cargo xtask test`: every check CI runs, in stages, stopping at the first failure.
//!
//! | stage | what |
//! |---|---|
//! | lint | `cargo fmt --check`, clippy on the host and for wasm32 |
//! | unit | every crate's own tests (domain, routers, site logic, tasks) |
//! | e2e | the HTTP suites on `tempaccess serve` (SQLite), the use cases in process, the Store contract on SQLite |
//! | browser | the site in headless Chromium |
//! | aws | the AWS emulator: adapters, Store contract on DynamoDB, Lambda handlers and binaries, the HTTP suites on `serve --backend aws` |
//! | infra | the template: SAM transform, cfn-lint, checkov, and its agreement with the code (each function's calls recorded on the emulator) |
//! | package | `sam build` of every function for arm64, and their sizes and init times (`cargo xtask bench --print --runs 3 packages init`), each route's first invocation (`cargo xtask bench --print --runs 1 first`) |
//! | stack | the deployed stack (`cargo xtask stack`) on the emulator: the workflow in Chromium through Cognito-issued tokens, the fronts, reports and the documented table queries |
//!
//! Each stage installs only what it needs, so `--only` and `--quick` start no emulator
//! and install no tool that their stages do not use.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::tools::Moto;
use crate::{Step, USAGE, Workspace, describe, infra, site, stack};

/// A stage of the test run, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Lint,
    Unit,
    E2e,
    Browser,
    Aws,
    Infra,
    Package,
    Stack,
}

impl Stage {
    const ALL: [Stage; 8] = [
        Self::Lint,
        Self::Unit,
        Self::E2e,
        Self::Browser,
        Self::Aws,
        Self::Infra,
        Self::Package,
        Self::Stack,
    ];
    /// What `--quick` runs.
    const QUICK: [Stage; 3] = [Self::Unit, Self::E2e, Self::Browser];

    fn name(self) -> &'static str {
        match self {
            Self::Lint => "lint",
            Self::Unit => "unit",
            Self::E2e => "e2e",
            Self::Browser => "browser",
            Self::Aws => "aws",
            Self::Infra => "infra",
            Self::Package => "package",
            Self::Stack => "stack",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .with_context(|| format!("unknown stage `{s}`\n\n{USAGE}"))
    }

    /// Whether the stage runs the built `tempaccess` and function binaries.
    fn needs_binaries(self) -> bool {
        matches!(self, Self::E2e | Self::Browser | Self::Aws)
    }
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

/// Which stages the arguments ask for.
fn selected(args: &[String]) -> Result<Vec<Stage>> {
    let mut quick = false;
    let mut only: Vec<Stage> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => {
                let list = rest.next().context("--only needs a stage")?;
                for name in list.split(',') {
                    only.push(Stage::parse(name.trim())?);
                }
            }
            other => match other.strip_prefix("--only=") {
                Some(list) => {
                    for name in list.split(',') {
                        only.push(Stage::parse(name.trim())?);
                    }
                }
                None => bail!("unknown option `{other}` for `cargo xtask test`\n\n{USAGE}"),
            },
        }
    }
    if quick && !only.is_empty() {
        bail!("give --quick or --only, not both");
    }
    let wanted: Vec<Stage> = if quick {
        Stage::QUICK.to_vec()
    } else if only.is_empty() {
        Stage::ALL.to_vec()
    } else {
        only
    };
    Ok(Stage::ALL
        .into_iter()
        .filter(|s| wanted.contains(s))
        .collect())
}

/// The task.
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let stages = selected(args)?;
    let skipped: Vec<&str> = Stage::ALL
        .into_iter()
        .filter(|s| !stages.contains(s))
        .map(Stage::name)
        .collect();
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    println!("==> stages: {}", names.join(", "));
    if !skipped.is_empty() {
        println!("    skipped: {}", skipped.join(", "));
    }
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut built = false;
    for stage in stages {
        let stage_started = Instant::now();
        println!("\n==> stage {}", stage.name());
        if stage.needs_binaries() && !built {
            run_step(build_binaries(ws), &mut tally)?;
            built = true;
        }
        // Held for the stage: the emulator (and the stack) stop when the stage ends.
        let mut _moto = None;
        let mut _stack = None;
        let steps = match stage {
            Stage::Lint => lint(ws)?,
            Stage::Unit => unit(ws),
            Stage::E2e => e2e(ws),
            Stage::Browser => browser(ws),
            Stage::Aws => {
                let moto = Moto::start()?;
                let steps = aws(ws, &moto.url);
                _moto = Some(moto);
                steps
            }
            Stage::Infra => {
                // The permission check records each function's calls on the emulator.
                let moto = Moto::start()?;
                let steps = infra(ws, &moto.url)?;
                _moto = Some(moto);
                steps
            }
            Stage::Package => {
                let mut steps = infra::build_steps(ws)?;
                // Measured each run so the benchmark never rots; sizes and times are not
                // asserted.
                let mut bench = ws.cargo();
                bench.args([
                    "xtask", "bench", "--print", "--runs", "3", "packages", "init",
                ]);
                steps.push(Step::new(
                    "the packages' sizes and init times (measured, not asserted)",
                    bench,
                ));
                let mut first = ws.cargo();
                first.args(["xtask", "bench", "--print", "--runs", "1", "first"]);
                steps.push(Step::new(
                    "each route's first invocation after init, on the emulator (measured, not asserted)",
                    first,
                ));
                steps
            }
            Stage::Stack => {
                let running = stack::start(ws, &stack::Options::for_tests())?;
                let steps = stack::test_steps(ws, &running)?;
                _stack = Some(running);
                steps
            }
        };
        for step in steps {
            run_step(step, &mut tally)?;
        }
        println!(
            "==> stage {} passed in {:.0?}",
            stage.name(),
            stage_started.elapsed()
        );
    }
    println!("\n==> every stage passed in {:.0?}", started.elapsed());
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

fn run_step(step: Step, tally: &mut Tally) -> Result<()> {
    println!("--> {}", step.name);
    let name = step.name;
    if step.counts_tests {
        run_counting(step.command, tally)
    } else {
        crate::run(step.command)
    }
    .with_context(|| format!("step failed: {name}"))
}

/// Runs a test command, echoing its output and counting its results.
fn run_counting(mut cmd: Command, tally: &mut Tally) -> Result<()> {
    println!("$ {}", describe(&cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
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

/// The binaries the tests run: the local binary and the five functions.
const BINARIES: [&str; 6] = [
    "tempaccess",
    "tempaccess-request",
    "tempaccess-decide",
    "tempaccess-cancel",
    "tempaccess-report",
    "tempaccess-revoke",
];

fn build_binaries(ws: &Workspace) -> Step {
    let mut build = ws.cargo();
    build.args(["build", "--workspace"]);
    for bin in BINARIES {
        build.args(["--bin", bin]);
    }
    Step::new(
        "build the tempaccess binary and the Lambda functions",
        build,
    )
}

/// A `cargo test` of one suite family of the tests crate, with what the suites read.
///
/// Every cargo command of the run selects `--workspace` (and narrows by target), so
/// features unify the same way each time and no dependency is built twice.
pub(crate) fn suite(ws: &Workspace, name: &str) -> Command {
    let mut cmd = ws.cargo();
    cmd.args(["test", "--workspace", "--test", name]);
    cmd.env("TEMPACCESS_BIN", ws.bin("tempaccess"));
    cmd
}

fn lint(ws: &Workspace) -> Result<Vec<Step>> {
    // Clippy for wasm32 needs the target's standard library.
    site::ensure_wasm_target(ws)?;
    let mut fmt = ws.cargo();
    fmt.args(["fmt", "--all", "--check"]);
    let mut clippy = ws.cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    Ok(vec![
        Step::new("format check", fmt),
        Step::new("clippy", clippy),
        site::clippy_step(ws),
    ])
}

fn unit(ws: &Workspace) -> Vec<Step> {
    let mut crates = ws.cargo();
    // Each crate's unit tests, and the one integration test outside the suites.
    crates.args([
        "test",
        "--workspace",
        "--lib",
        "--bins",
        "--test",
        "openapi",
    ]);
    vec![Step::tests("every crate's own tests", crates)]
}

fn e2e(ws: &Workspace) -> Vec<Step> {
    vec![Step::tests(
        "HTTP suites on SQLite, use cases in process, the Store contract on SQLite",
        suite(ws, "e2e"),
    )]
}

fn browser(ws: &Workspace) -> Vec<Step> {
    let mut cmd = suite(ws, "browser");
    site::browser_env(&mut cmd, ws);
    vec![
        site::build_step(ws),
        Step::tests("the site in headless Chromium", cmd),
    ]
}

fn aws(ws: &Workspace, moto_url: &str) -> Vec<Step> {
    let mut adapters = suite(ws, "aws");
    adapters.env("TEMPACCESS_MOTO_URL", moto_url);
    // The same HTTP suites, on `serve --backend aws` against the emulator.
    let mut e2e = suite(ws, "e2e");
    // The in-process and SQLite suites (the use cases, the Store contract, the fuzz
    // targets, the faults of a store that is down) do not depend on the backend: run
    // once, in e2e. The seeded fault schedule runs again, on DynamoDB.
    e2e.args([
        "--",
        "--skip",
        "store_sqlite::",
        "--skip",
        "service::",
        "--skip",
        "faults::a_store_that_stays_down",
        "--skip",
        "faults::a_mailer_and_a_scheduler",
        "--skip",
        "fuzz::",
    ])
    .env("TEMPACCESS_MOTO_URL", moto_url)
    .env("TEMPACCESS_E2E_BACKEND", "aws");
    vec![
        Step::tests(
            "AWS adapters, DynamoDB store, faults, Lambda handlers and binaries",
            adapters,
        ),
        Step::tests("HTTP suites on the AWS adapters (moto)", e2e),
    ]
}

fn infra(ws: &Workspace, moto_url: &str) -> Result<Vec<Step>> {
    let mut steps = infra::steps(ws)?;
    let mut suite = suite(ws, "infra");
    suite.env("TEMPACCESS_MOTO_URL", moto_url);
    steps.push(Step::tests("the template against the code", suite));
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn stages_are_chosen_by_the_flags_and_run_in_order() {
        assert_eq!(selected(&[]).unwrap(), Stage::ALL);
        assert_eq!(
            selected(&args("--quick")).unwrap(),
            [Stage::Unit, Stage::E2e, Stage::Browser]
        );
        assert_eq!(
            selected(&args("--only browser,e2e")).unwrap(),
            [Stage::E2e, Stage::Browser]
        );
        assert_eq!(
            selected(&args("--only=aws --only lint")).unwrap(),
            [Stage::Lint, Stage::Aws]
        );
        assert!(selected(&args("--only nope")).is_err());
        assert!(selected(&args("--quick --only e2e")).is_err());
        assert!(selected(&args("--fast")).is_err());
    }

    #[test]
    fn quick_starts_no_emulator_and_builds_no_package() {
        for stage in selected(&args("--quick")).unwrap() {
            assert!(
                !matches!(
                    stage,
                    Stage::Aws | Stage::Infra | Stage::Package | Stage::Stack | Stage::Lint
                ),
                "{stage:?}"
            );
        }
    }

    #[test]
    fn test_results_are_counted() {
        let mut t = Tally::default();
        t.read("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out");
        t.read("test result: FAILED. 3 passed; 2 failed; 0 ignored");
        t.read("not a result line");
        assert_eq!((t.passed, t.failed), (15, 2));
    }
}
