//! API Gateway's JWT authorizer, as its documentation describes the check
//! ("Authorizing API requests with a JWT authorizer"):
//!
//! 1. the token from the identity source, alone or after `Bearer `;
//! 2. decoded; its algorithm RSA-based and its signature checked against the key of
//!    the issuer's `jwks_uri` whose `kid` it names (keys cached for two hours);
//! 3. `iss` equal to the authorizer's issuer; `aud` (or `client_id` when there is no
//!    `aud`) one of its audiences; `exp` after now, `nbf` and `iat` before now (no
//!    leeway); and, when the route asks for scopes, one of them in `scope`.
//!
//! A request that fails any step gets 401 from the front and never reaches the
//! function. The claims of a valid token go to the function as API Gateway passes
//! them in payload 2.0: every value a string, arrays as `[a b]`.
//!
//! The issuer's discovery document and keys are read from the emulator (the issuer
//! is `https://cognito-idp.<region>.amazonaws.com/<pool>`, which the emulator serves
//! by host).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::deploy::JwtAuthorizer;
use crate::emulator::Emulator;

/// How long fetched keys are used.
const KEY_CACHE: Duration = Duration::from_secs(2 * 3600);

/// Why a token was refused, in the words API Gateway puts in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

impl Refusal {
    /// The `WWW-Authenticate` header of the 401, or `None` when no token was sent.
    pub fn www_authenticate(&self) -> Option<String> {
        (self.0 != "no token").then(|| {
            format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{}\"",
                self.0
            )
        })
    }
}

/// What a valid token gives the function: its claims as API Gateway passes them, and
/// its scopes (`None` for a token without any, such as an ID token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The claims, every value a string.
    pub claims: BTreeMap<String, String>,
    /// The token's scopes.
    pub scopes: Option<Vec<String>>,
}

/// Keys per issuer, with when they were fetched.
#[derive(Default)]
pub struct Keys {
    cache: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl Keys {
    async fn of(&self, emulator: &Emulator, issuer: &str) -> Result<JwkSet> {
        if let Some((at, set)) = self.cache.lock().expect("keys").get(issuer)
            && at.elapsed() < KEY_CACHE
        {
            return Ok(set.clone());
        }
        let (host, path) = issuer
            .strip_prefix("https://")
            .and_then(|rest| rest.split_once('/'))
            .with_context(|| format!("an issuer that is not an https URL: {issuer}"))?;
        let discovery = emulator
            .get_as_host(host, &format!("/{path}/.well-known/openid-configuration"))
            .await?;
        anyhow::ensure!(
            discovery["issuer"] == issuer,
            "the discovery document names another issuer: {}",
            discovery["issuer"]
        );
        // The emulator points `jwks_uri` at wherever it was asked; read the path.
        let jwks_uri = discovery["jwks_uri"].as_str().context("no jwks_uri")?;
        let jwks_path = jwks_uri
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .context("a jwks_uri without a path")?;
        let set: JwkSet = serde_json::from_value(emulator.get_as_host(host, jwks_path).await?)?;
        self.cache
            .lock()
            .expect("keys")
            .insert(issuer.to_owned(), (Instant::now(), set.clone()));
        Ok(set)
    }
}

/// Checks the token of a request against an authorizer; the claims as API Gateway
/// passes them, or why it refuses.
pub async fn authorize(
    authorizer: &JwtAuthorizer,
    scopes: &[String],
    header_value: Option<&str>,
    keys: &Keys,
    emulator: &Emulator,
) -> Result<Verified, Refusal> {
    let raw = header_value.map(str::trim).filter(|v| !v.is_empty());
    let Some(raw) = raw else {
        return Err(Refusal("no token"));
    };
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .unwrap_or(raw)
        .trim();
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| Refusal("the token is malformed"))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err(Refusal("the token's algorithm is not supported"));
    }
    let set = keys
        .of(emulator, &authorizer.issuer)
        .await
        .map_err(|_| Refusal("the issuer's keys could not be read"))?;
    check(authorizer, scopes, token, &set)
}

