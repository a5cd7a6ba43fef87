//! Retention: finished operations older than the configured age are deleted, walking the
//! finished-by-time index so that no unfinished operation is ever looked at.
//!
//! Once an operation is pruned its id is free again: a re-post after the retention window is
//! a new operation. The idempotency promise therefore holds for `StoreConfig::retention`
//! after an operation finished (30 days by default); unfinished operations are never pruned.

use std::time::Duration;

use chrono::Utc;

use crate::keys;
use crate::{Store, StoreError};

/// Keys deleted per batch, so the write lock is never held for long.
const PRUNE_CHUNK: usize = 512;

impl Store {
    /// Deletes Done and Failed operations that finished more than `older_than` ago; returns
    /// how many. Returns after the deletions are on stable storage.
    pub async fn prune(&self, older_than: Duration) -> Result<usize, StoreError> {
        let older_than = chrono::Duration::from_std(older_than)
            .unwrap_or_else(|_| chrono::Duration::days(365 * 1000));
        let cutoff = Utc::now()
            .checked_sub_signed(older_than)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        let cutoff_ms = cutoff.timestamp_millis();
        let start = keys::finished_prefix(0);
        let end = keys::finished_prefix(cutoff_ms.saturating_add(1));
        let mut pruned = Vec::new();
        let mut last_epoch = None;
        loop {
            let mut candidates = Vec::with_capacity(PRUNE_CHUNK);
            for entry in self
                .db()
                .range(start.clone()..end.clone())
                .take(PRUNE_CHUNK)
            {
                let (k, _) = entry.map_err(|e| StoreError::from_sled("scan finished", e))?;
                candidates.push(k);
            }
            if candidates.is_empty() {
                break;
            }
            let _guard = self.write_guard();
            let mut batch = sled::Batch::default();
            for key in &candidates {
                // The index key is removed in every case: otherwise an entry whose record is
                // gone or unreadable would be met again on every scan. An unreadable record
                // itself is kept; nothing is deleted that could not be checked.
                batch.remove(key.to_vec());
                let Some(id) = keys::id_of_finished_key(key)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|s| crate::OperationId::new(s).ok())
                else {
                    self.report_corrupt(key, "undecodable retention index entry");
                    continue;
                };
                let record_key = keys::record_key(&id);
                let op = match self.read(&record_key) {
                    Ok(Some(op)) => op,
                    Ok(None) | Err(StoreError::Corrupt(_)) => continue,
                    Err(e) => return Err(e),
                };
                let finished_before = op.state.is_finished()
                    && op
                        .processed_at
                        .is_some_and(|t| t.timestamp_millis() <= cutoff_ms);
                if !finished_before {
                    // Re-posted since (Failed → Queued): its index entries are its own.
                    continue;
                }
                for (k, _) in keys::index_entries(&op) {
                    batch.remove(k);
                }
                batch.remove(record_key);
                pruned.push(id);
            }
            self.db()
                .apply_batch(batch)
                .map_err(|e| StoreError::from_sled("prune", e))?;
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
