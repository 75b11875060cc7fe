//! Export and import files (PRODUCT.md §15): one automation as a JSON file made for git.
//!
//! An export file is an envelope around the document of §2:
//!
//! ```json
//! {
//!   "automation": { "name": "Shop", "slug": "shop" },
//!   "document": { "composers": [ ... ], "connections": [ ... ], "format": 1 },
//!   "secrets": ["CRM_TOKEN", "HOOK_TOKEN"],
//!   "slipway_export": 1
//! }
//! ```
//!
//! plus `"test_databases": {"orders": [{"key": .., "value": ..}]}` when asked for. `secrets`
//! names the secrets the document uses (a trigger's `auth_secret`, `secrets.X` in templates), so
//! whoever imports knows what to set; values never leave the instance, and the list follows
//! from the document, so it is the same on every instance. The text is canonical ([`canonical_json`]):
//! object keys sorted, 2-space indent, one trailing newline; composers, steps, links and
//! connections stay in the document's own order (the editor appends and edits in place, so a
//! one-step edit changes only that step's lines, and a rename does not move a block), records in
//! key order, secret names sorted. So export → import → export is byte-identical.
//!
//! An import reads an export file, or a bare document (§2) when the slug to import as is given.

use crate::document::{Document, DocumentError};
use crate::wire::Record;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The envelope format this version writes and reads.
pub const EXPORT_FORMAT: u32 = 1;
/// The largest file an import reads (records of test databases included).
pub const MAX_IMPORT_BYTES: usize = 32 << 20;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExportFile {
    pub slipway_export: u32,
    pub automation: ExportedAutomation,
    pub document: Document,
    /// Read for people; an import derives it from the document again.
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_databases: Option<BTreeMap<String, Vec<Record>>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExportedAutomation {
    pub slug: String,
    pub name: String,
}

/// Secret names per mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecretNames {
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default)]
    pub live: Vec<String>,
}

/// What an import did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Imported {
    /// The automation's slug.
    pub automation: String,
    /// A new automation, or the draft of an existing one replaced.
    pub created: bool,
    /// The draft version the import made.
    pub version: u64,
    /// The `backup` revision that keeps the draft as it was (an import over an automation).
    pub backup_revision: Option<u64>,
    /// Records put into Test databases (an export made with its test databases).
    pub records: u64,
    /// Secrets the document uses that are not set here yet, per mode.
    pub missing_secrets: SecretNames,
    /// What validation says of the imported draft (saved either way, as any draft).
    pub problems: Vec<crate::Problem>,
}

impl Imported {
    /// What the import did, in a sentence (the CLI and the UI say the same).
    pub fn summary(&self) -> String {
        match self.backup_revision {
            Some(n) if !self.created => format!(
                "Imported into the draft of {} (version {}); the draft before is revision {n}.",
                self.automation, self.version
            ),
            _ => format!("Created the automation {}.", self.automation),
        }
    }

    /// "Secrets to set in Test: A, B" for each mode that lacks some.
    pub fn secrets_to_set(&self) -> Vec<String> {
        [
            ("Test", &self.missing_secrets.test),
            ("Live", &self.missing_secrets.live),
        ]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(mode, names)| format!("Secrets to set in {mode}: {}", names.join(", ")))
        .collect()
    }
}

/// What an import file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportFile {
    Export(Box<ExportFile>),
    /// A bare document: it names no automation.
    Document(Document),
}

impl ImportFile {
    pub fn document(&self) -> &Document {
        match self {
            ImportFile::Export(e) => &e.document,
            ImportFile::Document(d) => d,
        }
    }

    pub fn into_document(self) -> Document {
        match self {
            ImportFile::Export(e) => e.document,
            ImportFile::Document(d) => d,
        }
    }
}

/// `value` as canonical JSON: keys sorted at every level, 2-space indent, one trailing newline.
pub fn canonical_json(value: &impl Serialize) -> String {
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    // Serializing these types cannot fail: every map key is a string.
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

impl ExportFile {
    /// The file for `document`, with the secrets it uses and records in key order.
    pub fn new(
        slug: &str,
        name: &str,
        document: Document,
        mut test_databases: Option<BTreeMap<String, Vec<Record>>>,
    ) -> ExportFile {
        let secrets = crate::expr::referenced_secrets(&document)
            .into_iter()
            .collect();
        for records in test_databases.iter_mut().flat_map(|d| d.values_mut()) {
            records.sort_by(|a, b| a.key.cmp(&b.key));
        }
        ExportFile {
            slipway_export: EXPORT_FORMAT,
            automation: ExportedAutomation {
                slug: slug.to_owned(),
                name: name.to_owned(),
            },
            document,
            secrets,
            test_databases,
        }
    }

    pub fn to_text(&self) -> String {
        canonical_json(self)
    }
}

/// Reads an import file: an export file, or a bare document. Every refusal says what is wrong
/// (too large, not JSON, another format, the path of a value of the wrong shape).
pub fn read_import(text: &str) -> Result<ImportFile, String> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(format!(
            "the file is {:.1} MiB; an import holds at most {} MiB",
            text.len() as f64 / (1 << 20) as f64,
            MAX_IMPORT_BYTES >> 20
        ));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the file is not JSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err("the file must hold a JSON object: an export file or a document".into());
    };
    if !object.contains_key("slipway_export") {
        if !object.contains_key("format") {
            return Err(
                "this is neither a Slipway export (it has no `slipway_export`) nor a document (it has no `format`)"
                    .into(),
            );
        }
        return Document::from_json(text)
            .map(ImportFile::Document)
            .map_err(|e| document_error(&e));
    }
    match object.get("slipway_export").and_then(Value::as_u64) {
        Some(n) if n == u64::from(EXPORT_FORMAT) => {}
        Some(n) => {
            return Err(format!(
                "this is a Slipway export of format {n}; this version reads format {EXPORT_FORMAT}"
            ));
        }
        None => return Err("`slipway_export` must be a format number".into()),
    }
    if let Some(format) = object
        .get("document")
        .and_then(|d| d.get("format"))
        .and_then(Value::as_u64)
        && format != u64::from(crate::document::FORMAT)
    {
        return Err(document_error(&DocumentError::UnsupportedFormat(
            format as u32,
        )));
    }
    crate::json::check_integers(text)?;
    let file: ExportFile = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner())
    })?;
    if file.document.format != crate::document::FORMAT {
        return Err(document_error(&DocumentError::UnsupportedFormat(
            file.document.format,
        )));
    }
    Ok(ImportFile::Export(Box::new(file)))
}

