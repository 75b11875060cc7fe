//! The naming rules (PRODUCT.md §1): what a slug, step, secret, database or connection name may be,
//! and how to derive a valid, free name from what a user typed.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest name any rule allows.
pub const MAX_NAME_LEN: usize = 63;

/// Links use this as their `from` for the trigger, so no step may be called that.
pub const RESERVED_STEP_NAME: &str = crate::document::TRIGGER;

/// The kinds of names the product gives rules for.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    Automation,
    Composer,
    Step,
    Secret,
    Database,
    Connection,
}

impl NameKind {
    /// What the name is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            NameKind::Automation => "automation slug",
            NameKind::Composer => "composer slug",
            NameKind::Step => "step name",
            NameKind::Secret => "secret name",
            NameKind::Database => "database name",
            NameKind::Connection => "connection name",
        }
    }

    /// The rule in words a user can act on.
    pub fn rule(self) -> &'static str {
        match self {
            NameKind::Automation | NameKind::Composer => {
                "use lowercase letters, digits and -, starting with a letter or digit, at most 63 characters"
            }
            NameKind::Step | NameKind::Connection => {
                "use lowercase letters, digits and _, not starting with a digit, at most 63 characters"
            }
            NameKind::Secret => {
                "use uppercase letters, digits and _, not starting with a digit, at most 63 characters"
            }
            NameKind::Database => {
                "use lowercase letters, digits and _, starting with a letter, at most 63 characters"
            }
        }
    }

    pub fn is_valid(self, name: &str) -> bool {
        self.check(name).is_ok()
    }

    pub fn check(self, name: &str) -> Result<(), NameError> {
        let fits = match self {
            NameKind::Automation | NameKind::Composer => fits_pattern(
                name,
                |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
                |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-',
            ),
            NameKind::Step | NameKind::Connection => fits_pattern(
                name,
                |c| c.is_ascii_lowercase() || c == b'_',
                |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_',
            ),
            NameKind::Secret => fits_pattern(
                name,
                |c| c.is_ascii_uppercase() || c == b'_',
                |c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_',
            ),
            NameKind::Database => fits_pattern(
                name,
                |c| c.is_ascii_lowercase(),
                |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_',
            ),
        };
        let reason = if name.is_empty() {
            NameProblem::Empty
        } else if !fits {
            NameProblem::Pattern
        } else if self == NameKind::Step && name == RESERVED_STEP_NAME {
            NameProblem::Reserved
        } else {
            return Ok(());
        };
        Err(NameError {
            kind: self,
            name: name.to_owned(),
            reason,
        })
    }
}

/// Why a name was refused.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NameProblem {
    Empty,
    Pattern,
    Reserved,
}

#[derive(Error, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NameError {
    pub kind: NameKind,
    pub name: String,
    pub reason: NameProblem,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = self.kind.noun();
        match self.reason {
            NameProblem::Empty => write!(f, "{noun} is empty"),
            NameProblem::Pattern => {
                write!(f, "invalid {noun} \"{}\": {}", self.name, self.kind.rule())
            }
            NameProblem::Reserved => write!(f, "{noun} \"{}\" is reserved", self.name),
        }
    }
}

/// `[first][rest]{0,62}` over ASCII bytes; any non-ASCII byte fails both predicates.
fn fits_pattern(name: &str, first: impl Fn(u8) -> bool, rest: impl Fn(u8) -> bool) -> bool {
    let bytes = name.as_bytes();
    match bytes.split_first() {
        Some((&head, tail)) => {
            bytes.len() <= MAX_NAME_LEN && first(head) && tail.iter().all(|&c| rest(c))
        }
        None => false,
    }
}

pub fn is_valid_automation_slug(name: &str) -> bool {
    NameKind::Automation.is_valid(name)
}

pub fn is_valid_composer_slug(name: &str) -> bool {
    NameKind::Composer.is_valid(name)
}

/// Includes refusing the reserved name `trigger`.
pub fn is_valid_step_name(name: &str) -> bool {
    NameKind::Step.is_valid(name)
}

pub fn is_valid_secret_name(name: &str) -> bool {
    NameKind::Secret.is_valid(name)
}

pub fn is_valid_database_name(name: &str) -> bool {
    NameKind::Database.is_valid(name)
}

pub fn is_valid_connection_name(name: &str) -> bool {
    NameKind::Connection.is_valid(name)
}

/// A valid step name derived from `base` that is not in `existing`: `base`, then `base_2`, `base_3`, ...
/// `base` is first made valid (lowercased, other characters become `_`), falling back to `step`.
pub fn unique_step_name<'a>(base: &str, existing: impl IntoIterator<Item = &'a str>) -> String {
    let mut base = sanitize(base, b'_', |c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if base.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        base.insert(0, '_');
    }
    if base.is_empty() {
        base = "step".to_owned();
    }
    let mut taken: BTreeSet<&str> = existing.into_iter().collect();
    taken.insert(RESERVED_STEP_NAME);
    first_free(&base, '_', &taken)
}

