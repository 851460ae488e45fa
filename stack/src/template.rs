//! The SAM template as data, and the CloudFormation intrinsic functions it uses,
//! evaluated against what the stack created: `Ref`, `Fn::GetAtt`, `Fn::Sub`,
//! `Fn::Join`, `Fn::Select`, `Fn::If`, `Fn::Not`, `Fn::Equals`, `Fn::And`, `Fn::Or`,
//! in their short (`!Ref`) and long (`{"Ref": …}`) forms, and the pseudo parameters.
//!
//! A reference to something the stack does not know is an error naming it, never an
//! empty string: a template the stack cannot read whole does not start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value as Json};
use serde_yaml::Value;

/// The template, parsed.
pub struct Template {
    doc: Value,
}

impl Template {
    /// Reads a YAML template.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Parses a YAML template.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(Self {
            doc: serde_yaml::from_str(text)?,
        })
    }

    /// The resources, in the template's order: (logical id, type, the resource).
    pub fn resources(&self) -> Vec<(String, String, &Value)> {
        self.doc["Resources"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v["Type"].as_str()?.to_owned(), v)))
            .collect()
    }

    /// One resource by logical id.
    pub fn resource(&self, logical: &str) -> Option<&Value> {
        self.doc["Resources"].get(logical)
    }

    /// The `Parameters` section: name → (default, allowed pattern).
    pub fn parameters(&self) -> Vec<(String, Option<String>)> {
        self.doc["Parameters"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let default = match &v["Default"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                Some((k.as_str()?.to_owned(), default))
            })
            .collect()
    }

    /// The `Conditions` section.
    pub fn conditions(&self) -> Vec<(String, &Value)> {
        self.doc["Conditions"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)))
            .collect()
    }

    /// The `Outputs` section: name → value expression.
    pub fn outputs(&self) -> Vec<(String, &Value)> {
        self.doc["Outputs"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), &v["Value"])))
            .collect()
    }

    /// SAM's `Globals.Function`, merged under each function's own properties.
    pub fn function_globals(&self) -> &Value {
        &self.doc["Globals"]["Function"]
    }

    /// The order to create the resources in: each after every resource it refers to
    /// (through its properties, its SAM globals, `DependsOn` and `Condition`-free
    /// references). Fails on a cycle.
    pub fn creation_order(&self) -> Result<Vec<String>> {
        let resources = self.resources();
        let names: BTreeSet<String> = resources.iter().map(|(n, _, _)| n.clone()).collect();
        let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, kind, r) in &resources {
            let mut found = BTreeSet::new();
            references(r, &mut found);
            if kind == "AWS::Serverless::Function" {
                references(self.function_globals(), &mut found);
            }
            match &r["DependsOn"] {
                Value::String(s) => {
                    found.insert(s.clone());
                }
                Value::Sequence(list) => {
                    found.extend(list.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                }
                _ => {}
            }
            found.retain(|f| names.contains(f) && f != name);
            needs.insert(name.clone(), found);
        }
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while order.len() < resources.len() {
            let ready: Vec<String> = resources
                .iter()
                .map(|(n, _, _)| n)
                .filter(|n| !done.contains(*n) && needs[*n].iter().all(|d| done.contains(d)))
                .cloned()
                .collect();
            if ready.is_empty() {
                let left: Vec<&String> = names.iter().filter(|n| !done.contains(*n)).collect();
                bail!("the template's resources refer to each other in a cycle: {left:?}");
            }
            for n in ready {
                done.insert(n.clone());
                order.push(n);
            }
        }
        Ok(order)
    }
}

/// The logical ids a template fragment refers to (`Ref`, `GetAtt`, `${…}` in `Sub`).
pub fn references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            match (tag, &t.value) {
                ("Ref", Value::String(s)) => {
                    out.insert(s.clone());
                }
                ("GetAtt", Value::String(s)) => {
                    out.insert(s.split('.').next().unwrap_or_default().to_owned());
                }
                ("Sub", Value::String(s)) => sub_references(s, out),
                ("Sub", Value::Sequence(parts)) => {
                    if let Some(Value::String(s)) = parts.first() {
                        sub_references(s, out);
                    }
                    for p in parts.iter().skip(1) {
                        references(p, out);
                    }
                }
                (_, inner) => references(inner, out),
            }
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    (Some("Ref"), Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    (Some("Fn::GetAtt"), Value::Sequence(p)) => {
                        if let Some(s) = p.first().and_then(Value::as_str) {
                            out.insert(s.to_owned());
                        }
                    }
                    (Some("Fn::Sub"), Value::String(s)) => sub_references(s, out),
                    _ => references(v, out),
                }
            }
        }
        Value::Sequence(list) => list.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn sub_references(s: &str, out: &mut BTreeSet<String>) {
    for name in sub_names(s) {
        out.insert(name.split('.').next().unwrap_or_default().to_owned());
    }
}

