//! Hooks over the browser: window events, timers, the page's title, and a clock that
//! ticks.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

use crate::time;

/// A timeout that is cleared when dropped.
pub struct Timeout {
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `f` once after `millis`.
    pub fn new(millis: i64, f: impl FnOnce() + 'static) -> Option<Self> {
        let mut f = Some(f);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.take() {
                f();
            }
        });
        let millis = i32::try_from(millis.clamp(0, i64::from(i32::MAX))).unwrap_or(i32::MAX);
        let id = web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                millis,
            )
            .ok()?;
        Some(Self {
            id,
            _callback: callback,
        })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(self.id);
        }
    }
}

/// What a window event listener calls.
type Handler = Box<dyn Fn(web_sys::Event)>;

/// Listens to `event` on `window` while the component lives; `handler` is the one of
/// the latest render.
#[hook]
pub fn use_event_listener<F>(event: &'static str, handler: F)
where
    F: Fn(web_sys::Event) + 'static,
{
    let latest: Rc<RefCell<Option<Handler>>> = use_mut_ref(|| None);
    *latest.borrow_mut() = Some(Box::new(handler));
    use_effect_with(event, move |event| {
        let event: &'static str = event;
        let closure = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
            if let Some(f) = &*latest.borrow() {
                f(e);
            }
        });
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ = w.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = &window {
                let _ =
                    w.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
            }
            drop(closure);
        }
    });
}

/// Sets the document's title to "`title` · tempaccess".
#[hook]
pub fn use_title(title: impl Into<String>) {
    let title: String = title.into();
    use_effect_with(title, |title| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&format!("{title} · tempaccess"));
        }
    });
}

/// The time now on the server's clock ([`time::now`]), again every `every_ms`.
#[hook]
pub fn use_clock(every_ms: i64) -> DateTime<Utc> {
    let now = use_state(time::now);
    {
        let now = now.clone();
        // Keyed on the time shown: each tick schedules the next.
        use_effect_with(*now, move |_| {
            let timer = Timeout::new(every_ms, move || now.set(time::now()));
            move || drop(timer)
        });
    }
    {
        let now = now.clone();
        use_event_listener(time::CLOCK_EVENT, move |_| now.set(time::now()));
    }
    *now
}

/// Whether the page is hidden (another tab, a minimised window).
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Runs `f` once after the browser has drawn what is rendering now.
pub fn after_render(f: impl FnOnce() + 'static) {
    let callback = Closure::once_into_js(f);
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0);
    }
}

/// Moves the keyboard focus to the element with `id`, once the browser has drawn it.
pub fn focus_id(id: &str) {
    let id = id.to_owned();
    after_render(move || {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}
