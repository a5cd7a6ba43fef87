//! `serve`: the HTTP API, one worker per register, graceful shutdown on SIGTERM/SIGINT, and
//! systemd readiness/watchdog notifications.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::{AuthSettings, Config, RegisterSettings, TransportSettings};
use cashbox::{new_health, Connector, Health, OperationPolicy, Worker};

/// The cashbox id of the virtual register of `serve --emulator`: the one in the API's own
/// example request, so that example works verbatim.
pub const DEV_CASHBOX_ID: &str = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";

/// The CashDesk `num_fiscal` of the virtual register of `serve --emulator`.
pub const DEV_NUM_FISCAL: u64 = 4000000001;

/// What `serve --emulator` made up for development: the JWT secret and the CashDesk token.
struct DevCredentials {
    secret: String,
    cashdesk_token: String,
}

/// Arguments of `serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Configuration file (see config/fiscal-gateway.toml).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "emulator",
        conflicts_with = "emulator"
    )]
    pub config: Option<PathBuf>,
    /// Run with one built-in virtual register, no configuration needed; prints a development token.
    #[arg(long)]
    pub emulator: bool,
    /// Listen address (overrides the configuration; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory for `--emulator` (default: the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Operation deadline in seconds for `--emulator`.
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<u64>,
    /// Logs as JSON lines.
    #[arg(long)]
    pub log_json: bool,
    /// Listen address of the SmartOne dialect (overrides `smartone.listen`; port 0 picks a
    /// free port). With `--emulator` the dialect is always on.
    #[arg(long, value_name = "ADDR")]
    pub smartone_listen: Option<SocketAddr>,
}

