//! After a move to another page of the site, focus goes to the new page's heading, so a
//! screen reader says where the reader is and Tab starts from the page's top.

use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::after_render;

/// Watches the location; renders nothing.
#[component]
pub fn RouteFocus() -> Html {
    let location = use_location();
    let path = location.map(|l| l.path().to_owned());
    let first = use_mut_ref(|| true);
    use_effect_with(path, move |_| {
        // The first page of a visit keeps the browser's own focus.
        if first.replace(false) {
            return;
        }
        after_render(|| {
            let Some(document) = web_sys::window().and_then(|w| w.document()) else {
                return;
            };
            let target = document
                .query_selector("main h1")
                .ok()
                .flatten()
                .or_else(|| document.get_element_by_id("main"));
            if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                if !el.has_attribute("tabindex") {
                    let _ = el.set_attribute("tabindex", "-1");
                }
                let _ = el.focus();
            }
        });
    });
    html! {}
}
