//! The deployment's public origins and where each runs on this machine.
//!
//! The template builds URLs from what AWS assigns: `https://<id>.cloudfront.net` for
//! the site, `https://<id>.execute-api.<region>.amazonaws.com` for the API,
//! `https://<prefix>.auth.<region>.amazoncognito.com` for the hosted UI. The stack
//! gives each a public name of that shape, resolves the template with it, then puts
//! the local origin (`http://localhost:<port>`) in its place wherever a resolved value
//! reaches a browser or a function: environment variables, the app client's callback
//! and logout URLs, the API's allowed origins, the stack's outputs. Cognito accepts
//! `http://` callback URLs only on `localhost`, so that is the host.
//!
//! A Content-Security-Policy is not rewritten by text: each source expression is
//! matched against the public origins as a browser would match it (scheme, host with
//! a leading `*.` wildcard, port), and a matching source is replaced by the local
//! origins it matches. An origin the policy does not allow stays unallowed here.

use serde_json::Value;

/// One origin the deployment serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// What it is ("site", "api", "hosted UI").
    pub role: &'static str,
    /// As AWS would name it: `https://d111111abcdef8.cloudfront.net`.
    pub public: String,
    /// Where it runs here: `http://localhost:8400`.
    pub local: String,
}

/// The deployment's origins.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    list: Vec<Origin>,
}

impl Origins {
    /// Adds one.
    pub fn add(&mut self, role: &'static str, public: String, local: String) {
        self.list.push(Origin {
            role,
            public: public.trim_end_matches('/').to_owned(),
            local: local.trim_end_matches('/').to_owned(),
        });
    }

    /// Every origin.
    pub fn all(&self) -> &[Origin] {
        &self.list
    }

    /// The local origin of a role.
    pub fn local(&self, role: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|o| o.role == role)
            .map(|o| o.local.as_str())
    }

    /// The public origin of a role.
    pub fn public(&self, role: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|o| o.role == role)
            .map(|o| o.public.as_str())
    }

    /// A string with every public origin replaced by its local one.
    pub fn localize(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for o in &self.list {
            out = out.replace(&o.public, &o.local);
        }
        out
    }

    /// A local URL in its public form (what the template registered).
    pub fn publicize(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for o in &self.list {
            if let Some(rest) = out.strip_prefix(&o.local)
                && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
            {
                out = format!("{}{rest}", o.public);
            }
        }
        out
    }

    /// Every string inside a JSON value localized.
    pub fn localize_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.localize(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.localize_json(v)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.localize_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A Content-Security-Policy with each source expression that matches public
    /// origins replaced by their local origins (see the module documentation).
    pub fn localize_csp(&self, policy: &str) -> String {
        policy
            .split(';')
            .map(|directive| {
                let mut words = directive.split_whitespace();
                let Some(name) = words.next() else {
                    return String::new();
                };
                let mut sources: Vec<String> = Vec::new();
                for source in words {
                    let matched: Vec<&Origin> = self
                        .list
                        .iter()
                        .filter(|o| source_matches(source, &o.public))
                        .collect();
                    if matched.is_empty() || source.starts_with('\'') {
                        sources.push(source.to_owned());
                    } else {
                        for o in matched {
                            if !sources.contains(&o.local) {
                                sources.push(o.local.clone());
                            }
                        }
                    }
                }
                std::iter::once(name.to_owned())
                    .chain(sources)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|d| !d.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Whether a CSP host-source (`https://*.example.com`, `https://a.example.com:443`,
/// `*.example.com`) matches an origin (`https://x.example.com`), as CSP Level 3
/// matches them: the scheme if given, the host with a leading `*.` standing for one or
/// more labels, the port if given (else the scheme's default).
pub fn source_matches(source: &str, origin: &str) -> bool {
    if source.starts_with('\'') || source == "*" || source.ends_with(':') {
        return false;
    }
    let Some((o_scheme, o_rest)) = origin.split_once("://") else {
        return false;
    };
    let (o_host, o_port) = split_port(o_rest, o_scheme);
    let (scheme, rest) = match source.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, source),
    };
    if let Some(s) = scheme
        && !s.eq_ignore_ascii_case(o_scheme)
    {
        return false;
    }
    let rest = rest.split('/').next().unwrap_or_default();
    let (host, port) = split_port(rest, scheme.unwrap_or(o_scheme));
    let host_ok = match host.strip_prefix("*.") {
        Some(suffix) => o_host
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.') && head.len() > 1),
        None => host.eq_ignore_ascii_case(&o_host),
    };
    host_ok && (port == "*" || port == o_port)
}

fn split_port(hostport: &str, scheme: &str) -> (String, String) {
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit() || c == '*') => {
            (h.to_ascii_lowercase(), p.to_owned())
        }
        _ => (
            hostport.to_ascii_lowercase(),
            if scheme.eq_ignore_ascii_case("http") {
                "80"
            } else {
                "443"
            }
            .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Origins {
        let mut o = Origins::default();
        o.add(
            "site",
            "https://d111.cloudfront.net".into(),
            "http://localhost:1001".into(),
        );
        o.add(
            "api",
            "https://abc123.execute-api.us-east-1.amazonaws.com".into(),
            "http://localhost:1002".into(),
        );
        o.add(
            "hosted UI",
            "https://pfx.auth.us-east-1.amazoncognito.com".into(),
            "http://localhost:1003".into(),
        );
        o
    }

    #[test]
    fn urls_go_local_and_back() {
        let o = origins();
        assert_eq!(
            o.localize("https://d111.cloudfront.net/auth/callback"),
            "http://localhost:1001/auth/callback"
        );
        assert_eq!(
            o.publicize("http://localhost:1001/auth/callback"),
            "https://d111.cloudfront.net/auth/callback"
        );
        assert_eq!(
            o.publicize("http://localhost:10011/x"),
            "http://localhost:10011/x"
        );
    }

    #[test]
    fn host_sources_match_as_browsers_match_them() {
        let api = "https://abc123.execute-api.us-east-1.amazonaws.com";
        assert!(source_matches(
            "https://*.execute-api.us-east-1.amazonaws.com",
            api
        ));
        assert!(source_matches("*.execute-api.us-east-1.amazonaws.com", api));
        assert!(source_matches(api, api));
        assert!(source_matches(&format!("{api}:443"), api));
        assert!(!source_matches(
            "https://*.execute-api.eu-west-1.amazonaws.com",
            api
        ));
        assert!(!source_matches(
            "http://*.execute-api.us-east-1.amazonaws.com",
            api
        ));
        assert!(!source_matches(
            "https://*.abc123.execute-api.us-east-1.amazonaws.com",
            api
        ));
        assert!(!source_matches("'self'", api));
        assert!(!source_matches(&format!("{api}:8443"), api));
    }

    #[test]
    fn a_policy_allows_locally_what_it_allows_publicly() {
        let csp = "default-src 'self'; connect-src 'self' https://*.execute-api.us-east-1.amazonaws.com \
                   https://*.auth.us-east-1.amazoncognito.com; form-action 'self' https://other.example.com";
        assert_eq!(
            origins().localize_csp(csp),
            "default-src 'self'; connect-src 'self' http://localhost:1002 http://localhost:1003; \
             form-action 'self' https://other.example.com"
        );
        // An origin the policy leaves out stays out.
        let narrow = "connect-src 'self' https://*.execute-api.us-east-1.amazonaws.com";
        assert_eq!(
            origins().localize_csp(narrow),
            "connect-src 'self' http://localhost:1002"
        );
    }
}
