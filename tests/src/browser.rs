//! Browser harness: headless Chromium driven through chromedriver (fantoccini), pointed
//! at a [`TestApp`](crate::app::TestApp) that serves the built site.
//!
//! ```text
//! let app = TestApp::spawn_with_site(&site_dir()).await;
//! let browser = Browser::start(&app.base_url, "request_flow").await;
//! browser.sign_in("Alice Requester").await;
//! browser.click_button("Send request").await;
//! browser.screenshot("request-sent").await;
//! ```
//!
//! Paths come from the environment `cargo xtask test` sets: `TEMPACCESS_SITE_DIR` (the
//! built site), `CHROMEDRIVER` and `CHROMIUM` (default `/usr/bin/chromedriver` and
//! `/usr/bin/chromium`). The browser runs in [`BROWSER_TZ`], so every test also checks
//! that times are shown, and sent, across a time zone. Screenshots go to
//! `target/screenshots/` at the workspace root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The browser's time zone: not UTC, with summer time, so conversions show.
pub const BROWSER_TZ: &str = "America/New_York";

/// How long a page gets to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(20);

/// The desktop window pages are checked at.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// The phone window pages are checked at.
pub const PHONE: (u32, u32) = (390, 844);

/// axe-core's script: `AXE_CORE` (`cargo xtask test` installs it and sets the variable).
pub fn axe_core_script() -> PathBuf {
    let path = std::env::var_os("AXE_CORE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                "/var/tmp/tempaccess-tools/axe-core-4.14.1/node_modules/axe-core/axe.min.js",
            )
        });
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask site --with-browser` installs axe-core, or set AXE_CORE",
        path.display()
    );
    path
}

/// A network's round trip and throughput, as Chrome DevTools emulates it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkProfile {
    /// Its name in Chrome DevTools.
    pub name: &'static str,
    /// Added to each request's round trip, in milliseconds.
    pub latency_ms: f64,
    /// Bytes per second down.
    pub download_bytes_per_s: f64,
    /// Bytes per second up.
    pub upload_bytes_per_s: f64,
}

/// Chrome DevTools' "Fast 3G" preset (its `NetworkManager`): 150 ms × 3.75 of latency,
/// 1.6 Mbit/s × 0.9 down and 750 kbit/s × 0.9 up.
pub const FAST_3G: NetworkProfile = NetworkProfile {
    name: "Fast 3G",
    latency_ms: 562.5,
    download_bytes_per_s: 180_000.0,
    upload_bytes_per_s: 84_375.0,
};

/// What the focused element is: its tag, id, and text or accessible label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focused {
    /// Lowercase tag name.
    pub tag: String,
    /// Its id, or empty.
    pub id: String,
    /// Its `aria-label`, else its text, trimmed.
    pub name: String,
}

/// The built site: `TEMPACCESS_SITE_DIR`.
pub fn site_dir() -> PathBuf {
    let dir = std::env::var_os("TEMPACCESS_SITE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .expect(
            "TEMPACCESS_SITE_DIR is not set: browser tests need the built site \
             (`cargo xtask test` builds it and sets the variable; `cargo xtask site` builds it alone)",
        );
    assert!(
        dir.join("index.html").is_file(),
        "{} has no index.html: build the site with `cargo xtask site`",
        dir.display()
    );
    dir
}

fn tool(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask test` installs Chromium and chromedriver \
         (apt-get install chromium chromium-driver), or set {var}",
        path.display()
    );
    path
}

/// Where screenshots go: `<workspace>/target/screenshots`.
pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .join("target")
        .join("screenshots")
}

/// One headless Chromium session with its own chromedriver and profile.
pub struct Browser {
    pub client: Client,
    base_url: String,
    test: String,
    shots: std::cell::Cell<u32>,
    /// Where downloads land.
    pub downloads: PathBuf,
    scratch: PathBuf,
    driver: Child,
    port: u16,
    session: Option<String>,
}

