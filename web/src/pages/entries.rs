//! The entries the person may request, with their access now, searchable, and live: a
//! grant that ends or is revoked elsewhere shows here within seconds.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::{EntryView, RequestsQuery};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::{EntryCard, ErrorNotice, Loading, StaleNotice};
use crate::hooks::{Live, Load, use_live_api, use_session, use_title};
use crate::labels;

/// How often the page reads the person's access again.
const EVERY_MS: i64 = 10_000;

/// Whether `entry` matches what was typed in the search box: its name, folder, kind
/// or an approver's name or email, ignoring case.
pub fn matches(entry: &EntryView, search: &str) -> bool {
    let search = search.trim().to_lowercase();
    if search.is_empty() {
        return true;
    }
    let mut haystack = vec![
        entry.name.to_lowercase(),
        entry.folder.to_lowercase(),
        labels::kind(entry.kind).to_lowercase(),
    ];
    haystack.extend(
        entry
            .approvers
            .iter()
            .flat_map(|a| [a.name.to_lowercase(), a.email.to_lowercase()]),
    );
    search
        .split_whitespace()
        .all(|word| haystack.iter().any(|h| h.contains(word)))
}

/// Every entry as a card.
#[component]
pub fn EntriesPage() -> Html {
    use_title("Entries");
    let session = use_session();
    let me = session.email().unwrap_or_default();
    let search = use_state(String::new);
    let wake = use_state(|| None);
    let data = use_live_api(
        (),
        Some(Live::every(EVERY_MS).waking_at(*wake)),
        |api, _| async move {
            let entries = api.entries().await?;
            let grants = api.access_now(true).await?;
            let pending = api
                .requests(&RequestsQuery {
                    scope: Some(ReportScope::Mine),
                    status: Some(Status::Pending),
                    limit: Some(100),
                    ..RequestsQuery::default()
                })
                .await?;
            Ok((entries, grants, pending))
        },
    );
    {
        // Read again just after the next start or end of one of the person's grants.
        let wake = wake.clone();
        let next = match &data.load {
            Load::Ready(d) => {
                d.1.items
                    .iter()
                    .flat_map(|g| [g.starts_at, g.ends_at])
                    .flatten()
                    .filter(|t| *t > crate::time::now())
                    .min()
            }
            _ => None,
        };
        use_effect_with(next, move |next| wake.set(*next));
    }
    let on_search = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            search.set(i.value());
        })
    };
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading your entries…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(d) => {
            let (entries, grants, pending) = &**d;
            let shown: Vec<&EntryView> = entries
                .items
                .iter()
                .filter(|e| matches(e, &search))
                .collect();
            if entries.items.is_empty() {
                html! { <p class="empty-state">{ "There are no entries you may request access to." }</p> }
            } else if shown.is_empty() {
                html! { <p class="empty-state" role="status">{ format!("No entry matches “{}”.", search.trim()) }</p> }
            } else {
                html! {
                    <>
                        <p class="count" role="status">{ match (shown.len(), entries.items.len()) {
                            (n, total) if n == total => format!("{total} entries."),
                            (n, total) => format!("{n} of {total} entries match."),
                        } }</p>
                        <div class="cards">
                            { for shown.into_iter().map(|e| {
                                // Active beats scheduled, as the server's access says.
                                let mine = |s: Status| grants.items.iter()
                                    .find(|g| g.entry_id == e.id && g.requester == me && g.status == s);
                                let grant = mine(Status::Active).or_else(|| mine(Status::Scheduled))
                                    .map(|g| Rc::new(g.clone()));
                                let waiting = pending.items.iter()
                                    .find(|r| r.entry_id == e.id)
                                    .map(|r| Rc::new(r.clone()));
                                html! { <EntryCard key={e.id.clone()} entry={Rc::new(e.clone())} {grant} pending={waiting} /> }
                            }) }
                        </div>
                    </>
                }
            }
        }
    };
    html! {
        <section>
            <h1>{ "Entries" }</h1>
            <p class="lead">{ "Ask for temporary access to an entry; the approver you choose is emailed and decides. Access ends by itself." }</p>
            <div class="field search">
                <label for="entry-search">{ "Search entries" }</label>
                <input type="search" id="entry-search" value={(*search).clone()} oninput={on_search}
                    placeholder="Name, folder or approver" autocomplete="off" />
            </div>
            <StaleNotice error={data.stale.clone()} />
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use tempaccess_core::entry::EntryKind;
    use tempaccess_core::wire::{AccessStatus, MyAccessView, Person};

    use super::*;

    fn entry() -> EntryView {
        EntryView {
            id: "payroll-rdp".into(),
            name: "Payroll server (RDP)".into(),
            kind: EntryKind::RemoteSession,
            folder: "Servers/Finance".into(),
            approvers: vec![Person {
                id: "dave@example.com".into(),
                name: "Dave Approver".into(),
                email: "dave@example.com".into(),
            }],
            permission_sets: vec![],
            duration_presets_seconds: vec![],
            max_duration_seconds: 3600,
            message_required: false,
            rotates: true,
            my_access: MyAccessView {
                status: AccessStatus::None,
                request_id: None,
                until: None,
            },
        }
    }

    #[test]
    fn search_reads_names_folders_kinds_and_approvers() {
        let e = entry();
        for hit in ["", "payroll", "FINANCE", "remote", "dave", "server dave"] {
            assert!(matches(&e, hit), "{hit}");
        }
        for miss in ["database", "bob", "payroll bob"] {
            assert!(!matches(&e, miss), "{miss}");
        }
    }
}
