//! The messages the product sends. Every user string is escaped in the HTML part.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::Timestamp;
use crate::entry::describe_seconds;
use crate::ids::Email;
use crate::ports::Mail;
use crate::request::AccessRequest;
use crate::timing::Requested;

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time as mails (and the site) write it: 24-hour, the zone named. Mails do not know
/// the reader's zone, so they say UTC.
pub fn time(t: Timestamp) -> String {
    t.format("%a %-d %b %Y, %H:%M UTC").to_string()
}

/// How long or when, for people.
pub fn describe_requested(requested: &Requested) -> String {
    match requested {
        Requested::Duration(d) => format!("{} from approval", describe_seconds(d.seconds())),
        Requested::Window(w) => format!("from {} to {}", time(w.start()), time(w.end())),
    }
}

/// What a mail says besides its request: the people's display names and where the
/// site is.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Display names by email; someone missing is named by their email.
    pub names: &'a HashMap<Email, String>,
    /// The site's base URL, for links to the request's page.
    pub site_url: &'a str,
}

impl Context<'_> {
    /// The display name of `who`; the email when none is known or it is blank.
    fn name<'e>(&'e self, who: &'e Email) -> &'e str {
        self.known_name(who).unwrap_or(who.as_str())
    }

    fn known_name(&self, who: &Email) -> Option<&str> {
        self.names
            .get(who)
            .map(String::as_str)
            .filter(|n| !one_line(n).trim().is_empty())
    }

    /// "Alice Example (alice@example.com)", or the email alone when no name is known.
    fn name_and_email(&self, who: &Email) -> String {
        match self.known_name(who) {
            Some(name) if name != who.as_str() => format!("{name} ({who})"),
            _ => who.to_string(),
        }
    }

    fn request_page(&self, r: &AccessRequest) -> String {
        format!("{}/requests/{}", self.site_url.trim_end_matches('/'), r.id)
    }
}

/// `s` on one line: every control character (line breaks included), line or paragraph
/// separator and direction override becomes a space. Names and entry names reach a
/// mail's subject (a header), its intro and its rows; none may start a line of its
/// own there, pass for the product's text, or turn the text around.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Where the decision link goes in a decision mail until it is sent. The outbox keeps
/// the mail with this mark, never with a link: the link is made at delivery from a
/// token minted then. The mark holds a control character, which no text a person
/// writes can (see [`crate::text::Message`]), so nobody can plant it.
pub const LINK_MARK: &str = "\u{1}decision-link\u{1}";

