//! The approver's inbox: requests waiting for their decision, oldest first, one compact
//! row each (opened to decide), with a count, a note of the entry's other approvers,
//! and a bulk denial with a reason. Live.

use std::rc::Rc;

use tempaccess_core::report::ReportOrder;
use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::{DecisionBody, DecisionKind, EntryList, Person, RequestsQuery};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{ApprovalRow, Dialog, ErrorNotice, Loading, ReasonField, StaleNotice};
use crate::hooks::{Live, Load, use_clock, use_live_api, use_session, use_title};
use crate::report::ReportSelection;
use crate::route::Route;

/// How often the inbox reads the waiting requests again.
const EVERY_MS: i64 = 15_000;

/// The most requests the inbox lists at once (the count says how many wait in all).
const INBOX_SIZE: u32 = 200;

/// The inbox's query: the caller's pending approvals, oldest first, counted.
pub fn inbox_query() -> RequestsQuery {
    RequestsQuery {
        scope: Some(ReportScope::Approvals),
        status: Some(Status::Pending),
        order: Some(ReportOrder::Oldest),
        limit: Some(INBOX_SIZE),
        count: Some(true),
        ..RequestsQuery::default()
    }
}

/// The approvers of `entry_id` other than `me`.
fn other_approvers(entries: &EntryList, entry_id: &str, me: &str) -> Vec<Person> {
    entries
        .items
        .iter()
        .find(|e| e.id == entry_id)
        .map(|e| {
            e.approvers
                .iter()
                .filter(|a| a.email != me)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Pending requests where the person is the approver.
#[component]
pub fn ApprovalsPage() -> Html {
    use_title("Approvals");
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let now = use_clock(30_000);
    let notice = use_state(|| None::<String>);
    // The ids ticked, as a list: a set type would add its own code to the wasm.
    let selected = use_state(Vec::<String>::new);
    let bulk_open = use_state(|| false);
    let bulk_busy = use_state(|| false);
    let bulk_error = use_state(|| None::<String>);
    let data = use_live_api((), Some(Live::every(EVERY_MS)), |api, _| async move {
        let pending = api.requests(&inbox_query()).await?;
        let entries = api.entries().await?;
        Ok((pending, entries))
    });
    let on_decided = {
        let notice = notice.clone();
        let reload = data.reload.clone();
        Callback::from(move |text: String| {
            notice.set(Some(text));
            reload.emit(());
        })
    };
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |(id, on): (String, bool)| {
            let mut next = (*selected).clone();
            next.retain(|s| *s != id);
            if on {
                next.push(id);
            }
            selected.set(next);
        })
    };
    // Only what is still waiting stays selected.
    let waiting_ids: Vec<String> = match &data.load {
        Load::Ready(d) => d.0.items.iter().map(|r| r.id.clone()).collect(),
        _ => Vec::new(),
    };
    // In the ids' order, as they are denied.
    let mut chosen: Vec<String> = waiting_ids
        .iter()
        .filter(|id| selected.contains(id))
        .cloned()
        .collect();
    chosen.sort();
    chosen.dedup();
    let select_all = {
        let selected = selected.clone();
        let all = waiting_ids.clone();
        Callback::from(move |e: Event| {
            let i: web_sys::HtmlInputElement = e.target_unchecked_into();
            selected.set(if i.checked() { all.clone() } else { Vec::new() });
        })
    };
    let deny_selected = {
        let api = session.api();
        let chosen = chosen.clone();
        let notice = notice.clone();
        let selected = selected.clone();
        let bulk_open = bulk_open.clone();
        let bulk_busy = bulk_busy.clone();
        let bulk_error = bulk_error.clone();
        let reload = data.reload.clone();
        Callback::from(move |reason: Option<String>| {
            let api = api.clone();
            let chosen = chosen.clone();
            let notice = notice.clone();
            let selected = selected.clone();
            let bulk_open = bulk_open.clone();
            let bulk_busy = bulk_busy.clone();
            let bulk_error = bulk_error.clone();
            let reload = reload.clone();
            bulk_busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let body = DecisionBody {
                    decision: DecisionKind::Deny,
                    comment: reason,
                    duration_seconds: None,
                    window: None,
                    permission_set: None,
                };
                let mut failed = Vec::new();
                for id in &chosen {
                    if let Err(e) = api.decide(id, &body).await {
                        failed.push(e.to_string());
                    }
                }
                let denied = chosen.len() - failed.len();
                bulk_busy.set(false);
                if failed.is_empty() {
                    bulk_open.set(false);
                    bulk_error.set(None);
                    selected.set(Vec::new());
                    notice.set(Some(match denied {
                        1 => "Denied 1 request. Its requester has been told why.".to_owned(),
                        n => format!("Denied {n} requests. Their requesters have been told why."),
                    }));
                } else {
                    bulk_error.set(Some(format!(
                        "Denied {denied} of {}; the others could not be: {}",
                        chosen.len(),
                        failed.join(" ")
                    )));
                }
                reload.emit(());
            });
        })
    };
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading your pending approvals…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) => {
            let (pending, entries) = &**d;
            if pending.items.is_empty() {
                html! { <p class="empty-state">{ "No requests are waiting for your decision." }</p> }
            } else {
                let total = pending.total.unwrap_or(pending.items.len() as u64);
                let all_on = !waiting_ids.is_empty() && chosen.len() == waiting_ids.len();
                let open_bulk = {
                    let bulk_open = bulk_open.clone();
                    let bulk_error = bulk_error.clone();
                    Callback::from(move |_| {
                        bulk_error.set(None);
                        bulk_open.set(true);
                    })
                };
                html! {
                    <>
                        <p class="count" role="status">
                            { match total { 1 => "1 request waits for your decision, oldest first.".to_owned(),
                                n => format!("{n} requests wait for your decision, oldest first.") } }
                            if total > pending.items.len() as u64 {
                                { format!(" The oldest {} are listed.", pending.items.len()) }
                            }
                        </p>
                        <div class="toolbar">
                            <button type="button" class="danger" disabled={chosen.is_empty()} onclick={open_bulk}
                                aria-haspopup="dialog">
                                { format!("Deny selected ({})", chosen.len()) }
                            </button>
                        </div>
                        <div class="table-wrap" role="region" aria-label="Requests waiting for your decision" tabindex="0">
                            <table class="report inbox">
                                <thead>
                                    <tr>
                                        <th scope="col" class="col-select">
                                            <input type="checkbox" id="select-all" checked={all_on} onchange={select_all}
                                                aria-label="Select every request listed" />
                                        </th>
                                        <th scope="col">{ "Requested by" }</th>
                                        <th scope="col">{ "Entry" }</th>
                                        <th scope="col">{ "Rights" }</th>
                                        <th scope="col">{ "Asked" }</th>
                                        <th scope="col" aria-sort="descending">{ "Waiting" }</th>
                                        <th scope="col">{ "Decide by" }</th>
                                        <th scope="col"><span class="visually-hidden">{ "Actions" }</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    { for pending.items.iter().map(|r| {
                                        let sets = entries.items.iter()
                                            .find(|e| e.id == r.entry_id)
                                            .map(|e| e.permission_sets.clone())
                                            .unwrap_or_default();
                                        let others = other_approvers(entries, &r.entry_id, &me);
                                        html! {
                                            <ApprovalRow key={r.id.clone()} request={Rc::new(r.clone())}
                                                sets={Rc::new(sets)} others={Rc::new(others)}
                                                selected={chosen.contains(&r.id)} on_select={on_select.clone()}
                                                on_decided={on_decided.clone()} {now} />
                                        }
                                    }) }
                                </tbody>
                            </table>
                        </div>
                    </>
                }
            }
        }
    };
    let close_bulk = {
        let bulk_open = bulk_open.clone();
        Callback::from(move |_| bulk_open.set(false))
    };
    let title = match &data.load {
        Load::Ready(d) if !d.0.items.is_empty() => format!(
            "Approvals ({} waiting)",
            d.0.total.unwrap_or(d.0.items.len() as u64)
        ),
        _ => "Approvals".to_owned(),
    };
    html! {
        <section>
            <h1>{ &title }</h1>
            <p class="lead">
                { "Requests waiting for your decision. Decided ones are in " }
                <Link<Route, ReportSelection> to={Route::Report} query={Some(ReportSelection { scope: Some(ReportScope::Approvals), ..ReportSelection::default() })}>
                    { "the report of your approvals" }
                </Link<Route, ReportSelection>>{ "." }
            </p>
            if let Some(text) = &*notice {
                <p class="notice success" role="status">{ text }</p>
            }
            <StaleNotice error={data.stale.clone()} />
            { body }
            if *bulk_open {
                <Dialog id="bulk-deny" title={match chosen.len() { 1 => "Deny 1 request?".to_owned(), n => format!("Deny {n} requests?") }}
                    confirm_label={format!("Deny {}", match chosen.len() { 1 => "1 request".to_owned(), n => format!("{n} requests") })}
                    cancel_label="Go back" danger=true busy={*bulk_busy}
                    error={(*bulk_error).clone().map(AttrValue::from)}
                    reason={Some(ReasonField {
                        label: AttrValue::from("Reason (each requester reads it)"),
                        hint: None,
                        required: Some(AttrValue::from("say why these requests are denied")),
                        initial: AttrValue::default(),
                    })}
                    on_confirm={deny_selected} on_cancel={close_bulk}>
                    <p>{ "Each requester will be told that their request was denied, with your reason. This cannot be undone." }</p>
                </Dialog>
            }
        </section>
    }
}
