//! The report's filters: status, entry, requester, approver, date range.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::EntryView;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

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
    let onsubmit = {
        let state = state.clone();
        let on_apply = props.on_apply.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_apply.emit(state.0.normalized());
        })
    };
    let clear = {
        let on_apply = props.on_apply.clone();
        let scope = props.query.scope;
        Callback::from(move |_| {
            on_apply.emit(ReportSelection {
                scope,
                ..ReportSelection::default()
            })
        })
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        <form class="filters" aria-label="Filters" {onsubmit}>
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
                <input type="email" id="filter-requester" value={text(&q.requester)} oninput={input(FilterAction::Requester)} />
            </div>
            <div class="field">
                <label for="filter-approver">{ "Approver (email)" }</label>
                <input type="email" id="filter-approver" value={text(&q.approver)} oninput={input(FilterAction::Approver)} />
            </div>
            <div class="field">
                <label for="filter-from">{ "Requested from" }</label>
                <input type="date" id="filter-from" value={text(&q.from)} oninput={input(FilterAction::From)} />
            </div>
            <div class="field">
                <label for="filter-to">{ "Requested to" }</label>
                <input type="date" id="filter-to" value={text(&q.to)} oninput={input(FilterAction::To)} />
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
    }
}
