//! Overload (PRODUCT.md §15): with `SLIPWAY_MAX_RUNNING=2` and `SLIPWAY_MAX_QUEUED=10`, a flood
//! of webhooks on a slow composer gets `202` (stored and later run, two at a time, first in
//! first out) or `503` with `Retry-After` (nothing stored), and the server keeps answering.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn slow() -> Value {
    json!({"format": 1, "composers": [
        {"slug": "slow", "name": "Slow", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "wait", "kind": "delay", "config": {"ms": 2000}}],
         "links": [{"from": "trigger", "to": "wait"}]}
    ]})
}

#[tokio::test]
async fn a_flood_is_queued_up_to_the_limit_and_refused_past_it() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        &tmp.path().join("data"),
        &[("SLIPWAY_MAX_RUNNING", "2"), ("SLIPWAY_MAX_QUEUED", "10")],
    );
    let c = admin(&s).await;
    create_automation(&c, &s, "flood").await;
    save_draft(&c, &s, "flood", &slow()).await;

    let calls = (0..50).map(|i| {
        let url = s.url("/hooks/test/flood/slow");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&json!({ "i": i }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body: Value = r.json().await.unwrap();
            (status, retry, body)
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let mut accepted = vec![];
    for (status, retry, body) in &answers {
        match status {
            202 => accepted.push(body["run_id"].as_str().unwrap().to_string()),
            503 => {
                assert_eq!(body["error"]["code"], "overloaded", "{body}");
                assert_eq!(retry.as_deref(), Some("5"), "{body}");
            }
            other => panic!("answered {other}: {body}"),
        }
    }
    // Ten wait (a run counts as waiting until it has its slot), and two run; a run that got its
    // slot meanwhile frees its place in the queue.
    assert!(
        (10..=20).contains(&accepted.len()),
        "{} accepted",
        accepted.len()
    );

    // While they wait, the server answers.
    let r = reqwest::get(s.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let saved = save_draft(&c, &s, "flood", &slow()).await;
    assert!(saved["version"].as_u64().unwrap() > 1);

    // Every accepted run finishes; a refused call stored nothing.
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let page = get_json(
            &c,
            s.url("/api/v1/automations/flood/runs?mode=test&limit=100"),
        )
        .await;
        let items = page["items"].as_array().unwrap().clone();
        if items.iter().all(|r| r["status"] == "succeeded") || Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(runs.len(), accepted.len(), "one stored run per 202");
    let mut full = vec![];
    for r in &runs {
        assert_eq!(r["status"], "succeeded", "{r}");
        let id = r["id"].as_str().unwrap();
        assert!(accepted.iter().any(|a| a == id));
        full.push(get_json(&c, s.url(&format!("/api/v1/runs/{id}"))).await);
    }
    // Never more than two at once, and started in the order they were queued.
    let times =
        |r: &Value, k: &str| chrono::DateTime::parse_from_rfc3339(r[k].as_str().unwrap()).unwrap();
    // Compared as times: RFC 3339 strings with 3, 6 or 9 fraction digits do not sort as text.
    full.sort_by_key(|r| (times(r, "queued_at"), times(r, "started_at")));
    // At any instant, at most two are running (an end and a start at the same instant: the
    // end first).
    let mut events: Vec<(_, i32)> = full
        .iter()
        .flat_map(|r| [(times(r, "started_at"), 1), (times(r, "finished_at"), -1)])
        .collect();
    events.sort();
    let mut running = 0;
    for (at, change) in events {
        running += change;
        assert!(running <= 2, "{running} running at {at}");
    }
    for i in 1..full.len() {
        assert!(
            times(&full[i], "started_at") >= times(&full[i - 1], "started_at"),
            "run {i} started before the one queued before it"
        );
    }
}

#[tokio::test]
async fn a_limit_that_is_not_a_number_stops_the_start_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .env("SLIPWAY_MAX_RUNNING", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SLIPWAY_MAX_RUNNING must be a whole number"),
        "{err}"
    );
}
