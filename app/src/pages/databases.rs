//! The Databases page: the databases of the current mode with record counts; one database's
//! records with prefix search and paging; create, edit and delete records in Test (JSON editor);
//! import and export as JSON Lines. Live is read-only.

use crate::Mode;
use crate::api::{
    CreateDatabase, DeleteRecord, ImportRecords, PutRecord, export_records, list_databases,
    list_records,
};
use crate::pages::frame::{LiveBanner, use_frame};
use crate::pages::runs::JsonView;
use crate::ui::{ActionError, EmptyState};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn DatabasesPage() -> impl IntoView {
    let frame = use_frame();
    let editable = move || {
        frame.mode.get() == Mode::Test
            && frame.me.with(|m| m.as_ref().is_some_and(|m| m.can_edit()))
    };
    let create = ServerAction::<CreateDatabase>::new();
    let put = ServerAction::<PutRecord>::new();
    let delete = ServerAction::<DeleteRecord>::new();
    let import = ServerAction::<ImportRecords>::new();
    let selected = RwSignal::new(None::<String>);
    let dbs = Resource::new(
        move || {
            (
                frame.automation.get(),
                frame.mode.get(),
                create.version().get(),
                put.version().get(),
                delete.version().get(),
                import.version().get(),
            )
        },
        |(a, m, ..)| list_databases(a, m),
    );
    view! {
        <LiveBanner/>
        <header class="page-header"><h1>"Databases"</h1></header>
        <div class="page-body databases">
            <p class="muted">{move || format!(
                "Named document stores of this automation in {}: string keys to JSON values, read and written by database steps. Test and Live have separate databases.",
                frame.mode.get().label())}</p>
            <Show when=editable>
                <ActionForm action=create attr:class="row">
                    <input type="hidden" name="automation" prop:value=move || frame.automation.get()/>
                    <input type="hidden" name="mode" value="test"/>
                    <label class="field"><span>"New database"</span><input name="name" required placeholder="orders" class="mono"/></label>
                    <button class="btn" type="submit">"Create database"</button>
                </ActionForm>
                <ActionError value=create.value()/>
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || dbs.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No databases yet".to_string()>
                            <p class="muted">"A database step with op put creates one on its first write."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table dbs">
                            <thead><tr><th>"Database"</th><th class="right">"Records"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| {
                                    let name = d.name.clone();
                                    let current = { let n = d.name.clone(); move || selected.get().as_deref() == Some(n.as_str()) };
                                    view! {
                                        <tr class:current=current>
                                            <td><button class="link-btn" type="button" on:click=move |_| selected.set(Some(name.clone()))>{d.name.clone()}</button></td>
                                            <td class="right mono">{d.count}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            {move || selected.get().map(|db| view! { <Records db editable=Signal::derive(editable) put delete import/> })}
        </div>
    }
}

#[component]
fn Records(
    db: String,
    editable: Signal<bool>,
    put: ServerAction<PutRecord>,
    delete: ServerAction<DeleteRecord>,
    import: ServerAction<ImportRecords>,
) -> impl IntoView {
    let frame = use_frame();
    let prefix = RwSignal::new(String::new());
    let paging = crate::ui::Paging::new();
    let cursor = paging.cursor;
    let database = db.clone();
    let page = Resource::new(
        move || {
            (
                frame.automation.get(),
                frame.mode.get(),
                database.clone(),
                prefix.get(),
                cursor.get(),
                put.version().get(),
                delete.version().get(),
                import.version().get(),
            )
        },
        |(a, m, d, p, c, ..)| list_records(a, m, d, p, c),
    );
    let editing = RwSignal::new(None::<(String, String)>);
    let exported = RwSignal::new(None::<String>);
    let export = {
        let db = db.clone();
        move |_| {
            let (a, m, d) = (
                frame.automation.get_untracked(),
                frame.mode.get_untracked(),
                db.clone(),
            );
            spawn_local(async move {
                exported.set(Some(
                    export_records(a, m, d)
                        .await
                        .unwrap_or_else(|e| e.to_string()),
                ));
            });
        }
    };
    let title = format!("Records of {db}");
    let (db1, db2, db3) = (db.clone(), db.clone(), db.clone());
    view! {
        <section class="card section" aria-label=title.clone()>
            <div class="row spread"><h2>{title.clone()}</h2>
                <button class="btn" type="button" on:click=export>"Export JSON Lines"</button></div>
            <label class="field"><span>"Key prefix"</span>
                <input class="mono" placeholder="search by key prefix" prop:value=move || prefix.get()
                    on:input=move |ev| { prefix.set(event_target_value(&ev)); paging.reset(); }/></label>
            <Show when=move || editable.get()>
                <button class="btn" type="button" on:click=move |_| editing.set(Some((String::new(), "{}".into())))>"New record"</button>
            </Show>
            {move || editing.get().map(|(key, value)| {
                let db = db1.clone();
                view! {
                    <ActionForm action=put attr:class="stack record-form">
                        <input type="hidden" name="automation" prop:value=move || frame.automation.get()/>
                        <input type="hidden" name="mode" value="test"/>
                        <input type="hidden" name="database" value=db/>
                        <label class="field"><span>"Key"</span><input name="key" class="mono" required value=key/></label>
                        <label class="field"><span>"Value"<span class="muted small">" · JSON"</span></span>
                            <textarea name="value" class="mono" rows="6" spellcheck="false">{value}</textarea></label>
                        <ActionError value=put.value()/>
                        <div class="row">
                            <button class="btn primary" type="submit">"Save record"</button>
                            <button class="btn ghost" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                        </div>
                    </ActionForm>
                }
            })}
            <ActionError value=delete.value()/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || page.get().map(|r| match r {
                    Ok(p) => {
                        let next = p.next_cursor.clone();
                        let db = db2.clone();
                        view! {
                            <table class="table records">
                                <thead><tr><th>"Key"</th><th>"Value"</th><th></th></tr></thead>
                                <tbody>
                                    {p.items.into_iter().map(|rec| view! { <RecordRow rec db=db.clone() editable editing delete/> }).collect_view()}
                                </tbody>
                            </table>
                            <crate::ui::Pager paging next=next back="Previous" forward="Next"/>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            {move || exported.get().map(|t| view! {
                <label class="field"><span>"Export (JSON Lines)"</span><textarea class="mono" rows="6" readonly>{t}</textarea></label>
            })}
            <Show when=move || editable.get()>
                {
                    let db = db3.clone();
                    view! {
                        <ActionForm action=import attr:class="stack">
                            <input type="hidden" name="automation" prop:value=move || frame.automation.get()/>
                            <input type="hidden" name="mode" value="test"/>
                            <input type="hidden" name="database" value=db/>
                            <label class="field"><span>"Import JSON Lines"</span>
                                <textarea name="text" class="mono" rows="4" spellcheck="false" placeholder="{\"key\": \"a1\", \"value\": {\"total\": 6}}"></textarea></label>
                            <ActionError value=import.value()/>
                            {move || import.value().get().and_then(|r| r.ok()).map(|n| view! { <p class="muted" role="status">{format!("Imported {n} records.")}</p> })}
                            <button class="btn" type="submit">"Import"</button>
                        </ActionForm>
                    }
                }
            </Show>
        </section>
    }
}

#[component]
fn RecordRow(
    rec: model::wire::Record,
    db: String,
    editable: Signal<bool>,
    editing: RwSignal<Option<(String, String)>>,
    delete: ServerAction<DeleteRecord>,
) -> impl IntoView {
    let frame = use_frame();
    let pretty = serde_json::to_string_pretty(&rec.value).unwrap_or_default();
    let key = rec.key.clone();
    let edit_label = format!("Edit record {}", rec.key);
    let delete_label = format!("Delete record {}", rec.key);
    view! {
        <tr>
            <td class="mono">{rec.key.clone()}</td>
            <td><JsonView value=rec.value.clone()/></td>
            <td class="right nowrap">
                <Show when=move || editable.get()>
                    {
                        let (key, pretty, db) = (key.clone(), pretty.clone(), db.clone());
                        let (edit_label, delete_label) = (edit_label.clone(), delete_label.clone());
                        let k2 = key.clone();
                        view! {
                            <button class="btn ghost" type="button" aria-label=edit_label
                                on:click=move |_| editing.set(Some((k2.clone(), pretty.clone())))>"Edit"</button>
                            <button class="btn ghost danger" type="button" aria-label=delete_label
                                on:click=move |_| {
                                    delete.dispatch(DeleteRecord {
                                        automation: frame.automation.get_untracked(),
                                        mode: Mode::Test,
                                        database: db.clone(),
                                        key: key.clone(),
                                    });
                                }>"Delete"</button>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}
