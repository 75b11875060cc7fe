//! Validating a document (PRODUCT.md §2): runs every rule and returns every problem, never stopping at
//! the first. This module owns the document-level rules (slugs, step names and kinds, triggers,
//! connections); links live in `links`, step configs in `step_config`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::document::{Composer, Connection, Document, StepKind, Trigger};
use crate::expr::{check_template, has_expression};
use crate::names::NameKind;
use crate::problem::{Problem, join_key};
use crate::schedule::parse_cron;
use crate::{links, step_config};

/// Methods a webhook trigger may listen on.
pub const WEBHOOK_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The connector kinds of v1.
pub const CONNECTION_KINDS: [&str; 1] = ["http"];

impl Document {
    /// Every problem in the document, errors and warnings, in document order.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_composer_slugs(&self.composers, &mut out);
        for (index, composer) in self.composers.iter().enumerate() {
            let at = ComposerAt { index, composer };
            check_composer_name(at, &mut out);
            check_trigger(at, &mut out);
            check_step_names(at, &mut out);
            check_step_kinds(at, &mut out);
            for (step_index, step) in composer.steps.iter().enumerate() {
                step_config::check_step(at, step_index, step, &self.connections, &mut out);
            }
            links::check_links(at, &mut out);
        }
        check_connection_names(&self.connections, &mut out);
        for (index, connection) in self.connections.iter().enumerate() {
            check_connection(index, connection, &mut out);
        }
        out
    }

    /// Whether nothing blocks a deploy (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self.validate().iter().any(Problem::is_error)
    }
}

/// A composer and its place in the document, to build paths and tag problems.
#[derive(Clone, Copy)]
pub(crate) struct ComposerAt<'a> {
    pub index: usize,
    pub composer: &'a Composer,
}

impl ComposerAt<'_> {
    pub fn path(&self, rest: &str) -> String {
        format!("composers[{}]{rest}", self.index)
    }

    pub fn step_path(&self, step_index: usize, rest: &str) -> String {
        self.path(&format!(".steps[{step_index}]{rest}"))
    }

    pub fn error(&self, path: String, message: impl Into<String>) -> Problem {
        Problem::error(path, message).in_composer(&self.composer.slug)
    }

    pub fn warning(&self, path: String, message: impl Into<String>) -> Problem {
        Problem::warning(path, message).in_composer(&self.composer.slug)
    }
}

fn check_composer_slugs(composers: &[Composer], out: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    for (index, composer) in composers.iter().enumerate() {
        let at = ComposerAt { index, composer };
        if let Err(e) = NameKind::Composer.check(&composer.slug) {
            out.push(at.error(at.path(".slug"), e.to_string()));
        }
        if !seen.insert(composer.slug.as_str()) {
            out.push(at.error(
                at.path(".slug"),
                format!("duplicate composer slug \"{}\"", composer.slug),
            ));
        }
    }
}

fn check_composer_name(at: ComposerAt, out: &mut Vec<Problem>) {
    if at.composer.name.trim().is_empty() {
        out.push(at.error(at.path(".name"), "composer name is empty"));
    }
}

fn check_step_names(at: ComposerAt, out: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    for (step_index, step) in at.composer.steps.iter().enumerate() {
        let path = at.step_path(step_index, ".name");
        if let Err(e) = NameKind::Step.check(&step.name) {
            out.push(at.error(path.clone(), e.to_string()).at_step(&step.name));
        }
        if !seen.insert(step.name.as_str()) {
            out.push(
                at.error(path, format!("duplicate step name \"{}\"", step.name))
                    .at_step(&step.name),
            );
        }
    }
}

fn check_step_kinds(at: ComposerAt, out: &mut Vec<Problem>) {
    for (step_index, step) in at.composer.steps.iter().enumerate() {
        if step.step_kind().is_none() {
            let known: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
            out.push(
                at.error(
                    at.step_path(step_index, ".kind"),
                    format!(
                        "unknown step kind \"{}\" (expected one of {})",
                        step.kind,
                        known.join(", ")
                    ),
                )
                .at_step(&step.name),
            );
        }
    }
}

