//! Property tests (issue 10): no input panics, overflows a stack or runs past its limits in
//! document parsing and validation, template parsing, the diff, or the checks of incoming JSON;
//! and (issue 12) export → import → export is byte-identical.
//! `cargo xtask fuzz` runs them with many more cases (`PROPTEST_CASES`).

use model::transfer::{ExportFile, ImportFile, read_import};
use model::wire::Record;
use model::{Document, check_condition, check_integers, check_template, diff};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Pieces templates are made of, so random strings are mostly near-templates, not noise.
const PIECES: &[&str] = &[
    "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "*", "**", "~", "(", ")", "[", "]", "{", "}",
    "|abs", "|tojson", " if ", " else ", "not ", " and ", " or ", " is ", " in ", "'", "\"", "x",
    "1", ".", ",", ":", "elif ", "endif", "for ", "endfor", "set ", "raw", "endraw", "secrets.",
    "steps.", "é", "\\", "\n", " ",
];

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..400).prop_map(|p| p.concat())
}

/// Long flat chains of one operator, the shape that used to abort the server.
fn chain() -> impl Strategy<Value = String> {
    (
        prop::sample::select(
            &[
                "-",
                " + 1",
                "not ",
                " ~ 'a'",
                " and true",
                " ** 1",
                "(1)",
                "|abs",
                ".b",
                "[0]",
            ][..],
        ),
        100usize..50_000,
        any::<bool>(),
    )
        .prop_map(|(op, n, closed)| {
            let body = op.repeat(n);
            if closed {
                format!("{{{{ 1{body} }}}}")
            } else {
                format!("{{{{ {body}")
            }
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        template().prop_map(Value::String),
        prop::sample::select(
            &[
                "transform",
                "code",
                "branch",
                "http",
                "database",
                "respond",
                "delay",
                "manual",
                "webhook",
                "schedule",
                "trigger",
                "a",
                "b"
            ][..]
        )
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(6, 200, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(
                    &[
                        "format",
                        "composers",
                        "slug",
                        "name",
                        "trigger",
                        "kind",
                        "steps",
                        "links",
                        "from",
                        "to",
                        "port",
                        "config",
                        "value",
                        "condition",
                        "connections",
                        "position",
                        "cron"
                    ][..]
                )
                .prop_map(str::to_string),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A document shaped enough to parse, with random steps, links and configs.
fn document() -> impl Strategy<Value = Value> {
    let step = (
        prop::sample::select(&["a", "b", "c", "save", "trigger"][..]),
        prop::sample::select(
            &[
                "transform",
                "code",
                "branch",
                "http",
                "database",
                "respond",
                "delay",
                "teleport",
            ][..],
        ),
        json_value(),
    )
        .prop_map(|(name, kind, config)| json!({"name": name, "kind": kind, "config": config}));
    let link = (
        prop::sample::select(&["trigger", "a", "b", "c", "save", "ghost"][..]),
        prop::sample::select(&["a", "b", "c", "save"][..]),
        prop::option::of(prop::sample::select(&["true", "false", "x"][..])),
    )
        .prop_map(|(from, to, port)| json!({"from": from, "to": to, "port": port}));
    (
        prop::collection::vec(step, 0..8),
        prop::collection::vec(link, 0..10),
        prop::sample::select(&["manual", "webhook", "schedule"][..]),
        template(),
    )
        .prop_map(|(steps, links, trigger, cron)| {
            json!({"format": 1, "composers": [{"slug": "c", "name": "C",
                "trigger": {"kind": trigger, "method": "POST", "cron": cron},
                "steps": steps, "links": links}]})
        })
}

proptest! {
    // `cargo xtask fuzz` sets PROPTEST_CASES for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn templates_and_conditions_never_panic(s in template()) {
        let _ = check_template(&s);
        let _ = check_condition(&s);
    }

    #[test]
    fn flat_chains_are_refused(s in chain()) {
        // 100 and more operators: refused past the limit, parsed below it, never a crash.
        let _ = check_template(&s);
    }

    #[test]
    fn any_json_parses_or_is_refused_cleanly(v in json_value()) {
        let text = v.to_string();
        let _ = check_integers(&text);
        if let Ok(doc) = Document::from_json(&text) {
            let _ = doc.validate();
        }
    }

    #[test]
    fn documents_validate_and_diff_without_panicking(a in document(), b in document()) {
        let (a, b) = (Document::from_json(&a.to_string()), Document::from_json(&b.to_string()));
        if let (Ok(a), Ok(b)) = (a, b) {
            let _ = a.validate();
            let _ = diff(&a, &b).summary();
            prop_assert!(diff(&a, &a).summary().is_empty() || diff(&a, &a).summary() == "no changes");
        }
    }

    #[test]
    fn any_text_is_checked_for_integers_without_panicking(s in "\\PC{0,200}") {
        let _ = check_integers(&s);
        let _ = Document::from_json(&s);
    }

    #[test]
    fn export_import_export_is_byte_identical(
        doc in document(),
        positions in prop::collection::vec((any::<f64>(), -1e6f64..1e6), 0..8),
        records in prop::collection::btree_map("[a-z0-9:]{1,8}", json_value(), 0..5),
    ) {
        let Ok(mut doc) = Document::from_json(&doc.to_string()) else { return Ok(()) };
        // Canvas coordinates are floats of any size (finite: JSON has no NaN).
        for (step, (x, y)) in doc.composers.iter_mut().flat_map(|c| c.steps.iter_mut()).zip(positions) {
            step.position = x.is_finite().then_some(model::Position { x, y });
        }
        let rows: Vec<Record> = records.into_iter().rev().map(|(key, value)| Record { key, value }).collect();
        let file = ExportFile::new(
            "shop",
            "Shop",
            doc,
            Some(BTreeMap::from([("orders".to_string(), rows)])),
        );
        let text = file.to_text();
        let ImportFile::Export(read) = read_import(&text).map_err(TestCaseError::fail)? else {
            return Err(TestCaseError::fail("not read as an export"));
        };
        prop_assert_eq!(read.to_text(), text);
        prop_assert_eq!(&read.document, &file.document);
        // A bare document exported as the draft's document reads back as the same document.
        let bare = read_import(&read.document.to_json_pretty()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(bare.into_document(), file.document);
    }
}
