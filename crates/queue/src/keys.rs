//! The on-disk layout: one sled tree, key spaces told apart by a one-byte prefix, and the
//! versioned record encoding.
//!
//! ```text
//! o <id>                                   -> record (version byte + JSON of Operation)
//! p <reg len u16 BE> <reg> <seq u64 BE>    -> id     Queued | Waiting, FIFO per register
//! u <reg len u16 BE> <reg> <seq u64 BE>    -> id     Sending | Reconciling
//! n <reg len u16 BE> <reg> <seq u64 BE>    -> id     Done with not_printed
//! c <finished store clock ms u64 BE> <id>  -> ""     Done | Failed, for retention
//! m clock                                  -> u64 BE the store clock (see `retention`)
//! s <seq u64 BE>                           -> id     an operation submitted numbered, by its `seq`
//! d <sign u32 BE> <id>                     -> ""     numbered and Done with a fiscal document's sign
//! r <target len u16 BE> <target> <seq u64 BE> -> id  submitted referring to operation target
//! ```
//!
//! An operation referring to several targets (`refers_to` and `also_refers_to`) has one `r`
//! entry under each; they are written, moved and pruned together with its record.
//!
//! `s`, `d` and `r` answer the lookups of an API dialect that names documents by number and
//! by fiscal sign and ties a refund to its sale. Like the others they follow the record: they
//! are derived from it by [`index_entries`], so every write (submit, re-post, each transition,
//! whatever path makes an operation Done) and every prune changes them in the record's batch;
//! a re-post moves `s` and `r` to its new `seq`. Stores written before these key spaces
//! existed have none for their operations (no migration): such an operation gains its `s` and
//! `r` entries at its next change and a `d` entry only if it becomes Done after that, so the
//! lookups do not find what had finished before.
//!
//! Stores written before the store clock existed have `f <processed_at ms> <id>` entries
//! instead of `c`; `Store::open` moves them to `c 0 <id>` (finished at the clock's start).
//!
//! Everything lives in one tree so that a record and its index entries change in one atomic
//! `apply_batch`; the register is length-prefixed so that one register's prefix never matches
//! another's.

use fiscal_model::Completion;

use crate::{OpState, Operation, OperationId, RegisterId, StoreError};

/// The largest record a new operation may have (its request, hash and first history entry):
/// `submit` refuses a bigger one with [`crate::SubmitError::TooLarge`].
///
/// sled 0.34 writes a log message larger than a quarter of its segment (segments are 512 KiB
/// by default, so about 128 KiB) into a separate blob file instead of the log. Blobs are
/// written and synced apart from the log, so a store whose records all stay well inside the
/// log has one file to keep consistent instead of many. 64 KiB holds a receipt of several
/// hundred positions (the HTTP body limit is larger, so this is what a client meets first),
/// and leaves room for what the record gains later: a bounded history
/// ([`crate::MAX_RECENT_ATTEMPTS`] notes of at most [`crate::MAX_NOTE_BYTES`]) and the state
/// (snapshot, reason, fiscal result: a few hundred bytes to a few KiB).
///
/// A consolidated sled leaf holds up to 17 entries, so a leaf of several records near the
/// cap is still written as a blob; the group commit syncs blobs before the log for that case.
pub const MAX_NEW_RECORD_BYTES: usize = 64 * 1024;

/// The largest record the store writes at all (any change): 64 KiB of request, about 20 KiB
/// of bounded history (33 entries of at most 2 × 256 bytes of escaped note plus their time
/// and state name), and room for the state; still below the ~128 KiB at which sled would
/// move a single record out of its log. A change that would exceed it is refused with
/// [`StoreError::RecordTooLarge`] (not expected: the driver's snapshots and results are a
/// few KiB at most).
pub const MAX_RECORD_BYTES: usize = 96 * 1024;

/// Version byte in front of every record. Bump it when `Operation`'s serde form changes
/// incompatibly, and teach `decode_record` the old one.
pub(crate) const RECORD_VERSION: u8 = 1;

pub(crate) const RECORD: u8 = b'o';
pub(crate) const PENDING: u8 = b'p';
pub(crate) const UNSETTLED: u8 = b'u';
pub(crate) const NOT_PRINTED: u8 = b'n';
pub(crate) const FINISHED: u8 = b'c';
/// The retention index of stores written before the store clock: by wall-clock time.
pub(crate) const LEGACY_FINISHED: u8 = b'f';
/// Every operation by its `seq`.
pub(crate) const BY_SEQ: u8 = b's';
/// Done operations by the fiscal sign of their document.
pub(crate) const BY_SIGN: u8 = b'd';
/// Operations by the operation they refer to.
pub(crate) const REFERRING: u8 = b'r';
/// The store clock's key: the milliseconds the store has been open, over its whole life.
pub(crate) const CLOCK_KEY: &[u8] = b"mclock";

