//! The entries: searched, each naming its approvers before the form opens; each card's
//! state in plain words (a pending request's deadline is the decision's, a scheduled
//! grant shows its start); an entry with an open request points to it instead of
//! offering a second; and "View password" comes first while access runs.

use chrono::TimeDelta;
use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{
    BILLING_API_KEY, DAVE, PAYROLL_RDP, TestApp, VIEW_PASSWORD_EXECUTE, prod_db_request, rfc3339,
};
use tempaccess_tests::browser::{Browser, site_dir};

fn card(name: &str) -> String {
    format!("//article[.//h2[normalize-space(.)='{name}']]")
}

#[tokio::test]
async fn entries_are_searched_and_say_what_each_state_means() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let dave = app.login("dave").await;
    let pending = app
        .submit_ok(&alice, &prod_db_request(3600, "deploy"))
        .await;
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
    let active = app
        .submit_ok(
            &alice,
            &json!({"entry_id": BILLING_API_KEY, "permission_set": VIEW_PASSWORD_EXECUTE,
                    "approver_id": DAVE, "duration_seconds": 900, "message": "rotate"}),
        )
        .await;
    app.decide(&dave, &active, &json!({"decision": "approve"}))
        .await
        .expect(200);

    let b = Browser::start(&app.base_url, "entries").await;
    b.sign_in("Alice Requester").await;

    // Approvers are named on each card, before the form.
    b.wait_for(Locator::XPath(&format!(
        "{}//*[contains(., 'Approvers: Bob Approver, Dave Approver')]",
        card("Payroll server (RDP)")
    )))
    .await;

    // Pending: waiting for whose decision, until when; a link to it, no second request.
    let prod = b
        .wait_for(Locator::XPath(&card("Production database")))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        prod.contains("Pending — waiting for Bob Approver's decision"),
        "{prod}"
    );
    assert!(prod.contains("lapses"), "{prod}");
    assert!(!prod.contains("Request Temporary Access"), "{prod}");
    // Scheduled: from when.
    let payroll = b
        .wait_for(Locator::XPath(&card("Payroll server (RDP)")))
        .await
        .text()
        .await
        .unwrap();
    assert!(payroll.contains("Scheduled from"), "{payroll}");
    assert!(payroll.contains("(starts in 2 h)"), "{payroll}");
    // Active: the password first, the request after it, and the time left.
    let order = b
        .eval(
            "const card = [...document.querySelectorAll('article.entry')].find(a => a.innerText.includes('Billing API key'));
             return [...card.querySelectorAll('button, a.button')].map(e => e.innerText.trim());",
            vec![],
        )
        .await;
    assert_eq!(order, json!(["View password", "Request Temporary Access"]));
    b.wait_for_text("15 min left").await;
    b.click_button("View password of Billing API key").await;
    b.css(".secret-password").await;
    let wraps = b
        .eval(
            "return getComputedStyle(document.querySelector('.secret-password')).whiteSpace;",
            vec![],
        )
        .await;
    assert_eq!(wraps, "nowrap", "the password never breaks inside itself");
    // The billing key is not rotated at the end, and the page says so plainly.
    b.wait_for_text("This password is not rotated when your access ends")
        .await;
    b.screenshot("entries").await;
    b.click_button("Hide password").await;

    // Search: by name, by approver.
    b.type_into("entry-search", "payroll").await;
    b.wait_for_text("1 of 3 entries match.").await;
    b.type_into("entry-search", "dave").await;
    b.wait_for_text("2 of 3 entries match.").await;
    b.wait_gone(&card("Production database")).await;
    b.type_into("entry-search", "nothing like it").await;
    b.wait_for_text("No entry matches “nothing like it”.").await;
    b.set_value("entry-search", "").await;
    b.wait_for_text("3 entries.").await;

    // The open request, not a second one.
    b.wait_for(Locator::XPath(&format!(
        "{}//a[normalize-space(.)='See your pending request']",
        card("Production database")
    )))
    .await
    .click()
    .await
    .unwrap();
    b.wait_for_text("Request for Production database").await;
    assert!(b.path().await.starts_with(&format!("/requests/{pending}")));
    b.click_link("← Entries").await;
    b.goto("/entries/prod-db/request").await;
    b.wait_for_text("You already have a request for this entry waiting for a decision.")
        .await;
    // The production database's password rotates at the end: no warning on its form;
    // the billing key's form says plainly that a password seen stays valid.
    assert!(!b.body_text().await.contains("is not rotated"));
    b.goto("/entries/billing-api-key/request").await;
    b.wait_for_text("This entry's password is not rotated when your access ends")
        .await;
    b.close().await;
}
