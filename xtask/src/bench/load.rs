//! Webhook load (PRODUCT.md §13): the orders composer (webhook → transform → database put →
//! respond) deployed to Live, driven through the LIVE webhook `/hooks/{a}/{c}` over keep-alive
//! connections from one event-driven thread ([`super::driver`]; live secrets and databases, the
//! deployment's document). Then the runs that piled up serve the start-up budgets with 100k
//! stored runs (restart on the same data dir: time to ready, idle RSS) and the run list page.
//!
//! Fixed rate is open loop: every request has an intended send time on a global schedule and its
//! latency counts from that time, so a stalled server cannot hide its backlog (no coordinated
//! omission). Saturation is closed loop: each connection sends its next request when the last one
//! is answered.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::api::{self, Api};
use super::driver::{Answer, Pace, Report, Target, drive};
use super::startup::{IDLE_RSS_BUDGET, READY_BUDGET};
use super::{POLL_EVERY, READY_TIMEOUT, Row, STOP_GRACE, Scratch, millis, number, percentile};
use crate::http::Client;

pub(super) const SLUG: &str = "bench-orders";
pub(super) const WEBHOOK: &str = "/hooks/bench-orders/orders";
const HOOK_NAME: &str = "live webhook → transform → db put → respond";
const SAME_HOOK: &str = "live webhook, same composer,";

const RATE: u64 = 2_000;
const RATE_CONNS: usize = 32;
const SATURATION_CONNS: usize = 64;
const PHASE: Duration = Duration::from_secs(10);
/// Past this, a fixed-rate phase stops sending what is still scheduled (counted as unsent).
const RATE_OVERRUN: Duration = Duration::from_secs(10);
const FILL_TARGET: u64 = 100_000;
const FILL_LIMIT: Duration = Duration::from_secs(120);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection gives up after this many failed requests in a row (the server is gone).
const MAX_ERRORS_IN_A_ROW: u32 = 200;
const STORED_CHECK_LIMIT: Duration = Duration::from_secs(15);
const LIST_SAMPLES: usize = 20;
const PAGE: usize = 50;

const P99_BUDGET: Duration = Duration::from_millis(10);
const SATURATION_BUDGET: f64 = 20_000.0;
const LIST_BUDGET: Duration = Duration::from_millis(50);

/// The rows of this group, in order; a slot left empty by an error becomes a failed row.
const SLOTS: [(&str, &str); 6] = [
    ("live webhook at 2,000 req/s: p99", "≤ 10.0 ms"),
    ("live webhook at saturation: runs/s", "≥ 20,000 runs/s"),
    ("runs stored after the load (newest page)", "all stored"),
    ("ready with 100k stored runs", "≤ 300 ms"),
    (
        "idle RSS 2 s after ready with 100k stored runs",
        "≤ 40.00 MiB",
    ),
    ("run list page with 100k stored runs", "≤ 50 ms"),
];

pub fn rows(exe: &std::path::Path) -> Vec<Row> {
    let mut slots: [Option<Row>; 6] = Default::default();
    let result = measure(exe, &mut slots);
    let mut error = result.err();
    let reference = reference_row(slots[1].as_ref());
    let mut rows: Vec<Row> = slots
        .into_iter()
        .zip(SLOTS)
        .map(|(slot, (what, budget))| {
            slot.unwrap_or_else(|| match error.take() {
                Some(e) => Row::failed(what, budget, &e),
                None => Row {
                    what: what.into(),
                    figure: "error".into(),
                    budget: budget.into(),
                    ok: Some(false),
                },
            })
        })
        .collect();
    rows.extend(reference);
    rows
}

