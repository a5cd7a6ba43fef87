//! Shtrih-M fiscal register protocol, sans-IO.
//!
//! Bytes and `now` go in, bytes to write, deadlines and events come out. This crate has no
//! tokio, no serial port and never reads a clock: the `driver` crate pumps it over a real
//! byte stream, tests pump it against a device model in memory with simulated time.
//!
//! Section numbers (§2.6 …) cite the protocol notes the layouts come from.

pub mod command;
pub mod error;
pub mod frame;
pub mod link;
pub mod text;
pub mod tlv;
