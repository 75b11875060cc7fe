//! What changed between two documents: the one answer behind revision summaries, the deploy dialog's
//! change list and the marks on a revision preview.
//!
//! Composers are matched by slug, steps and connections by name, links by value; a rename is
//! therefore a removal plus an addition. The order of items in their arrays is not a change.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document::{Composer, Connection, Document, Link, Step};
use crate::problem::join_key;

/// The longest [`DocumentDiff::summary`] before the rest is counted instead of listed.
pub const SUMMARY_MAX_CHARS: usize = 200;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentDiff {
    pub composers: Vec<ComposerChange>,
    pub connections: Vec<ItemChange>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ComposerChange {
    /// `steps`: names of its steps, so a preview can mark them all.
    Added {
        slug: String,
        name: String,
        steps: Vec<String>,
    },
    Removed {
        slug: String,
        name: String,
        steps: Vec<String>,
    },
    Changed {
        slug: String,
        name_changed: bool,
        /// The trigger's changed fields (`kind`, `method`, `sample`, `cron`, ..., `position`), if any.
        trigger: Option<Vec<String>>,
        steps: Vec<StepChange>,
        links_added: Vec<Link>,
        links_removed: Vec<Link>,
    },
}

impl ComposerChange {
    pub fn slug(&self) -> &str {
        match self {
            ComposerChange::Added { slug, .. }
            | ComposerChange::Removed { slug, .. }
            | ComposerChange::Changed { slug, .. } => slug,
        }
    }
}

/// A step or connection added, removed, or changed in `fields` (`kind`, `config.<key>`, `position`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ItemChange {
    Added { name: String },
    Removed { name: String },
    Changed { name: String, fields: Vec<String> },
}

/// Steps change the way connections do.
pub type StepChange = ItemChange;

impl ItemChange {
    pub fn name(&self) -> &str {
        match self {
            ItemChange::Added { name }
            | ItemChange::Removed { name }
            | ItemChange::Changed { name, .. } => name,
        }
    }

    /// A change whose only field is `position`: the step was moved on the canvas.
    pub fn is_move_only(&self) -> bool {
        matches!(self, ItemChange::Changed { fields, .. } if fields.len() == 1 && fields[0] == "position")
    }
}

/// How a step is marked on a canvas preview.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Added,
    Removed,
    Changed,
}

/// What it takes to go from `old` to `new`.
pub fn diff(old: &Document, new: &Document) -> DocumentDiff {
    DocumentDiff {
        composers: diff_composers(&old.composers, &new.composers),
        connections: diff_connections(&old.connections, &new.connections),
    }
}

impl DocumentDiff {
    pub fn is_empty(&self) -> bool {
        self.composers.is_empty() && self.connections.is_empty()
    }

    pub fn composer(&self, slug: &str) -> Option<&ComposerChange> {
        self.composers.iter().find(|c| c.slug() == slug)
    }

    /// Marks for the steps of one composer; unchanged steps are absent.
    pub fn step_marks(&self, composer_slug: &str) -> BTreeMap<String, Mark> {
        match self.composer(composer_slug) {
            Some(ComposerChange::Added { steps, .. }) => {
                steps.iter().map(|s| (s.clone(), Mark::Added)).collect()
            }
            Some(ComposerChange::Removed { steps, .. }) => {
                steps.iter().map(|s| (s.clone(), Mark::Removed)).collect()
            }
            Some(ComposerChange::Changed { steps, .. }) => steps
                .iter()
                .map(|change| {
                    let mark = match change {
                        ItemChange::Added { .. } => Mark::Added,
                        ItemChange::Removed { .. } => Mark::Removed,
                        ItemChange::Changed { .. } => Mark::Changed,
                    };
                    (change.name().to_owned(), mark)
                })
                .collect(),
            None => BTreeMap::new(),
        }
    }

