//! `cargo xtask soak`: the long versions of the bounded runs `cargo xtask test` makes
//! (the figures of RELIABILITY.md): the crash run with many kills, a fault schedule over
//! many workflows, the races again and again, the load for a minute; with `--aws`, the races and the load again on the AWS
//! adapters on the emulator.

use anyhow::{Result, bail};

use crate::tools::Moto;
use crate::{USAGE, Workspace, run, test};

/// What to run, and how long.
struct Options {
    kills: u32,
    fault_workflows: u32,
    race_rounds: u32,
    load_seconds: u32,
    aws: bool,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        kills: 25,
        fault_workflows: 2000,
        race_rounds: 20,
        load_seconds: 60,
        aws: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u32> {
            match args.next().map(|v| v.parse()) {
                Some(Ok(n)) => Ok(n),
                _ => bail!("{name} takes a number"),
            }
        };
        match arg.as_str() {
            "--kills" => o.kills = number("--kills")?,
            "--fault-workflows" => o.fault_workflows = number("--fault-workflows")?,
            "--race-rounds" => o.race_rounds = number("--race-rounds")?,
            "--load-seconds" => o.load_seconds = number("--load-seconds")?,
            "--aws" => o.aws = true,
            other => bail!("unknown option `{other}` for `cargo xtask soak`\n\n{USAGE}"),
        }
    }
    Ok(o)
}

/// The task.
pub fn run_soak(ws: &Workspace, args: &[String]) -> Result<()> {
    let o = options(args)?;
    let mut build = ws.cargo();
    build.args(["build", "--workspace", "--bin", "tempaccess"]);
    run(build)?;

    println!("\n==> crash: {} SIGKILLs under load", o.kills);
    let mut crash = test::suite(ws, "e2e");
    crash
        .env("TEMPACCESS_CRASH_KILLS", o.kills.to_string())
        .args(["crash::", "--", "--nocapture"]);
    run(crash)?;

    println!(
        "\n==> a seeded fault schedule over {} workflows",
        o.fault_workflows
    );
    let mut faults = test::suite(ws, "e2e");
    faults
        .env("TEMPACCESS_FAULT_WORKFLOWS", o.fault_workflows.to_string())
        .args(["faults::", "--", "--nocapture"]);
    run(faults)?;

    let moto = if o.aws { Some(Moto::start()?) } else { None };
    let backends: Vec<Option<&str>> = match &moto {
        Some(m) => vec![None, Some(m.url.as_str())],
        None => vec![None],
    };
    for backend in backends {
        let on = if backend.is_some() { "aws" } else { "sqlite" };
        for round in 1..=o.race_rounds {
            println!("\n==> races on {on}: round {round} of {}", o.race_rounds);
            let mut races = test::suite(ws, "e2e");
            races.args(["races::", "--", "--nocapture"]);
            on_backend(&mut races, backend);
            run(races)?;
        }
        println!("\n==> load on {on}: {} s", o.load_seconds);
        let mut load = test::suite(ws, "e2e");
        load.env("TEMPACCESS_LOAD_SECONDS", o.load_seconds.to_string())
            .args(["load::", "--", "--nocapture"]);
        on_backend(&mut load, backend);
        run(load)?;
    }
    Ok(())
}

fn on_backend(cmd: &mut std::process::Command, moto_url: Option<&str>) {
    if let Some(url) = moto_url {
        cmd.env("TEMPACCESS_MOTO_URL", url)
            .env("TEMPACCESS_E2E_BACKEND", "aws");
    }
}
