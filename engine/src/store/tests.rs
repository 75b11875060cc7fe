//! The data file itself: typed tables, the format marker, the conversion of format-1 files,
//! rows that do not decode, and what storing a run costs. On real redb files.

use super::*;
use crate::automations::AUTOMATIONS;
use crate::runs::{Run, RunSource, RunStatus, StepRun, StepStatus};
use model::Mode;
use redb::{ReadableTableMetadata, TableHandle};
use serde_json::json;

const AT: &str = "2026-01-05T09:00:00Z";

fn at() -> chrono::DateTime<chrono::Utc> {
    AT.parse().unwrap()
}

/// A finished run of five steps, each with a small input and output (about 2.4 KB of JSON).
fn sample_run(i: usize) -> Run {
    let steps = (0..5)
        .map(|s| StepRun {
            name: format!("step-{s}"),
            kind: "http".into(),
            status: StepStatus::Succeeded,
            attempts: 1,
            started_at: Some(at()),
            finished_at: Some(at()),
            input: json!({"url": "https://example.com/api/orders", "method": "POST",
                "body": {"order": i, "items": [1, 2, 3]}}),
            output: json!({"status": 200, "body": {"id": format!("ord-{i}"), "total": 129.5,
                "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}}),
            logs: vec![format!("called example.com for order {i}")],
            error: None,
        })
        .collect();
    Run {
        id: uuid::Uuid::now_v7().to_string(),
        automation: "orders".into(),
        composer: "sync".into(),
        mode: Mode::Test,
        source: RunSource::Manual,
        revision: Some(3),
        deployment: None,
        status: RunStatus::Succeeded,
        queued_at: at(),
        started_at: Some(at()),
        finished_at: Some(at()),
        input: json!({"order": i}),
        steps,
        error: None,
        last_finished_step: Some("step-4".into()),
        replay_of: None,
    }
}

fn meta_format(path: &Path) -> String {
    let db = Database::open(path).unwrap();
    let r = db.begin_read().unwrap();
    let t = r.open_table(META).unwrap();
    t.get(FORMAT_KEY).unwrap().unwrap().value().to_string()
}

#[test]
fn a_new_file_is_format_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slipway.redb");
    drop(Engine::open(&path).unwrap());
    assert_eq!(meta_format(&path), "2");
}

/// The type names redb keeps in the file: changing one makes every existing file unreadable
/// without a migration, so they are spelled out here.
#[test]
fn stored_type_names_are_stable() {
    use crate::{accounts, audit, databases, deployments, drafts, revisions, runs, scheduler};
    fn name<K: Key + 'static, V: redb::Value + 'static>(t: TableDefinition<K, V>) -> String {
        format!("{} {}", t.name(), V::type_name().name())
    }
    let names = [
        name(AUTOMATIONS),
        name(drafts::DRAFTS),
        name(revisions::REVISIONS),
        name(revisions::MANIFESTS),
        name(crate::blobs::BLOBS),
        name(deployments::DEPLOYMENTS),
        name(runs::RUNS),
        name(runs::RUN_INDEX),
        name(runs::ACTIVE_RUNS),
        name(databases::RECORDS),
        name(databases::DB_META),
        name(crate::vault::SECRETS),
        name(accounts::USERS),
        name(accounts::SESSIONS),
        name(accounts::API_TOKENS),
        name(audit::AUDIT),
        name(scheduler::LAST_FIRED),
        name(crate::retention::RETENTION),
        name(META),
    ];
    assert_eq!(
        names,
        [
            "automations slipway::Json<Automation>",
            "drafts slipway::Json<Draft>",
            "revisions slipway::Json<Revision>",
            "revision_manifests &[u8]",
            "blobs &[u8]",
            "deployments slipway::Json<Deployment>",
            "runs slipway::Json<Run>",
            "run_index slipway::Json<RunIndexEntry>",
            "active_runs &[u8]",
            "db_records slipway::Json<JsonValue>",
            "db_meta slipway::Json<DbMeta>",
            "secrets slipway::Json<Sealed>",
            "users slipway::Json<StoredUser>",
            "sessions slipway::Json<Session>",
            "api_tokens slipway::Json<ApiTokenInfo>",
            "audit slipway::Json<AuditEntry>",
            "schedule_fired slipway::Json<DateTime<Utc>>",
            "retention slipway::Json<Retention>",
            "meta &str",
        ]
    );
}

/// A data file as Slipway wrote it before tables were typed: every value `&[u8]` holding JSON.
fn write_format_1(path: &Path, run: &Run) {
    fn old<K: Key + 'static>(name: &str) -> TableDefinition<'_, K, &'static [u8]> {
        TableDefinition::new(name)
    }
    let db = Database::create(path).unwrap();
    let w = db.begin_write().unwrap();
    {
        w.open_table(META).unwrap().insert(FORMAT_KEY, "1").unwrap();
        let put = |table: &str, key: &str, value: serde_json::Value| {
            let mut t = w.open_table(old::<&str>(table)).unwrap();
            t.insert(key, serde_json::to_vec(&value).unwrap().as_slice())
                .unwrap();
        };
        put(
            "automations",
            "orders",
            json!({"slug": "orders", "name": "Orders", "created_at": AT, "created_by": "ann"}),
        );
        put(
            "drafts",
            "orders",
            json!({"version": 4, "document": {"format": 1, "composers": [], "connections": []},
                "updated_at": AT, "updated_by": "ann"}),
        );
        put(
            "users",
            "ann",
            json!({"username": "ann", "role": "admin", "created_at": AT,
                "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"}),
        );
        put(
            "audit",
            "0190a000-0000-7000-8000-000000000000",
            json!({"id": "0190a000-0000-7000-8000-000000000000", "at": AT, "actor": "ann",
                "action": "user_add", "automation": null, "detail": "added user ann as admin"}),
        );
        put("runs", &run.id, serde_json::to_value(run).unwrap());
        let mut index = w
            .open_table(old::<(&str, &str, &str)>("run_index"))
            .unwrap();
        index
            .insert(
                ("orders", "test", run.id.as_str()),
                br#"["sync","succeeded"]"#.as_slice(),
            )
            .unwrap();
        let mut records = w
            .open_table(old::<(&str, &str, &str, &str)>("db_records"))
            .unwrap();
        records
            .insert(
                ("orders", "test", "carts", "c1"),
                br#"{"total":3}"#.as_slice(),
            )
            .unwrap();
        let mut meta = w.open_table(old::<(&str, &str, &str)>("db_meta")).unwrap();
        let m = format!(r#"{{"created_at":"{AT}","count":1}}"#);
        meta.insert(("orders", "test", "carts"), m.as_bytes())
            .unwrap();
        let mut fired = w.open_table(old::<(&str, &str)>("schedule_fired")).unwrap();
        let when = format!(r#""{AT}""#);
        fired
            .insert(("orders", "nightly"), when.as_bytes())
            .unwrap();
        // Bytes that stay bytes.
        w.open_table(old::<&str>("active_runs")).unwrap();
        w.open_table(old::<&[u8]>("blobs")).unwrap();
        w.open_table(old::<(&str, u64)>("revision_manifests"))
            .unwrap();
    }
    w.commit().unwrap();
}

#[test]
fn a_format_1_file_is_converted_on_open_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slipway.redb");
    let run = sample_run(1);
    write_format_1(&path, &run);

    let e = Engine::open(&path).unwrap();
    let orders = e.get_automation("orders").unwrap();
    assert_eq!(
        (orders.name.as_str(), orders.created_by.as_str()),
        ("Orders", "ann")
    );
    assert_eq!(orders.created_at, at());
    assert_eq!(e.get_draft("orders").unwrap().version, 4);
    let ann = e.get_user("ann").unwrap();
    assert_eq!((ann.role, ann.created_at), (crate::Role::Admin, at()));
    assert_eq!(
        e.list_audit(10, None).unwrap().items[0].detail,
        "added user ann as admin"
    );
    assert_eq!(e.get_run(&run.id).unwrap(), run);
    let page = e
        .list_runs("orders", Mode::Test, &crate::runs::RunFilter::default())
        .unwrap();
    assert_eq!(page.items, vec![run.summary()]);
    assert_eq!(
        e.db_get("orders", Mode::Test, "carts", "c1").unwrap(),
        Some(json!({"total": 3}))
    );
    assert_eq!(e.db_count("orders", Mode::Test, "carts").unwrap(), 1);
    assert_eq!(
        e.row(crate::scheduler::LAST_FIRED, ("orders", "nightly"))
            .unwrap(),
        Some(at())
    );
    // Converted tables take writes, and the file works as any other.
    e.create_automation("billing", "Billing", "ann").unwrap();
    e.db_put("orders", Mode::Test, "carts", "c2", json!(4))
        .unwrap();
    assert_eq!(e.db_count("orders", Mode::Test, "carts").unwrap(), 2);
    drop(e);

    assert_eq!(meta_format(&path), "2");
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    let mut tables: Vec<String> = r
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_string())
        .collect();
    tables.sort();
    assert!(!tables.iter().any(|t| t.contains("format-1")), "{tables:?}");
    // The bytes are those format 1 held.
    let records = r.open_table(encoded(&crate::databases::RECORDS)).unwrap();
    assert_eq!(records.len().unwrap(), 2);
    let c1 = records
        .get(("orders", "test", "carts", "c1"))
        .unwrap()
        .unwrap();
    assert_eq!(c1.value().decode().unwrap(), json!({"total": 3}));
    drop((c1, records, r, db));

    let e = Engine::open(&path).unwrap();
    assert_eq!(e.list_automations().unwrap().len(), 2);
    assert_eq!(e.get_run(&run.id).unwrap(), run);
}

#[test]
fn a_newer_format_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slipway.redb");
    {
        let db = Database::create(&path).unwrap();
        let w = db.begin_write().unwrap();
        w.open_table(META).unwrap().insert(FORMAT_KEY, "3").unwrap();
        w.commit().unwrap();
    }
    let err = Engine::open(&path).err().expect("format 3 is refused");
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("has data format 3; this Slipway reads format 2"),
        "{err}"
    );
    assert_eq!(meta_format(&path), "3");
}

