//! Stopping cleanly (PRODUCT.md §15): on SIGTERM the server stops admitting runs, lets the runs
//! that execute finish for a grace period ([`SHUTDOWN_GRACE`]), then — its tasks stopped — marks
//! those still running as interrupted. Runs that wait for a slot never start: they stay queued on
//! disk and start after the restart, so no step runs twice and none is lost.

use crate::error::Result;
use crate::store::Engine;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long running steps may take to finish once a shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

impl Engine {
    /// From now on no run is admitted (503 `unavailable`) and none waiting for a slot starts.
    pub fn stop_starting_runs(&self) {
        self.inner.admission.stopping.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.inner.admission.stopping.load(Ordering::SeqCst)
    }

    /// Waits until no run executes, or `deadline`; answers how many still do.
    pub async fn drain_runs(&self, deadline: tokio::time::Instant) -> usize {
        loop {
            let (running, _) = self.run_load();
            if running == 0 || tokio::time::Instant::now() >= deadline {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Once the run tasks are stopped: the runs stored as running become interrupted, durably.
    /// Answers how many.
    pub fn interrupt_unfinished(&self) -> Result<usize> {
        self.interrupt_running(true)
            .map(|(_, interrupted)| interrupted)
    }
}
