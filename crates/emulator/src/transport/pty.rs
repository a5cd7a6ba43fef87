//! The register on a pseudo-terminal, so a host opens it as it would a serial port.
//!
//! The emulator keeps the master and also one slave descriptor of its own: without it the
//! master reads EIO each time the last client closes the slave, and a host that reconnects
//! (as the driver does after a power cut) would find a dead line. The slave is put in raw
//! mode once; clients usually set their own line settings on top. An optional symlink gives
//! the slave a stable name for configurations and tests.

use std::path::{Path, PathBuf};

use tokio::task::JoinHandle;
use tokio_serial::{SerialPort, SerialStream};

use super::serve_stream_at;
use crate::handle::{Emulator, EmulatorError};

/// A register served on a pty. Dropping it stops serving and removes the symlink.
#[derive(Debug)]
pub struct PtyHandle {
    /// The slave device (`/dev/pts/N`).
    pub slave_path: PathBuf,
    /// The stable symlink to the slave, when one was asked for.
    pub link_path: Option<PathBuf>,
    task: JoinHandle<()>,
}

impl PtyHandle {
    /// The path a host should open: the symlink if there is one, else the slave.
    pub fn path(&self) -> &Path {
        self.link_path.as_deref().unwrap_or(&self.slave_path)
    }
}

impl Drop for PtyHandle {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(link) = &self.link_path {
            let _ = std::fs::remove_file(link);
        }
    }
}

impl Emulator {
    /// Serves the register on a new pty; `link` names a symlink to create (replacing an old
    /// one). Must be called inside a tokio runtime.
    pub fn serve_pty(&self, link: Option<&Path>) -> Result<PtyHandle, EmulatorError> {
        // The pair's slave is already in raw mode.
        let (master, slave) =
            SerialStream::pair().map_err(|e| EmulatorError::Pty(e.to_string()))?;
        let slave_path = PathBuf::from(
            slave
                .name()
                .ok_or_else(|| EmulatorError::Pty("the pty slave has no name".into()))?,
        );
        let link_path = match link {
            Some(link) => {
                let _ = std::fs::remove_file(link);
                std::os::unix::fs::symlink(&slave_path, link).map_err(|source| {
                    EmulatorError::Io {
                        what: format!("symlink {}", link.display()),
                        source,
                    }
                })?;
                Some(link.to_path_buf())
            }
            None => None,
        };
        let emulator = self.clone();
        let task = tokio::spawn(async move {
            // The slave is held for the life of the task (see the module note); its settings
            // are the host's: the speed the host opened the port at.
            let host_baud = move || slave.baud_rate().ok();
            if let Err(e) = serve_stream_at(emulator, master, host_baud).await {
                tracing::warn!("pty transport stopped: {e}");
            }
        });
        Ok(PtyHandle {
            slave_path,
            link_path,
            task,
        })
    }
}
