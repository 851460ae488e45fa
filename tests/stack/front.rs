//! The fronts AWS puts around the functions, as the stack runs them from the template:
//! the HTTP API's JWT authorizer, routes, CORS and throttling; the hosted UI's
//! redirect checks; the distribution's files, routes and headers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use tempaccess_tests::stack::{CALLBACK_PATH, Stack, alone, alongside};

/// How many times the report function ran for `GET /v1/me`.
async fn me_invocations(stack: &Stack) -> usize {
    stack
        .invocations()
        .await
        .iter()
        .filter(|i| i["trigger"] == "GET /v1/me")
        .count()
}

/// A second app client of the pool, with the site's callback URL.
async fn other_client(stack: &Stack) -> String {
    let created = stack
        .aws(
            "cognito-idp",
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": stack.pool_id(),
                "ClientName": "another-app",
                "AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid", "email", "profile"],
                "SupportedIdentityProviders": ["COGNITO"],
                "CallbackURLs": [format!("{}{CALLBACK_PATH}", stack.site_url())],
                "ReadAttributes": ["email", "email_verified", "name"],
            }),
        )
        .await;
    created["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_front_refuses_signed_out_forged_and_wrong_audience_tokens() {
    let _alone = alone().await;
    let stack = Stack::get();
    let before = me_invocations(stack).await;

    let none = stack.api(Method::GET, "/v1/me", None, None).await;
    assert_eq!(none.status, 401, "{none}");
    assert_eq!(none.json(), json!({"message": "Unauthorized"}));
    assert!(none.header("www-authenticate").is_none(), "{none:?}");

    let garbage = stack
        .api(Method::GET, "/v1/me", Some("not-a-jwt"), None)
        .await;
    assert_eq!(garbage.status, 401, "{garbage}");
    assert!(
        garbage
            .header("www-authenticate")
            .is_some_and(|h| h.contains("invalid_token")),
        "{garbage:?}"
    );

    // Alice's real token with carol's email put in: the signature no longer holds.
    let alice = stack.sign_in("alice").await.id_token;
    let parts: Vec<&str> = alice.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["email"] = json!("carol@example.com");
    claims["cognito:groups"] = json!(["admins"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let r = stack.api(Method::GET, "/v1/me", Some(&forged), None).await;
    assert_eq!(r.status, 401, "a forged token: {r}");

    // A genuine token of the pool, for another app client: not the API's audience.
    let other = other_client(stack).await;
    let (email, password) = stack.person("alice");
    let redirect = format!("{}{CALLBACK_PATH}", stack.site_url());
    let foreign = stack
        .sign_in_with(&other, &redirect, &email, &password)
        .await
        .expect("sign in with another client")
        .id_token;
    let r = stack.api(Method::GET, "/v1/me", Some(&foreign), None).await;
    assert_eq!(r.status, 401, "another client's token: {r}");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.contains("audience")),
        "{r:?}"
    );

    // None of these reached the function.
    assert_eq!(
        me_invocations(stack).await,
        before,
        "a refused call reached the function"
    );

    // The site's own token does, with the claims API Gateway passes.
    let me = stack
        .api(Method::GET, "/v1/me", Some(&alice), None)
        .await
        .expect_json(200);
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(
        me["name"], "Alice Requester",
        "the name claim reached the function"
    );
    assert_eq!(me_invocations(stack).await, before + 1);
    // "Bearer " is optional for API Gateway.
    let bare = stack
        .http
        .get(format!("{}/v1/me", stack.api_url()))
        .header("authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
}

#[tokio::test]
async fn people_outside_admins_get_403_on_admin_routes() {
    let _alongside = alongside().await;
    let stack = Stack::get();
    let alice = stack.sign_in("alice").await.id_token;
    let carol = stack.sign_in("carol").await.id_token;
    let me = stack
        .api(Method::GET, "/v1/me", Some(&carol), None)
        .await
        .expect_json(200);
    assert!(
        me["roles"].as_array().unwrap().iter().any(|r| r == "admin"),
        "carol's cognito:groups claim makes her an admin: {me}"
    );
    for path in [
        "/v1/requests?scope=all",
        "/v1/requests?scope=all&status=active",
    ] {
        let r = stack.api(Method::GET, path, Some(&alice), None).await;
        assert_eq!(r.status, 403, "{r}");
        stack
            .api(Method::GET, path, Some(&carol), None)
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn routes_and_cors_are_the_templates() {
    let _alongside = alongside().await;
    let stack = Stack::get();
    let site = stack.site_url();
    let preflight = |origin: String| {
        stack
            .http
            .request(Method::OPTIONS, format!("{}/v1/requests", stack.api_url()))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,idempotency-key",
            )
            .send()
    };
    let ok = preflight(site.clone()).await.unwrap();
    assert_eq!(ok.status(), 204);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], site.as_str());
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for header in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed.contains(header), "{allowed}");
    }
    assert_eq!(h["access-control-max-age"], "600");
    let elsewhere = preflight("https://evil.example".into()).await.unwrap();
    assert!(
        elsewhere
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // An open route reaches its function, with CORS for the site.
    let r = stack
        .http
        .get(format!("{}/v1/openapi.json", stack.api_url()))
        .header("origin", &site)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], site.as_str());
    assert_eq!(
        r.headers()["access-control-expose-headers"],
        "x-next-cursor,date",
        "the template's ExposeHeaders: the next page's cursor, and the service's clock"
    );
    let lookup = stack
        .api(
            Method::POST,
            "/v1/decisions/lookup",
            None,
            Some(&json!({"token": "A".repeat(43)})),
        )
        .await;
    assert!(
        lookup.status == 404 || lookup.status == 400,
        "the decide function answers a lookup without sign-in: {lookup}"
    );

    let unknown = stack.api(Method::GET, "/v1/nowhere", None, None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"message": "Not Found"}));
    let wrong_method = stack.api(Method::DELETE, "/v1/requests", None, None).await;
    assert_eq!(wrong_method.status, 404);
}

