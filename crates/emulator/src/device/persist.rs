//! The state file: JSON of the whole non-volatile state, replaced atomically (temporary file,
//! fsync, rename, fsync of the directory) so that a power cut leaves either the old or the new
//! state, never a torn one. Also the append-only tape file next to it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{DeviceError, DeviceState};

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DeviceError + '_ {
    move |source| DeviceError::Io {
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
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| DeviceError::Corrupt {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes the state file atomically and durably.
pub fn save(path: &Path, state: &DeviceState) -> Result<(), DeviceError> {
    let bytes = serde_json::to_vec(state).map_err(|source| DeviceError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    let tmp = sibling(path, ".tmp");
    {
        let mut file = File::create(&tmp).map_err(io_error(&tmp))?;
        file.write_all(&bytes).map_err(io_error(&tmp))?;
        file.sync_all().map_err(io_error(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_error(path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself is only durable once the directory entry is synced.
        if let Ok(dir_file) = File::open(dir) {
            dir_file.sync_all().map_err(io_error(dir))?;
        }
    }
    Ok(())
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
