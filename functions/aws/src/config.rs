//! Typed configuration, read once from the environment, and the SDK clients built
//! once from the standard AWS configuration chain.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls;
use chrono::TimeDelta;
use tempaccess_core::request::DEFAULT_PENDING_EXPIRY;
use tempaccess_core::service::Settings;

/// The names of the environment variables the settings are read from.
pub mod vars {
    /// The DynamoDB table.
    pub const TABLE: &str = "TEMPACCESS_TABLE";
    /// The verified SES sender.
    pub const MAIL_FROM: &str = "TEMPACCESS_MAIL_FROM";
    /// The SES configuration set (optional).
    pub const SES_CONFIGURATION_SET: &str = "TEMPACCESS_SES_CONFIGURATION_SET";
    /// The EventBridge Scheduler group that holds the grants' end schedules.
    pub const SCHEDULE_GROUP: &str = "TEMPACCESS_SCHEDULE_GROUP";
    /// The role EventBridge Scheduler assumes to invoke the revoke function.
    pub const SCHEDULER_ROLE_ARN: &str = "TEMPACCESS_SCHEDULER_ROLE_ARN";
    /// The revoke function the schedules invoke.
    pub const REVOKE_FUNCTION_ARN: &str = "TEMPACCESS_REVOKE_FUNCTION_ARN";
    /// The queue for schedule deliveries that failed every retry (optional).
    pub const SCHEDULER_DLQ_ARN: &str = "TEMPACCESS_SCHEDULER_DLQ_ARN";
    /// The site's base URL, for decision links.
    pub const SITE_URL: &str = "TEMPACCESS_SITE_URL";
    /// How long a request may stay pending, in minutes (optional).
    pub const PENDING_EXPIRY_MINUTES: &str = "TEMPACCESS_PENDING_EXPIRY_MINUTES";
    /// `true` to take decisions by a mailed link alone, with nobody signed in
    /// (optional; `false` unless set).
    pub const LINK_DECISIONS: &str = "TEMPACCESS_LINK_DECISIONS";
}

/// Values that make the local CLI work against an emulator with nothing but the
/// standard AWS environment set (moto's default account and region).
pub mod local {
    /// The table.
    pub const TABLE: &str = "tempaccess";
    /// The sender.
    pub const MAIL_FROM: &str = "tempaccess@example.com";
    /// The schedule group.
    pub const SCHEDULE_GROUP: &str = "tempaccess";
    /// The scheduler's role.
    pub const SCHEDULER_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/tempaccess-scheduler";
    /// The revoke function.
    pub const REVOKE_FUNCTION_ARN: &str =
        "arn:aws:lambda:us-east-1:123456789012:function:tempaccess-revoke";
    /// The site, as `tempaccess serve` runs it.
    pub const SITE_URL: &str = "http://127.0.0.1:8080";

    /// The local default of a required variable, by name.
    pub(crate) fn default_of(var: &str) -> Option<&'static str> {
        use super::vars;
        match var {
            vars::TABLE => Some(TABLE),
            vars::MAIL_FROM => Some(MAIL_FROM),
            vars::SCHEDULE_GROUP => Some(SCHEDULE_GROUP),
            vars::SCHEDULER_ROLE_ARN => Some(SCHEDULER_ROLE_ARN),
            vars::REVOKE_FUNCTION_ARN => Some(REVOKE_FUNCTION_ARN),
            vars::SITE_URL => Some(SITE_URL),
            _ => None,
        }
    }
}

/// Why the settings could not be read. Names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Where the AWS adapters find their resources, and the deployment settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// The DynamoDB table.
    pub table_name: String,
    /// The sender of every mail (a verified SES identity).
    pub mail_from: String,
    /// The SES configuration set, for delivery events.
    pub configuration_set: Option<String>,
    /// The schedule group holding the grants' end schedules.
    pub schedule_group: String,
    /// The role EventBridge Scheduler assumes to invoke the revoke function.
    pub scheduler_role_arn: String,
    /// The revoke function.
    pub revoke_function_arn: String,
    /// Where schedule deliveries go when every retry failed.
    pub dead_letter_arn: Option<String>,
    /// The site's base URL (no trailing slash), for decision links.
    pub site_url: String,
    /// How long a request may stay pending.
    pub pending_expiry: TimeDelta,
    /// Whether a mailed link decides with nobody signed in.
    pub link_decisions: bool,
}

