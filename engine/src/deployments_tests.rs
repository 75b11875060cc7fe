//! Deploys, Live, rollback, schedules and replay on redb's in-memory backend.

use crate::audit::AuditAction;
use crate::runs::{RunSource, RunStatus};
use crate::vault::MasterKey;
use crate::{Clock, DeployRequest, Engine, Error, RevisionKind};
use model::{Document, Mode};
use serde_json::{Value, json};
use std::time::Duration;

fn doc(value: &str) -> Document {
    Document::from_json(&json!({"format": 1, "composers": [{
        "slug": "c", "name": "C", "trigger": {"kind": "manual", "sample": {"x": 1}},
        "steps": [
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "k", "value": value}},
            {"name": "out", "kind": "transform", "config": {"value": "{{ secrets.API_KEY }}"}}
        ],
        "links": [{"from": "trigger", "to": "save"}, {"from": "save", "to": "out"}]
    }]}).to_string())
    .unwrap()
}

/// "orders" at T0 with a draft, a master key and two test secrets.
fn orders_with_secrets() -> (Engine, Clock) {
    let (e, clock) = crate::testing::orders_at_t0();
    e.set_master_key(MasterKey::generate());
    e.save_draft("orders", 1, doc("v1"), "ann").unwrap();
    e.store_secret("orders", Mode::Test, "API_KEY", "test-key", "ann")
        .unwrap();
    e.store_secret("orders", Mode::Test, "OTHER", "other", "ann")
        .unwrap();
    e.db_put("orders", Mode::Test, "orders", "a", json!(1))
        .unwrap();
    e.db_put("orders", Mode::Test, "orders", "b", json!(2))
        .unwrap();
    e.db_put("orders", Mode::Test, "unticked", "a", json!(1))
        .unwrap();
    (e, clock)
}

fn tick(secrets: &[&str], databases: &[&str]) -> DeployRequest {
    DeployRequest {
        secrets: secrets.iter().map(|s| s.to_string()).collect(),
        databases: databases.iter().map(|s| s.to_string()).collect(),
        note: "first".into(),
    }
}

fn live_value(e: &Engine) -> Value {
    let live = e.live("orders").unwrap().unwrap();
    live.document.composers[0].steps[0].config["value"].clone()
}

#[test]
fn a_deploy_copies_exactly_what_is_ticked_and_freezes_live() {
    let (e, clock) = orders_with_secrets();
    assert!(e.live("orders").unwrap().is_none());
    let d = e
        .deploy("orders", &tick(&["API_KEY"], &["orders"]), "ann")
        .unwrap();
    assert_eq!((d.number, d.note.as_str()), (1, "first"));
    assert_eq!(d.secrets, ["API_KEY"]);
    assert_eq!(d.databases, ["orders"]);
    assert!(d.backups.is_empty(), "Live had no database to back up");
    let (rev, _) = e.get_revision("orders", d.revision).unwrap();
    assert_eq!(rev.kind, RevisionKind::Deploy);

    let live_secrets: Vec<_> = e
        .list_secrets("orders", Mode::Live)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(live_secrets, ["API_KEY"]);
    let key = e.master_key().unwrap().clone();
    assert_eq!(
        e.secret_values(&key, "orders", Mode::Live).unwrap()["API_KEY"],
        "test-key"
    );
    let live_dbs: Vec<_> = e
        .list_databases("orders", Mode::Live)
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.count))
        .collect();
    assert_eq!(live_dbs, [("orders".to_string(), 2)]);

    // Editing Test changes nothing in Live.
    clock.advance(chrono::Duration::seconds(60));
    e.save_draft("orders", 2, doc("v2"), "ann").unwrap();
    e.db_put("orders", Mode::Test, "orders", "c", json!(3))
        .unwrap();
    assert_eq!(live_value(&e), json!("v1"));
    assert_eq!(e.db_count("orders", Mode::Live, "orders").unwrap(), 2);

    // The next deploy follows the draft.
    let d2 = e.deploy("orders", &tick(&[], &[]), "bob").unwrap();
    assert_eq!(d2.number, 2);
    assert_eq!(live_value(&e), json!("v2"));
    assert_eq!(e.list_deployments("orders").unwrap()[0].author, "bob");
}

#[test]
fn a_draft_with_errors_does_not_deploy_and_changes_nothing() {
    let (e, _) = orders_with_secrets();
    let mut bad = doc("v1");
    bad.composers[0].steps[0].name = "Not A Name".into();
    e.save_draft("orders", 2, bad, "ann").unwrap();
    let revisions = e.list_revisions("orders").unwrap().len();
    let err = e
        .deploy("orders", &tick(&["API_KEY"], &["orders"]), "ann")
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("block a deploy"), "{err}");
    assert!(e.live("orders").unwrap().is_none());
    assert!(e.list_secrets("orders", Mode::Live).unwrap().is_empty());
    assert!(e.list_databases("orders", Mode::Live).unwrap().is_empty());
    assert_eq!(e.list_revisions("orders").unwrap().len(), revisions);
    assert!(!e.deploy_preview("orders").unwrap().errors.is_empty());
}

