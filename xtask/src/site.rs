//! The site (`web/`): built for `wasm32-unknown-unknown` by cargo, bound to JavaScript
//! by wasm-bindgen (the `wasm-bindgen-cli-support` library, at the version of
//! `Cargo.lock`), shrunk by binaryen's `wasm-opt` (prebuilt, from npm), and written to
//! [`dist_dir`] with content-hashed file names and an `index.html` from `web/index.html`.
//!
//! The loader is a file of its own, never an inline script, so the one
//! Content-Security-Policy of every deployment (`script-src 'self'`) covers it.
//! A build whose inputs did not change since the last one is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::tools::{self, tools_dir};
use crate::{Step, Workspace, run};

/// The binaryen whose `wasm-opt` shrinks the wasm.
pub const BINARYEN_VERSION: &str = "132.0.0";
/// The target the site is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The wasm features rustc 1.95 emits by default; `wasm-opt` must be told of each.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];
/// How `wasm-opt` shrinks the wasm.
const WASM_OPT_FLAGS: [&str; 1] = ["-Oz"];
/// Where `web/index.html` wants the stylesheet, preloads and loader.
const ASSETS_MARKER: &str = "<!-- site:assets -->";
/// The wasm-bindgen this xtask links (its `Cargo.toml` pins it with `=`).
const BINDGEN_VERSION: &str = "0.2.130";

/// `cargo xtask site [--with-browser] [--breakdown]`: installs what is missing and builds
/// the site; `--breakdown` builds it with the function names kept instead (into
/// [`named_dir`]) and prints what its wasm is made of.
pub fn task(args: &[String]) -> Result<()> {
    let ws = Workspace::locate()?;
    let mut browser = false;
    let mut breakdown = false;
    for arg in args {
        match arg.as_str() {
            "--with-browser" => browser = true,
            "--breakdown" => breakdown = true,
            other => bail!("unknown option `{other}` for `cargo xtask site`"),
        }
    }
    if browser {
        tools::ensure_chromium()?;
        tools::ensure_axe_core()?;
    }
    if breakdown {
        let dir = build_variant(&ws, Names::Kept)?;
        let wasm = std::fs::read_dir(&dir)?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "wasm"))
            .context("no wasm in the named build")?;
        let bytes = std::fs::read(&wasm)?;
        print!("{}", crate::wasm_sizes::breakdown(&bytes, 40)?);
        return Ok(());
    }
    build(&ws)?;
    Ok(())
}

/// Whether the site's wasm keeps its function names (for [`crate::wasm_sizes`]); the
/// site itself never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    Stripped,
    Kept,
}

/// Where the built site goes: `<target>/site`.
pub fn dist_dir(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("site")
}

/// Where the site built with its function names kept goes: `<target>/site-names`.
pub fn named_dir(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("site-names")
}

fn binaryen_dir() -> PathBuf {
    tools_dir().join(format!("binaryen-{BINARYEN_VERSION}"))
}

fn wasm_opt() -> PathBuf {
    binaryen_dir()
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt")
}

/// binaryen from npm (a prebuilt `wasm-opt`), unless the pinned one is there.
fn ensure_binaryen() -> Result<()> {
    let major = BINARYEN_VERSION
        .split('.')
        .next()
        .unwrap_or(BINARYEN_VERSION);
    if tools::prints_version(&wasm_opt(), &["--version"], &format!("version_{major}")) {
        return Ok(());
    }
    tools::npm_install(&binaryen_dir(), &format!("binaryen@{BINARYEN_VERSION}"))
}

/// The wasm target of the toolchain this workspace builds with. A `rust-toolchain.toml`
/// names it, but rustup adds a toolchain file's targets only when it installs that
/// toolchain, so a machine that already had `stable` lacks it: add it when `libcore`
/// is not in the target's library directory.
pub fn ensure_wasm_target(ws: &Workspace) -> Result<()> {
    let output = Command::new("rustc")
        .current_dir(&ws.root)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .context("running rustc (is Rust installed with rustup?)")?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let has_core = std::fs::read_dir(&libdir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
    });
    if output.status.success() && has_core {
        return Ok(());
    }
    tools::require(
        "rustup",
        "rustup is missing: install Rust with rustup (https://rustup.rs)",
    )?;
    let mut add = Command::new("rustup");
    add.current_dir(&ws.root)
        .args(["target", "add", WASM_TARGET]);
    run(add).context("adding the wasm target")
}

/// Installs what the site's build needs: the wasm target and binaryen.
pub fn ensure_tools(ws: &Workspace) -> Result<()> {
    tools::require_npm()?;
    ensure_wasm_target(ws)?;
    ensure_binaryen()
}

