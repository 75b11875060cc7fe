use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

fn ctx() -> Value {
    json!({
        "trigger": {"body": {"items": [1, 2, 3], "name": "ada"}, "query": {}},
        "steps": {"total": {"total": 6}, "list": {"names": ["a", "b"], "empty": []}},
        "secrets": {"X": "s3cret"},
        "env": {"mode": "test", "run_id": "r1"},
        "now": "2024-01-01T00:00:00Z",
    })
}

fn render(template: Value) -> Result<Value, ExprError> {
    Renderer::default().render_value(&template, &ctx())
}

fn render_str(template: &str) -> Result<Value, ExprError> {
    render(json!(template))
}

fn err(template: Value) -> String {
    render(template).unwrap_err().to_string()
}

fn condition(expr: &str) -> Result<bool, ExprError> {
    Renderer::default().eval_condition(expr, &ctx())
}

/// Runs a hostile input: it must come back (error or harmless output), not hang. The bound
/// is generous because test machines are noisy; a hang would take far longer.
fn probe(template: &str) -> Result<Value, ExprError> {
    let start = Instant::now();
    let result = render_str(template);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(15), "{template:?} took {took:?}");
    result
}

#[test]
fn single_expressions_are_typed() {
    assert_eq!(render_str("{{ steps.total.total }}"), Ok(json!(6)));
    assert_eq!(render_str("{{steps.total.total}}"), Ok(json!(6)));
    assert_eq!(
        render_str("{{ trigger.body }}"),
        Ok(json!({"items": [1, 2, 3], "name": "ada"}))
    );
    assert_eq!(render_str("{{ trigger.body.items }}"), Ok(json!([1, 2, 3])));
    assert_eq!(render_str("{{ steps.total.total / 4 }}"), Ok(json!(1.5)));
    assert_eq!(render_str("{{ steps.total.total > 5 }}"), Ok(json!(true)));
    assert_eq!(render_str("{{ none }}"), Ok(Value::Null));
    assert_eq!(render_str("{{ 'x' ~ 1 }}"), Ok(json!("x1")));
    assert_eq!(render_str("{{ range(3) }}"), Ok(json!([0, 1, 2])));
    assert_eq!(render_str("{{ dict(a=1) }}"), Ok(json!({"a": 1})));
    assert_eq!(render_str("{{ trigger.body.items[-1] }}"), Ok(json!(3)));
    // A deliberate undefined (`if` without `else`) is null, not an error.
    assert_eq!(render_str("{{ 1 if false }}"), Ok(Value::Null));
    // Functions and other opaque values become their text.
    assert_eq!(render_str("{{ range }}"), Ok(json!("function")));
}

#[test]
fn objects_and_arrays_render_leaf_by_leaf() {
    let template = json!({
        "value": {"total": "{{ steps.total.total }}", "label": "n={{ steps.total.total }}"},
        "list": ["{{ trigger.body.name }}", 7, null, true, ["{{ trigger.body.items | length }}"]],
        "{{ steps.total.total }}": "key is kept",
    });
    assert_eq!(
        render(template),
        Ok(json!({
            "value": {"total": 6, "label": "n=6"},
            "list": ["ada", 7, null, true, [3]],
            "{{ steps.total.total }}": "key is kept",
        }))
    );
}

#[test]
fn plain_strings_are_untouched() {
    for s in [
        "hello",
        "line\n",
        "{ not: a template }",
        "50% off }}",
        "",
        "  spaced  ",
    ] {
        assert_eq!(render_str(s), Ok(json!(s)), "{s:?}");
    }
}

