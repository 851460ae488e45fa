//! The report's query string (`GET /v1/requests`): the site writes it, the server
//! reads it, both with serde, from this one type.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;
use crate::ids::{Email, EntryId};
use crate::report::ReportOrder;
use crate::request::Status;
use crate::service::{ReportParams, ReportScope};

/// `GET /v1/requests`: whose requests, which ones, and which page. An empty value is
/// no value; an unknown parameter is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default, deny_unknown_fields)]
pub struct RequestsQuery {
    /// mine (default), approvals or all
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "scope")]
    pub scope: Option<ReportScope>,
    /// Only this status
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "status")]
    pub status: Option<Status>,
    /// Only this entry
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text")]
    pub entry_id: Option<String>,
    /// Only this requester
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text")]
    pub requester: Option<String>,
    /// Only this approver
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text")]
    pub approver: Option<String>,
    /// Created at or after (RFC 3339)
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "time")]
    pub from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339)
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "time")]
    pub to: Option<DateTime<Utc>>,
    /// Sort by when requested: newest (default) or oldest first. The only sort the
    /// server does: it is the order of the store's indexes, so every page is read in
    /// order (other columns sort within the page, on the client).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "order")]
    pub order: Option<ReportOrder>,
    /// Page size, 1 to 500
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "number")]
    pub limit: Option<u32>,
    /// From the previous page
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text")]
    pub cursor: Option<String>,
    /// `true`: also count every request the filters select (`total` in the answer).
    /// The count reads the whole selection once, so ask for it when it is shown, not
    /// on every page or refresh.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "flag")]
    pub count: Option<bool>,
}

impl RequestsQuery {
    /// The checked query; errors name the parameter.
    pub fn parse(self) -> Result<ReportParams, Error> {
        Ok(ReportParams {
            scope: self.scope.unwrap_or_default(),
            status: self.status,
            entry_id: self.entry_id.as_deref().map(EntryId::parse).transpose()?,
            requester: self
                .requester
                .as_deref()
                .map(|s| Email::parse_field(s, "requester"))
                .transpose()?,
            approver: self
                .approver
                .as_deref()
                .map(|s| Email::parse_field(s, "approver"))
                .transpose()?,
            from: self.from,
            to: self.to,
            order: self.order.unwrap_or_default(),
            limit: self.limit,
            cursor: self.cursor,
            count: self.count.unwrap_or(false),
        })
    }
}

/// `GET /v1/access`: the grants active now, and with `upcoming=true` also the grants
/// approved to start later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default, deny_unknown_fields)]
pub struct AccessQuery {
    /// `true`: also list grants that start later (scheduled)
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "flag")]
    pub upcoming: Option<bool>,
}

/// A parameter's value read by `parse`, whose message becomes the error's; an empty
/// value is none.
fn param<'de, D, T>(d: D, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = String::deserialize(d)?;
    if raw.is_empty() {
        return Ok(None);
    }
    parse(&raw).map(Some).map_err(serde::de::Error::custom)
}

fn scope<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ReportScope>, D::Error> {
    param(d, |s| {
        ReportScope::parse(s).ok_or_else(|| "must be mine, approvals or all".to_owned())
    })
}

fn status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Status>, D::Error> {
    param(d, |s| Status::parse(s, "status").map_err(|e| e.to_string()))
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    param(d, |s| Ok(s.to_owned()))
}

fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    param(d, |s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .map_err(|_| "must be an RFC 3339 time".to_owned())
    })
}

fn order<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ReportOrder>, D::Error> {
    param(d, |s| {
        ReportOrder::parse(s).ok_or_else(|| "must be newest or oldest".to_owned())
    })
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    param(d, |s| match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    })
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    param(d, |s| s.parse().map_err(|_| "must be a number".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(query: &str) -> Result<RequestsQuery, String> {
        serde_urlencoded::from_str(query).map_err(|e| e.to_string())
    }

    #[test]
    fn the_site_writes_what_the_server_reads() {
        let q = RequestsQuery {
            scope: Some(ReportScope::All),
            status: Some(Status::Pending),
            requester: Some("alice@example.com".into()),
            from: Some(
                DateTime::parse_from_rfc3339("2030-01-14T23:00:00Z")
                    .unwrap()
                    .to_utc(),
            ),
            order: Some(ReportOrder::Oldest),
            limit: Some(50),
            cursor: Some("c1".into()),
            count: Some(true),
            ..RequestsQuery::default()
        };
        let written = serde_urlencoded::to_string(&q).unwrap();
        assert_eq!(
            written,
            "scope=all&status=pending&requester=alice%40example.com&from=2030-01-14T23%3A00%3A00Z&order=oldest&limit=50&cursor=c1&count=true"
        );
        assert_eq!(read(&written).unwrap(), q);
        assert_eq!(read("").unwrap(), RequestsQuery::default());
        assert_eq!(read("status=&scope=").unwrap(), RequestsQuery::default());
    }

    #[test]
    fn wrong_values_and_unknown_parameters_are_refused() {
        for (query, message) in [
            ("scope=everyone", "must be mine, approvals or all"),
            ("status=late", "status: unknown status \"late\""),
            ("from=yesterday", "must be an RFC 3339 time"),
            ("limit=ten", "must be a number"),
            ("order=random", "must be newest or oldest"),
            ("count=yes", "must be true or false"),
            ("sort=status", "unknown field `sort`"),
        ] {
            let err = read(query).unwrap_err();
            assert!(err.starts_with(message), "{query}: {err}");
        }
        let params = read("requester=Alice%40Example.com")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(params.requester.unwrap().as_str(), "alice@example.com");
        let err = read("entry_id=Prod").unwrap().parse().unwrap_err();
        assert_eq!(err.field(), Some("entry_id"));
    }
}
