//! A [`Desk`] for the API tests: facts, a document answer and a settlement answer set by the
//! test, and every call it received.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use gateway_http::{
    ArchivedDocument, CashboxFacts, ClaimedOutcome, Desk, DeskError, DeskFuture, DeskHandle,
    SettleClaim,
};
use queue::{OpState, OperationId, Store};

/// What the fake answers, and what it was asked.
pub struct FakeDesk {
    /// `cashboxes()`.
    pub facts: Mutex<Vec<CashboxFacts>>,
    /// `document()`'s answer, whatever is asked.
    pub document: Mutex<Result<ArchivedDocument, DeskError>>,
    /// `settle()`'s answer.
    pub settle: Mutex<Result<(), DeskError>>,
    /// The documents asked for: (cashbox, fd).
    pub documents_asked: Mutex<Vec<(String, u32)>>,
    /// The settlements asked for: (operation, claim).
    pub claims: Mutex<Vec<(String, SettleClaim)>>,
    /// When set, a "not done" settlement that succeeds queues the operation again in it, as
    /// the worker would.
    pub store: Mutex<Option<Arc<Store>>>,
}

impl FakeDesk {
    pub fn new(facts: Vec<CashboxFacts>) -> FakeDesk {
        FakeDesk {
            facts: Mutex::new(facts),
            document: Mutex::new(Err(DeskError::NotFound("нет такого документа".into()))),
            settle: Mutex::new(Ok(())),
            documents_asked: Mutex::new(Vec::new()),
            claims: Mutex::new(Vec::new()),
            store: Mutex::new(None),
        }
    }

    pub fn handle(self: &Arc<Self>) -> DeskHandle {
        DeskHandle(self.clone())
    }
}

impl Desk for FakeDesk {
    fn cashboxes(&self) -> Vec<CashboxFacts> {
        self.facts.lock().unwrap().clone()
    }

    fn document(
        &self,
        cashbox: &str,
        fd: u32,
    ) -> DeskFuture<'_, Result<ArchivedDocument, DeskError>> {
        self.documents_asked
            .lock()
            .unwrap()
            .push((cashbox.to_string(), fd));
        let answer = self.document.lock().unwrap().clone();
        Box::pin(async move { answer })
    }

    fn settle(&self, operation: &str, claim: SettleClaim) -> DeskFuture<'_, Result<(), DeskError>> {
        let not_done = claim.outcome == ClaimedOutcome::NotDone;
        self.claims
            .lock()
            .unwrap()
            .push((operation.to_string(), claim));
        let answer = self.settle.lock().unwrap().clone();
        let operation = operation.to_string();
        let store = self.store.lock().unwrap().clone();
        Box::pin(async move {
            if let (Ok(()), Some(store), true) = (&answer, store, not_done) {
                let id = OperationId::new(operation).unwrap();
                store
                    .transition(&id, OpState::Queued, "test: settled not done")
                    .await
                    .unwrap();
            }
            answer
        })
    }
}
