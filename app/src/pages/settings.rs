//! Settings: the automation's export and import for everyone (import for editors) and, for
//! admins, API tokens, the users of this instance, network rules, retention and the audit log.

use crate::api::{
    AddUser, CreateToken, DeleteUser, RevokeToken, SetNetwork, get_network, list_tokens, list_users,
};
use crate::pages::frame::use_frame;
use crate::ui::ActionError;
use leptos::prelude::*;
use model::wire::Role;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let frame = use_frame();
    let is_admin = move || frame.me.with(|m| m.as_ref().is_some_and(|m| m.is_admin()));
    // Counts the audited changes made on this page, so the audit log below shows them.
    let changed = RwSignal::new(0u32);
    view! {
        <header class="page-header"><h1>"Settings"</h1></header>
        <div class="page-body settings">
            <crate::pages::transfer::Transfer changed/>
            <Show when=is_admin fallback=|| view! {
                <p class="muted">"API tokens, users, network rules and retention are managed by admins."</p>
            }>
                <Tokens/>
                <Users changed/>
                <Network changed/>
                <crate::pages::retention::Retention changed/>
                <Audit changed/>
            </Show>
        </div>
    }
}

/// Bumps `changed` each time an action of this page finishes (its version moves past 0).
pub(crate) fn audited(version: RwSignal<usize>, changed: RwSignal<u32>) {
    Effect::new(move |_| {
        if version.get() > 0 {
            changed.update(|n| *n += 1);
        }
    });
}

/// Settings → Network: the egress rules of `http` steps (PRODUCT.md §15).
#[component]
fn Network(changed: RwSignal<u32>) -> impl IntoView {
    let set = ServerAction::<SetNetwork>::new();
    audited(set.version(), changed);
    let current = Resource::new(move || set.version().get(), |_| get_network());
    view! {
        <section class="card section" aria-labelledby="network-h">
            <h2 id="network-h">"Network"</h2>
            <p class="muted">"Addresses http steps may not connect to, checked on the address connected to (after DNS, on every redirect). Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) are always denied; loopback and private ranges are allowed unless you deny them here. Allowed ranges win over denied ones."</p>
            <Transition>
                {move || current.get().map(|r| match r {
                    Ok(n) => view! {
                        <ActionForm action=set attr:class="stack">
                            <label class="field"><span>"Denied ranges"</span>
                                <textarea name="deny" class="mono" rows="3" placeholder="10.0.0.0/8">{n.deny}</textarea></label>
                            <label class="field"><span>"Allowed ranges"</span>
                                <textarea name="allow" class="mono" rows="2" placeholder="10.0.0.7">{n.allow}</textarea></label>
                            <div><button class="btn primary" type="submit">"Save network rules"</button></div>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <ActionError value=set.value()/>
            {move || matches!(set.value().get(), Some(Ok(()))).then(|| view! {
                <p class="muted small" role="status">"Saved: the rules apply to the next connection."</p>
            })}
        </section>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <section class="card section" aria-labelledby="tokens-h">
            <h2 id="tokens-h">"API tokens"</h2>
            <p class="muted">"A token lets scripts use the REST API as you: send it as "<code>"Authorization: Bearer <token>"</code>"."</p>
            <ActionForm action=create attr:class="row">
                <label class="field grow"><span>"Token name"</span><input name="name" required maxlength="100" placeholder="deploy script"/></label>
                <button class="btn primary" type="submit">"Create token"</button>
            </ActionForm>
            <ActionError value=create.value()/>
            {move || create.value().get().and_then(|r| r.ok()).map(|t| view! {
                <div class="notice" role="status">
                    <p>"Copy this token now: it is shown only once."</p>
                    <code class="token" aria-label="New token">{t}</code>
                </div>
            })}
            <Transition>
                {move || tokens.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="muted small">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table">
                            <thead><tr><th>"Name"</th><th>"Created"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| view! {
                                    <tr><td>{t.name.clone()}</td><td class="muted">{crate::ui::minute_of(&t.created_at)}</td>
                                    <td class="right"><ActionForm action=revoke>
                                        <input type="hidden" name="id" value=t.id/>
                                        <button class="btn ghost danger" type="submit" aria-label=format!("Revoke {}", t.name)>"Revoke"</button>
                                    </ActionForm></td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Users(changed: RwSignal<u32>) -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    audited(add.version(), changed);
    audited(delete.version(), changed);
    let users = Resource::new(
        move || (add.version().get(), delete.version().get()),
        |_| list_users(),
    );
    view! {
        <section class="card section" aria-labelledby="users-h">
            <h2 id="users-h">"Users"</h2>
            <p class="muted">"Viewers read everything but secret values; editors edit Test, run tests and deploy; admins also manage users, API tokens and live secrets."</p>
            <ActionForm action=add attr:class="row wrap">
                <label class="field"><span>"Username"</span><input name="username" required autocomplete="off"/></label>
                <label class="field"><span>"Role"</span>
                    <select name="role">
                        {Role::ALL.map(|r| view! { <option value=r.as_str() selected=r == Role::Editor>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field"><span>"Password"</span><input name="password" type="password" minlength="8" required autocomplete="new-password"/></label>
                <button class="btn primary" type="submit">"Add user"</button>
            </ActionForm>
            <ActionError value=add.value()/>
            <ActionError value=delete.value()/>
            <Transition>
                {move || users.get().map(|r| match r {
                    Ok(list) => view! {
                        <table class="table">
                            <thead><tr><th>"User"</th><th>"Role"</th><th>"Created"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| view! {
                                    <tr><td class="strong">{u.username.clone()}</td><td>{u.role.as_str()}</td><td class="muted">{crate::ui::minute_of(&u.created_at)}</td>
                                    <td class="right"><ActionForm action=delete>
                                        <input type="hidden" name="username" value=u.username.clone()/>
                                        <button class="btn ghost danger" type="submit" aria-label=format!("Delete user {}", u.username)>"Delete"</button>
                                    </ActionForm></td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The audit log (admins): deploys, rollbacks, restores, secret and user changes, logins.
#[component]
fn Audit(changed: RwSignal<u32>) -> impl IntoView {
    let cursor = RwSignal::new(None::<String>);
    let page = Resource::new(
        move || (cursor.get(), changed.get()),
        |(cursor, _)| crate::api::list_audit(cursor),
    );
    view! {
        <section class="card section" aria-labelledby="audit-h">
            <h2 id="audit-h">"Audit"</h2>
            <p class="muted">"Who deployed, rolled back, restored, changed a secret or a user, or signed in — newest first. Secret values are never recorded."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || page.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    Ok(p) => {
                        let next = p.next_cursor.clone();
                        view! {
                            <table class="table audit">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Automation"</th><th>"Detail"</th></tr></thead>
                                <tbody>
                                    {p.items.into_iter().map(|e| view! {
                                        <tr>
                                            <td title=crate::ui::iso(&e.at) class="nowrap">{crate::ui::time_of(&e.at)}</td>
                                            <td>{e.actor}</td>
                                            <td><span class="pill">{e.action.label()}</span></td>
                                            <td>{e.automation.unwrap_or_default()}</td>
                                            <td>{e.detail}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <div class="row">
                                <Show when=move || cursor.get().is_some()>
                                    <button class="btn ghost" type="button" on:click=move |_| cursor.set(None)>"Newest"</button>
                                </Show>
                                {next.map(|n| view! { <button class="btn ghost" type="button" on:click=move |_| cursor.set(Some(n.clone()))>"Older"</button> })}
                            </div>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}
