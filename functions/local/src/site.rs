//! The built site, served at `/` beside the API: its files, and `index.html` for the
//! site's own routes.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tempaccess_http::ApiError;

/// Unknown API paths get a JSON 404; anything else is the site (its `index.html` for
/// the site's own routes).
pub async fn fallback(site: Option<PathBuf>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/v1/") || path == "/v1" {
        return ApiError::no_route().into_response();
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
    let content_type = match file.extension().and_then(|e| e.to_str()) {
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
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    response
}