/// Runs the gateway until SIGTERM or SIGINT.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (mut config, dev) = if args.emulator {
        let (c, s) = emulator_config(args.data_dir.clone(), args.deadline)?;
        (c, Some(s))
    } else {
        let path = args
            .config
            .clone()
            .context("--config FILE or --emulator is required")?;
        (
            Config::load(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            None,
        )
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let smartone_pinned = args.smartone_listen.is_some() || !args.emulator;
    if let (Some(listen), Some(smartone)) = (args.smartone_listen, config.smartone.as_mut()) {
        smartone.listen = listen;
    }
    init_logging(config.log_json || args.log_json);

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let store = queue::Store::open(
        &config.data_dir.join("operations"),
        queue::StoreConfig {
            retention: config.retention,
            ..Default::default()
        },
    )
    .with_context(|| {
        format!(
            "cannot open the operation store in {}",
            config.data_dir.display()
        )
    })?;
    let store = Arc::new(store);
    let _retention = store.spawn_retention(Duration::from_secs(3600));

    let shutdown = CancellationToken::new();
    let mut workers = tokio::task::JoinSet::new();
    let mut healths: Vec<Health> = Vec::new();
    let mut desk = Vec::new();
    for settings in &config.registers {
        let emulator = match &settings.transport {
            TransportSettings::Emulator { state_file } => Some(start_emulator(state_file)?),
            _ => None,
        };
        let connector = Connector::new(settings, emulator);
        let health = new_health(&settings.id);
        healths.push(health.clone());
        let (control, requests) = cashbox::control::channel();
        desk.push(crate::desk::DeskRegister {
            health: health.clone(),
            control,
            utc_offset: settings.utc_offset,
        });
        let worker = Worker::new(
            settings.clone(),
            store.clone(),
            connector,
            OperationPolicy {
                deadline: config.operation_deadline,
                max_repeats: config.operation_max_repeats,
            },
            health,
            shutdown.child_token(),
        )
        .with_requests(requests);
        workers.spawn(worker.run());
    }

    let mut state = gateway_http::AppState {
        store: store.clone(),
        registers: config
            .registers
            .iter()
            .enumerate()
            .map(|(i, r)| route(r, config.sellers.get(i).cloned().unwrap_or_default()))
            .collect(),
        default_register: config
            .registers
            .iter()
            .find(|r| r.default)
            .map(|r| r.id.clone()),
        auth: auth_config(&config.auth)?,
        body_limit: config.body_limit,
        max_wait: config.max_wait,
        readiness: Some({
            let healths = healths.clone();
            let store = store.clone();
            gateway_http::ReadinessSource(Arc::new(move || {
                healths
                    .iter()
                    .map(|h| readiness(&h.lock(), &store, chrono::Utc::now()))
                    .collect()
            }))
        }),
        allowed_hosts: allowed_hosts(&config)?,
        desk: Some(gateway_http::DeskHandle(Arc::new(crate::desk::Registers {
            registers: desk,
            store: store.clone(),
        }))),
    };
    let observed = crate::observe::Observed {
        registers: Arc::new(healths.clone()),
        store: store.clone(),
        prometheus: crate::observe::install_recorder(),
    };
    let smartone = match &config.smartone {
        None => None,
        Some(settings) => {
            let listener = bind_smartone(settings.listen, smartone_pinned).await?;
            // Its own port: the Host check must take that address too.
            state.allowed_hosts = state
                .allowed_hosts
                .clone()
                .with_ip(listener.local_addr()?.ip());
            let router = gateway_http::smartone::router(state.clone(), settings.dialect.clone());
            Some((listener, router))
        }
    };
    // The status page, /metrics and the CashDesk dialect get the API's Host check, its
    // tracing and its 404/405 shape too.
    let mut extra = crate::observe::routes(observed);
    if let Some(cashdesk) = &config.cashdesk {
        let mut cashdesk = cashdesk.clone();
        cashdesk.link_key = link_key(&config.data_dir)?;
        extra = extra.merge(gateway_http::cashdesk::router(state.clone(), cashdesk));
    }
    let router = gateway_http::app_with(state, extra);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    tracing::info!(address = %local, registers = config.registers.len(), "fiscal-gateway started");
    if let (Some((listener, _)), Some(settings)) = (&smartone, &config.smartone) {
        let address = listener.local_addr()?;
        match (&dev, settings.dialect.merchants.first()) {
            (Some(_), Some(merchant)) => println!(
                "smartone: http://{address} merchantID={}",
                merchant.merchant_id
            ),
            _ => println!("smartone: http://{address}"),
        }
    }
    if let (Some(dev), Some(cashdesk)) = (&dev, &config.cashdesk) {
        if let Some(desk) = cashdesk.desks.first() {
            println!(
                "cashdesk: http://{local}/api/v2 num_fiscal={} api_token={}",
                desk.num_fiscal, dev.cashdesk_token
            );
        }
    }
    if let Some(dev) = &dev {
        print_dev_help(local, &dev.secret, &config.data_dir);
    }
    notify_ready();
    spawn_watchdog(shutdown.clone(), Arc::clone(&store));
    spawn_store_guard(shutdown.clone(), Arc::clone(&store));

    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; finishing the exchanges on the wire");
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
        signal_token.cancel();
    });
    let server_token = shutdown.clone();
    let limits = gateway_http::ServeLimits {
        max_connections: config.max_connections,
        header_timeout: config.header_timeout,
        idle_timeout: config.idle_timeout,
        ..gateway_http::ServeLimits::default()
    };
    // Returns once the listener is closed and every connection has ended: idle ones at once,
    // requests in flight after at most the shutdown grace.
    let smartone_token = shutdown.clone();
    let smartone_limits = limits;
    let smartone_server = async move {
        if let Some((listener, router)) = smartone {
            gateway_http::serve(listener, router, smartone_limits, async move {
                smartone_token.cancelled().await
            })
            .await;
        }
    };
    tokio::join!(
        gateway_http::serve(listener, router, limits, async move {
            server_token.cancelled().await
        }),
        smartone_server
    );
    while workers.join_next().await.is_some() {}
    store
        .sync()
        .await
        .context("final sync of the operation store failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The key of the CashDesk receipt links (`k`), made once and kept in the data directory; a
/// lost key only makes the links already given stop opening.
fn link_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    Ok(kept_secret(&data_dir.join("receipt-link-key"), 64, HEX)?.into_bytes())
}

const HEX: &[u8] = b"0123456789abcdef";
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// A secret kept in a file of the data directory: read when the file holds one (32 characters
/// or more), otherwise made from `alphabet` at `len` characters and written, readable by the
/// owner only.
fn kept_secret(file: &Path, len: usize, alphabet: &[u8]) -> anyhow::Result<String> {
    match std::fs::read_to_string(file) {
        Ok(s) if s.trim().len() >= 32 => Ok(s.trim().to_string()),
        _ => {
            let s: String = (0..len)
                .map(|_| {
                    let i = usize::from(rand::random::<u8>()) % alphabet.len();
                    char::from(alphabet[i])
                })
                .collect();
            write_private(file, &s).with_context(|| format!("cannot write {}", file.display()))?;
            Ok(s)
        }
    }
}

