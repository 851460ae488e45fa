//! The site on a slow network: Chrome DevTools' "Fast 3G" profile, a cold cache. The
//! sign-in page comes up and signing in works. The time from the navigation's start
//! until the app has drawn its first control is measured, never asserted: with
//! `TEMPACCESS_BENCH_OUT` naming a file, it is written there, and `cargo xtask bench
//! tti` puts it in BENCHMARKS.md.

use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::TestApp;
use tempaccess_tests::browser::{Browser, FAST_3G, site_dir};

/// The first control the app draws on the sign-in page: a demo person's button.
const FIRST_CONTROL: &str = "button.demo-user";

#[tokio::test]
async fn the_site_starts_and_signs_in_on_fast_3g() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "slow_network").await;
    // Notes, in the page, when the app first draws the control (performance.now(): ms
    // since the navigation started).
    b.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": format!(
            "new MutationObserver((_, o) => {{ if (document.querySelector('{FIRST_CONTROL}')) \
             {{ window.__interactiveMs = performance.now(); o.disconnect(); }} }})\
             .observe(document, {{ childList: true, subtree: true }});"
        ) }),
    )
    .await;
    b.throttle(&FAST_3G).await;

    b.goto("/sign-in").await;
    b.wait_for(Locator::Css(FIRST_CONTROL)).await;
    let interactive = b
        .eval("return window.__interactiveMs ?? null;", vec![])
        .await
        .as_f64()
        .expect("the page noted when its first control appeared");
    let loaded = b
        .eval(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return n ? n.loadEventEnd : null;",
            vec![],
        )
        .await;
    let transferred = b
        .eval(
            "return performance.getEntriesByType('resource')\
             .concat(performance.getEntriesByType('navigation'))\
             .reduce((sum, r) => sum + (r.transferSize || 0), 0);",
            vec![],
        )
        .await;

    // The site works at that speed: signing in reaches the entries.
    b.sign_in("Alice Requester").await;
    assert!(
        b.body_text().await.contains("Entries"),
        "signed in on the slow network"
    );

    if let Ok(path) = std::env::var("TEMPACCESS_BENCH_OUT") {
        let row = format!(
            "| {} ({} ms latency, {} KB/s down, {} KB/s up), cold cache | {:.0} ms | {:.0} ms | {} B |\n",
            FAST_3G.name,
            FAST_3G.latency_ms,
            FAST_3G.download_bytes_per_s / 1000.0,
            FAST_3G.upload_bytes_per_s / 1000.0,
            interactive,
            loaded.as_f64().unwrap_or(f64::NAN),
            grouped(transferred.as_f64().unwrap_or_default() as u64),
        );
        std::fs::write(&path, row).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    b.close().await;
}

/// `1055548` as `1 055 548`, as BENCHMARKS.md writes bytes.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(d);
    }
    out
}
