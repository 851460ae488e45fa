//! The `config.json` the site reads, from a deployed stack's outputs. A file of its
//! own (serde_json and anyhow only): `cargo xtask publish-site` and the local stack
//! write it, and the template checks (tests/infra) include it to hold the template's
//! outputs and the site's reader to it.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// The site's settings for a deployed stack, from its outputs.
pub fn site_config(outputs: &HashMap<String, String>) -> Result<Value> {
    let get = |k: &str| {
        outputs
            .get(k)
            .cloned()
            .with_context(|| format!("the stack has no output {k}"))
    };
    Ok(json!({
        "api_url": get("ApiUrl")?.trim_end_matches('/'),
        "auth": {
            "kind": "cognito",
            "domain": get("CognitoDomain")?,
            "client_id": get("UserPoolClientId")?,
        }
    }))
}
