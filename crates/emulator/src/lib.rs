//! A virtual Shtrih-M fiscal register with an FN, for tests, benchmarks and newcomers
//! without hardware.
//!
//! Pure device model (`device`) + device-side link layers (`link`) + transports (pty, TCP,
//! in-memory) + fault injection (`faults`), all behind one shared `Emulator` handle, with a
//! control channel and a command line for running it as its own process. It does not depend
//! on `shtrih-proto`: frames, link layers, command parsing and answers are all built here,
//! independently of the host's encoders and decoders, so a host-side bug is not mirrored.

pub mod cli;
pub mod control;
pub mod device;
pub mod faults;
pub mod handle;
pub mod link;
pub mod transport;

pub use control::{ControlCommand, ControlHandle, StatusReport};
pub use faults::{CutPoint, LineFaults, Noise, PowerCut};
pub use handle::{Counters, Emulator, EmulatorConfig, EmulatorError};
pub use link::{LinkChoice, LinkPhase, LinkTiming};
pub use transport::{serve_stream, PtyHandle};
