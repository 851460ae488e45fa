//! The Temporary Access Requests Report: scopes, filters, sorting, paging, CSV export,
//! and each row's "Cancel request" or "Revoke".

use std::rc::Rc;

use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::RequestList;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{Api, ApiError};
use crate::components::{ErrorNotice, Loading, ReportFilters, ReportTable};
use crate::hooks::{Load, use_api, use_session};
use crate::labels;
use crate::report::{self, Column, ReportSelection};
use crate::route::Route;
use crate::time::BrowserZone;

/// Which page: the cursors of the pages before this one.
#[derive(Clone, PartialEq, Default)]
pub struct Paging {
    cursors: Vec<String>,
}

pub enum PagingAction {
    Next(String),
    Previous,
    First,
}

impl Reducible for Paging {
    type Action = PagingAction;

    fn reduce(self: Rc<Self>, action: PagingAction) -> Rc<Self> {
        let mut cursors = self.cursors.clone();
        match action {
            PagingAction::Next(c) => cursors.push(c),
            PagingAction::Previous => {
                cursors.pop();
            }
            PagingAction::First => cursors.clear(),
        }
        Rc::new(Paging { cursors })
    }
}

/// Fetches every page of the report as CSV (the largest pages the API allows).
async fn export_csv(api: Api, query: ReportSelection) -> Result<String, ApiError> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = query.api_query(cursor.as_deref(), Some(500), &BrowserZone);
        let (page, next) = api.requests_csv(&q).await?;
        pages.push(page);
        match next {
            Some(c) if !c.is_empty() => cursor = Some(c),
            _ => break,
        }
    }
    Ok(report::join_csv_pages(&pages))
}

/// Hands text to the browser as a downloaded file.
fn download(name: &str, text: &str, mime: &str) -> Option<()> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    a.set_href(&url);
    a.set_download(name);
    document.body()?.append_child(&a).ok()?;
    a.click();
    a.remove();
    web_sys::Url::revoke_object_url(&url).ok()
}

/// The report page.
#[component]
pub fn ReportPage() -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let location = use_location();
    let query = location
        .and_then(|l| l.query::<ReportSelection>().ok())
        .unwrap_or_default();
    let paging = use_reducer(Paging::default);
    let notice = use_state(|| None::<String>);
    let exporting = use_state(|| None::<Result<(), ApiError>>);
    let busy_export = use_state(|| false);
    {
        let paging = paging.clone();
        use_effect_with(query.clone(), move |_| paging.dispatch(PagingAction::First));
    }
    let cursor = paging.cursors.last().cloned();
    let data = use_api(
        (query.clone(), cursor.clone()),
        |api, (q, cursor)| async move {
            api.requests(&q.api_query(cursor.as_deref(), None, &BrowserZone))
                .await
        },
    );
    let entries = use_api((), |api, _| async move { api.entries().await });

    let go = {
        let navigator = navigator.clone();
        Callback::from(move |q: ReportSelection| {
            if let Some(n) = &navigator {
                let _ = n.push_with_query(&Route::Report, &q.normalized());
            }
        })
    };
    let on_sort = {
        let go = go.clone();
        let query = query.clone();
        Callback::from(move |c: Column| {
            let (current, desc) = query.sort();
            go.emit(ReportSelection {
                sort: Some(c.key().to_owned()),
                desc: Some(if current == c { !desc } else { false }),
                ..query.clone()
            });
        })
    };
    let on_done = {
        let notice = notice.clone();
        let reload = data.reload.clone();
        Callback::from(move |text: String| {
            notice.set(Some(text));
            reload.emit(());
        })
    };
    let on_export = {
        let api = session.api();
        let query = query.clone();
        let exporting = exporting.clone();
        let busy = busy_export.clone();
        Callback::from(move |_| {
            let api = api.clone();
            let query = query.clone();
            let exporting = exporting.clone();
            let busy = busy.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = export_csv(api, query).await.map(|csv| {
                    download("temporary-access-requests.csv", &csv, "text/csv");
                });
                exporting.set(Some(result));
                busy.set(false);
            });
        })
    };

    let scope = query.scope();
    let mut scopes = vec![ReportScope::Mine, ReportScope::Approvals];
    if session.is_admin() {
        scopes.push(ReportScope::All);
    }
    let tabs = html! {
        <nav class="tabs" aria-label="Whose requests">
            { for scopes.into_iter().map(|s| {
                let here = s == scope;
                let q = ReportSelection { scope: Some(s), ..ReportSelection::default() }.normalized();
                html! {
                    <Link<Route, ReportSelection> to={Route::Report} query={Some(q)} classes={classes!("tab", here.then_some("current"))}>
                        <span aria-current={here.then_some("page")}>{ labels::scope(s) }</span>
                    </Link<Route, ReportSelection>>
                }
            }) }
        </nav>
    };
    let entry_list = match &entries.load {
        Load::Ready(e) => Rc::new(e.items.clone()),
        _ => Rc::new(Vec::new()),
    };
    let sets = Rc::new(
        entry_list
            .iter()
            .flat_map(|e| e.permission_sets.iter().cloned())
            .collect::<Vec<_>>(),
    );
    let table = match &data.load {
        Load::Loading => html! { <Loading label="Loading the report…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(list) => {
            let RequestList {
                items, next_cursor, ..
            } = &**list;
            let (column, desc) = query.sort();
            let mut rows = items.clone();
            report::sort_rows(&mut rows, column, desc);
            let page_no = paging.cursors.len() + 1;
            let previous = {
                let paging = paging.clone();
                Callback::from(move |_| paging.dispatch(PagingAction::Previous))
            };
            let next = next_cursor.clone().map(|c| {
                let paging = paging.clone();
                Callback::from(move |_| paging.dispatch(PagingAction::Next(c.clone())))
            });
            html! {
                <>
                    <p class="count" role="status">
                        { match rows.len() {
                            0 => "No requests match these filters.".to_owned(),
                            1 => format!("1 request on page {page_no}."),
                            n => format!("{n} requests on page {page_no}."),
                        } }
                        { " Sorting applies to the rows of this page." }
                    </p>
                    if !rows.is_empty() {
                        <ReportTable rows={Rc::new(rows)} {sets} sort={(column, desc)} {on_sort} {on_done} />
                    }
                    <div class="pager">
                        <button type="button" class="secondary" disabled={page_no == 1} onclick={previous}>{ "Previous page" }</button>
                        <span>{ format!("Page {page_no}") }</span>
                        <button type="button" class="secondary" disabled={next.is_none()}
                            onclick={next.unwrap_or_default()}>{ "Next page" }</button>
                    </div>
                </>
            }
        }
    };
    html! {
        <section>
            <div class="page-head">
                <h1>{ "Temporary Access Requests Report" }</h1>
                <button type="button" class="secondary" disabled={*busy_export} onclick={on_export}>
                    { if *busy_export { "Exporting…" } else { "Export CSV" } }
                </button>
            </div>
            { tabs }
            <ReportFilters query={query.clone()} entries={entry_list} on_apply={go} />
            if let Some(text) = &*notice {
                <p class="notice success" role="status">{ text }</p>
            }
            if let Some(result) = &*exporting {
                { match result {
                    Ok(()) => html! { <p class="notice success" role="status" id="export-status">{ "CSV exported: temporary-access-requests.csv" }</p> },
                    Err(e) => html! { <ErrorNotice error={e.clone()} /> },
                } }
            }
            { table }
        </section>
    }
}