/// `o <id>`.
pub(crate) fn record_key(id: &OperationId) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.as_str().len());
    k.push(RECORD);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// `<space> <reg len> <reg>`: the prefix of one register in a per-register index.
pub(crate) fn register_prefix(space: u8, register: &RegisterId) -> Vec<u8> {
    // Register ids come from configuration and are short; a longer one is cut so the
    // length prefix stays honest (two such ids would share an index, never crash).
    length_prefixed(space, register.as_str().as_bytes())
}

/// `<space> <len u16 BE> <bytes>` with room for a `seq` after it; `bytes` is cut at
/// `u16::MAX`.
fn length_prefixed(space: u8, bytes: &[u8]) -> Vec<u8> {
    let bytes = &bytes[..bytes.len().min(u16::MAX as usize)];
    let mut k = Vec::with_capacity(1 + 2 + bytes.len() + 8);
    k.push(space);
    k.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    k.extend_from_slice(bytes);
    k
}

/// `s <seq>`.
pub(crate) fn seq_key(seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(BY_SEQ);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `d <sign>`: the prefix of the operations whose document carries fiscal sign `sign`.
pub(crate) fn sign_prefix(sign: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(5 + 16);
    k.push(BY_SIGN);
    k.extend_from_slice(&sign.to_be_bytes());
    k
}

/// `d <sign> <id>`.
pub(crate) fn sign_key(sign: u32, id: &OperationId) -> Vec<u8> {
    let mut k = sign_prefix(sign);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// The id part of a `d` key.
pub(crate) fn id_of_sign_key(key: &[u8]) -> Option<&[u8]> {
    key.get(5..)
}

/// `r <target len> <target>`: the prefix of the operations referring to `target`. Ids are at
/// most [`crate::MAX_ID_CHARS`] characters, so the length is never cut.
pub(crate) fn referring_prefix(target: &OperationId) -> Vec<u8> {
    length_prefixed(REFERRING, target.as_str().as_bytes())
}

/// `r <target len> <target> <seq>`.
pub(crate) fn referring_key(target: &OperationId, seq: u64) -> Vec<u8> {
    let mut k = referring_prefix(target);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The sign of the fiscal document a Done operation made: a receipt's (corrections complete
/// as receipts) or a shift report's it made itself. Cash movements make no fiscal document,
/// and a copy only reprints one that belongs to another operation.
pub(crate) fn fiscal_sign_of(state: &OpState) -> Option<u32> {
    match state {
        OpState::Done { completion } => match completion {
            Completion::Receipt(r) => Some(r.fiscal_sign),
            Completion::Shift(s) if s.made => s.fiscal_sign,
            Completion::Shift(_) | Completion::Cash(_) | Completion::Printed(_) => None,
        },
        _ => None,
    }
}

/// `<space> <reg len> <reg> <seq>`.
pub(crate) fn register_key(space: u8, register: &RegisterId, seq: u64) -> Vec<u8> {
    let mut k = register_prefix(space, register);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `c <clock ms> <id>`.
pub(crate) fn finished_key(clock_ms: u64, id: &OperationId) -> Vec<u8> {
    let mut k = finished_prefix(clock_ms);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// `c <clock ms>`: the bounds of a retention scan.
pub(crate) fn finished_prefix(clock_ms: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(FINISHED);
    k.extend_from_slice(&clock_ms.to_be_bytes());
    k
}

/// The id part of a `c` (or legacy `f`) key.
pub(crate) fn id_of_finished_key(key: &[u8]) -> Option<&[u8]> {
    key.get(9..)
}

/// The store clock's stored value.
pub(crate) fn decode_clock(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// Every index key `op` belongs under, with the value stored there.
pub(crate) fn index_entries(op: &Operation) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut value = vec![state_tag(&op.state)];
    value.extend_from_slice(op.id.as_str().as_bytes());
    let mut out = Vec::with_capacity(5);
    let id = op.id.as_str().as_bytes().to_vec();
    if op.by_number {
        out.push((seq_key(op.seq), id.clone()));
        if let Some(sign) = fiscal_sign_of(&op.state) {
            out.push((sign_key(sign, &op.id), Vec::new()));
        }
    }
    for target in op.refers_to.iter().chain(&op.also_refers_to) {
        let key = referring_key(target, op.seq);
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, id.clone()));
        }
    }
    let space = match &op.state {
        s if s.is_pending() => Some(PENDING),
        s if s.is_unsettled() => Some(UNSETTLED),
        s if s.is_not_printed() => Some(NOT_PRINTED),
        _ => None,
    };
    if let Some(space) = space {
        out.push((register_key(space, &op.register, op.seq), value));
    }
    if op.state.is_finished() {
        // Finished before the store clock existed: at its start.
        let clock_ms = op.finished_clock_ms.unwrap_or(0);
        out.push((finished_key(clock_ms, &op.id), Vec::new()));
    }
    out
}

/// Version byte + JSON.
pub(crate) fn encode_record(op: &Operation) -> Result<Vec<u8>, StoreError> {
    let mut v = vec![RECORD_VERSION];
    serde_json::to_writer(&mut v, op)
        .map_err(|e| StoreError::Corrupt(format!("operation {} cannot be encoded: {e}", op.id)))?;
    Ok(v)
}

/// The inverse of [`encode_record`]; the error says what was wrong, for the log.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<Operation, String> {
    match bytes.split_first() {
        Some((&RECORD_VERSION, json)) => {
            serde_json::from_slice(json).map_err(|e| format!("undecodable record: {e}"))
        }
        Some((v, _)) => Err(format!("unknown record version {v}")),
        None => Err("empty record".into()),
    }
}

/// One-byte state tag in front of the id in a per-register index value, so `depth` counts
/// states from the indexes alone.
fn state_tag(state: &OpState) -> u8 {
    match state {
        OpState::Queued => b'q',
        OpState::Waiting { .. } => b'w',
        OpState::Sending { .. } => b's',
        OpState::Reconciling { .. } => b'r',
        OpState::Done { .. } => b'd',
        OpState::Failed { .. } => b'f',
    }
}

/// The state name of an index value's tag.
pub(crate) fn state_name_of_tag(tag: u8) -> &'static str {
    match tag {
        b'q' => "queued",
        b'w' => "waiting",
        b's' => "sending",
        b'r' => "reconciling",
        b'd' => "done",
        b'f' => "failed",
        _ => "unknown",
    }
}

