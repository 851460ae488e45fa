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
    let with_url = |k: &str| match k {
        "TEMPACCESS_SITE_URL" => Some("https://d111111abcdef8.cloudfront.net".to_owned()),
        "TEMPACCESS_MAIL_FROM" => Some("tempaccess@example.com".to_owned()),
        _ => vars.get(k).cloned(),
    };
    let settings = AwsSettings::from_lookup(with_url).expect("every required variable is set");
    assert!(settings.configuration_set.is_some());
    assert!(settings.dead_letter_arn.is_some());
}
