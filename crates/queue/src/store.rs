//! The store: submit with idempotency, state transitions, the per-register queries workers
//! use, and when to wake workers and long-polling clients (the wake-ups are in
//! [`crate::signals`]).
//!
//! Writers are serialized by one in-process lock around read-modify-`apply_batch` (sled locks
//! the directory against a second process), so "two submits of one id yield one operation"
//! holds without sled transactions; the lock covers memory work only, the wait for the disk
//! happens outside it, in [`crate::durability`].

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use crate::durability::Durability;
use crate::keys;
use crate::operation::payload_hash;
use crate::signals::Signals;
use crate::{
    Attempt, NewOperation, OpState, Operation, OperationId, OperationKind, RegisterId, StoreError,
    SubmitError, Submitted,
};

/// How the store is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long finished operations are kept. The idempotency promise (same id → the stored
    /// answer, never a second document) holds for this long after an operation finished.
    pub retention: Duration,
    /// sled's page cache size in bytes (bounds the memory used by a large store).
    pub cache_capacity: u64,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            retention: Duration::from_secs(30 * 86_400),
            cache_capacity: 64 * 1024 * 1024,
        }
    }
}

/// The durable operation store. Cheap to clone; all clones share one database.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: sled::Db,
    config: StoreConfig,
    /// Serializes read-modify-write of records and their indexes.
    write_lock: Mutex<()>,
    durability: Durability,
    /// Wakes workers and `wait_change` callers.
    signals: Signals,
    /// Given a permit when the store is dropped, so background tasks stop at once.
    closing: Arc<Notify>,
    /// Keys of undecodable records already logged, so each is reported once.
    reported_corrupt: Mutex<HashSet<Vec<u8>>>,
    clock: StoreClock,
}

/// The store clock: milliseconds the store has been open, summed over its whole life. It
/// runs on the monotonic clock while the store is open and is stored with every write, so it
/// never jumps when the PC's wall clock is corrected, and it stands still while the gateway
/// is not running (and loses, after a crash, the time since the last write: it can only be
/// behind, never ahead). Retention asks it as well as the wall clock (see `retention`).
#[derive(Debug)]
struct StoreClock {
    /// The stored value when the store was opened.
    base_ms: u64,
    opened: std::time::Instant,
    /// Tests: time added as if the store had been open that much longer.
    #[cfg(test)]
    advanced_ms: std::sync::atomic::AtomicU64,
}