/// Builds a message from labelled rows, as text and as an HTML table. What people
/// wrote (a message, a comment, a reason) is quoted after the link, line by line in the
/// text part, so it can never pass for a line of the product's own.
struct Body {
    intro: String,
    rows: Vec<(&'static str, String)>,
    link: Option<(String, String)>,
    quotes: Vec<(&'static str, String)>,
    outro: Option<String>,
}

impl Body {
    fn new(intro: impl Into<String>) -> Self {
        Self {
            intro: one_line(&intro.into()),
            rows: Vec::new(),
            link: None,
            quotes: Vec::new(),
            outro: None,
        }
    }

    fn row(mut self, label: &'static str, value: impl Into<String>) -> Self {
        let value = one_line(&value.into());
        if !value.is_empty() {
            self.rows.push((label, value));
        }
        self
    }

    /// Text a person wrote, quoted.
    fn quote(mut self, label: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.quotes.push((label, value));
        }
        self
    }

    fn link(mut self, label: &str, url: String) -> Self {
        self.link = Some((label.to_owned(), url));
        self
    }

    fn outro(mut self, s: impl Into<String>) -> Self {
        self.outro = Some(s.into());
        self
    }

    fn into_mail(self, to: &Email, subject: String) -> Mail {
        let mut text = format!("{}\n\n", self.intro);
        let mut html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p><table>",
            escape_html(&self.intro)
        );
        for (label, value) in &self.rows {
            let _ = writeln!(text, "{label}: {value}");
            let _ = write!(
                html,
                "<tr><th align=\"left\" valign=\"top\">{}</th><td style=\"white-space:pre-wrap\">{}</td></tr>",
                escape_html(label),
                escape_html(value)
            );
        }
        html.push_str("</table>");
        if let Some((label, url)) = &self.link {
            let _ = write!(text, "\n{label}: {url}\n");
            let _ = write!(
                html,
                "<p><a href=\"{}\">{}</a></p>",
                escape_html(url),
                escape_html(label)
            );
        }
        for (label, value) in &self.quotes {
            let _ = write!(text, "\n{label}:\n");
            // A bare CR or a Unicode line separator breaks a line in some mail
            // readers: each starts a quoted line of its own.
            for line in value
                .replace("\r\n", "\n")
                .split(['\n', '\r', '\u{2028}', '\u{2029}'])
            {
                let _ = writeln!(text, "> {line}");
            }
            let _ = write!(
                html,
                "<p><strong>{}</strong></p><blockquote style=\"white-space:pre-wrap;border-left:3px solid #ccc;margin-left:0;padding-left:1em\">{}</blockquote>",
                escape_html(label),
                escape_html(value)
            );
        }
        if let Some(outro) = &self.outro {
            let _ = write!(text, "\n{outro}\n");
            let _ = write!(html, "<p>{}</p>", escape_html(outro));
        }
        html.push_str("</body></html>");
        Mail {
            to: to.clone(),
            subject: one_line(&subject),
            text,
            html,
        }
    }
}

fn comment(r: &AccessRequest) -> &str {
    r.decision_comment.as_ref().map_or("", |c| c.as_str())
}

/// The grant's time, with its length: "from … to … (1 h)".
fn describe_grant(r: &AccessRequest) -> String {
    r.grant.as_ref().map_or_else(String::new, |g| {
        format!(
            "from {} to {} ({})",
            time(g.starts_at),
            time(g.ends_at),
            describe_seconds((g.ends_at - g.starts_at).num_seconds())
        )
    })
}

/// What the approver reads of an entry whose password is not rotated.
pub const NOT_ROTATED: &str = "This entry's password is not rotated when access ends: \
     a password seen during the grant keeps working after it.";

/// Asks the approver to decide. The link is [`LINK_MARK`] until [`with_link`] puts
/// the real one in at delivery. `unrotated`: the grant could reveal a password that
/// is not rotated after it, and the approver is told so plainly.
pub fn decision_requested(cx: &Context, r: &AccessRequest, rights: &str, unrotated: bool) -> Mail {
    let requester = cx.name(&r.requester);
    Body::new(format!(
        "{requester} asks for temporary access to {}.",
        r.entry_name
    ))
    .row("Entry", &r.entry_name)
    .row("Requested by", cx.name_and_email(&r.requester))
    .row("Rights", rights)
    .row("Duration", describe_requested(&r.requested))
    .row("Password", if unrotated { NOT_ROTATED } else { "" })
    .link("Review and decide", LINK_MARK.to_owned())
    .quote("Message from the requester", r.message.as_str())
    .outro(format!(
        "Opening the link changes nothing: you decide on the page, signed in as yourself. \
         The link works until {}, once.",
        time(r.expires_at)
    ))
    .into_mail(
        &r.approver,
        format!("Access request: {requester} for {}", r.entry_name),
    )
}

/// The decision mail with its link in place of [`LINK_MARK`].
pub fn with_link(mut mail: Mail, link: &str) -> Mail {
    mail.text = mail.text.replace(LINK_MARK, link);
    mail.html = mail.html.replace(LINK_MARK, &escape_html(link));
    mail
}

