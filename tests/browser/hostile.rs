//! Hostile text through the site's pages: markup, script, CSV formulas, a long
//! unbroken word and marks of right-to-left writing in a request's message and in a
//! denial's comment, shown on the requester's report, the request's page and the
//! approver's inbox as the text it is: nothing runs, nothing becomes an element.

use serde_json::json;
use tempaccess_tests::app::{TestApp, str_field};
use tempaccess_tests::browser::{Browser, site_dir};

const MESSAGE: &str = "<img src=x onerror=\"window.__hostile='img'\"><script>window.__hostile='script'</script>=HYPERLINK(\"https://evil.example\") \u{200f}שלום\u{200e} Supercalifragilisticexpialidocious-supercalifragilisticexpialidocious-supercalifragilisticexpialidocious";
const COMMENT: &str = "</td></tr><tr><td><b id=\"injected\">bold</b> & @SUM(1+1)";

#[tokio::test]
async fn hostile_text_is_shown_as_text_on_every_page() {
    let app = TestApp::spawn_with_site(&site_dir()).await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let created = app
        .post_json(
            "/v1/requests",
            &alice,
            &json!({"entry_id": "prod-db", "permission_set": "view-password-execute",
                    "approver_id": "bob@example.com", "duration_seconds": 3600,
                    "message": MESSAGE}),
        )
        .await
        .expect_json(201);
    let id = str_field(&created, "id");

    let b = Browser::start(&app.base_url, "hostile").await;
    // The approver's inbox shows the message as sent.
    b.sign_in("Bob Approver").await;
    b.nav("Approvals").await;
    b.wait_for_text("Alice Requester").await;
    b.click_button("Decide on Alice Requester's request for Production database")
        .await;
    b.wait_for_text("=HYPERLINK(\"https://evil.example\")")
        .await;
    assert!(
        b.body_text()
            .await
            .contains("<script>window.__hostile='script'</script>")
    );
    b.screenshot("inbox").await;
    b.sign_out().await;

    app.post_json(
        &format!("/v1/requests/{id}/decision"),
        &bob,
        &json!({"decision": "deny", "comment": COMMENT}),
    )
    .await
    .expect(200);

    // The requester's report and the request's own page.
    b.sign_in("Alice Requester").await;
    b.nav("Reports").await;
    b.wait_for_text("=HYPERLINK(\"https://evil.example\")")
        .await;
    b.screenshot("report").await;
    b.goto(&format!("/requests/{id}")).await;
    b.wait_for_text("</td></tr><tr><td><b id=\"injected\">bold</b> & @SUM(1+1)")
        .await;
    let text = b.body_text().await;
    assert!(text.contains("<img src=x onerror="), "{text}");
    // The marks are invisible: WebDriver's text leaves them out, the DOM keeps them.
    let marks = b
        .eval(
            "return document.body.textContent.includes('\\u200fשלום\\u200e');",
            vec![],
        )
        .await;
    assert_eq!(marks, json!(true), "the right-to-left marks are kept");
    b.screenshot("request").await;

    // Nothing ran and nothing became an element.
    let ran = b
        .eval(
            "return [typeof window.__hostile, document.querySelectorAll('#injected, img[src=x], main script').length];",
            vec![],
        )
        .await;
    assert_eq!(ran, json!(["undefined", 0]), "hostile text became markup");
    // A long unbroken word wraps inside the page instead of widening it.
    let overflow = b
        .eval(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await;
    assert_eq!(overflow, json!(true), "the page scrolls sideways");
    b.close().await;
}
