//! Decision links under attack: guessed, altered by one character, used for another
//! request, after a withdrawal, after the signed-in page decided, looked up again and
//! again; and the token never in a log line, an error body or the store.

use std::collections::HashSet;

use serde_json::json;
use tempaccess_core::token::DecisionToken;
use tempaccess_tests::app::{BOB, TestApp, prod_db_request, str_field};

/// Random guesses per run: fewer on the emulator, where each costs a round trip to it.
fn guesses(app: &TestApp) -> usize {
    if app.is_aws() { 200 } else { 2000 }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("randomness");
    DecisionToken::from_bytes(bytes).expose().to_owned()
}

/// `token` with the character at `at` replaced by another of the alphabet: `A` or `E`,
/// whose two low bits are zero, so that a change of the last character still decodes.
fn altered(token: &str, at: usize) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    chars[at] = if chars[at] == 'A' { 'E' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn guessed_and_altered_links_find_nothing_and_all_say_the_same() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "guess me"))
        .await;
    let id = str_field(&created, "id");
    let before = app.event_kinds(&alice, &id).await;

    let mut tries: Vec<String> = (0..guesses(&app)).map(|_| random_token()).collect();
    tries.extend((0..link.len()).map(|at| altered(&link, at)));
    let mut bodies = HashSet::new();
    for token in &tries {
        let reply = app.lookup(token).await;
        assert_eq!(reply.status.as_u16(), 404, "{reply}");
        assert!(
            !reply.body.contains(token.as_str()),
            "the token echoed: {reply}"
        );
        bodies.insert(reply.body);
        // Deciding with it finds nothing either.
        let reply = app
            .decide_by_link(None, token, &json!({ "decision": "approve" }))
            .await;
        assert_eq!(reply.status.as_u16(), 404, "{reply}");
    }
    assert_eq!(bodies.len(), 1, "every miss reads the same: {bodies:?}");
    // Malformed ones are refused for their form, naming the field.
    for token in [
        &link[..link.len() - 1],
        &format!("{link}A"),
        "",
        "not a token",
    ] {
        app.lookup(token)
            .await
            .expect_error(400, "invalid_input", Some("token"));
    }
    // Nothing changed; the real link still opens the request.
    assert_eq!(app.event_kinds(&alice, &id).await, before);
    assert_eq!(app.status_of(&alice, &id).await, "pending");
    app.lookup(&link).await.expect(200);
    eprintln!(
        "links: {} random guesses and {} one-character changes, all 404 with one body",
        guesses(&app),
        link.len()
    );
}

#[tokio::test]
async fn a_link_decides_its_own_request_only_and_only_while_it_is_pending() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let approve = json!({ "decision": "approve" });

    // Two pending requests; the second's link decides the second.
    let (first, first_link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "first"))
        .await;
    let first = str_field(&first, "id");
    let mut payroll = tempaccess_tests::app::payroll_request(3600, "second");
    payroll["approver_id"] = json!(BOB);
    let (second, second_link) = app.submit_and_get_link(&alice, &payroll).await;
    let second = str_field(&second, "id");
    let decided = app
        .decide_by_link(Some(&bob), &second_link, &approve)
        .await
        .expect_json(200);
    assert_eq!(decided["id"], second.as_str());
    assert_eq!(app.status_of(&alice, &first).await, "pending");

    // Reused: the decision stands.
    app.decide_by_link(Some(&bob), &second_link, &json!({ "decision": "deny" }))
        .await
        .expect_conflict("active");

    // After the signed-in page decided: dead.
    app.decide(
        &bob,
        &first,
        &json!({ "decision": "deny", "comment": "no" }),
    )
    .await
    .expect(200);
    app.decide_by_link(Some(&bob), &first_link, &approve)
        .await
        .expect_conflict("denied");

    // After a withdrawal: dead.
    let (third, third_link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "third"))
        .await;
    let third = str_field(&third, "id");
    app.cancel(&alice, &third, &json!({})).await.expect(200);
    app.decide_by_link(Some(&bob), &third_link, &approve)
        .await
        .expect_conflict("cancelled");
    assert_eq!(app.status_of(&alice, &third).await, "cancelled");
}

#[tokio::test]
async fn a_link_looked_up_a_hundred_times_changes_nothing_and_is_viewed_once_each() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "look"))
        .await;
    let id = str_field(&created, "id");
    for _ in 0..50 {
        app.lookup(&link).await.expect(200);
        app.open_link(&bob, &link).await.expect(200);
    }
    let kinds = app.event_kinds(&alice, &id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "viewed").count(),
        2,
        "once signed out, once as bob: {kinds:?}"
    );
    assert_eq!(app.status_of(&alice, &id).await, "pending");
    app.decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
        .await
        .expect(200);
}

#[tokio::test]
async fn the_token_is_never_in_a_log_line_an_error_body_or_the_store() {
    let app = TestApp::spawn().await;
    let (alice, bob, dave) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("dave").await,
    );
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "trace me"))
        .await;
    let id = str_field(&created, "id");
    // Every kind of answer a link can get: refused callers, a bad body, a decision, a
    // reuse, a late lookup.
    let replies = vec![
        app.lookup(&link).await,
        app.open_link(&alice, &link).await,
        app.open_link(&dave, &link).await,
        app.decide_by_link(None, &link, &json!({ "decision": "approve" }))
            .await,
        app.decide_by_link(Some(&dave), &link, &json!({ "decision": "approve" }))
            .await,
        app.decide_by_link(Some(&bob), &link, &json!({ "decision": "maybe" }))
            .await,
        app.decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
            .await,
        app.decide_by_link(Some(&bob), &link, &json!({ "decision": "deny" }))
            .await,
        app.lookup(&link).await,
    ];
    for reply in &replies {
        assert!(!reply.body.contains(&link), "the token in a reply: {reply}");
    }
    assert!(replies.iter().any(|r| r.status.as_u16() == 403));
    assert!(replies.iter().any(|r| r.status.as_u16() == 400));
    assert_eq!(app.status_of(&alice, &id).await, "active");
    app.advance_clock(25 * 3600).await;

    assert!(
        !app.server_log().contains(&link),
        "the token in the server's log"
    );
    if let Some(stored) = app.stored_items_text().await {
        assert!(!stored.is_empty(), "the table was read");
        assert!(!stored.contains(&link), "the token in a stored attribute");
    } else {
        // Every file of the data directory (the database and its write-ahead log
        // included) is searched for it.
        for file in std::fs::read_dir(app.data_dir()).expect("the data directory") {
            let path = file.expect("a file").path();
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert!(
                !bytes.windows(link.len()).any(|w| w == link.as_bytes()),
                "the token in {}",
                path.display()
            );
        }
    }
}
