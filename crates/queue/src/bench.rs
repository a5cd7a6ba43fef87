//! Placeholder for the durable-submit benchmark.