impl AwsSettings {
    /// Reads the settings from the process environment; every required variable must be set.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_var)
    }

    /// Reads the settings from the process environment, taking the local default
    /// (see [`local`]) for each required variable that is unset.
    pub fn from_env_or_local_defaults() -> Result<Self, ConfigError> {
        Self::from_lookup(with_local_defaults(env_var))
    }

    /// The settings for an emulator, ignoring the environment.
    pub fn local_defaults() -> Self {
        Self {
            table_name: local::TABLE.to_owned(),
            mail_from: local::MAIL_FROM.to_owned(),
            configuration_set: None,
            schedule_group: local::SCHEDULE_GROUP.to_owned(),
            scheduler_role_arn: local::SCHEDULER_ROLE_ARN.to_owned(),
            revoke_function_arn: local::REVOKE_FUNCTION_ARN.to_owned(),
            dead_letter_arn: None,
            site_url: local::SITE_URL.to_owned(),
            pending_expiry: DEFAULT_PENDING_EXPIRY,
            link_decisions: false,
        }
    }

    /// Reads the settings through `lookup` (a variable's value by name). An empty
    /// value counts as unset, as a template's empty optional parameter arrives.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &'static str| {
            lookup(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |var: &'static str| get(var).ok_or(ConfigError::Missing(var));

        Ok(Self {
            table_name: table_name(required(vars::TABLE)?)?,
            mail_from: mail_from(required(vars::MAIL_FROM)?)?,
            configuration_set: get(vars::SES_CONFIGURATION_SET),
            schedule_group: schedule_group(required(vars::SCHEDULE_GROUP)?)?,
            scheduler_role_arn: arn(
                vars::SCHEDULER_ROLE_ARN,
                required(vars::SCHEDULER_ROLE_ARN)?,
            )?,
            revoke_function_arn: arn(
                vars::REVOKE_FUNCTION_ARN,
                required(vars::REVOKE_FUNCTION_ARN)?,
            )?,
            dead_letter_arn: get(vars::SCHEDULER_DLQ_ARN)
                .map(|v| arn(vars::SCHEDULER_DLQ_ARN, v))
                .transpose()?,
            site_url: site_url(required(vars::SITE_URL)?)?,
            pending_expiry: get(vars::PENDING_EXPIRY_MINUTES)
                .map(pending_expiry)
                .transpose()?
                .unwrap_or(DEFAULT_PENDING_EXPIRY),
            link_decisions: get(vars::LINK_DECISIONS)
                .map(link_decisions)
                .transpose()?
                .unwrap_or(false),
        })
    }

    /// The settings the use cases need.
    pub fn service_settings(&self) -> Settings {
        Settings {
            site_url: self.site_url.clone(),
            pending_expiry: self.pending_expiry,
            link_decisions: self.link_decisions,
        }
    }
}

fn env_var(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// `lookup`, falling back to the local default of each required variable.
pub(crate) fn with_local_defaults(
    lookup: impl Fn(&str) -> Option<String>,
) -> impl Fn(&str) -> Option<String> {
    move |var| {
        lookup(var)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| local::default_of(var).map(str::to_owned))
    }
}

fn table_name(v: String) -> Result<String, ConfigError> {
    let ok = (3..=255).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(v).ok_or(ConfigError::Invalid {
        var: vars::TABLE,
        reason: "a table name is 3 to 255 letters, digits, '_', '-' or '.'",
    })
}

fn link_decisions(v: String) -> Result<bool, ConfigError> {
    match v.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::Invalid {
            var: vars::LINK_DECISIONS,
            reason: "must be true or false",
        }),
    }
}

fn mail_from(v: String) -> Result<String, ConfigError> {
    v.contains('@').then_some(v).ok_or(ConfigError::Invalid {
        var: vars::MAIL_FROM,
        reason: "not an email address",
    })
}

fn schedule_group(v: String) -> Result<String, ConfigError> {
    let ok = v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(v).ok_or(ConfigError::Invalid {
        var: vars::SCHEDULE_GROUP,
        reason: "a schedule group name is up to 64 letters, digits, '_', '-' or '.'",
    })
}

fn arn(var: &'static str, v: String) -> Result<String, ConfigError> {
    (v.starts_with("arn:") && v.split(':').count() >= 6)
        .then_some(v)
        .ok_or(ConfigError::Invalid {
            var,
            reason: "not an ARN",
        })
}

fn site_url(v: String) -> Result<String, ConfigError> {
    let ok = v.starts_with("https://") || v.starts_with("http://");
    ok.then(|| v.trim_end_matches('/').to_owned())
        .ok_or(ConfigError::Invalid {
            var: vars::SITE_URL,
            reason: "must start with https:// or http://",
        })
}

