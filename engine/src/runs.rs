//! Runs: the durable record of every execution of a composer (PRODUCT.md §7), and the writer
//! that groups run updates and the database writes of steps into one redb commit (whatever
//! arrived during the previous one), so storing every step of every run does not cost a fsync
//! each.

use crate::databases::DbWrite;
use crate::error::{Error, Result};
use crate::store::{Decode, Encoded, Engine, Json, Stored, encoded};
use model::Mode;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::sync::Arc;
use std::sync::mpsc;

/// run id (UUIDv7 text) -> [`Run`]. The writer writes it [`encoded`] (see [`store_runs_in`]).
pub(crate) const RUNS: TableDefinition<&str, Json<Run>> = TableDefinition::new("runs");
/// (automation, mode, run id) -> composer slug and status, for listing newest first
/// (UUIDv7 ids sort by time).
pub(crate) const RUN_INDEX: TableDefinition<(&str, &str, &str), Json<IndexEntry>> =
    TableDefinition::new("run_index");

/// A run's composer and status in [`RUN_INDEX`] (a JSON array, `["sync","succeeded"]`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct IndexEntry(pub(crate) String, pub(crate) RunStatus);

impl Stored for IndexEntry {
    const NAME: &'static str = "RunIndexEntry";
}

/// Ids of runs that are queued or running: what recovery after a crash must look at, without
/// reading every run ever stored.
pub(crate) const ACTIVE_RUNS: TableDefinition<&str, &[u8]> = TableDefinition::new("active_runs");

pub use model::wire::{Run, RunPage, RunSource, RunStatus, RunSummary, StepRun, StepStatus};

#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub composer: Option<String>,
    pub status: Option<RunStatus>,
    pub limit: usize,
    /// The id of the last run of the previous page.
    pub cursor: Option<String>,
}

/// How the writer tells a waiting caller that its write is committed: a blocked thread, or an
/// async task (which then waits without holding a thread).
enum Ack {
    Thread(mpsc::Sender<Result<()>>),
    Task(tokio::sync::oneshot::Sender<Result<()>>),
}

