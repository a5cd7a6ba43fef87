//! The names of the event metrics the worker records through the `metrics` facade (the
//! binary installs the recorder and renders them with the state metrics).

/// Metric names.
pub mod names {
    /// Counter: finished operations, labels `register`, `kind`, `result` (done / failed).
    pub const OPERATIONS: &str = "fiscal_operations_total";
    /// Histogram: seconds from the first command to the register's answer, label `register`.
    pub const FISCALIZATION_SECONDS: &str = "fiscal_fiscalization_seconds";
    /// Counter: register refusals, labels `register`, `code` (stable English code).
    pub const DEVICE_ERRORS: &str = "fiscal_device_errors_total";
}
