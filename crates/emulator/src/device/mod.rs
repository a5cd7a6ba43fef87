//! The pure device model (in progress).
