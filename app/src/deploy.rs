//! The `Deploy to live` dialog (PRODUCT.md §6): what changes against the live deployment, the
//! test secrets and databases to copy, the problems (errors block; warnings from
//! `model::missing_in_live` follow the ticks), an optional note, and `Confirm deploy`.

use crate::api::{deploy, deploy_preview};
use crate::draft::{DraftStore, SaveStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::wire::{DeployPreview, Deployment};
use std::collections::BTreeSet;

#[component]
pub fn DeployDialog(
    store: DraftStore,
    open: RwSignal<bool>,
    deployed: RwSignal<Option<Deployment>>,
) -> impl IntoView {
    let preview = RwSignal::new(None::<Result<DeployPreview, String>>);
    let secrets = RwSignal::new(BTreeSet::<String>::new());
    let databases = RwSignal::new(BTreeSet::<String>::new());
    let note = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let automation = store.automation.get_untracked();

    // Save what is pending first, so the dialog shows (and deploys) what is on screen.
    store.save_now();
    let requested = StoredValue::new(false);
    {
        let automation = automation.clone();
        Effect::new(move |_| {
            if store.status.get() != SaveStatus::Saved || requested.get_value() {
                return;
            }
            requested.set_value(true);
            let automation = automation.clone();
            spawn_local(async move {
                preview.set(Some(
                    deploy_preview(automation).await.map_err(|e| e.to_string()),
                ));
            });
        });
    }

    let warnings = move || {
        preview.with(|p| match p {
            Some(Ok(p)) => {
                let mut s: BTreeSet<String> = p.live_secrets.iter().cloned().collect();
                s.extend(secrets.get());
                let mut d: BTreeSet<String> = p.live_databases.iter().cloned().collect();
                d.extend(databases.get());
                model::missing_in_live(&p.document, &s, &d)
            }
            _ => vec![],
        })
    };
    let blocked =
        move || busy.get() || !preview.with(|p| matches!(p, Some(Ok(p)) if p.errors.is_empty()));
    let confirm = move |_| {
        let automation = automation.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = deploy(
                automation,
                secrets.get_untracked().into_iter().collect(),
                databases.get_untracked().into_iter().collect(),
                note.get_untracked(),
            )
            .await;
            busy.set(false);
            match r {
                Ok(d) => {
                    deployed.set(Some(d));
                    open.set(false);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let toggle = |set: RwSignal<BTreeSet<String>>, name: String| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            set.update(|s| {
                if on {
                    s.insert(name.clone());
                } else {
                    s.remove(&name);
                }
            });
        }
    };

    view! {
        <div class="overlay" on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="deploy-title">
                <header class="dialog-header">
                    <h2 id="deploy-title">"Deploy to live"</h2>
                    <button class="btn ghost" type="button" aria-label="Close" on:click=move |_| open.set(false)>"×"</button>
                </header>
                {move || match preview.get() {
                    None => view! { <p class="muted pad">{move || match store.status.get() {
                        SaveStatus::Saved => "Comparing with Live…".to_string(),
                        other => format!("Saving the draft first: {}", other.text()),
                    }}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="form-error pad" role="alert">{e}</p> }.into_any(),
                    Some(Ok(p)) => {
                        let lines = p.changes.lines();
                        let against = match p.live {
                            Some(n) => format!("Compared with deployment #{n}, the one Live runs now."),
                            None => "Nothing is live yet: everything below goes live.".to_string(),
                        };
                        let errors = p.errors.clone();
                        view! {
                            <div class="dialog-body stack">
                                <section>
                                    <h3>"Changes"</h3>
                                    <p class="muted small">{against}</p>
                                    {if lines.is_empty() {
                                        view! { <p class="muted">"No changes: Live already runs this draft."</p> }.into_any()
                                    } else {
                                        view! { <ul class="change-list">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> }.into_any()
                                    }}
                                </section>
                                <section>
                                    <h3>"Secrets"</h3>
                                    {if p.secrets.is_empty() {
                                        view! { <p class="muted small">"This automation has no test secrets."</p> }.into_any()
                                    } else {
                                        view! { <p class="muted small">"Tick the test secrets to copy to Live. Values are never shown."</p> }.into_any()
                                    }}
                                    <ul class="choice-list">
                                        {p.secrets.iter().map(|s| {
                                            let name = s.name.clone();
                                            let hint = if s.in_live { "replaces the live value" } else { "new in Live" };
                                            view! {
                                                <li><label class="choice">
                                                    <input type="checkbox" aria-label=name.clone() on:change=toggle(secrets, name.clone())/>
                                                    <code>{name.clone()}</code><span class="muted small">{hint}</span>
                                                </label></li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </section>
                                <section>
                                    <h3>"Databases"</h3>
                                    {if p.databases.is_empty() {
                                        view! { <p class="muted small">"This automation has no test databases."</p> }.into_any()
                                    } else {
                                        view! { <p class="muted small">"Tick the test databases to copy to Live. The live contents a copy replaces are kept as a backup of this deployment."</p> }.into_any()
                                    }}
                                    <ul class="choice-list">
                                        {p.databases.iter().map(|d| {
                                            let name = d.name.clone();
                                            let hint = match d.live_count {
                                                Some(n) => format!("{} records; replaces {n} live records", d.count),
                                                None => format!("{} records; new in Live", d.count),
                                            };
                                            view! {
                                                <li><label class="choice">
                                                    <input type="checkbox" aria-label=name.clone() on:change=toggle(databases, name.clone())/>
                                                    <code>{name.clone()}</code><span class="muted small">{hint}</span>
                                                </label></li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </section>
                                <section>
                                    <h3>"Problems"</h3>
                                    {if errors.is_empty() {
                                        view! { <p class="muted small">"No errors."</p> }.into_any()
                                    } else {
                                        view! { <p class="form-error">"These errors block the deploy; fix them in the draft:"</p> }.into_any()
                                    }}
                                    <ul class="problem-list">
                                        {errors.into_iter().map(|e| view! { <li class="problem error"><code>{e.path}</code>" "{e.message}</li> }).collect_view()}
                                        {move || warnings().into_iter().map(|w| view! { <li class="problem warning">{w}</li> }).collect_view()}
                                    </ul>
                                </section>
                                <label class="field"><span>"Note"</span>
                                    <textarea rows="2" maxlength="500" placeholder="What this deploy is for (optional)"
                                        prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                                </label>
                            </div>
                        }.into_any()
                    }
                }}
                {move || error.get().map(|e| view! { <p class="form-error pad" role="alert">{e}</p> })}
                <footer class="dialog-footer">
                    <button class="btn ghost" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="btn primary live-btn" type="button" disabled=blocked on:click=confirm>
                        {move || if busy.get() { "Deploying…" } else { "Confirm deploy" }}
                    </button>
                </footer>
            </div>
        </div>
    }
}
