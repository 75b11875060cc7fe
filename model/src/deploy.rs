//! What a deploy must check beyond validation (PRODUCT.md §6): a live composer that refers to a
//! secret or database Live will not have after the deploy still deploys, with a warning.

use crate::document::Document;
use crate::expr::{referenced_databases, referenced_secrets};
use std::collections::BTreeSet;

/// Warnings for deploying `document` when Live will then hold `live_secrets` and
/// `live_databases` (what it has now plus what the deploy copies).
pub fn missing_in_live(
    document: &Document,
    live_secrets: &BTreeSet<String>,
    live_databases: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for name in referenced_secrets(document).difference(live_secrets) {
        out.push(format!(
            "secret {name} is used but Live will not have it; tick it or set it in Live"
        ));
    }
    for name in referenced_databases(document).difference(live_databases) {
        out.push(format!(
            "database {name} is used but Live will not have it; a live run creates it empty on its first write, and reads fail until then"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        Document::from_json(
            r#"{"format":1,"composers":[{"slug":"intake","name":"Intake","trigger":{"kind":"webhook","method":"POST","auth_secret":"HOOK_KEY"},
            "steps":[{"name":"save","kind":"database","config":{"op":"put","database":"orders","key":"k","value":"{{ secrets.API_KEY }}"}}],
            "links":[{"from":"trigger","to":"save"}]}]}"#,
        )
        .unwrap()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_every_missing_secret_and_database() {
        let w = missing_in_live(&doc(), &set(&[]), &set(&[]));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("secret API_KEY "));
        assert!(w[1].starts_with("secret HOOK_KEY "));
        assert!(w[2].starts_with("database orders "));
    }

    #[test]
    fn nothing_when_live_will_have_everything() {
        let w = missing_in_live(
            &doc(),
            &set(&["API_KEY", "HOOK_KEY", "OTHER"]),
            &set(&["orders"]),
        );
        assert!(w.is_empty(), "{w:?}");
    }
}
