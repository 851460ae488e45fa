//! The site front: the CloudFront distribution in front of the site bucket.
//!
//! Modelled, in CloudFront's order:
//! - the viewer-request CloudFront Function of the default behaviour: the template's
//!   own code, run in Node with the `cloudfront-js` event shape (`request.uri`,
//!   `method`, `querystring`, `headers`, `cookies`); it may rewrite the URI or answer
//!   itself;
//! - `DefaultRootObject` for `/`;
//! - the S3 origin through origin access control: a missing object is `403
//!   AccessDenied` (the distribution may not list the bucket), as S3 answers it;
//! - `CustomErrorResponses` for origin errors;
//! - the response headers policy (security and custom headers, `Override`), with the
//!   Content-Security-Policy's sources put on the local origins
//!   ([`crate::origins::Origins::localize_csp`]).
//!
//! Left out: caching and invalidations (every request reads the bucket), compression,
//! HTTPS (`redirect-to-https`: the local stack is plain HTTP on loopback, which
//! browsers treat as secure), other cache behaviours, origin request policies, WAF,
//! geo restrictions, logging. The bucket is the directory `cargo xtask stack`
//! publishes the site into, as `cargo xtask publish-site` syncs it to S3.

use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use crate::deploy::SiteSpec;

/// Runs a CloudFront Function's code in Node, one event per line.
const HARNESS: &str = r#"
const readline = require('readline');
const handler = new Function(process.env.CLOUDFRONT_FUNCTION_CODE + '\n;return handler;')();
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  let out;
  try {
    out = { ok: await handler(JSON.parse(line)) };
  } catch (e) {
    out = { error: String(e && e.stack || e) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
"#;

/// A running CloudFront Function.
pub struct ViewerFunction {
    io: Mutex<(
        tokio::process::ChildStdin,
        tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    )>,
    _child: tokio::process::Child,
}

impl ViewerFunction {
    /// Starts `code` in Node.
    pub fn start(code: &str) -> Result<Self> {
        let mut child = tokio::process::Command::new("node")
            .args(["-e", HARNESS])
            .env("CLOUDFRONT_FUNCTION_CODE", code)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context(
                "starting node for the distribution's CloudFront Function (install Node.js)",
            )?;
        let stdin = child.stdin.take().context("node's stdin")?;
        let stdout = child.stdout.take().context("node's stdout")?;
        Ok(Self {
            io: Mutex::new((stdin, BufReader::new(stdout).lines())),
            _child: child,
        })
    }

    /// Runs the function on an event; its result (a request or a response).
    pub async fn run(&self, event: &Value) -> Result<Value> {
        let mut io = self.io.lock().await;
        io.0.write_all(format!("{event}\n").as_bytes()).await?;
        let line =
            io.1.next_line()
                .await?
                .context("the function's process ended")?;
        let out: Value = serde_json::from_str(&line)?;
        if let Some(e) = out.get("error") {
            anyhow::bail!("the CloudFront Function failed: {e}");
        }
        Ok(out["ok"].clone())
    }
}

/// The front's state.
pub struct SiteFront {
    /// The distribution as the template defines it.
    pub spec: SiteSpec,
    /// The bucket's directory.
    pub bucket: PathBuf,
    /// The viewer-request function, when there is one.
    pub function: Option<ViewerFunction>,
}

fn event_of(method: &Method, uri: &str, query: &str, headers: &HeaderMap, ip: &str) -> Value {
    let mut qs = serde_json::Map::new();
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default() {
        qs.insert(k, json!({ "value": v }));
    }
    let mut hs = serde_json::Map::new();
    let mut cookies = serde_json::Map::new();
    for (k, v) in headers {
        let v = v.to_str().unwrap_or_default();
        if k == "cookie" {
            for c in v.split(';').filter_map(|c| c.trim().split_once('=')) {
                cookies.insert(c.0.to_owned(), json!({ "value": c.1 }));
            }
        } else {
            hs.insert(k.as_str().to_owned(), json!({ "value": v }));
        }
    }
    json!({
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": ip},
        "request": {"method": method.as_str(), "uri": uri, "querystring": qs, "headers": hs, "cookies": cookies},
    })
}

/// A response a CloudFront Function returned.
fn function_response(v: &Value) -> Response {
    let status = v["statusCode"].as_u64().unwrap_or(200) as u16;
    let mut r = Response::new(Body::from(
        v["body"].as_str().unwrap_or_default().to_owned(),
    ));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (k, h) in v["headers"].as_object().into_iter().flatten() {
        if let (Ok(k), Ok(val)) = (
            axum::http::HeaderName::try_from(k.as_str()),
            HeaderValue::from_str(h["value"].as_str().unwrap_or_default()),
        ) {
            r.headers_mut().insert(k, val);
        }
    }
    r
}

/// The file for a URI inside the bucket, if the URI stays inside it.
fn object_path(bucket: &Path, uri: &str) -> Option<PathBuf> {
    let decoded = percent_decode(uri.trim_start_matches('/'));
    let rel = Path::new(&decoded);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(bucket.join(rel))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = b.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The content type `aws s3 sync` would store for a file.
pub fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html",
        "js" => "text/javascript",
        "css" => "text/css",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/vnd.microsoft.icon",
        "txt" => "text/plain",
        _ => "binary/octet-stream",
    }
}

const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

async fn origin(front: &SiteFront, method: &Method, uri: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::FORBIDDEN, ACCESS_DENIED).into_response();
    }
    let found = match object_path(&front.bucket, uri) {
        Some(p) if p.is_file() => tokio::fs::read(&p).await.ok().map(|b| (p, b)),
        _ => None,
    };
    match found {
        // For HEAD the server sends the headers (with the length) and drops the body.
        Some((path, bytes)) => ([("content-type", content_type(&path))], bytes).into_response(),
        None => (
            StatusCode::FORBIDDEN,
            [("content-type", "application/xml")],
            ACCESS_DENIED,
        )
            .into_response(),
    }
}

