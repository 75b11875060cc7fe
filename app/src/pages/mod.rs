//! The pages of the app, one module each.

mod composer;
mod connections;
mod databases;
mod deployments;
pub(crate) mod frame;
mod home;
mod login;
mod retention;
mod runs;
mod secrets;
mod settings;
mod setup;
mod transfer;

pub use composer::{ComposerIndex, ComposerPage};
pub use connections::ConnectionsPage;
pub use databases::DatabasesPage;
pub use deployments::DeploymentsPage;
pub use frame::AutomationFrame;
pub use home::HomePage;
pub use login::LoginPage;
pub use runs::{RunPage, RunsPage};
pub use secrets::SecretsPage;
pub use settings::SettingsPage;
pub use setup::SetupPage;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="center-page">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="btn primary" href="/">"Go to Slipway"</a>
            </div>
        </main>
    }
}
