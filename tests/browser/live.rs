//! Open pages follow the truth by themselves: a grant revoked elsewhere, or whose end
//! time passes, leaves the page within seconds — status, password and buttons — saying
//! who ended it and why; and a grant warns shortly before its end.

use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{PROD_DB, TestApp, prod_db_request};
use tempaccess_tests::browser::{Browser, site_dir};

const PROD_DB_CARD: &str = "//article[.//h2[normalize-space(.)='Production database']]";

#[tokio::test]
async fn a_grant_revoked_elsewhere_leaves_the_open_page() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "hotfix"))
        .await;
    app.decide(&bob, &id, &json!({"decision": "approve"}))
        .await
        .expect(200);

    let b = Browser::start(&app.base_url, "live-revoked").await;
    b.sign_in("Alice Requester").await;
    b.click_button("View password of Production database").await;
    b.css(".secret-password").await;
    b.screenshot("password-shown").await;

    // carol revokes it from elsewhere; alice's page is not touched.
    app.cancel(&carol, &id, &json!({"reason": "incident over"}))
        .await
        .expect(200);
    b.wait_for_text(
        "Your access to Production database was revoked by Carol Admin: “incident over”",
    )
    .await;
    b.wait_gone("//*[contains(@class,'secret-password')]").await;
    b.wait_gone("//button[@aria-label='View password of Production database']")
        .await;
    b.wait_for(Locator::XPath(&format!(
        "{PROD_DB_CARD}//span[normalize-space(.)='No access']"
    )))
    .await;
    b.screenshot("revoked-elsewhere").await;
    app.secret(&alice, PROD_DB).await.expect(403);
    b.close().await;
}

#[tokio::test]
async fn a_grant_warns_before_its_end_and_ends_on_the_open_page() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "deploy"))
        .await;
    app.decide(
        &bob,
        &id,
        &json!({"decision": "approve", "duration_seconds": 900}),
    )
    .await
    .expect(200);

    let b = Browser::start(&app.base_url, "live-end").await;
    b.sign_in("Alice Requester").await;
    b.wait_for_text("15 min left").await;
    b.click_button("View password of Production database").await;
    b.css(".secret-password").await;

    // Four minutes before the end (on the server's clock): a warning, said aloud.
    app.advance_clock(11 * 60).await;
    let warning = b
        .wait_for(Locator::XPath(
            "//*[contains(@class,'countdown') and contains(@class,'warning')][@role='status']",
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        warning.starts_with("Your access ends soon: 4 min left"),
        "{warning}"
    );
    b.screenshot("ends-soon").await;

    // The request's own page follows too.
    b.goto(&format!("/requests/{id}")).await;
    b.wait_for_text("ends soon").await;

    // Past the end: the status, the buttons and the password follow within seconds.
    app.advance_clock(5 * 60).await;
    b.wait_for(Locator::XPath(
        "//dd//span[contains(@class,'badge')][normalize-space(.)='Ended']",
    ))
    .await;
    b.wait_gone("//button[normalize-space(.)='End access']")
        .await;
    b.goto("/").await;
    b.wait_for(Locator::XPath(&format!(
        "{PROD_DB_CARD}//span[normalize-space(.)='No access']"
    )))
    .await;
    assert!(
        b.client
            .find(Locator::XPath(
                "//button[@aria-label='View password of Production database']"
            ))
            .await
            .is_err()
    );
    b.screenshot("ended").await;
    b.close().await;
}

#[tokio::test]
async fn an_open_password_goes_when_the_grant_ends_while_shown() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "deploy"))
        .await;
    app.decide(
        &bob,
        &id,
        &json!({"decision": "approve", "duration_seconds": 900}),
    )
    .await
    .expect(200);
    let b = Browser::start(&app.base_url, "live-password").await;
    b.sign_in("Alice Requester").await;
    b.click_button("View password of Production database").await;
    b.css(".secret-password").await;
    app.advance_clock(16 * 60).await;
    b.wait_for_text("Your access to Production database has ended: its time was up")
        .await;
    b.wait_gone("//*[contains(@class,'secret-password')]").await;
    b.screenshot("password-gone").await;
    b.close().await;
}
