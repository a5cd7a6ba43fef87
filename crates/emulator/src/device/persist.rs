//! The state file, an append-only log of JSON lines. Each line holds the FN documents
//! committed since the previous line plus a snapshot of the rest of the state (counters,
//! shift, open receipt, registers, tables), and is fsynced before `execute` returns. A power
//! cut mid-write leaves a torn last line, which loading ignores: the state is then exactly
//! the previous one, documents included, so a line is applied entirely or not at all.
//!
//! Appending keeps the cost per command independent of the archive size; every
//! [`COMPACT_AFTER`] lines (and on open) the log is rewritten as a single line through a
//! temporary file, fsync and rename. Also here: the append-only tape file next to it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::state::FnDocument;
use super::{DeviceError, DeviceState};

/// Lines appended before the log is compacted into one.
const COMPACT_AFTER: usize = 2048;

/// One line of the log.
#[derive(Serialize, Deserialize)]
struct Record {
    /// Documents committed since the previous line.
    docs: Vec<FnDocument>,
    /// Everything else; its archive is empty.
    state: DeviceState,
}

/// Writer side of the state file.
#[derive(Debug)]
pub struct StateLog {
    path: PathBuf,
    /// Documents of the archive already in the file.
    persisted_docs: usize,
    /// Lines in the file.
    lines: usize,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DeviceError + '_ {
    move |source| DeviceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path) -> impl FnOnce(serde_json::Error) -> DeviceError + '_ {
    move |source| DeviceError::Corrupt {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the state file; `None` when it does not exist yet.
pub fn load(path: &Path) -> Result<Option<DeviceState>, DeviceError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut docs = Vec::new();
    let mut last_state = None;
    let mut lines = bytes.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let complete = lines.peek().is_some();
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => {
                docs.extend(record.docs);
                last_state = Some(record.state);
            }
            // The last line without its newline is a write cut short by a power loss.
            Err(_) if !complete => break,
            Err(e) => return Err(corrupt(path)(e)),
        }
    }
    let Some(mut state) = last_state else {
        // Content but no complete line: not a state file written by this model.
        let e = serde_json::from_slice::<Record>(&bytes).err();
        return match e {
            Some(e) => Err(corrupt(path)(e)),
            None => Ok(None),
        };
    };
    state.fiscal_storage.archive = docs;
    Ok(Some(state))
}

impl StateLog {
    /// A writer for `path`; call [`StateLog::rewrite`] before appending.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            persisted_docs: 0,
            lines: 0,
        }
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the changes since the last write (compacting now and then).
    pub fn append(&mut self, state: &mut DeviceState) -> Result<(), DeviceError> {
        if self.lines >= COMPACT_AFTER || self.persisted_docs > state.fiscal_storage.archive.len() {
            return self.rewrite(state);
        }
        let line = self.line(state, self.persisted_docs)?;
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_error(&self.path))?;
        file.write_all(&line).map_err(io_error(&self.path))?;
        file.sync_data().map_err(io_error(&self.path))?;
        self.persisted_docs = state.fiscal_storage.archive.len();
        self.lines += 1;
        Ok(())
    }

    /// Replaces the file by a single line with the whole state, atomically and durably.
    pub fn rewrite(&mut self, state: &mut DeviceState) -> Result<(), DeviceError> {
        let line = self.line(state, 0)?;
        let tmp = sibling(&self.path, ".tmp");
        {
            let mut file = File::create(&tmp).map_err(io_error(&tmp))?;
            file.write_all(&line).map_err(io_error(&tmp))?;
            file.sync_all().map_err(io_error(&tmp))?;
        }
        fs::rename(&tmp, &self.path).map_err(io_error(&self.path))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself is only durable once the directory entry is synced.
            if let Ok(dir_file) = File::open(dir) {
                dir_file.sync_all().map_err(io_error(dir))?;
            }
        }
        self.persisted_docs = state.fiscal_storage.archive.len();
        self.lines = 1;
        Ok(())
    }

    /// Serialises documents from `first_doc` on plus the state without its archive.
    fn line(&self, state: &mut DeviceState, first_doc: usize) -> Result<Vec<u8>, DeviceError> {
        let archive = std::mem::take(&mut state.fiscal_storage.archive);
        let record = Record {
            docs: archive.get(first_doc..).unwrap_or(&[]).to_vec(),
            state: state.clone(),
        };
        state.fiscal_storage.archive = archive;
        let mut line = serde_json::to_vec(&record).map_err(corrupt(&self.path))?;
        line.push(b'\n');
        Ok(line)
    }
}

/// Appends printed text to `<state file>.tape.txt`.
pub fn append_tape(state_file: &Path, text: &str) -> Result<(), DeviceError> {
    if text.is_empty() {
        return Ok(());
    }
    let path = sibling(state_file, ".tape.txt");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_error(&path))?;
    file.write_all(text.as_bytes()).map_err(io_error(&path))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