/// With `SLIPWAY_BENCH_REFERENCE_EXE` (another build, such as the previous release), the same
/// saturation phase against it, right after the measured one on the same machine, and the
/// ratio of the two: the machine's mood cancels out of the ratio.
fn reference_row(measured: Option<&Row>) -> Option<Row> {
    let exe = std::env::var_os("SLIPWAY_BENCH_REFERENCE_EXE").filter(|e| !e.is_empty())?;
    let exe = std::path::PathBuf::from(exe);
    let what = format!("reference {}: {SAME_HOOK} at saturation", exe.display());
    let measured: Option<f64> = measured
        .and_then(|r| r.figure.split_whitespace().next())
        .and_then(|n| n.replace(',', "").parse().ok());
    let measure = || -> Result<f64> {
        let scratch = Scratch::new()?;
        let server = scratch.serve(&exe, "reference", &[])?;
        let mut api = Api::login(server.addr)?;
        api.deploy_new(SLUG, "Bench orders", &api::orders_document())?;
        probe(server.addr, &mut api)?;
        let cpu = Cpu::start(server.pid());
        let o = saturate(server.addr, SATURATION_CONNS, PHASE, None, "ref");
        o.report("reference saturation", &cpu);
        drop(api);
        server.stop(STOP_GRACE)?;
        Ok(o.ok as f64 / o.elapsed.as_secs_f64().max(1e-9))
    };
    Some(match measure() {
        Ok(per_s) => Row {
            what,
            figure: match measured {
                Some(m) => format!(
                    "{} runs/s (measured ÷ reference = {:.2})",
                    number(per_s.round()),
                    m / per_s.max(1e-9)
                ),
                None => format!("{} runs/s", number(per_s.round())),
            },
            budget: String::new(),
            ok: None,
        },
        Err(e) => {
            eprintln!("bench: the reference could not be measured: {e:#}");
            Row::not_measured(what, "", "see the error above")
        }
    })
}

fn measure(exe: &std::path::Path, slots: &mut [Option<Row>; 6]) -> Result<()> {
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "load", &[])?;
    let addr = server.addr;
    let mut api = Api::login(addr)?;
    api.deploy_new(SLUG, "Bench orders", &api::orders_document())?;
    probe(addr, &mut api)?;
    let mut stored = 1;

    let cpu = Cpu::start(server.pid());
    let rate = fixed_rate(addr, RATE, PHASE, RATE_CONNS);
    rate.report("fixed rate", &cpu);
    stored += rate.ok;
    slots[0] = Some(rate_row(&rate));

    let cpu = Cpu::start(server.pid());
    let saturation = saturate(addr, SATURATION_CONNS, PHASE, None, "sat");
    saturation.report("saturation", &cpu);
    stored += saturation.ok;
    slots[1] = Some(saturation_row(&saturation));

    let mut short = "";
    if stored < FILL_TARGET {
        let cpu = Cpu::start(server.pid());
        let fill = saturate(
            addr,
            SATURATION_CONNS,
            FILL_LIMIT,
            Some(FILL_TARGET - stored),
            "fill",
        );
        fill.report("fill to 100k runs", &cpu);
        stored += fill.ok;
        if stored < FILL_TARGET {
            short = "; the fill stopped at 120 s";
        }
    }
    slots[2] = Some(
        stored_row(&mut api, stored).unwrap_or_else(|e| Row::failed(SLOTS[2].0, SLOTS[2].1, &e)),
    );
    drop(api);
    server.stop(STOP_GRACE)?;

    // `stored` counts the runs answered 2xx; each one's steps were stored.
    let runs = number(stored as f64);
    let mut server = scratch.start(exe, "load-restart", &[])?;
    let ready = server.wait_ready(POLL_EVERY, READY_TIMEOUT)?;
    slots[3] = Some(Row::time_at_most(
        format!("ready with {runs} stored runs (restart after the load{short})"),
        ready,
        READY_BUDGET,
    ));
    thread::sleep(Duration::from_secs(2));
    slots[4] = Some(Row::bytes_at_most(
        format!("idle RSS 2 s after ready with {runs} stored runs"),
        server.rss_bytes()?,
        IDLE_RSS_BUDGET,
    ));
    let mut api = Api::login(server.addr)?;
    slots[5] = Some(run_list(&mut api, &runs)?);
    drop(api);
    server.stop(STOP_GRACE)?;
    Ok(())
}

