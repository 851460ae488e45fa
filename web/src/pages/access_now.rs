//! Every grant active at this moment (admins: everyone's; others: their own).

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{ErrorNotice, Loading, TimeText};
use crate::hooks::{Load, use_api, use_session};
use crate::labels;
use crate::route::Route;

/// A table of active grants.
#[component]
pub fn AccessNowPage() -> Html {
    let session = use_session();
    let data = use_api((), |api, _| async move {
        let grants = api.access_now(false).await?;
        let sets: Vec<_> = api
            .entries()
            .await?
            .items
            .into_iter()
            .flat_map(|e| e.permission_sets)
            .collect();
        Ok((grants, sets))
    });
    let reload = data.reload.clone();
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading access now…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) if d.0.items.is_empty() => {
            html! { <p class="empty-state">{ "Nobody has temporary access at this moment." }</p> }
        }
        Load::Ready(d) => html! {
            <div class="table-scroll" role="region" aria-label="Active grants" tabindex="0">
                <table class="report">
                    <thead>
                        <tr>
                            <th scope="col">{ "Entry" }</th>
                            <th scope="col">{ "Who" }</th>
                            <th scope="col">{ "Rights" }</th>
                            <th scope="col">{ "Since" }</th>
                            <th scope="col">{ "Until" }</th>
                            <th scope="col">{ "Approver" }</th>
                            <th scope="col">{ "Timeline" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for d.0.items.iter().map(|r| html! {
                            <tr key={r.id.clone()}>
                                <td>{ &r.entry_name }</td>
                                <td>{ &r.requester }</td>
                                <td>{ labels::set_name(r.granted_permission_set.as_deref().unwrap_or(&r.permission_set), &d.1) }</td>
                                <td>{ for r.starts_at.map(|at| html! { <TimeText {at} /> }) }</td>
                                <td>{ for r.ends_at.map(|at| html! { <TimeText {at} /> }) }</td>
                                <td>{ &r.approver }</td>
                                <td><Link<Route> to={Route::Timeline { id: r.id.clone() }}>{ "Timeline" }</Link<Route>></td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        },
    };
    html! {
        <section>
            <div class="page-head">
                <h1>{ "Access now" }</h1>
                <button type="button" class="secondary" onclick={move |_| reload.emit(())}>{ "Refresh" }</button>
            </div>
            <p class="lead">{ if session.is_admin() { "Every grant active at this moment." } else { "Your grants active at this moment." } }</p>
            { body }
        </section>
    }
}
