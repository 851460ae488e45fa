//! The entries the person may request, with their access now.

use std::rc::Rc;

use tempaccess_core::request::Status;
use yew::prelude::*;

use crate::components::{EntryCard, ErrorNotice, Loading};
use crate::hooks::{Load, use_api, use_session};

/// Every entry as a card.
#[component]
pub fn EntriesPage() -> Html {
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let data = use_api((), |api, _| async move {
        let entries = api.entries().await?;
        let grants = api.access_now(false).await?;
        Ok((entries, grants))
    });
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading your entries…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) => {
            let (entries, grants) = &**d;
            if entries.items.is_empty() {
                html! { <p>{ "There are no entries you may request access to." }</p> }
            } else {
                html! {
                    <div class="cards">
                        { for entries.items.iter().map(|e| {
                            let grant = grants.items.iter()
                                .find(|g| g.entry_id == e.id && g.requester == me && g.status == Status::Active)
                                .map(|g| Rc::new(g.clone()));
                            html! { <EntryCard key={e.id.clone()} entry={Rc::new(e.clone())} {grant} /> }
                        }) }
                    </div>
                }
            }
        }
    };
    let reload = data.reload.clone();
    html! {
        <section>
            <div class="page-head">
                <h1>{ "Entries" }</h1>
                <button type="button" class="secondary" onclick={move |_| reload.emit(())}>{ "Refresh" }</button>
            </div>
            <p class="lead">{ "Ask for temporary access to an entry; the approver you choose is emailed and decides. Access ends by itself." }</p>
            { body }
        </section>
    }
}
