//! The rules for a step's `config` (PRODUCT.md §4): the common keys, each kind's important fields,
//! and that every rendered string parses as a template.
//!
//! A field that is rendered may hold a template instead of a literal (e.g. `"ms": "{{ trigger.wait }}"`);
//! its type can then only be checked at run time, so such values pass here.

use serde_json::{Map, Value};

use crate::common_config::CommonConfig;
use crate::document::{Connection, Step, StepKind};
use crate::expr::{check_condition, has_expression, is_rendered_field};
use crate::names::NameKind;
use crate::problem::{Problem, join_key};
use crate::validate::{ComposerAt, check_templates_in, is_absolute_http_url};

/// Methods an http step may send.
pub const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Operations of a database step.
pub const DATABASE_OPS: [&str; 5] = ["get", "put", "delete", "list", "count"];

/// The longest a delay step may wait.
pub const MAX_DELAY_MS: u64 = 300_000;

/// Where one step's config problems go, with the step's path and tags.
struct StepAt<'a> {
    composer: ComposerAt<'a>,
    index: usize,
    step: &'a Step,
    config: &'a Map<String, Value>,
}

impl StepAt<'_> {
    fn path(&self, key: &str) -> String {
        join_key(&self.composer.step_path(self.index, ".config"), key)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.config.get(key)
    }

    fn error_at(&self, path: String, message: impl Into<String>) -> Problem {
        self.composer.error(path, message).at_step(&self.step.name)
    }

    fn error(&self, key: &str, message: impl Into<String>) -> Problem {
        self.error_at(self.path(key), message)
    }
}

pub(crate) fn check_step(
    composer: ComposerAt,
    index: usize,
    step: &Step,
    connections: &[Connection],
    out: &mut Vec<Problem>,
) {
    let Value::Object(config) = &step.config else {
        out.push(
            composer
                .error(composer.step_path(index, ".config"), "must be an object")
                .at_step(&step.name),
        );
        return;
    };
    let at = StepAt {
        composer,
        index,
        step,
        config,
    };
    check_templates(&at, out);
    check_common(&at, out);
    match step.step_kind() {
        Some(StepKind::Http) => check_http(&at, connections, out),
        Some(StepKind::Transform) => check_transform(&at, out),
        Some(StepKind::Code) => check_code(&at, out),
        Some(StepKind::Branch) => check_branch(&at, out),
        Some(StepKind::Database) => check_database(&at, out),
        Some(StepKind::Respond) => check_respond(&at, out),
        Some(StepKind::Delay) => check_delay(&at, out),
        // Reported by the kind rule; its config cannot be judged.
        None => {}
    }
}

fn check_templates(at: &StepAt, out: &mut Vec<Problem>) {
    let kind = at.step.step_kind();
    for (key, value) in at.config {
        if is_rendered_field(kind, key) {
            check_templates_in(&at.path(key), value, &mut |path, message| {
                out.push(at.error_at(path, message));
            });
        }
    }
}

/// The common keys, read by the one reader the runner uses too.
fn check_common(at: &StepAt, out: &mut Vec<Problem>) {
    for p in CommonConfig::read(at.config).1 {
        let path = p
            .key
            .iter()
            .fold(at.composer.step_path(at.index, ".config"), |path, key| {
                join_key(&path, key)
            });
        out.push(at.error_at(path, p.message));
    }
}

fn check_http(at: &StepAt, connections: &[Connection], out: &mut Vec<Problem>) {
    // Absent means GET, the default a new step starts with.
    if let Some(method) = at.get("method") {
        match method.as_str() {
            Some(m) if HTTP_METHODS.contains(&m) || has_expression(m) => {}
            _ => out.push(at.error(
                "method",
                format!("must be one of {}", HTTP_METHODS.join(", ")),
            )),
        }
    }
    let connection = match at.get("connection") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => {
            if !connections.iter().any(|c| &c.name == name) {
                out.push(at.error("connection", format!("unknown connection \"{name}\"")));
            }
            Some(name)
        }
        Some(_) => {
            out.push(at.error("connection", "must be the name of a connection"));
            None
        }
    };
    match at.get("url") {
        None => out.push(at.error("url", "missing: an http step needs a url")),
        Some(Value::String(url)) => {
            if url.trim().is_empty() && connection.is_none() {
                out.push(at.error("url", "is empty"));
            } else if connection.is_none() && !has_expression(url) && !is_absolute_http_url(url) {
                out.push(at.error(
                    "url",
                    format!(
                        "must start with http:// or https:// (or choose a connection to be relative to), not \"{url}\""
                    ),
                ));
            }
        }
        Some(_) => out.push(at.error("url", "must be a string")),
    }
    for key in ["headers", "query"] {
        if let Some(value) = at.get(key)
            && !value.is_object()
            && !is_template_string(value)
        {
            out.push(at.error(key, "must be an object"));
        }
    }
}

