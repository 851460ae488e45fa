//! An instant, shown in the browser's time zone with the zone named.

use chrono::{DateTime, Utc};
use yew::prelude::*;

use crate::time::{self, BrowserZone};

#[derive(Properties, PartialEq)]
pub struct TimeTextProps {
    /// The instant.
    pub at: DateTime<Utc>,
}

/// `<time>` with the local time as text and UTC in its `datetime` and tooltip.
#[component]
pub fn TimeText(props: &TimeTextProps) -> Html {
    let utc = time::rfc3339(props.at);
    html! {
        <time datetime={utc.clone()} title={format!("{utc} (UTC)")}>
            { time::format(props.at, &BrowserZone) }
        </time>
    }
}
