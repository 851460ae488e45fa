//! The template deployed on this machine: every resource in dependency order, each
//! either created in the emulator from its own properties, run by the stack (the
//! functions, the HTTP API, the distribution and the hosted UI), or named as not run
//! here (logs, buckets, IAM, alarms). A resource type the stack does not know stops
//! the deployment: a template change cannot slip past unmodelled.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use reqwest::Method;
use serde_json::{Map, Value as Json, json};
use serde_yaml::Value;

use crate::emulator::Emulator;
use crate::origins::Origins;
use crate::template::{Context, Template, merge_globals};

/// What the deployment is given.
#[derive(Debug, Clone)]
pub struct Options {
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId` (the emulator's default account).
    pub account: String,
    /// Parameter values (`sam deploy --parameter-overrides`).
    pub parameters: BTreeMap<String, String>,
    /// Where each public origin runs here: role → `http://localhost:PORT`.
    pub local_origins: BTreeMap<&'static str, String>,
}

/// A function as the template defines it.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Its logical id (`RequestFunction`).
    pub logical: String,
    /// `FunctionName`.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The binary `sam build` builds (`BuildProperties.Binary`).
    pub binary: String,
    /// `Architectures[0]`.
    pub architecture: String,
    /// `MemorySize`, in MB.
    pub memory_mb: u64,
    /// `Timeout`.
    pub timeout: Duration,
    /// Its environment, resolved, with the deployment's local origins.
    pub environment: BTreeMap<String, String>,
    /// The log group it writes to.
    pub log_group: String,
    /// Where asynchronous invocations that failed every retry go (an SQS ARN).
    pub dead_letter_queue: Option<String>,
}

/// One route of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// `GET`, `POST`, … or `ANY`.
    pub method: String,
    /// `/v1/requests/{id}`.
    pub path: String,
    /// The function's logical id.
    pub function: String,
    /// The authorizer's name, or `None` for `Authorizer: NONE`.
    pub authorizer: Option<String>,
    /// Scopes the route requires (any one of them).
    pub scopes: Vec<String>,
}

impl RouteSpec {
    /// `GET /v1/requests/{id}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A JWT authorizer.
#[derive(Debug, Clone)]
pub struct JwtAuthorizer {
    /// The header the token comes from (`$request.header.Authorization`).
    pub header: String,
    /// `JwtConfiguration.issuer`.
    pub issuer: String,
    /// `JwtConfiguration.audience`.
    pub audience: Vec<String>,
}

/// An API's CORS configuration.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    /// Allowed origins, as the browser sends them (local origins here).
    pub allow_origins: Vec<String>,
    /// Allowed methods.
    pub allow_methods: Vec<String>,
    /// Allowed request headers.
    pub allow_headers: Vec<String>,
    /// Response headers scripts may read.
    pub expose_headers: Vec<String>,
    /// Seconds a preflight may be cached.
    pub max_age: Option<u64>,
    /// Whether credentials are allowed.
    pub allow_credentials: bool,
}

/// Token-bucket throttling: burst and steady rate per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    /// `ThrottlingBurstLimit`.
    pub burst: u32,
    /// `ThrottlingRateLimit`.
    pub rate: f64,
}

/// The HTTP API.
#[derive(Debug, Clone, Default)]
pub struct ApiSpec {
    /// Its id.
    pub id: String,
    /// `https://<id>.execute-api.<region>.amazonaws.com`.
    pub public_endpoint: String,
    /// Its routes.
    pub routes: Vec<RouteSpec>,
    /// Its authorizers by name.
    pub authorizers: BTreeMap<String, JwtAuthorizer>,
    /// CORS, when configured.
    pub cors: Option<Cors>,
    /// `DefaultRouteSettings` throttling.
    pub default_throttle: Option<Throttle>,
    /// `RouteSettings` throttling by route key.
    pub route_throttle: BTreeMap<String, Throttle>,
    /// `AccessLogSettings.Format`.
    pub access_log_format: Option<String>,
}

/// A CloudFront response headers policy.
#[derive(Debug, Clone, Default)]
pub struct HeadersPolicy {
    /// Headers to set: name → (value, override).
    pub headers: Vec<(String, String, bool)>,
}

/// The distribution that serves the site.
#[derive(Debug, Clone, Default)]
pub struct SiteSpec {
    /// Its id.
    pub id: String,
    /// `<id>.cloudfront.net`.
    pub domain: String,
    /// `DefaultRootObject`.
    pub default_root_object: Option<String>,
    /// The viewer-request CloudFront Function's code, when one is associated.
    pub viewer_request: Option<String>,
    /// The response headers policy of the default behaviour.
    pub headers: HeadersPolicy,
    /// `CustomErrorResponses`: origin status → (page path, status sent).
    pub error_responses: Vec<(u16, Option<String>, Option<u16>)>,
}

/// The user pool and the site's app client.
#[derive(Debug, Clone, Default)]
pub struct CognitoSpec {
    /// The pool's id.
    pub pool_id: String,
    /// The issuer of its tokens.
    pub issuer: String,
    /// The pool's password policy (as the template gives it).
    pub password_policy: Json,
    /// Groups the template creates.
    pub groups: Vec<String>,
    /// App clients the template creates.
    pub clients: Vec<String>,
}

/// What became of each resource.
#[derive(Debug, Clone)]
pub struct Disposition {
    /// Logical id.
    pub logical: String,
    /// Resource type.
    pub kind: String,
    /// What the stack did with it.
    pub what: String,
}

