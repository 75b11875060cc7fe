//! First start: the one-time setup link creates the first admin.

use crate::api::{CompleteSetup, setup_valid};
use crate::ui::ActionError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let valid = Resource::new(token, setup_valid);
    let setup = ServerAction::<CompleteSetup>::new();
    view! {
        <main class="center-page">
            <div class="card narrow">
                <div class="brand-lg"><span class="brand-mark"></span>"Slipway"</div>
                <h1>"Create the first admin"</h1>
                <Suspense fallback=|| view! { <p class="muted">"Checking the setup link…"</p> }>
                    {move || valid.get().map(|v| match v {
                        Ok(true) => view! {
                            <ActionForm action=setup attr:class="stack">
                                <input type="hidden" name="token" prop:value=token/>
                                <label class="field"><span>"Username"</span>
                                    <input name="username" autocomplete="username" required/></label>
                                <label class="field"><span>"Password"</span>
                                    <input name="password" type="password" autocomplete="new-password" minlength="8" required/></label>
                                <ActionError value=setup.value()/>
                                <button class="btn primary" type="submit">"Create admin"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <p>"This setup link is not valid: it was already used, or the server printed a newer one."</p>
                            <a class="btn" href="/login">"Go to sign in"</a>
                        }.into_any(),
                    })}
                </Suspense>
            </div>
        </main>
    }
}