#[test]
fn ticking_a_missing_secret_or_database_refuses_the_whole_deploy() {
    let (e, _) = orders_with_secrets();
    for req in [
        tick(&["API_KEY", "NOPE"], &[]),
        tick(&[], &["orders", "nope"]),
    ] {
        assert!(e.deploy("orders", &req, "ann").is_err());
        assert!(e.live("orders").unwrap().is_none());
        assert!(e.list_secrets("orders", Mode::Live).unwrap().is_empty());
        assert!(e.list_databases("orders", Mode::Live).unwrap().is_empty());
    }
}

#[test]
fn replaced_live_contents_are_kept_and_restorable() {
    let (e, _) = orders_with_secrets();
    e.deploy("orders", &tick(&[], &["orders"]), "ann").unwrap();
    // Live data grows through live runs (here directly).
    e.db_put(
        "orders",
        Mode::Live,
        "orders",
        "live-only",
        json!("precious"),
    )
    .unwrap();
    let d2 = e.deploy("orders", &tick(&[], &["orders"]), "ann").unwrap();
    assert_eq!(d2.backups, ["orders"]);
    assert_eq!(
        e.db_get("orders", Mode::Live, "orders", "live-only")
            .unwrap(),
        None
    );
    // The backup is not a database of either mode.
    assert_eq!(e.list_databases("orders", Mode::Live).unwrap().len(), 1);
    let n = e
        .restore_database_backup("orders", 2, "orders", "root")
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        e.db_get("orders", Mode::Live, "orders", "live-only")
            .unwrap(),
        Some(json!("precious"))
    );
    assert!(
        e.restore_database_backup("orders", 1, "orders", "root")
            .is_err()
    );
}

#[test]
fn rollback_restores_into_test_with_a_backup_and_deploys() {
    let (e, clock) = orders_with_secrets();
    let d1 = e.deploy("orders", &tick(&[], &[]), "ann").unwrap();
    clock.advance(chrono::Duration::seconds(60));
    e.save_draft("orders", 2, doc("v2"), "ann").unwrap();
    e.deploy("orders", &tick(&[], &[]), "ann").unwrap();
    clock.advance(chrono::Duration::seconds(60));
    e.save_draft("orders", 3, doc("v3 unsaved work"), "ann")
        .unwrap();

    let d3 = e.rollback("orders", 1, "bob").unwrap();
    assert_eq!((d3.number, d3.rollback_of), (3, Some(1)));
    assert_eq!(live_value(&e), json!("v1"));
    let draft = e.get_draft("orders").unwrap().document;
    assert_eq!(draft.composers[0].steps[0].config["value"], json!("v1"));
    // The work in the draft was kept as a backup revision first.
    let revs = e.list_revisions("orders").unwrap();
    let backup = revs
        .iter()
        .find(|r| r.kind == RevisionKind::Backup)
        .unwrap();
    let (_, kept) = e.get_revision("orders", backup.number).unwrap();
    assert_eq!(
        kept.composers[0].steps[0].config["value"],
        json!("v3 unsaved work")
    );
    assert_eq!(revs[0].kind, RevisionKind::Deploy);
    assert!(e.rollback("orders", 9, "bob").is_err());
    assert_ne!(d1.revision, d3.revision);

    let actions: Vec<_> = e
        .list_audit(50, None)
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions[0], AuditAction::Rollback);
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::Deploy)
            .count(),
        2
    );
}

