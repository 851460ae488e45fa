//! One source of truth: the SAM template agrees with the code — the table with the
//! DynamoDB adapter's layout, the routes with the routers, the binaries with the
//! workspace, the environment with the typed configuration.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value;
use tempaccess_aws::config::AwsSettings;
use tempaccess_aws::dynamodb::table::{AttributeSpec, IndexSpec, TableSpec, spec};
use tempaccess_http::{Function, openapi};

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).expect("infra/template.yaml");
    serde_yaml::from_str(&text).expect("the template is YAML")
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    &t["Resources"][name]
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v:?}"))
        .to_owned()
}

/// The functions of the template, with the router each one serves.
const FUNCTIONS: [(&str, &str, Option<Function>); 5] = [
    (
        "RequestFunction",
        "tempaccess-request",
        Some(Function::Request),
    ),
    (
        "DecideFunction",
        "tempaccess-decide",
        Some(Function::Decide),
    ),
    (
        "CancelFunction",
        "tempaccess-cancel",
        Some(Function::Cancel),
    ),
    (
        "ReportFunction",
        "tempaccess-report",
        Some(Function::Report),
    ),
    ("RevokeFunction", "tempaccess-revoke", None),
];

#[test]
fn the_table_is_the_one_the_adapter_creates() {
    let t = template();
    let p = &resource(&t, "Table")["Properties"];
    let key = |schema: &Value, kind: &str| {
        schema
            .as_sequence()
            .expect("a key schema")
            .iter()
            .find(|k| k["KeyType"] == kind)
            .map(|k| s(&k["AttributeName"]))
            .expect("the key")
    };
    let mut attributes: Vec<AttributeSpec> = p["AttributeDefinitions"]
        .as_sequence()
        .expect("attributes")
        .iter()
        .map(|a| AttributeSpec {
            name: s(&a["AttributeName"]),
            kind: s(&a["AttributeType"]),
        })
        .collect();
    attributes.sort();
    let mut indexes: Vec<IndexSpec> = p["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes")
        .iter()
        .map(|i| IndexSpec {
            name: s(&i["IndexName"]),
            partition_key: key(&i["KeySchema"], "HASH"),
            sort_key: key(&i["KeySchema"], "RANGE"),
            projection: s(&i["Projection"]["ProjectionType"]),
        })
        .collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let ttl = &p["TimeToLiveSpecification"];
    let from_template = TableSpec {
        partition_key: key(&p["KeySchema"], "HASH"),
        sort_key: key(&p["KeySchema"], "RANGE"),
        attributes,
        indexes,
        ttl_attribute: (ttl["Enabled"] == true).then(|| s(&ttl["AttributeName"])),
        billing_mode: s(&p["BillingMode"]),
    };
    let mut expected = spec();
    expected.attributes.sort();
    expected.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(from_template, expected);
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
}

/// (method, path, signed-in) of a function's HttpApi events.
fn template_routes(t: &Value, function: &str) -> BTreeSet<(String, String, bool)> {
    let events = resource(t, function)["Properties"]["Events"]
        .as_mapping()
        .cloned()
        .unwrap_or_default();
    events
        .values()
        .filter(|e| e["Type"] == "HttpApi")
        .map(|e| {
            let p = &e["Properties"];
            let public = p["Auth"]["Authorizer"] == "NONE";
            (s(&p["Method"]).to_ascii_lowercase(), s(&p["Path"]), !public)
        })
        .collect()
}

/// (method, path, signed-in) of a function's router, from its OpenAPI description.
fn router_routes(function: Function) -> BTreeSet<(String, String, bool)> {
    let doc = serde_json::to_value(openapi::parts(function).split_for_parts().1).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let signed_in = op["security"].as_array().is_some_and(|s| !s.is_empty());
            routes.insert((method.clone(), path.clone(), signed_in));
        }
    }
    if function == Function::Report {
        // Served beside the report routes, undocumented by itself, public.
        routes.insert(("get".to_owned(), "/v1/openapi.json".to_owned(), false));
    }
    routes
}

#[test]
fn every_route_is_in_the_template_on_its_function_and_nothing_else() {
    let t = template();
    for (name, _, function) in FUNCTIONS {
        let in_template = template_routes(&t, name);
        match function {
            Some(f) => assert_eq!(in_template, router_routes(f), "{name}"),
            None => assert!(in_template.is_empty(), "{name} serves no HTTP route"),
        }
    }
}

#[test]
fn each_function_builds_its_own_binary_on_arm64() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(s(&globals["Runtime"]), "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(s(&globals["Handler"]), "bootstrap");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for (name, binary, _) in FUNCTIONS {
        let r = resource(&t, name);
        assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(
            s(&r["Metadata"]["BuildProperties"]["Binary"]),
            binary,
            "{name}"
        );
        let crate_dir = binary.trim_start_matches("tempaccess-");
        // Built from its own crate, not the workspace: its features are its own.
        assert_eq!(
            s(&r["Properties"]["CodeUri"]),
            format!("../functions/{crate_dir}"),
            "{name}"
        );
        let manifest = std::fs::read_to_string(format!("{root}/functions/{crate_dir}/Cargo.toml"))
            .unwrap_or_else(|_| panic!("no crate for {binary}"));
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "{binary}"
        );
    }
}

