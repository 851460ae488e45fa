//! The approver's inbox: a count in the navigation, a compact list oldest first with
//! the requesters' names, the entry's other approvers, and a bulk denial with a reason.

use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{BOB, PAYROLL_RDP, TestApp, VIEW_PASSWORD_EXECUTE, prod_db_request};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn the_inbox_counts_lists_oldest_first_and_denies_in_bulk() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let carol = app.login("carol").await;
    let oldest = app
        .submit_ok(&carol, &prod_db_request(3600, "carol's"))
        .await;
    app.advance_clock(120).await;
    let middle = app
        .submit_ok(
            &alice,
            &json!({"entry_id": PAYROLL_RDP, "permission_set": VIEW_PASSWORD_EXECUTE,
                    "approver_id": BOB, "duration_seconds": 3600, "message": "payroll"}),
        )
        .await;
    app.advance_clock(120).await;
    let newest = app
        .submit_ok(&alice, &prod_db_request(1800, "alice's"))
        .await;

    let b = Browser::start(&app.base_url, "inbox").await;
    b.sign_in("Bob Approver").await;
    // The count, in the navigation.
    let link = b
        .wait_for(Locator::XPath(
            "//nav[@aria-label='Main']//a[starts-with(normalize-space(.), 'Approvals 3')]",
        ))
        .await;
    assert!(link.text().await.unwrap().starts_with("Approvals 3"));
    b.nav("Approvals").await;
    b.wait_for_text("3 requests wait for your decision, oldest first.")
        .await;
    assert_eq!(b.title().await, "Approvals · tempaccess");
    let order = b
        .eval(
            "return [...document.querySelectorAll('tr.inbox-row')].map(r => r.dataset.requestId);",
            vec![],
        )
        .await;
    assert_eq!(order, json!([oldest, middle, newest]));
    // Names, not addresses.
    let text = b.body_text().await;
    assert!(text.contains("Carol Admin") && text.contains("Alice Requester"));
    assert!(!text.contains("alice@example.com"), "{text}");
    // Compact: three rows fit one screen.
    let height = b
        .eval(
            "return document.querySelector('table.inbox').getBoundingClientRect().height;",
            vec![],
        )
        .await;
    assert!(height.as_f64().unwrap() < 300.0, "{height}");
    b.screenshot("inbox").await;

    // Opened: the request, its form, and the entry's other approvers.
    b.click_button("Decide on Alice Requester's request for Payroll server (RDP)")
        .await;
    b.wait_for_text("Other approvers of this entry: Dave Approver.")
        .await;
    b.click_button("Close Alice Requester's request for Payroll server (RDP)")
        .await;

    // Bulk: two selected, denied with one reason.
    b.by_id(&format!("select-{oldest}"))
        .await
        .click()
        .await
        .unwrap();
    b.by_id(&format!("select-{newest}"))
        .await
        .click()
        .await
        .unwrap();
    b.click_button("Deny selected (2)").await;
    b.wait_for_text("Deny 2 requests?").await;
    b.click_button("Deny 2 requests").await;
    b.wait_for_text("say why these requests are denied").await;
    b.type_into("bulk-deny-reason", "Freeze until Monday").await;
    b.screenshot("bulk-deny").await;
    b.click_button("Deny 2 requests").await;
    b.wait_for_text("Denied 2 requests. Their requesters have been told why.")
        .await;
    b.wait_for_text("1 request waits for your decision, oldest first.")
        .await;
    b.wait_for(Locator::XPath(
        "//nav[@aria-label='Main']//a[starts-with(normalize-space(.), 'Approvals 1')]",
    ))
    .await;
    for id in [&oldest, &newest] {
        let r = &app.request_detail(&carol, id).await["request"];
        assert_eq!(r["status"], "denied", "{r}");
        assert_eq!(r["decision_comment"], "Freeze until Monday", "{r}");
    }
    assert_eq!(app.status_of(&alice, &middle).await, "pending");
    b.close().await;
}
