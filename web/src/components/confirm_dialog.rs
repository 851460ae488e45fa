//! A confirmation in a modal dialog: the seed's "Do you really want to…? OK".

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConfirmDialogProps {
    /// The question.
    pub title: AttrValue,
    /// What happens if confirmed.
    pub message: AttrValue,
    /// The confirming button.
    #[prop_or(AttrValue::Static("OK"))]
    pub confirm_label: AttrValue,
    /// Whether the action is running.
    #[prop_or_default]
    pub busy: bool,
    /// Why the last try failed.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// Confirmed.
    pub on_confirm: Callback<()>,
    /// Not confirmed (also Escape).
    pub on_cancel: Callback<()>,
}

/// A dialog with the question, OK and Cancel; OK has the focus, Escape cancels.
#[component]
pub fn ConfirmDialog(props: &ConfirmDialogProps) -> Html {
    let ok = use_node_ref();
    {
        let ok = ok.clone();
        use_effect_with((), move |_| {
            if let Some(button) = ok.cast::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let onkeydown = {
        let cancel = props.on_cancel.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                cancel.emit(());
            }
        })
    };
    let confirm = props.on_confirm.clone();
    let cancel = props.on_cancel.clone();
    html! {
        <div class="backdrop">
            <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"
                aria-describedby="confirm-message" {onkeydown}>
                <h2 id="confirm-title">{ &props.title }</h2>
                <p id="confirm-message">{ &props.message }</p>
                if let Some(e) = &props.error {
                    <p class="field-error" role="alert">{ e }</p>
                }
                <div class="actions">
                    <button type="button" ref={ok} disabled={props.busy} onclick={move |_| confirm.emit(())}>
                        { if props.busy { "Working…".into() } else { props.confirm_label.clone() } }
                    </button>
                    <button type="button" class="secondary" onclick={move |_| cancel.emit(())}>{ "Cancel" }</button>
                </div>
            </div>
        </div>
    }
}
