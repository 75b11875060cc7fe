//! The [`Engine`] handle and the redb database it owns: opening, the format marker, the one
//! list of tables, and the one-line reads of typed tables ([`Engine::row`], [`Engine::rows`]).
//! How values are stored is [`codec`]; converting older files, [`migrate`].

mod codec;
mod migrate;
#[cfg(test)]
mod tests;

pub(crate) use codec::{Decode, Encoded, Json, JsonEncoded, Stored, encoded};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ratelimit::LoginLimiter;
use redb::{Database, Key, ReadableDatabase, ReadableTable, TableDefinition};
use std::borrow::Borrow;
use std::path::Path;
use std::sync::Arc;

/// Instance-wide settings and markers.
pub(crate) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const FORMAT_KEY: &str = "slipway.format";
/// The data format this Slipway writes. 1: values were untyped bytes (`&[u8]` holding JSON);
/// 2: the same JSON under typed values ([`Json`]), so each table records its type's name. A
/// format-1 file is converted when it is opened ([`migrate`]); a newer one is refused.
const FORMAT_VALUE: &str = "2";
/// redb's page cache. Its default (1 GiB) lets a busy server grow towards a gigabyte, and every
/// page it adds is fresh memory the kernel must zero; a bounded cache reuses its memory. The hot
/// pages (latest runs, drafts, live documents, database records in use) fit easily.
pub(crate) const CACHE_BYTES: usize = 64 << 20;

