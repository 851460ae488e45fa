//! Hostile text in the fields that reach mail, the CSV report and pages: markup, CSV
//! formulas, quotes and line breaks, non-Latin text are taken and rendered harmlessly
//! (escaped in the mail's HTML, defused and quoted in CSV, returned verbatim as JSON for
//! the site to render as text); control characters and bidirectional overrides, which
//! no one needs in a message and which can disguise text, are refused naming the field;
//! a body that is not UTF-8 is refused.

use reqwest::Method;
use serde_json::json;
use tempaccess_tests::app::{BOB, TestApp, prod_db_request, str_field};

/// Taken, and rendered harmlessly.
const TAKEN: [(&str, &str); 6] = [
    (
        "markup",
        "<script>alert(1)</script><img src=x onerror=alert(2)>",
    ),
    ("formula", "=HYPERLINK(\"http://evil.example\",\"click\")"),
    ("formula with +", "+cmd|' /C calc'!A0"),
    ("formula with @", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("quotes and lines", "a,\"b\"\nc;d\te"),
    ("non-Latin", "名前 🚀 é — ok"),
];

/// Refused, naming the field.
const REFUSED: [(&str, &str); 5] = [
    ("NUL", "a\u{0}b"),
    ("escape sequence", "\u{1b}[31mred"),
    ("right-to-left override", "invoice\u{202E}fdp.exe"),
    ("left-to-right isolate", "a\u{2066}b\u{2069}"),
    ("bell", "ding\u{7}"),
];

#[tokio::test]
async fn hostile_text_is_rendered_harmlessly_or_refused_by_field() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    for (what, text) in REFUSED {
        app.submit_request(&alice, &prod_db_request(3600, text))
            .await
            .expect_error(400, "invalid_input", Some("message"));
        let id = app.submit_ok(&alice, &prod_db_request(3600, what)).await;
        app.decide(&bob, &id, &json!({ "decision": "deny", "comment": text }))
            .await
            .expect_error(400, "invalid_input", Some("comment"));
        app.cancel(&alice, &id, &json!({})).await.expect(200);
    }

    for (what, text) in TAKEN {
        let before = app.mail_to(BOB).await.len();
        let created = app
            .submit_request(&alice, &prod_db_request(3600, text))
            .await
            .expect_json(201);
        assert_eq!(
            created["message"],
            text.trim(),
            "{what}: returned as written"
        );
        let id = str_field(&created, "id");
        let mails = app.wait_for_mail_to(BOB, before + 1).await;
        let mail = &mails[before];
        for raw in ["<script", "<img", "\"http://evil"] {
            assert!(
                !mail.html.contains(raw),
                "{what}: {raw} unescaped in the mail's HTML"
            );
        }
        app.decide(&bob, &id, &json!({ "decision": "deny", "comment": text }))
            .await
            .expect(200);
    }

    let csv = app
        .send(
            "GET /v1/requests (CSV)",
            app.request(
                Method::GET,
                "/v1/requests?scope=all&limit=500",
                Some(&carol),
            )
            .header("accept", "text/csv"),
        )
        .await
        .expect(200)
        .body;
    for formula in ["=HYPERLINK", "+cmd", "@SUM"] {
        assert!(
            csv.contains(&format!("'{formula}")),
            "{formula} defused in the CSV:\n{csv}"
        );
        for start in [",", ",\"", "\n", "\n\""] {
            assert!(
                !csv.contains(&format!("{start}{formula}")),
                "{formula} starts a cell of the CSV:\n{csv}"
            );
        }
    }
    assert!(csv.contains("名前 🚀 é"), "non-Latin text kept");

    // A body that is not UTF-8.
    let reply = app
        .send(
            "POST /v1/requests (not UTF-8)",
            app.request(Method::POST, "/v1/requests", Some(&alice))
                .header("content-type", "application/json")
                .body(b"{\"message\":\"\xff\xfe\"}".to_vec()),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 400, "{reply}");
    assert_eq!(
        reply.error_code().as_deref(),
        Some("invalid_input"),
        "{reply}"
    );
}