/// The `wasm-bindgen` version in `Cargo.lock`: the library that binds the site must be
/// the same.
pub fn locked_version(ws: &Workspace, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(ws.root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    let wanted = format!("name = \"{package}\"");
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
                .with_context(|| format!("no version after {package} in Cargo.lock"))?;
            return Ok(version.to_owned());
        }
    }
    bail!("Cargo.lock has no {package}")
}

/// A short content hash for file names and the build key.
fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

/// Builds the site (release) into [`dist_dir`] and returns it; returns at once when
/// nothing it is built from changed.
pub fn build(ws: &Workspace) -> Result<PathBuf> {
    build_variant(ws, Names::Stripped)
}

/// Builds the site into [`dist_dir`], or with its names kept into [`named_dir`].
fn build_variant(ws: &Workspace, names: Names) -> Result<PathBuf> {
    ensure_tools(ws)?;
    let locked = locked_version(ws, "wasm-bindgen")?;
    if locked != BINDGEN_VERSION {
        bail!(
            "Cargo.lock has wasm-bindgen {locked} but xtask binds with {BINDGEN_VERSION}: \
             pin wasm-bindgen-cli-support = \"={locked}\" in xtask/Cargo.toml"
        );
    }
    let started = std::time::Instant::now();
    let mut cargo = ws.cargo();
    cargo
        .args(["build", "--release", "--target", WASM_TARGET])
        .args(["-p", "tempaccess-web", "--bin", "tempaccess-web"])
        // wasm-bindgen reads the wasm features rustc enabled from a custom section that
        // the workspace's `strip = true` would remove; wasm-opt strips it afterwards.
        .env("CARGO_PROFILE_RELEASE_STRIP", "false");
    run(cargo)?;
    let wasm = ws
        .target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("tempaccess-web.wasm");
    let web = ws.root.join("web");
    let template =
        std::fs::read_to_string(web.join("index.html")).context("reading web/index.html")?;
    let style = std::fs::read(web.join("style.css")).context("reading web/style.css")?;
    let input = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;

    let dist = match names {
        Names::Stripped => dist_dir(ws),
        Names::Kept => named_dir(ws),
    };
    let key = short_hash(
        &[
            input.as_slice(),
            template.as_bytes(),
            &style,
            BINARYEN_VERSION.as_bytes(),
            BINDGEN_VERSION.as_bytes(),
            WASM_OPT_FLAGS.concat().as_bytes(),
        ]
        .concat(),
    );
    let key_file = dist.join(".build-key");
    if std::fs::read_to_string(&key_file).is_ok_and(|k| k == key)
        && dist.join("index.html").is_file()
    {
        println!("the site is up to date in {}", dist.display());
        return Ok(dist);
    }

    let staging = ws.target_dir.join(match names {
        Names::Stripped => "site-staging",
        Names::Kept => "site-names-staging",
    });
    let _ = std::fs::remove_dir_all(&staging);
    let bound = staging.join("bindgen");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_bytes("app", input)
        .web(true)?
        .typescript(false)
        .generate(&bound)
        .context("wasm-bindgen")?;

    let out = staging.join("site");
    std::fs::create_dir_all(&out)?;
    let optimized = staging.join("app_bg.opt.wasm");
    let mut opt = Command::new(wasm_opt());
    opt.arg(bound.join("app_bg.wasm"))
        .args(WASM_OPT_FLAGS)
        .args(WASM_OPT_FEATURES)
        .args(match names {
            Names::Stripped => ["--strip-debug", "--strip-producers"].as_slice(),
            // `-g`: write the name section.
            Names::Kept => ["-g"].as_slice(),
        })
        .arg("-o")
        .arg(&optimized);
    run(opt)?;

    let wasm_bytes = std::fs::read(&optimized)?;
    let js_bytes = std::fs::read(bound.join("app.js"))?;
    let assets = Assets {
        wasm: format!("app-{}_bg.wasm", short_hash(&wasm_bytes)),
        js: format!("app-{}.js", short_hash(&js_bytes)),
        style: format!("style-{}.css", short_hash(&style)),
    };
    let loader = assets.loader();
    let loader_name = format!("loader-{}.js", short_hash(loader.as_bytes()));
    std::fs::write(out.join(&assets.wasm), &wasm_bytes)?;
    std::fs::write(out.join(&assets.js), &js_bytes)?;
    std::fs::write(out.join(&assets.style), &style)?;
    std::fs::write(out.join(&loader_name), loader)?;
    std::fs::write(
        out.join("index.html"),
        index_html(&template, &assets, &loader_name)?,
    )?;
    // Inline JavaScript of dependencies, imported relative to the glue.
    let snippets = bound.join("snippets");
    if snippets.is_dir() {
        copy_dir(&snippets, &out.join("snippets"))?;
    }
    std::fs::write(out.join(".build-key"), &key)?;

    let _ = std::fs::remove_dir_all(&dist);
    std::fs::rename(&out, &dist)
        .with_context(|| format!("moving the site into {}", dist.display()))?;
    let _ = std::fs::remove_dir_all(&staging);
    println!(
        "built the site into {} in {:.1?}",
        dist.display(),
        started.elapsed()
    );
    Ok(dist)
}