/// The deployed stack.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The values intrinsic functions resolved against.
    pub context: Context,
    /// The public origins and their local stand-ins.
    pub origins: Origins,
    /// The stack's outputs, with local origins.
    pub outputs: BTreeMap<String, String>,
    /// The functions.
    pub functions: Vec<FunctionSpec>,
    /// The HTTP API.
    pub api: ApiSpec,
    /// The site's distribution.
    pub site: SiteSpec,
    /// The user pool.
    pub cognito: CognitoSpec,
    /// What became of each resource.
    pub resources: Vec<Disposition>,
}

/// A random name part of `len` characters from `alphabet`.
pub fn random_id(len: usize, alphabet: &[u8]) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Deploys `template` into the emulator.
pub async fn deploy(
    template: &Template,
    emulator: &Emulator,
    options: &Options,
) -> Result<Deployed> {
    let mut d = Deployer {
        template,
        emulator,
        options,
        ctx: Context {
            region: options.region.clone(),
            account: options.account.clone(),
            stack_name: options.stack_name.clone(),
            ..Context::default()
        },
        origins: Origins::default(),
        functions: Vec::new(),
        api: ApiSpec::default(),
        site: SiteSpec::default(),
        cognito: CognitoSpec::default(),
        resources: Vec::new(),
        headers_policies: BTreeMap::new(),
        cloudfront_functions: BTreeMap::new(),
        http_events: Vec::new(),
        default_authorizer: None,
        api_id: String::new(),
        distribution: (String::new(), String::new()),
    };
    d.parameters()?;
    d.conditions()?;
    d.assign_public_names()?;
    for logical in template.creation_order()? {
        let r = template.resource(&logical).expect("listed");
        let kind = r["Type"].as_str().unwrap_or_default().to_owned();
        if let Some(cond) = r["Condition"].as_str()
            && !d.ctx.conditions.get(cond).copied().unwrap_or(false)
        {
            d.note(
                &logical,
                &kind,
                format!("skipped: condition {cond} is false"),
            );
            continue;
        }
        d.create(&logical, &kind, r)
            .await
            .with_context(|| format!("deploying {logical} ({kind})"))?;
    }
    d.api.routes = d.routes()?;
    let mut outputs = BTreeMap::new();
    for (name, value) in template.outputs() {
        let v = d
            .ctx
            .resolve_string(value)
            .with_context(|| format!("output {name}"))?;
        outputs.insert(name, d.origins.localize(&v));
    }
    Ok(Deployed {
        context: d.ctx,
        origins: d.origins,
        outputs,
        functions: d.functions,
        api: d.api,
        site: d.site,
        cognito: d.cognito,
        resources: d.resources,
    })
}

struct Deployer<'a> {
    template: &'a Template,
    emulator: &'a Emulator,
    options: &'a Options,
    ctx: Context,
    origins: Origins,
    functions: Vec<FunctionSpec>,
    api: ApiSpec,
    site: SiteSpec,
    cognito: CognitoSpec,
    resources: Vec<Disposition>,
    headers_policies: BTreeMap<String, HeadersPolicy>,
    cloudfront_functions: BTreeMap<String, String>,
    /// (function logical id, event properties) of every `HttpApi` event.
    http_events: Vec<(String, Json)>,
    default_authorizer: Option<String>,
    /// Names AWS would assign, chosen before anything refers to them.
    api_id: String,
    distribution: (String, String),
}