/// The register part of a per-register index key.
pub(crate) fn register_of_key(key: &[u8]) -> Option<RegisterId> {
    let len = u16::from_be_bytes([*key.get(1)?, *key.get(2)?]) as usize;
    let reg = key.get(3..3 + len)?;
    Some(RegisterId::new(std::str::from_utf8(reg).ok()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_registers_prefix_never_matches_another() {
        let short = register_prefix(PENDING, &RegisterId::new("r1"));
        let long = register_key(PENDING, &RegisterId::new("r10"), 5);
        assert!(!long.starts_with(&short));
        assert_eq!(register_of_key(&long), Some(RegisterId::new("r10")));
    }

    #[test]
    fn index_keys_sort_by_seq_and_finish_time() {
        let r = RegisterId::new("r");
        assert!(register_key(PENDING, &r, 255) < register_key(PENDING, &r, 256));
        let id = OperationId::new("z").unwrap();
        assert!(finished_key(999, &id) < finished_key(1000, &OperationId::new("a").unwrap()));
        assert_eq!(id_of_finished_key(&finished_key(5, &id)), Some(&b"z"[..]));
    }

    #[test]
    fn only_documents_an_operation_made_are_found_by_fiscal_sign() {
        use fiscal_model::{CopiedDocument, PrintResult, ShiftResult};
        let shift = |made, fiscal_sign| OpState::Done {
            completion: Completion::Shift(ShiftResult {
                shift_number: 1,
                fd_number: None,
                fiscal_sign,
                fn_number: "1".into(),
                rnm: "1".into(),
                date_time: None,
                made,
            }),
        };
        assert_eq!(fiscal_sign_of(&shift(true, Some(9))), Some(9));
        assert_eq!(fiscal_sign_of(&shift(false, Some(9))), None);
        assert_eq!(fiscal_sign_of(&shift(true, None)), None);
        let copy = OpState::Done {
            completion: Completion::Printed(PrintResult {
                copied: Some(CopiedDocument {
                    fd_number: 1,
                    fiscal_sign: 9,
                }),
                date_time: None,
            }),
        };
        assert_eq!(fiscal_sign_of(&copy), None);
        assert_eq!(fiscal_sign_of(&OpState::Queued), None);
    }

    #[test]
    fn a_target_prefix_never_matches_another_target() {
        let short = referring_prefix(&OperationId::new("sale").unwrap());
        let long = referring_key(&OperationId::new("sale-2").unwrap(), 1);
        assert!(!long.starts_with(&short));
        assert!(seq_key(255) < seq_key(256));
        let id = OperationId::new("x").unwrap();
        assert_eq!(id_of_sign_key(&sign_key(7, &id)), Some(&b"x"[..]));
        assert!(sign_key(7, &id).starts_with(&sign_prefix(7)));
    }

    #[test]
    fn records_carry_their_version() {
        assert_eq!(decode_record(b"").unwrap_err(), "empty record");
        assert!(decode_record(b"\x02{}").unwrap_err().contains("version 2"));
        assert!(decode_record(b"\x01{").unwrap_err().contains("undecodable"));
    }
}
