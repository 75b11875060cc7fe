//! The Canvas section: the composer index and one composer's editor (canvas, inspector,
//! revision history) in Test; in Live, what is deployed (read-only).

use crate::Mode;
use crate::canvas::{Canvas, CanvasCtx, Selection};
use crate::draft::{DraftStore, SaveStatus, use_doc};
use crate::history::{Preview, PreviewBar, RevisionHistory};
use crate::inspector::Inspector;
use crate::pages::frame::{LiveBanner, use_frame};
use crate::ui::EmptyState;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::{Mark, StepKind};

#[component]
pub fn ComposerIndex() -> impl IntoView {
    let frame = use_frame();
    let doc = use_doc();
    let mode = frame.mode;
    let composers = move || {
        doc.get().doc.with(|d| {
            d.as_ref()
                .map(|d| {
                    d.composers
                        .iter()
                        .map(|c| {
                            (
                                c.slug.clone(),
                                c.name.clone(),
                                c.trigger.kind(),
                                c.steps.len(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let deployment = move || doc.get().deployment.get();
    view! {
        <LiveBanner/>
        <header class="page-header">
            <h1>"Composers"</h1>
            {move || deployment().filter(|_| mode.get() == Mode::Live).map(|n| view! { <span class="pill live-pill">{format!("Deployment #{n}")}</span> })}
        </header>
        <div class="page-body">
            <Show when=move || !composers().is_empty() fallback=move || if mode.get() == Mode::Live {
                view! {
                    <EmptyState title="Nothing is live yet".to_string()>
                        <p class="muted">"Live shows the latest deployment of this automation: its composers run there from webhooks and schedules, with live secrets and databases. Build and try composers in Test, then deploy them."</p>
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <EmptyState title="No composers yet".to_string()>
                        <p class="muted">"A composer is one workflow: a trigger and the steps it runs. Create one with “New composer” in the sidebar."</p>
                    </EmptyState>
                }.into_any()
            }>
                <ul class="cards">
                    {move || composers().into_iter().map(|(slug, name, trigger, steps)| {
                        let href = format!("/a/{}/{}/c/{slug}", frame.automation.get(), mode.get().as_str());
                        view! {
                            <li class="card composer-card">
                                <A href=href><span class="strong">{name}</span></A>
                                <span class="muted small">{format!("{trigger} trigger · {steps} step{}", if steps == 1 { "" } else { "s" })}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
        </div>
    }
}

#[component]
pub fn ComposerPage() -> impl IntoView {
    let frame = use_frame();
    let params = use_params_map();
    let slug = Memo::new(move |_| params.read().get("composer").unwrap_or_default());
    let doc = use_doc();
    view! {
        <LiveBanner/>
        {move || {
            let store = doc.get();
            let live = frame.mode.get() == Mode::Live;
            if live && store.status.get() == SaveStatus::Saved && store.deployment.get().is_none() {
                view! {
                    <header class="page-header"><h1>{move || slug.get()}</h1></header>
                    <div class="page-body">
                        <EmptyState title="Not deployed".to_string()>
                            <p class="muted">"Live shows the latest deployment, and nothing has been deployed yet. Deploy from the canvas in Test."</p>
                        </EmptyState>
                    </div>
                }.into_any()
            } else {
                view! { <Editor slug store live/> }.into_any()
            }
        }}
    }
}

#[component]
fn Editor(slug: Memo<String>, store: DraftStore, live: bool) -> impl IntoView {
    let frame = use_frame();
    let deploy_open = RwSignal::new(false);
    let deployed = RwSignal::new(None::<model::wire::Deployment>);
    let confirm_live_run = RwSignal::new(false);
    let is_admin = move || frame.me.with(|m| m.as_ref().is_some_and(|m| m.is_admin()));
    let preview = RwSignal::new(None::<Preview>);
    let history_open = RwSignal::new(false);
    let selected = RwSignal::new(Selection::None);
    let composer = Memo::new(move |_| {
        let s = slug.get();
        preview.with(|p| match p {
            Some(p) => p.document.composer(&s).cloned(),
            None => store
                .doc
                .with(|d| d.as_ref().and_then(|d| d.composer(&s).cloned())),
        })
    });
    let diff_marks = Memo::new(move |_| {
        preview
            .with(|p| {
                p.as_ref().map(|p| {
                    store.doc.with(|d| {
                        d.as_ref()
                            .map(|d| model::diff(d, &p.document).step_marks(&slug.get()))
                            .unwrap_or_default()
                    })
                })
            })
            .unwrap_or_default()
    });
    let marks = Signal::derive(move || {
        diff_marks.with(|m| {
            m.iter()
                .filter(|(_, k)| **k != Mark::Removed)
                .map(|(n, k)| (n.clone(), *k))
                .collect()
        })
    });
    let removed = Signal::derive(move || {
        diff_marks.with(|m| {
            m.iter()
                .filter(|(_, k)| **k == Mark::Removed)
                .map(|(n, _)| n.clone())
                .collect()
        })
    });
    let read_only = Signal::derive(move || {
        preview.with(Option::is_some)
            || !store.can_edit.get()
            || matches!(store.status.get(), SaveStatus::Conflict(_))
    });
    let problems = Signal::derive(move || {
        if preview.with(Option::is_some) {
            vec![]
        } else {
            store.problems.get()
        }
    });
    let watch = crate::runwatch::use_run_watch();
    let run = Signal::derive(move || {
        if preview.with(Option::is_some) {
            return None;
        }
        watch.current.get().filter(|r| {
            r.composer == slug.get()
                && r.automation == store.automation.get()
                && (r.mode == Mode::Live) == live
        })
    });
    let ctx = CanvasCtx::new(
        composer,
        read_only,
        selected,
        marks,
        problems,
        Some(store),
        run,
    );

    // Preview changes what is shown: a selection of the other document would dangle.
    Effect::new(move |_| {
        preview.track();
        selected.set(Selection::None);
    });

    Effect::new(move |_| {
        let h = window_event_listener(leptos::ev::keydown, move |ev| {
            if typing_in_a_field(&ev) {
                return;
            }
            let key = ev.key();
            let ctrl = ev.ctrl_key() || ev.meta_key();
            if (key == "Delete" || key == "Backspace") && !ctrl {
                ev.prevent_default();
                ctx.delete_selection();
            } else if ctrl && key.eq_ignore_ascii_case("z") && ev.shift_key()
                || ctrl && key.eq_ignore_ascii_case("y")
            {
                ev.prevent_default();
                if !read_only.get_untracked() {
                    store.redo();
                }
            } else if ctrl && key.eq_ignore_ascii_case("z") {
                ev.prevent_default();
                if !read_only.get_untracked() {
                    store.undo();
                }
            } else if key == "Escape" {
                if preview.with_untracked(Option::is_some) {
                    preview.set(None);
                } else {
                    selected.set(Selection::None);
                }
            }
        });
        on_cleanup(move || h.remove());
    });

    let automation_name = move || {
        frame
            .data
            .get()
            .and_then(|d| d.ok())
            .map(|d| d.automation.name)
            .unwrap_or_default()
    };
    view! {
        <header class="page-header canvas-header">
            <h1 class="crumbs">
                <Transition><span class="muted">{automation_name}" / "</span></Transition>
                {move || composer.with(|c| c.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| slug.get()))}
            </h1>
            <div class="row center">
                {if live {
                    view! {
                        <span role="status" class="pill live-pill">{move || store.deployment.get().map(|n| format!("Deployment #{n}")).unwrap_or_else(|| store.status.get().text())}</span>
                    }.into_any()
                } else {
                    view! {
                        <span role="status" class="save-status"
                            class:bad=move || matches!(store.status.get(), SaveStatus::Retrying(_) | SaveStatus::Conflict(_) | SaveStatus::LoadFailed(_))
                            class:ok=move || store.status.get() == SaveStatus::Saved>
                            {move || store.status.get().text()}
                        </span>
                    }.into_any()
                }}
                {move || deployed.get().map(|d| {
                    let href = format!("/a/{}/live", store.automation.get());
                    view! { <span class="deployed-note">{format!("Deployed #{} ", d.number)}<A href=href>"Open Live"</A></span> }
                })}
                <Show when=move || matches!(store.status.get(), SaveStatus::Conflict(_) | SaveStatus::LoadFailed(_))>
                    <button class="btn" type="button" on:click=move |_| store.load(store.automation.get_untracked())>"Reload"</button>
                </Show>
                <Show when=move || !live && store.can_edit.get() && preview.with(Option::is_none)>
                    <button class="btn" type="button" disabled=move || watch.starting.get()
                        on:click=move |_| {
                            // Run what is on screen: save first if an edit is pending.
                            store.save_now();
                            watch.start(store.automation.get_untracked(), slug.get_untracked());
                        }>
                        <crate::ui::Icon name="play"/>"Run"
                    </button>
                </Show>
                <Show when=move || live && is_admin()>
                    <button class="btn" type="button" disabled=move || watch.starting.get()
                        on:click=move |_| confirm_live_run.set(true)>
                        <crate::ui::Icon name="play"/>"Run"
                    </button>
                </Show>
                <Show when=move || !read_only.get()>
                    <AddStep ctx/>
                </Show>
                {(!live).then(|| view! {
                    <button class="btn" type="button" aria-pressed=move || history_open.get().to_string()
                        on:click=move |_| { history_open.update(|o| *o = !*o); if !history_open.get_untracked() { preview.set(None) } }>
                        "Revision history"
                    </button>
                })}
                <Show when=move || !live && store.can_edit.get() && preview.with(Option::is_none)>
                    <button class="btn primary live-btn" type="button" aria-haspopup="dialog"
                        on:click=move |_| { deployed.set(None); deploy_open.set(true) }>
                        <crate::ui::Icon name="rocket"/>"Deploy"
                    </button>
                </Show>
            </div>
        </header>
        <Show when=move || deploy_open.get()>
            <crate::deploy::DeployDialog store open=deploy_open deployed/>
        </Show>
        <Show when=move || confirm_live_run.get()>
            <div class="overlay" on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { confirm_live_run.set(false) }>
                <div class="dialog small-dialog" role="dialog" aria-modal="true" aria-labelledby="live-run-title">
                    <header class="dialog-header"><h2 id="live-run-title">"Run in Live?"</h2></header>
                    <div class="dialog-body">
                        <p>"This runs the deployed composer now, in production: with live secrets and live databases, as a webhook or schedule would."</p>
                    </div>
                    <footer class="dialog-footer">
                        <button class="btn ghost" type="button" on:click=move |_| confirm_live_run.set(false)>"Cancel"</button>
                        <button class="btn primary live-btn" type="button" autofocus
                            on:click=move |_| {
                                confirm_live_run.set(false);
                                watch.start_live(store.automation.get_untracked(), slug.get_untracked());
                            }>"Run in Live"</button>
                    </footer>
                </div>
            </div>
        </Show>
        <Show when=move || preview.with(Option::is_some)>
            <PreviewBar store preview removed/>
        </Show>
        <div class="editor">
            {move || if store.doc.with(Option::is_none) {
                view! { <div class="canvas-empty muted">{move || store.status.get().text()}</div> }.into_any()
            } else if composer.with(Option::is_none) {
                view! {
                    <div class="page-body">
                        <EmptyState title="No such composer".to_string()>
                            <p class="muted">{move || if preview.with(Option::is_some) {
                                "This revision does not have this composer."
                            } else {
                                "It may have been deleted or renamed; pick one in the sidebar."
                            }}</p>
                        </EmptyState>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="canvas-column">
                        <Canvas ctx/>
                        <RunPanel run/>
                    </div>
                }.into_any()
            }}
            {move || if history_open.get() && !live {
                view! { <RevisionHistory store preview open=history_open/> }.into_any()
            } else {
                view! { <Inspector ctx/> }.into_any()
            }}
        </div>
    }
}

/// Keys typed into a form field belong to that field, not to the canvas.
fn typing_in_a_field(ev: &leptos::ev::KeyboardEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.closest("[contenteditable]").ok().flatten().is_some()
            })
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

#[component]
fn AddStep(ctx: CanvasCtx) -> impl IntoView {
    let open = RwSignal::new(false);
    let menu = NodeRef::<leptos::html::Div>::new();
    let add = move |kind: StepKind| {
        let at = ctx.composer.with_untracked(|c| {
            c.as_ref()
                .map(|c| free_spot(c, &ctx.selected.get_untracked()))
        });
        let Some(at) = at else { return };
        if let Some(name) = ctx.edit_composer(None, |c| c.add_step(kind, Some(at))) {
            ctx.selected.set(Selection::Node(name));
            ctx.reveal(&at);
        }
        open.set(false);
    };
    // Focus the first item when the menu opens, so it works from the keyboard.
    Effect::new(move |_| {
        if open.get() {
            request_animation_frame(move || {
                if let Some(m) = menu.get_untracked()
                    && let Ok(Some(first)) = m.query_selector("[role=menuitem]")
                {
                    #[cfg(feature = "hydrate")]
                    {
                        use wasm_bindgen::JsCast;
                        if let Ok(el) = first.dyn_into::<web_sys::HtmlElement>() {
                            let _ = el.focus();
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = first;
                }
            });
        }
    });
    view! {
        <div class="menu-anchor" on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
            <button class="btn primary" type="button" aria-haspopup="menu" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "Add step"
            </button>
            <Show when=move || open.get()>
                <div class="menu" role="menu" aria-label="Add step" node_ref=menu
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| move_focus(&ev)>
                    {StepKind::ALL.iter().map(|k| {
                        let k = *k;
                        view! {
                            <button type="button" role="menuitem" class="menu-item" on:click=move |_| add(k)>
                                <span class="node-icon" aria-hidden="true"><crate::ui::Icon name=crate::canvas::kind_icon(k.as_str())/></span>{k.label()}
                            </button>
                        }
                    }).collect_view()}
                </div>
            </Show>
        </div>
    }
}

/// Arrow keys move between menu items.
fn move_focus(ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let down = ev.key() == "ArrowDown";
        if !down && ev.key() != "ArrowUp" {
            return;
        }
        ev.prevent_default();
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let next = if down {
            el.next_element_sibling()
        } else {
            el.previous_element_sibling()
        };
        if let Some(n) = next.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = n.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Where a new step goes: right of the selected node (or of the last step, or the trigger),
/// moved down until it overlaps nothing.
fn free_spot(c: &model::Composer, selected: &Selection) -> model::Position {
    let layout = c.layout();
    let anchor = match selected {
        Selection::Node(n) => layout.get(n).cloned(),
        _ => None,
    }
    .or_else(|| c.steps.last().and_then(|s| layout.get(&s.name).cloned()))
    .or_else(|| layout.get(model::TRIGGER).cloned())
    .unwrap_or(model::Position { x: 40.0, y: 40.0 });
    let mut p = model::Position {
        x: anchor.x + 300.0,
        y: anchor.y,
    };
    let overlaps = |p: &model::Position| {
        layout.values().any(|q| {
            (q.x - p.x).abs() < model::edit::NODE_W + 20.0
                && (q.y - p.y).abs() < model::edit::NODE_H + 20.0
        })
    };
    while overlaps(&p) {
        p.y += model::edit::NODE_H + 40.0;
    }
    p
}

/// The strip under the canvas: the followed run, its steps and a link to its record.
#[component]
fn RunPanel(run: Signal<Option<model::wire::Run>>) -> impl IntoView {
    let watch = crate::runwatch::use_run_watch();
    let frame = use_frame();
    view! {
        {move || watch.error.get().map(|e| view! { <div class="run-panel"><span class="form-error" role="alert">{e}</span></div> })}
        {move || run.get().map(|r| {
            let total = r.duration_ms();
            let href = format!("/a/{}/{}/runs/{}", frame.automation.get(), frame.mode.get().as_str(), r.id);
            let short = r.id.chars().rev().take(6).collect::<String>().chars().rev().collect::<String>();
            view! {
                <div class="run-panel" aria-label="Run" role="region">
                    <span class=format!("dot {}", r.status.as_str())></span>
                    <span class="strong">{format!("Run …{short} {}", r.status.as_str())}</span>
                    {total.map(|ms| view! { <span class="muted">{model::wire::duration_text(ms)}</span> })}
                    {r.error.clone().map(|e| view! { <span class="form-error">{e}</span> })}
                    <span class="grow"></span>
                    <A href=href>"Open in Runs & Logs"</A>
                </div>
            }
        })}
    }
}
