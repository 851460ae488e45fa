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
                    "--window-size=1280,1000",
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