fn check_transform(at: &StepAt, out: &mut Vec<Problem>) {
    if at.get("value").is_none() {
        out.push(at.error(
            "value",
            "missing: a transform step needs a value to produce",
        ));
    }
}

fn check_code(at: &StepAt, out: &mut Vec<Problem>) {
    match at.get("source") {
        Some(Value::String(_)) => {}
        Some(_) => out.push(at.error("source", "must be a string of JavaScript")),
        None => out.push(at.error("source", "missing")),
    }
}

fn check_branch(at: &StepAt, out: &mut Vec<Problem>) {
    match at.get("condition") {
        Some(Value::String(condition)) => {
            if let Err(message) = check_condition(condition) {
                out.push(at.error("condition", message));
            }
        }
        Some(_) => out.push(at.error(
            "condition",
            "must be a string holding an expression, such as steps.total.total > 5",
        )),
        None => out.push(at.error("condition", "missing")),
    }
}

fn check_database(at: &StepAt, out: &mut Vec<Problem>) {
    let op = at.get("op").and_then(Value::as_str);
    if !op.is_some_and(|op| DATABASE_OPS.contains(&op)) {
        out.push(at.error("op", format!("must be one of {}", DATABASE_OPS.join(", "))));
    }
    match at.get("database") {
        Some(Value::String(name)) if has_expression(name) => {}
        Some(Value::String(name)) => {
            if let Err(e) = NameKind::Database.check(name) {
                out.push(at.error("database", e.to_string()));
            }
        }
        Some(_) => out.push(at.error("database", "must be a database name")),
        None => out.push(at.error("database", "missing")),
    }
    if matches!(op, Some("get" | "put" | "delete")) {
        match at.get("key") {
            Some(Value::String(key)) if !key.is_empty() => {}
            Some(Value::String(_)) => out.push(at.error("key", "is empty")),
            Some(_) => out.push(at.error("key", "must be a string")),
            None => out.push(at.error("key", "missing")),
        }
    }
    if op == Some("put") && at.get("value").is_none() {
        out.push(at.error("value", "missing: put stores a value"));
    }
    if let Some(prefix) = at.get("prefix")
        && !prefix.is_string()
    {
        out.push(at.error("prefix", "must be a string"));
    }
    if let Some(limit) = at.get("limit")
        && !is_positive_integer(limit)
        && !is_template_string(limit)
    {
        out.push(at.error("limit", "must be a positive whole number"));
    }
}

fn check_respond(at: &StepAt, out: &mut Vec<Problem>) {
    if let Some(status) = at.get("status") {
        let fine = match status {
            Value::Number(n) => n.as_u64().is_some_and(|n| (100..=599).contains(&n)),
            other => is_template_string(other),
        };
        if !fine {
            out.push(at.error("status", "must be an HTTP status between 100 and 599"));
        }
    }
    if let Some(headers) = at.get("headers")
        && !headers.is_object()
        && !is_template_string(headers)
    {
        out.push(at.error("headers", "must be an object"));
    }
}

fn check_delay(at: &StepAt, out: &mut Vec<Problem>) {
    let fine = match at.get("ms") {
        None => {
            out.push(at.error("ms", "missing"));
            return;
        }
        Some(Value::Number(n)) => n
            .as_f64()
            .is_some_and(|ms| (0.0..=MAX_DELAY_MS as f64).contains(&ms)),
        Some(other) => is_template_string(other),
    };
    if !fine {
        out.push(at.error(
            "ms",
            format!("must be a number of milliseconds from 0 to {MAX_DELAY_MS}"),
        ));
    }
}

fn is_positive_integer(value: &Value) -> bool {
    matches!(value.as_u64(), Some(n) if n > 0)
}

fn is_template_string(value: &Value) -> bool {
    value.as_str().is_some_and(has_expression)
}

#[cfg(test)]
mod tests {
    use crate::validate::tests::{assert_has, doc_with, messages};
    use serde_json::{Value, json};

    /// Problems of a single step `s` of `kind` with `config`, reachable from the trigger.
    fn problems(kind: &str, config: Value) -> Vec<String> {
        let doc = doc_with(
            json!([{ "name": "s", "kind": kind, "config": config }]),
            json!([{ "from": "trigger", "to": "s" }]),
        );
        messages(&doc)
    }

    fn only(kind: &str, config: Value, expected: &str) {
        let found = problems(kind, config);
        assert_eq!(found, vec![format!("composers[0].steps[0].{expected}")]);
    }

    fn fine(kind: &str, config: Value) {
        assert_eq!(problems(kind, config), Vec::<String>::new());
    }

