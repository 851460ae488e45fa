//! One request and every event that happened to it.

use std::rc::Rc;

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{ErrorNotice, Loading, RequestActions, RequestSummary, TimeText};
use crate::hooks::{Load, use_api};
use crate::labels;
use crate::route::Route;

#[derive(Properties, PartialEq)]
pub struct TimelinePageProps {
    /// The request id.
    pub id: AttrValue,
}

/// The request's summary, its actions, and its timeline.
#[component]
pub fn TimelinePage(props: &TimelinePageProps) -> Html {
    let notice = use_state(|| None::<String>);
    let data = use_api(props.id.clone(), |api, id| async move {
        let detail = api.request_detail(&id).await?;
        // Names of the entry's sets, when the person may see the entry.
        let sets = api
            .entries()
            .await
            .ok()
            .and_then(|l| {
                l.items
                    .into_iter()
                    .find(|e| e.id == detail.request.entry_id)
            })
            .map(|e| e.permission_sets)
            .unwrap_or_default();
        Ok((detail, sets))
    });
    let on_done = {
        let notice = notice.clone();
        let reload = data.reload.clone();
        Callback::from(move |t: String| {
            notice.set(Some(t));
            reload.emit(());
        })
    };
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading the request…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) => {
            let (detail, sets) = &**d;
            let request = Rc::new(detail.request.clone());
            html! {
                <>
                    <RequestSummary request={request.clone()} sets={Rc::new(sets.clone())} />
                    <RequestActions request={request} {on_done} />
                    <h2>{ "Timeline" }</h2>
                    <ol class="timeline">
                        { for detail.events.iter().map(|e| html! {
                            <li class={format!("event event-{}", e.kind.as_str())}>
                                <TimeText at={e.at} />
                                <span class="event-kind">{ labels::event(e.kind) }</span>
                                <span class="event-actor">{ crate::labels::actor(&e.actor) }</span>
                                if !e.detail.is_empty() {
                                    <span class="event-detail">{ &e.detail }</span>
                                }
                            </li>
                        }) }
                    </ol>
                </>
            }
        }
    };
    html! {
        <section class="panel">
            <p class="breadcrumb"><Link<Route> to={Route::Report}>{ "← Report" }</Link<Route>></p>
            <h1>{ "Request" }</h1>
            if let Some(t) = &*notice {
                <p class="notice success" role="status">{ t }</p>
            }
            { body }
        </section>
    }
}
