//! fiscal-gateway: the daemon's entry point.
fn main() {}