    #[test]
    fn config_must_be_an_object() {
        only("code", json!("return 1"), "config: must be an object");
    }

    #[test]
    fn rendered_strings_must_parse() {
        let found = problems(
            "transform",
            json!({ "value": { "list": ["ok {{ a }}", "{{ broken"] } }),
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("composers[0].steps[0].config.value.list[1]: syntax error"),
            "{}",
            found[0]
        );
        // Code is JavaScript, not a template.
        fine("code", json!({ "source": "return {{a: 1}}.a;" }));
    }

    #[test]
    fn timeouts_and_retries_are_bounded() {
        only(
            "code",
            json!({ "source": "", "timeout_ms": 3_600_001 }),
            "config.timeout_ms: is at most 3600000 (one hour)",
        );
        fine("code", json!({ "source": "", "timeout_ms": 3_600_000 }));
        only(
            "code",
            json!({ "source": "", "retry": { "max_attempts": 11 } }),
            "config.retry.max_attempts: is at most 10",
        );
        // 1 + 2 + 4 + ... + 256 minutes of waits between 10 attempts.
        let found = problems(
            "code",
            json!({ "source": "", "retry": { "max_attempts": 10, "backoff_ms": 60_000 } }),
        );
        assert!(found[0].contains("at most one hour in all"), "{found:?}");
        fine(
            "code",
            json!({ "source": "", "retry": { "max_attempts": 10, "backoff_ms": 7_000 } }),
        );
        assert_eq!(crate::total_backoff(1_000, 4), 1_000 + 2_000 + 4_000);
        assert_eq!(crate::backoff_before(1_000, 2), 1_000);
    }

    #[test]
    fn oversized_templates_are_a_problem_naming_the_field() {
        // A saved draft with one of these used to abort the server while it was validated.
        for probe in crate::expr::tests::flat_chain_probes() {
            let found = problems("transform", json!({ "value": { "text": probe } }));
            assert_eq!(found.len(), 1, "{found:#?}");
            assert!(
                found[0].starts_with("composers[0].steps[0].config.value.text: the "),
                "{}",
                found[0]
            );
        }
        let chain = format!("true{}", " and true".repeat(100_000));
        let found = problems("branch", json!({ "condition": chain }));
        assert!(
            found[0].starts_with(
                "composers[0].steps[0].config.condition: the expression is too complex"
            ),
            "{}",
            found[0]
        );
    }

    #[test]
    fn common_keys() {
        fine(
            "code",
            json!({ "source": "", "timeout_ms": 100, "retry": { "max_attempts": 3, "backoff_ms": 0 }, "on_error": "continue" }),
        );
        only(
            "code",
            json!({ "source": "", "timeout_ms": 0 }),
            "config.timeout_ms: must be a positive whole number of milliseconds",
        );
        only(
            "code",
            json!({ "source": "", "timeout_ms": "5s" }),
            "config.timeout_ms: must be a positive whole number of milliseconds",
        );
        only(
            "code",
            json!({ "source": "", "retry": 3 }),
            "config.retry: must be an object {max_attempts, backoff_ms}",
        );
        only(
            "code",
            json!({ "source": "", "retry": { "max_attempts": 0 } }),
            "config.retry.max_attempts: must be a whole number, at least 1",
        );
        only(
            "code",
            json!({ "source": "", "retry": { "backoff_ms": 10 } }),
            "config.retry.max_attempts: missing",
        );
        only(
            "code",
            json!({ "source": "", "retry": { "max_attempts": 2, "backoff_ms": -1 } }),
            "config.retry.backoff_ms: must be a whole number of milliseconds",
        );
        only(
            "code",
            json!({ "source": "", "on_error": "ignore" }),
            "config.on_error: must be \"fail\" or \"continue\"",
        );
    }