impl Browser {
    /// Starts chromedriver on a free port and a fresh headless Chromium through it.
    pub async fn start(base_url: &str, test: &str) -> Browser {
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let scratch = std::env::temp_dir().join(format!(
            "tempaccess-browser-{test}-{}-{nanos}",
            std::process::id()
        ));
        // This test's screenshots of an earlier run go: what is kept is this run's.
        if let Ok(old) = std::fs::read_dir(screenshots_dir()) {
            for shot in old.flatten() {
                if shot
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{test}-"))
                {
                    let _ = std::fs::remove_file(shot.path());
                }
            }
        }
        let downloads = scratch.join("downloads");
        std::fs::create_dir_all(&downloads).expect("create the downloads directory");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(scratch.join("chromedriver.log"))
            .expect("create the chromedriver log");
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .env("TZ", BROWSER_TZ)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", chromedriver.display()));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = scratch.join("profile");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    "--lang=en-US",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            }),
        );
        // Both ring and aws-lc are in the tree (reqwest, the AWS SDK): pick one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("rustls for the webdriver connection")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("open a Chromium session through chromedriver");
        let session = client.session_id().await.ok().flatten();
        Browser {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            test: test.to_owned(),
            shots: std::cell::Cell::new(0),
            downloads,
            scratch,
            driver,
            port,
            session,
        }
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        if self.client.clone().close().await.is_ok() {
            self.session = None;
        }
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.scratch);
    }

    /// Opens a path of the site.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base_url))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The current path (with query and fragment).
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        let mut p = url.path().to_owned();
        if let Some(q) = url.query() {
            p.push('?');
            p.push_str(q);
        }
        p
    }

    /// Waits for an element.
    pub async fn wait_for(&self, locator: Locator<'_>) -> Element {
        let what = format!("{locator:?}");
        match self.client.wait().at_most(WAIT).for_element(locator).await {
            Ok(e) => e,
            Err(e) => {
                self.screenshot("failure").await;
                let body = self.body_text().await;
                panic!("waited {WAIT:?} for {what}: {e}\n--- page text ---\n{body}");
            }
        }
    }

    /// Waits for a CSS selector.
    pub async fn css(&self, selector: &str) -> Element {
        self.wait_for(Locator::Css(selector)).await
    }

    /// Waits for an element with this id.
    pub async fn by_id(&self, id: &str) -> Element {
        self.wait_for(Locator::XPath(&format!("//*[@id={}]", xpath_literal(id))))
            .await
    }

    /// Waits until the page shows `text` somewhere.
    pub async fn wait_for_text(&self, text: &str) -> Element {
        self.wait_for(Locator::XPath(&format!(
            "//body//*[contains(normalize-space(.), {})][not(*[contains(normalize-space(.), {0})])]",
            xpath_literal(text)
        )))
        .await
    }

    /// Waits until no element matches `xpath`.
    pub async fn wait_gone(&self, xpath: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let found = self
                .client
                .find_all(Locator::XPath(xpath))
                .await
                .map(|v| v.len())
                .unwrap_or(0);
            if found == 0 {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                self.screenshot("failure").await;
                panic!("{xpath} still matches after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's visible text.
    pub async fn body_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Clicks the button whose text or `aria-label` is `label`.
    pub async fn click_button(&self, label: &str) {
        let l = xpath_literal(label);
        self.wait_for(Locator::XPath(&format!(
            "//button[(normalize-space(.)={l} or @aria-label={l}) and not(@disabled)]"
        )))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click the button {label}: {e}"));
    }

    /// Clicks the link whose text is `text`.
    pub async fn click_link(&self, text: &str) {
        let l = xpath_literal(text);
        self.wait_for(Locator::XPath(&format!("//a[normalize-space(.)={l}]")))
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click the link {text}: {e}"));
    }

    /// Types into the field with this id, replacing what it held.
    pub async fn type_into(&self, id: &str, text: &str) {
        let field = self.by_id(id).await;
        field.clear().await.expect("clear the field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into #{id}: {e}"));
    }

    /// Sets an input's value as a person's edit would (an `input` event), for
    /// inputs whose typing depends on the browser's locale (dates, times).
    pub async fn set_value(&self, id: &str, value: &str) {
        self.by_id(id).await;
        self.client
            .execute(
                "const el = document.getElementById(arguments[0]);
                 el.value = arguments[1];
                 el.dispatchEvent(new Event('input', { bubbles: true }));
                 el.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![json!(id), json!(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("set #{id}: {e}"));
    }

    /// An input's current value.
    pub async fn value(&self, id: &str) -> String {
        self.by_id(id)
            .await
            .prop("value")
            .await
            .expect("read the value")
            .unwrap_or_default()
    }

    /// Picks an option of the select with this id, by its value.
    pub async fn select(&self, id: &str, value: &str) {
        self.by_id(id)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in #{id}: {e}"));
    }

    /// Sends a Chrome DevTools Protocol command to the page (chromedriver's
    /// `goog/cdp/execute`) and returns its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.session.as_deref().expect("a webdriver session");
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            self.port
        );
        let answer: Value = reqwest::Client::new()
            .post(&url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("send {cmd}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("read the answer to {cmd}: {e}"));
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        assert!(value.get("error").is_none(), "{cmd} failed: {value}");
        value
    }

    /// Slows the page's network down to `profile` (latency and throughput), for
    /// everything it loads from now on.
    pub async fn throttle(&self, profile: &NetworkProfile) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({
                "offline": false,
                "latency": profile.latency_ms,
                "downloadThroughput": profile.download_bytes_per_s,
                "uploadThroughput": profile.upload_bytes_per_s,
            }),
        )
        .await;
    }

    /// Runs a script and returns its value.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("run {script}: {e}"))
    }

    /// Saves a screenshot as `target/screenshots/<test>-<nn>-<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshots_dir();
        let _ = std::fs::create_dir_all(&dir);
        let n = self.next_shot();
        match self.client.screenshot().await {
            Ok(png) => {
                let path = dir.join(format!("{}-{n:02}-{name}.png", self.test));
                let _ = std::fs::write(&path, png);
            }
            Err(e) => eprintln!("screenshot {name} failed: {e}"),
        }
    }

    fn next_shot(&self) -> u32 {
        let n = self.shots.get() + 1;
        self.shots.set(n);
        n
    }

    /// Resizes the window to `(width, height)`.
    pub async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize to {width}×{height}: {e}"));
    }

    /// Screenshots the page at the desktop and at the phone width
    /// (`<name>-desktop`, `<name>-phone`), and leaves the window at the desktop size.
    pub async fn screenshot_both(&self, name: &str) {
        self.resize(DESKTOP).await;
        self.screenshot(&format!("{name}-desktop")).await;
        self.resize(PHONE).await;
        // Let the layout settle at the new width.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.screenshot(&format!("{name}-phone")).await;
        self.resize(DESKTOP).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    /// Runs axe-core in the page and fails on any serious or critical violation; `what`
    /// names the page in the message. Moderate and minor ones are printed.
    pub async fn check_accessibility(&self, what: &str) {
        let source = std::fs::read_to_string(axe_core_script()).expect("read axe-core");
        let loaded = self
            .client
            .execute(&format!("{source}\nreturn typeof axe;"), vec![])
            .await
            .unwrap_or_else(|e| panic!("inject axe-core into {what}: {e}"));
        assert_eq!(loaded, "object", "axe-core did not load in {what}");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || ''))
                   }))))
                   .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("run axe-core in {what}: {e}"));
        let violations = result.as_array().cloned().unwrap_or_default();
        let (blocking, other): (Vec<_>, Vec<_>) = violations
            .iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        for v in &other {
            eprintln!("axe ({what}, {}): {} {}", v["impact"], v["id"], v["help"]);
        }
        if !blocking.is_empty() {
            self.screenshot(&format!("axe-{}", what.replace(' ', "-")))
                .await;
            panic!(
                "{what}: {} serious or critical accessibility violation(s):\n{}",
                blocking.len(),
                serde_json::to_string_pretty(&blocking).unwrap_or_default()
            );
        }
    }

    /// Presses keys in the focused element, as a keyboard does (`Key::Tab`, text, …).
    pub async fn press(&self, keys: &str) {
        let active = self
            .client
            .active_element()
            .await
            .expect("the focused element");
        active
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("press {keys:?}: {e}"));
    }

    /// Tab to the next focusable element.
    pub async fn tab(&self) {
        self.press(&fantoccini::key::Key::Tab.to_string()).await;
    }

    /// Shift+Tab to the previous focusable element.
    pub async fn shift_tab(&self) {
        self.press(&(fantoccini::key::Key::Shift + &fantoccini::key::Key::Tab.to_string()))
            .await;
    }

    /// Presses Tab until the focused element's id or name is `target` (at most 60
    /// times), as a keyboard user moves through a page.
    pub async fn tab_to(&self, target: &str) -> Focused {
        for _ in 0..60 {
            self.tab().await;
            let f = self.focused().await;
            if f.id == target || f.name == target {
                return f;
            }
        }
        self.screenshot("failure").await;
        panic!("Tab never reached {target}");
    }

    /// What has the keyboard focus.
    pub async fn focused(&self) -> Focused {
        let v = self
            .eval(
                "const el = document.activeElement;
                 if (!el) return ['', '', ''];
                 const name = el.getAttribute('aria-label') || (el.innerText || el.value || '');
                 return [el.tagName.toLowerCase(), el.id || '', name.trim()];",
                vec![],
            )
            .await;
        let part = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
        Focused {
            tag: part(0),
            id: part(1),
            name: part(2),
        }
    }

    /// Waits until the focus is on an element matching the CSS `selector`.
    pub async fn wait_focus(&self, selector: &str) -> Focused {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let on = self
                .eval(
                    "const el = document.activeElement; return !!el && el.matches(arguments[0]);",
                    vec![json!(selector)],
                )
                .await;
            if on == json!(true) {
                return self.focused().await;
            }
            if tokio::time::Instant::now() > deadline {
                self.screenshot("failure").await;
                panic!(
                    "the focus never reached {selector}; it is on {:?}",
                    self.focused().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets a date-and-time field (`<id>-date`, `<id>-time`) to `value`, a
    /// `YYYY-MM-DDTHH:MM` in the browser's zone.
    pub async fn set_datetime(&self, id: &str, value: &str) {
        let (date, time) = value.split_once('T').unwrap_or((value, ""));
        self.set_value(&format!("{id}-date"), date).await;
        self.set_value(&format!("{id}-time"), time).await;
    }

    /// A date-and-time field's value as `YYYY-MM-DDTHH:MM`.
    pub async fn datetime(&self, id: &str) -> String {
        format!(
            "{}T{}",
            self.value(&format!("{id}-date")).await,
            self.value(&format!("{id}-time")).await
        )
    }

    /// The document's title.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page's title")
    }

    /// Opens the page's main navigation link `text` (on a phone, through the menu).
    pub async fn nav(&self, text: &str) {
        let l = xpath_literal(text);
        self.wait_for(Locator::XPath(&format!(
            "//nav[@aria-label='Main']//a[starts-with(normalize-space(.), {l})]"
        )))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("open {text} from the navigation: {e}"));
    }

    /// Signs in on the sign-in page as the demo person shown as `name`
    /// ("Alice Requester") and waits for the entries page.
    pub async fn sign_in(&self, name: &str) {
        self.goto("/sign-in").await;
        let l = xpath_literal(name);
        self.wait_for(Locator::XPath(&format!(
            "//button[contains(@class,'demo-user')][.//span[normalize-space(.)={l}]]"
        )))
        .await
        .click()
        .await
        .expect("click the demo person");
        self.wait_for(Locator::XPath("//button[normalize-space(.)='Sign out']"))
            .await;
        self.wait_for(Locator::XPath("//h1[normalize-space(.)='Entries']"))
            .await;
        // The entries have loaded: the page is ready to use.
        self.wait_for(Locator::XPath(
            "//article[contains(@class,'entry')] | //*[contains(@class,'empty-state')]",
        ))
        .await;
    }

    /// Signs out.
    pub async fn sign_out(&self) {
        self.click_button("Sign out").await;
        self.wait_for(Locator::XPath("//h1[normalize-space(.)='Sign in']"))
            .await;
    }

    /// Waits for a downloaded file and returns its text.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self.downloads.join(name);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && !text.is_empty()
            {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no download {} within {WAIT:?}; downloads: {:?}",
                path.display(),
                std::fs::read_dir(&self.downloads)
                    .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    /// A test that fails before [`Browser::close`] still ends its Chromium: chromedriver
    /// quits the browser when its session is deleted, not when chromedriver is killed.
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        use std::io::{Read, Write};
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
                self.port
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
            }
        }
        let _ = self.driver.start_kill();
    }
}

/// A string as an XPath literal (XPath 1.0 has no escapes: `concat` joins quotes).
pub fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
