//! What the synchronous dialects (SmartOne, CashDesk) share: a document stored on one
//! register under an operationId the dialect derives, and a wait for it to finish bounded by
//! the dialect's answer limit. Each dialect turns the outcomes into its own error shape.

use fiscal_model::{OperationBody, OperationRequest, Routing};
use queue::{
    NewOperation, OpState, Operation, OperationId, RegisterId, Store, StoreError, SubmitError,
    Submitted,
};
use tokio::time::Instant;

/// How many times one key of a dialect (a CashDesk `local_number`, a SmartOne document) may be
/// tried after failures, each of which fiscalized nothing: attempt `n` is stored under the
/// key's `n`-th operationId. Past that the POS must send the document under another key.
pub const MAX_ATTEMPTS: u32 = 100;

/// The operation of a key's last attempt: attempts 1, 2, … are looked up until one is not
/// stored; `None` when the first is not.
pub fn latest_attempt<E>(
    store: &Store,
    id_of: impl Fn(u32) -> Result<OperationId, E>,
    store_error: impl Fn(StoreError) -> E,
) -> Result<Option<Operation>, E> {
    let mut latest = None;
    for attempt in 1..=MAX_ATTEMPTS {
        match store.get(&id_of(attempt)?).map_err(&store_error)? {
            Some(op) => latest = Some(op),
            None => break,
        }
    }
    Ok(latest)
}

/// Why a document was not stored.
#[derive(Debug)]
pub enum NotStored {
    /// Its record would be larger than the store keeps.
    TooLarge(String),
    /// The store failed; the document may have been stored (repeat the same request).
    Store(StoreError),
}

/// Stores `body` for `register` under `id` (referring to each of `targets`; found by its
/// number and fiscal sign too when `numbered`). `Ok(Ok)`: stored now or before with the
/// same body (as it is now); `Ok(Err)`: `id` holds another body.
pub async fn submit(
    store: &Store,
    id: OperationId,
    register: &str,
    body: OperationBody,
    targets: &[&OperationId],
    numbered: bool,
) -> Result<Result<Operation, Operation>, NotStored> {
    let new = NewOperation {
        id,
        register: RegisterId::new(register.to_string()),
        request: OperationRequest {
            body,
            routing: Routing {
                cashbox_id: Some(register.to_string()),
                ..Routing::default()
            },
        },
    };
    let submitted = match (numbered, targets) {
        (true, targets) => store.submit_numbered(new, targets).await,
        (false, []) => store.submit(new).await,
        (false, targets) => store.submit_referring(new, targets).await,
    };
    match submitted {
        Ok(Submitted::Created(op) | Submitted::Existing(op) | Submitted::Requeued(op)) => {
            Ok(Ok(op))
        }
        Err(SubmitError::Conflict { existing }) => Ok(Err(existing)),
        Err(e @ SubmitError::TooLarge { .. }) => Err(NotStored::TooLarge(e.to_string())),
        Err(SubmitError::Store(e)) => Err(NotStored::Store(e)),
    }
}

/// Why a wait ended without a finished operation.
#[derive(Debug)]
pub enum Unfinished {
    /// `deadline` came first; the operation goes on (as it is now).
    InProgress(Box<Operation>),
    /// The store failed.
    Store(StoreError),
    /// The operation is no longer stored.
    Vanished,
}

/// `op` once Done or Failed, or [`Unfinished::InProgress`] at `deadline`.
pub async fn finish(
    store: &Store,
    mut op: Operation,
    deadline: Instant,
) -> Result<Operation, Unfinished> {
    while !op.state.is_finished() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Unfinished::InProgress(Box::new(op)));
        }
        op = store
            .wait_change(&op.id, left)
            .await
            .map_err(Unfinished::Store)?
            .ok_or(Unfinished::Vanished)?;
    }
    Ok(op)
}

/// Why an operation still in progress waits, in the register's words, when it does.
pub fn waiting_reason(op: &Operation) -> Option<&queue::Reason> {
    match &op.state {
        OpState::Waiting { reason, .. } => Some(reason),
        _ => None,
    }
}