    /// One line of English, e.g. `added step save; changed total; linked total → save`.
    /// Step names carry their composer's slug (`orders/save`) when more than one composer changed.
    pub fn summary(&self) -> String {
        let parts = self.summary_parts();
        if parts.is_empty() {
            return "no changes".to_owned();
        }
        let mut line = String::new();
        let mut used = 0;
        for part in &parts {
            let separator = if line.is_empty() { 0 } else { 2 };
            let fits = line.chars().count() + separator + part.chars().count() <= SUMMARY_MAX_CHARS;
            if !fits && !line.is_empty() {
                break;
            }
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.extend(part.chars().take(SUMMARY_MAX_CHARS));
            used += 1;
        }
        let rest = parts.len() - used;
        if rest > 0 {
            line.push_str(&format!("; … and {rest} more"));
        }
        line
    }

    /// One line per change with the fields that changed, as the deploy dialog lists them
    /// ([`DocumentDiff::summary`] is the one-line form revisions carry).
    pub fn lines(&self) -> Vec<String> {
        let item = |what: &str, c: &ItemChange| match c {
            ItemChange::Added { name } => format!("{what} {name} added"),
            ItemChange::Removed { name } => format!("{what} {name} removed"),
            ItemChange::Changed { name, fields } => {
                format!("{what} {name} changed: {}", fields.join(", "))
            }
        };
        let mut out = Vec::new();
        for c in &self.composers {
            match c {
                ComposerChange::Added { name, steps, .. } => out.push(format!(
                    "composer {name} added ({} step{})",
                    steps.len(),
                    if steps.len() == 1 { "" } else { "s" }
                )),
                ComposerChange::Removed { name, .. } => {
                    out.push(format!("composer {name} removed"))
                }
                ComposerChange::Changed {
                    slug,
                    name_changed,
                    trigger,
                    steps,
                    links_added,
                    links_removed,
                } => {
                    if *name_changed {
                        out.push(format!("composer {slug} renamed"));
                    }
                    if let Some(fields) = trigger {
                        out.push(format!("{slug}: trigger changed: {}", fields.join(", ")));
                    }
                    for s in steps {
                        out.push(format!("{slug}: {}", item("step", s)));
                    }
                    for l in links_added {
                        out.push(format!("{slug}: link {} → {} added", l.from, l.to));
                    }
                    for l in links_removed {
                        out.push(format!("{slug}: link {} → {} removed", l.from, l.to));
                    }
                }
            }
        }
        for c in &self.connections {
            out.push(item("connection", c));
        }
        out
    }

    fn summary_parts(&self) -> Vec<String> {
        let qualify = self.composers.len() > 1;
        let prefix = |slug: &str| {
            if qualify {
                format!("{slug}/")
            } else {
                String::new()
            }
        };
        let mut parts = Vec::new();
        for change in &self.composers {
            if let ComposerChange::Added { slug, .. } = change {
                parts.push(format!("added composer {slug}"));
            }
        }
        for change in &self.composers {
            let ComposerChange::Changed {
                slug,
                name_changed,
                trigger,
                steps,
                ..
            } = change
            else {
                continue;
            };
            let p = prefix(slug);
            if *name_changed {
                parts.push(format!("renamed composer {slug}"));
            }
            if let Some(fields) = trigger {
                let moved = fields.len() == 1 && fields[0] == "position";
                parts.push(format!(
                    "{} {p}trigger",
                    if moved { "moved" } else { "changed" }
                ));
            }
            for step in steps {
                if let ItemChange::Added { name } = step {
                    parts.push(format!("added step {p}{name}"));
                }
            }
            for step in steps {
                if let ItemChange::Changed { name, .. } = step
                    && !step.is_move_only()
                {
                    parts.push(format!("changed {p}{name}"));
                }
            }
            for step in steps {
                if let ItemChange::Removed { name } = step {
                    parts.push(format!("removed step {p}{name}"));
                }
            }
            for step in steps {
                if step.is_move_only() {
                    parts.push(format!("moved step {p}{}", step.name()));
                }
            }
        }
        for change in &self.composers {
            if let ComposerChange::Removed { slug, .. } = change {
                parts.push(format!("removed composer {slug}"));
            }
        }
        for change in &self.composers {
            if let ComposerChange::Changed {
                slug,
                links_added,
                links_removed,
                ..
            } = change
            {
                let p = prefix(slug);
                parts.extend(links_added.iter().map(|l| format!("linked {p}{l}")));
                parts.extend(links_removed.iter().map(|l| format!("unlinked {p}{l}")));
            }
        }
        for change in &self.connections {
            let (verb, name) = match change {
                ItemChange::Added { name } => ("added", name),
                ItemChange::Removed { name } => ("removed", name),
                ItemChange::Changed { name, .. } => ("changed", name),
            };
            parts.push(format!("{verb} connection {name}"));
        }
        parts
    }
}

