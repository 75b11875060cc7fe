//! Retention (PRODUCT.md §15): how long each automation keeps its runs, per mode, and the
//! pruner that deletes the others.
//!
//! A run's age is counted from its id: run ids are UUIDv7, whose first 48 bits are the time the
//! run was queued, so the runs older than a rule are one range of the run index, read without
//! opening a run. The pruner reads what to delete in a read transaction (which never holds up a
//! writer) and deletes it in transactions of [`PRUNE_BATCH`] runs with a pause between them, so
//! the run writer never waits long for the file (each such transaction is timed in
//! [`PruneReport`]; the benchmark prints the longest). Runs that have not finished are never
//! deleted, and are not counted past a rule's `max_runs` either: the newest `max_runs` runs of a
//! composer are kept whatever their state.

use crate::error::{Error, Result};
use crate::runs::{IndexEntry, RUN_INDEX, RUNS};
use crate::store::{Decode, Engine, Json, Stored};
use model::Mode;
use redb::{Durability, ReadableDatabase, TableDefinition};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use model::wire::{Retention, RetentionRule};

/// automation slug -> its rules; an automation without a row keeps the defaults.
pub(crate) const RETENTION: TableDefinition<&str, Json<Retention>> =
    TableDefinition::new("retention");

impl Stored for Retention {
    const NAME: &'static str = "Retention";
}

/// Runs deleted in one transaction: small enough that a commit of the run writer waiting for
/// it waits a few milliseconds.
pub const PRUNE_BATCH: usize = 100;
/// The pause between two deleting transactions, in which the run writer gets the file.
const PAUSE: Duration = Duration::from_millis(2);
/// Most runs one pass deletes; a pass that stops there says so ([`PruneReport::more`]), and the
/// pruner starts the next one soon.
const PASS_LIMIT: usize = 20_000;
/// How often the pruner runs when a pass found nothing more (`SLIPWAY_PRUNE_SECS`).
pub const DEFAULT_PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What one pass of the pruner did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PruneReport {
    pub deleted: usize,
    pub transactions: usize,
    /// The longest a deleting transaction held the file (from its start to its commit).
    pub longest_transaction: Duration,
    /// Whether the pass stopped at its limit with more left to delete.
    pub more: bool,
}

/// The smallest run id queued at `millis` (Unix time): every id below it was queued earlier.
fn first_id_at(millis: i64) -> String {
    let ms = millis.max(0) as u64;
    format!("{:08x}-{:04x}", ms >> 16, ms & 0xffff)
}

impl Engine {
    /// The automation's retention rules (the defaults unless set).
    pub fn retention(&self, automation: &str) -> Result<Retention> {
        self.get_automation(automation)?;
        Ok(self.row(RETENTION, automation)?.unwrap_or_default())
    }

    /// Sets the automation's retention rules (admins; audited). The pruner applies them on its
    /// next pass.
    pub fn set_retention(
        &self,
        user: &crate::User,
        automation: &str,
        retention: Retention,
    ) -> Result<Retention> {
        user.require(crate::Role::Admin)?;
        if let Some(problem) = retention.problem() {
            return Err(Error::Invalid(problem));
        }
        self.get_automation(automation)?;
        let w = self.db().begin_write()?;
        w.open_table(RETENTION)?.insert(automation, &retention)?;
        let rule = |r: RetentionRule| format!("{} days, {} runs per composer", r.days, r.max_runs);
        crate::audit::audit_in(
            &w,
            self.now(),
            &user.username,
            crate::AuditAction::Settings,
            Some(automation),
            format!(
                "set retention: test {}; live {}",
                rule(retention.test),
                rule(retention.live)
            ),
        )?;
        w.commit()?;
        Ok(retention)
    }

