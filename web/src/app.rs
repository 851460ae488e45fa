//! The app: reads `config.json`, then renders the site with its session and routes.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{NavBar, RouteFocus, SessionProvider, ZoneFooter};
use crate::config::{CONFIG_PATH, SiteConfig};
use crate::route::{Route, switch};

/// Loading the settings.
enum ConfigLoad {
    Loading,
    Ready(Rc<SiteConfig>),
    Failed(String),
}

async fn load_config() -> Result<SiteConfig, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(CONFIG_PATH))
        .await
        .map_err(|_| "the site's settings could not be fetched".to_owned())?
        .dyn_into()
        .map_err(|_| "unexpected answer".to_owned())?;
    if !response.ok() {
        return Err(format!("{CONFIG_PATH} answered {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|_| "unreadable answer")?)
        .await
        .map_err(|_| "unreadable answer".to_owned())?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| format!("{CONFIG_PATH} is not valid: {e}"))
}

/// The whole site.
#[component]
pub fn App() -> Html {
    let config = use_state(|| ConfigLoad::Loading);
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                config.set(match load_config().await {
                    Ok(c) => ConfigLoad::Ready(Rc::new(c)),
                    Err(e) => ConfigLoad::Failed(e),
                });
            });
        });
    }
    match &*config {
        ConfigLoad::Loading => html! {
            <main id="main" class="container"><p class="loading" role="status">{ "Loading…" }</p></main>
        },
        ConfigLoad::Failed(e) => html! {
            <main id="main" class="container">
                <div class="notice error" role="alert">
                    <h1>{ "The site could not start" }</h1>
                    <p>{ format!("Its settings could not be read: {e}.") }</p>
                </div>
            </main>
        },
        ConfigLoad::Ready(c) => html! {
            <SessionProvider config={c.clone()}>
                <BrowserRouter>
                    <RouteFocus />
                    <a class="skip-link" href="#main">{ "Skip to content" }</a>
                    <NavBar />
                    <main id="main" class="container" tabindex="-1">
                        <Switch<Route> render={switch} />
                    </main>
                    <ZoneFooter />
                </BrowserRouter>
            </SessionProvider>
        },
    }
}
