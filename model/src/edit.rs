//! Edits of a document that keep it coherent: adding and renaming steps and composers,
//! removing steps with their links, linking with the right port. The canvas and the engine
//! call these instead of touching the vectors themselves.

use crate::document::{Composer, Document, Link, Position, Step, StepKind, TRIGGER, Trigger};
use crate::names::{NameKind, unique_slug};
use std::collections::{BTreeMap, VecDeque};

/// A step node's size on the canvas, used for default placement.
pub const NODE_W: f64 = 220.0;
pub const NODE_H: f64 = 56.0;
const GAP_X: f64 = 80.0;
const GAP_Y: f64 = 40.0;

impl Composer {
    pub fn new(slug: impl Into<String>, name: impl Into<String>) -> Composer {
        Composer {
            slug: slug.into(),
            name: name.into(),
            trigger: Trigger::Manual {
                sample: serde_json::json!({}),
            },
            steps: vec![],
            links: vec![],
            trigger_position: None,
        }
    }

    /// Adds a step of `kind` with a free name and its default config; returns the name.
    pub fn add_step(&mut self, kind: StepKind, position: Option<Position>) -> String {
        let name = self.unique_step_name(kind.as_str());
        let mut step = Step::new(name.clone(), kind);
        step.position = position;
        self.steps.push(step);
        name
    }

    /// Removes the step and every link into or out of it.
    pub fn remove_step(&mut self, name: &str) -> bool {
        let before = self.steps.len();
        self.steps.retain(|s| s.name != name);
        self.links.retain(|l| l.from != name && l.to != name);
        before != self.steps.len()
    }

    /// Renames a step and the links that name it. Expressions that refer to the old name are
    /// left as they are: validation reports them, and silently rewriting templates would surprise.
    pub fn rename_step(&mut self, old: &str, new: &str) -> Result<(), String> {
        if old == new {
            return Ok(());
        }
        NameKind::Step.check(new).map_err(|e| e.to_string())?;
        if self.step(new).is_some() {
            return Err(format!("a step named \"{new}\" already exists"));
        }
        let step = self
            .step_mut(old)
            .ok_or_else(|| format!("no step named \"{old}\""))?;
        step.name = new.to_string();
        for l in &mut self.links {
            if l.from == old {
                l.from = new.to_string();
            }
            if l.to == old {
                l.to = new.to_string();
            }
        }
        Ok(())
    }

    /// Links `from` → `to`; a link from a branch takes `port` ("true" when not given). Refuses
    /// self-links, links into the trigger and duplicates; returns whether a link was added.
    pub fn add_link(&mut self, from: &str, to: &str, port: Option<&str>) -> bool {
        if from == to || to == TRIGGER || self.step(to).is_none() {
            return false;
        }
        let is_branch = self
            .step(from)
            .is_some_and(|s| s.step_kind() == Some(StepKind::Branch));
        if from != TRIGGER && self.step(from).is_none() {
            return false;
        }
        let port = is_branch.then(|| port.unwrap_or("true").to_string());
        let link = Link {
            from: from.to_string(),
            to: to.to_string(),
            port,
        };
        if self.links.contains(&link) {
            return false;
        }
        self.links.push(link);
        true
    }

    pub fn position_of(&self, name: &str) -> Option<Position> {
        if name == TRIGGER {
            return self.trigger_position;
        }
        self.step(name).and_then(|s| s.position)
    }

    pub fn set_position(&mut self, name: &str, p: Position) {
        if name == TRIGGER {
            self.trigger_position = Some(p);
        } else if let Some(s) = self.step_mut(name) {
            s.position = Some(p);
        }
    }

    /// Where every node is drawn: stored positions, and for nodes without one a layered layout
    /// (column = longest distance from the trigger), so imported documents look tidy.
    pub fn layout(&self) -> BTreeMap<String, Position> {
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        depth.insert(TRIGGER, 0);
        let mut queue = VecDeque::from([TRIGGER]);
        let mut visits = 0usize;
        let limit = (self.steps.len() + 1) * (self.links.len() + 1);
        while let Some(n) = queue.pop_front() {
            visits += 1;
            if visits > limit {
                break; // a cycle; validation reports it
            }
            let d = depth[n];
            for l in self.links.iter().filter(|l| l.from == n) {
                let e = depth.entry(l.to.as_str()).or_insert(0);
                if *e < d + 1 {
                    *e = d + 1;
                    queue.push_back(l.to.as_str());
                }
            }
        }
        let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
        let mut out = BTreeMap::new();
        let mut place = |name: &str, stored: Option<Position>, col: usize| {
            let row = rows.entry(col).or_insert(0);
            let p = stored.unwrap_or(Position {
                x: 40.0 + col as f64 * (NODE_W + GAP_X),
                y: 40.0 + *row as f64 * (NODE_H + GAP_Y),
            });
            *row += 1;
            out.insert(name.to_string(), p);
        };
        place(TRIGGER, self.trigger_position, 0);
        let max_col = depth.values().copied().max().unwrap_or(0);
        for s in &self.steps {
            let col = depth.get(s.name.as_str()).copied().unwrap_or(max_col + 1);
            place(&s.name, s.position, col.max(1));
        }
        out
    }
}

