//! The report's rows: the columns of the product, sortable, with each row's actions.

use std::rc::Rc;

use tempaccess_core::wire::{PermissionSetView, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{RequestActions, StatusBadge, TimeText};
use crate::labels;
use crate::report::{Cell, Column, cell};
use crate::route::Route;
use crate::time;

#[derive(Properties, PartialEq)]
pub struct ReportTableProps {
    /// The rows, already sorted.
    pub rows: Rc<Vec<RequestView>>,
    /// Permission sets, for their names.
    #[prop_or_default]
    pub sets: Rc<Vec<PermissionSetView>>,
    /// The sort in force.
    pub sort: (Column, bool),
    /// Sorts by a column (again: the other way).
    pub on_sort: Callback<Column>,
    /// Told when a row's action was done.
    pub on_done: Callback<String>,
}

/// A table that scrolls sideways on narrow screens; headers are sort buttons.
#[component]
pub fn ReportTable(props: &ReportTableProps) -> Html {
    let (sorted, desc) = props.sort;
    let header = |c: Column| {
        let on_sort = props.on_sort.clone();
        let aria = if c == sorted {
            if desc { "descending" } else { "ascending" }
        } else {
            "none"
        };
        let arrow = match (c == sorted, desc) {
            (true, true) => " ▼",
            (true, false) => " ▲",
            _ => "",
        };
        html! {
            <th scope="col" aria-sort={aria}>
                <button type="button" class="sort" onclick={move |_| on_sort.emit(c)}>
                    { c.label() }<span aria-hidden="true">{ arrow }</span>
                </button>
            </th>
        }
    };
    let value = |r: &RequestView, c: Column| -> Html {
        match (c, cell(r, c)) {
            (Column::Status, _) => html! { <StatusBadge status={r.status} /> },
            (Column::Rights, Cell::Text(id)) => html! { labels::set_name(&id, &props.sets) },
            (_, Cell::Empty) => html! { <span class="empty">{ "—" }</span> },
            (_, Cell::Time(at)) => html! { <TimeText {at} /> },
            (_, Cell::Seconds(s)) => html! { time::describe_seconds(s) },
            (_, Cell::Text(t)) => html! { t },
        }
    };
    html! {
        <div class="table-scroll" role="region" aria-label="Requests" tabindex="0">
            <table class="report">
                <thead>
                    <tr>
                        { for Column::ALL.into_iter().map(header) }
                        <th scope="col">{ "Actions" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for props.rows.iter().map(|r| {
                        let rc = Rc::new(r.clone());
                        html! {
                            <tr key={r.id.clone()} data-request-id={r.id.clone()}>
                                { for Column::ALL.into_iter().map(|c| html! {
                                    <td class={format!("col-{}", c.key())}>{ value(r, c) }</td>
                                }) }
                                <td class="col-actions">
                                    <Link<Route> to={Route::Timeline { id: r.id.clone() }}>{ "Timeline" }</Link<Route>>
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
