//! The built site, served at `/` beside the API: its files, `index.html` for the
//! site's own routes, and the site's settings (`/config.json`) for the embedded default.
//!
//! Pages carry a Content-Security-Policy that allows scripts from this origin and,
//! by hash, the one inline loader trunk writes into `index.html` — never
//! `unsafe-inline`.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use tempaccess_http::ApiError;

use crate::demo;

/// Where the site reads its settings.
pub const CONFIG_PATH: &str = "/config.json";

/// Unknown API paths get a JSON 404; `/config.json` the embedded default's settings;
/// anything else is the site (its `index.html` for the site's own routes).
pub async fn fallback(site: Option<PathBuf>, dev_login: bool, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/v1/") || path == "/v1" {
        return ApiError::no_route().into_response();
    }
    if path == CONFIG_PATH {
        return config_json(dev_login);
    }
    let Some(root) = site else {
        return (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><title>tempaccess</title><p>The API is at <code>/v1</code>. \
             The site is served here once built (<code>cargo xtask dev</code> builds it).",
        )
            .into_response();
    };
    serve_file(&root, path).await
}

/// The settings of the embedded default: the API on this origin, and the demo
/// sign-in with the demo people where it is offered (else none: the site says so).
pub fn config(dev_login: bool) -> serde_json::Value {
    if !dev_login {
        return serde_json::json!({ "api_url": "", "auth": { "kind": "none" } });
    }
    let approvers: Vec<String> = demo::entries()
        .iter()
        .flat_map(|e| e.approvers.iter().map(ToString::to_string))
        .collect();
    let users: Vec<serde_json::Value> = demo::users()
        .iter()
        .map(|u| {
            let email = u.email.to_string();
            let role = if u.roles.iter().any(|r| r == "admin") {
                "admin"
            } else if approvers.contains(&email) {
                "approver"
            } else {
                "requester"
            };
            serde_json::json!({
                "user": email.split('@').next().unwrap_or(&email),
                "name": u.name,
                "role": role,
            })
        })
        .collect();
    serde_json::json!({
        "api_url": "",
        "auth": { "kind": "dev", "demo_users": users },
    })
}

fn config_json(dev_login: bool) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        config(dev_login).to_string(),
    )
        .into_response()
}

/// The `'sha256-…'` sources of every inline `<script>` in a page.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            let digest = Sha256::digest(&body.as_bytes()[..close]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body[close..];
    }
    hashes
}

/// The policy of a page whose inline scripts hash to `hashes`.
pub fn content_security_policy(hashes: &[String]) -> String {
    let mut script = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    script.extend(hashes.iter().cloned());
    format!(
        "default-src 'self'; script-src {}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'",
        script.join(" ")
    )
}

async fn serve_file(root: &Path, path: &str) -> Response {
    let relative = path.trim_start_matches('/');
    let safe = !relative
        .split('/')
        .any(|part| part == ".." || part.starts_with('.'));
    let mut file = root.join(if relative.is_empty() || !safe {
        "index.html"
    } else {
        relative
    });
    if !file.is_file() {
        file = root.join("index.html");
    }
    let Ok(bytes) = tokio::fs::read(&file).await else {
        return ApiError::no_route().into_response();
    };
    let extension = file.extension().and_then(|e| e.to_str());
    let content_type = match extension {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    let hashes = match extension {
        Some("html") => inline_script_hashes(&String::from_utf8_lossy(&bytes)),
        _ => Vec::new(),
    };
    let csp = HeaderValue::from_str(&content_security_policy(&hashes))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let html = "<head><script type=\"module\">run()</script>\
                    <script src=\"/app.js\"></script></head>";
        let hashes = inline_script_hashes(html);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"run()"));
        assert_eq!(hashes, vec![format!("'sha256-{expected}'")]);
        let csp = content_security_policy(&hashes);
        assert!(csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';"
        )));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn config_offers_the_demo_people() {
        assert_eq!(config(false)["auth"]["kind"], "none");
        let c = config(true);
        assert_eq!(c["auth"]["kind"], "dev");
        let users = c["auth"]["demo_users"].as_array().unwrap();
        let role = |u: &str| {
            users
                .iter()
                .find(|x| x["user"] == u)
                .map(|x| x["role"].as_str().unwrap().to_owned())
        };
        assert_eq!(role("alice").as_deref(), Some("requester"));
        assert_eq!(role("bob").as_deref(), Some("approver"));
        assert_eq!(role("carol").as_deref(), Some("admin"));
    }
}
