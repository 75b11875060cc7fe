//! Executing one run: its steps in the order [`ready_steps`](super::ready::ready_steps) gives,
//! their outcomes recorded (when, see [`Progress`]), the answer of a `respond` step given only
//! once the run so far is committed.

use super::*;

/// A run's progress records. A run whose caller waits for its answer (a webhook with a `respond`
/// step) has nothing on disk until it answers, and most end within a few milliseconds: writing
/// each of their intermediate states would cost the run writer more than the run itself. So for
/// such a run, during the first [`PROGRESS_DELAY`], states are only broadcast; one still going
/// after that is written as it is then and at every change after. A run whose queued state is on
/// disk has every state written (after a crash it is found interrupted, not started again). The
/// final state is always written, durably.
const PROGRESS_DELAY: std::time::Duration = std::time::Duration::from_millis(20);

struct Progress {
    quiet_until: tokio::time::Instant,
    /// A state was broadcast but not written.
    unwritten: bool,
    /// Some state of the run is on disk (or on its way there).
    ever_written: bool,
}

impl Progress {
    fn new(quiet_start: bool) -> Progress {
        let now = tokio::time::Instant::now();
        Progress {
            quiet_until: if quiet_start {
                now + PROGRESS_DELAY
            } else {
                now
            },
            unwritten: false,
            ever_written: !quiet_start,
        }
    }

    /// The run's state changed: written once the quiet start is over, broadcast either way.
    fn note(&mut self, engine: &Engine, run: impl FnOnce() -> Run) {
        if tokio::time::Instant::now() < self.quiet_until {
            self.unwritten = true;
            engine.broadcast(run);
        } else {
            self.recorded();
            engine.record(run());
        }
    }

    /// The current state is being written by the caller.
    fn recorded(&mut self) {
        self.unwritten = false;
        self.ever_written = true;
    }

