//! The trigger's form: its kind, a webhook's method and secret, a schedule's cron with its next
//! fire times, and the sample input.

use super::*;

#[component]
pub(super) fn TriggerForm(ctx: CanvasCtx) -> impl IntoView {
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
pub(super) fn Schedule(ctx: CanvasCtx, trigger: Memo<Option<Trigger>>) -> impl IntoView {
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
pub(super) fn SampleField(ctx: CanvasCtx, trigger: Memo<Option<Trigger>>) -> impl IntoView {
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