impl StoreClock {
    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        #[cfg(test)]
        let elapsed =
            elapsed.saturating_add(self.advanced_ms.load(std::sync::atomic::Ordering::SeqCst));
        self.base_ms.saturating_add(elapsed)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent across a panic (maps and a unit).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long `Store::open` waits for the file lock of a store on the same path that is
/// closing.
const LOCK_RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Store {
    /// Opens (or creates) the store in directory `path`. Start-up reads no operations: the
    /// indexes are on disk.
    pub fn open(path: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path)
            .map_err(|e| StoreError::from_io(&format!("create {}", path.display()), &e))?;
        let sled_config = sled::Config::new()
            .path(path)
            .cache_capacity(config.cache_capacity)
            // No background flusher: it would fsync the log on its own schedule, making a log
            // entry durable while the blob file it points to is not yet synced (a dangling or
            // torn blob makes sled refuse the whole store on the next open). Only the group
            // commit in `durability` flushes, and it syncs blobs before the log.
            .flush_every_ms(None);
        let waiting_since = std::time::Instant::now();
        let db = loop {
            match sled_config.open() {
                // The file lock of a store on this path that was just dropped in this process:
                // sled releases it from its own I/O threads a moment after the last handle
                // goes. Another process holding it is still refused, after this short wait.
                // (sled words it "could not acquire lock on …", an `Other` I/O error.)
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && waiting_since.elapsed() < LOCK_RELEASE_WAIT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                opened => {
                    break opened.map_err(|e| {
                        StoreError::from_sled(&format!("open {}", path.display()), e)
                    })?
                }
            }
        };
        migrate_legacy_finished(&db)?;
        let clock = StoreClock {
            base_ms: read_clock(&db)?,
            opened: std::time::Instant::now(),
            #[cfg(test)]
            advanced_ms: std::sync::atomic::AtomicU64::new(0),
        };
        let durability = Durability::start(db.clone(), path)?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                config,
                write_lock: Mutex::new(()),
                durability,
                signals: Signals::default(),
                closing: Arc::new(Notify::new()),
                reported_corrupt: Mutex::new(HashSet::new()),
                clock,
            }),
        })
    }

    /// Stores a new operation, or answers for a known id: same payload → `Existing` (or
    /// `Requeued` if it had failed, then on the register given now), different payload →
    /// `Conflict`. Returns only after the answer is on stable storage.
    #[allow(clippy::result_large_err)] // Conflict carries the stored operation by contract
    pub async fn submit(&self, new: NewOperation) -> Result<Submitted, SubmitError> {
        self.submit_with(new, &[], false).await
    }

    /// Stores `new` as [`Store::submit`] does, remembering that it refers to each of
    /// `targets` (a refund to its sale; a return to its register's journal and its sale), so
    /// that [`Store::referring_to`] finds it under every one. The first is the record's
    /// `refers_to`, the rest its `also_refers_to` (a target named twice counts once). The
    /// answers are `submit`'s. The references are part of the first submit only: a known id
    /// keeps the ones it was stored with (or none), whatever is given again. A target need
    /// not be stored (it may have been pruned, or live on another gateway).
    #[allow(clippy::result_large_err)] // Conflict carries the stored operation by contract
    pub async fn submit_referring(
        &self,
        new: NewOperation,
        targets: &[&OperationId],
    ) -> Result<Submitted, SubmitError> {
        self.submit_with(new, targets, false).await
    }

    /// Stores `new` as [`Store::submit_referring`] (or [`Store::submit`] without targets)
    /// does, and makes it findable by its `seq` and, once done, by its fiscal sign
    /// ([`Store::by_seq`], [`Store::by_fiscal_sign`]). Like the references, part of the first
    /// submit only.
    #[allow(clippy::result_large_err)] // Conflict carries the stored operation by contract
    pub async fn submit_numbered(
        &self,
        new: NewOperation,
        targets: &[&OperationId],
    ) -> Result<Submitted, SubmitError> {
        self.submit_with(new, targets, true).await
    }

    /// [`Store::submit`], with the references a new operation is stored with and whether it
    /// is found by number.
    #[allow(clippy::result_large_err)] // Conflict carries the stored operation by contract
    async fn submit_with(
        &self,
        new: NewOperation,
        targets: &[&OperationId],
        by_number: bool,
    ) -> Result<Submitted, SubmitError> {
        self.inner.durability.healthy()?;
        let hash = payload_hash(&new.request)?;
        let key = keys::record_key(&new.id);
        let (submitted, epoch) = {
            let _guard = lock(&self.inner.write_lock);
            match self.read(&key)? {
                Some(existing) if existing.payload_hash != hash => {
                    return Err(SubmitError::Conflict { existing });
                }
                Some(existing) if matches!(existing.state, OpState::Failed { .. }) => {
                    let now = Utc::now();
                    let mut op = existing.clone();
                    op.seq = self.next_seq()?;
                    // Routed afresh: the register it failed on may be the reason it failed.
                    op.register = new.register;
                    op.state = OpState::Queued;
                    op.updated_at = now;
                    op.processed_at = None;
                    op.finished_clock_ms = None;
                    op.record_attempt(now, &OpState::Queued, "posted again after failure");
                    let epoch = self.write(&key, Some(&existing), &op)?;
                    (Submitted::Requeued(op), epoch)
                }
                Some(existing) => {
                    // A concurrent first submit may not be durable yet: wait for it too.
                    let epoch = self.inner.durability.current_epoch();
                    (Submitted::Existing(existing), epoch)
                }
                None => {
                    let now = Utc::now();
                    let state = OpState::Queued;
                    let op = Operation {
                        kind: OperationKind::of(&new.request),
                        id: new.id,
                        register: new.register,
                        request: new.request,
                        payload_hash: hash,
                        seq: self.next_seq()?,
                        refers_to: targets.first().map(|t| (*t).clone()),
                        also_refers_to: further_targets(targets),
                        by_number,
                        created_at: now,
                        updated_at: now,
                        processed_at: None,
                        finished_clock_ms: None,
                        attempts: vec![Attempt {
                            at: now,
                            state: state.name().into(),
                            note: "accepted".into(),
                        }],
                        attempts_dropped: 0,
                        state,
                    };
                    let record = keys::encode_record(&op)?;
                    if record.len() > keys::MAX_NEW_RECORD_BYTES {
                        return Err(SubmitError::TooLarge {
                            bytes: record.len(),
                            limit: keys::MAX_NEW_RECORD_BYTES,
                        });
                    }
                    let epoch = self.write_record(&key, None, &op, record)?;
                    (Submitted::Created(op), epoch)
                }
            }
        };
        self.inner.durability.wait(epoch).await?;
        if let Submitted::Created(op) | Submitted::Requeued(op) = &submitted {
            self.work_signal(&op.register).notify_one();
            self.notify_watchers(&op.id);
        }
        Ok(submitted)
    }

    /// The operation stored under `id`; `Corrupt` if its record cannot be decoded.
    pub fn get(&self, id: &OperationId) -> Result<Option<Operation>, StoreError> {
        self.read(&keys::record_key(id))
    }

    /// Moves `id` to `to` if the state machine allows it ([`OpState::may_become`]), records
    /// `note` in its history, sets `processed_at` when it finishes. Returns after the change
    /// is on stable storage.
    pub async fn transition(
        &self,
        id: &OperationId,
        to: OpState,
        note: &str,
    ) -> Result<Operation, StoreError> {
        let key = keys::record_key(id);
        let (op, epoch) = {
            let _guard = lock(&self.inner.write_lock);
            let existing = self
                .read(&key)?
                .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
            if !existing.state.may_become(&to) {
                return Err(StoreError::InvalidTransition {
                    id: id.to_string(),
                    from: existing.state.name(),
                    to: to.name(),
                });
            }
            let now = Utc::now();
            let mut op = existing.clone();
            if to.is_finished() && !existing.state.is_finished() {
                op.processed_at = Some(now);
                op.finished_clock_ms = Some(self.clock_ms());
            }
            op.record_attempt(now, &to, note);
            op.state = to;
            op.updated_at = now;
            let epoch = self.write(&key, Some(&existing), &op)?;
            (op, epoch)
        };
        self.inner.durability.wait(epoch).await?;
        if matches!(op.state, OpState::Queued) {
            self.work_signal(&op.register).notify_one();
        }
        self.notify_watchers(&op.id);
        Ok(op)
    }

    /// The operation whose `seq` is `seq` (the number a dialect shows as its document id).
    /// A re-posted operation has a new `seq`; its old one finds nothing.
    pub fn by_seq(&self, seq: u64) -> Result<Option<Operation>, StoreError> {
        let key = keys::seq_key(seq);
        let Some(id) = self
            .inner
            .db
            .get(&key)
            .map_err(|e| StoreError::from_sled("read an index", e))?
        else {
            return Ok(None);
        };
        self.indexed_by(&key, &id)
    }

    /// Done operations whose fiscal document carries fiscal sign `sign`, any register, oldest
    /// first (by `seq`). Two FNs may produce the same 32-bit sign; the caller tells them apart
    /// (by `fn_number`). Receipts, corrections and shift reports carry one; cash movements
    /// and copies do not.
    pub fn by_fiscal_sign(&self, sign: u32) -> Result<Vec<Operation>, StoreError> {
        let mut out = Vec::new();
        for entry in self.inner.db.scan_prefix(keys::sign_prefix(sign)) {
            let (k, _) = entry.map_err(|e| StoreError::from_sled("scan an index", e))?;
            let Some(id) = keys::id_of_sign_key(&k) else {
                self.report_corrupt(&k, "undecodable index entry");
                continue;
            };
            out.extend(self.indexed_by(&k, id)?);
        }
        out.sort_by_key(|op| op.seq);
        Ok(out)
    }

    /// Operations submitted with [`Store::submit_referring`] (or [`Store::submit_numbered`])
    /// naming `target` among their targets, oldest first (by `seq`: a re-posted one counts
    /// from its re-post), whatever their state.
    pub fn referring_to(&self, target: &OperationId) -> Result<Vec<Operation>, StoreError> {
        let mut out = Vec::new();
        for entry in self.inner.db.scan_prefix(keys::referring_prefix(target)) {
            let (k, id) = entry.map_err(|e| StoreError::from_sled("scan an index", e))?;
            out.extend(self.indexed_by(&k, &id)?);
        }
        Ok(out)
    }

    /// The operation named `id` by the index entry under `key`, if its record still has that
    /// entry; a stale or undecodable entry (or record) is reported and skipped.
    fn indexed_by(&self, key: &[u8], id: &[u8]) -> Result<Option<Operation>, StoreError> {
        let Some(id) = std::str::from_utf8(id)
            .ok()
            .and_then(|s| OperationId::new(s).ok())
        else {
            self.report_corrupt(key, "undecodable index entry");
            return Ok(None);
        };
        match self.read(&keys::record_key(&id)) {
            Ok(Some(op)) if keys::index_entries(&op).iter().any(|(n, _)| n == key) => Ok(Some(op)),
            Ok(_) => {
                self.report_corrupt(key, "index entry without a matching record");
                Ok(None)
            }
            Err(StoreError::Corrupt(_)) => Ok(None), // reported by `read`
            Err(e) => Err(e),
        }
    }

    /// The oldest Queued or Waiting operation of `register` (FIFO by `seq`).
    pub fn next_for(&self, register: &RegisterId) -> Result<Option<Operation>, StoreError> {
        Ok(self.indexed(keys::PENDING, register, 1)?.into_iter().next())
    }

    /// Every Queued or Waiting operation of `register`, oldest first.
    pub fn pending(&self, register: &RegisterId) -> Result<Vec<Operation>, StoreError> {
        self.indexed(keys::PENDING, register, usize::MAX)
    }

    /// The Sending or Reconciling operations of `register`, oldest first.
    pub fn unsettled(&self, register: &RegisterId) -> Result<Vec<Operation>, StoreError> {
        self.indexed(keys::UNSETTLED, register, usize::MAX)
    }

    /// The Done operations of `register` whose receipt was not (completely) printed.
    pub fn not_printed(&self, register: &RegisterId) -> Result<Vec<Operation>, StoreError> {
        self.indexed(keys::NOT_PRINTED, register, usize::MAX)
    }

    /// Notified (one permit) when an operation for `register` is submitted, re-posted or
    /// queued again, so its worker sleeps until there is work.
    pub fn work_signal(&self, register: &RegisterId) -> Arc<Notify> {
        self.inner.signals.work(register)
    }

    /// Waits until `id` changes state (or is re-posted), at most `timeout`, then returns it as
    /// it is. `None` if the id is unknown.
    pub async fn wait_change(
        &self,
        id: &OperationId,
        timeout: Duration,
    ) -> Result<Option<Operation>, StoreError> {
        let watch = self.inner.signals.watch(id);
        let notified = watch.notify.notified();
        tokio::pin!(notified);
        // Registered before reading, so a change between the read and the wait is not missed.
        notified.as_mut().enable();
        if self.get(id)?.is_none() {
            return Ok(None);
        }
        let _ = tokio::time::timeout(timeout, notified).await;
        self.get(id)
    }

    /// Unfinished operations per register and state name (`queued`, `waiting`, `sending`,
    /// `reconciling`), read from the indexes only. Finished operations are history, not load.
    pub fn depth(&self) -> Result<BTreeMap<RegisterId, BTreeMap<&'static str, u64>>, StoreError> {
        let mut out: BTreeMap<RegisterId, BTreeMap<&'static str, u64>> = BTreeMap::new();
        for space in [keys::PENDING, keys::UNSETTLED] {
            for entry in self.inner.db.scan_prefix([space]) {
                let (k, v) = entry.map_err(|e| StoreError::from_sled("scan an index", e))?;
                let (Some(register), Some(&tag)) = (keys::register_of_key(&k), v.first()) else {
                    self.report_corrupt(&k, "undecodable index entry");
                    continue;
                };
                *out.entry(register)
                    .or_default()
                    .entry(keys::state_name_of_tag(tag))
                    .or_default() += 1;
            }
        }
        Ok(out)
    }

    /// Flush + fsync now (for shutdown).
    pub async fn sync(&self) -> Result<(), StoreError> {
        let epoch = self.inner.durability.next_epoch()?;
        self.inner.durability.wait(epoch).await
    }

    /// `Err` once a sync round has failed: from then on the store acknowledges nothing (the
    /// API answers 503) and the service should restart to read what is really on disk.
    pub fn healthy(&self) -> Result<(), StoreError> {
        self.inner.durability.healthy()
    }

    /// Tests: the next sync round fails as a failing disk would.
    #[cfg(test)]
    pub(crate) fn fail_next_sync(&self) {
        self.inner.durability.fail_next_round();
    }

    /// Tests: the open faults of this store's sync rounds.
    #[cfg(test)]
    pub(crate) fn open_faults(&self) -> Arc<crate::durability::OpenFaults> {
        self.inner.durability.open_faults()
    }

    /// Group-commit rounds (flush + fsync) since the store opened.
    pub fn sync_rounds(&self) -> u64 {
        self.inner.durability.rounds()
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    pub(crate) fn db(&self) -> &sled::Db {
        &self.inner.db
    }

    /// A handle that does not keep the store open (for background tasks).
    pub(crate) fn downgrade(&self) -> WeakStore {
        WeakStore(Arc::downgrade(&self.inner))
    }

    /// Notified (one permit) when the last `Store` handle is dropped.
    pub(crate) fn closing(&self) -> Arc<Notify> {
        Arc::clone(&self.inner.closing)
    }

    /// The store clock now, in milliseconds (see [`StoreClock`]).
    pub(crate) fn clock_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Tests: the store clock runs ahead by `by`, as if the store had been open that much
    /// longer.
    #[cfg(test)]
    pub(crate) fn advance_clock(&self, by: Duration) {
        self.inner.clock.advanced_ms.fetch_add(
            u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// Takes the write lock (for retention).
    pub(crate) fn write_guard(&self) -> MutexGuard<'_, ()> {
        lock(&self.inner.write_lock)
    }

    /// Applies `batch` with the store clock in it (for retention). Call with the write lock
    /// held.
    pub(crate) fn apply_with_clock(&self, mut batch: sled::Batch) -> Result<(), StoreError> {
        self.inner.durability.healthy()?;
        batch.insert(keys::CLOCK_KEY, &self.clock_ms().to_be_bytes()[..]);
        self.inner
            .db
            .apply_batch(batch)
            .map_err(|e| StoreError::from_sled("prune", e))
    }

    /// Hands out the epoch of an already applied batch (for retention).
    pub(crate) fn epoch_after_batch(&self) -> Result<u64, StoreError> {
        self.inner.durability.next_epoch()
    }

    /// Waits for an epoch (for retention).
    pub(crate) async fn wait_epoch(&self, epoch: u64) -> Result<(), StoreError> {
        self.inner.durability.wait(epoch).await
    }

    /// Reads and decodes a record; an undecodable one is reported once and is `Corrupt`.
    pub(crate) fn read(&self, key: &[u8]) -> Result<Option<Operation>, StoreError> {
        let Some(bytes) = self
            .inner
            .db
            .get(key)
            .map_err(|e| StoreError::from_sled("read a record", e))?
        else {
            return Ok(None);
        };
        keys::decode_record(&bytes).map(Some).map_err(|why| {
            self.report_corrupt(key, &why);
            StoreError::Corrupt(format!(
                "record {}: {why}",
                String::from_utf8_lossy(key.get(1..).unwrap_or_default())
            ))
        })
    }

    /// Logs an undecodable record or index entry the first time it is met.
    pub(crate) fn report_corrupt(&self, key: &[u8], why: &str) {
        if lock(&self.inner.reported_corrupt).insert(key.to_vec()) {
            tracing::error!(
                key = %String::from_utf8_lossy(key),
                error = why,
                "skipping an undecodable entry of the operation store"
            );
        }
    }

    fn next_seq(&self) -> Result<u64, StoreError> {
        self.inner
            .db
            .generate_id()
            .map_err(|e| StoreError::from_sled("generate a sequence number", e))
    }

    /// Writes `op` and moves its index entries, atomically; returns the epoch to wait for.
    /// Call with the write lock held.
    fn write(
        &self,
        key: &[u8],
        old: Option<&Operation>,
        op: &Operation,
    ) -> Result<u64, StoreError> {
        self.write_record(key, old, op, keys::encode_record(op)?)
    }

    /// [`Store::write`] with `op` already encoded as `record`.
    fn write_record(
        &self,
        key: &[u8],
        old: Option<&Operation>,
        op: &Operation,
        record: Vec<u8>,
    ) -> Result<u64, StoreError> {
        // A poisoned store changes nothing more, not even in memory.
        self.inner.durability.healthy()?;
        if record.len() > keys::MAX_RECORD_BYTES {
            return Err(StoreError::RecordTooLarge {
                id: op.id.to_string(),
                bytes: record.len(),
                limit: keys::MAX_RECORD_BYTES,
            });
        }
        let mut batch = sled::Batch::default();
        let new_entries = keys::index_entries(op);
        if let Some(old) = old {
            for (k, _) in keys::index_entries(old) {
                if !new_entries.iter().any(|(n, _)| *n == k) {
                    batch.remove(k);
                }
            }
        }
        for (k, v) in new_entries {
            batch.insert(k, v);
        }
        batch.insert(key, record);
        batch.insert(keys::CLOCK_KEY, &self.clock_ms().to_be_bytes()[..]);
        self.inner
            .db
            .apply_batch(batch)
            .map_err(|e| StoreError::from_sled("write an operation", e))?;
        self.inner.durability.next_epoch()
    }

    /// Up to `limit` operations of one per-register index, in `seq` order, skipping entries
    /// whose record is gone, undecodable or no longer in that state.
    fn indexed(
        &self,
        space: u8,
        register: &RegisterId,
        limit: usize,
    ) -> Result<Vec<Operation>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .inner
            .db
            .scan_prefix(keys::register_prefix(space, register))
        {
            if out.len() >= limit {
                break;
            }
            let (k, v) = entry.map_err(|e| StoreError::from_sled("scan an index", e))?;
            // The value is the state tag, then the id.
            let Some((_, id)) = v.split_first() else {
                self.report_corrupt(&k, "undecodable index entry");
                continue;
            };
            out.extend(self.indexed_by(&k, id)?);
        }
        Ok(out)
    }

    /// How many `wait_change` callers are waiting on `id` now (long polls in flight).
    pub fn watching(&self, id: &OperationId) -> usize {
        self.inner.signals.watching(id)
    }

    /// Wakes `wait_change` callers of `id`.
    pub(crate) fn notify_watchers(&self, id: &OperationId) {
        self.inner.signals.notify_watchers(id);
    }
}

