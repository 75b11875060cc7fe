//! SIGTERM (PRODUCT.md §15): the server stops accepting, lets running steps finish within the
//! grace period, stores the runs it had to cut as interrupted, leaves the runs that never got a
//! slot queued (they start after the restart), and exits cleanly.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn shop() -> Value {
    let composer = |slug: &str, ms: u64| {
        json!({"slug": slug, "name": slug, "trigger": {"kind": "webhook", "method": "POST"},
            "steps": [{"name": "wait", "kind": "delay", "config": {"ms": ms}}],
            "links": [{"from": "trigger", "to": "wait"}]})
    };
    json!({"format": 1, "composers": [composer("quick", 400), composer("slow", 60_000)]})
}

async fn hook(s: &Server, composer: &str) -> String {
    let r = reqwest::Client::new()
        .post(s.url(&format!("/hooks/test/shop/{composer}")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    body["run_id"].as_str().unwrap().to_string()
}

async fn status_of(c: &reqwest::Client, s: &Server, id: &str) -> Value {
    get_json(c, s.url(&format!("/api/v1/runs/{id}"))).await
}

async fn until_status(c: &reqwest::Client, s: &Server, id: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = status_of(c, s, id).await;
        if run["status"] == want || Instant::now() > deadline {
            assert_eq!(run["status"], want, "{run}");
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigterm_lets_running_steps_finish_interrupts_the_rest_and_keeps_the_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let env = [("SLIPWAY_SHUTDOWN_SECS", "2"), ("SLIPWAY_MAX_RUNNING", "2")];
    let mut s = Server::start_with(&data, &env);
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    save_draft(&c, &s, "shop", &shop()).await;

    let slow = hook(&s, "slow").await;
    until_status(&c, &s, &slow, "running").await;
    let quick = hook(&s, "quick").await;
    until_status(&c, &s, &quick, "running").await;
    // Both slots are taken: this one waits for a slot.
    let waiting = hook(&s, "quick").await;
    assert_eq!(status_of(&c, &s, &waiting).await["status"], "queued");

    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = reqwest::Client::new()
        .post(s.url("/hooks/test/shop/quick"))
        .json(&json!({}))
        .send()
        .await;
    assert!(
        refused.as_ref().map_or(true, |r| r.status() != 202),
        "a run was accepted after SIGTERM: {refused:?}"
    );
    let exit = loop {
        if let Some(exit) = s.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "still running 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(1800),
        "the grace period was not waited for: {took:?}"
    );

    // Started again: what the shutdown stored.
    let s = Server::start_in(&data);
    let c = admin(&s).await;
    let run = status_of(&c, &s, &quick).await;
    assert_eq!(
        run["status"], "succeeded",
        "the running step finished: {run}"
    );
    let run = status_of(&c, &s, &slow).await;
    assert_eq!(run["status"], "interrupted", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("the server shut down before this run finished"),
        "{run}"
    );
    // The run that never got a slot was queued, and runs now.
    until_status(&c, &s, &waiting, "succeeded").await;
}
