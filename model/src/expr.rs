//! Expressions and templates (PRODUCT.md §3) as far as a document needs them without running anything:
//! where they are, whether they parse, which config fields are rendered, and which secrets and
//! databases a document refers to.
//!
//! Parsing is minijinja's own (a plain `Environment`, compiled and thrown away), so what validates
//! here is exactly what the engine can render. Finding references is a light scan of the text inside
//! `{{ }}` / `{% %}` that skips string literals; it does not evaluate anything, so a name built at
//! run time (`secrets[name]`) is not seen.

use std::collections::BTreeSet;

use minijinja::Environment;
use serde_json::Value;

use crate::document::{Document, StepKind, Trigger};
use crate::names::is_valid_database_name;

/// Config keys every step kind reads literally, before anything is rendered.
pub const COMMON_KEYS: [&str; 3] = ["timeout_ms", "retry", "on_error"];

/// A piece of a template string, as minijinja's lexer would split it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplatePart<'a> {
    /// Literal text (including the body of a `{% raw %}` block, and an unterminated tag).
    Text(&'a str),
    /// The inside of `{{ ... }}`, without whitespace-control markers.
    Expression(&'a str),
    /// The inside of `{% ... %}`, without whitespace-control markers.
    Statement(&'a str),
    /// The inside of `{# ... #}`.
    Comment(&'a str),
}

/// Whether minijinja would treat any part of `s` as template syntax. Strings without it must be
/// used as they are: rendering would only risk changing them (minijinja drops a trailing newline).
pub fn has_expression(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Splits `s` into text and tags. Quotes inside tags are honoured, so `{{ "}}" }}` is one expression.
pub fn template_parts(s: &str) -> Vec<TemplatePart<'_>> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some((before, tag, inner, after)) = next_tag(rest) {
        if !before.is_empty() {
            parts.push(TemplatePart::Text(before));
        }
        rest = after;
        match tag {
            b'{' => parts.push(TemplatePart::Expression(inner)),
            b'#' => parts.push(TemplatePart::Comment(inner)),
            _ => {
                parts.push(TemplatePart::Statement(inner));
                if inner.trim() == "raw" {
                    let (body, after_raw) = split_raw(rest);
                    if !body.is_empty() {
                        parts.push(TemplatePart::Text(body));
                    }
                    rest = after_raw;
                }
            }
        }
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest));
    }
    parts
}

/// The expression when `s` is exactly one `{{ expr }}` (nothing around it, not even spaces):
/// such a string yields the expression's typed value instead of text.
pub fn single_expression(s: &str) -> Option<&str> {
    match template_parts(s).as_slice() {
        [TemplatePart::Expression(inner)] => Some(inner.trim()),
        _ => None,
    }
}

/// Most operators, filters, tests, attribute lookups and opening brackets one `{{ }}` or `{% %}`
/// tag (or a bare condition) may hold. minijinja parses, compiles and drops a chain of them
/// (`- - - 1`, `1 + 1 + 1`, `x|abs|abs`) by recursion, one level per operator, without a limit of
/// its own: measured in a debug build, 500 of them need about 1 MiB of stack, a million overflow
/// any thread's stack and abort the process. Real expressions use a handful.
pub const MAX_TAG_OPERATORS: usize = 300;

/// Most `{% elif %}` branches one template may hold (minijinja nests each in the one before, at
/// about 2.3 KiB of stack a level in a debug build).
pub const MAX_ELIFS: usize = 100;

