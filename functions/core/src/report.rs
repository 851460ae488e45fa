//! The Temporary Access Requests Report as CSV, shared by the API and the CLI.

use crate::Timestamp;
use crate::entry::describe_seconds;
use crate::request::AccessRequest;
use crate::timing::Requested;

/// The report's columns, in order.
pub const COLUMNS: [&str; 12] = [
    "status",
    "requested_by",
    "entry",
    "rights",
    "requested_on",
    "requested_start",
    "requested_end",
    "requested_duration",
    "authorized_duration",
    "approver",
    "request_message",
    "authorization_message",
];

/// One CSV cell: quoted when needed, and defused when a spreadsheet would read it
/// as a formula.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn time(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The report's row for one request, read at `now`.
pub fn row(r: &AccessRequest, now: Timestamp) -> [String; 12] {
    let (start, end) = match r.requested {
        Requested::Window(w) => (Some(w.start()), Some(w.end())),
        Requested::Duration(_) => (None, None),
    };
    let authorized = r
        .grant
        .as_ref()
        .map(|g| describe_seconds((g.ends_at - g.starts_at).num_seconds()))
        .unwrap_or_default();
    [
        r.status(now).as_str().to_owned(),
        r.requester.to_string(),
        r.entry_name.clone(),
        r.granted_permission_set()
            .unwrap_or(&r.permission_set)
            .to_string(),
        time(Some(r.created_at)),
        time(start),
        time(end),
        describe_seconds(r.requested.length().num_seconds()),
        authorized,
        r.approver.to_string(),
        r.message.as_str().to_owned(),
        r.decision_comment
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
    ]
}

/// The whole report as CSV with a header line.
pub fn csv(items: &[AccessRequest], now: Timestamp) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for r in items {
        let cells: Vec<String> = row(r, now).iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }
}
