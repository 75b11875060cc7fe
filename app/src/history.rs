//! The revision browser: the automation's revisions newest first, grouped by day; a preview of
//! one on the canvas (read-only, steps marked against the draft); restore; naming a version.

use crate::api::{NameVersion, get_revision, list_revisions, restore_revision};
use crate::draft::DraftStore;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::wire::Revision;

/// The revision being previewed, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub number: u64,
    pub document: model::Document,
}

#[component]
pub fn RevisionHistory(
    store: DraftStore,
    preview: RwSignal<Option<Preview>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let name = ServerAction::<NameVersion>::new();
    let refresh = RwSignal::new(0u32);
    let revisions = Resource::new(
        move || {
            (
                store.automation.get(),
                name.version().get(),
                refresh.get(),
                store.version.get(),
            )
        },
        |(a, _, _, _)| list_revisions(a),
    );
    let error = RwSignal::new(None::<String>);
    let pick = move |n: u64| {
        let a = store.automation.get_untracked();
        spawn_local(async move {
            match get_revision(a, n).await {
                Ok(document) => {
                    error.set(None);
                    preview.set(Some(Preview {
                        number: n,
                        document,
                    }));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let close = move || {
        preview.set(None);
        open.set(false);
    };
    view! {
        <aside class="inspector history" aria-label="Revision history"
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
            <div class="inspector-body">
                <div class="row spread">
                    <h2>"Revision history"</h2>
                    <button class="btn ghost icon-btn" type="button" aria-label="Close revision history" on:click=move |_| close()>"×"</button>
                </div>
                <Show when=move || store.can_edit.get()>
                    <ActionForm action=name attr:class="name-version">
                        <input type="hidden" name="automation" prop:value=move || store.automation.get()/>
                        <label class="field grow"><span>"Version name"</span><input name="label" required maxlength="100" placeholder="before the big change"/></label>
                        <button class="btn" type="submit">"Name this version"</button>
                    </ActionForm>
                    <crate::ui::ActionError value=name.value()/>
                </Show>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || revisions.get().map(|r| match r {
                        Ok(list) => view! { <RevisionList list preview pick/> }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    })}
                </Transition>
            </div>
        </aside>
    }
}

#[component]
fn RevisionList(
    list: Vec<Revision>,
    preview: RwSignal<Option<Preview>>,
    pick: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    // Grouped by day (UTC), as the server's times are.
    let mut days: Vec<(String, Vec<Revision>)> = vec![];
    for r in list {
        let day = r.created_at.format("%A, %e %B %Y").to_string();
        match days.last_mut() {
            Some((d, items)) if *d == day => items.push(r),
            _ => days.push((day, vec![r])),
        }
    }
    view! {
        <div class="revision-days">
            {days.into_iter().map(|(day, items)| view! {
                <section class="revision-day">
                    <h3 class="section-title">{day}</h3>
                    <ul class="revision-list">
                        {items.into_iter().map(|r| {
                            let n = r.number;
                            let current = move || preview.with(|p| p.as_ref().map(|p| p.number) == Some(n));
                            view! {
                                <li>
                                    <button type="button" class="revision" class:current=current aria-label=format!("Revision {n}")
                                        aria-pressed=move || current().to_string() on:click=move |_| pick(n)>
                                        <span class="row spread">
                                            <span class="strong">{format!("#{n}")}
                                                {r.label.clone().map(|l| view! { <span class="rev-label">{format!(" {l}")}</span> })}
                                            </span>
                                            <span class=format!("pill kind-{}", r.kind.as_str())>{r.kind.as_str()}</span>
                                        </span>
                                        <span class="small">{r.summary.clone()}</span>
                                        <span class="muted small" title=crate::ui::iso(&r.created_at)>{format!("{} · {}", r.author, r.created_at.format("%H:%M:%S UTC"))}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }).collect_view()}
        </div>
    }
}

/// The bar above a previewed revision: what it is, restore, back to the draft.
#[component]
pub fn PreviewBar(
    store: DraftStore,
    preview: RwSignal<Option<Preview>>,
    removed: Signal<Vec<String>>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let restore = move |_| {
        let Some(p) = preview.get_untracked() else {
            return;
        };
        let a = store.automation.get_untracked();
        busy.set(true);
        spawn_local(async move {
            match restore_revision(a.clone(), p.number).await {
                Ok(_) => {
                    preview.set(None);
                    store.load(a);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="preview-bar" role="region" aria-label="Revision preview">
            <span class="strong">{move || preview.with(|p| p.as_ref().map(|p| format!("Previewing revision {}", p.number)))}</span>
            <span class="muted small">"Read-only. Marked against the draft: added and changed steps."
                {move || removed.with(|r| (!r.is_empty()).then(|| format!(" Not in this revision: {}.", r.join(", "))))}
            </span>
            {move || error.get().map(|e| view! { <span class="form-error">{e}</span> })}
            <span class="grow"></span>
            <Show when=move || store.can_edit.get()>
                <button class="btn primary" type="button" disabled=move || busy.get() on:click=restore>"Restore this revision"</button>
            </Show>
            <button class="btn" type="button" on:click=move |_| preview.set(None)>"Back to draft"</button>
        </div>
    }
}