/// One request first: the composer must answer 2xx. If it does not, what the stored run says is
/// part of the error.
pub(super) fn probe(addr: SocketAddr, api: &mut Api) -> Result<()> {
    let client = Client::new(addr, REQUEST_TIMEOUT);
    let resp = client
        .post(WEBHOOK, "application/json", &order_body("probe"))
        .with_context(|| format!("POST {WEBHOOK}"))?;
    if let Err(e) = api::ensure_2xx(&resp, &format!("POST {WEBHOOK}")) {
        let answer: serde_json::Value = serde_json::from_slice(resp.body()).unwrap_or_default();
        let Some(id) = answer["run_id"].as_str() else {
            return Err(e);
        };
        let run = match api.get_json(&format!("/api/v1/runs/{id}")) {
            Ok(run) => run,
            Err(why) => return Err(e.context(format!("and GET run {id} failed: {why:#}"))),
        };
        let steps: Vec<String> = run["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("{} {}", s["name"], s["status"]))
            .collect();
        return Err(e.context(format!(
            "its run {id} is {} with error {}; steps: {}",
            run["status"],
            run["error"],
            steps.join(", ")
        )));
    }
    println!(
        "bench: {WEBHOOK} answered {} {}",
        resp.status(),
        crate::http::text(&resp)
            .chars()
            .take(200)
            .collect::<String>()
    );
    Ok(())
}

pub(super) fn order_body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","items":[1,2,3]}}"#).into_bytes()
}

/// What a phase did: successes (2xx), failures, and the latencies of the successes (sorted).
#[derive(Default)]
pub(super) struct Outcome {
    pub ok: u64,
    pub errors: u64,
    pub unsent: u64,
    pub first_error: Option<String>,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn quantile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p).unwrap_or_default()
    }

    pub fn errors_text(&self) -> String {
        let mut text = match self.errors {
            0 => "0 errors".to_string(),
            1 => "1 error".to_string(),
            n => format!("{} errors", number(n as f64)),
        };
        if self.unsent > 0 {
            text.push_str(&format!(", {} not sent", number(self.unsent as f64)));
        }
        text
    }

    fn report(&self, phase: &str, cpu: &Cpu) {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        println!(
            "bench: {phase}: {} ok in {secs:.1} s ({}/s), {}; latency p50 {} p99 {} max {}",
            number(self.ok as f64),
            number(self.ok as f64 / secs),
            self.errors_text(),
            millis(self.quantile(0.5)),
            millis(self.quantile(0.99)),
            millis(self.latencies.last().copied().unwrap_or_default()),
        );
        println!("bench: {phase}: {}", cpu.used());
        if let Some(e) = &self.first_error {
            println!("bench: {phase}: first error: {e}");
        }
    }
}

impl Report for Outcome {
    fn answered(&mut self, answer: Result<Answer<'_>, String>, latency: Duration) -> bool {
        let error = match answer {
            Ok(a) if (200..300).contains(&a.status) => {
                self.ok += 1;
                self.latencies.push(latency);
                return true;
            }
            Ok(a) => format!(
                "HTTP {}: {}",
                a.status,
                String::from_utf8_lossy(a.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
            Err(e) => e,
        };
        self.errors += 1;
        self.first_error.get_or_insert(error);
        false
    }

    fn unsent(&mut self, n: u64) {
        self.unsent += n;
    }
}

/// CPU used by the server and by this process (the load generator) since `start`, so that a
/// report shows whether the generator took the server's cores.
struct Cpu {
    server: u32,
    started: Instant,
    server_at_start: Option<Duration>,
    ours_at_start: Option<Duration>,
}

impl Cpu {
    fn start(server: u32) -> Cpu {
        Cpu {
            server,
            started: Instant::now(),
            server_at_start: cpu_time(&server.to_string()),
            ours_at_start: cpu_time("self"),
        }
    }

    fn used(&self) -> String {
        let wall = self.started.elapsed().as_secs_f64().max(1e-9);
        let cores = |now: Option<Duration>, then: Option<Duration>| match (now, then) {
            (Some(now), Some(then)) => {
                format!("{:.2} cores", now.saturating_sub(then).as_secs_f64() / wall)
            }
            _ => "? cores".into(),
        };
        format!(
            "CPU used: server {}, load generator {} (of {} online)",
            cores(cpu_time(&self.server.to_string()), self.server_at_start),
            cores(cpu_time("self"), self.ours_at_start),
            thread::available_parallelism().map_or(0, |n| n.get()),
        )
    }
}

/// User + system CPU time of a process (all its threads) from `/proc/<pid>/stat`.
fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised name, starting at field 3 (state); utime and stime are
    // fields 14 and 15, in clock ticks.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = rustix::param::clock_ticks_per_second();
    (hz > 0).then(|| Duration::from_secs_f64(ticks as f64 / hz as f64))
}

pub(super) fn target(addr: SocketAddr, conns: usize) -> Target<'static> {
    Target {
        addr,
        conns,
        path: WEBHOOK,
        timeout: REQUEST_TIMEOUT,
        max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
    }
}