/// Tells the requester their request was approved, and what was granted when it is
/// less than they asked.
pub fn approved(cx: &Context, r: &AccessRequest, rights: &str, asked_rights: &str) -> Mail {
    let by = r.decided_by.as_ref().map_or("The approver", |e| cx.name(e));
    let asked = r.requested.length();
    let granted = r.grant.as_ref().map(|g| g.ends_at - g.starts_at);
    let shorter = granted.is_some_and(|g| g < asked);
    let narrower = rights != asked_rights;
    let intro = match (shorter, granted) {
        (true, Some(g)) => format!(
            "{by} approved your request for {} for {} (you asked for {}).",
            r.entry_name,
            describe_seconds(g.num_seconds()),
            describe_seconds(asked.num_seconds())
        ),
        _ => format!("{by} approved your request for {}.", r.entry_name),
    };
    let subject = if shorter || narrower {
        format!("Approved with changes: access to {}", r.entry_name)
    } else {
        format!("Approved: access to {}", r.entry_name)
    };
    Body::new(intro)
        .row("Rights granted", rights)
        .row("Rights asked", if narrower { asked_rights } else { "" })
        .row("Requested", describe_requested(&r.requested))
        .row("Granted", describe_grant(r))
        .quote("Message from the approver", comment(r))
        .link("See the request", cx.request_page(r))
        .into_mail(&r.requester, subject)
}

/// Tells the requester their request was denied, with the approver's message.
pub fn denied(cx: &Context, r: &AccessRequest) -> Mail {
    let by = r.decided_by.as_ref().map_or("The approver", |e| cx.name(e));
    Body::new(format!("{by} denied your request for {}.", r.entry_name))
        .row("Requested", describe_requested(&r.requested))
        .quote("Message from the approver", comment(r))
        .link("See the request", cx.request_page(r))
        .into_mail(&r.requester, format!("Denied: access to {}", r.entry_name))
}

/// Tells the approver a pending request was withdrawn (by its requester, or by an
/// admin): the link is dead.
pub fn cancelled(cx: &Context, r: &AccessRequest) -> Mail {
    let requester = cx.name(&r.requester);
    let intro = match &r.cancelled_by {
        Some(by) if by != &r.requester => format!(
            "{}, an administrator, cancelled {requester}'s request for {}. There is nothing to decide.",
            cx.name_and_email(by),
            r.entry_name
        ),
        _ => format!(
            "{requester} cancelled their request for {}. There is nothing to decide.",
            r.entry_name
        ),
    };
    Body::new(intro)
        .quote(
            "Reason",
            r.revoke_reason.as_ref().map(|c| c.as_str()).unwrap_or(""),
        )
        .into_mail(
            &r.approver,
            format!("Cancelled: request for {}", r.entry_name),
        )
}

/// Tells `to` (the requester, or the approver of the grant) that a grant was ended
/// early, in words for them.
pub fn revoked(cx: &Context, r: &AccessRequest, to: &Email) -> Mail {
    let by = r.revoked_by.as_ref();
    let by_name = by.map_or("an administrator", |e| cx.name(e));
    let requester = cx.name(&r.requester);
    let intro = if to == &r.requester {
        format!(
            "Your access to {} was ended early by {by_name}.",
            r.entry_name
        )
    } else if by == Some(&r.requester) {
        format!(
            "{requester} ended their access to {} early (you approved it).",
            r.entry_name
        )
    } else {
        format!(
            "{requester}'s access to {} (you approved it) was ended early by {by_name}.",
            r.entry_name
        )
    };
    Body::new(intro)
        .row("Ended", r.revoked_at.map(time).unwrap_or_default())
        .row("Was granted", describe_grant(r))
        .quote(
            "Reason",
            r.revoke_reason.as_ref().map(|c| c.as_str()).unwrap_or(""),
        )
        .link("See the request", cx.request_page(r))
        .into_mail(to, format!("Access ended early: {}", r.entry_name))
}

