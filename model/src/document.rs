//! The automation document (format 1, PRODUCT.md §2): its types, and reading and writing it as JSON.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// The only document format this crate reads and writes.
pub const FORMAT: u32 = 1;

/// The name links use for the trigger as their `from` end.
pub const TRIGGER: &str = "trigger";

/// The draft, a revision, a deployment and an export: all composers and connections of an automation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    pub format: u32,
    #[serde(default)]
    pub composers: Vec<Composer>,
    #[serde(default)]
    pub connections: Vec<Connection>,
}

/// A workflow: one trigger, steps, and links between them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Composer {
    pub slug: String,
    pub name: String,
    pub trigger: Trigger,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub links: Vec<Link>,
    /// Where the canvas draws the trigger node; not part of the interchange contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_position: Option<Position>,
}

/// What starts a run of a composer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Trigger {
    Manual {
        /// The pinned input a test run uses.
        #[serde(default)]
        sample: Value,
    },
    Webhook {
        #[serde(default = "default_webhook_method")]
        method: String,
        /// Name of the secret whose value callers must send as `Authorization: Bearer ...`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auth_secret: Option<String>,
        #[serde(default)]
        sample: Value,
    },
    Schedule {
        cron: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timezone: Option<String>,
    },
}

fn default_webhook_method() -> String {
    "POST".to_owned()
}

impl Trigger {
    /// The `kind` tag as written in the document.
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Manual { .. } => "manual",
            Trigger::Webhook { .. } => "webhook",
            Trigger::Schedule { .. } => "schedule",
        }
    }

    /// The pinned test input; schedules have none (their input is `{scheduled_at}`).
    pub fn sample(&self) -> Option<&Value> {
        match self {
            Trigger::Manual { sample } | Trigger::Webhook { sample, .. } => Some(sample),
            Trigger::Schedule { .. } => None,
        }
    }
}

/// A node of a composer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub name: String,
    /// Kept as text so that an unknown kind is a validation problem with a location,
    /// not a refusal to read the whole document.
    pub kind: String,
    #[serde(default = "empty_object")]
    pub config: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl Step {
    /// A new step of `kind` with that kind's starting config.
    pub fn new(name: impl Into<String>, kind: StepKind) -> Step {
        Step {
            name: name.into(),
            kind: kind.as_str().to_owned(),
            config: kind.default_config(),
            position: None,
        }
    }

    /// The kind, when it is one this version knows.
    pub fn step_kind(&self) -> Option<StepKind> {
        self.kind.parse().ok()
    }
}

/// Canvas coordinates of a node.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// A directed edge `from` → `to`; `from` may be [`TRIGGER`]. Branch steps' links carry a `port`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
}

impl Link {
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Link {
        Link {
            from: from.into(),
            to: to.into(),
            port: None,
        }
    }

    pub fn with_port(mut self, port: impl Into<String>) -> Link {
        self.port = Some(port.into());
        self
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.port {
            Some(port) => write!(f, "{} ({}) → {}", self.from, port, self.to),
            None => write!(f, "{} → {}", self.from, self.to),
        }
    }
}

/// A configured instance of a connector kind (v1: `http`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Connection {
    pub name: String,
    pub kind: String,
    #[serde(default = "empty_object")]
    pub config: Value,
}

/// The step kinds of PRODUCT.md §4.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Http,
    Transform,
    Code,
    Branch,
    Database,
    Respond,
    Delay,
}

impl StepKind {
    /// In the order the "Add step" menu lists them.
    pub const ALL: [StepKind; 7] = [
        StepKind::Http,
        StepKind::Transform,
        StepKind::Code,
        StepKind::Branch,
        StepKind::Database,
        StepKind::Respond,
        StepKind::Delay,
    ];

