//! The whole flow in a real browser: alice requests with a message and a custom time
//! frame, bob follows the link from the mailbox page and approves a shorter duration,
//! alice sees what was granted beside what she asked, reveals the password, then ends
//! her access from her report: it reads "Ended early" (not "Revoked"), with the time it
//! really ended, and the password is gone.

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{ALICE, PROD_DB, TestApp, items, parse_time, str_field};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn request_approve_reveal_and_cancel_in_the_browser() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "request-flow").await;

    // alice: entries, then the request form.
    b.sign_in("Alice Requester").await;
    b.wait_for_text("Production database").await;
    b.wait_for_text("No access").await;
    b.screenshot("entries").await;
    b.wait_for(Locator::XPath(
        "//article[.//h2[normalize-space(.)='Production database']]//a[contains(., 'Request Temporary Access')]",
    ))
    .await
    .click()
    .await
    .expect("open the request form");
    b.wait_for_text("Temporary access request").await;
    b.wait_for_text("View password/Execute rights").await;
    b.screenshot("request-form").await;

    // A custom time frame, entered in the browser's zone on a 24-hour clock: from this
    // minute, two hours.
    b.click_button("Set custom time frame").await;
    // The focus follows the toggle to the frame's start.
    b.wait_focus("#window-start-date").await;
    let start = b.datetime("window-start").await;
    let start_local = NaiveDateTime::parse_from_str(&start, "%Y-%m-%dT%H:%M")
        .unwrap_or_else(|e| panic!("the form's start {start:?}: {e}"));
    let end = (start_local + TimeDelta::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    b.set_datetime("window-end", &end).await;
    b.type_into("message", "Hotfix for ticket 4711").await;
    b.wait_for_text("UTC").await;
    b.screenshot("custom-time-frame").await;
    b.click_button("Send request").await;
    b.wait_for_text("Request sent").await;
    b.screenshot("request-sent").await;

    // The server got the frame in UTC: the browser's zone is New York, 4 or 5 hours behind.
    let alice = app.login("alice").await;
    let list = app
        .get("/v1/requests?scope=mine", &alice)
        .await
        .expect_json(200);
    let request = items(&list)[0].clone();
    let id = str_field(&request, "id");
    assert_eq!(request["message"], "Hotfix for ticket 4711");
    assert_eq!(
        request["requested"]["duration_seconds"],
        serde_json::Value::Null
    );
    let sent_start = parse_time(&request["requested"]["window"]["start"]);
    let sent_end = parse_time(&request["requested"]["window"]["end"]);
    let shift = sent_start - start_local.and_utc();
    assert!(
        shift == TimeDelta::hours(4) || shift == TimeDelta::hours(5),
        "local {start_local} in New York was sent as {sent_start}"
    );
    assert_eq!(sent_end - sent_start, TimeDelta::hours(2));
    let browser_says = b
        .eval(
            "return new Date(arguments[0]).toISOString();",
            vec![json!(start)],
        )
        .await;
    assert_eq!(
        parse_time(&browser_says),
        sent_start,
        "the browser reads {start} as another instant"
    );

    // bob: the mailbox page, the link, the decision page.
    b.sign_out().await;
    b.click_link("Mailbox").await;
    b.wait_for_text("To bob@example.com").await;
    b.screenshot("mailbox").await;
    b.wait_for(Locator::XPath(
        "//article[contains(., 'To bob@example.com')]//a[contains(@href, 'decide#token=')]",
    ))
    .await
    .click()
    .await
    .expect("follow the decision link");
    // Signed out, the link shows the request; deciding takes bob signed in.
    b.wait_for_text("To decide, sign in as Bob Approver (bob@example.com)")
        .await;
    b.click_link("Sign in to decide").await;
    b.wait_for(Locator::XPath(
        "//button[contains(@class,'demo-user')][.//span[normalize-space(.)='Bob Approver']]",
    ))
    .await
    .click()
    .await
    .expect("sign in as bob");
    b.wait_for_text("opening this page changed nothing").await;
    b.wait_for_text("Hotfix for ticket 4711").await;
    b.screenshot("decision-page").await;
    b.by_id("decision-shorter")
        .await
        .click()
        .await
        .expect("choose a shorter duration");
    b.select("decision-duration", "1800").await;
    b.type_into("decision-comment", "Thirty minutes is enough")
        .await;
    b.screenshot("decision-shorter").await;
    b.click_button("Approve").await;
    b.wait_for_text("Request approved").await;
    // What was granted, said beside what was asked.
    b.wait_for_text("You approved Alice Requester's request for Production database (Requested 2 h · Granted 30 min).")
        .await;
    b.screenshot("approved").await;

    let detail = app.request_detail(&alice, &id).await;
    let granted = &detail["request"];
    assert_eq!(granted["status"], "active");
    assert_eq!(
        parse_time(&granted["ends_at"]) - parse_time(&granted["starts_at"]),
        TimeDelta::minutes(30)
    );
    assert_eq!(granted["decision_comment"], "Thirty minutes is enough");

    // alice: the grant, and the password.
    b.sign_in("Alice Requester").await;
    b.wait_for(Locator::XPath(
        "//article[.//h2[normalize-space(.)='Production database']]//span[normalize-space(.)='Active']",
    ))
    .await;
    b.click_button("View password of Production database").await;
    let password = b.css(".secret-password").await.text().await.unwrap();
    let expected = app.secret(&alice, PROD_DB).await.expect_json(200);
    assert_eq!(password, str_field(&expected, "password"));
    // Production database's password rotates at the end: said beside it.
    b.wait_for_text("This password is changed when your access ends.")
        .await;
    b.screenshot("password-revealed").await;
    b.click_button("Copy password").await;
    b.wait_for(Locator::XPath(
        "//*[@role='status'][contains(., 'copied') or contains(., 'Could not copy')]",
    ))
    .await;
    b.click_button("Hide password").await;
    b.wait_gone("//*[contains(@class, 'secret-password')]")
        .await;

    // What was granted, beside what was asked: on the request's page.
    b.goto(&format!("/requests/{id}")).await;
    b.wait_for_text("Requested 2 h · Granted 30 min").await;

    // alice ends her access from the report, after a confirmation that says so.
    b.nav("Reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{id}']")))
        .await;
    b.screenshot("report").await;
    b.click_button("End access to Production database").await;
    b.wait_for_text("End your access now?").await;
    b.wait_for_text("To regain it you will need to make another request.")
        .await;
    b.screenshot("end-access-confirmation").await;
    b.click_button("End access now").await;
    b.wait_for_text("Ended your access to Production database.")
        .await;
    let row = format!("//tr[@data-request-id='{id}']");
    b.wait_for(Locator::XPath(&format!(
        "{row}//span[normalize-space(.)='Ended early']"
    )))
    .await;
    let row_text = b.wait_for(Locator::XPath(&row)).await.text().await.unwrap();
    assert!(
        !row_text.contains("Revoked"),
        "one's own early end is not a revocation: {row_text}"
    );
    // The granted column ends when access really ended, not at the granted end.
    let granted = b
        .wait_for(Locator::XPath(&format!(
            "{row}//td[contains(@class,'col-granted')]"
        )))
        .await
        .text()
        .await
        .unwrap();
    assert!(granted.contains("ended early"), "{granted}");
    let detail = app.request_detail(&alice, &id).await;
    let ended_at = parse_time(&detail["request"]["revoked_at"]);
    let shown_end = b
        .eval(
            "return document.querySelectorAll(arguments[0])[1].getAttribute('datetime');",
            vec![json!(format!(
                "tr[data-request-id='{id}'] td.col-granted time"
            ))],
        )
        .await;
    assert_eq!(parse_time(&shown_end), ended_at.with_nanosecond(0).unwrap());
    b.screenshot("report-after-ending").await;

    // The password is gone: no button, and the API refuses.
    b.click_link("Entries").await;
    b.wait_for_text("Production database").await;
    b.wait_gone("//button[@aria-label='View password of Production database']")
        .await;
    app.secret(&alice, PROD_DB).await.expect(403);

    // The timeline names every step, with the reveal, and people by name.
    b.goto(&format!("/requests/{id}")).await;
    b.wait_for_text("Password revealed").await;
    b.wait_for_text("by you (ended early)").await;
    b.wait_for_text("by Bob Approver").await;
    assert!(
        !b.body_text().await.contains(ALICE),
        "people are named, not mailed"
    );
    b.screenshot("timeline").await;

    // Times are shown in the browser's zone, with the zone named.
    let footer = b.by_id("time-zone-note").await.text().await.unwrap();
    assert!(footer.contains("America/New_York"), "{footer}");

    b.close().await;
}