impl Deployer<'_> {
    fn note(&mut self, logical: &str, kind: &str, what: impl Into<String>) {
        self.resources.push(Disposition {
            logical: logical.to_owned(),
            kind: kind.to_owned(),
            what: what.into(),
        });
    }

    fn local(&self, role: &str) -> Result<String> {
        self.options
            .local_origins
            .get(role)
            .cloned()
            .with_context(|| format!("no local origin for the {role}"))
    }

    /// Every public origin, named before any resource refers to it: a policy or an
    /// environment variable built from one needs them all.
    fn assign_public_names(&mut self) -> Result<()> {
        let region = self.options.region.clone();
        for (logical, kind, r) in self.template.resources() {
            match kind.as_str() {
                "AWS::Serverless::HttpApi" => {
                    if !self.api_id.is_empty() {
                        bail!("the stack runs one HTTP API");
                    }
                    self.api_id = random_id(10, LOWER);
                    let public =
                        format!("https://{}.execute-api.{region}.amazonaws.com", self.api_id);
                    self.origins.add("api", public, self.local("api")?);
                }
                "AWS::CloudFront::Distribution" => {
                    if !self.distribution.0.is_empty() {
                        bail!("the stack runs one distribution");
                    }
                    let domain = format!("d{}.cloudfront.net", random_id(13, LOWER));
                    self.distribution = (format!("E{}", random_id(13, UPPER)), domain.clone());
                    self.origins
                        .add("site", format!("https://{domain}"), self.local("site")?);
                }
                "AWS::Cognito::UserPoolDomain" => {
                    let prefix = self
                        .ctx
                        .resolve_string(&r["Properties"]["Domain"])
                        .with_context(|| format!("{logical}: Domain"))?;
                    let public = format!("https://{prefix}.auth.{region}.amazoncognito.com");
                    self.origins
                        .add("hosted UI", public, self.local("hosted UI")?);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn parameters(&mut self) -> Result<()> {
        for (name, default) in self.template.parameters() {
            let value = self
                .options
                .parameters
                .get(&name)
                .cloned()
                .or(default)
                .with_context(|| format!("the parameter {name} has no value and no default"))?;
            self.ctx.parameters.insert(name, value);
        }
        for name in self.options.parameters.keys() {
            if !self.ctx.parameters.contains_key(name) {
                bail!("the template has no parameter {name}");
            }
        }
        Ok(())
    }

    fn conditions(&mut self) -> Result<()> {
        for (name, expr) in self.template.conditions() {
            let holds = self
                .ctx
                .evaluate_condition(expr)
                .with_context(|| format!("condition {name}"))?;
            self.ctx.conditions.insert(name, holds);
        }
        Ok(())
    }

    fn set(&mut self, logical: &str, reference: impl Into<Json>, attributes: &[(&str, Json)]) {
        self.ctx.refs.insert(logical.to_owned(), reference.into());
        for (attribute, value) in attributes {
            self.ctx
                .attributes
                .insert(format!("{logical}.{attribute}"), value.clone());
        }
    }

    fn properties(&self, r: &Value) -> Result<Map<String, Json>> {
        match self.ctx.resolve(&r["Properties"])? {
            Json::Object(m) => Ok(m),
            Json::Null => Ok(Map::new()),
            other => bail!("Properties is not a map: {other}"),
        }
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.options.region, self.options.account
        )
    }

    fn generated_name(&self, logical: &str, max: usize) -> String {
        let name = format!(
            "{}-{logical}-{}",
            self.options.stack_name,
            random_id(12, UPPER)
        );
        name.chars().take(max).collect()
    }

    async fn create(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        match kind {
            "AWS::DynamoDB::Table" => self.table(logical, kind, r).await,
            "AWS::SecretsManager::Secret" => self.secret(logical, kind, r).await,
            "AWS::Cognito::UserPool" => self.user_pool(logical, kind, r).await,
            "AWS::Cognito::UserPoolDomain" => self.user_pool_domain(logical, kind, r).await,
            "AWS::Cognito::UserPoolGroup" => {
                let p = self.properties(r)?;
                self.emulator
                    .json("cognito-idp", "CreateGroup", &Json::Object(p.clone()))
                    .await?;
                let name = p["GroupName"].as_str().context("GroupName")?.to_owned();
                self.cognito.groups.push(name.clone());
                self.set(logical, name.clone(), &[]);
                self.note(
                    logical,
                    kind,
                    format!("created in the emulator: group {name}"),
                );
                Ok(())
            }
            "AWS::Cognito::UserPoolClient" => self.user_pool_client(logical, kind, r).await,
            "AWS::Scheduler::ScheduleGroup" => {
                let mut p = self.properties(r)?;
                let name = match p.remove("Name") {
                    Some(Json::String(n)) => n,
                    _ => self.generated_name(logical, 64),
                };
                self.emulator
                    .rest(
                        "scheduler",
                        Method::POST,
                        &format!("/schedule-groups/{name}"),
                        Some(&Json::Object(p)),
                    )
                    .await?;
                let arn = self.arn("scheduler", &format!("schedule-group/{name}"));
                self.set(logical, name.clone(), &[("Arn", json!(arn))]);
                self.note(
                    logical,
                    kind,
                    format!("created in the emulator: schedule group {name}"),
                );
                Ok(())
            }
            "AWS::Scheduler::Schedule" => {
                let mut p = self.properties(r)?;
                let name = match p.remove("Name") {
                    Some(Json::String(n)) => n,
                    _ => self.generated_name(logical, 64),
                };
                let group = p
                    .get("GroupName")
                    .and_then(Json::as_str)
                    .unwrap_or("default")
                    .to_owned();
                self.emulator
                    .rest(
                        "scheduler",
                        Method::POST,
                        &format!("/schedules/{name}"),
                        Some(&Json::Object(p.clone())),
                    )
                    .await?;
                let arn = self.arn("scheduler", &format!("schedule/{group}/{name}"));
                self.set(logical, name.clone(), &[("Arn", json!(arn))]);
                self.note(
                    logical,
                    kind,
                    format!(
                        "created in the emulator: schedule {group}/{name}, {} (fired by the stack)",
                        p.get("ScheduleExpression")
                            .and_then(Json::as_str)
                            .unwrap_or("?")
                    ),
                );
                Ok(())
            }
            "AWS::SQS::Queue" => self.queue(logical, kind, r).await,
            "AWS::SES::ConfigurationSet" => {
                let mut p = self.properties(r)?;
                let name = match p.remove("Name") {
                    Some(Json::String(n)) => n,
                    _ => self.generated_name(logical, 64),
                };
                p.insert("ConfigurationSetName".into(), json!(name));
                self.emulator
                    .rest(
                        "ses",
                        Method::POST,
                        "/v2/email/configuration-sets",
                        Some(&Json::Object(p)),
                    )
                    .await?;
                self.set(logical, name.clone(), &[]);
                self.note(
                    logical,
                    kind,
                    format!("created in the emulator: configuration set {name}"),
                );
                Ok(())
            }
            "AWS::SES::EmailIdentity" => {
                let mut p = self.properties(r)?;
                let identity = p["EmailIdentity"]
                    .as_str()
                    .context("EmailIdentity")?
                    .to_owned();
                if let Some(Json::Object(attrs)) = p.remove("ConfigurationSetAttributes")
                    && let Some(set) = attrs.get("ConfigurationSetName")
                {
                    p.insert("ConfigurationSetName".into(), set.clone());
                }
                for cfn_only in ["DkimAttributes", "FeedbackAttributes", "MailFromAttributes"] {
                    p.remove(cfn_only);
                }
                self.emulator
                    .rest(
                        "ses",
                        Method::POST,
                        "/v2/email/identities",
                        Some(&Json::Object(p)),
                    )
                    .await?;
                self.set(logical, identity.clone(), &[]);
                self.note(
                    logical,
                    kind,
                    format!("created in the emulator: identity {identity} (verified at once; SES needs a mail link)"),
                );
                Ok(())
            }
            "AWS::Serverless::Function" => self.function(logical, kind, r),
            "AWS::Serverless::HttpApi" => self.http_api(logical, kind, r),
            "AWS::CloudFront::ResponseHeadersPolicy" => {
                let p = self.properties(r)?;
                let id = format!(
                    "{}-{}-{}-{}-{}",
                    random_id(8, LOWER),
                    random_id(4, LOWER),
                    random_id(4, LOWER),
                    random_id(4, LOWER),
                    random_id(12, LOWER)
                );
                let policy = headers_policy(&p["ResponseHeadersPolicyConfig"], &self.origins)?;
                self.headers_policies.insert(id.clone(), policy);
                self.set(logical, id, &[]);
                self.note(logical, kind, "applied by the site front");
                Ok(())
            }
            "AWS::CloudFront::Function" => {
                let p = self.properties(r)?;
                let name = p["Name"].as_str().unwrap_or(logical).to_owned();
                let runtime = p["FunctionConfig"]["Runtime"].as_str().unwrap_or_default();
                if !runtime.starts_with("cloudfront-js") {
                    bail!("the stack runs cloudfront-js functions only, not {runtime}");
                }
                let arn = format!(
                    "arn:aws:cloudfront::{}:function/{name}",
                    self.options.account
                );
                let code = p["FunctionCode"]
                    .as_str()
                    .context("FunctionCode")?
                    .to_owned();
                self.cloudfront_functions.insert(arn.clone(), code);
                self.set(
                    logical,
                    name,
                    &[
                        ("FunctionMetadata.FunctionARN", json!(arn)),
                        ("FunctionARN", json!(arn)),
                    ],
                );
                self.note(
                    logical,
                    kind,
                    format!("run by the site front in Node ({runtime})"),
                );
                Ok(())
            }
            "AWS::CloudFront::Distribution" => self.distribution(logical, kind, r),
            "AWS::S3::Bucket" => {
                let p = self.properties(r)?;
                let name = p.get("BucketName").and_then(Json::as_str).map_or_else(
                    || self.generated_name(logical, 63).to_ascii_lowercase(),
                    str::to_owned,
                );
                let region = &self.options.region;
                self.set(
                    logical,
                    name.clone(),
                    &[
                        ("Arn", json!(format!("arn:aws:s3:::{name}"))),
                        ("DomainName", json!(format!("{name}.s3.amazonaws.com"))),
                        (
                            "RegionalDomainName",
                            json!(format!("{name}.s3.{region}.amazonaws.com")),
                        ),
                    ],
                );
                self.note(
                    logical,
                    kind,
                    "not run: the site front serves the published files from a local directory",
                );
                Ok(())
            }
            "AWS::CloudFront::OriginAccessControl" => {
                self.set(
                    logical,
                    random_id(14, UPPER),
                    &[("Id", json!(random_id(14, UPPER)))],
                );
                self.note(
                    logical,
                    kind,
                    "not run: the local bucket needs no signed reads",
                );
                Ok(())
            }
            "AWS::Logs::LogGroup" => {
                let p = self.properties(r)?;
                let name = p
                    .get("LogGroupName")
                    .and_then(Json::as_str)
                    .map_or_else(|| self.generated_name(logical, 512), str::to_owned);
                let arn = self.arn("logs", &format!("log-group:{name}:*"));
                self.set(logical, name, &[("Arn", json!(arn))]);
                self.note(
                    logical,
                    kind,
                    "not run: logs go to the stack's log directory",
                );
                Ok(())
            }
            "AWS::IAM::Role" => {
                let name = self.generated_name(logical, 64);
                let arn = format!("arn:aws:iam::{}:role/{name}", self.options.account);
                self.set(
                    logical,
                    name,
                    &[("Arn", json!(arn)), ("RoleId", json!(random_id(21, UPPER)))],
                );
                self.note(
                    logical,
                    kind,
                    "not run: IAM policies are not evaluated here",
                );
                Ok(())
            }
            "AWS::SNS::Topic" => {
                let name = self.generated_name(logical, 256);
                let arn = self.arn("sns", &name);
                self.set(logical, arn, &[("TopicName", json!(name))]);
                self.note(logical, kind, "not run: alarms are not evaluated here");
                Ok(())
            }
            "AWS::S3::BucketPolicy" | "AWS::SNS::Subscription" | "AWS::CloudWatch::Alarm" => {
                self.set(logical, self.generated_name(logical, 64), &[]);
                self.note(
                    logical,
                    kind,
                    "not run: policies and alarms are not evaluated here",
                );
                Ok(())
            }
            other => bail!(
                "the local stack does not know the resource type {other}: model it in stack/src/deploy.rs"
            ),
        }
    }

    async fn table(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let mut p = self.properties(r)?;
        let name = match p.get("TableName") {
            Some(Json::String(n)) => n.clone(),
            _ => self.generated_name(logical, 255),
        };
        p.insert("TableName".into(), json!(name));
        let ttl = p.remove("TimeToLiveSpecification");
        let pitr = p.remove("PointInTimeRecoverySpecification");
        for set_elsewhere in [
            "ContributorInsightsSpecification",
            "KinesisStreamSpecification",
            "ImportSourceSpecification",
            "ResourcePolicy",
        ] {
            p.remove(set_elsewhere);
        }
        // The two members whose shape CloudFormation renames.
        if let Some(Json::Object(sse)) = p.remove("SSESpecification") {
            let mut api = sse.clone();
            if let Some(enabled) = api.remove("SSEEnabled") {
                api.insert("Enabled".into(), enabled);
            }
            p.insert("SSESpecification".into(), Json::Object(api));
        }
        if let Some(Json::Object(stream)) = p.remove("StreamSpecification") {
            let mut api = stream.clone();
            api.insert("StreamEnabled".into(), json!(true));
            p.insert("StreamSpecification".into(), Json::Object(api));
        }
        self.emulator
            .json("dynamodb", "CreateTable", &Json::Object(p))
            .await?;
        if let Some(ttl) = ttl {
            self.emulator
                .json(
                    "dynamodb",
                    "UpdateTimeToLive",
                    &json!({"TableName": name, "TimeToLiveSpecification": ttl}),
                )
                .await?;
        }
        if let Some(pitr) = pitr {
            self.emulator
                .json(
                    "dynamodb",
                    "UpdateContinuousBackups",
                    &json!({"TableName": name, "PointInTimeRecoverySpecification": pitr}),
                )
                .await?;
        }
        let arn = self.arn("dynamodb", &format!("table/{name}"));
        self.set(logical, name.clone(), &[("Arn", json!(arn))]);
        self.note(
            logical,
            kind,
            format!("created in the emulator: table {name}"),
        );
        Ok(())
    }

    async fn secret(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let mut p = self.properties(r)?;
        let name = match p.remove("Name") {
            Some(Json::String(n)) => n,
            _ => format!("{logical}-{}", random_id(12, UPPER)),
        };
        if let Some(Json::Object(generate)) = p.remove("GenerateSecretString") {
            let mut request = generate.clone();
            let template = request.remove("SecretStringTemplate");
            let key = request.remove("GenerateStringKey");
            let password = self
                .emulator
                .json(
                    "secretsmanager",
                    "GetRandomPassword",
                    &Json::Object(request),
                )
                .await?["RandomPassword"]
                .as_str()
                .context("GetRandomPassword answered no password")?
                .to_owned();
            let value = match (template, key) {
                (Some(Json::String(t)), Some(Json::String(k))) => {
                    let mut doc: Map<String, Json> = serde_json::from_str(&t)?;
                    doc.insert(k, json!(password));
                    Json::Object(doc).to_string()
                }
                _ => password,
            };
            p.insert("SecretString".into(), json!(value));
        }
        p.insert("Name".into(), json!(name));
        p.remove("ReplicaRegions");
        let created = self
            .emulator
            .json("secretsmanager", "CreateSecret", &Json::Object(p))
            .await?;
        let arn = created["ARN"]
            .as_str()
            .context("CreateSecret gave no ARN")?
            .to_owned();
        self.set(logical, arn.clone(), &[("Id", json!(arn))]);
        self.note(
            logical,
            kind,
            format!("created in the emulator: secret {name}"),
        );
        Ok(())
    }

    async fn user_pool(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let mut p = self.properties(r)?;
        let name = match p.get("UserPoolName") {
            Some(Json::String(n)) => n.clone(),
            _ => self.generated_name(logical, 128),
        };
        p.insert("PoolName".into(), json!(name));
        p.remove("UserPoolName");
        let mfa = p.remove("EnabledMfas");
        if let Some(Json::Object(tags)) = p.remove("UserPoolTags") {
            p.insert("UserPoolTags".into(), Json::Object(tags));
        }
        let created = self
            .emulator
            .json("cognito-idp", "CreateUserPool", &Json::Object(p.clone()))
            .await?;
        let id = created["UserPool"]["Id"]
            .as_str()
            .context("CreateUserPool gave no Id")?
            .to_owned();
        if let Some(Json::Array(mfas)) = mfa {
            let mut request = json!({
                "UserPoolId": id,
                "MfaConfiguration": p.get("MfaConfiguration").cloned().unwrap_or(json!("OFF")),
            });
            if mfas.iter().any(|m| m == "SOFTWARE_TOKEN_MFA") {
                request["SoftwareTokenMfaConfiguration"] = json!({"Enabled": true});
            }
            self.emulator
                .json("cognito-idp", "SetUserPoolMfaConfig", &request)
                .await?;
        }
        let region = &self.options.region;
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{id}");
        self.cognito.pool_id = id.clone();
        self.cognito.issuer = issuer.clone();
        self.cognito.password_policy = p
            .get("Policies")
            .and_then(|p| p.get("PasswordPolicy"))
            .cloned()
            .unwrap_or(Json::Null);
        let arn = self.arn("cognito-idp", &format!("userpool/{id}"));
        self.set(
            logical,
            id.clone(),
            &[
                ("Arn", json!(arn)),
                (
                    "ProviderName",
                    json!(format!("cognito-idp.{region}.amazonaws.com/{id}")),
                ),
                ("ProviderURL", json!(issuer)),
                ("UserPoolId", json!(id)),
            ],
        );
        self.note(
            logical,
            kind,
            format!("created in the emulator: user pool {id}"),
        );
        Ok(())
    }

    async fn user_pool_domain(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let p = self.properties(r)?;
        if p.contains_key("CustomDomainConfig") {
            bail!("a custom hosted-UI domain is not modelled");
        }
        self.emulator
            .json(
                "cognito-idp",
                "CreateUserPoolDomain",
                &Json::Object(p.clone()),
            )
            .await?;
        let prefix = p["Domain"].as_str().context("Domain")?.to_owned();
        let public = self
            .origins
            .public("hosted UI")
            .unwrap_or_default()
            .to_owned();
        let local = self.local("hosted UI")?;
        self.set(
            logical,
            prefix.clone(),
            &[(
                "CloudFrontDistribution",
                json!(format!("{}.cloudfront.net", random_id(13, LOWER))),
            )],
        );
        self.note(
            logical,
            kind,
            format!(
                "created in the emulator; its hosted UI ({public}) is the stack's front at {local}"
            ),
        );
        Ok(())
    }

    async fn user_pool_client(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let p = self.properties(r)?;
        let mut body = match self.origins.localize_json(&Json::Object(p)) {
            Json::Object(m) => m,
            _ => unreachable!("a map stays a map"),
        };
        // Cognito lets a client without ReadAttributes read the standard attributes
        // and the verified flags; the emulator puts only listed ones in ID tokens.
        if !body.contains_key("ReadAttributes") {
            body.insert("ReadAttributes".into(), json!(STANDARD_READABLE));
        }
        let created = self
            .emulator
            .json(
                "cognito-idp",
                "CreateUserPoolClient",
                &Json::Object(body.clone()),
            )
            .await?;
        let id = created["UserPoolClient"]["ClientId"]
            .as_str()
            .context("CreateUserPoolClient gave no ClientId")?
            .to_owned();
        self.cognito.clients.push(id.clone());
        self.set(logical, id.clone(), &[("ClientId", json!(id))]);
        self.note(
            logical,
            kind,
            format!(
                "created in the emulator: app client {id}, callback URLs {}",
                body.get("CallbackURLs")
                    .map_or_else(|| "none".to_owned(), Json::to_string)
            ),
        );
        Ok(())
    }

    async fn queue(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let mut p = self.properties(r)?;
        let name = match p.remove("QueueName") {
            Some(Json::String(n)) => n,
            _ => self.generated_name(logical, 80),
        };
        let tags = p.remove("Tags");
        let attributes: Map<String, Json> = p
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Json::String(s) => s,
                    other => other.to_string(),
                };
                (k, Json::String(s))
            })
            .collect();
        let mut request = json!({"QueueName": name, "Attributes": attributes});
        if let Some(Json::Array(tags)) = tags {
            request["tags"] = tags
                .iter()
                .filter_map(|t| Some((t["Key"].as_str()?.to_owned(), t["Value"].clone())))
                .collect::<Map<_, _>>()
                .into();
        }
        let created = self.emulator.json("sqs", "CreateQueue", &request).await?;
        let url = created["QueueUrl"]
            .as_str()
            .context("CreateQueue gave no QueueUrl")?
            .to_owned();
        let arn = self.arn("sqs", &name);
        self.set(
            logical,
            url.clone(),
            &[
                ("Arn", json!(arn)),
                ("QueueName", json!(name)),
                ("QueueUrl", json!(url)),
            ],
        );
        self.note(
            logical,
            kind,
            format!("created in the emulator: queue {name}"),
        );
        Ok(())
    }

    fn function(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let merged = merge_globals(self.template.function_globals(), &r["Properties"]);
        let p = match self.ctx.resolve(&merged)? {
            Json::Object(m) => m,
            _ => bail!("Properties is not a map"),
        };
        let name = p
            .get("FunctionName")
            .and_then(Json::as_str)
            .map_or_else(|| self.generated_name(logical, 64), str::to_owned);
        let binary = self
            .ctx
            .resolve_string(&r["Metadata"]["BuildProperties"]["Binary"])
            .with_context(|| format!("{logical} names no Metadata.BuildProperties.Binary"))?;
        if r["Metadata"]["BuildMethod"].as_str() != Some("rust-cargolambda") {
            bail!("{logical}: the stack runs rust-cargolambda builds only");
        }
        let environment: BTreeMap<String, String> = p
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), self.origins.localize(&v))
            })
            .collect();
        let arn = self.arn("lambda", &format!("function:{name}"));
        let log_group = p
            .get("LoggingConfig")
            .and_then(|l| l.get("LogGroup"))
            .and_then(Json::as_str)
            .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned);
        let dead_letter_queue = p
            .get("DeadLetterQueue")
            .and_then(|d| d.get("TargetArn"))
            .and_then(Json::as_str)
            .map(str::to_owned);
        let number = |k: &str, default: u64| p.get(k).and_then(Json::as_u64).unwrap_or(default);
        let spec = FunctionSpec {
            logical: logical.to_owned(),
            name: name.clone(),
            arn: arn.clone(),
            binary,
            architecture: p
                .get("Architectures")
                .and_then(|a| a.get(0))
                .and_then(Json::as_str)
                .unwrap_or("x86_64")
                .to_owned(),
            memory_mb: number("MemorySize", 128),
            timeout: Duration::from_secs(number("Timeout", 3)),
            environment,
            log_group,
            dead_letter_queue,
        };
        if let Some(Json::Object(events)) = p.get("Events") {
            for event in events.values() {
                match event["Type"].as_str() {
                    Some("HttpApi") => self
                        .http_events
                        .push((logical.to_owned(), event["Properties"].clone())),
                    other => bail!("{logical}: the stack does not run {other:?} events"),
                }
            }
        }
        self.set(logical, name.clone(), &[("Arn", json!(arn))]);
        self.note(
            logical,
            kind,
            format!(
                "run by the stack: {} ({} MB, {} s)",
                spec.binary,
                spec.memory_mb,
                spec.timeout.as_secs()
            ),
        );
        self.functions.push(spec);
        Ok(())
    }

    fn http_api(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let id = self.api_id.clone();
        let public = self.origins.public("api").unwrap_or_default().to_owned();
        let local = self.local("api")?;
        let p = self.properties(r)?;
        let stage = p
            .get("StageName")
            .and_then(Json::as_str)
            .unwrap_or("$default");
        if stage != "$default" {
            bail!("the stack runs the $default stage only, not {stage}");
        }
        self.api.id = id.clone();
        self.api.public_endpoint = public.clone();
        if let Some(auth) = p.get("Auth") {
            for (name, a) in auth["Authorizers"].as_object().into_iter().flatten() {
                let jwt = &a["JwtConfiguration"];
                if jwt.is_null() {
                    bail!("authorizer {name}: the stack models JWT authorizers only");
                }
                let source = a["IdentitySource"]
                    .as_str()
                    .unwrap_or("$request.header.Authorization");
                let header = source
                    .strip_prefix("$request.header.")
                    .with_context(|| format!("authorizer {name}: identity source {source}"))?;
                self.api.authorizers.insert(
                    name.clone(),
                    JwtAuthorizer {
                        header: header.to_ascii_lowercase(),
                        issuer: jwt["issuer"].as_str().context("issuer")?.to_owned(),
                        audience: jwt["audience"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.as_str().map(str::to_owned))
                            .collect(),
                    },
                );
            }
            self.default_authorizer = auth["DefaultAuthorizer"].as_str().map(str::to_owned);
        }
        if let Some(cors) = p.get("CorsConfiguration") {
            let list = |k: &str| -> Vec<String> {
                cors[k]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(|s| self.origins.localize(s)))
                    .collect()
            };
            self.api.cors = Some(Cors {
                allow_origins: list("AllowOrigins"),
                allow_methods: list("AllowMethods"),
                allow_headers: list("AllowHeaders"),
                expose_headers: list("ExposeHeaders"),
                max_age: cors["MaxAge"].as_u64(),
                allow_credentials: cors["AllowCredentials"].as_bool().unwrap_or(false),
            });
        }
        let throttle = |s: &Json| -> Option<Throttle> {
            Some(Throttle {
                burst: s["ThrottlingBurstLimit"].as_u64()? as u32,
                rate: s["ThrottlingRateLimit"].as_f64()?,
            })
        };
        self.api.default_throttle = p.get("DefaultRouteSettings").and_then(throttle);
        for (key, s) in p
            .get("RouteSettings")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(t) = throttle(s) {
                self.api.route_throttle.insert(key.clone(), t);
            }
        }
        self.api.access_log_format = p
            .get("AccessLogSettings")
            .and_then(|a| a["Format"].as_str())
            .map(str::to_owned);
        self.set(logical, id.clone(), &[("ApiEndpoint", json!(public))]);
        self.note(
            logical,
            kind,
            format!("run by the stack: {public} at {local}"),
        );
        Ok(())
    }

    fn distribution(&mut self, logical: &str, kind: &str, r: &Value) -> Result<()> {
        let (id, domain) = self.distribution.clone();
        let public = format!("https://{domain}");
        let local = self.local("site")?;
        // Its own configuration refers to the policy and function created before it.
        let p = self.properties(r)?;
        let config = &p["DistributionConfig"];
        let behaviour = &config["DefaultCacheBehavior"];
        let headers = match behaviour["ResponseHeadersPolicyId"].as_str() {
            Some(policy) => self
                .headers_policies
                .get(policy)
                .cloned()
                .with_context(|| format!("no response headers policy {policy}"))?,
            None => HeadersPolicy::default(),
        };
        let mut viewer_request = None;
        for association in behaviour["FunctionAssociations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let arn = association["FunctionARN"].as_str().unwrap_or_default();
            let code = self
                .cloudfront_functions
                .get(arn)
                .with_context(|| format!("no CloudFront function {arn}"))?;
            match association["EventType"].as_str() {
                Some("viewer-request") => viewer_request = Some(code.clone()),
                other => bail!("the site front runs viewer-request functions only, not {other:?}"),
            }
        }
        if !config["CacheBehaviors"].is_null() {
            bail!("the site front models the default cache behaviour only");
        }
        let error_responses = config["CustomErrorResponses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some((
                    e["ErrorCode"].as_u64()? as u16,
                    e["ResponsePagePath"].as_str().map(str::to_owned),
                    e["ResponseCode"]
                        .as_u64()
                        .or_else(|| e["ResponseCode"].as_str()?.parse().ok())
                        .map(|c| c as u16),
                ))
            })
            .collect();
        self.site = SiteSpec {
            id: id.clone(),
            domain: domain.clone(),
            default_root_object: config["DefaultRootObject"].as_str().map(str::to_owned),
            viewer_request,
            headers,
            error_responses,
        };
        self.set(logical, id, &[("DomainName", json!(domain))]);
        self.note(
            logical,
            kind,
            format!("run by the stack: {public} at {local}"),
        );
        Ok(())
    }

    /// The API's routes from every function's `HttpApi` events.
    fn routes(&self) -> Result<Vec<RouteSpec>> {
        let mut routes = Vec::new();
        for (function, p) in &self.http_events {
            let authorizer = match p["Auth"]["Authorizer"].as_str() {
                Some("NONE") => None,
                Some(name) => Some(name.to_owned()),
                None => self.default_authorizer.clone(),
            };
            if let Some(a) = &authorizer
                && !self.api.authorizers.contains_key(a)
            {
                bail!("{function}: no authorizer {a}");
            }
            let route = RouteSpec {
                method: p["Method"].as_str().unwrap_or("ANY").to_ascii_uppercase(),
                path: p["Path"]
                    .as_str()
                    .context("an HttpApi event without a Path")?
                    .to_owned(),
                function: function.clone(),
                authorizer,
                scopes: p["Auth"]["AuthorizationScopes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect(),
            };
            if routes.iter().any(|r: &RouteSpec| r.key() == route.key()) {
                bail!("the route {} is defined twice", route.key());
            }
            routes.push(route);
        }
        Ok(routes)
    }
}