/// Whether `source` (a template, or with `in_expr` a bare expression) stays within the shape
/// minijinja can parse on a modest stack (see [`MAX_TAG_OPERATORS`] and [`MAX_ELIFS`]); the rest
/// of its nesting (brackets, blocks) minijinja limits itself. Uses minijinja's own tokenizer, which
/// does not recurse, so what is counted is exactly what its parser would see. A tokenizing error
/// ends the count: the parser stops at the same token.
pub fn check_shape(source: &str, in_expr: bool) -> Result<(), String> {
    use minijinja::machinery::{Token, WhitespaceConfig, tokenize};
    let mut operators = 0usize;
    let mut elifs = 0usize;
    let mut after_block_start = false;
    for item in tokenize(
        source,
        in_expr,
        Default::default(),
        WhitespaceConfig::default(),
    ) {
        let Ok((token, _)) = item else { break };
        // A closing tag in a bare expression: minijinja 2.24 pops its tokenizer's last state
        // there and then panics ("empty lexer stack", found by the property tests), so it is
        // refused before minijinja parses it.
        if in_expr && matches!(token, Token::VariableEnd | Token::BlockEnd) {
            return Err(
                "syntax error: unexpected end of tag (`}}` or `%}`) in an expression".into(),
            );
        }
        let starts_block = matches!(token, Token::BlockStart);
        match token {
            Token::VariableStart | Token::BlockStart | Token::VariableEnd | Token::BlockEnd => {
                operators = 0;
            }
            Token::Ident("elif") if after_block_start => {
                elifs += 1;
                if elifs > MAX_ELIFS {
                    return Err(format!(
                        "the template has more than {MAX_ELIFS} elif branches (split it up)"
                    ));
                }
            }
            Token::Ident("not" | "and" | "or" | "if" | "else" | "is" | "in")
            | Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::FloorDiv
            | Token::Pow
            | Token::Mod
            | Token::Dot
            | Token::Tilde
            | Token::Pipe
            | Token::BracketOpen
            | Token::ParenOpen
            | Token::BraceOpen => {
                operators += 1;
                if operators > MAX_TAG_OPERATORS {
                    return Err(format!(
                        "the expression is too complex: more than {MAX_TAG_OPERATORS} operators, \
                         filters, lookups and brackets in one tag (split it into several steps)"
                    ));
                }
            }
            _ => {}
        }
        after_block_start = starts_block;
    }
    Ok(())
}

/// Whether `s` parses as a minijinja template; the error is minijinja's message.
pub fn check_template(s: &str) -> Result<(), String> {
    check_shape(s, false)?;
    let env = Environment::empty();
    env.template_from_str(s)
        .map(|_| ())
        .map_err(|e| describe(&e, s))
}

/// What every condition must be before it is parsed: not empty, not wrapped in `{{ }}` (the
/// message shows the user's own condition unwrapped), and of a shape minijinja can parse within
/// its limits. Validation and the runner both ask this.
pub fn check_condition_form(s: &str) -> Result<(), String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err("condition is empty".to_owned());
    }
    if let Some(inner) = trimmed.strip_prefix("{{") {
        let inner = inner.strip_suffix("}}").unwrap_or(inner).trim();
        let shown: String = inner.chars().take(80).collect();
        let shown = if shown.is_empty() {
            "steps.total.total > 5".to_owned()
        } else {
            shown
        };
        return Err(format!(
            "a condition is a bare expression: write {shown} without {{{{ }}}}"
        ));
    }
    check_shape(s, true)
}

/// Whether `s` parses as a bare expression, as branch conditions are written.
pub fn check_condition(s: &str) -> Result<(), String> {
    check_condition_form(s)?;
    let env = Environment::empty();
    env.compile_expression(s)
        .map(|_| ())
        .map_err(|e| describe(&e, s))
}

/// minijinja's message without its "(in <string>:1)" suffix, which names no file a user has.
fn describe(error: &minijinja::Error, source: &str) -> String {
    let mut message = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    if source.contains('\n')
        && let Some(line) = error.line()
    {
        message.push_str(&format!(" (line {line})"));
    }
    message
}

/// Whether the engine renders this top-level config key of a step of `kind` as a template.
/// Code is JavaScript and a branch condition is an expression of its own; the common keys and
/// an http step's `connection` are read before rendering.
pub fn is_rendered_field(kind: Option<StepKind>, key: &str) -> bool {
    if COMMON_KEYS.contains(&key) {
        return false;
    }
    !matches!(
        (kind, key),
        (Some(StepKind::Code), "source")
            | (Some(StepKind::Branch), "condition")
            | (Some(StepKind::Http), "connection")
    )
}

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
/// (not `x.secrets`) and not inside a string literal.
fn secrets_in_expression(code: &str, found: &mut BTreeSet<String>) {
    let bytes = code.as_bytes();
    let mut i = 0;
    // The last significant byte before the current token, to tell `a.secrets` from `secrets`.
    let mut previous: u8 = b' ';
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' || c == b'\'' {
            i = skip_string(bytes, i);
            previous = c;
        } else if is_ident_start(c) {
            let start = i;
            while i < bytes.len() && is_ident_continue(bytes[i]) {
                i += 1;
            }
            if &code[start..i] == "secrets"
                && previous != b'.'
                && let Some((name, end)) = secret_accessor(code, i)
            {
                if !name.is_empty() {
                    found.insert(name.to_owned());
                }
                i = end;
            }
            previous = b'a';
        } else {
            if !c.is_ascii_whitespace() {
                previous = c;
            }
            i += 1;
        }
    }
}

