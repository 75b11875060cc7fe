//! The runner: executes a composer's graph from its trigger (PRODUCT.md §4, §7). Independent
//! paths run concurrently; a step runs when every step linked into it has finished or been
//! skipped and at least one of them ran; a branch skips the other port's side. Per-step
//! timeouts, retries with backoff and `on_error`. Every change of state is broadcast and
//! stored (see `execute::Progress` for when intermediate states reach the disk).

use crate::error::{Error, Result};
use crate::runs::{Run, RunSource, RunStatus, StepRun, StepStatus};
use crate::steps::{self, StepContext};
use crate::store::Engine;
use model::{Composer, Document, Mode, StepKind};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinSet;

mod execute;
mod ready;

use execute::execute;

/// What a `respond` step sent; a webhook caller waiting on the run receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Responded {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

/// Everything needed to start a run.
pub struct RunRequest {
    pub automation: String,
    pub composer: String,
    pub mode: Mode,
    pub source: RunSource,
    pub input: Value,
    pub document: Arc<Document>,
    pub revision: Option<u64>,
    pub deployment: Option<u64>,
    pub replay_of: Option<String>,
}

pub struct RunHandle {
    pub id: String,
    /// Resolves when a `respond` step runs and the run so far is committed (closed when the run
    /// ends without one; an error when the commit failed: nothing may be acknowledged then).
    pub responded: oneshot::Receiver<Result<Responded>>,
    /// Resolves with the finished run once it is committed, or the error of that commit.
    pub finished: oneshot::Receiver<Result<Run>>,
}

/// A new run, admitted and built, not started yet.
pub(crate) struct Queued {
    pub run: Run,
    pub composer: Composer,
    pub document: Arc<Document>,
    /// Its queued state must be on disk before the run is acknowledged.
    pub durable: bool,
    pub ticket: crate::admission::Ticket,
}

/// A run's state changed: the whole record as it now is.
pub type RunEvent = Arc<Run>;

impl Engine {
    pub fn subscribe_runs(&self) -> broadcast::Receiver<RunEvent> {
        self.inner.run_events.subscribe()
    }

    /// Stores the run as queued (durably: a crash after this returns does not lose it) and
    /// starts it on the current tokio runtime. Blocks the calling thread until the queued state
    /// is committed; async callers use [`Engine::start_run_async`].
    pub fn start_run(&self, req: RunRequest) -> Result<RunHandle> {
        let queued = self.queued_run(req)?;
        if queued.durable {
            self.runs().put(queued.run.clone(), true)?;
        }
        let on_disk = queued.durable;
        Ok(self.launch(queued, on_disk))
    }

    /// [`Engine::start_run`] for async callers: waits for the commit without holding a thread.
    /// Queuing and starting happen on a task of their own, so a caller that goes away meanwhile
    /// (a webhook client hanging up) cannot leave a run queued but never started.
    pub async fn start_run_async(&self, req: RunRequest) -> Result<RunHandle> {
        let queued = self.queued_run(req)?;
        if !queued.durable {
            return Ok(self.launch(queued, false));
        }
        let engine = self.clone();
        tokio::spawn(async move {
            engine
                .runs()
                .put_durable(Arc::new(queued.run.clone()))
                .await?;
            Ok(engine.launch(queued, true))
        })
        .await
        .map_err(|e| Error::Storage(format!("the run could not be started: {e}")))?
    }