#[test]
fn the_functions_environment_is_what_the_configuration_reads() {
    let t = template();
    let vars: BTreeMap<String, String> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .expect("variables")
        .iter()
        .map(|(k, v)| {
            // Intrinsics stand for values known at deploy time: give plausible ones,
            // a name for a `!Ref` of a resource, an ARN for the rest.
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Tagged(t) if t.tag == "Ref" => {
                    format!("stack-{}", s(&t.value).to_ascii_lowercase())
                }
                _ => format!(
                    "arn:aws:x:us-east-1:123456789012:{}",
                    s(k).to_ascii_lowercase()
                ),
            };
            (s(k), value)
        })
        .collect();
    // A `!Ref` of a parameter stands for its default.
    let parameter = |name: &str| {
        t["Parameters"][name]["Default"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("parameter {name} has no default"))
    };
    let with_url = |k: &str| match k {
        "TEMPACCESS_SITE_URL" => Some("https://d111111abcdef8.cloudfront.net".to_owned()),
        "TEMPACCESS_MAIL_FROM" => Some("tempaccess@example.com".to_owned()),
        "TEMPACCESS_LINK_DECISIONS" => Some(parameter("LinkDecisions")),
        _ => vars.get(k).cloned(),
    };
    let settings = AwsSettings::from_lookup(with_url).expect("every required variable is set");
    assert!(
        !settings.link_decisions,
        "a deployment decides by link alone only when told to"
    );
    assert!(settings.configuration_set.is_some());
    assert!(settings.dead_letter_arn.is_some());
}

// ---------------------------------------------------------------- the site's side

/// The site's settings reader and the writer `cargo xtask publish-site` (and the local
/// stack) use, compiled here as they are.
#[path = "../../web/src/config.rs"]
#[allow(dead_code)]
mod site_reader;
#[path = "../../xtask/src/site_config.rs"]
mod site_writer;

/// A `pub const NAME: &str = "…";` of a source file of the site.
fn site_constant(file: &str, name: &str) -> String {
    let path = format!("{}/../web/src/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let line = text
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with(&format!("pub const {name}: &str = "))
        })
        .unwrap_or_else(|| panic!("{file} has no `pub const {name}: &str`"));
    line.split('"').nth(1).expect("a string literal").to_owned()
}

/// The text of a `!Sub` (or a plain string).
fn sub_text(v: &Value) -> String {
    match v {
        Value::Tagged(t) if t.tag == "Sub" => s(&t.value),
        other => s(other),
    }
}

/// The site's origin as the template builds it.
const SITE_ORIGIN: &str = "https://${SiteDistribution.DomainName}";

#[test]
fn the_app_client_lists_exactly_the_urls_the_site_sends() {
    let t = template();
    let client = &resource(&t, "SiteClient")["Properties"];
    let callback = site_constant("auth/pkce.rs", "CALLBACK_PATH");
    let logout = site_constant("auth/pkce.rs", "LOGOUT_PATH");
    let urls = |k: &str| -> Vec<String> {
        client[k]
            .as_sequence()
            .unwrap_or_else(|| panic!("SiteClient has no {k}"))
            .iter()
            .map(sub_text)
            .collect()
    };
    // Cognito compares redirect_uri and logout_uri whole: a trailing slash or a
    // missing path means nobody can sign in (or out).
    assert_eq!(urls("CallbackURLs"), [format!("{SITE_ORIGIN}{callback}")]);
    assert_eq!(urls("LogoutURLs"), [format!("{SITE_ORIGIN}{logout}")]);
    // The site builds both from its own origin and these paths, and the functions'
    // links and the outputs use the same origin.
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src");
    for (file, use_of) in [
        ("pages/sign_in.rs", "pkce::CALLBACK_PATH"),
        ("pages/auth_callback.rs", "pkce::CALLBACK_PATH"),
        ("hooks/use_session.rs", "pkce::LOGOUT_PATH"),
    ] {
        let text = std::fs::read_to_string(format!("{web}/{file}")).unwrap();
        assert!(text.contains(use_of), "{file} builds its URL with {use_of}");
    }
    assert_eq!(sub_text(&t["Outputs"]["SiteUrl"]["Value"]), SITE_ORIGIN);
    assert_eq!(
        sub_text(&t["Globals"]["Function"]["Environment"]["Variables"]["TEMPACCESS_SITE_URL"]),
        SITE_ORIGIN
    );
    assert_eq!(
        client["AllowedOAuthFlows"][0], "code",
        "the site uses the code flow with PKCE"
    );
    assert_eq!(
        client["GenerateSecret"], false,
        "the site is a public client"
    );
}

