//! Who is calling: the claims API Gateway's JWT authorizer put in the request context.
//! The embedded default puts the same context in place from its dev token, so the
//! handlers never know which one they run under.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use tempaccess_core::entry::{ADMIN_ROLE, Caller};
use tempaccess_core::ids::Email;

use crate::error::ApiError;

/// The Cognito group whose members are admins.
pub const ADMINS_GROUP: &str = "admins";

/// The signed-in caller, from verified claims. Extracting it fails with 401.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Caller);

/// Parses `cognito:groups` as API Gateway passes it: the string `"[admins approvers]"`
/// (or a JSON array, as some fixtures write it).
pub fn parse_groups(raw: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.trim_matches(|c| c == '[' || c == ']')
        .split([' ', ','])
        .map(|g| g.trim_matches('"'))
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The caller the claims describe, if they name a valid email.
pub fn caller_from_claims(claims: &HashMap<String, String>) -> Option<Caller> {
    let email = Email::parse(claims.get("email")?).ok()?;
    let name = claims
        .get("name")
        .filter(|n| !n.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| email.to_string());
    let roles = claims
        .get("cognito:groups")
        .map(|g| parse_groups(g))
        .unwrap_or_default()
        .into_iter()
        .map(|g| {
            if g == ADMINS_GROUP {
                ADMIN_ROLE.to_owned()
            } else {
                g
            }
        })
        .collect();
    Some(Caller { email, name, roles })
}

/// The request context API Gateway would send for a caller with these claims.
pub fn context_with_claims(claims: HashMap<String, String>) -> RequestContext {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims;
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    RequestContext::ApiGatewayV2(context)
}

/// The claims of a caller, as the identity provider would issue them.
pub fn claims_of(caller: &Caller) -> HashMap<String, String> {
    let groups: Vec<&str> = caller
        .roles
        .iter()
        .map(|r| {
            if r == ADMIN_ROLE {
                ADMINS_GROUP
            } else {
                r.as_str()
            }
        })
        .collect();
    HashMap::from([
        ("email".to_owned(), caller.email.to_string()),
        ("email_verified".to_owned(), "true".to_owned()),
        ("name".to_owned(), caller.name.clone()),
        (
            "cognito:groups".to_owned(),
            format!("[{}]", groups.join(" ")),
        ),
    ])
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let claims = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|j| &j.claims),
            _ => None,
        };
        if claims.is_some_and(|c| c.get("email_verified").is_some_and(|v| v == "false")) {
            return Err(ApiError::unauthenticated());
        }
        claims
            .and_then(caller_from_claims)
            .map(SignedIn)
            .ok_or_else(ApiError::unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_parse_as_api_gateway_sends_them() {
        assert_eq!(parse_groups("[admins approvers]"), ["admins", "approvers"]);
        assert_eq!(parse_groups(r#"["admins"]"#), ["admins"]);
        assert!(parse_groups("[]").is_empty());
    }

    #[test]
    fn claims_round_trip_and_admins_become_admin() {
        let claims = HashMap::from([
            ("email".to_owned(), "Carol@Example.com".to_owned()),
            ("cognito:groups".to_owned(), "[admins]".to_owned()),
        ]);
        let caller = caller_from_claims(&claims).unwrap();
        assert_eq!(caller.email.as_str(), "carol@example.com");
        assert!(caller.is_admin());
        assert_eq!(caller.name, "carol@example.com");
        assert_eq!(caller_from_claims(&claims_of(&caller)).unwrap(), caller);
        assert!(caller_from_claims(&HashMap::new()).is_none());
    }
}
