//! The HTTP API front: API Gateway's HTTP API (`$default` stage, Lambda proxy
//! integrations with payload format 2.0) built from the template's routes.
//!
//! Modelled, in the order API Gateway applies them:
//! - CORS preflight: with a CORS configuration, `OPTIONS` requests with `Origin` and
//!   `Access-Control-Request-Method` are answered by the API itself (204), with no
//!   route, authorizer or function involved;
//! - route selection: method (or `ANY`) and path, literal segments before `{param}`,
//!   `{proxy+}` last; no route → 404 `{"message":"Not Found"}`;
//! - the route's throttling (token bucket: `ThrottlingBurstLimit`,
//!   `ThrottlingRateLimit`, from `RouteSettings` or `DefaultRouteSettings`) → 429
//!   `{"message":"Too Many Requests"}`;
//! - the route's JWT authorizer ([`crate::authorizer`]) → 401
//!   `{"message":"Unauthorized"}`; `Authorizer: NONE` routes are open;
//! - the event (payload 2.0): `rawPath`, `rawQueryString`, lower-case `headers` with
//!   repeated values joined by commas, `cookies`, `queryStringParameters`,
//!   `pathParameters`, `requestContext` with `authorizer.jwt.{claims,scopes}`, the
//!   body (base64 unless textual);
//! - the response: `statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`; a
//!   result that is not such an object is sent as a 200 JSON body; a function error or
//!   timeout → 500 `{"message":"Internal Server Error"}`;
//! - CORS on responses to an allowed origin (API-wide, the front's own errors included;
//!   the integration's own CORS headers are dropped, as the documentation says);
//! - an access log line per request in the template's `AccessLogSettings.Format`.
//!
//! Left out: payload size limits, the 30 s integration timeout (the functions' own
//! timeouts are shorter), custom domains, mutual TLS, Lambda authorizers, stages other
//! than `$default`, `$default` routes, account-level throttling.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

use crate::authorizer::{Keys, Verified, authorize};
use crate::deploy::{ApiSpec, RouteSpec, Throttle};
use crate::emulator::Emulator;
use crate::lambda::FunctionHost;

/// The route key logged for preflight requests the API answers itself.
const PREFLIGHT: &str = "-preflight";

