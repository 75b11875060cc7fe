//! A run starts at most once (PRODUCT.md §7): `kill -9` of the real executable again and again
//! under webhook load, restarts that resume queued runs, and a listener on 127.0.0.1 that counts
//! the requests of each run's `http` step by `{{ env.run_id }}`: no run id is counted twice, and
//! every run the webhook acknowledged (202) is stored.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counts the requests per run id that reach it.
async fn counter() -> (String, Arc<Mutex<HashMap<String, u32>>>) {
    let counts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let seen = counts.clone();
    let app = axum::Router::new().route(
        "/count/{id}",
        axum::routing::post(
            move |axum::extract::Path(id): axum::extract::Path<String>| {
                let seen = seen.clone();
                async move {
                    *seen.lock().unwrap().entry(id).or_default() += 1;
                    "counted"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_never_starts_a_run_twice() {
    let loops: usize = std::env::var("SLIPWAY_CRASH_LOOPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (counter_url, counts) = counter().await;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Server::start_in(&data);
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    let doc = json!({"format": 1, "composers": [{"slug": "order", "name": "Order",
        "trigger": {"kind": "webhook", "method": "POST"},
        "steps": [
            {"name": "call", "kind": "http", "config": {"method": "POST", "url": format!("{counter_url}/count/{{{{ env.run_id }}}}")}},
            {"name": "after", "kind": "transform", "config": {"value": "{{ steps.call.status }}"}}
        ],
        "links": [{"from": "trigger", "to": "call"}, {"from": "call", "to": "after"}]}]});
    save_draft(&c, &s, "shop", &doc).await;
    drop(c);

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut acknowledged: Vec<String> = Vec::new();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for _ in 0..loops {
        let hook = s.url("/hooks/test/shop/order");
        // Webhook load from 8 callers until the kill.
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (client, hook) = (client.clone(), hook.clone());
            callers.spawn(async move {
                let mut ids = Vec::new();
                loop {
                    match client.post(&hook).json(&json!({})).send().await {
                        Ok(r) if r.status() == 202 => {
                            if let Ok(body) = r.json::<Value>().await
                                && let Some(id) = body["run_id"].as_str()
                            {
                                ids.push(id.to_string());
                            }
                        }
                        Ok(_) => {}
                        Err(_) => return ids,
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(50 + random(200))).await;
        s.kill9();
        while let Some(ids) = callers.join_next().await {
            acknowledged.extend(ids.unwrap());
        }
        s = Server::start_in(&data);
    }
    // The last start resumes what was queued; let it finish.
    let c = admin(&s).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let page = get_json(
            &c,
            s.url("/api/v1/automations/shop/runs?mode=test&status=queued&limit=1"),
        )
        .await;
        let running = get_json(
            &c,
            s.url("/api/v1/automations/shop/runs?mode=test&status=running&limit=1"),
        )
        .await;
        if page["items"].as_array().unwrap().is_empty()
            && running["items"].as_array().unwrap().is_empty()
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "runs still going");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counts = counts.lock().unwrap().clone();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "runs that called out more than once: {twice:?}"
    );
    for id in &acknowledged {
        let r = c
            .get(s.url(&format!("/api/v1/runs/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged run {id} is not stored");
    }
    assert!(
        acknowledged.len() >= loops,
        "too little load to mean anything: {} runs",
        acknowledged.len()
    );
    let report = format!(
        "crash: {loops} kill -9 loops, {} acknowledged runs, all stored; {} calls out, 0 twice",
        acknowledged.len(),
        counts.len()
    );
    println!("{report}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/crash.txt");
    let _ = std::fs::write(path, format!("{report}\n"));
}

/// A panic (a bug) inside one request or one run fails that request or run; the server keeps
/// serving (PRODUCT.md §7). Debug builds panic on purpose where `SLIPWAY_TEST_PANICS` asks.
#[tokio::test]
async fn a_panic_fails_one_request_or_run_and_the_server_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_with(&tmp.path().join("data"), &[("SLIPWAY_TEST_PANICS", "1")]);
    let r = reqwest::get(s.url("/__test/panic")).await.unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(
        reqwest::get(s.url("/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );

    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    let doc = json!({"format": 1, "composers": [
        {"slug": "panic-probe", "name": "Probe", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "t", "kind": "transform", "config": {"value": 1}}],
         "links": [{"from": "trigger", "to": "t"}]},
        {"slug": "fine", "name": "Fine", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "t", "kind": "transform", "config": {"value": 2}},
                   {"name": "r", "kind": "respond", "config": {"body": "{{ steps.t }}"}}],
         "links": [{"from": "trigger", "to": "t"}, {"from": "t", "to": "r"}]}]});
    save_draft(&c, &s, "shop", &doc).await;
    let r = reqwest::Client::new()
        .post(s.url("/hooks/test/shop/panic-probe"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let run = loop {
        let run = get_json(&c, s.url(&format!("/api/v1/runs/{id}"))).await;
        if run["status"] == "failed" {
            break run;
        }
        assert!(std::time::Instant::now() < deadline, "{run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        run["error"].as_str().unwrap().contains("internal error"),
        "{run}"
    );
    let r = reqwest::Client::new()
        .post(s.url("/hooks/test/shop/fine"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!(2));
}