/// The checks after the token is found and the issuer's keys are known.
pub fn check(
    authorizer: &JwtAuthorizer,
    scopes: &[String],
    token: &str,
    set: &JwkSet,
) -> Result<Verified, Refusal> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| Refusal("the token is malformed"))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err(Refusal("the token's algorithm is not supported"));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or(Refusal("the token has no kid"))?;
    let jwk = set
        .find(kid)
        .ok_or(Refusal("no key of the issuer matches the token's kid"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| Refusal("the issuer's key is unusable"))?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = 0;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_issuer(&[&authorizer.issuer]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        Refusal(match e.kind() {
            ErrorKind::ExpiredSignature => "the token has expired",
            ErrorKind::ImmatureSignature => "the token is not valid yet",
            ErrorKind::InvalidIssuer => "the token does not have a valid issuer",
            ErrorKind::InvalidSignature => "the token's signature is invalid",
            ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
            _ => "the token is invalid",
        })
    })?;
    let claims = data.claims;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    if claims["iat"].as_u64().is_some_and(|iat| iat > now) {
        return Err(Refusal("the token was issued in the future"));
    }
    let audiences: Vec<&str> = match &claims["aud"] {
        Value::String(a) => vec![a.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => claims["client_id"].as_str().into_iter().collect(),
    };
    if !audiences
        .iter()
        .any(|a| authorizer.audience.iter().any(|want| want == a))
    {
        return Err(Refusal("the token does not have a valid audience"));
    }
    let token_scopes: Option<Vec<String>> = claims["scope"]
        .as_str()
        .or_else(|| claims["scp"].as_str())
        .map(|s| s.split_whitespace().map(str::to_owned).collect());
    if !scopes.is_empty()
        && !token_scopes
            .as_ref()
            .is_some_and(|have| have.iter().any(|s| scopes.contains(s)))
    {
        return Err(Refusal("the token does not have the required scopes"));
    }
    Ok(Verified {
        claims: string_claims(&claims),
        scopes: token_scopes,
    })
}

/// Claims as API Gateway passes them to an integration: strings, arrays as `[a b]`.
pub fn string_claims(claims: &Value) -> BTreeMap<String, String> {
    claims
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), claim_string(v)))
        .collect()
}

