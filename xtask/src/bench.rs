//! `cargo xtask bench`: measures what a deployment costs in bytes and calls, and
//! rewrites the tables of `BENCHMARKS.md` with the machine, the date, the command and
//! the numbers.
//!
//! | section | what |
//! |---|---|
//! | packages | each function's `sam build` bootstrap: raw, zipped as `sam deploy` zips it, gzip -9 |
//! | site | the site's wasm and js: raw, gzip -9, brotli 11 |
//! | tti | the site's first page in headless Chromium on Chrome DevTools' "Fast 3G", cold cache: when its first control is drawn (the `slow_network` browser test) |
//! | calls | the AWS calls of each operation of the workflow, counted at the adapters on the emulator (the `calls` test of the `aws` suite, which asserts them) |
//! | init | each function's init, exec to first poll of a loopback Runtime API, as a ratio to a hello-world function's ([`crate::bench_init`]) |
//! | reports | 100,000 requests in each store, the report's pages read as the site reads them (the `scale` test of the `aws` suite, which asserts one Query a page) |
//! | first | each function's first invocation after init, one event per route, on the emulator ([`crate::bench_first`]) |
//! | usecases | each use case in process over many whole workflows on SQLite, p50 and p99 (`bench/usecases`) |
//!
//! `--print` measures and prints without touching `BENCHMARKS.md`; `--runs N` starts each
//! binary N times for `init` instead of 20, and runs the workflow of `first` N times
//! instead of 5; `--beside DIR` (with `--print`) measures the bootstraps of another build
//! (`DIR/<function>/bootstrap`, as `sam build` lays them out) in the same run, for a
//! before and after side by side. The `package` stage of `cargo xtask test`
//! runs `bench --print --runs 3 packages init`, so the measuring never rots. It asserts
//! no size and no time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::tools::{Moto, ensure_venv};
use crate::{Workspace, infra, site};

/// The Python bindings of brotli, for [`sizes`].
const BROTLI_VERSION: &str = "1.2.1";
/// The script that measures sizes (deflate and gzip from Python's standard library).
const SIZES_PY: &str = include_str!("sizes.py");

/// A section of `BENCHMARKS.md` this task writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Packages,
    Site,
    Tti,
    Calls,
    Init,
    Reports,
    First,
    UseCases,
}

impl Section {
    const ALL: [Self; 8] = [
        Self::Packages,
        Self::Site,
        Self::Tti,
        Self::Calls,
        Self::Init,
        Self::First,
        Self::Reports,
        Self::UseCases,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Packages => "packages",
            Self::Site => "site",
            Self::Tti => "tti",
            Self::Calls => "calls",
            Self::Init => "init",
            Self::Reports => "reports",
            Self::First => "first",
            Self::UseCases => "usecases",
        }
    }
}

/// The task: `cargo xtask bench [--print] [--runs N] [--beside DIR]
/// [packages|site|tti|calls|init|first|reports|usecases]…` (every section when none is named).
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let mut print_only = false;
    let mut runs = None;
    let mut beside: Option<PathBuf> = None;
    let mut sections = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--print" => print_only = true,
            "--beside" => {
                beside = Some(PathBuf::from(
                    args.next().context("--beside needs a directory")?,
                ));
            }
            "--runs" => {
                runs = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n > 0)
                        .context("--runs needs a number of runs")?,
                );
            }
            name => sections.push(
                Section::ALL
                    .into_iter()
                    .find(|s| s.name() == name)
                    .with_context(|| format!("unknown section `{name}` for `cargo xtask bench`"))?,
            ),
        }
    }
    if sections.is_empty() {
        sections = Section::ALL.to_vec();
    }
    if !print_only && (runs.is_some() || beside.is_some()) {
        bail!(
            "BENCHMARKS.md records init over {} runs and the first invocations over {}: \
             give --print with --runs or --beside",
            crate::bench_init::RUNS,
            crate::bench_first::RUNS
        );
    }
    let when = format!("{}, {}", today()?, machine()?);
    for section in sections {
        let table = match section {
            Section::Packages => packages(ws)?,
            Section::Site => site_bundle(ws)?,
            Section::Tti => time_to_interactive(ws)?,
            Section::Calls => calls(ws)?,
            Section::Reports => reports(ws)?,
            Section::UseCases => use_cases(ws)?,
            Section::Init => {
                // Of the current sources.
                packages(ws)?;
                crate::bench_init::table(
                    ws,
                    runs.unwrap_or(crate::bench_init::RUNS),
                    beside.as_deref(),
                )?
            }
            Section::First => {
                packages(ws)?;
                let runs = runs.unwrap_or(crate::bench_first::RUNS);
                let here = infra::sam_build_dir(ws);
                let mut packages = vec![here.as_path()];
                packages.extend(beside.as_deref());
                let mut tables = crate::bench_first::tables(ws, runs, &packages)?.into_iter();
                let mut table = tables.next().unwrap_or_default();
                if let Some(dir) = &beside {
                    table += &format!(
                        "\nThe bootstraps of {}, in the same rounds:\n\n{}",
                        dir.display(),
                        tables.next().unwrap_or_default()
                    );
                }
                table
            }
        };
        println!("\n{table}");
        if !print_only {
            let text = format!(
                "Measured {when}, by `cargo xtask bench {}`:\n\n{table}",
                section.name()
            );

            let path = ws.root.join("BENCHMARKS.md");
            let doc = std::fs::read_to_string(&path).context("reading BENCHMARKS.md")?;
            std::fs::write(&path, replace_section(&doc, section.name(), &text)?)?;
            println!("(written to BENCHMARKS.md, section `{}`)", section.name());
        }
    }
    Ok(())
}