    /// When an unwritten state must be written if nothing else changes first.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.unwritten.then_some(self.quiet_until)
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn execute(
    engine: Engine,
    ticket: crate::admission::Ticket,
    mut run: Run,
    composer: Composer,
    document: Arc<Document>,
    queued_on_disk: bool,
    respond_tx: oneshot::Sender<Result<Responded>>,
    done_tx: Option<oneshot::Sender<Result<Run>>>,
) {
    // Waits its turn (first in first out) while `SLIPWAY_MAX_RUNNING` runs execute; the slot is
    // held until the run ends.
    let (_slot, started_at) = ticket.slot_at(|| engine.now()).await;
    if engine.is_stopping() {
        // Shutting down: a run that has not started stays as it is on disk (queued, so it
        // starts after the restart); nothing of it has run.
        return;
    }
    let mut respond_tx = Some(respond_tx);
    run.started_at = Some(started_at);
    // Secret values are in the expressions' context and never in what is stored or shown.
    let secrets = match engine.run_secrets(&run.automation, run.mode) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            run.status = RunStatus::Failed;
            run.error = Some(format!("the secrets of {} cannot be read: {e}", run.mode));
            run.finished_at = Some(engine.now());
            let stored = engine.record_durable(run.clone()).await;
            if let Some(done) = done_tx {
                let _ = done.send(stored.map(|()| run));
            }
            return;
        }
    };
    // What is stored and shown has every secret value hidden (built once for the whole run).
    let redactor = crate::vault::Redactor::new(&secrets);
    run.status = RunStatus::Running;
    let mut progress = Progress::new(!queued_on_disk);
    // A bug stand-in for the tests of panic containment (debug builds, when asked for).
    #[cfg(debug_assertions)]
    if composer.slug == "panic-probe" && std::env::var_os("SLIPWAY_TEST_PANICS").is_some() {
        if queued_on_disk {
            let _ = engine.record_durable(redactor.run(&run)).await;
        }
        panic!("panic probe");
    }
    if queued_on_disk {
        // A run that a crash would find queued starts again; once it runs, a crash must find
        // it running (then interrupted), so no step of it is ever executed twice.
        progress.recorded();
        if let Err(e) = engine.record_durable(redactor.run(&run)).await {
            tracing::error!(run = %run.id, "not started: its running state was not stored: {e}");
            if let Some(done) = done_tx {
                let _ = done.send(Err(e));
            }
            return;
        }
    } else {
        progress.note(&engine, || redactor.run(&run));
    }
    let renderer = engine.inner.renderer.clone();
    let mut status: HashMap<String, StepStatus> = composer
        .steps
        .iter()
        .map(|s| (s.name.clone(), StepStatus::Pending))
        .collect();
    let mut branch_result: HashMap<String, bool> = HashMap::new();
    let env = json!({
        "mode": run.mode.as_str(),
        "automation": run.automation,
        "composer": run.composer,
        "run_id": run.id,
    });
    let mut scope = steps::RunScope::new(run.input.clone(), secrets.clone(), env);
    let wrote = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks: JoinSet<(String, steps::Outcome)> = JoinSet::new();
    let mut failure: Option<String> = None;
    // A respond step's answer, waiting for the run's state to be committed.
    let mut answer: Option<(oneshot::Sender<Result<Responded>>, Responded)> = None;

    loop {
        // Start every step whose inputs are resolved; skip those none of whose inputs ran.
        if failure.is_none() {
            let ready = ready::ready_steps(&composer, &status, &branch_result);
            for &index in &ready.skip {
                let name = &composer.steps[index].name;
                status.insert(name.clone(), StepStatus::Skipped);
                set_step(&mut run, name, |s| s.status = StepStatus::Skipped);
            }
            for &index in &ready.start {
                let step = &composer.steps[index];
                status.insert(step.name.clone(), StepStatus::Running);
                set_step(&mut run, &step.name, |s| {
                    s.status = StepStatus::Running;
                    s.started_at = Some(engine.now());
                });
                // A database write of a run with nothing on disk carries the run along.
                let unwritten = (!progress.ever_written
                    && step.step_kind() == Some(StepKind::Database))
                .then(|| Arc::new(redactor.run(&run)));
                let ctx = StepContext {
                    engine: engine.clone(),
                    renderer: renderer.clone(),
                    automation: run.automation.clone(),
                    mode: run.mode,
                    document: document.clone(),
                    scope: scope.for_step(engine.now().to_rfc3339()),
                    wrote: wrote.clone(),
                    run_id: run.id.clone(),
                    unwritten,
                };
                let step = step.clone();
                tasks.spawn(async move {
                    let name = step.name.clone();
                    let began = std::time::Instant::now();
                    let outcome = steps::run_step(&ctx, &step).await;
                    let kind = step.step_kind().map_or("unknown", StepKind::as_str);
                    ctx.engine.inner.metrics.step_took(kind, began.elapsed());
                    (name, outcome)
                });
            }
            // Started steps are shown live but not stored: after a crash a running step is
            // interrupted whatever its record said.
            engine.broadcast(|| redactor.run(&run));
        }

        if let Some((tx, r)) = answer.take() {
            if tasks.is_empty() {
                // Nothing runs after the respond step: one durable record, the final one,
                // serves the answer too.
                answer = Some((tx, r));
                break;
            }
            // The caller hears the answer only once the run so far is on disk.
            progress.recorded();
            let stored = engine.record_durable(redactor.run(&run)).await;
            let _ = tx.send(stored.map(|()| r));
        }
        let joined = match progress.deadline() {
            // A run that outlives its quiet start is written as it is then, even while its
            // steps are still busy (so a crash finds it).
            Some(at) => tokio::select! {
                joined = tasks.join_next() => joined,
                _ = tokio::time::sleep_until(at) => {
                    progress.recorded();
                    engine.record(redactor.run(&run));
                    continue;
                }
            },
            None => tasks.join_next().await,
        };
        let Some(joined) = joined else {
            break;
        };
        let (name, outcome) = match joined {
            Ok(r) => r,
            // Steps cancelled because another one failed: the failure is what the run reports.
            Err(e) if e.is_cancelled() => continue,
            Err(e) => {
                if failure.is_none() {
                    failure = Some(format!("a step stopped unexpectedly: {e}"));
                    tasks.abort_all();
                }
                continue;
            }
        };
        let kind = composer.step(&name).and_then(|s| s.step_kind());
        let finished_at = engine.now();
        match outcome.result {
            Ok(output) => {
                if kind == Some(StepKind::Branch) {
                    branch_result.insert(
                        name.clone(),
                        output
                            .get("result")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    );
                }
                let responded =
                    (kind == Some(StepKind::Respond)).then(|| steps::responded_of(&output));
                scope.insert_output(&name, output.clone());
                status.insert(name.clone(), StepStatus::Succeeded);
                set_step(&mut run, &name, |s| {
                    s.status = StepStatus::Succeeded;
                    s.output = output;
                    s.input = outcome.input;
                    s.attempts = outcome.attempts;
                    s.logs = outcome.logs;
                    s.finished_at = Some(finished_at);
                });
                run.last_finished_step = Some(name.clone());
                if let Some(r) = responded
                    && let Some(tx) = respond_tx.take()
                {
                    // Answered below, once the run so far is on disk.
                    answer = Some((tx, r));
                    continue;
                }
            }
            Err(message) => {
                let cont = outcome.on_error_continue;
                let output = if cont {
                    json!({ "error": message })
                } else {
                    Value::Null
                };
                if cont {
                    scope.insert_output(&name, output.clone());
                }
                status.insert(name.clone(), StepStatus::Failed);
                set_step(&mut run, &name, |s| {
                    s.status = StepStatus::Failed;
                    s.output = output;
                    s.input = outcome.input;
                    s.attempts = outcome.attempts;
                    s.logs = outcome.logs;
                    s.error = Some(message.clone());
                    s.finished_at = Some(finished_at);
                });
                run.last_finished_step = Some(name.clone());
                if !cont && failure.is_none() {
                    failure = Some(format!("step {name}, {message}"));
                    tasks.abort_all();
                }
            }
        }
        progress.note(&engine, || redactor.run(&run));
    }

    // Steps never reached (after a failure) are skipped.
    for s in &mut run.steps {
        if s.status == StepStatus::Running {
            s.error = Some("cancelled: another step failed while this one ran".into());
            s.finished_at = Some(engine.now());
        }
        if matches!(s.status, StepStatus::Pending | StepStatus::Running) {
            s.status = StepStatus::Skipped;
        }
    }
    run.status = if failure.is_some() {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    run.error = failure;
    run.finished_at = Some(engine.now());
    let finished = if redactor.is_empty() {
        run
    } else {
        redactor.run(&run)
    };
    // The final state is committed before anyone waiting on the run hears of it, and a failed
    // commit is an error to them, never a success.
    let stored = match done_tx.filter(|d| !d.is_closed()) {
        Some(done) => {
            let stored = engine.record_durable(finished.clone()).await;
            let _ = done.send(match &stored {
                Ok(()) => Ok(finished),
                Err(Error::Unavailable(m)) => Err(Error::Unavailable(m.clone())),
                Err(e) => Err(Error::Unavailable(e.to_string())),
            });
            stored
        }
        None => engine.record_durable(finished).await,
    };
    if let Some((tx, r)) = answer {
        let _ = tx.send(stored.map(|()| r));
    }
}

fn set_step(run: &mut Run, name: &str, f: impl FnOnce(&mut StepRun)) {
    if let Some(s) = run.steps.iter_mut().find(|s| s.name == name) {
        f(s);
    }
}
