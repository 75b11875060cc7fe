//! Property tests of rendering (issue 10): whatever a template holds, rendering ends with a
//! value or a clear error, within its limits, and never panics or overflows a stack.

use engine::expr::Renderer;
use proptest::prelude::*;
use serde_json::{Value, json};

const PIECES: &[&str] = &[
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "x",
    "1",
    "2",
    " + ",
    " - ",
    " * ",
    " ** ",
    " ~ ",
    "(",
    ")",
    "[",
    "]",
    "|abs",
    "|length",
    "|tojson",
    "|batch(2)",
    "|join",
    " if ",
    " else ",
    "not ",
    " and ",
    " or ",
    "trigger",
    "trigger.items",
    "steps",
    ".a",
    "range(",
    "for i in ",
    "endfor",
    "if ",
    "endif",
    "set y = ",
    "'s'",
    "\"t\"",
    ",",
    "\\",
    "é",
    "\n",
];

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..200).prop_map(|p| p.concat())
}

proptest! {
    // `cargo xtask fuzz` sets PROPTEST_CASES for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(128)
    ))]

    #[test]
    fn rendering_ends_with_a_value_or_an_error(t in template(), c in template()) {
        let renderer = Renderer::default();
        let ctx = json!({"trigger": {"items": [1, 2, 3], "a": "b"}, "steps": {"a": {"a": 1}}});
        let started = std::time::Instant::now();
        let _ = renderer.render_value(&json!({"v": t, "w": [t]}), &ctx);
        let _ = renderer.eval_condition(&c, &ctx);
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn webhook_bodies_of_any_shape_render(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&body).into_owned();
        let renderer = Renderer::default();
        let ctx = json!({"trigger": {"body": text}});
        // Data is never rendered a second time: the body comes back as it was.
        let out = renderer.render_value(&json!("{{ trigger.body }}"), &ctx).unwrap();
        prop_assert_eq!(out, Value::String(text));
    }
}
