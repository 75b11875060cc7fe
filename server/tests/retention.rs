//! Retention over REST (PRODUCT.md §15): an automation's rules are read and set at
//! `/api/v1/automations/{a}/retention`, bad rules change nothing, and the server's pruner
//! deletes the runs past them while it serves.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn hello() -> Value {
    json!({"format": 1, "composers": [
        {"slug": "hello", "name": "Hello", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "greet", "kind": "transform", "config": {"value": "hi"}}],
         "links": [{"from": "trigger", "to": "greet"}]}
    ]})
}

async fn put(c: &reqwest::Client, s: &Server, body: Value) -> (u16, Value) {
    let r = c
        .put(s.url("/api/v1/automations/shop/retention"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn rules_are_read_and_set_and_bad_ones_change_nothing() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    let url = s.url("/api/v1/automations/shop/retention");
    let defaults = json!({"test": {"days": 7.0, "max_runs": 100000}, "live": {"days": 30.0, "max_runs": 100000}});
    assert_eq!(get_json(&c, url.clone()).await, defaults);

    let (status, body) = put(
        &c,
        &s,
        json!({"test": {"days": 0, "max_runs": 5}, "live": {"days": 30, "max_runs": 5}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("test: days must be more than 0"),
        "{body}"
    );
    let (status, body) = put(&c, &s, json!({"test": {"days": 1, "max_runs": 5}})).await;
    assert_eq!(status, 400, "a missing mode: {body}");
    let (status, body) = put(&c, &s, json!({"test": {"days": 1, "max_runs": 5, "keep": true}, "live": {"days": 1, "max_runs": 5}})).await;
    assert_eq!(status, 400, "an unknown field: {body}");
    assert_eq!(
        get_json(&c, url.clone()).await,
        defaults,
        "nothing refused was kept"
    );

    let rules =
        json!({"test": {"days": 0.5, "max_runs": 20}, "live": {"days": 90.0, "max_runs": 1000}});
    let (status, body) = put(&c, &s, rules.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, rules);
    assert_eq!(get_json(&c, url).await, rules);

    let r = reqwest::Client::new()
        .get(s.url("/api/v1/automations/nope/retention"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(s.url("/api/v1/automations/nope/retention"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_pruner_keeps_the_newest_runs_of_each_composer_while_the_server_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_with(&tmp.path().join("data"), &[("SLIPWAY_PRUNE_SECS", "1")]);
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    save_draft(&c, &s, "shop", &hello()).await;
    let (status, body) = put(
        &c,
        &s,
        json!({"test": {"days": 7, "max_runs": 4}, "live": {"days": 30, "max_runs": 100000}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let mut ids = vec![];
    for i in 0..12 {
        let r = reqwest::Client::new()
            .post(s.url("/hooks/test/shop/hello"))
            .json(&json!({ "i": i }))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        ids.push(
            body["run_id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_default(),
        );
    }
    let newest: Vec<String> = ids[8..].iter().rev().cloned().collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let kept = loop {
        let page = get_json(
            &c,
            s.url("/api/v1/automations/shop/runs?mode=test&limit=100"),
        )
        .await;
        let kept: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        if kept.len() <= 4 || Instant::now() > deadline {
            break kept;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        kept, newest,
        "the newest four runs are kept, the others pruned"
    );
    let r = c
        .get(s.url(&format!("/api/v1/runs/{}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a pruned run is gone");
}
