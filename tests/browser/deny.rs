//! A denied request in the browser: the form asks for the message the entry requires,
//! bob denies from his Approvals page after a confirmation that takes his message, and
//! alice reads it in her report and the request's timeline.

use fantoccini::Locator;
use tempaccess_tests::app::{TestApp, items, str_field};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn a_denied_request_shows_the_approvers_message() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "deny").await;

    b.sign_in("Alice Requester").await;
    b.goto("/entries/payroll-rdp/request").await;
    b.wait_for_text("Payroll server (RDP)").await;
    b.by_id("set-operator")
        .await
        .click()
        .await
        .expect("pick the operator set");
    b.select("approver", "bob@example.com").await;
    b.select("duration", "3600").await;
    // The entry requires a message: the form says so before anything is sent.
    b.click_button("Send request").await;
    let error = b.by_id("message-error").await.text().await.unwrap();
    assert_eq!(error, "this entry requires a message to the approver");
    assert!(
        app.mail_to("bob@example.com").await.is_empty(),
        "nothing was sent"
    );
    b.screenshot("message-required").await;
    b.type_into("message", "Quarterly payroll export").await;
    b.click_button("Send request").await;
    b.wait_for_text("Request sent").await;

    // bob decides from his Approvals page: Deny asks first.
    b.sign_out().await;
    b.sign_in("Bob Approver").await;
    b.nav("Approvals").await;
    b.wait_for_text("Alice Requester").await;
    b.wait_for_text("Operator (execute only)").await;
    b.screenshot("approvals").await;
    let alice = app.login("alice").await;
    let list = app
        .get("/v1/requests?scope=mine", &alice)
        .await
        .expect_json(200);
    let id = str_field(&items(&list)[0], "id");
    b.click_button("Decide on Alice Requester's request for Payroll server (RDP)")
        .await;
    b.type_into(
        &format!("decision-{id}-comment"),
        "Not during the payroll run",
    )
    .await;
    b.click_button("Deny").await;
    b.wait_for_text("Deny Alice Requester's request?").await;
    // The message written in the form is the dialog's; nothing is sent yet.
    assert_eq!(
        b.value(&format!("decision-{id}-deny-reason")).await,
        "Not during the payroll run"
    );
    assert_eq!(app.status_of(&alice, &id).await, "pending");
    b.screenshot("deny-confirmation").await;
    b.click_button("Deny request").await;
    b.wait_for_text("Denied Alice Requester's request for Payroll server (RDP).")
        .await;
    b.wait_for_text("No requests are waiting for your decision.")
        .await;
    b.screenshot("denied").await;

    // alice reads the message in her report and in the timeline.
    b.sign_out().await;
    b.sign_in("Alice Requester").await;
    b.nav("Reports").await;
    let row = b
        .wait_for(Locator::Css(&format!("tr[data-request-id='{id}']")))
        .await;
    let message = row
        .find(Locator::Css(".authorization-message"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(message, "Approver: Not during the payroll run");
    b.wait_for(Locator::XPath(&format!(
        "//tr[@data-request-id='{id}']//span[normalize-space(.)='Denied']"
    )))
    .await;
    b.screenshot("report").await;
    b.wait_for(Locator::XPath(&format!(
        "//tr[@data-request-id='{id}']//a[normalize-space(.)='Timeline']"
    )))
    .await
    .click()
    .await
    .unwrap();
    b.wait_for_text("Approver's message").await;
    b.wait_for_text("Not during the payroll run").await;
    b.screenshot("timeline").await;

    b.close().await;
}
