use super::*;
use crate::RevisionKind;
use crate::vault::MasterKey;
use crate::{Clock, Role};
use model::Document;
use serde_json::json;

fn doc(reply: &str) -> Document {
    Document::from_json(
        &json!({"format": 1, "composers": [
            {"slug": "orders", "name": "Orders",
             "trigger": {"kind": "webhook", "method": "POST", "auth_secret": "HOOK_TOKEN"},
             "steps": [
                {"name": "total", "kind": "transform", "config": {"value": {"sum": "{{ trigger.body.items | sum }}", "id": "{{ trigger.body.id }}"}},
                 "position": {"x": 120.5, "y": 40.0}},
                {"name": "reply", "kind": "respond", "config": {"status": 200, "body": reply, "headers": {"x-crm": "{{ secrets.CRM_TOKEN }}"}}}
             ],
             "links": [{"from": "trigger", "to": "total"}, {"from": "total", "to": "reply"}]}
        ]})
        .to_string(),
    )
    .unwrap()
}

/// An engine on a real file, with the automation "shop", a draft, two secrets per mode
/// (values the export must not hold) and a Test database.
fn shop(dir: &std::path::Path) -> Engine {
    let e = Engine::open_with_clock(&dir.join("slipway.redb"), Clock::system()).unwrap();
    e.set_master_key(MasterKey::generate());
    e.create_automation("shop", "Shop", "ann").unwrap();
    e.save_draft("shop", 1, doc("{{ steps.total }}"), "ann")
        .unwrap();
    for mode in [Mode::Test, Mode::Live] {
        e.store_secret("shop", mode, "HOOK_TOKEN", "hook-value-0123456789", "ann")
            .unwrap();
    }
    e.store_secret(
        "shop",
        Mode::Test,
        "CRM_TOKEN",
        "crm-value-0123456789",
        "ann",
    )
    .unwrap();
    e.db_put("shop", Mode::Test, "orders", "b", json!({"total": 2}))
        .unwrap();
    e.db_put("shop", Mode::Test, "orders", "a", json!([1, "x"]))
        .unwrap();
    e.db_put("shop", Mode::Live, "orders", "live-only", json!(1))
        .unwrap();
    e
}

#[test]
fn export_then_import_elsewhere_then_export_is_byte_identical_and_holds_no_secret_value() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let from = shop(a.path());
    let text = from.export("shop", true).unwrap();
    assert!(
        !text.contains("hook-value") && !text.contains("crm-value"),
        "{text}"
    );
    assert!(
        !text.contains("live-only"),
        "Live data never leaves: {text}"
    );
    assert!(
        text.contains("\"secrets\": [\n    \"CRM_TOKEN\",\n    \"HOOK_TOKEN\"\n  ]"),
        "the secrets it uses, by name: {text}"
    );

    let to = Engine::open(&b.path().join("slipway.redb")).unwrap();
    let imported = to.import(&text, None, "bo").unwrap();
    assert_eq!(imported.automation, "shop");
    assert!(imported.created);
    assert_eq!((imported.version, imported.backup_revision), (1, None));
    assert_eq!(imported.records, 2);
    assert_eq!(
        imported.missing_secrets,
        SecretNames {
            test: vec!["CRM_TOKEN".into(), "HOOK_TOKEN".into()],
            live: vec!["CRM_TOKEN".into(), "HOOK_TOKEN".into()]
        }
    );
    assert_eq!(to.get_automation("shop").unwrap().name, "Shop");
    assert_eq!(
        to.get_draft("shop").unwrap().document,
        doc("{{ steps.total }}")
    );
    assert_eq!(
        to.db_get("shop", Mode::Test, "orders", "a").unwrap(),
        Some(json!([1, "x"]))
    );
    assert!(to.list_databases("shop", Mode::Live).unwrap().is_empty());
    assert!(to.latest_deployment("shop").unwrap().is_none());
    assert_eq!(to.export("shop", true).unwrap(), text);
    // Reopened from disk, the same.
    drop(to);
    let to = Engine::open(&b.path().join("slipway.redb")).unwrap();
    assert_eq!(to.export("shop", true).unwrap(), text);
}

