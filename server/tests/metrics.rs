//! `/metrics` and the log format (PRODUCT.md §15): the counters a scraper reads add up to the
//! runs stored; reading them needs an API token unless `SLIPWAY_METRICS=public`; with
//! `SLIPWAY_LOG_FORMAT=json` every log line is a JSON object.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn shop() -> Value {
    json!({"format": 1, "composers": [
        {"slug": "ok", "name": "Ok", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "greet", "kind": "transform", "config": {"value": "hi"}}],
         "links": [{"from": "trigger", "to": "greet"}]},
        {"slug": "bad", "name": "Bad", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [{"name": "boom", "kind": "code", "config": {"source": "throw new Error('no')"}}],
         "links": [{"from": "trigger", "to": "boom"}]}
    ]})
}

/// The samples of one series: label set (as written) → value.
fn samples(text: &str, series: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name_labels, value) = l.rsplit_once(' ')?;
            let (name, labels) = match name_labels.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (name_labels, ""),
            };
            (name == series).then(|| (labels.to_string(), value.parse().unwrap()))
        })
        .collect()
}

fn one(text: &str, series: &str, labels: &str) -> f64 {
    *samples(text, series)
        .get(labels)
        .unwrap_or_else(|| panic!("no {series}{{{labels}}} in:\n{text}"))
}

async fn scrape(c: &reqwest::Client, s: &Server) -> String {
    let r = c.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        r.headers()
    );
    r.text().await.unwrap()
}

#[tokio::test]
async fn the_counters_add_up_to_the_runs_stored_and_need_a_token() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    save_draft(&c, &s, "shop", &shop()).await;

    let anonymous = reqwest::Client::new();
    let r = anonymous.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token, no metrics");

    for (composer, n) in [("ok", 5), ("bad", 3)] {
        for i in 0..n {
            let r = anonymous
                .post(s.url(&format!("/hooks/test/shop/{composer}")))
                .json(&json!({ "i": i }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
    }
    // Every run finished, as stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    let stored = loop {
        let page = get_json(
            &c,
            s.url("/api/v1/automations/shop/runs?mode=test&limit=100"),
        )
        .await;
        let runs = page["items"].as_array().unwrap().clone();
        let done = runs
            .iter()
            .all(|r| !matches!(r["status"].as_str(), Some("queued" | "running")));
        if (runs.len() == 8 && done) || Instant::now() > deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut by_status: BTreeMap<String, f64> = BTreeMap::new();
    for run in &stored {
        *by_status
            .entry(run["status"].as_str().unwrap().to_string())
            .or_default() += 1.0;
    }
    assert_eq!(
        by_status,
        BTreeMap::from([("failed".into(), 3.0), ("succeeded".into(), 5.0)])
    );

    // A scraper with an API token.
    let token: Value = c
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "prometheus"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let r = anonymous
        .get(s.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();

    assert_eq!(
        one(
            &text,
            "slipway_runs_started_total",
            r#"automation="shop",mode="test""#
        ),
        stored.len() as f64
    );
    for (status, n) in &by_status {
        assert_eq!(
            one(
                &text,
                "slipway_runs_finished_total",
                &format!(r#"automation="shop",mode="test",status="{status}""#)
            ),
            *n,
            "{status}"
        );
    }
    let finished: f64 = samples(&text, "slipway_runs_finished_total").values().sum();
    assert_eq!(finished, stored.len() as f64, "no run counted twice");
    assert_eq!(
        one(
            &text,
            "slipway_step_duration_seconds_count",
            r#"kind="transform""#
        ),
        5.0
    );
    assert_eq!(
        one(
            &text,
            "slipway_step_duration_seconds_count",
            r#"kind="code""#
        ),
        3.0
    );
    assert_eq!(
        one(&text, "slipway_webhook_duration_seconds_count", ""),
        8.0
    );
    let commits = one(&text, "slipway_run_writer_commit_seconds_count", "");
    assert!(commits >= 1.0, "{text}");
    assert_eq!(
        one(&text, "slipway_run_writer_batch_size_count", ""),
        commits
    );
    assert_eq!(one(&text, "slipway_runs_running", ""), 0.0);
    assert_eq!(one(&text, "slipway_runs_queued", ""), 0.0);
    let size = std::fs::metadata(s.data_dir.join("slipway.redb"))
        .unwrap()
        .len();
    assert_eq!(one(&text, "slipway_data_file_bytes", ""), size as f64);

    // A session works as well as a token.
    let again = scrape(&c, &s).await;
    assert_eq!(
        one(
            &again,
            "slipway_runs_started_total",
            r#"automation="shop",mode="test""#
        ),
        8.0
    );
}

#[tokio::test]
async fn public_metrics_need_no_token() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_with(&tmp.path().join("data"), &[("SLIPWAY_METRICS", "public")]);
    let text = scrape(&reqwest::Client::new(), &s).await;
    assert_eq!(one(&text, "slipway_runs_running", ""), 0.0);
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn bad_settings_stop_the_start_with_their_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (name, value) in [("SLIPWAY_METRICS", "open"), ("SLIPWAY_LOG_FORMAT", "xml")] {
        let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env(name, value)
            .env("SLIPWAY_ADMIN_USER", ADMIN)
            .env("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(name) && stderr.contains(value),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn json_log_lines_are_json_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .env("SLIPWAY_LOG_FORMAT", "json")
        .env("SLIPWAY_LOG", "info")
        .env("SLIPWAY_ADMIN_USER", ADMIN)
        .env("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut logs = vec![];
    let ready = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no `ready` log line in:\n{}", logs.join("\n")));
        // The address and the setup link are printed for people, not logged.
        if line.starts_with("Slipway is listening") || line.starts_with("No users yet") {
            continue;
        }
        let object: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        logs.push(line);
        if object["fields"]["message"] == "ready" {
            break object;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ready["level"], "INFO", "{ready}");
    assert!(ready["fields"]["elapsed_ms"].is_u64(), "{ready}");
    assert!(ready["timestamp"].is_string(), "{ready}");
}