impl Document {
    /// Adds an `http` connection with a free name and an empty base URL; returns the name.
    pub fn add_connection(&mut self) -> String {
        let name = crate::names::unique_step_name(
            "connection",
            self.connections.iter().map(|c| c.name.as_str()),
        );
        self.connections.push(crate::document::Connection {
            name: name.clone(),
            kind: "http".into(),
            config: serde_json::json!({"base_url": "", "headers": {}}),
        });
        name
    }

    /// Adds a composer named `name` with a manual trigger; returns its slug.
    pub fn add_composer(&mut self, name: &str) -> String {
        let slug = unique_slug(name, self.composers.iter().map(|c| c.slug.as_str()));
        self.composers
            .push(Composer::new(slug.clone(), name.trim()));
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composer() -> Composer {
        let mut c = Composer::new("intake", "Intake");
        c.add_step(StepKind::Transform, None);
        c.add_step(StepKind::Branch, None);
        c.add_step(StepKind::Respond, None);
        c
    }

    #[test]
    fn new_steps_get_unique_valid_names_and_default_config() {
        let mut c = composer();
        assert_eq!(c.add_step(StepKind::Transform, None), "transform_2");
        assert_eq!(c.steps[0].config, StepKind::Transform.default_config());
        assert!(
            Document {
                composers: vec![c],
                ..Document::new_empty()
            }
            .validate()
            .iter()
            .all(|p| !p.is_error())
        );
    }

    #[test]
    fn links_from_branches_carry_a_port_and_duplicates_are_refused() {
        let mut c = composer();
        assert!(c.add_link("trigger", "transform", None));
        assert!(c.add_link("transform", "branch", None));
        assert!(c.add_link("branch", "respond", Some("false")));
        assert_eq!(c.links[2].port.as_deref(), Some("false"));
        assert_eq!(c.links[1].port, None);
        assert!(!c.add_link("transform", "branch", None), "duplicate");
        assert!(!c.add_link("respond", "respond", None), "self link");
        assert!(!c.add_link("respond", "trigger", None), "into the trigger");
        assert!(!c.add_link("respond", "ghost", None), "unknown target");
    }

    #[test]
    fn removing_a_step_removes_its_links() {
        let mut c = composer();
        c.add_link("trigger", "transform", None);
        c.add_link("transform", "branch", None);
        c.add_link("branch", "respond", None);
        assert!(c.remove_step("branch"));
        assert_eq!(c.links, vec![Link::new("trigger", "transform")]);
        assert!(!c.remove_step("branch"));
    }

    #[test]
    fn renaming_updates_links_and_checks_the_name() {
        let mut c = composer();
        c.add_link("transform", "branch", None);
        c.rename_step("transform", "total").unwrap();
        assert_eq!(c.links[0].from, "total");
        assert!(
            c.rename_step("total", "branch")
                .unwrap_err()
                .contains("already exists")
        );
        assert!(c.rename_step("total", "Bad Name").is_err());
    }

    #[test]
    fn layout_places_steps_in_columns_by_depth_and_keeps_stored_positions() {
        let mut c = composer();
        c.add_link("trigger", "transform", None);
        c.add_link("transform", "branch", None);
        c.steps[2].position = Some(Position { x: 5.0, y: 6.0 });
        let l = c.layout();
        assert_eq!(l["trigger"].x, 40.0);
        assert_eq!(l["transform"].x, 40.0 + NODE_W + GAP_X);
        assert!(l["branch"].x > l["transform"].x);
        assert_eq!(l["respond"], Position { x: 5.0, y: 6.0 });
    }

    #[test]
    fn add_connection_makes_a_unique_name() {
        let mut d = Document::new_empty();
        assert_eq!(d.add_connection(), "connection");
        assert_eq!(d.add_connection(), "connection_2");
        assert_eq!(d.connections[0].kind, "http");
    }

    #[test]
    fn add_composer_makes_a_unique_slug() {
        let mut d = Document::new_empty();
        assert_eq!(d.add_composer("Daily Report"), "daily-report");
        assert_eq!(d.add_composer("Daily report"), "daily-report-2");
        assert_eq!(d.composers[1].name, "Daily report");
    }
}
