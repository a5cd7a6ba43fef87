//! How the driver talks to one register: link layer, timings, passwords, print waiting.

use std::time::Duration;

use shtrih_proto::link::LinkConfig;

use crate::transport::LinkLayerChoice;

/// What the driver does with a marking code the check refuses (tag 2106 by the vendor's rule,
/// or the FN's own negative check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarkingPolicy {
    /// Reject the code (FF69 0), cancel the receipt, fail it naming the position.
    #[default]
    RefuseInvalid,
    /// Accept the code anyway and sell; the result is reported per position.
    SellAndReport,
}

/// Typed options for [`crate::Register::connect`]. Defaults follow the protocol notes.
#[derive(Debug, Clone)]
pub struct RegisterOptions {
    /// Which link layer to speak (§2 / §2.9).
    pub link: LinkLayerChoice,
    /// T_byte, T_ctrl and retry counts (§2.4 defaults); use 2–3 s T_ctrl over TCP.
    pub link_config: LinkConfig,
    /// Operator (cashier) password for receipts, cash and status (§4: rows 1..28; default 1).
    pub operator_password: u32,
    /// Administrator password for X/Z reports (§4: row 29 or 30; default 30).
    pub admin_password: u32,
    /// System administrator password for FN queries, TLVs and tables (§4, §6.6 class 3; default 30).
    pub sysadmin_password: u32,
    /// Caps every command's answer timeout (§2.4 recommends 3 s … 120 s); `None` keeps the
    /// per-command defaults. Tests against an emulator with no delays set it small.
    pub answer_timeout_cap: Option<Duration>,
    /// Answer timeout of the marking commands FF61 and FF67, which [`Self::answer_timeout_cap`]
    /// does not shorten: the register may wait table 19.8 for the marking server (5 s by
    /// default) and then work with the FN (addendum §4.1). `None` keeps the vendor driver's
    /// 40 s.
    pub marking_answer_timeout: Option<Duration>,
    /// What a marking code the check refuses does to its receipt (addendum §4.2).
    pub marking_policy: MarkingPolicy,
    /// First interval between 0x10 polls while the register prints (§9.2: poll, don't pause 3 s).
    pub print_poll_first: Duration,
    /// Largest interval between 0x10 polls while printing.
    pub print_poll_max: Duration,
    /// Longest wait for a print to finish before giving up waiting (the document is done anyway).
    pub print_wait_limit: Duration,
}

impl Default for RegisterOptions {
    fn default() -> RegisterOptions {
        RegisterOptions {
            link: LinkLayerChoice::Auto,
            link_config: LinkConfig::default(),
            operator_password: 1,
            admin_password: 30,
            sysadmin_password: 30,
            answer_timeout_cap: None,
            marking_answer_timeout: None,
            marking_policy: MarkingPolicy::default(),
            print_poll_first: Duration::from_millis(20),
            print_poll_max: Duration::from_millis(300),
            print_wait_limit: Duration::from_secs(120),
        }
    }
}