#[test]
fn the_preview_names_changes_choices_and_live_state() {
    let (e, clock) = orders_with_secrets();
    let p = e.deploy_preview("orders").unwrap();
    assert_eq!(p.live, None);
    assert_eq!(p.changes.composers.len(), 1, "everything is new");
    assert_eq!(p.secrets.len(), 2);
    assert!(p.secrets.iter().all(|s| !s.in_live));
    e.deploy("orders", &tick(&["API_KEY"], &["orders"]), "ann")
        .unwrap();
    clock.advance(chrono::Duration::seconds(60));
    e.save_draft("orders", 2, doc("v2"), "ann").unwrap();
    let p = e.deploy_preview("orders").unwrap();
    assert_eq!(p.live, Some(1));
    assert_eq!(p.changes.summary(), "changed save");
    let api = p.secrets.iter().find(|s| s.name == "API_KEY").unwrap();
    assert!(api.in_live);
    let orders = p.databases.iter().find(|d| d.name == "orders").unwrap();
    assert_eq!((orders.count, orders.live_count), (2, Some(2)));
    let unticked = p.databases.iter().find(|d| d.name == "unticked").unwrap();
    assert_eq!(unticked.live_count, None);
    let warnings = model::missing_in_live(
        &p.document,
        &p.live_secrets.iter().cloned().collect(),
        &p.live_databases.iter().cloned().collect(),
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

fn scheduled(cron: &str) -> Document {
    Document::from_json(&json!({"format": 1, "composers": [{
        "slug": "tick", "name": "Tick", "trigger": {"kind": "schedule", "cron": cron},
        "steps": [{"name": "note", "kind": "database", "config": {"op": "put", "database": "ticks", "key": "{{ trigger.scheduled_at }}", "value": 1}}],
        "links": [{"from": "trigger", "to": "note"}]
    }]}).to_string())
    .unwrap()
}

async fn wait_finished(e: &Engine, id: &str) -> crate::runs::Run {
    for _ in 0..200 {
        let r = e.get_run(id).unwrap();
        if r.status.is_finished() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("run {id} did not finish");
}

#[tokio::test]
async fn schedules_fire_only_from_live_and_a_missed_one_fires_once() {
    let (e, clock) = orders_with_secrets();
    e.save_draft("orders", 2, scheduled("*/5 * * * *"), "ann")
        .unwrap();
    // Test never fires.
    clock.advance(chrono::Duration::minutes(30));
    assert!(e.fire_due_schedules().unwrap().is_empty());
    assert!(e.armed_schedules().unwrap().is_empty());

    e.deploy("orders", &tick(&[], &[]), "ann").unwrap(); // at 09:30
    let armed = e.armed_schedules().unwrap();
    assert_eq!(armed.len(), 1);
    assert_eq!(armed[0].next.to_rfc3339(), "2026-01-05T09:35:00+00:00");
    assert!(e.fire_due_schedules().unwrap().is_empty(), "not due yet");

    clock.advance(chrono::Duration::minutes(5));
    let fired = e.fire_due_schedules().unwrap();
    assert_eq!(fired.len(), 1);
    let run = wait_finished(&e, &fired[0]).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        (run.mode, run.source, run.deployment),
        (Mode::Live, RunSource::Schedule, Some(1))
    );
    assert_eq!(e.db_count("orders", Mode::Live, "ticks").unwrap(), 1);
    assert!(
        e.fire_due_schedules().unwrap().is_empty(),
        "fires once per time"
    );

    // Down for an hour: twelve fire times missed, one run at start.
    clock.advance(chrono::Duration::minutes(60));
    assert_eq!(e.fire_due_schedules().unwrap().len(), 1);
    assert!(e.fire_due_schedules().unwrap().is_empty());

    // A deploy without the schedule disarms it.
    e.save_draft("orders", 3, doc("v1"), "ann").unwrap();
    e.deploy("orders", &tick(&[], &[]), "ann").unwrap();
    clock.advance(chrono::Duration::minutes(60));
    assert!(e.armed_schedules().unwrap().is_empty());
    assert!(e.fire_due_schedules().unwrap().is_empty());
}

#[tokio::test]
async fn a_live_run_replays_in_test_against_the_draft() {
    let (e, clock) = orders_with_secrets();
    e.deploy("orders", &tick(&["API_KEY"], &["orders"]), "ann")
        .unwrap();
    let h = e
        .start_composer_run(
            "orders",
            "c",
            Mode::Live,
            RunSource::Api,
            Some(json!({"x": 42})),
        )
        .unwrap();
    let live = h.finished.await.unwrap().unwrap();
    assert_eq!(live.status, RunStatus::Succeeded, "{:?}", live.error);
    assert_eq!(live.deployment, Some(1));
    assert_eq!(live.steps[1].output, json!("[secret:API_KEY]"));

    clock.advance(chrono::Duration::seconds(60));
    e.save_draft("orders", 2, doc("replayed"), "ann").unwrap();
    let replay = e
        .replay_in_test(&live.id)
        .unwrap()
        .finished
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replay.status, RunStatus::Succeeded, "{:?}", replay.error);
    assert_eq!(
        (replay.mode, replay.source),
        (Mode::Test, RunSource::Replay)
    );
    assert_eq!(replay.replay_of.as_deref(), Some(live.id.as_str()));
    assert_eq!(replay.input, json!({"x": 42}));
    assert_eq!(
        e.db_get("orders", Mode::Test, "orders", "k").unwrap(),
        Some(json!("replayed"))
    );
    assert_eq!(
        e.db_get("orders", Mode::Live, "orders", "k").unwrap(),
        Some(json!("v1"))
    );
    assert!(
        e.replay_in_test(&replay.id).is_err(),
        "only live runs replay"
    );
}
