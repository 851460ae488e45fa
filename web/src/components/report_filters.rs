//! The report's filters: status, entry, requester, approver, date range, page size.
//! Checked before anything is asked of the server (a wrong one is listed at the top and
//! gets the focus); applied, they go to the page's URL. On a phone they fold away.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::EntryView;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::ErrorSummary;
use crate::hooks::focus_id;
use crate::labels;
use crate::report::{PAGE_SIZES, ReportSelection};

#[derive(Properties, PartialEq)]
pub struct ReportFiltersProps {
    /// The filters in force.
    pub query: ReportSelection,
    /// Entries to filter by.
    pub entries: Rc<Vec<EntryView>>,
    /// Applies new filters.
    pub on_apply: Callback<ReportSelection>,
}

/// Which filter changed.
pub enum FilterAction {
    Status(String),
    Entry(String),
    Requester(String),
    Approver(String),
    From(String),
    To(String),
    Limit(u32),
    Reset(ReportSelection),
}

/// The filters being edited.
#[derive(Clone, PartialEq)]
pub struct FilterState(ReportSelection);

impl Reducible for FilterState {
    type Action = FilterAction;

    fn reduce(self: Rc<Self>, action: FilterAction) -> Rc<Self> {
        let mut q = self.0.clone();
        let some = |v: String| (!v.is_empty()).then_some(v);
        match action {
            FilterAction::Status(v) => q.status = Status::parse(&v, "status").ok(),
            FilterAction::Entry(v) => q.entry_id = some(v),
            FilterAction::Requester(v) => q.requester = some(v),
            FilterAction::Approver(v) => q.approver = some(v),
            FilterAction::From(v) => q.from = some(v),
            FilterAction::To(v) => q.to = some(v),
            FilterAction::Limit(v) => q.limit = Some(v),
            FilterAction::Reset(v) => q = v,
        }
        Rc::new(FilterState(q))
    }
}

/// A form of filters; "Apply filters" puts them in the page's URL.
#[component]
pub fn ReportFilters(props: &ReportFiltersProps) -> Html {
    let state = {
        let q = props.query.clone();
        use_reducer(move || FilterState(q))
    };
    {
        let state = state.clone();
        use_effect_with(props.query.clone(), move |q| {
            state.dispatch(FilterAction::Reset(q.clone()));
        });
    }
    let q = &state.0;
    let select = |f: fn(String) -> FilterAction| {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            state.dispatch(f(s.value()));
        })
    };
    let input = |f: fn(String) -> FilterAction| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            state.dispatch(f(i.value()));
        })
    };
    let on_limit = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(v) = s.value().parse() {
                state.dispatch(FilterAction::Limit(v));
            }
        })
    };
    let problems = use_state(Vec::<(String, String)>::new);
    let onsubmit = {
        let state = state.clone();
        let problems = problems.clone();
        let on_apply = props.on_apply.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let found: Vec<(String, String)> = state
                .0
                .problems()
                .into_iter()
                .map(|(id, m)| (id.to_owned(), m))
                .collect();
            if let Some((id, _)) = found.first() {
                focus_id(id);
                problems.set(found);
                return;
            }
            problems.set(Vec::new());
            on_apply.emit(state.0.first_page().normalized());
        })
    };
    // Wide screens show the filters; a phone folds them until asked.
    let open_at_start = use_memo((), |_| {
        web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_none_or(|w| w > 640.0)
    });
    let wrong = |id: &str| problems.iter().any(|(i, _)| i == id);
    let set_count = [
        props.query.status.is_some(),
        props.query.entry_id.is_some(),
        props.query.requester.is_some(),
        props.query.approver.is_some(),
        props.query.from.is_some(),
        props.query.to.is_some(),
    ]
    .into_iter()
    .filter(|b| *b)
    .count();
    let clear = {
        let on_apply = props.on_apply.clone();
        let scope = props.query.scope;
        let problems = problems.clone();
        let order = props.query.order;
        let limit = props.query.limit;
        Callback::from(move |_| {
            problems.set(Vec::new());
            on_apply.emit(ReportSelection {
                scope,
                order,
                limit,
                ..ReportSelection::default()
            })
        })
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        <details class="filters-box" open={*open_at_start}>
        <summary>{ match set_count { 0 => "Filters".to_owned(), 1 => "Filters (1 set)".to_owned(), n => format!("Filters ({n} set)") } }</summary>
        <form class="filters" aria-label="Filters" novalidate=true {onsubmit}>
            <div class="filters-errors"><ErrorSummary errors={(*problems).clone()} /></div>
            <div class="field">
                <label for="filter-status">{ "Status" }</label>
                <select id="filter-status" onchange={select(FilterAction::Status)}>
                    <option value="" selected={q.status.is_none()}>{ "Any status" }</option>
                    { for Status::ALL.into_iter().map(|s| html! {
                        <option value={s.as_str()} selected={q.status == Some(s)}>{ labels::status(s) }</option>
                    }) }
                </select>
            </div>
            <div class="field">
                <label for="filter-entry">{ "Entry" }</label>
                <select id="filter-entry" onchange={select(FilterAction::Entry)}>
                    <option value="" selected={q.entry_id.is_none()}>{ "Any entry" }</option>
                    { for props.entries.iter().map(|e| html! {
                        <option value={e.id.clone()} selected={q.entry_id.as_deref() == Some(e.id.as_str())}>{ &e.name }</option>
                    }) }
                </select>
            </div>
            <div class="field">
                <label for="filter-requester">{ "Requester (email)" }</label>
                <input type="text" inputmode="email" autocomplete="off" id="filter-requester" value={text(&q.requester)}
                    aria-invalid={wrong("filter-requester").to_string()} oninput={input(FilterAction::Requester)} />
            </div>
            <div class="field">
                <label for="filter-approver">{ "Approver (email)" }</label>
                <input type="text" inputmode="email" autocomplete="off" id="filter-approver" value={text(&q.approver)}
                    aria-invalid={wrong("filter-approver").to_string()} oninput={input(FilterAction::Approver)} />
            </div>
            <div class="field">
                <label for="filter-from">{ "Requested from" }</label>
                <input type="date" id="filter-from" value={text(&q.from)}
                    aria-invalid={wrong("filter-from").to_string()} oninput={input(FilterAction::From)} />
            </div>
            <div class="field">
                <label for="filter-to">{ "Requested to" }</label>
                <input type="date" id="filter-to" value={text(&q.to)}
                    aria-invalid={wrong("filter-to").to_string()} oninput={input(FilterAction::To)} />
            </div>
            <div class="field">
                <label for="filter-limit">{ "Rows per page" }</label>
                <select id="filter-limit" onchange={on_limit}>
                    { for PAGE_SIZES.iter().map(|n| html! {
                        <option value={n.to_string()} selected={q.page_size() == *n}>{ n.to_string() }</option>
                    }) }
                </select>
            </div>
            <div class="actions">
                <button type="submit">{ "Apply filters" }</button>
                <button type="button" class="secondary" onclick={clear}>{ "Clear filters" }</button>
            </div>
        </form>
        </details>
    }
}
