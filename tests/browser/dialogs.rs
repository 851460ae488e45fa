//! The one dialog, from the keyboard alone: focus goes in, Tab and Shift+Tab stay in,
//! Escape closes it and focus goes back to what opened it; its words fit the state
//! (pending, scheduled, active) and its buttons say what they do; the text wraps inside
//! it on a phone.

use chrono::TimeDelta;
use fantoccini::key::Key;
use serde_json::json;
use tempaccess_tests::app::{
    BILLING_API_KEY, DAVE, PAYROLL_RDP, TestApp, VIEW_PASSWORD_EXECUTE, prod_db_request, rfc3339,
};
use tempaccess_tests::browser::{Browser, PHONE, site_dir};

#[tokio::test]
async fn dialogs_work_from_the_keyboard_alone() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let dave = app.login("dave").await;
    let pending = app
        .submit_ok(&alice, &prod_db_request(3600, "pending"))
        .await;
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
    let now = app.now().await;
    let scheduled = app
        .submit_ok(
            &alice,
            &json!({"entry_id": PAYROLL_RDP, "permission_set": "operator", "approver_id": DAVE,
                    "window": {"start": rfc3339(now + TimeDelta::hours(2)), "end": rfc3339(now + TimeDelta::hours(3))},
                    "message": "month end"}),
        )
        .await;
    app.decide(&dave, &scheduled, &json!({"decision": "approve"}))
        .await
        .expect(200);

    let b = Browser::start(&app.base_url, "dialogs").await;
    b.sign_in("Alice Requester").await;
    b.goto("/reports").await;
    b.wait_for_text("Showing 1–3 of 3 requests").await;

    // Pending: reached and opened with the keyboard; its words and buttons.
    let opener = "Cancel request for Production database";
    b.tab_to(opener).await;
    b.press(&Key::Enter.to_string()).await;
    b.wait_for_text("Cancel this request?").await;
    b.wait_for_text("Bob Approver will be told there is nothing to decide")
        .await;
    // Focus is in the dialog, on its reason (optional here).
    b.wait_focus(&format!("#end-{pending}-reason")).await;
    b.wait_for_text("Reason (the approver reads it)").await;
    let buttons = b
        .eval(
            "return [...document.querySelectorAll('dialog button')].map(b => b.innerText.trim());",
            vec![],
        )
        .await;
    assert_eq!(buttons, json!(["Cancel request", "Keep it"]));
    // Tab stays inside: reason → Cancel request → Keep it → reason; Shift+Tab back.
    b.tab().await;
    assert_eq!(b.focused().await.name, "Cancel request");
    b.tab().await;
    assert_eq!(b.focused().await.name, "Keep it");
    b.tab().await;
    b.wait_focus(&format!("#end-{pending}-reason")).await;
    b.shift_tab().await;
    assert_eq!(b.focused().await.name, "Keep it");
    b.screenshot("cancel-dialog").await;
    // Escape closes it; nothing changed; focus is back on the button that opened it.
    b.press(&Key::Escape.to_string()).await;
    b.wait_gone("//dialog").await;
    b.wait_focus(&format!("button[aria-label='{opener}']"))
        .await;
    assert_eq!(app.status_of(&alice, &pending).await, "pending");

    // Scheduled: it has not started, and the words say so.
    b.click_button("Cancel access to Payroll server (RDP)")
        .await;
    b.wait_for_text("Cancel your scheduled access?").await;
    let body = b.css("dialog").await.text().await.unwrap();
    assert!(body.contains("has not started yet"), "{body}");
    assert!(!body.contains("end your access"), "{body}");
    b.press(&Key::Escape.to_string()).await;
    b.wait_gone("//dialog").await;

    // On a phone the dialog's text wraps inside it.
    b.resize(PHONE).await;
    b.click_button("End access to Billing API key").await;
    b.wait_for_text("End your access now?").await;
    let fits = b
        .eval(
            "const d = document.querySelector('dialog');
             const r = d.getBoundingClientRect();
             return r.left >= 0 && r.right <= window.innerWidth && d.scrollWidth <= d.clientWidth;",
            vec![],
        )
        .await;
    assert_eq!(fits, true, "the dialog is cut off on a phone");
    b.screenshot("end-dialog-phone").await;

    // Active: end it from the keyboard, with a reason typed in the dialog.
    b.press("Done with the rotation").await;
    b.tab().await;
    assert_eq!(b.focused().await.name, "End access now");
    b.press(&Key::Enter.to_string()).await;
    b.wait_for_text("Ended your access to Billing API key.")
        .await;
    let detail = app.request_detail(&alice, &active).await;
    assert_eq!(detail["request"]["status"], "revoked");
    assert_eq!(detail["request"]["revoke_reason"], "Done with the rotation");
    b.close().await;
}
