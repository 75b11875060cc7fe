//! The frame around every automation page: the sidebar (automation switcher, mode switch,
//! composer list, navigation, account) and the main area where the child route renders.

use crate::Mode;
use crate::api::{CreateAutomation, Frame, Logout, frame_data};
use crate::draft::{DraftStore, use_draft};
use crate::pages::home::NewAutomation;
use crate::ui::Icon;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::{use_location, use_navigate, use_params_map};

/// What child pages read from the frame.
#[derive(Clone)]
pub struct FrameContext {
    pub automation: Memo<String>,
    pub mode: Memo<Mode>,
    pub data: Resource<Result<Frame, crate::error::AppError>>,
    /// Who is signed in, once the frame data has arrived in the browser. Set by an effect, so
    /// the server's render and hydration agree (both start without it); role-dependent
    /// controls read this rather than the resource.
    pub me: RwSignal<Option<model::wire::User>>,
}

impl FrameContext {
    /// A composer's name as the sidebar shows it; its slug until the frame has loaded, or for a
    /// composer that no longer exists.
    pub fn composer_name(&self, slug: &str) -> String {
        self.data
            .with_untracked(|d| {
                d.as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .and_then(|f| f.composers.iter().find(|c| c.slug == slug))
                    .map(|c| c.name.clone())
            })
            .unwrap_or_else(|| slug.to_string())
    }
}

pub fn use_frame() -> FrameContext {
    expect_context::<FrameContext>()
}

