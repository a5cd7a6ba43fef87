//! The technician's checkup of one register: what is read off it ([`Facts`], [`read`]) and
//! the judgement of those facts ([`evaluate`]): a list of [`Check`]s graded ✓ / ! / ✗ with one
//! line of advice each. The judgement does no I/O, so every rule has a unit test; the
//! `selftest` command connects, reads and prints.

mod judge;

use chrono::{NaiveDate, NaiveDateTime};
use driver::{Register, RegisterError, TaxTable};
use serde::Serialize;

pub use judge::{evaluate, OFD_BLOCK_DAYS};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// Fine.
    Ok,
    /// Works now, but needs attention soon.
    Warn,
    /// The register cannot work, or will be fined: fix before use.
    Fail,
}

impl Grade {
    /// The mark in the table.
    pub fn mark(self) -> &'static str {
        match self {
            Grade::Ok => "✓",
            Grade::Warn => "!",
            Grade::Fail => "✗",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier (JSON consumers key on it).
    pub id: &'static str,
    /// What was checked, for people.
    pub title: &'static str,
    /// What was found.
    pub value: String,
    /// ✓ / ! / ✗ (`verdict` in the JSON report).
    #[serde(rename = "verdict")]
    pub grade: Grade,
    /// What to do about it (empty when fine).
    pub advice: String,
}

/// Everything read off one register.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// "serial /dev/ttyACM0 at 115200, standard link" or similar.
    pub link: String,
    /// Model name.
    pub model: String,
    /// Firmware version and build.
    pub firmware: String,
    /// KKT serial number.
    pub kkt_serial: String,
    /// FN number.
    pub fn_number: String,
    /// FN phase as the FN reports it, and whether it is the fiscal-mode phase.
    pub fn_phase: String,
    /// `true` when the FN is in fiscal mode (registered, not closed).
    pub fn_fiscal_mode: bool,
    /// FN expiry date.
    pub fn_expiry: Option<NaiveDate>,
    /// FFD version, e.g. "1.2".
    pub ffd_version: String,
    /// Registration number.
    pub rnm: String,
    /// Taxpayer INN.
    pub inn: String,
    /// Shift state: open, closed, expired (over 24 h).
    pub shift: ShiftFacts,
    /// Paper present.
    pub paper_present: bool,
    /// Cover open.
    pub cover_open: bool,
    /// Print head lever down (working position).
    pub lever_down: bool,
    /// The register's clock.
    pub register_clock: Option<NaiveDateTime>,
    /// The PC's clock in the register's zone, read at the same moment.
    pub pc_clock: Option<NaiveDateTime>,
    /// Documents not yet sent to the OFD.
    pub ofd_unsent: Option<u32>,
    /// The oldest unsent document's time.
    pub ofd_oldest: Option<NaiveDateTime>,
    /// Table 6 as read at connection, with the model number its codes depend on.
    pub tax_table: TaxTable,
}

/// The shift as found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShiftFacts {
    /// Open (including expired).
    pub open: bool,
    /// Open for 24 h or more: documents are refused until a Z report.
    pub expired: bool,
    /// Shift number.
    pub number: Option<u32>,
    /// When it was opened (register time), if known.
    pub opened_at: Option<NaiveDateTime>,
}

/// Reads everything the checkup judges from a connected register. `link` says how it was
/// reached; `pc_clock` is this PC's time in the register's zone, read now. Only reads.
pub async fn read(
    r: &mut Register,
    link: String,
    pc_clock: Option<NaiveDateTime>,
) -> Result<Facts, RegisterError> {
    let id = r.identity().await?;
    let fn_status = r.fn_status().await?;
    let status = r.status().await?;
    let register_clock = r.clock_now().await.ok();
    let mode = status.mode_number();
    let open = fn_status.shift_open || matches!(mode, 2 | 3);
    let mut shift = ShiftFacts {
        open,
        expired: mode == 3,
        number: None,
        opened_at: None,
    };
    if open {
        shift.opened_at = r.shift_opened_at(crate::SHIFT_OPENING_SEARCH).await?;
    }
    let (ofd_unsent, ofd_oldest) = match r.ofd_backlog().await {
        Ok(b) => (Some(b.unsent), b.oldest),
        Err(_) => (None, None),
    };
    let phase = fn_status.phase();
    Ok(Facts {
        link,
        model: id.model,
        firmware: id.firmware,
        kkt_serial: id.kkt_serial,
        fn_number: id.fn_number,
        fn_phase: phase.russian(),
        fn_fiscal_mode: phase == driver::FnPhase::Fiscal,
        fn_expiry: id.fn_expiry,
        ffd_version: id.ffd_version,
        rnm: id.rnm,
        inn: id.inn,
        shift,
        paper_present: status.paper_present(),
        cover_open: status.cover_open(),
        lever_down: status.lever_down(),
        register_clock,
        pc_clock,
        ofd_unsent,
        ofd_oldest,
        // Table 6 as the driver read it at connection: what receipts are coded by.
        tax_table: r.tax_table().clone(),
    })
}