#[test]
fn an_import_over_an_automation_keeps_its_draft_as_a_backup_revision_and_leaves_live_alone() {
    let dir = tempfile::tempdir().unwrap();
    let e = shop(dir.path());
    e.deploy(
        "shop",
        &crate::DeployRequest {
            secrets: vec!["HOOK_TOKEN".into()],
            databases: vec![],
            note: String::new(),
        },
        "ann",
    )
    .unwrap();
    let before = e.get_draft("shop").unwrap();
    let mut file = e.export("shop", false).unwrap();
    file = file.replace("{{ steps.total }}", "{{ steps.total.sum }}");
    let imported = e.import(&file, None, "bo").unwrap();
    assert!(!imported.created);
    assert_eq!(imported.version, before.version + 1);
    let backup = imported.backup_revision.expect("a backup revision");
    let (rev, kept) = e.get_revision("shop", backup).unwrap();
    assert_eq!(rev.kind, RevisionKind::Backup);
    assert_eq!(rev.label.as_deref(), Some("before an import"));
    assert_eq!(
        kept, before.document,
        "the backup holds the draft as it was"
    );
    assert_eq!(
        e.get_draft("shop").unwrap().document,
        doc("{{ steps.total.sum }}")
    );
    assert_eq!(
        e.live("shop").unwrap().unwrap().document.as_ref(),
        &before.document,
        "Live runs what was deployed"
    );
    let audit = e.list_audit(10, None).unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|a| a.action == crate::AuditAction::Import && a.actor == "bo"),
        "{audit:?}"
    );
    // Imported under another slug: a second automation.
    let copy = e.import(&file, Some("shop-copy"), "bo").unwrap();
    assert!(copy.created);
    assert_eq!(e.get_automation("shop-copy").unwrap().name, "Shop");
}

#[test]
fn bad_files_change_nothing_and_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let e = shop(dir.path());
    let before = e.get_draft("shop").unwrap();
    let revisions = e.list_revisions("shop").unwrap().len();
    let good = e.export("shop", true).unwrap();
    let bad_record = good.replace("\"key\": \"a\"", "\"key\": \"\"");
    assert_ne!(bad_record, good);
    let huge = format!("{{\"format\": 1, \"pad\": \"{}\"}}", "x".repeat(50 << 20));
    for (text, why) in [
        ("{ nope", "not JSON"),
        (r#"{"slipway_export": 7}"#, "format 7"),
        (r#"{"format": 2, "composers": []}"#, "format 2"),
        (
            r#"{"slipway_export": 1, "automation": {"slug": "shop", "name": "Shop"}, "document": {"format": 1, "composers": {}}}"#,
            "document.composers",
        ),
        (r#"{"format": 1, "composers": []}"#, "names no automation"),
        (bad_record.as_str(), "test database orders"),
        (huge.as_str(), "at most 32 MiB"),
    ] {
        let err = e.import(text, None, "bo").unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{why}: {err:?}");
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    assert_eq!(e.get_draft("shop").unwrap(), before);
    assert_eq!(e.list_revisions("shop").unwrap().len(), revisions);
    assert_eq!(e.db_count("shop", Mode::Test, "orders").unwrap(), 2);
    let err = e.import(&good, Some("Not A Slug"), "bo").unwrap_err();
    assert!(
        err.to_string().contains("not a valid automation slug"),
        "{err}"
    );
}

#[test]
fn viewers_export_and_only_editors_import() {
    let dir = tempfile::tempdir().unwrap();
    let e = shop(dir.path());
    let viewer = e
        .create_user("vi", Role::Viewer, "password-123", "test")
        .unwrap();
    let editor = e
        .create_user("ed", Role::Editor, "password-123", "test")
        .unwrap();
    let text = e.export_as(&viewer, "shop", false).unwrap();
    assert!(!text.contains("test_databases"));
    let err = e.import_as(&viewer, &text, Some("other")).unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert!(e.get_automation("other").is_err());
    let done = e.import_as(&editor, &text, Some("other")).unwrap();
    assert!(done.created);
}