impl Ack {
    fn send(self, result: Result<()>) {
        match self {
            Ack::Thread(tx) => {
                let _ = tx.send(result);
            }
            Ack::Task(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

enum Write {
    Put(Arc<Run>, Option<Ack>),
    Flush(Ack),
    /// Answered, when asked, with the write's own result (`put`: whether the key was new;
    /// `delete`: whether there was a record) as soon as it is made in the batch's transaction,
    /// before the commit: the run's next durable record shares that commit or a later one.
    Db(
        Box<DbWrite>,
        Option<tokio::sync::oneshot::Sender<Result<bool>>>,
        Option<RunStake>,
    ),
}

/// The run a step's database write belongs to. If the write's commit fails, that run cannot
/// succeed: its later records are stored as failed and their acknowledgements are errors. A run
/// with nothing on disk yet (the quiet start of a webhook run) sends its state along, stored in
/// the same commit unless the run has a record already, so no stored write lacks its run.
pub(crate) struct RunStake {
    pub run_id: String,
    pub unwritten: Option<Arc<Run>>,
}

/// The single writer of run records and of the database writes of steps: everything that
/// arrives while one commit is being made goes into the next one, so a step's write and its
/// run's record share one fsync, and no step holds a thread while it waits for the disk.
pub(crate) struct RunWriter {
    tx: Option<mpsc::SyncSender<Write>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for RunWriter {
    /// Closing the engine waits for the last commit, so the data file is free at once.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Most writes waiting for the run writer (PRODUCT.md §15: every queue is bounded). A commit
/// takes a few milliseconds and holds up to 4,096 of them.
const WRITER_QUEUE: usize = 65_536;

fn stopped() -> Error {
    Error::Storage("the run writer stopped".into())
}

impl RunWriter {
    pub fn start(db: Arc<Database>, metrics: Arc<crate::metrics::Metrics>) -> RunWriter {
        let (tx, rx) = mpsc::sync_channel::<Write>(WRITER_QUEUE);
        let spawned = std::thread::Builder::new()
            .name("slipway-run-writer".into())
            .spawn(move || writer_loop(db, rx, &metrics));
        let thread = match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!("cannot start the run writer: {e}");
                None
            }
        };
        RunWriter {
            tx: Some(tx),
            thread,
        }
    }

    /// Never blocks: past [`WRITER_QUEUE`] waiting writes the server is overloaded and says so
    /// (503) rather than queue without bound.
    fn send(&self, w: Write) -> Result<()> {
        match self.tx.as_ref().ok_or_else(stopped)?.try_send(w) {
            Ok(()) => Ok(()),
            Err(mpsc::TrySendError::Full(_)) => Err(Error::Unavailable(format!(
                "the server is overloaded: {WRITER_QUEUE} records are waiting for the disk"
            ))),
            Err(mpsc::TrySendError::Disconnected(_)) => Err(stopped()),
        }
    }

    /// Queues a run record; `durable` blocks this thread until it is committed.
    pub fn put(&self, run: Run, durable: bool) -> Result<()> {
        if durable {
            let (ack, done) = mpsc::channel();
            self.send(Write::Put(Arc::new(run), Some(Ack::Thread(ack))))?;
            done.recv().map_err(|_| stopped())?
        } else {
            self.send(Write::Put(Arc::new(run), None))
        }
    }

    /// Queues a run record and waits, without blocking a thread, until it is committed.
    pub async fn put_durable(&self, run: Arc<Run>) -> Result<()> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.send(Write::Put(run, Some(Ack::Task(ack))))?;
        done.await.map_err(|_| stopped())?
    }

    /// Makes a step's database write in the next commit and answers with its result once it is
    /// made (not yet committed; see [`Write::Db`]).
    pub async fn db_write(&self, write: DbWrite, stake: Option<RunStake>) -> Result<bool> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.send(Write::Db(Box::new(write), Some(ack), stake))?;
        done.await.map_err(|_| stopped())?
    }

    /// Queues a step's database write for the next commit without waiting for it. Whatever the
    /// same run queues after it (its records, a flush) is committed with it or later.
    pub fn db_write_queued(&self, write: DbWrite, stake: Option<RunStake>) -> Result<()> {
        self.send(Write::Db(Box::new(write), None, stake))
    }

    /// Waits, without blocking a thread, until everything queued so far is committed.
    pub async fn flush_async(&self) -> Result<()> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.send(Write::Flush(Ack::Task(ack)))?;
        done.await.map_err(|_| stopped())?
    }

    /// Waits until everything queued so far is committed.
    pub fn flush(&self) -> Result<()> {
        let (ack, done) = mpsc::channel();
        self.send(Write::Flush(Ack::Thread(ack)))?;
        done.recv().map_err(|_| stopped())?
    }
}

/// Why a run whose database write was in a failed commit cannot succeed.
const LOST_WRITE: &str = "a database write of this run was not stored (the disk refused it)";

fn writer_loop(db: Arc<Database>, rx: mpsc::Receiver<Write>, metrics: &crate::metrics::Metrics) {
    // Runs with a database write in a failed commit, until their final record is stored.
    let mut lost_writes: std::collections::HashSet<String> = std::collections::HashSet::new();
    while let Ok(first) = rx.recv() {
        // Group commit without waiting: whatever arrived while the last commit was being made
        // goes into this one, so batches grow with the load and a lone write is not delayed.
        let mut batch = vec![first];
        while batch.len() < 4096
            && let Ok(w) = rx.try_recv()
        {
            batch.push(w);
        }
        let mut tainted = Vec::new();
        if !lost_writes.is_empty() {
            for item in batch.iter_mut() {
                if let Write::Put(run, _) = item
                    && lost_writes.contains(&run.id)
                {
                    let mut failed = run.as_ref().clone();
                    if failed.status.is_finished() {
                        failed.status = RunStatus::Failed;
                        failed.error = Some(LOST_WRITE.to_owned());
                    }
                    tainted.push(failed.id.clone());
                    *run = Arc::new(failed);
                }
            }
        }
        let began = std::time::Instant::now();
        let result = commit(&db, &mut batch, metrics);
        metrics.committed(batch.len(), began.elapsed());
        if let Err(e) = &result {
            tracing::error!("storing runs failed: {e}");
            for item in &batch {
                if let Write::Db(_, _, Some(stake)) = item {
                    lost_writes.insert(stake.run_id.clone());
                }
            }
            // A run whose final record failed with this batch sends nothing more.
            for item in &batch {
                if let Write::Put(run, _) = item
                    && run.status.is_finished()
                {
                    lost_writes.remove(&run.id);
                }
            }
        }
        for w in batch {
            let outcome = |id: Option<&str>| match &result {
                Ok(()) if id.is_some_and(|id| tainted.iter().any(|t| t == id)) => {
                    Err(Error::Unavailable(LOST_WRITE.to_owned()))
                }
                Ok(()) => Ok(()),
                Err(e) => Err(Error::Unavailable(format!(
                    "the disk refused the commit: {e}"
                ))),
            };
            match w {
                Write::Put(run, ack) => {
                    if result.is_ok() && run.status.is_finished() {
                        lost_writes.remove(&run.id);
                    }
                    if let Some(ack) = ack {
                        ack.send(outcome(Some(&run.id)));
                    }
                }
                Write::Flush(ack) => ack.send(outcome(None)),
                // Database writes not answered yet failed with the batch.
                Write::Db(_, Some(ack), _) => {
                    let _ = ack.send(outcome(None).map(|()| false));
                }
                Write::Db(_, None, _) => {}
            }
        }
    }
}

/// One transaction for the batch. Database writes are applied in the order they came, each
/// with its own result (see [`crate::databases::apply_step_writes`]); a storage error fails the
/// whole batch. Once committed, each run whose final state it stored counts as finished.
fn commit(db: &Database, batch: &mut [Write], metrics: &crate::metrics::Metrics) -> Result<()> {
    let mut w = db.begin_write()?;
    w.set_durability(Durability::Immediate)
        .map_err(|e| Error::Storage(e.to_string()))?;
    if batch.iter().any(|item| matches!(item, Write::Db(..))) {
        let writes = batch.iter().filter_map(|item| match item {
            Write::Db(write, _, _) => Some(write.as_ref()),
            _ => None,
        });
        let results = crate::databases::apply_step_writes(&w, writes)?;
        let acks = batch.iter_mut().filter_map(|item| match item {
            Write::Db(write, ack, _) => Some((write, ack)),
            _ => None,
        });
        for ((write, ack), result) in acks.zip(results) {
            match (ack.take(), result) {
                (Some(ack), result) => {
                    let _ = ack.send(result);
                }
                (None, Err(e)) => {
                    tracing::warn!(write = ?write, "a database write of a step failed: {e}")
                }
                (None, Ok(_)) => {}
            }
        }
    }
    // Several states of one run in one batch: only the last one needs writing.
    let mut last: std::collections::HashMap<&str, &Run> = std::collections::HashMap::new();
    for item in batch.iter() {
        if let Write::Put(run, _) = item {
            last.insert(run.id.as_str(), run.as_ref());
        }
    }
    // A write of a run with nothing on disk: its state goes along unless a record of the run
    // is in this batch or stored already.
    let mut unwritten: Vec<&Run> = Vec::new();
    for item in batch.iter() {
        if let Write::Db(_, _, Some(stake)) = item
            && let Some(run) = &stake.unwritten
            && !last.contains_key(run.id.as_str())
            && !unwritten.iter().any(|u| u.id == run.id)
        {
            unwritten.push(run.as_ref());
        }
    }
    if !unwritten.is_empty() {
        let runs = w.open_table(RUNS)?;
        unwritten.retain(|run| !matches!(runs.get(run.id.as_str()), Ok(Some(_))));
        drop(runs);
        for run in unwritten {
            last.insert(run.id.as_str(), run);
        }
    }
    if !last.is_empty() {
        store_runs_in(&w, last.values().copied())?;
    }
    w.commit()?;
    for run in last.values().filter(|r| r.status.is_finished()) {
        metrics.run_finished(&run.automation, run.mode, run.status);
    }
    Ok(())
}

/// Writes run records inside `w`: the record, its index entry, and whether it is active.
///
/// The record and the entry are written [`encoded`], each run encoded once: redb's `insert` asks
/// a value for its bytes twice (to check the size, then to store), so `Json<Run>` inserts would
/// encode every run twice, 27% more per run stored (`store::tests::store_cost_per_run`).
pub(crate) fn store_runs_in<'r>(
    w: &redb::WriteTransaction,
    runs_to_store: impl IntoIterator<Item = &'r Run>,
) -> Result<()> {
    let mut runs = w.open_table(encoded(&RUNS))?;
    let mut index = w.open_table(encoded(&RUN_INDEX))?;
    let mut active = w.open_table(ACTIVE_RUNS)?;
    for run in runs_to_store {
        runs.insert(run.id.as_str(), Encoded::new(run)?)?;
        let entry = Encoded::new(&IndexEntry(run.composer.clone(), run.status))?;
        index.insert(
            (run.automation.as_str(), run.mode.as_str(), run.id.as_str()),
            entry,
        )?;
        if run.status.is_finished() {
            active.remove(run.id.as_str())?;
        } else {
            active.insert(run.id.as_str(), [].as_slice())?;
        }
    }
    Ok(())
}

