//! The worker thread a code step runs on, the watchdog that stops it at its timeout, and the
//! count of workers that could not be stopped (per owner, so one automation cannot starve
//! another).

use super::session::{LogBuffer, execute};
use super::*;

/// Abandoned workers (see `HARD_TIMEOUT_GRACE`) still running, process-wide. Each holds up to its
/// memory limit and burns a core, so past this many, new runs are refused until some finish.
pub(super) const MAX_RUNAWAY_WORKERS: usize = 16;
/// Abandoned workers one owner (an automation in a mode) may have: past this its own code steps
/// are refused, and nobody else's (one automation's runaway code never denies another's).
pub(super) const MAX_RUNAWAY_PER_OWNER: usize = 2;
pub(super) static RUNAWAY_WORKERS: AtomicUsize = AtomicUsize::new(0);
pub(super) static RUNAWAY_BY_OWNER: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// Counts an abandoned worker of `owner`.
pub(super) fn runaway_started(owner: &str) {
    RUNAWAY_WORKERS.fetch_add(1, Ordering::SeqCst);
    *RUNAWAY_BY_OWNER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(owner.to_owned())
        .or_default() += 1;
}

/// An abandoned worker of `owner` finished after all.
pub(super) fn runaway_finished(owner: &str) {
    RUNAWAY_WORKERS.fetch_sub(1, Ordering::SeqCst);
    let mut by_owner = RUNAWAY_BY_OWNER
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(n) = by_owner.get_mut(owner) {
        *n -= 1;
        if *n == 0 {
            by_owner.remove(owner);
        }
    }
}

pub(super) fn runaways_of(owner: &str) -> usize {
    RUNAWAY_BY_OWNER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(owner)
        .copied()
        .unwrap_or(0)
}

/// Runs `source` as the body of `async function (input) { ... }` with `input`, and returns the
/// value it returns (awaited if it is a promise) as JSON.
///
/// Blocking: it runs the code on a dedicated thread (QuickJS recurses on the native stack and
/// needs a bigger stack than an arbitrary caller's) and waits for it, at most `limits.timeout`
/// plus one second. Call it from a blocking thread, not from an async task.
///
/// `owner` (an automation and mode) is whose code it is: code that cannot be stopped counts
/// against its owner only (see [`MAX_RUNAWAY_PER_OWNER`]).
pub fn run_code(
    owner: &str,
    source: &str,
    input: &serde_json::Value,
    limits: &CodeLimits,
) -> Result<CodeOutput, CodeError> {
    let fail = |message: String| CodeError {
        message,
        logs: Vec::new(),
    };
    if runaways_of(owner) >= MAX_RUNAWAY_PER_OWNER {
        return Err(fail(
            "too many code steps of this automation are still running past their timeout; \
             try again later"
                .to_owned(),
        ));
    }
    if RUNAWAY_WORKERS.load(Ordering::SeqCst) >= MAX_RUNAWAY_WORKERS {
        return Err(fail(
            "too many code steps are still running past their timeout; try again later".to_owned(),
        ));
    }
    let input_json = serde_json::to_string(input)
        .map_err(|e| fail(format!("could not pass the input to the code: {e}")))?;

    let logs = Arc::new(Mutex::new(LogBuffer::new(limits.max_log_bytes)));
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (sender, receiver) = mpsc::sync_channel(1);
    let worker_source = source.to_owned();
    let worker_limits = *limits;
    let worker_logs = Arc::clone(&logs);
    let worker_state = Arc::clone(&state);
    let worker_owner = owner.to_owned();
    let spawned = thread::Builder::new()
        .name("slipway-code".to_owned())
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            // Dropped last, even on a panic: tells an abandoning run_code that we are done.
            let _finished = FinishGuard(worker_state, worker_owner);
            let result = execute(&worker_source, &input_json, &worker_limits, &worker_logs);
            // The receiver is gone only if run_code gave up on us; nobody wants the result then.
            let _ = sender.send(result);
        });
    let worker = spawned.map_err(|e| fail(format!("could not start the code sandbox: {e}")))?;

    let wait = limits.timeout.saturating_add(HARD_TIMEOUT_GRACE);
    let outcome = match receiver.recv_timeout(wait) {
        Ok(result) => {
            // The worker has already torn its runtime down and only returns now.
            let _ = worker.join();
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Counted before the state changes so the worker's decrement can never come first.
            runaway_started(owner);
            if state
                .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                // Something QuickJS cannot interrupt is running. A thread cannot be killed, so it
                // is left to finish on its own (its memory stays under the runtime's limit); the
                // step fails now so the run does not hang.
                tracing::warn!(
                    timeout_ms = limits.timeout.as_millis() as u64,
                    "code step did not stop at its timeout; its thread is left running"
                );
                Err(timeout_message(limits))
            } else {
                // It finished right at the deadline: its result is already in the channel.
                runaway_finished(owner);
                let _ = worker.join();
                receiver
                    .try_recv()
                    .unwrap_or_else(|_| Err("the code sandbox crashed".to_owned()))
            }
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked (a bug on our side, not in the user's code).
            let _ = worker.join();
            Err("the code sandbox crashed".to_owned())
        }
    };

    let logs = logs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take_lines();
    match outcome {
        Ok(value) => Ok(CodeOutput { value, logs }),
        Err(message) => Err(CodeError { message, logs }),
    }
}

pub(super) const RUNNING: u8 = 0;
pub(super) const FINISHED: u8 = 1;
pub(super) const ABANDONED: u8 = 2;

/// Marks a worker finished, and takes it off `RUNAWAY_WORKERS` if run_code had given up on it.
pub(super) struct FinishGuard(Arc<AtomicU8>, String);

impl Drop for FinishGuard {
    fn drop(&mut self) {
        if self.0.swap(FINISHED, Ordering::SeqCst) == ABANDONED {
            runaway_finished(&self.1);
        }
    }
}
