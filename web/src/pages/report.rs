//! The Temporary Access Requests Report: scopes, filters, the server's order, pages and
//! the total (all in the URL), CSV export, and each row's actions. Live.

use std::rc::Rc;

use tempaccess_core::report::ReportOrder;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::{RequestList, RequestsQuery};
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::history::History;
use yew_router::prelude::*;

use crate::api::{Api, ApiError};
use crate::components::{ErrorNotice, Loading, NavLink, ReportFilters, ReportTable, StaleNotice};
use crate::hooks::{Live, Load, use_api, use_live_api, use_session, use_title};
use crate::labels;
use crate::report::{self, ReportSelection};
use crate::route::Route;
use crate::time::BrowserZone;

/// How often the page shown is read again (statuses move on by themselves).
const EVERY_MS: i64 = 30_000;

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

/// What an empty report says: why it is empty.
fn empty_words(q: &ReportSelection) -> &'static str {
    match (q.is_filtered(), q.scope()) {
        (true, _) => "No requests match these filters. Clear them to see every request.",
        (false, ReportScope::Mine) => {
            "You have not requested access yet. Start from Entries: pick an entry and request temporary access."
        }
        (false, ReportScope::Approvals) => "Nobody has asked you to approve a request yet.",
        (false, ReportScope::All) => "Nobody has requested access yet.",
    }
}

/// The report page.
#[component]
pub fn ReportPage() -> Html {
    use_title("Reports");
    let session = use_session();
    let location = use_location();
    let query = location
        .and_then(|l| l.query::<ReportSelection>().ok())
        .unwrap_or_default();
    let notice = use_state(|| None::<String>);
    let exporting = use_state(|| None::<Result<(), ApiError>>);
    let busy_export = use_state(|| false);
    let data = use_live_api(
        query.clone(),
        Some(Live::every(EVERY_MS)),
        |api, q| async move {
            api.requests(&q.api_query(q.cursor().as_deref(), None, &BrowserZone))
                .await
        },
    );
    // The total is counted once per selection, not on every page or refresh: it reads
    // the whole selection.
    let total_count = use_api(query.first_page(), |api, q| async move {
        let counting = RequestsQuery {
            limit: Some(1),
            count: Some(true),
            ..q.api_query(None, None, &BrowserZone)
        };
        let page = api.requests(&counting).await?;
        Ok(page.total.map(|n| report::Counted {
            n,
            exact: page.total_exact.unwrap_or(true),
        }))
    });
    let total = match &total_count.load {
        Load::Ready(t) => **t,
        _ => None,
    };
    let go = Callback::from(move |q: ReportSelection| {
        let query = serde_urlencoded::to_string(q.normalized()).unwrap_or_default();
        let path = Route::Report.to_path();
        yew_router::history::BrowserHistory::new().push(if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        });
    });
    let on_order = {
        let go = go.clone();
        let query = query.clone();
        Callback::from(move |_| {
            let order = match query.order() {
                ReportOrder::Newest => ReportOrder::Oldest,
                ReportOrder::Oldest => ReportOrder::Newest,
            };
            go.emit(ReportSelection {
                order: Some(order),
                ..query.first_page()
            });
        })
    };
    let on_done = {
        let notice = notice.clone();
        let reload = data.reload.clone();
        let recount = total_count.reload.clone();
        Callback::from(move |text: String| {
            notice.set(Some(text));
            reload.emit(());
            recount.emit(());
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
                let q = serde_urlencoded::to_string(q).unwrap_or_default();
                html! {
                    <NavLink to={Route::Report} query={q} current={here} classes={classes!("tab")}>
                        { labels::scope(s) }
                    </NavLink>
                }
            }) }
        </nav>
    };
    let entries = use_api((), |api, _| async move { api.entries().await });
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
                items,
                next_cursor,
                offset,
                ..
            } = &**list;
            let page_no = query.page_number();
            let previous = {
                let go = go.clone();
                let q = query.previous_page();
                Callback::from(move |_| go.emit(q.clone()))
            };
            let next = next_cursor.clone().map(|c| {
                let go = go.clone();
                let q = query.next_page(&c);
                Callback::from(move |_| go.emit(q.clone()))
            });
            html! {
                <>
                    <p class="count" role="status">
                        { if items.is_empty() && page_no == 1 && next_cursor.is_none() {
                            empty_words(&query).to_owned()
                        } else {
                            report::showing(report::PagePlace {
                                page: page_no,
                                page_size: query.page_size(),
                                offset: *offset,
                                rows: items.len(),
                            }, total)
                        } }
                        { if query.order() == ReportOrder::Newest { " Newest first." } else { " Oldest first." } }
                    </p>
                    if !items.is_empty() {
                        <ReportTable rows={Rc::new(items.clone())} {sets} scope={scope}
                            order={query.order()} {on_order} {on_done} />
                    }
                    if page_no > 1 || next.is_some() {
                        <nav class="pager" aria-label="Pages">
                            <button type="button" class="secondary" disabled={page_no == 1} onclick={previous}>{ "Previous page" }</button>
                            <span class="page-no">{ format!("Page {page_no}") }</span>
                            <button type="button" class="secondary" disabled={next.is_none()}
                                onclick={next.unwrap_or_default()}>{ "Next page" }</button>
                        </nav>
                    }
                </>
            }
        }
    };
    html! {
        <section class="report-page">
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
            <StaleNotice error={data.stale.clone()} />
            { table }
        </section>
    }
}
