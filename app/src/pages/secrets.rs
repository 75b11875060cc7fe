//! The Secrets page: the secrets of the current mode by name, who set them and when; set,
//! replace and delete (editors in Test, admins in Live). Values are write-only.

use crate::Mode;
use crate::api::{DeleteSecret, SetSecret, list_secrets};
use crate::pages::frame::{LiveBanner, use_frame};
use crate::ui::{ActionError, EmptyState};
use leptos::prelude::*;

#[component]
pub fn SecretsPage() -> impl IntoView {
    let frame = use_frame();
    let set = ServerAction::<SetSecret>::new();
    let delete = ServerAction::<DeleteSecret>::new();
    let may_manage = move || {
        frame.me.with(|m| {
            m.as_ref().is_some_and(|m| match frame.mode.get() {
                Mode::Test => m.can_edit(),
                Mode::Live => m.is_admin(),
            })
        })
    };
    let secrets = Resource::new(
        move || {
            (
                frame.automation.get(),
                frame.mode.get(),
                set.version().get(),
                delete.version().get(),
            )
        },
        |(a, m, ..)| list_secrets(a, m),
    );
    let name = RwSignal::new(String::new());
    let confirming = RwSignal::new(None::<String>);
    view! {
        <LiveBanner/>
        <header class="page-header"><h1>"Secrets"</h1></header>
        <div class="page-body">
            <p class="muted">{move || format!(
                "Secrets of this automation in {}, used as {{{{ secrets.NAME }}}} in expressions and connection headers. Values are encrypted and never shown again; runs record [secret:NAME] in their place.",
                frame.mode.get().label())}</p>
            <Show when=may_manage>
                <ActionForm action=set attr:class="row wrap">
                    <input type="hidden" name="automation" prop:value=move || frame.automation.get()/>
                    <input type="hidden" name="mode" prop:value=move || frame.mode.get().as_str()/>
                    <label class="field"><span>"Name"</span>
                        <input name="name" class="mono" required placeholder="API_TOKEN" prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/></label>
                    <label class="field grow"><span>"Value"</span>
                        <input name="value" type="password" autocomplete="off" required/></label>
                    <button class="btn primary" type="submit">"Set secret"</button>
                </ActionForm>
                <ActionError value=set.value()/>
                {move || set.value().get().and_then(Result::ok).flatten().map(|warning| view! {
                    <p class="form-warning" role="status">{format!("Secret set, but {warning}.")}</p>
                })}
                <ActionError value=delete.value()/>
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || secrets.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No secrets yet".to_string()>
                            <p class="muted">"Set one above; a composer refers to it as secrets.NAME."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table secrets">
                            <thead><tr><th>"Name"</th><th>"Set by"</th><th>"Set at"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let (n1, n2, n3) = (s.name.clone(), s.name.clone(), s.name.clone());
                                    view! {
                                        <tr>
                                            <td class="mono strong">{s.name.clone()}</td>
                                            <td>{s.set_by.clone()}</td>
                                            <td class="muted">{crate::ui::minute_of(&s.set_at)}</td>
                                            <td class="right nowrap">
                                                <Show when=may_manage>
                                                    {
                                                        let (n1, n2, n3) = (n1.clone(), n2.clone(), n3.clone());
                                                        view! {
                                                            <button class="btn ghost" type="button" aria-label=format!("Replace {n1}")
                                                                on:click={ let n = n1.clone(); move |_| name.set(n.clone()) }>"Replace"</button>
                                                            <Show when={ let n = n2.clone(); move || confirming.get().as_deref() == Some(n.as_str()) }
                                                                fallback={ let n = n2.clone(); move || {
                                                                    let n = n.clone();
                                                                    view! { <button class="btn ghost danger" type="button" aria-label=format!("Delete {n}")
                                                                        on:click=move |_| confirming.set(Some(n.clone()))>"Delete"</button> }
                                                                } }>
                                                                {
                                                                    let n = n3.clone();
                                                                    view! {
                                                                        <button class="btn danger" type="button" on:click=move |_| {
                                                                            confirming.set(None);
                                                                            delete.dispatch(DeleteSecret { automation: frame.automation.get_untracked(), mode: frame.mode.get_untracked(), name: n.clone() });
                                                                        }>{format!("Delete {n3} for good")}</button>
                                                                    }
                                                                }
                                                            </Show>
                                                        }
                                                    }
                                                </Show>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}