#[tokio::test]
async fn a_burst_beyond_the_routes_limit_gets_429() {
    let _alone = alone().await;
    // All at once: the route's bucket (burst 50, 25 a second) empties.
    let calls: Vec<_> = (0..90)
        .map(|_| {
            tokio::spawn(async {
                Stack::get()
                    .api(Method::GET, "/v1/access", None, None)
                    .await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for c in calls {
        replies.push(c.await.expect("a call"));
    }
    let throttled = replies.iter().filter(|r| r.status == 429).count();
    let refused = replies.iter().filter(|r| r.status == 401).count();
    assert!(throttled > 0, "no 429 among {} calls", replies.len());
    assert!(
        refused >= 50,
        "the burst limit (50) passes first: {refused} got through"
    );
    let one = replies.iter().find(|r| r.status == 429).unwrap();
    assert_eq!(one.json(), json!({"message": "Too Many Requests"}));
}

#[tokio::test]
async fn the_hosted_ui_refuses_what_the_app_client_does_not_list() {
    let _alongside = alongside().await;
    let stack = Stack::get();
    let client = stack.client_id();
    let site = stack.site_url();
    let go = |redirect: String| {
        let url = stack.authorize_url(&client, &redirect, "s", &"c".repeat(43));
        async move {
            let r = stack.http.get(url).send().await.unwrap();
            r.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    // The site's callback is registered; the site's root (what the template listed
    // before) and other sites are not, and Cognito never redirects to them.
    assert!(
        go(format!("{site}{CALLBACK_PATH}"))
            .await
            .starts_with("/login?")
    );
    for wrong in [
        format!("{site}/"),
        format!("{site}/auth/callback/"),
        "https://evil.example/auth/callback".to_owned(),
    ] {
        let to = go(wrong.clone()).await;
        assert!(
            to.starts_with("/error?error=redirect_mismatch"),
            "{wrong} → {to}"
        );
    }
    let page = stack
        .http
        .get(format!(
            "{}/error?error=redirect_mismatch",
            stack.hosted_ui_url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("An error was encountered"), "{page}");

    // A code is single use and needs its verifier.
    let (email, password) = stack.person("bob");
    let redirect = format!("{site}{CALLBACK_PATH}");
    stack
        .sign_in_with(&client, &redirect, &email, &password)
        .await
        .expect("bob signs in");
    let bad = stack
        .http
        .post(format!("{}/oauth2/token", stack.hosted_ui_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.as_str()),
            ("code", "not-a-code"),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // Signing out returns only to a registered logout URL.
    let logout = |to: String| {
        let url = format!(
            "{}/logout?{}",
            stack.hosted_ui_url(),
            serde_urlencoded::to_string([
                ("client_id", client.as_str()),
                ("logout_uri", to.as_str())
            ])
            .unwrap()
        );
        async move {
            let r = stack.http.get(url).send().await.unwrap();
            r.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(logout(format!("{site}/")).await, format!("{site}/"));
    assert!(
        logout("https://evil.example/".into())
            .await
            .starts_with("/error?")
    );
}

#[tokio::test]
async fn the_site_is_served_as_the_distribution_serves_it() {
    let _alongside = alongside().await;
    let stack = Stack::get();
    let site = stack.site_url();
    let get = |path: &str| stack.http.get(format!("{site}{path}")).send();
    let index = get("/").await.unwrap();
    assert_eq!(index.status(), 200);
    let h = index.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(
        Some(csp.as_str()),
        stack.info["content_security_policy"].as_str()
    );
    assert_eq!(
        h["strict-transport-security"],
        "max-age=63072000; includeSubDomains; preload"
    );
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let index_body = index.text().await.unwrap();

    // What the site calls is what the policy allows: its API and its hosted UI.
    let connect = csp
        .split(';')
        .find(|d| d.trim().starts_with("connect-src"))
        .unwrap_or_else(|| panic!("no connect-src in {csp}"));
    assert!(connect.contains(&stack.api_url()), "{connect}");
    assert!(connect.contains(&stack.hosted_ui_url()), "{connect}");

    // The site's own routes are its index; a missing file is S3's 403.
    for route in ["/reports", "/decide", "/requests/01ABC", "/auth/callback"] {
        let r = get(route).await.unwrap();
        assert_eq!(r.status(), 200, "{route}");
        assert_eq!(r.text().await.unwrap(), index_body, "{route}");
    }
    let missing = get("/app-missing.js").await.unwrap();
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("AccessDenied"));

    // config.json is what `cargo xtask publish-site` writes from the outputs.
    let config: Value = get("/config.json").await.unwrap().json().await.unwrap();
    assert_eq!(config, stack.info["site_config"]);
    assert_eq!(config["api_url"], stack.api_url());
    assert_eq!(config["auth"]["kind"], "cognito");
    assert_eq!(config["auth"]["domain"], stack.hosted_ui_url());
    assert_eq!(config["auth"]["client_id"], stack.client_id());
}
