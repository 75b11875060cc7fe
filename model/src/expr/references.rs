//! Which secrets and databases a document names, read from the code of its templates with
//! [`code_tokens`](super::code_tokens).

use std::collections::BTreeSet;

use serde_json::Value;

use super::is_rendered_field;
use super::parts::{TemplatePart, has_expression, template_parts};
use super::tokens::{CodeToken, code_tokens};
use crate::document::{Document, StepKind, Trigger};
use crate::names::is_valid_database_name;

/// Every secret name the document refers to: `secrets.NAME` or `secrets["NAME"]` inside the
/// templates of step and connection configs and branch conditions, and webhook `auth_secret`s.
pub fn referenced_secrets(document: &Document) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for composer in &document.composers {
        if let Trigger::Webhook {
            auth_secret: Some(name),
            ..
        } = &composer.trigger
            && !name.is_empty()
        {
            found.insert(name.clone());
        }
        for step in &composer.steps {
            let kind = step.step_kind();
            match &step.config {
                Value::Object(map) => {
                    for (key, value) in map {
                        if kind == Some(StepKind::Branch) && key == "condition" {
                            if let Value::String(condition) = value {
                                secrets_in_expression(condition, &mut found);
                            }
                        } else if is_rendered_field(kind, key) {
                            secrets_in_value(value, &mut found);
                        }
                    }
                }
                other => secrets_in_value(other, &mut found),
            }
        }
    }
    for connection in &document.connections {
        secrets_in_value(&connection.config, &mut found);
    }
    found
}

/// Every database a database step names literally (templated names are only known at run time).
pub fn referenced_databases(document: &Document) -> BTreeSet<String> {
    document
        .composers
        .iter()
        .flat_map(|c| &c.steps)
        .filter(|s| s.step_kind() == Some(StepKind::Database))
        .filter_map(|s| s.config.get("database").and_then(Value::as_str))
        .filter(|name| !has_expression(name) && is_valid_database_name(name))
        .map(str::to_owned)
        .collect()
}

fn secrets_in_value(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::String(s) if has_expression(s) => {
            for part in template_parts(s) {
                if let TemplatePart::Expression(code) | TemplatePart::Statement(code) = part {
                    secrets_in_expression(code, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| secrets_in_value(v, found)),
        Value::Object(map) => map.values().for_each(|v| secrets_in_value(v, found)),
        _ => {}
    }
}

/// Finds `secrets.NAME` and `secrets["NAME"]` where `secrets` is the top-level variable
/// (not `x.secrets`); string literals are tokens of their own, so text in them is not seen.
pub(super) fn secrets_in_expression(code: &str, found: &mut BTreeSet<String>) {
    let tokens = code_tokens(code);
    for (i, token) in tokens.iter().enumerate() {
        if *token != CodeToken::Ident("secrets")
            || i.checked_sub(1).map(|p| &tokens[p]) == Some(&CodeToken::Dot)
        {
            continue;
        }
        let name = match (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3)) {
            (Some(CodeToken::Dot), Some(CodeToken::Ident(name)), _) => Some(*name),
            (
                Some(CodeToken::BracketOpen),
                Some(CodeToken::Str(name)),
                Some(CodeToken::BracketClose),
            ) => Some(name.as_ref()),
            _ => None,
        };
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            found.insert(name.to_owned());
        }
    }
}