    /// The `kind` as written in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Http => "http",
            StepKind::Transform => "transform",
            StepKind::Code => "code",
            StepKind::Branch => "branch",
            StepKind::Database => "database",
            StepKind::Respond => "respond",
            StepKind::Delay => "delay",
        }
    }

    /// The name the UI shows (PRODUCT.md §12 "Add step" menu items).
    pub fn label(self) -> &'static str {
        match self {
            StepKind::Http => "HTTP request",
            StepKind::Transform => "Transform",
            StepKind::Code => "Code",
            StepKind::Branch => "Branch",
            StepKind::Database => "Database",
            StepKind::Respond => "Respond",
            StepKind::Delay => "Delay",
        }
    }

    /// The config a newly added step starts with.
    pub fn default_config(self) -> Value {
        match self {
            StepKind::Http => serde_json::json!({ "method": "GET", "url": "" }),
            StepKind::Transform => serde_json::json!({ "value": {} }),
            StepKind::Code => serde_json::json!({ "source": "return input;" }),
            StepKind::Branch => serde_json::json!({ "condition": "true" }),
            StepKind::Database => {
                serde_json::json!({ "op": "get", "database": "", "key": "" })
            }
            StepKind::Respond => serde_json::json!({ "status": 200, "body": null }),
            StepKind::Delay => serde_json::json!({ "ms": 1000 }),
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `kind` this version does not know.
#[derive(Error, Clone, Debug, PartialEq, Eq)]
#[error("unknown step kind \"{0}\"")]
pub struct UnknownStepKind(pub String);

impl FromStr for StepKind {
    type Err = UnknownStepKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownStepKind(s.to_owned()))
    }
}

/// Why a text could not be read as a document.
#[derive(Error, Clone, Debug, PartialEq, Eq)]
pub enum DocumentError {
    #[error("malformed JSON: {message}")]
    Json { message: String },
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
    #[error("unsupported document format {0} (this version reads format 1)")]
    UnsupportedFormat(u32),
}

impl Document {
    pub fn new_empty() -> Document {
        Document {
            format: FORMAT,
            composers: Vec::new(),
            connections: Vec::new(),
        }
    }

    /// Reads a document, telling apart broken JSON, JSON of the wrong shape (with the path
    /// of the offending value) and a format this version does not read.
    pub fn from_json(text: &str) -> Result<Document, DocumentError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let result: Result<Document, _> = serde_path_to_error::deserialize(&mut deserializer);
        let document = match result {
            Ok(document) => {
                deserializer.end().map_err(|e| DocumentError::Json {
                    message: e.to_string(),
                })?;
                document
            }
            Err(error) => {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if !inner.is_data() {
                    return Err(DocumentError::Json {
                        message: inner.to_string(),
                    });
                }
                // A newer format may well be shaped differently; saying so beats a confusing shape error.
                if let Some(format) = peek_format(text)
                    && format != FORMAT
                {
                    return Err(DocumentError::UnsupportedFormat(format));
                }
                return Err(DocumentError::Shape {
                    path: if path == "." {
                        "document".to_owned()
                    } else {
                        path
                    },
                    message: strip_position(&inner.to_string()),
                });
            }
        };
        if document.format != FORMAT {
            return Err(DocumentError::UnsupportedFormat(document.format));
        }
        crate::json::check_integers(text).map_err(|message| DocumentError::Json { message })?;
        Ok(document)
    }

    /// The interchange form: pretty JSON, as exported.
    pub fn to_json_pretty(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and no Serialize impl errors.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn composer(&self, slug: &str) -> Option<&Composer> {
        self.composers.iter().find(|c| c.slug == slug)
    }

    pub fn composer_mut(&mut self, slug: &str) -> Option<&mut Composer> {
        self.composers.iter_mut().find(|c| c.slug == slug)
    }

    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }
}

impl Default for Document {
    fn default() -> Self {
        Document::new_empty()
    }
}

impl Composer {
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub fn step_mut(&mut self, name: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.name == name)
    }

    /// A free step name based on `base` (see [`crate::names::unique_step_name`]).
    pub fn unique_step_name(&self, base: &str) -> String {
        crate::names::unique_step_name(base, self.steps.iter().map(|s| s.name.as_str()))
    }
}

fn peek_format(text: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct Peek {
        format: u32,
    }
    serde_json::from_str::<Peek>(text).ok().map(|p| p.format)
}

