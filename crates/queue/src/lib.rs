//! The durable, idempotent operation store of the gateway, on sled.
//!
//! An operation is stored under the client's `operationId` with the canonical hash of its
//! request; re-posting the same id answers from the store, a different payload under the same
//! id is a conflict. Every mutating call returns only after the change is on stable storage
//! (sled flush + fsync, shared by concurrent writers: group commit). Workers take operations
//! per register in submit order and move them through the state machine of
//! [`OpState::may_become`]; indexes on disk answer their queries without scanning all
//! operations, and finished operations are pruned after the retention window.
//!
//! It knows nothing about HTTP, JSON of the API, or registers beyond their ids.

#[cfg(feature = "bench")]
pub mod bench;
mod durability;
mod error;
mod keys;
mod operation;
mod retention;
mod signals;
mod store;

pub use error::{StoreError, SubmitError};
pub use keys::{MAX_NEW_RECORD_BYTES, MAX_RECORD_BYTES};
pub use operation::{
    payload_hash, Attempt, NewOperation, OpState, Operation, OperationId, OperationKind, Reason,
    RegisterId, Submitted, MAX_ID_CHARS, MAX_NOTE_BYTES, MAX_RECENT_ATTEMPTS,
};
pub use store::{Store, StoreConfig};