fn claim_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(claim_string).collect::<Vec<_>>().join(" ")
        ),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_reach_the_function_as_strings() {
        let claims = string_claims(&json!({
            "email": "carol@example.com",
            "email_verified": true,
            "exp": 1900000000,
            "cognito:groups": ["admins", "approvers"],
        }));
        assert_eq!(claims["cognito:groups"], "[admins approvers]");
        assert_eq!(claims["email_verified"], "true");
        assert_eq!(claims["exp"], "1900000000");
        assert_eq!(claims["email"], "carol@example.com");
    }

    /// A 2048-bit RSA key made for these tests (PKCS#1 DER, base64) and its modulus.
    const TEST_KEY: &str = concat!(
        "MIIEowIBAAKCAQEA2L62JBUYrY1c3Qr1mWsVSFug4mPP2NgzUbJUsjW4kc3EsAeV+kuW3+/QUGEDZi0qQa85IFiaYH",
        "TlOyr7WxZ9/ZoFHX4XwpXnYNVPOqt6fcGyq/yInN22b+HxpNqL4JE9V86BfGQ3iyXoAH4mkmqmOnkOezNJycwUeU+j",
        "2xkGh/E8TclX/WasaD7dAw4hvgYZvzlVu7u66rHt/VwFd2F9OuhLimtoEo9CNwRt8ZVZrYEzJN/7Jd7yCupTwUZd48",
        "Vw7gx2iQGJFdSWCsvRzI8tydr3HX9mZBFc5g86CdY03p08ILsBimGlGl9GwT7ggxFYHPVOJSm8nzWmCJLBeppzpQID",
        "AQABAoIBAA4gzk7HTkK/1cdgd8EOnRud7LyHvOG5uWH6/HDaYMPQ9HV0pSF51xA/+aWc++5SMDCJu1ug/ZJ0hDMJZU",
        "rbH47N65qayxyHY3E+g58uKXpJi5E7kUHHuk+MMZFpSoKyokZB4yhd1aNdGZnwnyiI9E7C8H9LiPozB+b0Gpjv8RWg",
        "Hzx3EtqR87REyvcukUBqvY62iIee7OS+vFmqcuuLwEonfNYY5LtotevgXkURpr3X9lLSr/t+/Fb2Qsu2Omh0LbcrmO",
        "aMAvsBx9qn9P04Kwll0TODzqnEciRdQsPIRZZGh4MT6o3lEqc+THoGrJ+xhFcompv8gaV0R375Z+i5x3kCgYEA+bur",
        "E9EsbxIS3ywn1zEnCDqhOMGurgE05SIGAxwjff7ZjvOGIPgg4JbM/XuLU6Ti6l127+kXBOGIpxxSq/cDyTXRElWDQ7",
        "CreH6BIHhd3X55qHSwNdMYiuiHRJBXSXkv/QRGKIxzfnv55t4xAt344Rl1/pZtDUsx3FENkzA5xqkCgYEA3i8fF1WV",
        "UOoOGCN7vcZBl/7J09PYfobsBG7hqD9i3IxG99JLMpSRv3140KlXPCRzqq0m6C33UqzE0moc5vGUkMMQnWMa3JuklP",
        "Mr6CfkiGLwnCi8haHUZUFrG0zrHoU8UclobhMmyxPQfAw8A9iIqOlnGr9D8MPYvnDHNim3bp0CgYEAnTKBhK7lfmDt",
        "GifsSCu7exWUyGo6b3N4/UaGbEy5FqVmAvLNmlE2OMkT7fdng1ZGM+pzZJ7fi4YAA9jzPSX27x/+I8FKKEC8HtPaqj",
        "q6MyNapywUgz0GtOGbzA/jse8jwut+0iVeyd52NtnkFf7tm5vwRzofGQAdOaaXmfAAXkkCgYBibK1xQNBsj8K+nrlq",
        "UDEujAgMdoQpSMu1Cwmb5rh8yweFMPtu5LHMCmFCzkF+uwciTKI3qGUvkql+LNOw2sPdfQwXLJfxsmEuOqrwpPtwD6",
        "RXCRS6ff4A/QHdji15z7vw3zAL0yAURirNSP4tFfc0HHE4QBJwzdFuS7d0HvbLYQKBgHTyotTrCfWPfb/jQw7lozIp",
        "RPzOOKdfqdJ277PlVIzYLFA7GkvNeXi5gLX9mCUkNL84m8AUeEBUPVqDIqNhZ6RQGkMENND8KtvMU4FelbWi+gCb62",
        "RTVrTBFIzciN+MWUKmoLzXOJhnqP8eE0tnFlIxmnok4cZrOYldBWBzq/iT",
    );
    const TEST_MODULUS: &str = concat!(
        "2L62JBUYrY1c3Qr1mWsVSFug4mPP2NgzUbJUsjW4kc3EsAeV-kuW3-_QUGEDZi0qQa85IFiaYHTlOyr7WxZ9_ZoFHX",
        "4XwpXnYNVPOqt6fcGyq_yInN22b-HxpNqL4JE9V86BfGQ3iyXoAH4mkmqmOnkOezNJycwUeU-j2xkGh_E8TclX_Was",
        "aD7dAw4hvgYZvzlVu7u66rHt_VwFd2F9OuhLimtoEo9CNwRt8ZVZrYEzJN_7Jd7yCupTwUZd48Vw7gx2iQGJFdSWCs",
        "vRzI8tydr3HX9mZBFc5g86CdY03p08ILsBimGlGl9GwT7ggxFYHPVOJSm8nzWmCJLBeppzpQ",
    );
    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";

    fn keys() -> JwkSet {
        serde_json::from_value(json!({"keys": [{
            "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": TEST_MODULUS, "e": "AQAB"
        }]}))
        .unwrap()
    }

    fn authorizer() -> JwtAuthorizer {
        JwtAuthorizer {
            header: "authorization".into(),
            issuer: ISSUER.into(),
            audience: vec!["site-client".into()],
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn token(claims: Value, kid: &str) -> String {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(TEST_KEY)
            .unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(&der),
        )
        .unwrap()
    }

    fn id_token() -> Value {
        json!({"iss": ISSUER, "aud": "site-client", "token_use": "id", "email": "a@example.com",
               "cognito:groups": ["admins"], "iat": now() - 5, "exp": now() + 600})
    }

    fn refused(claims: Value) -> &'static str {
        check(&authorizer(), &[], &token(claims, "k1"), &keys())
            .unwrap_err()
            .0
    }

    #[test]
    fn a_valid_token_passes_with_string_claims() {
        let v = check(&authorizer(), &[], &token(id_token(), "k1"), &keys()).unwrap();
        assert_eq!(v.claims["email"], "a@example.com");
        assert_eq!(v.claims["cognito:groups"], "[admins]");
        assert_eq!(v.scopes, None);
    }

    #[test]
    fn each_documented_check_refuses() {
        let with = |k: &str, v: Value| {
            let mut c = id_token();
            c[k] = v;
            c
        };
        assert_eq!(
            refused(with("aud", json!("other-client"))),
            "the token does not have a valid audience"
        );
        assert_eq!(
            refused(with("iss", json!("https://elsewhere"))),
            "the token does not have a valid issuer"
        );
        assert_eq!(
            refused(with("exp", json!(now() - 1))),
            "the token has expired"
        );
        assert_eq!(
            refused(with("nbf", json!(now() + 60))),
            "the token is not valid yet"
        );
        assert_eq!(
            refused(with("iat", json!(now() + 60))),
            "the token was issued in the future"
        );
        let mut no_exp = id_token();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(refused(no_exp), "the token lacks a required claim");
        let unknown_kid = check(&authorizer(), &[], &token(id_token(), "k2"), &keys()).unwrap_err();
        assert_eq!(
            unknown_kid.0,
            "no key of the issuer matches the token's kid"
        );
    }

    #[test]
    fn an_access_token_is_checked_by_client_id_and_scopes() {
        let access = json!({"iss": ISSUER, "client_id": "site-client", "token_use": "access",
                            "scope": "openid email", "iat": now(), "exp": now() + 600});
        let t = token(access, "k1");
        let v = check(&authorizer(), &["email".into()], &t, &keys()).unwrap();
        assert_eq!(v.scopes, Some(vec!["openid".into(), "email".into()]));
        assert_eq!(
            check(&authorizer(), &["admin:write".into()], &t, &keys())
                .unwrap_err()
                .0,
            "the token does not have the required scopes"
        );
    }

    #[test]
    fn forged_and_symmetric_tokens_are_refused() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let t = token(id_token(), "k1");
        let parts: Vec<&str> = t.split('.').collect();
        let mut claims = id_token();
        claims["email"] = json!("admin@example.com");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        );
        assert_eq!(
            check(&authorizer(), &[], &forged, &keys()).unwrap_err().0,
            "the token's signature is invalid"
        );
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let hs = jsonwebtoken::encode(
            &header,
            &id_token(),
            &jsonwebtoken::EncodingKey::from_secret(b"a guessable secret").unwrap(),
        )
        .unwrap();
        assert_eq!(
            check(&authorizer(), &[], &hs, &keys()).unwrap_err().0,
            "the token's algorithm is not supported"
        );
    }

    #[test]
    fn a_missing_token_gets_no_challenge() {
        assert_eq!(Refusal("no token").www_authenticate(), None);
        assert!(
            Refusal("the token has expired")
                .www_authenticate()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }
}
