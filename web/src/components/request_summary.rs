//! What was asked, by whom, and what became of it: what was granted beside what was
//! asked, and when access really ended.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{PermissionSetView, RequestView};
use yew::prelude::*;

use crate::components::{Countdown, StatusBadge, TimeText};
use crate::decision;
use crate::hooks::use_session;
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

/// "Requested 4 h · Granted 1 h": the two lengths, when they differ.
pub fn requested_and_granted(r: &RequestView) -> Option<String> {
    let asked = decision::asked_seconds(r);
    let (s, e) = (r.starts_at?, r.ends_at?);
    let granted = (e - s).num_seconds();
    (granted != asked).then(|| {
        format!(
            "Requested {} · Granted {}",
            time::describe_seconds(asked),
            time::describe_seconds(granted)
        )
    })
}

/// A description list of the request and, once decided, of its grant.
#[component]
pub fn RequestSummary(props: &RequestSummaryProps) -> Html {
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let r = &props.request;
    let set = |id: &str| labels::set_name(id, &props.sets);
    let person = |email: &str| {
        let name = r.name_of(email);
        if name == email {
            html! { <span class="person">{ email.to_owned() }</span> }
        } else {
            html! { <span class="person" title={email.to_owned()}>{ name.to_owned() }</span> }
        }
    };
    let asked = match (r.requested.duration_seconds, r.requested.window) {
        (Some(s), _) => html! { { format!("{} from approval", time::describe_seconds(s)) } },
        (None, Some(w)) => html! {
            <>{ "From " }<TimeText at={w.start} />{ " to " }<TimeText at={w.end} />
              { format!(" ({})", time::describe_seconds(decision::asked_seconds(r))) }</>
        },
        (None, None) => html! { "—" },
    };
    let early = labels::actual_end(r).filter(|end| Some(*end) != r.ends_at);
    let live = matches!(r.status, Status::Active);
    html! {
        <dl class="summary">
            <dt>{ "Entry" }</dt><dd>{ &r.entry_name }</dd>
            <dt>{ "Requested by" }</dt><dd>{ person(&r.requester) }</dd>
            <dt>{ "Approver" }</dt><dd>{ person(&r.approver) }</dd>
            <dt>{ "Rights requested" }</dt><dd>{ set(&r.permission_set) }</dd>
            <dt>{ "Requested" }</dt><dd>{ asked }</dd>
            <dt>{ "Message" }</dt>
            <dd class="message">{ if r.message.is_empty() { "(none)".to_owned() } else { r.message.clone() } }</dd>
            <dt>{ "Requested on" }</dt><dd><TimeText at={r.created_at} /></dd>
            <dt>{ "Status" }</dt><dd><StatusBadge status={r.status} request={Some(r.clone())} /></dd>
            if r.status == Status::Pending {
                <dt>{ "Decision due" }</dt>
                <dd>{ "By " }<TimeText at={r.expires_at} />{ " — the request lapses if nobody decides" }</dd>
            }
            if let (Some(by), Some(at)) = (&r.decided_by, r.decided_at) {
                <dt>{ if r.status == Status::Denied { "Denied" } else { "Approved" } }</dt>
                <dd>{ "by " }{ person(by) }{ ", " }<TimeText at={at} /></dd>
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
                <dt>{ "Granted" }</dt>
                <dd>
                    { "From " }<TimeText at={s} />{ " to " }<TimeText at={e} />
                    { format!(" ({})", time::describe_seconds((e - s).num_seconds())) }
                    if let Some(both) = requested_and_granted(r) {
                        <br /><span class="granted-note">{ both }</span>
                    }
                    if live {
                        <br /><Countdown end={e} announce={r.requester == me} />
                    }
                </dd>
            }
            if let Some(at) = r.cancelled_at {
                <dt>{ "Cancelled" }</dt><dd>{ "by " }{ person(&r.requester) }{ ", " }<TimeText at={at} /></dd>
            }
            if let (Some(at), Some(by)) = (early.or(r.revoked_at), &r.revoked_by) {
                <dt>{ if labels::ended_by_requester(r) { "Ended early" } else { "Revoked" } }</dt>
                <dd>{ "by " }{ html! { labels::who(r, by, &me).to_owned() } }{ ", " }<TimeText at={at} /></dd>
            }
            if let Some(reason) = r.revoke_reason.as_ref().filter(|c| !c.is_empty()) {
                <dt>{ "Reason" }</dt><dd class="message">{ reason }</dd>
            }
        </dl>
    }
}
