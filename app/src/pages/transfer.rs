//! Settings → Automation: Export and Import (PRODUCT.md §15). Export is a plain form that asks
//! the REST API for the file (the browser downloads it: `Content-Disposition: attachment`), so it
//! works before the page is interactive. Import reads a chosen file into the form (or takes
//! pasted text) and sends it to the server function; the engine checks it.

use crate::api::ImportAutomation;
use crate::pages::frame::use_frame;
use crate::pages::settings::audited;
use crate::ui::ActionError;
use leptos::prelude::*;
use model::transfer::{Imported, MAX_IMPORT_BYTES};

#[component]
pub fn Transfer(changed: RwSignal<u32>) -> impl IntoView {
    let frame = use_frame();
    let can_edit = move || frame.me.with(|m| m.as_ref().is_some_and(|m| m.can_edit()));
    let import = ServerAction::<ImportAutomation>::new();
    audited(import.version(), changed);
    let text = RwSignal::new(String::new());
    let read_error = RwSignal::new(None::<String>);
    let export_url = move || format!("/api/v1/automations/{}/export", frame.automation.get());
    view! {
        <section class="card section" aria-labelledby="automation-h">
            <h2 id="automation-h">"Automation"</h2>
            <form method="get" action=export_url class="stack">
                <p class="muted">"Export downloads this automation's draft as one JSON file made for git: keys sorted, steps in their order, so a one-step edit is a few lines of diff. Secrets are named, never their values."</p>
                <label class="choice"><input type="checkbox" name="test_databases" value="true"/>
                    <span>"Include the records of the Test databases"</span></label>
                <div><button class="btn" type="submit">"Export"</button></div>
            </form>
            <Show when=can_edit>
                <hr class="divider"/>
                <ActionForm action=import attr:class="stack">
                    <p class="muted">"Import makes a file's document the draft of the automation named below, keeping its current draft as a backup revision, or creates that automation. Live changes only when you deploy."</p>
                    <label class="field"><span>"Import file"</span>
                        <input type="file" accept=".json,application/json"
                            on:change=move |ev| read_chosen_file(ev, text, read_error)/></label>
                    {move || read_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <label class="field"><span>"File contents"</span>
                        <textarea name="text" class="mono" rows="6" spellcheck="false" required
                            placeholder="{\"slipway_export\": 1, …}"
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))></textarea></label>
                    <label class="field"><span>"Import as"</span>
                        <input name="as_slug" class="mono" value=frame.automation.get_untracked()
                            placeholder="the slug the file names"/></label>
                    <div><button class="btn primary" type="submit">"Import"</button></div>
                </ActionForm>
                <ActionError value=import.value()/>
                {move || import.value().get().and_then(Result::ok).map(|done| view! { <Outcome done mode=frame.mode.get_untracked()/> })}
            </Show>
        </section>
    }
}

/// What an import did, for the person who asked.
#[component]
fn Outcome(done: Imported, mode: model::Mode) -> impl IntoView {
    let what = done.summary();
    let href = format!("/a/{}/{}", done.automation, mode.as_str());
    let missing = done
        .secrets_to_set()
        .into_iter()
        .map(|line| view! { <li>{line}</li> })
        .collect_view();
    let problems = (!done.problems.is_empty()).then(|| {
        view! { <li>{format!("The draft has {} problem(s); the canvas lists them.", done.problems.len())}</li> }
    });
    view! {
        <div role="status" class="stack tight">
            // A full load: the sidebar and canvas read the new draft.
            <p>{what}" "<a href=href rel="external">"Open it"</a></p>
            <ul class="muted small">{missing}{problems}</ul>
        </div>
    }
}

/// Reads the chosen file into `text` (the browser only; the form then sends it).
fn read_chosen_file(
    ev: leptos::ev::Event,
    text: RwSignal<String>,
    error: RwSignal<Option<String>>,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        if file.size() > MAX_IMPORT_BYTES as f64 {
            error.set(Some(format!(
                "{} is {:.1} MiB; an import holds at most {} MiB",
                file.name(),
                file.size() / (1 << 20) as f64,
                MAX_IMPORT_BYTES >> 20
            )));
            return;
        }
        error.set(None);
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => text.set(v.as_string().unwrap_or_default()),
                Err(_) => error.set(Some(format!("{} cannot be read", file.name()))),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, text, error, MAX_IMPORT_BYTES);
    }
}
