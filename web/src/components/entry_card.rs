//! One entry: where it is, who approves it, the person's access now, and what they can
//! do — and, when a grant it showed has ended meanwhile, who ended it and why.

use std::rc::Rc;

use tempaccess_core::entry::{PermissionSet, Right};
use tempaccess_core::request::Status;
use tempaccess_core::wire::{AccessStatus, EntryView, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{Countdown, PasswordReveal, TimeText};
use crate::hooks::use_session;
use crate::labels;
use crate::route::{Route, TimelineQuery};
use crate::time;

#[derive(Properties, PartialEq)]
pub struct EntryCardProps {
    /// The entry.
    pub entry: Rc<EntryView>,
    /// The person's grant on it, active now or starting later, if any.
    #[prop_or_default]
    pub grant: Option<Rc<RequestView>>,
    /// The person's request on it waiting for a decision, if any.
    #[prop_or_default]
    pub pending: Option<Rc<RequestView>>,
}

/// How a grant the card showed came to an end, in words for its requester.
pub fn ended_words(r: &RequestView, me: &str) -> String {
    let entry = &r.entry_name;
    match (r.status, &r.revoked_by, r.revoked_at) {
        (Status::Revoked, Some(by), Some(_)) if by == me => {
            format!("You ended your access to {entry}")
        }
        (Status::Revoked, Some(by), Some(_)) => {
            let reason = r
                .revoke_reason
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| format!(": “{s}”"))
                .unwrap_or_default();
            format!(
                "Your access to {entry} was revoked by {}{reason}",
                r.name_of(by)
            )
        }
        _ => format!("Your access to {entry} has ended: its time was up"),
    }
}

