//! Configuration: read once at start-up from TOML into typed values ("parse, don't
//! validate"). Every mistake names its key path and what was expected.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use cashbox::settings::{LinkLayerSetting, RegisterSettings, ShiftPolicy, TransportSettings};
use chrono::{FixedOffset, NaiveTime};
use fiscal_model::{TaxGroup, TaxGroupMap, VatRate};
use serde::Deserialize;

/// Environment variable that overrides `auth.hs256_secret`, so the secret need not be in a file.
pub const SECRET_ENV: &str = "FISCAL_GATEWAY_HS256_SECRET";

/// The whole configuration, typed.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP API listens on (default 127.0.0.1:5897: local only).
    pub listen: SocketAddr,
    /// Request body limit in bytes.
    pub body_limit: usize,
    /// Longest `wait` a checkStatus long poll may ask for.
    pub max_wait: Duration,
    /// Host names and addresses the `Host` header may name besides localhost, 127.0.0.1,
    /// `[::1]` and the listen address (normalised; 421 otherwise).
    pub allowed_hosts: Vec<String>,
    /// Most HTTP connections open at once.
    pub max_connections: usize,
    /// Longest time from a request's first byte to the end of its head.
    pub header_timeout: Duration,
    /// Longest time a connection stays open without a request in flight.
    pub idle_timeout: Duration,
    /// JWT verification keys.
    pub auth: AuthSettings,
    /// Where the operation store lives.
    pub data_dir: PathBuf,
    /// Finished operations are kept (and idempotent) this long.
    pub retention: Duration,
    /// A not-ready register holds an operation this long before it fails with the reason.
    pub operation_deadline: Duration,
    /// The same refusal (not a waiting condition) this many times fails the operation.
    pub operation_max_repeats: u32,
    /// Registers, at least one; exactly one is the default when several are configured.
    pub registers: Vec<RegisterSettings>,
    /// Per register (same index as `registers`), the seller a rendered receipt names
    /// (`registers[].seller_*`); what is not configured is left out of the receipt.
    pub sellers: Vec<gateway_http::Seller>,
    /// Logs as JSON lines instead of human-readable text.
    pub log_json: bool,
    /// The SmartOne Cashbox dialect's listener, when `[smartone]` is configured.
    pub smartone: Option<SmartOneSettings>,
    /// The CashDesk v2 dialect on the API's listener, when a register has a
    /// `cashdesk_num_fiscal` (and `[cashdesk] enabled` is not false).
    pub cashdesk: Option<gateway_http::cashdesk::CashDeskConfig>,
}

/// `[smartone]`: the SmartOne Cashbox dialect on a listener of its own.
#[derive(Debug, Clone)]
pub struct SmartOneSettings {
    /// Where it listens (default 127.0.0.1:8008, as SmartOne Cashbox).
    pub listen: SocketAddr,
    /// The dialect's settings: merchantIDs and their registers, limits, policies.
    pub dialect: gateway_http::smartone::SmartOneConfig,
}

/// JWT keys.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// HS256 shared secret.
    pub hs256_secret: Option<String>,
    /// RS256 / ES256 public key files.
    pub public_key_files: Vec<PathBuf>,
    /// Their PEM text, read by [`Config::load`] (not by [`Config::parse`], which reads no
    /// file).
    pub public_keys_pem: Vec<(PathBuf, String)>,
    /// Required `iss` claim, if set.
    pub issuer: Option<String>,
    /// Required `aud` claim, if set.
    pub audience: Option<String>,
}

