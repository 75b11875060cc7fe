//! The inspector's fields: each edits one key of a step's config (text, number, choice,
//! connection, JSON, code, retry) and writes it back through the canvas.

use super::*;

#[component]
pub(super) fn NameField(ctx: CanvasCtx, name: String) -> impl IntoView {
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
pub(super) fn TextField(
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
pub(super) fn NumberField(
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
pub(super) fn SelectField(
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
pub(super) fn ConnectionField(ctx: CanvasCtx, step: String) -> impl IntoView {
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
pub(super) fn JsonEditor(
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
pub(super) fn JsonField(
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
pub(super) fn CodeField(
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
pub(super) fn RetryFields(ctx: CanvasCtx, step: String) -> impl IntoView {
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
