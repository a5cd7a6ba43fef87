//! Retention: finished operations older than the configured age are deleted, walking the
//! finished-by-age index so that no unfinished operation is ever looked at.
//!
//! Once an operation is pruned its id is free again: a re-post after the retention window is
//! a new operation. The idempotency promise therefore holds for `StoreConfig::retention`
//! after an operation finished (30 days by default); unfinished operations are never pruned.
//!
//! Age is asked of two clocks, and an operation is deleted only when both say it is old:
//!
//! - the wall clock (`processed_at` against the `now` given to [`Store::prune_at`]), which
//!   the PC's owner, NTP or a dead CMOS battery may move by any amount;
//! - the store clock (`finished_clock_ms` against the store's own clock, see `store`): the
//!   milliseconds the store has been open, on the monotonic clock, stored with every write.
//!   It cannot jump; it stands still while the gateway is not running.
//!
//! So a wall clock corrected a year forward prunes nothing that finished within the window
//! of running time, and a wall clock set back keeps everything until it is past again. The
//! price: on a PC switched off at night operations are kept longer than the window by the
//! wall clock (a PC on 10 hours a day keeps 30 days of running time, about 72 calendar days),
//! which only widens the idempotency window. The index is ordered by the store clock, so a
//! prune reads only entries the store clock already finds old; one the wall clock still finds
//! young is skipped and met again at the next prune.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::keys;
use crate::{Store, StoreError};

/// Keys looked at per batch, so the write lock is never held for long.
const PRUNE_CHUNK: usize = 512;

impl Store {
    /// Deletes Done and Failed operations that finished more than `older_than` ago, by the
    /// wall clock now and by the store clock; returns how many. Returns after the deletions
    /// are on stable storage.
    pub async fn prune(&self, older_than: Duration) -> Result<usize, StoreError> {
        self.prune_at(older_than, Utc::now()).await
    }

    /// [`Store::prune`] with the wall clock reading `now`.
    pub async fn prune_at(
        &self,
        older_than: Duration,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let wall_cutoff_ms = chrono::Duration::from_std(older_than)
            .ok()
            .and_then(|age| now.checked_sub_signed(age))
            .map_or(i64::MIN, |t| t.timestamp_millis());
        let older_than_ms = u64::try_from(older_than.as_millis()).unwrap_or(u64::MAX);
        let mut pruned = Vec::new();
        let mut last_epoch = None;
        let mut start = keys::finished_prefix(0);
        loop {
            let _guard = self.write_guard();
            // Read under the write lock: every stamp stored so far is at most this.
            let Some(clock_cutoff) = self.clock_ms().checked_sub(older_than_ms) else {
                break; // the store has not been open that long: nothing is old enough
            };
            let end = keys::finished_prefix(clock_cutoff.saturating_add(1));
            let mut candidates = Vec::with_capacity(PRUNE_CHUNK);
            for entry in self.db().range(start.clone()..end).take(PRUNE_CHUNK) {
                let (k, _) = entry.map_err(|e| StoreError::from_sled("scan finished", e))?;
                candidates.push(k);
            }
            let Some(last) = candidates.last() else {
                break;
            };
            // The next chunk starts after this one: entries kept below are not met again.
            start = last.to_vec();
            start.push(0);
            let mut batch = sled::Batch::default();
            let mut changed = false;
            for key in &candidates {
                let Some(id) = keys::id_of_finished_key(key)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|s| crate::OperationId::new(s).ok())
                else {
                    self.report_corrupt(key, "undecodable retention index entry");
                    batch.remove(key.to_vec());
                    changed = true;
                    continue;
                };
                let record_key = keys::record_key(&id);
                let op = match self.read(&record_key) {
                    Ok(Some(op)) => op,
                    // The entry goes, or it would be met on every scan; an unreadable
                    // record itself is kept: nothing is deleted that could not be checked.
                    Ok(None) | Err(StoreError::Corrupt(_)) => {
                        batch.remove(key.to_vec());
                        changed = true;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let entries = keys::index_entries(&op);
                if !op.state.is_finished() || !entries.iter().any(|(k, _)| *k == **key) {
                    // Re-posted since (Failed → Queued): its index entries are its own.
                    batch.remove(key.to_vec());
                    changed = true;
                    continue;
                }
                let old_by_the_wall = op
                    .processed_at
                    .is_some_and(|t| t.timestamp_millis() <= wall_cutoff_ms);
                if !old_by_the_wall {
                    continue; // young by the wall clock: kept, met again at the next prune
                }
                for (k, _) in entries {
                    batch.remove(k);
                }
                batch.remove(record_key);
                pruned.push(id);
                changed = true;
            }
            if changed {
                self.apply_with_clock(batch)?;
                last_epoch = Some(self.epoch_after_batch()?);
            }
        }
        // The store clock is stored with every write; this keeps it current while nothing
        // else is written (the time since the last write is lost in a crash).
        if last_epoch.is_none() {
            let _guard = self.write_guard();
            self.apply_with_clock(sled::Batch::default())?;
            last_epoch = Some(self.epoch_after_batch()?);
        }
        if let Some(epoch) = last_epoch {
            self.wait_epoch(epoch).await?;
        }
        for id in &pruned {
            self.notify_watchers(id);
        }
        Ok(pruned.len())
    }

    /// Prunes with the configured retention every `every` (the first time at once), in a
    /// tokio task, until the store is dropped; it holds no strong handle, so it never keeps
    /// the store open. Errors are logged and retried at the next tick.
    pub fn spawn_retention(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = self.downgrade();
        let retention = self.config().retention;
        let closing = self.closing();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(Duration::from_millis(1)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = closing.notified() => break,
                }
                let Some(store) = weak.upgrade() else { break };
                match store.prune(retention).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "old finished operations deleted"),
                    Err(e) => tracing::error!(error = %e, "pruning old operations failed"),
                }
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {

    use super::*;
    use crate::{OpState, OperationId, Reason, StoreConfig};

    const DAY: Duration = Duration::from_secs(86_400);
    const RETENTION: Duration = Duration::from_secs(30 * 86_400);

    fn id(s: &str) -> OperationId {
        OperationId::new(s).unwrap()
    }

    async fn finished(store: &Store, name: &str) {
        store
            .submit(crate::store::tests::cash_in(name))
            .await
            .unwrap();
        let failed = OpState::Failed {
            reason: Reason {
                code: "X".into(),
                message: "x".into(),
                device_error: None,
            },
        };
        store
            .transition(&id(name), failed, "done with")
            .await
            .unwrap();
    }

    fn present(store: &Store, name: &str) -> bool {
        store.get(&id(name)).unwrap().is_some()
    }

    /// "old" finished 40 days of running time ago, "recent" just now. The wall clock given to
    /// prune jumps a year ahead (a PC clock corrected forward): by the wall both are a year
    /// old, by the store clock only "old" is; only "old" goes. The store clock survives a
    /// reopen, so the same holds after a restart.
    #[tokio::test]
    async fn a_wall_clock_a_year_ahead_prunes_only_what_the_store_clock_finds_old() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops");
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        finished(&store, "old-1").await;
        finished(&store, "old-2").await;
        store.advance_clock(40 * DAY);
        finished(&store, "recent").await;
        drop(store);

        let store = Store::open(&path, StoreConfig::default()).unwrap();
        let year_ahead = Utc::now() + chrono::Duration::days(365);
        assert_eq!(store.prune_at(RETENTION, year_ahead).await.unwrap(), 2);
        assert!(!present(&store, "old-1"));
        assert!(!present(&store, "old-2"));
        assert!(present(&store, "recent"));
        // Pruning again changes nothing; the year-ahead clock never catches "recent" until
        // the store has run for the window.
        assert_eq!(store.prune_at(RETENTION, year_ahead).await.unwrap(), 0);
        assert!(present(&store, "recent"));
        store.advance_clock(31 * DAY);
        assert_eq!(store.prune_at(RETENTION, year_ahead).await.unwrap(), 1);
        assert!(!present(&store, "recent"));
    }