/// Name, folder, approvers, access now, and the actions that fit it: "View password"
/// first while a grant with that right runs, "Request Temporary Access" otherwise,
/// and a link to the pending request instead of a second one.
#[component]
pub fn EntryCard(props: &EntryCardProps) -> Html {
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let e = &props.entry;
    let access = &e.my_access;
    // The grant shown before, to say how it ended when it is gone.
    let shown = use_mut_ref(|| None::<Rc<RequestView>>);
    let ended = use_state(|| None::<Rc<RequestView>>);
    {
        let shown = shown.clone();
        let ended = ended.clone();
        let api = session.api();
        let grant = props.grant.clone();
        use_effect_with(grant.as_ref().map(|g| g.id.clone()), move |_| {
            let before = shown.replace(grant.clone());
            if let (Some(before), None) = (before, &grant) {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(detail) = api.request_detail(&before.id).await {
                        ended.set(Some(Rc::new(detail.request)));
                    }
                });
            } else if grant.is_some() {
                ended.set(None);
            }
        });
    }
    let timeline = |id: String| {
        html! {
            <Link<Route, TimelineQuery> to={Route::Timeline { id }} query={Some(TimelineQuery::from_page("entries"))}>
                { "See the request" }
            </Link<Route, TimelineQuery>>
        }
    };
    let grant = props.grant.as_deref();
    let status = match (grant, access.status) {
        (Some(g), _) if g.status == Status::Active => html! {
            <>
                <span class="badge status-active">{ "Active" }</span>
                if let Some(end) = g.ends_at {
                    { " until " }<TimeText at={end} />{ " · " }<Countdown {end} />
                }
            </>
        },
        (Some(g), _) => html! {
            <>
                <span class="badge status-scheduled">{ "Scheduled" }</span>
                if let (Some(s), Some(end)) = (g.starts_at, g.ends_at) {
                    { " from " }<TimeText at={s} />{ " to " }<TimeText at={end} />
                    { format!(" (starts {})", time::time_until(s, time::now())) }
                }
            </>
        },
        (None, AccessStatus::Pending) => {
            let who = props
                .pending
                .as_ref()
                .map(|p| format!("{}'s", p.name_of(&p.approver)))
                .unwrap_or_else(|| "the approver's".to_owned());
            html! {
                <>
                    <span class="badge status-pending">{ "Pending" }</span>
                    { format!(" — waiting for {who} decision") }
                    if let Some(until) = access.until {
                        <span class="deadline">{ "; lapses " }<TimeText at={until} />{ " if nobody decides" }</span>
                    }
                </>
            }
        }
        _ => html! { <span class="badge status-none">{ "No access" }</span> },
    };
    let request_id = grant
        .map(|g| g.id.clone())
        .or_else(|| access.request_id.clone());
    let shows_password = grant.is_some_and(|g| {
        g.status == Status::Active && {
            let set = g
                .granted_permission_set
                .as_deref()
                .unwrap_or(&g.permission_set);
            e.permission_sets
                .iter()
                .filter(|p| p.id == set)
                .filter_map(|p| PermissionSet::try_from(p).ok())
                .any(|p| p.allows(Right::ViewPassword))
        }
    });
    let pending = access.status == AccessStatus::Pending;
    let approvers = e
        .approvers
        .iter()
        .map(|a| a.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let request_link = html! {
        <Link<Route> to={Route::RequestAccess { id: e.id.clone() }}
            classes={classes!("button", (shows_password || grant.is_some()).then_some("secondary"))}>
            <span aria-label={format!("Request Temporary Access to {}", e.name)}>{ "Request Temporary Access" }</span>
        </Link<Route>>
    };
    html! {
        <article class="card entry" aria-labelledby={format!("entry-{}", e.id)}>
            <header>
                <h2 id={format!("entry-{}", e.id)}>{ &e.name }</h2>
                <p class="meta">{ format!("{} · {}", labels::kind(e.kind), e.folder) }</p>
                <p class="meta approvers">{ format!("Approvers: {approvers} · at most {}", time::describe_seconds(e.max_duration_seconds)) }</p>
            </header>
            <p class="access">
                <span class="label">{ "Your access: " }</span>{ status }
                if let Some(id) = request_id {
                    { " · " }{ timeline(id) }
                }
            </p>
            if let Some(done) = &*ended {
                <p class="notice ended-notice" role="status">
                    { ended_words(done, &me) }
                    if let Some(at) = labels::actual_end(done) {
                        { " (" }<TimeText {at} />{ ")" }
                    }
                    { ". Its password is no longer shown; request access again if you still need it." }
                </p>
            }
            if shows_password {
                if let Some(g) = grant {
                    <PasswordReveal entry_id={e.id.clone()} entry_name={e.name.clone()} ends_at={g.ends_at} rotates={e.rotates} />
                }
            }
            <div class="actions">
                if pending {
                    if let Some(id) = access.request_id.clone() {
                        <Link<Route, TimelineQuery> to={Route::Timeline { id }} query={Some(TimelineQuery::from_page("entries"))}
                            classes="button secondary">
                            <span aria-label={format!("See your pending request for {}", e.name)}>{ "See your pending request" }</span>
                        </Link<Route, TimelineQuery>>
                    }
                } else {
                    { request_link }
                }
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_grant_says_who_ended_it_and_why() {
        let r: RequestView = serde_json::from_value(serde_json::json!({
            "id": "01J", "entry_id": "prod-db", "entry_name": "Production database",
            "requester": "alice@example.com", "approver": "bob@example.com",
            "permission_set": "view-password-execute", "granted_permission_set": "view-password-execute",
            "requested": {"duration_seconds": 3600}, "message": "", "status": "revoked",
            "created_at": "2030-01-01T10:00:00Z", "expires_at": "2030-01-02T10:00:00Z",
            "decided_at": null, "decided_by": null, "decision_comment": null,
            "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T11:00:00Z",
            "cancelled_at": null, "revoked_at": "2030-01-01T10:20:00Z",
            "revoked_by": "carol@example.com", "revoke_reason": "incident over",
            "names": {"carol@example.com": "Carol Admin"}
        }))
        .unwrap();
        assert_eq!(
            ended_words(&r, "alice@example.com"),
            "Your access to Production database was revoked by Carol Admin: “incident over”"
        );
        let mut own = r.clone();
        own.revoked_by = Some("alice@example.com".into());
        assert_eq!(
            ended_words(&own, "alice@example.com"),
            "You ended your access to Production database"
        );
    }
}
