//! `cargo xtask fuzz`: the property targets `cargo xtask test` runs a few hundred cases
//! of (`tests/e2e/fuzz.rs`: bodies, query strings and ids against each router, the CSV
//! report and the mails), run long: `--cases` a round, fresh rounds for `--seconds`,
//! from a new seed each time (printed; `TEMPACCESS_FUZZ_SEED` replays it).

use anyhow::{Result, bail};

use crate::{USAGE, Workspace, run, test};

/// How long.
struct Options {
    cases: u32,
    seconds: u32,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        cases: 10_000,
        seconds: 60,
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
            "--cases" => o.cases = number("--cases")?,
            "--seconds" => o.seconds = number("--seconds")?,
            other => bail!("unknown option `{other}` for `cargo xtask fuzz`\n\n{USAGE}"),
        }
    }
    Ok(o)
}

/// The task.
pub fn run_fuzz(ws: &Workspace, args: &[String]) -> Result<()> {
    let o = options(args)?;
    let seed = match std::env::var("TEMPACCESS_FUZZ_SEED") {
        Ok(seed) => seed,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            .to_string(),
    };
    println!(
        "\n==> fuzz: {} cases a round, rounds for {} s per target, TEMPACCESS_FUZZ_SEED={seed}",
        o.cases, o.seconds
    );
    let mut fuzz = test::suite(ws, "e2e");
    fuzz.env("PROPTEST_CASES", o.cases.to_string())
        .env("TEMPACCESS_FUZZ_SECONDS", o.seconds.to_string())
        .env("TEMPACCESS_FUZZ_SEED", seed)
        // One target at a time: each has the machine for its seconds.
        .args(["fuzz::", "--", "--nocapture", "--test-threads", "1"]);
    run(fuzz)
}