/// The front's state.
pub struct ApiFront {
    /// The API as the template defines it.
    pub spec: ApiSpec,
    /// Each route's function, by logical id.
    pub functions: BTreeMap<String, Arc<FunctionHost>>,
    /// The emulator (for the issuer's keys).
    pub emulator: Emulator,
    /// The account id in request contexts.
    pub account: String,
    /// Where access log lines go.
    pub access_log: PathBuf,
    keys: Keys,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl ApiFront {
    /// A front for `spec`.
    pub fn new(
        spec: ApiSpec,
        functions: BTreeMap<String, Arc<FunctionHost>>,
        emulator: Emulator,
        account: String,
        access_log: PathBuf,
    ) -> Self {
        Self {
            spec,
            functions,
            emulator,
            account,
            access_log,
            keys: Keys::default(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The host name API Gateway would give the API.
    fn domain(&self) -> &str {
        self.spec
            .public_endpoint
            .strip_prefix("https://")
            .unwrap_or(&self.spec.public_endpoint)
    }
}

/// A token bucket.
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Takes a token from the route's bucket; `false` when it is empty.
fn admit(front: &ApiFront, route: &RouteSpec) -> bool {
    let Some(t): Option<Throttle> = front
        .spec
        .route_throttle
        .get(&route.key())
        .copied()
        .or(front.spec.default_throttle)
    else {
        return true;
    };
    let mut buckets = front.buckets.lock().expect("buckets");
    let now = Instant::now();
    let b = buckets.entry(route.key()).or_insert(Bucket {
        tokens: f64::from(t.burst),
        at: now,
    });
    b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * t.rate).min(f64::from(t.burst));
    b.at = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        true
    } else {
        false
    }
}

/// A matching route: its rank (literal segments, not greedy, exact method), the
/// route, its path parameters.
type Candidate<'a> = (
    (usize, usize, bool),
    &'a RouteSpec,
    BTreeMap<String, String>,
);

/// The route for `method path`, with its path parameters: literal segments win over
/// parameters, a greedy `{name+}` matches last, an exact method wins over `ANY`.
pub fn select_route<'a>(
    routes: &'a [RouteSpec],
    method: &str,
    path: &str,
) -> Option<(&'a RouteSpec, BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut best: Option<Candidate<'a>> = None;
    for route in routes {
        if route.method != method && route.method != "ANY" {
            continue;
        }
        let template: Vec<&str> = route.path.split('/').skip(1).collect();
        let mut params = BTreeMap::new();
        let mut literal = 0;
        let mut matched = true;
        let mut greedy = false;
        for (i, t) in template.iter().enumerate() {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix("+}")) {
                let rest = segments.get(i..).unwrap_or_default();
                if rest.is_empty() || rest.iter().all(|s| s.is_empty()) {
                    matched = false;
                }
                params.insert(name.to_owned(), decode(&rest.join("/")));
                greedy = true;
                break;
            }
            let Some(seg) = segments.get(i) else {
                matched = false;
                break;
            };
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                if seg.is_empty() {
                    matched = false;
                    break;
                }
                params.insert(name.to_owned(), decode(seg));
            } else if t == seg {
                literal += 1;
            } else {
                matched = false;
                break;
            }
        }
        if !greedy && template.len() != segments.len() {
            matched = false;
        }
        if !matched {
            continue;
        }
        let score = (literal, usize::from(!greedy), route.method == method);
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, route, params));
        }
    }
    best.map(|(_, r, p)| (r, p))
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn message(status: StatusCode, text: &str) -> Response {
    let mut r = (status, json!({ "message": text }).to_string()).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

/// The origin's CORS headers on a response, when it is allowed.
fn add_cors(front: &ApiFront, origin: Option<&str>, headers: &mut HeaderMap) {
    let Some(cors) = &front.spec.cors else { return };
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for n in names {
        headers.remove(n);
    }
    let Some(origin) = origin else { return };
    let allowed = if cors.allow_origins.iter().any(|o| o == "*") {
        "*"
    } else if cors.allow_origins.iter().any(|o| o == origin) {
        origin
    } else {
        return;
    };
    let mut set = |k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            headers.insert(k, v);
        }
    };
    set("access-control-allow-origin", allowed);
    if !cors.expose_headers.is_empty() {
        set(
            "access-control-expose-headers",
            &cors.expose_headers.join(","),
        );
    }
    if cors.allow_credentials {
        set("access-control-allow-credentials", "true");
    }
}

fn preflight(front: &ApiFront, origin: &str) -> Response {
    let cors = front.spec.cors.as_ref().expect("checked");
    let mut response = StatusCode::NO_CONTENT.into_response();
    let allowed = cors.allow_origins.iter().any(|o| o == "*" || o == origin);
    if allowed {
        let h = response.headers_mut();
        add_cors(front, Some(origin), h);
        let mut set = |k: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        };
        set("access-control-allow-methods", cors.allow_methods.join(","));
        if !cors.allow_headers.is_empty() {
            set("access-control-allow-headers", cors.allow_headers.join(","));
        }
        if let Some(age) = cors.max_age {
            set("access-control-max-age", age.to_string());
        }
    }
    response
}

/// Content types API Gateway passes as text; anything else is base64.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.ends_with("/json")
        || ct.ends_with("+json")
        || ct.ends_with("/xml")
        || ct.ends_with("+xml")
        || ct.ends_with("/javascript")
        || ct == "application/x-www-form-urlencoded"
}

