//! Group commit: one thread makes the store durable for many writers at once.
//!
//! sled's `flush()` writes its log with `sync_file_range`, which neither flushes the drive's
//! write cache nor the file's size metadata, and sled never syncs its blob files (sled's own
//! background flusher is off, see `Store::open`: nothing else syncs the log). So each round
//! here is: `fdatasync` of blob files not yet synced, `flush()`, the same for blobs added
//! meanwhile, then `fdatasync` of the log file, and `fsync` of the directories when files
//! were added or removed in them. A writer applies its batch, takes the next epoch number
//! (under the store's write lock, so the number orders after the batch), and waits until a
//! round that started after that number has finished. Writers arriving during a round share
//! the next one, so the number of fsyncs grows with time spent syncing, not with the request
//! count.
//!
//! This module does not decide what is written; `store` does.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::watch;

use crate::StoreError;

/// What the sync thread has achieved so far.
#[derive(Debug, Clone, Default)]
struct Progress {
    /// Every epoch up to this one is on stable storage.
    synced: u64,
    /// The first failed round's error. From then on nothing more is acknowledged: after a
    /// failed fsync the kernel may have dropped the dirty pages, so a later successful one
    /// proves nothing about them. Only reopening the store (a restart) reads what is really on
    /// disk.
    error: Option<StoreError>,
    /// Rounds done (flush + fsyncs), for tests and benchmarks.
    rounds: u64,
    /// The thread has stopped.
    closed: bool,
}

#[derive(Debug, Default)]
struct Requests {
    /// The highest epoch handed to a writer.
    requested: u64,
    /// The store is being dropped: finish outstanding rounds and stop.
    closing: bool,
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Requests>,
    wake: Condvar,
    /// Tests: make the next sync round fail as a failing disk would.
    #[cfg(test)]
    fail_next_round: std::sync::atomic::AtomicBool,
}

fn lock(shared: &Shared) -> MutexGuard<'_, Requests> {
    // A panic while holding this lock cannot leave `Requests` inconsistent (two plain fields).
    shared.requests.lock().unwrap_or_else(|e| e.into_inner())
}

/// The group-commit machinery of one open store.
#[derive(Debug)]
pub(crate) struct Durability {
    shared: Arc<Shared>,
    progress: watch::Receiver<Progress>,
    thread: Option<JoinHandle<()>>,
}

/// The files one round syncs.
struct SyncTarget {
    db: sled::Db,
    dir: PathBuf,
    log: File,
    /// Names in the store directory at the last round: its fsync is needed only when they
    /// change (sled adds snapshot and blob files now and then; the log's growth is covered
    /// by the log's own fsync).
    names_seen: HashSet<std::ffi::OsString>,
    blobs_seen: HashSet<std::ffi::OsString>,
}

impl Durability {
    /// Makes the freshly opened store's files and directory durable, then starts the thread.
    pub(crate) fn start(db: sled::Db, dir: &Path) -> Result<Durability, StoreError> {
        let log_path = dir.join("db");
        let log = File::open(&log_path)
            .map_err(|e| StoreError::from_io(&format!("open {}", log_path.display()), &e))?;
        let mut target = SyncTarget {
            db,
            dir: dir.to_path_buf(),
            log,
            names_seen: HashSet::new(),
            blobs_seen: HashSet::new(),
        };
        target.round().map_err(RoundFailure::into_error)?;
        let shared = Arc::new(Shared::default());
        let (tx, progress) = watch::channel(Progress::default());
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("queue-sync".into())
            .spawn(move || run(&thread_shared, &tx, target))
            .map_err(|e| StoreError::from_io("spawn the sync thread", &e))?;
        Ok(Durability {
            shared,
            progress,
            thread: Some(thread),
        })
    }

    /// Takes the next epoch: call it after applying a batch, under the store's write lock.
    pub(crate) fn next_epoch(&self) -> Result<u64, StoreError> {
        self.healthy()?;
        let mut r = lock(&self.shared);
        if r.closing {
            return Err(StoreError::Closed);
        }
        r.requested += 1;
        let epoch = r.requested;
        drop(r);
        self.shared.wake.notify_one();
        Ok(epoch)
    }

    /// The epoch covering every batch applied so far (for answers that read, not write, but
    /// must not acknowledge what a concurrent writer has not yet made durable).
    pub(crate) fn current_epoch(&self) -> u64 {
        lock(&self.shared).requested
    }

    /// Tests: the next round fails.
    #[cfg(test)]
    pub(crate) fn fail_next_round(&self) {
        self.shared
            .fail_next_round
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// `Err` once a sync round has failed: the store acknowledges nothing more.
    pub(crate) fn healthy(&self) -> Result<(), StoreError> {
        match &self.progress.borrow().error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Waits until `epoch` is on stable storage.
    pub(crate) async fn wait(&self, epoch: u64) -> Result<(), StoreError> {
        let mut rx = self.progress.clone();
        loop {
            {
                let p = rx.borrow_and_update();
                if p.synced >= epoch {
                    return Ok(());
                }
                if let Some(e) = &p.error {
                    return Err(e.clone());
                }
                if p.closed {
                    return Err(StoreError::Closed);
                }
            }
            if rx.changed().await.is_err() {
                // The thread is gone; it publishes its last progress before leaving.
                let p = rx.borrow();
                return if p.synced >= epoch {
                    Ok(())
                } else {
                    Err(StoreError::Closed)
                };
            }
        }
    }

    /// Rounds done since the store opened.
    pub(crate) fn rounds(&self) -> u64 {
        self.progress.borrow().rounds
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        lock(&self.shared).closing = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the operation store's sync thread panicked");
            }
        }
    }
}

