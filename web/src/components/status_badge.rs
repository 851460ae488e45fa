//! A request's status as a badge.

use tempaccess_core::request::Status;
use yew::prelude::*;

use crate::labels;

#[derive(Properties, PartialEq)]
pub struct StatusBadgeProps {
    /// The request's status.
    pub status: Status,
}

/// The status in words, coloured by kind (never by colour alone: the word is there).
#[component]
pub fn StatusBadge(props: &StatusBadgeProps) -> Html {
    html! {
        <span class={classes!("badge", format!("status-{}", props.status.as_str()))}>
            { labels::status(props.status) }
        </span>
    }
}
