//! The links out of a step, the "Next step" combobox that adds one without dragging, and the
//! form of a selected link.

use super::*;

/// The links out of a node, and the "Next step" combobox that adds one without dragging.
#[component]
pub(super) fn Links(ctx: CanvasCtx, from: String) -> impl IntoView {
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
pub(super) fn NextStep(ctx: CanvasCtx, from: String, port: Option<&'static str>) -> impl IntoView {
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
pub(super) fn LinkForm(
    ctx: CanvasCtx,
    from: String,
    to: String,
    port: Option<String>,
) -> impl IntoView {
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