    #[test]
    fn http_steps() {
        fine(
            "http",
            json!({ "method": "POST", "url": "https://x/y", "headers": {}, "query": {} }),
        );
        fine("http", json!({ "url": "{{ trigger.url }}" }));
        only(
            "http",
            json!({ "method": "FETCH", "url": "https://x" }),
            "config.method: must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        );
        only(
            "http",
            json!({}),
            "config.url: missing: an http step needs a url",
        );
        only("http", json!({ "url": 5 }), "config.url: must be a string");
        only("http", json!({ "url": "" }), "config.url: is empty");
        only(
            "http",
            json!({ "url": "/orders" }),
            "config.url: must start with http:// or https:// (or choose a connection to be relative to), not \"/orders\"",
        );
        only(
            "http",
            json!({ "url": "https://x", "headers": ["a"] }),
            "config.headers: must be an object",
        );
    }

    #[test]
    fn http_connections_must_exist() {
        let doc = crate::Document::from_json(
            &json!({
                "format": 1,
                "composers": [{ "slug": "c", "name": "C", "trigger": { "kind": "manual" },
                  "steps": [
                    { "name": "a", "kind": "http", "config": { "connection": "crm", "url": "/orders" } },
                    { "name": "b", "kind": "http", "config": { "connection": "erp", "url": "/orders" } },
                    { "name": "d", "kind": "http", "config": { "connection": 1, "url": "https://x" } }
                  ],
                  "links": [{ "from": "trigger", "to": "a" }, { "from": "a", "to": "b" }, { "from": "b", "to": "d" }] }],
                "connections": [{ "name": "crm", "kind": "http", "config": { "base_url": "https://crm" } }]
            })
            .to_string(),
        )
        .unwrap();
        assert_eq!(
            messages(&doc),
            vec![
                "composers[0].steps[1].config.connection: unknown connection \"erp\"",
                "composers[0].steps[2].config.connection: must be the name of a connection",
            ]
        );
    }

    #[test]
    fn transform_steps() {
        fine("transform", json!({ "value": null }));
        only(
            "transform",
            json!({}),
            "config.value: missing: a transform step needs a value to produce",
        );
    }

    #[test]
    fn code_steps() {
        only(
            "code",
            json!({ "source": 1 }),
            "config.source: must be a string of JavaScript",
        );
        only("code", json!({}), "config.source: missing");
    }

    #[test]
    fn branch_conditions_are_expressions() {
        fine("branch", json!({ "condition": "steps.total.total > 5" }));
        let found = problems("branch", json!({ "condition": "steps.total >" }));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("composers[0].steps[0].config.condition: syntax error"),
            "{}",
            found[0]
        );
        only("branch", json!({}), "config.condition: missing");
        only(
            "branch",
            json!({ "condition": true }),
            "config.condition: must be a string holding an expression, such as steps.total.total > 5",
        );
    }

    #[test]
    fn database_steps() {
        fine(
            "database",
            json!({ "op": "list", "database": "orders", "prefix": "a", "limit": 10 }),
        );
        fine(
            "database",
            json!({ "op": "count", "database": "{{ trigger.db }}" }),
        );
        fine(
            "database",
            json!({ "op": "put", "database": "orders", "key": "k", "value": null }),
        );
        only(
            "database",
            json!({ "op": "upsert", "database": "orders" }),
            "config.op: must be one of get, put, delete, list, count",
        );
        only(
            "database",
            json!({ "op": "count", "database": "Orders" }),
            "config.database: invalid database name \"Orders\": use lowercase letters, digits and _, starting with a letter, at most 63 characters",
        );
        only(
            "database",
            json!({ "op": "count" }),
            "config.database: missing",
        );
        only(
            "database",
            json!({ "op": "get", "database": "o" }),
            "config.key: missing",
        );
        only(
            "database",
            json!({ "op": "get", "database": "o", "key": "" }),
            "config.key: is empty",
        );
        only(
            "database",
            json!({ "op": "put", "database": "o", "key": "k" }),
            "config.value: missing: put stores a value",
        );
        only(
            "database",
            json!({ "op": "list", "database": "o", "limit": 0 }),
            "config.limit: must be a positive whole number",
        );
    }

    #[test]
    fn respond_steps() {
        fine(
            "respond",
            json!({ "status": 201, "headers": {}, "body": "{{ steps.x }}" }),
        );
        fine("respond", json!({ "status": "{{ steps.x.status }}" }));
        for bad in [json!(99), json!(600), json!("ok"), json!(200.5)] {
            only(
                "respond",
                json!({ "status": bad }),
                "config.status: must be an HTTP status between 100 and 599",
            );
        }
    }

    #[test]
    fn delay_steps() {
        fine("delay", json!({ "ms": 300000 }));
        fine("delay", json!({ "ms": "{{ trigger.wait }}" }));
        for bad in [json!(300001), json!(-1), json!("10")] {
            only(
                "delay",
                json!({ "ms": bad }),
                "config.ms: must be a number of milliseconds from 0 to 300000",
            );
        }
        only("delay", json!({}), "config.ms: missing");
    }

    #[test]
    fn config_keys_with_odd_names_get_quoted_paths() {
        let doc = doc_with(
            json!([{ "name": "s", "kind": "transform", "config": { "value": { "a b": "{{" } } }]),
            json!([{ "from": "trigger", "to": "s" }]),
        );
        let found = messages(&doc);
        assert!(
            found[0].starts_with("composers[0].steps[0].config.value[\"a b\"]: "),
            "{found:#?}"
        );
        assert_has(&doc, &found[0]);
    }
}
