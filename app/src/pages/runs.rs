//! Runs & Logs: the runs of the current mode, newest first, filtered by composer and status,
//! with paging; one run step by step with its input, output, logs and error.

use crate::api::{get_run, list_runs};
use crate::pages::frame::{LiveBanner, use_frame};
use crate::ui::EmptyState;
use crate::ui::{iso, time_of};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::wire::duration_text;
use model::wire::{RunStatus, RunSummary, StepRun, StepStatus};
use serde_json::Value;

#[component]
pub fn RunsPage() -> impl IntoView {
    let frame = use_frame();
    let composer = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let paging = crate::ui::Paging::new();
    let cursor = paging.cursor;
    let refresh = RwSignal::new(0u32);
    let page = Resource::new(
        move || {
            (
                frame.automation.get(),
                frame.mode.get(),
                composer.get(),
                status.get(),
                cursor.get(),
                refresh.get(),
            )
        },
        |(a, m, c, s, cur, _)| list_runs(a, m, Some(c), RunStatus::parse(&s), cur),
    );
    let composers = move || {
        frame
            .data
            .get()
            .and_then(|d| d.ok())
            .map(|d| {
                d.composers
                    .into_iter()
                    .map(|c| (c.slug, c.name))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let reset = move || paging.reset();
    view! {
        <LiveBanner/>
        <header class="page-header">
            <h1>"Runs & Logs"</h1>
            <button class="btn" type="button" on:click=move |_| refresh.update(|r| *r += 1)>"Refresh"</button>
        </header>
        <div class="page-body">
            <div class="row">
                <label class="field"><span>"Composer"</span>
                    <select on:change=move |ev| { composer.set(event_target_value(&ev)); reset(); }>
                        <option value="">"All composers"</option>
                        // The frame's data is a resource: read it under a Transition so the
                        // server's render and hydration agree.
                        <Transition fallback=|| ()>
                            {move || composers().into_iter().map(|(slug, name)| view! { <option value=slug>{name}</option> }).collect_view()}
                        </Transition>
                    </select>
                </label>
                <label class="field"><span>"Status"</span>
                    <select on:change=move |ev| { status.set(event_target_value(&ev)); reset(); }>
                        <option value="">"Any status"</option>
                        {RunStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || page.get().map(|r| match r {
                    Ok(p) if p.items.is_empty() && cursor.get_untracked().is_none() => view! {
                        <EmptyState title="No runs yet".to_string()>
                            <p class="muted">"Runs appear here when a composer runs: press Run on a composer to try it with its sample input."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(p) => {
                        let next = p.next_cursor.clone();
                        view! {
                            <RunTable items=p.items/>
                            <crate::ui::Pager paging next=next back="Newer" forward="Older"/>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn RunTable(items: Vec<RunSummary>) -> impl IntoView {
    let frame = use_frame();
    view! {
        <table class="table runs">
            <thead><tr><th>"Run"</th><th>"Composer"</th><th>"Status"</th><th>"Source"</th><th>"Started"</th><th class="right">"Duration"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|r| {
                    let href = format!("/a/{}/{}/runs/{}", frame.automation.get_untracked(), frame.mode.get_untracked().as_str(), r.id);
                    view! {
                        <tr>
                            <td class="mono"><A href=href>{short_id(&r.id)}</A></td>
                            <td>{frame.composer_name(&r.composer)}</td>
                            <td><span class=format!("dot {}", r.status.as_str())></span>{r.status.as_str()}</td>
                            <td class="muted">{r.source.as_str()}</td>
                            <td class="muted" title=iso(&r.queued_at)>{time_of(&r.queued_at)}</td>
                            <td class="right mono">{r.duration_ms.map(duration_text).unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn short_id(id: &str) -> String {
    format!("…{}", &id[id.len().saturating_sub(8)..])
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let run = Resource::new(move || id.get(), get_run);
    let frame = use_frame();
    let can_edit = move || frame.me.with(|m| m.as_ref().is_some_and(|m| m.can_edit()));
    view! {
        <LiveBanner/>
        <Transition fallback=|| view! { <p class="muted pad">"Loading…"</p> }>
            {move || run.get().map(|r| match r {
                Ok(r) => {
                    let back = format!("/a/{}/{}/runs", frame.automation.get_untracked(), frame.mode.get_untracked().as_str());
                    let total = r.duration_ms();
                    view! {
                        <header class="page-header">
                            <h1><A href=back>"Runs"</A>" / "<span class="mono">{short_id(&r.id)}</span></h1>
                            <span class="row center"><span><span class=format!("dot {}", r.status.as_str())></span><span class="strong">{r.status.as_str()}</span>
                                {total.map(|t| view! { <span class="muted">{format!(" in {}", duration_text(t))}</span> })}</span>
                                {(r.mode == crate::Mode::Live && can_edit()).then(|| view! { <ReplayButton id=r.id.clone() automation=r.automation.clone()/> })}
                            </span>
                        </header>
                        <div class="page-body run-detail">
                            <dl class="facts">
                                <dt>"Composer"</dt><dd>{frame.composer_name(&r.composer)}</dd>
                                <dt>"Mode"</dt><dd>{r.mode.label()}</dd>
                                <dt>"Source"</dt><dd>{r.source.as_str()}</dd>
                                {r.deployment.map(|n| view! { <dt>"Deployment"</dt><dd>{format!("#{n}")}</dd> })}
                                {r.replay_of.clone().map(|of| {
                                    let href = format!("/a/{}/live/runs/{of}", r.automation);
                                    view! { <dt>"Replay of"</dt><dd><A href=href attr:class="mono small">{format!("live run {}", short_id(&of))}</A></dd> }
                                })}
                                <dt>"Queued"</dt><dd title=iso(&r.queued_at)>{time_of(&r.queued_at)}</dd>
                                <dt>"Run id"</dt><dd class="mono small">{r.id.clone()}</dd>
                            </dl>
                            {r.error.clone().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                            <details class="card json-block">
                                <summary>"Trigger input"</summary>
                                <JsonView value=r.input.clone()/>
                            </details>
                            <ol class="run-steps" aria-label="Steps">
                                {r.steps.into_iter().map(|s| view! { <StepRecord step=s/> }).collect_view()}
                            </ol>
                        </div>
                    }.into_any()
                }
                Err(e) => view! { <div class="page-body"><p class="form-error">{e.to_string()}</p></div> }.into_any(),
            })}
        </Transition>
    }
}

/// Replays a live run in Test and opens the new run.
#[component]
fn ReplayButton(id: String, automation: String) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let replay = move |_| {
        let (id, automation, navigate) = (id.clone(), automation.clone(), navigate.clone());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::replay_run(id).await {
                Ok(new) => navigate(
                    &format!("/a/{automation}/test/runs/{new}"),
                    Default::default(),
                ),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <button class="btn" type="button" disabled=move || busy.get() on:click=replay
            title="Run this input against the current draft, with test secrets and databases">"Replay in Test"</button>
        {move || error.get().map(|e| view! { <span class="form-error" role="alert">{e}</span> })}
    }
}

#[component]
fn StepRecord(step: StepRun) -> impl IntoView {
    let ms = step.duration_ms();
    let open = step.status == StepStatus::Failed;
    view! {
        <li class="card step-record" role="group" aria-label=step.name.clone()>
            <details open=open>
                <summary class="row spread">
                    <span><span class=format!("dot {}", step.status.as_str())></span><span class="strong mono">{step.name.clone()}</span>
                        <span class="muted small">{format!(" · {}", step.kind)}</span></span>
                    <span class="muted small">
                        {step.status.as_str()}
                        {(step.attempts > 1).then(|| format!(" · {} attempts", step.attempts))}
                        {ms.map(|m| format!(" · {}", duration_text(m)))}
                    </span>
                </summary>
                <div class="step-record-body">
                    {step.error.clone().map(|e| view! { <p class="form-error">{e}</p> })}
                    <h4>"Input"</h4>
                    <JsonView value=step.input.clone()/>
                    <h4>"Output"</h4>
                    <JsonView value=step.output.clone()/>
                    <h4>"Logs"</h4>
                    {if step.logs.is_empty() {
                        view! { <p class="muted small">"No logs."</p> }.into_any()
                    } else {
                        view! { <pre class="logs">{step.logs.join("\n")}</pre> }.into_any()
                    }}
                </div>
            </details>
        </li>
    }
}

/// A collapsible JSON tree: objects and arrays fold, long strings are cut with "show all".
#[component]
pub fn JsonView(value: Value) -> impl IntoView {
    view! { <div class="json mono">{json_node(None, value, 0)}</div> }
}

fn json_node(key: Option<String>, value: Value, depth: usize) -> AnyView {
    let label = key.map(|k| view! { <span class="json-key">{format!("{k}: ")}</span> });
    match value {
        Value::Object(map) if !map.is_empty() => {
            let n = map.len();
            view! {
                <details class="json-fold" open=depth < 2>
                    <summary>{label}<span class="muted">{format!("{{…}} {n} keys")}</span></summary>
                    <div class="json-children">
                        {map.into_iter().map(|(k, v)| json_node(Some(k), v, depth + 1)).collect_view()}
                    </div>
                </details>
            }
            .into_any()
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            view! {
                <details class="json-fold" open=depth < 2>
                    <summary>{label}<span class="muted">{format!("[…] {n} items")}</span></summary>
                    <div class="json-children">
                        {items.into_iter().enumerate().map(|(i, v)| json_node(Some(i.to_string()), v, depth + 1)).collect_view()}
                    </div>
                </details>
            }
            .into_any()
        }
        Value::String(s) if s.chars().count() > 200 => {
            let full = RwSignal::new(false);
            let short: String = s.chars().take(200).collect();
            view! {
                <div class="json-leaf">{label}<span class="json-string">
                    {move || if full.get() { format!("{s:?}") } else { format!("{short:?}…") }}</span>
                    <Show when=move || !full.get()>
                        <button class="link-btn small" type="button" on:click=move |_| full.set(true)>"show all"</button>
                    </Show>
                </div>
            }
            .into_any()
        }
        other => {
            let cls = match &other {
                Value::String(_) => "json-string",
                Value::Number(_) => "json-number",
                Value::Bool(_) => "json-bool",
                _ => "json-null",
            };
            view! { <div class="json-leaf">{label}<span class=cls>{other.to_string()}</span></div> }
                .into_any()
        }
    }
}
