//! Checks of the deployment template: the real SAM transform (offline), cfn-lint and
//! checkov, each pinned in its own virtual environment.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::tools::ensure_venv;
use crate::{Step, Workspace};

/// The SAM CLI (with its cfn-lint).
pub const SAM_VERSION: &str = "1.170.0";
/// The security scanner.
pub const CHECKOV_VERSION: &str = "3.3.30";

/// The template.
pub const TEMPLATE: &str = "infra/template.yaml";

/// A `sam` command with telemetry off.
pub fn sam(ws: &Workspace) -> Result<Command> {
    let bin = ensure_venv(
        "aws-sam-cli",
        SAM_VERSION,
        &[&format!("aws-sam-cli=={SAM_VERSION}")],
    )?;
    let mut cmd = Command::new(bin.join("sam"));
    cmd.current_dir(&ws.root).env("SAM_CLI_TELEMETRY", "0");
    Ok(cmd)
}

/// `sam validate`, `sam validate --lint` and checkov on the template.
pub fn steps(ws: &Workspace) -> Result<Vec<Step>> {
    let mut validate = sam(ws)?;
    validate.args(["validate", "--template", TEMPLATE, "--region", "us-east-1"]);
    let mut lint = sam(ws)?;
    lint.args([
        "validate",
        "--lint",
        "--template",
        TEMPLATE,
        "--region",
        "us-east-1",
    ]);
    let checkov_bin = ensure_venv(
        "checkov",
        CHECKOV_VERSION,
        &[&format!("checkov=={CHECKOV_VERSION}")],
    )?;
    let mut checkov = Command::new(checkov_bin.join("checkov"));
    checkov.current_dir(&ws.root).args([
        "--file",
        TEMPLATE,
        "--framework",
        "cloudformation",
        "--skip-download",
        "--compact",
        "--quiet",
    ]);
    Ok(vec![
        Step::new("sam validate (the SAM transform, offline)", validate),
        Step::new("sam validate --lint (cfn-lint)", lint),
        Step::new(
            "checkov (every skip in the template names its reason)",
            checkov,
        ),
    ])
}

/// Builds the Lambda functions for arm64 (`sam build` with `cargo lambda`).
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";
/// The cross linker `cargo lambda` uses.
pub const ZIG_VERSION: &str = "0.15.2";

/// Where `sam build` puts each function's `bootstrap`.
pub fn sam_build_dir(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("sam-build")
}

/// `cargo-lambda` and Zig (its cross linker), both prebuilt wheels from PyPI in one
/// virtual environment; returns a PATH that finds them first.
pub fn lambda_tool_path() -> Result<OsString> {
    let bin = ensure_venv(
        "cargo-lambda",
        CARGO_LAMBDA_VERSION,
        &[
            &format!("cargo-lambda=={CARGO_LAMBDA_VERSION}"),
            &format!("ziglang=={ZIG_VERSION}"),
        ],
    )?;
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(std::env::join_paths(paths)?)
}

/// `sam build`: each function cross-compiled for arm64 by `cargo lambda`, then a check
/// that every `bootstrap` is an aarch64 Linux executable.
pub fn build_steps(ws: &Workspace) -> Result<Vec<Step>> {
    let mut build = sam(ws)?;
    build
        .args(["build", "--template", TEMPLATE, "--build-dir"])
        .arg(sam_build_dir(ws))
        .env("PATH", lambda_tool_path()?)
        .env("CARGO_TARGET_DIR", &ws.target_dir);
    let mut check = ws.cargo();
    check.args(["xtask", "check-bootstraps"]);
    Ok(vec![
        Step::new("sam build (cargo lambda, release, arm64)", build),
        Step::new("every function's bootstrap is an arm64 executable", check),
    ])
}

/// The functions as the template names them.
pub const FUNCTIONS: [&str; 5] = [
    "RequestFunction",
    "DecideFunction",
    "CancelFunction",
    "ReportFunction",
    "RevokeFunction",
];

/// Fails unless each function's `bootstrap` from `sam build` is an ELF executable for
/// aarch64 (e_machine 183).
pub fn check_bootstraps(ws: &Workspace) -> Result<()> {
    for function in FUNCTIONS {
        let path = sam_build_dir(ws).join(function).join("bootstrap");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let is_elf = bytes.starts_with(b"\x7fELF");
        let machine = bytes.get(18..20).map(|b| u16::from_le_bytes([b[0], b[1]]));
        if !is_elf || machine != Some(183) {
            bail!("{} is not an aarch64 executable", path.display());
        }
        println!("{function}: {} bytes, aarch64", bytes.len());
    }
    Ok(())
}

/// `cargo xtask bench-functions`: the size of each function's package, as Lambda
/// receives it (the `bootstrap`, and zipped with deflate as `sam deploy` uploads it).
pub fn bench(ws: &Workspace) -> Result<()> {
    println!("| function | bootstrap | zipped |");
    println!("|---|---|---|");
    for function in FUNCTIONS {
        let path = sam_build_dir(ws).join(function).join("bootstrap");
        let raw = std::fs::metadata(&path)
            .with_context(|| {
                format!(
                    "{} is missing: run `sam build` first (`cargo xtask test` does)",
                    path.display()
                )
            })?
            .len();
        let zipped = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&path)
            .output()
            .context("running gzip")?
            .stdout
            .len();
        println!(
            "| {function} | {:.2} MiB | {:.2} MiB |",
            mib(raw),
            mib(zipped as u64)
        );
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