#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub db: Arc<Database>,
    pub run_writer: crate::runs::RunWriter,
    pub run_events: tokio::sync::broadcast::Sender<Arc<crate::runs::Run>>,
    pub clock: Clock,
    pub limiter: LoginLimiter,
    /// Encrypts secrets; set once at start (PRODUCT.md §10).
    pub master_key: std::sync::OnceLock<crate::vault::MasterKey>,
    /// Seconds between automatic revisions (PRODUCT.md §5: 30).
    pub checkpoint_every: std::sync::atomic::AtomicI64,
    /// The latest deployment's document per automation (checked against its number on use).
    pub live_cache: crate::deployments::LiveCache,
    /// Woken by every deploy, so the scheduler re-arms from the new deployment.
    pub schedules_changed: tokio::sync::Notify,
    /// The expression environment every run shares (building one costs more than a render).
    pub renderer: Arc<crate::expr::Renderer>,
    /// Run slots and the queue before them (`SLIPWAY_MAX_RUNNING`, `SLIPWAY_MAX_QUEUED`).
    pub admission: Arc<crate::admission::Admission>,
    /// The data file, when the database is one.
    pub path: Option<std::path::PathBuf>,
    /// What `/metrics` shows (shared with the run writer).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Engine {
    /// Opens (or creates) the data file. A file that redb cannot read, or a redb file that is
    /// not Slipway's, is refused rather than modified.
    pub fn open(path: &Path) -> Result<Engine> {
        Self::open_with_clock(path, Clock::system())
    }

    pub fn open_with_clock(path: &Path, clock: Clock) -> Result<Engine> {
        let shown = path.display().to_string();
        let db = match Database::builder().set_cache_size(CACHE_BYTES).create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(Error::AlreadyOpen(shown)),
            // redb reports a wrong magic number as InvalidData.
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() != std::io::ErrorKind::InvalidData =>
            {
                return Err(Error::Storage(format!("cannot open {shown}: {e}")));
            }
            Err(_) => return Err(Error::ForeignFile(shown)),
        };
        Self::from_database(db, clock, &shown, Some(path.to_path_buf()))
    }

    /// A database in memory, for tests.
    pub fn in_memory(clock: Clock) -> Result<Engine> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Self::from_database(db, clock, "memory", None)
    }

    /// A database on a fault-injecting backend, for crash and fault tests.
    #[cfg(any(test, feature = "faults"))]
    pub fn with_backend(backend: impl redb::StorageBackend, clock: Clock) -> Result<Engine> {
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(backend)?;
        Self::from_database(db, clock, "test backend", None)
    }

    fn from_database(
        db: Database,
        clock: Clock,
        shown: &str,
        path: Option<std::path::PathBuf>,
    ) -> Result<Engine> {
        Self::check_format(&db, shown)?;
        let db = Arc::new(db);
        let metrics = Arc::new(crate::metrics::Metrics::default());
        Ok(Engine {
            inner: Arc::new(Inner {
                run_writer: crate::runs::RunWriter::start(db.clone(), metrics.clone()),
                run_events: tokio::sync::broadcast::channel(1024).0,
                db,
                clock,
                limiter: LoginLimiter::default(),
                master_key: std::sync::OnceLock::new(),
                checkpoint_every: std::sync::atomic::AtomicI64::new(
                    crate::revisions::CHECKPOINT_EVERY_SECS,
                ),
                live_cache: Default::default(),
                schedules_changed: tokio::sync::Notify::new(),
                renderer: Arc::new(crate::expr::Renderer::default()),
                admission: Default::default(),
                path,
                metrics,
            }),
        })
    }

    /// A new file gets the marker; an existing one must carry it and must not hold foreign tables.
    pub(crate) fn check_format(db: &Database, shown: &str) -> Result<()> {
        let read = db.begin_read()?;
        let has_tables = read.list_tables()?.next().is_some();
        let marker = match read.open_table(META) {
            Ok(t) => t.get(FORMAT_KEY)?.map(|v| v.value().to_string()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(_) => return Err(Error::ForeignFile(shown.to_string())),
        };
        drop(read);
        match marker {
            Some(v) if v == FORMAT_VALUE => create_tables(db),
            Some(v) if v == migrate::FORMAT_1 => {
                migrate::from_format_1(db)?;
                create_tables(db)
            }
            Some(v) => Err(Error::Storage(format!(
                "{shown} has data format {v}; this Slipway reads format {FORMAT_VALUE}"
            ))),
            None if has_tables => Err(Error::ForeignFile(shown.to_string())),
            None => {
                let w = db.begin_write()?;
                w.open_table(META)?.insert(FORMAT_KEY, FORMAT_VALUE)?;
                w.commit()?;
                create_tables(db)
            }
        }
    }

    /// Gives the engine the key that encrypts secrets; the first key set stays.
    pub fn set_master_key(&self, key: crate::vault::MasterKey) {
        let _ = self.inner.master_key.set(key);
    }

    pub(crate) fn master_key(&self) -> Result<&crate::vault::MasterKey> {
        self.inner
            .master_key
            .get()
            .ok_or_else(|| Error::Storage("no master key: secrets cannot be used".into()))
    }

    /// Changes the automatic revision interval; benchmarks use 0 to make every save a revision.
    pub fn set_checkpoint_every(&self, secs: i64) {
        self.inner
            .checkpoint_every
            .store(secs.max(0), std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn checkpoint_every(&self) -> i64 {
        self.inner
            .checkpoint_every
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    /// The data file, unless the database is in memory.
    pub fn data_file(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    pub(crate) fn db(&self) -> &Database {
        &self.inner.db
    }

    pub(crate) fn runs(&self) -> &crate::runs::RunWriter {
        &self.inner.run_writer
    }
}

/// Something done to each table of the data file, such as creating it or copying it.
pub(crate) trait EachTable {
    /// A table whose values are not [`Json`].
    fn plain<K: Key + 'static, V: redb::Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<()>;
    /// A table of [`Json<T>`] values.
    fn json<K: Key + 'static, T: Stored>(
        &mut self,
        table: TableDefinition<K, Json<T>>,
    ) -> Result<()>;
}

/// Every table of the data file: one list, so a new table cannot be left out of the creation at
/// start (its first read would fail in the tests) or of backups (the backup test compares them).
/// `sessions` is last: backups skip it (a restored instance signs everyone in again).
pub(crate) fn each_table(v: &mut impl EachTable) -> Result<()> {
    use crate::{accounts, audit, automations, blobs, databases, deployments, drafts};
    use crate::{revisions, runs, scheduler, vault};
    v.plain(META)?;
    v.json(automations::AUTOMATIONS)?;
    v.json(drafts::DRAFTS)?;
    v.json(revisions::REVISIONS)?;
    v.plain(revisions::MANIFESTS)?;
    v.plain(blobs::BLOBS)?;
    v.json(deployments::DEPLOYMENTS)?;
    v.json(runs::RUNS)?;
    v.json(runs::RUN_INDEX)?;
    v.plain(runs::ACTIVE_RUNS)?;
    v.json(databases::RECORDS)?;
    v.json(databases::DB_META)?;
    v.json(vault::SECRETS)?;
    v.json(accounts::USERS)?;
    v.json(accounts::API_TOKENS)?;
    v.json(audit::AUDIT)?;
    v.json(scheduler::LAST_FIRED)?;
    v.json(crate::retention::RETENTION)?;
    v.json(accounts::SESSIONS)?;
    Ok(())
}

/// Creates every table the engine reads, once the file is known to be Slipway's, so that reads
/// open them with `?` and never treat a missing table as empty.
fn create_tables(db: &Database) -> Result<()> {
    struct Create<'w>(&'w redb::WriteTransaction);
    impl EachTable for Create<'_> {
        fn plain<K: Key + 'static, V: redb::Value + 'static>(
            &mut self,
            table: TableDefinition<K, V>,
        ) -> Result<()> {
            self.0.open_table(table)?;
            Ok(())
        }
        fn json<K: Key + 'static, T: Stored>(
            &mut self,
            table: TableDefinition<K, Json<T>>,
        ) -> Result<()> {
            self.0.open_table(table)?;
            Ok(())
        }
    }
    let w = db.begin_write()?;
    each_table(&mut Create(&w))?;
    w.commit()?;
    Ok(())
}

impl Engine {
    /// The value under `key` in `table`, in a read transaction of its own.
    pub(crate) fn row<'k, K: Key + 'static, T: Stored>(
        &self,
        table: TableDefinition<K, Json<T>>,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<Option<T>> {
        let read = self.db().begin_read()?;
        let t = read.open_table(table)?;
        t.get(key)?.map(|v| v.decode()).transpose()
    }

    /// Every value of `table`, in key order, in a read transaction of its own.
    pub(crate) fn rows<K: Key + 'static, T: Stored>(
        &self,
        table: TableDefinition<K, Json<T>>,
    ) -> Result<Vec<T>> {
        let read = self.db().begin_read()?;
        let t = read.open_table(table)?;
        t.iter()?.map(|row| row?.1.decode()).collect()
    }
}
