//! The store's errors. Every variant means "not stored / not known": the HTTP layer answers
//! 503 for every [`StoreError`] and never acknowledges an operation that met one;
//! [`SubmitError::TooLarge`] is the client's (413).

use crate::Operation;

/// Why the store could not read or durably write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// An I/O error other than the ones below (the message names the call that failed).
    #[error("operation store I/O error: {0}")]
    Io(String),
    /// The disk is full (ENOSPC / EDQUOT).
    #[error("operation store disk is full: {0}")]
    Full(String),
    /// The process may not read or write the store's directory (EACCES / EPERM / EROFS).
    #[error("operation store is not writable: {0}")]
    Permission(String),
    /// A record or the store itself could not be decoded.
    #[error("operation store record is corrupt: {0}")]
    Corrupt(String),
    /// The store was shut down (or its sync thread is gone): nothing more can be written.
    #[error("operation store is closed")]
    Closed,
    /// An operation id that is empty, too long or contains control characters.
    #[error("invalid operation id: {0}")]
    InvalidId(String),
    /// A change would make the record larger than [`crate::MAX_RECORD_BYTES`]; nothing was
    /// written.
    #[error(
        "operation {id}: its record would be {bytes} bytes, more than the {limit} the store keeps"
    )]
    RecordTooLarge {
        /// The operation.
        id: String,
        /// The size the record would have had.
        bytes: usize,
        /// [`crate::MAX_RECORD_BYTES`].
        limit: usize,
    },
    /// `transition` was asked about an id the store does not hold.
    #[error("operation {0} not found")]
    NotFound(String),
    /// `transition` was asked for a move the state machine forbids (e.g. Done → Queued).
    #[error("operation {id}: {from} → {to} is not allowed")]
    InvalidTransition {
        /// The operation.
        id: String,
        /// Its current state name.
        from: &'static str,
        /// The refused target state name.
        to: &'static str,
    },
}

impl StoreError {
    /// Classifies an I/O error by its OS error code; `what` names the failed call.
    pub(crate) fn from_io(what: &str, e: &std::io::Error) -> StoreError {
        let msg = format!("{what}: {e}");
        match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => StoreError::Full(msg),
            Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS) => {
                StoreError::Permission(msg)
            }
            _ if e.kind() == std::io::ErrorKind::PermissionDenied => StoreError::Permission(msg),
            _ => StoreError::Io(msg),
        }
    }

    /// Classifies a sled error.
    pub(crate) fn from_sled(what: &str, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) => StoreError::from_io(what, &io),
            sled::Error::Corruption { at, .. } => {
                StoreError::Corrupt(format!("{what}: sled corruption at {at:?}"))
            }
            other => StoreError::Io(format!("{what}: {other}")),
        }
    }
}

/// Why `submit` did not store the operation.
#[derive(Debug, Clone, thiserror::Error)]
#[allow(clippy::large_enum_variant)] // conflicts are rare; the API shows the stored operation
pub enum SubmitError {
    /// The id is known with a different payload (the API's 422); the stored operation is given.
    #[error("operation {} already exists with a different payload", existing.id)]
    Conflict {
        /// The operation stored under that id.
        existing: Operation,
    },
    /// The operation is too large to store (its record would exceed
    /// [`crate::MAX_NEW_RECORD_BYTES`]); nothing was stored. The client's fault: the API
    /// answers 413 (or 400), and the same request will always meet the same answer.
    #[error(
        "operation is too large to store: its record would be {bytes} bytes, at most {limit} \
         allowed (send fewer or shorter positions)"
    )]
    TooLarge {
        /// The size the record would have had, in bytes.
        bytes: usize,
        /// [`crate::MAX_NEW_RECORD_BYTES`].
        limit: usize,
    },
    /// The store failed; nothing was acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(errno: i32) -> StoreError {
        StoreError::from_io("write", &std::io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn os_errors_become_the_variants_operators_act_on() {
        assert!(matches!(classify(libc::ENOSPC), StoreError::Full(_)));
        assert!(matches!(classify(libc::EDQUOT), StoreError::Full(_)));
        assert!(matches!(classify(libc::EACCES), StoreError::Permission(_)));
        assert!(matches!(classify(libc::EROFS), StoreError::Permission(_)));
        assert!(matches!(classify(libc::EIO), StoreError::Io(_)));
        let sled_io = sled::Error::Io(std::io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(matches!(
            StoreError::from_sled("flush", sled_io),
            StoreError::Full(_)
        ));
    }
}
