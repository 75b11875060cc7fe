//! The draft being edited in this browser tab: the document, its version, undo and redo, and
//! autosave (PRODUCT.md §5). Every page of an automation in Test edits through one store, so
//! there is one save path and one version to conflict on.

use crate::api::{Saved, load_draft, save_draft};
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::{Document, Problem};
use std::time::Duration;

/// How long typing may pause before it is saved.
const DEBOUNCE_MS: u64 = 600;
/// Keystrokes in one field within this window are one undo step.
const COALESCE_MS: f64 = 1500.0;
const UNDO_LIMIT: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub enum SaveStatus {
    Loading,
    Saved,
    Pending,
    Saving,
    /// The last save failed; it is retried.
    Retrying(String),
    /// Someone else saved first; this tab stops saving until it reloads.
    Conflict(String),
    LoadFailed(String),
}

impl SaveStatus {
    pub fn text(&self) -> String {
        match self {
            SaveStatus::Loading => "Loading…".into(),
            SaveStatus::Saved => "Saved".into(),
            SaveStatus::Pending | SaveStatus::Saving => "Saving…".into(),
            SaveStatus::Retrying(e) => format!("Not saved: {e}. Retrying…"),
            SaveStatus::Conflict(m) => m.clone(),
            SaveStatus::LoadFailed(e) => format!("Could not load the draft: {e}"),
        }
    }
}

#[derive(Clone, Copy)]
pub struct DraftStore {
    pub automation: RwSignal<String>,
    pub doc: RwSignal<Option<Document>>,
    pub version: RwSignal<u64>,
    pub status: RwSignal<SaveStatus>,
    /// The problems of the last saved (or loaded) version, as the server found them.
    pub problems: RwSignal<Vec<Problem>>,
    pub can_edit: RwSignal<bool>,
    /// Set when this store holds Live's document: the deployment number it shows.
    pub deployment: RwSignal<Option<u64>>,
    edits: RwSignal<u64>,
    saved_edits: StoredValue<u64>,
    undo: StoredValue<Vec<Document>>,
    redo: StoredValue<Vec<Document>>,
    last_key: StoredValue<Option<(String, f64)>>,
    in_flight: StoredValue<bool>,
    retry_ms: StoredValue<u64>,
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

impl DraftStore {
    pub fn new() -> DraftStore {
        let doc = RwSignal::new(None::<Document>);
        DraftStore {
            automation: RwSignal::new(String::new()),
            doc,
            version: RwSignal::new(0),
            status: RwSignal::new(SaveStatus::Loading),
            problems: RwSignal::new(vec![]),
            can_edit: RwSignal::new(false),
            deployment: RwSignal::new(None),
            edits: RwSignal::new(0),
            saved_edits: StoredValue::new(0),
            undo: StoredValue::new(vec![]),
            redo: StoredValue::new(vec![]),
            last_key: StoredValue::new(None),
            in_flight: StoredValue::new(false),
            retry_ms: StoredValue::new(1000),
        }
    }

    pub fn editable(&self) -> bool {
        self.can_edit.get_untracked()
            && !matches!(
                self.status.get_untracked(),
                SaveStatus::Conflict(_) | SaveStatus::Loading | SaveStatus::LoadFailed(_)
            )
    }

    /// Loads (or reloads) the draft of `automation`, dropping local history.
    pub fn load(self, automation: String) {
        self.automation.set(automation.clone());
        self.status.set(SaveStatus::Loading);
        spawn_local(async move {
            match load_draft(automation.clone()).await {
                Ok(d) if self.automation.get_untracked() == automation => {
                    self.undo.set_value(vec![]);
                    self.redo.set_value(vec![]);
                    self.saved_edits.set_value(self.edits.get_untracked());
                    self.version.set(d.version);
                    self.problems.set(d.problems);
                    self.doc.set(Some(d.document));
                    self.status.set(SaveStatus::Saved);
                }
                Ok(_) => {}
                Err(e) => self.status.set(SaveStatus::LoadFailed(e.to_string())),
            }
        });
    }

    /// Loads Live's document (the latest deployment) of `automation`, read-only. With nothing
    /// deployed the document stays empty and `deployment` None.
    pub fn load_live(self, automation: String) {
        self.automation.set(automation.clone());
        self.status.set(SaveStatus::Loading);
        self.can_edit.set(false);
        spawn_local(async move {
            match crate::api::load_live(automation.clone()).await {
                Ok(live) if self.automation.get_untracked() == automation => {
                    self.problems.set(vec![]);
                    match live {
                        Some(l) => {
                            self.version.set(l.deployment.number);
                            self.deployment.set(Some(l.deployment.number));
                            self.doc.set(Some(l.document));
                        }
                        None => {
                            self.deployment.set(None);
                            self.doc.set(Some(Document {
                                format: model::FORMAT,
                                composers: vec![],
                                connections: vec![],
                            }));
                        }
                    }
                    self.status.set(SaveStatus::Saved);
                }
                Ok(_) => {}
                Err(e) => self.status.set(SaveStatus::LoadFailed(e.to_string())),
            }
        });
    }

