//! `fiscal-gateway selftest`: what a technician runs at the register. It finds the speed and
//! the link layer, reads everything that decides whether the register can work for years
//! unattended, and prints a table of ✓ / ! / ✗ with one line of advice per problem (or a
//! stable JSON document with `--json`). Exit code 0 only when nothing is ✗.
//!
//! It only reads (plus an optional non-fiscal test page): [`driver::Register::query`] refuses
//! anything that could make a document.

mod report;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{Timelike, Utc};
use driver::{Baud, LinkLayerChoice, Register, RegisterOptions, Transport};
use fiscal_model::TaxGroupMap;
use gateway_http::RegisterReadiness;

use cashbox::checkup::{self, Facts};
pub use report::Report;

use crate::config::{Config, TransportSettings};

/// Arguments of `selftest`.
#[derive(clap::Args, Debug)]
pub struct SelftestArgs {
    /// Serial port of the register (e.g. /dev/ttyACM0); without it, every configured register.
    #[arg(long, value_name = "PATH", conflicts_with = "tcp")]
    pub port: Option<PathBuf>,
    /// TCP address of the register (e.g. 192.168.137.111:7778).
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
    /// Serial speed, or "auto" to find it.
    #[arg(long, value_name = "N|auto", default_value = "auto")]
    pub baud: String,
    /// Print a non-fiscal test page.
    #[arg(long)]
    pub print_test_page: bool,
    /// Output a JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Configuration whose registers are checked when no --port/--tcp is given.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/fiscal-gateway/fiscal-gateway.toml"
    )]
    pub config: PathBuf,
    /// System administrator password (§4).
    #[arg(long, default_value_t = 30)]
    pub password: u32,
    /// Talk to a register the running gateway is using. The checks only read, but they
    /// interrupt the service's exchange with the register; a serial port the service has open
    /// stays locked even then (stop the service to check it).
    #[arg(long)]
    pub force: bool,
    /// Where the running gateway listens, to add what it says of each configured register
    /// (default: the configuration's listen address).
    #[arg(long, value_name = "HOST:PORT")]
    pub gateway: Option<std::net::SocketAddr>,
}

/// Runs the selftest; `Ok(true)` when nothing failed.
pub async fn run(args: SelftestArgs) -> anyhow::Result<bool> {
    let mut targets = Vec::new();
    let mut gateway: Option<Result<Vec<RegisterReadiness>, String>> = None;
    // Registers a running service is using, by device: not opened again unless --force.
    let mut held: Vec<(String, String)> = Vec::new();
    // What the service says, when a port given by hand turned out to be one of its own.
    let mut service_view: Option<Vec<RegisterReadiness>> = None;
    if args.port.is_some() || args.tcp.is_some() {
        // A port given by hand may be one the configured service is using.
        if let Ok(config) = Config::load(&args.config) {
            if let Some(Ok(view)) = gateway_view(gateway_address(&args, &config)).await {
                held = in_service(&config, &view);
                service_view = Some(view);
            }
        }
    }
    if let Some(port) = &args.port {
        let baud = parse_baud(&args.baud)?;
        targets.push((
            format!("{} ({})", port.display(), args.baud),
            Device::Serial(port.clone(), baud),
            TaxGroupMap::default(),
            None,
        ));
    } else if let Some(addr) = &args.tcp {
        targets.push((
            addr.clone(),
            Device::Tcp(addr.clone()),
            TaxGroupMap::default(),
            None,
        ));
    } else {
        let config = Config::load(&args.config).map_err(|e| {
            anyhow::anyhow!("{}: {e} (or give --port / --tcp)", args.config.display())
        })?;
        gateway = gateway_view(gateway_address(&args, &config)).await;
        if let Some(Ok(view)) = &gateway {
            held = in_service(&config, view);
        }
        for r in &config.registers {
            let device = match &r.transport {
                TransportSettings::Serial { path, baud } => {
                    Device::Serial(path.clone(), baud.map(Baud::Fixed).unwrap_or(Baud::Auto))
                }
                TransportSettings::Tcp { address } => Device::Tcp(address.clone()),
                TransportSettings::Emulator { .. } => continue,
            };
            targets.push((r.id.clone(), device, r.taxes.clone(), Some(r.utc_offset)));
        }
    }
    let mut reports = Vec::new();
    for (name, device, taxes, zone) in targets {
        let service_holds = held.iter().find(|(key, _)| *key == device.device_key());
        let mut report = match service_holds {
            Some((_, id)) if !args.force => {
                let mut report = held_by_service(&name, id);
                if let (None, Some(view)) = (&gateway, &service_view) {
                    report
                        .checks
                        .insert(0, report::gateway_check(&Ok(view.clone()), id));
                }
                report
            }
            _ => check_one(&name, device, &taxes, zone, &args).await,
        };
        if let Some(view) = &gateway {
            report.checks.insert(0, report::gateway_check(view, &name));
        }
        if !args.json {
            print!("{}", report.render());
        }
        reports.push(report);
    }
    let passed = reports.iter().all(Report::passed);
    if args.json {
        let doc = serde_json::json!({ "passed": passed, "registers": reports });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "{}",
            if passed {
                "Итог: ✓ всё в порядке"
            } else {
                "Итог: ✗ есть проблемы (см. выше)"
            }
        );
    }
    Ok(passed)
}

