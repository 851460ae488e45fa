//! The request form from the keyboard alone: every field reached with Tab in order,
//! "Set custom time frame" moving the focus to the frame it shows, a time typed on a
//! 24-hour clock, and the request sent with Enter.

use chrono::{NaiveDateTime, TimeDelta};
use fantoccini::key::Key;
use tempaccess_tests::app::{TestApp, items, parse_time};
use tempaccess_tests::browser::{Browser, site_dir};

#[tokio::test]
async fn the_request_form_works_from_the_keyboard_alone() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let b = Browser::start(&app.base_url, "keyboard-form").await;
    b.sign_in("Alice Requester").await;
    b.goto("/entries/prod-db/request").await;
    b.wait_for_text("Temporary access request").await;

    // The fields, in order.
    b.tab_to("set-view-password-execute").await;
    b.tab_to("approver").await;
    b.tab_to("duration").await;
    let toggle = b.tab_to("Set custom time frame").await;
    assert_eq!(toggle.tag, "button");
    b.press(&Key::Enter.to_string()).await;
    // The frame appeared: the focus is on its first field, not left on the toggle.
    b.wait_focus("#window-start-date").await;
    let start = b.datetime("window-start").await;
    let start = NaiveDateTime::parse_from_str(&start, "%Y-%m-%dT%H:%M").unwrap();
    // A date picker takes a Tab per part of the date (month, day, year).
    b.tab_to("window-start-time").await;
    b.tab_to("window-end-date").await;
    b.tab_to("window-end-time").await;
    // A time of day on a 24-hour clock: two hours after the start.
    let end = start + TimeDelta::hours(2);
    let end_day = end.format("%Y-%m-%d").to_string();
    if b.value("window-end-date").await != end_day {
        // Late in the evening the end falls on the next day (a date picker is typed in
        // the browser's locale's order: set it directly).
        b.set_value("window-end-date", &end_day).await;
        b.by_id("window-end-time").await.click().await.unwrap();
    }
    let clear = format!("{}{}", Key::Control + "a", Key::Backspace);
    b.press(&clear).await;
    b.press(&end.format("%H:%M").to_string()).await;
    b.tab_to("message").await;
    b.press("Sent from the keyboard").await;
    let send = b.tab_to("Send request").await;
    assert_eq!(send.tag, "button");
    b.screenshot("filled").await;
    b.press(&Key::Enter.to_string()).await;
    b.wait_for_text("Request sent").await;
    b.wait_focus("#sent-heading").await;

    let alice = app.login("alice").await;
    let list = app
        .get("/v1/requests?scope=mine", &alice)
        .await
        .expect_json(200);
    let r = &items(&list)[0];
    assert_eq!(r["message"], "Sent from the keyboard");
    let window = &r["requested"]["window"];
    assert_eq!(
        parse_time(&window["end"]) - parse_time(&window["start"]),
        TimeDelta::hours(2)
    );
    b.close().await;
}
