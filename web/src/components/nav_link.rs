//! A link to a page of the site that marks itself `aria-current="page"` when it is the
//! page shown, and navigates without reloading.

use yew::prelude::*;
use yew_router::history::{BrowserHistory, History};
use yew_router::prelude::*;

use crate::route::Route;

#[derive(Properties, PartialEq)]
pub struct NavLinkProps {
    /// Where it goes.
    pub to: Route,
    /// Its query string, without `?` (empty: none).
    #[prop_or_default]
    pub query: AttrValue,
    /// Whether it is the page shown now.
    #[prop_or_default]
    pub current: bool,
    /// Its classes (`current` is added when it is current).
    #[prop_or_default]
    pub classes: Classes,
    /// An accessible name, when the text alone is not enough.
    #[prop_or_default]
    pub label: Option<AttrValue>,
    /// The link's content.
    pub children: Html,
}

/// `<a href aria-current>`: a plain click navigates within the site; a click with a
/// modifier (new tab, new window) is the browser's.
#[component]
pub fn NavLink(props: &NavLinkProps) -> Html {
    let href = if props.query.is_empty() {
        props.to.to_path()
    } else {
        format!("{}?{}", props.to.to_path(), props.query)
    };
    let onclick = {
        let href = href.clone();
        Callback::from(move |e: MouseEvent| {
            if e.button() != 0 || e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key() {
                return;
            }
            e.prevent_default();
            BrowserHistory::new().push(href.clone());
        })
    };
    let classes = classes!(props.classes.clone(), props.current.then_some("current"));
    html! {
        <a href={href} class={classes} aria-current={props.current.then_some("page")}
            aria-label={props.label.clone()} {onclick}>
            { props.children.clone() }
        </a>
    }
}