/// Where the running gateway listens: `--gateway`, or the configuration's address.
fn gateway_address(args: &SelftestArgs, config: &Config) -> std::net::SocketAddr {
    let mut listen = args.gateway.unwrap_or(config.listen);
    if listen.ip().is_unspecified() {
        listen.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    listen
}

/// The configured registers the running service lists, as (device, id).
fn in_service(config: &Config, view: &[RegisterReadiness]) -> Vec<(String, String)> {
    config
        .registers
        .iter()
        .filter(|r| view.iter().any(|v| v.cashbox_id == r.id))
        .map(|r| (r.transport.device_key(), r.id.clone()))
        .collect()
}

/// The report for a register the running service is using: not opened, so its exchange is not
/// interrupted; what the service says of it is added beside.
fn held_by_service(name: &str, id: &str) -> Report {
    Report {
        target: name.to_string(),
        checks: vec![checkup::Check {
            id: "link",
            title: "Связь",
            value: format!("касса {id} занята работающей службой; с ККТ проверка не говорила"),
            grade: cashbox::checkup::Grade::Warn,
            advice: "Состояние кассы со слов службы — в строке «Служба». Для полной проверки \
                     остановите службу (systemctl stop fiscal-gateway) или запустите selftest \
                     с --force (прервёт обмен службы с кассой)."
                .to_string(),
        }],
        error: None,
    }
}

/// What a running gateway says of its registers (`GET /health`), if one answers at `listen`:
/// its registers, or what it answered instead (e.g. 503 after a failed disk sync).
async fn gateway_view(
    listen: std::net::SocketAddr,
) -> Option<Result<Vec<RegisterReadiness>, String>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(listen).await.ok()?;
        let request =
            format!("GET /health HTTP/1.1\r\nHost: {listen}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n")?;
        if !head.starts_with("HTTP/1.1 200") {
            let status = head.lines().next().unwrap_or_default().to_string();
            let error: gateway_http::ErrorBody = serde_json::from_str(body).ok()?;
            return Some(Err(format!("{status}: {}", error.error_message)));
        }
        let health: gateway_http::HealthBody = serde_json::from_str(body).ok()?;
        Some(Ok(health.registers))
    };
    tokio::time::timeout(Duration::from_secs(3), ask)
        .await
        .ok()
        .flatten()
}

fn parse_baud(text: &str) -> anyhow::Result<Baud> {
    if text == "auto" {
        return Ok(Baud::Auto);
    }
    let n: u32 = text
        .parse()
        .map_err(|_| anyhow::anyhow!("--baud: expected a number or \"auto\", got {text:?}"))?;
    if !crate::config::BAUD_RATES.contains(&n) {
        anyhow::bail!(
            "--baud: {n} is not a Shtrih-M speed ({:?})",
            crate::config::BAUD_RATES
        );
    }
    Ok(Baud::Fixed(n))
}

