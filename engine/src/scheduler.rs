//! Production schedules (PRODUCT.md §8): schedule triggers fire only in Live, only from the
//! latest deployment, re-armed at each deploy; never in Test. A schedule is due when a fire
//! time lies after the later of its last firing and its deployment; a due schedule fires once,
//! however many times it was missed (so a server that was down fires a missed schedule once at
//! start).

use crate::error::Result;
use crate::runner::RunRequest;
use crate::runs::RunSource;
use crate::schedule::next_fire_times;
use crate::store::{Engine, Json};
use chrono::{DateTime, Utc};
use model::{Mode, Trigger};
use redb::TableDefinition;
use serde_json::json;

/// (automation, composer) -> when it last fired (stored as an RFC 3339 JSON string).
pub(crate) const LAST_FIRED: TableDefinition<(&str, &str), Json<DateTime<Utc>>> =
    TableDefinition::new("schedule_fired");

/// One live schedule and when it fires next.
#[derive(Clone, Debug, PartialEq)]
pub struct Armed {
    pub automation: String,
    pub composer: String,
    pub next: DateTime<Utc>,
}

impl Engine {
    fn last_fired(&self, automation: &str, composer: &str) -> Result<Option<DateTime<Utc>>> {
        self.row(LAST_FIRED, (automation, composer))
    }

    /// Every schedule trigger of every latest deployment, with its next fire time after the
    /// later of its last firing and its deployment (a time not after now means it is due).
    pub fn armed_schedules(&self) -> Result<Vec<Armed>> {
        let mut out = Vec::new();
        for a in self.list_automations()? {
            let Some(live) = self.live(&a.slug)? else {
                continue;
            };
            for c in &live.document.composers {
                let Trigger::Schedule { cron, timezone } = &c.trigger else {
                    continue;
                };
                let since = match self.last_fired(&a.slug, &c.slug)? {
                    Some(t) if t > live.deployment.created_at => t,
                    _ => live.deployment.created_at,
                };
                match next_fire_times(cron, timezone.as_deref(), since, 1) {
                    Ok(t) => out.push(Armed {
                        automation: a.slug.clone(),
                        composer: c.slug.clone(),
                        next: t[0],
                    }),
                    Err(e) => tracing::warn!(
                        automation = a.slug,
                        composer = c.slug,
                        "schedule not armed: {e}"
                    ),
                }
            }
        }
        Ok(out)
    }

    /// Starts a live run of every due schedule (once each) and records that it fired. Returns
    /// the ids of the runs started.
    pub fn fire_due_schedules(&self) -> Result<Vec<String>> {
        let now = self.now();
        let mut started = Vec::new();
        for armed in self.armed_schedules()? {
            if armed.next > now {
                continue;
            }
            let Some(live) = self.live(&armed.automation)? else {
                continue;
            };
            // The firing and its queued run are one commit: a crash finds both or neither
            // (then the schedule is still due and fires at start).
            let fired = (|| {
                let queued = self.queued_run(RunRequest {
                    automation: armed.automation.clone(),
                    composer: armed.composer.clone(),
                    mode: Mode::Live,
                    source: RunSource::Schedule,
                    input: json!({ "scheduled_at": armed.next, "fired_at": now }),
                    document: live.document.clone(),
                    revision: None,
                    deployment: Some(live.deployment.number),
                    replay_of: None,
                })?;
                let w = self.db().begin_write()?;
                w.open_table(LAST_FIRED)?
                    .insert((armed.automation.as_str(), armed.composer.as_str()), &now)?;
                crate::runs::store_runs_in(&w, [&queued.run])?;
                w.commit()?;
                Ok::<_, crate::Error>(self.launch(queued, true))
            })();
            match fired {
                Ok(h) => started.push(h.id),
                Err(e) => tracing::error!(
                    automation = armed.automation,
                    composer = armed.composer,
                    "scheduled run not started: {e}"
                ),
            }
        }
        Ok(started)
    }

    /// Runs the schedules until the process ends: fires what is due (at start, what was
    /// missed while the server was down), then sleeps until the next fire time or a deploy.
    pub async fn run_scheduler(self) {
        loop {
            let engine = self.clone();
            let next = tokio::task::spawn_blocking(move || {
                if let Err(e) = engine.fire_due_schedules() {
                    tracing::error!("schedules: {e}");
                }
                engine
                    .armed_schedules()
                    .map(|a| a.into_iter().map(|a| a.next).min())
            })
            .await;
            let wait = match next {
                Ok(Ok(Some(t))) => (t - self.now() + chrono::Duration::milliseconds(5))
                    .to_std()
                    .unwrap_or_default()
                    .min(std::time::Duration::from_secs(60)),
                _ => std::time::Duration::from_secs(60),
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.inner.schedules_changed.notified() => {}
            }
        }
    }
}
