//! The Leptos UI: the document shell, the router, the pages, and the `#[server]` functions
//! (thin adapters over `engine`, compiled into the server only).
#![recursion_limit = "256"]

pub mod api;
mod canvas;
#[cfg(feature = "ssr")]
mod csp;
mod deploy;
mod draft;
pub mod error;
mod history;
mod inspector;
mod mode;
mod pages;
mod runwatch;
#[cfg(feature = "ssr")]
pub mod session;
mod ui;

pub use mode::Mode;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::provide_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="slipway" href="/pkg/slipway.css"/>
        <Title text="Slipway"/>
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/login") view=pages::LoginPage/>
                <Route path=path!("/setup") view=pages::SetupPage/>
                <Route path=path!("/") view=pages::HomePage/>
                <ParentRoute path=path!("/a/:automation/:mode") view=pages::AutomationFrame>
                    <Route path=path!("") view=pages::ComposerIndex/>
                    <Route path=path!("c/:composer") view=pages::ComposerPage/>
                    <Route path=path!("connections") view=pages::ConnectionsPage/>
                    <Route path=path!("databases") view=pages::DatabasesPage/>
                    <Route path=path!("secrets") view=pages::SecretsPage/>
                    <Route path=path!("runs") view=pages::RunsPage/>
                    <Route path=path!("runs/:id") view=pages::RunPage/>
                    <Route path=path!("deployments") view=pages::DeploymentsPage/>
                    <Route path=path!("settings") view=pages::SettingsPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
