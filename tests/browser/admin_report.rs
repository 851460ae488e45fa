//! The admin's report in the browser: all requests, filtered, ordered by the server,
//! paged with the page in the URL (reload and Back keep it), with the total; the
//! columns fit a 1280-pixel screen and become cards on a phone; a grant revoked with a
//! reason from its row; the report exported as CSV; wrong filters named before asking.

use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{
    BILLING_API_KEY, DAVE, PAYROLL_RDP, TestApp, VIEW_PASSWORD_EXECUTE, prod_db_request,
};
use tempaccess_tests::browser::{Browser, PHONE, site_dir};

#[tokio::test]
async fn an_admin_filters_orders_pages_and_downloads_the_report() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let dave = app.login("dave").await;
    let first = app
        .submit_ok(&alice, &prod_db_request(3600, "pending one"))
        .await;
    app.advance_clock(1).await;
    let billing = app
        .submit_ok(
            &alice,
            &json!({"entry_id": BILLING_API_KEY, "permission_set": VIEW_PASSWORD_EXECUTE,
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
    app.advance_clock(1).await;
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
    b.nav("Reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    // carol has asked for nothing: the empty report says why, not "no match".
    b.wait_for_text("You have not requested access yet.").await;
    assert!(!b.body_text().await.contains("Sorting applies"));
    b.click_link("All requests").await;
    b.wait_for_text("Showing 1–3 of 3 requests, page 1 of 1.")
        .await;
    b.screenshot("all-requests").await;
    // The tab of the page shown is the link marked current.
    let current = b
        .wait_for(Locator::Css(".tabs a[aria-current='page']"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(current, "All requests");

    // Every column fits a 1280-pixel screen: no sideways scrolling, the actions seen.
    let overflow = b
        .eval(
            "const w = document.querySelector('.table-wrap');
             return [w.scrollWidth, w.clientWidth];",
            vec![],
        )
        .await;
    assert!(
        overflow[0].as_u64() <= overflow[1].as_u64(),
        "the report scrolls sideways at 1280 px: {overflow}"
    );
    for header in ["Requested by", "Granted", "Decided", "ID", "Actions"] {
        b.wait_for(Locator::XPath(&format!(
            "//table//th[normalize-space(.)='{header}']"
        )))
        .await;
    }

    // Filter: denied only.
    b.select("filter-status", "denied").await;
    b.click_button("Apply filters").await;
    b.wait_for_text("Showing 1–1 of 1 request, page 1 of 1.")
        .await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{payroll}']")))
        .await;
    assert!(
        b.path().await.contains("status=denied"),
        "filters live in the URL"
    );
    b.screenshot("filtered-denied").await;

    // The server orders: oldest first puts the first request first, on every page.
    b.click_button("Clear filters").await;
    b.wait_for_text("Showing 1–3 of 3 requests").await;
    b.click_button("Requested on, newest first: show oldest first")
        .await;
    b.wait_for(Locator::XPath(
        "//th[@aria-sort='ascending'][.//button[contains(., 'Requested on')]]",
    ))
    .await;
    assert!(
        b.path().await.contains("order=oldest"),
        "{}",
        b.path().await
    );
    let first_row = b
        .css("table.report tbody tr:first-child")
        .await
        .attr("data-request-id")
        .await
        .unwrap();
    assert_eq!(first_row.as_deref(), Some(first.as_str()));
    b.screenshot("oldest-first").await;

    // Revoke alice's grant from its row, with the reason she will read.
    b.click_button("Revoke Alice Requester's access to Billing API key")
        .await;
    b.wait_for_text("Reason (the requester reads it)").await;
    b.click_button("Revoke access").await;
    b.wait_for_text("say why the access is revoked").await;
    b.type_into(&format!("end-{billing}-reason"), "Key rotation finished")
        .await;
    b.screenshot("revoke-dialog").await;
    b.click_button("Revoke access").await;
    b.wait_for_text("Revoked Alice Requester's access to Billing API key.")
        .await;
    let revoked = app.request_detail(&alice, &billing).await;
    assert_eq!(revoked["request"]["status"], "revoked");
    assert_eq!(revoked["request"]["revoke_reason"], "Key rotation finished");
    assert_eq!(revoked["request"]["revoked_by"], "carol@example.com");

    // Export the filtered report.
    b.select("filter-status", "denied").await;
    b.click_button("Apply filters").await;
    b.wait_for_text("Showing 1–1 of 1 request").await;
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
        lines[1]
            .starts_with("denied,alice@example.com,Payroll server (RDP),Operator (execute only)"),
        "{csv}"
    );
    assert!(lines[1].contains("use the export"), "{csv}");

    // A partial address is named, not silently refused, and gets the focus.
    b.click_button("Clear filters").await;
    b.type_into("filter-requester", "ali").await;
    b.click_button("Apply filters").await;
    b.wait_for_text("Requester: enter a whole email address")
        .await;
    b.wait_focus("#filter-requester").await;
    b.screenshot("partial-address").await;

    // On a phone the page is as wide as the screen and each row a card.
    b.goto("/reports?scope=all").await;
    b.resize(PHONE).await;
    b.client.refresh().await.unwrap();
    b.wait_for_text("Showing 1–3 of 3 requests").await;
    let page_width = b
        .eval("return document.documentElement.scrollWidth;", vec![])
        .await;
    assert!(
        page_width.as_u64().unwrap_or(9999) <= u64::from(PHONE.0),
        "the page is wider than the screen: {page_width}"
    );
    let cell = b
        .eval(
            "return getComputedStyle(document.querySelector('table.report tbody td')).display;",
            vec![],
        )
        .await;
    assert_eq!(cell, "grid", "rows are cards of labelled lines on a phone");
    let filters_open = b
        .eval(
            "return document.querySelector('.filters-box').open;",
            vec![],
        )
        .await;
    assert_eq!(filters_open, false, "a phone folds the filters away");
    b.screenshot("phone").await;

    b.close().await;
}

#[tokio::test]
async fn the_page_lives_in_the_url_with_the_total() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    // 27 decided requests: two pages of 25. Each is denied at once, so alice never
    // holds more than one open request.
    for i in 0..27 {
        let id = app
            .submit_ok(&alice, &prod_db_request(3600, &format!("number {i}")))
            .await;
        app.decide(&bob, &id, &json!({"decision": "deny"}))
            .await
            .expect(200);
    }
    let b = Browser::start(&app.base_url, "report-pages").await;
    b.sign_in("Alice Requester").await;
    b.goto("/reports").await;
    b.wait_for_text("Showing 1–25 of 27 requests, page 1 of 2.")
        .await;
    // "Requested by" says nothing in one's own requests.
    assert!(
        b.client
            .find(Locator::XPath(
                "//table//th[normalize-space(.)='Requested by']"
            ))
            .await
            .is_err()
    );
    b.click_button("Next page").await;
    b.wait_for_text("Showing 26–27 of 27 requests, page 2 of 2.")
        .await;
    let path = b.path().await;
    assert!(path.contains("pages="), "the page is in the URL: {path}");
    b.client.refresh().await.unwrap();
    b.wait_for_text("Showing 26–27 of 27 requests, page 2 of 2.")
        .await;
    b.screenshot("page-two").await;
    b.client.back().await.unwrap();
    b.wait_for_text("Showing 1–25 of 27 requests, page 1 of 2.")
        .await;
    b.close().await;
}
