//! The site's entry point: mounts the app on `<body>`.

fn main() {
    yew::Renderer::<tempaccess_web::app::App>::new().render();
}