impl AuthSettings {
    /// Reads the PEM text of every public key file.
    pub fn read_public_keys(&mut self) -> Result<(), ConfigError> {
        self.public_keys_pem.clear();
        for (i, file) in self.public_key_files.iter().enumerate() {
            let pem = std::fs::read_to_string(file).map_err(|e| {
                err(
                    format!("auth.public_key_files[{i}]"),
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            self.public_keys_pem.push((file.clone(), pem));
        }
        Ok(())
    }
}

/// A configuration mistake, with the key path it is about.
#[derive(Debug)]
pub struct ConfigError {
    /// Key path, e.g. `registers[0].transport.path`.
    pub path: String,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

fn err(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.into(),
        message: message.into(),
    }
}

// ---- the file format -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    auth: RawAuth,
    storage: RawStorage,
    #[serde(default)]
    operations: RawOperations,
    #[serde(default)]
    registers: Vec<RawRegister>,
    #[serde(default)]
    logging: RawLogging,
    smartone: Option<RawSmartOne>,
    cashdesk: Option<RawCashDesk>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCashDesk {
    enabled: Option<bool>,
    /// Kopecks the cash part is rounded to: "10" (default) or "50" (also as numbers).
    rounding: Option<RawRounding>,
    answer_within_seconds: Option<u64>,
    /// As `[smartone] taxation`.
    taxation: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRounding {
    Number(u64),
    Word(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmartOne {
    listen: Option<String>,
    /// The default register's merchantID.
    merchant_id: Option<String>,
    answer_within_seconds: Option<u64>,
    /// "counter_provision" (default) or "refuse".
    bonuses: Option<String>,
    unique_without_doc_time: Option<bool>,
    /// "osn" (default), "usn_income", "usn_income_outcome", "esn", "patent".
    taxation: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    body_limit_kib: Option<usize>,
    max_wait_seconds: Option<u64>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    max_connections: Option<usize>,
    header_timeout_seconds: Option<u64>,
    idle_timeout_seconds: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    hs256_secret: Option<String>,
    #[serde(default)]
    public_key_files: Vec<PathBuf>,
    issuer: Option<String>,
    audience: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    data_dir: PathBuf,
    retention_days: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOperations {
    deadline_seconds: Option<u64>,
    max_repeats: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    #[serde(default)]
    json: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    id: String,
    group_id: Option<String>,
    juridical_person_id: Option<String>,
    #[serde(default)]
    default: bool,
    transport: RawTransport,
    link_layer: Option<LinkLayerSetting>,
    operator_password: Option<u32>,
    admin_password: Option<u32>,
    utc_offset: Option<String>,
    /// API VAT code (1..14, see README) → tax group 1..6.
    taxes: Option<std::collections::BTreeMap<String, u8>>,
    cashier_name: Option<String>,
    cashier_inn: Option<String>,
    answer_timeout_seconds: Option<u64>,
    watch_seconds: Option<u64>,
    /// "refuse" (default) or "sell": what an invalid marking code does to its receipt.
    invalid_marking_code: Option<String>,
    #[serde(default)]
    shift: RawShift,
    /// The merchantID whose SmartOne requests go to this register.
    smartone_merchant_id: Option<String>,
    /// The seller's name, INN, address and place of settlement as a rendered receipt
    /// (`GET /v1.0/receipts/{operationId}`) shows them.
    seller_name: Option<String>,
    seller_inn: Option<String>,
    seller_address: Option<String>,
    seller_place: Option<String>,
    /// The register's fiscal number in the CashDesk dialect.
    cashdesk_num_fiscal: Option<u64>,
    /// SHA-256 digests (hex) of the CashDesk tokens it accepts.
    cashdesk_api_tokens: Option<Vec<String>>,
    /// CashDesk tax letter → VAT rate ("22", "20", "10", "7", "5", "0", "none").
    cashdesk_letters: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
enum RawTransport {
    Serial {
        path: PathBuf,
        baud: Option<RawBaud>,
    },
    Tcp {
        address: String,
    },
    Emulator {
        state_file: Option<PathBuf>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawBaud {
    Number(u32),
    Word(String),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawShift {
    open_on_demand: Option<bool>,
    close_before_24h: Option<bool>,
    close_margin_minutes: Option<u64>,
    daily_z_at: Option<String>,
}

/// Default of `registers[].watch_seconds`.
pub const DEFAULT_WATCH_SECONDS: u64 = 30;
/// `operations.max_repeats` when not given: the same refusal three times fails an operation.
pub const DEFAULT_MAX_REPEATS: u32 = 3;

/// Default of `registers[].answer_timeout_seconds`.
pub const DEFAULT_ANSWER_TIMEOUT_SECONDS: u64 = 5;

/// Baud rates of protocol notes §1.1.
pub const BAUD_RATES: [u32; 10] = [
    2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
];

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("", format!("cannot read {}: {e}", path.display())))?;
        let mut config = Config::parse(&text, std::env::var(SECRET_ENV).ok())?;
        config.auth.read_public_keys()?;
        Ok(config)
    }

    /// The configuration of `serve --emulator`: one virtual register `id` with its state in
    /// `data_dir`, the development `secret`, every other value the file format's default.
    pub fn emulator(
        id: &str,
        data_dir: &Path,
        secret: &str,
        deadline_seconds: Option<u64>,
    ) -> Result<Config, ConfigError> {
        let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
        let path = |p: &Path| quoted(&p.display().to_string());
        let mut text = format!(
            "[auth]\nhs256_secret = {}\n[storage]\ndata_dir = {}\n",
            quoted(secret),
            path(data_dir)
        );
        if let Some(seconds) = deadline_seconds {
            text.push_str(&format!("[operations]\ndeadline_seconds = {seconds}\n"));
        }
        text.push_str(&format!(
            "[[registers]]\nid = {}\nlink_layer = \"standard\"\ntransport = {{ kind = \"emulator\", state_file = {} }}\n",
            quoted(id),
            path(&data_dir.join("emulator.json"))
        ));
        // The seller the virtual register is registered to (its table 18), so that a receipt
        // rendered by the gateway names the same one as the register's own tape.
        text.push_str(&format!(
            "seller_name = {}\nseller_inn = \"7700000000\"\nseller_address = {}\n",
            quoted("ООО \"ТЕСТОВЫЙ МАГАЗИН\""),
            quoted("г. Москва, ул. Примерная, д. 1")
        ));
        Config::parse(&text, None)
    }

    /// Parses configuration text; `secret_override` replaces `auth.hs256_secret`.
    pub fn parse(text: &str, secret_override: Option<String>) -> Result<Config, ConfigError> {
        let raw: RawConfig = serde_path_to_error::deserialize(toml::Deserializer::new(text))
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let at = inner
                    .span()
                    .map(|span| {
                        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                        format!(" (line {line})")
                    })
                    .unwrap_or_default();
                let path = if path == "." { String::new() } else { path };
                err(path, format!("{}{at}", inner.message().trim_end()))
            })?;
        let listen_text = raw
            .server
            .listen
            .unwrap_or_else(|| "127.0.0.1:5897".to_string());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            err(
                "server.listen",
                format!("expected IP:PORT such as 127.0.0.1:5897, got {listen_text:?}"),
            )
        })?;
        let body_limit = raw
            .server
            .body_limit_kib
            .unwrap_or(256)
            .saturating_mul(1024);
        if body_limit == 0 {
            return Err(err("server.body_limit_kib", "must be at least 1"));
        }
        let max_wait = Duration::from_secs(raw.server.max_wait_seconds.unwrap_or(60));
        let mut allowed_hosts = Vec::new();
        for (i, host) in raw.server.allowed_hosts.iter().enumerate() {
            allowed_hosts.push(
                gateway_http::AllowedHosts::entry(host)
                    .map_err(|e| err(format!("server.allowed_hosts[{i}]"), e))?,
            );
        }
        let max_connections = raw
            .server
            .max_connections
            .unwrap_or(gateway_http::ServeLimits::DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 {
            return Err(err("server.max_connections", "must be at least 1"));
        }
        let seconds = |key: &str, value: Option<u64>, default: Duration| match value {
            None => Ok(default),
            Some(0) => Err(err(format!("server.{key}"), "must be at least 1")),
            Some(n) => Ok(Duration::from_secs(n)),
        };
        let header_timeout = seconds(
            "header_timeout_seconds",
            raw.server.header_timeout_seconds,
            gateway_http::ServeLimits::DEFAULT_HEADER_TIMEOUT,
        )?;
        let idle_timeout = seconds(
            "idle_timeout_seconds",
            raw.server.idle_timeout_seconds,
            gateway_http::ServeLimits::DEFAULT_IDLE_TIMEOUT,
        )?;

        let hs256_secret = secret_override
            .or(raw.auth.hs256_secret)
            .filter(|s| !s.is_empty());
        if let Some(secret) = &hs256_secret {
            if secret.len() < 32 {
                return Err(err("auth.hs256_secret", "must be at least 32 characters"));
            }
        }
        let claim = |key: &str, value: Option<String>| match value {
            Some(v) if v.trim().is_empty() => Err(err(
                format!("auth.{key}"),
                "must not be empty (leave the key out to accept any)",
            )),
            other => Ok(other),
        };
        let issuer = claim("issuer", raw.auth.issuer)?;
        let audience = claim("audience", raw.auth.audience)?;
        if hs256_secret.is_none() && raw.auth.public_key_files.is_empty() {
            return Err(err("auth", format!("set hs256_secret (or the {SECRET_ENV} environment variable) or public_key_files: the API never runs without authentication")));
        }

        let data_dir = raw.storage.data_dir;
        let retention = Duration::from_secs(
            raw.storage
                .retention_days
                .unwrap_or(30)
                .saturating_mul(86_400),
        );
        let operation_deadline =
            Duration::from_secs(raw.operations.deadline_seconds.unwrap_or(600));
        let operation_max_repeats = raw.operations.max_repeats.unwrap_or(DEFAULT_MAX_REPEATS);
        if operation_max_repeats == 0 {
            return Err(err("operations.max_repeats", "must be at least 1"));
        }

        if raw.registers.is_empty() {
            return Err(err(
                "registers",
                "at least one [[registers]] entry is required",
            ));
        }
        let merchant_ids: Vec<Option<String>> = raw
            .registers
            .iter()
            .map(|r| r.smartone_merchant_id.clone())
            .collect();
        let mut desks = Vec::new();
        for (i, r) in raw.registers.iter().enumerate() {
            if let Some(desk) = cashdesk_register(i, r)? {
                desks.push((i, desk));
            }
        }
        let mut registers = Vec::new();
        let mut sellers = Vec::new();
        for (i, r) in raw.registers.into_iter().enumerate() {
            let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
            sellers.push(gateway_http::Seller {
                name: given(&r.seller_name),
                inn: given(&r.seller_inn),
                address: given(&r.seller_address),
                place: given(&r.seller_place),
            });
            registers.push(register(i, r, &data_dir)?);
        }
        for (i, r) in registers.iter().enumerate() {
            if registers[..i].iter().any(|o| o.id == r.id) {
                return Err(err(
                    format!("registers[{i}].id"),
                    format!("{} is used twice", r.id),
                ));
            }
        }
        // One device under two ids would have two workers, each settling the other's
        // documents from counters it does not own: refused, also through two paths to one port.
        let devices: Vec<String> = registers.iter().map(|r| r.transport.device_key()).collect();
        for (i, key) in devices.iter().enumerate() {
            if let Some(first) = devices[..i].iter().position(|k| k == key) {
                return Err(err(
                    format!("registers[{i}].transport"),
                    format!("the same device as registers[{first}] ({key})"),
                ));
            }
        }
        let defaults = registers.iter().filter(|r| r.default).count();
        if defaults > 1 {
            return Err(err(
                "registers",
                "only one register may have default = true",
            ));
        }
        if defaults == 0 && registers.len() == 1 {
            if let Some(only) = registers.first_mut() {
                only.default = true;
            }
        }
        let smartone = match raw.smartone {
            None => None,
            Some(raw_smartone) => Some(smartone(raw_smartone, &merchant_ids, &registers)?),
        };
        let cashdesk = cashdesk(raw.cashdesk, desks, &registers)?;
        Ok(Config {
            cashdesk,
            smartone,
            listen,
            body_limit,
            max_wait,
            allowed_hosts,
            max_connections,
            header_timeout,
            idle_timeout,
            auth: AuthSettings {
                hs256_secret,
                public_key_files: raw.auth.public_key_files,
                public_keys_pem: Vec::new(),
                issuer,
                audience,
            },
            data_dir,
            retention,
            operation_deadline,
            operation_max_repeats,
            registers,
            sellers,
            log_json: raw.logging.json,
        })
    }
}

/// The default listen address of `[smartone]`, SmartOne Cashbox's own.
pub const SMARTONE_LISTEN: &str = "127.0.0.1:8008";

fn smartone(
    raw: RawSmartOne,
    merchant_ids: &[Option<String>],
    registers: &[RegisterSettings],
) -> Result<SmartOneSettings, ConfigError> {
    use gateway_http::smartone::{Bonuses, Merchant, SmartOneConfig};
    let listen_text = raw.listen.unwrap_or_else(|| SMARTONE_LISTEN.to_string());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        err(
            "smartone.listen",
            format!("expected IP:PORT such as {SMARTONE_LISTEN}, got {listen_text:?}"),
        )
    })?;
    let mut merchants = Vec::new();
    let mut add = |path: String, id: &str, register: &str| {
        let id = id.trim();
        if id.len() < 8 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(
                path,
                "must be at least 8 characters without spaces (the merchantID issued for the register)",
            ));
        }
        if merchants.iter().any(|m: &Merchant| m.merchant_id == id) {
            return Err(err(path, "is used twice"));
        }
        merchants.push(Merchant {
            merchant_id: id.to_string(),
            register: register.to_string(),
        });
        Ok(())
    };
    for (i, id) in merchant_ids.iter().enumerate() {
        if let (Some(id), Some(register)) = (id, registers.get(i)) {
            add(
                format!("registers[{i}].smartone_merchant_id"),
                id,
                &register.id,
            )?;
        }
    }
    if let Some(id) = &raw.merchant_id {
        let default = registers.iter().find(|r| r.default).ok_or_else(|| {
            err(
                "smartone.merchant_id",
                "needs a default register (default = true) to send its documents to",
            )
        })?;
        add("smartone.merchant_id".into(), id, &default.id)?;
    }
    if merchants.is_empty() {
        return Err(err(
            "smartone.merchant_id",
            "set it (or registers[].smartone_merchant_id): requests are verified with it",
        ));
    }
    let mut config = SmartOneConfig::new(merchants);
    match raw.answer_within_seconds {
        Some(0) => return Err(err("smartone.answer_within_seconds", "must be at least 1")),
        Some(n) => config.answer_within = Duration::from_secs(n),
        None => {}
    }
    config.bonuses = match raw.bonuses.as_deref() {
        None | Some("counter_provision") => Bonuses::CounterProvision,
        Some("refuse") => Bonuses::Refuse,
        Some(other) => {
            return Err(err(
                "smartone.bonuses",
                format!("expected \"counter_provision\" or \"refuse\", got {other:?}"),
            ))
        }
    };
    if let Some(on) = raw.unique_without_doc_time {
        config.unique_without_doc_time = on;
    }
    if let Some(t) = raw.taxation.as_deref() {
        config.taxation = taxation("smartone.taxation", t)?;
    }
    Ok(SmartOneSettings {
        listen,
        dialect: config,
    })
}

/// A register's CashDesk keys: its `num_fiscal`, token digests and letters (none without a
/// `cashdesk_num_fiscal`).
fn cashdesk_register(
    i: usize,
    r: &RawRegister,
) -> Result<Option<gateway_http::cashdesk::CashDesk>, ConfigError> {
    use gateway_http::cashdesk::{CashDesk, Letters};
    let p = |k: &str| format!("registers[{i}].{k}");
    let Some(num_fiscal) = r.cashdesk_num_fiscal else {
        for (key, set) in [
            ("cashdesk_api_tokens", r.cashdesk_api_tokens.is_some()),
            ("cashdesk_letters", r.cashdesk_letters.is_some()),
        ] {
            if set {
                return Err(err(p(key), "needs cashdesk_num_fiscal"));
            }
        }
        return Ok(None);
    };
    if num_fiscal == 0 {
        return Err(err(p("cashdesk_num_fiscal"), "must be more than 0"));
    }
    let mut token_digests = Vec::new();
    for (k, text) in r.cashdesk_api_tokens.iter().flatten().enumerate() {
        let key = p(&format!("cashdesk_api_tokens[{k}]"));
        let bytes = hex::decode(text.trim()).map_err(|_| {
            err(&key, "expected the SHA-256 digest of a token as 64 hex digits (printf %s TOKEN | sha256sum)")
        })?;
        let digest: [u8; 32] = bytes.try_into().map_err(|_| {
            err(&key, "expected the SHA-256 digest of a token as 64 hex digits (printf %s TOKEN | sha256sum)")
        })?;
        token_digests.push(digest);
    }
    if token_digests.is_empty() {
        return Err(err(
            p("cashdesk_api_tokens"),
            "at least one token digest is required: requests are checked against them",
        ));
    }
    let letters = match &r.cashdesk_letters {
        None => Letters::default(),
        Some(table) => {
            let mut pairs = Vec::new();
            for (letter, rate) in table {
                let key = p(&format!("cashdesk_letters.\"{letter}\""));
                let vat = Letters::parse_rate(rate).ok_or_else(|| {
                    err(&key, format!("expected \"22\", \"20\", \"10\", \"7\", \"5\", \"0\" or \"none\", got {rate:?}"))
                })?;
                pairs.push((letter.clone(), vat));
            }
            Letters::new(pairs).map_err(|e| err(p("cashdesk_letters"), e))?
        }
    };
    Ok(Some(CashDesk {
        num_fiscal,
        register: String::new(),
        token_digests,
        letters,
    }))
}

/// `[cashdesk]` over the registers' CashDesk keys: on when a register has a `num_fiscal`
/// unless `enabled = false`.
fn cashdesk(
    raw: Option<RawCashDesk>,
    mut desks: Vec<(usize, gateway_http::cashdesk::CashDesk)>,
    registers: &[RegisterSettings],
) -> Result<Option<gateway_http::cashdesk::CashDeskConfig>, ConfigError> {
    use gateway_http::cashdesk::{CashDeskConfig, Rounding};
    for (i, desk) in desks.iter_mut() {
        if let Some(register) = registers.get(*i) {
            desk.register = register.id.clone();
        }
    }
    for (k, (i, desk)) in desks.iter().enumerate() {
        if desks[..k]
            .iter()
            .any(|(_, d)| d.num_fiscal == desk.num_fiscal)
        {
            return Err(err(
                format!("registers[{i}].cashdesk_num_fiscal"),
                format!("{} is used twice", desk.num_fiscal),
            ));
        }
    }
    let enabled = raw.as_ref().and_then(|r| r.enabled).unwrap_or(true);
    if !enabled {
        return Ok(None);
    }
    if desks.is_empty() {
        if raw.is_some() {
            return Err(err(
                "cashdesk",
                "needs registers[].cashdesk_num_fiscal (and cashdesk_api_tokens) on at least one register, or enabled = false",
            ));
        }
        return Ok(None);
    }
    let mut config = CashDeskConfig::new(desks.into_iter().map(|(_, d)| d).collect());
    if let Some(raw) = raw {
        config.rounding = match raw.rounding {
            None => Rounding::TEN,
            Some(RawRounding::Number(10)) => Rounding::TEN,
            Some(RawRounding::Number(50)) => Rounding::FIFTY,
            Some(RawRounding::Word(w)) if w.trim() == "10" => Rounding::TEN,
            Some(RawRounding::Word(w)) if w.trim() == "50" => Rounding::FIFTY,
            Some(other) => {
                let shown = match other {
                    RawRounding::Number(n) => n.to_string(),
                    RawRounding::Word(w) => format!("{w:?}"),
                };
                return Err(err(
                    "cashdesk.rounding",
                    format!("expected \"10\" or \"50\" (kopecks), got {shown}"),
                ));
            }
        };
        match raw.answer_within_seconds {
            Some(0) => return Err(err("cashdesk.answer_within_seconds", "must be at least 1")),
            Some(n) => config.answer_within = Duration::from_secs(n),
            None => {}
        }
        if let Some(t) = raw.taxation.as_deref() {
            config.taxation = taxation("cashdesk.taxation", t)?;
        }
    }
    Ok(Some(config))
}

/// A taxation system by its configuration name.
fn taxation(key: &str, text: &str) -> Result<fiscal_model::TaxationSystem, ConfigError> {
    match text {
        "osn" => Ok(fiscal_model::TaxationSystem::General),
        "usn_income" => Ok(fiscal_model::TaxationSystem::SimplifiedIncome),
        "usn_income_outcome" => Ok(fiscal_model::TaxationSystem::SimplifiedIncomeMinusExpense),
        "esn" => Ok(fiscal_model::TaxationSystem::Agricultural),
        "patent" => Ok(fiscal_model::TaxationSystem::Patent),
        other => Err(err(
            key,
            format!("expected osn, usn_income, usn_income_outcome, esn or patent, got {other:?}"),
        )),
    }
}

/// Lower-cased GUID, or an error naming the key.
pub fn guid(path: &str, value: &str) -> Result<String, ConfigError> {
    fiscal_model::Guid::parse(value.trim(), path)
        .map(String::from)
        .map_err(|_| {
            err(
                path,
                format!(
                    "expected a GUID such as da2bb850-63ef-47e4-8b45-7b5b841eaa9b, got {value:?}"
                ),
            )
        })
}

fn register(i: usize, r: RawRegister, data_dir: &Path) -> Result<RegisterSettings, ConfigError> {
    let p = |k: &str| format!("registers[{i}].{k}");
    let id = guid(&p("id"), &r.id)?;
    let group_id = r
        .group_id
        .filter(|s| !s.is_empty())
        .map(|g| guid(&p("group_id"), &g))
        .transpose()?;
    let juridical_person_id = r
        .juridical_person_id
        .filter(|s| !s.is_empty())
        .map(|g| guid(&p("juridical_person_id"), &g))
        .transpose()?;
    let transport = match r.transport {
        RawTransport::Serial { path, baud } => {
            let baud = match baud {
                None => None,
                Some(RawBaud::Word(w)) if w == "auto" => None,
                Some(RawBaud::Word(w)) => {
                    return Err(err(
                        p("transport.baud"),
                        format!("expected \"auto\" or one of {BAUD_RATES:?}, got {w:?}"),
                    ))
                }
                Some(RawBaud::Number(n)) if BAUD_RATES.contains(&n) => Some(n),
                Some(RawBaud::Number(n)) => {
                    return Err(err(
                        p("transport.baud"),
                        format!("expected \"auto\" or one of {BAUD_RATES:?}, got {n}"),
                    ))
                }
            };
            TransportSettings::Serial { path, baud }
        }
        RawTransport::Tcp { address } => {
            if !address.contains(':') {
                return Err(err(p("transport.address"), format!("expected HOST:PORT (Shtrih models listen on 7778 by default), got {address:?}")));
            }
            TransportSettings::Tcp { address }
        }
        RawTransport::Emulator { state_file } => TransportSettings::Emulator {
            state_file: state_file.unwrap_or_else(|| data_dir.join(format!("emulator-{id}.json"))),
        },
    };
    let password = |key: &str, v: Option<u32>, default: u32| -> Result<u32, ConfigError> {
        let v = v.unwrap_or(default);
        if v == 0 || v > 99_999_999 {
            return Err(err(
                p(key),
                format!("expected a register password 1..99999999, got {v}"),
            ));
        }
        Ok(v)
    };
    let operator_password = password("operator_password", r.operator_password, 1)?;
    let admin_password = password("admin_password", r.admin_password, 30)?;
    let utc_offset = match r.utc_offset {
        None => local_offset(),
        Some(s) => parse_offset(&s).ok_or_else(|| {
            err(
                p("utc_offset"),
                format!("expected an offset such as \"+03:00\", got {s:?}"),
            )
        })?,
    };
    let taxes = match r.taxes {
        None => TaxGroupMap::default(),
        Some(table) => {
            let mut map = TaxGroupMap::empty();
            for (code, group) in table {
                let key = p(&format!("taxes.\"{code}\""));
                let code_num: i64 = code
                    .parse()
                    .map_err(|_| err(&key, "expected an API VAT code 1..14 as the key"))?;
                let rate =
                    VatRate::from_api_code(code_num, &key).map_err(|e| err(&key, e.to_string()))?;
                let group = TaxGroup::new(group).ok_or_else(|| {
                    err(
                        &key,
                        format!("expected a row of table 6, 1..12, got {group}"),
                    )
                })?;
                map.set(rate, group);
            }
            map
        }
    };
    let cashier_name = r.cashier_name.unwrap_or_else(|| "Кассир".to_string());
    if cashier_name.chars().count() > 64 {
        return Err(err(p("cashier_name"), "at most 64 characters"));
    }
    let answer_timeout = Duration::from_secs(
        r.answer_timeout_seconds
            .unwrap_or(DEFAULT_ANSWER_TIMEOUT_SECONDS),
    );
    if answer_timeout.is_zero() {
        return Err(err(p("answer_timeout_seconds"), "must be at least 1"));
    }
    let marking_policy = match r.invalid_marking_code.as_deref() {
        None | Some("refuse") => driver::MarkingPolicy::RefuseInvalid,
        Some("sell") => driver::MarkingPolicy::SellAndReport,
        Some(other) => {
            return Err(err(
                p("invalid_marking_code"),
                format!("expected \"refuse\" or \"sell\", got {other:?}"),
            ))
        }
    };
    let watch_interval = Duration::from_secs(r.watch_seconds.unwrap_or(DEFAULT_WATCH_SECONDS));
    if watch_interval.is_zero() {
        return Err(err(p("watch_seconds"), "must be at least 1"));
    }
    let cashier_inn = r.cashier_inn.filter(|s| !s.is_empty());
    if let Some(inn) = &cashier_inn {
        if inn.len() != 12 || !inn.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                p("cashier_inn"),
                format!("expected 12 digits, got {inn:?}"),
            ));
        }
    }
    let defaults = ShiftPolicy::default();
    let daily_z_at = match r.shift.daily_z_at {
        None => None,
        Some(s) => Some(
            NaiveTime::parse_from_str(&s, "%H:%M")
                .map_err(|_| err(p("shift.daily_z_at"), format!("expected HH:MM, got {s:?}")))?,
        ),
    };
    let shift = ShiftPolicy {
        open_on_demand: r.shift.open_on_demand.unwrap_or(defaults.open_on_demand),
        close_before_24h: r
            .shift
            .close_before_24h
            .unwrap_or(defaults.close_before_24h),
        close_margin: r
            .shift
            .close_margin_minutes
            .map(|m| Duration::from_secs(m * 60))
            .unwrap_or(defaults.close_margin),
        daily_z_at,
    };
    Ok(RegisterSettings {
        id,
        group_id,
        juridical_person_id,
        default: r.default,
        transport,
        link_layer: r.link_layer.unwrap_or(LinkLayerSetting::Auto),
        operator_password,
        admin_password,
        utc_offset,
        taxes,
        cashier_name,
        cashier_inn,
        answer_timeout,
        watch_interval,
        shift,
        marking_policy,
    })
}

