//! Runs, webhooks and databases against the real executable.

mod common;

use common::*;
use serde_json::{Value, json};

async fn setup(s: &Server, doc: Value) -> reqwest::Client {
    let c = admin(s).await;
    create_automation(&c, s, "shop").await;
    save_draft(&c, s, "shop", &doc).await;
    c
}

fn orders_doc() -> Value {
    json!({"format": 1, "composers": [
        {"slug": "orders", "name": "Orders", "trigger": {"kind": "webhook", "method": "POST", "sample": {"body": {"id": "s1", "items": [1, 2], "note": "n"}}},
         "steps": [
            {"name": "total", "kind": "transform", "config": {"value": {"id": "{{ trigger.body.id }}", "total": "{{ trigger.body.items | sum }}", "note": "{{ trigger.body.note }}"}}},
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "{{ steps.total.id }}", "value": "{{ steps.total }}"}},
            {"name": "reply", "kind": "respond", "config": {"status": 201, "body": "{{ steps.save }}"}}
         ],
         "links": [{"from": "trigger", "to": "total"}, {"from": "total", "to": "save"}, {"from": "save", "to": "reply"}]},
        {"slug": "fire", "name": "Fire", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "wait", "kind": "delay", "config": {"ms": 10}}],
         "links": [{"from": "trigger", "to": "wait"}]},
        {"slug": "slow", "name": "Slow", "trigger": {"kind": "manual"},
         "steps": [{"name": "wait", "kind": "delay", "config": {"ms": 20000}}],
         "links": [{"from": "trigger", "to": "wait"}]}
    ]})
}

#[tokio::test]
async fn the_test_webhook_runs_the_draft_and_answers_with_the_respond_step() {
    let s = Server::start();
    let c = setup(&s, orders_doc()).await;
    let plain = reqwest::Client::new();
    let r = plain
        .post(s.url("/hooks/test/shop/orders"))
        .json(&json!({"id": "a1", "items": [1, 2, 3], "note": "{{ secrets.X }} {{ 1+1 }}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": "a1", "total": 6, "note": "{{ secrets.X }} {{ 1+1 }}"}),
        "data is never rendered again"
    );

    // The record is in the test database, readable over REST.
    let rec: Value = get_json(
        &c,
        s.url("/api/v1/automations/shop/databases/test/orders/records/a1"),
    )
    .await;
    assert_eq!(rec["value"]["total"], 6);
    let dbs: Value = get_json(&c, s.url("/api/v1/automations/shop/databases/test")).await;
    assert_eq!(dbs["items"][0]["name"], "orders");
    assert_eq!(dbs["items"][0]["count"], 1);
    let live: Value = get_json(&c, s.url("/api/v1/automations/shop/databases/live")).await;
    assert_eq!(
        live["items"],
        json!([]),
        "test runs never touch live databases"
    );

    // The run is recorded with every step.
    let runs: Value = get_json(&c, s.url("/api/v1/automations/shop/runs?mode=test")).await;
    let id = runs["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(runs["items"][0]["status"], "succeeded");
    let run: Value = get_json(&c, s.url(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(run["source"], "webhook");
    assert_eq!(run["input"]["body"]["id"], "a1");
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["succeeded", "succeeded", "succeeded"]);
    assert_eq!(run["steps"][0]["output"]["total"], 6);
}

#[tokio::test]
async fn webhooks_without_respond_answer_202_and_bad_bodies_are_refused() {
    let s = Server::start();
    let c = setup(&s, orders_doc()).await;
    let plain = reqwest::Client::new();
    let r = plain
        .post(s.url("/hooks/test/shop/fire"))
        .json(&json!({"x": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Durably queued before the answer: it can be read at once.
    let run = c
        .get(s.url(&format!("/api/v1/runs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);

    let r = plain
        .post(s.url("/hooks/test/shop/fire"))
        .header("content-type", "application/json")
        .body("{\"x\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{e}"
    );

    // The server stops reading an oversized body, so that connection is not reused. Just over
    // the 10 MiB limit: what the server leaves unread must fit the loopback socket buffers, or
    // the client's write can fail with a broken pipe before it reads the 413.
    let big = vec![b' '; (10 << 20) + 4096];
    let r = reqwest::Client::new()
        .post(s.url("/hooks/test/shop/fire"))
        .header("connection", "close")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = plain
        .post(s.url("/hooks/test/shop/nope"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = plain
        .get(s.url("/hooks/test/shop/fire"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the composer takes POST");
}

#[tokio::test]
async fn runs_over_the_api_with_wait_and_live_databases_are_read_only() {
    let s = Server::start();
    let c = setup(&s, orders_doc()).await;
    let r = c
        .post(s.url("/api/v1/automations/shop/composers/orders/runs"))
        .json(&json!({"mode": "test", "wait": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["source"], "api");
    assert_eq!(
        run["input"]["body"]["id"], "s1",
        "without input a test run takes the sample"
    );

    let r = c
        .post(s.url("/api/v1/automations/shop/composers/orders/runs"))
        .json(&json!({"mode": "live", "wait": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "nothing is deployed yet");

    let r = c
        .put(s.url("/api/v1/automations/shop/databases/test/orders/records/k1"))
        .json(&json!({"hand": "made"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = get_json(
        &c,
        s.url("/api/v1/automations/shop/databases/test/orders/records?prefix=k"),
    )
    .await;
    assert_eq!(page["items"][0]["key"], "k1");
    let r = c
        .put(s.url("/api/v1/automations/shop/databases/live/orders/records/k1"))
        .json(&json!({"hand": "made"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "live_read_only");
    let r = c
        .delete(s.url("/api/v1/automations/shop/databases/test/orders/records/k1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// kill -9 in the middle of a run: after the restart the run is `interrupted`, not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_by_kill_9_is_interrupted_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let mut s = Server::start_in(&dir);
    let c = setup(&s, orders_doc()).await;
    let r = c
        .post(s.url("/api/v1/automations/shop/composers/slow/runs"))
        .json(&json!({"mode": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.kill9();
    let s = Server::start_in(&dir);
    let c = admin(&s).await;
    let run: Value = get_json(&c, s.url(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(run["status"], "interrupted", "{run}");
    assert!(run["error"].as_str().unwrap().contains("server stopped"));
}
