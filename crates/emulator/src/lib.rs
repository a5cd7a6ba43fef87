//! A virtual Shtrih-M fiscal register with an FN, for tests, benchmarks and newcomers
//! without hardware.
//!
//! Pure device model (`device`) + device-side link layers + transports (pty, TCP, in-memory)
//! + fault injection. It uses `shtrih-proto` only to encode and decode frames; commands are
//! parsed and answers built here, independently of the host's decoders.

pub mod device;