/// serde_json appends " at line L column C"; next to a JSON path that is noise.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC_EXAMPLE: &str = r#"{
      "format": 1,
      "composers": [
        {
          "slug": "orders",
          "name": "Orders",
          "trigger": { "kind": "webhook", "method": "POST", "sample": { "body": { "id": "a1", "items": [1, 2, 3] } } },
          "steps": [
            { "name": "total", "kind": "transform",
              "config": { "value": { "id": "{{ trigger.body.id }}", "total": "{{ trigger.body.items | sum }}" } } },
            { "name": "save", "kind": "database",
              "config": { "op": "put", "database": "orders", "key": "{{ steps.total.id }}", "value": "{{ steps.total }}" } },
            { "name": "reply", "kind": "respond", "config": { "status": 200, "body": "{{ steps.save }}" } }
          ],
          "links": [ { "from": "trigger", "to": "total" }, { "from": "total", "to": "save" }, { "from": "save", "to": "reply" } ]
        }
      ],
      "connections": [
        { "name": "crm", "kind": "http",
          "config": { "base_url": "http://crm.intranet:8080/api", "headers": { "Authorization": "Bearer {{ secrets.CRM_TOKEN }}" } } }
      ]
    }"#;

    #[test]
    fn reads_the_spec_example() {
        let doc = Document::from_json(SPEC_EXAMPLE).unwrap();
        assert_eq!(doc.format, 1);
        let orders = doc.composer("orders").unwrap();
        assert_eq!(orders.steps.len(), 3);
        assert_eq!(orders.links[0], Link::new("trigger", "total"));
        assert_eq!(
            orders.step("save").unwrap().step_kind(),
            Some(StepKind::Database)
        );
        assert!(matches!(
            &orders.trigger,
            Trigger::Webhook { method, auth_secret: None, .. } if method == "POST"
        ));
        assert_eq!(doc.connection("crm").unwrap().kind, "http");
    }

    #[test]
    fn round_trips_through_pretty_json() {
        let doc = Document::from_json(SPEC_EXAMPLE).unwrap();
        let again = Document::from_json(&doc.to_json_pretty()).unwrap();
        assert_eq!(doc, again);
    }

    #[test]
    fn optional_fields_default_and_unknown_fields_are_ignored() {
        let doc = Document::from_json(
            r#"{"format":1,"extra":true,"composers":[{"slug":"a","name":"A","id":7,
                "trigger":{"kind":"webhook"},
                "steps":[{"name":"s","kind":"code","size":[1,2]}]}]}"#,
        )
        .unwrap();
        assert!(doc.connections.is_empty());
        let a = &doc.composers[0];
        assert!(a.links.is_empty());
        assert_eq!(a.steps[0].config, json!({}));
        assert_eq!(a.steps[0].position, None);
        assert_eq!(
            a.trigger,
            Trigger::Webhook {
                method: "POST".into(),
                auth_secret: None,
                sample: Value::Null
            }
        );
        assert_eq!(
            Document::from_json(r#"{"format":1}"#).unwrap(),
            Document::new_empty()
        );
    }

    #[test]
    fn absent_options_are_not_written() {
        let mut doc = Document::new_empty();
        doc.composers.push(Composer {
            slug: "a".into(),
            name: "A".into(),
            trigger: Trigger::Schedule {
                cron: "* * * * *".into(),
                timezone: None,
            },
            steps: vec![Step::new("s", StepKind::Delay)],
            links: vec![Link::new("trigger", "s")],
            trigger_position: None,
        });
        let text = doc.to_json_pretty();
        for absent in ["timezone", "position", "port", "trigger_position"] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    #[test]
    fn positions_are_kept() {
        let doc = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"a","name":"A","trigger":{"kind":"manual"},
                "trigger_position":{"x":1,"y":2},
                "steps":[{"name":"s","kind":"code","position":{"x":10.5,"y":-3}}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            doc.composers[0].trigger_position,
            Some(Position { x: 1.0, y: 2.0 })
        );
        assert_eq!(
            doc.composers[0].steps[0].position,
            Some(Position { x: 10.5, y: -3.0 })
        );
    }

    #[test]
    fn malformed_json_is_reported_with_line_and_column() {
        let err = Document::from_json("{\"format\": 1,\n  \"composers\": [,]}").unwrap_err();
        match &err {
            DocumentError::Json { message } => {
                assert!(message.contains("line 2"), "{message}");
                assert!(message.contains("column"), "{message}");
            }
            other => panic!("expected Json, got {other:?}"),
        }
        assert!(err.to_string().starts_with("malformed JSON: "));
        assert!(matches!(
            Document::from_json(""),
            Err(DocumentError::Json { .. })
        ));
        assert!(matches!(
            Document::from_json(r#"{"format":1} trailing"#),
            Err(DocumentError::Json { .. })
        ));
    }

    #[test]
    fn wrong_types_are_reported_with_their_path() {
        let err = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"a","name":"A","trigger":{"kind":"manual"},
                "steps":[{"name":"ok","kind":"code"},{"name":5,"kind":"code"}]}]}"#,
        )
        .unwrap_err();
        match &err {
            DocumentError::Shape { path, message } => {
                assert_eq!(path, "composers[0].steps[1].name");
                assert!(message.contains("expected a string"), "{message}");
                assert!(!message.contains("line"), "{message}");
            }
            other => panic!("expected Shape, got {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("composers[0].steps[1].name: invalid type")
        );
    }

    #[test]
    fn missing_required_fields_are_reported() {
        let err = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"a","trigger":{"kind":"manual"}}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            DocumentError::Shape {
                path: "composers[0]".into(),
                message: "missing field `name`".into()
            }
        );
        let err = Document::from_json(r#"{"composers":[]}"#).unwrap_err();
        assert_eq!(err.to_string(), "document: missing field `format`");
        let err = Document::from_json("[]").unwrap_err();
        assert!(matches!(err, DocumentError::Shape { .. }), "{err:?}");
    }

    #[test]
    fn unknown_trigger_kind_is_a_shape_error() {
        let err = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"a","name":"A","trigger":{"kind":"email"}}]}"#,
        )
        .unwrap_err();
        match err {
            DocumentError::Shape { path, message } => {
                assert_eq!(path, "composers[0].trigger.kind");
                assert!(message.contains("unknown variant `email`"), "{message}");
            }
            other => panic!("expected Shape, got {other:?}"),
        }
    }

    #[test]
    fn other_formats_are_refused_by_number() {
        assert_eq!(
            Document::from_json(r#"{"format":2}"#),
            Err(DocumentError::UnsupportedFormat(2))
        );
        // Even when the rest no longer has the format-1 shape.
        assert_eq!(
            Document::from_json(r#"{"format":3,"composers":{"a":1}}"#),
            Err(DocumentError::UnsupportedFormat(3))
        );
        assert_eq!(
            DocumentError::UnsupportedFormat(2).to_string(),
            "unsupported document format 2 (this version reads format 1)"
        );
    }

    #[test]
    fn step_kinds_parse_and_label() {
        for kind in StepKind::ALL {
            assert_eq!(kind.as_str().parse::<StepKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                Value::String(kind.as_str().into())
            );
            assert!(kind.default_config().is_object());
        }
        assert_eq!(StepKind::Http.label(), "HTTP request");
        assert_eq!(
            "email".parse::<StepKind>(),
            Err(UnknownStepKind("email".into()))
        );
        let step = Step {
            name: "x".into(),
            kind: "nope".into(),
            config: json!({}),
            position: None,
        };
        assert_eq!(step.step_kind(), None);
    }

    #[test]
    fn new_steps_start_with_their_kind_config() {
        let step = Step::new("wait", StepKind::Delay);
        assert_eq!(step.kind, "delay");
        assert_eq!(step.config, json!({ "ms": 1000 }));
        assert_eq!(
            StepKind::Database.default_config(),
            json!({ "op": "get", "database": "", "key": "" })
        );
    }

    #[test]
    fn links_display_with_their_port() {
        assert_eq!(Link::new("a", "b").to_string(), "a → b");
        assert_eq!(
            Link::new("a", "b").with_port("true").to_string(),
            "a (true) → b"
        );
    }
}