    /// Admits a new run (refused when too many wait, see [`crate::admission`]) and builds its
    /// queued record.
    pub(crate) fn queued_run(&self, req: RunRequest) -> Result<Queued> {
        let (ticket, queued_at) = crate::admission::admit_at(&self.inner.admission, || self.now())?;
        let composer = req
            .document
            .composer(&req.composer)
            .cloned()
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "composer `{}` does not exist in {}",
                    req.composer, req.mode
                ))
            })?;
        let run = Run {
            id: uuid::Uuid::now_v7().to_string(),
            automation: req.automation.clone(),
            composer: req.composer.clone(),
            mode: req.mode,
            source: req.source,
            revision: req.revision,
            deployment: req.deployment,
            status: RunStatus::Queued,
            queued_at,
            started_at: None,
            finished_at: None,
            input: req.input,
            steps: composer
                .steps
                .iter()
                .map(|s| StepRun {
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    status: StepStatus::Pending,
                    attempts: 0,
                    started_at: None,
                    finished_at: None,
                    input: Value::Null,
                    output: Value::Null,
                    logs: vec![],
                    error: None,
                })
                .collect(),
            error: None,
            last_finished_step: None,
            replay_of: req.replay_of,
        };
        // A run whose caller waits for its `respond` step is first written when it responds (or
        // once it has run for PROGRESS_DELAY); a queued run acknowledged with its id alone must be
        // on disk before the answer.
        let responds = composer
            .steps
            .iter()
            .any(|s| s.step_kind() == Some(StepKind::Respond));
        let durable = !(responds && req.source == RunSource::Webhook);
        self.inner.metrics.run_started(&run.automation, run.mode);
        Ok(Queued {
            run,
            composer,
            document: req.document,
            durable,
            ticket,
        })
    }

    /// Starts `run`; `queued_on_disk` says whether its queued state was stored (then its running
    /// state is stored at once too, so a crash finds it interrupted rather than queued again).
    pub(crate) fn launch(&self, queued: Queued, queued_on_disk: bool) -> RunHandle {
        let (respond_tx, responded) = oneshot::channel();
        let (done_tx, finished) = oneshot::channel();
        let id = queued.run.id.clone();
        self.spawn_contained(
            id.clone(),
            execute(
                self.clone(),
                queued.ticket,
                queued.run,
                queued.composer,
                queued.document,
                queued_on_disk,
                respond_tx,
                Some(done_tx),
            ),
        );
        RunHandle {
            id,
            responded,
            finished,
        }
    }

    /// The document a mode runs, with the deployment number in Live: the draft in Test; Live
    /// runs the latest deployment.
    pub(crate) fn document_for(
        &self,
        automation: &str,
        mode: Mode,
    ) -> Result<(Arc<Document>, Option<u64>)> {
        match mode {
            Mode::Test => Ok((Arc::new(self.get_draft(automation)?.document), None)),
            Mode::Live => {
                let live = self.live_or_err(automation)?;
                Ok((live.document.clone(), Some(live.deployment.number)))
            }
        }
    }

    /// Who may start a run by hand (Run buttons, the API): editors in Test, admins in Live.
    pub fn role_to_run(mode: Mode) -> crate::Role {
        match mode {
            Mode::Test => crate::Role::Editor,
            Mode::Live => crate::Role::Admin,
        }
    }

    /// [`Engine::start_composer_run`] by a person, who must have [`Engine::role_to_run`].
    pub fn start_composer_run_as(
        &self,
        by: &crate::User,
        automation: &str,
        composer: &str,
        mode: Mode,
        source: RunSource,
        input: Option<Value>,
    ) -> Result<RunHandle> {
        by.require(Self::role_to_run(mode))?;
        self.start_composer_run(automation, composer, mode, source, input)
    }

    /// [`Engine::replay_in_test`] by a person (editors: it is a test run).
    pub fn replay_in_test_as(&self, by: &crate::User, id: &str) -> Result<RunHandle> {
        by.require(Self::role_to_run(Mode::Test))?;
        self.replay_in_test(id)
    }

    /// Starts a run of a composer of `automation` in `mode`; without `input`, a test run uses
    /// the trigger's sample.
    pub(crate) fn start_composer_run(
        &self,
        automation: &str,
        composer: &str,
        mode: Mode,
        source: RunSource,
        input: Option<Value>,
    ) -> Result<RunHandle> {
        let (document, deployment) = self.document_for(automation, mode)?;
        let c = document.composer(composer).ok_or_else(|| {
            Error::NotFound(format!("composer `{composer}` does not exist in {mode}"))
        })?;
        let input = input.unwrap_or_else(|| c.trigger.sample().cloned().unwrap_or(Value::Null));
        self.start_run(RunRequest {
            automation: automation.to_string(),
            composer: composer.to_string(),
            mode,
            source,
            input,
            document,
            revision: None,
            deployment,
            replay_of: None,
        })
    }

    /// Starts the run of a webhook call; also says whether the composer answers with a
    /// `respond` step (then the caller waits for it). `bearer` is the token of the caller's
    /// `Authorization: Bearer` header, checked when the trigger names an `auth_secret`.
    pub async fn start_webhook_run(
        &self,
        automation: &str,
        composer: &str,
        mode: Mode,
        method: &str,
        bearer: Option<&str>,
        input: Value,
    ) -> Result<(RunHandle, bool)> {
        let (document, deployment) = match mode {
            // Live's document is in memory; assembling the draft reads and decodes every part
            // of it, which is work for a blocking thread.
            Mode::Live => self.document_for(automation, mode)?,
            Mode::Test => {
                let (engine, a) = (self.clone(), automation.to_string());
                tokio::task::spawn_blocking(move || engine.document_for(&a, Mode::Test))
                    .await
                    .map_err(|e| Error::Storage(format!("the draft could not be read: {e}")))??
            }
        };
        let c = document.composer(composer).ok_or_else(|| {
            Error::NotFound(format!("composer `{composer}` does not exist in {mode}"))
        })?;
        match &c.trigger {
            model::Trigger::Webhook { method: m, .. } if !m.eq_ignore_ascii_case(method) => {
                return Err(Error::Invalid(format!(
                    "this webhook takes {m}, not {method}"
                )));
            }
            model::Trigger::Webhook {
                auth_secret: Some(name),
                ..
            } if !name.is_empty() => self.check_webhook_bearer(automation, mode, name, bearer)?,
            model::Trigger::Webhook { .. } => {}
            other => {
                return Err(Error::Invalid(format!(
                    "composer `{composer}` has a {} trigger, not a webhook",
                    other.kind()
                )));
            }
        }
        let responds = c
            .steps
            .iter()
            .any(|s| s.step_kind() == Some(StepKind::Respond));
        let handle = self
            .start_run_async(RunRequest {
                automation: automation.to_string(),
                composer: composer.to_string(),
                mode,
                source: RunSource::Webhook,
                input,
                document,
                revision: None,
                deployment,
                replay_of: None,
            })
            .await?;
        Ok((handle, responds))
    }

    /// Replays live run `id` in Test: its trigger input against the current draft, with test
    /// secrets and databases; the new run names the one it replays.
    pub(crate) fn replay_in_test(&self, id: &str) -> Result<RunHandle> {
        let original = self.get_run(id)?;
        if original.mode != Mode::Live {
            return Err(Error::Invalid(
                "only live runs are replayed in Test; run a test run again with Run".into(),
            ));
        }
        let (document, _) = self.document_for(&original.automation, Mode::Test)?;
        self.start_run(RunRequest {
            automation: original.automation.clone(),
            composer: original.composer.clone(),
            mode: Mode::Test,
            source: RunSource::Replay,
            input: original.input.clone(),
            document,
            revision: None,
            deployment: None,
            replay_of: Some(original.id),
        })
    }

    /// The caller must present secret `name` of this mode as its bearer token. Compared in
    /// constant time; a secret that is not set refuses every caller.
    fn check_webhook_bearer(
        &self,
        automation: &str,
        mode: Mode,
        name: &str,
        bearer: Option<&str>,
    ) -> Result<()> {
        let Some(given) = bearer else {
            return Err(Error::WebhookAuth(format!(
                "this webhook requires `Authorization: Bearer <secret {name}>`"
            )));
        };
        let secrets = self.run_secrets(automation, mode)?;
        let Some(expected) = secrets.get(name) else {
            return Err(Error::WebhookAuth(format!(
                "this webhook requires secret {name}, which is not set in {mode}"
            )));
        };
        if !crate::vault::same_bytes(given.as_bytes(), expected.as_bytes()) {
            return Err(Error::WebhookAuth(format!(
                "the bearer token is not the value of secret {name}"
            )));
        }
        Ok(())
    }

    /// Recovers after a crash: running runs become interrupted, and queued runs start now
    /// (with what their mode runs today). Returns how many were started.
    pub fn resume_after_crash(&self) -> Result<usize> {
        let queued = self.recover_runs()?;
        let n = queued.len();
        for run in queued {
            let document = match self.document_for(&run.automation, run.mode) {
                Ok((d, _)) => d,
                Err(e) => {
                    let mut failed = run;
                    failed.status = RunStatus::Failed;
                    failed.error = Some(format!("could not start after a restart: {e}"));
                    failed.finished_at = Some(self.now());
                    self.record(failed);
                    continue;
                }
            };
            let Some(composer) = document.composer(&run.composer).cloned() else {
                continue;
            };
            let (tx, _) = oneshot::channel();
            let ticket = crate::admission::readmit(&self.inner.admission);
            self.spawn_contained(
                run.id.clone(),
                execute(
                    self.clone(),
                    ticket,
                    run,
                    composer,
                    document,
                    true,
                    tx,
                    None,
                ),
            );
        }
        Ok(n)
    }

    /// Runs run `id`'s task so that a panic in it (a bug) fails that run and nothing else: the
    /// run, if it is on disk, is stored as failed; whoever waits on it hears that it ended.
    fn spawn_contained(
        &self,
        id: String,
        run: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        use futures::FutureExt;
        let engine = self.clone();
        tokio::spawn(async move {
            let Err(panic) = std::panic::AssertUnwindSafe(run).catch_unwind().await else {
                return;
            };
            let why = crate::panic_message(panic.as_ref());
            tracing::error!(run = %id, "the run stopped on a panic: {why}");
            let reader = engine.clone();
            let stored = tokio::task::spawn_blocking(move || reader.get_run(&id)).await;
            if let Ok(Ok(mut run)) = stored
                && !run.status.is_finished()
            {
                run.status = RunStatus::Failed;
                run.error = Some(format!(
                    "the run stopped on an internal error (a bug): {why}"
                ));
                run.finished_at = Some(engine.now());
                let _ = engine.record_durable(run).await;
            }
        });
    }

    /// Tells listeners (the canvas, SSE clients) of a state that is not stored; `run` is only
    /// built when someone listens.
    fn broadcast(&self, run: impl FnOnce() -> Run) {
        if self.inner.run_events.receiver_count() > 0 {
            let _ = self.inner.run_events.send(Arc::new(run()));
        }
    }

    /// Stores `run` and waits for the commit (without holding a thread), then tells listeners —
    /// whoever listens by then: a listener that subscribed during the commit read the stored
    /// run before it and must hear of this state.
    async fn record_durable(&self, run: Run) -> Result<()> {
        let run = Arc::new(run);
        let stored = self.runs().put_durable(run.clone()).await;
        if let Err(e) = &stored {
            tracing::error!(run = %run.id, "cannot store the run: {e}");
        }
        if self.inner.run_events.receiver_count() > 0 {
            let _ = self.inner.run_events.send(run);
        }
        stored
    }

    /// Queues `run` for the next commit and tells listeners.
    fn record(&self, run: Run) {
        let event = (self.inner.run_events.receiver_count() > 0).then(|| Arc::new(run.clone()));
        let id = run.id.clone();
        if let Err(e) = self.runs().put(run, false) {
            tracing::error!(run = %id, "cannot store the run: {e}");
        }
        if let Some(event) = event {
            let _ = self.inner.run_events.send(event);
        }
    }
}
