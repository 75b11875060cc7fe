//! Responsiveness under a queue (PRODUCT.md §15): with `SLIPWAY_MAX_RUNNING=2` and a composer
//! whose delay holds its slot for ten minutes, 10,000 webhook calls leave 9,998 runs durably
//! queued; then `/healthz` and the editor's draft saves must still answer within 50 ms.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::api::{self, Api};
use super::driver::{Pace, Target, drive};
use super::load::Outcome;
use super::{Row, STOP_GRACE, Scratch, millis, number};

const QUEUED: u64 = 10_000;
const SAMPLES: usize = 20;
const BUDGET: Duration = Duration::from_millis(50);
const HOOK: &str = "/hooks/test/bench-queue/slow";

const SLOTS: [(&str, &str); 2] = [
    ("/healthz with 10,000 runs queued", "≤ 50 ms"),
    ("draft save with 10,000 runs queued", "≤ 50 ms"),
];

pub fn rows(exe: &std::path::Path) -> Vec<Row> {
    measure(exe).unwrap_or_else(|e| Row::all_failed(&SLOTS, e))
}

fn measure(exe: &std::path::Path) -> Result<Vec<Row>> {
    let scratch = Scratch::new()?;
    let env = [("SLIPWAY_MAX_RUNNING", "2"), ("SLIPWAY_SHUTDOWN_SECS", "1")];
    let server = scratch.serve(exe, "overload", &env)?;
    let addr = server.addr;
    let mut api = Api::login(addr)?;
    api.create_automation("bench-queue", "Bench queue")?;
    let slow = json!({"format": 1, "composers": [{"slug": "slow", "name": "Slow",
        "trigger": {"kind": "webhook", "method": "POST"},
        "steps": [{"name": "hold", "kind": "delay", "config": {"ms": 600_000}}],
        "links": [{"from": "trigger", "to": "hold"}]}]});
    api.put_draft("bench-queue", 1, slow.to_string().as_bytes())?;
    api.create_automation("bench-editor", "Bench editor")?;
    let mut version = api
        .put_draft(
            "bench-editor",
            1,
            api::orders_document().to_string().as_bytes(),
        )?
        .version;

    let target = Target {
        addr,
        conns: 64,
        path: HOOK,
        timeout: Duration::from_secs(10),
        max_errors_in_a_row: 200,
    };
    let mut o = Outcome::default();
    let pace = Pace::Closed {
        limit: Duration::from_secs(120),
        enough: Some(QUEUED),
    };
    drive(
        &target,
        pace,
        |n| format!("{{\"n\":{n}}}").into_bytes(),
        &mut o,
    )
    .context("the load driver failed")?;
    println!(
        "bench: overload: {} webhook calls answered 2xx, {}",
        number(o.ok as f64),
        o.errors_text()
    );
    if o.ok < QUEUED {
        bail!(
            "only {} of {QUEUED} calls were accepted: {}",
            o.ok,
            o.first_error.unwrap_or_default()
        );
    }
    let metrics = api.send("GET", "/metrics", &[], None)?;
    let text = crate::http::text(&metrics);
    let queued = text
        .lines()
        .find(|l| l.starts_with("slipway_runs_queued "))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .context("/metrics has no slipway_runs_queued")?;

    let mut health = vec![];
    let mut saves = vec![];
    let doc = api::orders_document().to_string();
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let resp = crate::http::get_once(addr, "/healthz", Duration::from_secs(5))?;
        if resp.status() != 200 {
            bail!("/healthz answered {}", resp.status());
        }
        health.push(started.elapsed());
        let saved = api.put_draft("bench-editor", version, doc.as_bytes())?;
        version = saved.version;
        saves.push(saved.took);
        std::thread::sleep(Duration::from_millis(20));
    }
    let rss = server.rss_bytes()?;
    drop(api);
    server.stop(STOP_GRACE)?;
    health.sort();
    saves.sort();
    let worst = |v: &[Duration]| v.last().copied().unwrap_or_default();
    let what = |base: &str, v: &[Duration]| {
        format!(
            "{base} with {} runs queued, max of {SAMPLES} (p50 {}; server RSS {})",
            number(queued),
            millis(v[v.len() / 2]),
            crate::util::human_bytes(rss)
        )
    };
    Ok(vec![
        Row::time_at_most(what("/healthz", &health), worst(&health), BUDGET),
        Row::time_at_most(what("draft save", &saves), worst(&saves), BUDGET),
    ])
}
