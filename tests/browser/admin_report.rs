//! The admin's report in the browser: all requests, filtered, sorted, a grant revoked
//! with a reason, and the report exported as CSV; and readable on a narrow screen.

use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{BILLING_API_KEY, DAVE, PAYROLL_RDP, TestApp, prod_db_request};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn an_admin_filters_the_report_and_downloads_csv() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let dave = app.login("dave").await;
    app.submit_ok(&alice, &prod_db_request(3600, "pending one"))
        .await;
    let billing = app
        .submit_ok(
            &alice,
            &json!({"entry_id": BILLING_API_KEY, "permission_set": "view-password-execute",
                    "approver_id": DAVE, "duration_seconds": 900, "message": "rotate key"}),
        )
        .await;
    app.decide(
        &dave,
        &billing,
        &json!({"decision": "approve", "comment": "go"}),
    )
    .await
    .expect(200);
    let payroll = app
        .submit_ok(
            &alice,
            &json!({"entry_id": PAYROLL_RDP, "permission_set": "operator",
                    "approver_id": DAVE, "duration_seconds": 900, "message": "payslips"}),
        )
        .await;
    app.decide(
        &dave,
        &payroll,
        &json!({"decision": "deny", "comment": "use the export"}),
    )
    .await
    .expect(200);

    let b = Browser::start(&app.base_url, "admin-report").await;
    b.sign_in("Carol Admin").await;
    b.click_link("Reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    b.click_link("All requests").await;
    b.wait_for_text("3 requests on page 1.").await;
    b.screenshot("all-requests").await;

    // Filter: denied only.
    b.select("filter-status", "denied").await;
    b.click_button("Apply filters").await;
    b.wait_for_text("1 request on page 1.").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{payroll}']")))
        .await;
    assert!(
        b.path().await.contains("status=denied"),
        "filters live in the URL"
    );
    b.screenshot("filtered-denied").await;

    // Filter: one entry, any status; then sort by status.
    b.click_button("Clear filters").await;
    b.wait_for_text("3 requests on page 1.").await;
    b.select("filter-entry", "billing-api-key").await;
    b.click_button("Apply filters").await;
    b.wait_for_text("1 request on page 1.").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{billing}']")))
        .await;
    b.click_button("Clear filters").await;
    b.wait_for_text("3 requests on page 1.").await;
    b.click_button("Status").await;
    b.wait_for(Locator::XPath(
        "//th[@aria-sort='ascending'][.//button[contains(., 'Status')]]",
    ))
    .await;
    let first = b
        .css("table.report tbody tr:first-child .col-status")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        first, "Active",
        "statuses sort as words: active < denied < pending"
    );
    b.screenshot("sorted-by-status").await;

    // Revoke alice's grant, with the reason she will read.
    b.click_button("Revoke alice@example.com's access to Billing API key")
        .await;
    b.wait_for_text("Reason (the requester reads it)").await;
    b.click_button("Revoke access").await;
    b.wait_for_text("say why the access is revoked").await;
    b.type_into("revoke-reason", "Key rotation finished").await;
    b.screenshot("revoke-dialog").await;
    b.click_button("Revoke access").await;
    b.wait_for_text("Revoked alice@example.com's access to Billing API key.")
        .await;
    let revoked = app.request_detail(&alice, &billing).await;
    assert_eq!(revoked["request"]["status"], "revoked");
    assert_eq!(revoked["request"]["revoke_reason"], "Key rotation finished");
    assert_eq!(revoked["request"]["revoked_by"], "carol@example.com");

    // Export the filtered report.
    b.select("filter-status", "denied").await;
    b.click_button("Apply filters").await;
    b.wait_for_text("1 request on page 1.").await;
    b.click_button("Export CSV").await;
    b.wait_for_text("CSV exported").await;
    let csv = b.downloaded("temporary-access-requests.csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("status,requested_by,entry,rights"),
        "{csv}"
    );
    assert_eq!(
        lines.len(),
        2,
        "the header and the one denied request: {csv}"
    );
    assert!(
        lines[1].starts_with("denied,alice@example.com,Payroll server (RDP)"),
        "{csv}"
    );
    assert!(lines[1].contains("use the export"), "{csv}");

    // Readable on a narrow screen: the table scrolls inside its box, the page does not.
    b.client.set_window_size(390, 900).await.unwrap();
    b.screenshot("narrow-screen").await;
    let page_width = b
        .eval("return document.documentElement.scrollWidth;", vec![])
        .await;
    assert!(
        page_width.as_u64().unwrap_or(9999) <= 400,
        "the page is wider than the screen: {page_width}"
    );

    b.close().await;
}
