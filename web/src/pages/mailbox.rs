//! The embedded default's mailbox: every mail the server "sent", so decision links
//! can be followed without a mail server.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::components::{ErrorNotice, Loading, MailText, TimeText};
use crate::hooks::{Live, Load, use_live_api, use_session, use_title};

/// Mails, newest first, with a filter by recipient.
#[component]
pub fn MailboxPage() -> Html {
    use_title("Mailbox");
    let session = use_session();
    let to = use_state(String::new);
    let data = use_live_api((), Some(Live::every(10_000)), |api, _| async move {
        api.mail().await
    });
    if !session.config().is_dev() {
        return html! {
            <section class="panel">
                <h1>{ "Mailbox" }</h1>
                <p>{ "The mailbox exists only on the demo server; here mail is really sent." }</p>
            </section>
        };
    }
    let reload = data.reload.clone();
    let on_to = {
        let to = to.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            to.set(s.value());
        })
    };
    let body = match &data.load {
        Load::Loading => html! { <Loading label="Loading the mailbox…" /> },
        Load::Failed(e) => {
            html! { <ErrorNotice error={e.clone()} on_retry={data.reload.clone()} /> }
        }
        Load::Ready(mails) => {
            let mut recipients: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
            recipients.sort_unstable();
            recipients.dedup();
            let shown: Vec<_> = mails
                .iter()
                .rev()
                .filter(|m| to.is_empty() || m.to == *to)
                .collect();
            html! {
                <>
                    <div class="field inline">
                        <label for="mail-to">{ "Recipient" }</label>
                        <select id="mail-to" onchange={on_to}>
                            <option value="" selected={to.is_empty()}>{ "Everyone" }</option>
                            { for recipients.iter().map(|r| html! {
                                <option value={r.to_string()} selected={*to == *r}>{ *r }</option>
                            }) }
                        </select>
                    </div>
                    if shown.is_empty() {
                        <p class="empty-state">{ "No mail yet." }</p>
                    }
                    { for shown.into_iter().map(|m| html! {
                        <article class="card mail">
                            <header>
                                <h2>{ &m.subject }</h2>
                                <p class="meta">{ format!("To {} · ", m.to) }<TimeText at={m.sent_at} /></p>
                            </header>
                            <MailText text={m.text.clone()} />
                        </article>
                    }) }
                </>
            }
        }
    };
    html! {
        <section>
            <div class="page-head">
                <h1>{ "Mailbox" }</h1>
                <button type="button" class="secondary" onclick={move |_| reload.emit(())}>{ "Refresh" }</button>
            </div>
            <p class="lead">{ "This demo server sends no mail: every message lands here. Follow a decision link to decide as its approver." }</p>
            { body }
        </section>
    }
}
