//! The deployed stack on one machine: `infra/template.yaml` deployed into the AWS
//! emulator and run, with the fronts AWS would put around it. See
//! `docs/local-stack.md` for what each piece models and leaves out.

pub mod api;
pub mod authorizer;
pub mod cdn;
pub mod deploy;
pub mod emulator;
pub mod hosted_ui;
pub mod lambda;
pub mod origins;
pub mod people;
pub mod schedules;
pub mod template;

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};

/// The `parameter_overrides` of a `samconfig.toml` environment's deploy parameters
/// (`K="v" K2="v2"`), as `sam deploy --config-env <env>` reads them.
pub fn samconfig_parameters(text: &str, env: &str) -> Result<BTreeMap<String, String>> {
    let section = format!("[{env}.deploy.parameters]");
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == section;
            continue;
        }
        if in_section && let Some(value) = line.strip_prefix("parameter_overrides") {
            let value = value
                .trim_start()
                .strip_prefix('=')
                .context("parameter_overrides =")?;
            let value = value.trim();
            let inner = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .context("parameter_overrides is not a quoted string")?
                .replace("\\\"", "\"");
            return parse_overrides(&inner);
        }
    }
    Ok(BTreeMap::new())
}

/// `K="v" K2=v2` as `sam deploy --parameter-overrides` takes them.
pub fn parse_overrides(s: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .with_context(|| format!("no `=` in {rest}"))?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').context("an unclosed quote")?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            match after.find(' ') {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            }
        };
        out.insert(key.trim().to_owned(), value.to_owned());
        rest = next.trim();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_default_environments_parameters() {
        let text = r#"
[default.build.parameters]
parameter_overrides = "Nope=1"
[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
parameter_overrides = "MailFrom=\"tempaccess@example.com\" CognitoDomainPrefix=\"pfx\" LogRetentionDays=30"
[prod.deploy.parameters]
parameter_overrides = "MailFrom=\"ops@example.com\""
"#;
        let p = samconfig_parameters(text, "default").unwrap();
        assert_eq!(p["MailFrom"], "tempaccess@example.com");
        assert_eq!(p["CognitoDomainPrefix"], "pfx");
        assert_eq!(p["LogRetentionDays"], "30");
        assert_eq!(p.len(), 3);
        assert_eq!(
            samconfig_parameters(text, "prod").unwrap()["MailFrom"],
            "ops@example.com"
        );
    }
}
