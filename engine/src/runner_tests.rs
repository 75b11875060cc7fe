//! Runner tests on redb's in-memory backend, with a real HTTP server on 127.0.0.1 for the
//! `http` step.

use crate::Engine;
use crate::runs::{RunSource, RunStatus, StepStatus};
use model::{Document, Mode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn engine_with(doc: Value) -> Engine {
    crate::testing::orders_with_draft(&doc.to_string())
}

fn composer(steps: Value, links: Value) -> Value {
    json!({"format": 1, "composers": [{"slug": "c", "name": "C", "trigger": {"kind": "manual", "sample": {"x": 10, "items": [1, 2, 3]}}, "steps": steps, "links": links}]})
}

async fn run(e: &Engine, input: Option<Value>) -> crate::runs::Run {
    let h = e
        .start_composer_run("orders", "c", Mode::Test, RunSource::Manual, input)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), h.finished)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

fn step<'a>(r: &'a crate::runs::Run, name: &str) -> &'a crate::runs::StepRun {
    r.steps.iter().find(|s| s.name == name).unwrap()
}

#[tokio::test]
async fn a_join_waits_for_every_incoming_step() {
    let e = engine_with(composer(
        json!([
            {"name": "a", "kind": "transform", "config": {"value": "{{ trigger.x }}"}},
            {"name": "b", "kind": "delay", "config": {"ms": 50}},
            {"name": "c", "kind": "transform", "config": {"value": {"a": "{{ steps.a }}", "b": "{{ steps.b.waited_ms }}"}}}
        ]),
        json!([{"from": "trigger", "to": "a"}, {"from": "trigger", "to": "b"}, {"from": "a", "to": "c"}, {"from": "b", "to": "c"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    assert_eq!(step(&r, "c").output, json!({"a": 10, "b": 50}));
    assert!(step(&r, "c").started_at >= step(&r, "b").finished_at);
    // Stored as it ran.
    let stored = e.get_run(&r.id).unwrap();
    assert_eq!(stored.status, RunStatus::Succeeded);
    assert_eq!(stored.steps.len(), 3);
}

#[tokio::test]
async fn a_branch_skips_the_other_side_and_joins_still_run() {
    let e = engine_with(composer(
        json!([
            {"name": "br", "kind": "branch", "config": {"condition": "trigger.x > 5"}},
            {"name": "big", "kind": "transform", "config": {"value": "big"}},
            {"name": "small", "kind": "transform", "config": {"value": "small"}},
            {"name": "after_small", "kind": "transform", "config": {"value": 1}},
            {"name": "end", "kind": "transform", "config": {"value": "done"}}
        ]),
        json!([{"from": "trigger", "to": "br"}, {"from": "br", "to": "big", "port": "true"}, {"from": "br", "to": "small", "port": "false"},
               {"from": "small", "to": "after_small"}, {"from": "big", "to": "end"}, {"from": "after_small", "to": "end"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    assert_eq!(step(&r, "br").output, json!({"result": true}));
    assert_eq!(step(&r, "big").status, StepStatus::Succeeded);
    assert_eq!(step(&r, "small").status, StepStatus::Skipped);
    assert_eq!(step(&r, "after_small").status, StepStatus::Skipped);
    assert_eq!(step(&r, "end").status, StepStatus::Succeeded);

    let r = run(&e, Some(json!({"x": 1}))).await;
    assert_eq!(step(&r, "big").status, StepStatus::Skipped);
    assert_eq!(step(&r, "small").status, StepStatus::Succeeded);
}

#[tokio::test]
async fn independent_paths_run_concurrently() {
    let e = engine_with(composer(
        json!([
            {"name": "a", "kind": "delay", "config": {"ms": 1000}},
            {"name": "b", "kind": "delay", "config": {"ms": 1000}},
            {"name": "c", "kind": "delay", "config": {"ms": 1000}}
        ]),
        json!([{"from": "trigger", "to": "a"}, {"from": "trigger", "to": "b"}, {"from": "trigger", "to": "c"}]),
    ));
    let t = Instant::now();
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded);
    // One after another would take 3 s.
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn timeouts_and_on_error_continue() {
    let e = engine_with(composer(
        json!([
            {"name": "slow", "kind": "delay", "config": {"ms": 3000, "timeout_ms": 100, "on_error": "continue"}},
            {"name": "next", "kind": "transform", "config": {"value": "{{ steps.slow.error }}"}},
            {"name": "boom", "kind": "delay", "config": {"ms": 3000, "timeout_ms": 50}},
            {"name": "never", "kind": "transform", "config": {"value": 1}}
        ]),
        json!([{"from": "trigger", "to": "slow"}, {"from": "slow", "to": "next"}, {"from": "next", "to": "boom"}, {"from": "boom", "to": "never"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(step(&r, "slow").status, StepStatus::Failed);
    assert_eq!(step(&r, "next").output, json!("timed out after 100 ms"));
    assert_eq!(step(&r, "boom").status, StepStatus::Failed);
    assert_eq!(step(&r, "never").status, StepStatus::Skipped);
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("step boom, timed out after 50 ms"));
}

#[tokio::test]
async fn expression_errors_name_the_step_and_the_field() {
    let e = engine_with(composer(
        json!([{"name": "total", "kind": "transform", "config": {"value": {"total": "{{ steps.totl }}"}}}]),
        json!([{"from": "trigger", "to": "total"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Failed);
    let err = r.error.unwrap();
    assert!(
        err.starts_with("step total, value.total: unknown variable"),
        "{err}"
    );
    assert!(err.contains("steps.totl"), "{err}");
}

#[tokio::test]
async fn database_steps_read_what_they_wrote_in_their_own_mode() {
    let e = engine_with(composer(
        json!([
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "a1", "value": {"total": "{{ trigger.items | sum }}"}}},
            {"name": "load", "kind": "database", "config": {"op": "get", "database": "orders", "key": "a1"}},
            {"name": "n", "kind": "database", "config": {"op": "count", "database": "orders"}}
        ]),
        json!([{"from": "trigger", "to": "save"}, {"from": "save", "to": "load"}, {"from": "load", "to": "n"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    assert_eq!(step(&r, "load").output, json!({"total": 6}));
    assert_eq!(step(&r, "n").output, json!(1));
    assert_eq!(e.db_count("orders", Mode::Test, "orders").unwrap(), 1);
    assert!(
        e.db_count("orders", Mode::Live, "orders").is_err(),
        "live has no such database"
    );
}

#[tokio::test]
async fn code_steps_get_input_and_log() {
    let e = engine_with(composer(
        json!([{"name": "double", "kind": "code", "config": {"source": "console.log('x is', input.trigger.x); return input.trigger.x * 2"}}]),
        json!([{"from": "trigger", "to": "double"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    assert_eq!(step(&r, "double").output, json!(20));
    assert_eq!(step(&r, "double").logs, vec!["x is 10".to_string()]);
}

#[tokio::test]
async fn respond_reaches_the_waiting_caller() {
    let e = engine_with(composer(
        json!([{"name": "first", "kind": "transform", "config": {"value": "{{ trigger.x }}"}},
               {"name": "reply", "kind": "respond", "config": {"status": 201, "body": {"id": "{{ steps.first }}"}}}]),
        json!([{"from": "trigger", "to": "first"}, {"from": "first", "to": "reply"}]),
    ));
    let h = e
        .start_composer_run("orders", "c", Mode::Test, RunSource::Webhook, None)
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), h.responded)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((r.status, r.body), (201, json!({"id": 10})));
}

#[tokio::test]
async fn database_writes_of_many_runs_share_commits_and_a_bad_one_fails_alone() {
    let e = engine_with(composer(
        json!([
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "{{ trigger.db }}", "key": "{{ trigger.key }}", "value": "{{ trigger.key }}"}},
            {"name": "gone", "kind": "database", "config": {"op": "delete", "database": "{{ trigger.db }}", "key": "nothing-here"}},
            {"name": "again", "kind": "database", "config": {"op": "delete", "database": "{{ trigger.db }}", "key": "{{ trigger.key }}"}},
            {"name": "back", "kind": "database", "config": {"op": "put", "database": "{{ trigger.db }}", "key": "{{ trigger.key }}", "value": "{{ trigger.key }}"}}
        ]),
        json!([{"from": "trigger", "to": "save"}, {"from": "save", "to": "gone"}, {"from": "gone", "to": "again"}, {"from": "again", "to": "back"}]),
    ));
    // Fifty runs at once, one of them naming an invalid database.
    let mut handles = vec![];
    for i in 0..50 {
        let db = if i == 7 { "Not A Name" } else { "orders" };
        let input = json!({"db": db, "key": format!("k{i}")});
        handles.push(
            e.start_composer_run("orders", "c", Mode::Test, RunSource::Api, Some(input))
                .unwrap(),
        );
    }
    for (i, h) in handles.into_iter().enumerate() {
        let r = tokio::time::timeout(Duration::from_secs(20), h.finished)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if i == 7 {
            assert_eq!(r.status, RunStatus::Failed);
            let error = r.error.unwrap();
            assert!(error.starts_with("step save, "), "{error}");
            assert!(error.contains("Not A Name"), "{error}");
            continue;
        }
        assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
        assert_eq!(step(&r, "gone").output, json!({"deleted": false}));
        assert_eq!(step(&r, "again").output, json!({"deleted": true}));
        assert_eq!(step(&r, "back").output, json!(format!("k{i}")));
    }
    assert_eq!(e.db_count("orders", Mode::Test, "orders").unwrap(), 49);
    assert_eq!(
        e.db_get("orders", Mode::Test, "orders", "k49").unwrap(),
        Some(json!("k49"))
    );
}

#[tokio::test]
async fn runs_are_stored_as_running_while_a_step_is_busy() {
    let e = engine_with(composer(
        json!([{"name": "wait", "kind": "delay", "config": {"ms": 600}},
               {"name": "reply", "kind": "respond", "config": {"status": 200, "body": "ok"}}]),
        json!([{"from": "trigger", "to": "wait"}, {"from": "wait", "to": "reply"}]),
    ));
    // A run queued on disk is stored as running at once (a crash finds it interrupted).
    let manual = e
        .start_composer_run("orders", "c", Mode::Test, RunSource::Manual, None)
        .unwrap();
    // A webhook run whose caller waits has a quiet start, then is stored even though nothing
    // changes while its step is busy.
    let hook = e
        .start_composer_run("orders", "c", Mode::Test, RunSource::Webhook, None)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    e.runs().flush().unwrap();
    assert_eq!(e.get_run(&manual.id).unwrap().status, RunStatus::Running);
    assert!(
        e.get_run(&hook.id).is_err(),
        "not written in its quiet start"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    e.runs().flush().unwrap();
    let stored = e.get_run(&hook.id).unwrap();
    assert_eq!(stored.status, RunStatus::Running);
    assert_eq!(step(&stored, "wait").status, StepStatus::Running);
    for h in [manual, hook] {
        let r = tokio::time::timeout(Duration::from_secs(5), h.finished)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(r.status, RunStatus::Succeeded);
        assert_eq!(e.get_run(&r.id).unwrap().status, RunStatus::Succeeded);
    }
}

#[tokio::test]
async fn a_webhook_caller_hears_the_answer_after_the_finished_run_is_stored() {
    let e = engine_with(composer(
        json!([{"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "{{ trigger.x }}", "value": 1}},
               {"name": "reply", "kind": "respond", "config": {"status": 200, "body": "ok"}}]),
        json!([{"from": "trigger", "to": "save"}, {"from": "save", "to": "reply"}]),
    ));
    let h = e
        .start_composer_run("orders", "c", Mode::Test, RunSource::Webhook, None)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), h.responded)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // No flush: what the caller was answered after is already committed.
    let stored = e.get_run(&h.id).unwrap();
    assert_eq!(stored.status, RunStatus::Succeeded);
    assert_eq!(step(&stored, "reply").status, StepStatus::Succeeded);
    assert_eq!(
        e.db_get("orders", Mode::Test, "orders", "10").unwrap(),
        Some(json!(1))
    );
}

/// What the run page does: subscribe, read the stored run, then follow its events. Whenever it
/// subscribes, a run it read unfinished must still be heard finishing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_reads_a_run_unfinished_hears_it_finish() {
    let e = engine_with(composer(
        json!([{"name": "a", "kind": "transform", "config": {"value": "{{ trigger.x }}"}}]),
        json!([{"from": "trigger", "to": "a"}]),
    ));
    let mut unfinished = 0;
    for i in 0..300 {
        let h = e
            .start_composer_run("orders", "c", Mode::Test, RunSource::Manual, None)
            .unwrap();
        // Subscribe at a different moment of the run each time.
        for _ in 0..(i % 7) {
            tokio::task::yield_now().await;
        }
        let mut rx = e.subscribe_runs();
        if e.get_run(&h.id).unwrap().status.is_finished() {
            continue;
        }
        unfinished += 1;
        let heard = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match rx.recv().await {
                    Ok(run) if run.id == h.id && run.status.is_finished() => return run.status,
                    Ok(_) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("run {i} was read unfinished and never heard finishing"));
        assert_eq!(heard, RunStatus::Succeeded);
    }
    assert!(unfinished > 0, "some runs were read before they finished");
}

/// A tiny HTTP server on 127.0.0.1 for the http step.
async fn serve(app: axum::Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn http_steps_retry_parse_json_and_report_clear_errors() {
    use axum::routing::get;
    let hits = Arc::new(AtomicUsize::new(0));
    let h2 = hits.clone();
    let base = serve(
        axum::Router::new()
            .route(
                "/flaky",
                get(move || {
                    let n = h2.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n < 2 {
                            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
                        } else {
                            axum::Json(json!({"ok": true, "n": n})).into_response()
                        }
                    }
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/loop",
                get(|| async { axum::response::Redirect::temporary("/loop") }),
            )
            .route(
                "/fake-json",
                get(|| async { ([("content-type", "application/json")], "not json at all") }),
            )
            .route(
                "/missing",
                get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }),
            ),
    )
    .await;
    use axum::response::IntoResponse;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("http://{a}")
    };
    let e = engine_with(composer(
        json!([
            {"name": "flaky", "kind": "http", "config": {"method": "GET", "url": format!("{base}/flaky"), "retry": {"max_attempts": 3, "backoff_ms": 10}}},
            {"name": "slow", "kind": "http", "config": {"url": format!("{base}/slow"), "timeout_ms": 200, "on_error": "continue"}},
            {"name": "looping", "kind": "http", "config": {"url": format!("{base}/loop"), "on_error": "continue"}},
            {"name": "fake", "kind": "http", "config": {"url": format!("{base}/fake-json"), "on_error": "continue"}},
            {"name": "refused", "kind": "http", "config": {"url": format!("{closed}/x"), "on_error": "continue"}},
            {"name": "dns", "kind": "http", "config": {"url": "http://no-such-host.invalid/x", "on_error": "continue"}},
            {"name": "missing", "kind": "http", "config": {"url": format!("{base}/missing"), "on_error": "continue"}},
            {"name": "expected", "kind": "http", "config": {"url": format!("{base}/missing"), "expect_status": 404}}
        ]),
        json!([{"from": "trigger", "to": "flaky"}, {"from": "trigger", "to": "slow"}, {"from": "trigger", "to": "looping"},
               {"from": "trigger", "to": "fake"}, {"from": "trigger", "to": "refused"}, {"from": "trigger", "to": "dns"},
               {"from": "trigger", "to": "missing"}, {"from": "trigger", "to": "expected"}]),
    ));
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    let flaky = step(&r, "flaky");
    assert_eq!(
        (flaky.attempts, flaky.output["body"].clone()),
        (3, json!({"ok": true, "n": 2}))
    );
    let err = |n: &str| step(&r, n).error.clone().unwrap_or_default();
    assert_eq!(err("slow"), "timed out after 200 ms");
    assert!(
        err("looping").contains("too many redirects"),
        "{}",
        err("looping")
    );
    assert!(
        err("fake").contains("says it is JSON but is not"),
        "{}",
        err("fake")
    );
    assert!(
        err("refused").starts_with("cannot connect"),
        "{}",
        err("refused")
    );
    assert!(
        err("dns").contains("cannot connect") || err("dns").contains("dns"),
        "{}",
        err("dns")
    );
    assert_eq!(err("missing"), "the server answered 404");
    assert_eq!(step(&r, "expected").output["status"], json!(404));
}

#[tokio::test]
async fn after_a_crash_running_runs_become_interrupted_and_queued_ones_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slipway.redb");
    let (running_id, queued_id);
    {
        let e = Engine::open(&path).unwrap();
        let r = e.get_draft("x").err();
        assert!(r.is_some());
        let base = crate::runs::Run {
            id: uuid::Uuid::now_v7().to_string(),
            automation: "orders".into(),
            composer: "c".into(),
            mode: Mode::Test,
            source: RunSource::Manual,
            revision: None,
            deployment: None,
            status: RunStatus::Running,
            queued_at: e.now(),
            started_at: Some(e.now()),
            finished_at: None,
            input: json!({}),
            steps: vec![],
            error: None,
            last_finished_step: Some("total".into()),
            replay_of: None,
        };
        running_id = base.id.clone();
        let mut queued = base.clone();
        queued.id = uuid::Uuid::now_v7().to_string();
        queued.status = RunStatus::Queued;
        queued_id = queued.id.clone();
        e.runs().put(base, true).unwrap();
        e.runs().put(queued, true).unwrap();
        // The "crash": nothing finishes these runs.
    }
    // The writer thread lets go of the file once its channel closes.
    let mut e = None;
    for _ in 0..50 {
        match Engine::open(&path) {
            Ok(x) => {
                e = Some(x);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let e = e.expect("the data file reopens");
    let queued = e.recover_runs().unwrap();
    assert_eq!(
        queued.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![queued_id]
    );
    let r = e.get_run(&running_id).unwrap();
    assert_eq!(r.status, RunStatus::Interrupted);
    assert!(
        r.error
            .unwrap()
            .contains("the last step to finish was `total`")
    );
}

#[tokio::test]
async fn a_failure_cancels_parallel_steps_and_the_run_names_the_failing_step() {
    let e = engine_with(composer(
        json!([
            {"name": "slow", "kind": "delay", "config": {"ms": 2000}},
            {"name": "bad", "kind": "transform", "config": {"value": "{{ nope.x }}"}}
        ]),
        json!([{"from": "trigger", "to": "slow"}, {"from": "trigger", "to": "bad"}]),
    ));
    let started = Instant::now();
    let r = run(&e, None).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the slow step was cancelled"
    );
    assert_eq!(r.status, RunStatus::Failed);
    let error = r.error.clone().unwrap();
    assert!(error.starts_with("step bad, "), "{error}");
    assert_eq!(step(&r, "slow").status, StepStatus::Skipped);
    assert!(
        step(&r, "slow")
            .error
            .as_deref()
            .unwrap()
            .starts_with("cancelled")
    );
}

/// An `http` call made after a `put` may make someone else read the record: by then it is
/// committed.
#[tokio::test]
async fn what_a_run_wrote_is_committed_before_its_http_calls_go_out() {
    let e = engine_with(json!({"format": 1, "composers": []}));
    let seen = {
        let e = e.clone();
        axum::Router::new().route(
            "/look",
            axum::routing::get(move || {
                let e = e.clone();
                async move {
                    let v = e
                        .db_get("orders", Mode::Test, "orders", "k1")
                        .unwrap_or(None);
                    axum::Json(json!({ "saw": v }))
                }
            }),
        )
    };
    let base = serve(seen).await;
    let doc = composer(
        json!([
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "k1", "value": "written"}},
            {"name": "look", "kind": "http", "config": {"method": "GET", "url": format!("{base}/look")}}
        ]),
        json!([{"from": "trigger", "to": "save"}, {"from": "save", "to": "look"}]),
    );
    let d = Document::from_json(&doc.to_string()).unwrap();
    e.save_draft("orders", 2, d, "ann").unwrap();
    let r = run(&e, None).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    assert_eq!(step(&r, "look").output["body"], json!({"saw": "written"}));
}
