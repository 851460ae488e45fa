//! The list of a form's errors at its top, each a link to its field, as the GOV.UK and
//! WAI forms patterns show it; the form moves focus to its first wrong field.

use yew::prelude::*;

use crate::hooks::focus_id;

#[derive(Properties, PartialEq)]
pub struct ErrorSummaryProps {
    /// Each error: the id of its field, and the message with the field's name.
    pub errors: Vec<(String, String)>,
}

/// "There is a problem" and the errors, or nothing.
#[component]
pub fn ErrorSummary(props: &ErrorSummaryProps) -> Html {
    if props.errors.is_empty() {
        return html! {};
    }
    let title = if props.errors.len() == 1 {
        "There is a problem".to_owned()
    } else {
        format!("There are {} problems", props.errors.len())
    };
    html! {
        <div class="notice error error-summary" role="alert" aria-labelledby="error-summary-title">
            <h2 id="error-summary-title">{ title }</h2>
            <ul>
                { for props.errors.iter().map(|(id, message)| {
                    // Focus the field without touching the URL's fragment (the decision
                    // page keeps its link's token there).
                    let target = id.clone();
                    let onclick = Callback::from(move |e: MouseEvent| {
                        e.prevent_default();
                        focus_id(&target);
                    });
                    html! { <li><a href={format!("#{id}")} {onclick}>{ message }</a></li> }
                }) }
            </ul>
        </div>
    }
}
