//! Redaction (PRODUCT.md §7): every secret value of a run — and its base64 and URL-encoded
//! forms — replaced by `[secret:NAME]` in what is recorded and shown (run records, logs, events,
//! errors), never in the data a step writes, sends or answers. One [`Redactor`] is built per
//! run, from its secrets, and finds every form of every value in one pass (Aho-Corasick).

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::runs::Run;

/// `encodeURIComponent` style: everything but RFC 3986 unreserved characters and `!'()*`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');
/// RFC 3986 strict: everything but unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// `application/x-www-form-urlencoded` (before spaces become `+`): all but `*-._`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// Shortest secret value (in characters) that redaction looks for. Hiding a shorter one would
/// rewrite every record beyond reading (a secret `a` turns `banana` into
/// `b[secret:A]n[secret:A]n[secret:A]`) and protects little: a value that short is guessed at
/// once. Setting one is allowed, with [`short_secret_warning`].
pub const MIN_REDACTED_CHARS: usize = 4;

/// What setting a secret shorter than [`MIN_REDACTED_CHARS`] answers besides success.
pub fn short_secret_warning() -> String {
    format!(
        "values shorter than {MIN_REDACTED_CHARS} characters are not hidden in run records and \
         logs: use a longer value"
    )
}

/// Whether redaction looks for `value` (see [`MIN_REDACTED_CHARS`]).
pub fn is_redacted(value: &str) -> bool {
    value.chars().count() >= MIN_REDACTED_CHARS
}

/// The forms of `value` that redaction looks for: the value itself, its base64 (standard, with
/// and without padding, and URL-safe) and its percent-encodings (strict, component and form
/// style, upper- and lowercase hex).
fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    for e in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        out.push(e.encode(value));
    }
    for set in [UNRESERVED, COMPONENT, NON_ALPHANUMERIC] {
        out.push(utf8_percent_encode(value, set).to_string());
    }
    out.push(
        utf8_percent_encode(value, FORM)
            .to_string()
            .replace("%20", "+"),
    );
    let lower: Vec<String> = out[5..].iter().map(|s| lower_hex_escapes(s)).collect();
    out.extend(lower);
    out.sort();
    out.dedup();
    out
}

/// `%2F` → `%2f`: some encoders write lowercase hex.
fn lower_hex_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push('%');
            out.push((b[i + 1] as char).to_ascii_lowercase());
            out.push((b[i + 2] as char).to_ascii_lowercase());
            i += 3;
        } else {
            let c = s[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The secrets of one run, ready to be found in text.
pub struct Redactor {
    /// `None` when no value is long enough to be looked for.
    finder: Option<AhoCorasick>,
    /// `[secret:NAME]` for each pattern of `finder`, in its order.
    replacements: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: &BTreeMap<String, String>) -> Redactor {
        let mut patterns = Vec::new();
        let mut replacements = Vec::new();
        for (name, value) in secrets.iter().filter(|(_, v)| is_redacted(v)) {
            for form in forms(value) {
                patterns.push(form);
                replacements.push(format!("[secret:{name}]"));
            }
        }
        // Leftmost-longest: a value that contains another is replaced whole.
        let finder = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Redactor {
            finder,
            replacements,
        }
    }

    /// Whether there is nothing to hide (no secret long enough to be looked for).
    pub fn is_empty(&self) -> bool {
        self.finder.is_none()
    }

    pub fn text(&self, text: &str) -> String {
        match &self.finder {
            Some(finder) => finder.replace_all(text, &self.replacements),
            None => text.to_string(),
        }
    }

    /// [`Redactor::text`] applied to every string in `v`, object keys included.
    pub fn json(&self, v: &Value) -> Value {
        if self.is_empty() {
            return v.clone();
        }
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|x| self.json(x)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, x)| (self.text(k), self.json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// The run as it may be stored and shown.
    pub fn run(&self, run: &Run) -> Run {
        let mut out = run.clone();
        if self.is_empty() {
            return out;
        }
        out.input = self.json(&run.input);
        out.error = run.error.as_deref().map(|e| self.text(e));
        for s in &mut out.steps {
            s.input = self.json(&s.input);
            s.output = self.json(&s.output);
            s.error = s.error.as_deref().map(|e| self.text(e));
            for line in &mut s.logs {
                *line = self.text(line);
            }
        }
        out
    }
}

/// Redacts `text` with `secrets` (a [`Redactor`] for one use).
pub fn redact(text: &str, secrets: &BTreeMap<String, String>) -> String {
    Redactor::new(secrets).text(text)
}

/// Redacts every string of `v` with `secrets` (a [`Redactor`] for one use).
pub fn redact_json(v: &Value, secrets: &BTreeMap<String, String>) -> Value {
    Redactor::new(secrets).json(v)
}
