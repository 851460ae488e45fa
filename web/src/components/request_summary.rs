//! What was asked, by whom, and what became of it.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{PermissionSetView, RequestView};
use yew::prelude::*;

use crate::components::{StatusBadge, TimeText};
use crate::decision;
use crate::labels;
use crate::time;

#[derive(Properties, PartialEq)]
pub struct RequestSummaryProps {
    /// The request.
    pub request: Rc<RequestView>,
    /// The entry's sets, for their names.
    #[prop_or_default]
    pub sets: Rc<Vec<PermissionSetView>>,
}

/// A description list of the request and, once decided, of its grant.
#[component]
pub fn RequestSummary(props: &RequestSummaryProps) -> Html {
    let r = &props.request;
    let set = |id: &str| labels::set_name(id, &props.sets);
    let asked = match (r.requested.duration_seconds, r.requested.window) {
        (Some(s), _) => html! { { format!("{} from approval", time::describe_seconds(s)) } },
        (None, Some(w)) => html! {
            <>{ "From " }<TimeText at={w.start} />{ " to " }<TimeText at={w.end} />
              { format!(" ({})", time::describe_seconds(decision::asked_seconds(r))) }</>
        },
        (None, None) => html! { "—" },
    };
    html! {
        <dl class="summary">
            <dt>{ "Entry" }</dt><dd>{ &r.entry_name }</dd>
            <dt>{ "Requested by" }</dt><dd>{ &r.requester }</dd>
            <dt>{ "Approver" }</dt><dd>{ &r.approver }</dd>
            <dt>{ "Rights" }</dt><dd>{ set(&r.permission_set) }</dd>
            <dt>{ "Access duration" }</dt><dd>{ asked }</dd>
            <dt>{ "Message" }</dt>
            <dd class="message">{ if r.message.is_empty() { "(none)".to_owned() } else { r.message.clone() } }</dd>
            <dt>{ "Requested on" }</dt><dd><TimeText at={r.created_at} /></dd>
            <dt>{ "Status" }</dt><dd><StatusBadge status={r.status} /></dd>
            if r.status == Status::Pending {
                <dt>{ "Expires" }</dt><dd><TimeText at={r.expires_at} />{ " if nobody decides" }</dd>
            }
            if let (Some(by), Some(at)) = (&r.decided_by, r.decided_at) {
                <dt>{ "Decided" }</dt><dd>{ format!("by {by}, ") }<TimeText at={at} /></dd>
            }
            if let Some(c) = r.decision_comment.as_ref().filter(|c| !c.is_empty()) {
                <dt>{ "Approver's message" }</dt><dd class="message">{ c }</dd>
            }
            if let Some(g) = &r.granted_permission_set {
                if g != &r.permission_set {
                    <dt>{ "Rights granted" }</dt><dd>{ set(g) }</dd>
                }
            }
            if let (Some(s), Some(e)) = (r.starts_at, r.ends_at) {
                <dt>{ "Access" }</dt>
                <dd>{ "From " }<TimeText at={s} />{ " to " }<TimeText at={e} />
                    { format!(" ({})", time::describe_seconds((e - s).num_seconds())) }</dd>
            }
            if let Some(at) = r.cancelled_at {
                <dt>{ "Cancelled" }</dt><dd><TimeText at={at} /></dd>
            }
            if let Some(at) = r.revoked_at {
                <dt>{ "Ended early" }</dt>
                <dd>{ format!("by {}, ", r.revoked_by.clone().unwrap_or_default()) }<TimeText at={at} /></dd>
            }
            if let Some(reason) = r.revoke_reason.as_ref().filter(|c| !c.is_empty()) {
                <dt>{ "Reason" }</dt><dd class="message">{ reason }</dd>
            }
        </dl>
    }
}
