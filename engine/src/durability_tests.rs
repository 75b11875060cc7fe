//! Acknowledgements against a disk that fails or loses power (PRODUCT.md §7): a failed commit is
//! an error to whoever waits, and after a simulated power loss (every unsynced write thrown
//! away, at random syncs) everything acknowledged is there, every stored database write belongs
//! to a stored run, and Live is one whole deployment.

use crate::deployments::DeployRequest;
use crate::faults::{Faults, FaultyBackend};
use crate::runs::{RunSource, RunStatus};
use crate::vault::MasterKey;
use crate::{Clock, Engine, Error};
use model::{Document, Mode};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const A: &str = "orders";

fn doc(marker: u64) -> Document {
    let doc = json!({"format": 1, "composers": [{"slug": "hook", "name": "Hook",
        "trigger": {"kind": "webhook", "method": "POST"},
        "steps": [
            {"name": "mark", "kind": "transform", "config": {"value": marker}},
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "hits", "key": "{{ env.run_id }}", "value": "{{ steps.mark }}"}},
            {"name": "reply", "kind": "respond", "config": {"body": "ok"}}
        ],
        "links": [{"from": "trigger", "to": "mark"}, {"from": "mark", "to": "save"}, {"from": "save", "to": "reply"}]}]});
    Document::from_json(&doc.to_string()).unwrap()
}

fn marker_of(d: &Document) -> u64 {
    d.composers[0].steps[0].config["value"].as_u64().unwrap()
}

fn open(image: Vec<u8>) -> (Engine, Faults) {
    let (backend, faults) = FaultyBackend::new(image);
    let e = Engine::with_backend(backend, Clock::system()).expect("reopens after a crash");
    e.set_master_key(MasterKey::new([7; 32]));
    (e, faults)
}