fn diff_composers(old: &[Composer], new: &[Composer]) -> Vec<ComposerChange> {
    let old_by_slug = first_by(old, |c| &c.slug);
    let new_by_slug = first_by(new, |c| &c.slug);
    let step_names = |c: &Composer| c.steps.iter().map(|s| s.name.clone()).collect();
    let mut changes = Vec::new();
    for composer in unique_by(new, |c| &c.slug) {
        match old_by_slug.get(composer.slug.as_str()) {
            None => changes.push(ComposerChange::Added {
                slug: composer.slug.clone(),
                name: composer.name.clone(),
                steps: step_names(composer),
            }),
            Some(before) => {
                if let Some(change) = diff_composer(before, composer) {
                    changes.push(change);
                }
            }
        }
    }
    for composer in unique_by(old, |c| &c.slug) {
        if !new_by_slug.contains_key(composer.slug.as_str()) {
            changes.push(ComposerChange::Removed {
                slug: composer.slug.clone(),
                name: composer.name.clone(),
                steps: step_names(composer),
            });
        }
    }
    changes
}

fn diff_composer(old: &Composer, new: &Composer) -> Option<ComposerChange> {
    let name_changed = old.name != new.name;
    let trigger = trigger_fields(old, new);
    let steps = diff_steps(&old.steps, &new.steps);
    let (links_added, links_removed) = diff_links(&old.links, &new.links);
    let unchanged = !name_changed
        && trigger.is_none()
        && steps.is_empty()
        && links_added.is_empty()
        && links_removed.is_empty();
    (!unchanged).then(|| ComposerChange::Changed {
        slug: new.slug.clone(),
        name_changed,
        trigger,
        steps,
        links_added,
        links_removed,
    })
}

fn trigger_fields(old: &Composer, new: &Composer) -> Option<Vec<String>> {
    let before = serde_json::to_value(&old.trigger).unwrap_or(Value::Null);
    let after = serde_json::to_value(&new.trigger).unwrap_or(Value::Null);
    // Triggers serialize as objects; were one not to, all that can be said is that it differs.
    let mut fields = changed_keys(&before, &after).unwrap_or_else(|| vec!["kind".to_owned()]);
    // `kind` leads: when it changed, the other fields changed because of it.
    if let Some(at) = fields.iter().position(|f| f == "kind") {
        let kind = fields.remove(at);
        fields.insert(0, kind);
    }
    if old.trigger_position != new.trigger_position {
        fields.push("position".to_owned());
    }
    (!fields.is_empty()).then_some(fields)
}