fn run_phase(addr: SocketAddr, conns: usize, pace: Pace, tag: &str) -> Outcome {
    let mut outcome = Outcome::default();
    let body = |n: u64| order_body(&format!("{tag}-{n}"));
    match drive(&target(addr, conns), pace, body, &mut outcome) {
        Ok(elapsed) => outcome.elapsed = elapsed,
        Err(e) => {
            outcome.errors += 1;
            outcome
                .first_error
                .get_or_insert(format!("the load driver failed: {e}"));
        }
    }
    outcome.latencies.sort();
    outcome
}

/// `rate` requests per second for `duration`, spread over `conns` connections: request k is due
/// at start + k / rate and goes on connection k mod conns. Latency counts from the due time.
fn fixed_rate(addr: SocketAddr, rate: u64, duration: Duration, conns: usize) -> Outcome {
    // A moment to connect before the first request is due.
    let start = Instant::now() + Duration::from_millis(200);
    let pace = Pace::Open {
        rate,
        total: rate * duration.as_secs(),
        start,
        give_up: start + duration + RATE_OVERRUN,
    };
    run_phase(addr, conns, pace, "rate")
}

/// As many requests as `conns` connections get answered, for `limit` or until `enough` succeeded.
pub(super) fn saturate(
    addr: SocketAddr,
    conns: usize,
    limit: Duration,
    enough: Option<u64>,
    tag: &str,
) -> Outcome {
    run_phase(addr, conns, Pace::Closed { limit, enough }, tag)
}

fn rate_row(o: &Outcome) -> Row {
    let what = format!(
        "{HOOK_NAME} at {} req/s open loop, {RATE_CONNS} conns, {} s: p99 (p50 {}; {})",
        number(RATE as f64),
        PHASE.as_secs(),
        millis(o.quantile(0.5)),
        o.errors_text()
    );
    if o.ok == 0 {
        return Row::failed(
            what,
            SLOTS[0].1,
            &anyhow::anyhow!(
                "no request succeeded: {}",
                o.first_error.as_deref().unwrap_or("?")
            ),
        );
    }
    let mut row = Row::time_at_most(what, o.quantile(0.99), P99_BUDGET);
    if o.errors > 0 || o.unsent > 0 {
        row.ok = Some(false);
    }
    row
}

fn saturation_row(o: &Outcome) -> Row {
    let what = format!(
        "{SAME_HOOK} at saturation, {SATURATION_CONNS} conns, {} s: 2xx runs/s (p99 {}; {})",
        PHASE.as_secs(),
        millis(o.quantile(0.99)),
        o.errors_text()
    );
    let per_s = o.ok as f64 / o.elapsed.as_secs_f64().max(1e-9);
    Row::at_least(what, per_s.round(), SATURATION_BUDGET, "runs/s")
}