/// The targets after the first, each once and never the first again.
fn further_targets(targets: &[&OperationId]) -> Vec<OperationId> {
    let mut out: Vec<OperationId> = Vec::new();
    if let Some((first, rest)) = targets.split_first() {
        for t in rest {
            if t != first && !out.iter().any(|o| o == *t) {
                out.push((*t).clone());
            }
        }
    }
    out
}

/// The stored store clock; 0 for a new store (or one written before the clock existed). An
/// undecodable value also restarts it at 0: retention then waits a whole window of running
/// time again, which only keeps operations longer; the operations themselves are unaffected.
fn read_clock(db: &sled::Db) -> Result<u64, StoreError> {
    let stored = db
        .get(keys::CLOCK_KEY)
        .map_err(|e| StoreError::from_sled("read the store clock", e))?;
    Ok(match stored {
        None => 0,
        Some(bytes) => keys::decode_clock(&bytes).unwrap_or_else(|| {
            tracing::error!(
                bytes = bytes.len(),
                "the stored store clock is undecodable; it starts again at 0"
            );
            0
        }),
    })
}

/// Moves the wall-clock retention entries of a store written before the store clock
/// (`f <ms> <id>`) to `c 0 <id>`: finished at the clock's start, so they are kept for the
/// retention window of running time from now. In chunks, each one atomic; an interrupted
/// migration continues at the next open. A no-op (one empty scan) afterwards.
fn migrate_legacy_finished(db: &sled::Db) -> Result<(), StoreError> {
    const CHUNK: usize = 4096;
    let mut moved = 0usize;
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for entry in db.scan_prefix([keys::LEGACY_FINISHED]).take(CHUNK) {
            let (k, _) = entry.map_err(|e| StoreError::from_sled("scan the old index", e))?;
            if let Some(id) = keys::id_of_finished_key(&k)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| OperationId::new(s).ok())
            {
                batch.insert(keys::finished_key(0, &id), Vec::new());
            }
            batch.remove(k);
            n += 1;
        }
        if n == 0 {
            break;
        }
        db.apply_batch(batch)
            .map_err(|e| StoreError::from_sled("move the old retention index", e))?;
        moved += n;
    }
    if moved > 0 {
        tracing::info!(entries = moved, "retention index moved to the store clock");
    }
    Ok(())
}