/// One webhook call: acknowledged when the caller got the answer.
async fn call(e: &Engine) -> Result<String, String> {
    let (handle, responds) = e
        .start_webhook_run(A, "hook", Mode::Test, "POST", None, json!({}))
        .await
        .map_err(|e| e.to_string())?;
    assert!(responds);
    match tokio::time::timeout(Duration::from_secs(10), handle.responded).await {
        Ok(Ok(Ok(_))) => Ok(handle.id),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(_)) => Err("ended without answering".into()),
        Err(_) => panic!("no answer within 10 s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_is_never_acknowledged() {
    let (e, faults) = open(Vec::new());
    e.create_automation(A, "Orders", "ann").unwrap();
    e.save_draft(A, 1, doc(1), "ann").unwrap();
    let acked = call(&e).await.expect("a healthy disk answers");

    faults.fail_syncs(true);
    let err = call(&e).await.unwrap_err();
    assert!(err.starts_with("not stored"), "{err}");
    // A run acknowledged by its queued state alone is refused before it starts.
    let err = e
        .start_composer_run(A, "hook", Mode::Test, RunSource::Api, None)
        .err()
        .expect("refused");
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
    assert!(matches!(
        e.save_draft(A, 2, doc(2), "ann"),
        Err(Error::Storage(_))
    ));

    // After a restart only what was acknowledged is there, and nothing without its run.
    faults.crash();
    let image = faults.durable_image();
    drop(e);
    let (e, _) = open(image);
    assert_eq!(e.get_run(&acked).unwrap().status, RunStatus::Succeeded);
    let hits = e.db_list(A, Mode::Test, "hits", "", 100, None).unwrap();
    assert_eq!(hits.items.len(), 1);
    assert_eq!(hits.items[0].key, acked);
    assert_eq!(e.get_draft(A).unwrap().version, 2);
}

/// What the test was told had been done, to check after each crash.
#[derive(Default)]
struct Acked {
    draft: Option<(u64, u64)>,
    runs: Vec<String>,
    secrets: BTreeMap<String, String>,
    deployment: Option<u64>,
}

/// Checks what `acked` says against `e`; runs and records in `known` were checked after an
/// earlier crash (their place on disk cannot change), so each is checked once.
fn verify(e: &Engine, acked: &Acked, known: &mut std::collections::HashSet<String>, round: usize) {
    let draft = e.get_draft(A).unwrap();
    if let Some((version, marker)) = acked.draft {
        assert!(
            draft.version >= version,
            "round {round}: draft {version} lost"
        );
        if draft.version == version {
            assert_eq!(marker_of(&draft.document), marker, "round {round}");
        }
    }
    for id in acked.runs.iter().filter(|id| !known.contains(*id)) {
        let run = e
            .get_run(id)
            .unwrap_or_else(|err| panic!("round {round}: acknowledged run {id} lost: {err}"));
        assert_eq!(run.status, RunStatus::Succeeded, "round {round}");
        assert!(
            e.db_get(A, Mode::Test, "hits", id).unwrap().is_some(),
            "round {round}: the write of acknowledged run {id} is lost"
        );
    }
    if let Ok(hits) = e.db_list(A, Mode::Test, "hits", "", 100_000, None) {
        for record in hits.items {
            if known.contains(&record.key) {
                continue;
            }
            assert!(
                e.get_run(&record.key).is_ok(),
                "round {round}: a stored write without its run {}",
                record.key
            );
            known.insert(record.key);
        }
    }
    known.extend(acked.runs.iter().cloned());
    let names: Vec<String> = e
        .list_secrets(A, Mode::Test)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    for name in acked.secrets.keys() {
        assert!(names.contains(name), "round {round}: secret {name} lost");
    }
    if let Some(number) = acked.deployment {
        let live = e.live(A).unwrap().expect("a deployment");
        assert!(live.deployment.number >= number, "round {round}");
        let (_, revision) = e.get_revision(A, live.deployment.revision).unwrap();
        assert_eq!(
            marker_of(&live.document),
            marker_of(&revision),
            "round {round}: Live is not one whole deployment"
        );
    }
}

/// Simulated power loss at random syncs, over and over, while drafts are saved, webhook runs
/// write and answer, secrets are set and deploys are made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_work_survives_power_loss_at_any_moment() {
    let rounds: usize = std::env::var("SLIPWAY_POWER_LOSS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let mut seed = 0x5eed_u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut image = Vec::new();
    let mut acked = Acked::default();
    let mut marker = 0;
    let mut crashes = 0;
    let mut known = std::collections::HashSet::new();
    for round in 0..rounds {
        let (e, faults) = open(image);
        if round == 0 {
            e.create_automation(A, "Orders", "ann").unwrap();
            e.save_draft(A, 1, doc(0), "ann").unwrap();
            acked.draft = Some((2, 0));
        }
        verify(&e, &acked, &mut known, round);
        faults.crash_at_sync(1 + random(8));
        while !faults.crashed() {
            match random(10) {
                0..=2 => {
                    let version = e.get_draft(A).unwrap().version;
                    marker += 1;
                    if let Ok(saved) = e.save_draft(A, version, doc(marker), "ann") {
                        acked.draft = Some((saved.version, marker));
                    }
                }
                3..=6 => {
                    if let Ok(id) = call(&e).await {
                        acked.runs.push(id);
                    }
                }
                7 => {
                    let (name, value) = (format!("S{}", random(5)), format!("value {round}"));
                    if e.store_secret(A, Mode::Test, &name, &value, "ann").is_ok() {
                        acked.secrets.insert(name, value);
                    }
                }
                _ => {
                    if let Ok(d) = e.deploy(A, &DeployRequest::default(), "ann") {
                        acked.deployment = Some(d.number);
                    }
                }
            }
        }
        crashes += 1;
        image = faults.durable_image();
        drop(e);
    }
    let (e, _) = open(image);
    verify(&e, &acked, &mut std::collections::HashSet::new(), rounds);
    let report = format!(
        "power-loss: {crashes} simulated crashes; {} acknowledged runs, all stored; 0 lost",
        acked.runs.len()
    );
    println!("{report}");
    // `cargo xtask test` prints it (test output is captured).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/power-loss.txt");
    let _ = std::fs::write(path, format!("{report}\n"));
}

/// A schedule's firing and its queued run are one commit: whatever sync the power is lost at,
/// a restart finds both (the run then resumes) or neither (the schedule is still due).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_firing_and_its_run_survive_power_loss_together() {
    let schedule = json!({"format": 1, "composers": [{"slug": "tick", "name": "Tick",
        "trigger": {"kind": "schedule", "cron": "* * * * *"},
        "steps": [{"name": "t", "kind": "transform", "config": {"value": 1}}],
        "links": [{"from": "trigger", "to": "t"}]}]});
    for crash_at in 1..=4 {
        let clock = Clock::manual("2026-12-01T10:00:30Z".parse().unwrap());
        let (backend, faults) = FaultyBackend::new(Vec::new());
        let e = Engine::with_backend(backend, clock.clone()).unwrap();
        e.create_automation(A, "Orders", "ann").unwrap();
        e.save_draft(
            A,
            1,
            Document::from_json(&schedule.to_string()).unwrap(),
            "ann",
        )
        .unwrap();
        e.deploy(A, &DeployRequest::default(), "ann").unwrap();
        clock.advance(chrono::Duration::minutes(2));
        faults.crash_at_sync(crash_at);
        let _ = e.fire_due_schedules();
        tokio::time::sleep(Duration::from_millis(100)).await;
        faults.crash();
        let image = faults.durable_image();
        drop(e);
        let (backend, _) = FaultyBackend::new(image);
        let e = Engine::with_backend(backend, clock.clone()).unwrap();
        let due = e.armed_schedules().unwrap()[0].next <= clock.now();
        let runs = e
            .list_runs(
                A,
                Mode::Live,
                &crate::runs::RunFilter {
                    composer: None,
                    status: None,
                    limit: 10,
                    cursor: None,
                },
            )
            .unwrap()
            .items
            .len();
        assert!(
            (due && runs == 0) || (!due && runs == 1),
            "crash at sync {crash_at}: still due {due}, {runs} runs stored"
        );
    }
}
