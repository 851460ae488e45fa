//! Queries: a partition of the table or of an index, a sort key range, an optional
//! filter, read page by page.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{Item, s};
use super::table::{Index, PK, SK};

/// The names and values an expression refers to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// The placeholder of an attribute name (every name goes through one: many
    /// plain words, `ttl` among them, are reserved).
    pub fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    /// The placeholder of a value.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Which sort keys a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Range {
    /// The whole partition.
    All,
    /// Sort keys before this one.
    Before(String),
    /// Sort keys at or after this one.
    From(String),
    /// Sort keys at or after `from` and before `before`.
    Between { from: String, before: String },
    /// Sort keys beginning with this.
    Prefix(String),
}

impl Range {
    /// From `from` (inclusive) to `before` (exclusive), either open; `None` when
    /// nothing can lie between them.
    pub fn bounded(from: Option<String>, before: Option<String>) -> Option<Self> {
        Some(match (from, before) {
            (Some(from), Some(before)) if from >= before => return None,
            (Some(from), Some(before)) => Self::Between { from, before },
            (Some(from), None) => Self::From(from),
            (None, Some(before)) => Self::Before(before),
            (None, None) => Self::All,
        })
    }
}

/// One Query, before paging.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub index: Option<Index>,
    pub partition: String,
    pub range: Range,
    /// Highest sort key first.
    pub descending: bool,
    pub filter: Option<String>,
    /// The filter's names and values (the key condition adds its own).
    pub expr: Expr,
}

impl Query {
    /// A partition of the table (`None`) or of an index, lowest sort key first.
    pub fn on(index: Option<Index>, partition: impl Into<String>) -> Self {
        Self {
            index,
            partition: partition.into(),
            range: Range::All,
            descending: false,
            filter: None,
            expr: Expr::default(),
        }
    }

    pub fn range(self, range: Range) -> Self {
        Self { range, ..self }
    }

    pub fn descending(self) -> Self {
        Self {
            descending: true,
            ..self
        }
    }

    /// Adds a filter; `build` writes the expression with the query's placeholders.
    pub fn filter(mut self, build: impl FnOnce(&mut Expr) -> Option<String>) -> Self {
        self.filter = build(&mut self.expr);
        self
    }

    fn key_attributes(&self) -> (&'static str, &'static str) {
        self.index
            .map_or((PK, SK), |i| (i.partition_key, i.sort_key))
    }

    /// The key condition, with its names and values added to a copy of the filter's.
    pub fn key_condition(&self) -> (String, Expr) {
        let mut expr = self.expr.clone();
        let (pk, sk) = self.key_attributes();
        let pk_name = expr.name(pk);
        let partition = expr.value(s(self.partition.clone()));
        let sort = match &self.range {
            Range::All => None,
            Range::Before(before) => Some(format!(
                "{} < {}",
                expr.name(sk),
                expr.value(s(before.clone()))
            )),
            Range::From(from) => Some(format!(
                "{} >= {}",
                expr.name(sk),
                expr.value(s(from.clone()))
            )),
            // BETWEEN includes its upper end: the page drops an item sitting on it.
            Range::Between { from, before } => Some(format!(
                "{} BETWEEN {} AND {}",
                expr.name(sk),
                expr.value(s(from.clone())),
                expr.value(s(before.clone()))
            )),
            Range::Prefix(prefix) => Some(format!(
                "begins_with({}, {})",
                expr.name(sk),
                expr.value(s(prefix.clone()))
            )),
        };
        let condition = match sort {
            Some(sort) => format!("{pk_name} = {partition} AND {sort}"),
            None => format!("{pk_name} = {partition}"),
        };
        (condition, expr)
    }

    /// Whether an item the key condition returned lies outside the range (the upper
    /// end of a `Between`).
    pub fn excludes(&self, item: &Item) -> bool {
        match &self.range {
            Range::Between { before, .. } => {
                let (_, sk) = self.key_attributes();
                matches!(item.get(sk), Some(AttributeValue::S(k)) if k == before)
            }
            _ => false,
        }
    }
}