/// A [`Store`] handle that lets the store close when every `Store` is dropped.
pub(crate) struct WeakStore(Weak<Inner>);

impl WeakStore {
    /// The store, if it is still open.
    pub(crate) fn upgrade(&self) -> Option<Store> {
        self.0.upgrade().map(|inner| Store { inner })
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.closing.notify_one();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use fiscal_model::{
        CashMovement, CashMovementKind, Kopecks, OperationBody, OperationRequest, Routing,
    };

    use super::*;
    use crate::{NewOperation, OperationId, RegisterId};

    /// A cash in of 1.00 for register "r" under `id`.
    pub(crate) fn cash_in(id: &str) -> NewOperation {
        NewOperation {
            id: OperationId::new(id).unwrap(),
            register: RegisterId::new("r"),
            request: OperationRequest {
                body: OperationBody::Cash(CashMovement {
                    kind: CashMovementKind::In,
                    amount: Kopecks(100),
                }),
                routing: Routing::default(),
            },
        }
    }

    /// A store dropped on one thread while the same path is opened on another: the new one
    /// opens once the old one has let go of sled's file lock, instead of failing.
    #[test]
    fn a_store_opened_while_the_previous_one_closes_waits_for_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops");
        for _ in 0..20 {
            let old = Store::open(&path, StoreConfig::default()).unwrap();
            let start = Arc::new(std::sync::Barrier::new(2));
            let opener = std::thread::spawn({
                let (path, start) = (path.clone(), Arc::clone(&start));
                move || {
                    start.wait();
                    Store::open(&path, StoreConfig::default()).map(drop)
                }
            });
            start.wait();
            drop(old);
            opener.join().unwrap().unwrap();
        }
    }

