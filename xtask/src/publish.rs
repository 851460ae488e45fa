//! `cargo xtask publish-site --stack NAME`: builds the site, writes the `config.json`
//! the site reads from the stack's outputs, syncs it to the site bucket and
//! invalidates CloudFront. Uses the AWS CLI with the caller's credentials.

use std::collections::HashMap;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::Workspace;

pub use crate::site_config::site_config;

/// Publishes a built site into a directory standing for the site bucket (the local
/// stack's): the files as `run` syncs them, and the `config.json` it writes from the
/// stack's outputs. Returns that config.
pub fn publish_to_directory(
    dist: &std::path::Path,
    bucket: &std::path::Path,
    outputs: &HashMap<String, String>,
) -> Result<Value> {
    let config = site_config(outputs)?;
    let _ = std::fs::remove_dir_all(bucket);
    copy_tree(dist, bucket)?;
    std::fs::write(
        bucket.join("config.json"),
        serde_json::to_vec_pretty(&config)?,
    )?;
    Ok(config)
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        // Like `aws s3 sync` of a build: the build key is not part of the site.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
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
    // The build writes no inline script (the loader is a file of its own), so
    // CloudFront's one Content-Security-Policy, `script-src 'self'`, covers every build.
    let dist = crate::site::build(ws)?;
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
    use serde_json::json;

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
}
