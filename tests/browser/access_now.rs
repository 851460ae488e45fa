//! Access now: each grant with the time left, revoked from its row, filtered by entry
//! or person, and the grants approved to start later below.

use chrono::TimeDelta;
use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{
    BILLING_API_KEY, DAVE, PAYROLL_RDP, TestApp, VIEW_PASSWORD_EXECUTE, prod_db_request, rfc3339,
};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn access_now_revokes_from_the_row_filters_and_shows_what_starts_later() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let dave = app.login("dave").await;
    let alices = app
        .submit_ok(&alice, &prod_db_request(3600, "deploy"))
        .await;
    app.decide(&bob, &alices, &json!({"decision": "approve"}))
        .await
        .expect(200);
    let carols = app
        .submit_ok(
            &carol,
            &json!({"entry_id": BILLING_API_KEY, "permission_set": VIEW_PASSWORD_EXECUTE,
                    "approver_id": DAVE, "duration_seconds": 900, "message": "audit"}),
        )
        .await;
    app.decide(&dave, &carols, &json!({"decision": "approve"}))
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

    let b = Browser::start(&app.base_url, "access-now").await;
    b.sign_in("Carol Admin").await;
    b.nav("Access now").await;
    b.wait_for_text("2 grants active now.").await;
    b.wait_for_text("1 h left").await;
    b.wait_for_text("15 min left").await;
    // What starts later, with when.
    let upcoming = b
        .wait_for(Locator::Css(&format!("tr[data-request-id='{later}']")))
        .await
        .text()
        .await
        .unwrap();
    assert!(upcoming.contains("in 2 h"), "{upcoming}");
    b.screenshot("access-now").await;

    // Filter by entry, then by person.
    b.type_into("access-filter", "billing").await;
    b.wait_for_text("1 grant active now.").await;
    b.wait_gone(&format!("//tr[@data-request-id='{alices}']"))
        .await;
    b.type_into("access-filter", "alice").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{alices}']")))
        .await;
    b.wait_gone(&format!("//tr[@data-request-id='{carols}']"))
        .await;
    b.screenshot("filtered").await;

    // Revoke from the row.
    b.click_button("Revoke Alice Requester's access to Production database")
        .await;
    b.type_into(&format!("end-{alices}-reason"), "Deploy done")
        .await;
    b.click_button("Revoke access").await;
    b.wait_for_text("Revoked Alice Requester's access to Production database.")
        .await;
    b.wait_gone(&format!("//tr[@data-request-id='{alices}']"))
        .await;
    assert_eq!(app.status_of(&alice, &alices).await, "revoked");
    b.close().await;
}