    /// Both clocks must agree: a wall clock set back (or an operation whose wall time is
    /// recent) keeps an operation the store clock finds old.
    #[tokio::test]
    async fn an_operation_young_by_the_wall_clock_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ops"), StoreConfig::default()).unwrap();
        finished(&store, "a").await;
        store.advance_clock(40 * DAY);
        assert_eq!(store.prune_at(RETENTION, Utc::now()).await.unwrap(), 0);
        assert!(present(&store, "a"));
        let year_back = Utc::now() - chrono::Duration::days(365);
        assert_eq!(store.prune_at(RETENTION, year_back).await.unwrap(), 0);
        assert!(present(&store, "a"));
        let later = Utc::now() + chrono::Duration::days(31);
        assert_eq!(store.prune_at(RETENTION, later).await.unwrap(), 1);
        assert!(!present(&store, "a"));
    }

    /// A store written before the store clock existed has its retention index by wall time
    /// (`f`). Opening it moves the entries to the clock's start: they are kept for the
    /// window of running time from the upgrade, then pruned.
    #[tokio::test]
    async fn entries_of_a_store_written_before_the_store_clock_are_moved_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops");
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        finished(&store, "legacy").await;
        // Make it look as the previous version wrote it: no stamp, a wall-time `f` entry.
        let key = keys::record_key(&id("legacy"));
        let mut op = store.get(&id("legacy")).unwrap().unwrap();
        op.finished_clock_ms = None;
        let processed_ms = op.processed_at.unwrap().timestamp_millis() as u64;
        let mut legacy = vec![keys::LEGACY_FINISHED];
        legacy.extend_from_slice(&processed_ms.to_be_bytes());
        legacy.extend_from_slice(b"legacy");
        let mut batch = sled::Batch::default();
        for (k, _) in keys::index_entries(&store.get(&id("legacy")).unwrap().unwrap()) {
            batch.remove(k);
        }
        batch.insert(key, keys::encode_record(&op).unwrap());
        batch.insert(legacy.clone(), Vec::new());
        batch.remove(keys::CLOCK_KEY);
        store.db().apply_batch(batch).unwrap();
        store.sync().await.unwrap();
        drop(store);

        let store = Store::open(&path, StoreConfig::default()).unwrap();
        assert!(store.db().get(&legacy).unwrap().is_none());
        let year_ahead = Utc::now() + chrono::Duration::days(365);
        assert_eq!(store.prune_at(RETENTION, year_ahead).await.unwrap(), 0);
        assert!(present(&store, "legacy"));
        store.advance_clock(31 * DAY);
        assert_eq!(store.prune_at(RETENTION, year_ahead).await.unwrap(), 1);
        assert!(!present(&store, "legacy"));
    }
}