fn pending_expiry(v: String) -> Result<TimeDelta, ConfigError> {
    v.parse::<i64>()
        .ok()
        .filter(|m| (1..=60 * 24 * 30).contains(m))
        .map(TimeDelta::minutes)
        .ok_or(ConfigError::Invalid {
            var: vars::PENDING_EXPIRY_MINUTES,
            reason: "a whole number of minutes from 1 to 43200 (30 days)",
        })
}

/// The one HTTPS client every SDK client uses: rustls on ring, the system's trusted
/// roots. Connections are pooled per client and reused across invocations.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The roots AWS's endpoints chain to (Amazon Trust Services: Amazon Root CA 1–4 and
/// Starfield Services Root CA G2), compiled in.
pub const AWS_ROOTS_PEM: &str = include_str!("aws-roots.pem");

/// The HTTPS client inside Lambda: as [`https_client`], trusting only
/// [`AWS_ROOTS_PEM`]. A function calls AWS endpoints only, and the system's store costs
/// its init dearly: the SDK builds a connector for each client and one for the first
/// request, and each reads and parses the whole store (every file of `/etc/ssl/certs`
/// and its bundle, some 150 certificates) where these are five. An endpoint whose
/// certificate chains elsewhere (an emulator behind its own TLS) fails the handshake;
/// the local stack's emulator speaks plain HTTP.
pub fn lambda_https_client() -> SharedHttpClient {
    let trust = tls::TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM.as_bytes());
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store of certificates alone is a valid TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https()
}

