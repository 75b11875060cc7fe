//! The soak (`cargo xtask bench --soak`, PRODUCT.md §13 and §15; about 11 minutes): the live
//! orders webhook at 2,000 req/s open loop for 10 minutes, one minute at a time, with the
//! automation's Live retention set to one minute and the pruner every 5 s. Each minute's p99 and
//! errors, the server's RSS and the data file's size are printed; the rows judge the worst minute,
//! RSS growth after minute 1 (≤ 10 %), the data file's growth over the last half (≤ 5 %: deleted
//! runs' pages are reused), and the longest transaction of the pruner (≤ 10 ms: no run-writer
//! commit waited longer for it), read from `/metrics`.
//!
//! Orders use 1,000 keys over and over, so the live database stays one size and what grows or
//! not is the runs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::api::{self, Api};
use super::driver::{Pace, drive};
use super::load::{Outcome, SLUG, order_body, probe, target};
use super::{Row, STOP_GRACE, Scratch, millis, number};

const MINUTES: u32 = 10;
const RATE: u64 = 2_000;
const CONNS: usize = 32;
const P99_BUDGET: Duration = Duration::from_millis(10);
const RSS_GROWTH_BUDGET: f64 = 0.10;
const FILE_GROWTH_BUDGET: f64 = 0.05;
const PRUNE_BUDGET: Duration = Duration::from_millis(10);

const SLOTS: [(&str, &str); 4] = [
    (
        "soak: worst minute p99 at 2,000 req/s",
        "≤ 10.0 ms, 0 errors",
    ),
    ("soak: RSS growth after minute 1", "≤ 10 %"),
    ("soak: data file growth over the last half", "≤ 5 %"),
    ("soak: longest pruner transaction", "≤ 10.0 ms"),
];

pub fn rows(exe: &std::path::Path) -> Vec<Row> {
    measure(exe).unwrap_or_else(|e| Row::all_failed(&SLOTS, e))
}

struct Minute {
    outcome: Outcome,
    rss: u64,
    file: u64,
}

fn minute(addr: SocketAddr, n: u32) -> Outcome {
    let start = Instant::now() + Duration::from_millis(50);
    let pace = Pace::Open {
        rate: RATE,
        total: RATE * 60,
        start,
        give_up: start + Duration::from_secs(70),
    };
    let mut o = Outcome::default();
    let body = |k: u64| order_body(&format!("soak-{}", (k + u64::from(n) * 7) % 1000));
    match drive(&target(addr, CONNS), pace, body, &mut o) {
        Ok(elapsed) => o.elapsed = elapsed,
        Err(e) => {
            o.errors += 1;
            o.first_error
                .get_or_insert(format!("the load driver failed: {e}"));
        }
    }
    o.latencies.sort();
    o
}

fn growth(from: u64, to: u64) -> f64 {
    (to as f64 - from as f64) / (from as f64).max(1.0)
}

fn measure(exe: &std::path::Path) -> Result<Vec<Row>> {
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "soak", &[("SLIPWAY_PRUNE_SECS", "5")])?;
    let addr = server.addr;
    let mut api = Api::login(addr)?;
    api.deploy_new(SLUG, "Bench orders", &api::orders_document())?;
    let rules = r#"{"test": {"days": 7, "max_runs": 100000}, "live": {"days": 0.000694444, "max_runs": 100000}}"#;
    let path = format!("/api/v1/automations/{SLUG}/retention");
    let resp = api.send("PUT", &path, &[], Some(rules.as_bytes()))?;
    api::ensure_2xx(&resp, &format!("PUT {path}"))?;
    probe(addr, &mut api)?;
    let file = scratch.data.join("slipway.redb");

    let mut minutes: Vec<Minute> = vec![];
    for n in 1..=MINUTES {
        let outcome = minute(addr, n);
        let m = Minute {
            rss: server.rss_bytes()?,
            file: std::fs::metadata(&file).map(|f| f.len()).unwrap_or(0),
            outcome,
        };
        println!(
            "bench: soak minute {n}: {} ok, {}; p50 {} p99 {} max {}; RSS {}; data file {}",
            number(m.outcome.ok as f64),
            m.outcome.errors_text(),
            millis(m.outcome.quantile(0.5)),
            millis(m.outcome.quantile(0.99)),
            millis(m.outcome.latencies.last().copied().unwrap_or_default()),
            crate::util::human_bytes(m.rss),
            crate::util::human_bytes(m.file),
        );
        if let Some(e) = &m.outcome.first_error {
            println!("bench: soak minute {n}: first error: {e}");
        }
        minutes.push(m);
    }
    let metrics = api.send("GET", "/metrics", &[], None)?;
    api::ensure_2xx(&metrics, "GET /metrics")?;
    let text = crate::http::text(&metrics);
    let sample = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    let longest = sample("slipway_pruner_longest_transaction_seconds")
        .context("/metrics has no slipway_pruner_longest_transaction_seconds")?;
    let deleted = sample("slipway_pruner_runs_deleted_total").unwrap_or(0.0);
    let commits = sample("slipway_run_writer_commit_seconds_count").unwrap_or(0.0);
    drop(api);
    server.stop(STOP_GRACE)?;

    let worst = minutes
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| m.outcome.quantile(0.99))
        .map(|(i, m)| (i + 1, m.outcome.quantile(0.99)))
        .unwrap_or_default();
    let errors: u64 = minutes
        .iter()
        .map(|m| m.outcome.errors + m.outcome.unsent)
        .sum();
    let ok: u64 = minutes.iter().map(|m| m.outcome.ok).sum();
    let mut p99 = Row::time_at_most(
        format!(
            "soak: {MINUTES} min of {HOOK} at {} req/s: worst minute p99 (minute {}; {} ok, {errors} errors or unsent)",
            number(RATE as f64),
            worst.0,
            number(ok as f64),
        ),
        worst.1,
        P99_BUDGET,
    );
    if errors > 0 {
        p99.ok = Some(false);
    }
    let rss_1 = minutes[0].rss;
    let rss_max = minutes.iter().map(|m| m.rss).max().unwrap_or(0);
    let rss_growth = growth(rss_1, rss_max);
    let half = minutes.len() / 2;
    let (file_half, file_end) = (minutes[half - 1].file, minutes[minutes.len() - 1].file);
    let file_growth = growth(file_half, file_end);
    Ok(vec![
        p99,
        Row::percent_at_most(
            format!(
                "soak: RSS growth after minute 1 ({} → at most {})",
                crate::util::human_bytes(rss_1),
                crate::util::human_bytes(rss_max)
            ),
            rss_growth,
            RSS_GROWTH_BUDGET,
        ),
        Row::percent_at_most(
            format!(
                "soak, Live retention 1 min: data file growth over the last half ({} at minute {half} → {})",
                crate::util::human_bytes(file_half),
                crate::util::human_bytes(file_end)
            ),
            file_growth,
            FILE_GROWTH_BUDGET,
        ),
        Row::time_at_most(
            format!(
                "soak: longest pruner transaction ({} runs deleted; {} run-writer commits)",
                number(deleted),
                number(commits)
            ),
            Duration::from_secs_f64(longest),
            PRUNE_BUDGET,
        ),
    ])
}

const HOOK: &str = "the live orders webhook";
