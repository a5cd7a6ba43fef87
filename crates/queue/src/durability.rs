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
use std::time::Duration;

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
    /// Tests: refuse the opens of a round as an exhausted system would.
    #[cfg(test)]
    faults: Arc<OpenFaults>,
}

/// Tests: while `errno` is set, every file or directory a round opens (to list or sync it)
/// fails with it; `refused` counts those failures so a test can wait for them.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct OpenFaults {
    state: Mutex<(Option<i32>, u64)>,
    changed: Condvar,
}

#[cfg(test)]
impl OpenFaults {
    /// Sets (or clears) the errno every open fails with.
    pub(crate) fn set(&self, errno: Option<i32>) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = errno;
    }

    /// Blocks until `n` opens in all were refused (`true`) or `limit` passed (`false`: the
    /// rounds stopped).
    pub(crate) fn wait_refused(&self, n: u64, limit: std::time::Duration) -> bool {
        let guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, limit, |(_, refused)| *refused < n)
            .unwrap_or_else(|e| e.into_inner());
        guard.1 >= n
    }

    /// Opens refused so far.
    pub(crate) fn refused(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }

    fn check(&self) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.0 {
            Some(errno) => {
                state.1 += 1;
                self.changed.notify_all();
                Err(std::io::Error::from_raw_os_error(errno))
            }
            None => Ok(()),
        }
    }
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
    #[cfg(test)]
    faults: Arc<OpenFaults>,
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
        let shared = Arc::new(Shared::default());
        let mut target = SyncTarget {
            db,
            dir: dir.to_path_buf(),
            log,
            #[cfg(test)]
            faults: Arc::clone(&shared.faults),
            names_seen: HashSet::new(),
            blobs_seen: HashSet::new(),
        };
        target.round().map_err(RoundFailure::into_error)?;
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

    /// Tests: the open faults of this store's rounds.
    #[cfg(test)]
    pub(crate) fn open_faults(&self) -> Arc<OpenFaults> {
        Arc::clone(&self.shared.faults)
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

/// How often a round that lost nothing, and failed for another reason than exhausted
/// resources, is tried again before the store gives up.
const TRANSIENT_RETRIES: u32 = 50;
/// The pause between those tries.
const TRANSIENT_PAUSE: Duration = Duration::from_millis(200);
/// The first pause after a round found the system out of descriptors or memory; it doubles
/// up to [`EXHAUSTED_MAX_PAUSE`].
const EXHAUSTED_FIRST_PAUSE: Duration = Duration::from_millis(if cfg!(test) { 1 } else { 10 });
/// The longest pause between tries while out of descriptors or memory.
const EXHAUSTED_MAX_PAUSE: Duration = Duration::from_millis(if cfg!(test) { 2 } else { 1000 });

/// Why a round failed.
enum RoundFailure {
    /// Durability lost: a flush or fsync of written data failed, and the kernel may have
    /// dropped the dirty pages. The store is poisoned.
    Lost(StoreError),
    /// The system is out of file descriptors or memory (EMFILE, ENFILE, ENOMEM) when opening
    /// a file or directory to list or sync it. Nothing written was touched and the condition
    /// passes (a burst of connections, a leak elsewhere being restarted): tried again with a
    /// bounded backoff for as long as it lasts, never poisoning.
    Exhausted(StoreError),
    /// The round could not run for another reason (a directory that cannot be listed):
    /// nothing written was touched; tried again [`TRANSIENT_RETRIES`] times, then poisoning,
    /// since durability can no longer be proven.
    Transient(StoreError),
}

impl RoundFailure {
    fn into_error(self) -> StoreError {
        match self {
            RoundFailure::Lost(e) | RoundFailure::Exhausted(e) | RoundFailure::Transient(e) => e,
        }
    }

    /// Opening or listing `what` failed: exhausted resources or another transient failure,
    /// never a loss (nothing was written through this handle).
    fn cannot_open(what: &str, e: &std::io::Error) -> RoundFailure {
        let error = StoreError::from_io(what, e);
        match e.raw_os_error() {
            Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOMEM) => {
                RoundFailure::Exhausted(error)
            }
            _ => RoundFailure::Transient(error),
        }
    }
}

/// Waits `pause` unless the store is closing; `true` if it is.
fn pause_unless_closing(shared: &Shared, pause: Duration) -> bool {
    let r = lock(shared);
    let (r, _) = shared
        .wake
        .wait_timeout_while(r, pause, |r| !r.closing)
        .unwrap_or_else(|e| e.into_inner());
    r.closing
}