/// What a client without `ReadAttributes` may read (Cognito's documented default).
const STANDARD_READABLE: [&str; 19] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// The headers a response headers policy sets.
fn headers_policy(config: &Json, origins: &Origins) -> Result<HeadersPolicy> {
    let mut headers = Vec::new();
    let security = &config["SecurityHeadersConfig"];
    let over = |v: &Json| v["Override"].as_bool().unwrap_or(false);
    let csp = &security["ContentSecurityPolicy"];
    if let Some(policy) = csp["ContentSecurityPolicy"].as_str() {
        headers.push((
            "content-security-policy".to_owned(),
            origins.localize_csp(policy),
            over(csp),
        ));
    }
    let hsts = &security["StrictTransportSecurity"];
    if let Some(age) = hsts["AccessControlMaxAgeSec"].as_u64() {
        let mut value = format!("max-age={age}");
        if hsts["IncludeSubdomains"].as_bool() == Some(true) {
            value.push_str("; includeSubDomains");
        }
        if hsts["Preload"].as_bool() == Some(true) {
            value.push_str("; preload");
        }
        headers.push(("strict-transport-security".to_owned(), value, over(hsts)));
    }
    let referrer = &security["ReferrerPolicy"];
    if let Some(policy) = referrer["ReferrerPolicy"].as_str() {
        headers.push((
            "referrer-policy".to_owned(),
            policy.to_owned(),
            over(referrer),
        ));
    }
    let frame = &security["FrameOptions"];
    if let Some(option) = frame["FrameOption"].as_str() {
        headers.push(("x-frame-options".to_owned(), option.to_owned(), over(frame)));
    }
    let types = &security["ContentTypeOptions"];
    if types.is_object() {
        headers.push((
            "x-content-type-options".to_owned(),
            "nosniff".to_owned(),
            over(types),
        ));
    }
    let xss = &security["XSSProtection"];
    if let Some(on) = xss["Protection"].as_bool() {
        let mut value = if on { "1" } else { "0" }.to_owned();
        if xss["ModeBlock"].as_bool() == Some(true) {
            value.push_str("; mode=block");
        }
        headers.push(("x-xss-protection".to_owned(), value, over(xss)));
    }
    for item in config["CustomHeadersConfig"]["Items"]
        .as_array()
        .into_iter()
        .flatten()
    {
        headers.push((
            item["Header"]
                .as_str()
                .context("a custom header's name")?
                .to_ascii_lowercase(),
            item["Value"].as_str().unwrap_or_default().to_owned(),
            over(item),
        ));
    }
    if !config["CorsConfig"].is_null() || !config["RemoveHeadersConfig"].is_null() {
        bail!("the site front models security and custom headers only");
    }
    Ok(HeadersPolicy { headers })
}