fn document_error(e: &DocumentError) -> String {
    match e {
        DocumentError::Shape { path, message } => format!("document, {path}: {message}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Document {
        Document::from_json(
            &json!({"format": 1, "composers": [
                {"slug": "orders", "name": "Orders", "trigger": {"kind": "webhook", "method": "POST"},
                 "steps": [
                    {"name": "total", "kind": "transform", "config": {"value": {"z": 1, "a": "{{ trigger.body }}"}}},
                    {"name": "reply", "kind": "respond", "config": {"status": 200, "body": "{{ steps.total }}{{ secrets.B }}{{ secrets.A }}"}}
                 ],
                 "links": [{"from": "trigger", "to": "total"}, {"from": "total", "to": "reply"}]}
            ]})
            .to_string(),
        )
        .unwrap()
    }

    fn export(doc: Document) -> String {
        ExportFile::new("shop", "Shop", doc, None).to_text()
    }

    #[test]
    fn the_text_is_canonical_and_reads_back_as_it_was() {
        let text = export(document());
        assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
        assert!(text.starts_with("{\n  \"automation\": {\n    \"name\": \"Shop\","));
        // Keys sorted at every level; the steps in the document's order.
        assert!(text.find("\"a\": ").unwrap() < text.find("\"z\": ").unwrap());
        assert!(text.find("\"total\"").unwrap() < text.find("\"reply\"").unwrap());
        assert!(
            text.contains("\"secrets\": [\n    \"A\",\n    \"B\"\n  ]"),
            "{text}"
        );
        let ImportFile::Export(file) = read_import(&text).unwrap() else {
            panic!("an export file")
        };
        assert_eq!(file.to_text(), text);
        assert_eq!(file.document, document());
    }

    #[test]
    fn a_one_step_edit_changes_only_that_steps_lines() {
        let before = export(document());
        let mut doc = document();
        doc.composers[0].steps[1].config["status"] = json!(201);
        let after = export(doc);
        let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
        assert_eq!(a.len(), b.len());
        let changed: Vec<(&str, &str)> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| (*x, *y))
            .collect();
        assert_eq!(
            changed,
            vec![(
                "              \"status\": 200",
                "              \"status\": 201"
            )]
        );
    }

    #[test]
    fn bad_files_are_refused_with_what_is_wrong() {
        let err = |text: &str| read_import(text).unwrap_err();
        assert!(err("{ not json").starts_with("the file is not JSON"));
        assert!(err("[1]").contains("a JSON object"));
        assert!(err(r#"{"name": "x"}"#).contains("neither a Slipway export"));
        assert!(
            err(r#"{"slipway_export": 2, "automation": {}}"#)
                .contains("export of format 2; this version reads format 1")
        );
        let e = err(r#"{"format": 3, "composers": []}"#);
        assert!(e.contains("format 3"), "{e}");
        let e = err(
            &json!({"slipway_export": 1, "automation": {"slug": "s", "name": "S"},
                "document": {"format": 1, "composers": [{"slug": "c", "name": "C", "trigger": {"kind": "webhook"}, "steps": 5}]}})
            .to_string(),
        );
        assert!(e.starts_with("document.composers[0].steps"), "{e}");
        let e = err(
            &json!({"slipway_export": 1, "automation": {"slug": "s", "name": "S"},
                "document": {"format": 1}, "extra": true})
            .to_string(),
        );
        assert!(e.contains("unknown field `extra`"), "{e}");
        let big = format!("{{\"format\": 1, \"pad\": \"{}\"}}", "x".repeat(50 << 20));
        assert_eq!(
            err(&big),
            "the file is 50.0 MiB; an import holds at most 32 MiB"
        );
    }

    #[test]
    fn a_bare_document_is_an_import_too() {
        let text = document().to_json_pretty();
        assert_eq!(
            read_import(&text).unwrap(),
            ImportFile::Document(document())
        );
    }
}