/// A composer slug from a display name: "Daily Report" → "daily-report"; `composer` when nothing is left.
pub fn slugify(name: &str) -> String {
    let slug = sanitize(name, b'-', |c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if slug.is_empty() {
        "composer".to_owned()
    } else {
        slug
    }
}

/// [`slugify`], then `-2`, `-3`, ... until it is not in `existing`.
pub fn unique_slug<'a>(name: &str, existing: impl IntoIterator<Item = &'a str>) -> String {
    let taken: BTreeSet<&str> = existing.into_iter().collect();
    first_free(&slugify(name), '-', &taken)
}

/// Lowercases, turns runs of other characters into one `separator`, trims separators at both ends
/// and keeps the result within the length limit.
fn sanitize(input: &str, separator: u8, keep: impl Fn(u8) -> bool) -> String {
    let mut out = Vec::with_capacity(input.len().min(MAX_NAME_LEN));
    for c in input.bytes().map(|c| c.to_ascii_lowercase()) {
        if keep(c) {
            out.push(c);
        } else if out.last().is_some_and(|&last| last != separator) {
            out.push(separator);
        }
    }
    out.truncate(MAX_NAME_LEN);
    while out.last() == Some(&separator) {
        out.pop();
    }
    // Only ASCII bytes were pushed, so this cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

fn first_free(base: &str, separator: char, taken: &BTreeSet<&str>) -> String {
    if !taken.contains(base) {
        return base.to_owned();
    }
    let mut n: u64 = 2;
    loop {
        let suffix = format!("{separator}{n}");
        // Shorten the base rather than exceed the length limit; base is ASCII, so any cut is a char boundary.
        let keep = base.len().min(MAX_NAME_LEN - suffix.len());
        let candidate = format!("{}{suffix}", &base[..keep]);
        if !taken.contains(candidate.as_str()) {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["a", "0", "orders", "daily-report", "a-", &"a".repeat(63)] {
            assert!(is_valid_composer_slug(ok), "{ok}");
            assert!(is_valid_automation_slug(ok), "{ok}");
        }
        for bad in ["", "-a", "A", "a_b", "a b", "é", &"a".repeat(64)] {
            assert!(!is_valid_composer_slug(bad), "{bad}");
        }
    }

    #[test]
    fn step_and_connection_names() {
        for ok in ["a", "_", "_a1", "save_order", &"a".repeat(63)] {
            assert!(is_valid_step_name(ok), "{ok}");
            assert!(is_valid_connection_name(ok), "{ok}");
        }
        for bad in ["", "1a", "Save", "a-b", "a.b", &"a".repeat(64)] {
            assert!(!is_valid_step_name(bad), "{bad}");
        }
        assert!(!is_valid_step_name("trigger"));
        assert!(is_valid_connection_name("trigger"));
    }

    #[test]
    fn secret_and_database_names() {
        for ok in ["A", "_X", "CRM_TOKEN", "K8S"] {
            assert!(is_valid_secret_name(ok), "{ok}");
        }
        for bad in ["", "crm", "1A", "A-B"] {
            assert!(!is_valid_secret_name(bad), "{bad}");
        }
        for ok in ["orders", "a1_b"] {
            assert!(is_valid_database_name(ok), "{ok}");
        }
        for bad in ["", "_orders", "1a", "Orders", "a-b"] {
            assert!(!is_valid_database_name(bad), "{bad}");
        }
    }

    #[test]
    fn errors_say_what_to_do() {
        assert_eq!(
            NameKind::Step.check("Save").unwrap_err().to_string(),
            "invalid step name \"Save\": use lowercase letters, digits and _, not starting with a digit, at most 63 characters"
        );
        assert_eq!(
            NameKind::Step.check("trigger").unwrap_err().to_string(),
            "step name \"trigger\" is reserved"
        );
        assert_eq!(
            NameKind::Secret.check("").unwrap_err().to_string(),
            "secret name is empty"
        );
    }

    #[test]
    fn unique_step_names_count_up() {
        assert_eq!(unique_step_name("transform", []), "transform");
        assert_eq!(unique_step_name("transform", ["transform"]), "transform_2");
        assert_eq!(
            unique_step_name("transform", ["transform", "transform_2"]),
            "transform_3"
        );
        assert_eq!(unique_step_name("trigger", []), "trigger_2");
        assert_eq!(unique_step_name("HTTP request", []), "http_request");
        assert_eq!(unique_step_name("2nd", []), "_2nd");
        assert_eq!(unique_step_name("!!!", []), "step");
        let long = "a".repeat(63);
        let next = unique_step_name(&long, [long.as_str()]);
        assert!(is_valid_step_name(&next), "{next}");
        assert!(next.ends_with("_2"));
    }

    #[test]
    fn slugify_makes_valid_slugs() {
        assert_eq!(slugify("Daily Report"), "daily-report");
        assert_eq!(slugify("  Orders -- v2!! "), "orders-v2");
        assert_eq!(slugify("Café"), "caf");
        assert_eq!(slugify("***"), "composer");
        assert_eq!(slugify(""), "composer");
        for name in ["Daily Report", &"Word ".repeat(40), "ÄÖÜ x", "-_-"] {
            assert!(is_valid_composer_slug(&slugify(name)), "{name}");
        }
        assert_eq!(
            unique_slug("Daily Report", ["daily-report"]),
            "daily-report-2"
        );
    }
}
