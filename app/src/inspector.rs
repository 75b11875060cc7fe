//! The inspector: a form for the selected step (name, every config field of its kind, links),
//! the trigger (kind, method, secret, cron with its next fire times, sample input), or a link.

use crate::api::next_fire_times;
use crate::canvas::{CanvasCtx, Selection};
use leptos::prelude::*;
use model::{HTTP_METHODS, StepKind, TRIGGER, Trigger, WEBHOOK_METHODS};
use serde_json::Value;

/// The current value at `key` in a step's config.
fn config_value(ctx: CanvasCtx, step: &str, key: &'static str) -> Value {
    ctx.composer.with(|c| {
        c.as_ref()
            .and_then(|c| c.step(step))
            .and_then(|s| s.config.get(key).cloned())
            .unwrap_or(Value::Null)
    })
}

fn set_config(ctx: CanvasCtx, step: &str, key: &'static str, value: Option<Value>) {
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

fn as_text(v: &Value) -> String {
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
fn NothingSelected(ctx: CanvasCtx) -> impl IntoView {
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
fn StepForm(ctx: CanvasCtx, name: String) -> impl IntoView {
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

#[component]
fn NameField(ctx: CanvasCtx, name: String) -> impl IntoView {
    let text = RwSignal::new(name.clone());
    let error = RwSignal::new(None::<String>);
    let commit = move || {
        let new = text.get_untracked();
        let old = name.clone();
        if new == old {
            return;
        }
        let new2 = new.clone();
        match ctx.edit_composer(None, move |c| c.rename_step(&old, &new2)) {
            Some(Ok(())) => {
                error.set(None);
                ctx.selected.set(Selection::Node(new));
            }
            Some(Err(e)) => error.set(Some(e)),
            None => {}
        }
    };
    let commit2 = commit.clone();
    view! {
        <label class="field">
            <span>"Name"</span>
            <input class="mono" prop:value=move || text.get() disabled=move || ctx.read_only.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:change=move |_| commit()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { commit2() }/>
        </label>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
    }
}

#[component]
fn TextField(
    ctx: CanvasCtx,
    step: String,
    key: &'static str,
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let s2 = step.clone();
    let value = Memo::new(move |_| as_text(&config_value(ctx, &s2, key)));
    view! {
        <label class="field">
            <span>{label}</span>
            <input class="mono" placeholder=placeholder prop:value=move || value.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    set_config(ctx, &step, key, if v.is_empty() { None } else { Some(Value::String(v)) });
                }/>
        </label>
    }
}

/// A number, or a `{{ }}` template that yields one at run time; empty removes the key.
#[component]
fn NumberField(
    ctx: CanvasCtx,
    step: String,
    key: &'static str,
    label: &'static str,
) -> impl IntoView {
    let s2 = step.clone();
    let value = Memo::new(move |_| as_text(&config_value(ctx, &s2, key)));
    let error = RwSignal::new(None::<String>);
    view! {
        <label class="field">
            <span>{label}</span>
            <input class="mono" inputmode="numeric" prop:value=move || value.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    let t = v.trim();
                    if t.is_empty() {
                        error.set(None);
                        set_config(ctx, &step, key, None);
                    } else if let Ok(n) = t.parse::<i64>() {
                        error.set(None);
                        set_config(ctx, &step, key, Some(Value::from(n)));
                    } else if model::has_expression(t) {
                        error.set(None);
                        set_config(ctx, &step, key, Some(Value::String(t.to_string())));
                    } else {
                        error.set(Some(format!("{label} must be a whole number")));
                    }
                }/>
        </label>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
    }
}

#[component]
fn SelectField(
    ctx: CanvasCtx,
    step: String,
    key: &'static str,
    label: &'static str,
    options: &'static [&'static str],
) -> impl IntoView {
    let s2 = step.clone();
    let value = Memo::new(move |_| as_text(&config_value(ctx, &s2, key)));
    view! {
        <label class="field">
            <span>{label}</span>
            <select prop:value=move || value.get()
                on:change=move |ev| set_config(ctx, &step, key, Some(Value::String(event_target_value(&ev))))>
                <option value="">"(default)"</option>
                {options.iter().map(|o| view! { <option value=*o selected=move || value.get() == *o>{*o}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn ConnectionField(ctx: CanvasCtx, step: String) -> impl IntoView {
    let s2 = step.clone();
    let value = Memo::new(move |_| as_text(&config_value(ctx, &s2, "connection")));
    let names = move || {
        ctx.store
            .map(|s| {
                s.doc.with(|d| {
                    d.as_ref()
                        .map(|d| {
                            d.connections
                                .iter()
                                .map(|c| c.name.clone())
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                })
            })
            .unwrap_or_default()
    };
    view! {
        <label class="field">
            <span>"Connection"</span>
            <select prop:value=move || value.get()
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    set_config(ctx, &step, "connection", if v.is_empty() { None } else { Some(Value::String(v)) });
                }>
                <option value="">"None"</option>
                {move || names().into_iter().map(|n| { let (n1, n2) = (n.clone(), n.clone()); view! { <option value=n1 selected=move || value.get() == n2>{n}</option> } }).collect_view()}
            </select>
        </label>
    }
}

/// JSON edited as text: parse errors are shown inline and the last valid value is kept.
/// JSON edited as text: parse errors are shown inline and the last valid value is kept.
/// `on_value` gets `None` when the text is emptied.
#[component]
fn JsonEditor(
    label: &'static str,
    hint: &'static str,
    value: Memo<Value>,
    on_value: impl Fn(Option<Value>) + Send + Sync + 'static,
) -> impl IntoView {
    let pretty = |v: &Value| {
        if v.is_null() {
            String::new()
        } else {
            serde_json::to_string_pretty(v).unwrap_or_default()
        }
    };
    let text = RwSignal::new(pretty(&value.get_untracked()));
    let error = RwSignal::new(None::<String>);
    // Undo, redo and other tabs change the value underneath: follow them unless the text
    // already means the same thing.
    Effect::new(move |_| {
        let v = value.get();
        let same = serde_json::from_str::<Value>(&text.get_untracked())
            .map(|t| t == v)
            .unwrap_or(false)
            || (v.is_null() && text.get_untracked().trim().is_empty());
        if !same {
            text.set(pretty(&v));
            error.set(None);
        }
    });
    let rows = move || text.with(|t| t.lines().count().clamp(3, 16));
    view! {
        <label class="field">
            <span>{label}<span class="muted small">{hint}</span></span>
            <textarea class="mono" spellcheck="false" rows=rows prop:value=move || text.get()
                aria-invalid=move || error.get().is_some().to_string()
                on:input=move |ev| {
                    let t = event_target_value(&ev);
                    text.set(t.clone());
                    if t.trim().is_empty() {
                        error.set(None);
                        on_value(None);
                        return;
                    }
                    match serde_json::from_str::<Value>(&t) {
                        Ok(v) => {
                            error.set(None);
                            on_value(Some(v));
                        }
                        Err(e) => error.set(Some(format!("Invalid JSON: {e}"))),
                    }
                }></textarea>
        </label>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
    }
}

#[component]
fn JsonField(
    ctx: CanvasCtx,
    step: String,
    key: &'static str,
    label: &'static str,
) -> impl IntoView {
    let s2 = step.clone();
    let value = Memo::new(move |_| config_value(ctx, &s2, key));
    view! {
        <JsonEditor label hint=" · JSON" value on_value=move |v| set_config(ctx, &step, key, v)/>
    }
}

#[component]
fn CodeField(
    ctx: CanvasCtx,
    step: String,
    key: &'static str,
    label: &'static str,
) -> impl IntoView {
    let s2 = step.clone();
    let value = Memo::new(move |_| as_text(&config_value(ctx, &s2, key)));
    view! {
        <label class="field">
            <span>{label}<span class="muted small">" · JavaScript, the body of a function of "<code>"input"</code></span></span>
            <textarea class="mono code" spellcheck="false" rows="10" prop:value=move || value.get()
                on:input=move |ev| set_config(ctx, &step, key, Some(Value::String(event_target_value(&ev))))
                on:keydown=|ev: leptos::ev::KeyboardEvent| {
                    // Tab indents in the code editor; Escape leaves it for keyboard users.
                    if ev.key() == "Tab" && !ev.shift_key() {
                        ev.prevent_default();
                        #[cfg(feature = "hydrate")]
                        {
                            use wasm_bindgen::JsCast;
                            if let Some(doc) = leptos::prelude::document().dyn_ref::<web_sys::HtmlDocument>() {
                                let _ = doc.exec_command_with_show_ui_and_value("insertText", false, "  ");
                            }
                        }
                    }
                }></textarea>
        </label>
    }
}

#[component]
fn RetryFields(ctx: CanvasCtx, step: String) -> impl IntoView {
    let s2 = step.clone();
    let retry = Memo::new(move |_| config_value(ctx, &s2, "retry"));
    let field = move |k: &'static str| retry.with(|r| r.get(k).map(as_text).unwrap_or_default());
    let set = move |k: &'static str, v: String| {
        let mut r = retry.get_untracked();
        if !r.is_object() {
            r = serde_json::json!({});
        }
        match v.trim().parse::<i64>() {
            Ok(n) => r[k] = Value::from(n),
            Err(_) => {
                if let Some(o) = r.as_object_mut() {
                    o.remove(k);
                }
            }
        }
        let empty = r.as_object().is_some_and(|o| o.is_empty());
        set_config(ctx, &step, "retry", if empty { None } else { Some(r) });
    };
    let set2 = set.clone();
    view! {
        <div class="row">
            <label class="field grow"><span>"Attempts"</span>
                <input inputmode="numeric" prop:value=move || field("max_attempts") on:input=move |ev| set("max_attempts", event_target_value(&ev))/></label>
            <label class="field grow"><span>"Backoff (ms)"</span>
                <input inputmode="numeric" prop:value=move || field("backoff_ms") on:input=move |ev| set2("backoff_ms", event_target_value(&ev))/></label>
        </div>
    }
}

/// The links out of a node, and the "Next step" combobox that adds one without dragging.
#[component]
fn Links(ctx: CanvasCtx, from: String) -> impl IntoView {
    let f1 = from.clone();
    let is_branch = Memo::new(move |_| {
        ctx.composer.with(|c| {
            c.as_ref()
                .and_then(|c| c.step(&f1))
                .is_some_and(|s| s.step_kind() == Some(StepKind::Branch))
        })
    });
    let f2 = from.clone();
    let outgoing = Memo::new(move |_| {
        ctx.composer.with(|c| {
            c.as_ref()
                .map(|c| {
                    c.links
                        .iter()
                        .filter(|l| l.from == f2)
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let f3 = from.clone();
    let combos = move || {
        let ports: Vec<Option<&'static str>> = if is_branch.get() {
            vec![Some("true"), Some("false")]
        } else {
            vec![None]
        };
        ports
            .into_iter()
            .map(|port| view! { <NextStep ctx from=f3.clone() port/> })
            .collect_view()
    };
    view! {
        <section class="links-section" aria-label="Links">
            <h3>"Links"</h3>
            <Show when=move || !ctx.read_only.get()>{combos.clone()}</Show>
            <ul class="link-list">
                {move || outgoing.get().into_iter().map(|l| {
                    let label = match &l.port { Some(p) => format!("{p} → {}", l.to), None => format!("→ {}", l.to) };
                    let (from, to, port) = (l.from.clone(), l.to.clone(), l.port.clone());
                    let remove_label = format!("Remove link to {}", l.to);
                    view! {
                        <li>
                            <button class="link-btn" type="button" on:click={
                                let (from, to, port) = (from.clone(), to.clone(), port.clone());
                                move |_| ctx.selected.set(Selection::Link(from.clone(), to.clone(), port.clone()))
                            }>{label}</button>
                            <Show when=move || !ctx.read_only.get()>
                                {
                                    let (from, to, port, remove_label) = (from.clone(), to.clone(), port.clone(), remove_label.clone());
                                    view! {
                                        <button class="btn ghost icon-btn" type="button" aria-label=remove_label title="Remove link"
                                            on:click=move |_| {
                                                ctx.selected.set(Selection::Link(from.clone(), to.clone(), port.clone()));
                                                ctx.delete_selection();
                                            }>"×"</button>
                                    }
                                }
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn NextStep(ctx: CanvasCtx, from: String, port: Option<&'static str>) -> impl IntoView {
    let f = from.clone();
    let targets = Memo::new(move |_| {
        ctx.composer.with(|c| {
            c.as_ref()
                .map(|c| {
                    c.steps
                        .iter()
                        .filter(|s| s.name != f)
                        .map(|s| s.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let label = match port {
        Some(p) => format!("Next step ({p})"),
        None => "Next step".to_string(),
    };
    let select_ref = NodeRef::<leptos::html::Select>::new();
    view! {
        <label class="field">
            <span>{label}</span>
            <select node_ref=select_ref on:change=move |ev| {
                let to = event_target_value(&ev);
                if !to.is_empty() {
                    ctx.edit_composer(None, |c| c.add_link(&from, &to, port));
                }
                if let Some(s) = select_ref.get_untracked() {
                    s.set_value("");
                }
            }>
                <option value="" selected>"Link to…"</option>
                {move || targets.get().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn LinkForm(ctx: CanvasCtx, from: String, to: String, port: Option<String>) -> impl IntoView {
    let text = match &port {
        Some(p) => format!("{from} ({p}) → {to}"),
        None => format!("{from} → {to}"),
    };
    view! {
        <div class="inspector-body">
            <h2>"Link"</h2>
            <p class="mono">{text}</p>
            <Show when=move || !ctx.read_only.get()>
                <button class="btn danger" type="button" on:click=move |_| ctx.delete_selection()>"Delete link"</button>
                <p class="muted small">"Or press Delete."</p>
            </Show>
        </div>
    }
}

#[component]
fn TriggerForm(ctx: CanvasCtx) -> impl IntoView {
    let trigger = Memo::new(move |_| ctx.composer.with(|c| c.as_ref().map(|c| c.trigger.clone())));
    let kind =
        Memo::new(move |_| trigger.with(|t| t.as_ref().map(|t| t.kind()).unwrap_or("manual")));
    let set_trigger = move |key: &str, f: Box<dyn FnOnce(&mut Trigger)>| {
        ctx.edit_composer(Some(&format!("trigger.{key}")), move |c| f(&mut c.trigger));
    };
    let on_kind = move |ev: leptos::ev::Event| {
        let k = event_target_value(&ev);
        set_trigger(
            "kind",
            Box::new(move |t| {
                let sample = t.sample().cloned().unwrap_or(serde_json::json!({}));
                *t = match k.as_str() {
                    "webhook" => Trigger::Webhook {
                        method: "POST".into(),
                        auth_secret: None,
                        sample,
                    },
                    "schedule" => Trigger::Schedule {
                        cron: "0 9 * * 1-5".into(),
                        timezone: None,
                    },
                    _ => Trigger::Manual { sample },
                };
            }),
        );
    };
    let text_of = move |f: fn(&Trigger) -> Option<String>| {
        move || trigger.with(|t| t.as_ref().and_then(f).unwrap_or_default())
    };
    view! {
        <div class="inspector-body">
            <div class="inspector-title"><span class="muted small">"Trigger"</span></div>
            <fieldset class="fields" disabled=move || ctx.read_only.get()>
                <label class="field"><span>"Trigger kind"</span>
                    <select prop:value=move || kind.get() on:change=on_kind>
                        <option value="manual" selected=move || kind.get() == "manual">"Manual"</option>
                        <option value="webhook" selected=move || kind.get() == "webhook">"Webhook"</option>
                        <option value="schedule" selected=move || kind.get() == "schedule">"Schedule"</option>
                    </select>
                </label>
                <Show when=move || kind.get() == "webhook">
                    <label class="field"><span>"Method"</span>
                        <select prop:value=text_of(|t| match t { Trigger::Webhook { method, .. } => Some(method.clone()), _ => None })
                            on:change=move |ev| { let m = event_target_value(&ev); set_trigger("method", Box::new(move |t| if let Trigger::Webhook { method, .. } = t { *method = m })); }>
                            {WEBHOOK_METHODS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field"><span>"Auth secret"</span>
                        <input class="mono" placeholder="HOOK_TOKEN (optional)"
                            prop:value=text_of(|t| match t { Trigger::Webhook { auth_secret, .. } => auth_secret.clone(), _ => None })
                            on:input=move |ev| { let v = event_target_value(&ev); set_trigger("auth", Box::new(move |t| if let Trigger::Webhook { auth_secret, .. } = t { *auth_secret = (!v.is_empty()).then_some(v) })); }/>
                    </label>
                </Show>
                <Show when=move || kind.get() == "schedule">
                    <Schedule ctx trigger/>
                </Show>
                <Show when=move || kind.get() != "schedule">
                    <SampleField ctx trigger/>
                </Show>
            </fieldset>
            <Links ctx from=TRIGGER.to_string()/>
            <ProblemList ctx/>
        </div>
    }
}

#[component]
fn Schedule(ctx: CanvasCtx, trigger: Memo<Option<Trigger>>) -> impl IntoView {
    let cron = Memo::new(move |_| {
        trigger.with(|t| match t {
            Some(Trigger::Schedule { cron, .. }) => cron.clone(),
            _ => String::new(),
        })
    });
    let tz = Memo::new(move |_| {
        trigger.with(|t| match t {
            Some(Trigger::Schedule { timezone, .. }) => timezone.clone().unwrap_or_default(),
            _ => String::new(),
        })
    });
    let times = Resource::new(
        move || (cron.get(), tz.get()),
        |(c, z)| next_fire_times(c, (!z.is_empty()).then_some(z)),
    );
    let edit = move |key: &'static str, v: String| {
        ctx.edit_composer(Some(&format!("trigger.{key}")), move |c| {
            if let Trigger::Schedule { cron, timezone } = &mut c.trigger {
                if key == "cron" {
                    *cron = v
                } else {
                    *timezone = (!v.is_empty()).then_some(v)
                }
            }
        });
    };
    view! {
        <label class="field"><span>"Cron"</span>
            <input class="mono" prop:value=move || cron.get() on:input=move |ev| edit("cron", event_target_value(&ev))/></label>
        <label class="field"><span>"Timezone"</span>
            <input class="mono" placeholder="UTC" prop:value=move || tz.get() on:input=move |ev| edit("timezone", event_target_value(&ev))/></label>
        <div class="fire-times" aria-label="Next fire times">
            <span class="muted small">"Next fire times (schedules fire only in Live)"</span>
            <Transition fallback=|| view! { <p class="muted small">"…"</p> }>
                {move || times.get().map(|r| match r {
                    Ok(ts) => view! { <ol class="mono small">{ts.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ol> }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn SampleField(ctx: CanvasCtx, trigger: Memo<Option<Trigger>>) -> impl IntoView {
    let value = Memo::new(move |_| {
        trigger.with(|t| {
            t.as_ref()
                .and_then(|t| t.sample().cloned())
                .unwrap_or(Value::Null)
        })
    });
    let on_value = move |v: Option<Value>| {
        let v = v.unwrap_or(Value::Null);
        ctx.edit_composer(Some("trigger.sample"), move |c| match &mut c.trigger {
            Trigger::Manual { sample } | Trigger::Webhook { sample, .. } => *sample = v,
            Trigger::Schedule { .. } => {}
        });
    };
    view! {
        <JsonEditor label="Sample input" hint=" · JSON, what a test run receives" value on_value/>
    }
}