/// Replaces `{{resolve:secretsmanager:<id>:SecretString[:<json key>]}}` dynamic
/// references with the secret's value, as CloudFormation does at deploy time.
pub async fn resolve_dynamic(emulator: &Emulator, value: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("{{resolve:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{resolve:".len()..];
        let end = after.find("}}").context("an unclosed dynamic reference")?;
        let reference = &after[..end];
        let Some(secret) = reference.strip_prefix("secretsmanager:") else {
            bail!("the stack resolves secretsmanager dynamic references only: {reference}");
        };
        // The id may be an ARN, which has colons of its own.
        let (id, tail) = match secret.find(":SecretString") {
            Some(i) => (&secret[..i], &secret[i + ":SecretString".len()..]),
            None => bail!("a dynamic reference without :SecretString: {reference}"),
        };
        let got = emulator
            .json("secretsmanager", "GetSecretValue", &json!({"SecretId": id}))
            .await?;
        let text = got["SecretString"].as_str().context("no SecretString")?;
        let key = tail.strip_prefix(':').unwrap_or_default();
        let key = key.split(':').next().unwrap_or_default();
        if key.is_empty() {
            out.push_str(text);
        } else {
            let doc: Json = serde_json::from_str(text)?;
            out.push_str(
                doc[key]
                    .as_str()
                    .with_context(|| format!("no key {key} in the secret"))?,
            );
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
