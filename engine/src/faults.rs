//! A redb storage backend for tests that fails on command and simulates power loss: writes go
//! to a "page cache" image that only a sync makes durable; a crash keeps the durable image and
//! throws every unsynced write away (what `kill -9` never tests, since the kernel keeps the page
//! cache). redb's own crash tests work the same way.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use redb::StorageBackend;

#[derive(Debug, Default)]
struct Images {
    /// What reads see: every write so far.
    current: Vec<u8>,
    /// What survives a crash: the state at the last sync.
    durable: Vec<u8>,
    /// Writes and resizes since the last sync, in order, applied to `durable` by the next one.
    pending: Vec<(u64, Option<Vec<u8>>)>,
}

#[derive(Debug, Default)]
struct Shared {
    images: Mutex<Images>,
    fail_writes: AtomicBool,
    fail_syncs: AtomicBool,
    crashed: AtomicBool,
    syncs: AtomicU64,
    /// Crash at the sync with this number (counting from 1); 0 never.
    crash_at_sync: AtomicU64,
}

/// The backend handed to redb.
#[derive(Debug)]
pub struct FaultyBackend(Arc<Shared>);

/// The test's side: turns faults on and off, crashes, and reads the durable image.
#[derive(Clone, Debug)]
pub struct Faults(Arc<Shared>);

impl FaultyBackend {
    /// An empty backend, or one holding `durable` (an image a crash left).
    pub fn new(durable: Vec<u8>) -> (FaultyBackend, Faults) {
        let shared = Arc::new(Shared {
            images: Mutex::new(Images {
                current: durable.clone(),
                durable,
                pending: Vec::new(),
            }),
            ..Shared::default()
        });
        (FaultyBackend(shared.clone()), Faults(shared))
    }
}

impl Faults {
    /// Every write (and so every commit) fails while on.
    pub fn fail_writes(&self, on: bool) {
        self.0.fail_writes.store(on, Ordering::SeqCst);
    }

    /// Every sync (and so every durable commit) fails while on.
    pub fn fail_syncs(&self, on: bool) {
        self.0.fail_syncs.store(on, Ordering::SeqCst);
    }

    /// Power is lost now: nothing more reaches the storage, and what was not synced is gone.
    pub fn crash(&self) {
        self.0.crashed.store(true, Ordering::SeqCst);
    }

    /// Power is lost right before the `n`th sync from now (it does not happen).
    pub fn crash_at_sync(&self, n: u64) {
        let at = self.0.syncs.load(Ordering::SeqCst) + n;
        self.0.crash_at_sync.store(at, Ordering::SeqCst);
    }

    pub fn crashed(&self) -> bool {
        self.0.crashed.load(Ordering::SeqCst)
    }

    /// Syncs so far.
    pub fn syncs(&self) -> u64 {
        self.0.syncs.load(Ordering::SeqCst)
    }

    /// What survives a crash: the image as of the last sync.
    pub fn durable_image(&self) -> Vec<u8> {
        self.0
            .images
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .durable
            .clone()
    }
}

fn refused(what: &str) -> io::Error {
    io::Error::other(format!("injected fault: {what}"))
}

impl FaultyBackend {
    fn check(&self, failing: &AtomicBool, what: &str) -> io::Result<()> {
        if self.0.crashed.load(Ordering::SeqCst) {
            return Err(refused("the power is off"));
        }
        if failing.load(Ordering::SeqCst) {
            return Err(refused(what));
        }
        Ok(())
    }

    fn images(&self) -> std::sync::MutexGuard<'_, Images> {
        self.0.images.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> io::Result<u64> {
        self.check(&AtomicBool::new(false), "len")?;
        Ok(self.images().current.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.check(&AtomicBool::new(false), "read")?;
        let images = self.images();
        let start = usize::try_from(offset).map_err(|_| refused("offset"))?;
        let end = start + out.len();
        let data = images
            .current
            .get(start..end)
            .ok_or_else(|| refused("read past the end"))?;
        out.copy_from_slice(data);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.check(&self.0.fail_writes, "set_len")?;
        let size = usize::try_from(len).map_err(|_| refused("length"))?;
        let mut images = self.images();
        images.current.resize(size, 0);
        images.pending.push((len, None));
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        self.check(&self.0.fail_syncs, "sync")?;
        let n = self.0.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.0.crash_at_sync.load(Ordering::SeqCst) {
            self.0.crashed.store(true, Ordering::SeqCst);
            return Err(refused("the power went off"));
        }
        let mut images = self.images();
        let pending = std::mem::take(&mut images.pending);
        for (offset, data) in pending {
            apply(&mut images.durable, offset, data.as_deref());
        }
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.check(&self.0.fail_writes, "write")?;
        usize::try_from(offset).map_err(|_| refused("offset"))?;
        let mut images = self.images();
        apply(&mut images.current, offset, Some(data));
        images.pending.push((offset, Some(data.to_vec())));
        Ok(())
    }
}

/// A write (`Some`) at `offset`, or a resize to `offset` (`None`).
fn apply(image: &mut Vec<u8>, offset: u64, data: Option<&[u8]>) {
    let at = offset as usize;
    match data {
        None => image.resize(at, 0),
        Some(data) => {
            let end = at + data.len();
            if image.len() < end {
                image.resize(end, 0);
            }
            image[at..end].copy_from_slice(data);
        }
    }
}
