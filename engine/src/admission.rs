//! How many runs execute at once and how many may wait (PRODUCT.md §15, "Limits and overload").
//!
//! At most `max_running` runs execute; the others wait, stored as queued like any new run, for
//! a slot, first in first out: in the order they were admitted, whatever order their queued
//! states reach the disk in (the line below), then through tokio's fair semaphore, which only
//! the head of the line waits on. A new run takes a place in the queue
//! when it is admitted, before anything of it is stored: past `max_queued` waiting runs it is
//! refused ([`Error::Overloaded`], which webhooks answer with 503 and `Retry-After`) and nothing
//! is stored. Runs found queued after a restart take their places without being refused.

use crate::error::{Error, Result};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// `SLIPWAY_MAX_RUNNING`'s default.
pub const DEFAULT_MAX_RUNNING: usize = 512;
/// `SLIPWAY_MAX_QUEUED`'s default.
pub const DEFAULT_MAX_QUEUED: usize = 100_000;
/// What a refused caller is told to wait before trying again, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

pub(crate) struct Admission {
    slots: Arc<Semaphore>,
    max_running: AtomicUsize,
    waiting: AtomicUsize,
    max_queued: AtomicUsize,
    line: Mutex<Line>,
    /// Set on shutdown: no run is admitted, and none waiting for a slot starts.
    pub(crate) stopping: std::sync::atomic::AtomicBool,
}

/// The order of admission: each ticket has a number, and only the lowest number still waiting
/// (the head) may take a slot. A ticket that leaves (with a slot, or dropped) is `left`; the head
/// moves past those, and the ticket that becomes head is woken.
#[derive(Default)]
struct Line {
    next: u64,
    head: u64,
    left: BTreeSet<u64>,
    wake: HashMap<u64, oneshot::Sender<()>>,
}

impl Line {
    fn take_number(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    fn leave(&mut self, number: u64) {
        self.wake.remove(&number);
        self.left.insert(number);
        while self.left.remove(&self.head) {
            self.head += 1;
        }
        if let Some(wake) = self.wake.remove(&self.head) {
            let _ = wake.send(());
        }
    }
}

impl Default for Admission {
    fn default() -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(DEFAULT_MAX_RUNNING)),
            max_running: AtomicUsize::new(DEFAULT_MAX_RUNNING),
            waiting: AtomicUsize::new(0),
            max_queued: AtomicUsize::new(DEFAULT_MAX_QUEUED),
            line: Mutex::default(),
            stopping: Default::default(),
        }
    }
}

/// A run's place in the queue, from its admission until it gets a slot (or ends without one).
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    number: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.waiting.fetch_sub(1, Ordering::SeqCst);
        self.admission.line().leave(self.number);
    }
}

impl Ticket {
    /// Takes the next number, and `at()` (the run's queued time) under the same lock, so the
    /// order of admission is the order of queued times.
    fn new<T>(admission: &Arc<Admission>, at: impl FnOnce() -> T) -> (Ticket, T) {
        let mut line = admission.line();
        let number = line.take_number();
        let at = at();
        drop(line);
        let ticket = Ticket {
            admission: admission.clone(),
            number,
        };
        (ticket, at)
    }

    /// Waits for a slot, first in first out; the place in the queue is given up on getting it.
    #[cfg(test)]
    pub(crate) async fn slot(self) -> OwnedSemaphorePermit {
        self.slot_at(|| ()).await.0
    }

    /// [`Ticket::slot`], also reading the run's start time (`at`) before the next in line can
    /// take a slot, so runs start in the order of admission by their start times too.
    pub(crate) async fn slot_at<T>(self, at: impl FnOnce() -> T) -> (OwnedSemaphorePermit, T) {
        let turn = {
            let mut line = self.admission.line();
            (line.head != self.number).then(|| {
                let (tx, rx) = oneshot::channel();
                line.wake.insert(self.number, tx);
                rx
            })
        };
        if let Some(turn) = turn {
            // Every ticket before this one leaves the line (dropped or with a slot), so the
            // sender is used, never dropped, while this ticket lives.
            let _ = turn.await;
        }
        let permit = self
            .admission
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the run slots are never closed");
        let at = at();
        drop(self);
        (permit, at)
    }
}

/// Admits a new run: its place in the queue, unless the queue is full.
#[cfg(test)]
pub(crate) fn admit(admission: &Arc<Admission>) -> Result<Ticket> {
    admit_at(admission, || ()).map(|(ticket, ())| ticket)
}