    /// One pass of the pruner over every automation and mode (see the module).
    pub fn prune_runs(&self) -> Result<PruneReport> {
        let doomed = self.runs_past_retention()?;
        let mut report = PruneReport {
            more: doomed.len() >= PASS_LIMIT,
            ..PruneReport::default()
        };
        for (i, batch) in doomed.chunks(PRUNE_BATCH).enumerate() {
            if i > 0 {
                std::thread::sleep(PAUSE);
            }
            let mut w = self.db().begin_write()?;
            // How long the file is held from the run writer: from the lock to the commit.
            let started = Instant::now();
            // No fsync of its own: the run writer's next commit (a few ms away under load)
            // makes the deletion durable, and a crash before it only leaves the runs for the
            // next pass to delete again.
            w.set_durability(Durability::None)
                .map_err(|e| Error::Storage(e.to_string()))?;
            {
                let mut index = w.open_table(RUN_INDEX)?;
                let mut runs = w.open_table(RUNS)?;
                for (automation, mode, id) in batch {
                    index.remove((automation.as_str(), mode.as_str(), id.as_str()))?;
                    runs.remove(id.as_str())?;
                }
            }
            w.commit()?;
            let took = started.elapsed();
            self.inner.metrics.pruned(batch.len(), took);
            report.longest_transaction = report.longest_transaction.max(took);
            report.transactions += 1;
            report.deleted += batch.len();
        }
        Ok(report)
    }

    /// The finished runs the rules no longer keep: per automation and mode, those past the time
    /// (oldest first), then those past a composer's count (newest first).
    fn runs_past_retention(&self) -> Result<Vec<(String, Mode, String)>> {
        let now = self.now().timestamp_millis();
        let automations = self.list_automations()?;
        let r = self.db().begin_read()?;
        let index = r.open_table(RUN_INDEX)?;
        let rules = r.open_table(RETENTION)?;
        let mut doomed = vec![];
        for a in &automations {
            let retention: Retention = match rules.get(a.slug.as_str())? {
                Some(v) => v.decode()?,
                None => Retention::default(),
            };
            for mode in [Mode::Test, Mode::Live] {
                let rule = retention.rule(mode);
                let cutoff = first_id_at(now - rule.keep_millis());
                let m = mode.as_str();
                let slug = a.slug.as_str();
                // Past the time: one range of the index, oldest first.
                for row in index.range((slug, m, "")..(slug, m, cutoff.as_str()))? {
                    let (k, v) = row?;
                    if v.decode()?.1.is_finished() {
                        doomed.push((a.slug.clone(), mode, k.value().2.to_string()));
                        if doomed.len() >= PASS_LIMIT {
                            return Ok(doomed);
                        }
                    }
                }
                // Past the count: only when the mode holds more runs within the time than one
                // composer may keep (counting the keys reads no value).
                let recent = (slug, m, cutoff.as_str())..=(slug, m, "\u{10FFFF}");
                if (index.range(recent.clone())?.count() as u64) <= rule.max_runs {
                    continue;
                }
                let mut kept: HashMap<String, u64> = HashMap::new();
                for row in index.range(recent)?.rev() {
                    let (k, v) = row?;
                    let IndexEntry(composer, status) = v.decode()?;
                    let seen = kept.entry(composer).or_default();
                    *seen += 1;
                    if status.is_finished() && *seen > rule.max_runs {
                        doomed.push((a.slug.clone(), mode, k.value().2.to_string()));
                        if doomed.len() >= PASS_LIMIT {
                            return Ok(doomed);
                        }
                    }
                }
            }
        }
        Ok(doomed)
    }

    /// Prunes every `every` until the process ends (sooner while a pass leaves more to do).
    pub async fn run_pruner(self, every: Duration) {
        // Not at start: a restart is quick and lean, and the first pass comes a period later.
        tokio::time::sleep(every).await;
        loop {
            let engine = self.clone();
            let pass = tokio::task::spawn_blocking(move || engine.prune_runs()).await;
            let pause = match pass {
                Ok(Ok(report)) => {
                    if report.deleted > 0 {
                        tracing::info!(
                            deleted = report.deleted,
                            longest_ms = report.longest_transaction.as_secs_f64() * 1e3,
                            "pruned runs past retention"
                        );
                    }
                    if report.more { PAUSE * 50 } else { every }
                }
                Ok(Err(e)) => {
                    tracing::error!("pruning runs: {e}");
                    every
                }
                Err(e) => {
                    tracing::error!("the pruner stopped a pass: {e}");
                    every
                }
            };
            tokio::time::sleep(pause).await;
        }
    }
}

#[cfg(test)]
mod tests;
