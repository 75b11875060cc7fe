//! Durability under crashes (PRODUCT.md §7): a run starts at most once and nothing acknowledged is
//! lost.
//!
//! - **crash**: the measured executable under live webhook load from 8 connections is killed with
//!   SIGKILL again and again (100 times; `SLIPWAY_BENCH_CRASH_LOOPS`) and restarted on the same
//!   data dir, where it resumes what was queued. Each run's `http` step calls a counter on
//!   127.0.0.1 with `{{ env.run_id }}` in the path. Counted: the webhook answers that
//!   acknowledged a run (202), those not stored afterwards (lost), and run ids that called out
//!   more than once (started twice).
//! - **power-loss**: the engine's simulated power losses (a storage backend that throws away
//!   every unsynced write at a random sync; drafts, webhook runs, secrets and deploys meanwhile):
//!   1,000 rounds (`SLIPWAY_BENCH_POWER_LOSSES`; `cargo xtask fuzz` runs 5,000) of the engine test that checks everything
//!   acknowledged is still there. It runs through `cargo test` (it needs the engine's fault
//!   injection, which the executable does not carry).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::api::Api;
use super::{Row, STOP_GRACE, Scratch, number, output_within};
use crate::http::Client;
use crate::util;

const SLUG: &str = "bench-crash";
const HOOK: &str = "/hooks/bench-crash/order";
const CALLERS: usize = 8;
const CRASH_WHAT: &str = "kill -9 under live webhook load: acknowledged runs lost";
const TWICE_WHAT: &str = "kill -9 under live webhook load: runs started twice";
const POWER_WHAT: &str = "simulated power losses: acknowledged work lost";

pub fn rows(exe: &Path) -> Vec<Row> {
    let mut rows = match crash(exe) {
        Ok(rows) => rows,
        Err(e) => vec![
            Row::failed(CRASH_WHAT, "0", &e),
            Row::failed(TWICE_WHAT, "0", &e),
        ],
    };
    rows.push(power_loss().unwrap_or_else(|e| Row::failed(POWER_WHAT, "0", &e)));
    rows
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Counts the requests per run id (`POST /count/{id}`) on keep-alive connections.
struct Counter {
    url: String,
    counts: Arc<Mutex<HashMap<String, u32>>>,
}

impl Counter {
    fn start() -> Result<Counter> {
        let listener = TcpListener::bind("127.0.0.1:0").context("could not bind the counter")?;
        let url = format!("http://{}", listener.local_addr()?);
        let counts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let seen = counts.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || serve_counts(stream, &seen));
            }
        });
        Ok(Counter { url, counts })
    }
}

/// One connection of the counter: each request's path `/count/{id}` is counted, then answered.
fn serve_counts(stream: TcpStream, seen: &Mutex<HashMap<String, u32>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Some(id) = path.strip_prefix("/count/") {
            *seen.lock().unwrap().entry(id.to_string()).or_default() += 1;
        }
        let answer =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\ncounted";
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}

fn crash_document(counter: &str) -> Value {
    json!({"format": 1, "composers": [{"slug": "order", "name": "Order",
        "trigger": {"kind": "webhook", "method": "POST"},
        "steps": [
            {"name": "call", "kind": "http", "config": {"method": "POST",
                "url": format!("{counter}/count/{{{{ env.run_id }}}}")}},
            {"name": "after", "kind": "transform", "config": {"value": "{{ steps.call.status }}"}}
        ],
        "links": [{"from": "trigger", "to": "call"}, {"from": "call", "to": "after"}]}]})
}

