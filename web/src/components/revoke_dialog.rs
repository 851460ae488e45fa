//! Revoking someone's access early, with the reason they will read.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::components::FieldError;

#[derive(Properties, PartialEq)]
pub struct RevokeDialogProps {
    /// Whose access, on what.
    pub subject: AttrValue,
    /// Whether the revoke is running.
    #[prop_or_default]
    pub busy: bool,
    /// The server's complaint about the reason, if any.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// Revoke, with the reason.
    pub on_confirm: Callback<String>,
    /// Keep the access (also Escape).
    pub on_cancel: Callback<()>,
}

/// A dialog asking for the reason; it is required.
#[component]
pub fn RevokeDialog(props: &RevokeDialogProps) -> Html {
    let reason = use_state(String::new);
    let missing = use_state(|| false);
    let field = use_node_ref();
    {
        let field = field.clone();
        use_effect_with((), move |_| {
            if let Some(t) = field.cast::<web_sys::HtmlElement>() {
                let _ = t.focus();
            }
        });
    }
    let oninput = {
        let reason = reason.clone();
        let missing = missing.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            reason.set(t.value());
            missing.set(false);
        })
    };
    let confirm = {
        let reason = reason.clone();
        let missing = missing.clone();
        let on_confirm = props.on_confirm.clone();
        Callback::from(move |_| {
            if reason.trim().is_empty() {
                missing.set(true);
            } else {
                on_confirm.emit(reason.trim().to_owned());
            }
        })
    };
    let onkeydown = {
        let cancel = props.on_cancel.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                cancel.emit(());
            }
        })
    };
    let cancel = props.on_cancel.clone();
    let error = if *missing {
        Some(AttrValue::from("say why the access is revoked"))
    } else {
        props.error.clone()
    };
    html! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="revoke-title" {onkeydown}>
                <h2 id="revoke-title">{ "Revoke access" }</h2>
                <p>{ &props.subject }</p>
                <div class="field">
                    <label for="revoke-reason">{ "Reason (the requester reads it)" }</label>
                    <textarea id="revoke-reason" ref={field} rows="3" value={(*reason).clone()} {oninput}
                        aria-invalid={error.is_some().to_string()} aria-describedby="revoke-reason-error" />
                    <FieldError id="revoke-reason-error" {error} />
                </div>
                <div class="actions">
                    <button type="button" class="danger" disabled={props.busy} onclick={confirm}>
                        { if props.busy { "Revoking…" } else { "Revoke access" } }
                    </button>
                    <button type="button" class="secondary" onclick={move |_| cancel.emit(())}>{ "Cancel" }</button>
                </div>
            </div>
        </div>
    }
}