/// [`admit`], also reading the run's queued time (`at`) in the order of admission.
pub(crate) fn admit_at<T>(
    admission: &Arc<Admission>,
    at: impl FnOnce() -> T,
) -> Result<(Ticket, T)> {
    if admission.stopping.load(Ordering::SeqCst) {
        return Err(Error::Unavailable(
            "the server is shutting down; try again once it is back".into(),
        ));
    }
    let max = admission.max_queued.load(Ordering::SeqCst);
    admission
        .waiting
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .map_err(|n| {
            Error::Overloaded(format!(
                "{n} runs are waiting to run (the limit is {max}); try again in {RETRY_AFTER_SECS} s"
            ))
        })?;
    Ok(Ticket::new(admission, at))
}

/// A place for a run that already exists (found queued after a restart): never refused.
pub(crate) fn readmit(admission: &Arc<Admission>) -> Ticket {
    admission.waiting.fetch_add(1, Ordering::SeqCst);
    Ticket::new(admission, || ()).0
}

impl Admission {
    fn line(&self) -> std::sync::MutexGuard<'_, Line> {
        self.line.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the limits; meant for the start, before runs begin (fewer slots take effect as
    /// running runs end).
    pub(crate) fn set_limits(&self, max_running: usize, max_queued: usize) {
        let max_running = max_running.max(1);
        let before = self.max_running.swap(max_running, Ordering::SeqCst);
        if max_running > before {
            self.slots.add_permits(max_running - before);
        } else {
            self.slots.forget_permits(before - max_running);
        }
        self.max_queued.store(max_queued, Ordering::SeqCst);
    }

    /// Runs executing now.
    pub(crate) fn running(&self) -> usize {
        self.max_running
            .load(Ordering::SeqCst)
            .saturating_sub(self.slots.available_permits())
    }

    /// Runs admitted and waiting for a slot.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

impl crate::Engine {
    /// Sets `SLIPWAY_MAX_RUNNING` and `SLIPWAY_MAX_QUEUED` (see the module).
    pub fn set_run_limits(&self, max_running: usize, max_queued: usize) {
        self.inner.admission.set_limits(max_running, max_queued);
    }

    /// Runs executing now, and runs waiting for a slot.
    pub fn run_load(&self) -> (usize, usize) {
        let a = &self.inner.admission;
        (a.running(), a.waiting())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(running: usize, queued: usize) -> Arc<Admission> {
        let a = Arc::new(Admission::default());
        a.set_limits(running, queued);
        a
    }

    #[test]
    fn past_the_queue_limit_a_new_run_is_refused_and_a_freed_place_is_taken_again() {
        let a = limited(1, 3);
        let tickets: Vec<Ticket> = (0..3).map(|_| admit(&a).unwrap()).collect();
        let refused = admit(&a).err().expect("the fourth waits in vain");
        assert!(matches!(refused, Error::Overloaded(_)), "{refused}");
        assert_eq!(refused.http_status(), 503);
        assert!(refused.to_string().contains("the limit is 3"), "{refused}");
        // A run found queued after a restart is never refused.
        let again = readmit(&a);
        assert_eq!(a.waiting(), 4);
        drop(again);
        drop(tickets);
        assert_eq!(a.waiting(), 0);
        assert!(admit(&a).is_ok());
    }

    #[tokio::test]
    async fn the_order_of_admission_holds_whatever_order_runs_come_to_wait_in() {
        let a = limited(1, 100);
        let busy = admit(&a).unwrap().slot().await;
        let order = Arc::new(std::sync::Mutex::new(vec![]));
        let tickets: Vec<Ticket> = (0..4).map(|_| admit(&a).unwrap()).collect();
        // The third ticket is dropped (its run failed to be stored): it holds no one up.
        let mut tickets: Vec<Option<Ticket>> = tickets.into_iter().map(Some).collect();
        drop(tickets[2].take());
        let mut waits = vec![];
        for i in [3usize, 1, 0] {
            let ticket = tickets[i].take().unwrap();
            let order = order.clone();
            waits.push(tokio::spawn(async move {
                let slot = ticket.slot().await;
                order.lock().unwrap().push(i);
                drop(slot);
            }));
            tokio::task::yield_now().await;
        }
        drop(busy);
        for w in waits {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 3]);
        assert_eq!(a.waiting(), 0);
    }

    #[tokio::test]
    async fn slots_go_first_in_first_out_and_free_the_queue_place() {
        let a = limited(2, 100);
        let order = Arc::new(std::sync::Mutex::new(vec![]));
        let mut first = vec![];
        for _ in 0..2 {
            first.push(admit(&a).unwrap().slot().await);
        }
        assert_eq!((a.running(), a.waiting()), (2, 0));
        let mut waiting = vec![];
        for i in 0..5 {
            let ticket = admit(&a).unwrap();
            let order = order.clone();
            waiting.push(tokio::spawn(async move {
                let slot = ticket.slot().await;
                order.lock().unwrap().push(i);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                drop(slot);
            }));
            // Each waits in line before the next arrives.
            tokio::task::yield_now().await;
        }
        assert_eq!(a.waiting(), 5);
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
        assert_eq!((a.running(), a.waiting()), (0, 0));
    }
}