impl Engine {
    pub fn get_run(&self, id: &str) -> Result<Run> {
        let r = self.db().begin_read()?;
        let t = r.open_table(RUNS)?;
        t.get(id)?
            .ok_or_else(|| Error::NotFound(format!("run `{id}` does not exist")))?
            .decode()
    }

    /// A page of runs of one automation and mode, newest first.
    pub fn list_runs(&self, automation: &str, mode: Mode, filter: &RunFilter) -> Result<RunPage> {
        let limit = filter.limit.clamp(1, 200);
        let r = self.db().begin_read()?;
        let (index, runs) = match (r.open_table(RUN_INDEX), r.open_table(RUNS)) {
            (Ok(i), Ok(t)) => (i, t),
            _ => {
                return Ok(RunPage {
                    items: vec![],
                    next_cursor: None,
                });
            }
        };
        let m = mode.as_str();
        let upper = filter.cursor.as_deref();
        let range = match upper {
            Some(c) => index.range((automation, m, "")..(automation, m, c))?,
            None => index.range((automation, m, "")..=(automation, m, "\u{10FFFF}"))?,
        };
        let mut items = vec![];
        let mut next_cursor = None;
        for row in range.rev() {
            let (k, v) = row?;
            let IndexEntry(composer, status) = v.decode()?;
            if filter.composer.as_deref().is_some_and(|c| c != composer)
                || filter.status.is_some_and(|s| s != status)
            {
                continue;
            }
            if items.len() == limit {
                next_cursor = items.last().map(|s: &RunSummary| s.id.clone());
                break;
            }
            let id = k.value().2;
            if let Some(run) = runs.get(id)? {
                items.push(run.decode()?.summary());
            }
        }
        Ok(RunPage { items, next_cursor })
    }

