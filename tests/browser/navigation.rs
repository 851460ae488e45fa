//! Moving around the site: each page titled, the focus on its heading after a move,
//! `aria-current` on the link of the page shown, a focus ring that can be seen, the way
//! back to where the reader came from, errors in words with "Try again" only when it
//! can help, the sign-in shared by every tab, and a navigation that folds on a phone.

use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{TestApp, prod_db_request};
use tempaccess_tests::browser::{Browser, PHONE, site_dir};

/// The contrast ratio of two CSS colours `rgb(r, g, b)`, as WCAG computes it.
fn contrast(a: &str, b: &str) -> f64 {
    fn channels(c: &str) -> [f64; 3] {
        let inner = c
            .trim()
            .trim_start_matches("rgba(")
            .trim_start_matches("rgb(")
            .trim_end_matches(')');
        let v: Vec<f64> = inner
            .split(',')
            .take(3)
            .map(|p| p.trim().parse().unwrap_or(0.0))
            .collect();
        [v[0], v[1], v[2]]
    }
    fn luminance(c: &str) -> f64 {
        let [r, g, b] = channels(c).map(|v| {
            let v = v / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        });
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The focused element's outline colour and what it sits on: its nearest ancestor's
/// own background.
async fn ring(b: &Browser) -> (String, String) {
    let v = b
        .eval(
            "const el = document.activeElement;
             let bg = 'rgb(255, 255, 255)';
             for (let p = el.parentElement; p; p = p.parentElement) {
               const c = getComputedStyle(p).backgroundColor;
               if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
             }
             const s = getComputedStyle(el);
             return [s.outlineColor, bg, s.outlineStyle, s.outlineWidth];",
            vec![],
        )
        .await;
    assert_eq!(v[2], "solid", "a visible focus ring: {v}");
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn pages_are_titled_focused_marked_and_their_errors_are_words() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "deploy"))
        .await;
    app.decide(&bob, &id, &json!({"decision": "approve"}))
        .await
        .expect(200);
    let b = Browser::start(&app.base_url, "navigation").await;
    b.sign_in("Alice Requester").await;
    assert_eq!(b.title().await, "Entries · tempaccess");

    // A move: the title says where, the focus is on the heading, the link is current.
    b.nav("Reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    assert_eq!(b.title().await, "Reports · tempaccess");
    let focused = b.wait_focus("main h1").await;
    assert_eq!(focused.tag, "h1");
    let current = b
        .wait_for(Locator::Css(
            "nav[aria-label='Main'] a[aria-current='page']",
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(current, "Reports");
    assert!(
        b.client
            .find(Locator::Css("span[aria-current]"))
            .await
            .is_err(),
        "aria-current sits on the link, not inside it"
    );
    b.nav("Access now").await;
    b.wait_focus("main h1").await;
    assert_eq!(b.title().await, "Access now · tempaccess");

    // The focus ring: 3:1 or more against what it sits on, on the page and in the
    // dark header.
    b.tab_to("access-filter").await;
    let (outline, background) = ring(&b).await;
    assert!(
        contrast(&outline, &background) >= 3.0,
        "focus ring {outline} on {background}: {:.2}:1",
        contrast(&outline, &background)
    );
    assert!(contrast(&outline, "rgb(255, 255, 255)") >= 3.0);
    // In the header: the skip link first, then the brand.
    b.goto("/access").await;
    b.wait_for_text("Your grants active at this moment").await;
    b.tab().await;
    assert_eq!(b.focused().await.name, "Skip to content");
    b.tab().await;
    assert_eq!(b.focused().await.name, "tempaccess, your entries");
    let (outline, background) = ring(&b).await;
    assert!(
        contrast(&outline, &background) >= 3.0,
        "focus ring {outline} on the header's {background}: {:.2}:1",
        contrast(&outline, &background)
    );

    // The way back from a request leads where the reader came from.
    b.wait_for(Locator::XPath(&format!(
        "//tr[@data-request-id='{id}']//a[normalize-space(.)='Timeline']"
    )))
    .await
    .click()
    .await
    .unwrap();
    b.wait_for_text("Request for Production database").await;
    assert_eq!(
        b.title().await,
        "Request for Production database · tempaccess"
    );
    b.click_link("← Access now").await;
    b.wait_for_text("Your grants active at this moment").await;
    b.wait_focus("main h1").await;

    // Errors in words; "Try again" only where trying again can help.
    b.goto("/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV").await;
    b.wait_for_text("This request does not exist, or you may not see it.")
        .await;
    assert!(!b.body_text().await.contains("Try again"));
    assert!(!b.body_text().await.contains("Not found:"));
    b.goto("/reports?scope=all").await;
    b.wait_for_text("Only admins may see every request.").await;
    assert!(!b.body_text().await.contains("Not allowed:"));
    assert!(!b.body_text().await.contains("Try again"));

    // The zone is named once, on a 24-hour clock.
    let note = b.by_id("time-zone-note").await.text().await.unwrap();
    assert!(
        note.contains("America/New_York (EST") || note.contains("America/New_York (EDT"),
        "{note}"
    );
    assert!(note.contains("24-hour"), "{note}");
    b.close().await;
}

#[tokio::test]
async fn the_sign_in_is_shared_by_every_tab() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "tabs").await;
    b.sign_in("Alice Requester").await;
    let first = b.client.window().await.unwrap();
    // A new tab, as a mail's link or "open in new tab" makes: still signed in.
    let second = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(second.handle).await.unwrap();
    b.goto("/reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    assert!(!b.body_text().await.contains("Sign in to continue"));
    b.screenshot("second-tab").await;
    // Signing out there signs out here too.
    b.sign_out().await;
    b.client.switch_to_window(first).await.unwrap();
    b.wait_for(Locator::XPath(
        "//nav[@aria-label='Main']//a[normalize-space(.)='Sign in']",
    ))
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_phone_folds_the_navigation_and_the_sign_in_names_what_is_missing() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "phone-nav").await;
    b.goto("/sign-in").await;
    b.wait_for_text("Or a name or email").await;
    assert!(!b.body_text().await.contains("embedded default"));
    // An empty name is named, not ignored.
    b.by_id("dev-user").await.click().await.unwrap();
    b.press(&fantoccini::key::Key::Enter.to_string()).await;
    b.wait_for_text("enter a name or an email to sign in as")
        .await;
    b.wait_focus("#dev-user").await;
    b.sign_in("Alice Requester").await;

    b.resize(PHONE).await;
    b.client.refresh().await.unwrap();
    b.wait_for_text("Production database").await;
    let height = b
        .eval(
            "return document.querySelector('.site-header').getBoundingClientRect().height;",
            vec![],
        )
        .await;
    assert!(
        height.as_f64().unwrap_or(999.0) <= 64.0,
        "the header takes {height} px on a phone"
    );
    b.screenshot("menu-closed").await;
    b.click_button("Menu").await;
    let expanded = b
        .css(".menu-button")
        .await
        .attr("aria-expanded")
        .await
        .unwrap();
    assert_eq!(expanded.as_deref(), Some("true"));
    b.screenshot("menu-open").await;
    b.nav("Reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    let expanded = b
        .css(".menu-button")
        .await
        .attr("aria-expanded")
        .await
        .unwrap();
    assert_eq!(
        expanded.as_deref(),
        Some("false"),
        "a page chosen closes the menu"
    );
    b.close().await;
}
