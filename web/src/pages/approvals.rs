//! The signed-in approver's pending requests, decided here as on the mailed link.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::PermissionSetView;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{ApprovalCard, ErrorNotice, Loading};
use crate::hooks::{Load, use_api};
use crate::report::ReportSelection;
use crate::route::Route;
use crate::time::BrowserZone;

/// Pending requests where the person is the approver.
#[component]
pub fn ApprovalsPage() -> Html {
    let notice = use_state(|| None::<String>);
    let data = use_api((), |api, _| async move {
        let query = ReportSelection {
            scope: Some(ReportScope::Approvals),
            status: Some(Status::Pending),
            limit: Some(100),
            ..ReportSelection::default()
        };
        let pending = api
            .requests(&query.api_query(None, None, &BrowserZone))
            .await?;
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
                html! {
                    <div class="stack">
                        { for pending.items.iter().map(|r| {
                            let sets: Vec<PermissionSetView> = entries.items.iter()
                                .find(|e| e.id == r.entry_id)
                                .map(|e| e.permission_sets.clone())
                                .unwrap_or_default();
                            html! {
                                <ApprovalCard key={r.id.clone()} request={Rc::new(r.clone())}
                                    sets={Rc::new(sets)} on_decided={on_decided.clone()} />
                            }
                        }) }
                    </div>
                }
            }
        }
    };
    html! {
        <section>
            <h1>{ "Approvals" }</h1>
            <p class="lead">
                { "Requests waiting for your decision. Decided ones are in " }
                <Link<Route, ReportSelection> to={Route::Report} query={Some(ReportSelection { scope: Some(ReportScope::Approvals), ..ReportSelection::default() })}>
                    { "the report of your approvals" }
                </Link<Route, ReportSelection>>{ "." }
            </p>
            if let Some(text) = &*notice {
                <p class="notice success" role="status">{ text }</p>
            }
            { body }
        </section>
    }
}
