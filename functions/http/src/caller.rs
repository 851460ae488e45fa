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

/// Parses `cognito:groups` as API Gateway passes it: the string `"[admins approvers]"`,
/// names separated by spaces (Cognito group names contain no spaces), or a JSON array.
/// Nothing else splits a name: a group called `eng,admins` is that one group.
pub fn parse_groups(raw: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(raw)
        .split(' ')
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The product's roles a person's groups give: exactly the group [`ADMINS_GROUP`]
/// makes an admin; no other group, whatever its name, gives a role.
pub fn roles_of(groups: &[String]) -> Vec<String> {
    if groups.iter().any(|g| g == ADMINS_GROUP) {
        vec![ADMIN_ROLE.to_owned()]
    } else {
        Vec::new()
    }
}

/// The caller the claims describe: a valid email the identity provider has verified
/// (`email_verified` is exactly `"true"`; an address a user could set unverified
/// names nobody).
pub fn caller_from_claims(claims: &HashMap<String, String>) -> Option<Caller> {
    if claims.get("email_verified").map(String::as_str) != Some("true") {
        return None;
    }
    let email = Email::parse(claims.get("email")?).ok()?;
    let name = claims
        .get("name")
        .filter(|n| !n.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| email.to_string());
    let groups = claims
        .get("cognito:groups")
        .map(|g| parse_groups(g))
        .unwrap_or_default();
    Some(Caller {
        email,
        name,
        roles: roles_of(&groups),
    })
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

/// The verified claims in the request context, if any.
fn claims(parts: &Parts) -> Option<&HashMap<String, String>> {
    match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims),
        _ => None,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        claims(parts)
            .and_then(caller_from_claims)
            .map(SignedIn)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// On a route anyone may call (a decision link's): the signed-in caller when the
/// request carries verified claims, else nobody. Never rejects.
#[derive(Debug, Clone)]
pub struct Visitor(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Visitor(claims(parts).and_then(caller_from_claims)))
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

    fn claims(groups: &str, verified: Option<&str>) -> HashMap<String, String> {
        let mut c = HashMap::from([
            ("email".to_owned(), "Carol@Example.com".to_owned()),
            ("cognito:groups".to_owned(), groups.to_owned()),
        ]);
        if let Some(v) = verified {
            c.insert("email_verified".to_owned(), v.to_owned());
        }
        c
    }

    #[test]
    fn claims_round_trip_and_admins_become_admin() {
        let caller = caller_from_claims(&claims("[admins]", Some("true"))).unwrap();
        assert_eq!(caller.email.as_str(), "carol@example.com");
        assert!(caller.is_admin());
        assert_eq!(caller.name, "carol@example.com");
        assert_eq!(caller_from_claims(&claims_of(&caller)).unwrap(), caller);
        assert!(caller_from_claims(&HashMap::new()).is_none());
    }

    #[test]
    fn only_the_exact_admins_group_makes_an_admin() {
        for groups in [
            "[eng,admins]",
            "[admin]",
            "[Admins]",
            "[administrators]",
            r#"["eng,admins"]"#,
        ] {
            let caller = caller_from_claims(&claims(groups, Some("true"))).unwrap();
            assert!(!caller.is_admin(), "{groups} made an admin");
            assert!(caller.roles.is_empty(), "{groups}: {:?}", caller.roles);
        }
        let caller = caller_from_claims(&claims("[eng admins]", Some("true"))).unwrap();
        assert!(caller.is_admin());
    }

    #[test]
    fn an_unverified_or_unstated_email_names_nobody() {
        for verified in [None, Some("false"), Some("True"), Some(""), Some("1")] {
            assert!(
                caller_from_claims(&claims("[admins]", verified)).is_none(),
                "email_verified = {verified:?} accepted"
            );
        }
    }
}