#[test]
fn other_strings_render_to_text() {
    assert_eq!(
        render_str("Total: {{ steps.total.total }}!"),
        Ok(json!("Total: 6!"))
    );
    assert_eq!(render_str(" {{ steps.total.total }}"), Ok(json!(" 6")));
    assert_eq!(
        render_str("Hi {{ trigger.body.name }}\n"),
        Ok(json!("Hi ada\n"))
    );
    assert_eq!(
        render_str("{% for n in steps.list.names %}{{ n }},{% endfor %}"),
        Ok(json!("a,b,"))
    );
    assert_eq!(
        render_str("{{ trigger.body }}!"),
        Ok(json!(r#"{"items": [1, 2, 3], "name": "ada"}!"#))
    );
    // No HTML escaping: the output is data.
    assert_eq!(render_str("{{ '<a & b>' }} "), Ok(json!("<a & b> ")));
    assert_eq!(render_str("{# just a note #}"), Ok(json!("")));
}

#[test]
fn filters() {
    assert_eq!(render_str("{{ trigger.body.items | sum }}"), Ok(json!(6)));
    assert_eq!(
        render_str("{{ trigger.body.items | length }}"),
        Ok(json!(3))
    );
    assert_eq!(
        render_str("{{ trigger.body.name | upper }}"),
        Ok(json!("ADA"))
    );
    assert_eq!(
        render_str("{{ trigger.body.items | tojson }}"),
        Ok(json!("[1,2,3]"))
    );
    assert_eq!(
        render_str("{{ trigger.body | json }}"),
        Ok(json!(r#"{"items":[1,2,3],"name":"ada"}"#))
    );
    assert_eq!(
        render_str(r#"{{ '{"a": [1, {"b": null}]}' | fromjson }}"#),
        Ok(json!({"a": [1, {"b": null}]}))
    );
    assert_eq!(
        render_str("{{ 'ada:pw' | b64encode }}"),
        Ok(json!("YWRhOnB3"))
    );
    assert_eq!(
        render_str("{{ 'YWRhOnB3' | b64decode }}"),
        Ok(json!("ada:pw"))
    );
    assert_eq!(
        render_str("{{ 'YWRhOnB3Pw' | b64decode }}"),
        Ok(json!("ada:pw?"))
    );
    assert!(err(json!("{{ 'not json' | fromjson }}")).starts_with("invalid operation: fromjson:"));
    assert!(err(json!("{{ '%%%' | b64decode }}")).starts_with("invalid operation: b64decode:"));
    assert_eq!(
        err(json!("{{ 1 | no_such }}")),
        "unknown filter: filter no_such is unknown"
    );
}

#[test]
fn conditions() {
    assert_eq!(condition("steps.total.total > 5"), Ok(true));
    assert_eq!(condition("steps.total.total > 6"), Ok(false));
    assert_eq!(
        condition("  steps.total.total == 6 and env.mode == 'test' "),
        Ok(true)
    );
    assert_eq!(condition("trigger.body.name"), Ok(true));
    assert_eq!(condition("''"), Ok(false));
    assert_eq!(condition("steps.list.names"), Ok(true));
    assert_eq!(condition("steps.list.empty"), Ok(false));
    assert_eq!(condition("steps.totl is defined"), Ok(false));
    assert_eq!(condition("1 if false"), Ok(false));
    assert_eq!(
        condition("steps.totl").unwrap_err().to_string(),
        "unknown variable steps.totl"
    );
    assert_eq!(
        condition("steps.totl > 5").unwrap_err().to_string(),
        "unknown variable steps.totl"
    );
    assert_eq!(condition(" ").unwrap_err().message, "condition is empty");
    assert!(
        condition("{{ x }}")
            .unwrap_err()
            .message
            .contains("bare expression")
    );
    assert!(
        condition("steps.total.total >")
            .unwrap_err()
            .message
            .starts_with("syntax error")
    );
}

#[test]
fn errors_name_the_leaf_and_the_unknown_variable() {
    assert_eq!(
        err(json!({"value": {"total": "{{ steps.totl }}"}})),
        "value.total: unknown variable steps.totl"
    );
    assert_eq!(
        err(json!({"body": {"items": [1, 2, "sum: {{ steps.totl }}"]}})),
        "body.items[2]: unknown variable steps.totl"
    );
    assert_eq!(
        err(json!("{{ steps.totl.x }}")),
        "unknown variable steps.totl"
    );
    assert_eq!(err(json!("{{ stepz.total }}")), "unknown variable stepz");
    assert_eq!(
        err(json!("{{ steps.total.totl | upper }}")),
        "unknown variable steps.total.totl"
    );
    assert_eq!(
        err(json!("{{ trigger['body'].itemz[0] }}")),
        "unknown variable trigger.body.itemz"
    );
    assert_eq!(
        err(json!("a\n{{ trigger.body.name }}\n{{ steps.nope }}")),
        "unknown variable steps.nope (line 3)"
    );
    assert_eq!(
        err(json!("{{ steps.total.total + nope }}")),
        "invalid operation: tried to use + operator on unsupported types number and \
         undefined (unknown variable nope)"
    );
    // A loop variable cannot be checked against the context: its attribute is blamed.
    assert_eq!(
        err(json!(
            "{% for n in steps.list.names %}{{ loop.index }}{{ n.first }}{% endfor %}"
        )),
        "unknown variable n.first"
    );
    // Nothing to blame: the code is quoted.
    assert_eq!(
        err(json!("x {{ ''.__class__ }}")),
        "unknown variable in ''.__class__"
    );
    assert!(err(json!("{{ steps.total")).starts_with("syntax error: "));
    assert_eq!(
        ExprError::new("", "unknown variable x").to_string(),
        "unknown variable x"
    );
}

#[test]
fn rendered_output_is_never_rendered_again() {
    let context = json!({"trigger": {"body": "{{ secrets.X }}"}, "secrets": {"X": "s3cret"}});
    let renderer = Renderer::default();
    assert_eq!(
        renderer.render_value(&json!("{{ trigger.body }}"), &context),
        Ok(json!("{{ secrets.X }}"))
    );
    assert_eq!(
        renderer.render_value(&json!("got {{ trigger.body }}"), &context),
        Ok(json!("got {{ secrets.X }}"))
    );
    assert_eq!(
        renderer.render_value(&json!({"a": ["{{ trigger }}"]}), &context),
        Ok(json!({"a": [{"body": "{{ secrets.X }}"}]}))
    );
}

#[test]
fn output_is_capped() {
    let renderer = Renderer::new(Limits {
        max_output_bytes: 100,
        ..Limits::default()
    });
    let big = "{% for i in range(1000) %}x{% endfor %}";
    assert_eq!(
        renderer
            .render_value(&json!({"a": big}), &ctx())
            .unwrap_err()
            .to_string(),
        "a: output is larger than 100 bytes"
    );
    assert_eq!(
        renderer
            .render_value(&json!("{{ range(100) }}"), &ctx())
            .unwrap_err()
            .message,
        "output is larger than 100 bytes"
    );
    assert_eq!(
        renderer
            .render_value(&json!("{{ 'x' * 1000 }}"), &ctx())
            .unwrap_err()
            .message,
        "output is larger than 100 bytes"
    );
    // The budget is shared by all leaves of one call, and only rendered leaves count.
    let sixty = "{% for i in range(60) %}x{% endfor %}";
    assert!(renderer.render_value(&json!([sixty]), &ctx()).is_ok());
    assert_eq!(
        renderer
            .render_value(&json!([sixty, sixty]), &ctx())
            .unwrap_err()
            .to_string(),
        "[1]: output is larger than 100 bytes"
    );
    let plain = "y".repeat(500);
    assert_eq!(
        renderer.render_value(&json!(plain), &ctx()),
        Ok(json!(plain))
    );
}

#[test]
fn fuel_stops_runaway_loops() {
    let result =
        probe("{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}");
    let message = result.unwrap_err().message;
    assert!(
        message.contains("fuel") && message.contains("50000"),
        "{message}"
    );
    let small = Renderer::new(Limits {
        fuel: 10,
        ..Limits::default()
    });
    assert!(
        small
            .render_value(&json!("{{ steps.total.total }}"), &ctx())
            .is_ok()
    );
    assert!(
        small
            .render_value(
                &json!("{% for i in range(100) %}{{ i }}{% endfor %}"),
                &ctx()
            )
            .unwrap_err()
            .message
            .contains("fuel")
    );
}

#[test]
fn python_introspection_goes_nowhere() {
    for template in [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "x {{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self }}",
        "{{ config }}",
        "{{ lipsum.__globals__ }}",
    ] {
        let error = probe(template).unwrap_err();
        assert!(error.message.starts_with("unknown "), "{template}: {error}");
    }
    assert_eq!(
        probe("{{ cycler.__init__.__globals__ }}")
            .unwrap_err()
            .message,
        "unknown variable cycler"
    );
}

#[test]
fn huge_ranges_are_refused() {
    assert_eq!(
        probe("{{ range(100000000) }}").unwrap_err().message,
        "invalid operation: range has too many elements (at most 100000)"
    );
    assert!(probe("{% for i in range(100000000) %}{% endfor %}").is_err());
}

#[test]
fn deep_nesting_fails_cleanly() {
    for (open, close) in [("(", ")"), ("[", "]")] {
        // minijinja's own limit on nesting (150) ...
        let deep = format!("{{{{ {}1{} }}}}", open.repeat(200), close.repeat(200));
        let message = probe(&deep).unwrap_err().message;
        assert!(message.contains("recursion"), "{message}");
        // ... and ours on the operators and brackets of one tag.
        let deep = format!("{{{{ {}1{} }}}}", open.repeat(1000), close.repeat(1000));
        let message = probe(&deep).unwrap_err().message;
        assert!(message.contains("too complex"), "{message}");
    }
    let loops = format!(
        "{}x{}",
        "{% for a in range(10) %}".repeat(100),
        "{% endfor %}".repeat(100)
    );
    assert!(probe(&loops).unwrap_err().message.contains("fuel"));
    let macros = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
    assert!(
        probe(macros)
            .unwrap_err()
            .message
            .contains("recursion limit")
    );
}

#[test]
fn flat_operator_chains_are_refused_when_rendered() {
    // A draft saved before validation refused these, or a test run of an invalid draft,
    // still reaches the renderer: it refuses them too instead of overflowing the stack.
    let m = 1_000_000;
    for template in [
        format!("{{{{ {}1 }}}}", "-".repeat(m)),
        format!("x {{{{ 1{} }}}}", " + 1".repeat(m)),
        format!("{{{{ 1{} }}}}", "|abs".repeat(2 * m)),
    ] {
        let message = probe(&template).unwrap_err().message;
        assert!(message.contains("too complex"), "{message}");
    }
    let renderer = Renderer::default();
    let chain = format!("true{}", " and true".repeat(m));
    let message = renderer
        .eval_condition(&chain, &json!({}))
        .unwrap_err()
        .message;
    assert!(message.contains("too complex"), "{message}");
}

#[test]
fn values_built_deep_do_not_crash() {
    // Nested far deeper than a 2 MiB stack allows, it survives printing and serializing.
    let deep = |n: usize, tail: &str| {
        format!(
            "{{% set a = [1] %}}{}{{{{ a{tail} }}}}",
            "{% set a = [a] %}".repeat(n)
        )
    };
    assert!(probe(&deep(10_000, "")).is_ok());
    assert!(probe(&deep(10_000, " | tojson")).is_ok());
    assert_eq!(probe(&deep(10_000, " | length")), Ok(json!("1")));
    // As deep as fuel allows: the render runs out of fuel, then drops the value.
    let message = probe(&deep(30_000, "")).unwrap_err().message;
    assert!(message.contains("fuel"), "{message}");
    // A typed value deeper than JSON allows is refused.
    let chain = format!("{{{{ [1]{} }}}}", "|batch(1)".repeat(140));
    let message = probe(&chain).unwrap_err().message;
    assert!(message.contains("nested too deeply"), "{message}");
    // A chain of filters that long is refused before it is parsed.
    let chain = format!("{{{{ [1]{} }}}}", "|batch(1)".repeat(20_000));
    let message = probe(&chain).unwrap_err().message;
    assert!(message.contains("too complex"), "{message}");
    // `namespace()` (the only way to make a cycle) is not available.
    let cycle = "{% set ns = namespace() %}{% set ns.x = ns %}{{ ns }}";
    assert!(probe(cycle).unwrap_err().message.contains("namespace"));
}

#[test]
fn builtins_cannot_do_unbounded_work() {
    for (template, expected) in [
        ("{{ [1] | batch(1000000000000) }}", "at most 100000"),
        (
            "{{ [1] | batch(1000000000, 0) | length }}",
            "at most 100000",
        ),
        ("{{ [1] | slice(1000000000) | length }}", "at most 100000"),
        ("{{ 'a' | indent(1000000000000) }}", "at most 1000"),
        ("{{ [1] | tojson(indent=1000000000000) }}", "at most 1000"),
        ("{{ [1] | json(1000000000000) }}", "at most 1000"),
        ("{{ '%1000000000000d' | format(1) }}", "width 1000000000000"),
        ("{{ '%.99999f' | format(1) }}", "width 99999"),
        (
            "{{ ([1] * 1000000000000) | sum }}",
            "more than 1000000 items",
        ),
        (
            "{{ [[1] * 1000000000000] | tojson }}",
            "more than 1000000 items",
        ),
        ("{{ [1] * 1000000000000 }}", "more than 1000000 items"),
        ("x{{ [1] * 1000000000000 }}", "more than 1000000 items"),
        (
            "{% for i in range(1000) %}{{ range(100000) | sum }}{% endfor %}",
            "ran out of fuel",
        ),
    ] {
        let message = probe(template).unwrap_err().message;
        assert!(message.contains(expected), "{template}: {message}");
    }
    // Ordinary use still works, keyword arguments included.
    assert_eq!(
        render_str("{{ [1, 2, 3] | batch(2) | list }}"),
        Ok(json!([[1, 2], [3]]))
    );
    assert_eq!(
        render_str("{{ {'a': 1} | tojson(indent=2) }}"),
        Ok(json!("{\n  \"a\": 1\n}"))
    );
    assert_eq!(
        render_str("{{ '%5.1f|%-3s|%%' | format(2.25, 'x') }}"),
        Ok(json!("  2.2|x  |%"))
    );
    assert_eq!(
        render_str("{{ ([1] * 1000000000000) | length }}"),
        Ok(json!(1_000_000_000_000_u64))
    );
    assert_eq!(render_str("{{ steps.totl | default(3) }}"), Ok(json!(3)));
    assert_eq!(
        render_str("{{ trigger.body.items | map('string') | join(',') }}"),
        Ok(json!("1,2,3"))
    );
}

#[test]
fn templates_cannot_load_templates() {
    for template in [
        "{% include 'x' %}",
        "{% import 'x' as y %}",
        "{% extends 'x' %}",
    ] {
        assert_eq!(
            probe(template).unwrap_err().message,
            "templates cannot include, import or extend other templates"
        );
    }
}