/// The host's current UTC offset, the usual zone of a register's clock.
pub fn local_offset() -> FixedOffset {
    *chrono::Local::now().offset()
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * secs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_virtual_registers_configuration_is_the_file_formats_defaults() {
        let dir = std::path::Path::new("/tmp/fg \"dev\"");
        let c =
            Config::emulator("da2bb850-63ef-47e4-8b45-7b5b841eaa9b", dir, SECRET, Some(7)).unwrap();
        let file = Config::parse(&minimal(""), None).unwrap();
        assert_eq!(c.data_dir, dir, "a path with quotes survives");
        assert_eq!(c.listen, file.listen);
        assert_eq!(c.operation_deadline, Duration::from_secs(7));
        assert_eq!(c.operation_max_repeats, file.operation_max_repeats);
        assert_eq!(c.auth.hs256_secret.as_deref(), Some(SECRET));
        let (r, f) = (&c.registers[0], &file.registers[0]);
        assert!(r.default);
        assert_eq!(r.link_layer, LinkLayerSetting::Standard);
        assert_eq!(
            r.transport,
            TransportSettings::Emulator {
                state_file: dir.join("emulator.json")
            }
        );
        assert_eq!(
            (r.operator_password, r.admin_password, &r.cashier_name),
            (f.operator_password, f.admin_password, &f.cashier_name)
        );
        assert_eq!(
            (r.answer_timeout, r.watch_interval),
            (f.answer_timeout, f.watch_interval)
        );
        assert_eq!(r.shift, f.shift);
        assert_eq!(r.marking_policy, f.marking_policy);
    }

    #[test]
    fn the_seller_keys_name_the_seller_of_rendered_receipts() {
        let text = format!(
            "[auth]\nhs256_secret = \"{SECRET}\"\n[storage]\ndata_dir = \"/tmp/fg\"\n[[registers]]\nid = \"DA2BB850-63EF-47E4-8B45-7B5B841EAA9B\"\nseller_name = \"ИП Сидоров\"\nseller_inn = \"500100732259\"\nseller_address = \"г. Тверь\"\nseller_place = \"\"\n[registers.transport]\nkind = \"serial\"\npath = \"/dev/ttyACM0\"\n"
        );
        let c = Config::parse(&text, None).unwrap();
        assert_eq!(
            c.sellers,
            vec![gateway_http::Seller {
                name: Some("ИП Сидоров".into()),
                inn: Some("500100732259".into()),
                address: Some("г. Тверь".into()),
                // An empty value is no value.
                place: None,
            }]
        );
        let file = Config::parse(&minimal(""), None).unwrap();
        assert_eq!(file.sellers, vec![gateway_http::Seller::default()]);
        let demo = Config::emulator(
            "da2bb850-63ef-47e4-8b45-7b5b841eaa9b",
            Path::new("/tmp/fg"),
            SECRET,
            None,
        )
        .unwrap();
        assert_eq!(
            demo.sellers[0].name.as_deref(),
            Some("ООО \"ТЕСТОВЫЙ МАГАЗИН\"")
        );
        assert_eq!(demo.sellers[0].inn.as_deref(), Some("7700000000"));
        assert_eq!(
            demo.sellers[0].address.as_deref(),
            Some("г. Москва, ул. Примерная, д. 1")
        );
    }

    fn minimal(extra: &str) -> String {
        format!(
            "[auth]\nhs256_secret = \"{SECRET}\"\n[storage]\ndata_dir = \"/tmp/fg\"\n[[registers]]\nid = \"DA2BB850-63EF-47E4-8B45-7B5B841EAA9B\"\n[registers.transport]\nkind = \"serial\"\npath = \"/dev/ttyACM0\"\n{extra}"
        )
    }

    #[test]
    fn the_smartone_section_has_defaults_and_names_its_mistakes() {
        assert!(Config::parse(&minimal(""), None)
            .unwrap()
            .smartone
            .is_none());
        let c = Config::parse(
            &minimal("[smartone]\nmerchant_id = \"9662a13f5b4f46dbb1751bbbf86ed402\"\n"),
            None,
        )
        .unwrap();
        let s = c.smartone.unwrap();
        assert_eq!(s.listen.to_string(), SMARTONE_LISTEN);
        assert_eq!(s.dialect.merchants.len(), 1);
        assert_eq!(s.dialect.merchants[0].register, c.registers[0].id);
        assert_eq!(s.dialect.answer_within, Duration::from_secs(60));
        assert_eq!(
            s.dialect.bonuses,
            gateway_http::smartone::Bonuses::CounterProvision
        );
        let mistake = |extra: &str| Config::parse(&minimal(extra), None).unwrap_err().path;
        assert_eq!(mistake("[smartone]\n"), "smartone.merchant_id");
        assert_eq!(
            mistake("[smartone]\nmerchant_id = \"short\"\n"),
            "smartone.merchant_id"
        );
        assert_eq!(
            mistake("[smartone]\nmerchant_id = \"9662a13f5b4f46db\"\nbonuses = \"cash\"\n"),
            "smartone.bonuses"
        );
        assert_eq!(
            mistake("[smartone]\nmerchant_id = \"9662a13f5b4f46db\"\ntaxation = \"envd\"\n"),
            "smartone.taxation"
        );
        assert_eq!(
            mistake("[smartone]\nmerchant_id = \"9662a13f5b4f46db\"\nlisten = \"8008\"\n"),
            "smartone.listen"
        );
    }

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let c = Config::parse(&minimal(""), None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:5897");
        assert_eq!(c.registers.len(), 1);
        let r = &c.registers[0];
        assert_eq!(r.id, "da2bb850-63ef-47e4-8b45-7b5b841eaa9b");
        assert!(r.default, "a single register is the default");
        assert_eq!(
            r.transport,
            TransportSettings::Serial {
                path: "/dev/ttyACM0".into(),
                baud: None
            }
        );
        assert_eq!((r.operator_password, r.admin_password), (1, 30));
        assert_eq!(r.taxes, TaxGroupMap::default());
        assert!(r.shift.open_on_demand && r.shift.close_before_24h);
    }

    #[test]
    fn invalid_marking_code_policy() {
        let c = Config::parse(&minimal(""), None).unwrap();
        assert_eq!(
            c.registers[0].marking_policy,
            driver::MarkingPolicy::RefuseInvalid
        );
        let with = |v: &str| {
            minimal("").replace(
                "[registers.transport]",
                &format!("invalid_marking_code = \"{v}\"\n[registers.transport]"),
            )
        };
        let c = Config::parse(&with("sell"), None).unwrap();
        assert_eq!(
            c.registers[0].marking_policy,
            driver::MarkingPolicy::SellAndReport
        );
        let e = Config::parse(&with("maybe"), None).unwrap_err();
        assert_eq!(e.path, "registers[0].invalid_marking_code");
    }

    #[test]
    fn cashdesk_is_on_with_a_num_fiscal_and_checks_its_keys() {
        let digest = hex::encode(gateway_http::cashdesk::token_digest("token"));
        let with = |register: &str, extra: &str| {
            format!(
                "{}{extra}",
                minimal("").replace(
                    "[registers.transport]",
                    &format!("{register}\n[registers.transport]"),
                )
            )
        };
        let c = Config::parse(&minimal(""), None).unwrap();
        assert!(c.cashdesk.is_none());
        let keys =
            format!("cashdesk_num_fiscal = 4000022469\ncashdesk_api_tokens = [\"{digest}\"]");
        let c = Config::parse(&with(&keys, ""), None).unwrap();
        let desk = c.cashdesk.unwrap();
        assert_eq!(desk.desks[0].num_fiscal, 4000022469);
        assert_eq!(desk.desks[0].register, c.registers[0].id);
        assert_eq!(desk.rounding, gateway_http::cashdesk::Rounding::TEN);
        let c = Config::parse(
            &with(
                &keys,
                "\n[cashdesk]\nrounding = 50\nanswer_within_seconds = 5\n",
            ),
            None,
        )
        .unwrap();
        let desk = c.cashdesk.unwrap();
        assert_eq!(desk.rounding, gateway_http::cashdesk::Rounding::FIFTY);
        assert_eq!(desk.answer_within, Duration::from_secs(5));
        let off = Config::parse(&with(&keys, "\n[cashdesk]\nenabled = false\n"), None).unwrap();
        assert!(off.cashdesk.is_none());
        let e = Config::parse(&with(&keys, "\n[cashdesk]\nrounding = \"25\"\n"), None).unwrap_err();
        assert_eq!(e.path, "cashdesk.rounding");
        let e = Config::parse(
            &with(
                "cashdesk_num_fiscal = 1\ncashdesk_api_tokens = [\"token\"]",
                "",
            ),
            None,
        )
        .unwrap_err();
        assert_eq!(e.path, "registers[0].cashdesk_api_tokens[0]");
        let e = Config::parse(&with("cashdesk_num_fiscal = 1", ""), None).unwrap_err();
        assert_eq!(e.path, "registers[0].cashdesk_api_tokens");
        let e = Config::parse(&with("", "\n[cashdesk]\n"), None).unwrap_err();
        assert_eq!(e.path, "cashdesk");
        let letters =
            format!("{keys}\n[registers.cashdesk_letters]\n\"A\" = \"22\"\n\"Б\" = \"18\"");
        let e = Config::parse(&with(&letters, ""), None).unwrap_err();
        assert_eq!(e.path, "registers[0].cashdesk_letters.\"Б\"");
    }

    #[test]
    fn type_mistakes_name_the_key_path_and_line() {
        let text = minimal("").replace("path = \"/dev/ttyACM0\"", "path = 7");
        let e = Config::parse(&text, None).unwrap_err();
        // The transport is a tagged table: the path and the line stop at it.
        assert_eq!(e.path, "registers[0].transport");
        assert!(e.message.contains("line 7"), "{}", e.message);
        assert!(e.message.contains("expected path string"), "{}", e.message);
        let e = Config::parse(&minimal("[server]\nmax_wait_seconds = \"ten\"\n"), None);
        assert_eq!(e.unwrap_err().path, "server.max_wait_seconds");
    }

    #[test]
    fn mistakes_name_the_key_path() {
        let e = Config::parse(&minimal("baud = 1234\n"), None).unwrap_err();
        assert_eq!(e.path, "registers[0].transport.baud");
        let e = Config::parse(&minimal("[registers.taxes]\n\"3\" = 13\n"), None).unwrap_err();
        assert_eq!(e.path, "registers[0].taxes.\"3\"");
        let e = Config::parse(
            &minimal("[registers.shift]\ndaily_z_at = \"25:99\"\n"),
            None,
        )
        .unwrap_err();
        assert_eq!(e.path, "registers[0].shift.daily_z_at");
        let e = Config::parse(
            &minimal("").replace("DA2BB850-63EF-47E4-8B45-7B5B841EAA9B", "cashbox-1"),
            None,
        )
        .unwrap_err();
        assert_eq!(e.path, "registers[0].id");
        let e = Config::parse(
            &minimal("").replace(&format!("hs256_secret = \"{SECRET}\""), ""),
            None,
        )
        .unwrap_err();
        assert_eq!(e.path, "auth");
        let e = Config::parse(&minimal("colour = 1\n"), None).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn http_bounds_and_token_claims_have_defaults_and_name_their_keys() {
        let c = Config::parse(&minimal(""), None).unwrap();
        assert!(c.allowed_hosts.is_empty());
        assert_eq!(c.max_connections, 256);
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(
            (c.auth.issuer.as_deref(), c.auth.audience.as_deref()),
            (None, None)
        );
        let text = minimal("").replacen(
            "[auth]\n",
            "[server]\nallowed_hosts = [\"POS-Gateway.local\", \"[fe80::1]\"]\nmax_connections = 32\nheader_timeout_seconds = 5\nidle_timeout_seconds = 20\n[auth]\nissuer = \"pos-backend\"\naudience = \"fiscal-gateway\"\n",
            1,
        );
        let c = Config::parse(&text, None).unwrap();
        assert_eq!(c.allowed_hosts, ["pos-gateway.local", "fe80::1"]);
        assert_eq!(c.max_connections, 32);
        assert_eq!(c.header_timeout, Duration::from_secs(5));
        assert_eq!(c.idle_timeout, Duration::from_secs(20));
        assert_eq!(c.auth.issuer.as_deref(), Some("pos-backend"));
        assert_eq!(c.auth.audience.as_deref(), Some("fiscal-gateway"));
        for (server, key) in [
            (
                "allowed_hosts = [\"localhost\", \"http://x/\"]",
                "server.allowed_hosts[1]",
            ),
            ("allowed_hosts = [\"x:80\"]", "server.allowed_hosts[0]"),
            ("max_connections = 0", "server.max_connections"),
            (
                "header_timeout_seconds = 0",
                "server.header_timeout_seconds",
            ),
            ("idle_timeout_seconds = 0", "server.idle_timeout_seconds"),
        ] {
            let text =
                minimal("").replacen("[auth]\n", &format!("[server]\n{server}\n[auth]\n"), 1);
            let e = Config::parse(&text, None).unwrap_err();
            assert_eq!(e.path, key, "{e}");
        }
        let text = minimal("").replacen("[auth]\n", "[auth]\nissuer = \" \"\n", 1);
        assert_eq!(Config::parse(&text, None).unwrap_err().path, "auth.issuer");
    }

    #[test]
    fn the_secret_comes_from_the_environment_when_given() {
        let text = minimal("").replace(&format!("hs256_secret = \"{SECRET}\""), "");
        let c = Config::parse(&text, Some("x".repeat(40))).unwrap();
        assert_eq!(
            c.auth.hs256_secret.as_deref(),
            Some("x".repeat(40).as_str())
        );
    }

    #[test]
    fn configured_tax_rows_are_overrides_of_the_registers_table() {
        let c = Config::parse(&minimal("[registers.taxes]\n\"3\" = 1\n\"7\" = 6\n"), None).unwrap();
        let t = &c.registers[0].taxes;
        assert_eq!(t.group(VatRate::Vat22).map(TaxGroup::number), Some(1));
        assert_eq!(t.group(VatRate::Vat5).map(TaxGroup::number), Some(6));
        assert_eq!(t.group(VatRate::Vat10), None);
    }

    #[test]
    fn one_device_under_two_ids_is_refused_also_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let port = dir.path().join("ttyACM0");
        std::fs::write(&port, b"").unwrap();
        let link = dir.path().join("kkt");
        std::os::unix::fs::symlink(&port, &link).unwrap();
        let text = format!(
            "[auth]\nhs256_secret = \"{SECRET}\"\n[storage]\ndata_dir = \"/tmp/fg\"\n\
             [[registers]]\nid = \"da2bb850-63ef-47e4-8b45-7b5b841eaa9b\"\ndefault = true\n\
             [registers.transport]\nkind = \"serial\"\npath = \"{}\"\n\
             [[registers]]\nid = \"da2bb850-63ef-47e4-8b45-7b5b841eaa9c\"\n\
             [registers.transport]\nkind = \"serial\"\npath = \"{}\"\n",
            port.display(),
            link.display()
        );
        let e = Config::parse(&text, None).unwrap_err();
        assert_eq!(e.path, "registers[1].transport");
        assert!(e.message.contains("registers[0]"), "{}", e.message);

        let tcp = |a: &str, b: &str| {
            format!(
                "[auth]\nhs256_secret = \"{SECRET}\"\n[storage]\ndata_dir = \"/tmp/fg\"\n\
                 [[registers]]\nid = \"da2bb850-63ef-47e4-8b45-7b5b841eaa9b\"\ndefault = true\n\
                 [registers.transport]\nkind = \"tcp\"\naddress = \"{a}\"\n\
                 [[registers]]\nid = \"da2bb850-63ef-47e4-8b45-7b5b841eaa9c\"\n\
                 [registers.transport]\nkind = \"tcp\"\naddress = \"{b}\"\n"
            )
        };
        assert!(Config::parse(&tcp("KKT.local:7778", "kkt.local:7778"), None).is_err());
        assert!(Config::parse(&tcp("10.0.0.5:7778", "10.0.0.6:7778"), None).is_ok());
    }

    #[test]
    fn max_repeats_defaults_to_three_and_zero_is_refused() {
        let c = Config::parse(&minimal(""), None).unwrap();
        assert_eq!(c.operation_max_repeats, DEFAULT_MAX_REPEATS);
        let text = minimal("").replace(
            "[[registers]]",
            "[operations]\nmax_repeats = 0\n[[registers]]",
        );
        let e = Config::parse(&text, None).unwrap_err();
        assert_eq!(e.path, "operations.max_repeats");
    }
}
