//! The messages the product sends. Every user string is escaped in the HTML part.

use std::fmt::Write as _;

use crate::Timestamp;
use crate::entry::describe_seconds;
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

fn time(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// How long or when, for people.
pub fn describe_requested(requested: &Requested) -> String {
    match requested {
        Requested::Duration(d) => format!("{} from approval", describe_seconds(d.seconds())),
        Requested::Window(w) => format!("from {} to {}", time(w.start()), time(w.end())),
    }
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
            intro: intro.into(),
            rows: Vec::new(),
            link: None,
            quotes: Vec::new(),
            outro: None,
        }
    }

    fn row(mut self, label: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
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

    fn into_mail(self, to: &crate::ids::Email, subject: String) -> Mail {
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
            for line in value.lines() {
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
            subject,
            text,
            html,
        }
    }
}

/// What the approver reads of an entry whose password is not rotated.
pub const NOT_ROTATED: &str = "This entry's password is not rotated when access ends: \
     a password seen during the grant keeps working after it.";

/// Asks the approver to decide. The link is [`LINK_MARK`] until [`with_link`] puts
/// the real one in at delivery. `unrotated`: the grant could reveal a password that
/// is not rotated after it, and the approver is told so plainly.
pub fn decision_requested(r: &AccessRequest, rights: &str, unrotated: bool) -> Mail {
    Body::new(format!(
        "{} asks for temporary access to {}.",
        r.requester, r.entry_name
    ))
    .row("Entry", &r.entry_name)
    .row("Requested by", r.requester.as_str())
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
        format!("Access request: {} for {}", r.requester, r.entry_name),
    )
}

/// The decision mail with its link in place of [`LINK_MARK`].
pub fn with_link(mut mail: Mail, link: &str) -> Mail {
    mail.text = mail.text.replace(LINK_MARK, link);
    mail.html = mail.html.replace(LINK_MARK, &escape_html(link));
    mail
}

/// Tells the requester their request was approved.
pub fn approved(r: &AccessRequest, rights: &str) -> Mail {
    let grant = r.grant.as_ref();
    Body::new(format!(
        "{} approved your request for {}.",
        r.decided_by.as_ref().map_or("The approver", |e| e.as_str()),
        r.entry_name
    ))
    .row("Rights", rights)
    .row(
        "Starts",
        grant.map(|g| time(g.starts_at)).unwrap_or_default(),
    )
    .row("Ends", grant.map(|g| time(g.ends_at)).unwrap_or_default())
    .quote(
        "Message from the approver",
        r.decision_comment
            .as_ref()
            .map(|c| c.as_str())
            .unwrap_or(""),
    )
    .into_mail(
        &r.requester,
        format!("Approved: access to {}", r.entry_name),
    )
}

/// Tells the requester their request was denied, with the approver's message.
pub fn denied(r: &AccessRequest) -> Mail {
    Body::new(format!(
        "{} denied your request for {}.",
        r.decided_by.as_ref().map_or("The approver", |e| e.as_str()),
        r.entry_name
    ))
    .row("Requested", describe_requested(&r.requested))
    .quote(
        "Message from the approver",
        r.decision_comment
            .as_ref()
            .map(|c| c.as_str())
            .unwrap_or(""),
    )
    .into_mail(&r.requester, format!("Denied: access to {}", r.entry_name))
}

/// Tells the approver a pending request was withdrawn (by its requester, or by an
/// admin): the link is dead.
pub fn cancelled(r: &AccessRequest) -> Mail {
    let intro = match &r.cancelled_by {
        Some(by) if by != &r.requester => format!(
            "{by}, an administrator, cancelled {}'s request for {}. There is nothing to decide.",
            r.requester, r.entry_name
        ),
        _ => format!(
            "{} cancelled their request for {}. There is nothing to decide.",
            r.requester, r.entry_name
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

/// Tells someone a grant was ended early.
pub fn revoked(r: &AccessRequest, to: &crate::ids::Email) -> Mail {
    Body::new(format!(
        "Access of {} to {} was ended early by {}.",
        r.requester,
        r.entry_name,
        r.revoked_by
            .as_ref()
            .map_or("an administrator", |e| e.as_str())
    ))
    .row("Ended", r.revoked_at.map(time).unwrap_or_default())
    .quote(
        "Reason",
        r.revoke_reason.as_ref().map(|c| c.as_str()).unwrap_or(""),
    )
    .into_mail(to, format!("Access ended early: {}", r.entry_name))
}

/// Tells the requester their grant reached its end.
pub fn ended(r: &AccessRequest) -> Mail {
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
    .outro("Request access again from the site if you still need it.")
    .into_mail(&r.requester, format!("Access ended: {}", r.entry_name))
}

/// Tells the requester nobody decided in time.
pub fn expired(r: &AccessRequest) -> Mail {
    Body::new(format!(
        "Your request for {} expired: {} did not decide by {}.",
        r.entry_name,
        r.approver,
        time(r.expires_at)
    ))
    .outro("Send a new request if you still need access.")
    .into_mail(
        &r.requester,
        format!("Expired: request for {}", r.entry_name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
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
            decision_requested(&asked_with(forged), "View password/Execute rights", false),
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
        let mail = decision_requested(&asked_with("x"), "View password/Execute rights", true);
        assert!(mail.text.contains(NOT_ROTATED));
        let mail = decision_requested(&asked_with("x"), "View password/Execute rights", false);
        assert!(!mail.text.contains(NOT_ROTATED));
    }
}