/// Serves one request.
pub async fn handle(State(front): State<Arc<SiteFront>>, request: Request<Body>) -> Response {
    let method = request.method().clone();
    let mut uri = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let mut response = None;
    if let Some(f) = &front.function {
        let e = event_of(&method, &uri, &query, request.headers(), "127.0.0.1");
        match f.run(&e).await {
            Ok(out) if out.get("statusCode").is_some() => response = Some(function_response(&out)),
            Ok(out) => {
                if let Some(u) = out["uri"].as_str() {
                    uri = u.to_owned();
                }
            }
            Err(e) => {
                println!("[site] {e:#}");
                response = Some(
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The CloudFront function failed.",
                    )
                        .into_response(),
                );
            }
        }
    }
    let mut response = match response {
        Some(r) => r,
        None => {
            if uri == "/"
                && let Some(root) = &front.spec.default_root_object
            {
                uri = format!("/{root}");
            }
            let mut r = origin(&front, &method, &uri).await;
            let status = r.status().as_u16();
            if let Some((_, page, code)) = front
                .spec
                .error_responses
                .iter()
                .find(|(c, _, _)| *c == status)
            {
                if let Some(page) = page {
                    r = origin(&front, &Method::GET, page).await;
                }
                if let Some(code) = code {
                    *r.status_mut() = StatusCode::from_u16(*code).unwrap_or(r.status());
                }
            }
            r
        }
    };
    let h = response.headers_mut();
    for (name, value, over) in &front.spec.headers.headers {
        if (*over || !h.contains_key(name.as_str()))
            && let (Ok(n), Ok(v)) = (
                axum::http::HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            )
        {
            h.insert(n, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_stay_inside_the_bucket() {
        let b = Path::new("/b");
        assert_eq!(
            object_path(b, "/index.html"),
            Some(PathBuf::from("/b/index.html"))
        );
        assert_eq!(
            object_path(b, "/a%20b.js"),
            Some(PathBuf::from("/b/a b.js"))
        );
        assert_eq!(object_path(b, "/../etc/passwd"), None);
        assert_eq!(object_path(b, "/%2e%2e/x"), None);
    }
}