/// The hashed names of a build's files.
struct Assets {
    wasm: String,
    js: String,
    style: String,
}

impl Assets {
    /// The module that starts the site: the glue, given the wasm's hashed name.
    fn loader(&self) -> String {
        format!(
            "import init from '/{}';\ninit({{ module_or_path: '/{}' }});\n",
            self.js, self.wasm
        )
    }
}

/// `web/index.html` with the stylesheet, the preloads and the loader in place of its
/// marker. No inline script: the Content-Security-Policy stays `script-src 'self'`.
fn index_html(template: &str, assets: &Assets, loader: &str) -> Result<String> {
    if !template.contains(ASSETS_MARKER) {
        bail!("web/index.html has no {ASSETS_MARKER} line");
    }
    let tags = format!(
        "<link rel=\"stylesheet\" href=\"/{style}\" />\n    \
         <link rel=\"preload\" href=\"/{wasm}\" as=\"fetch\" type=\"application/wasm\" crossorigin />\n    \
         <link rel=\"modulepreload\" href=\"/{js}\" crossorigin />\n    \
         <script type=\"module\" src=\"/{loader}\"></script>",
        style = assets.style,
        wasm = assets.wasm,
        js = assets.js,
    );
    Ok(template.replace(ASSETS_MARKER, &tags))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The test step that builds the site (and installs the browser its tests drive and
/// the accessibility engine they run in it).
pub fn build_step(ws: &Workspace) -> Step {
    let mut cmd = ws.cargo();
    cmd.args(["xtask", "site", "--with-browser"]);
    Step::new(
        "build the site (wasm target, binaryen, Chromium and axe-core installed when missing)",
        cmd,
    )
}

/// What the browser tests read: the built site, the browser and axe-core.
pub fn browser_env(cmd: &mut Command, ws: &Workspace) {
    cmd.env("TEMPACCESS_SITE_DIR", dist_dir(ws))
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("CHROMIUM", tools::CHROMIUM)
        .env("AXE_CORE", tools::axe_core_script());
}

/// Clippy for the site's own target.
pub fn clippy_step(ws: &Workspace) -> Step {
    let mut clippy = ws.cargo();
    clippy.args([
        "clippy",
        "-p",
        "tempaccess-web",
        "--target",
        WASM_TARGET,
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    Step::new("clippy for the site (wasm32)", clippy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_library_is_the_locked_wasm_bindgen() {
        let ws = Workspace::locate().unwrap();
        assert_eq!(
            locked_version(&ws, "wasm-bindgen").unwrap(),
            BINDGEN_VERSION
        );
        assert_eq!(
            locked_version(&ws, "wasm-bindgen-cli-support").unwrap(),
            BINDGEN_VERSION
        );
    }

    #[test]
    fn index_html_loads_hashed_files_with_no_inline_script() {
        let assets = Assets {
            wasm: "app-1_bg.wasm".into(),
            js: "app-2.js".into(),
            style: "style-3.css".into(),
        };
        let template = std::fs::read_to_string(
            Workspace::locate()
                .unwrap()
                .root
                .join("web")
                .join("index.html"),
        )
        .unwrap();
        let html = index_html(&template, &assets, "loader-4.js").unwrap();
        assert!(html.contains("<script type=\"module\" src=\"/loader-4.js\"></script>"));
        assert!(html.contains("href=\"/style-3.css\""));
        assert!(html.contains("href=\"/app-1_bg.wasm\""));
        assert!(!html.contains(ASSETS_MARKER));
        // Every script has a src: nothing inline for the CSP to allow by hash.
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script type=\"module\" src=").count()
        );
        assert_eq!(
            assets.loader(),
            "import init from '/app-2.js';\ninit({ module_or_path: '/app-1_bg.wasm' });\n"
        );
        assert!(index_html("<head></head>", &assets, "l.js").is_err());
    }
}