/// The newest page of runs must be all `succeeded` (runs still finishing get a moment), and the
/// live database must hold one record per answered request (each put a key of its own): what
/// was answered was stored.
fn stored_row(api: &mut Api, answered: u64) -> Result<Row> {
    let path = format!("/api/v1/automations/{SLUG}/runs?mode=live&limit={PAGE}");
    let started = Instant::now();
    loop {
        let page = api.get_json(&path)?;
        let items = page["items"]
            .as_array()
            .with_context(|| format!("GET {path}: no items in {page}"))?;
        let succeeded = items.iter().filter(|r| r["status"] == "succeeded").count();
        let dbs = api.get_json(&format!("/api/v1/automations/{SLUG}/databases/live"))?;
        let records = dbs["items"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["name"] == "orders"))
            .and_then(|d| d["count"].as_u64())
            .unwrap_or(0);
        let done = items.len() == PAGE && succeeded == PAGE && records == answered;
        if done || started.elapsed() > STORED_CHECK_LIMIT {
            let mut figure = format!(
                "{succeeded}/{PAGE} succeeded; {} records for {} answers",
                number(records as f64),
                number(answered as f64)
            );
            if !done {
                let other: Vec<String> = items
                    .iter()
                    .filter(|r| r["status"] != "succeeded")
                    .take(3)
                    .map(|r| r["status"].to_string())
                    .collect();
                figure.push_str(&format!(
                    " ({} listed; others: {})",
                    items.len(),
                    other.join(", ")
                ));
            }
            return Ok(Row {
                what: format!(
                    "runs stored after the load (newest page of {PAGE}; database records)"
                ),
                figure,
                budget: SLOTS[2].1.into(),
                ok: Some(done),
            });
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// The median time of `GET .../runs?mode=live&limit=50` over 20 tries.
fn run_list(api: &mut Api, runs: &str) -> Result<Row> {
    let path = format!("/api/v1/automations/{SLUG}/runs?mode=live&limit={PAGE}");
    let mut took = Vec::with_capacity(LIST_SAMPLES);
    for _ in 0..LIST_SAMPLES {
        let started = Instant::now();
        let resp = api.send("GET", &path, &[], None)?;
        took.push(started.elapsed());
        api::ensure_2xx(&resp, &format!("GET {path}"))?;
        let page: serde_json::Value = serde_json::from_slice(resp.body())?;
        let listed = page["items"].as_array().map_or(0, Vec::len);
        if listed != PAGE {
            bail!("GET {path} listed {listed} runs, not {PAGE}");
        }
    }
    took.sort();
    let median = percentile(&took, 0.5).context("no samples")?;
    Ok(Row::time_at_most(
        format!(
            "run list page ({PAGE} newest, median of {LIST_SAMPLES}) with {runs} stored runs \
             (budget is for 1,000,000)"
        ),
        median,
        LIST_BUDGET,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A keep-alive server answering every request with 200, on `conns` connections.
    fn ok_server(conns: usize) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().take(conns) {
                let stream = stream.unwrap();
                thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    loop {
                        let mut length = 0;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if let Some(v) = line.strip_prefix("Content-Length: ") {
                                length = v.trim().parse().unwrap();
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                        if reader.get_mut().write_all(ok).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    #[test]
    fn reads_cpu_time_of_a_process() {
        let before = cpu_time("self").unwrap();
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(300) {
            x = x.wrapping_mul(31).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = cpu_time("self").unwrap();
        assert!(after > before, "{before:?} → {after:?}");
        assert!(cpu_time("0").is_none());
    }

    #[test]
    fn fixed_rate_sends_the_schedule_and_no_more() {
        let addr = ok_server(4);
        let o = fixed_rate(addr, 200, Duration::from_secs(1), 4);
        assert_eq!((o.ok, o.errors, o.unsent), (200, 0, 0));
        assert_eq!(o.latencies.len(), 200);
        assert!(o.elapsed >= Duration::from_millis(990), "{:?}", o.elapsed);
        assert!(o.elapsed < Duration::from_secs(5), "{:?}", o.elapsed);
    }

    #[test]
    fn saturation_stops_when_enough_succeeded() {
        let addr = ok_server(3);
        let o = saturate(addr, 3, Duration::from_secs(20), Some(500), "t");
        assert!(o.ok >= 500 && o.ok < 520, "{}", o.ok);
        assert_eq!(o.errors, 0);
        assert!(o.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn a_dead_server_is_errors_not_a_hang() {
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let o = saturate(addr, 2, Duration::from_millis(300), None, "t");
        assert_eq!(o.ok, 0);
        assert!(o.errors > 0 && o.first_error.is_some());
        let row = saturation_row(&o);
        assert_eq!(row.ok, Some(false));
        assert!(rate_row(&o).ok == Some(false));
    }
}
