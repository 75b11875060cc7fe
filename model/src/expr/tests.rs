use super::references::secrets_in_expression;
use super::*;
use crate::Document;
use TemplatePart::*;
use std::collections::BTreeSet;

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
