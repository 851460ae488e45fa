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

/// Where [`check_bootstraps`] records what the packages were built from.
fn fingerprint_file(ws: &Workspace) -> PathBuf {
    sam_build_dir(ws).join(".sources")
}

/// A digest of what the function binaries are built from: every file under
/// `functions/`, the `Cargo.lock` entries of the packages they depend on (not those of
/// the tests or the site), and the workspace's profiles and dependency declarations
/// of those packages.
pub fn sources_fingerprint(ws: &Workspace) -> Result<String> {
    use sha2::{Digest, Sha256};
    fn walk(dir: &std::path::Path, files: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, files)?;
            } else {
                files.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(&ws.root.join("functions"), &mut files)?;
    files.sort();
    let mut hash = Sha256::new();
    for f in &files {
        hash.update(
            f.strip_prefix(&ws.root)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        hash.update(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?);
    }
    let lock = std::fs::read_to_string(ws.root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let packages = lock_closure(
        &lock,
        &[
            "tempaccess-request",
            "tempaccess-decide",
            "tempaccess-cancel",
            "tempaccess-report",
            "tempaccess-revoke",
        ],
    );
    let names: std::collections::BTreeSet<&str> = packages
        .iter()
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("name = \"")))
        .map(|n| n.trim_end_matches('"'))
        .collect();
    for block in &packages {
        hash.update(block.as_bytes());
    }
    let manifest =
        std::fs::read_to_string(ws.root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let mut section = String::new();
    for line in manifest.lines() {
        if line.starts_with('[') {
            section = line.to_owned();
        }
        let relevant = section.starts_with("[profile")
            || (section == "[workspace.dependencies]"
                && line
                    .split(['=', ' '])
                    .next()
                    .is_some_and(|name| names.contains(name)));
        if relevant {
            hash.update(line.as_bytes());
        }
    }
    Ok(hex::encode(hash.finalize()))
}

/// The `[[package]]` blocks of `lock` that `roots` depend on, transitively.
fn lock_closure<'a>(lock: &'a str, roots: &[&str]) -> Vec<&'a str> {
    let blocks: Vec<&str> = lock.split("[[package]]").skip(1).collect();
    let name_of = |b: &str| {
        b.lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .map(|n| n.trim_end_matches('"').to_owned())
            .unwrap_or_default()
    };
    let version_of = |b: &str| {
        b.lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .map(|n| n.trim_end_matches('"').to_owned())
            .unwrap_or_default()
    };
    let mut wanted: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    let mut taken = std::collections::BTreeSet::new();
    while let Some(dep) = wanted.pop() {
        // A dependency is "name" or "name version" (when several versions are locked).
        let (name, version) = match dep.split_once(' ') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (dep.clone(), None),
        };
        for (i, b) in blocks.iter().enumerate() {
            if name_of(b) == name
                && version.as_ref().is_none_or(|v| *v == version_of(b))
                && taken.insert(i)
            {
                let deps = b.split("dependencies = [").nth(1).unwrap_or_default();
                let deps = deps.split(']').next().unwrap_or_default();
                wanted.extend(
                    deps.lines()
                        .map(|l| l.trim().trim_end_matches(',').trim_matches('"'))
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    taken.into_iter().map(|i| blocks[i]).collect()
}

/// Why the `sam build` packages are not those of the current sources, if they are not.
pub fn packages_stale(ws: &Workspace) -> Option<String> {
    for function in FUNCTIONS {
        let path = sam_build_dir(ws).join(function).join("bootstrap");
        if !path.is_file() {
            return Some(format!("{} is missing", path.display()));
        }
    }
    let recorded = std::fs::read_to_string(fingerprint_file(ws)).unwrap_or_default();
    match sources_fingerprint(ws) {
        Ok(now) if now == recorded.trim() => None,
        Ok(_) => Some("the functions' sources changed since the last `sam build`".to_owned()),
        Err(e) => Some(format!("{e:#}")),
    }
}

/// Fails unless each function's `bootstrap` from `sam build` is an ELF executable for
/// aarch64 (e_machine 183); then records what they were built from.
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
    std::fs::write(fingerprint_file(ws), sources_fingerprint(ws)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_only_what_the_functions_use() {
        let lock = r#"
[[package]]
name = "a"
version = "1.0.0"
dependencies = [
 "b 2.0.0",
 "c",
]

[[package]]
name = "b"
version = "1.0.0"

[[package]]
name = "b"
version = "2.0.0"

[[package]]
name = "c"
version = "1.0.0"

[[package]]
name = "unrelated"
version = "1.0.0"
dependencies = [
 "b 1.0.0",
]
"#;
        let names: Vec<String> = lock_closure(lock, &["a"])
            .iter()
            .map(|b| {
                b.lines()
                    .filter(|l| l.starts_with("name") || l.starts_with("version"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            names,
            [
                "name = \"a\" version = \"1.0.0\"",
                "name = \"b\" version = \"2.0.0\"",
                "name = \"c\" version = \"1.0.0\""
            ]
        );
    }
}