fn check_trigger(at: ComposerAt, out: &mut Vec<Problem>) {
    match &at.composer.trigger {
        Trigger::Manual { .. } => {}
        Trigger::Webhook {
            method,
            auth_secret,
            ..
        } => {
            check_webhook_method(at, method, out);
            if let Some(secret) = auth_secret {
                check_auth_secret(at, secret, out);
            }
        }
        Trigger::Schedule { cron, timezone } => {
            check_cron(at, cron, out);
            if let Some(timezone) = timezone {
                check_timezone(at, timezone, out);
            }
        }
    }
}

fn check_webhook_method(at: ComposerAt, method: &str, out: &mut Vec<Problem>) {
    if !WEBHOOK_METHODS.contains(&method) {
        out.push(at.error(
            at.path(".trigger.method"),
            format!(
                "webhook method must be one of {}, not \"{method}\"",
                WEBHOOK_METHODS.join(", ")
            ),
        ));
    }
}

fn check_auth_secret(at: ComposerAt, secret: &str, out: &mut Vec<Problem>) {
    if let Err(e) = NameKind::Secret.check(secret) {
        out.push(at.error(at.path(".trigger.auth_secret"), e.to_string()));
    }
}

fn check_cron(at: ComposerAt, cron: &str, out: &mut Vec<Problem>) {
    if let Err(message) = parse_cron(cron) {
        out.push(at.error(at.path(".trigger.cron"), message));
    }
}

/// Time zone names are not checked against a database (too large for the browser); the engine
/// reports an unknown one when it arms the schedule.
fn check_timezone(at: ComposerAt, timezone: &str, out: &mut Vec<Problem>) {
    if timezone.trim().is_empty() {
        out.push(at.error(
            at.path(".trigger.timezone"),
            "time zone is empty (leave it out for UTC)",
        ));
    } else if timezone.chars().any(char::is_whitespace) {
        out.push(at.error(
            at.path(".trigger.timezone"),
            format!("invalid time zone \"{timezone}\": use a name such as Europe/Berlin"),
        ));
    }
}

fn check_connection_names(connections: &[Connection], out: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    for (index, connection) in connections.iter().enumerate() {
        let path = format!("connections[{index}].name");
        if let Err(e) = NameKind::Connection.check(&connection.name) {
            out.push(Problem::error(path.clone(), e.to_string()));
        }
        if !seen.insert(connection.name.as_str()) {
            out.push(Problem::error(
                path,
                format!("duplicate connection name \"{}\"", connection.name),
            ));
        }
    }
}

fn check_connection(index: usize, connection: &Connection, out: &mut Vec<Problem>) {
    let base = format!("connections[{index}]");
    if !CONNECTION_KINDS.contains(&connection.kind.as_str()) {
        out.push(Problem::error(
            format!("{base}.kind"),
            format!(
                "unknown connection kind \"{}\" (expected one of {})",
                connection.kind,
                CONNECTION_KINDS.join(", ")
            ),
        ));
    }
    let config_path = format!("{base}.config");
    let Value::Object(config) = &connection.config else {
        out.push(Problem::error(config_path, "must be an object"));
        return;
    };
    match config.get("base_url") {
        None => out.push(Problem::error(
            join_key(&config_path, "base_url"),
            "missing: an http connection needs a base_url",
        )),
        Some(Value::String(url)) => {
            if !has_expression(url) && !is_absolute_http_url(url) {
                out.push(Problem::error(
                    join_key(&config_path, "base_url"),
                    format!("must start with http:// or https://, not \"{url}\""),
                ));
            }
        }
        Some(_) => out.push(Problem::error(
            join_key(&config_path, "base_url"),
            "must be a string",
        )),
    }
    if let Some(headers) = config.get("headers")
        && !headers.is_object()
    {
        out.push(Problem::error(
            join_key(&config_path, "headers"),
            "must be an object of header names to values",
        ));
    }
    check_templates_in(&config_path, &connection.config, &mut |path, message| {
        out.push(Problem::error(path, message));
    });
}

