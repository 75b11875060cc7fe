//! A validation finding: where in the document, what is wrong, and whether it blocks a deploy.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Errors block a deploy (a draft with errors is still saved); warnings are only shown.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// JSON path into the document, e.g. `composers[0].steps[2].name`.
    pub path: String,
    pub message: String,
    pub severity: Severity,
    /// Slug of the composer it is in, so the UI can open it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composer: Option<String>,
    /// Name of the step it concerns, so the canvas can mark it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

impl Problem {
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Error, path.into(), message.into())
    }

    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Warning, path.into(), message.into())
    }

    fn new(severity: Severity, path: String, message: String) -> Problem {
        Problem {
            path,
            message,
            severity,
            composer: None,
            step: None,
        }
    }

    pub fn in_composer(mut self, slug: impl Into<String>) -> Problem {
        self.composer = Some(slug.into());
        self
    }

    pub fn at_step(mut self, name: impl Into<String>) -> Problem {
        self.step = Some(name.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// `path.key`, or `path["key"]` when the key would not read as one path segment.
pub(crate) fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

/// Whether any of `problems` blocks a deploy.
pub fn has_errors(problems: &[Problem]) -> bool {
    problems.iter().any(Problem::is_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_path_and_message() {
        let p = Problem::error("composers[0].steps[2].name", "duplicate step name \"save\"")
            .in_composer("orders")
            .at_step("save");
        assert_eq!(
            p.to_string(),
            "composers[0].steps[2].name: duplicate step name \"save\""
        );
        assert_eq!(p.composer.as_deref(), Some("orders"));
        assert!(has_errors(std::slice::from_ref(&p)));
        assert!(!has_errors(&[Problem::warning("x", "y")]));
    }

    #[test]
    fn keys_join_as_path_segments() {
        assert_eq!(join_key("config", "url"), "config.url");
        assert_eq!(
            join_key("config.headers", "Content-Type"),
            "config.headers.Content-Type"
        );
        assert_eq!(join_key("config", "a b"), "config[\"a b\"]");
        assert_eq!(join_key("config", ""), "config[\"\"]");
    }

    #[test]
    fn serializes_for_the_browser() {
        let p = Problem::warning("composers[0].steps[1]", "unreachable");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["severity"], "warning");
        assert!(json.get("step").is_none());
        assert_eq!(serde_json::from_value::<Problem>(json).unwrap(), p);
    }
}
