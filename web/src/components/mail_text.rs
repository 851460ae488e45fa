//! A mail's text with its links made clickable.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MailTextProps {
    /// The text part of a mail.
    pub text: AttrValue,
}

/// Splits text into plain parts and `http(s)://` links.
pub fn linkify(text: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .map_or(rest.len(), |e| at + e);
        if at > 0 {
            parts.push((false, &rest[..at]));
        }
        parts.push((true, &rest[at..end]));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        parts.push((false, rest));
    }
    parts
}

/// The text in a `<pre>`, with links.
#[component]
pub fn MailText(props: &MailTextProps) -> Html {
    html! {
        <pre class="mail-text">
            { for linkify(&props.text).into_iter().map(|(link, part)| if link {
                html! { <a href={part.to_owned()}>{ part }</a> }
            } else {
                html! { part }
            }) }
        </pre>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_in_text() {
        assert_eq!(
            linkify("Decide: http://x/decide#token=ab-1\nThanks"),
            vec![
                (false, "Decide: "),
                (true, "http://x/decide#token=ab-1"),
                (false, "\nThanks")
            ]
        );
        assert_eq!(linkify("none"), vec![(false, "none")]);
    }
}
