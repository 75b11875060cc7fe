//! The nodes on the canvas (the trigger and the steps, with their ports, run states and marks)
//! and the pointer gestures that start on them.

use super::*;

/// The [`Icon`](crate::ui::Icon) of a step kind or trigger kind (SVG: the fonts a browser has
/// may lack symbol glyphs).
pub fn kind_icon(kind: &str) -> &'static str {
    match kind {
        "http" => "globe",
        "transform" => "braces",
        "code" => "code",
        "branch" => "branch",
        "database" => "database",
        "respond" => "reply",
        "delay" => "timer",
        "webhook" => "zap",
        "schedule" => "clock",
        _ => "play",
    }
}

pub(super) fn node_down(
    ctx: CanvasCtx,
    name: String,
) -> impl Fn(leptos::ev::PointerEvent) + 'static {
    move |ev| {
        if ev.button() != 0 {
            return;
        }
        ev.stop_propagation();
        ctx.selected.set(Selection::Node(name.clone()));
        if !ctx.read_only.get_untracked() {
            let start = ctx
                .layout
                .with_untracked(|l| l.get(&name).cloned())
                .unwrap_or(Position { x: 0.0, y: 0.0 });
            ctx.gesture.set(Gesture::Move {
                name: name.clone(),
                sx: ev.client_x() as f64,
                sy: ev.client_y() as f64,
                start,
            });
        }
    }
}

pub(super) fn port_down(
    ctx: CanvasCtx,
    from: String,
    port: Option<&'static str>,
) -> impl Fn(leptos::ev::PointerEvent) + 'static {
    move |ev| {
        if ev.button() != 0 || ctx.read_only.get_untracked() {
            return;
        }
        ev.stop_propagation();
        let (wx, wy) = ctx.world_point(ev.client_x() as f64, ev.client_y() as f64);
        ctx.gesture.set(Gesture::Link {
            from: from.clone(),
            port: port.map(String::from),
            wx,
            wy,
        });
    }
}

#[component]
pub(super) fn TriggerNode(ctx: CanvasCtx) -> impl IntoView {
    let pos = Memo::new(move |_| ctx.pos(TRIGGER));
    let kind = Memo::new(move |_| {
        ctx.composer
            .with(|c| c.as_ref().map(|c| c.trigger.kind()).unwrap_or("manual"))
    });
    let selected = Memo::new(move |_| {
        ctx.selected
            .with(|s| matches!(s, Selection::Node(n) if n == TRIGGER))
    });
    view! {
        <div class="node trigger-node" role="group" aria-label="Trigger" class:selected=selected
            style:transform=move || { let p = pos.get(); format!("translate({}px, {}px)", p.x, p.y) }
            on:pointerdown=node_down(ctx, TRIGGER.to_string())>
            <span class="node-icon" aria-hidden="true">{move || view! { <Icon name=kind_icon(kind.get())/> }}</span>
            <span class="node-text">
                <span class="node-name">"Trigger"</span>
                <span class="node-kind">{move || match kind.get() { "webhook" => "Webhook", "schedule" => "Schedule", _ => "Manual" }}</span>
            </span>
            <Show when=move || !ctx.read_only.get()>
                <span class="port out" title="Drag to a step to link" on:pointerdown=port_down(ctx, TRIGGER.to_string(), None)></span>
            </Show>
        </div>
    }
}

#[component]
pub(super) fn StepNode(ctx: CanvasCtx, name: String) -> impl IntoView {
    let pos = {
        let name = name.clone();
        Memo::new(move |_| ctx.pos(&name))
    };
    let kind = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.composer.with(|c| {
                c.as_ref()
                    .and_then(|c| c.step(&name))
                    .map(|s| s.kind.clone())
                    .unwrap_or_default()
            })
        })
    };
    let problems = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.problems.with(|ps| {
                ps.iter()
                    .filter(|p| p.step.as_deref() == Some(name.as_str()) && p.is_error())
                    .count()
            })
        })
    };
    let mark = {
        let name = name.clone();
        Memo::new(move |_| ctx.marks.with(|m| m.get(&name).copied()))
    };
    let selected = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.selected
                .with(|s| matches!(s, Selection::Node(n) if *n == name))
        })
    };
    let dragging = {
        let sig = ctx.drag_signal(&name);
        Memo::new(move |_| sig.with(Option::is_some))
    };
    let branch = {
        let name = name.clone();
        Memo::new(move |_| ctx.is_branch(&name))
    };
    let state = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.run.with(|r| {
                r.as_ref()
                    .and_then(|r| r.steps.iter().find(|s| s.name == name))
                    .map(|s| (s.status, s.duration_ms()))
            })
        })
    };
    let label = move || {
        StepKind::ALL
            .iter()
            .find(|k| k.as_str() == kind.get())
            .map(|k| k.label().to_string())
            .unwrap_or_else(|| format!("unknown kind “{}”", kind.get()))
    };
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    view! {
        <div role="group" aria-label=name.clone()
            class=move || {
                let mut c = String::from("node");
                for (on, name) in [
                    (selected.get(), " selected"),
                    (dragging.get(), " dragging"),
                    (problems.get() > 0, " has-problems"),
                    (mark.get() == Some(Mark::Added), " mark-added"),
                    (mark.get() == Some(Mark::Changed), " mark-changed"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Running)), " state-running"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Succeeded)), " state-succeeded"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Failed)), " state-failed"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Skipped)), " state-skipped"),
                ] {
                    if on {
                        c.push_str(name);
                    }
                }
                c
            }
            data-kind=move || kind.get()
            style:transform=move || { let p = pos.get(); format!("translate({}px, {}px)", p.x, p.y) }
            on:pointerdown=node_down(ctx, name.clone())>
            <span class="port in" aria-hidden="true"></span>
            <span class="node-icon" aria-hidden="true">{move || view! { <Icon name=kind_icon(&kind.get())/> }}</span>
            <span class="node-text">
                <span class="node-name">{name.clone()}</span>
                <span class="node-kind">{label}</span>
                {move || state.get().map(|(st, ms)| {
                    let text = crate::runwatch::step_state_text(st, ms);
                    view! { <span class="node-state">{text}</span> }
                })}
            </span>
            <Show when=move || { problems.get() > 0 }>
                <span class="badge fail" title="Problems">{move || problems.get()}</span>
            </Show>
            {move || mark.get().map(|m| {
                let text = match m { Mark::Added => "added", Mark::Changed => "changed", Mark::Removed => "removed" };
                view! { <span class="badge mark">{text}</span> }
            })}
            <Show when=move || !ctx.read_only.get()>
                {
                    let (n1, n2, n3) = (n1.clone(), n2.clone(), n3.clone());
                    move || if branch.get() {
                        view! {
                            <span class="port out port-true" title="true" on:pointerdown=port_down(ctx, n1.clone(), Some("true"))><span class="port-label">"true"</span></span>
                            <span class="port out port-false" title="false" on:pointerdown=port_down(ctx, n2.clone(), Some("false"))><span class="port-label">"false"</span></span>
                        }.into_any()
                    } else {
                        view! { <span class="port out" title="Drag to a step to link" on:pointerdown=port_down(ctx, n3.clone(), None)></span> }.into_any()
                    }
                }
            </Show>
        </div>
    }
}