/// How often a round that lost nothing is tried again before the store gives up.
const TRANSIENT_RETRIES: u32 = 50;
/// The pause between those tries.
const TRANSIENT_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Why a round failed: durability lost (a flush or fsync failed: the kernel may have dropped
/// the dirty pages) or only the round could not run (nothing written was touched).
enum RoundFailure {
    Lost(StoreError),
    Transient(StoreError),
}

impl RoundFailure {
    fn into_error(self) -> StoreError {
        match self {
            RoundFailure::Lost(e) | RoundFailure::Transient(e) => e,
        }
    }
}

fn run(shared: &Shared, tx: &watch::Sender<Progress>, mut target: SyncTarget) {
    let mut synced = 0u64;
    let mut transient_failures = 0u32;
    loop {
        let goal = {
            let mut r = lock(shared);
            while r.requested <= synced && !r.closing {
                r = shared.wake.wait(r).unwrap_or_else(|e| e.into_inner());
            }
            if r.requested <= synced {
                break; // closing and nothing outstanding
            }
            r.requested
        };
        #[cfg(test)]
        let result = if shared
            .fail_next_round
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            Err(RoundFailure::Lost(StoreError::Io(
                "fdatasync of the store log: Input/output error (injected)".into(),
            )))
        } else {
            target.round()
        };
        #[cfg(not(test))]
        let result = target.round();
        // Nothing was lost (a directory could not be listed or opened, e.g. out of file
        // descriptors): the writers wait and the round is tried again, for a while.
        let result = match result {
            Err(RoundFailure::Transient(e)) if transient_failures < TRANSIENT_RETRIES => {
                transient_failures += 1;
                tracing::warn!(error = %e, "operation store sync round could not run; trying again");
                std::thread::sleep(TRANSIENT_PAUSE);
                continue;
            }
            Err(failure) => Err(failure.into_error()),
            Ok(()) => Ok(()),
        };
        transient_failures = 0;
        tx.send_modify(|p| {
            p.rounds += 1;
            match result {
                Ok(()) if p.error.is_none() => p.synced = goal,
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(error = %e, "operation store sync failed; nothing more is acknowledged until the service restarts");
                    if p.error.is_none() {
                        p.error = Some(e);
                    }
                }
            }
        });
        synced = goal;
    }
    tx.send_modify(|p| p.closed = true);
}

impl SyncTarget {
    /// One flush + fsync round.
    fn round(&mut self) -> Result<(), RoundFailure> {
        // Blobs first, log last: a log entry that reaches the disk before the blob it points
        // to makes sled refuse the store on the next open (a torn blob fails its CRC). sled
        // writes a blob file when it reserves the entry, before the entry can be flushed, so
        // the blobs present now cover what `flush` is about to write (its sync_file_range
        // puts log pages on the device); a second pass takes blobs added meanwhile, before
        // the fdatasync that makes the log durable.
        self.sync_new_blobs()?;
        self.db
            .flush()
            .map_err(|e| RoundFailure::Lost(StoreError::from_sled("sled flush", e)))?;
        self.sync_new_blobs()?;
        // fdatasync, not fsync: it flushes the data and the size metadata needed to read it
        // back (what sync_file_range leaves out), and skips the mtime update, which would cost
        // a second journal commit per round for nothing recovery needs.
        self.log.sync_data().map_err(|e| {
            RoundFailure::Lost(StoreError::from_io("fdatasync of the store log", &e))
        })?;
        let names = list_names(&self.dir).map_err(RoundFailure::Transient)?;
        if names != self.names_seen {
            sync_dir(&self.dir)?;
            self.names_seen = names;
        }
        Ok(())
    }

    /// sled writes values too big for its log into `blobs/` without ever syncing them.
    fn sync_new_blobs(&mut self) -> Result<(), RoundFailure> {
        let transient =
            |what: &str, e: &std::io::Error| RoundFailure::Transient(StoreError::from_io(what, e));
        let blobs = self.dir.join("blobs");
        let entries = match std::fs::read_dir(&blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(transient("list the blob directory", &e)),
        };
        let mut present = HashSet::new();
        let mut any_new = false;
        for entry in entries {
            let entry = entry.map_err(|e| transient("list the blob directory", &e))?;
            let name = entry.file_name();
            if !self.blobs_seen.contains(&name) {
                let file = match File::open(entry.path()) {
                    Ok(file) => file,
                    // sled removed an obsolete blob meanwhile.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(transient("open a blob", &e)),
                };
                file.sync_data().map_err(|e| {
                    RoundFailure::Lost(StoreError::from_io("fdatasync of a blob", &e))
                })?;
                any_new = true;
            }
            present.insert(name);
        }
        self.blobs_seen = present;
        if any_new {
            sync_dir(&blobs)?;
        }
        Ok(())
    }
}

fn list_names(dir: &Path) -> Result<HashSet<std::ffi::OsString>, StoreError> {
    let mut names = HashSet::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| StoreError::from_io(&format!("list {}", dir.display()), &e))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| StoreError::from_io(&format!("list {}", dir.display()), &e))?;
        names.insert(entry.file_name());
    }
    Ok(names)
}

/// fsync of a directory makes the names of files created in it durable.
fn sync_dir(dir: &Path) -> Result<(), RoundFailure> {
    let what = format!("fsync of {}", dir.display());
    let handle =
        File::open(dir).map_err(|e| RoundFailure::Transient(StoreError::from_io(&what, &e)))?;
    handle
        .sync_all()
        .map_err(|e| RoundFailure::Lost(StoreError::from_io(&what, &e)))
}
