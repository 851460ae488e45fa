//! Decision links in the browser: a used link shows the "already decided" page naming
//! who decided, an unknown one says the link is not valid, and a link followed in a tab
//! already on the decision page is read at once. None changes anything.

use serde_json::json;
use tempaccess_tests::app::{TestApp, prod_db_request};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn used_and_unknown_links_get_clear_pages() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, token) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "deploy"))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.decide_by_link(
        Some(&bob),
        &token,
        &json!({"decision": "approve", "comment": "ok"}),
    )
    .await
    .expect(200);
    let b = Browser::start(&app.base_url, "decision-link").await;

    b.goto(&format!("/decide#token={token}")).await;
    b.wait_for_text("This request was already decided").await;
    // The token leaves the address bar and the history once the page has read it.
    let href = b.eval("return window.location.href;", vec![]).await;
    assert!(
        !href.as_str().unwrap_or_default().contains(&token),
        "the token stays in the address: {href}"
    );
    b.wait_for_text("decided by Bob Approver").await;
    b.screenshot("already-decided").await;
    assert!(
        !b.body_text().await.contains("Approve\n"),
        "a decided request offers no decision"
    );

    b.goto("/").await;
    b.goto(&format!("/decide#token={}", "A".repeat(43))).await;
    b.wait_for_text("This decision link is not valid").await;
    b.screenshot("unknown-link").await;

    // A tab that never held a link (the page keeps a link's token per tab, so a
    // reload after the address was cleaned still works).
    b.goto("/").await;
    b.eval("sessionStorage.clear(); return null;", vec![]).await;
    b.goto("/decide").await;
    b.wait_for_text("This decision link is incomplete").await;
    assert_eq!(b.title().await, "Decide on a request · tempaccess");

    // A whole link followed in the same tab: only the fragment changes, and the page
    // reads it without a reload.
    let (_, fresh) = app
        .submit_and_get_link(&alice, &prod_db_request(1800, "second look"))
        .await;
    b.eval(
        "window.location.hash = 'token=' + arguments[0];",
        vec![json!(fresh)],
    )
    .await;
    b.wait_for_text("second look").await;
    b.wait_for_text("Sign in to decide").await;
    b.screenshot("same-tab-link").await;

    // Looking changed nothing: still active, approved once.
    assert_eq!(app.status_of(&alice, &id).await, "active");
    let kinds = app.event_kinds(&alice, &id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "approved").count(), 1);

    b.close().await;
}

#[tokio::test]
async fn the_approver_signs_in_from_the_link_to_decide_and_nobody_else_can() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let (created, token) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "from the mail"))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let b = Browser::start(&app.base_url, "decision-sign-in").await;

    // alice, the requester, holding bob's link: refused, nothing to click.
    b.sign_in("Alice Requester").await;
    b.goto(&format!("/decide#token={token}")).await;
    b.wait_for_text("You cannot decide this request").await;
    b.wait_for_text("You are signed in as Alice Requester (alice@example.com).")
        .await;
    b.screenshot("requester-refused").await;
    assert!(!b.body_text().await.contains("Approve\n"));
    b.sign_out().await;

    // Signed out: the request as the mail showed it, and who must sign in.
    b.goto(&format!("/decide#token={token}")).await;
    b.wait_for_text("To decide, sign in as Bob Approver (bob@example.com)")
        .await;
    b.screenshot("sign-in-to-decide").await;
    b.click_link("Sign in to decide").await;
    b.wait_for(fantoccini::Locator::XPath(
        "//button[contains(@class,'demo-user')][.//span[normalize-space(.)='Bob Approver']]",
    ))
    .await
    .click()
    .await
    .expect("sign in as bob");
    // Back on the page, the token kept by this tab, bob decides, told what is recorded.
    b.wait_for_text(
        "You are signed in as Bob Approver (bob@example.com). Your decision is recorded under your name",
    )
    .await;
    b.click_button("Approve").await;
    b.wait_for_text("Request approved").await;
    b.screenshot("approved-signed-in").await;
    let detail = app.request_detail(&alice, &id).await;
    let approved = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "approved")
        .expect("approved");
    assert_eq!(approved["actor"], "bob@example.com", "{detail}");
    b.close().await;
}
