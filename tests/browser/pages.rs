//! Every page of the site, at the desktop and the phone width: a screenshot of each
//! (kept under `target/screenshots/pages-…`), and axe-core run in each with no serious
//! or critical violation; the dialogs too, open.

use chrono::TimeDelta;
use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{
    BOB, DAVE, PAYROLL_RDP, PROD_DB, TestApp, VIEW_PASSWORD_EXECUTE, prod_db_request, rfc3339,
};
use tempaccess_tests::browser::{Browser, DESKTOP, PHONE, site_dir};

/// Checks the page and screenshots it at the desktop width, then at the phone width
/// as a phone opens it (loaded at that width), and back.
async fn check(b: &Browser, name: &str) {
    check_as_is(b, name, true).await;
}

/// [`check`], for a page in a state a reload would lose (an open dialog): resized only.
async fn check_as_is(b: &Browser, name: &str, reload: bool) {
    let settle = || tokio::time::sleep(std::time::Duration::from_millis(400));
    b.resize(DESKTOP).await;
    b.check_accessibility(&format!("{name} (desktop)")).await;
    b.screenshot(&format!("page-{name}-desktop")).await;
    b.resize(PHONE).await;
    if reload {
        b.client.refresh().await.expect("reload at the phone width");
        b.wait_for(Locator::Css("main h1")).await;
        b.wait_gone("//*[contains(@class,'loading')]").await;
    }
    settle().await;
    b.check_accessibility(&format!("{name} (phone)")).await;
    b.screenshot(&format!("page-{name}-phone")).await;
    b.resize(DESKTOP).await;
    if reload {
        b.client
            .refresh()
            .await
            .expect("reload at the desktop width");
        b.wait_for(Locator::Css("main h1")).await;
        b.wait_gone("//*[contains(@class,'loading')]").await;
    }
    settle().await;
}

/// Opens `path` and waits for its heading.
async fn open(b: &Browser, path: &str, heading: &str) {
    b.goto(path).await;
    b.wait_for(Locator::XPath(&format!(
        "//h1[contains(normalize-space(.), {})]",
        tempaccess_tests::browser::xpath_literal(heading)
    )))
    .await;
    // Loaded, not loading.
    b.wait_gone("//*[contains(@class,'loading')]").await;
}

#[tokio::test]
async fn every_page_passes_axe_at_desktop_and_phone_width() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let dave = app.login("dave").await;
    // A grant running now, one to come, one waiting, one denied.
    let active = app
        .submit_ok(&alice, &prod_db_request(3600, "hotfix"))
        .await;
    app.decide(
        &bob,
        &active,
        &json!({"decision": "approve", "duration_seconds": 1800, "comment": "half an hour"}),
    )
    .await
    .expect(200);
    let now = app.now().await;
    let later = app
        .submit_ok(
            &alice,
            &json!({"entry_id": PAYROLL_RDP, "permission_set": "operator", "approver_id": DAVE,
                    "window": {"start": rfc3339(now + TimeDelta::hours(2)), "end": rfc3339(now + TimeDelta::hours(3))},
                    "message": "month end"}),
        )
        .await;
    app.decide(&dave, &later, &json!({"decision": "approve"}))
        .await
        .expect(200);
    let (_, link) = app
        .submit_and_get_link(
            &alice,
            &json!({"entry_id": PAYROLL_RDP, "permission_set": VIEW_PASSWORD_EXECUTE,
            "approver_id": BOB, "duration_seconds": 3600, "message": "export <b>now</b>"}),
        )
        .await;
    let denied = app
        .submit_ok(
            &alice,
            &json!({"entry_id": "billing-api-key", "permission_set": VIEW_PASSWORD_EXECUTE,
            "approver_id": DAVE, "duration_seconds": 900, "message": "rotate"}),
        )
        .await;
    app.decide(
        &dave,
        &denied,
        &json!({"decision": "deny", "comment": "not today"}),
    )
    .await
    .expect(200);

    let b = Browser::start(&app.base_url, "pages").await;

    // Signed out.
    open(&b, "/sign-in", "Sign in").await;
    check(&b, "sign-in").await;
    open(&b, "/reports", "Sign in to continue").await;
    check(&b, "sign-in-to-continue").await;
    open(&b, "/no-such-page", "Page not found").await;
    check(&b, "not-found").await;
    open(&b, "/mail", "Mailbox").await;
    b.wait_for_text("To bob@example.com").await;
    check(&b, "mailbox").await;
    open(
        &b,
        &format!("/decide#token={link}"),
        "Temporary access request",
    )
    .await;
    b.wait_for_text("Sign in to decide").await;
    check(&b, "decide-signed-out").await;
    b.eval("sessionStorage.clear(); return null;", vec![]).await;
    open(&b, "/decide", "This decision link is incomplete").await;
    check(&b, "decide-incomplete").await;

    // alice.
    b.sign_in("Alice Requester").await;
    b.wait_for_text("Production database").await;
    check(&b, "entries").await;
    open(
        &b,
        &format!("/entries/{PROD_DB}/request"),
        "Temporary access request",
    )
    .await;
    check(&b, "request-form").await;
    b.click_button("Set custom time frame").await;
    b.set_value("window-end-time", "").await;
    b.click_button("Send request").await;
    b.wait_for_text("There is a problem").await;
    check_as_is(&b, "request-form-errors", false).await;
    open(&b, "/reports", "Temporary Access Requests Report").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{active}']")))
        .await;
    check(&b, "report-mine").await;
    b.click_button("End access to Production database").await;
    b.wait_for_text("End your access now?").await;
    check_as_is(&b, "end-access-dialog", false).await;
    b.click_button("Keep access").await;
    open(
        &b,
        &format!("/requests/{active}"),
        "Request for Production database",
    )
    .await;
    check(&b, "timeline").await;
    open(&b, "/access", "Access now").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{later}']")))
        .await;
    check(&b, "access-now").await;
    b.sign_out().await;

    // bob, the approver.
    b.sign_in("Bob Approver").await;
    open(&b, "/approvals", "Approvals").await;
    b.wait_for_text("Alice Requester").await;
    check(&b, "approvals").await;
    b.click_button("Decide on Alice Requester's request for Payroll server (RDP)")
        .await;
    b.wait_for_text("Other approvers of this entry").await;
    check_as_is(&b, "approvals-open", false).await;
    open(
        &b,
        &format!("/decide#token={link}"),
        "Temporary access request",
    )
    .await;
    b.wait_for_text("You are signed in as Bob Approver").await;
    check(&b, "decide").await;
    b.click_button("Deny").await;
    b.wait_for_text("Deny Alice Requester's request?").await;
    check_as_is(&b, "deny-dialog", false).await;
    b.click_button("Go back").await;
    open(
        &b,
        "/reports?scope=approvals",
        "Temporary Access Requests Report",
    )
    .await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{active}']")))
        .await;
    check(&b, "report-approvals").await;
    b.click_button("Revoke Alice Requester's access to Production database")
        .await;
    b.wait_for_text("Reason (the requester reads it)").await;
    check_as_is(&b, "revoke-dialog", false).await;
    b.click_button("Keep access").await;
    b.sign_out().await;

    // carol, the admin.
    b.sign_in("Carol Admin").await;
    open(&b, "/reports?scope=all", "Temporary Access Requests Report").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{denied}']")))
        .await;
    check(&b, "report-all").await;
    open(&b, "/access", "Access now").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{active}']")))
        .await;
    check(&b, "access-now-admin").await;

    b.close().await;
}
