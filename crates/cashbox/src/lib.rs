//! What runs one fiscal register: the worker that takes its operations from the queue and
//! keeps the two promises, its shift policy, how it connects, and the view of it the status
//! page, `/health` and the metrics read.
//!
//! The worker's decisions are pure ([`decide`]): facts and the time in, the next step out,
//! tested without a runtime. The worker ([`Worker`]) is the shell that reads the facts from the
//! register and the store and does what was decided. Every state and reason a register can be
//! in is named once, in [`condition`]. Time comes from a [`clock::Clock`], so tests run the
//! worker on tokio's paused clock.

pub mod checkup;
pub mod clock;
pub mod condition;
pub mod connect;
pub mod control;
pub mod decide;
pub mod health;
pub mod metrics;
pub mod settings;
pub mod shift;
mod worker;

pub use clock::{Clock, SharedClock, SystemClock, TokioClock};
pub use condition::{Condition, RegisterState};
pub use connect::Connector;
pub use control::{Claim, ClaimOutcome, Control, ControlError, Requests};
pub use health::{new_health, oldest_pending, Halt, Health, RecentOperation, RegisterHealth};
pub use settings::{
    LinkLayerSetting, OperationPolicy, RegisterSettings, ShiftPolicy, TransportSettings,
};
pub use shift::{ShiftClock, SHIFT_LIMIT, SHIFT_OPENING_SEARCH};
pub use worker::Worker;