/// A row that is not the JSON of its type (written through the encoded view, which does not
/// check): typed reads answer a storage error naming the type, as untyped reads did; a bare
/// `.value()` unwinds with the same message.
#[test]
fn a_row_that_does_not_decode_is_an_error_naming_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(&dir.path().join("slipway.redb")).unwrap();
    e.create_automation("orders", "Orders", "ann").unwrap();
    let w = e.db().begin_write().unwrap();
    w.open_table(encoded(&AUTOMATIONS))
        .unwrap()
        .insert("broken", Encoded::trusted(br#"{"slug": 7}"#))
        .unwrap();
    w.commit().unwrap();

    let storage = |r: Result<_>| match r {
        Err(Error::Storage(m)) => m,
        Err(other) => panic!("expected a storage error, got {other:?}"),
        Ok(_) => panic!("expected a storage error"),
    };
    let m = storage(e.get_automation("broken").map(|_| ()));
    assert!(
        m.starts_with("a stored Automation cannot be read (invalid type"),
        "{m}"
    );
    storage(e.list_automations().map(|_| ()));
    assert_eq!(e.get_automation("orders").unwrap().name, "Orders");

    let r = e.db().begin_read().unwrap();
    let t = r.open_table(AUTOMATIONS).unwrap();
    let row = t.get("broken").unwrap().unwrap();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| row.value()))
        .expect_err("the bare value unwinds");
    assert_eq!(crate::panic_message(unwound.as_ref()), m);
}

