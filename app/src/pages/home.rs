//! `/`: sends a signed-in user to their first automation, or offers to create one.

use crate::api::{CreateAutomation, list_automations, whoami};
use crate::ui::{ActionError, EmptyState};
use leptos::prelude::*;
use leptos_router::components::Redirect;

#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(
        || (),
        |_| async move {
            let me = whoami().await?;
            let list = match &me {
                Some(_) => list_automations().await?,
                None => vec![],
            };
            Ok::<_, crate::error::AppError>((me, list))
        },
    );
    view! {
        <Suspense fallback=|| view! { <main class="center-page"><p class="muted">"Loading…"</p></main> }>
            {move || data.get().map(|r| match r {
                Ok((None, _)) => view! { <Redirect path="/login"/> }.into_any(),
                Ok((Some(_), list)) if !list.is_empty() => {
                    let to = format!("/a/{}/test", list[0].slug);
                    view! { <Redirect path=to/> }.into_any()
                }
                Ok((Some(me), _)) => view! {
                    <main class="center-page">
                        <div class="card">
                            <div class="brand-lg"><span class="brand-mark"></span>"Slipway"</div>
                            <EmptyState title="No automations yet".to_string()>
                                <p class="muted">"An automation holds composers, connections, secrets and databases, in Test and in Live."</p>
                                {if me.can_edit() {
                                    view! { <NewAutomation/> }.into_any()
                                } else {
                                    view! { <p class="muted">"Ask an editor to create one."</p> }.into_any()
                                }}
                            </EmptyState>
                        </div>
                    </main>
                }.into_any(),
                Err(e) => view! { <main class="center-page"><p class="form-error">{e.to_string()}</p></main> }.into_any(),
            })}
        </Suspense>
    }
}

/// The "New automation" button and the small form it opens.
#[component]
pub fn NewAutomation() -> impl IntoView {
    let open = RwSignal::new(false);
    let create = ServerAction::<CreateAutomation>::new();
    view! {
        <div class="inline-create">
            <button class="btn" type="button" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                <crate::ui::Icon name="plus"/>"New automation"
            </button>
            <Show when=move || open.get()>
                <ActionForm action=create attr:class="stack popover-form"
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
                    <label class="field"><span>"Automation name"</span>
                        <input name="name" required maxlength="100" autofocus placeholder="Orders"/></label>
                    <ActionError value=create.value()/>
                    <div class="row">
                        <button class="btn primary" type="submit">"Create automation"</button>
                        <button class="btn ghost" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </ActionForm>
            </Show>
        </div>
    }
}
