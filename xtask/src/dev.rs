//! `cargo xtask dev`: the product on this machine — the site built (skipped when
//! nothing changed) and `tempaccess serve` on SQLite with the demo data. The server
//! prints where to go and what to try once it accepts connections.

use anyhow::{Context, Result};

use crate::{Workspace, site};

/// The task: `args` are passed to `tempaccess serve` (after an optional `--`).
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let serve_args: Vec<String> = match args.split_first() {
        Some((first, rest)) if first == "--" => rest.to_vec(),
        _ => args.to_vec(),
    };
    let dist = site::build(ws)?;
    let data = ws.root.join("target").join("dev-data");
    std::fs::create_dir_all(&data)
        .with_context(|| format!("creating the data directory {}", data.display()))?;

    let given = |flag: &str| {
        serve_args
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    let mut cmd = ws.cargo();
    cmd.args([
        "run",
        "-p",
        "tempaccess-cli",
        "--bin",
        "tempaccess",
        "--",
        "serve",
    ]);
    if !given("--addr") {
        cmd.args(["--addr", "127.0.0.1:8080"]);
    }
    if !given("--data") {
        cmd.arg("--data").arg(&data);
    }
    if !given("--site") {
        cmd.arg("--site").arg(&dist);
    }
    cmd.args(&serve_args);
    crate::run(cmd)
}