/// What storing a run costs the run writer: encoding the record, and the inserts of record,
/// index entry and active marker, with a commit per 64 runs (in memory, so no fsync). Medians
/// of 7 rounds of 4,096 runs of 2.4 KB, three runs of the test on a shared 2-core machine,
/// `--release` (a debug build in brackets, dependencies unoptimised too):
///
/// | per run | store |
/// |---|---|
/// | format 1: `to_bytes` into `&[u8]` tables (before typed tables) | 22.5–23.4 µs (316 µs) |
/// | typed: `Json<Run>` inserts, each run encoded twice | 25.4–25.6 µs (430–468 µs) |
/// | typed: `JsonEncoded<Run>` inserts, what the writer does | 19.8–21.8 µs (315–333 µs) |
///
/// Encoding one run is 9.1–9.9 µs (108–114 µs) of that.
#[test]
#[ignore = "a measurement: cargo test -p engine --lib store_cost_per_run -- --ignored --nocapture"]
fn store_cost_per_run() {
    let runs: Vec<Run> = (0..4096).map(sample_run).collect();
    let bytes = serde_json::to_vec(&runs[0]).unwrap().len();
    let per_run = |t: std::time::Instant| t.elapsed().as_secs_f64() * 1e6 / runs.len() as f64;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut encode, mut typed, mut writer) = (vec![], vec![], vec![]);
    for _ in 0..7 {
        let t = std::time::Instant::now();
        for run in &runs {
            std::hint::black_box(Encoded::new(run).unwrap());
        }
        encode.push(per_run(t));

        let e = crate::testing::engine();
        let t = std::time::Instant::now();
        for batch in runs.chunks(64) {
            let w = e.db().begin_write().unwrap();
            {
                let mut records = w.open_table(crate::runs::RUNS).unwrap();
                let mut index = w.open_table(crate::runs::RUN_INDEX).unwrap();
                let mut active = w.open_table(crate::runs::ACTIVE_RUNS).unwrap();
                for run in batch {
                    records.insert(run.id.as_str(), run).unwrap();
                    let entry = crate::runs::IndexEntry(run.composer.clone(), run.status);
                    index
                        .insert((run.automation.as_str(), "test", run.id.as_str()), &entry)
                        .unwrap();
                    active.remove(run.id.as_str()).unwrap();
                }
            }
            w.commit().unwrap();
        }
        typed.push(per_run(t));

        let e = crate::testing::engine();
        let t = std::time::Instant::now();
        for batch in runs.chunks(64) {
            let w = e.db().begin_write().unwrap();
            crate::runs::store_runs_in(&w, batch.iter()).unwrap();
            w.commit().unwrap();
        }
        writer.push(per_run(t));
    }
    println!(
        "run of {bytes} B, per run: encode {:.1} µs; store with Json<Run> inserts {:.1} µs, \
         with the writer's encoded inserts {:.1} µs",
        median(encode),
        median(typed),
        median(writer)
    );
}