/// `doc` with the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`
/// replaced by `text`.
fn replace_section(doc: &str, name: &str, text: &str) -> Result<String> {
    let open = format!("<!-- bench:{name} -->\n");
    let close = format!("<!-- /bench:{name} -->");
    let (Some(start), Some(end)) = (doc.find(&open), doc.find(&close)) else {
        bail!("BENCHMARKS.md has no `{open}` … `{close}` section");
    };
    let start = start + open.len();
    if end < start {
        bail!("BENCHMARKS.md: `{close}` comes before `{open}`");
    }
    Ok(format!(
        "{}{}\n{}",
        &doc[..start],
        text.trim_end(),
        &doc[end..]
    ))
}

fn today() -> Result<String> {
    let out = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .context("running date")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The machine, as briefly as a reader needs it to compare: cores, architecture, rustc.
fn machine() -> Result<String> {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .context("running rustc --version")?;
    let rustc = String::from_utf8_lossy(&rustc.stdout);
    let rustc = rustc
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(format!(
        "{cores} cores ({}), {rustc}",
        std::env::consts::ARCH
    ))
}

/// Sizes of one file as it travels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sizes {
    raw: u64,
    /// Deflate at zlib's default level, in a zip of its own (as `sam deploy` uploads).
    zip: u64,
    gzip: u64,
    brotli: u64,
}

impl std::ops::Add for Sizes {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self {
            raw: self.raw + o.raw,
            zip: self.zip + o.zip,
            gzip: self.gzip + o.gzip,
            brotli: self.brotli + o.brotli,
        }
    }
}

