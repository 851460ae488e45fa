//! A request's status as a badge.

use yew::prelude::*;

use crate::labels;

#[derive(Properties, PartialEq)]
pub struct StatusBadgeProps {
    /// The API's status word.
    pub status: AttrValue,
}

/// The status in words, coloured by kind (never by colour alone: the word is there).
#[component]
pub fn StatusBadge(props: &StatusBadgeProps) -> Html {
    html! {
        <span class={classes!("badge", format!("status-{}", props.status))}>
            { labels::status(&props.status) }
        </span>
    }
}
