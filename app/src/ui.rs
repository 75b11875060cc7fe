//! Small shared pieces of UI: icons (inline Lucide-style SVG, one set), error text, empty states.

use leptos::prelude::*;

/// A 16 px stroke icon. `name` picks the path set; unknown names draw nothing.
#[component]
pub fn Icon(name: &'static str) -> impl IntoView {
    let paths: &'static [&'static str] = match name {
        "play" => &["M6 4l14 8-14 8z"],
        "plus" => &["M12 5v14", "M5 12h14"],
        "canvas" => &[
            "M3 3h7v7H3z",
            "M14 14h7v7h-7z",
            "M10 6.5h4a3 3 0 0 1 3 3V14",
        ],
        "settings" => &[
            "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
            "M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z",
        ],
        "zap" => &["M13 2L3 14h9l-1 8 10-12h-9l1-8z"],
        "clock" => &["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z", "M12 6v6l4 2"],
        "hand" => &["M5 12h14", "M12 5l7 7-7 7"],
        "logout" => &[
            "M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4",
            "M16 17l5-5-5-5",
            "M21 12H9",
        ],
        "chevron" => &["M6 9l6 6 6-6"],
        "key" => &[
            "M15 7a4 4 0 1 1-3.5 6L4 20.5V17h3v-3h3l1.5-1.5A4 4 0 0 1 15 7z",
            "M16 8h.01",
        ],
        "database" => &[
            "M12 8c4.4 0 8-1.3 8-3s-3.6-3-8-3-8 1.3-8 3 3.6 3 8 3z",
            "M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5",
            "M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3",
        ],
        "list" => &[
            "M8 6h13",
            "M8 12h13",
            "M8 18h13",
            "M3 6h.01",
            "M3 12h.01",
            "M3 18h.01",
        ],
        "plug" => &[
            "M12 22v-5",
            "M9 8V2",
            "M15 8V2",
            "M18 8v5a4 4 0 0 1-4 4h-4a4 4 0 0 1-4-4V8z",
        ],
        "rocket" => &[
            "M4.5 16.5c-1.5 1.26-2 5-2 5s3.74-.5 5-2c.71-.84.7-2.13-.09-2.91a2.18 2.18 0 0 0-2.91-.09z",
            "M12 15l-3-3a22 22 0 0 1 2-3.95A12.88 12.88 0 0 1 22 2c0 2.72-.78 7.5-6 11a22.35 22.35 0 0 1-4 2z",
            "M9 12H4s.55-3.03 2-4c1.62-1.08 5 0 5 0",
            "M12 15v5s3.03-.55 4-2c1.08-1.62 0-5 0-5",
        ],
        "layers" => &[
            "M12 2L2 7l10 5 10-5-10-5z",
            "M2 17l10 5 10-5",
            "M2 12l10 5 10-5",
        ],
        // Step kinds (see `crate::canvas::kind_icon`).
        "globe" => &[
            "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z",
            "M2 12h20",
            "M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z",
        ],
        "braces" => &[
            "M8 3H7a2 2 0 0 0-2 2v5a2 2 0 0 1-2 2 2 2 0 0 1 2 2v5a2 2 0 0 0 2 2h1",
            "M16 21h1a2 2 0 0 0 2-2v-5a2 2 0 0 1 2-2 2 2 0 0 1-2-2V5a2 2 0 0 0-2-2h-1",
        ],
        "code" => &["M16 18l6-6-6-6", "M8 6l-6 6 6 6"],
        "branch" => &[
            "M6 3v12",
            "M18 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
            "M6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
            "M18 9a9 9 0 0 1-9 9",
        ],
        "reply" => &["M9 14L4 9l5-5", "M20 20v-7a4 4 0 0 0-4-4H4"],
        "timer" => &[
            "M10 2h4",
            "M12 14l3-3",
            "M12 22a8 8 0 1 0 0-16 8 8 0 0 0 0 16z",
        ],
        _ => &[],
    };
    view! {
        <svg class="icon" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
            {paths.iter().map(|d| view! { <path d=*d/> }).collect_view()}
        </svg>
    }
}

/// A time as people read it (UTC).
pub fn time_of(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A time to the minute, as lists of tokens, users and secrets show it.
pub fn minute_of(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time as RFC 3339, for `title` attributes and machines.
pub fn iso(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339()
}

/// Shows the error of the last action result, if it failed.
#[component]
pub fn ActionError<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, crate::error::AppError>>>,
) -> impl IntoView {
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            view! { <p class="form-error" role="alert">{e.to_string()}</p> }
        })
    }
}

#[component]
pub fn EmptyState(title: String, children: Children) -> impl IntoView {
    view! {
        <div class="empty">
            <h2>{title}</h2>
            {children()}
        </div>
    }
}

/// Cursor paging: the cursor of the page shown and those of the pages before it, so that
/// going back needs no server support.
#[derive(Clone, Copy)]
pub struct Paging {
    pub cursor: RwSignal<Option<String>>,
    before: RwSignal<Vec<Option<String>>>,
}

impl Paging {
    pub fn new() -> Paging {
        Paging {
            cursor: RwSignal::new(None),
            before: RwSignal::new(vec![]),
        }
    }

    /// Back to the first page (the filter changed).
    pub fn reset(&self) {
        self.before.set(vec![]);
        self.cursor.set(None);
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self::new()
    }
}

/// The two buttons under a paged table.
#[component]
pub fn Pager(
    paging: Paging,
    next: Option<String>,
    back: &'static str,
    forward: &'static str,
) -> impl IntoView {
    let Paging { cursor, before } = paging;
    view! {
        <div class="row pager">
            <button class="btn" type="button" disabled=move || before.with(Vec::is_empty)
                on:click=move |_| { let prev = before.try_update(|c| c.pop()).flatten().flatten(); cursor.set(prev); }>{back}</button>
            <button class="btn" type="button" disabled=next.is_none()
                on:click=move |_| { let cur = cursor.get_untracked(); before.update(|c| c.push(cur)); cursor.set(next.clone()); }>{forward}</button>
        </div>
    }
}
