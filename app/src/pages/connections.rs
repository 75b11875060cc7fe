//! The Connections page: the automation's `http` connections (base URL and default headers).
//! Edited in Test through the draft store; Live shows what is deployed, read-only.

use crate::Mode;
use crate::draft::{use_doc, use_draft};
use crate::pages::frame::{LiveBanner, use_frame};
use crate::ui::EmptyState;
use leptos::prelude::*;
use serde_json::Value;

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let frame = use_frame();
    let store = use_draft();
    let doc = use_doc();
    let editable = move || frame.mode.get() == Mode::Test && store.can_edit.get();
    let names = move || {
        doc.get().doc.with(|d| {
            d.as_ref()
                .map(|d| {
                    d.connections
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let keyed = move || {
        names()
            .into_iter()
            .map(|n| (frame.mode.get(), n))
            .collect::<Vec<_>>()
    };
    view! {
        <LiveBanner/>
        <header class="page-header">
            <h1>"Connections"</h1>
            <Show when=editable>
                <button class="btn primary" type="button" on:click=move |_| { store.edit(None, |d| d.add_connection()); }>"New connection"</button>
            </Show>
        </header>
        <div class="page-body">
            <p class="muted">"A connection holds what HTTP steps share: a base URL and default headers, which may use "<code>"{{ secrets.NAME }}"</code>". It is part of the draft, so it is revisioned and deployed with the composers."</p>
            <Show when=move || !names().is_empty() fallback=move || view! {
                <EmptyState title=if frame.mode.get_untracked() == Mode::Live { "Nothing is live yet".to_string() } else { "No connections yet".to_string() }>
                    <p class="muted">{move || if frame.mode.get() == Mode::Live {
                        "Live shows the connections of the latest deployment."
                    } else {
                        "Create one, then pick it in an HTTP request step."
                    }}</p>
                </EmptyState>
            }>
                <ul class="connection-list">
                    // Keyed by mode too: a card reads the store of the mode it was made in.
                    <For each=keyed key=|k| k.clone() let:((_, name))>
                        <ConnectionCard name editable=Signal::derive(editable)/>
                    </For>
                </ul>
            </Show>
        </div>
    }
}

#[component]
fn ConnectionCard(name: String, editable: Signal<bool>) -> impl IntoView {
    let store = use_doc().get_untracked();
    let current = RwSignal::new(name.clone());
    let get = move |key: &'static str| {
        store.doc.with(|d| {
            d.as_ref()
                .and_then(|d| d.connection(&current.get()))
                .and_then(|c| c.config.get(key).cloned())
                .unwrap_or(Value::Null)
        })
    };
    let set = move |key: &'static str, v: Value| {
        let n = current.get_untracked();
        store.edit(Some(&format!("connection.{n}.{key}")), move |d| {
            if let Some(c) = d.connections.iter_mut().find(|c| c.name == n)
                && let Some(o) = c.config.as_object_mut()
            {
                o.insert(key.to_string(), v);
            }
        });
    };
    let name_error = RwSignal::new(None::<String>);
    let rename = move |new: String| {
        let old = current.get_untracked();
        if new == old {
            return;
        }
        if let Err(e) = model::NameKind::Connection.check(&new) {
            name_error.set(Some(e.to_string()));
            return;
        }
        let taken = store
            .doc
            .with_untracked(|d| d.as_ref().is_some_and(|d| d.connection(&new).is_some()));
        if taken {
            name_error.set(Some(format!("a connection named \"{new}\" already exists")));
            return;
        }
        name_error.set(None);
        let n2 = new.clone();
        store.edit(None, move |d| {
            if let Some(c) = d.connections.iter_mut().find(|c| c.name == old) {
                c.name = n2;
            }
        });
        current.set(new);
    };
    let headers_text =
        RwSignal::new(serde_json::to_string_pretty(&get("headers")).unwrap_or_default());
    let headers_error = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let delete = move |_| {
        let n = current.get_untracked();
        store.edit(None, move |d| d.connections.retain(|c| c.name != n));
    };
    view! {
        <li class="card connection">
            <fieldset class="fields" disabled=move || !editable.get()>
                <div class="row wrap">
                    <label class="field"><span>"Name"</span>
                        <input class="mono" prop:value=move || current.get() on:change=move |ev| rename(event_target_value(&ev))/></label>
                    <label class="field grow"><span>"Base URL"</span>
                        <input class="mono" placeholder="http://crm.intranet:8080/api" prop:value=move || match get("base_url") { Value::String(s) => s, _ => String::new() }
                            on:input=move |ev| set("base_url", Value::String(event_target_value(&ev)))/></label>
                </div>
                {move || name_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <label class="field"><span>"Headers"<span class="muted small">" · JSON"</span></span>
                    <textarea class="mono" rows="3" spellcheck="false" prop:value=move || headers_text.get()
                        on:input=move |ev| {
                            let t = event_target_value(&ev);
                            headers_text.set(t.clone());
                            match serde_json::from_str::<Value>(if t.trim().is_empty() { "{}" } else { &t }) {
                                Ok(v) if v.is_object() => { headers_error.set(None); set("headers", v); }
                                Ok(_) => headers_error.set(Some("Headers must be a JSON object".into())),
                                Err(e) => headers_error.set(Some(format!("Invalid JSON: {e}"))),
                            }
                        }></textarea></label>
                {move || headers_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            </fieldset>
            <Show when=move || editable.get()>
                <div class="row">
                    <Show when=move || confirming.get() fallback=move || view! {
                        <button class="btn ghost danger" type="button" aria-label=move || format!("Delete connection {}", current.get())
                            on:click=move |_| confirming.set(true)>"Delete"</button>
                    }>
                        <span class="small">{move || format!("Delete {}? Steps that use it will report a problem.", current.get())}</span>
                        <button class="btn danger" type="button" on:click=delete>"Delete connection"</button>
                        <button class="btn ghost" type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </Show>
                </div>
            </Show>
        </li>
    }
}
