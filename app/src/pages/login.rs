//! The login page.

use crate::api::Login;
use crate::ui::ActionError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <main class="center-page">
            <div class="card narrow">
                <div class="brand-lg"><span class="brand-mark"></span>"Slipway"</div>
                <h1>"Sign in"</h1>
                <ActionForm action=login attr:class="stack">
                    <input type="hidden" name="next" prop:value=next/>
                    <label class="field">
                        <span>"Username"</span>
                        <input name="username" autocomplete="username" required autofocus/>
                    </label>
                    <label class="field">
                        <span>"Password"</span>
                        <input name="password" type="password" autocomplete="current-password" required/>
                    </label>
                    <ActionError value=login.value()/>
                    <button class="btn primary" type="submit" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
