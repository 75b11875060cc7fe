//! The Deployments page (PRODUCT.md §6): every deployment, newest first — number, revision,
//! author, time, note, what was copied — with `Roll back to #N` (editors) and, for admins, the
//! restore of a live database backup a deployment kept.

use crate::api::{list_deployments, restore_backup, rollback};
use crate::pages::frame::{LiveBanner, use_frame};
use crate::ui::{EmptyState, iso, time_of};
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::wire::Deployment;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let frame = use_frame();
    let changed = RwSignal::new(0u32);
    let list = Resource::new(
        move || (frame.automation.get(), changed.get()),
        |(a, _)| list_deployments(a),
    );
    let me = move || frame.me.get();
    let can_edit = Signal::derive(move || me().is_some_and(|m| m.can_edit()));
    let is_admin = Signal::derive(move || me().is_some_and(|m| m.is_admin()));
    let message = RwSignal::new(None::<Result<String, String>>);
    view! {
        <LiveBanner/>
        <header class="page-header"><h1>"Deployments"</h1></header>
        <div class="page-body">
            <p class="muted">"Live always runs the latest deployment. Rolling back restores that deployment's revision into Test (keeping the draft as a backup revision first) and deploys it."</p>
            {move || message.get().map(|m| match m {
                Ok(t) => view! { <p class="notice" role="status">{t}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    Ok(items) if items.is_empty() => view! {
                        <EmptyState title="Nothing deployed yet".to_string()>
                            <p class="muted">"Deploy from the canvas header in Test: you choose the secrets and databases to copy, and Live switches to it at once."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(items) => {
                        let latest = items.first().map(|d| d.number);
                        view! {
                            <table class="table deployments">
                                <thead><tr><th>"#"</th><th>"Revision"</th><th>"Author"</th><th>"Deployed"</th><th>"Note"</th><th>"Copied"</th><th></th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|d| view! {
                                        <DeploymentRow d latest can_edit is_admin changed message/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn DeploymentRow(
    d: Deployment,
    latest: Option<u64>,
    can_edit: Signal<bool>,
    is_admin: Signal<bool>,
    changed: RwSignal<u32>,
    message: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let frame = use_frame();
    let number = d.number;
    let busy = RwSignal::new(false);
    let roll_back = move |_| {
        let a = frame.automation.get_untracked();
        busy.set(true);
        spawn_local(async move {
            message.set(Some(match rollback(a, number).await {
                Ok(n) => Ok(format!(
                    "Rolled back: deployment #{} runs revision {} of #{number}, and the draft is that revision again.",
                    n.number, n.revision
                )),
                Err(e) => Err(e.to_string()),
            }));
            busy.set(false);
            changed.update(|c| *c += 1);
        });
    };
    let copied = {
        let mut parts = vec![];
        if !d.secrets.is_empty() {
            parts.push(format!("secrets {}", d.secrets.join(", ")));
        }
        if !d.databases.is_empty() {
            parts.push(format!("databases {}", d.databases.join(", ")));
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join("; ")
        }
    };
    let backups = d.backups.clone();
    view! {
        <tr>
            <td class="strong">{format!("#{number}")}
                {(Some(number) == latest).then(|| view! { <span class="pill live-pill">"live"</span> })}</td>
            <td>{d.revision}</td>
            <td>{d.author.clone()}</td>
            <td title=iso(&d.created_at)>{time_of(&d.created_at)}</td>
            <td>{d.note.clone()}{d.rollback_of.map(|n| view! { <span class="muted small">{format!(" (roll back to #{n})")}</span> })}</td>
            <td class="small">{copied}
                {move || is_admin.get().then(|| backups.iter().map(|db| {
                    let db = db.clone();
                    let label = format!("Restore live {db} from before #{number}");
                    let restore = {
                        let db = db.clone();
                        move |_| {
                            let (a, db) = (frame.automation.get_untracked(), db.clone());
                            spawn_local(async move {
                                message.set(Some(match restore_backup(a, number, db.clone()).await {
                                    Ok(n) => Ok(format!("Live database {db} is back as it was before deployment #{number} ({n} records).")),
                                    Err(e) => Err(e.to_string()),
                                }));
                            });
                        }
                    };
                    view! { <div><button class="btn ghost small-btn" type="button" on:click=restore>{label}</button></div> }
                }).collect_view())}
            </td>
            <td class="right">
                <Show when=move || can_edit.get() && Some(number) != latest>
                    <button class="btn" type="button" disabled=move || busy.get() on:click=roll_back>{format!("Roll back to #{number}")}</button>
                </Show>
            </td>
        </tr>
    }
}