/// The payload 2.0 event for a request.
#[allow(clippy::too_many_arguments)]
fn event(
    front: &ApiFront,
    route: &RouteSpec,
    params: BTreeMap<String, String>,
    request_id: &str,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    source_ip: &str,
    authorizer: Option<Verified>,
) -> Value {
    let mut hmap: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (name, value) in headers {
        let v = value.to_str().unwrap_or_default().to_owned();
        if name == "cookie" {
            cookies.extend(v.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        hmap.entry(name.as_str().to_owned())
            .and_modify(|e| {
                if let Value::String(s) = e {
                    s.push(',');
                    s.push_str(&v);
                }
            })
            .or_insert(Value::String(v));
    }
    let domain = front.domain().to_owned();
    hmap.insert("host".into(), json!(domain));
    hmap.insert("x-forwarded-for".into(), json!(source_ip));
    hmap.insert("x-forwarded-port".into(), json!("443"));
    hmap.insert("x-forwarded-proto".into(), json!("https"));
    let mut qmap: Map<String, Value> = Map::new();
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default() {
        qmap.entry(k)
            .and_modify(|e| {
                if let Value::String(s) = e {
                    s.push(',');
                    s.push_str(&v);
                }
            })
            .or_insert(Value::String(v));
    }
    let now = chrono::Utc::now();
    let mut context = json!({
        "accountId": front.account,
        "apiId": front.spec.id,
        "domainName": domain,
        "domainPrefix": front.spec.id,
        "http": {
            "method": method.as_str(),
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default(),
        },
        "requestId": request_id,
        "routeKey": route.key(),
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(v) = authorizer {
        context["authorizer"] = json!({"jwt": {"claims": v.claims, "scopes": v.scopes}});
    }
    let mut e = json!({
        "version": "2.0",
        "routeKey": route.key(),
        "rawPath": path,
        "rawQueryString": query,
        "headers": hmap,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        e["cookies"] = Value::Array(cookies);
    }
    if !qmap.is_empty() {
        e["queryStringParameters"] = Value::Object(qmap);
    }
    if !params.is_empty() {
        e["pathParameters"] = json!(params);
    }
    if !body.is_empty() {
        let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
        if is_text(ct) && std::str::from_utf8(body).is_ok() {
            e["body"] = json!(String::from_utf8_lossy(body));
        } else {
            e["body"] = json!(STANDARD.encode(body));
            e["isBase64Encoded"] = json!(true);
        }
    }
    e
}

/// A function's result as the HTTP response API Gateway sends.
fn response_of(result: Value) -> Response {
    let Some(status) = result.get("statusCode").and_then(Value::as_u64) else {
        // Not a response object: API Gateway sends the result itself as JSON.
        let mut r = (StatusCode::OK, result.to_string()).into_response();
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        return r;
    };
    let body = match result.get("body") {
        Some(Value::String(s)) if result["isBase64Encoded"] == true => {
            STANDARD.decode(s).unwrap_or_default()
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() =
        StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    for (k, v) in result["headers"].as_object().into_iter().flatten() {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(&v)) {
            h.insert(k, v);
        }
    }
    for c in result["cookies"].as_array().into_iter().flatten() {
        if let Some(Ok(v)) = c.as_str().map(HeaderValue::from_str) {
            h.append("set-cookie", v);
        }
    }
    if !h.contains_key("content-type") {
        h.insert("content-type", HeaderValue::from_static("application/json"));
    }
    r
}

/// A request id in API Gateway's form.
fn request_id() -> String {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).expect("random");
    let mut s = STANDARD.encode(b).replace(['+', '/'], "x");
    s.truncate(15);
    s.push('=');
    s
}

/// Serves one request.
pub async fn handle(
    State(front): State<Arc<ApiFront>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 10 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let id = request_id();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let origin = parts
        .headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (mut response, route_key, error) = route(
        &front,
        &parts.method,
        &path,
        &query,
        &parts.headers,
        &body,
        &id,
        peer,
    )
    .await;
    // A preflight's answer carries its own CORS headers.
    if route_key != PREFLIGHT {
        add_cors(&front, origin.as_deref(), response.headers_mut());
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    access_log(
        &front,
        &id,
        peer,
        &route_key,
        response.status(),
        started,
        &error,
    )
    .await;
    response
}

#[allow(clippy::too_many_arguments)]
async fn route(
    front: &ApiFront,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    id: &str,
    peer: SocketAddr,
) -> (Response, String, String) {
    let origin = headers.get("origin").and_then(|v| v.to_str().ok());
    if method == Method::OPTIONS
        && front.spec.cors.is_some()
        && let Some(origin) = origin
        && headers.contains_key("access-control-request-method")
    {
        return (preflight(front, origin), PREFLIGHT.into(), String::new());
    }
    let Some((route, params)) = select_route(&front.spec.routes, method.as_str(), path) else {
        return (
            message(StatusCode::NOT_FOUND, "Not Found"),
            "-".into(),
            String::new(),
        );
    };
    let key = route.key();
    if !admit(front, route) {
        return (
            message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
            key,
            String::new(),
        );
    }
    let mut auth = None;
    if let Some(name) = &route.authorizer {
        let authorizer = &front.spec.authorizers[name];
        let value = headers
            .get(authorizer.header.as_str())
            .and_then(|v| v.to_str().ok());
        match authorize(
            authorizer,
            &route.scopes,
            value,
            &front.keys,
            &front.emulator,
        )
        .await
        {
            Ok(claims) => auth = Some(claims),
            Err(refusal) => {
                let mut r = message(StatusCode::UNAUTHORIZED, "Unauthorized");
                if let Some(Ok(v)) = refusal
                    .www_authenticate()
                    .as_deref()
                    .map(HeaderValue::from_str)
                {
                    r.headers_mut().insert("www-authenticate", v);
                }
                return (r, key, refusal.0.to_owned());
            }
        }
    }
    let Some(function) = front.functions.get(&route.function) else {
        return (
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            key,
            "no function".into(),
        );
    };
    let e = event(
        front,
        route,
        params,
        id,
        method,
        path,
        query,
        headers,
        body,
        &peer.ip().to_string(),
        auth,
    );
    match function.invoke(e, &key).await {
        Ok(result) => (response_of(result), key, String::new()),
        Err(err) => (
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            key,
            format!("{}: {}", err.error_type, err.error_message),
        ),
    }
}

async fn access_log(
    front: &ApiFront,
    id: &str,
    peer: SocketAddr,
    route_key: &str,
    status: StatusCode,
    started: Instant,
    error: &str,
) {
    let Some(format) = &front.spec.access_log_format else {
        return;
    };
    let now = chrono::Utc::now();
    let vars: [(&str, String); 8] = [
        ("$context.requestId", id.to_owned()),
        ("$context.identity.sourceIp", peer.ip().to_string()),
        (
            "$context.requestTime",
            now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        ),
        ("$context.routeKey", route_key.to_owned()),
        ("$context.status", status.as_u16().to_string()),
        (
            "$context.responseLatency",
            started.elapsed().as_millis().to_string(),
        ),
        (
            "$context.integrationErrorMessage",
            if error.is_empty() {
                "-".into()
            } else {
                error.replace('"', "'")
            },
        ),
        ("$context.authorizer.error", "-".into()),
    ];
    let mut line = format.clone();
    // Longest names first: `$context.status` is a prefix of none, but keep it safe.
    let mut sorted = vars.to_vec();
    sorted.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    for (k, v) in sorted {
        line = line.replace(k, &v);
    }
    if let Ok(mut f) = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&front.access_log)
        .await
    {
        let _ = f.write_all(format!("{line}\n").as_bytes()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> RouteSpec {
        RouteSpec {
            method: method.into(),
            path: path.into(),
            function: format!("{method} {path}"),
            authorizer: None,
            scopes: vec![],
        }
    }

    #[test]
    fn routes_are_chosen_as_api_gateway_chooses_them() {
        let routes = vec![
            route("GET", "/v1/requests"),
            route("GET", "/v1/requests/{id}"),
            route("POST", "/v1/requests/{id}/decision"),
            route("GET", "/v1/entries/{id}/secret"),
            route("ANY", "/v1/{proxy+}"),
            route("GET", "/v1/requests/mine"),
        ];
        let pick =
            |m: &str, p: &str| select_route(&routes, m, p).map(|(r, params)| (r.key(), params));
        assert_eq!(pick("GET", "/v1/requests").unwrap().0, "GET /v1/requests");
        let (key, params) = pick("GET", "/v1/requests/01ABC").unwrap();
        assert_eq!(key, "GET /v1/requests/{id}");
        assert_eq!(params["id"], "01ABC");
        assert_eq!(
            pick("GET", "/v1/requests/mine").unwrap().0,
            "GET /v1/requests/mine"
        );
        assert_eq!(
            pick("POST", "/v1/requests/X/decision").unwrap().0,
            "POST /v1/requests/{id}/decision"
        );
        let (key, params) = pick("DELETE", "/v1/a/b").unwrap();
        assert_eq!(key, "ANY /v1/{proxy+}");
        assert_eq!(params["proxy"], "a/b");
        assert!(pick("GET", "/v2/requests").is_none());
        assert_eq!(
            pick("GET", "/v1/entries/a%20b/secret").unwrap().1["id"],
            "a b"
        );
    }

    #[test]
    fn text_bodies_stay_text() {
        assert!(is_text(Some("application/json; charset=utf-8")));
        assert!(is_text(Some("text/csv")));
        assert!(is_text(None));
        assert!(!is_text(Some("application/octet-stream")));
    }

    #[test]
    fn results_become_responses() {
        let r = response_of(
            json!({"statusCode": 201, "headers": {"x-a": "1"}, "body": "{}", "cookies": ["a=b"]}),
        );
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(r.headers()["set-cookie"], "a=b");
        let plain = response_of(json!({"ended": 0}));
        assert_eq!(plain.status(), 200);
    }
}