/// The SmartOne listener. `serve --emulator` without `--smartone-listen` takes SmartOne's own
/// port 8008 when it is free and any free port otherwise (the line it prints names it); a
/// configured address is used as given.
async fn bind_smartone(
    listen: SocketAddr,
    pinned: bool,
) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => Ok(listener),
        Err(e) if !pinned && e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(listen.ip(), 0);
            tokio::net::TcpListener::bind(any)
                .await
                .with_context(|| format!("cannot listen on {any} (SmartOne)"))
        }
        Err(e) => Err(e).with_context(|| format!("cannot listen on {listen} (SmartOne)")),
    }
}

fn route(r: &RegisterSettings, seller: gateway_http::Seller) -> gateway_http::RegisterRoute {
    gateway_http::RegisterRoute {
        seller,
        id: r.id.clone(),
        group_id: r.group_id.clone(),
        juridical_person_id: r.juridical_person_id.clone(),
        utc_offset: r.utc_offset,
        taxes: api_rates(&r.taxes),
    }
}

/// The rates the API takes for a register: every one. Which row of table 6 an item goes to is
/// decided by the register's own table, read when the worker connects (FFD 1.2 addendum §2);
/// a rate it lacks, or a configured row its table contradicts, fails the operation at once
/// with `NO_TAX_GROUP` naming the rate (status 3). Configured rows are kept as they are; the
/// others carry row 1 only because the API's map needs a row: it is never sent.
fn api_rates(configured: &fiscal_model::TaxGroupMap) -> fiscal_model::TaxGroupMap {
    let mut all = configured.clone();
    if let Some(placeholder) = fiscal_model::TaxGroup::new(1) {
        for rate in fiscal_model::VatRate::ALL {
            if configured.group(rate).is_none() {
                all.set(rate, placeholder);
            }
        }
    }
    all
}

/// Loopback, the address the gateway listens on (an address cannot be rebound by DNS) and the
/// configured `server.allowed_hosts`.
fn allowed_hosts(config: &Config) -> anyhow::Result<gateway_http::AllowedHosts> {
    let mut hosts = gateway_http::AllowedHosts::loopback().with_ip(config.listen.ip());
    for (i, host) in config.allowed_hosts.iter().enumerate() {
        hosts = hosts
            .with(host)
            .map_err(|e| anyhow::anyhow!("server.allowed_hosts[{i}]: {e}"))?;
    }
    Ok(hosts)
}

fn auth_config(auth: &AuthSettings) -> anyhow::Result<gateway_http::AuthConfig> {
    let mut config = gateway_http::AuthConfig::new();
    if let Some(issuer) = &auth.issuer {
        config = config.with_issuer(issuer.clone());
    }
    if let Some(audience) = &auth.audience {
        config = config.with_audience(audience.clone());
    }
    if let Some(secret) = &auth.hs256_secret {
        config = config.with_hs256(secret.as_bytes());
    }
    for (path, pem) in &auth.public_keys_pem {
        config = config
            .with_public_key_pem(pem)
            .map_err(|e| anyhow::anyhow!("auth.public_key_files: {}: {e}", path.display()))?;
    }
    Ok(config)
}

fn start_emulator(state_file: &Path) -> anyhow::Result<emulator::Emulator> {
    if let Some(dir) = state_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let config = emulator::EmulatorConfig {
        state_file: Some(state_file.to_path_buf()),
        ..Default::default()
    };
    emulator::Emulator::new(config).with_context(|| {
        format!(
            "cannot start the virtual register with state {}",
            state_file.display()
        )
    })
}