    /// Out of file descriptors (or kernel memory), a round cannot open the directories it
    /// lists and syncs. Nothing written was touched: the writers wait (nothing is
    /// acknowledged meanwhile) and the round is tried again, however long it takes, without
    /// poisoning the store. 60 refusals is more than the tries after which it used to give up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn running_out_of_descriptors_delays_acknowledgements_and_poisons_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ops"), StoreConfig::default()).unwrap();
        store.submit(cash_in("before")).await.unwrap();
        let faults = store.open_faults();
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOMEM] {
            let name = format!("during-{errno}");
            faults.set(Some(errno));
            let refused = faults.refused();
            let submit = tokio::spawn({
                let (store, name) = (store.clone(), name.clone());
                async move { store.submit(cash_in(&name)).await }
            });
            let waiter = Arc::clone(&faults);
            let retried = tokio::task::spawn_blocking(move || {
                waiter.wait_refused(refused + 60, Duration::from_secs(60))
            })
            .await
            .unwrap();
            assert!(
                retried,
                "the rounds stopped after {} refused opens (errno {errno}); healthy: {:?}",
                faults.refused() - refused,
                store.healthy()
            );
            assert!(
                !submit.is_finished(),
                "acknowledged while out of descriptors"
            );
            assert!(store.healthy().is_ok(), "poisoned by errno {errno}");
            faults.set(None);
            submit.await.unwrap().unwrap();
            assert!(store.healthy().is_ok());
            assert!(store
                .get(&OperationId::new(name).unwrap())
                .unwrap()
                .is_some());
        }
        drop(store);
        let store = Store::open(&dir.path().join("ops"), StoreConfig::default()).unwrap();
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOMEM] {
            let id = OperationId::new(format!("during-{errno}")).unwrap();
            assert!(store.get(&id).unwrap().is_some());
        }
    }

    /// After a failed fsync the kernel may have dropped dirty pages; a later fsync that
    /// succeeds proves nothing about them. So one failed round ends all acknowledgements.
    #[tokio::test]
    async fn one_failed_sync_round_ends_all_acknowledgements() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ops"), StoreConfig::default()).unwrap();
        store.submit(cash_in("before")).await.unwrap();
        assert!(store.healthy().is_ok());

        store.fail_next_sync();
        assert!(store.submit(cash_in("during")).await.is_err());
        // The next round would succeed, and still nothing is acknowledged.
        assert!(store.submit(cash_in("after")).await.is_err());
        assert!(store.sync().await.is_err());
        assert!(store.healthy().is_err());
        // What was acknowledged before stays readable; nothing else changed, not even in
        // memory.
        let before = OperationId::new("before").unwrap();
        assert!(store.get(&before).unwrap().is_some());
        let after = OperationId::new("after").unwrap();
        assert!(store.get(&after).unwrap().is_none());
        let moved = store
            .transition(
                &before,
                OpState::Failed {
                    reason: crate::Reason {
                        code: "X".into(),
                        message: "x".into(),
                        device_error: None,
                    },
                },
                "test",
            )
            .await;
        assert!(moved.is_err());
        assert!(matches!(
            store.get(&before).unwrap().unwrap().state,
            OpState::Queued
        ));
    }
}