/// After `secrets` at byte `at`: `.NAME` or `["NAME"]`; returns the name and where it ends.
fn secret_accessor(code: &str, at: usize) -> Option<(&str, usize)> {
    let bytes = code.as_bytes();
    let mut i = skip_spaces(bytes, at);
    match bytes.get(i)? {
        b'.' => {
            i = skip_spaces(bytes, i + 1);
            let start = i;
            while i < bytes.len() && is_ident_continue(bytes[i]) {
                i += 1;
            }
            Some((&code[start..i], i))
        }
        b'[' => {
            i = skip_spaces(bytes, i + 1);
            let quote = *bytes.get(i)?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            let end = string_end(bytes, i)?;
            Some((&code[i + 1..end - 1], end))
        }
        _ => None,
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// `bytes[start]` is a quote; returns the index just past the closing quote, or the end of input
/// when the string is not closed.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    string_end(bytes, start).unwrap_or(bytes.len())
}

/// `bytes[start]` is a quote; the index just past its closing quote, if there is one.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = *bytes.get(start)?;
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The next `{{`, `{%` or `{#` tag in `s`: (text before, tag byte, inner, text after).
/// `None` when there is none, or it is not closed (then it is all text).
fn next_tag(s: &str) -> Option<(&str, u8, &str, &str)> {
    let bytes = s.as_bytes();
    let mut search = 0;
    loop {
        let open = search + s[search..].find('{')?;
        let tag = *bytes.get(open + 1)?;
        let close: &[u8] = match tag {
            b'{' => b"}}",
            b'%' => b"%}",
            b'#' => b"#}",
            _ => {
                search = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        let body_end = find_close(bytes, body_start, close, tag != b'#')?;
        let inner = strip_markers(&s[body_start..body_end], tag != b'#');
        return Some((&s[..open], tag, inner, &s[body_end + 2..]));
    }
}

fn find_close(bytes: &[u8], from: usize, close: &[u8], honour_quotes: bool) -> Option<usize> {
    let mut i = from;
    while i + 1 < bytes.len() {
        let c = bytes[i];
        if honour_quotes && (c == b'"' || c == b'\'') {
            i = skip_string(bytes, i);
        } else if bytes[i..].starts_with(close) {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// Drops whitespace-control markers (`{{-`, `-}}`, `{%+`, ...).
fn strip_markers(inner: &str, active: bool) -> &str {
    if !active {
        return inner;
    }
    let inner = inner
        .strip_prefix('-')
        .or_else(|| inner.strip_prefix('+'))
        .unwrap_or(inner);
    inner
        .strip_suffix('-')
        .or_else(|| inner.strip_suffix('+'))
        .unwrap_or(inner)
}

/// After `{% raw %}`: the verbatim body and what follows `{% endraw %}`.
fn split_raw(s: &str) -> (&str, &str) {
    let mut search = 0;
    while let Some(offset) = s[search..].find("{%") {
        let open = search + offset;
        if let Some((_, b'%', inner, after)) = next_tag(&s[open..])
            && inner.trim() == "endraw"
        {
            return (&s[..open], after);
        }
        search = open + 2;
    }
    (s, "")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use TemplatePart::*;

    #[test]
    fn finds_expressions() {
        assert!(has_expression("{{ x }}"));
        assert!(has_expression("a {% if x %}b{% endif %}"));
        assert!(has_expression("{# note #}"));
        assert!(!has_expression("plain { text } }}"));
    }

    #[test]
    fn splits_templates_into_parts() {
        assert_eq!(
            template_parts("Hello {{ name }}!"),
            vec![Text("Hello "), Expression(" name "), Text("!")]
        );
        assert_eq!(
            template_parts("{%- if a -%}{{ \"}}\" }}{% endif %}{# c #}"),
            vec![
                Statement(" if a "),
                Expression(" \"}}\" "),
                Statement(" endif "),
                Comment(" c ")
            ]
        );
        assert_eq!(
            template_parts("{% raw %}{{ x }}{% endraw %}y"),
            vec![Statement(" raw "), Text("{{ x }}"), Text("y")]
        );
        assert_eq!(template_parts("a {{ b"), vec![Text("a {{ b")]);
        assert_eq!(template_parts("{x}"), vec![Text("{x}")]);
        assert!(template_parts("").is_empty());
    }

    #[test]
    fn single_expressions_are_exactly_one_tag() {
        assert_eq!(single_expression("{{ steps.total }}"), Some("steps.total"));
        assert_eq!(single_expression("{{- x -}}"), Some("x"));
        assert_eq!(single_expression("{{ a }}{{ b }}"), None);
        assert_eq!(single_expression(" {{ a }}"), None);
        assert_eq!(single_expression("total: {{ a }}"), None);
        assert_eq!(single_expression("{% if a %}"), None);
    }

    #[test]
    fn templates_parse_or_say_why() {
        assert_eq!(check_template("{{ trigger.body.items | sum }}"), Ok(()));
        assert_eq!(check_template("{{ x | no_such_filter }}"), Ok(()));
        assert_eq!(
            check_template("{% for i in x %}{{ i }}{% endfor %}"),
            Ok(())
        );
        let err = check_template("{{ steps.total").unwrap_err();
        assert!(err.starts_with("syntax error: "), "{err}");
        assert!(!err.contains("<string>"), "{err}");
        let err = check_template("line one\n{{ ) }}").unwrap_err();
        assert!(err.ends_with("(line 2)"), "{err}");
        assert!(check_template("{% if x %}").is_err());
    }

    #[test]
    fn conditions_are_bare_expressions() {
        assert_eq!(check_condition("steps.total.total > 5"), Ok(()));
        // The hint shows the user's own condition, unwrapped.
        assert_eq!(
            check_condition("{{ trigger.body.amount >= 100 }}"),
            Err(
                "a condition is a bare expression: write trigger.body.amount >= 100 without {{ }}"
                    .into()
            )
        );
        assert_eq!(check_condition("true"), Ok(()));
        assert!(check_condition("").is_err());
        assert!(check_condition("steps.total >").is_err());
        let err = check_condition("{{ steps.x > 5 }}").unwrap_err();
        assert!(err.contains("without {{ }}"), "{err}");
    }

    #[test]
    fn rendered_fields() {
        assert!(is_rendered_field(Some(StepKind::Http), "url"));
        assert!(is_rendered_field(None, "anything"));
        assert!(!is_rendered_field(Some(StepKind::Code), "source"));
        assert!(!is_rendered_field(Some(StepKind::Branch), "condition"));
        assert!(!is_rendered_field(Some(StepKind::Http), "connection"));
        assert!(!is_rendered_field(Some(StepKind::Delay), "retry"));
    }

    #[test]
    fn secrets_are_found_where_they_are_rendered() {
        let doc = Document::from_json(
            r#"{"format":1,
              "composers":[{"slug":"a","name":"A",
                "trigger":{"kind":"webhook","auth_secret":"HOOK_TOKEN","sample":{"x":"{{ secrets.IN_SAMPLE }}"}},
                "steps":[
                  {"name":"h","kind":"http","config":{"url":"https://x/{{ secrets.PATH_KEY }}",
                     "headers":{"A":"{{ secrets['QUOTED'] }} {{ secrets . SPACED }}"},
                     "body":"{{ 'secrets.IN_STRING' }} {{ steps.secrets.NOT_TOP }}"}},
                  {"name":"c","kind":"code","config":{"source":"// {{ secrets.IN_CODE }}"}},
                  {"name":"b","kind":"branch","config":{"condition":"secrets.FLAG == 'on'"}},
                  {"name":"t","kind":"transform","config":{"value":["{% if secrets.IN_IF %}x{% endif %}", "secrets.NOT_IN_TAG"]}}
                ]}],
              "connections":[{"name":"crm","kind":"http","config":{"headers":{"Authorization":"Bearer {{ secrets.CRM_TOKEN }}"}}}]}"#,
        )
        .unwrap();
        let found: Vec<String> = referenced_secrets(&doc).into_iter().collect();
        assert_eq!(
            found,
            [
                "CRM_TOKEN",
                "FLAG",
                "HOOK_TOKEN",
                "IN_IF",
                "PATH_KEY",
                "QUOTED",
                "SPACED"
            ]
        );
    }

    #[test]
    fn literal_databases_are_found() {
        let doc = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"a","name":"A","trigger":{"kind":"manual"},
                "steps":[
                  {"name":"a","kind":"database","config":{"op":"get","database":"orders","key":"k"}},
                  {"name":"b","kind":"database","config":{"op":"get","database":"{{ trigger.db }}","key":"k"}},
                  {"name":"c","kind":"database","config":{"op":"get","database":"Bad Name","key":"k"}},
                  {"name":"d","kind":"transform","config":{"database":"not_a_db_step"}},
                  {"name":"e","kind":"database","config":{"op":"count","database":"users"}}
                ]}]}"#,
        )
        .unwrap();
        let found: Vec<String> = referenced_databases(&doc).into_iter().collect();
        assert_eq!(found, ["orders", "users"]);
    }

    #[test]
    fn scanning_odd_input_does_not_panic() {
        for s in [
            "{{",
            "{{ secrets",
            "{{ secrets[",
            "{{ secrets[\"",
            "{{ secrets.\u{e9} }}",
            "{{ '\\",
            "{%",
            "{% raw %}",
            "{{ secrets[\"\"] }}",
            "é{{é}}é",
            // Found by the property tests: a closing tag in a bare expression.
            "}}{{",
            "%}{%",
        ] {
            let mut found = BTreeSet::new();
            for part in template_parts(s) {
                if let Expression(code) | Statement(code) = part {
                    secrets_in_expression(code, &mut found);
                }
            }
            secrets_in_expression(s, &mut found);
            let _ = check_template(s);
            let _ = check_condition(s);
        }
    }

    /// The flat chains that overflowed the stack during validation and aborted the server
    /// (issue 10, finding 1), a million operators each: refused before minijinja parses them.
    pub(crate) fn flat_chain_probes() -> Vec<String> {
        let m = 1_000_000;
        vec![
            format!("{{{{ {}1 }}}}", "-".repeat(m)),
            format!("{{{{ 1{} }}}}", " + 1".repeat(m)),
            format!("{{{{ {}1 }}}}", "not ".repeat(m)),
            format!("{{{{ 1{} }}}}", " ~ 'a'".repeat(m)),
            format!("{{{{ 1{} }}}}", " and true".repeat(m)),
            format!("{{{{ 1{} }}}}", " ** 1".repeat(m)),
            format!("{{{{ range{} }}}}", "(1)".repeat(m)),
            format!("{{{{ 1{} }}}}", "|abs".repeat(2 * m)),
            format!("{{{{ a{} }}}}", ".b".repeat(m)),
            format!("{{{{ 1{} }}}}", " if 1 else 1".repeat(m)),
            format!("{{% if a %}}{}{{% endif %}}", "{% elif a %}".repeat(m)),
            // Unclosed: the parser recurses through the chain before it finds the end missing.
            format!("{{{{ {}", "-".repeat(m)),
            // `}}` closing two braces inside the tag does not end it for minijinja.
            format!("{{{{ {{'a': {{'b': 1}}}}{} }}}}", " + 1".repeat(m)),
        ]
    }

    #[test]
    fn flat_operator_chains_are_refused_not_parsed() {
        for probe in flat_chain_probes() {
            let err = check_template(&probe).unwrap_err();
            assert!(
                err.contains("too complex") || err.contains("elif branches"),
                "{}…: {err}",
                &probe[..40]
            );
            let inner = probe.trim_start_matches("{{ ").trim_end_matches(" }}");
            if !inner.contains("{%") {
                assert!(check_condition(inner).unwrap_err().contains("too complex"));
            }
        }
    }

    #[test]
    fn the_largest_allowed_shapes_parse_on_a_default_test_stack() {
        // Test threads have 2 MiB of stack, like a tokio worker's default. Block nesting is
        // minijinja's own limit (150 levels, deeper is its error); inside it, an expression at
        // the operator limit and a chain at the elif limit.
        let ops = MAX_TAG_OPERATORS;
        let hardest = [
            format!("{{{{ {}1 }}}}", "-".repeat(ops)),
            format!("{{{{ 1{} }}}}", "|abs".repeat(ops)),
            format!("{{{{ range{} }}}}", "(1)".repeat(ops)),
            format!("{{{{ 1{} }}}}", " if 1 else 1".repeat(ops / 2)),
            format!(
                "{{% if a %}}{}{{% endif %}}",
                "{% elif a %}".repeat(MAX_ELIFS)
            ),
        ];
        for inner in hardest {
            let nested = format!(
                "{}{inner}{}",
                "{% if a %}".repeat(140),
                "{% endif %}".repeat(140)
            );
            assert_eq!(check_template(&nested), Ok(()), "{}", &inner[..30]);
        }
        let too_many = format!("{{{{ {}1 }}}}", "-".repeat(ops + 1));
        assert!(
            check_template(&too_many)
                .unwrap_err()
                .contains("too complex")
        );
        // The count is per tag: many tags of ordinary size are fine.
        let many = "{{ a.b | default(1) + 2 }} ".repeat(5_000);
        assert_eq!(check_template(&many), Ok(()));
        // Operators inside string literals are text.
        let quoted = format!("{{{{ '{}' }}}}", "-".repeat(10_000));
        assert_eq!(check_template(&quoted), Ok(()));
    }
}