/// Webhook calls until `stop` or the server is gone; the run ids of the 202 answers.
fn call_until(addr: SocketAddr, stop: &AtomicBool) -> Vec<String> {
    let client = Client::new(addr, Duration::from_secs(5));
    let mut ids = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match client.post(HOOK, "application/json", b"{}") {
            Ok(resp) if resp.status() == 202 => {
                if let Some(id) = serde_json::from_slice::<Value>(resp.body())
                    .ok()
                    .and_then(|v| v["run_id"].as_str().map(str::to_string))
                {
                    ids.push(id);
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    ids
}

fn crash(exe: &Path) -> Result<Vec<Row>> {
    let loops = env_number("SLIPWAY_BENCH_CRASH_LOOPS", 100);
    let counter = Counter::start()?;
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "crash-0", &[])?;
    let mut api = Api::login(server.addr)?;
    api.deploy_new(SLUG, "Bench crash", &crash_document(&counter.url))?;
    drop(api);

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        | 1;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut acknowledged = Vec::new();
    let mut server = server;
    let started = Instant::now();
    for round in 0..loops {
        let stop = Arc::new(AtomicBool::new(false));
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (addr, stop) = (server.addr, stop.clone());
                thread::spawn(move || call_until(addr, &stop))
            })
            .collect();
        thread::sleep(Duration::from_millis(50 + random(200)));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for caller in callers {
            acknowledged.extend(caller.join().unwrap_or_default());
        }
        server = scratch.serve(exe, &format!("crash-{}", round + 1), &[])?;
    }
    println!(
        "crash: {loops} kill -9 loops in {:.1} s, {} runs acknowledged",
        started.elapsed().as_secs_f64(),
        acknowledged.len()
    );

    // The last start resumes what was queued; let it finish.
    let mut api = Api::login(server.addr)?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let busy = ["queued", "running"]
            .iter()
            .try_fold(false, |busy, status| {
                let page = api.get_json(&format!(
                    "/api/v1/automations/{SLUG}/runs?mode=live&status={status}&limit=1"
                ))?;
                anyhow::Ok(busy || page["items"].as_array().is_some_and(|i| !i.is_empty()))
            })?;
        if !busy {
            break;
        }
        if Instant::now() > deadline {
            bail!("runs were still queued or running 120 s after the last restart");
        }
        thread::sleep(Duration::from_millis(100));
    }
    let mut lost = 0;
    for id in &acknowledged {
        let resp = api.send("GET", &format!("/api/v1/runs/{id}"), &[], None)?;
        if resp.status() != 200 {
            lost += 1;
            eprintln!(
                "crash: acknowledged run {id} is not stored ({})",
                resp.status()
            );
        }
    }
    drop(api);
    server.stop(STOP_GRACE)?;
    let counts = counter.counts.lock().unwrap().clone();
    let twice = counts.values().filter(|n| **n > 1).count();
    if acknowledged.len() < loops {
        bail!(
            "too little load to mean anything: {} runs in {loops} loops",
            acknowledged.len()
        );
    }
    let acked = number(acknowledged.len() as f64);
    Ok(vec![
        Row {
            what: format!("{CRASH_WHAT} ({loops} loops)"),
            figure: format!("{lost} of {acked}"),
            budget: "0".into(),
            ok: Some(lost == 0),
        },
        Row {
            what: format!("{TWICE_WHAT} ({loops} loops)"),
            figure: format!("{twice} of {} that called out", number(counts.len() as f64)),
            budget: "0".into(),
            ok: Some(twice == 0),
        },
    ])
}

/// Runs the engine's power-loss test with many rounds and reads the report it leaves.
fn power_loss() -> Result<Row> {
    let rounds = env_number("SLIPWAY_BENCH_POWER_LOSSES", 1_000);
    let report = util::root().join("target/power-loss.txt");
    let _ = std::fs::remove_file(&report);
    let mut cmd = util::cargo();
    cmd.args([
        "test",
        "-p",
        "engine",
        "--lib",
        "--",
        "--exact",
        "durability_tests::acknowledged_work_survives_power_loss_at_any_moment",
    ])
    .env("SLIPWAY_POWER_LOSS_ROUNDS", rounds.to_string());
    // A failing round fails the test: acknowledged work was lost.
    let outcome = output_within(&mut cmd, Duration::from_secs(1800));
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let (crashes, runs) = parse_power_loss(&text);
    Ok(match outcome {
        Ok(_) if crashes.is_some() => Row {
            what: format!(
                "{POWER_WHAT} ({} simulated crashes)",
                number(crashes.unwrap_or(0) as f64)
            ),
            figure: format!(
                "0 of {} runs and every draft, secret and deploy",
                number(runs as f64)
            ),
            budget: "0".into(),
            ok: Some(true),
        },
        Ok(_) => bail!("the power-loss test left no report in {}", report.display()),
        Err(e) => Row::failed(POWER_WHAT, "0", &e),
    })
}

/// `power-loss: 5000 simulated crashes; 1234 acknowledged runs, all stored; 0 lost` → (5000, 1234).
fn parse_power_loss(text: &str) -> (Option<u64>, u64) {
    let number_before = |marker: &str| {
        text.split(marker)
            .next()
            .and_then(|head| head.split_whitespace().last())
            .and_then(|n| n.parse::<u64>().ok())
    };
    if !text.contains(" simulated crashes") {
        return (None, 0);
    }
    (
        number_before(" simulated crashes"),
        number_before(" acknowledged runs").unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_power_loss_report() {
        let text =
            "power-loss: 5000 simulated crashes; 1234 acknowledged runs, all stored; 0 lost\n";
        assert_eq!(parse_power_loss(text), (Some(5000), 1234));
        assert_eq!(parse_power_loss(""), (None, 0));
    }

    #[test]
    fn the_counter_counts_each_run_id_on_one_connection() {
        let counter = Counter::start().unwrap();
        let addr: SocketAddr = counter.url.trim_start_matches("http://").parse().unwrap();
        let client = Client::new(addr, Duration::from_secs(5));
        for id in ["a", "b", "a"] {
            let resp = client
                .post(&format!("/count/{id}"), "text/plain", b"x")
                .unwrap();
            assert_eq!(resp.status(), 200);
        }
        let counts = counter.counts.lock().unwrap().clone();
        assert_eq!(counts.get("a"), Some(&2));
        assert_eq!(counts.get("b"), Some(&1));
    }
}