#[component]
pub fn AutomationFrame() -> impl IntoView {
    let params = use_params_map();
    let automation = Memo::new(move |_| params.read().get("automation").unwrap_or_default());
    let mode = Memo::new(move |_| {
        params
            .read()
            .get("mode")
            .and_then(|m| Mode::parse(&m))
            .unwrap_or(Mode::Test)
    });
    let create_automation = ServerAction::<CreateAutomation>::new();
    let data = Resource::new(
        move || {
            (
                automation.get(),
                mode.get(),
                create_automation.version().get(),
            )
        },
        |(a, m, _)| frame_data(a, m),
    );
    let me = RwSignal::new(None);
    provide_context(FrameContext {
        automation,
        mode,
        data,
        me,
    });
    provide_context(create_automation);

    // One draft store for every Test page of this automation: one save path, one version.
    let store = DraftStore::new();
    provide_context(store);
    // And one read-only store for Live's document, loaded afresh each time Live is shown.
    let live_doc = DraftStore::new();
    provide_context(crate::draft::LiveDoc(live_doc));
    Effect::new(move |_| {
        let a = automation.get();
        if mode.get() == Mode::Live {
            live_doc.load_live(a);
        }
    });
    provide_context(crate::runwatch::RunWatch::new());
    Effect::new(move |_| {
        let a = automation.get();
        if mode.get() == Mode::Test && store.automation.get_untracked() != a {
            store.save_now();
            store.load(a);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(d)) = data.get() {
            store.can_edit.set(d.me.can_edit());
            me.set(Some(d.me));
        }
    });
    // Closing the tab with an unsaved edit asks first.
    Effect::new(move |_| {
        let h = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if store.has_unsaved() {
                ev.prevent_default();
                store.save_now();
            }
        });
        on_cleanup(move || h.remove());
    });
    let location = use_location();

    view! {
        <div class="app" class:live=move || mode.get() == Mode::Live>
            <div class="mode-bar" aria-hidden="true"></div>
            // The sidebar follows the data; the child route stays mounted across refetches.
            <Transition fallback=|| view! { <aside class="sidebar"><p class="muted">"Loading…"</p></aside> }>
                {move || data.get().map(|r| match r {
                    Ok(d) => view! { <Sidebar data=d/> }.into_any(),
                    Err(e) => {
                        let msg = e.to_string();
                        if msg == "not signed in" {
                            let next = location.pathname.get_untracked();
                            view! { <Redirect path=format!("/login?next={next}")/> }.into_any()
                        } else {
                            view! {
                                <aside class="sidebar">
                                    <div class="brand"><span class="brand-mark"></span>"Slipway"</div>
                                    <p class="form-error">{msg}</p>
                                    <a class="btn" href="/">"Go to Slipway"</a>
                                </aside>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <main class="main"><Outlet/></main>
        </div>
    }
}

#[component]
fn Sidebar(data: Frame) -> impl IntoView {
    let FrameContext {
        automation, mode, ..
    } = use_frame();
    let navigate = use_navigate();
    let location = use_location();
    let base = move || format!("/a/{}/{}", automation.get(), mode.get().as_str());
    let can_edit = data.me.can_edit();
    let logout = ServerAction::<Logout>::new();

    let switch_mode = {
        let navigate = navigate.clone();
        move |_| {
            let path = location.pathname.get_untracked();
            let from = format!(
                "/a/{}/{}",
                automation.get_untracked(),
                mode.get_untracked().as_str()
            );
            let to = format!(
                "/a/{}/{}",
                automation.get_untracked(),
                mode.get_untracked().other().as_str()
            );
            let rest = path.strip_prefix(&from).unwrap_or("");
            // Pages of one composer exist in both modes; other sub-pages too.
            navigate(&format!("{to}{rest}"), Default::default());
        }
    };
    let on_switch_automation = {
        let navigate = navigate.clone();
        move |ev: leptos::ev::Event| {
            let slug = event_target_value(&ev);
            navigate(
                &format!("/a/{slug}/{}", mode.get_untracked().as_str()),
                Default::default(),
            );
        }
    };
    let current = data.automation.slug.clone();
    let store = use_draft();
    let watch = crate::runwatch::use_run_watch();
    let live_composers = data.composers.clone();
    let composers = move || {
        if mode.get() == Mode::Live {
            live_composers
                .iter()
                .map(|c| (c.slug.clone(), c.name.clone()))
                .collect::<Vec<_>>()
        } else {
            store.doc.with(|d| {
                d.as_ref()
                    .map(|d| {
                        d.composers
                            .iter()
                            .map(|c| (c.slug.clone(), c.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            })
        }
    };
    let live = move || mode.get() == Mode::Live;

    view! {
        <aside class="sidebar">
            <div class="brand"><span class="brand-mark"></span>"Slipway"
                <Show when=live><span class="pill live-pill">"LIVE"</span></Show>
            </div>
            <label class="field compact">
                <span class="sr-only">"Automation"</span>
                <select class="automation-switcher" aria-label="Automation" on:change=on_switch_automation>
                    {data.automations.iter().map(|a| {
                        let selected = a.slug == current;
                        view! { <option value=a.slug.clone() selected=selected>{a.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            {can_edit.then(|| view! { <NewAutomation/> })}

            <button class="mode-switch" role="switch" aria-label="Live mode"
                aria-checked=move || live().to_string() on:click=switch_mode>
                <span class="mode-opt" class:on=move || !live()>"Test"</span>
                <span class="mode-opt" class:on=live>"Live"</span>
            </button>

            <div class="section-title">"Composers"</div>
            <ul class="composer-list">
                {move || {
                    let list = composers();
                    if list.is_empty() {
                        view! { <li class="muted small pad">{move || if live() { "Nothing deployed yet" } else { "No composers yet" }}</li> }.into_any()
                    } else {
                        list.into_iter().map(|(slug, name)| {
                            let s2 = slug.clone();
                            let href = move || format!("{}/c/{}", base(), s2);
                            let run_label = format!("Run {name}");
                            let run = {
                                let navigate = navigate.clone();
                                move |_| {
                                    let a = automation.get_untracked();
                                    watch.start(a.clone(), slug.clone());
                                    navigate(&format!("/a/{a}/test/c/{slug}"), Default::default());
                                }
                            };
                            view! {
                                <li class="composer-row">
                                    <A href=href attr:class="composer-link">{name}</A>
                                    <Show when=move || can_edit && !live()>
                                        <button class="btn ghost icon-btn run-btn" type="button" aria-label=run_label.clone() title=run_label.clone()
                                            on:click=run.clone()><Icon name="play"/></button>
                                    </Show>
                                </li>
                            }
                        }).collect_view().into_any()
                    }
                }}
            </ul>
            {move || (can_edit && !live()).then(|| view! { <NewComposer/> })}

            <nav class="nav" aria-label="Sections">
                <A href=move || base() exact=true><Icon name="canvas"/>"Canvas"</A>
                <A href=move || format!("{}/runs", base())><Icon name="list"/>"Runs & Logs"</A>
                <A href=move || format!("{}/secrets", base())><Icon name="key"/>"Secrets"</A>
                <A href=move || format!("{}/databases", base())><Icon name="database"/>"Databases"</A>
                <A href=move || format!("{}/connections", base())><Icon name="plug"/>"Connections"</A>
                <A href=move || format!("{}/deployments", base())><Icon name="rocket"/>"Deployments"</A>
                <A href=move || format!("{}/settings", base())><Icon name="settings"/>"Settings"</A>
            </nav>

            <div class="account">
                <div class="who"><span class="avatar">{data.me.username.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or('?')}</span>
                    <span><span class="strong">{data.me.username.clone()}</span><br/><span class="muted small">{data.me.role.as_str()}</span></span>
                </div>
                <ActionForm action=logout>
                    <button class="btn ghost icon-btn" type="submit" title="Sign out" aria-label="Sign out"><Icon name="logout"/></button>
                </ActionForm>
            </div>
        </aside>
    }
}

#[component]
fn NewComposer() -> impl IntoView {
    let store = use_draft();
    let navigate = use_navigate();
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked();
        if n.trim().is_empty() || n.chars().count() > 100 {
            error.set(Some("a composer name has 1 to 100 characters".into()));
            return;
        }
        match store.edit(None, |d| d.add_composer(&n)) {
            Some(slug) => {
                open.set(false);
                name.set(String::new());
                error.set(None);
                navigate(
                    &format!("/a/{}/test/c/{slug}", store.automation.get_untracked()),
                    Default::default(),
                );
            }
            None => error.set(Some(store.status.get_untracked().text())),
        }
    };
    view! {
        <div class="inline-create">
            <button class="btn ghost new-composer" type="button" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                <Icon name="plus"/>"New composer"
            </button>
            <Show when=move || open.get()>
                <form class="stack popover-form" on:submit=submit.clone()
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
                    <label class="field"><span>"Composer name"</span>
                        <input required maxlength="100" autofocus placeholder="Intake" prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/></label>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <div class="row">
                        <button class="btn primary" type="submit">"Create composer"</button>
                        <button class="btn ghost" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
        </div>
    }
}

/// The banner every Live page carries.
#[component]
pub fn LiveBanner() -> impl IntoView {
    let FrameContext {
        automation, mode, ..
    } = use_frame();
    let location = use_location();
    let test_href = move || {
        let from = format!("/a/{}/live", automation.get());
        let rest = location
            .pathname
            .get()
            .strip_prefix(&from)
            .unwrap_or("")
            .to_string();
        format!("/a/{}/test{rest}", automation.get())
    };
    view! {
        <Show when=move || mode.get() == Mode::Live>
            <div class="live-banner" role="note">
                <span>"Live is read-only"</span>
                <A href=test_href>"Switch to Test"</A>
            </div>
        </Show>
    }
}
