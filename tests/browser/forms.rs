//! The request and decision forms as people fill them in: each field's error next to
//! the field and in a summary at the top before anything is sent, the focus on the
//! first wrong field, times typed on a 24-hour clock, a frame's error on the end that
//! is wrong, and an approval narrowed in rights and time reaching the server as chosen.

use chrono::{NaiveDateTime, TimeDelta};
use fantoccini::Locator;
use serde_json::json;
use tempaccess_tests::app::{PAYROLL_RDP, TestApp, items, parse_time, rfc3339, str_field};
use tempaccess_tests::browser::{Browser, site_dir};

const LOCAL: &str = "%Y-%m-%dT%H:%M";

#[tokio::test]
async fn the_request_form_names_each_wrong_field_before_sending() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "forms-request").await;
    b.sign_in("Alice Requester").await;
    b.goto("/entries/payroll-rdp/request").await;
    b.wait_for_text("Payroll server (RDP)").await;

    // A required message, asked for before anything is sent: next to the field, in
    // the summary at the top, and the focus on the field.
    b.click_button("Send request").await;
    let error = b.by_id("message-error").await.text().await.unwrap();
    assert_eq!(error, "this entry requires a message to the approver");
    let invalid = b.by_id("message").await.attr("aria-invalid").await.unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    b.wait_for_text("There is a problem").await;
    b.wait_for_text("Message: this entry requires a message to the approver")
        .await;
    b.wait_focus("#message").await;
    b.type_into("message", "  Quarterly export  ").await;
    b.wait_gone("//*[@id='message-error']").await;

    // A custom time frame: longer than the entry allows, backwards, then no start.
    b.click_button("Set custom time frame").await;
    let start = b.datetime("window-start").await;
    let start_local = NaiveDateTime::parse_from_str(&start, LOCAL)
        .unwrap_or_else(|e| panic!("the form's start {start:?}: {e}"));
    let at = |hours: i64| {
        (start_local + TimeDelta::hours(hours))
            .format(LOCAL)
            .to_string()
    };
    b.set_datetime("window-end", &at(5)).await;
    b.click_button("Send request").await;
    let error = b.by_id("window.end-error").await.text().await.unwrap();
    assert_eq!(error, "this entry allows at most 4 h");
    b.wait_focus("#window-end-date").await;
    b.set_datetime("window-start", &at(3)).await;
    b.set_datetime("window-end", &at(2)).await;
    b.click_button("Send request").await;
    b.wait_for(Locator::XPath(
        "//*[@id='window.end-error'][normalize-space(.)='must be after start']",
    ))
    .await;
    b.set_datetime("window-start", "").await;
    b.click_button("Send request").await;
    let error = b.by_id("window.start-error").await.text().await.unwrap();
    assert_eq!(error, "enter the date and time access begins");
    // The first wrong field in the form's order gets the focus: the start.
    b.wait_focus("#window-start-date").await;
    b.screenshot("field-errors").await;
    assert!(
        app.mail_to("bob@example.com").await.is_empty()
            && app.mail_to("dave@example.com").await.is_empty(),
        "nothing was sent while a field was wrong"
    );

    // Put right (the end's time typed as "0930"-style digits, read on a 24-hour
    // clock), the request goes out with the frame in UTC and the message trimmed.
    b.set_datetime("window-start", &at(1)).await;
    let end = at(3);
    let (end_day, end_clock) = end.split_once('T').unwrap();
    b.set_value("window-end-date", end_day).await;
    b.set_value("window-end-time", &end_clock.replace(':', ""))
        .await;
    b.click_button("Send request").await;
    b.wait_for_text("Request sent").await;
    let alice = app.login("alice").await;
    let list = app
        .get("/v1/requests?scope=mine", &alice)
        .await
        .expect_json(200);
    let request = &items(&list)[0];
    assert_eq!(request["entry_id"], PAYROLL_RDP);
    assert_eq!(request["message"], "Quarterly export");
    let sent_start = parse_time(&request["requested"]["window"]["start"]);
    let browser_says = b
        .eval(
            "return new Date(arguments[0]).toISOString();",
            vec![json!(at(1))],
        )
        .await;
    assert_eq!(parse_time(&browser_says), sent_start);
    assert_eq!(
        parse_time(&request["requested"]["window"]["end"]) - sent_start,
        TimeDelta::hours(2)
    );
    b.close().await;
}

