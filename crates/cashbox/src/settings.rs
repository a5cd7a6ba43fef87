//! What a register's worker is told: typed settings, mapped from the configuration file by the
//! binary (this crate reads no TOML).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{FixedOffset, NaiveTime};
use fiscal_model::TaxGroupMap;
use serde::Deserialize;

/// One register.
#[derive(Debug, Clone)]
pub struct RegisterSettings {
    /// Cashbox id (GUID, lower case) used by the API's `cashboxId`.
    pub id: String,
    /// Optional cashbox group (GUID).
    pub group_id: Option<String>,
    /// Optional juridical person (GUID).
    pub juridical_person_id: Option<String>,
    /// Requests without routing go here.
    pub default: bool,
    /// How to reach the device.
    pub transport: TransportSettings,
    /// Link layer: standard, protocol 2.0, or detect.
    pub link_layer: LinkLayerSetting,
    /// Operator (cashier) password, for receipts and cash movements (§4: 1..28).
    pub operator_password: u32,
    /// System administrator password, for FN queries, tables and shift reports (§4: 30).
    pub admin_password: u32,
    /// The register clock's offset from UTC.
    pub utc_offset: FixedOffset,
    /// VAT rate → table-6 tax group.
    pub taxes: TaxGroupMap,
    /// Cashier printed on shift reports and receipts (tags 1021, 1203).
    pub cashier_name: String,
    /// Cashier INN (12 digits), optional.
    pub cashier_inn: Option<String>,
    /// Longest wait for one answer before asking the register with ENQ whether it is still
    /// working (§2.6 RECOVER); a register that says "busy" gets up to ten such waits, so slow
    /// reports still finish, while a register that lost power is noticed quickly.
    pub answer_timeout: Duration,
    /// How often an idle register is looked at (status, shift, OFD backlog) for the status
    /// page, the metrics and the shift policy.
    pub watch_interval: Duration,
    /// Shift policy.
    pub shift: ShiftPolicy,
    /// A marking code the check refuses: fail the receipt (default) or sell and report.
    pub marking_policy: driver::MarkingPolicy,
}

/// How the device is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportSettings {
    /// A serial port or USB CDC device; `baud: None` means detect.
    Serial { path: PathBuf, baud: Option<u32> },
    /// TCP (Ethernet, RNDIS, Wi-Fi models).
    Tcp { address: String },
    /// The built-in virtual register, state kept in this file.
    Emulator { state_file: PathBuf },
}

impl TransportSettings {
    /// What identifies the device: the port's real path (symlinks such as udev's resolved),
    /// the TCP address in lower case, or the emulator's state file.
    pub fn device_key(&self) -> String {
        fn real(path: &std::path::Path) -> String {
            std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
                .to_string()
        }
        match self {
            TransportSettings::Serial { path, .. } => format!("serial {}", real(path)),
            TransportSettings::Tcp { address } => format!("tcp {}", address.to_lowercase()),
            TransportSettings::Emulator { state_file } => format!("emulator {}", real(state_file)),
        }
    }
}

/// Link layer choice (protocol notes §2 and §2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkLayerSetting {
    /// Detect: protocol 2.0 ping first, then ENQ.
    Auto,
    /// ENQ/ACK/NAK, STX LEN … LRC.
    Standard,
    /// 0x8F numbered packets with CRC-16.
    V2,
}

/// When shifts open and close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftPolicy {
    /// Open a shift when an operation needs one.
    pub open_on_demand: bool,
    /// Close the shift with a Z report before the FN's 24-hour limit (and when it has passed).
    pub close_before_24h: bool,
    /// How long before the 24-hour limit.
    pub close_margin: Duration,
    /// Also close every day at this register-local time.
    pub daily_z_at: Option<NaiveTime>,
}

impl Default for ShiftPolicy {
    fn default() -> Self {
        ShiftPolicy {
            open_on_demand: true,
            close_before_24h: true,
            close_margin: Duration::from_secs(10 * 60),
            daily_z_at: None,
        }
    }
}

/// How the worker bounds an operation that cannot go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationPolicy {
    /// A register that cannot work holds an operation this long (from the start of the wait
    /// episode) before it fails with the reason.
    pub deadline: Duration,
    /// An operation refused this many times for the same reason that is not a waiting
    /// condition fails with it.
    pub max_repeats: u32,
}
