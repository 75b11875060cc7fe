//! The inspector: a form for the selected step (name, every config field of its kind, links),
//! the trigger (kind, method, secret, cron with its next fire times, sample input), or a link.

use crate::api::next_fire_times;
use crate::canvas::{CanvasCtx, Selection};
use leptos::prelude::*;
use model::{HTTP_METHODS, StepKind, TRIGGER, Trigger, WEBHOOK_METHODS};
use serde_json::Value;

mod fields;
mod links;
mod trigger;

use fields::*;
use links::*;
use trigger::*;

/// The current value at `key` in a step's config.
pub(super) fn config_value(ctx: CanvasCtx, step: &str, key: &'static str) -> Value {
    ctx.composer.with(|c| {
        c.as_ref()
            .and_then(|c| c.step(step))
            .and_then(|s| s.config.get(key).cloned())
            .unwrap_or(Value::Null)
    })
}

pub(super) fn set_config(ctx: CanvasCtx, step: &str, key: &'static str, value: Option<Value>) {
    let step_name = step.to_string();
    ctx.edit_composer(Some(&format!("{step}.{key}")), move |c| {
        if let Some(s) = c.step_mut(&step_name) {
            if !s.config.is_object() {
                s.config = Value::Object(Default::default());
            }
            if let Some(obj) = s.config.as_object_mut() {
                match value {
                    Some(v) => {
                        obj.insert(key.to_string(), v);
                    }
                    None => {
                        obj.remove(key);
                    }
                }
            }
        }
    });
}

pub(super) fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[component]
pub fn Inspector(ctx: CanvasCtx) -> impl IntoView {
    let selected = ctx.selected;
    view! {
        <aside class="inspector" aria-label="Inspector">
            {move || match selected.get() {
                Selection::Node(n) if n == TRIGGER => view! { <TriggerForm ctx/> }.into_any(),
                Selection::Node(n) => {
                    let exists = ctx.composer.with_untracked(|c| c.as_ref().and_then(|c| c.step(&n)).is_some());
                    if exists { view! { <StepForm ctx name=n/> }.into_any() } else { view! { <NothingSelected ctx/> }.into_any() }
                }
                Selection::Link(from, to, port) => view! { <LinkForm ctx from to port/> }.into_any(),
                Selection::None => view! { <NothingSelected ctx/> }.into_any(),
            }}
        </aside>
    }
}

#[component]
pub(super) fn NothingSelected(ctx: CanvasCtx) -> impl IntoView {
    view! {
        <div class="inspector-body">
            <h2>"Inspector"</h2>
            <p class="muted">{move || if ctx.read_only.get() {
                "Select a step to see its settings."
            } else {
                "Select a step or the trigger to edit it. Add steps with “Add step”; link them by dragging from a step’s right edge, or with “Next step” here."
            }}</p>
            <ProblemList ctx/>
        </div>
    }
}

