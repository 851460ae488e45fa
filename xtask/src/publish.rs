//! `cargo xtask publish-site --stack NAME`: builds the site, writes the `config.json`
//! the site reads from the stack's outputs, syncs it to the site bucket and
//! invalidates CloudFront. Uses the AWS CLI with the caller's credentials.

use std::collections::HashMap;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::Workspace;

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

/// Reads `OutputKey`/`OutputValue` pairs as `describe-stacks` prints them.
pub fn parse_outputs(described: &Value) -> HashMap<String, String> {
    described["Stacks"][0]["Outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| {
            Some((
                o["OutputKey"].as_str()?.to_owned(),
                o["OutputValue"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Moves trunk's inline loader script into a file beside `index.html`, so the site's
/// Content-Security-Policy (set by CloudFront, the same for every build) needs no
/// per-build hash: `script-src 'self'` covers it. Returns the new `index.html`, the
/// script's file name and its text.
pub fn externalize_loader(index_html: &str) -> Result<(String, String, String)> {
    const OPEN: &str = "<script type=\"module\">";
    let start = index_html
        .find(OPEN)
        .context("index.html has no inline module script")?;
    let body_start = start + OPEN.len();
    let end = body_start
        + index_html[body_start..]
            .find("</script>")
            .context("the inline script is not closed")?;
    let script = &index_html[body_start..end];
    // FNV-1a: the name changes whenever the script does (it is cached for a year).
    let hash = script.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let name = format!("loader-{hash:016x}.js");
    let html = format!(
        "{}<script type=\"module\" src=\"/{name}\"></script>{}",
        &index_html[..start],
        &index_html[end + "</script>".len()..]
    );
    Ok((html, name, script.trim().to_owned() + "\n"))
}

fn aws(args: &[&str]) -> Result<String> {
    println!("$ aws {}", args.join(" "));
    let output = Command::new("aws")
        .args(args)
        .output()
        .context("running the AWS CLI (install it and configure credentials first)")?;
    if !output.status.success() {
        bail!(
            "aws {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The task.
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let mut stack = "tempaccess".to_owned();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--stack" => stack = rest.next().context("--stack needs a name")?.clone(),
            other => bail!("unknown option `{other}` for `cargo xtask publish-site`"),
        }
    }
    let dist = crate::site::build(ws)?;
    let index = std::fs::read_to_string(dist.join("index.html"))?;
    let (html, loader, script) = externalize_loader(&index)?;
    std::fs::write(dist.join(&loader), script)?;
    std::fs::write(dist.join("index.html"), html)?;
    let described: Value = serde_json::from_str(&aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        &stack,
        "--output",
        "json",
    ])?)?;
    let outputs = parse_outputs(&described);
    let config = site_config(&outputs)?;
    std::fs::write(
        dist.join("config.json"),
        serde_json::to_vec_pretty(&config)?,
    )?;
    let bucket = format!(
        "s3://{}",
        outputs
            .get("SiteBucketName")
            .context("no SiteBucketName output")?
    );
    let dist = dist.to_string_lossy().into_owned();
    // Hashed assets never change; index.html and config.json must be read fresh.
    aws(&[
        "s3",
        "sync",
        &dist,
        &bucket,
        "--delete",
        "--exclude",
        "index.html",
        "--exclude",
        "config.json",
        "--cache-control",
        "public,max-age=31536000,immutable",
    ])?;
    for file in ["index.html", "config.json"] {
        aws(&[
            "s3",
            "cp",
            &format!("{dist}/{file}"),
            &format!("{bucket}/{file}"),
            "--cache-control",
            "no-cache",
        ])?;
    }
    let distribution = outputs
        .get("SiteDistributionId")
        .context("no SiteDistributionId output")?;
    aws(&[
        "cloudfront",
        "create-invalidation",
        "--distribution-id",
        distribution,
        "--paths",
        "/*",
    ])?;
    println!(
        "published: {}",
        outputs.get("SiteUrl").map_or("", String::as_str)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_config_comes_from_the_outputs() {
        let described = json!({"Stacks": [{"Outputs": [
            {"OutputKey": "ApiUrl", "OutputValue": "https://abc.execute-api.us-east-1.amazonaws.com/"},
            {"OutputKey": "CognitoDomain", "OutputValue": "https://t.auth.us-east-1.amazoncognito.com"},
            {"OutputKey": "UserPoolClientId", "OutputValue": "client123"},
        ]}]});
        let config = site_config(&parse_outputs(&described)).unwrap();
        assert_eq!(
            config["api_url"],
            "https://abc.execute-api.us-east-1.amazonaws.com"
        );
        assert_eq!(config["auth"]["kind"], "cognito");
        assert_eq!(config["auth"]["client_id"], "client123");
        assert!(site_config(&HashMap::new()).is_err());
    }

    #[test]
    fn the_loader_moves_out_of_index_html() {
        let index = "<head><script type=\"module\">\nimport init from '/app-1.js';\nawait init();\n</script><link rel=\"preload\"></head>";
        let (html, name, script) = externalize_loader(index).unwrap();
        assert!(name.starts_with("loader-") && name.ends_with(".js"));
        assert_eq!(
            html,
            format!(
                "<head><script type=\"module\" src=\"/{name}\"></script><link rel=\"preload\"></head>"
            )
        );
        assert_eq!(script, "import init from '/app-1.js';\nawait init();\n");
        let (_, other, _) = externalize_loader(&index.replace("app-1", "app-2")).unwrap();
        assert_ne!(name, other, "a new build gets a new name");
        assert!(externalize_loader("<head></head>").is_err());
    }
}