/// The `${…}` names of a `Fn::Sub` string (not `${!literal}`).
fn sub_names(s: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            names.push(name.trim().to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

/// What intrinsic functions resolve against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account: String,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// What `Ref` of a resource gives.
    pub refs: BTreeMap<String, Json>,
    /// What `Fn::GetAtt` gives: `"Logical.Attribute"` → value.
    pub attributes: BTreeMap<String, Json>,
    /// Evaluated conditions.
    pub conditions: BTreeMap<String, bool>,
}

/// Marks `AWS::NoValue` until the enclosing list or map drops it.
const NO_VALUE: &str = "\u{0}AWS::NoValue";

impl Context {
    /// `AWS::Partition`.
    pub fn partition(&self) -> &'static str {
        "aws"
    }

    /// The value of `Ref name`.
    pub fn reference(&self, name: &str) -> Result<Json> {
        let pseudo = match name {
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(self.account.clone()),
            "AWS::StackName" => Some(self.stack_name.clone()),
            "AWS::Partition" => Some(self.partition().to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            "AWS::StackId" => Some(format!(
                "arn:aws:cloudformation:{}:{}:stack/{}/local",
                self.region, self.account, self.stack_name
            )),
            "AWS::NoValue" => Some(NO_VALUE.to_owned()),
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(Json::String(v));
        }
        if let Some(v) = self.parameters.get(name) {
            return Ok(Json::String(v.clone()));
        }
        self.refs.get(name).cloned().with_context(|| {
            format!("`Ref {name}`: the stack has no such parameter or resource (yet)")
        })
    }

    /// The value of `Fn::GetAtt logical.attribute`.
    pub fn attribute(&self, path: &str) -> Result<Json> {
        self.attributes.get(path).cloned().with_context(|| {
            format!("`Fn::GetAtt {path}`: the stack does not provide this attribute")
        })
    }

    /// Evaluates a template fragment to plain JSON.
    pub fn resolve(&self, v: &Value) -> Result<Json> {
        let out = self.eval(v)?;
        Ok(out)
    }

    /// Evaluates a fragment that must be a string.
    pub fn resolve_string(&self, v: &Value) -> Result<String> {
        match self.eval(v)? {
            Json::String(s) => Ok(s),
            Json::Number(n) => Ok(n.to_string()),
            Json::Bool(b) => Ok(b.to_string()),
            other => bail!("expected a string, found {other}"),
        }
    }

    fn eval(&self, v: &Value) -> Result<Json> {
        Ok(match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => serde_json::to_value(n)?,
            Value::String(s) => Json::String(s.clone()),
            Value::Sequence(list) => Json::Array(
                list.iter()
                    .map(|v| self.eval(v))
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .filter(|v| v.as_str() != Some(NO_VALUE))
                    .collect(),
            ),
            Value::Mapping(m) => {
                if m.len() == 1 {
                    let (k, arg) = m.iter().next().expect("one entry");
                    if let Some(name) = k.as_str().and_then(function_name) {
                        return self.function(name, arg);
                    }
                }
                let mut out = Map::new();
                for (k, v) in m {
                    let key = k
                        .as_str()
                        .with_context(|| format!("a map key that is not a string: {k:?}"))?;
                    let value = self.eval(v)?;
                    if value.as_str() != Some(NO_VALUE) {
                        out.insert(key.to_owned(), value);
                    }
                }
                Json::Object(out)
            }
            Value::Tagged(t) => {
                let tag = t.tag.to_string();
                self.function(tag.trim_start_matches('!'), &t.value)?
            }
        })
    }

    fn function(&self, name: &str, arg: &Value) -> Result<Json> {
        match name {
            "Ref" => self.reference(arg.as_str().context("`Ref` takes a name")?),
            "GetAtt" => {
                let path = match arg {
                    Value::String(s) => s.clone(),
                    Value::Sequence(p) => p
                        .iter()
                        .map(|v| self.resolve_string(v))
                        .collect::<Result<Vec<_>>>()?
                        .join("."),
                    _ => bail!("`Fn::GetAtt` takes `Name.Attribute`"),
                };
                self.attribute(&path)
            }
            "Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.clone(), BTreeMap::new()),
                    Value::Sequence(p) if p.len() == 2 => {
                        let text = p[0].as_str().context("`Fn::Sub` text")?.to_owned();
                        let mut vars = BTreeMap::new();
                        for (k, v) in p[1].as_mapping().context("`Fn::Sub` variables")? {
                            vars.insert(
                                k.as_str().context("a variable name")?.to_owned(),
                                self.resolve_string(v)?,
                            );
                        }
                        (text, vars)
                    }
                    _ => bail!("`Fn::Sub` takes a string or [string, variables]"),
                };
                Ok(Json::String(self.substitute(&text, &vars)?))
            }
            "Join" => {
                let p = arg.as_sequence().context("`Fn::Join` takes [sep, list]")?;
                let sep = p.first().and_then(Value::as_str).unwrap_or_default();
                let list = self.eval(p.get(1).context("`Fn::Join` list")?)?;
                let parts: Vec<String> = list
                    .as_array()
                    .context("`Fn::Join` list")?
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect();
                Ok(Json::String(parts.join(sep)))
            }
            "Select" => {
                let p = arg
                    .as_sequence()
                    .context("`Fn::Select` takes [index, list]")?;
                let index: usize = self.resolve_string(&p[0])?.parse()?;
                let list = self.eval(&p[1])?;
                list.get(index)
                    .cloned()
                    .with_context(|| format!("`Fn::Select` index {index} out of range"))
            }
            "If" => {
                let p = arg
                    .as_sequence()
                    .context("`Fn::If` takes [condition, a, b]")?;
                let cond = p[0].as_str().context("`Fn::If` condition name")?;
                let holds = *self
                    .conditions
                    .get(cond)
                    .with_context(|| format!("no condition {cond}"))?;
                self.eval(&p[if holds { 1 } else { 2 }])
            }
            "Equals" | "Not" | "And" | "Or" | "Condition" => {
                Ok(Json::Bool(self.condition(name, arg)?))
            }
            other => bail!("the stack does not evaluate `Fn::{other}`"),
        }
    }

    /// Evaluates a condition expression.
    pub fn condition(&self, name: &str, arg: &Value) -> Result<bool> {
        let truth = |v: &Value| -> Result<bool> {
            match self.eval(v)? {
                Json::Bool(b) => Ok(b),
                other => bail!("a condition that is not true or false: {other}"),
            }
        };
        match name {
            "Equals" => {
                let p = arg.as_sequence().context("`Fn::Equals` takes two values")?;
                Ok(self.eval(&p[0])? == self.eval(&p[1])?)
            }
            "Not" => {
                let p = arg.as_sequence().context("`Fn::Not` takes [condition]")?;
                Ok(!truth(&p[0])?)
            }
            "And" => arg
                .as_sequence()
                .context("`Fn::And` takes a list")?
                .iter()
                .try_fold(true, |acc, v| Ok(acc && truth(v)?)),
            "Or" => arg
                .as_sequence()
                .context("`Fn::Or` takes a list")?
                .iter()
                .try_fold(false, |acc, v| Ok(acc || truth(v)?)),
            "Condition" => {
                let c = arg.as_str().context("`Condition` takes a name")?;
                self.conditions
                    .get(c)
                    .copied()
                    .with_context(|| format!("no condition {c}"))
            }
            other => bail!("`{other}` is not a condition function"),
        }
    }

    /// Evaluates a top-level condition (a fragment such as `!Not [...]`).
    pub fn evaluate_condition(&self, v: &Value) -> Result<bool> {
        match self.eval(v)? {
            Json::Bool(b) => Ok(b),
            other => bail!("a condition that is not true or false: {other}"),
        }
    }

    fn substitute(&self, text: &str, vars: &BTreeMap<String, String>) -> Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .with_context(|| format!("an unclosed `${{` in `{text}`"))?;
            let name = after[..end].trim();
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(v);
            } else {
                let value = if name.contains('.') && !name.starts_with("AWS::") {
                    self.attribute(name)?
                } else {
                    self.reference(name)?
                };
                match value {
                    Json::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// The function a long-form key names (`Ref`, `Fn::Sub` → `Sub`, `Condition`).
fn function_name(key: &str) -> Option<&str> {
    match key {
        "Ref" | "Condition" => Some(key),
        _ => key.strip_prefix("Fn::"),
    }
}

/// SAM's merge of `Globals.Function` under a function's own properties: maps merge
/// (the function wins), `Environment.Variables` merge by name, anything else is the
/// function's own when it has one.
pub fn merge_globals(globals: &Value, own: &Value) -> Value {
    match (globals, own) {
        (Value::Mapping(g), Value::Mapping(o)) => {
            let mut merged = g.clone();
            for (k, v) in o {
                let value = match merged.get(k) {
                    Some(gv @ Value::Mapping(_)) if v.is_mapping() => merge_globals(gv, v),
                    _ => v.clone(),
                };
                merged.insert(k.clone(), value);
            }
            Value::Mapping(merged)
        }
        (_, Value::Null) => globals.clone(),
        (_, own) => own.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let mut c = Context {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            stack_name: "tempaccess".into(),
            ..Context::default()
        };
        c.parameters
            .insert("MailFrom".into(), "a@example.com".into());
        c.parameters.insert("AlarmEmail".into(), String::new());
        c.refs
            .insert("Table".into(), Json::String("tempaccess-Table-X".into()));
        c.attributes.insert(
            "Site.DomainName".into(),
            Json::String("d1.cloudfront.net".into()),
        );
        c
    }

    fn eval(yaml: &str) -> Json {
        ctx().resolve(&serde_yaml::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn short_and_long_forms_resolve() {
        assert_eq!(eval("!Ref Table"), "tempaccess-Table-X");
        assert_eq!(eval("{Ref: MailFrom}"), "a@example.com");
        assert_eq!(eval("!GetAtt Site.DomainName"), "d1.cloudfront.net");
        assert_eq!(
            eval("{'Fn::GetAtt': [Site, DomainName]}"),
            "d1.cloudfront.net"
        );
        assert_eq!(
            eval(r#"!Sub "https://${Site.DomainName}/x/${AWS::Region}/${Table}/${!Literal}""#),
            "https://d1.cloudfront.net/x/us-east-1/tempaccess-Table-X/${Literal}"
        );
        assert_eq!(
            eval(r#"!Sub ["${A}-${AWS::StackName}", {A: !Ref Table}]"#),
            "tempaccess-Table-X-tempaccess"
        );
        assert_eq!(
            eval(r#"!Join ["-", [a, !Ref Table]]"#),
            "a-tempaccess-Table-X"
        );
        assert_eq!(
            eval("[a, !Ref AWS::NoValue, b]"),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(eval("!Not [!Equals [!Ref AlarmEmail, '']]"), false);
    }

    #[test]
    fn unknown_references_fail_by_name() {
        let err = ctx()
            .resolve(&serde_yaml::from_str("!Ref Nope").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("Nope"), "{err}");
        let err = ctx()
            .resolve(&serde_yaml::from_str("!Sub '${Site.Arn}'").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("Site.Arn"), "{err}");
    }

    #[test]
    fn resources_are_created_after_what_they_refer_to() {
        let t = Template::parse(
            r#"
Globals:
  Function:
    Environment: { Variables: { T: !Ref Table } }
Resources:
  Fn: { Type: AWS::Serverless::Function, Properties: { X: !GetAtt Queue.Arn } }
  Queue: { Type: AWS::SQS::Queue, DependsOn: Table }
  Table: { Type: AWS::DynamoDB::Table }
"#,
        )
        .unwrap();
        let order = t.creation_order().unwrap();
        let at = |n: &str| order.iter().position(|o| o == n).unwrap();
        assert!(
            at("Table") < at("Queue") && at("Queue") < at("Fn"),
            "{order:?}"
        );
        let cyclic = Template::parse(
            "Resources:\n  A: {Type: X, Properties: {P: !Ref B}}\n  B: {Type: X, Properties: {P: !Ref A}}\n",
        )
        .unwrap();
        assert!(cyclic.creation_order().is_err());
    }

    #[test]
    fn globals_merge_under_the_function() {
        let g: Value = serde_yaml::from_str(
            "{MemorySize: 256, Timeout: 10, Environment: {Variables: {A: '1', B: '2'}}}",
        )
        .unwrap();
        let own: Value =
            serde_yaml::from_str("{Timeout: 60, Environment: {Variables: {B: '3'}}}").unwrap();
        let m = merge_globals(&g, &own);
        assert_eq!(m["MemorySize"], 256);
        assert_eq!(m["Timeout"], 60);
        assert_eq!(m["Environment"]["Variables"]["A"], "1");
        assert_eq!(m["Environment"]["Variables"]["B"], "3");
    }
}
