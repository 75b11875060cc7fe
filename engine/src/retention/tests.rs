use super::*;
use crate::runs::{Run, RunFilter, RunSource, RunStatus};
use crate::{Clock, Role};
use chrono::{DateTime, Utc};

const T0: &str = "2026-03-01T12:00:00Z";

fn at(days_before: f64) -> DateTime<Utc> {
    let t0: DateTime<Utc> = T0.parse().unwrap();
    t0 - chrono::Duration::milliseconds((days_before * 86_400_000.0) as i64)
}

/// An engine on a real file at T0, with the automation `shop` and its admin and editor.
fn shop(dir: &std::path::Path) -> (Engine, crate::User, crate::User) {
    let engine =
        Engine::open_with_clock(&dir.join("slipway.redb"), Clock::manual(at(0.0))).unwrap();
    let ann = engine
        .create_user("ann", Role::Admin, "password-123", "test")
        .unwrap();
    let ed = engine
        .create_user("ed", Role::Editor, "password-123", "test")
        .unwrap();
    engine.create_automation("shop", "Shop", "ann").unwrap();
    (engine, ann, ed)
}

/// Stores a run queued `days_before` T0 (its id carries that time, as a real run's does).
fn stored(e: &Engine, mode: Mode, composer: &str, days_before: f64, status: RunStatus) -> String {
    let queued = at(days_before);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        queued.timestamp() as u64,
        queued.timestamp_subsec_nanos(),
    );
    let id = uuid::Uuid::new_v7(ts).to_string();
    let finished = status.is_finished().then_some(queued);
    let run = Run {
        id: id.clone(),
        automation: "shop".into(),
        composer: composer.into(),
        mode,
        source: RunSource::Webhook,
        revision: None,
        deployment: None,
        status,
        queued_at: queued,
        started_at: finished,
        finished_at: finished,
        input: serde_json::json!({"n": days_before}),
        steps: vec![],
        error: None,
        last_finished_step: None,
        replay_of: None,
    };
    e.runs().put(run, true).unwrap();
    id
}

fn listed(e: &Engine, mode: Mode) -> Vec<String> {
    let filter = RunFilter {
        limit: 200,
        ..RunFilter::default()
    };
    e.list_runs("shop", mode, &filter)
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[test]
fn rules_are_the_defaults_until_an_admin_sets_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (e, ann, ed) = shop(dir.path());
    assert_eq!(e.retention("shop").unwrap(), Retention::default());
    assert_eq!(Retention::default().test.days, 7.0);
    assert_eq!(Retention::default().live.days, 30.0);
    assert!(matches!(e.retention("nope"), Err(Error::NotFound(_))));

    let mut rules = Retention::default();
    rules.live.max_runs = 500;
    assert!(matches!(
        e.set_retention(&ed, "shop", rules),
        Err(Error::Forbidden { .. })
    ));
    let mut bad = rules;
    bad.test.days = -1.0;
    match e.set_retention(&ann, "shop", bad) {
        Err(Error::Invalid(m)) => assert!(m.starts_with("test: days must be more than 0"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        e.set_retention(&ann, "nope", rules),
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        e.retention("shop").unwrap(),
        Retention::default(),
        "nothing refused was kept"
    );

    e.set_retention(&ann, "shop", rules).unwrap();
    drop(e);
    let e = Engine::open(&dir.path().join("slipway.redb")).unwrap();
    assert_eq!(e.retention("shop").unwrap().live.max_runs, 500);
    let audit = e.list_audit(10, None).unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|a| a.detail.contains("live 30 days, 500 runs per composer")),
        "{audit:?}"
    );
}

#[test]
fn runs_older_than_their_modes_days_go_and_unfinished_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _, _) = shop(dir.path());
    let old_test = stored(&e, Mode::Test, "sync", 10.0, RunStatus::Succeeded);
    let older_test = stored(&e, Mode::Test, "sync", 8.0, RunStatus::Failed);
    let stuck = stored(&e, Mode::Test, "sync", 9.0, RunStatus::Queued);
    let young_test = stored(&e, Mode::Test, "sync", 6.0, RunStatus::Succeeded);
    let old_live = stored(&e, Mode::Live, "sync", 10.0, RunStatus::Succeeded);
    let ancient_live = stored(&e, Mode::Live, "sync", 31.0, RunStatus::Succeeded);

    let report = e.prune_runs().unwrap();
    assert_eq!(report.deleted, 3);
    assert_eq!(report.transactions, 1);
    assert!(!report.more);
    assert_eq!(listed(&e, Mode::Test), [young_test, stuck.clone()]);
    assert_eq!(listed(&e, Mode::Live), [old_live]);
    for gone in [&old_test, &older_test, &ancient_live] {
        assert!(matches!(e.get_run(gone), Err(Error::NotFound(_))), "{gone}");
    }
    assert_eq!(e.get_run(&stuck).unwrap().status, RunStatus::Queued);
    // A second pass has nothing left to do.
    assert_eq!(e.prune_runs().unwrap().deleted, 0);
}

#[test]
fn each_composer_keeps_its_newest_max_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (e, ann, _) = shop(dir.path());
    let mut rules = Retention::default();
    rules.test.max_runs = 3;
    e.set_retention(&ann, "shop", rules).unwrap();
    let sync: Vec<String> = (0..10)
        .map(|i| {
            stored(
                &e,
                Mode::Test,
                "sync",
                1.0 - i as f64 / 100.0,
                RunStatus::Succeeded,
            )
        })
        .collect();
    let report: Vec<String> = (0..2)
        .map(|i| {
            stored(
                &e,
                Mode::Test,
                "report",
                1.0 - i as f64 / 100.0,
                RunStatus::Succeeded,
            )
        })
        .collect();
    let live: Vec<String> = (0..5)
        .map(|i| {
            stored(
                &e,
                Mode::Live,
                "sync",
                1.0 - i as f64 / 100.0,
                RunStatus::Succeeded,
            )
        })
        .collect();

    assert_eq!(e.prune_runs().unwrap().deleted, 7);
    let mut kept = listed(&e, Mode::Test);
    kept.sort();
    let mut expected: Vec<String> = sync[7..].iter().chain(&report).cloned().collect();
    expected.sort();
    assert_eq!(kept, expected, "the newest 3 of sync and both of report");
    assert_eq!(
        listed(&e, Mode::Live).len(),
        live.len(),
        "Live keeps 100,000"
    );
}

#[test]
fn many_runs_go_in_small_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _, _) = shop(dir.path());
    let n = PRUNE_BATCH * 2 + 50;
    for i in 0..n {
        stored(
            &e,
            Mode::Test,
            "sync",
            8.0 + i as f64 / 1e4,
            RunStatus::Succeeded,
        );
    }
    let young = stored(&e, Mode::Test, "sync", 1.0, RunStatus::Succeeded);
    let report = e.prune_runs().unwrap();
    assert_eq!(report.deleted, n);
    assert_eq!(report.transactions, 3);
    assert_eq!(listed(&e, Mode::Test), [young]);
}

#[test]
fn the_first_id_at_a_time_sorts_between_the_runs_before_and_after_it() {
    let before = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        1_700_000_000,
        0,
    ))
    .to_string();
    let after = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        1_700_000_000,
        2_000_000,
    ))
    .to_string();
    let cut = first_id_at(1_700_000_000_001);
    assert!(before.as_str() < cut.as_str(), "{before} {cut}");
    assert!(after.as_str() > cut.as_str(), "{after} {cut}");
}
