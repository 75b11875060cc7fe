//! What `/metrics` shows (PRODUCT.md §15), in the OpenMetrics text format that Prometheus
//! scrapes, through `prometheus-client`. Counters and histograms are updated where the thing
//! happens: a run is created ([`Engine::queued_run`](crate::Engine)), a run's final state is
//! committed (the run writer, so a run counts as finished only once it is on disk), a step ends,
//! the run writer commits, a webhook is answered (the server reports it). Gauges (queued and
//! running runs, the data file's size) are read when scraped.
//!
//! Series, all prefixed `slipway_`:
//! - `runs_started_total{automation, mode}`, `runs_finished_total{automation, mode, status}`
//! - `step_duration_seconds{kind}` (histogram)
//! - `webhook_duration_seconds` (histogram: from the request to its answer)
//! - `run_writer_commit_seconds`, `run_writer_batch_size` (histograms)
//! - `runs_queued` (admitted, waiting for a run slot), `runs_running`
//! - `data_file_bytes`
//! - `pruner_runs_deleted_total`, `pruner_transaction_seconds` (histogram) and
//!   `pruner_longest_transaction_seconds`: how long the retention pruner held the file, which
//!   is the longest a run-writer commit can have waited for it
//!
//! Runs waiting on a durable `wait` step get their gauge with those steps (issue 13); today no
//! run waits other than queued.

use model::Mode;
use model::wire::RunStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The content type of [`Engine::metrics_text`](crate::Engine::metrics_text).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// Label values known at compile time are `&'static str`: a run's counters cost one allocation
// (the automation's slug), a step's none.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    automation: String,
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FinishedLabels {
    automation: String,
    mode: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    kind: &'static str,
}

/// Durations from 0.1 ms to about 100 s, doubling.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 21))
}

pub(crate) struct Metrics {
    registry: Registry,
    runs_started: Family<RunLabels, Counter>,
    runs_finished: Family<FinishedLabels, Counter>,
    step_seconds: Family<StepLabels, Histogram>,
    webhook_seconds: Histogram,
    commit_seconds: Histogram,
    batch_size: Histogram,
    queued: Gauge,
    running: Gauge,
    data_file: Gauge,
    pruned: Counter,
    prune_seconds: Histogram,
    prune_longest: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("slipway"),
            runs_started: Family::default(),
            runs_finished: Family::default(),
            step_seconds: Family::new_with_constructor(seconds),
            webhook_seconds: seconds(),
            commit_seconds: seconds(),
            // 1 to 4,096 records (the writer's largest batch), doubling.
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
            queued: Gauge::default(),
            running: Gauge::default(),
            data_file: Gauge::default(),
            pruned: Counter::default(),
            prune_seconds: seconds(),
            prune_longest: Gauge::default(),
        };
        let registry = &mut m.registry;
        registry.register(
            "runs_started",
            "Runs created, by automation and mode",
            m.runs_started.clone(),
        );
        registry.register(
            "runs_finished",
            "Runs whose final state was committed, by automation, mode and status",
            m.runs_finished.clone(),
        );
        registry.register(
            "step_duration_seconds",
            "How long steps took, by kind",
            m.step_seconds.clone(),
        );
        registry.register(
            "webhook_duration_seconds",
            "From a webhook request to its answer",
            m.webhook_seconds.clone(),
        );
        registry.register(
            "run_writer_commit_seconds",
            "How long one commit of the run writer took",
            m.commit_seconds.clone(),
        );
        registry.register(
            "run_writer_batch_size",
            "Records (run states and step database writes) in one run-writer commit",
            m.batch_size.clone(),
        );
        registry.register(
            "runs_queued",
            "Runs admitted and waiting for a run slot (SLIPWAY_MAX_RUNNING)",
            m.queued.clone(),
        );
        registry.register("runs_running", "Runs executing now", m.running.clone());
        registry.register(
            "data_file_bytes",
            "The size of the data file",
            m.data_file.clone(),
        );
        registry.register(
            "pruner_runs_deleted",
            "Runs the retention pruner deleted",
            m.pruned.clone(),
        );
        registry.register(
            "pruner_transaction_seconds",
            "How long one deleting transaction of the pruner held the file",
            m.prune_seconds.clone(),
        );
        registry.register(
            "pruner_longest_transaction_seconds",
            "The longest deleting transaction of the pruner since the start",
            m.prune_longest.clone(),
        );
        m
    }
}

impl Metrics {
    pub fn run_started(&self, automation: &str, mode: Mode) {
        self.runs_started
            .get_or_create(&RunLabels {
                automation: automation.to_owned(),
                mode: mode.as_str(),
            })
            .inc();
    }

    pub fn run_finished(&self, automation: &str, mode: Mode, status: RunStatus) {
        self.runs_finished
            .get_or_create(&FinishedLabels {
                automation: automation.to_owned(),
                mode: mode.as_str(),
                status: status.as_str(),
            })
            .inc();
    }

    pub fn step_took(&self, kind: &'static str, took: Duration) {
        self.step_seconds
            .get_or_create(&StepLabels { kind })
            .observe(took.as_secs_f64());
    }

    /// One deleting transaction of the pruner (only the pruner calls this, one pass at a time).
    pub fn pruned(&self, runs: usize, took: Duration) {
        self.pruned.inc_by(runs as u64);
        let secs = took.as_secs_f64();
        self.prune_seconds.observe(secs);
        if secs > self.prune_longest.get() {
            self.prune_longest.set(secs);
        }
    }

    pub fn committed(&self, records: usize, took: Duration) {
        self.commit_seconds.observe(took.as_secs_f64());
        self.batch_size.observe(records as f64);
    }
}

impl crate::Engine {
    /// A webhook was answered `took` after its request arrived (the server measures it).
    pub fn observe_webhook(&self, took: Duration) {
        self.inner
            .metrics
            .webhook_seconds
            .observe(took.as_secs_f64());
    }

    /// Every series, in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn metrics_text(&self) -> String {
        let m = &self.inner.metrics;
        let (running, queued) = self.run_load();
        m.running.set(running as i64);
        m.queued.set(queued as i64);
        if let Some(path) = &self.inner.path {
            let size = std::fs::metadata(path).map(|f| f.len()).unwrap_or(0);
            m.data_file.set(size as i64);
        }
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &m.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        text
    }
}