    /// Applies an edit; `key` names the field being typed into, so a burst of keystrokes is
    /// one undo step. Returns what `f` returned, or None when editing is not possible.
    pub fn edit<R>(self, key: Option<&str>, f: impl FnOnce(&mut Document) -> R) -> Option<R> {
        if !self.editable() {
            return None;
        }
        let mut before = None;
        let mut out = None;
        self.doc.update(|d| {
            if let Some(d) = d {
                before = Some(d.clone());
                out = Some(f(d));
            }
        });
        let before = before?;
        let now = now_ms();
        let coalesce = match (key, self.last_key.get_value()) {
            (Some(k), Some((last, at))) => k == last && now - at < COALESCE_MS,
            _ => false,
        };
        self.last_key.set_value(key.map(|k| (k.to_string(), now)));
        if !coalesce {
            self.undo.update_value(|u| {
                u.push(before);
                if u.len() > UNDO_LIMIT {
                    u.remove(0);
                }
            });
        }
        self.redo.set_value(vec![]);
        self.changed();
        out
    }

    pub fn undo(self) {
        self.step_history(true);
    }

    pub fn redo(self) {
        self.step_history(false);
    }

    fn step_history(self, back: bool) {
        if !self.editable() {
            return;
        }
        let (from, to) = if back {
            (self.undo, self.redo)
        } else {
            (self.redo, self.undo)
        };
        let Some(prev) = from.try_update_value(|s| s.pop()).flatten() else {
            return;
        };
        if let Some(current) = self.doc.get_untracked() {
            to.update_value(|s| s.push(current));
        }
        self.doc.set(Some(prev));
        self.last_key.set_value(None);
        self.changed();
    }

    fn changed(self) {
        self.edits.update(|e| *e += 1);
        self.status.set(SaveStatus::Pending);
        self.schedule(DEBOUNCE_MS);
    }

    fn schedule(self, ms: u64) {
        let at = self.edits.get_untracked();
        set_timeout(
            move || {
                // A newer edit has its own timer; saving now would only save twice.
                if self.edits.get_untracked() == at || ms == 0 {
                    self.save_now();
                }
            },
            Duration::from_millis(ms),
        );
    }

    /// Saves unless a save is running (its completion saves again if needed) or nothing changed.
    pub fn save_now(self) {
        if self.in_flight.get_value()
            || self.edits.get_untracked() == self.saved_edits.get_value()
            || matches!(self.status.get_untracked(), SaveStatus::Conflict(_))
        {
            return;
        }
        let Some(document) = self.doc.get_untracked() else {
            return;
        };
        let edits = self.edits.get_untracked();
        let version = self.version.get_untracked();
        let automation = self.automation.get_untracked();
        self.in_flight.set_value(true);
        self.status.set(SaveStatus::Saving);
        spawn_local(async move {
            let result = save_draft(automation.clone(), version, document).await;
            self.in_flight.set_value(false);
            if self.automation.get_untracked() != automation {
                return;
            }
            match result {
                Ok(Saved { version, problems }) => {
                    self.version.set(version);
                    self.problems.set(problems);
                    self.saved_edits.set_value(edits);
                    self.retry_ms.set_value(1000);
                    if self.edits.get_untracked() != edits {
                        self.status.set(SaveStatus::Pending);
                        self.schedule(0);
                    } else {
                        self.status.set(SaveStatus::Saved);
                    }
                }
                Err(e) if e.is_conflict() => self.status.set(SaveStatus::Conflict(e.message)),
                Err(e) => {
                    let wait = self.retry_ms.get_value();
                    self.retry_ms.set_value((wait * 2).min(15_000));
                    self.status.set(SaveStatus::Retrying(e.to_string()));
                    self.schedule_retry(wait);
                }
            }
        });
    }

    fn schedule_retry(self, ms: u64) {
        set_timeout(move || self.save_now(), Duration::from_millis(ms));
    }

    pub fn has_unsaved(&self) -> bool {
        self.edits.get_untracked() != self.saved_edits.get_value()
    }
}

impl Default for DraftStore {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_draft() -> DraftStore {
    expect_context::<DraftStore>()
}

/// The store holding Live's document (read-only), beside the Test draft store.
#[derive(Clone, Copy)]
pub struct LiveDoc(pub DraftStore);

/// The document of the current mode: the draft in Test, the latest deployment in Live.
pub fn use_doc() -> Signal<DraftStore> {
    let mode = crate::pages::frame::use_frame().mode;
    let (test, live) = (use_draft(), expect_context::<LiveDoc>().0);
    Signal::derive(move || match mode.get() {
        crate::Mode::Test => test,
        crate::Mode::Live => live,
    })
}