fn run(shared: &Shared, tx: &watch::Sender<Progress>, mut target: SyncTarget) {
    let mut synced = 0u64;
    let mut transient_failures = 0u32;
    let mut exhausted_tries = 0u64;
    let mut exhausted_pause = EXHAUSTED_FIRST_PAUSE;
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
        // Nothing was lost: the writers wait (nothing is acknowledged) and the round is tried
        // again: while resources are exhausted for as long as it takes, otherwise for a while.
        let result = match result {
            Err(RoundFailure::Exhausted(e)) => {
                exhausted_tries += 1;
                if exhausted_tries.is_power_of_two() {
                    tracing::warn!(error = %e, tries = exhausted_tries, "operation store sync round cannot open its files (out of descriptors or memory); acknowledgements wait, trying again");
                }
                if pause_unless_closing(shared, exhausted_pause) {
                    // Every handle is gone, so nobody waits for an acknowledgement; what was
                    // not synced was never acknowledged.
                    tracing::error!(error = %e, "operation store closed while it could not sync");
                    break;
                }
                exhausted_pause = (exhausted_pause * 2).min(EXHAUSTED_MAX_PAUSE);
                continue;
            }
            Err(RoundFailure::Transient(e)) if transient_failures < TRANSIENT_RETRIES => {
                transient_failures += 1;
                tracing::warn!(error = %e, "operation store sync round could not run; trying again");
                if pause_unless_closing(shared, TRANSIENT_PAUSE) {
                    tracing::error!(error = %e, "operation store closed while it could not sync");
                    break;
                }
                continue;
            }
            Err(failure) => Err(failure.into_error()),
            Ok(()) => Ok(()),
        };
        if exhausted_tries > 0 {
            tracing::info!(
                tries = exhausted_tries,
                "operation store sync round ran again after running out of descriptors or memory"
            );
        }
        transient_failures = 0;
        exhausted_tries = 0;
        exhausted_pause = EXHAUSTED_FIRST_PAUSE;
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
        let names = self.list_names(&self.dir)?;
        if names != self.names_seen {
            self.sync_dir(&self.dir)?;
            self.names_seen = names;
        }
        Ok(())
    }

    /// sled writes values too big for its log into `blobs/` without ever syncing them.
    fn sync_new_blobs(&mut self) -> Result<(), RoundFailure> {
        let transient = RoundFailure::cannot_open;
        let blobs = self.dir.join("blobs");
        let entries = match self.read_dir(&blobs) {
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
                let file = match self.open(&entry.path()) {
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
            self.sync_dir(&blobs)?;
        }
        Ok(())
    }

    fn list_names(&self, dir: &Path) -> Result<HashSet<std::ffi::OsString>, RoundFailure> {
        let what = || format!("list {}", dir.display());
        let mut names = HashSet::new();
        let entries = self
            .read_dir(dir)
            .map_err(|e| RoundFailure::cannot_open(&what(), &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| RoundFailure::cannot_open(&what(), &e))?;
            names.insert(entry.file_name());
        }
        Ok(names)
    }

    /// fsync of a directory makes the names of files created in it durable.
    fn sync_dir(&self, dir: &Path) -> Result<(), RoundFailure> {
        let what = format!("fsync of {}", dir.display());
        let handle = self
            .open(dir)
            .map_err(|e| RoundFailure::cannot_open(&what, &e))?;
        handle
            .sync_all()
            .map_err(|e| RoundFailure::Lost(StoreError::from_io(&what, &e)))
    }

    /// Opens a file or directory to sync it (the test seam for exhausted descriptors).
    fn open(&self, path: &Path) -> std::io::Result<File> {
        #[cfg(test)]
        self.faults.check()?;
        File::open(path)
    }

    /// Lists a directory (the test seam for exhausted descriptors).
    fn read_dir(&self, path: &Path) -> std::io::Result<std::fs::ReadDir> {
        #[cfg(test)]
        self.faults.check()?;
        std::fs::read_dir(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exhausted_resources_are_retried_without_limit() {
        let kind = |errno| match RoundFailure::cannot_open(
            "open",
            &std::io::Error::from_raw_os_error(errno),
        ) {
            RoundFailure::Exhausted(_) => "exhausted",
            RoundFailure::Transient(_) => "transient",
            RoundFailure::Lost(_) => "lost",
        };
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOMEM] {
            assert_eq!(kind(errno), "exhausted", "errno {errno}");
        }
        for errno in [libc::EACCES, libc::EIO, libc::ENOENT] {
            assert_eq!(kind(errno), "transient", "errno {errno}");
        }
    }
}