    /// After a crash: runs that were running become interrupted; queued ones are returned to
    /// be started again.
    pub fn recover_runs(&self) -> Result<Vec<Run>> {
        self.interrupt_running(false).map(|(queued, _)| queued)
    }

    /// Runs stored as running become interrupted (with why: a crash found them, or a shutdown
    /// cut them); answers the queued ones and how many were interrupted.
    pub(crate) fn interrupt_running(&self, shutdown: bool) -> Result<(Vec<Run>, usize)> {
        let r = self.db().begin_read()?;
        let (Ok(active), Ok(t)) = (r.open_table(ACTIVE_RUNS), r.open_table(RUNS)) else {
            return Ok((vec![], 0));
        };
        let mut found = vec![];
        for row in active.iter()? {
            let (k, _) = row?;
            if let Some(v) = t.get(k.value())? {
                found.push(v.decode()?);
            }
        }
        let mut interrupted = vec![];
        let mut queued = vec![];
        for mut run in found {
            match run.status {
                RunStatus::Running => {
                    run.status = RunStatus::Interrupted;
                    run.finished_at = Some(self.now());
                    let why = if shutdown {
                        "the server shut down before this run finished (within the grace for running steps)"
                    } else {
                        "the server stopped during this run"
                    };
                    run.error = Some(match &run.last_finished_step {
                        Some(s) => format!("{why}; the last step to finish was `{s}`"),
                        None => format!("{why}, before any step finished"),
                    });
                    for s in &mut run.steps {
                        if s.status == crate::runs::StepStatus::Running {
                            s.status = StepStatus::Failed;
                            s.error = Some("interrupted".into());
                        }
                    }
                    interrupted.push(run);
                }
                RunStatus::Queued => queued.push(run),
                _ => {}
            }
        }
        drop((active, t));
        drop(r);
        let n = interrupted.len();
        for run in interrupted {
            self.runs().put(run, false)?;
        }
        self.runs().flush()?;
        Ok((queued, n))
    }
}