#[tokio::test]
async fn an_approver_grants_fewer_rights_for_less_time() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let created = app
        .submit_request(
            &alice,
            &json!({
                "entry_id": PAYROLL_RDP,
                "permission_set": "view-password-execute",
                "approver_id": "bob@example.com",
                "duration_seconds": 3600,
                "message": "Quarterly export",
            }),
        )
        .await
        .expect_json(201);
    let id = str_field(&created, "id");

    let b = Browser::start(&app.base_url, "forms-decision").await;
    b.sign_in("Bob Approver").await;
    b.nav("Approvals").await;
    b.click_button("Decide on Alice Requester's request for Payroll server (RDP)")
        .await;
    let prefix = format!("decision-{id}");
    b.by_id(&format!("{prefix}-shorter"))
        .await
        .click()
        .await
        .expect("choose a shorter duration");
    b.select(&format!("{prefix}-duration"), "900").await;
    b.select(&format!("{prefix}-set"), "operator").await;
    b.type_into(&format!("{prefix}-comment"), "a quarter of an hour")
        .await;
    b.screenshot("narrowed").await;
    b.click_button("Approve").await;
    // The notice says what was granted beside what was asked.
    b.wait_for_text(
        "Approved Alice Requester's request for Payroll server (RDP) (Requested 1 h · Granted 15 min).",
    )
    .await;
    b.wait_for_text("No requests are waiting for your decision.")
        .await;

    let detail = app
        .get(&format!("/v1/requests/{id}"), &alice)
        .await
        .expect_json(200);
    let r = &detail["request"];
    assert_eq!(r["status"], "active", "{r}");
    assert_eq!(r["granted_permission_set"], "operator", "{r}");
    assert_eq!(r["decision_comment"], "a quarter of an hour", "{r}");
    assert_eq!(
        parse_time(&r["ends_at"]) - parse_time(&r["starts_at"]),
        TimeDelta::minutes(15),
        "{r}"
    );
    b.close().await;
}

#[tokio::test]
async fn a_frame_starting_too_early_is_the_starts_error() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let now = app.now().await;
    let (_, link) = app
        .submit_and_get_link(
            &alice,
            &json!({
                "entry_id": PAYROLL_RDP,
                "permission_set": "view-password-execute",
                "approver_id": "bob@example.com",
                "window": {"start": rfc3339(now + TimeDelta::hours(2)), "end": rfc3339(now + TimeDelta::hours(4))},
                "message": "Month end",
            }),
        )
        .await;
    let b = Browser::start(&app.base_url, "forms-narrower").await;
    b.sign_in("Bob Approver").await;
    b.goto(&format!("/decide#token={link}")).await;
    b.wait_for_text("Month end").await;
    b.by_id("decision-narrower")
        .await
        .click()
        .await
        .expect("choose a narrower time frame");
    let start = b.datetime("decision-start").await;
    let start_local = NaiveDateTime::parse_from_str(&start, LOCAL).unwrap();
    let earlier = (start_local - TimeDelta::hours(1))
        .format(LOCAL)
        .to_string();
    b.set_datetime("decision-start", &earlier).await;
    b.click_button("Approve").await;
    let error = b.by_id("decision-start-error").await.text().await.unwrap();
    assert_eq!(error, "must lie within the requested time frame");
    assert!(
        b.client
            .find(Locator::Id("decision-end-error"))
            .await
            .is_err(),
        "the end was right: no error there"
    );
    b.wait_focus("#decision-start-date").await;
    b.screenshot("start-too-early").await;
    b.close().await;
}
