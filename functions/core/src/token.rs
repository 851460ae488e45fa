//! Decision links: an opaque 256-bit token per (request, approver), stored only as its
//! SHA-256. The token is the approver's authority to decide from a mail.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::error::Error;
use crate::ids::{Email, RequestId};

/// The secret in a decision link. Never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct DecisionToken(String);

impl DecisionToken {
    /// A token from 32 random bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses a token from a request body (43 base64url characters).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let decoded = URL_SAFE_NO_PAD.decode(s.trim());
        match decoded {
            Ok(bytes) if bytes.len() == 32 => Ok(Self(s.trim().to_owned())),
            _ => Err(Error::invalid("token", "not a decision token")),
        }
    }

    /// The token as it goes into the link.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// The link to the decision page: the token rides in the fragment, which browsers
    /// never send to a server or in a `Referer`.
    pub fn link(&self, site_url: &str) -> String {
        format!("{}/decide#token={}", site_url.trim_end_matches('/'), self.0)
    }
}

impl fmt::Debug for DecisionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DecisionToken(…)")
    }
}

/// The SHA-256 of a token, hex: the only form a store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenHash(pub String);

/// What a token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token's hash.
    pub hash: TokenHash,
    /// The request it decides.
    pub request_id: RequestId,
    /// The approver it speaks for.
    pub approver: Email,
    /// After this the link is dead (and the store may drop the record).
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hide_in_debug() {
        let t = DecisionToken::from_bytes([7; 32]);
        assert_eq!(t.expose().len(), 43);
        assert_eq!(DecisionToken::parse(t.expose()).unwrap(), t);
        assert!(!format!("{t:?}").contains(t.expose()));
        assert_eq!(t.hash().0.len(), 64);
        assert_ne!(t.hash(), DecisionToken::from_bytes([8; 32]).hash());
        assert!(t.link("http://x/").starts_with("http://x/decide#token="));
        assert!(DecisionToken::parse("short").is_err());
    }
}