pub(crate) fn is_absolute_http_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    ["http://", "https://"]
        .iter()
        .any(|scheme| lower.len() > scheme.len() && lower.starts_with(scheme))
}

/// Calls `report(path, message)` for every string under `value` that does not parse as a template.
pub(crate) fn check_templates_in(
    path: &str,
    value: &Value,
    report: &mut dyn FnMut(String, String),
) {
    match value {
        Value::String(s) if has_expression(s) => {
            if let Err(message) = check_template(s) {
                report(path.to_owned(), message);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_templates_in(&format!("{path}[{i}]"), item, report);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                check_templates_in(&join_key(path, key), item, report);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::problem::Severity;
    use serde_json::json;

    /// A document with one composer `c` (manual trigger) holding `steps` and `links`.
    pub fn doc_with(steps: Value, links: Value) -> Document {
        Document::from_json(
            &json!({
                "format": 1,
                "composers": [{ "slug": "c", "name": "C", "trigger": { "kind": "manual" },
                                "steps": steps, "links": links }]
            })
            .to_string(),
        )
        .unwrap()
    }

    pub fn messages(doc: &Document) -> Vec<String> {
        doc.validate().iter().map(ToString::to_string).collect()
    }

    pub fn assert_has(doc: &Document, expected: &str) {
        let all = messages(doc);
        assert!(
            all.iter().any(|m| m == expected),
            "expected {expected:?} among {all:#?}"
        );
    }

    #[test]
    fn the_spec_example_is_valid() {
        let doc = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"orders","name":"Orders",
              "trigger":{"kind":"webhook","method":"POST","sample":{"body":{"id":"a1","items":[1,2,3]}}},
              "steps":[
                {"name":"total","kind":"transform","config":{"value":{"id":"{{ trigger.body.id }}","total":"{{ trigger.body.items | sum }}"}}},
                {"name":"save","kind":"database","config":{"op":"put","database":"orders","key":"{{ steps.total.id }}","value":"{{ steps.total }}"}},
                {"name":"reply","kind":"respond","config":{"status":200,"body":"{{ steps.save }}"}}],
              "links":[{"from":"trigger","to":"total"},{"from":"total","to":"save"},{"from":"save","to":"reply"}]}],
              "connections":[{"name":"crm","kind":"http","config":{"base_url":"http://crm.intranet:8080/api",
                "headers":{"Authorization":"Bearer {{ secrets.CRM_TOKEN }}"}}}]}"#,
        )
        .unwrap();
        assert_eq!(doc.validate(), vec![]);
        assert!(doc.is_valid());
    }

    #[test]
    fn every_default_step_config_is_valid_but_for_blanks() {
        for kind in StepKind::ALL {
            let doc = doc_with(
                json!([{ "name": "s", "kind": kind.as_str(), "config": kind.default_config() }]),
                json!([{ "from": "trigger", "to": "s" }]),
            );
            let problems = doc.validate();
            match kind {
                // A fresh step waits for the user to fill in where it goes.
                StepKind::Http | StepKind::Database => assert!(!problems.is_empty()),
                _ => assert_eq!(problems, vec![], "{kind}"),
            }
        }
    }

    #[test]
    fn duplicate_step_names_name_the_later_one() {
        let doc = doc_with(
            json!([
                { "name": "save", "kind": "transform", "config": { "value": 1 } },
                { "name": "other", "kind": "transform", "config": { "value": 1 } },
                { "name": "save", "kind": "transform", "config": { "value": 1 } }
            ]),
            json!([{ "from": "trigger", "to": "save" }, { "from": "trigger", "to": "other" }]),
        );
        let problems = doc.validate();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(
            problems[0].to_string(),
            "composers[0].steps[2].name: duplicate step name \"save\""
        );
        assert_eq!(problems[0].composer.as_deref(), Some("c"));
        assert_eq!(problems[0].step.as_deref(), Some("save"));
        assert_eq!(problems[0].severity, Severity::Error);
    }

    #[test]
    fn invalid_and_reserved_step_names() {
        let doc = doc_with(
            json!([
                { "name": "Save", "kind": "code" },
                { "name": "trigger", "kind": "code" },
                { "name": "", "kind": "code" }
            ]),
            json!([]),
        );
        assert_has(
            &doc,
            "composers[0].steps[0].name: invalid step name \"Save\": use lowercase letters, digits and _, not starting with a digit, at most 63 characters",
        );
        assert_has(
            &doc,
            "composers[0].steps[1].name: step name \"trigger\" is reserved",
        );
        assert_has(&doc, "composers[0].steps[2].name: step name is empty");
    }

    #[test]
    fn unknown_step_kind_is_located() {
        let doc = doc_with(
            json!([{ "name": "mail", "kind": "email", "config": {} }]),
            json!([{ "from": "trigger", "to": "mail" }]),
        );
        let problems = doc.validate();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(
            problems[0].to_string(),
            "composers[0].steps[0].kind: unknown step kind \"email\" (expected one of http, transform, code, branch, database, respond, delay)"
        );
        assert_eq!(problems[0].step.as_deref(), Some("mail"));
    }

    #[test]
    fn composer_slugs_are_valid_and_unique() {
        let doc = Document::from_json(
            r#"{"format":1,"composers":[
              {"slug":"a","name":"A","trigger":{"kind":"manual"}},
              {"slug":"a","name":"A2","trigger":{"kind":"manual"}},
              {"slug":"Bad Slug","name":"B","trigger":{"kind":"manual"}},
              {"slug":"d","name":" ","trigger":{"kind":"manual"}}]}"#,
        )
        .unwrap();
        assert_has(&doc, "composers[1].slug: duplicate composer slug \"a\"");
        assert_has(
            &doc,
            "composers[2].slug: invalid composer slug \"Bad Slug\": use lowercase letters, digits and -, starting with a letter or digit, at most 63 characters",
        );
        assert_has(&doc, "composers[3].name: composer name is empty");
        assert_eq!(doc.validate().len(), 3);
    }

    fn doc_with_trigger(trigger: Value) -> Document {
        Document::from_json(
            &json!({"format": 1, "composers": [{ "slug": "c", "name": "C", "trigger": trigger }]})
                .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn schedule_cron_must_parse() {
        assert_eq!(
            doc_with_trigger(
                json!({"kind": "schedule", "cron": "*/5 * * * *", "timezone": "Europe/Berlin"})
            )
            .validate(),
            vec![]
        );
        let doc = doc_with_trigger(json!({"kind": "schedule", "cron": "every day"}));
        let problems = doc.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "composers[0].trigger.cron");
        assert!(
            problems[0]
                .message
                .starts_with("invalid cron expression \"every day\": "),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn schedule_timezone_must_not_be_blank() {
        let doc = doc_with_trigger(json!({"kind": "schedule", "cron": "@daily", "timezone": ""}));
        assert_has(
            &doc,
            "composers[0].trigger.timezone: time zone is empty (leave it out for UTC)",
        );
        let doc = doc_with_trigger(
            json!({"kind": "schedule", "cron": "@daily", "timezone": "Europe / Berlin"}),
        );
        assert_eq!(doc.validate().len(), 1);
    }

    #[test]
    fn webhook_method_and_auth_secret() {
        assert_eq!(
            doc_with_trigger(
                json!({"kind": "webhook", "method": "PUT", "auth_secret": "HOOK_TOKEN"})
            )
            .validate(),
            vec![]
        );
        let doc =
            doc_with_trigger(json!({"kind": "webhook", "method": "post", "auth_secret": "token"}));
        assert_has(
            &doc,
            "composers[0].trigger.method: webhook method must be one of GET, POST, PUT, PATCH, DELETE, not \"post\"",
        );
        assert_has(
            &doc,
            "composers[0].trigger.auth_secret: invalid secret name \"token\": use uppercase letters, digits and _, not starting with a digit, at most 63 characters",
        );
    }

    fn doc_with_connections(connections: Value) -> Document {
        Document::from_json(&json!({"format": 1, "connections": connections}).to_string()).unwrap()
    }

    #[test]
    fn connections_have_valid_unique_names_and_known_kinds() {
        let doc = doc_with_connections(json!([
            {"name": "crm", "kind": "http", "config": {"base_url": "https://crm"}},
            {"name": "crm", "kind": "http", "config": {"base_url": "https://crm2"}},
            {"name": "Mail", "kind": "smtp", "config": {"base_url": "https://mail"}}
        ]));
        assert_has(
            &doc,
            "connections[1].name: duplicate connection name \"crm\"",
        );
        assert_has(
            &doc,
            "connections[2].name: invalid connection name \"Mail\": use lowercase letters, digits and _, not starting with a digit, at most 63 characters",
        );
        assert_has(
            &doc,
            "connections[2].kind: unknown connection kind \"smtp\" (expected one of http)",
        );
        assert_eq!(doc.validate().len(), 3);
    }

    #[test]
    fn connection_config_is_checked() {
        let doc = doc_with_connections(json!([
            {"name": "a", "kind": "http", "config": {"headers": []}},
            {"name": "b", "kind": "http", "config": {"base_url": "crm.intranet",
              "headers": {"Authorization": "Bearer {{ secrets.X"}}},
            {"name": "c", "kind": "http", "config": "https://x"}
        ]));
        assert_has(
            &doc,
            "connections[0].config.base_url: missing: an http connection needs a base_url",
        );
        assert_has(
            &doc,
            "connections[0].config.headers: must be an object of header names to values",
        );
        assert_has(
            &doc,
            "connections[1].config.base_url: must start with http:// or https://, not \"crm.intranet\"",
        );
        assert!(
            messages(&doc)
                .iter()
                .any(|m| m.starts_with("connections[1].config.headers.Authorization: syntax error"))
        );
        assert_has(&doc, "connections[2].config: must be an object");
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let doc = Document::from_json(
            r#"{"format":1,"composers":[
              {"slug":"a","name":"A","trigger":{"kind":"schedule","cron":"nope"},
               "steps":[{"name":"X","kind":"email"},{"name":"b","kind":"delay","config":{"ms":"soon"}}],
               "links":[{"from":"trigger","to":"ghost"}]},
              {"slug":"a","name":"A","trigger":{"kind":"manual"}}],
              "connections":[{"name":"n","kind":"ftp","config":{"base_url":"https://x"}}]}"#,
        )
        .unwrap();
        let paths: Vec<String> = doc.validate().into_iter().map(|p| p.path).collect();
        for expected in [
            "composers[1].slug",
            "composers[0].trigger.cron",
            "composers[0].steps[0].name",
            "composers[0].steps[0].kind",
            "composers[0].steps[1].config.ms",
            "composers[0].links[0].to",
            "connections[0].kind",
        ] {
            assert!(
                paths.iter().any(|p| p == expected),
                "{expected} in {paths:#?}"
            );
        }
    }

    #[test]
    fn absolute_urls() {
        assert!(is_absolute_http_url("https://x"));
        assert!(is_absolute_http_url("HTTP://x"));
        assert!(!is_absolute_http_url("https://"));
        assert!(!is_absolute_http_url("/api"));
        assert!(!is_absolute_http_url("ftp://x"));
    }
}
