//! One request and every event that happened to it, live: its status follows the
//! server's within seconds.

use std::rc::Rc;

use tempaccess_core::audit::{Actor, EventKind};
use tempaccess_core::request::Status;
use tempaccess_core::wire::{EventView, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{
    ErrorNotice, Loading, RequestActions, RequestSummary, StaleNotice, TimeText,
};
use crate::hooks::{Live, Load, use_live_api, use_session, use_title};
use crate::labels;
use crate::route::{Route, TimelineQuery};

/// How often an open request's page reads it again.
const EVERY_MS: i64 = 10_000;

#[derive(Properties, PartialEq)]
pub struct TimelinePageProps {
    /// The request id.
    pub id: AttrValue,
}

/// Who did an event, for people: "by Alice Example", "by you", or nothing for the
/// product itself.
pub fn actor(r: &RequestView, e: &EventView, me: &str) -> String {
    match &e.actor {
        Actor::System => "by the system".to_owned(),
        // Who really acted is not known: only whose link it was.
        Actor::LinkHolder(approver) => {
            let whose = match labels::who(r, approver.as_str(), me) {
                "you" => "your".to_owned(),
                name => format!("{name}'s"),
            };
            format!("by someone with {whose} link, signed out")
        }
        Actor::User(who)
            if e.kind == EventKind::Revoked
                && labels::ended_by_requester(r)
                && who.as_str() == me =>
        {
            "by you (ended early)".to_owned()
        }
        Actor::User(who) => format!("by {}", labels::who(r, who.as_str(), me)),
    }
}

/// What an event says, for people: the kind, in words that fit this request.
pub fn event_label(r: &RequestView, e: &EventView) -> &'static str {
    match e.kind {
        EventKind::Revoked if labels::ended_by_requester(r) => "Ended early",
        kind => labels::event(kind),
    }
}

/// The request's summary, its actions, and its timeline.
#[component]
pub fn TimelinePage(props: &TimelinePageProps) -> Html {
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let location = use_location();
    let back = location
        .and_then(|l| l.query::<TimelineQuery>().ok())
        .unwrap_or_default()
        .back();
    let notice = use_state(|| None::<String>);
    let wake = use_state(|| None);
    let data = use_live_api(
        props.id.clone(),
        Some(Live::every(EVERY_MS).waking_at(*wake)),
        |api, id| async move {
            let detail = api.request_detail(&id).await?;
            // Names of the entry's sets, when the person may see the entry.
            let sets = api
                .entries()
                .await
                .ok()
                .and_then(|l| {
                    l.items
                        .into_iter()
                        .find(|e| e.id == detail.request.entry_id)
                })
                .map(|e| e.permission_sets)
                .unwrap_or_default();
            Ok((detail, sets))
        },
    );
    let title = match &data.load {
        Load::Ready(d) => format!("Request for {}", d.0.request.entry_name),
        _ => "Request".to_owned(),
    };
    use_title(title.clone());
    {
        let wake = wake.clone();
        let next = match &data.load {
            Load::Ready(d) => {
                let r = &d.0.request;
                match r.status {
                    Status::Pending => Some(r.expires_at),
                    Status::Scheduled => r.starts_at,
                    Status::Active => r.ends_at,
                    _ => None,
                }
            }
            _ => None,
        };
        use_effect_with(next, move |next| wake.set(*next));
    }
    let on_done = {
        let notice = notice.clone();
        let reload = data.reload.clone();
        Callback::from(move |t: String| {
            notice.set(Some(t));
            reload.emit(());
        })
    };
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading the request…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) => {
            let (detail, sets) = &**d;
            let request = Rc::new(detail.request.clone());
            html! {
                <>
                    <RequestSummary request={request.clone()} sets={Rc::new(sets.clone())} />
                    <div class="actions">
                        <RequestActions request={request.clone()} {on_done} small={false} />
                    </div>
                    <h2>{ "Timeline" }</h2>
                    <ol class="timeline">
                        { for detail.events.iter().map(|e| html! {
                            <li class={format!("event event-{}", e.kind.as_str())}>
                                <TimeText at={e.at} />
                                <span class="event-kind">{ event_label(&request, e) }</span>
                                <span class="event-actor">{ actor(&request, e, &me) }</span>
                                if e.kind == EventKind::Requested {
                                    <span class="event-detail">{ requested_detail(&request) }</span>
                                } else if !e.detail.is_empty() {
                                    <span class="event-detail">{ &e.detail }</span>
                                }
                            </li>
                        }) }
                    </ol>
                </>
            }
        }
    };
    html! {
        <section class="panel">
            <p class="breadcrumb"><Link<Route> to={back.0}>{ back.1 }</Link<Route>></p>
            <h1>{ title }</h1>
            if let Some(t) = &*notice {
                <p class="notice success" role="status">{ t }</p>
            }
            <StaleNotice error={data.stale.clone()} />
            { body }
        </section>
    }
}

/// What was asked, in the page's words and the reader's zone (the stored event's own
/// text is in UTC).
fn requested_detail(r: &RequestView) -> Html {
    match (r.requested.duration_seconds, r.requested.window) {
        (Some(s), _) => html! { format!("{} from approval", crate::time::describe_seconds(s)) },
        (None, Some(w)) => html! {
            <>{ "From " }<TimeText at={w.start} />{ " to " }<TimeText at={w.end} /></>
        },
        _ => html! {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_who_acted_and_a_link_used_signed_out_as_such() {
        let r: RequestView = serde_json::from_value(serde_json::json!({
            "id": "01J", "entry_id": "prod-db", "entry_name": "Production database",
            "requester": "alice@example.com", "approver": "bob@example.com",
            "permission_set": "view-password-execute", "granted_permission_set": null,
            "requested": {"duration_seconds": 3600}, "message": "", "status": "pending",
            "created_at": "2030-01-01T10:00:00Z", "expires_at": "2030-01-02T10:00:00Z",
            "decided_at": null, "decided_by": null, "decision_comment": null,
            "starts_at": null, "ends_at": null, "cancelled_at": null, "revoked_at": null,
            "revoked_by": null, "revoke_reason": null,
            "names": {"alice@example.com": "Alice Requester", "bob@example.com": "Bob Approver"}
        }))
        .unwrap();
        let event = |actor: &str| -> EventView {
            serde_json::from_value(serde_json::json!({
                "at": "2030-01-01T10:05:00Z", "actor": actor, "kind": "viewed", "detail": ""
            }))
            .unwrap()
        };
        let alice = "alice@example.com";
        assert_eq!(
            actor(&r, &event("link:bob@example.com"), alice),
            "by someone with Bob Approver's link, signed out"
        );
        assert_eq!(
            actor(&r, &event("link:bob@example.com"), "bob@example.com"),
            "by someone with your link, signed out"
        );
        assert_eq!(
            actor(&r, &event("bob@example.com"), alice),
            "by Bob Approver"
        );
        assert_eq!(actor(&r, &event(alice), alice), "by you");
        assert_eq!(actor(&r, &event("system"), alice), "by the system");
    }
}