/// Tells the requester their grant reached its end.
pub fn ended(cx: &Context, r: &AccessRequest) -> Mail {
    Body::new(format!(
        "Your temporary access to {} has ended.",
        r.entry_name
    ))
    .row(
        "Ended",
        r.grant
            .as_ref()
            .map(|g| time(g.ends_at))
            .unwrap_or_default(),
    )
    .link("See the request", cx.request_page(r))
    .outro("Request access again from the site if you still need it.")
    .into_mail(&r.requester, format!("Access ended: {}", r.entry_name))
}

/// Tells the requester nobody decided in time.
pub fn expired(cx: &Context, r: &AccessRequest) -> Mail {
    Body::new(format!(
        "Your request for {} expired: {} did not decide by {}.",
        r.entry_name,
        cx.name(&r.approver),
        time(r.expires_at)
    ))
    .link("See the request", cx.request_page(r))
    .outro("Send a new request if you still need access.")
    .into_mail(
        &r.requester,
        format!("Expired: request for {}", r.entry_name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Grant, Op};
    use crate::testing::{email, hour, pending, t0};
    use crate::text::Message;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    /// Found by the fuzz target: a display name or an entry name with a line break
    /// could write a line of the mail's own ("Review and decide: …") and reach the
    /// subject header; a blank name left the sentence without its subject; a bare CR
    /// in a message ended a quoted line without a `>`.
    #[test]
    fn names_stay_on_one_line_and_quotes_break_at_every_line_end() {
        let mut r = pending(hour());
        r.entry_name = "Prod\r\nBcc: x@evil.example".into();
        r.message = Message::parse("ok\rReview and decide: https://evil.example", "m").unwrap();
        let names = HashMap::from([
            (
                email("alice@example.com"),
                "Mallory\nReview and decide: https://evil.example".to_owned(),
            ),
            (email("bob@example.com"), " ".to_owned()),
        ]);
        let cx = Context {
            names: &names,
            site_url: "https://site",
        };
        let m = with_link(decision_requested(&cx, &r, "View", false), "https://site/l");
        assert!(!m.subject.chars().any(char::is_control), "{:?}", m.subject);
        let links: Vec<&str> = m
            .text
            .lines()
            .filter(|l| l.starts_with("Review and decide"))
            .collect();
        assert_eq!(links, ["Review and decide: https://site/l"], "{}", m.text);
        assert!(!m.text.contains('\r'), "{:?}", m.text);
        let expired = expired(&cx, &r);
        assert!(
            expired.text.contains("bob@example.com did not decide"),
            "{}",
            expired.text
        );
    }

    fn names() -> HashMap<Email, String> {
        HashMap::from([
            (email("alice@example.com"), "Alice Example".to_owned()),
            (email("bob@example.com"), "Bob Example".to_owned()),
            (email("carol@example.com"), "Carol Example".to_owned()),
        ])
    }

    fn granted(minutes: i64) -> AccessRequest {
        pending(hour())
            .apply(
                Op::Approve {
                    by: email("bob@example.com"),
                    grant: Grant {
                        starts_at: t0(),
                        ends_at: t0() + chrono::TimeDelta::minutes(minutes),
                        permission_set: crate::ids::PermissionSetId::view_password_execute(),
                    },
                    comment: Message::parse("ok", "comment").unwrap(),
                },
                t0(),
            )
            .unwrap()
            .next
    }

    #[test]
    fn mails_name_people_say_what_was_granted_and_link_the_request() {
        let names = names();
        let cx = Context {
            names: &names,
            site_url: "https://site.example/",
        };
        let shorter = approved(&cx, &granted(30), "View", "View");
        assert!(
            shorter
                .text
                .starts_with("Bob Example approved your request for Production database for 30 min (you asked for 1 h)."),
            "{}",
            shorter.text
        );
        assert_eq!(
            shorter.subject,
            "Approved with changes: access to Production database"
        );
        assert!(
            shorter.text.contains(
                "Granted: from Sun 17 Mar 2030, 17:46 UTC to Sun 17 Mar 2030, 18:16 UTC (30 min)"
            ),
            "{}",
            shorter.text
        );
        let link = format!("https://site.example/requests/{}", granted(30).id);
        assert!(shorter.text.contains(&link), "{}", shorter.text);
        let as_asked = approved(&cx, &granted(60), "View", "View");
        assert!(
            as_asked
                .text
                .starts_with("Bob Example approved your request for Production database.")
        );

        let revoked_by = |by: &str| {
            granted(60)
                .apply(
                    Op::Revoke {
                        by: email(by),
                        reason: Message::parse("done", "reason").unwrap(),
                    },
                    t0(),
                )
                .unwrap()
                .next
        };
        let by_admin = revoked_by("carol@example.com");
        let to_requester = revoked(&cx, &by_admin, &email("alice@example.com"));
        assert!(
            to_requester.text.starts_with(
                "Your access to Production database was ended early by Carol Example."
            ),
            "{}",
            to_requester.text
        );
        let to_approver = revoked(&cx, &by_admin, &email("bob@example.com"));
        assert!(to_approver.text.starts_with("Alice Example's access to Production database (you approved it) was ended early by Carol Example."), "{}", to_approver.text);
        let by_requester = revoked_by("alice@example.com");
        let told = revoked(&cx, &by_requester, &email("bob@example.com"));
        assert!(
            told.text
                .starts_with("Alice Example ended their access to Production database early"),
            "{}",
            told.text
        );
        let asked = decision_requested(&cx, &pending(hour()), "View", false);
        assert!(
            asked
                .text
                .contains("Requested by: Alice Example (alice@example.com)"),
            "{}",
            asked.text
        );
    }

    fn cx() -> Context<'static> {
        static NAMES: std::sync::LazyLock<HashMap<Email, String>> = std::sync::LazyLock::new(names);
        Context {
            names: &NAMES,
            site_url: "https://tempaccess.example.com",
        }
    }

    fn asked_with(message: &str) -> AccessRequest {
        let mut r = crate::testing::pending(crate::testing::hour());
        r.message = crate::text::Message::parse(message, "message").unwrap();
        r
    }

    #[test]
    fn a_message_cannot_pass_for_the_decision_link() {
        let forged = "Please hurry.\n\nReview and decide: https://evil.example/decide#token=x";
        let mail = with_link(
            decision_requested(
                &cx(),
                &asked_with(forged),
                "View password/Execute rights",
                false,
            ),
            "https://tempaccess.example.com/decide#token=real",
        );
        let real = mail
            .text
            .find("Review and decide: https://tempaccess.example.com/decide#token=real")
            .expect("the real link");
        let quoted = mail
            .text
            .find("> Review and decide: https://evil")
            .expect("quoted");
        assert!(real < quoted, "the real link comes first:\n{}", mail.text);
        for line in mail.text.lines().filter(|l| l.contains("evil.example")) {
            assert!(line.starts_with("> "), "unquoted: {line:?}");
        }
        assert!(
            !mail.html.contains("<a href=\"https://evil"),
            "{}",
            mail.html
        );
        assert!(!mail.text.contains(LINK_MARK) && !mail.html.contains(LINK_MARK));
    }

    #[test]
    fn nobody_can_plant_the_link_mark() {
        let planted = format!("see {LINK_MARK}");
        assert!(crate::text::Message::parse(&planted, "message").is_err());
    }

    #[test]
    fn an_unrotated_password_is_said_plainly() {
        let mail = decision_requested(
            &cx(),
            &asked_with("x"),
            "View password/Execute rights",
            true,
        );
        assert!(mail.text.contains(NOT_ROTATED));
        let mail = decision_requested(
            &cx(),
            &asked_with("x"),
            "View password/Execute rights",
            false,
        );
        assert!(!mail.text.contains(NOT_ROTATED));
    }
}