/// The sizes of `files`, in order (brotli only `with_brotli`, else 0).
fn sizes(files: &[PathBuf], with_brotli: bool) -> Result<Vec<Sizes>> {
    let bin = ensure_venv(
        "brotli",
        BROTLI_VERSION,
        &[&format!("brotli=={BROTLI_VERSION}")],
    )?;
    let out = Command::new(bin.join("python"))
        .args(["-c", SIZES_PY])
        .args(with_brotli.then_some("--brotli"))
        .args(files)
        .output()
        .context("measuring sizes with Python")?;
    if !out.status.success() {
        bail!(
            "measuring sizes failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let lines = String::from_utf8(out.stdout)?;
    lines
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let n = |k: &str| v[k].as_u64().with_context(|| format!("no `{k}` in {line}"));
            Ok(Sizes {
                raw: n("raw")?,
                zip: n("zip")?,
                gzip: n("gzip")?,
                brotli: v["brotli"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

/// Bytes with their MiB, or KiB for smaller files.
fn bytes(n: u64) -> String {
    let mut digits = n.to_string();
    let mut grouped = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        grouped = format!(" {tail}{grouped}");
    }
    let grouped = format!("{digits}{grouped}");
    if n >= 1024 * 1024 {
        format!("{grouped} B ({:.2} MiB)", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{grouped} B ({:.1} KiB)", n as f64 / 1024.0)
    }
}

/// Each function's package, built by `sam build` first when the sources changed.
fn packages(ws: &Workspace) -> Result<String> {
    if let Some(why) = infra::packages_stale(ws) {
        println!("building the packages: {why}");
        for step in infra::build_steps(ws)? {
            crate::run(step.command)?;
        }
    }
    let files: Vec<PathBuf> = infra::FUNCTIONS
        .iter()
        .map(|f| infra::sam_build_dir(ws).join(f).join("bootstrap"))
        .collect();
    let mut table = String::from(
        "| function | bootstrap | zipped (as `sam deploy` uploads) | gzip -9 |\n|---|---:|---:|---:|\n",
    );
    for (function, s) in infra::FUNCTIONS.iter().zip(sizes(&files, false)?) {
        table += &format!(
            "| {function} | {} | {} | {} |\n",
            bytes(s.raw),
            bytes(s.zip),
            bytes(s.gzip)
        );
    }
    Ok(table)
}

/// The site's wasm and js, built first (the build is skipped when nothing changed).
fn site_bundle(ws: &Workspace) -> Result<String> {
    let dist = site::build(ws)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dist)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js")))
        .collect();
    files.sort();
    let mut table = String::from("| file | raw | gzip -9 | brotli 11 |\n|---|---:|---:|---:|\n");
    let mut total = Sizes::default();
    for (file, s) in files.iter().zip(sizes(&files, true)?) {
        total = total + s;
        table += &format!(
            "| {} | {} | {} | {} |\n",
            kind(file),
            bytes(s.raw),
            bytes(s.gzip),
            bytes(s.brotli)
        );
    }
    table += &format!(
        "| **wasm + js** | **{}** | **{}** | **{}** |\n",
        bytes(total.raw),
        bytes(total.gzip),
        bytes(total.brotli)
    );
    Ok(table)
}

/// A built file by what it is (its name carries a content hash that changes each build).
fn kind(file: &Path) -> String {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let stem = name.split(['-', '.']).next().unwrap_or_default();
    let ext = file
        .extension()
        .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
    format!("{stem} ({ext})")
}

/// The `slow_network` browser test's measure of the built site on "Fast 3G".
fn time_to_interactive(ws: &Workspace) -> Result<String> {
    site::build(ws)?;
    crate::tools::ensure_chromium()?;
    crate::tools::ensure_axe_core()?;
    let out = ws.target_dir.join("bench").join("tti.md");
    std::fs::create_dir_all(out.parent().context("a parent")?)?;
    let _ = std::fs::remove_file(&out);
    // As the browser stage of `cargo xtask test` builds and runs it, so nothing is
    // built twice.
    let mut build = ws.cargo();
    build.args(["build", "--workspace", "--bin", "tempaccess"]);
    crate::run(build)?;
    let mut test = crate::test::suite(ws, "browser");
    test.args([
        "slow_network::",
        "--",
        "--exact",
        "slow_network::the_site_starts_and_signs_in_on_fast_3g",
    ])
    .env("TEMPACCESS_BENCH_OUT", &out);
    site::browser_env(&mut test, ws);
    crate::run(test)?;
    let row =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    Ok(format!(
        "| network | first control drawn | load event | transferred |\n|---|---:|---:|---:|\n{row}"
    ))
}

/// The `calls` test of the `aws` suite on a fresh emulator, which writes its table.
fn calls(ws: &Workspace) -> Result<String> {
    aws_test_table(ws, "calls::each_operation_makes_the_calls_counted", &[])
}

/// One test of the `aws` suite on a fresh emulator, with `env`, which writes its table
/// to the file `TEMPACCESS_BENCH_OUT` names.
fn aws_test_table(ws: &Workspace, test: &str, env: &[(&str, String)]) -> Result<String> {
    let moto = Moto::start()?;
    let name = test.split("::").next().context("a test's module")?;
    let out = ws.target_dir.join("bench").join(format!("aws-{name}.md"));
    std::fs::create_dir_all(out.parent().context("a parent")?)?;
    let _ = std::fs::remove_file(&out);
    let mut cmd = ws.cargo();
    cmd.args([
        "test",
        "--workspace",
        "--test",
        "aws",
        test,
        "--",
        "--exact",
        test,
    ])
    .env("TEMPACCESS_MOTO_URL", &moto.url)
    .env("TEMPACCESS_BENCH_OUT", &out);
    for (key, value) in env {
        cmd.env(key, value);
    }
    crate::run(cmd)?;
    std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))
}

/// The use cases in process (`bench/usecases`, release profile), which writes its table.
fn use_cases(ws: &Workspace) -> Result<String> {
    let out = ws.target_dir.join("bench").join("usecases.md");
    std::fs::create_dir_all(out.parent().context("a parent")?)?;
    let _ = std::fs::remove_file(&out);
    let mut run = ws.cargo();
    run.args(["run", "--release", "-p", "tempaccess-bench-usecases"])
        .env("TEMPACCESS_BENCH_OUT", &out);
    crate::run(run)?;
    std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))
}

/// How many requests `bench reports` loads into each store.
const REPORT_REQUESTS: u32 = 100_000;

/// The `scale` test of the `aws` suite at [`REPORT_REQUESTS`], which writes its table.
fn reports(ws: &Workspace) -> Result<String> {
    aws_test_table(
        ws,
        "scale::reports_at_scale_read_each_page_in_one_query",
        &[("TEMPACCESS_BENCH_REQUESTS", REPORT_REQUESTS.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_and_the_rest_kept() {
        let doc = "# B\n\nprose\n<!-- bench:site -->\nold\ntable\n<!-- /bench:site -->\nafter\n";
        assert_eq!(
            replace_section(doc, "site", "new\n").unwrap(),
            "# B\n\nprose\n<!-- bench:site -->\nnew\n<!-- /bench:site -->\nafter\n"
        );
        assert!(replace_section(doc, "packages", "x").is_err());
    }

    #[test]
    fn bytes_read_in_groups_with_their_unit() {
        assert_eq!(bytes(865_952), "865 952 B (845.7 KiB)");
        assert_eq!(bytes(3_201_349), "3 201 349 B (3.05 MiB)");
        assert_eq!(bytes(12), "12 B (0.0 KiB)");
    }

    #[test]
    fn built_files_are_named_by_kind() {
        assert_eq!(kind(Path::new("/d/app-1a2b3c.wasm")), "app (wasm)");
        assert_eq!(kind(Path::new("/d/loader-ff.js")), "loader (js)");
    }
}
