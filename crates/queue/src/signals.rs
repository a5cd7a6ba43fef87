//! The store's wake-ups, in memory only: a worker sleeps on its register's work signal until
//! there is work, a long-polling client on its operation's watch until the operation changes.
//! The store notifies both after a change is on stable storage, never before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::store::lock;
use crate::{OperationId, RegisterId};

/// Work signals per register and watches per operation.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// One per register that has been asked for; a permit waits for a worker not yet asleep.
    work: Mutex<HashMap<RegisterId, Arc<Notify>>>,
    /// One per operation with `wait_change` callers; removed with its last caller.
    watchers: Mutex<HashMap<OperationId, Watcher>>,
}

#[derive(Debug)]
struct Watcher {
    notify: Arc<Notify>,
    waiters: usize,
}

impl Signals {
    /// The work signal of `register`.
    pub(crate) fn work(&self, register: &RegisterId) -> Arc<Notify> {
        Arc::clone(
            lock(&self.work)
                .entry(register.clone())
                .or_insert_with(|| Arc::new(Notify::new())),
        )
    }

    /// How many callers watch `id` now.
    pub(crate) fn watching(&self, id: &OperationId) -> usize {
        lock(&self.watchers).get(id).map_or(0, |w| w.waiters)
    }

    /// Wakes the callers watching `id`.
    pub(crate) fn notify_watchers(&self, id: &OperationId) {
        if let Some(w) = lock(&self.watchers).get(id) {
            w.notify.notify_waiters();
        }
    }

    /// Registers an interest in `id`'s changes until the guard is dropped.
    pub(crate) fn watch(&self, id: &OperationId) -> WatchGuard<'_> {
        let mut watchers = lock(&self.watchers);
        let w = watchers.entry(id.clone()).or_insert_with(|| Watcher {
            notify: Arc::new(Notify::new()),
            waiters: 0,
        });
        w.waiters += 1;
        let notify = Arc::clone(&w.notify);
        WatchGuard {
            signals: self,
            id: id.clone(),
            notify,
        }
    }
}

/// A registered interest in one id's changes; unregisters on drop.
pub(crate) struct WatchGuard<'a> {
    signals: &'a Signals,
    id: OperationId,
    /// Notified (all waiters) when the operation changes.
    pub(crate) notify: Arc<Notify>,
}

impl Drop for WatchGuard<'_> {
    fn drop(&mut self) {
        let mut watchers = lock(&self.signals.watchers);
        if let Some(w) = watchers.get_mut(&self.id) {
            w.waiters = w.waiters.saturating_sub(1);
            if w.waiters == 0 {
                watchers.remove(&self.id);
            }
        }
    }
}