/// Where the register under test is.
pub enum Device {
    /// A serial port.
    Serial(PathBuf, Baud),
    /// TCP.
    Tcp(String),
}

impl Device {
    /// The same key the configuration compares devices by.
    fn device_key(&self) -> String {
        match self {
            Device::Serial(path, _) => TransportSettings::Serial {
                path: path.clone(),
                baud: None,
            }
            .device_key(),
            Device::Tcp(address) => TransportSettings::Tcp {
                address: address.clone(),
            }
            .device_key(),
        }
    }
}

/// Connects, reads, judges.
pub async fn check_one(
    name: &str,
    device: Device,
    taxes: &TaxGroupMap,
    zone: Option<chrono::FixedOffset>,
    args: &SelftestArgs,
) -> Report {
    let (transport, link) = match device {
        Device::Serial(path, baud) => (
            Transport::Serial {
                path: path.clone(),
                baud,
            },
            format!("последовательный порт {}", path.display()),
        ),
        Device::Tcp(addr) => (Transport::Tcp { addr: addr.clone() }, format!("TCP {addr}")),
    };
    let options = RegisterOptions {
        link: LinkLayerChoice::Auto,
        sysadmin_password: args.password,
        admin_password: args.password,
        answer_timeout_cap: Some(Duration::from_secs(5)),
        ..RegisterOptions::default()
    };
    let spinner = (!args.json && std::io::stderr().is_terminal())
        .then(|| tokio::spawn(spin(format!("Поиск скорости и протокола ({name})"))));
    let connected = Register::connect(transport, options).await;
    if let Some(s) = spinner {
        s.abort();
        eprint!("\r\x1b[2K");
    }
    let mut register = match connected {
        Ok(r) => r,
        Err(e) => {
            return Report {
                target: name.to_string(),
                checks: Vec::new(),
                error: Some(e.to_string()),
            }
        }
    };
    let layer = if register.is_protocol_v2() {
        "протокол 2.0"
    } else {
        "стандартный протокол"
    };
    let layer = match register.baud() {
        Some(baud) => format!("{baud} бод, {layer}"),
        None => layer.to_string(),
    };
    // The PC's time in the register's zone (configured), or the PC's own zone.
    let pc_clock = match zone {
        Some(zone) => Utc::now().with_timezone(&zone).naive_local(),
        None => chrono::Local::now().naive_local(),
    }
    .with_nanosecond(0);
    let read = checkup::read(&mut register, format!("{link}, {layer}"), pc_clock).await;
    let read = match read {
        Ok(facts) if args.print_test_page => {
            print_test_page(&mut register, &facts).await.map(|()| facts)
        }
        other => other,
    };
    match read {
        Ok(facts) => {
            let today = facts
                .pc_clock
                .map(|t| t.date())
                .unwrap_or_else(|| Utc::now().date_naive());
            Report {
                target: name.to_string(),
                checks: checkup::evaluate(&facts, taxes, today),
                error: None,
            }
        }
        Err(e) => Report {
            target: name.to_string(),
            checks: Vec::new(),
            error: Some(e.to_string()),
        },
    }
}

async fn spin(label: String) {
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut i = 0;
    loop {
        eprint!("\r{} {label}…", frames[i % frames.len()]);
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A non-fiscal page that shows the register prints and whose it is.
async fn print_test_page(r: &mut Register, facts: &Facts) -> Result<(), driver::RegisterError> {
    let serial = format!("ЗН ККТ {}", facts.kkt_serial);
    let fn_line = format!("ФН {}", facts.fn_number);
    let when = Utc::now().with_timezone(&crate::config::local_offset());
    let when = when.format("%d.%m.%Y %H:%M").to_string();
    r.print_text(
        &[
            "ТЕСТОВАЯ СТРАНИЦА",
            "fiscal-gateway selftest",
            &serial,
            &fn_line,
            &when,
            "Не является фискальным документом",
        ],
        true,
    )
    .await
}