/// Every validation problem of this composer; clicking one selects its step.
#[component]
pub fn ProblemList(ctx: CanvasCtx) -> impl IntoView {
    let mine = Memo::new(move |_| {
        let slug = ctx.composer.with(|c| c.as_ref().map(|c| c.slug.clone()));
        ctx.problems.with(|ps| {
            ps.iter()
                .filter(|p| p.composer.is_none() || p.composer == slug)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="problems" aria-label="Problems">
            <h3>{move || format!("Problems ({})", mine.with(Vec::len))}</h3>
            <Show when=move || mine.with(|m| !m.is_empty()) fallback=|| view! { <p class="muted small">"No problems."</p> }>
                <ul class="problem-list">
                    {move || mine.get().into_iter().map(|p| {
                        let step = p.step.clone();
                        // "composers[0].steps[3].config.key" → "key: is empty"
                        let field = p.path.rsplit_once(".config.").map(|(_, f)| f.to_string());
                        let text = match field { Some(f) => format!("{f}: {}", p.message), None => p.message.clone() };
                        let path = p.path.clone();
                        let cls = if p.is_error() { "problem error" } else { "problem warning" };
                        view! {
                            <li class=cls>
                                <button type="button" class="link-btn" title=path
                                    on:click=move |_| if let Some(s) = step.clone() { ctx.selected.set(Selection::Node(s)) }>
                                    {p.step.clone().map(|s| view! { <span class="strong">{s}": "</span> })}
                                    {text}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
        </section>
    }
}

#[component]
pub(super) fn StepForm(ctx: CanvasCtx, name: String) -> impl IntoView {
    let kind = ctx.composer.with_untracked(|c| {
        c.as_ref()
            .and_then(|c| c.step(&name))
            .and_then(|s| s.step_kind())
    });
    let ro = ctx.read_only;
    let fields = match kind {
        Some(StepKind::Http) => view! {
            <SelectField ctx step=name.clone() key="method" label="Method" options=&HTTP_METHODS/>
            <TextField ctx step=name.clone() key="url" label="URL" placeholder="https://… or /path with a connection"/>
            <ConnectionField ctx step=name.clone()/>
            <JsonField ctx step=name.clone() key="headers" label="Headers"/>
            <JsonField ctx step=name.clone() key="query" label="Query"/>
            <JsonField ctx step=name.clone() key="body" label="Body"/>
            <TextField ctx step=name.clone() key="expect_status" label="Expect status" placeholder="e.g. 404"/>
        }.into_any(),
        Some(StepKind::Transform) => view! { <JsonField ctx step=name.clone() key="value" label="Value"/> }.into_any(),
        Some(StepKind::Code) => view! { <CodeField ctx step=name.clone() key="source" label="Source"/> }.into_any(),
        Some(StepKind::Branch) => view! { <TextField ctx step=name.clone() key="condition" label="Condition" placeholder="steps.total.total > 5"/> }.into_any(),
        Some(StepKind::Database) => view! {
            <SelectField ctx step=name.clone() key="op" label="Operation" options=&model::DATABASE_OPS/>
            <TextField ctx step=name.clone() key="database" label="Database" placeholder="orders"/>
            <TextField ctx step=name.clone() key="key" label="Key" placeholder="{{ steps.total.id }}"/>
            <JsonField ctx step=name.clone() key="value" label="Record value"/>
            <TextField ctx step=name.clone() key="prefix" label="Prefix"/>
            <NumberField ctx step=name.clone() key="limit" label="Limit"/>
        }.into_any(),
        Some(StepKind::Respond) => view! {
            <NumberField ctx step=name.clone() key="status" label="Status"/>
            <JsonField ctx step=name.clone() key="headers" label="Headers"/>
            <JsonField ctx step=name.clone() key="body" label="Body"/>
        }.into_any(),
        Some(StepKind::Delay) => view! { <NumberField ctx step=name.clone() key="ms" label="Milliseconds"/> }.into_any(),
        None => view! { <p class="form-error">"This step's kind is unknown: change it in the document or delete the step."</p> }.into_any(),
    };
    let label = kind.map(|k| k.label()).unwrap_or("Unknown");
    let n_del = name.clone();
    view! {
        <div class="inspector-body">
            <div class="inspector-title"><span class="muted small">{label}" step"</span></div>
            <NameField ctx name=name.clone()/>
            <fieldset class="fields" disabled=move || ro.get()>
                {fields}
            </fieldset>
            <details class="common">
                <summary>"Timeout, retries and errors"</summary>
                <fieldset class="fields" disabled=move || ro.get()>
                    <NumberField ctx step=name.clone() key="timeout_ms" label="Timeout (ms)"/>
                    <RetryFields ctx step=name.clone()/>
                    <SelectField ctx step=name.clone() key="on_error" label="On error" options=&model::ON_ERROR/>
                </fieldset>
            </details>
            <Links ctx from=name.clone()/>
            <Show when=move || !ro.get()>
                {
                    let n_del = n_del.clone();
                    view! {
                        <button class="btn danger" type="button" on:click=move |_| {
                            ctx.selected.set(Selection::Node(n_del.clone()));
                            ctx.delete_selection();
                        }>"Delete step"</button>
                    }
                }
            </Show>
            <ProblemList ctx/>
        </div>
    }
}
