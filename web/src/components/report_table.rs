//! The report's rows: the product's columns (those the scope needs), what was granted,
//! when it was decided, the id, and each row's actions. Fits a 1280-pixel screen
//! without scrolling sideways; on a phone each row is a card of labelled lines.

use std::rc::Rc;

use tempaccess_core::report::ReportOrder;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::{PermissionSetView, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{RequestActions, StatusBadge, TimeText};
use crate::decision;
use crate::hooks::use_session;
use crate::labels;
use crate::report::Column;
use crate::route::{Route, TimelineQuery};
use crate::time;

#[derive(Properties, PartialEq)]
pub struct ReportTableProps {
    /// The rows, in the server's order.
    pub rows: Rc<Vec<RequestView>>,
    /// Permission sets, for their names.
    #[prop_or_default]
    pub sets: Rc<Vec<PermissionSetView>>,
    /// Whose requests (which columns say something).
    pub scope: ReportScope,
    /// The order in force.
    pub order: ReportOrder,
    /// Turns the order round.
    pub on_order: Callback<()>,
    /// Told when a row's action was done.
    pub on_done: Callback<String>,
}

/// The report's table.
#[component]
pub fn ReportTable(props: &ReportTableProps) -> Html {
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let columns = Column::shown(props.scope);
    let header = |c: Column| {
        if c != Column::RequestedOn {
            return html! { <th scope="col" class={format!("col-{}", c.key())}>{ c.label() }</th> };
        }
        let newest = props.order == ReportOrder::Newest;
        let on_order = props.on_order.clone();
        html! {
            <th scope="col" class="col-requested_on" aria-sort={if newest { "descending" } else { "ascending" }}>
                <button type="button" class="sort" onclick={move |_| on_order.emit(())}
                    aria-label={if newest { "Requested on, newest first: show oldest first" } else { "Requested on, oldest first: show newest first" }}>
                    { c.label() }<span aria-hidden="true">{ if newest { " ▼" } else { " ▲" } }</span>
                </button>
            </th>
        }
    };
    let person = |r: &RequestView, email: &str| {
        html! { <span title={email.to_owned()}>{ labels::who(r, email, &me).to_owned() }</span> }
    };
    let empty = || html! { <span class="empty">{ "—" }</span> };
    // A set's name may break after its slashes ("View password/Execute rights").
    let set_name = |id: &str| -> Html {
        let name = labels::set_name(id, &props.sets);
        let parts: Vec<String> = name.split('/').map(str::to_owned).collect();
        let last = parts.len() - 1;
        html! { <>{ for parts.into_iter().enumerate().map(|(i, p)| html! {
            <>{ p }if i < last { { "/" }<wbr /> }</>
        }) }</> }
    };
    let value = |r: &Rc<RequestView>, c: Column| -> Html {
        match c {
            Column::Status => html! { <StatusBadge status={r.status} request={Some(r.clone())} /> },
            Column::Entry => html! { &r.entry_name },
            Column::RequestedBy => person(r, &r.requester),
            Column::Approver => person(r, &r.approver),
            Column::Rights => {
                let granted = r.granted_permission_set.as_deref();
                match granted.filter(|g| *g != r.permission_set) {
                    Some(g) => html! {
                        <>{ set_name(g) }
                          <span class="sub">{ "asked: " }{ set_name(&r.permission_set) }</span></>
                    },
                    None => set_name(&r.permission_set),
                }
            }
            Column::RequestedOn => html! { <TimeText at={r.created_at} /> },
            Column::Requested => match (r.requested.duration_seconds, r.requested.window) {
                (Some(s), _) => html! { format!("{} from approval", time::describe_seconds(s)) },
                (None, Some(w)) => html! {
                    <><TimeText at={w.start} />{ " – " }<TimeText at={w.end} />
                      <span class="sub">{ format!("({})", time::describe_seconds(decision::asked_seconds(r))) }</span></>
                },
                _ => empty(),
            },
            Column::Granted => match (r.starts_at, r.ends_at) {
                (Some(s), Some(e)) => {
                    let end = labels::actual_end(r).unwrap_or(e);
                    html! {
                        <>
                            <TimeText at={s} />{ " – " }<TimeText at={end} />
                            <span class="sub">
                                { format!("({})", time::describe_seconds((e - s).num_seconds())) }
                                if end < e { { ", ended early" } }
                            </span>
                        </>
                    }
                }
                _ => empty(),
            },
            Column::Decided => match (r.decided_at, &r.decided_by) {
                (Some(at), Some(by)) => html! {
                    <><TimeText {at} /><span class="sub">{ "by " }{ person(r, by) }</span></>
                },
                _ => empty(),
            },
            Column::Messages => {
                let approver = r.decision_comment.as_deref().filter(|c| !c.is_empty());
                let reason = r.revoke_reason.as_deref().filter(|c| !c.is_empty());
                if r.message.is_empty() && approver.is_none() && reason.is_none() {
                    return empty();
                }
                html! {
                    <>
                        if !r.message.is_empty() { <span class="message request-message">{ &r.message }</span> }
                        if let Some(a) = approver {
                            <span class="message authorization-message"><span class="sub-label">{ "Approver: " }</span>{ a }</span>
                        }
                        if let Some(why) = reason {
                            <span class="message reason-message"><span class="sub-label">{ "Ended: " }</span>{ why }</span>
                        }
                    </>
                }
            }
            Column::Id => html! { <code class="request-id">{ &r.id }</code> },
        }
    };
    html! {
        <div class="table-wrap" role="region" aria-label="Requests" tabindex="0">
            <table class="report requests">
                <thead>
                    <tr>
                        { for columns.iter().copied().map(header) }
                        <th scope="col" class="col-actions">{ "Actions" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for props.rows.iter().map(|r| {
                        let rc = Rc::new(r.clone());
                        html! {
                            <tr key={r.id.clone()} data-request-id={r.id.clone()}>
                                { for columns.iter().copied().map(|c| html! {
                                    <td class={format!("col-{}", c.key())} data-label={c.label()}>{ value(&rc, c) }</td>
                                }) }
                                <td class="col-actions" data-label="Actions">
                                    <Link<Route, TimelineQuery> to={Route::Timeline { id: r.id.clone() }} query={Some(TimelineQuery::from_page("report"))}>
                                        <span aria-label={format!("Timeline of the request for {} of {}", r.entry_name, crate::time::rfc3339(r.created_at))}>{ "Timeline" }</span>
                                    </Link<Route, TimelineQuery>>
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
