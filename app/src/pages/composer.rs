//! The main area of the Canvas section: the composer index and one composer.

use crate::Mode;
use crate::api::get_composer;
use crate::pages::frame::{LiveBanner, use_frame};
use crate::ui::{EmptyState, Icon};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ComposerIndex() -> impl IntoView {
    let frame = use_frame();
    let mode = frame.mode;
    view! {
        <LiveBanner/>
        <header class="page-header"><h1>"Composers"</h1></header>
        <div class="page-body">
            <Transition>
                {move || frame.data.get().and_then(|r| r.ok()).map(|d| {
                    if mode.get() == Mode::Live && !d.deployed {
                        view! {
                            <EmptyState title="Nothing is live yet".to_string()>
                                <p class="muted">"Live shows the latest deployment of this automation: its composers run there from webhooks and schedules, with live secrets and databases. Build and try composers in Test, then deploy them."</p>
                            </EmptyState>
                        }.into_any()
                    } else if d.composers.is_empty() {
                        view! {
                            <EmptyState title="No composers yet".to_string()>
                                <p class="muted">"A composer is one workflow: a trigger and the steps it runs. Create one with “New composer” in the sidebar."</p>
                            </EmptyState>
                        }.into_any()
                    } else {
                        let base = format!("/a/{}/{}", d.automation.slug, mode.get().as_str());
                        view! {
                            <ul class="cards">
                                {d.composers.into_iter().map(|c| view! {
                                    <li class="card composer-card">
                                        <a href=format!("{base}/c/{}", c.slug)><span class="strong">{c.name}</span></a>
                                        <span class="muted small">{format!("{} trigger · {} steps", c.trigger, c.steps)}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
pub fn ComposerPage() -> impl IntoView {
    let frame = use_frame();
    let params = use_params_map();
    let slug = Memo::new(move |_| params.read().get("composer").unwrap_or_default());
    let composer = Resource::new(
        move || (frame.automation.get(), frame.mode.get(), slug.get()),
        |(a, m, c)| get_composer(a, m, c),
    );
    view! {
        <LiveBanner/>
        <Transition fallback=|| view! { <p class="muted pad">"Loading…"</p> }>
            {move || composer.get().map(|r| match r {
                Ok(Some(c)) => {
                    let automation_name = frame.data.get().and_then(|d| d.ok()).map(|d| d.automation.name).unwrap_or_default();
                    let (icon, trigger) = match &c.trigger {
                        model::Trigger::Manual { .. } => ("hand", "Manual trigger".to_string()),
                        model::Trigger::Webhook { method, .. } => ("zap", format!("Webhook · {method}")),
                        model::Trigger::Schedule { cron, .. } => ("clock", format!("Schedule · {cron}")),
                    };
                    view! {
                        <header class="page-header">
                            <h1><span class="muted">{automation_name}" / "</span>{c.name.clone()}</h1>
                        </header>
                        <div class="page-body">
                            <ol class="step-list" aria-label="Steps">
                                <li class="step-row trigger"><Icon name=icon/><span class="strong">{trigger}</span></li>
                                {c.steps.iter().map(|s| view! {
                                    <li class="step-row" role="group" aria-label=s.name.clone()>
                                        <span class="strong">{s.name.clone()}</span>
                                        <span class="muted small">{s.kind.clone()}</span>
                                    </li>
                                }).collect_view()}
                            </ol>
                            {c.steps.is_empty().then(|| view! {
                                <p class="muted">"This composer has only its trigger so far."</p>
                            })}
                        </div>
                    }.into_any()
                }
                Ok(None) => view! {
                    <div class="page-body">
                        <EmptyState title="No such composer here".to_string()>
                            <p class="muted">{move || if frame.mode.get() == Mode::Live {
                                "Live shows the latest deployment, and this composer is not part of one."
                            } else {
                                "It may have been deleted or renamed."
                            }}</p>
                        </EmptyState>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="form-error pad">{crate::ui::error_text(&e)}</p> }.into_any(),
            })}
        </Transition>
    }
}