/// The SDK configuration from the standard chain: `AWS_REGION`, credentials from the
/// environment, profile or role, and `AWS_ENDPOINT_URL` for an emulator.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// The SDK configuration inside Lambda, where the runtime puts everything in the
/// environment: the region (`AWS_REGION`), the function role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and
/// `AWS_ENDPOINT_URL` when it runs against an emulator. Nothing else of the standard
/// chain (profiles, SSO, web identity, the instance metadata service) is read or
/// linked. TLS trusts AWS's roots only ([`lambda_https_client`]).
pub fn lambda_sdk_config() -> SdkConfig {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(var("AWS_REGION").map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(lambda_https_client());
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    config.build()
}

/// The SDK clients, built once (per cold start) and cloned cheaply: DynamoDB, and the
/// other services this build links.
#[derive(Debug, Clone)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SES v2.
    #[cfg(feature = "ses")]
    pub ses: aws_sdk_sesv2::Client,
    /// EventBridge Scheduler.
    #[cfg(feature = "scheduler")]
    pub scheduler: aws_sdk_scheduler::Client,
    /// Secrets Manager.
    #[cfg(feature = "secrets")]
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Every linked client on the same configuration.
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            #[cfg(feature = "ses")]
            ses: aws_sdk_sesv2::Client::new(sdk),
            #[cfg(feature = "scheduler")]
            scheduler: aws_sdk_scheduler::Client::new(sdk),
            #[cfg(feature = "secrets")]
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (vars::TABLE, "prod-tempaccess"),
            (vars::MAIL_FROM, "access@corp.example"),
            (vars::SES_CONFIGURATION_SET, "tempaccess"),
            (vars::SCHEDULE_GROUP, "prod-tempaccess"),
            (
                vars::SCHEDULER_ROLE_ARN,
                "arn:aws:iam::111122223333:role/prod-scheduler",
            ),
            (
                vars::REVOKE_FUNCTION_ARN,
                "arn:aws:lambda:eu-west-1:111122223333:function:prod-revoke",
            ),
            (
                vars::SCHEDULER_DLQ_ARN,
                "arn:aws:sqs:eu-west-1:111122223333:prod-dlq",
            ),
            (vars::SITE_URL, "https://access.corp.example/"),
            (vars::PENDING_EXPIRY_MINUTES, "90"),
        ])
    }

    fn lookup(map: HashMap<&'static str, &'static str>) -> impl Fn(&str) -> Option<String> {
        move |var| map.get(var).map(|v| (*v).to_owned())
    }

    #[test]
    fn the_compiled_in_roots_are_awss_five_trust_anchors() {
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<_> =
            rustls::pki_types::CertificateDer::pem_slice_iter(AWS_ROOTS_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .expect("the roots are PEM");
        let mut roots = rustls::RootCertStore::empty();
        assert_eq!(roots.add_parsable_certificates(certs), (5, 0));
        let subjects: Vec<String> = roots
            .roots
            .iter()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .collect();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(
                subjects.iter().any(|s| s.contains(name)),
                "{name} is missing: {subjects:?}"
            );
        }
    }

    #[test]
    fn reads_every_variable() {
        let s = AwsSettings::from_lookup(lookup(full())).unwrap();
        assert_eq!(s.table_name, "prod-tempaccess");
        assert_eq!(s.mail_from, "access@corp.example");
        assert_eq!(s.configuration_set.as_deref(), Some("tempaccess"));
        assert_eq!(s.schedule_group, "prod-tempaccess");
        assert_eq!(
            s.scheduler_role_arn,
            "arn:aws:iam::111122223333:role/prod-scheduler"
        );
        assert_eq!(
            s.revoke_function_arn,
            "arn:aws:lambda:eu-west-1:111122223333:function:prod-revoke"
        );
        assert_eq!(
            s.dead_letter_arn.as_deref(),
            Some("arn:aws:sqs:eu-west-1:111122223333:prod-dlq")
        );
        assert_eq!(s.site_url, "https://access.corp.example");
        assert_eq!(s.pending_expiry, TimeDelta::minutes(90));
        assert_eq!(s.service_settings().pending_expiry, TimeDelta::minutes(90));
    }

    #[test]
    fn optional_variables_may_be_unset_or_empty() {
        let mut map = full();
        map.remove(vars::SES_CONFIGURATION_SET);
        map.insert(vars::SCHEDULER_DLQ_ARN, "");
        map.remove(vars::PENDING_EXPIRY_MINUTES);
        let s = AwsSettings::from_lookup(lookup(map)).unwrap();
        assert_eq!(s.configuration_set, None);
        assert_eq!(s.dead_letter_arn, None);
        assert_eq!(s.pending_expiry, DEFAULT_PENDING_EXPIRY);
    }

    #[test]
    fn names_each_missing_required_variable() {
        for var in [
            vars::TABLE,
            vars::MAIL_FROM,
            vars::SCHEDULE_GROUP,
            vars::SCHEDULER_ROLE_ARN,
            vars::REVOKE_FUNCTION_ARN,
            vars::SITE_URL,
        ] {
            let mut map = full();
            map.remove(var);
            let err = AwsSettings::from_lookup(lookup(map)).unwrap_err();
            assert_eq!(err, ConfigError::Missing(var));
            assert_eq!(err.to_string(), format!("{var} is not set"));

            let mut map = full();
            map.insert(var, "  ");
            assert_eq!(
                AwsSettings::from_lookup(lookup(map)).unwrap_err(),
                ConfigError::Missing(var)
            );
        }
    }

    #[test]
    fn names_the_invalid_variable() {
        for (var, value) in [
            (vars::TABLE, "a b"),
            (vars::MAIL_FROM, "nobody"),
            (vars::SCHEDULE_GROUP, "group/with/slashes"),
            (vars::SCHEDULER_ROLE_ARN, "prod-scheduler"),
            (vars::REVOKE_FUNCTION_ARN, "revoke"),
            (vars::SCHEDULER_DLQ_ARN, "dlq"),
            (vars::SITE_URL, "access.corp.example"),
            (vars::PENDING_EXPIRY_MINUTES, "0"),
            (vars::PENDING_EXPIRY_MINUTES, "1h"),
        ] {
            let mut map = full();
            map.insert(var, value);
            let err = AwsSettings::from_lookup(lookup(map)).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { var: v, .. } if v == var),
                "{var}={value}: {err:?}"
            );
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn local_defaults_fill_only_what_is_unset() {
        let empty = HashMap::new();
        let s = AwsSettings::from_lookup(with_local_defaults(lookup(empty))).unwrap();
        assert_eq!(s, AwsSettings::local_defaults());

        let map = HashMap::from([(vars::TABLE, "mine"), (vars::SITE_URL, "")]);
        let s = AwsSettings::from_lookup(with_local_defaults(lookup(map))).unwrap();
        assert_eq!(s.table_name, "mine");
        assert_eq!(s.site_url, local::SITE_URL);
        assert_eq!(s.mail_from, local::MAIL_FROM);

        let map = HashMap::from([(vars::SITE_URL, "ftp://nope")]);
        let err = AwsSettings::from_lookup(with_local_defaults(lookup(map))).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: vars::SITE_URL,
                ..
            }
        ));
    }
}
