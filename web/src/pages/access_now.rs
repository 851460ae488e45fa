//! Every grant active at this moment (admins: everyone's; others: their own), with the
//! time left and the row's End or Revoke, filtered by entry or person; and below, the
//! grants approved to start later. Live.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{PermissionSetView, RequestView};
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::case;
use crate::components::{Countdown, ErrorNotice, Loading, RequestActions, StaleNotice, TimeText};
use crate::hooks::{Live, Load, use_live_api, use_session, use_title};
use crate::labels;
use crate::route::{Route, TimelineQuery};

/// How often the page reads the grants again.
const EVERY_MS: i64 = 10_000;

/// Whether a grant matches the filter: its entry, its requester's name or email, or
/// its approver's, ignoring case.
pub fn grant_matches(r: &RequestView, filter: &str) -> bool {
    let filter = case::lower(filter.trim());
    if filter.is_empty() {
        return true;
    }
    let fields = [
        case::lower(&r.entry_name),
        case::lower(&r.entry_id),
        case::lower(&r.requester),
        case::lower(r.name_of(&r.requester)),
        case::lower(&r.approver),
        case::lower(r.name_of(&r.approver)),
    ];
    filter
        .split_whitespace()
        .all(|w| fields.iter().any(|f| f.contains(w)))
}

#[derive(Properties, PartialEq)]
struct GrantTableProps {
    rows: Rc<Vec<RequestView>>,
    sets: Rc<Vec<PermissionSetView>>,
    label: AttrValue,
    upcoming: bool,
    on_done: Callback<String>,
}

#[component]
fn GrantTable(props: &GrantTableProps) -> Html {
    let session = use_session();
    let me = session.email().unwrap_or_default();
    html! {
        <div class="table-wrap" role="region" aria-label={props.label.clone()} tabindex="0">
            <table class="report grants">
                <caption class="visually-hidden">{ &props.label }</caption>
                <thead>
                    <tr>
                        <th scope="col">{ "Entry" }</th>
                        <th scope="col">{ "Who" }</th>
                        <th scope="col">{ "Rights" }</th>
                        <th scope="col">{ if props.upcoming { "Starts" } else { "Since" } }</th>
                        <th scope="col">{ "Until" }</th>
                        <th scope="col">{ if props.upcoming { "Starts in" } else { "Time left" } }</th>
                        <th scope="col">{ "Approver" }</th>
                        <th scope="col">{ "Actions" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for props.rows.iter().map(|r| {
                        let rc = Rc::new(r.clone());
                        html! {
                            <tr key={r.id.clone()} data-request-id={r.id.clone()}>
                                <td data-label="Entry">{ &r.entry_name }</td>
                                <td data-label="Who">{ labels::who(r, &r.requester, &me) }</td>
                                <td data-label="Rights">{ labels::set_name(r.granted_permission_set.as_deref().unwrap_or(&r.permission_set), &props.sets) }</td>
                                <td data-label={if props.upcoming { "Starts" } else { "Since" }}>{ for r.starts_at.map(|at| html! { <TimeText {at} /> }) }</td>
                                <td data-label="Until">{ for r.ends_at.map(|at| html! { <TimeText {at} /> }) }</td>
                                <td data-label={if props.upcoming { "Starts in" } else { "Time left" }}>
                                    if props.upcoming {
                                        { for r.starts_at.map(|s| crate::time::time_until(s, crate::time::now())) }
                                    } else if let Some(end) = r.ends_at {
                                        <Countdown {end} announce=false
                                            whose={if r.requester == me { AttrValue::Static("Your access") } else { AttrValue::from(format!("{}'s access", r.name_of(&r.requester))) }} />
                                    }
                                </td>
                                <td data-label="Approver">{ labels::who(r, &r.approver, &me) }</td>
                                <td data-label="Actions" class="col-actions">
                                    <Link<Route, TimelineQuery> to={Route::Timeline { id: r.id.clone() }} query={Some(TimelineQuery::from_page("access"))}>
                                        <span aria-label={format!("Timeline of {}'s access to {}", r.name_of(&r.requester), r.entry_name)}>{ "Timeline" }</span>
                                    </Link<Route, TimelineQuery>>
                                    { " " }
                                    <RequestActions request={rc} on_done={props.on_done.clone()} />
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// A table of active grants, a filter, and the grants to come.
#[component]
pub fn AccessNowPage() -> Html {
    use_title("Access now");
    let session = use_session();
    let filter = use_state(String::new);
    let notice = use_state(|| None::<String>);
    let wake = use_state(|| None);
    let data = use_live_api(
        (),
        Some(Live::every(EVERY_MS).waking_at(*wake)),
        |api, _| async move {
            let grants = api.access_now(true).await?;
            let sets: Vec<_> = api
                .entries()
                .await?
                .items
                .into_iter()
                .flat_map(|e| e.permission_sets)
                .collect();
            Ok((grants, sets))
        },
    );
    {
        let wake = wake.clone();
        let next = match &data.load {
            Load::Ready(d) => {
                d.0.items
                    .iter()
                    .flat_map(|g| [g.starts_at, g.ends_at])
                    .flatten()
                    .filter(|t| *t > crate::time::now())
                    .min()
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
    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            filter.set(i.value());
        })
    };
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading access now…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) => {
            let (grants, sets) = &**d;
            let sets = Rc::new(sets.clone());
            let pick = |status: Status| -> Vec<RequestView> {
                grants
                    .items
                    .iter()
                    .filter(|g| g.status == status && grant_matches(g, &filter))
                    .cloned()
                    .collect()
            };
            let (active, upcoming) = (pick(Status::Active), pick(Status::Scheduled));
            let any = grants.items.iter().any(|g| g.status == Status::Active);
            let filtered = !filter.trim().is_empty();
            html! {
                <>
                    <p class="count" role="status">{ match (active.len(), filtered) {
                        (0, false) => "Nobody has temporary access at this moment.".to_owned(),
                        (0, true) if any => format!("No active grant matches “{}”.", filter.trim()),
                        (0, true) => "Nobody has temporary access at this moment.".to_owned(),
                        (1, _) => "1 grant active now.".to_owned(),
                        (n, _) => format!("{n} grants active now."),
                    } }</p>
                    if !active.is_empty() {
                        <GrantTable rows={Rc::new(active)} sets={sets.clone()} label="Active grants"
                            upcoming=false on_done={on_done.clone()} />
                    }
                    <h2 id="upcoming">{ "Starting later" }</h2>
                    if upcoming.is_empty() {
                        <p class="empty-state">{ "No approved grant is waiting to start." }</p>
                    } else {
                        <GrantTable rows={Rc::new(upcoming)} sets={sets} label="Grants starting later"
                            upcoming=true on_done={on_done} />
                    }
                </>
            }
        }
    };
    html! {
        <section>
            <h1>{ "Access now" }</h1>
            <p class="lead">{ if session.is_admin() { "Every grant active at this moment, and those approved to start later." } else { "Your grants active at this moment, and those approved to start later." } }</p>
            <div class="field search">
                <label for="access-filter">{ "Filter by entry or person" }</label>
                <input type="search" id="access-filter" value={(*filter).clone()} oninput={on_filter}
                    placeholder="Entry, name or email" autocomplete="off" />
            </div>
            if let Some(t) = &*notice {
                <p class="notice success" role="status">{ t }</p>
            }
            <StaleNotice error={data.stale.clone()} />
            { body }
        </section>
    }
}
