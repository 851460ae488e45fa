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
    let (created, token) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "deploy"))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.decide_by_link(&token, &json!({"decision": "approve", "comment": "ok"}))
        .await
        .expect(200);
    let b = Browser::start(&app.base_url, "decision-link").await;

    b.goto(&format!("/decide#token={token}")).await;
    b.wait_for_text("This request was already decided").await;
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

    b.goto("/").await;
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
    b.wait_for_text("opening this page changed nothing").await;
    b.screenshot("same-tab-link").await;

    // Looking changed nothing: still active, approved once.
    assert_eq!(app.status_of(&alice, &id).await, "active");
    let kinds = app.event_kinds(&alice, &id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "approved").count(), 1);

    b.close().await;
}