/// The configuration of `serve --emulator`: one virtual register, data in the user's data
/// directory, a development secret created once and kept there.
fn emulator_config(
    data_dir: Option<PathBuf>,
    deadline: Option<u64>,
) -> anyhow::Result<(Config, DevCredentials)> {
    let data_dir = data_dir.unwrap_or_else(default_dev_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = kept_secret(&data_dir.join("dev-secret"), 48, LETTERS)?;
    let mut config = Config::emulator(DEV_CASHBOX_ID, &data_dir, &secret, deadline)
        .map_err(|e| anyhow::anyhow!("the virtual register's configuration: {e}"))?;
    let merchant_id = kept_secret(&data_dir.join("dev-merchant-id"), 32, HEX)?;
    config.smartone = Some(crate::config::SmartOneSettings {
        listen: crate::config::SMARTONE_LISTEN
            .parse()
            .context("the SmartOne default address")?,
        dialect: gateway_http::smartone::SmartOneConfig::new(vec![
            gateway_http::smartone::Merchant {
                merchant_id,
                register: DEV_CASHBOX_ID.to_string(),
            },
        ]),
    });
    let cashdesk_token = kept_secret(&data_dir.join("dev-cashdesk-token"), 32, HEX)?;
    config.cashdesk = Some(gateway_http::cashdesk::CashDeskConfig::new(vec![
        gateway_http::cashdesk::CashDesk {
            num_fiscal: DEV_NUM_FISCAL,
            register: DEV_CASHBOX_ID.to_string(),
            token_digests: vec![gateway_http::cashdesk::token_digest(&cashdesk_token)],
            letters: gateway_http::cashdesk::Letters::default(),
        },
    ]));
    Ok((
        config,
        DevCredentials {
            secret,
            cashdesk_token,
        },
    ))
}

fn default_dev_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("fiscal-gateway-dev");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".local/share/fiscal-gateway-dev");
    }
    std::env::temp_dir().join("fiscal-gateway-dev")
}

/// Writes a file only its owner may read (a signing secret).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn print_dev_help(addr: SocketAddr, secret: &str, data_dir: &Path) {
    let token = gateway_http::dev_token(secret.as_bytes());
    println!(
        "virtual register: cashboxId {DEV_CASHBOX_ID}, data in {}",
        data_dir.display()
    );
    println!("development token: {token}");
    println!("try:");
    println!("  curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\");
    println!("    http://{addr}/v1.0/operations/formReceipt -d '{{\"operationId\":\"demo-1\",\"receiptType\":1,\"printReceipt\":true,\"taxationSystem\":2,\"positions\":[{{\"name\":\"Молоко коровье\",\"quantity\":3,\"price\":70,\"taxType\":3}}],\"cashPaymentSum\":210,\"cashlessPaymentSum\":0,\"totalSum\":210,\"cashboxId\":\"{DEV_CASHBOX_ID}\"}}'");
    println!("  curl -s -H 'Authorization: Bearer {token}' 'http://{addr}/v1.0/operations/checkStatus?operationId=demo-1&wait=10'");
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into journald or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn notify_ready() {
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
}

/// After a failed disk sync the store acknowledges nothing more; the process then stops the
/// way SIGTERM does (exchanges on the wire finish) and exits non-zero, so that systemd starts it
/// again and the store is read back from what is really on disk.
fn spawn_store_guard(shutdown: CancellationToken, store: Arc<queue::Store>) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.cancelled() => return,
            }
            if let Err(e) = store.healthy() {
                tracing::error!(error = %e, "operation store lost a disk sync; stopping so that the service restarts");
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
                shutdown.cancel();
                return;
            }
        }
    });
}

/// The watchdog interval systemd asks for, as libsystemd reads it: `WATCHDOG_USEC`, meant for
/// this process unless `WATCHDOG_PID` names another.
fn watchdog_usec() -> Option<u64> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then_some(usec)
}

/// Pings the systemd watchdog at half its interval while the runtime runs and the operation
/// store answers; a wedged store stops the pings, and systemd restarts the service.
fn spawn_watchdog(shutdown: CancellationToken, store: Arc<queue::Store>) {
    let Some(usec) = watchdog_usec() else {
        return;
    };
    let every = Duration::from_micros(usec / 2);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {
                    if store.healthy().is_ok() && store.depth().is_ok() {
                        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                    }
                }
                _ = shutdown.cancelled() => break,
            }
        }
    });
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What `/health` says of a register: its condition, and the age of its oldest unfinished
/// operation.
fn readiness(
    health: &cashbox::RegisterHealth,
    store: &queue::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> gateway_http::RegisterReadiness {
    let condition = health.state.condition();
    gateway_http::RegisterReadiness {
        cashbox_id: health.id.clone(),
        ready: condition.is_none(),
        error_code: condition.map(|c| c.code().to_string()),
        error_message: condition.map(cashbox::Condition::described),
        oldest_pending_seconds: cashbox::oldest_pending(store, &health.id)
            .map(|since| (now - since).num_seconds().max(0).unsigned_abs()),
    }
}