/// Plausible values of the template's outputs, by name (only those it has).
fn outputs_of(t: &Value) -> std::collections::HashMap<String, String> {
    let plausible = |name: &str| match name {
        "ApiUrl" => "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com".to_owned(),
        "CognitoDomain" => "https://tempaccess-example.auth.us-east-1.amazoncognito.com".to_owned(),
        "SiteUrl" => "https://d111111abcdef8.cloudfront.net".to_owned(),
        other => format!("value-of-{other}"),
    };
    t["Outputs"]
        .as_mapping()
        .expect("outputs")
        .keys()
        .map(|k| (s(k), plausible(&s(k))))
        .collect()
}

#[test]
fn the_site_config_is_written_from_the_templates_outputs_and_read_whole() {
    let t = template();
    let outputs = outputs_of(&t);
    // Fails naming an output the writer needs and the template lacks.
    let written =
        site_writer::site_config(&outputs).expect("the template has every output the writer reads");
    let read: site_reader::SiteConfig =
        serde_json::from_value(written.clone()).expect("the site reads what is written");
    let site_reader::AuthConfig::Cognito(cognito) = &read.auth else {
        panic!("a deployment signs in through Cognito: {read:?}");
    };
    assert_eq!(cognito.domain, outputs["CognitoDomain"]);
    assert_eq!(cognito.client_id, outputs["UserPoolClientId"]);
    assert_eq!(read.api_url, outputs["ApiUrl"]);
    // Nothing written is ignored by the reader.
    fn keys(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                out.insert(format!("{prefix}{k}"));
                keys(v, &format!("{prefix}{k}."), out);
            }
        }
    }
    let (mut w, mut r) = (BTreeSet::new(), BTreeSet::new());
    keys(&written, "", &mut w);
    keys(&serde_json::to_value(&read).unwrap(), "", &mut r);
    let ignored: Vec<&String> = w.difference(&r).collect();
    assert!(
        ignored.is_empty(),
        "written but not read by the site: {ignored:?}"
    );
    // The outputs are what the template says they are.
    let tagged = |v: &Value| match v {
        Value::Tagged(t) => (t.tag.to_string(), s(&t.value)),
        other => panic!("not a tagged value: {other:?}"),
    };
    assert_eq!(
        tagged(&t["Outputs"]["ApiUrl"]["Value"]),
        ("!GetAtt".to_owned(), "HttpApi.ApiEndpoint".to_owned())
    );
    assert_eq!(
        sub_text(&t["Outputs"]["CognitoDomain"]["Value"]),
        "https://${CognitoDomainPrefix}.auth.${AWS::Region}.amazoncognito.com"
    );
    assert_eq!(
        tagged(&t["Outputs"]["UserPoolClientId"]["Value"]),
        ("!Ref".to_owned(), "SiteClient".to_owned())
    );
}

#[test]
fn the_content_security_policy_allows_what_the_site_calls() {
    let t = template();
    let policy = sub_text(
        &resource(&t, "SiteHeaders")["Properties"]["ResponseHeadersPolicyConfig"]
            ["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"],
    )
    .replace("${AWS::Region}", "us-east-1")
    // The prefix the plausible outputs below are made with.
    .replace("${CognitoDomainPrefix}", "tempaccess-example");
    let directive = |name: &str| -> Vec<String> {
        policy
            .split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let allows = |name: &str, origin: &str| {
        directive(name)
            .iter()
            .any(|source| tempaccess_stack::origins::source_matches(source, origin))
    };
    // The site fetches its API and the hosted UI's token endpoint (the origins of the
    // config it reads); it loads its own files, and runs wasm.
    let outputs = outputs_of(&t);
    let config = site_writer::site_config(&outputs).unwrap();
    let api = config["api_url"].as_str().unwrap();
    let token_endpoint = config["auth"]["domain"].as_str().unwrap();
    assert!(
        allows("connect-src", api),
        "connect-src must allow the API {api}: {policy}"
    );
    assert!(
        allows("connect-src", token_endpoint),
        "connect-src must allow the token endpoint {token_endpoint}: {policy}"
    );
    assert!(
        directive("connect-src").contains(&"'self'".to_owned()),
        "config.json is fetched from the site"
    );
    assert!(directive("script-src").contains(&"'self'".to_owned()));
    assert!(directive("script-src").contains(&"'wasm-unsafe-eval'".to_owned()));
    assert_eq!(directive("frame-ancestors"), ["'none'"]);
    // Nothing else outside the site's own origin: no wildcard scheme or host.
    for d in [
        "default-src",
        "script-src",
        "style-src",
        "connect-src",
        "form-action",
    ] {
        for source in directive(d) {
            assert!(
                source.starts_with('\'') || source.starts_with("https://"),
                "{d} allows {source}"
            );
        }
    }
}
