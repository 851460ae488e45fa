//! One entry: where it is, the person's access now, and what they can do.

use std::rc::Rc;

use tempaccess_core::entry::{PermissionSet, Right};
use tempaccess_core::wire::{AccessStatus, EntryView, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{PasswordReveal, TimeText};
use crate::labels;
use crate::route::Route;

#[derive(Properties, PartialEq)]
pub struct EntryCardProps {
    /// The entry.
    pub entry: Rc<EntryView>,
    /// The person's grant active now on it, if any.
    #[prop_or_default]
    pub grant: Option<Rc<RequestView>>,
}

/// Name, folder, access now, "Request Temporary Access", and "View password" while a
/// grant with that right is active.
#[component]
pub fn EntryCard(props: &EntryCardProps) -> Html {
    let e = &props.entry;
    let access = &e.my_access;
    let timeline = access.request_id.clone().map(|id| {
        html! { <>{ " · " }<Link<Route> to={Route::Timeline { id }}>{ "Timeline" }</Link<Route>></> }
    });
    let until = |prefix: &'static str| match access.until {
        Some(at) => html! { <>{ prefix }<TimeText {at} /></> },
        None => html! {},
    };
    let status = match access.status {
        AccessStatus::Pending => {
            html! { <><span class="badge status-pending">{ "Pending" }</span>{ until(" — expires ") }</> }
        }
        AccessStatus::Scheduled => {
            html! { <><span class="badge status-scheduled">{ "Scheduled" }</span>{ until(" — until ") }</> }
        }
        AccessStatus::Active => {
            html! { <><span class="badge status-active">{ "Active" }</span>{ until(" until ") }</> }
        }
        _ => html! { <span class="badge status-none">{ "No access" }</span> },
    };
    let shows_password = props.grant.as_ref().is_some_and(|g| {
        let set = g
            .granted_permission_set
            .as_deref()
            .unwrap_or(&g.permission_set);
        e.permission_sets
            .iter()
            .filter(|p| p.id == set)
            .filter_map(|p| PermissionSet::try_from(p).ok())
            .any(|p| p.allows(Right::ViewPassword))
    });
    html! {
        <article class="card entry" aria-labelledby={format!("entry-{}", e.id)}>
            <header>
                <h2 id={format!("entry-{}", e.id)}>{ &e.name }</h2>
                <p class="meta">{ format!("{} · {}", labels::kind(e.kind), e.folder) }</p>
            </header>
            <p class="access"><span class="label">{ "Your access: " }</span>{ status }{ for timeline }</p>
            <div class="actions">
                <Link<Route> to={Route::RequestAccess { id: e.id.clone() }} classes="button">
                    <span aria-label={format!("Request Temporary Access to {}", e.name)}>{ "Request Temporary Access" }</span>
                </Link<Route>>
            </div>
            if shows_password {
                <PasswordReveal entry_id={e.id.clone()} entry_name={e.name.clone()} />
            }
        </article>
    }
}