fn diff_steps(old: &[Step], new: &[Step]) -> Vec<StepChange> {
    let old_by_name = first_by(old, |s| &s.name);
    let new_by_name = first_by(new, |s| &s.name);
    let mut changes = Vec::new();
    for step in unique_by(new, |s| &s.name) {
        match old_by_name.get(step.name.as_str()) {
            None => changes.push(ItemChange::Added {
                name: step.name.clone(),
            }),
            Some(before) => {
                let mut fields = Vec::new();
                if before.kind != step.kind {
                    fields.push("kind".to_owned());
                }
                fields.extend(config_fields(&before.config, &step.config));
                if before.position != step.position {
                    fields.push("position".to_owned());
                }
                if !fields.is_empty() {
                    changes.push(ItemChange::Changed {
                        name: step.name.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for step in unique_by(old, |s| &s.name) {
        if !new_by_name.contains_key(step.name.as_str()) {
            changes.push(ItemChange::Removed {
                name: step.name.clone(),
            });
        }
    }
    changes
}

fn diff_connections(old: &[Connection], new: &[Connection]) -> Vec<ItemChange> {
    let old_by_name = first_by(old, |c| &c.name);
    let new_by_name = first_by(new, |c| &c.name);
    let mut changes = Vec::new();
    for connection in unique_by(new, |c| &c.name) {
        match old_by_name.get(connection.name.as_str()) {
            None => changes.push(ItemChange::Added {
                name: connection.name.clone(),
            }),
            Some(before) => {
                let mut fields = Vec::new();
                if before.kind != connection.kind {
                    fields.push("kind".to_owned());
                }
                fields.extend(config_fields(&before.config, &connection.config));
                if !fields.is_empty() {
                    changes.push(ItemChange::Changed {
                        name: connection.name.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for connection in unique_by(old, |c| &c.name) {
        if !new_by_name.contains_key(connection.name.as_str()) {
            changes.push(ItemChange::Removed {
                name: connection.name.clone(),
            });
        }
    }
    changes
}

/// Links in `new` but not `old`, and in `old` but not `new`, each once, in document order.
fn diff_links(old: &[Link], new: &[Link]) -> (Vec<Link>, Vec<Link>) {
    let old_set: BTreeSet<&Link> = old.iter().collect();
    let new_set: BTreeSet<&Link> = new.iter().collect();
    let only_in = |links: &[Link], other: &BTreeSet<&Link>| {
        let mut seen = BTreeSet::new();
        links
            .iter()
            .filter(|l| !other.contains(l) && seen.insert(*l))
            .cloned()
            .collect::<Vec<_>>()
    };
    (only_in(new, &old_set), only_in(old, &new_set))
}

/// `config.<key>` for each top-level key that differs, or `config` when either side is not an object.
fn config_fields(old: &Value, new: &Value) -> Vec<String> {
    match changed_keys(old, new) {
        Some(keys) => keys.iter().map(|k| join_key("config", k)).collect(),
        None => vec!["config".to_owned()],
    }
}

/// The sorted keys whose values differ between two objects; `None` when they are not both
/// objects and differ; empty when equal.
fn changed_keys(old: &Value, new: &Value) -> Option<Vec<String>> {
    if old == new {
        return Some(Vec::new());
    }
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return None;
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    Some(
        keys.into_iter()
            .filter(|k| old.get(*k) != new.get(*k))
            .cloned()
            .collect(),
    )
}

/// First item per key: with duplicate names (an invalid document) the first one counts.
fn first_by<'a, T>(items: &'a [T], key: impl Fn(&'a T) -> &'a String) -> BTreeMap<&'a str, &'a T> {
    let mut map = BTreeMap::new();
    for item in items {
        map.entry(key(item).as_str()).or_insert(item);
    }
    map
}

fn unique_by<'a, T>(
    items: &'a [T],
    key: impl Fn(&'a T) -> &'a String,
) -> impl Iterator<Item = &'a T> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .filter(move |item| seen.insert(key(item).as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(value: Value) -> Document {
        let mut value = value;
        value["format"] = json!(1);
        serde_json::from_value(value).unwrap()
    }

    fn orders() -> Value {
        json!({
            "composers": [{
                "slug": "orders", "name": "Orders",
                "trigger": { "kind": "webhook", "method": "POST" },
                "steps": [
                    { "name": "total", "kind": "transform", "config": { "value": 1 }, "position": { "x": 0, "y": 0 } },
                    { "name": "reply", "kind": "respond", "config": { "status": 200 } }
                ],
                "links": [{ "from": "trigger", "to": "total" }, { "from": "total", "to": "reply" }]
            }],
            "connections": [{ "name": "crm", "kind": "http", "config": { "base_url": "https://crm" } }]
        })
    }

    fn changed(old: Value, edit: impl FnOnce(&mut Value)) -> DocumentDiff {
        let mut new = old.clone();
        edit(&mut new);
        diff(&document(old), &document(new))
    }

    #[test]
    fn identical_documents_have_no_changes() {
        let d = diff(&document(orders()), &document(orders()));
        assert!(d.is_empty());
        assert_eq!(d.summary(), "no changes");
        assert!(d.step_marks("orders").is_empty());
    }

    #[test]
    fn reordering_is_not_a_change() {
        let d = changed(orders(), |v| {
            let steps = v["composers"][0]["steps"].as_array_mut().unwrap();
            steps.reverse();
            let links = v["composers"][0]["links"].as_array_mut().unwrap();
            links.reverse();
        });
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn added_step_and_link() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"].as_array_mut().unwrap().push(
                json!({ "name": "save", "kind": "database", "config": { "op": "count", "database": "o" } }),
            );
            v["composers"][0]["links"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "from": "total", "to": "save" }));
        });
        assert_eq!(
            d.composers,
            vec![ComposerChange::Changed {
                slug: "orders".into(),
                name_changed: false,
                trigger: None,
                steps: vec![ItemChange::Added {
                    name: "save".into()
                }],
                links_added: vec![Link::new("total", "save")],
                links_removed: vec![],
            }]
        );
        assert_eq!(d.summary(), "added step save; linked total → save");
        assert_eq!(
            d.step_marks("orders"),
            BTreeMap::from([("save".to_owned(), Mark::Added)])
        );
    }

    #[test]
    fn removed_step_and_its_links() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"].as_array_mut().unwrap().remove(1);
            v["composers"][0]["links"].as_array_mut().unwrap().remove(1);
        });
        assert_eq!(d.summary(), "removed step reply; unlinked total → reply");
        assert_eq!(d.step_marks("orders")["reply"], Mark::Removed);
    }

    #[test]
    fn changed_config_keys_and_kind() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"][0]["config"] = json!({ "value": 2, "timeout_ms": 10 });
            v["composers"][0]["steps"][1]["kind"] = json!("transform");
        });
        let ComposerChange::Changed { steps, .. } = &d.composers[0] else {
            panic!("{d:?}")
        };
        assert_eq!(
            steps,
            &vec![
                ItemChange::Changed {
                    name: "total".into(),
                    fields: vec!["config.timeout_ms".into(), "config.value".into()]
                },
                ItemChange::Changed {
                    name: "reply".into(),
                    fields: vec!["kind".into()]
                },
            ]
        );
        assert_eq!(d.summary(), "changed total; changed reply");
        assert_eq!(d.step_marks("orders")["total"], Mark::Changed);
    }

    #[test]
    fn moves_are_changes_summarised_as_moves() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"][0]["position"] = json!({ "x": 5, "y": 0 });
            v["composers"][0]["trigger_position"] = json!({ "x": 1, "y": 1 });
        });
        let ComposerChange::Changed { steps, trigger, .. } = &d.composers[0] else {
            panic!("{d:?}")
        };
        assert_eq!(
            steps,
            &vec![ItemChange::Changed {
                name: "total".into(),
                fields: vec!["position".into()]
            }]
        );
        assert_eq!(trigger, &Some(vec!["position".to_owned()]));
        assert_eq!(d.summary(), "moved trigger; moved step total");
        assert_eq!(d.step_marks("orders")["total"], Mark::Changed);
    }

    #[test]
    fn config_replaced_by_a_non_object() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"][0]["config"] = json!("x")
        });
        let ComposerChange::Changed { steps, .. } = &d.composers[0] else {
            panic!("{d:?}")
        };
        assert_eq!(
            steps,
            &vec![ItemChange::Changed {
                name: "total".into(),
                fields: vec!["config".into()]
            }]
        );
    }

    #[test]
    fn trigger_fields() {
        let d = changed(orders(), |v| {
            v["composers"][0]["trigger"] =
                json!({ "kind": "webhook", "method": "PUT", "auth_secret": "T" });
        });
        let ComposerChange::Changed { trigger, .. } = &d.composers[0] else {
            panic!("{d:?}")
        };
        assert_eq!(
            trigger,
            &Some(vec!["auth_secret".to_owned(), "method".to_owned()])
        );
        assert_eq!(d.summary(), "changed trigger");

        let d = changed(orders(), |v| {
            v["composers"][0]["trigger"] = json!({ "kind": "schedule", "cron": "@daily" });
        });
        let ComposerChange::Changed { trigger, .. } = &d.composers[0] else {
            panic!("{d:?}")
        };
        assert_eq!(
            trigger,
            &Some(vec![
                "kind".to_owned(),
                "cron".to_owned(),
                "method".to_owned(),
                "sample".to_owned()
            ])
        );
    }

    #[test]
    fn renamed_composer() {
        let d = changed(orders(), |v| {
            v["composers"][0]["name"] = json!("Incoming orders")
        });
        assert_eq!(d.summary(), "renamed composer orders");
        assert!(matches!(
            &d.composers[0],
            ComposerChange::Changed {
                name_changed: true,
                ..
            }
        ));
    }

    #[test]
    fn added_and_removed_composers() {
        let d = changed(orders(), |v| {
            v["composers"][0]["slug"] = json!("daily");
        });
        assert_eq!(
            d.composers,
            vec![
                ComposerChange::Added {
                    slug: "daily".into(),
                    name: "Orders".into(),
                    steps: vec!["total".into(), "reply".into()]
                },
                ComposerChange::Removed {
                    slug: "orders".into(),
                    name: "Orders".into(),
                    steps: vec!["total".into(), "reply".into()]
                },
            ]
        );
        assert_eq!(d.summary(), "added composer daily; removed composer orders");
        assert_eq!(d.step_marks("daily")["reply"], Mark::Added);
        assert_eq!(d.step_marks("orders")["total"], Mark::Removed);
    }

    #[test]
    fn steps_are_qualified_when_several_composers_changed() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"][0]["config"]["value"] = json!(3);
            let mut other = v["composers"][0].clone();
            other["slug"] = json!("daily");
            v["composers"].as_array_mut().unwrap().push(other);
        });
        assert_eq!(d.summary(), "added composer daily; changed orders/total");
    }

    #[test]
    fn connections() {
        let d = changed(orders(), |v| {
            v["connections"][0]["config"]["headers"] = json!({ "A": "b" });
            v["connections"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "name": "erp", "kind": "http" }));
        });
        assert_eq!(
            d.connections,
            vec![
                ItemChange::Changed {
                    name: "crm".into(),
                    fields: vec!["config.headers".into()]
                },
                ItemChange::Added { name: "erp".into() },
            ]
        );
        assert_eq!(d.summary(), "changed connection crm; added connection erp");
        let d = changed(orders(), |v| v["connections"] = json!([]));
        assert_eq!(
            d.connections,
            vec![ItemChange::Removed { name: "crm".into() }]
        );
        assert_eq!(d.summary(), "removed connection crm");
    }

    #[test]
    fn branch_links_show_their_port() {
        let d = changed(orders(), |v| {
            v["composers"][0]["links"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "from": "total", "to": "reply", "port": "true" }));
        });
        assert_eq!(d.summary(), "linked total (true) → reply");
    }

    #[test]
    fn long_summaries_are_cut_with_a_count() {
        let d = changed(orders(), |v| {
            let steps = v["composers"][0]["steps"].as_array_mut().unwrap();
            for i in 0..40 {
                steps.push(json!({ "name": format!("step_number_{i}"), "kind": "code" }));
            }
        });
        let summary = d.summary();
        assert!(
            summary.chars().count() <= SUMMARY_MAX_CHARS + 20,
            "{summary}"
        );
        assert!(summary.starts_with("added step step_number_0; added step step_number_1"));
        let shown = summary.matches("added step").count();
        assert!(
            summary.ends_with(&format!("; … and {} more", 40 - shown)),
            "{summary}"
        );
    }

    #[test]
    fn serializes_for_the_browser() {
        let d = changed(orders(), |v| {
            v["composers"][0]["steps"][0]["config"]["value"] = json!(3)
        });
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["composers"][0]["change"], "changed");
        assert_eq!(
            json["composers"][0]["steps"][0]["fields"][0],
            "config.value"
        );
        assert_eq!(serde_json::from_value::<DocumentDiff>(json).unwrap(), d);
    }
}
